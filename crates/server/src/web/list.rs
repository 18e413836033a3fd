//! MY RIDES (`/rides`) and MY INCIDENTS (`/incidents`): cards of the signed-in user's
//! drives and clips, filtered by a GET form whose field names are the list API's query
//! names, a page at a time ("load more" follows the API's cursor).

use super::form::ListForm;
use super::session::Viewer;
use super::{library, templates};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dashvault_store::model::IncidentKind;

/// `/rides`: the drives.
pub async fn rides(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(form): Query<ListForm>,
) -> Response {
    let page = library::drives(&state, viewer.user_id, &form).await;
    render(&state, &viewer, "rides", "/rides", form, page).await
}

/// `/incidents`: the clips.
pub async fn incidents(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(form): Query<ListForm>,
) -> Response {
    let page = library::clips(&state, viewer.user_id, &form).await;
    render(&state, &viewer, "incidents", "/incidents", form, page).await
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    section: &str,
    path: &str,
    form: ListForm,
    page: Result<library::Listed, library::Failed>,
) -> Response {
    let (page, devices) = match (page, state.repo.devices(viewer.user_id).await) {
        (Ok(page), Ok(devices)) => (page, devices),
        (Err(failed), _) => return failed.page(),
        (_, Err(err)) => return library::Failed::from(err).page(),
    };
    let devices: Vec<_> = devices
        .into_iter()
        .map(|d| minijinja::context! { id => d.id.to_string(), name => d.name })
        .collect();
    templates::page(
        StatusCode::OK,
        "list.html",
        minijinja::context! {
            section,
            path,
            phone => viewer.phone,
            items => page.items,
            more => form.next_page(path, page.next_cursor),
            filtered => form.filtered(),
            types => IncidentKind::ALL.map(IncidentKind::as_str),
            devices,
            form,
        },
    )
}
