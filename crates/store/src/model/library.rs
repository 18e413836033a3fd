//! Records of the library: what a listing asks for (filters, keyset cursor), and what a
//! deletion leaves behind (tombstones).

use super::View;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The incident kinds a clip can be marked with: the shared kinds. Each has one bit in a
/// clip's stored `incident_mask` ([`IncidentKind::bit`]), so listings filter by type
/// without reading the incidents' JSON; [`IncidentKind::ALL`] lists them in
/// bit order.
pub use dashvault_domain::IncidentKind;

/// Where a page of a newest-first listing continues: strictly older than this start,
/// or as old and with a smaller id (ids break ties, so no item is skipped or repeated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Start of the last item of the previous page.
    pub start: DateTime<Utc>,
    /// Id of the last item of the previous page.
    pub id: Uuid,
}

/// What a listing of clips or drives keeps. Every field narrows; the default keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibraryFilter {
    /// Items ending at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Items starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Items starting at or after this time of day (milliseconds since midnight UTC).
    pub time_from_ms: Option<u32>,
    /// Items starting before this time of day (milliseconds since midnight UTC); with
    /// `time_from_ms` later than it, the window wraps past midnight.
    pub time_to_ms: Option<u32>,
    /// Clips with at least one of these incident types; drives with such a clip.
    pub types: Vec<IncidentKind>,
    /// Clips of this view; drives that recorded it.
    pub view: Option<View>,
    /// Items of this device.
    pub device: Option<Uuid>,
    /// Drives archived (`true`) or not (`false`). Clips are never archived: `true`
    /// lists no clip.
    pub archived: Option<bool>,
}

/// A page request: a filter, where to continue, and how many items at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// What to keep.
    pub filter: LibraryFilter,
    /// Continue after this item; `None` for the first page.
    pub after: Option<Cursor>,
    /// Items at most.
    pub limit: u32,
}

/// What a tombstone records the deletion of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TombstoneKind {
    /// A clip.
    Clip,
    /// A drive (with its recordings, time-lapses and sidecars).
    Drive,
    /// A single recording file.
    Recording,
}

impl TombstoneKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clip => "clip",
            Self::Drive => "drive",
            Self::Recording => "recording",
        }
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "clip" => Some(Self::Clip),
            "drive" => Some(Self::Drive),
            "recording" => Some(Self::Recording),
            _ => None,
        }
    }
}

/// The record that something was deleted, kept so agents can delete their copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// Position in the owner's deletion log (increasing).
    pub seq: i64,
    /// Owner.
    pub user_id: Uuid,
    /// What was deleted.
    pub kind: TombstoneKind,
    /// Its id.
    pub id: Uuid,
    /// SHA-256 (hex) of every file that went with it.
    pub sha256: Vec<String>,
    /// When.
    pub deleted_at: DateTime<Utc>,
}

/// The outcome of deleting a clip or drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Deleted now; the blob keys are queued for removal by the `delete_blobs` job.
    Deleted {
        /// The tombstone written.
        tombstone: Tombstone,
        /// Blob keys whose removal was queued.
        blob_keys: Vec<String>,
    },
    /// Deleted before by this owner (its tombstone).
    AlreadyDeleted(Tombstone),
    /// The owner has no such item and never had.
    NotFound,
}

/// The kind of the job that removes deleted items' blobs.
pub const DELETE_BLOBS_JOB: &str = "delete_blobs";

/// Payload of a [`DELETE_BLOBS_JOB`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteBlobs {
    /// Blob keys to remove unless a stored row still refers to them.
    pub keys: Vec<String>,
    /// SHA-256 (hex) of the deleted files: what is derived from them (thumbnails) goes
    /// too, unless a stored file with the same content remains.
    #[serde(default)]
    pub sha256: Vec<String>,
}

/// An incident on a device's timeline, kept when the clip it was filed with is deleted:
/// what a ride shows on its timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceIncident {
    /// The device whose recordings it happened in.
    pub device_id: Uuid,
    /// The incident.
    pub incident: super::Incident,
}
