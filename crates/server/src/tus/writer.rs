//! Appending a body to an upload: cut into multipart parts (each at least the blob
//! store's minimum) and one small tail blob, each durable before the offset that counts
//! it is recorded.
//!
//! The rule that keeps the recorded offset true after a crash at any point: bytes are
//! first stored under names nothing refers to yet (a new part index, a new tail key), and
//! only then does one compare-and-set on the upload's row make them count. A part stored
//! but not recorded is overwritten by the next attempt at that index; a tail blob stored
//! but not recorded is swept with the upload.

use super::body::Body;
use super::headers::Checksum;
use super::TusError;
use crate::crash::{self, CrashPoint};
use crate::state::AppState;
use dashvault_store::blob::{BlobKey, ByteStream, UploadId, MIN_PART_SIZE};
use dashvault_store::model::{Upload, UploadProgress};
use futures_util::StreamExt;

/// Size of the parts a body is cut into (the last part of a body may be up to
/// `PART_SIZE + MIN_PART_SIZE`, within the store's maximum).
pub const PART_SIZE: u64 = 8 * 1024 * 1024;

/// How `available` bytes (the old tail and the new body) are stored: as parts of these
/// sizes, then a tail of `tail` bytes.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    parts: Vec<u64>,
    tail: u64,
}

fn plan(available: u64, completes: bool) -> Plan {
    if available == 0 || (!completes && available < MIN_PART_SIZE) {
        return Plan {
            parts: Vec::new(),
            tail: available,
        };
    }
    let full = available / PART_SIZE;
    let rest = available % PART_SIZE;
    let mut parts = vec![PART_SIZE; usize::try_from(full).unwrap_or(0)];
    match parts.last_mut() {
        // Too small to be a part of its own (unless it is the upload's last): the last
        // full part takes it.
        Some(last) if rest > 0 && rest < MIN_PART_SIZE && !completes => *last += rest,
        _ if rest > 0 => parts.push(rest),
        _ => {}
    }
    Plan { parts, tail: 0 }
}

/// The key of a tail blob holding bytes `start..start + len` of upload `id`.
pub fn tail_key(upload: &Upload, start: u64, len: u64) -> Result<BlobKey, TusError> {
    BlobKey::new(format!("{}/tail-{start}-{len}", scratch_prefix(upload)))
        .map_err(TusError::internal)
}

/// The key prefix of an upload's scratch blobs (tails, a partial upload's whole).
pub fn scratch_prefix(upload: &Upload) -> String {
    format!("uploads/{}", upload.id.simple())
}

/// A stored key of the upload's row, checked.
pub fn key(text: &str) -> Result<BlobKey, TusError> {
    BlobKey::new(text).map_err(TusError::internal)
}

/// Make `progress` the upload's state, if the upload still has the offset it had when
/// read (otherwise another writer moved it: `409`).
pub async fn commit(
    state: &AppState,
    upload: &mut Upload,
    progress: UploadProgress,
) -> Result<(), TusError> {
    let moved = !state
        .repo
        .record_progress(upload.user_id, upload.id, upload.offset, &progress)
        .await?;
    if moved {
        let stored = state
            .repo
            .upload(upload.user_id, upload.id)
            .await?
            .map_or(0, |u| u.offset);
        return Err(TusError::OffsetMismatch {
            sent: upload.offset,
            stored,
        });
    }
    upload.offset = progress.offset;
    upload.multipart_id = progress.multipart_id;
    upload.parts = progress.parts;
    upload.tail_key = progress.tail_key;
    upload.tail_len = progress.tail_len;
    Ok(())
}

/// Append the next `len` bytes of `body` to `upload`.
///
/// Without a checksum, each part is recorded as soon as it is stored, so an interrupted
/// body keeps what arrived in whole parts. With one, nothing is recorded until the body's
/// digest matched (`460` otherwise, nothing appended). The bytes that complete the upload
/// are never recorded here: the returned progress is recorded by the caller once the file
/// is filed, so that a crash before then leaves the upload resumable.
pub async fn append(
    state: &AppState,
    upload: &mut Upload,
    body: &Body,
    len: u64,
    checksum: Option<&Checksum>,
) -> Result<UploadProgress, TusError> {
    let mut started = None;
    let result = append_parts(state, upload, body, len, checksum, &mut started).await;
    // A multipart upload started here that no recorded progress refers to would be
    // orphaned: abort it.
    if let (Err(_), Some(id)) = (&result, &started) {
        if upload.multipart_id.as_ref() != Some(id) {
            super::stored::abort_multipart(state, &key(&upload.blob_key)?, id).await;
        }
    }
    result
}

