//! Upload failures: the tus statuses (`409`, `412`, `460`, …) besides the API's own
//! errors, all with the API's JSON error body.

use crate::error::{ApiError, ErrorBody, ErrorDetail};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why an upload request failed.
#[derive(Debug, thiserror::Error)]
pub enum TusError {
    /// An API error (bad request, unauthorised, not found, internal…).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// `Tus-Resumable` is missing or names a version other than 1.0.0 (412).
    #[error("this server speaks tus 1.0.0; send `Tus-Resumable: 1.0.0`")]
    UnsupportedVersion,
    /// `Upload-Offset` is not the upload's offset (409).
    #[error(
        "Upload-Offset is {sent} but the upload has {stored} bytes; HEAD it and resume from there"
    )]
    OffsetMismatch {
        /// Offset the client sent.
        sent: u64,
        /// Offset stored.
        stored: u64,
    },
    /// Another request is writing this upload right now (423).
    #[error("another request is writing this upload; retry when it is done")]
    Busy,
    /// The body's checksum is not `Upload-Checksum` (460); nothing was appended.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// The upload expired (410).
    #[error("the upload expired; start a new one")]
    Gone,
    /// The completed file was refused; the upload can not go on (410).
    #[error("this upload's file was refused ({0}); nothing of it was kept")]
    Refused(String),
    /// The upload or the body is larger than allowed or declared (413).
    #[error("{0}")]
    TooLarge(String),
    /// The owner's quota would be exceeded (507).
    #[error("{0}")]
    QuotaExceeded(String),
    /// The file is not what its `kind` says, e.g. not a playable video (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The request can not apply to this upload, e.g. a `PATCH` on a final upload (403).
    #[error("{0}")]
    Forbidden(String),
    /// The body is not `application/offset+octet-stream` (415).
    #[error("the body must be sent as Content-Type: application/offset+octet-stream")]
    WrongContentType,
    /// `Content-Length` is missing (411).
    #[error("send Content-Length with the body")]
    LengthRequired,
}

impl TusError {
    /// A 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::Api(ApiError::bad_request(code, message))
    }

    /// An internal failure; the detail goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Api(ApiError::Internal(detail.to_string()))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Api(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            Self::UnsupportedVersion => {
                (StatusCode::PRECONDITION_FAILED, "unsupported_tus_version")
            }
            Self::OffsetMismatch { .. } => (StatusCode::CONFLICT, "offset_mismatch"),
            Self::Busy => (StatusCode::LOCKED, "upload_busy"),
            Self::ChecksumMismatch(_) => (checksum_mismatch(), "checksum_mismatch"),
            Self::Gone => (StatusCode::GONE, "upload_expired"),
            Self::Refused(_) => (StatusCode::GONE, "upload_refused"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::QuotaExceeded(_) => (StatusCode::INSUFFICIENT_STORAGE, "quota_exceeded"),
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_a_video"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::WrongContentType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::LengthRequired => (StatusCode::LENGTH_REQUIRED, "length_required"),
        }
    }
}

impl From<dashvault_store::Error> for TusError {
    fn from(err: dashvault_store::Error) -> Self {
        Self::Api(err.into())
    }
}

impl From<dashvault_store::blob::BlobError> for TusError {
    fn from(err: dashvault_store::blob::BlobError) -> Self {
        Self::Api(err.into())
    }
}

/// tus's `460 Checksum Mismatch`.
fn checksum_mismatch() -> StatusCode {
    StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST)
}

impl IntoResponse for TusError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut response = match self {
            Self::Api(api) => api.into_response(),
            other => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        code: code.to_owned(),
                        message: other.to_string(),
                    },
                };
                (status, Json(body)).into_response()
            }
        };
        // The request body may be left unread: tell the client not to reuse the
        // connection rather than let it race the server closing it.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        if status == StatusCode::PRECONDITION_FAILED {
            response
                .headers_mut()
                .insert("tus-version", HeaderValue::from_static(super::TUS_VERSION));
        }
        response
    }
}
