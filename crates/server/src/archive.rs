//! The archive tier: drives (recordings and time-lapses; never clips) older than the
//! archive age move to a second blob store, and an operator can bring one back to the
//! hot store for a while when its owner asks.
//!
//! Moving a drive is three idempotent steps, each safe to repeat after a crash:
//! 1. copy each of its files to the archive store (skipped when an identical-length copy
//!    is there already);
//! 2. mark the drive archived (one statement: readers switch from the hot copies, which
//!    still exist, to "archived");
//! 3. delete the hot copies.
//!
//! The move runs as an `archive_drive` job of the durable queue, so a process killed
//! between the copy and the delete leaves a job whose lease runs out and which another
//! worker finishes: no recording is lost (the archive copy exists before the drive is
//! marked) and none stays twice (step 3 runs again). Its handlers, and the periodic
//! `archive_pass` that queues those jobs, are in [`crate::jobs::archive`]. A restore copies the files back
//! before it marks the drive restored; when the restore ends, the archive pass moves the
//! drive again, finding the archive copies already there.

use crate::state::AppState;
use chrono::{DateTime, TimeDelta, Utc};
use dashvault_store::blob::{self, BlobError, BlobKey, BlobStore};
use dashvault_store::model::{ArchiveCandidate, NewJob, Restore, RestoreState};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// Kind of the job that moves one drive to the archive store.
pub const ARCHIVE_DRIVE: &str = "archive_drive";

/// Kind of the periodic job that queues an `archive_drive` job for every drive due.
pub const ARCHIVE_PASS: &str = "archive_pass";

/// Why an archive or restore step failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The metadata database failed.
    #[error("database: {0}")]
    Store(#[from] dashvault_store::Error),
    /// A blob store failed.
    #[error("blob store: {0}")]
    Blob(#[from] BlobError),
    /// No restore request with this id.
    #[error("no restore request {0}")]
    NoSuchRestore(Uuid),
    /// The request was decided already.
    #[error("restore request {id} is {state} already; only a requested one can be decided")]
    Decided {
        /// The request.
        id: Uuid,
        /// Its state.
        state: RestoreState,
    },
}

/// The payload of an `archive_drive` job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveDrive {
    /// The owner.
    pub user: Uuid,
    /// The drive.
    pub drive: Uuid,
}

/// The drives whose end lies more than `older_than` before `now` and that are neither
/// archived nor restored, up to `limit`, oldest first.
pub async fn due(
    state: &AppState,
    older_than: Duration,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ArchiveCandidate>, ArchiveError> {
    let age = TimeDelta::from_std(older_than).unwrap_or(TimeDelta::MAX);
    let cut_off = now
        .checked_sub_signed(age)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    Ok(state
        .repo
        .drives_due_for_archive(cut_off, now, limit)
        .await?)
}

/// Queue an `archive_drive` job for `drive`; `tag` keeps jobs of one pass (or one
/// `admin archive run`) from being queued twice. Returns the job id.
pub async fn enqueue(
    state: &AppState,
    drive: &ArchiveCandidate,
    tag: &str,
) -> Result<Uuid, ArchiveError> {
    let payload = ArchiveDrive {
        user: drive.user_id,
        drive: drive.drive_id,
    };
    let job = NewJob::new(
        ARCHIVE_DRIVE,
        serde_json::to_value(payload).unwrap_or_default(),
    )
    .dedupe_key(format!("{ARCHIVE_DRIVE}:{}:{tag}", drive.drive_id));
    Ok(state.repo.enqueue(&job, state.clock.now()).await?.job().id)
}

/// Move one drive to the archive store (the three steps of the module doc). A drive that
/// is gone, or that a restore keeps in the hot store, is left alone.
pub async fn archive_drive(state: &AppState, target: ArchiveDrive) -> Result<(), ArchiveError> {
    let Some(drive) = state.repo.drive(target.user, target.drive).await? else {
        return Ok(());
    };
    let now = state.clock.now();
    if drive.restored_until.is_some_and(|until| until > now) {
        return Ok(());
    }
    let keys = drive_keys(state, target).await?;
    if !drive.archived {
        for key in &keys {
            copy_unless_there(state.blobs.as_ref(), state.archive.as_ref(), key).await?;
        }
        state
            .repo
            .mark_drive_archived(target.user, target.drive)
            .await?;
    }
    for key in &keys {
        state.blobs.delete(key).await?;
    }
    tracing::info!(drive = %target.drive, files = keys.len(), "drive archived");
    Ok(())
}

/// Approve a waiting restore request: copy the drive's files back to the hot store, then
/// mark it restored until `restore_for` from now. When this returns, the owner can
/// download the drive.
pub async fn approve(state: &AppState, id: Uuid) -> Result<Restore, ArchiveError> {
    let request = waiting(state, id).await?;
    let target = ArchiveDrive {
        user: request.user_id,
        drive: request.drive_id,
    };
    for key in drive_keys(state, target).await? {
        copy_unless_there(state.archive.as_ref(), state.blobs.as_ref(), &key).await?;
    }
    let now = state.clock.now();
    let until =
        now + TimeDelta::from_std(state.archive_config.restore_for).unwrap_or(TimeDelta::days(7));
    let decided = state.repo.approve_restore(id, now, until).await?;
    decided.ok_or(ArchiveError::Decided {
        id,
        state: RestoreState::Approved,
    })
}

/// Deny a waiting restore request.
pub async fn deny(state: &AppState, id: Uuid) -> Result<Restore, ArchiveError> {
    waiting(state, id).await?;
    let decided = state.repo.deny_restore(id, state.clock.now()).await?;
    decided.ok_or(ArchiveError::Decided {
        id,
        state: RestoreState::Denied,
    })
}

/// The request `id`, if it still waits.
async fn waiting(state: &AppState, id: Uuid) -> Result<Restore, ArchiveError> {
    let request = state
        .repo
        .restore_request(id)
        .await?
        .ok_or(ArchiveError::NoSuchRestore(id))?;
    if request.state != RestoreState::Requested {
        return Err(ArchiveError::Decided {
            id,
            state: request.state,
        });
    }
    Ok(request)
}

/// The blob keys of a drive's recordings and time-lapses.
async fn drive_keys(state: &AppState, target: ArchiveDrive) -> Result<Vec<BlobKey>, ArchiveError> {
    let recordings = state
        .repo
        .drive_recordings(target.user, target.drive)
        .await?;
    Ok(recordings
        .into_iter()
        .map(|r| BlobKey::new(r.file.blob_key))
        .collect::<Result<_, _>>()?)
}

/// Copy `key` from one store to the other unless the target has a blob of the same length
/// already (a copy finished before a crash). A source without it is fine when the target
/// has it: that step was done before.
async fn copy_unless_there(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    key: &BlobKey,
) -> Result<(), ArchiveError> {
    let there = match to.head(key).await {
        Ok(meta) => Some(meta.len),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    match (there, from.head(key).await) {
        (Some(len), Ok(meta)) if len == meta.len => Ok(()),
        (Some(_), Err(e)) if e.is_not_found() => Ok(()),
        (_, Err(e)) => Err(e.into()),
        _ => {
            blob::copy(from, to, key).await?;
            Ok(())
        }
    }
}
