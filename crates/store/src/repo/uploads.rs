//! Resumable uploads in progress: [`UploadRepo`], written once for both engines. Who may
//! write an upload right now is each engine's own [`UploadLock`] ([`Engine::upload_lock`]).

use super::convert::to_u64;
use super::engine::{Columns, Engine, Exec};
use super::media_rows::{outcome_columns, to_i64, to_json, upload_from_row};
use super::sql::Sql;
use super::upload_lock::UploadLock;
use crate::model::{Upload, UploadProgress};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Resumable uploads in progress.
#[async_trait]
pub trait UploadRepo: Send + Sync {
    /// Store a new upload.
    async fn create_upload(&self, upload: &Upload) -> Result<()>;
    /// One of the user's uploads.
    async fn upload(&self, user_id: Uuid, id: Uuid) -> Result<Option<Upload>>;
    /// Replace the upload's progress if its offset is still `expected_offset` (so two
    /// writers can not both advance it); `false` when it moved or the upload is gone.
    async fn record_progress(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_offset: u64,
        progress: &UploadProgress,
    ) -> Result<bool>;
    /// Forget one of the user's uploads; `false` if there was none.
    async fn delete_upload(&self, user_id: Uuid, id: Uuid) -> Result<bool>;
    /// Up to `limit` uploads (of any user) that expired before `now`, for cleanup.
    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Upload>>;
    /// Record why the user's completed upload was refused (its bytes are gone); it stays
    /// listed with that reason until it expires.
    async fn fail_upload(&self, user_id: Uuid, id: Uuid, reason: &str) -> Result<()>;
    /// An upload of any owner (for sweeps of what no upload owns).
    async fn upload_by_id(&self, id: Uuid) -> Result<Option<Upload>>;
    /// Whether an upload's row names this blob store multipart upload id.
    async fn multipart_in_use(&self, multipart_id: &str) -> Result<bool>;
    /// Bytes of every stored recording, clip and sidecar, of all owners.
    async fn stored_bytes(&self) -> Result<u64>;
    /// The right to write upload `id`, exclusive among every process on this database,
    /// until the lock is dropped; `None` while another holder has it. A process that dies
    /// loses its locks at once (so a resumed upload is not kept waiting).
    async fn lock_upload(&self, id: Uuid) -> Result<Option<UploadLock>>;
    /// Declared bytes of the user's unfinished (or partial) uploads plus bytes of their stored
    /// recordings, clips and sidecars: what counts against a quota.
    async fn used_bytes(&self, user_id: Uuid) -> Result<u64>;
}

#[async_trait]
impl<E: Engine> UploadRepo for E {
    async fn create_upload(&self, u: &Upload) -> Result<()> {
        let sql = Sql::new(
            "INSERT INTO uploads (id, user_id, device_id, upload_length, upload_offset, metadata,
                 blob_key, multipart_id, parts, tail_key, tail_len, partial, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .arg(u.id)
        .arg(u.user_id)
        .arg(u.device_id)
        .arg(to_i64(u.length))
        .arg(to_i64(u.offset))
        .arg(&u.metadata)
        .arg(&u.blob_key)
        .arg(u.multipart_id.as_ref())
        .arg(to_json(&u.parts))
        .arg(u.tail_key.as_ref())
        .arg(to_i64(u.tail_len))
        .arg(u.partial)
        .arg(u.created_at)
        .arg(u.expires_at);
        self.db().execute(sql).await?;
        Ok(())
    }

    async fn upload(&self, user_id: Uuid, id: Uuid) -> Result<Option<Upload>> {
        self.db()
            .optional(
                Sql::new("SELECT * FROM uploads WHERE id = $1 AND user_id = $2")
                    .arg(id)
                    .arg(user_id),
                upload_from_row,
            )
            .await
    }

    async fn record_progress(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_offset: u64,
        p: &UploadProgress,
    ) -> Result<bool> {
        let (sha256, item_kind, item_id) = outcome_columns(p.outcome.as_ref());
        let sql = Sql::new(
            "UPDATE uploads SET upload_offset = $1, multipart_id = $2, parts = $3,
                 tail_key = $4, tail_len = $5, sha256 = $6, item_kind = $7, item_id = $8
             WHERE id = $9 AND user_id = $10 AND upload_offset = $11",
        )
        .arg(to_i64(p.offset))
        .arg(p.multipart_id.as_ref())
        .arg(to_json(&p.parts))
        .arg(p.tail_key.as_ref())
        .arg(to_i64(p.tail_len))
        .arg(sha256)
        .arg(item_kind)
        .arg(item_id)
        .arg(id)
        .arg(user_id)
        .arg(to_i64(expected_offset));
        Ok(self.db().execute(sql).await? == 1)
    }

    async fn delete_upload(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let deleted = self
            .db()
            .execute(
                Sql::new("DELETE FROM uploads WHERE id = $1 AND user_id = $2")
                    .arg(id)
                    .arg(user_id),
            )
            .await?;
        Ok(deleted == 1)
    }

    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Upload>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2",
                )
                .arg(now)
                .arg(limit),
                upload_from_row,
            )
            .await
    }

    async fn fail_upload(&self, user_id: Uuid, id: Uuid, reason: &str) -> Result<()> {
        self.db()
            .execute(
                Sql::new("UPDATE uploads SET failure = $1 WHERE id = $2 AND user_id = $3")
                    .arg(reason)
                    .arg(id)
                    .arg(user_id),
            )
            .await?;
        Ok(())
    }

    async fn upload_by_id(&self, id: Uuid) -> Result<Option<Upload>> {
        self.db()
            .optional(
                Sql::new("SELECT * FROM uploads WHERE id = $1").arg(id),
                upload_from_row,
            )
            .await
    }

    async fn multipart_in_use(&self, multipart_id: &str) -> Result<bool> {
        let row = self
            .db()
            .fetch_one(
                Sql::new("SELECT EXISTS (SELECT 1 FROM uploads WHERE multipart_id = $1) AS in_use")
                    .arg(multipart_id),
            )
            .await?;
        row.flag("in_use")
    }

    async fn stored_bytes(&self) -> Result<u64> {
        let row = self
            .db()
            .fetch_one(Sql::new(
                "SELECT CAST((SELECT COALESCE(SUM(size), 0) FROM recordings) AS BIGINT)
                      + CAST((SELECT COALESCE(SUM(size), 0) FROM clips) AS BIGINT)
                      + CAST((SELECT COALESCE(SUM(size), 0) FROM sidecars) AS BIGINT) AS total",
            ))
            .await?;
        to_u64(row.int("total")?, "stored bytes")
    }

    async fn lock_upload(&self, id: Uuid) -> Result<Option<UploadLock>> {
        self.upload_lock(id).await
    }

    async fn used_bytes(&self, user_id: Uuid) -> Result<u64> {
        let row = self
            .db()
            .fetch_one(
                Sql::new(
                    "SELECT CAST((SELECT COALESCE(SUM(upload_length), 0) FROM uploads
                             WHERE user_id = $1 AND (upload_offset < upload_length OR partial)
                               AND failure IS NULL) AS BIGINT)
                          + CAST((SELECT COALESCE(SUM(size), 0) FROM recordings
                             WHERE user_id = $1) AS BIGINT)
                          + CAST((SELECT COALESCE(SUM(size), 0) FROM clips
                             WHERE user_id = $1) AS BIGINT)
                          + CAST((SELECT COALESCE(SUM(size), 0) FROM sidecars
                             WHERE user_id = $1) AS BIGINT) AS total",
                )
                .arg(user_id),
            )
            .await?;
        to_u64(row.int("total")?, "used bytes")
    }
}
