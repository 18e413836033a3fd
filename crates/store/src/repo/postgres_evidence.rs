//! [`LedgerRepo`] and [`ActivityRepo`] on PostgreSQL. Every append first takes one
//! transaction-level advisory lock, held to its commit: replicas appending at once take
//! turns, each reading the head the previous one committed, so the ledger stays one chain
//! (the primary key on `seq` would refuse a fork anyway).

use super::convert::truncate_to_millis;
use super::evidence::{ActivityRepo, LedgerRepo};
use super::evidence_rows::{
    activity_from_row, chain, fresh, ledger_from_row, stored_file_from_row,
};
use super::media_rows::to_i64;
use super::postgres::PostgresRepo;
use crate::model::{Activity, LedgerAction, LedgerEntry, LedgerRecord, StoredFile};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

/// Key of the advisory lock that serialises ledger appends: a constant no other lock of
/// this database uses ("ledg").
const LEDGER_LOCK: i64 = 0x6c65_6467;

/// Take the ledger's lock for the rest of the caller's transaction.
async fn lock(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LEDGER_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Append those of `records` not in the ledger yet, inside the caller's transaction,
/// which holds the ledger's lock.
async fn append(conn: &mut PgConnection, records: Vec<LedgerRecord>) -> Result<Vec<LedgerEntry>> {
    let mut known = Vec::with_capacity(records.len());
    for record in &records {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM ledger WHERE object_id = $1 AND action = $2")
                .bind(record.file.object_id)
                .bind(record.action.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        known.push(seq.is_some());
    }
    let fresh = fresh(records, &known);
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let head = sqlx::query("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| Ok::<_, crate::Error>((row.try_get("seq")?, row.try_get("hash")?)))
        .transpose()?;
    let entries = chain(head, fresh);
    for entry in &entries {
        let f = &entry.record.file;
        sqlx::query(
            "INSERT INTO ledger (seq, action, kind, object_id, user_id, sha256, size, blob_key,
                                 at, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(entry.seq)
        .bind(entry.record.action.as_str())
        .bind(&f.kind)
        .bind(f.object_id)
        .bind(f.user_id)
        .bind(&f.sha256)
        .bind(to_i64(f.size))
        .bind(&f.blob_key)
        .bind(entry.record.at)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *conn)
        .await?;
    }
    Ok(entries)
}

#[async_trait]
impl LedgerRepo for PostgresRepo {
    async fn append_ledger(&self, records: &[LedgerRecord]) -> Result<Vec<LedgerEntry>> {
        let mut tx = self.pool().begin().await?;
        lock(&mut tx).await?;
        let entries = append(&mut tx, records.to_vec()).await?;
        tx.commit().await?;
        Ok(entries)
    }

    async fn ledger_deleted(
        &self,
        user_id: Uuid,
        blob_keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<LedgerEntry>> {
        let mut tx = self.pool().begin().await?;
        lock(&mut tx).await?;
        let rows = sqlx::query(
            "SELECT * FROM ledger s WHERE s.user_id = $1 AND s.blob_key = ANY($2)
               AND s.action = 'store'
               AND NOT EXISTS (SELECT 1 FROM ledger d
                               WHERE d.object_id = s.object_id AND d.action = 'delete')
             ORDER BY s.seq",
        )
        .bind(user_id)
        .bind(blob_keys)
        .fetch_all(&mut *tx)
        .await?;
        let records = rows
            .iter()
            .map(|row| {
                Ok(LedgerRecord {
                    action: LedgerAction::Delete,
                    file: ledger_from_row(row)?.record.file,
                    at: now,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let entries = append(&mut tx, records).await?;
        tx.commit().await?;
        Ok(entries)
    }

    async fn ledger_entries(&self, after_seq: i64, limit: u32) -> Result<Vec<LedgerEntry>> {
        sqlx::query("SELECT * FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(ledger_from_row)
            .collect()
    }

    async fn stored_files(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<StoredFile>> {
        sqlx::query(
            "SELECT * FROM (
                 SELECT kind, id AS object_id, user_id, sha256, size, blob_key FROM recordings
                 UNION ALL
                 SELECT 'clip', id, user_id, sha256, size, blob_key FROM clips
                 UNION ALL
                 SELECT 'sidecar', id, user_id, sha256, size, blob_key FROM sidecars) AS f
             WHERE $1::uuid IS NULL OR object_id > $1
             ORDER BY object_id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(stored_file_from_row)
        .collect()
    }
}

#[async_trait]
impl ActivityRepo for PostgresRepo {
    async fn record_activity(&self, activity: &Activity) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO clip_activity (id, user_id, clip_id, at, action, via, ip_prefix)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE EXISTS (SELECT 1 FROM clips WHERE id = $3 AND user_id = $2)",
        )
        .bind(activity.id)
        .bind(activity.user_id)
        .bind(activity.clip_id)
        .bind(truncate_to_millis(activity.at))
        .bind(activity.action.as_str())
        .bind(activity.via.as_str())
        .bind(&activity.ip_prefix)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn share_clip(&self, user_id: Uuid, share_id: Uuid) -> Result<Option<Uuid>> {
        Ok(
            sqlx::query_scalar("SELECT clip_id FROM shares WHERE user_id = $1 AND id = $2")
                .bind(user_id)
                .bind(share_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    async fn clip_activity(
        &self,
        user_id: Uuid,
        clip_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Activity>> {
        sqlx::query(
            "SELECT * FROM clip_activity
             WHERE user_id = $1 AND clip_id = $2 AND ($3::uuid IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(user_id)
        .bind(clip_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(activity_from_row)
        .collect()
    }
}
