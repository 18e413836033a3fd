//! Evidence: a clip's signed bundle and the public key that verifies it, a clip's
//! activity, and routes as GPX (a clip's, a drive's, and a shared clip's when its owner
//! shared the location). Owner-only resources answer `404` to anyone else.

use crate::auth::owner::Owner;
use crate::auth::session::ClientIp;
use crate::error::{ApiError, ErrorBody};
use crate::evidence::{activity, bundle, gpx, key, window};
use crate::library::telemetry;
use crate::routes::media::{clip_filename, ApiQuery};
use crate::routes::shares;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use dashvault_store::model::{ActivityAction, Clip, Recording, RecordingKind, VideoFile, View};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Activity items per page unless `limit` says otherwise.
const ACTIVITY_DEFAULT: u32 = 50;
/// Most activity items per page.
const ACTIVITY_MAX: u32 = 200;
/// Bytes read from a finished bundle at a time while sending it.
const CHUNK: usize = 64 * 1024;

/// The key that verifies evidence bundles.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceKeyResponse {
    /// `ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, base64.
    pub public_key: String,
}

/// The public key that verifies every bundle's `manifest.sig` (the same on every
/// replica). Anonymous: anyone checking a bundle may fetch it.
#[utoipa::path(get, path = "/api/v1/evidence/key", tag = "evidence",
    responses((status = 200, description = "The key", body = EvidenceKeyResponse)))]
pub async fn evidence_key(State(state): State<AppState>) -> Json<EvidenceKeyResponse> {
    Json(EvidenceKeyResponse {
        algorithm: key::ALGORITHM.to_owned(),
        public_key: state.evidence.public_base64(),
    })
}

/// One of your clips as a signed evidence bundle (ZIP): `video.mp4` (what `video_url`
/// serves), `originals/` (the file it was cut from and the camera's files around it),
/// `route.gpx`, `gforce.csv`, `manifest.json` and `manifest.sig`.
/// `dashvault verify` checks one offline.
#[utoipa::path(get, path = "/api/v1/clips/{id}/evidence", tag = "evidence",
    params(("id" = Uuid, Path, description = "Clip id")),
    responses(
        (status = 200, description = "The bundle", content_type = "application/zip"),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clip_evidence(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let clip = owned_clip(&state, &owner, id).await?;
    let device = state
        .repo
        .device(owner.user_id, clip.device_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let made = bundle::build(&state, &clip, &device, &state.evidence).await?;
    let file = tokio::fs::File::open(&made.path)
        .await
        .map_err(|e| ApiError::Internal(format!("reopening a bundle: {e}")))?;
    // The open file outlives its name: the temporary file is unlinked now.
    drop(made.path);
    activity::record(
        &state,
        (owner.user_id, clip.id),
        ActivityAction::EvidenceExport,
        activity::via(&owner),
        None,
    )
    .await;
    let body = Body::from_stream(stream::unfold(file, |mut file| async move {
        let mut buf = vec![0; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), file))
            }
            Err(err) => Some((Err(err), file)),
        }
    }));
    let disposition = format!("attachment; filename=\"{}\"", made.filename);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(made.len)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private")),
        ],
        body,
    )
        .into_response())
}

/// `cursor` and `limit` of a clip's activity.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// One thing done with a clip.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityItem {
    /// When.
    pub at: DateTime<Utc>,
    /// `play`, `download`, `evidence_export`, `share_create`, `share_open` or
    /// `share_revoke`.
    pub action: String,
    /// `session`, `device` or `share`.
    pub via: String,
}

/// A page of a clip's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPage {
    /// Newest first.
    pub items: Vec<ActivityItem>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<Uuid>,
}

/// What was done with one of your clips, newest first: plays (one per viewing),
/// downloads, evidence exports, share links made, opened and revoked.
#[utoipa::path(get, path = "/api/v1/clips/{id}/activity", tag = "evidence",
    params(("id" = Uuid, Path, description = "Clip id"), ActivityParams),
    responses(
        (status = 200, description = "A page of activity", body = ActivityPage),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clip_activity(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
    ApiQuery(params): ApiQuery<ActivityParams>,
) -> Result<Json<ActivityPage>, ApiError> {
    let limit = match params.limit {
        None => ACTIVITY_DEFAULT,
        Some(n @ 1..=ACTIVITY_MAX) => n,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_limit",
                format!("limit must be from 1 to {ACTIVITY_MAX}"),
            ))
        }
    };
    let clip = owned_clip(&state, &owner, id).await?;
    let items = state
        .repo
        .clip_activity(owner.user_id, clip.id, params.cursor, limit)
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id))
        .flatten();
    Ok(Json(ActivityPage {
        items: items
            .into_iter()
            .map(|a| ActivityItem {
                at: a.at,
                action: a.action.as_str().to_owned(),
                via: a.via.as_str().to_owned(),
            })
            .collect(),
        next_cursor,
    }))
}

