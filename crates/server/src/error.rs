//! The one error type of the HTTP API: every failure becomes a status, a stable `code`
//! and a message safe to show, as `{"error": {"code": "…", "message": "…"}}`.
//! Internal details are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// An API failure as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a value is invalid (400).
    #[error("{message}")]
    BadRequest {
        /// Stable machine-readable code, e.g. `invalid_phone`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// No valid credentials, or a wrong sign-in code (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The thing does not exist, or belongs to someone else (404).
    #[error("not found")]
    NotFound,
    /// The request clashes with the thing's state, e.g. an archived drive (409).
    #[error("{message}")]
    Conflict {
        /// Stable machine-readable code, e.g. `archived`.
        code: &'static str,
        /// Human-readable explanation, saying what to do.
        message: String,
    },
    /// The thing existed but is no more: an expired, revoked or orphaned share (410).
    #[error("{0}")]
    Gone(String),
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Too many requests; retry after this many seconds (429).
    #[error("{message}")]
    TooManyRequests {
        /// Stable machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
        /// Seconds until a retry can succeed.
        retry_after: u64,
    },
    /// A dependency (database, blob store, SMS gateway) is unavailable (503, with
    /// `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
    /// The store is full, or would be past its reserve of free space (507).
    #[error("{0}")]
    InsufficientStorage(String),
    /// A bug or an unexpected failure (500); the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_phone`, `rate_limited`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// A 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::Gone(_) => (StatusCode::GONE, "gone"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::TooManyRequests { code, .. } => (StatusCode::TOO_MANY_REQUESTS, code),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::InsufficientStorage(_) => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// Seconds a client is asked to wait before retrying after a `503`.
const RETRY_AFTER_UNAVAILABLE: u64 = 1;

/// The message of a `507` for a full disk.
const STORAGE_FULL: &str =
    "the server's storage is full; delete videos or ask the operator to add space, then retry";

impl From<dashvault_store::Error> for ApiError {
    fn from(err: dashvault_store::Error) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable("the database does not answer; try again shortly".to_owned())
        } else if err.is_storage_full() {
            tracing::warn!(error = %err, "database disk full");
            Self::InsufficientStorage(STORAGE_FULL.to_owned())
        } else {
            Self::Internal(format!("store: {err}"))
        }
    }
}

impl From<dashvault_store::blob::BlobError> for ApiError {
    fn from(err: dashvault_store::blob::BlobError) -> Self {
        if err.is_storage_full() {
            tracing::warn!(error = %err, "blob store full");
            Self::InsufficientStorage(STORAGE_FULL.to_owned())
        } else if err.is_unavailable() {
            tracing::warn!(error = %err, "blob store failed");
            Self::Unavailable("the blob store did not answer; try again shortly".to_owned())
        } else if err.is_not_found() {
            Self::Internal(format!("a blob the metadata refers to is missing: {err}"))
        } else {
            Self::Internal(format!("blob store: {err}"))
        }
    }
}

/// Largest error body of another layer (an extractor's rejection, a timeout) that is
/// rewritten as the API's JSON error.
const REJECTION_BODY_LIMIT: usize = 16 * 1024;

/// Give every error answer of the API (`/api/…`, `/healthz`, `/readyz`, `/metrics`) the
/// JSON error body, also those made outside the handlers: path and query rejections,
/// `405`, timeouts, body limits, which axum and tower answer in plain text.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz" | "/metrics");
    let head = request.method() == axum::http::Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !api || head || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_BODY_LIMIT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let code = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase()
        .replace([' ', '-'], "_");
    let body = ErrorBody {
        error: ErrorDetail { code, message },
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let json = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(json))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "internal error; the details are in the server log".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let retry_after = match self {
            Self::TooManyRequests { retry_after, .. } => Some(retry_after.max(1)),
            Self::Unavailable(_) => Some(RETRY_AFTER_UNAVAILABLE),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
