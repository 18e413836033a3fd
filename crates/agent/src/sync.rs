//! Deletion sync between the agent and the cloud, by SHA-256 (what both sides know a
//! file by):
//!
//! * deleted in the agent (`dashvault agent delete`: [`delete_everywhere`]) → its upload
//!   is cancelled (the server told to drop the bytes it has) and a cloud deletion queued,
//!   sent by [`sync_deletions`];
//! * deleted in the cloud → the server's tombstones since the last one seen (its `seq`
//!   kept in the settings) name the files, which [`sync_deletions`] removes here;
//! * deleted by the loop (the phone's quota) → local only: the loop just removes its
//!   files and never calls [`delete_everywhere`];
//! * a fresh install (nothing listed yet) lists the cloud's clips and records them as
//!   cloud-resident on its first sync.

use crate::cloud::{Client, CloudClip, CloudError};
use crate::state::{State, StateError};
use crate::upload::{Queue, Status};
use chrono::Utc;
use std::future::Future;
use uuid::Uuid;

/// Setting: the `seq` of the last tombstone applied here.
pub const TOMBSTONE_SEQ_SETTING: &str = "tombstone_seq";
/// Setting: set once the cloud's clips were listed (a fresh install lists them).
pub const CLOUD_LISTED_SETTING: &str = "cloud_listed_at";

/// Deletion sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The server could not be asked.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A local copy could not be removed.
    #[error("can not remove the local copy of {sha256}: {source}")]
    Local {
        /// The file's SHA-256.
        sha256: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The agent's own files and records (recordings, sidecars, time-lapses, clips), which
/// deletion sync removes when the cloud deleted them (their queued uploads it cancels
/// itself).
pub trait LocalFiles {
    /// Remove every local copy (file and record) of the file with this SHA-256; how many
    /// there were. Not finding one is no error (it may be gone already).
    fn remove(&self, sha256: &str) -> impl Future<Output = std::io::Result<usize>> + Send;
}

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Clips of the cloud recorded here on a fresh install's first sync (or on a refresh).
    pub listed: usize,
    /// Clips deleted in the cloud because they were deleted here.
    pub deleted_in_cloud: usize,
    /// Local copies removed because the cloud deleted them.
    pub removed_locally: usize,
    /// Uploads cancelled under way whose bytes the server was told to drop.
    pub terminated: usize,
}

/// The user deleted the file with this SHA-256 here: stop its upload and queue the
/// deletion of its cloud copy (sent by the next [`sync_deletions`]). The caller removes
/// its own file and records.
pub async fn delete_everywhere(state: &State, sha256: &str) -> Result<(), StateError> {
    let rows = Queue::new(state.clone()).cancel_sha256(sha256).await?;
    // Nothing to delete in the cloud when no upload of it ever started and the cloud's
    // listing does not have it.
    let started = rows
        .iter()
        .any(|r| r.status == Status::Done || r.tus_url.is_some());
    if !started && cloud_ids(state, sha256).await?.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO cloud_deletes (sha256, created_at) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(Utc::now())
    .execute(state.pool())
    .await?;
    Ok(())
}

/// Cloud deletions queued and not yet sent.
pub async fn pending_cloud_deletes(state: &State) -> Result<Vec<String>, StateError> {
    Ok(
        sqlx::query_scalar("SELECT sha256 FROM cloud_deletes ORDER BY created_at")
            .fetch_all(state.pool())
            .await?,
    )
}

/// The clips recorded as being in the cloud (listed, or seen while syncing).
pub async fn cloud_clips(state: &State) -> Result<Vec<(Uuid, Option<String>)>, StateError> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, sha256 FROM cloud_clips ORDER BY start_at")
            .fetch_all(state.pool())
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, sha)| Uuid::parse_str(&id).ok().map(|id| (id, sha)))
        .collect())
}

/// Bring deletions in line both ways (see the module doc).
pub async fn sync_deletions<L: LocalFiles>(
    state: &State,
    client: &Client,
    local: &L,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    if state.setting(CLOUD_LISTED_SETTING).await?.is_none() {
        report.listed = record_cloud(state, client).await?;
        state
            .set_setting(CLOUD_LISTED_SETTING, &Utc::now().to_rfc3339())
            .await?;
    }
    report.deleted_in_cloud = send_deletes(state, client, &mut report.listed).await?;
    report.terminated = terminate_cancelled(state, client).await?;
    report.removed_locally = apply_tombstones(state, client, local).await?;
    Ok(report)
}