async fn append_parts(
    state: &AppState,
    upload: &mut Upload,
    body: &Body,
    len: u64,
    checksum: Option<&Checksum>,
    started: &mut Option<String>,
) -> Result<UploadProgress, TusError> {
    let completes = upload.offset + len == upload.length;
    if len == 0 && !completes {
        return Ok(upload.progress());
    }
    let blob_key = key(&upload.blob_key)?;
    let plan = plan(upload.tail_len + len, completes);
    let mut progress = upload.progress();
    let mut pending_tail = progress.tail_key.take().map(|k| (k, progress.tail_len));
    let mut obsolete = Vec::new();
    let last = plan.parts.len();
    for (n, size) in plan.parts.into_iter().enumerate() {
        let multipart = match &progress.multipart_id {
            Some(id) => UploadId::new(id.clone()),
            None => {
                let id = state.blobs.create_multipart(&blob_key).await?;
                progress.multipart_id = Some(id.to_string());
                *started = Some(id.to_string());
                // Recorded before any part is stored: no multipart upload holding bytes
                // is ever unknown to the upload's row (and so left behind by a crash).
                let mut named = upload.progress();
                named.multipart_id = progress.multipart_id.clone();
                commit(state, upload, named).await?;
                id
            }
        };
        let from_tail = pending_tail.take();
        let stream = prefixed(state, from_tail.as_ref(), body, size).await?;
        let index = u32::try_from(progress.parts.len()).map_err(TusError::internal)?;
        let receipt = state
            .blobs
            .put_part(&blob_key, &multipart, index, stream)
            .await?;
        crash::reached(CrashPoint::BytesWritten);
        progress.parts.push(receipt);
        progress.offset = progress.parts.iter().map(|p| p.size).sum();
        progress.tail_len = 0;
        obsolete.extend(from_tail.map(|(k, _)| k));
        let completing = completes && n + 1 == last;
        if checksum.is_none() && !completing {
            commit(state, upload, progress.clone()).await?;
            crash::reached(CrashPoint::OffsetRecorded);
            forget(state, &mut obsolete).await;
        }
    }
    let mut new_tail = None;
    if plan.tail > 0 {
        let start = progress.parts.iter().map(|p| p.size).sum::<u64>();
        let tail = tail_key(upload, start, plan.tail)?;
        let old = pending_tail.take();
        let stream = prefixed(state, old.as_ref(), body, plan.tail).await?;
        state.blobs.put(&tail, stream).await?;
        crash::reached(CrashPoint::BytesWritten);
        obsolete.extend(old.map(|(k, _)| k));
        progress.tail_key = Some(tail.to_string());
        progress.tail_len = plan.tail;
        progress.offset = start + plan.tail;
        new_tail = Some(tail);
    }
    if let Some(expected) = checksum {
        if body.digest().await.as_deref() != Some(expected.digest.as_slice()) {
            if let Some(tail) = new_tail {
                best_effort_delete(state, &tail).await;
            }
            return Err(TusError::ChecksumMismatch(
                "the body does not match Upload-Checksum; nothing was appended".into(),
            ));
        }
    }
    if !completes && progress.offset != upload.offset {
        commit(state, upload, progress.clone()).await?;
        crash::reached(CrashPoint::OffsetRecorded);
        forget(state, &mut obsolete).await;
    }
    Ok(progress)
}

/// The stored blob `prefix` (a tail: key and length), if any, followed by the body's
/// bytes up to `size` in all.
async fn prefixed(
    state: &AppState,
    prefix: Option<&(String, u64)>,
    body: &Body,
    size: u64,
) -> Result<ByteStream, TusError> {
    Ok(match prefix {
        Some((tail, tail_len)) => {
            let stored = state.blobs.get_range(&key(tail)?, 0..*tail_len).await?;
            stored.chain(body.take(size - tail_len)).boxed()
        }
        None => body.take(size),
    })
}

/// Delete blobs nothing refers to any more (best effort: the upload's sweep gets them
/// otherwise).
async fn forget(state: &AppState, keys: &mut Vec<String>) {
    for k in keys.drain(..) {
        if let Ok(k) = key(&k) {
            best_effort_delete(state, &k).await;
        }
    }
}

/// Delete a blob, logging a failure instead of failing.
pub async fn best_effort_delete(state: &AppState, key: &BlobKey) {
    if let Err(err) = state.blobs.delete(key).await {
        tracing::warn!(%err, %key, "could not delete a blob; the sweep will");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn bodies_become_parts_of_allowed_sizes() {
        let p = |parts: &[u64], tail| Plan {
            parts: parts.to_vec(),
            tail,
        };
        assert_eq!(plan(3 * MIB, false), p(&[], 3 * MIB));
        assert_eq!(plan(3 * MIB, true), p(&[3 * MIB], 0));
        assert_eq!(plan(6 * MIB, false), p(&[6 * MIB], 0));
        assert_eq!(plan(20 * MIB, false), p(&[8 * MIB, 12 * MIB], 0));
        assert_eq!(plan(20 * MIB, true), p(&[8 * MIB, 8 * MIB, 4 * MIB], 0));
        assert_eq!(plan(16 * MIB, false), p(&[8 * MIB, 8 * MIB], 0));
        assert_eq!(plan(0, true), p(&[], 0));
        for available in [1, MIB, 5 * MIB, 13 * MIB - 1, 200 * MIB + 7] {
            for completes in [false, true] {
                let plan = plan(available, completes);
                let n = plan.parts.len();
                assert_eq!(plan.parts.iter().sum::<u64>() + plan.tail, available);
                for (i, size) in plan.parts.iter().enumerate() {
                    assert!(*size <= PART_SIZE + MIN_PART_SIZE);
                    assert!(i + 1 == n && completes || *size >= MIN_PART_SIZE);
                }
            }
        }
    }
}
