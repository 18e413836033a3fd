//! Videos and thumbnails of the owner's clips and drives: a clip's file, any window of a
//! drive (up to ten minutes) and its list of two-minute segments, all cut on request by
//! the media crate and streamed with HTTP ranges; thumbnails made once and cached.

use crate::auth::owner::Owner;
use crate::error::{ApiError, ErrorBody};
use crate::evidence::activity;
use crate::state::AppState;
use crate::stream::thumbnail;
use crate::stream::video::{Content, PlannedVideo};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dashvault_store::model::{Clip, ClipKind, Recording, RecordingKind, VideoFile, View};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Longest drive window served as one video.
pub const MAX_WINDOW: Duration = Duration::minutes(10);
/// Length of a drive's download segments.
pub const SEGMENT: Duration = Duration::minutes(2);

/// `Query<T>` whose rejection (an unknown view, a time that is not RFC 3339) is the
/// API's JSON `400 invalid_query`, not axum's plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "{} (times are RFC 3339, view is road or cabin)",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// `?download=1`: offer the video as a file to save.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DownloadQuery {
    /// `1` or `true`: answer with `Content-Disposition: attachment`.
    pub download: Option<String>,
}

impl DownloadQuery {
    /// Whether a download was asked for.
    pub fn wanted(&self) -> bool {
        matches!(self.download.as_deref(), Some("1" | "true"))
    }
}

/// The name a downloaded clip is saved under:
/// `dashvault_2026-11-20_08-15-02_hard_brake.mp4` (start in UTC, then the first
/// incident's type, else `manual` or `clip`).
pub fn clip_filename(clip: &Clip) -> String {
    let what = match (clip.incidents.first(), clip.kind) {
        (Some(incident), _) => incident.kind.as_str(),
        (None, ClipKind::Manual) => "manual",
        (None, ClipKind::Auto) => "clip",
    };
    let what: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "dashvault_{}_{what}.mp4",
        clip.file.start.format("%Y-%m-%d_%H-%M-%S")
    )
}

/// Whole-file window of `files` laid end to end (its end is clamped by the cut).
fn whole(files: &[VideoFile]) -> (f64, f64) {
    let total: u64 = files.iter().map(|f| f.duration_ms).sum();
    (0.0, total as f64 / 1000.0 + 1.0)
}

/// The plan of one clip's video: its whole file through the cut, as `content` allows.
pub async fn clip_plan(
    state: &AppState,
    clip: &Clip,
    content: Content,
) -> Result<PlannedVideo, ApiError> {
    let files = std::slice::from_ref(&clip.file);
    PlannedVideo::cut(&state.blobs, &state.videos, files, whole(files), content).await
}

/// The video of one clip (its whole file through the cut), as `content` allows.
pub async fn clip_video_response(
    state: &AppState,
    clip: &Clip,
    content: Content,
    (method, headers): (&Method, &HeaderMap),
    download: bool,
) -> Result<Response, ApiError> {
    let video = clip_plan(state, clip, content).await?;
    let name = download.then(|| clip_filename(clip));
    Ok(video.respond(state.blobs.clone(), method, headers, name.as_deref()))
}

/// A clip's video; Range requests answer `206`.
#[utoipa::path(get, path = "/api/v1/clips/{id}/video", tag = "media",
    params(("id" = Uuid, Path, description = "Clip id"), DownloadQuery),
    responses(
        (status = 200, description = "The clip (video/mp4)", content_type = "video/mp4"),
        (status = 206, description = "A byte range of it", content_type = "video/mp4"),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
        (status = 416, description = "Range past the end"),
    ),
    security(("session" = [])))]
