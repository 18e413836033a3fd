//! MY RIDES (`/rides`) and MY INCIDENTS (`/incidents`): cards of the signed-in user's
//! drives and clips, filtered by a GET form whose field names are the list API's query
//! names, a page at a time ("load more" follows the API's cursor).

use super::session::Viewer;
use super::{library, templates};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dashvault_store::model::IncidentType;
use serde::{Deserialize, Serialize};

/// The filter form; an empty field is no filter. Names are the list API's query names.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListForm {
    /// First day (`YYYY-MM-DD`) or instant.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// Last day or instant.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Earliest time of day, `HH:MM` (in `tz`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub time_from: String,
    /// Latest time of day, `HH:MM` (in `tz`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub time_to: String,
    /// The viewer's time zone (set by the page's script), which days and times of day
    /// are in; UTC when empty. Not a filter of its own.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tz: String,
    /// Incident type.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `road` or `cabin`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub view: String,
    /// Device id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub device: String,
    /// Where the page starts (from the previous page's `next_cursor`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Items per page (the API's default when empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub limit: String,
}

impl ListForm {
    /// Whether any filter is set (the cursor is no filter).
    fn filtered(&self) -> bool {
        [
            &self.from,
            &self.to,
            &self.time_from,
            &self.time_to,
            &self.kind,
            &self.view,
            &self.device,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    /// The link to the page after this one.
    fn next_page(&self, path: &str, cursor: Option<String>) -> Option<String> {
        let next = Self {
            cursor: cursor?,
            ..self.clone()
        };
        serde_urlencoded::to_string(&next)
            .ok()
            .map(|query| format!("{path}?{query}"))
    }
}

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
            types => IncidentType::ALL.map(IncidentType::as_str),
            devices,
            form,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::ListForm;

    #[test]
    fn the_next_page_keeps_the_filters() {
        let form: ListForm =
            serde_urlencoded::from_str("from=2026-11-20&to=&type=hard_brake&view=").unwrap();
        assert!(form.filtered());
        assert_eq!(
            form.next_page("/incidents", Some("abc".into())).as_deref(),
            Some("/incidents?from=2026-11-20&type=hard_brake&cursor=abc")
        );
        assert_eq!(form.next_page("/incidents", None), None);
        assert!(!ListForm::default().filtered());
    }
}
