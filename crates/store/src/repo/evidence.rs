//! Evidence: the hash-chained ledger of stored files ([`LedgerRepo`]) and the activity of
//! clips ([`ActivityRepo`]); written once for both engines.
//!
//! Appends run in write transactions (SQLite's `BEGIN IMMEDIATE`: one writer at a time,
//! so the chain can not fork) that on PostgreSQL first take the ledger's lock
//! ([`Dialect::order_ledger`](super::sql::Dialect::order_ledger)).

use super::engine::{Columns, Engine, Exec, Transaction};
use super::evidence_rows::{
    activity_from_row, chain, fresh, ledger_from_row, stored_file_from_row,
};
use super::media_rows::to_i64;
use super::sql::Sql;
use crate::model::{Activity, LedgerAction, LedgerEntry, LedgerRecord, StoredFile};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The append-only ledger of every file the cloud stores and deletes: one chain for the
/// whole database, each entry holding the previous one's hash. Appends are serialised
/// (on PostgreSQL by a transaction-level advisory lock), so concurrent writers, replicas
/// included, make one chain without forks or gaps.
#[async_trait]
pub trait LedgerRepo: Send + Sync {
    /// Append `records` in order, each chained to the one before. A record whose object
    /// already has an entry for the same action is skipped (so filing again after a crash
    /// records nothing twice). Returns the entries appended.
    async fn append_ledger(&self, records: &[LedgerRecord]) -> Result<Vec<LedgerEntry>>;
    /// Append a `delete` entry at `now` for each of the user's files stored under one of
    /// `blob_keys` that has a `store` entry and no `delete` one yet.
    async fn ledger_deleted(
        &self,
        user_id: Uuid,
        blob_keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<LedgerEntry>>;
    /// Up to `limit` entries after `after_seq`, in chain order (for `verify-store`).
    async fn ledger_entries(&self, after_seq: i64, limit: u32) -> Result<Vec<LedgerEntry>>;
    /// Up to `limit` of every owner's stored recordings, time-lapses, clips and sidecars,
    /// by id after `after` (for `verify-store`).
    async fn stored_files(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<StoredFile>>;
}

/// What was done with each clip, for its owner to see; deleted with the clip.
#[async_trait]
pub trait ActivityRepo: Send + Sync {
    /// Record one activity; `false` (and nothing recorded) when the clip is not the
    /// owner's or no longer exists.
    async fn record_activity(&self, activity: &Activity) -> Result<bool>;
    /// The clip one of the user's share links is to (to record its revocation there).
    async fn share_clip(&self, user_id: Uuid, share_id: Uuid) -> Result<Option<Uuid>>;
    /// The activity of one of the user's clips, newest first, at most `limit`, older than
    /// the activity `before` (a cursor: the last id of the previous page).
    async fn clip_activity(
        &self,
        user_id: Uuid,
        clip_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Activity>>;
}

/// Append those of `records` not in the ledger yet, inside the caller's transaction,
/// which [`begin_append`] ordered after other appends.
async fn append<X: Exec>(tx: &mut X, records: Vec<LedgerRecord>) -> Result<Vec<LedgerEntry>> {
    let mut known = Vec::with_capacity(records.len());
    for record in &records {
        let seq = tx
            .fetch_optional(
                Sql::new("SELECT seq FROM ledger WHERE object_id = $1 AND action = $2")
                    .arg(record.file.object_id)
                    .arg(record.action.as_str()),
            )
            .await?;
        known.push(seq.is_some());
    }
    let fresh = fresh(records, &known);
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let head = tx
        .fetch_optional(Sql::new(
            "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
        ))
        .await?
        .map(|row| Ok::<_, crate::Error>((row.int("seq")?, row.text("hash")?)))
        .transpose()?;
    let entries = chain(head, fresh);
    for entry in &entries {
        let f = &entry.record.file;
        tx.execute(
            Sql::new(
                "INSERT INTO ledger (seq, action, kind, object_id, user_id, sha256, size, blob_key,
                                     at, prev_hash, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .arg(entry.seq)
            .arg(entry.record.action.as_str())
            .arg(&f.kind)
            .arg(f.object_id)
            .arg(f.user_id)
            .arg(&f.sha256)
            .arg(to_i64(f.size))
            .arg(&f.blob_key)
            .arg(entry.record.at)
            .arg(&entry.prev_hash)
            .arg(&entry.hash),
        )
        .await?;
    }
    Ok(entries)
}

/// A write transaction ordered after other ledger appends.
async fn begin_append<E: Engine>(engine: &E) -> Result<E::Tx> {
    let mut tx = engine.begin().await?;
    if let Some(lock) = E::DIALECT.order_ledger() {
        tx.execute(Sql::new(lock)).await?;
    }
    Ok(tx)
}

#[async_trait]
impl<E: Engine> LedgerRepo for E {
    async fn append_ledger(&self, records: &[LedgerRecord]) -> Result<Vec<LedgerEntry>> {
        let mut tx = begin_append(self).await?;
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
        let mut tx = begin_append(self).await?;
        let rows = tx
            .fetch_all(
                Sql::new(format!(
                    "SELECT * FROM ledger s WHERE s.user_id = $1 AND {}
                       AND s.action = 'store'
                       AND NOT EXISTS (SELECT 1 FROM ledger d
                                       WHERE d.object_id = s.object_id AND d.action = 'delete')
                     ORDER BY s.seq",
                    E::DIALECT.in_list("s.blob_key", 2)
                ))
                .arg(user_id)
                .arg(blob_keys.to_vec()),
            )
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
        self.db()
            .all(
                Sql::new("SELECT * FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .arg(after_seq)
                    .arg(limit),
                ledger_from_row,
            )
            .await
    }

    async fn stored_files(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<StoredFile>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM (
                         SELECT kind, id AS object_id, user_id, sha256, size, blob_key
                         FROM recordings
                         UNION ALL
                         SELECT 'clip', id, user_id, sha256, size, blob_key FROM clips
                         UNION ALL
                         SELECT 'sidecar', id, user_id, sha256, size, blob_key FROM sidecars) AS f
                     WHERE $1 IS NULL OR object_id > $1
                     ORDER BY object_id LIMIT $2",
                )
                .arg(after)
                .arg(limit),
                stored_file_from_row,
            )
            .await
    }
}

#[async_trait]
impl<E: Engine> ActivityRepo for E {
    async fn record_activity(&self, activity: &Activity) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new(
                    "INSERT INTO clip_activity (id, user_id, clip_id, at, action, via, ip_prefix)
                     SELECT $1, $2, $3, $4, $5, $6, $7
                     WHERE EXISTS (SELECT 1 FROM clips WHERE id = $3 AND user_id = $2)",
                )
                .arg(activity.id)
                .arg(activity.user_id)
                .arg(activity.clip_id)
                .arg(activity.at)
                .arg(activity.action.as_str())
                .arg(activity.via.as_str())
                .arg(activity.ip_prefix.as_ref()),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn share_clip(&self, user_id: Uuid, share_id: Uuid) -> Result<Option<Uuid>> {
        self.db()
            .fetch_optional(
                Sql::new("SELECT clip_id FROM shares WHERE user_id = $1 AND id = $2")
                    .arg(user_id)
                    .arg(share_id),
            )
            .await?
            .map(|row| row.uuid("clip_id"))
            .transpose()
    }

    async fn clip_activity(
        &self,
        user_id: Uuid,
        clip_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Activity>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM clip_activity
                     WHERE user_id = $1 AND clip_id = $2 AND ($3 IS NULL OR id < $3)
                     ORDER BY id DESC LIMIT $4",
                )
                .arg(user_id)
                .arg(clip_id)
                .arg(before)
                .arg(limit),
                activity_from_row,
            )
            .await
    }
}
