//! Records of ingest: uploads in progress, and what finished uploads became — drives,
//! recordings, clips and sidecars.

use crate::blob::PartReceipt;
use chrono::{DateTime, Utc};
use dashvault_domain::upload;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A resumable (tus) upload that has not finished yet. Its whole state is here, so that
/// any replica can continue it after another one (or a crash) stopped.
///
/// Invariant kept by the server: the bytes `0..offset` are exactly the stored parts (in
/// `parts` order) followed by the `tail` blob, and nothing else counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Upload id (the last segment of its URL).
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Device the file comes from.
    pub device_id: Uuid,
    /// Declared total length in bytes (`Upload-Length`).
    pub length: u64,
    /// Bytes received and durable (`Upload-Offset`).
    pub offset: u64,
    /// The raw `Upload-Metadata` header, as the client sent it (already validated).
    pub metadata: String,
    /// Blob key the finished file is stored under.
    pub blob_key: String,
    /// The blob store's multipart upload id, once one was started.
    pub multipart_id: Option<String>,
    /// Receipts of the stored parts, in order.
    pub parts: Vec<PartReceipt>,
    /// Blob holding the bytes after the last part (fewer than a part's minimum), if any.
    pub tail_key: Option<String>,
    /// Length of the tail blob (0 without one).
    pub tail_len: u64,
    /// A partial upload of the concatenation extension: never finalised on its own.
    pub partial: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When an unfinished upload is given up and cleaned away (a finished one's row, which
    /// tells what became of it, is kept until then too).
    pub expires_at: DateTime<Utc>,
    /// What the completed file was filed as, once it was.
    pub outcome: Option<UploadOutcome>,
    /// Why the completed file was refused, if it was (its bytes are gone).
    pub failure: Option<String>,
}

/// What a completed upload became: the stored file's SHA-256 and the item holding it
/// (another upload's, when the owner had stored the same file before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOutcome {
    /// Lower-case hex SHA-256 of the stored file.
    pub sha256: String,
    /// The recording, clip or sidecar the file is.
    pub item: StoredObject,
}

/// The progress part of an [`Upload`], written in one step by
/// [`UploadRepo::record_progress`](crate::repo::UploadRepo::record_progress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadProgress {
    /// New offset.
    pub offset: u64,
    /// Multipart upload id.
    pub multipart_id: Option<String>,
    /// All part receipts so far.
    pub parts: Vec<PartReceipt>,
    /// Tail blob key.
    pub tail_key: Option<String>,
    /// Tail blob length.
    pub tail_len: u64,
    /// What the upload became, recorded with its final offset.
    pub outcome: Option<UploadOutcome>,
}

impl Upload {
    /// The upload's progress fields.
    pub fn progress(&self) -> UploadProgress {
        UploadProgress {
            offset: self.offset,
            multipart_id: self.multipart_id.clone(),
            parts: self.parts.clone(),
            tail_key: self.tail_key.clone(),
            tail_len: self.tail_len,
            outcome: self.outcome.clone(),
        }
    }
}

/// Camera view of a recording or clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Front (road-facing) camera.
    Road,
    /// Interior camera.
    Cabin,
}

impl View {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Road => upload::view::ROAD,
            Self::Cabin => upload::view::CABIN,
        }
    }

    /// Parse the stored or wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Road, Self::Cabin]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// What a stored recording file is: one camera file of a drive, or a drive's time-lapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingKind {
    /// One consecutive camera file.
    Recording,
    /// A time-lapse rendition of (part of) a drive.
    Timelapse,
}

impl RecordingKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recording => "recording",
            Self::Timelapse => "timelapse",
        }
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "recording" => Some(Self::Recording),
            "timelapse" => Some(Self::Timelapse),
            _ => None,
        }
    }
}

/// How a clip came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipKind {
    /// Cut around a detected incident.
    Auto,
    /// Trimmed by the user.
    Manual,
}

impl ClipKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => upload::clip::AUTO,
            Self::Manual => upload::clip::MANUAL,
        }
    }

    /// Parse the stored or wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Auto, Self::Manual]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One incident marked on a clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Incident type, e.g. `hard_brake`, `collision`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Severity from 0 to 1.
    pub severity: f64,
}

/// A keyframe of a stored video: where playback or a cut can start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Keyframe {
    /// Presentation time in milliseconds from the file's start.
    pub ms: u64,
    /// Byte offset of the frame in the file.
    pub offset: u64,
}

/// What the telemetry embedded in (or beside) a file says, in short.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TelemetrySummary {
    /// Number of GPS fixes.
    pub gps_fixes: u64,
    /// Number of accelerometer samples.
    pub accel_samples: u64,
    /// Highest GPS speed, m/s.
    pub max_speed: Option<f64>,
    /// First fix, `[lat, lon]`.
    pub first_fix: Option<[f64; 2]>,
    /// Last fix, `[lat, lon]`.
    pub last_fix: Option<[f64; 2]>,
    /// Damaged parts the file was read past (a line of noise, a partial record), so that
    /// what a camera's messy file held is known, not only logged.
    #[serde(default)]
    pub skipped: u64,
}

