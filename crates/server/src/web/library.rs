//! The library as the pages see it: the JSON API's own items and details (built by
//! [`crate::library`]), as JSON values in the API's field names, so the templates read
//! exactly what the API documents.

use super::form::ListForm;
use super::templates;
use crate::error::ApiError;
use crate::library::{self as api, query};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// A page of items.
#[derive(Debug)]
pub struct Listed {
    /// The items, newest first, as the API shows them.
    pub items: Vec<Value>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// A library read that failed; shown as an error page.
#[derive(Debug)]
pub struct Failed(ApiError);

impl<E: Into<ApiError>> From<E> for Failed {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl Failed {
    /// The error page: what was wrong with the request, or (for a failure of ours) that
    /// it went wrong, with the details in the log.
    pub fn page(self) -> Response {
        match self.0 {
            ApiError::BadRequest { message, .. } => templates::message(
                StatusCode::BAD_REQUEST,
                "That search can not be done",
                &format!("{message}. Go back and change the filters."),
            ),
            err => {
                tracing::error!(%err, "a page could not read the library");
                templates::message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The library could not be read just now. Try again in a moment.",
                )
            }
        }
    }
}

fn value(item: impl Serialize) -> Result<Value, Failed> {
    serde_json::to_value(item).map_err(|e| Failed(ApiError::Internal(e.to_string())))
}

fn listed<T: Serialize>(page: api::items::Page<T>) -> Result<Listed, Failed> {
    Ok(Listed {
        items: page
            .items
            .into_iter()
            .map(value)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// The page request of a filter form, read exactly as the list API reads its query.
fn request(form: &ListForm) -> Result<dashvault_store::model::PageRequest, Failed> {
    let raw =
        serde_urlencoded::to_string(form).map_err(|e| Failed(ApiError::Internal(e.to_string())))?;
    Ok(query::page_request(Some(&raw))?)
}

/// The user's drives matching `form`.
pub async fn drives(state: &AppState, user_id: Uuid, form: &ListForm) -> Result<Listed, Failed> {
    listed(api::list_drives(state, user_id, &request(form)?).await?)
}

/// The user's clips matching `form`.
pub async fn clips(state: &AppState, user_id: Uuid, form: &ListForm) -> Result<Listed, Failed> {
    listed(api::list_clips(state, user_id, &request(form)?).await?)
}

/// One of the user's clips with its telemetry and markers; `None` when it is not theirs
/// or does not exist.
pub async fn clip(state: &AppState, user_id: Uuid, id: Uuid) -> Result<Option<Value>, Failed> {
    api::clip_detail(state, user_id, id)
        .await?
        .map(value)
        .transpose()
}

/// One of the user's drives with its clips, telemetry and markers; `None` when it is not
/// theirs or does not exist.
pub async fn drive(state: &AppState, user_id: Uuid, id: Uuid) -> Result<Option<Value>, Failed> {
    api::drive_detail(state, user_id, id)
        .await?
        .map(value)
        .transpose()
}
