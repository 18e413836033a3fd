//! [`UploadRepo`] and [`MediaRepo`] on SQLite. Transactions that decide something
//! (which drive a recording joins) start with `BEGIN IMMEDIATE`, so they run one at a
//! time instead of failing on a lock upgrade.

use super::convert::{to_millis, to_u64};
use super::engine::{Columns, Engine, Exec};
use super::media_rows::{
    clip_from_row, drive_from_row, file_end, gap, incident_mask, merge_views, outcome_columns,
    recording_from_row, sidecar_from_row, to_i64, to_json, upload_from_row, views_text,
    COVERING_DRIVE,
};
use super::sqlite::SqliteRepo;
use super::{upload_sql, MediaRepo, UploadLock, UploadRepo};
use crate::model::{
    Clip, Drive, NewClip, NewRecording, Recording, Sidecar, StoredObject, Upload, UploadProgress,
    VideoFile, View,
};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row, Sqlite};
use uuid::Uuid;

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// Bind the columns every stored video file has, in `FILE_COLUMNS` order.
fn bind_file<'q>(query: SqliteQuery<'q>, file: &'q VideoFile) -> SqliteQuery<'q> {
    query
        .bind(&file.blob_key)
        .bind(to_i64(file.size))
        .bind(&file.sha256)
        .bind(to_millis(file.start))
        .bind(to_i64(file.duration_ms))
        .bind(&file.codec)
        .bind(i64::from(file.width))
        .bind(i64::from(file.height))
        .bind(to_json(&file.keyframes))
        .bind(to_json(&file.telemetry))
        .bind(&file.filename)
        .bind(file.clock.as_str())
        .bind(file.span_ms.map(to_i64))
        .bind(file.original_size.map(to_i64))
}

const FILE_COLUMNS: &str =
    "blob_key, size, sha256, start_at, duration_ms, codec, width, height, keyframes, telemetry, filename,
     clock, span_ms, original_size";
const FILE_VALUES: &str = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

