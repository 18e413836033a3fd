//! The clip and drive items of the JSON API (field names fixed by the API contract),
//! built from the store's records. Every URL is a path on this server.

use chrono::{DateTime, Utc};
use dashvault_store::model::{Clip, Device, Drive, Incident, Recording};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Cursor of the next page (`cursor=`); `null` on the last.
    pub next_cursor: Option<String>,
}

/// An incident on a clip.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentItem {
    /// Type: `hard_brake`, `sudden_stop`, `hard_accel`, `sharp_turn`, `swerve`, `collision`,
    /// `camera_event` (a file the camera marked, nothing detected in it).
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClipItem {
    /// Id.
    pub id: Uuid,
    /// `auto` (cut around a detected incident) or `manual`.
    pub kind: String,
    /// `road` or `cabin`.
    pub view: String,
    /// Start of the clip.
    pub start: DateTime<Utc>,
    /// End of the clip.
    pub end: DateTime<Utc>,
    /// Length in seconds.
    pub duration: f64,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Incidents in it.
    pub incidents: Vec<IncidentItem>,
    /// Device id.
    pub device: Uuid,
    /// The device's name.
    pub device_name: String,
    /// The drive covering its start, when one is stored.
    pub drive: Option<Uuid>,
    /// JPEG thumbnail.
    pub thumbnail_url: String,
    /// The video (HTTP ranges).
    pub video_url: String,
    /// The video as a file to save.
    pub download_url: String,
    /// Kept in the cloud (always `true` here).
    pub cloud_saved: bool,
    /// File size in bytes.
    pub size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// File name the camera gave it, when known.
    pub filename: Option<String>,
    /// The clock its times were read from: `gps` (the camera's clock corrected by its
    /// GPS time), `device` (the camera's clock in the device's time zone) or `camera`
    /// (the camera's clock taken as UTC).
    pub clock: String,
}

impl ClipItem {
    /// The item of `clip`, whose device is called `device_name`.
    pub fn new(clip: Clip, device_name: String) -> Self {
        let end = clip.file.start + chrono::Duration::milliseconds(millis(clip.file.duration_ms));
        Self {
            thumbnail_url: format!("/api/v1/clips/{}/thumbnail", clip.id),
            video_url: format!("/api/v1/clips/{}/video", clip.id),
            download_url: format!("/api/v1/clips/{}/video?download=1", clip.id),
            id: clip.id,
            kind: clip.kind.as_str().to_owned(),
            view: clip.view.as_str().to_owned(),
            start: clip.file.start,
            end,
            duration: clip.file.duration_ms as f64 / 1000.0,
            duration_ms: clip.file.duration_ms,
            incidents: clip.incidents.into_iter().map(IncidentItem::from).collect(),
            device: clip.device_id,
            device_name,
            drive: clip.drive_id,
            cloud_saved: true,
            size: clip.file.size,
            sha256: clip.file.sha256,
            filename: clip.file.filename,
            clock: clip.file.clock.as_str().to_owned(),
        }
    }
}

/// A drive (a journey of one device) with its clips.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriveItem {
    /// Id.
    pub id: Uuid,
    /// Start of its first recording.
    pub start: DateTime<Utc>,
    /// End of its last recording.
    pub end: DateTime<Utc>,
    /// Views recorded: `road`, `cabin`.
    pub views: Vec<String>,
    /// Device id.
    pub device: Uuid,
    /// The device's name.
    pub device_name: String,
    /// JPEG thumbnail.
    pub thumbnail_url: String,
    /// The whole drive's video, road view (HTTP ranges).
    pub video_url: String,
    /// Its two-minute download segments.
    pub segments_url: String,
    /// Its recordings were moved to archive storage.
    pub archived: bool,
    /// Until when a restored copy of an archived drive stays playable.
    pub restored_until: Option<DateTime<Utc>>,
    /// The clips it covers, oldest first.
    pub clips: Vec<ClipItem>,
    /// What happened on it, oldest first: the incidents of its clips, kept when a clip
    /// is deleted.
    pub incidents: Vec<IncidentItem>,
}

impl DriveItem {
    /// The item of `drive`, whose device is called `device_name`, with `clips` and the
    /// `incidents` in its window.
    pub fn new(
        drive: Drive,
        device_name: String,
        clips: Vec<ClipItem>,
        incidents: Vec<Incident>,
    ) -> Self {
        Self {
            thumbnail_url: format!("/api/v1/drives/{}/thumbnail", drive.id),
            video_url: format!("/api/v1/drives/{}/video", drive.id),
            segments_url: format!("/api/v1/drives/{}/segments", drive.id),
            id: drive.id,
            start: drive.start,
            end: drive.end,
            views: drive.views.iter().map(|v| v.as_str().to_owned()).collect(),
            device: drive.device_id,
            device_name,
            archived: drive.archived,
            restored_until: drive.restored_until,
            clips,
            incidents: incidents.into_iter().map(IncidentItem::from).collect(),
        }
    }
}

/// One stored file of a drive, as recorded on the wall clock: a drive's timeline holds
/// what its files cover, and the time between them is a gap (nothing recorded).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordingItem {
    /// Id.
    pub id: Uuid,
    /// `recording` (a camera file) or `timelapse`.
    pub kind: String,
    /// `road` or `cabin`.
    pub view: String,
    /// Wall-clock start.
    pub start: DateTime<Utc>,
    /// Wall-clock end (a time-lapse's: its start plus its duration times its speed).
    pub end: DateTime<Utc>,
    /// Playing time in milliseconds.
    pub duration_ms: u64,
    /// Wall-clock seconds per second played: 1, or a time-lapse's speed.
    pub speed: f64,
    /// The clock its start was read from: `gps`, `device` or `camera`.
    pub clock: String,
    /// Rebuilt at ingest from a file the camera's power cut left without an index (the
    /// file as uploaded is its upload's `/original`).
    pub recovered: bool,
    /// File name the camera gave it, when known.
    pub filename: Option<String>,
}

impl From<Recording> for RecordingItem {
    fn from(r: Recording) -> Self {
        Self {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            view: r.view.as_str().to_owned(),
            start: r.file.start,
            end: r.file.end(),
            duration_ms: r.file.duration_ms,
            speed: r.file.speed(),
            clock: r.file.clock.as_str().to_owned(),
            recovered: r.file.recovered(),
            filename: r.file.filename,
        }
    }
}

/// Device names by id, to label items.
#[derive(Debug, Default)]
pub struct DeviceNames(HashMap<Uuid, String>);

impl DeviceNames {
    /// The names of `devices`.
    pub fn new(devices: Vec<Device>) -> Self {
        Self(devices.into_iter().map(|d| (d.id, d.name)).collect())
    }

    /// The name of device `id` (empty for a device removed since).
    pub fn name(&self, id: Uuid) -> String {
        self.0.get(&id).cloned().unwrap_or_default()
    }
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}
