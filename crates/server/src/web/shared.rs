//! `/s/{token}`: the one shared clip, for anyone holding the link — its video, its
//! incidents, speed and G-force, and (if the owner chose) its route; nothing else of the
//! owner's. A link that
//! expired, was revoked or whose clip was deleted answers `410`.

use super::player::{self, Mode};
use super::templates;
use crate::auth::session::ClientIp;
use crate::routes::shares;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The share page.
pub async fn page(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(token): Path<String>,
) -> Response {
    let shared = match shares::resolve(&state, &ip, &token).await {
        Ok(shared) => shared,
        Err(err) => return refused(err.into_response().status()),
    };
    shares::record_open(&state, &shared, &ip).await;
    let detail = match shares::detail(&state, &shared, &token).await {
        Ok(detail) => detail,
        Err(err) => return refused(err.into_response().status()),
    };
    let item = serde_json::to_value(&detail.clip).and_then(|mut item| {
        item["telemetry"] = serde_json::to_value(&detail.telemetry)?;
        Ok(item)
    });
    match item {
        Ok(item) => player::render(
            &state,
            Mode::Shared,
            None,
            &format!("/api/v1/shared/{token}"),
            item,
        ),
        Err(_) => refused(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The page for a link that can not be shown, with the API's status.
fn refused(status: StatusCode) -> Response {
    let (title, text) = match status {
        StatusCode::GONE => (
            "This link no longer works",
            "The owner revoked it, it expired, or the clip was deleted.",
        ),
        StatusCode::NOT_FOUND => ("No such link", "Check that the whole link was copied."),
        _ => (
            "The clip can not be shown just now",
            "Try again in a minute.",
        ),
    };
    templates::message(status, title, text)
}
