//! Who is looking at a page: the signed-in user (session cookie or bearer), or a redirect
//! to sign-in; and `/`, which signs in or goes to MY RIDES.

use super::templates;
use crate::auth::session::CurrentUser;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

/// The signed-in user of a page; anyone else is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's phone number, shown in the header.
    pub phone: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(current) => Ok(Self {
                user_id: current.user.id,
                phone: current.user.phone,
            }),
            Err(_) => Err(Redirect::to("/").into_response()),
        }
    }
}

/// `/`: MY RIDES when signed in, else the sign-in form.
pub async fn home(viewer: Result<Viewer, Response>) -> Response {
    match viewer {
        Ok(_) => Redirect::to("/rides").into_response(),
        Err(_) => templates::page(StatusCode::OK, "signin.html", minijinja::context! {}),
    }
}
