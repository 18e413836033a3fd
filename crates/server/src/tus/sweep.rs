//! The sweep of what no upload owns: what crashes, refused files and duplicates leave in
//! the blob store, so that the data directory holds the stored files, the database and
//! the thumbnails, and little else. Run at start (in the background), by the hourly
//! `upload_expiry` job, and as a survey by `dashvault admin storage`.
//!
//! It removes uploads that expired; scratch blobs of an upload (`uploads/ID/…`) that its
//! row does not name, or whose row is gone; file objects (`media/…`) that no row names;
//! multipart uploads that no upload row names (once a minute old: a new one is named in
//! its row right after it is created, before any byte is stored); and the blob engine's
//! temporary files of writers that are gone. An upload that a request is writing (here or
//! on another replica: its lock) is never touched.

use super::handlers::sweep_expired_batch;
use super::writer::key;
use super::{Held, TusError};
use crate::state::AppState;
use dashvault_store::blob::BlobMeta;
use dashvault_store::model::Upload;
use futures_util::TryStreamExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};
use uuid::Uuid;

/// Age below which an unnamed multipart upload may be one a request just started.
const NEW_MULTIPART_AGE: Duration = Duration::from_secs(60);

/// What a sweep found (and removed, unless it was a survey).
#[derive(Debug, Default, Clone, Serialize)]
pub struct SweepReport {
    /// Uploads that had expired, cleaned away.
    pub expired_uploads: u64,
    /// Blobs no row names, and their bytes.
    pub orphaned_blobs: u64,
    /// Bytes of those blobs.
    pub orphaned_bytes: u64,
    /// Multipart uploads no upload row names.
    pub orphaned_multipart_uploads: u64,
    /// Bytes of temporary files of writers that are gone.
    pub temporary_bytes: u64,
}

impl SweepReport {
    /// Bytes the sweep frees (or would free).
    pub fn reclaimable_bytes(&self) -> u64 {
        self.orphaned_bytes + self.temporary_bytes
    }
}

/// Sweep the blob store; with `remove` false, only count what a sweep would remove.
pub async fn sweep(state: &AppState, remove: bool) -> Result<SweepReport, TusError> {
    let mut report = SweepReport::default();
    if remove {
        loop {
            let listed = sweep_expired_batch(state).await?;
            report.expired_uploads += listed as u64;
            if listed == 0 {
                break;
            }
        }
    }
    report.temporary_bytes = state.blobs.sweep_temporary(remove).await?;
    sweep_multipart(state, remove, &mut report).await?;
    sweep_scratch(state, remove, &mut report).await?;
    sweep_objects(state, remove, &mut report).await?;
    Ok(report)
}

async fn sweep_multipart(
    state: &AppState,
    remove: bool,
    report: &mut SweepReport,
) -> Result<(), TusError> {
    let listed: Vec<_> = state.blobs.list_multipart().try_collect().await?;
    let settled = SystemTime::now() - NEW_MULTIPART_AGE;
    for multipart in listed {
        if multipart.started > settled
            || state
                .repo
                .multipart_in_use(multipart.upload.as_str())
                .await?
        {
            continue;
        }
        report.orphaned_multipart_uploads += 1;
        if remove {
            state
                .blobs
                .abort_multipart(&multipart.key, &multipart.upload)
                .await?;
        }
    }
    Ok(())
}

/// Scratch blobs (`uploads/ID/…`) of uploads that are gone, or that their row does not
/// name (a tail stored by a request that crashed before recording it).
async fn sweep_scratch(
    state: &AppState,
    remove: bool,
    report: &mut SweepReport,
) -> Result<(), TusError> {
    let prefix = key("uploads")?;
    let mut by_upload: BTreeMap<Uuid, Vec<BlobMeta>> = BTreeMap::new();
    let blobs: Vec<BlobMeta> = state.blobs.list(Some(&prefix)).try_collect().await?;
    for blob in blobs {
        let id = blob
            .key
            .as_str()
            .split('/')
            .nth(1)
            .and_then(|id| Uuid::try_parse(id).ok());
        match id {
            Some(id) => by_upload.entry(id).or_default().push(blob),
            None => orphan(state, remove, report, &blob).await?,
        }
    }
    for (id, blobs) in by_upload {
        // Most uploads' scratch is all named by their row: those are not locked (a client
        // writing them meanwhile would get `423`).
        let upload = state.repo.upload_by_id(id).await?;
        if blobs.iter().all(|blob| named(upload.as_ref(), blob)) {
            continue;
        }
        let Some(held) = Held::try_hold(state, id).await? else {
            continue;
        };
        // Read again under the lock: a request may have named a new tail meanwhile.
        let upload = state.repo.upload_by_id(id).await?;
        for blob in blobs.iter().filter(|blob| !named(upload.as_ref(), blob)) {
            orphan(state, remove, report, blob).await?;
        }
        held.release().await;
    }
    Ok(())
}

/// Whether the upload's row (if it still has one) names the scratch blob.
fn named(upload: Option<&Upload>, blob: &BlobMeta) -> bool {
    upload.is_some_and(|u| {
        u.tail_key.as_deref() == Some(blob.key.as_str())
            || (u.blob_key == blob.key.as_str() && u.failure.is_none())
    })
}

/// File objects (`media/…`) that no row names: a refused file or a second copy whose
/// deletion a crash cut short.
async fn sweep_objects(
    state: &AppState,
    remove: bool,
    report: &mut SweepReport,
) -> Result<(), TusError> {
    let prefix = key("media")?;
    let blobs: Vec<BlobMeta> = state.blobs.list(Some(&prefix)).try_collect().await?;
    for blob in blobs {
        if !state.repo.blob_key_in_use(blob.key.as_str()).await? {
            orphan(state, remove, report, &blob).await?;
        }
    }
    Ok(())
}

async fn orphan(
    state: &AppState,
    remove: bool,
    report: &mut SweepReport,
    blob: &BlobMeta,
) -> Result<(), TusError> {
    report.orphaned_blobs += 1;
    report.orphaned_bytes += blob.len;
    if remove {
        state.blobs.delete(&blob.key).await?;
    }
    Ok(())
}