#[async_trait]
impl UploadRepo for SqliteRepo {
    async fn create_upload(&self, u: &Upload) -> Result<()> {
        sqlx::query(
            "INSERT INTO uploads (id, user_id, device_id, upload_length, upload_offset, metadata,
                 blob_key, multipart_id, parts, tail_key, tail_len, partial, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id)
        .bind(u.user_id)
        .bind(u.device_id)
        .bind(to_i64(u.length))
        .bind(to_i64(u.offset))
        .bind(&u.metadata)
        .bind(&u.blob_key)
        .bind(&u.multipart_id)
        .bind(to_json(&u.parts))
        .bind(&u.tail_key)
        .bind(to_i64(u.tail_len))
        .bind(u.partial)
        .bind(to_millis(u.created_at))
        .bind(to_millis(u.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn upload(&self, user_id: Uuid, id: Uuid) -> Result<Option<Upload>> {
        sqlx::query("SELECT * FROM uploads WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(upload_from_row)
            .transpose()
    }

    async fn record_progress(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_offset: u64,
        p: &UploadProgress,
    ) -> Result<bool> {
        let (sha256, item_kind, item_id) = outcome_columns(p.outcome.as_ref());
        let done = sqlx::query(upload_sql::RECORD_PROGRESS)
            .bind(to_i64(p.offset))
            .bind(&p.multipart_id)
            .bind(to_json(&p.parts))
            .bind(&p.tail_key)
            .bind(to_i64(p.tail_len))
            .bind(sha256)
            .bind(item_kind)
            .bind(item_id)
            .bind(id)
            .bind(user_id)
            .bind(to_i64(expected_offset))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail_upload(&self, user_id: Uuid, id: Uuid, reason: &str) -> Result<()> {
        sqlx::query(upload_sql::FAIL_UPLOAD)
            .bind(reason)
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn upload_by_id(&self, id: Uuid) -> Result<Option<Upload>> {
        sqlx::query(upload_sql::UPLOAD_BY_ID)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(upload_from_row)
            .transpose()
    }

    async fn multipart_in_use(&self, multipart_id: &str) -> Result<bool> {
        Ok(sqlx::query_scalar(upload_sql::MULTIPART_IN_USE)
            .bind(multipart_id)
            .fetch_one(self.pool())
            .await?)
    }

    async fn stored_bytes(&self) -> Result<u64> {
        let total: i64 = sqlx::query_scalar(upload_sql::STORED_BYTES)
            .fetch_one(self.pool())
            .await?;
        to_u64(total, "stored bytes")
    }

    async fn lock_upload(&self, _id: Uuid) -> Result<Option<UploadLock>> {
        Ok(Some(UploadLock::in_process()))
    }

    async fn delete_upload(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM uploads WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Upload>> {
        sqlx::query("SELECT * FROM uploads WHERE expires_at <= ? ORDER BY expires_at LIMIT ?")
            .bind(to_millis(now))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(upload_from_row)
            .collect()
    }

    async fn used_bytes(&self, user_id: Uuid) -> Result<u64> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(SUM(upload_length), 0) FROM uploads
                     WHERE user_id = ?1 AND (upload_offset < upload_length OR partial)
                       AND failure IS NULL)
                  + (SELECT COALESCE(SUM(size), 0) FROM recordings WHERE user_id = ?1)
                  + (SELECT COALESCE(SUM(size), 0) FROM clips WHERE user_id = ?1)
                  + (SELECT COALESCE(SUM(size), 0) FROM sidecars WHERE user_id = ?1)",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?;
        to_u64(row.try_get(0)?, "used bytes")
    }
}

#[async_trait]
impl MediaRepo for SqliteRepo {
    async fn object_by_sha256(&self, user_id: Uuid, sha256: &str) -> Result<Option<StoredObject>> {
        let row = sqlx::query(
            "SELECT 'recording' AS what, id FROM recordings WHERE user_id = ?1 AND sha256 = ?2
             UNION ALL SELECT 'clip', id FROM clips WHERE user_id = ?1 AND sha256 = ?2
             UNION ALL SELECT 'sidecar', id FROM sidecars WHERE user_id = ?1 AND sha256 = ?2
             LIMIT 1",
        )
        .bind(user_id)
        .bind(sha256)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let what = row.text("what")?;
            StoredObject::from_kind(&what, row.uuid("id")?).ok_or(Error::Corrupt {
                column: "object kind",
                value: what,
            })
        })
        .transpose()
    }

    async fn add_recording(&self, r: &NewRecording) -> Result<Recording> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let existing = sqlx::query("SELECT * FROM recordings WHERE user_id = ? AND sha256 = ?")
            .bind(r.user_id)
            .bind(&r.file.sha256)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            return recording_from_row(&row);
        }
        let (start, end) = (r.file.start, file_end(&r.file));
        let near = sqlx::query(
            "SELECT * FROM drives WHERE user_id = ? AND device_id = ?
                 AND start_at <= ? AND end_at >= ?
             ORDER BY start_at LIMIT 1",
        )
        .bind(r.user_id)
        .bind(r.device_id)
        .bind(to_millis(end + gap(r.drive_gap_ms)))
        .bind(to_millis(start - gap(r.drive_gap_ms)))
        .fetch_optional(&mut *tx)
        .await?;
        let drive_id = match near {
            Some(row) => {
                let drive = drive_from_row(&row)?;
                sqlx::query("UPDATE drives SET start_at = ?, end_at = ?, views = ? WHERE id = ?")
                    .bind(to_millis(drive.start.min(start)))
                    .bind(to_millis(drive.end.max(end)))
                    .bind(merge_views(&row.text("views")?, r.view)?)
                    .bind(drive.id)
                    .execute(&mut *tx)
                    .await?;
                drive.id
            }
            None => {
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO drives (id, user_id, device_id, start_at, end_at, views, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(id)
                .bind(r.user_id)
                .bind(r.device_id)
                .bind(to_millis(start))
                .bind(to_millis(end))
                .bind(views_text(&[r.view]))
                .bind(to_millis(r.created_at))
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let sql = format!(
            "INSERT INTO recordings (id, user_id, device_id, drive_id, kind, view, created_at,
                 {FILE_COLUMNS})
             VALUES (?, ?, ?, ?, ?, ?, ?, {FILE_VALUES}) RETURNING *"
        );
        let query = sqlx::query(&sql)
            .bind(r.id)
            .bind(r.user_id)
            .bind(r.device_id)
            .bind(drive_id)
            .bind(r.kind.as_str())
            .bind(r.view.as_str())
            .bind(to_millis(r.created_at));
        let row = bind_file(query, &r.file).fetch_one(&mut *tx).await?;
        let recording = recording_from_row(&row)?;
        tx.commit().await?;
        Ok(recording)
    }

    async fn add_clip(&self, c: &NewClip) -> Result<Clip> {
        // The incidents first: a clip on record always has them on its device's timeline.
        if let Some(keep) = super::library::keep_incidents(c.user_id, c.device_id, &c.incidents) {
            self.db().execute(keep).await?;
        }
        let sql = format!(
            "INSERT INTO clips (id, user_id, device_id, kind, view, incidents, created_at,
                 {FILE_COLUMNS}, incident_mask)
             VALUES (?, ?, ?, ?, ?, ?, ?, {FILE_VALUES}, ?)
             ON CONFLICT (user_id, sha256) DO NOTHING"
        );
        let query = sqlx::query(&sql)
            .bind(c.id)
            .bind(c.user_id)
            .bind(c.device_id)
            .bind(c.kind.as_str())
            .bind(c.view.as_str())
            .bind(to_json(&c.incidents))
            .bind(to_millis(c.created_at));
        bind_file(query, &c.file)
            .bind(incident_mask(&c.incidents))
            .execute(self.pool())
            .await?;
        let sql =
            format!("SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = ? AND sha256 = ?");
        let row = sqlx::query(&sql)
            .bind(c.user_id)
            .bind(&c.file.sha256)
            .fetch_one(self.pool())
            .await?;
        clip_from_row(&row)
    }

    async fn add_sidecar(&self, s: &Sidecar) -> Result<Sidecar> {
        sqlx::query(
            "INSERT INTO sidecars (id, user_id, device_id, start_at, blob_key, size, sha256,
                 telemetry, filename, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (user_id, sha256) DO NOTHING",
        )
        .bind(s.id)
        .bind(s.user_id)
        .bind(s.device_id)
        .bind(to_millis(s.start))
        .bind(&s.blob_key)
        .bind(to_i64(s.size))
        .bind(&s.sha256)
        .bind(to_json(&s.telemetry))
        .bind(&s.filename)
        .bind(to_millis(s.created_at))
        .execute(self.pool())
        .await?;
        let sql = format!(
            "SELECT t.*, {COVERING_DRIVE} FROM sidecars t WHERE user_id = ? AND sha256 = ?"
        );
        let row = sqlx::query(&sql)
            .bind(s.user_id)
            .bind(&s.sha256)
            .fetch_one(self.pool())
            .await?;
        sidecar_from_row(&row)
    }

    async fn recording(&self, user_id: Uuid, id: Uuid) -> Result<Option<Recording>> {
        sqlx::query("SELECT * FROM recordings WHERE user_id = ? AND id = ?")
            .bind(user_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(recording_from_row)
            .transpose()
    }

    async fn clip(&self, user_id: Uuid, id: Uuid) -> Result<Option<Clip>> {
        let sql = format!("SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = ? AND id = ?");
        sqlx::query(&sql)
            .bind(user_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(clip_from_row)
            .transpose()
    }

    async fn sidecar(&self, user_id: Uuid, id: Uuid) -> Result<Option<Sidecar>> {
        let sql =
            format!("SELECT t.*, {COVERING_DRIVE} FROM sidecars t WHERE user_id = ? AND id = ?");
        sqlx::query(&sql)
            .bind(user_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(sidecar_from_row)
            .transpose()
    }

    async fn drives(&self, user_id: Uuid, limit: u32) -> Result<Vec<Drive>> {
        sqlx::query(
            "SELECT * FROM drives WHERE user_id = ? ORDER BY start_at DESC, id DESC LIMIT ?",
        )
        .bind(user_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(drive_from_row)
        .collect()
    }

    async fn clips(&self, user_id: Uuid, limit: u32) -> Result<Vec<Clip>> {
        let sql = format!(
            "SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = ?
             ORDER BY start_at DESC, id DESC LIMIT ?"
        );
        sqlx::query(&sql)
            .bind(user_id)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(clip_from_row)
            .collect()
    }

    async fn drive_recordings(&self, user_id: Uuid, drive_id: Uuid) -> Result<Vec<Recording>> {
        sqlx::query(
            "SELECT * FROM recordings WHERE user_id = ? AND drive_id = ?
             ORDER BY start_at, view, id",
        )
        .bind(user_id)
        .bind(drive_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(recording_from_row)
        .collect()
    }

    async fn nearest_recording(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        view: View,
        at: DateTime<Utc>,
    ) -> Result<Option<Recording>> {
        sqlx::query(
            "SELECT * FROM recordings WHERE user_id = ? AND device_id = ? AND view = ?
                 AND kind = 'recording' AND original_size IS NULL
             ORDER BY abs(start_at - ?), id LIMIT 1",
        )
        .bind(user_id)
        .bind(device_id)
        .bind(view.as_str())
        .bind(to_millis(at))
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(recording_from_row)
        .transpose()
    }
}
