//! The players: `/clips/{id}` and `/rides/{id}` (and, through [`render`], the share
//! page). The page carries the item's detail as the API shows it (`GET /api/v1/clips/{id}`
//! or `/api/v1/drives/{id}`, telemetry included); `player.js` draws the route and the
//! charts from it, places the incident markers, and keeps them all in step with the video.

use super::session::Viewer;
use super::{library, templates};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use uuid::Uuid;

/// What a player page shows and offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An owner's clip: download, share, delete.
    Clip,
    /// An owner's drive: segments, delete.
    Ride,
    /// A clip seen through a share link: nothing but the clip.
    Shared,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Clip => "clip",
            Self::Ride => "ride",
            Self::Shared => "shared",
        }
    }
}

/// `/clips/{id}`.
pub async fn clip(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found();
    };
    match library::clip(&state, viewer.user_id, id).await {
        Ok(Some(item)) => render(
            &state,
            Mode::Clip,
            Some(&viewer),
            &format!("/api/v1/clips/{id}"),
            item,
        ),
        Ok(None) => not_found(),
        Err(failed) => failed.page(),
    }
}

/// `/rides/{id}`.
pub async fn ride(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found();
    };
    match library::drive(&state, viewer.user_id, id).await {
        Ok(Some(item)) => render(
            &state,
            Mode::Ride,
            Some(&viewer),
            &format!("/api/v1/drives/{id}"),
            item,
        ),
        Ok(None) => not_found(),
        Err(failed) => failed.page(),
    }
}

/// The player page for `item` (an API detail), which lives at `detail_url` (where the
/// owner's page deletes it and makes share links).
pub fn render(
    state: &AppState,
    mode: Mode,
    viewer: Option<&Viewer>,
    detail_url: &str,
    item: Value,
) -> Response {
    templates::page(
        StatusCode::OK,
        "player.html",
        minijinja::context! {
            mode => mode.as_str(),
            section => if mode == Mode::Ride { "rides" } else { "incidents" },
            phone => viewer.map(|v| v.phone.clone()),
            detail_url,
            tiles => state.web.map_tiles_url,
            incidents => item["incidents"].as_array().cloned().unwrap_or_default(),
            item,
        },
    )
}

/// The answer for an id that is unknown or someone else's: the same `404` either way.
pub fn not_found() -> Response {
    templates::message(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing here. It may have been deleted.",
    )
}
