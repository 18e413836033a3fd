//! Blob storage: whole objects streamed in, byte ranges streamed out, behind [`BlobStore`],
//! with two engines: the local filesystem ([`fs::FsBlobStore`], the default) and any
//! S3-compatible store ([`s3::S3BlobStore`]).
//!
//! Every write is durable before it returns `Ok`, and a write that fails or is cancelled
//! leaves nothing visible. Uploads that outlive a process use the multipart API: its whole
//! state is an [`UploadId`] and the [`PartReceipt`]s, which the caller keeps in its
//! database, so that any process that opens the same URL can add parts, complete or abort.
//! Bodies are streams of [`Bytes`]: no engine holds a whole object in memory (the S3 engine
//! holds at most a part at a time).
//!
//! ```no_run
//! # async fn demo() -> dashvault_store::blob::Result<()> {
//! use dashvault_store::blob::{open_blob_store, BlobKey};
//! use futures_util::{stream, StreamExt};
//!
//! let store = open_blob_store("file:///var/lib/dashvault/blobs").await?;
//! let key = BlobKey::new("clips/1/incident.mp4")?;
//! let body = stream::iter([Ok(bytes::Bytes::from_static(b"...."))]).boxed();
//! let len = store.put(&key, body).await?; // durable once it returns
//! let head = store.get_range(&key, 0..len.min(4)).await?; // a stream of `Bytes`
//! # drop(head); Ok(()) }
//! ```

mod error;
pub mod fs;
mod key;
mod location;
pub mod s3;
#[cfg(feature = "testkit")]
pub mod testkit;

use std::fmt;
use std::io;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

pub use error::{BlobError, Result};
pub use key::{BlobKey, UploadId, MAX_KEY_LEN};
pub use location::BlobLocation;

/// A body flowing into or out of a store: chunks of bytes, or the I/O error that cut it.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// Smallest size of every multipart part but the last (the S3 rule, enforced by both engines
/// so that code tested on files works on S3).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// Largest part accepted: the S3 engine holds one part in memory while it sends it.
pub const MAX_PART_SIZE: u64 = 64 * 1024 * 1024;

/// Number of parts an upload may have (the S3 limit): part indexes are `0..MAX_PARTS`.
pub const MAX_PARTS: u32 = 10_000;

/// What a store knows about one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    /// The blob's key.
    pub key: BlobKey,
    /// Its length in bytes.
    pub len: u64,
}

/// Proof that a part of a multipart upload is durably stored; keep it (it is serde) and
/// hand all of them to [`BlobStore::complete_multipart`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReceipt {
    /// The part's index, from 0; the object is the parts in index order.
    pub part_index: u32,
    /// The engine's tag for the stored part (the S3 ETag).
    pub etag: String,
    /// The part's length in bytes.
    pub size: u64,
}

/// A place to keep blobs. Held as `Arc<dyn BlobStore>`; see the module docs for the
/// durability and streaming rules every engine follows.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Check that the store answers and its bucket or root is usable (readiness probe).
    async fn ping(&self) -> Result<()>;

    /// Store `body` under `key`, replacing any blob there. Returns the length stored, once
    /// it is durable. On error (including a failing `body`) or cancellation nothing new is
    /// visible under `key`.
    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64>;

    /// Stream bytes `range` of the blob: exactly `range.end - range.start` bytes. A range
    /// not within the blob is [`BlobError::RangeNotSatisfiable`].
    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<ByteStream>;

    /// The blob's metadata, or [`BlobError::NotFound`].
    async fn head(&self, key: &BlobKey) -> Result<BlobMeta>;

    /// Whether a blob is stored under `key`.
    async fn exists(&self, key: &BlobKey) -> Result<bool> {
        match self.head(key).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Remove the blob; removing a missing blob succeeds.
    async fn delete(&self, key: &BlobKey) -> Result<()>;

    /// Every blob whose key lies below `prefix` (`a/b` lists `a/b/…`, not `a/bc`), or every
    /// blob when `None`, in no particular order; for sweeps of orphaned blobs.
    fn list(&self, prefix: Option<&BlobKey>) -> BoxStream<'static, Result<BlobMeta>>;

    /// Start a multipart upload to `key`; nothing is visible under `key` until it completes.
    async fn create_multipart(&self, key: &BlobKey) -> Result<UploadId>;

    /// Store part `part_index` of the upload from `body` (at most [`MAX_PART_SIZE`] bytes).
    /// The receipt is returned once the part is durable. Storing an index again replaces
    /// that part (the newest receipt wins). Store parts in index order: the filesystem
    /// engine writes them into one file, refuses a part whose predecessor is missing, and
    /// forgets the parts after an index stored again.
    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        part_index: u32,
        body: ByteStream,
    ) -> Result<PartReceipt>;

    /// Assemble the parts (indexes `0..n` in order, each but the last at least
    /// [`MIN_PART_SIZE`]) into the blob under `key`, durably, and end the upload.
    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        parts: &[PartReceipt],
    ) -> Result<BlobMeta>;

    /// Drop the upload and its parts; aborting an unknown upload succeeds.
    async fn abort_multipart(&self, key: &BlobKey, upload: &UploadId) -> Result<()>;

    /// The multipart uploads in progress, for sweeps of those no caller refers to any
    /// more. An engine that can not list them lists none (S3 through `object_store`: a
    /// bucket lifecycle rule that aborts incomplete multipart uploads is the backstop).
    fn list_multipart(&self) -> BoxStream<'static, Result<MultipartMeta>> {
        futures_util::stream::empty().boxed()
    }

    /// Free and total bytes of the volume the blobs are written to, where the engine can
    /// tell (a filesystem); `None` for a store without a volume of its own (S3).
    async fn free_space(&self) -> Result<Option<Space>> {
        Ok(None)
    }

    /// The bytes the engine's own scratch space holds for writers that are gone (a
    /// crashed process's temporary files), removed when `remove`.
    async fn sweep_temporary(&self, _remove: bool) -> Result<u64> {
        Ok(0)
    }
}

