//! A clip's time window and its full telemetry: read from the clip's own file, and for
//! what that lacks (a cut often drops the camera's telemetry track) from the camera's
//! recordings of the drive covering the window, then from its sidecars.

use crate::error::ApiError;
use crate::library::telemetry::{full_series, TelemetrySeries};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use dashvault_store::model::{Clip, RecordingKind, VideoFile};

/// The instants a clip covers: its first frame and its end.
pub fn clip_window(clip: &Clip) -> (DateTime<Utc>, DateTime<Utc>) {
    (clip.file.start, file_end(&clip.file))
}

/// When a stored video ends.
pub fn file_end(file: &VideoFile) -> DateTime<Utc> {
    file.start + Duration::milliseconds(i64::try_from(file.duration_ms).unwrap_or(i64::MAX))
}

/// Every reading of the clip's window, times in seconds from its start.
pub async fn clip_series(state: &AppState, clip: &Clip) -> Result<TelemetrySeries, ApiError> {
    let window = clip_window(clip);
    let (user, device) = (clip.user_id, clip.device_id);
    let own = full_series(
        state,
        user,
        device,
        window,
        std::slice::from_ref(&clip.file),
    )
    .await?;
    if !own.route.is_empty() && !own.g.is_empty() {
        return Ok(own);
    }
    let Some(drive) = clip.drive_id else {
        return Ok(own);
    };
    let covering: Vec<VideoFile> = state
        .repo
        .drive_recordings(user, drive)
        .await?
        .into_iter()
        .filter(|r| r.kind == RecordingKind::Recording && r.view == clip.view)
        .filter(|r| r.file.start < window.1 && file_end(&r.file) > window.0)
        .map(|r| r.file)
        .collect();
    if covering.is_empty() {
        return Ok(own);
    }
    let camera = full_series(state, user, device, window, &covering).await?;
    Ok(if own.route.is_empty() && own.g.is_empty() {
        camera
    } else if own.route.is_empty() {
        TelemetrySeries {
            route: camera.route,
            speed: camera.speed,
            g: own.g,
        }
    } else {
        TelemetrySeries { g: camera.g, ..own }
    })
}
