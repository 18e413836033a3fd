//! Every HTTP route, each registered together with its OpenAPI description, so the
//! document at `/api/openapi.json` covers every endpoint by construction.

pub mod auth;
pub mod devices;
pub mod evidence;
pub mod health;
pub mod library;
pub mod media;
pub mod openapi;
pub mod restore;
pub mod shares;

use crate::state::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "dashvault", description = "Self-hostable cloud for dashcam video."),
    modifiers(&SessionAuth)
)]
struct ApiDoc;

struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from /api/v1/auth/verify, as a bearer token or the \
                         `dashvault_session` cookie",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token set with `--operator-token`"))
                    .build(),
            ),
        );
    }
}

/// The API routes with their OpenAPI document.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(auth::request_code))
        .routes(routes!(auth::verify))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(devices::create, devices::list))
        .routes(routes!(devices::get, devices::rename, devices::remove))
        .routes(routes!(devices::replace_token))
        .routes(routes!(devices::agent_status))
        .routes(routes!(library::drives))
        .routes(routes!(library::clips))
        .routes(routes!(library::drive, library::delete_drive))
        .routes(routes!(library::clip, library::delete_clip))
        .routes(routes!(library::tombstones))
        .routes(routes!(restore::request))
        .routes(routes!(restore::list))
        .routes(routes!(restore::approve))
        .routes(routes!(restore::deny))
        .routes(routes!(media::clip_video))
        .routes(routes!(media::clip_thumbnail))
        .routes(routes!(media::drive_video))
        .routes(routes!(media::drive_segments))
        .routes(routes!(media::drive_thumbnail))
        .routes(routes!(shares::create, shares::list))
        .routes(routes!(shares::revoke))
        .routes(routes!(shares::shared))
        .routes(routes!(shares::video))
        .routes(routes!(shares::thumbnail))
        .routes(routes!(evidence::evidence_key))
        .routes(routes!(evidence::clip_evidence))
        .routes(routes!(evidence::clip_activity))
        .routes(routes!(evidence::clip_route))
        .routes(routes!(evidence::drive_route))
        .routes(routes!(evidence::shared_route))
        .merge(crate::tus::router())
}