/// Record every clip of the cloud as cloud-resident; how many.
async fn record_cloud(state: &State, client: &Client) -> Result<usize, SyncError> {
    let clips = client.clips().await?;
    for clip in &clips {
        record_clip(state, clip).await?;
    }
    Ok(clips.len())
}

async fn record_clip(state: &State, clip: &CloudClip) -> Result<(), StateError> {
    sqlx::query(
        "INSERT INTO cloud_clips (id, sha256, kind, start_at, filename, size, seen_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(clip.id.to_string())
    .bind(&clip.sha256)
    .bind(&clip.kind)
    .bind(clip.start)
    .bind(&clip.filename)
    .bind(clip.size.and_then(|s| i64::try_from(s).ok()))
    .bind(Utc::now())
    .execute(state.pool())
    .await?;
    Ok(())
}

/// The clip `id` is no longer in the cloud.
async fn forget_cloud_clip(state: &State, id: Uuid) -> Result<(), StateError> {
    sqlx::query("DELETE FROM cloud_clips WHERE id = ?")
        .bind(id.to_string())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// The recorded cloud clips with this SHA-256.
async fn cloud_ids(state: &State, sha256: &str) -> Result<Vec<Uuid>, StateError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM cloud_clips WHERE sha256 = ?")
        .bind(sha256)
        .fetch_all(state.pool())
        .await?;
    Ok(ids
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect())
}

/// Send the queued cloud deletions; how many clips were deleted. A file uploaded since
/// the last listing is found by listing again (once per sync, counted in `listed`).
async fn send_deletes(
    state: &State,
    client: &Client,
    listed: &mut usize,
) -> Result<usize, SyncError> {
    let mut deleted = 0;
    let mut refreshed = false;
    for sha256 in pending_cloud_deletes(state).await? {
        let mut ids = cloud_ids(state, &sha256).await?;
        if ids.is_empty() && !refreshed {
            *listed += record_cloud(state, client).await?;
            refreshed = true;
            ids = cloud_ids(state, &sha256).await?;
        }
        for id in ids {
            if client.delete_clip(id).await? {
                deleted += 1;
            }
            forget_cloud_clip(state, id).await?;
        }
        // Sent, or never in the cloud (deleted before it went up): nothing left to do.
        sqlx::query("DELETE FROM cloud_deletes WHERE sha256 = ?")
            .bind(&sha256)
            .execute(state.pool())
            .await
            .map_err(StateError::from)?;
    }
    Ok(deleted)
}

/// Tell the server to drop the bytes of uploads cancelled under way (rather than keep
/// them until they expire); how many.
async fn terminate_cancelled(state: &State, client: &Client) -> Result<usize, SyncError> {
    let queue = Queue::new(state.clone());
    let cancelled = queue.cancelled_in_flight().await?;
    for row in &cancelled {
        if let Some(url) = &row.tus_url {
            client.tus_terminate(url).await?;
        }
        queue.set_tus_url(row.id, None).await?;
    }
    Ok(cancelled.len())
}

/// Apply the cloud's deletions since the last seen; how many local copies went.
async fn apply_tombstones<L: LocalFiles>(
    state: &State,
    client: &Client,
    local: &L,
) -> Result<usize, SyncError> {
    let queue = Queue::new(state.clone());
    let mut after: i64 = state
        .setting(TOMBSTONE_SEQ_SETTING)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut removed = 0;
    loop {
        let tombstones = client.tombstones(after).await?;
        if tombstones.is_empty() {
            return Ok(removed);
        }
        for tombstone in &tombstones {
            for sha256 in &tombstone.sha256 {
                queue.cancel_sha256(sha256).await?;
                removed += local
                    .remove(sha256)
                    .await
                    .map_err(|source| SyncError::Local {
                        sha256: sha256.clone(),
                        source,
                    })?;
            }
            forget_cloud_clip(state, tombstone.id).await?;
            after = after.max(tombstone.seq);
            state
                .set_setting(TOMBSTONE_SEQ_SETTING, &after.to_string())
                .await?;
        }
    }
}
