//! A JSON body extractor whose rejections speak the API's error format, so malformed
//! JSON, a wrong content type or an oversized body get a clear `4xx`, never axum's
//! plain-text default.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// `Json<T>` for request bodies, with [`ApiError`] rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".to_owned(),
        ),
        JsonRejection::JsonSyntaxError(err) => {
            ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {err}"))
        }
        JsonRejection::JsonDataError(err) => {
            ApiError::bad_request("invalid_body", format!("the body does not fit: {err}"))
        }
        JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("the body is larger than this endpoint accepts".to_owned())
        }
        other => ApiError::bad_request("invalid_body", other.body_text()),
    }
}