pub async fn clip_video(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let clip = state
        .repo
        .clip(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(action) = activity::video_action(&method, &headers, query.wanted()) {
        let via = activity::via(&owner);
        activity::record(&state, (owner.user_id, clip.id), action, via, None).await;
    }
    clip_video_response(
        &state,
        &clip,
        Content::Full,
        (&method, &headers),
        query.wanted(),
    )
    .await
}

/// A clip's thumbnail (JPEG, 320 px wide) at its first incident.
#[utoipa::path(get, path = "/api/v1/clips/{id}/thumbnail", tag = "media",
    params(("id" = Uuid, Path, description = "Clip id")),
    responses(
        (status = 200, description = "JPEG", content_type = "image/jpeg"),
        (status = 404, description = "No such clip of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn clip_thumbnail(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let clip = state
        .repo
        .clip(owner.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    thumbnail::respond(&state, &clip.file, thumbnail::clip_thumbnail_ms(&clip)).await
}

/// Where a drive's video comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Its full-quality recordings.
    Recordings,
    /// Its time-lapse, where no full-quality recording of the view was uploaded; times
    /// are the time-lapse's start plus its playback time.
    Timelapse,
}

/// The files of `view` a drive's video is cut from, recordings and time-lapses, in time
/// order. `404` for a drive that is not the owner's or has neither; `409` for an archived
/// drive, which needs a restore first.
async fn drive_files(
    state: &AppState,
    owner: &Owner,
    drive_id: Uuid,
    view: View,
) -> Result<Vec<Recording>, ApiError> {
    let drive = state
        .repo
        .drive(owner.user_id, drive_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if drive.archived {
        return Err(ApiError::Conflict {
            code: "archived",
            message: format!(
                "this drive is in the archive: request a restore (POST /api/v1/drives/{drive_id}/restore) \
                 and support will make it available to download"
            ),
        });
    }
    let mut files: Vec<Recording> = state
        .repo
        .drive_recordings(owner.user_id, drive_id)
        .await?
        .into_iter()
        .filter(|r| r.view == view)
        .collect();
    if files.is_empty() {
        return Err(ApiError::NotFound);
    }
    files.sort_by_key(|r| r.file.start);
    Ok(files)
}

/// What a window `[from, to)` of a drive is cut from: the full-quality recordings that
/// overlap it where there are any, otherwise the time-lapses that do (empty when neither).
fn window_source(
    files: &[Recording],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (SourceKind, Vec<VideoFile>) {
    let overlapping = |kind: RecordingKind| -> Vec<VideoFile> {
        files
            .iter()
            .filter(|r| r.kind == kind && r.file.start < to && end_of(&r.file) > from)
            .map(|r| r.file.clone())
            .collect()
    };
    let recordings = overlapping(RecordingKind::Recording);
    if recordings.is_empty() {
        (SourceKind::Timelapse, overlapping(RecordingKind::Timelapse))
    } else {
        (SourceKind::Recordings, recordings)
    }
}

fn end_of(file: &VideoFile) -> DateTime<Utc> {
    file.end()
}

/// Where wall-clock time `t` falls on the playing timeline of `files` (in time order)
/// laid end to end, in seconds: a time in a gap between files is where the next file
/// starts, so a window over a gap holds only what was recorded and nothing after the
/// gap is shifted; a time-lapse's wall-clock seconds count for `1 / speed` of playing time.
fn played(files: &[VideoFile], t: DateTime<Utc>) -> f64 {
    files
        .iter()
        .map(|f| {
            let wall = (t.min(f.end()) - f.start).num_milliseconds().max(0) as f64;
            wall / f.speed() / 1000.0
        })
        .sum()
}

/// `from`, `to`, `view` and `download` of a drive video.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DriveVideoQuery {
    /// Window start (RFC 3339); the drive's start when absent.
    pub from: Option<DateTime<Utc>>,
    /// Window end (RFC 3339), at most ten minutes after `from`; the drive's end when absent.
    pub to: Option<DateTime<Utc>>,
    /// `road` (default) or `cabin`.
    #[param(value_type = Option<String>)]
    pub view: Option<View>,
    /// `1`: answer with `Content-Disposition: attachment`.
    pub download: Option<String>,
}

/// A window of a drive's video (its whole length without `from`/`to`); Range requests
/// answer `206`.
#[utoipa::path(get, path = "/api/v1/drives/{id}/video", tag = "media",
    params(("id" = Uuid, Path, description = "Drive id"), DriveVideoQuery),
    responses(
        (status = 200, description = "The window (video/mp4)", content_type = "video/mp4"),
        (status = 206, description = "A byte range of it", content_type = "video/mp4"),
        (status = 400, description = "Window empty, outside the drive or longer than ten minutes", body = ErrorBody),
        (status = 404, description = "No such drive of yours", body = ErrorBody),
        (status = 409, description = "The drive is archived: request a restore", body = ErrorBody),
        (status = 416, description = "Range past the end"),
    ),
    security(("session" = [])))]
pub async fn drive_video(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
    ApiQuery(query): ApiQuery<DriveVideoQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let files = drive_files(&state, &owner, id, query.view.unwrap_or(View::Road)).await?;
    let explicit = query.from.is_some() || query.to.is_some();
    let from = query.from.unwrap_or(files[0].file.start);
    let to = query
        .to
        .unwrap_or_else(|| files.iter().map(|r| end_of(&r.file)).max().unwrap_or(from));
    if to <= from {
        return Err(ApiError::bad_request(
            "invalid_window",
            "`to` must be after `from`",
        ));
    }
    if explicit && to - from > MAX_WINDOW {
        return Err(ApiError::bad_request(
            "window_too_long",
            "a drive video window is at most 10 minutes; download longer stretches as its segments (/segments)",
        ));
    }
    let (_, touched) = window_source(&files, from, to);
    if touched.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_window",
            "the window holds no recording of this drive",
        ));
    }
    let window = (played(&touched, from), played(&touched, to));
    let video =
        PlannedVideo::cut(&state.blobs, &state.videos, &touched, window, Content::Full).await?;
    let download = matches!(query.download.as_deref(), Some("1" | "true"));
    let name =
        download.then(|| format!("dashvault_{}_drive.mp4", from.format("%Y-%m-%d_%H-%M-%S")));
    Ok(video.respond(state.blobs.clone(), &method, &headers, name.as_deref()))
}

