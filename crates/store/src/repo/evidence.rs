//! Evidence traits: the hash-chained ledger of stored files ([`LedgerRepo`]) and the
//! activity of clips ([`ActivityRepo`]).

use crate::model::{Activity, LedgerEntry, LedgerRecord, StoredFile};
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