/// The room on a blob store's volume, as [`BlobStore::free_space`] tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    /// Bytes a writer may still use.
    pub available: u64,
    /// Size of the volume.
    pub total: u64,
}

/// A multipart upload in progress, as [`BlobStore::list_multipart`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartMeta {
    /// The key it is for.
    pub key: BlobKey,
    /// Its id.
    pub upload: UploadId,
    /// When it was started (or last changed).
    pub started: std::time::SystemTime,
}

/// Open the store named by a blob URL: `file:///abs/path`, `file://relative/path` (relative
/// to the current directory; created if missing), or
/// `s3://bucket?endpoint=http://127.0.0.1:9000&region=us-east-1` with credentials from
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and the other standard `AWS_*` variables).
pub async fn open_blob_store(url: &str) -> Result<Arc<dyn BlobStore>> {
    Ok(match BlobLocation::parse(url)? {
        BlobLocation::Fs { root } => Arc::new(fs::FsBlobStore::open(root).await?),
        BlobLocation::S3 {
            bucket,
            endpoint,
            region,
        } => Arc::new(s3::S3BlobStore::open(
            &bucket,
            endpoint.as_deref(),
            region.as_deref(),
        )?),
    })
}

/// Copy one blob from a store to another (for example from the filesystem to S3), streamed
/// through the [`BlobStore`] trait only. Returns the length copied.
pub async fn copy(from: &dyn BlobStore, to: &dyn BlobStore, key: &BlobKey) -> Result<u64> {
    let meta = from.head(key).await?;
    let body = from.get_range(key, 0..meta.len).await?;
    to.put(key, body).await
}

/// Check the receipts handed to `complete_multipart`: indexes `0..n` in order, sizes within
/// the part bounds. Returns the object's total length.
fn check_parts(upload: &UploadId, parts: &[PartReceipt]) -> Result<u64> {
    let invalid = |reason: String| BlobError::InvalidParts {
        upload_id: upload.to_string(),
        reason,
    };
    if parts.is_empty() {
        return Err(invalid("no parts".to_owned()));
    }
    let mut total = 0u64;
    for (position, part) in parts.iter().enumerate() {
        if usize::try_from(part.part_index).ok() != Some(position) {
            return Err(invalid(format!(
                "part {} is at position {position}; parts must be numbered 0, 1, 2, … in order",
                part.part_index
            )));
        }
        let last = position + 1 == parts.len();
        if part.size > MAX_PART_SIZE || (!last && part.size < MIN_PART_SIZE) {
            return Err(invalid(format!(
                "part {} has {} bytes; every part but the last needs {MIN_PART_SIZE}..={MAX_PART_SIZE}",
                part.part_index, part.size
            )));
        }
        total += part.size;
    }
    Ok(total)
}

/// Reject a part index outside `0..MAX_PARTS` before any byte is read.
fn check_part_index(upload: &UploadId, part_index: u32) -> Result<()> {
    if part_index < MAX_PARTS {
        Ok(())
    } else {
        Err(BlobError::PartOutOfBounds {
            upload_id: upload.to_string(),
            part_index,
            reason: format!("indexes go from 0 to {}", MAX_PARTS - 1),
        })
    }
}

/// The error for a part body that grew past [`MAX_PART_SIZE`].
fn part_too_large(upload: &UploadId, part_index: u32) -> BlobError {
    BlobError::PartOutOfBounds {
        upload_id: upload.to_string(),
        part_index,
        reason: format!("larger than {MAX_PART_SIZE} bytes"),
    }
}

/// Check that `range` lies within a blob of `len` bytes.
fn check_range(key: &BlobKey, range: &Range<u64>, len: u64) -> Result<()> {
    if range.start <= range.end && range.end <= len {
        Ok(())
    } else {
        Err(BlobError::RangeNotSatisfiable {
            key: key.to_string(),
            start: range.start,
            end: range.end,
            len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(part_index: u32, size: u64) -> PartReceipt {
        PartReceipt {
            part_index,
            etag: String::new(),
            size,
        }
    }

    #[test]
    fn parts_must_be_in_order_and_big_enough() {
        let id = UploadId::new("u");
        assert_eq!(
            check_parts(&id, &[part(0, MIN_PART_SIZE), part(1, 1)]).ok(),
            Some(MIN_PART_SIZE + 1)
        );
        assert_eq!(check_parts(&id, &[part(0, 0)]).ok(), Some(0));
        for bad in [
            vec![],
            vec![part(1, 1)],
            vec![part(0, MIN_PART_SIZE), part(2, 1)],
            vec![part(0, MIN_PART_SIZE - 1), part(1, 1)],
            vec![part(0, MAX_PART_SIZE + 1)],
        ] {
            assert!(check_parts(&id, &bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ranges_must_lie_within_the_blob() {
        let key = BlobKey::new("k").unwrap_or_else(|e| panic!("{e}"));
        assert!(check_range(&key, &(0..0), 0).is_ok());
        assert!(check_range(&key, &(10..10), 10).is_ok());
        assert!(check_range(&key, &(9..10), 10).is_ok());
        assert!(check_range(&key, &(9..11), 10).is_err());
        assert!(check_range(&key, &(11..11), 10).is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 5..4;
        assert!(check_range(&key, &reversed, 10).is_err());
    }
}
