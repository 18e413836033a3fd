//! [`ArchiveRepo`] on SQLite.

use super::archive::{restore_from_row, state_names, RESTORE_COLUMNS};
use super::convert::{from_millis, to_millis};
use super::media_rows::to_json;
use super::sqlite::SqliteRepo;
use super::ArchiveRepo;
use crate::model::{ArchiveCandidate, Restore, RestoreState};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

#[async_trait]
impl ArchiveRepo for SqliteRepo {
    async fn drives_due_for_archive(
        &self,
        ended_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ArchiveCandidate>> {
        let rows = sqlx::query(
            "SELECT id, user_id, end_at FROM drives
             WHERE archived = 0 AND end_at < ?1
               AND (restored_until IS NULL OR restored_until <= ?2)
             ORDER BY end_at, id LIMIT ?3",
        )
        .bind(to_millis(ended_before))
        .bind(to_millis(now))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| -> Result<ArchiveCandidate> {
                Ok(ArchiveCandidate {
                    drive_id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    end: from_millis(row.try_get("end_at")?, "drives.end_at")?,
                })
            })
            .collect()
    }

    async fn mark_drive_archived(&self, user_id: Uuid, drive_id: Uuid) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE drives SET archived = 1, restored_until = NULL WHERE id = ?1 AND user_id = ?2",
        )
        .bind(drive_id)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn request_restore(
        &self,
        user_id: Uuid,
        drive_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Restore>> {
        let mut tx = self.pool().begin().await?;
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM drives WHERE id = ?1 AND user_id = ?2")
                .bind(drive_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if owned.is_none() {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO restores (id, user_id, drive_id, requested_at, state)
             VALUES (?1, ?2, ?3, ?4, 'requested')
             ON CONFLICT (drive_id) WHERE state = 'requested' DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(drive_id)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {RESTORE_COLUMNS} FROM restores WHERE drive_id = ?1 AND state = 'requested'"
        ))
        .bind(drive_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        restore_from_row(&row).map(Some)
    }

    async fn restore_request(&self, id: Uuid) -> Result<Option<Restore>> {
        let row = sqlx::query(&format!(
            "SELECT {RESTORE_COLUMNS} FROM restores WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(restore_from_row).transpose()
    }

    async fn restore_requests(&self, states: &[RestoreState], limit: u32) -> Result<Vec<Restore>> {
        let rows = sqlx::query(&format!(
            "SELECT {RESTORE_COLUMNS} FROM restores
             WHERE state IN (SELECT value FROM json_each(?1))
             ORDER BY requested_at, id LIMIT ?2"
        ))
        .bind(to_json(&state_names(states)))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(restore_from_row).collect()
    }

    async fn approve_restore(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Restore>> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE restores SET state = 'approved', decided_at = ?2, restored_until = ?3
             WHERE id = ?1 AND state = 'requested'
             RETURNING {RESTORE_COLUMNS}"
        ))
        .bind(id)
        .bind(to_millis(now))
        .bind(to_millis(until))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(restore) = row.as_ref().map(restore_from_row).transpose()? else {
            return Ok(None);
        };
        sqlx::query("UPDATE drives SET archived = 0, restored_until = ?2 WHERE id = ?1")
            .bind(restore.drive_id)
            .bind(to_millis(until))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(restore))
    }

    async fn deny_restore(&self, id: Uuid, now: DateTime<Utc>) -> Result<Option<Restore>> {
        let row = sqlx::query(&format!(
            "UPDATE restores SET state = 'denied', decided_at = ?2
             WHERE id = ?1 AND state = 'requested'
             RETURNING {RESTORE_COLUMNS}"
        ))
        .bind(id)
        .bind(to_millis(now))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(restore_from_row).transpose()
    }
}
