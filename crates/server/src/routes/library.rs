//! `GET /api/v1/drives` and `GET /api/v1/clips`: the signed-in user's drives and clips,
//! newest first (a first page; filters and pagination come with the library).

use crate::auth::session::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use dashvault_store::model::{Clip, Drive, Incident, View};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Items per page.
const PAGE: u32 = 100;

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Cursor of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A drive.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriveItem {
    /// Id.
    pub id: Uuid,
    /// Device id.
    pub device: Uuid,
    /// Start of the first recording.
    pub start: DateTime<Utc>,
    /// End of the last recording.
    pub end: DateTime<Utc>,
    /// Views recorded: `road`, `cabin`.
    #[schema(value_type = Vec<String>)]
    pub views: Vec<View>,
    /// Moved to archive storage.
    pub archived: bool,
}

impl From<Drive> for DriveItem {
    fn from(d: Drive) -> Self {
        Self {
            id: d.id,
            device: d.device_id,
            start: d.start,
            end: d.end,
            views: d.views,
            archived: d.archived,
        }
    }
}

/// An incident on a clip.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentItem {
    /// Type, e.g. `hard_brake`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Severity, 0 to 1.
    pub severity: f64,
}

impl From<Incident> for IncidentItem {
    fn from(i: Incident) -> Self {
        Self {
            kind: i.kind,
            at: i.at,
            severity: i.severity,
        }
    }
}

/// A clip.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClipItem {
    /// Id.
    pub id: Uuid,
    /// `auto` or `manual`.
    pub kind: String,
    /// `road` or `cabin`.
    pub view: String,
    /// Device id.
    pub device: Uuid,
    /// The drive it belongs to, when stored.
    pub drive: Option<Uuid>,
    /// Start of the clip.
    pub start: DateTime<Utc>,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Incidents in it.
    pub incidents: Vec<IncidentItem>,
    /// File size in bytes.
    pub size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

impl From<Clip> for ClipItem {
    fn from(c: Clip) -> Self {
        Self {
            id: c.id,
            kind: c.kind.as_str().to_owned(),
            view: c.view.as_str().to_owned(),
            device: c.device_id,
            drive: c.drive_id,
            start: c.file.start,
            duration_ms: c.file.duration_ms,
            incidents: c.incidents.into_iter().map(IncidentItem::from).collect(),
            size: c.file.size,
            sha256: c.file.sha256,
        }
    }
}

/// Your drives, newest first.
#[utoipa::path(get, path = "/api/v1/drives", tag = "library",
    responses(
        (status = 200, description = "Drives", body = Page<DriveItem>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn drives(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Page<DriveItem>>, ApiError> {
    let items = state.repo.drives(current.user.id, PAGE).await?;
    Ok(Json(Page {
        items: items.into_iter().map(DriveItem::from).collect(),
        next_cursor: None,
    }))
}

/// Your clips, newest first.
#[utoipa::path(get, path = "/api/v1/clips", tag = "library",
    responses(
        (status = 200, description = "Clips", body = Page<ClipItem>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clips(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Page<ClipItem>>, ApiError> {
    let items = state.repo.clips(current.user.id, PAGE).await?;
    Ok(Json(Page {
        items: items.into_iter().map(ClipItem::from).collect(),
        next_cursor: None,
    }))
}
