//! The library API: `GET /api/v1/clips`, `/api/v1/drives` (filtered, newest first,
//! cursor pages), one clip or drive with its telemetry, `DELETE` of either, and the
//! deletion log agents sync (`GET /api/v1/tombstones`). A session or a device token
//! (acting for its owner) is accepted; another user's id answers `404`.

use crate::auth::owner::Owner;
use crate::error::{ApiError, ErrorBody};
pub use crate::library::items::{ClipItem, DriveItem, IncidentItem, Page};
use crate::library::query::{page_request, ListParams};
use crate::library::{self, ClipDetail, DriveDetail};
use crate::state::AppState;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use dashvault_store::model::{Deletion, Tombstone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Tombstones per page unless `limit` says otherwise.
const TOMBSTONES_DEFAULT: u32 = 100;
/// Most tombstones per page.
const TOMBSTONES_MAX: u32 = 1000;

/// Your drives matching the filters, newest first, each with its clips.
#[utoipa::path(get, path = "/api/v1/drives", tag = "library", params(ListParams),
    responses(
        (status = 200, description = "A page of drives", body = Page<DriveItem>),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "No session or device token", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn drives(
    State(state): State<AppState>,
    owner: Owner,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<DriveItem>>, ApiError> {
    let request = page_request(raw.as_deref())?;
    Ok(Json(
        library::list_drives(&state, owner.user_id, &request).await?,
    ))
}

/// Your clips matching the filters, newest first.
#[utoipa::path(get, path = "/api/v1/clips", tag = "library", params(ListParams),
    responses(
        (status = 200, description = "A page of clips", body = Page<ClipItem>),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "No session or device token", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clips(
    State(state): State<AppState>,
    owner: Owner,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ClipItem>>, ApiError> {
    let request = page_request(raw.as_deref())?;
    Ok(Json(
        library::list_clips(&state, owner.user_id, &request).await?,
    ))
}

/// One of your clips, with its telemetry (route, speed, G-force; downsampled) and its
/// incidents as timeline markers.
#[utoipa::path(get, path = "/api/v1/clips/{id}", tag = "library",
    params(("id" = Uuid, Path, description = "Clip id")),
    responses(
        (status = 200, description = "The clip", body = ClipDetail),
        (status = 401, description = "No session or device token", body = ErrorBody),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clip(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<Json<ClipDetail>, ApiError> {
    library::clip_detail(&state, owner.user_id, parse_id(&id)?)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// One of your drives, with its clips, telemetry and incident markers.
#[utoipa::path(get, path = "/api/v1/drives/{id}", tag = "library",
    params(("id" = Uuid, Path, description = "Drive id")),
    responses(
        (status = 200, description = "The drive", body = DriveDetail),
        (status = 401, description = "No session or device token", body = ErrorBody),
        (status = 404, description = "No such drive of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn drive(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<Json<DriveDetail>, ApiError> {
    library::drive_detail(&state, owner.user_id, parse_id(&id)?)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// Delete one of your clips: its metadata at once, its stored file by a queued job;
/// a tombstone tells your agents. Deleting it again answers `204` too.
#[utoipa::path(delete, path = "/api/v1/clips/{id}", tag = "library",
    params(("id" = Uuid, Path, description = "Clip id")),
    responses(
        (status = 204, description = "Deleted (now or before)"),
        (status = 401, description = "No session or device token", body = ErrorBody),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn delete_clip(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let deletion = state
        .repo
        .delete_clip(owner.user_id, id, state.clock.now())
        .await?;
    deleted(&state, owner.user_id, deletion).await
}

/// Delete one of your drives: its recordings, time-lapses and the sidecars it covers
/// (metadata at once, files by a queued job). Its clips are kept. Deleting it again
/// answers `204` too.
#[utoipa::path(delete, path = "/api/v1/drives/{id}", tag = "library",
    params(("id" = Uuid, Path, description = "Drive id")),
    responses(
        (status = 204, description = "Deleted (now or before)"),
        (status = 401, description = "No session or device token", body = ErrorBody),
        (status = 404, description = "No such drive of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn delete_drive(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let deletion = state
        .repo
        .delete_drive(owner.user_id, id, state.clock.now())
        .await?;
    deleted(&state, owner.user_id, deletion).await
}

/// The answer to a deletion; a deletion done now is recorded in the ledger of stored
/// files.
async fn deleted(state: &AppState, user: Uuid, deletion: Deletion) -> Result<StatusCode, ApiError> {
    match deletion {
        Deletion::Deleted { blob_keys, .. } => {
            state
                .repo
                .ledger_deleted(user, &blob_keys, state.clock.now())
                .await?;
            Ok(StatusCode::NO_CONTENT)
        }
        Deletion::AlreadyDeleted(_) => Ok(StatusCode::NO_CONTENT),
        Deletion::NotFound => Err(ApiError::NotFound),
    }
}

/// `GET /api/v1/tombstones` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TombstoneParams {
    /// Only tombstones after this `seq` (the last one you synced; default 0).
    pub after: Option<i64>,
    /// Tombstones per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A deletion, as agents sync it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TombstoneItem {
    /// Position in your deletion log; pass the last one as `after`.
    pub seq: i64,
    /// `clip`, `drive` or `recording`.
    pub kind: String,
    /// The deleted item's id.
    pub id: Uuid,
    /// SHA-256 (hex) of every file deleted with it.
    pub sha256: Vec<String>,
    /// When.
    pub deleted_at: DateTime<Utc>,
}

impl From<Tombstone> for TombstoneItem {
    fn from(t: Tombstone) -> Self {
        Self {
            seq: t.seq,
            kind: t.kind.as_str().to_owned(),
            id: t.id,
            sha256: t.sha256,
            deleted_at: t.deleted_at,
        }
    }
}

/// What was deleted from your library, oldest first, for agents to delete their copies.
#[utoipa::path(get, path = "/api/v1/tombstones", tag = "library", params(TombstoneParams),
    responses(
        (status = 200, description = "A page of tombstones", body = Page<TombstoneItem>),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "No session or device token", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn tombstones(
    State(state): State<AppState>,
    owner: Owner,
    params: Result<Query<TombstoneParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<TombstoneItem>>, ApiError> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("after and limit must be numbers: {e}"),
        )
    })?;
    let limit = params.limit.unwrap_or(TOMBSTONES_DEFAULT);
    if !(1..=TOMBSTONES_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be from 1 to {TOMBSTONES_MAX}"),
        ));
    }
    let items = state
        .repo
        .tombstones(owner.user_id, params.after.unwrap_or(0), limit)
        .await?;
    let full = items.len() == usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = items.last().filter(|_| full).map(|t| t.seq.to_string());
    Ok(Json(Page {
        items: items.into_iter().map(TombstoneItem::from).collect(),
        next_cursor,
    }))
}

/// A path id; one that is not a UUID is as unknown as any other.
fn parse_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}