/// One of your clips' route as GPX 1.1 (time and, where known, speed per point).
#[utoipa::path(get, path = "/api/v1/clips/{id}/route.gpx", tag = "evidence",
    params(("id" = Uuid, Path, description = "Clip id")),
    responses(
        (status = 200, description = "GPX 1.1", content_type = "application/gpx+xml"),
        (status = 404, description = "No such clip of yours, or it has no GPS", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clip_route(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let clip = owned_clip(&state, &owner, id).await?;
    clip_gpx(&state, &clip).await
}

/// One of your drives' route (road view recordings, else its time-lapse) as GPX 1.1.
#[utoipa::path(get, path = "/api/v1/drives/{id}/route.gpx", tag = "evidence",
    params(("id" = Uuid, Path, description = "Drive id")),
    responses(
        (status = 200, description = "GPX 1.1", content_type = "application/gpx+xml"),
        (status = 404, description = "No such drive of yours, or it has no GPS", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn drive_route(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let drive = state
        .repo
        .drive(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let files = route_files(state.repo.drive_recordings(owner.user_id, id).await?);
    let name = format!(
        "dashvault_{}_drive",
        drive.start.format("%Y-%m-%d_%H-%M-%S")
    );
    let series = telemetry::full_series(
        &state,
        owner.user_id,
        drive.device_id,
        (drive.start, drive.end),
        &files,
    )
    .await?;
    gpx_response(&name, &gpx::points(&series, drive.start))
}

/// The files a drive's route is read from: one view (road when recorded), its
/// full-quality recordings where there are any, else its time-lapses (the views carry
/// the same fixes, so reading both would list each point twice).
fn route_files(recordings: Vec<Recording>) -> Vec<VideoFile> {
    let view = if recordings.iter().any(|r| r.view == View::Road) {
        View::Road
    } else {
        View::Cabin
    };
    let of_view: Vec<Recording> = recordings.into_iter().filter(|r| r.view == view).collect();
    let kind = if of_view.iter().any(|r| r.kind == RecordingKind::Recording) {
        RecordingKind::Recording
    } else {
        RecordingKind::Timelapse
    };
    of_view
        .into_iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.file)
        .collect()
}

/// A shared clip's route as GPX 1.1 (anonymous); only when its owner shared the
/// location, `404` otherwise.
#[utoipa::path(get, path = "/s/{token}/route.gpx", tag = "shares",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "GPX 1.1", content_type = "application/gpx+xml"),
        (status = 404, description = "No such link, no shared location, or no GPS", body = ErrorBody),
        (status = 410, description = "Expired, revoked, or the clip was deleted", body = ErrorBody),
        (status = 429, description = "Too many lookups from this address", body = ErrorBody),
    ))]
pub async fn shared_route(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let shared = shares::resolve(&state, &ip, &token).await?;
    if !shared.share.include_location {
        return Err(ApiError::NotFound);
    }
    clip_gpx(&state, &shared.clip).await
}

/// The clip of `id` if it is the owner's (`404` otherwise).
async fn owned_clip(state: &AppState, owner: &Owner, id: Uuid) -> Result<Clip, ApiError> {
    state
        .repo
        .clip(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// A clip's route as a GPX answer.
async fn clip_gpx(state: &AppState, clip: &Clip) -> Result<Response, ApiError> {
    let series = window::clip_series(state, clip).await?;
    let name = clip_filename(clip).replace(".mp4", "");
    gpx_response(&name, &gpx::points(&series, clip.file.start))
}

/// `points` as a GPX download named `name.gpx`; `404` without any.
fn gpx_response(name: &str, points: &[gpx::TrackPoint]) -> Result<Response, ApiError> {
    if points.is_empty() {
        return Err(ApiError::NotFound);
    }
    let disposition = format!("attachment; filename=\"{name}.gpx\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(gpx::CONTENT_TYPE),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private")),
        ],
        gpx::document(name, points),
    )
        .into_response())
}
