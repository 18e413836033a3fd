//! Ingest traits: uploads in progress ([`UploadRepo`]) and what they become
//! ([`MediaRepo`]: drives, recordings, clips, sidecars). Every read takes the owner id.

pub use super::upload_lock::UploadLock;
use crate::model::{
    Clip, Drive, NewClip, NewRecording, Recording, Sidecar, StoredObject, Upload, UploadProgress,
    View,
};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Resumable uploads in progress.
#[async_trait]
pub trait UploadRepo: Send + Sync {
    /// Store a new upload.
    async fn create_upload(&self, upload: &Upload) -> Result<()>;
    /// One of the user's uploads.
    async fn upload(&self, user_id: Uuid, id: Uuid) -> Result<Option<Upload>>;
    /// Replace the upload's progress if its offset is still `expected_offset` (so two
    /// writers can not both advance it); `false` when it moved or the upload is gone.
    async fn record_progress(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_offset: u64,
        progress: &UploadProgress,
    ) -> Result<bool>;
    /// Forget one of the user's uploads; `false` if there was none.
    async fn delete_upload(&self, user_id: Uuid, id: Uuid) -> Result<bool>;
    /// Up to `limit` uploads (of any user) that expired before `now`, for cleanup.
    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Upload>>;
    /// Record why the user's completed upload was refused (its bytes are gone); it stays
    /// listed with that reason until it expires.
    async fn fail_upload(&self, user_id: Uuid, id: Uuid, reason: &str) -> Result<()>;
    /// An upload of any owner (for sweeps of what no upload owns).
    async fn upload_by_id(&self, id: Uuid) -> Result<Option<Upload>>;
    /// Whether an upload's row names this blob store multipart upload id.
    async fn multipart_in_use(&self, multipart_id: &str) -> Result<bool>;
    /// Bytes of every stored recording, clip and sidecar, of all owners.
    async fn stored_bytes(&self) -> Result<u64>;
    /// The right to write upload `id`, exclusive among every process on this database,
    /// until the lock is dropped; `None` while another holder has it. A process that dies
    /// loses its locks at once (so a resumed upload is not kept waiting).
    async fn lock_upload(&self, id: Uuid) -> Result<Option<UploadLock>>;
    /// Declared bytes of the user's unfinished (or partial) uploads plus bytes of their stored
    /// recordings, clips and sidecars: what counts against a quota.
    async fn used_bytes(&self, user_id: Uuid) -> Result<u64>;
}

/// Drives, recordings, clips and sidecars.
#[async_trait]
pub trait MediaRepo: Send + Sync {
    /// What the user's file with this SHA-256 (lower-case hex) already is, if stored.
    async fn object_by_sha256(&self, user_id: Uuid, sha256: &str) -> Result<Option<StoredObject>>;
    /// Add a recording, in one transaction extending the device's drive it continues
    /// (one that ends at most `drive_gap_ms` before it starts or starts at most that long
    /// after it ends) or creating a new drive. A file already stored for this owner (same
    /// SHA-256) is not added twice: the stored recording is returned.
    async fn add_recording(&self, recording: &NewRecording) -> Result<Recording>;
    /// Add a clip (attached to the drive covering its start, if any); an already stored
    /// file (same owner and SHA-256) gives the stored clip.
    async fn add_clip(&self, clip: &NewClip) -> Result<Clip>;
    /// Add a sidecar; an already stored file (same owner and SHA-256) gives the stored one.
    async fn add_sidecar(&self, sidecar: &Sidecar) -> Result<Sidecar>;
    /// One of the user's recordings.
    async fn recording(&self, user_id: Uuid, id: Uuid) -> Result<Option<Recording>>;
    /// One of the user's clips.
    async fn clip(&self, user_id: Uuid, id: Uuid) -> Result<Option<Clip>>;
    /// One of the user's sidecars, with the drive covering its start.
    async fn sidecar(&self, user_id: Uuid, id: Uuid) -> Result<Option<Sidecar>>;
    /// The user's drives, newest start first, at most `limit`.
    async fn drives(&self, user_id: Uuid, limit: u32) -> Result<Vec<Drive>>;
    /// The user's clips, newest start first, at most `limit`.
    async fn clips(&self, user_id: Uuid, limit: u32) -> Result<Vec<Clip>>;
    /// The recordings of one of the user's drives, in time order.
    async fn drive_recordings(&self, user_id: Uuid, drive_id: Uuid) -> Result<Vec<Recording>>;
    /// The user's recording (not time-lapse, not itself rebuilt) of `device_id` and `view`
    /// that started nearest to `at`: the sibling whose codec configuration rebuilds the
    /// index of a recording the camera's power cut left without one.
    async fn nearest_recording(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        view: View,
        at: DateTime<Utc>,
    ) -> Result<Option<Recording>>;
}
