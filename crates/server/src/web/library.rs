//! The library as the pages see it: the list and detail items of the JSON API, as JSON
//! values in the API's own field names (so the templates read exactly what the API
//! documents), fetched through the API's own item builders.

use super::list::ListForm;
use super::templates;
use crate::error::ApiError;
use crate::routes::library::{ClipItem, DriveItem};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use uuid::Uuid;

/// Items per page.
const PAGE: u32 = 50;

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
    /// The error page (the details go to the log).
    pub fn page(self) -> Response {
        tracing::error!(err = %self.0, "a page could not read the library");
        templates::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The library could not be read just now. Try again in a moment.",
        )
    }
}

fn values<T: serde::Serialize>(items: impl IntoIterator<Item = T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

/// The user's drives matching `form`.
pub async fn drives(state: &AppState, user_id: Uuid, form: &ListForm) -> Result<Listed, Failed> {
    let _ = form;
    let drives = state.repo.drives(user_id, PAGE).await?;
    Ok(Listed {
        items: values(drives.into_iter().map(DriveItem::from)),
        next_cursor: None,
    })
}

/// The user's clips matching `form`.
pub async fn clips(state: &AppState, user_id: Uuid, form: &ListForm) -> Result<Listed, Failed> {
    let _ = form;
    let clips = state.repo.clips(user_id, PAGE).await?;
    Ok(Listed {
        items: values(clips.into_iter().map(ClipItem::from)),
        next_cursor: None,
    })
}

/// One of the user's clips; `None` when it is not theirs or does not exist.
pub async fn clip(state: &AppState, user_id: Uuid, id: Uuid) -> Result<Option<Value>, Failed> {
    let clip = state.repo.clip(user_id, id).await?;
    Ok(clip.and_then(|c| serde_json::to_value(ClipItem::from(c)).ok()))
}

/// One of the user's drives; `None` when it is not theirs or does not exist.
pub async fn drive(state: &AppState, user_id: Uuid, id: Uuid) -> Result<Option<Value>, Failed> {
    let drive = state.repo.drive(user_id, id).await?;
    Ok(drive.and_then(|d| serde_json::to_value(DriveItem::from(d)).ok()))
}
