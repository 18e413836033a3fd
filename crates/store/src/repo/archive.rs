//! The archive tier's bookkeeping: which drives are due to move to the archive store,
//! marking them archived, and the owners' restore requests that an operator decides.
//! The blobs themselves are copied by the server; these methods only record the outcome,
//! each in one statement or transaction, so a crash leaves the old state or the new one.
//! Written once for both engines.

use super::engine::{Columns, Engine, Exec, Transaction};
use super::sql::Sql;
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
const RESTORE_COLUMNS: &str =
    "id, user_id, drive_id, requested_at, state, decided_at, restored_until";

/// A restore request from a row holding [`RESTORE_COLUMNS`].
fn restore_from_row<R: Columns>(row: &R) -> Result<Restore> {
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

/// The names of the states to list, bound for [`Dialect::in_list`](super::sql::Dialect::in_list);
/// every state when `states` is empty.
fn state_names(states: &[RestoreState]) -> Vec<String> {
    let states = if states.is_empty() {
        &RestoreState::ALL[..]
    } else {
        states
    };
    states.iter().map(|s| s.as_str().to_owned()).collect()
}

fn candidate_from_row(row: &impl Columns) -> Result<ArchiveCandidate> {
    Ok(ArchiveCandidate {
        drive_id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        end: row.time("end_at")?,
    })
}

#[async_trait]
impl<E: Engine> ArchiveRepo for E {
    async fn drives_due_for_archive(
        &self,
        ended_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ArchiveCandidate>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT id, user_id, end_at FROM drives
                     WHERE archived = FALSE AND end_at < $1
                       AND (restored_until IS NULL OR restored_until <= $2)
                     ORDER BY end_at, id LIMIT $3",
                )
                .arg(ended_before)
                .arg(now)
                .arg(limit),
                candidate_from_row,
            )
            .await
    }

    async fn mark_drive_archived(&self, user_id: Uuid, drive_id: Uuid) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new(
                    "UPDATE drives SET archived = TRUE, restored_until = NULL
                     WHERE id = $1 AND user_id = $2",
                )
                .arg(drive_id)
                .arg(user_id),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn request_restore(
        &self,
        user_id: Uuid,
        drive_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Restore>> {
        let mut tx = self.begin().await?;
        let owned = tx
            .fetch_optional(
                Sql::new("SELECT 1 FROM drives WHERE id = $1 AND user_id = $2")
                    .arg(drive_id)
                    .arg(user_id),
            )
            .await?;
        if owned.is_none() {
            return Ok(None);
        }
        tx.execute(
            Sql::new(
                "INSERT INTO restores (id, user_id, drive_id, requested_at, state)
                 VALUES ($1, $2, $3, $4, 'requested')
                 ON CONFLICT (drive_id) WHERE state = 'requested' DO NOTHING",
            )
            .arg(Uuid::now_v7())
            .arg(user_id)
            .arg(drive_id)
            .arg(now),
        )
        .await?;
        let row = tx
            .fetch_one(
                Sql::new(format!(
                    "SELECT {RESTORE_COLUMNS} FROM restores
                     WHERE drive_id = $1 AND state = 'requested'"
                ))
                .arg(drive_id),
            )
            .await?;
        tx.commit().await?;
        restore_from_row(&row).map(Some)
    }

    async fn restore_request(&self, id: Uuid) -> Result<Option<Restore>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "SELECT {RESTORE_COLUMNS} FROM restores WHERE id = $1"
                ))
                .arg(id),
                restore_from_row,
            )
            .await
    }

    async fn restore_requests(&self, states: &[RestoreState], limit: u32) -> Result<Vec<Restore>> {
        self.db()
            .all(
                Sql::new(format!(
                    "SELECT {RESTORE_COLUMNS} FROM restores WHERE {}
                     ORDER BY requested_at, id LIMIT $2",
                    E::DIALECT.in_list("state", 1)
                ))
                .arg(state_names(states))
                .arg(limit),
                restore_from_row,
            )
            .await
    }

    async fn approve_restore(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Restore>> {
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                Sql::new(format!(
                    "UPDATE restores SET state = 'approved', decided_at = $2, restored_until = $3
                     WHERE id = $1 AND state = 'requested'
                     RETURNING {RESTORE_COLUMNS}"
                ))
                .arg(id)
                .arg(now)
                .arg(until),
            )
            .await?;
        let Some(restore) = row.as_ref().map(restore_from_row).transpose()? else {
            return Ok(None);
        };
        tx.execute(
            Sql::new("UPDATE drives SET archived = FALSE, restored_until = $2 WHERE id = $1")
                .arg(restore.drive_id)
                .arg(until),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(restore))
    }

    async fn deny_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<Option<Restore>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "UPDATE restores SET state = 'denied', decided_at = $2
                     WHERE id = $1 AND state = 'requested'
                     RETURNING {RESTORE_COLUMNS}"
                ))
                .arg(id)
                .arg(now),
                restore_from_row,
            )
            .await
    }
}
