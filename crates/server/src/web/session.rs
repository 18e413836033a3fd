//! Who is looking at a page: the signed-in user (session cookie or bearer), or a redirect
//! to sign-in that remembers the page asked for (`/?next=/clips/…`); and `/`, which signs
//! in, then goes to that page or MY RIDES.

use super::templates;
use crate::auth::session::CurrentUser;
use crate::state::AppState;
use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

/// Where sign-in goes when no page was asked for.
const HOME: &str = "/rides";

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
            Err(_) => Err(Redirect::to(&sign_in_for(parts)).into_response()),
        }
    }
}

/// The sign-in page's address, carrying the page asked for (a `GET` only) to return to.
fn sign_in_for(parts: &Parts) -> String {
    let asked = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    match safe_next(asked) {
        Some(next) if parts.method == Method::GET && next != "/" => {
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            format!("/?{query}")
        }
        _ => "/".to_owned(),
    }
}

/// `next` if it is a path on this site (`/…`, in visible ASCII as a request target is),
/// else `None`: a scheme (`https://…`), a host (`//host`, `/\host`, which browsers read
/// as `//`) or a control character (which browsers drop) would make sign-in an open
/// redirect.
pub fn safe_next(next: &str) -> Option<&str> {
    let rest = next.strip_prefix('/')?;
    let hostile =
        rest.starts_with('/') || next.contains('\\') || !next.bytes().all(|b| b.is_ascii_graphic());
    (!hostile).then_some(next)
}

/// The query of `/`.
#[derive(Debug, Default, Deserialize)]
struct HomeQuery {
    /// The page to return to after sign-in; ignored unless [`safe_next`] accepts it.
    next: Option<String>,
}

/// `/`: the page asked for (`next`) or MY RIDES when signed in, else the sign-in form,
/// which goes there after sign-in.
pub async fn home(viewer: Result<Viewer, Response>, RawQuery(raw): RawQuery) -> Response {
    let query: HomeQuery = raw
        .and_then(|raw| serde_urlencoded::from_str(&raw).ok())
        .unwrap_or_default();
    let next = query.next.as_deref().and_then(safe_next).unwrap_or(HOME);
    match viewer {
        Ok(_) => Redirect::to(next).into_response(),
        Err(_) => templates::page(StatusCode::OK, "signin.html", minijinja::context! { next }),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        for good in ["/clips/0193?t=5", "/rides", "/incidents?type=hard_brake"] {
            assert_eq!(safe_next(good), Some(good));
        }
        for hostile in [
            "//evil.example/x",
            "/\\evil.example",
            "/\t/evil.example",
            "/caf\u{e9}",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(hostile), None, "{hostile:?}");
        }
    }
}
