//! The web UI: server-rendered pages (sign-in, MY RIDES, MY INCIDENTS, the players,
//! Cameras and the share page) with their CSS and plain JavaScript, all embedded in the
//! binary. The pages talk to the JSON API for every action, so the UI has no privileges of
//! its own. Times are rendered in UTC inside `<time datetime>` elements, which the pages'
//! script rewrites into the viewer's own zone, naming it.

mod assets;
mod cameras;
mod form;
mod headers;
mod library;
mod list;
mod player;
mod session;
mod shared;
mod templates;

use crate::state::AppState;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

/// The pages and their assets, each answer carrying the pages' security headers.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(session::home))
        .route("/rides", get(list::rides))
        .route("/incidents", get(list::incidents))
        .route("/cameras", get(cameras::page))
        .route("/cameras/qr", post(cameras::qr))
        .route("/rides/{id}", get(player::ride))
        .route("/clips/{id}", get(player::clip))
        .route("/s/{token}", get(shared::page))
        .route("/assets/{name}", get(assets::asset))
        .layer(middleware::map_response_with_state(
            headers::Policy::new(&state.web.map_tiles_url),
            headers::secure,
        ))
}