/// `view` of a drive's segments.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SegmentsQuery {
    /// `road` (default) or `cabin`.
    #[param(value_type = Option<String>)]
    pub view: Option<View>,
}

/// One two-minute segment of a drive.
#[derive(Debug, Serialize, ToSchema)]
pub struct Segment {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The drive video of this window, as a download.
    pub url: String,
    /// What it is cut from: `recordings` or `timelapse`.
    pub source: SourceKind,
}

/// A drive's segments.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentList {
    /// Two-minute windows covering the drive, in time order.
    pub items: Vec<Segment>,
}

/// A drive as two-minute segments to download, each cut from its full-quality recordings
/// where they were uploaded, otherwise from its time-lapse.
#[utoipa::path(get, path = "/api/v1/drives/{id}/segments", tag = "media",
    params(("id" = Uuid, Path, description = "Drive id"), SegmentsQuery),
    responses(
        (status = 200, description = "The segments", body = SegmentList),
        (status = 404, description = "No such drive of yours", body = ErrorBody),
        (status = 409, description = "The drive is archived: request a restore", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn drive_segments(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
    ApiQuery(query): ApiQuery<SegmentsQuery>,
) -> Result<Json<SegmentList>, ApiError> {
    let view = query.view.unwrap_or(View::Road);
    let files = drive_files(&state, &owner, id, view).await?;
    let mut items = Vec::new();
    for (start, end, source) in segments(&files) {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let url = format!(
            "/api/v1/drives/{id}/video?from={}&to={}&view={}&download=1",
            time(start),
            time(end),
            view.as_str()
        );
        items.push(Segment {
            start,
            end,
            url,
            source,
        });
    }
    Ok(Json(SegmentList { items }))
}

/// Files closer than this in time are one stretch (cameras leave a moment between files).
const JOIN_GAP: Duration = Duration::seconds(5);

/// Two-minute windows over the stretches the drive's files cover, each with its source:
/// full-quality recordings where there are any, the time-lapse over the rest.
fn segments(files: &[Recording]) -> Vec<(DateTime<Utc>, DateTime<Utc>, SourceKind)> {
    let stretches = |kind: RecordingKind| {
        join(
            files
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| (r.file.start, end_of(&r.file))),
        )
    };
    let recorded = stretches(RecordingKind::Recording);
    let mut runs: Vec<_> = recorded
        .iter()
        .map(|&(start, end)| (start, end, SourceKind::Recordings))
        .collect();
    for lapse in stretches(RecordingKind::Timelapse) {
        runs.extend(
            uncovered(lapse, &recorded)
                .into_iter()
                .map(|(start, end)| (start, end, SourceKind::Timelapse)),
        );
    }
    runs.sort_by_key(|run| run.0);
    let mut out = Vec::new();
    for (mut at, end, source) in runs {
        while at < end {
            let next = (at + SEGMENT).min(end);
            out.push((at, next, source));
            at = next;
        }
    }
    out
}

/// The intervals merged where they overlap or lie within [`JOIN_GAP`] of each other.
fn join(
    intervals: impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut sorted: Vec<_> = intervals.collect();
    sorted.sort();
    let mut runs: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (start, end) in sorted {
        match runs.last_mut() {
            Some(run) if start <= run.1 + JOIN_GAP => run.1 = run.1.max(end),
            _ => runs.push((start, end)),
        }
    }
    runs
}

/// The parts of `span` that none of the sorted, disjoint `covered` intervals covers.
fn uncovered(
    span: (DateTime<Utc>, DateTime<Utc>),
    covered: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let (mut at, end) = span;
    let mut out = Vec::new();
    for &(start, stop) in covered {
        if stop <= at || start >= end {
            continue;
        }
        if start > at {
            out.push((at, start));
        }
        at = at.max(stop);
    }
    if at < end {
        out.push((at, end));
    }
    out
}

/// A drive's thumbnail (JPEG, 320 px wide): the first keyframe of its first road
/// recording (else of its first recording of any view or kind).
#[utoipa::path(get, path = "/api/v1/drives/{id}/thumbnail", tag = "media",
    params(("id" = Uuid, Path, description = "Drive id")),
    responses(
        (status = 200, description = "JPEG", content_type = "image/jpeg"),
        (status = 404, description = "No such drive of yours", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn drive_thumbnail(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let all = state.repo.drive_recordings(owner.user_id, id).await?;
    let first = thumbnail::drive_thumbnail_source(&all).ok_or(ApiError::NotFound)?;
    thumbnail::respond(&state, &first.file, 0).await
}
