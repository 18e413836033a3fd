//! `manifest.json` of an evidence bundle: what the bundle holds and where its video came
//! from. Written by the server, signed as exact bytes, read back by `dashvault verify`;
//! the types are shared so both sides agree on every field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The value of [`Manifest::format`]: changes when the layout does.
pub const FORMAT: &str = "dashvault-evidence/1";
/// Path of the clip's video in the bundle.
pub const VIDEO: &str = "video.mp4";
/// Path of the manifest.
pub const MANIFEST: &str = "manifest.json";
/// Path of the manifest's signature (64 raw bytes, Ed25519).
pub const SIGNATURE: &str = "manifest.sig";
/// Path of the route (GPX 1.1), present when the clip has GPS.
pub const ROUTE: &str = "route.gpx";
/// Path of the G-force series (CSV).
pub const GFORCE: &str = "gforce.csv";
/// Folder of the camera's files.
pub const ORIGINALS: &str = "originals/";

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The clip.
    pub clip: ClipFacts,
    /// The camera that recorded it.
    pub device: DeviceFacts,
    /// The time the clip covers.
    pub window: Window,
    /// Every file of the bundle but the manifest and its signature.
    pub files: Vec<BundleFile>,
    /// The files the video was cut from and the camera's files around it.
    pub originals: Vec<Original>,
    /// The server that made the bundle.
    pub server: ServerFacts,
    /// When the bundle was made.
    pub created_at: DateTime<Utc>,
}

/// What the clip is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipFacts {
    /// Id.
    pub id: Uuid,
    /// `auto` or `manual`.
    pub kind: String,
    /// `road` or `cabin`.
    pub view: String,
    /// Incidents marked on it.
    pub incidents: Vec<IncidentFacts>,
}

/// One incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentFacts {
    /// Type, e.g. `hard_brake`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Severity, 0 to 1.
    pub severity: f64,
}

/// The camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFacts {
    /// Id.
    pub id: Uuid,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: String,
}

/// The clip's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// First frame (UTC).
    pub start: DateTime<Utc>,
    /// End (UTC).
    pub end: DateTime<Utc>,
    /// Where the times come from: `gps` (the camera's clock corrected by its GPS
    /// time), `device` (the camera's clock in the owner's time zone) or `camera` (the
    /// camera's clock taken as UTC).
    pub clock: String,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    /// Path in the ZIP.
    pub path: String,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// A camera file behind the clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Original {
    /// `source` (the file the video was cut from, with the ranges it took), `recording`
    /// (a camera recording of the drive covering the window, with the ranges where the
    /// video's frames are its bytes when the clip was cut from it) or `sidecar` (a
    /// camera's telemetry file covering it).
    pub role: String,
    /// The stored item: `clip`, `recording`, `timelapse` or `sidecar`, and its id.
    pub kind: String,
    /// Its id.
    pub id: Uuid,
    /// Its name as the camera wrote it, if known.
    pub filename: Option<String>,
    /// Lower-case hex SHA-256, computed when it was uploaded.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// Path in the ZIP, when included.
    pub path: Option<String>,
    /// Why it is not included, when it is not.
    pub not_included: Option<String>,
    /// The byte ranges of the video that are this file's bytes, in video order.
    pub ranges: Vec<Range>,
}

/// Bytes of the video copied from an original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Offset in `video.mp4`.
    pub video_offset: u64,
    /// Offset in the original.
    pub offset: u64,
    /// Bytes.
    pub length: u64,
}

/// The server that made a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFacts {
    /// `dashvault`.
    pub name: String,
    /// Its version.
    pub version: String,
}
