//! `agent status`: what is where — on the camera, on the phone, in the cloud — and what
//! the upload queue still holds.

use crate::agent::{CAMERA_SETTING, MODEL_SETTING, QUOTA_SETTING};
use crate::camera::{self, View};
use crate::error::AgentError;
use crate::evict::in_cloud;
use crate::quota::Quota;
use crate::residency::Residency;
use crate::upload::{Queue, Summary};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;

/// Everything `agent status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The camera model, when given to `agent run --model`.
    pub model: Option<String>,
    /// The camera folder, when known and readable.
    pub camera: Option<CameraStatus>,
    /// The address of the camera when it is on Wi-Fi (status does not ask it: its files
    /// are listed by `agent run`).
    pub wifi_camera: Option<String>,
    /// The phone storage.
    pub phone: PhoneStatus,
    /// What is known to be in the cloud.
    pub cloud: CloudStatus,
    /// The upload queue.
    pub queue: Summary,
    /// Each drive, oldest first.
    pub drives: Vec<DriveStatus>,
}

/// The camera's card.
#[derive(Debug, Clone, Serialize)]
pub struct CameraStatus {
    /// Its folder.
    pub dir: PathBuf,
    /// Road-view recordings on it.
    pub road: usize,
    /// Cabin-view recordings on it (they stay there).
    pub cabin: usize,
    /// Other views (rear, side cameras).
    pub other: usize,
    /// Telemetry sidecars.
    pub sidecars: usize,
    /// Road-view recordings not imported yet.
    pub not_imported: usize,
}

/// The phone storage.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneStatus {
    /// Its folder.
    pub dir: PathBuf,
    /// Bytes it may use, when the quota is known.
    pub quota_bytes: Option<u64>,
    /// Bytes it uses.
    pub used_bytes: u64,
    /// Drives with at least one recording still on the phone.
    pub drives: usize,
    /// Recordings on the phone.
    pub recordings: usize,
    /// Clips on the phone.
    pub clips: usize,
    /// Of those, clips not yet in the cloud (never deleted by the loop).
    pub clips_not_in_cloud: usize,
}

/// What is in the cloud, as far as the agent knows.
#[derive(Debug, Clone, Serialize)]
pub struct CloudStatus {
    /// Clips made here and uploaded, or listed from the cloud.
    pub clips: usize,
}

/// One drive.
#[derive(Debug, Clone, Serialize)]
pub struct DriveStatus {
    /// Local id.
    pub id: i64,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Recordings on the phone, of all the drive's recordings.
    pub recordings_on_phone: usize,
    /// All its recordings.
    pub recordings: usize,
    /// Clips cut from it.
    pub clips: usize,
    /// Incidents detected and clips cut.
    pub processed: bool,
}

/// Gathers the status of the agent's storage.
pub async fn status(residency: &Residency, queue: &Queue) -> Result<Status, AgentError> {
    let state = residency.state();
    let setting = state.setting(CAMERA_SETTING).await?;
    let wifi_camera = setting
        .clone()
        .filter(|c| crate::camera::wifi::is_address(c));
    let camera = match setting {
        Some(dir) if wifi_camera.is_none() => camera_status(residency, PathBuf::from(dir)).await?,
        _ => None,
    };
    let phone_dir = crate::phone::Phone::new(state.dir()).root().to_owned();
    let quota_bytes = match state.setting(QUOTA_SETTING).await? {
        Some(text) => text
            .parse::<Quota>()
            .ok()
            .and_then(|q| q.bytes(state.dir()).ok()),
        None => None,
    };
    let mut drives = Vec::new();
    let mut on_phone_drives = 0;
    let mut recordings_on_phone = 0;
    for drive in residency.drives().await? {
        let recordings = residency.recordings(drive.id).await?;
        let on_phone = recordings.iter().filter(|r| r.phone_path.is_some()).count();
        on_phone_drives += usize::from(on_phone > 0);
        recordings_on_phone += on_phone;
        drives.push(DriveStatus {
            id: drive.id,
            start: drive.start,
            end: drive.end,
            recordings_on_phone: on_phone,
            recordings: recordings.len(),
            clips: residency.clips(Some(drive.id)).await?.len(),
            processed: drive.processed,
        });
    }
    let clips = residency.clips(None).await?;
    let mut on_phone = 0;
    let mut not_in_cloud = 0;
    let mut uploaded = 0;
    for clip in &clips {
        let cloud = in_cloud(residency, &clip.sha256).await?;
        uploaded += usize::from(cloud);
        if clip.path.is_some() {
            on_phone += 1;
            not_in_cloud += usize::from(!cloud);
        }
    }
    let listed_elsewhere: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cloud_clips WHERE sha256 IS NULL \
         OR sha256 NOT IN (SELECT sha256 FROM clips)",
    )
    .fetch_one(state.pool())
    .await?;
    Ok(Status {
        model: state.setting(MODEL_SETTING).await?,
        camera,
        wifi_camera,
        phone: PhoneStatus {
            dir: phone_dir,
            quota_bytes,
            used_bytes: residency.phone_bytes().await?,
            drives: on_phone_drives,
            recordings: recordings_on_phone,
            clips: on_phone,
            clips_not_in_cloud: not_in_cloud,
        },
        cloud: CloudStatus {
            clips: uploaded + listed_elsewhere as usize,
        },
        queue: queue.summary().await?,
        drives,
    })
}

async fn camera_status(
    residency: &Residency,
    dir: PathBuf,
) -> Result<Option<CameraStatus>, AgentError> {
    let Ok(inventory) = camera::scan(&dir) else {
        return Ok(None);
    };
    let count = |view| {
        inventory
            .recordings
            .iter()
            .filter(|f| f.view == view)
            .count()
    };
    let mut not_imported = 0;
    for file in inventory.recordings.iter().filter(|f| f.view == View::Road) {
        not_imported += usize::from(!residency.is_imported(&file.path).await?);
    }
    Ok(Some(CameraStatus {
        road: count(View::Road),
        cabin: count(View::Cabin),
        other: count(View::Other),
        sidecars: inventory.sidecars.len(),
        not_imported,
        dir,
    }))
}
