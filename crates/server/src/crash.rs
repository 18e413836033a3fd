//! Named crash points on the way from received bytes to a filed upload, so that tests can
//! kill the real process after each step and check that a restart loses nothing.
//!
//! With the `crash-points` feature, `DASHVAULT_CRASH_AT=NAME` makes the process abort
//! (no unwinding, no destructors: as a power cut or SIGKILL would stop it) the first time
//! it reaches the point `NAME`; without the feature [`reached`] does nothing. Release
//! builds leave the feature off.

/// A step of ingest, after which a crash must leave either the old state or the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// A part or tail of the body is durable in the blob store, not yet counted.
    BytesWritten,
    /// The upload's new offset is recorded (an intermediate request).
    OffsetRecorded,
    /// The multipart upload is assembled into the file's object.
    ObjectAssembled,
    /// The file is hashed, validated and indexed; nothing is filed yet.
    Indexed,
    /// The recording, clip or sidecar row is committed.
    RowsCommitted,
    /// The thumbnail job is queued.
    ThumbnailQueued,
    /// The final offset and the outcome are recorded on the upload.
    UploadCompleted,
    /// Scratch blobs (tail, duplicate object) are deleted; the answer is next.
    PartsDeleted,
}

impl CrashPoint {
    /// Every point, in the order an upload passes them.
    pub const ALL: [CrashPoint; 8] = [
        Self::BytesWritten,
        Self::OffsetRecorded,
        Self::ObjectAssembled,
        Self::Indexed,
        Self::RowsCommitted,
        Self::ThumbnailQueued,
        Self::UploadCompleted,
        Self::PartsDeleted,
    ];

    /// The name `DASHVAULT_CRASH_AT` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::BytesWritten => "bytes_written",
            Self::OffsetRecorded => "offset_recorded",
            Self::ObjectAssembled => "object_assembled",
            Self::Indexed => "indexed",
            Self::RowsCommitted => "rows_committed",
            Self::ThumbnailQueued => "thumbnail_queued",
            Self::UploadCompleted => "upload_completed",
            Self::PartsDeleted => "parts_deleted",
        }
    }
}

/// The environment variable naming the point to crash at.
pub const CRASH_AT_VAR: &str = "DASHVAULT_CRASH_AT";

/// Mark that the process reached `point`: aborts it there when so configured.
#[inline]
pub fn reached(point: CrashPoint) {
    #[cfg(feature = "crash-points")]
    {
        static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let at = AT.get_or_init(|| std::env::var(CRASH_AT_VAR).ok());
        if at.as_deref() == Some(point.name()) {
            eprintln!("crash point {} reached: aborting", point.name());
            std::process::abort();
        }
    }
    #[cfg(not(feature = "crash-points"))]
    let _ = point;
}
