//! tus 1.0 resumable uploads at `/api/v1/uploads`, and what happens when one completes.
//!
//! Extensions: creation, creation-with-upload, expiration, checksum (`sha1`, `sha256`),
//! termination and concatenation. An upload's whole state lives in the repository
//! ([`dashvault_store::model::Upload`]): its bytes are stored as multipart parts of the
//! blob store (each at least the store's minimum part size) plus one small "tail" blob
//! holding the bytes after the last part; the recorded offset is always the parts' sizes
//! plus the tail's, and it is recorded only after those bytes are durable. So after a
//! crash at any point `HEAD` gives the true offset, and any replica can continue.
//!
//! The last `PATCH` completes the multipart object, checks and indexes it
//! ([`finalise`]) and files it as a recording of a drive, a clip or a sidecar before
//! answering `204`.
//!
//! A completed upload's row keeps what it became (`GET /api/v1/uploads/{id}`, [`status`])
//! until it expires; a crash after any step of filing is finished by the resumed request,
//! which finds what the earlier attempt filed (crash points: [`crate::crash`]).
//!
//! Limits: deferred lengths are not supported; unfinished uploads expire (and are swept
//! when uploads are created, and by the hourly `upload_expiry` job, with what no upload
//! owns: [`sweep`]). One request writes an upload at a time, across replicas too: a
//! second one gets `423` (the repository's upload lock).

mod body;
mod error;
pub mod finalise;
mod handlers;
mod headers;
pub mod metadata;
mod rebuild;
pub(crate) mod registry;
mod running;
mod status;
mod stored;
pub mod sweep;
mod writer;

/// Who is uploading: the [`Owner`](crate::auth::owner::Owner) of the uploads.
pub use crate::auth::owner::Owner as Uploader;
pub use error::TusError;
pub use handlers::sweep_expired_batch;
pub use registry::Uploads;
use registry::WritingGuard;
pub use sweep::{sweep, SweepReport};

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use dashvault_store::repo::UploadLock;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";

/// The extensions supported, as `Tus-Extension` lists them.
pub const TUS_EXTENSIONS: &str =
    "creation,creation-with-upload,expiration,checksum,termination,concatenation";

/// Checksum algorithms accepted in `Upload-Checksum`.
pub const TUS_CHECKSUMS: &str = "sha1,sha256";

/// Where uploads live.
pub const UPLOADS_PATH: &str = "/api/v1/uploads";

/// An upload held for writing: this process's guard and the repository's lock (which
/// other replicas respect).
struct Held {
    _guard: WritingGuard,
    lock: UploadLock,
}

impl Held {
    /// Hold upload `id` for writing; `None` while another request, here or on another
    /// replica, holds it.
    async fn try_hold(state: &AppState, id: Uuid) -> dashvault_store::Result<Option<Self>> {
        let Some(guard) = state.uploads.start_writing(id) else {
            return Ok(None);
        };
        Ok(state.repo.lock_upload(id).await?.map(|lock| Self {
            _guard: guard,
            lock,
        }))
    }

    /// Let go now, so that the next request finds the upload free (dropping lets go too,
    /// the repository's lock a moment later).
    async fn release(self) {
        self.lock.release().await;
    }
}

/// The upload routes with their OpenAPI description; every response carries
/// `Tus-Resumable`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::options, handlers::create))
        .routes(routes!(
            handlers::head,
            handlers::patch,
            handlers::terminate,
            status::status
        ))
        .routes(routes!(status::original))
        .layer(middleware::map_response(add_tus_resumable))
}

async fn add_tus_resumable(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response
}

/// The request time limit for everything but the upload requests that stream a body
/// (`PATCH`, and `POST` with creation-with-upload), which take as long as the bytes do,
/// and evidence bundles, which copy a clip's files before they answer.
pub async fn timeout_except_uploads(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let streams = request.uri().path().starts_with(UPLOADS_PATH)
        && matches!(*request.method(), Method::PATCH | Method::POST);
    if streams || request.uri().path().ends_with("/evidence") {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
