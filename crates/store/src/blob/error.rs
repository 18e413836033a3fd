//! What can go wrong in a blob store, with the classifiers callers branch on.

use std::io;
use std::path::PathBuf;

/// Result of a blob store operation.
pub type Result<T, E = BlobError> = std::result::Result<T, E>;

/// An error from a [`BlobStore`](super::BlobStore) engine or from parsing its URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The key does not follow the key rules (see [`BlobKey`](super::BlobKey)).
    #[error("blob key {key:?} is invalid: {reason}")]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The `--blob-url` could not be understood.
    #[error("blob store URL {url:?} is invalid: {reason}")]
    InvalidUrl {
        /// The rejected URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No blob is stored under this key.
    #[error("blob {key} not found")]
    NotFound {
        /// The missing key.
        key: String,
    },
    /// The requested byte range does not lie within the blob.
    #[error("range {start}..{end} is not within blob {key} of {len} bytes")]
    RangeNotSatisfiable {
        /// The blob read.
        key: String,
        /// First byte asked for.
        start: u64,
        /// One past the last byte asked for.
        end: u64,
        /// The blob's length.
        len: u64,
    },
    /// The multipart upload is unknown for this key: never created, completed or aborted.
    #[error("multipart upload {upload_id} of blob {key} not found")]
    NoSuchUpload {
        /// The key the upload was for.
        key: String,
        /// The upload's id.
        upload_id: String,
    },
    /// The parts given to complete a multipart upload do not make a valid object.
    #[error("multipart upload {upload_id} cannot be completed: {reason}")]
    InvalidParts {
        /// The upload's id.
        upload_id: String,
        /// Which part is wrong and how.
        reason: String,
    },
    /// A part is larger than [`MAX_PART_SIZE`](super::MAX_PART_SIZE) or its index is out of range.
    #[error("part {part_index} of multipart upload {upload_id} is out of bounds: {reason}")]
    PartOutOfBounds {
        /// The upload's id.
        upload_id: String,
        /// The part's index.
        part_index: u32,
        /// What bound it breaks.
        reason: String,
    },
    /// The body stream handed to a put failed; nothing was stored.
    #[error("reading the body to store failed")]
    Body(#[source] io::Error),
    /// A filesystem call of the filesystem engine failed.
    #[error("filesystem {op} on {path} failed")]
    Fs {
        /// The call that failed (`open`, `rename`, …).
        op: &'static str,
        /// The path it was made on.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A request to the S3-compatible store failed.
    #[error("S3 request failed")]
    S3(#[source] object_store::Error),
}

impl BlobError {
    /// Whether the error says that the blob (or the multipart upload) does not exist, so a
    /// caller can answer 404 or treat a delete as done.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::NoSuchUpload { .. })
    }

    /// Whether the error comes from a bad request rather than from the store: invalid key,
    /// range or parts. Such a request will fail again if retried unchanged.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Self::InvalidKey { .. }
                | Self::RangeNotSatisfiable { .. }
                | Self::InvalidParts { .. }
                | Self::PartOutOfBounds { .. }
        )
    }

    /// Whether the store's volume (or the quota of its account) is full: no write can
    /// succeed until room is made.
    pub fn is_storage_full(&self) -> bool {
        let io = match self {
            Self::Fs { source, .. } | Self::Body(source) => source,
            _ => return false,
        };
        matches!(
            io.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
        )
    }

    /// Whether the error says the store did not answer or failed on its side (a network
    /// error, an S3 server error): worth a retry later, unlike a bad request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::S3(_))
    }

    /// Wrap a filesystem error with the call and path it came from.
    pub(crate) fn fs(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Fs { op, path, source }
    }
}