/// The stored file behind a recording or clip, as the media crate indexed it.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFile {
    /// Blob key.
    pub blob_key: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: String,
    /// Start time of the first frame.
    pub start: DateTime<Utc>,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Video codec (`avc1`, `hvc1`, …).
    pub codec: String,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Keyframe index.
    pub keyframes: Vec<Keyframe>,
    /// Embedded telemetry, summarised.
    pub telemetry: TelemetrySummary,
    /// File name as the client gave it.
    pub filename: Option<String>,
    /// The clock its start was read from.
    pub clock: Clock,
    /// Wall-clock milliseconds the file covers when that is not its playing time (a
    /// time-lapse: its speed times its duration); `None` for real time.
    pub span_ms: Option<u64>,
    /// For a recording rebuilt at ingest from an upload that had no index (a camera's
    /// power cut): the length of the file as uploaded, whose bytes end the stored file
    /// unchanged (so the original is kept with the playable file). `None` otherwise.
    pub original_size: Option<u64>,
}

impl VideoFile {
    /// Wall-clock milliseconds the file covers (its duration, or its span when sped up).
    pub fn wall_ms(&self) -> u64 {
        self.span_ms.unwrap_or(self.duration_ms)
    }

    /// Wall-clock end of the file.
    pub fn end(&self) -> DateTime<Utc> {
        self.start
            + chrono::Duration::milliseconds(i64::try_from(self.wall_ms()).unwrap_or(i64::MAX))
    }

    /// Wall-clock seconds per second of playing time: 1 for real time, 30 for a 30x
    /// time-lapse.
    pub fn speed(&self) -> f64 {
        if self.duration_ms == 0 {
            1.0
        } else {
            self.wall_ms() as f64 / self.duration_ms as f64
        }
    }

    /// True for a recording rebuilt from an upload without an index.
    pub fn recovered(&self) -> bool {
        self.original_size.is_some()
    }
}

/// Which clock a file's start time was read from (a camera's file names and BlackVue's
/// `[ms]` prefixes are its local clock, of unknown zone; GPS time is UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// The camera's clock, corrected by the offset its GPS time gave for the drive.
    Gps,
    /// The camera's clock read as local time in the device's time zone.
    Device,
    /// The camera's clock taken as UTC (nothing said otherwise).
    #[default]
    Camera,
}

impl Clock {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gps => upload::clock::GPS,
            Self::Device => upload::clock::DEVICE,
            Self::Camera => upload::clock::CAMERA,
        }
    }

    /// Parse the stored or wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Gps, Self::Device, Self::Camera]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A recording file to add; the repository finds or creates its drive.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecording {
    /// New id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera.
    pub device_id: Uuid,
    /// Recording or time-lapse.
    pub kind: RecordingKind,
    /// Camera view.
    pub view: View,
    /// The stored file.
    pub file: VideoFile,
    /// Recordings of the device at most this far apart (milliseconds) belong to one drive.
    pub drive_gap_ms: u64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A stored recording file and the drive it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera.
    pub device_id: Uuid,
    /// Drive.
    pub drive_id: Uuid,
    /// Recording or time-lapse.
    pub kind: RecordingKind,
    /// Camera view.
    pub view: View,
    /// The stored file.
    pub file: VideoFile,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A journey: consecutive recordings of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drive {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera.
    pub device_id: Uuid,
    /// Start of its first recording.
    pub start: DateTime<Utc>,
    /// End of its last recording.
    pub end: DateTime<Utc>,
    /// Views recorded, sorted (`road`, `cabin`).
    pub views: Vec<View>,
    /// Its recordings were moved to cold (archive) storage.
    pub archived: bool,
    /// Until when an archived drive's restored copy stays playable, if one was restored.
    pub restored_until: Option<DateTime<Utc>>,
}

/// A clip to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewClip {
    /// New id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera.
    pub device_id: Uuid,
    /// Automatic or manual.
    pub kind: ClipKind,
    /// Camera view.
    pub view: View,
    /// Incidents in the clip.
    pub incidents: Vec<Incident>,
    /// The stored file; its start and duration are the clip's window.
    pub file: VideoFile,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A stored clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera.
    pub device_id: Uuid,
    /// The drive whose window covers the clip's start, if one is stored.
    pub drive_id: Option<Uuid>,
    /// Automatic or manual.
    pub kind: ClipKind,
    /// Camera view.
    pub view: View,
    /// Incidents in the clip.
    pub incidents: Vec<Incident>,
    /// The stored file.
    pub file: VideoFile,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A camera's telemetry file (BlackVue `.gps`, `.3gf`, …) kept unchanged as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Sidecar {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera.
    pub device_id: Uuid,
    /// The drive whose window covers its start, if one is stored (filled when read).
    pub drive_id: Option<Uuid>,
    /// Start time.
    pub start: DateTime<Utc>,
    /// Blob key.
    pub blob_key: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// What it holds, summarised.
    pub telemetry: TelemetrySummary,
    /// File name as the client gave it.
    pub filename: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// The thing an owner's file with a given SHA-256 already became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredObject {
    /// A recording (or time-lapse).
    Recording(Uuid),
    /// A clip.
    Clip(Uuid),
    /// A sidecar.
    Sidecar(Uuid),
}

impl StoredObject {
    /// The kind as stored and as the API names it: `recording`, `clip` or `sidecar`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Recording(_) => "recording",
            Self::Clip(_) => "clip",
            Self::Sidecar(_) => "sidecar",
        }
    }

    /// The item's id.
    pub fn id(&self) -> Uuid {
        match self {
            Self::Recording(id) | Self::Clip(id) | Self::Sidecar(id) => *id,
        }
    }

    /// The item of kind `kind` (as [`StoredObject::kind`] names it) with this id.
    pub fn from_kind(kind: &str, id: Uuid) -> Option<Self> {
        match kind {
            "recording" => Some(Self::Recording(id)),
            "clip" => Some(Self::Clip(id)),
            "sidecar" => Some(Self::Sidecar(id)),
            _ => None,
        }
    }
}
