//! The archive tier's bookkeeping: which drives are due to move to the archive store,
//! marking them archived, and the owners' restore requests that an operator decides.
//! The blobs themselves are copied by the server; these methods only record the outcome,
//! each in one statement or transaction, so a crash leaves the old state or the new one.

use super::engine::Columns;
use crate::model::{ArchiveCandidate, Restore, RestoreState};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Archive and restore records.
#[async_trait]
pub trait ArchiveRepo: Send + Sync {
    /// Up to `limit` drives (of any user) that are not archived, ended before
    /// `ended_before`, and are not kept in the hot store by a restore still running at
    /// `now`: what the archive pass moves, oldest first.
    async fn drives_due_for_archive(
        &self,
        ended_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ArchiveCandidate>>;
    /// Mark one of the user's drives archived (and no longer restored); `false` when
    /// there is no such drive.
    async fn mark_drive_archived(&self, user_id: Uuid, drive_id: Uuid) -> Result<bool>;
    /// Ask for one of the user's drives to be restored at `now`. While a request waits,
    /// asking again gives the same request. `None` when the user has no such drive.
    async fn request_restore(
        &self,
        user_id: Uuid,
        drive_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Restore>>;
    /// The restore request with this id.
    async fn restore_request(&self, id: Uuid) -> Result<Option<Restore>>;
    /// Up to `limit` restore requests in one of `states` (all when empty), oldest first.
    async fn restore_requests(&self, states: &[RestoreState], limit: u32) -> Result<Vec<Restore>>;
    /// Approve a waiting request: in one transaction the request becomes `approved` and
    /// its drive is marked not archived, restored until `until`. The caller has copied
    /// the drive's files to the hot store before. `None` if no request with this id waits.
    async fn approve_restore(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Restore>>;
    /// Deny a waiting request; `None` if no request with this id waits.
    async fn deny_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<Option<Restore>>;
}

/// The columns a restore row is read from, in the order every query selects them.
pub(crate) const RESTORE_COLUMNS: &str =
    "id, user_id, drive_id, requested_at, state, decided_at, restored_until";

/// A restore request from a row holding [`RESTORE_COLUMNS`].
pub(crate) fn restore_from_row<R: Columns>(row: &R) -> Result<Restore> {
    let state = row.text("state")?;
    Ok(Restore {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        drive_id: row.uuid("drive_id")?,
        requested_at: row.time("requested_at")?,
        state: state.parse().map_err(|_| crate::Error::Corrupt {
            column: "state",
            value: state,
        })?,
        decided_at: row.opt_time("decided_at")?,
        restored_until: row.opt_time("restored_until")?,
    })
}

/// The states to list as a JSON array (SQLite) or text array (PostgreSQL) of names;
/// every state when `states` is empty.
pub(crate) fn state_names(states: &[RestoreState]) -> Vec<&'static str> {
    let states = if states.is_empty() {
        &RestoreState::ALL[..]
    } else {
        states
    };
    states.iter().map(|s| s.as_str()).collect()
}
