//! What became of an upload: `GET /api/v1/uploads/{id}` (state, offset, SHA-256, the
//! item it was filed as), and `GET /api/v1/uploads/{id}/original`, the stored file byte for
//! byte, so that a client (the agent, a test, an outside check) can confirm what the cloud
//! keeps instead of trusting a `204`.

use super::finalise::stored_item;
use super::handlers::owned_upload;
use super::{TusError, Uploader, UPLOADS_PATH};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::stream::range::{self, Wanted};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use dashvault_store::blob::BlobKey;
use dashvault_store::model::Upload;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An upload's state as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadStatus {
    /// `receiving` (more bytes expected), `complete` (filed; or, for a partial upload of
    /// a concatenation, all bytes received) or `failed` (the file was refused).
    pub state: &'static str,
    /// Bytes received and durable.
    pub offset: u64,
    /// Declared length.
    pub length: u64,
    /// Lower-case hex SHA-256 of the stored file, once filed.
    pub sha256: Option<String>,
    /// What the file was filed as, once filed (the item stored before, when the owner had
    /// uploaded the same file already).
    pub item: Option<UploadItem>,
    /// Where the stored file is served byte for byte, once filed.
    pub original_url: Option<String>,
    /// Why the file was refused, when it was.
    pub failure: Option<String>,
    /// When the upload (and this record of it) expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The item an upload was filed as.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadItem {
    /// `recording`, `clip` or `sidecar`.
    pub kind: &'static str,
    /// Its id.
    pub id: Uuid,
}

impl UploadStatus {
    fn of(upload: &Upload) -> Self {
        let state = if upload.failure.is_some() {
            "failed"
        } else if upload.outcome.is_some() || (upload.partial && upload.offset == upload.length) {
            "complete"
        } else {
            "receiving"
        };
        Self {
            state,
            offset: upload.offset,
            length: upload.length,
            sha256: upload.outcome.as_ref().map(|o| o.sha256.clone()),
            item: upload.outcome.as_ref().map(|o| UploadItem {
                kind: o.item.kind(),
                id: o.item.id(),
            }),
            original_url: upload
                .outcome
                .as_ref()
                .map(|_| format!("{UPLOADS_PATH}/{}/original", upload.id)),
            failure: upload.failure.clone(),
            expires_at: upload.expires_at,
        }
    }
}

/// What became of one of your uploads (kept until it expires).
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id")),
    responses(
        (status = 200, description = "The upload's state", body = UploadStatus),
        (status = 401, description = "No valid device token or session", body = ErrorBody),
        (status = 404, description = "No such upload of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn status(
    State(state): State<AppState>,
    uploader: Uploader,
    Path(id): Path<String>,
) -> Result<Json<UploadStatus>, TusError> {
    let upload = owned_upload(&state, &uploader, &id).await?;
    Ok(Json(UploadStatus::of(&upload)))
}

/// The file an upload stored, byte for byte (one `Range` may be asked).
#[utoipa::path(get, path = "/api/v1/uploads/{id}/original", tag = "uploads",
    params(("id" = String, Path, description = "Upload id")),
    responses(
        (status = 200, description = "The stored file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "One range of it", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "No valid device token or session", body = ErrorBody),
        (status = 404, description = "No such upload of yours, or not filed (yet)", body = ErrorBody),
        (status = 410, description = "The file was deleted or archived since", body = ErrorBody),
        (status = 416, description = "The range is not within the file"),
    ),
    security(("session" = [])))]
pub async fn original(
    State(state): State<AppState>,
    uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, TusError> {
    let upload = owned_upload(&state, &uploader, &id).await?;
    let item = upload.outcome.ok_or(ApiError::NotFound)?.item;
    let stored = stored_item(&state, upload.user_id, item)
        .await?
        .ok_or_else(|| ApiError::Gone("the file was deleted since".into()))?;
    // A rebuilt recording's object ends with the file as uploaded.
    let at = stored.original_at;
    let key = BlobKey::new(stored.blob_key).map_err(TusError::internal)?;
    let gone = || ApiError::Gone("the file was deleted or archived since".into());
    let len = match state.blobs.head(&key).await {
        Ok(meta) => meta.len.saturating_sub(at),
        Err(e) if e.is_not_found() => return Err(gone().into()),
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, range) = match range::parse(range_header, len) {
        Wanted::Whole => (StatusCode::OK, 0..len),
        Wanted::Part(range) => (StatusCode::PARTIAL_CONTENT, range),
        Wanted::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    out.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(range.end - range.start),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {}-{}/{len}", range.start, range.end - 1);
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(header::CONTENT_RANGE, value);
        }
    }
    let body = state
        .blobs
        .get_range(&key, range.start + at..range.end + at)
        .await?;
    Ok((status, out, Body::from_stream(body)).into_response())
}
