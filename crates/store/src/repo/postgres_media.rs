//! [`UploadRepo`] and [`MediaRepo`] on PostgreSQL. Adding a recording locks its device's
//! row first, so two replicas adding recordings of one device decide its drive one after
//! the other (never two drives for one journey).

use super::convert::{to_u64, truncate_to_millis};
use super::engine::{Columns, Engine, Exec};
use super::media_rows::{
    clip_from_row, drive_from_row, file_end, gap, incident_mask, merge_views, outcome_columns,
    recording_from_row, sidecar_from_row, to_i64, to_json, upload_from_row, views_text,
    COVERING_DRIVE,
};
use super::postgres::PostgresRepo;
use super::upload_lock::advisory_key;
use super::{upload_sql, MediaRepo, UploadLock, UploadRepo};
use crate::model::{
    Clip, Drive, NewClip, NewRecording, Recording, Sidecar, StoredObject, Upload, UploadProgress,
    VideoFile, View,
};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Row};
use uuid::Uuid;

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// Bind the columns every stored video file has, in `FILE_COLUMNS` order.
fn bind_file<'q>(query: PgQuery<'q>, file: &'q VideoFile) -> PgQuery<'q> {
    query
        .bind(&file.blob_key)
        .bind(to_i64(file.size))
        .bind(&file.sha256)
        .bind(truncate_to_millis(file.start))
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
const FILE_VALUES: &str = "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21";

#[async_trait]
impl UploadRepo for PostgresRepo {
    async fn create_upload(&self, u: &Upload) -> Result<()> {
        sqlx::query(
            "INSERT INTO uploads (id, user_id, device_id, upload_length, upload_offset, metadata,
                 blob_key, multipart_id, parts, tail_key, tail_len, partial, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
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
        .bind(truncate_to_millis(u.created_at))
        .bind(truncate_to_millis(u.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn upload(&self, user_id: Uuid, id: Uuid) -> Result<Option<Upload>> {
        sqlx::query("SELECT * FROM uploads WHERE id = $1 AND user_id = $2")
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

    async fn lock_upload(&self, id: Uuid) -> Result<Option<UploadLock>> {
        let mut conn = self.pool().acquire().await?;
        let key = advisory_key(id);
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        Ok(locked.then(|| UploadLock::advisory(conn, key)))
    }

    async fn delete_upload(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM uploads WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn expired_uploads(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Upload>> {
        sqlx::query("SELECT * FROM uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2")
            .bind(truncate_to_millis(now))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(upload_from_row)
            .collect()
    }

    async fn used_bytes(&self, user_id: Uuid) -> Result<u64> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(SUM(upload_length), 0)::BIGINT FROM uploads
                     WHERE user_id = $1 AND (upload_offset < upload_length OR partial)
                       AND failure IS NULL)
                  + (SELECT COALESCE(SUM(size), 0)::BIGINT FROM recordings WHERE user_id = $1)
                  + (SELECT COALESCE(SUM(size), 0)::BIGINT FROM clips WHERE user_id = $1)
                  + (SELECT COALESCE(SUM(size), 0)::BIGINT FROM sidecars WHERE user_id = $1)",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?;
        to_u64(row.try_get(0)?, "used bytes")
    }
}

#[async_trait]
impl MediaRepo for PostgresRepo {
    async fn object_by_sha256(&self, user_id: Uuid, sha256: &str) -> Result<Option<StoredObject>> {
        let row = sqlx::query(
            "SELECT 'recording' AS what, id FROM recordings WHERE user_id = $1 AND sha256 = $2
             UNION ALL SELECT 'clip', id FROM clips WHERE user_id = $1 AND sha256 = $2
             UNION ALL SELECT 'sidecar', id FROM sidecars WHERE user_id = $1 AND sha256 = $2
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
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE")
            .bind(r.device_id)
            .execute(&mut *tx)
            .await?;
        let existing = sqlx::query("SELECT * FROM recordings WHERE user_id = $1 AND sha256 = $2")
            .bind(r.user_id)
            .bind(&r.file.sha256)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            return recording_from_row(&row);
        }
        let (start, end) = (r.file.start, file_end(&r.file));
        let near = sqlx::query(
            "SELECT * FROM drives WHERE user_id = $1 AND device_id = $2
                 AND start_at <= $3 AND end_at >= $4
             ORDER BY start_at LIMIT 1",
        )
        .bind(r.user_id)
        .bind(r.device_id)
        .bind(truncate_to_millis(end + gap(r.drive_gap_ms)))
        .bind(truncate_to_millis(start - gap(r.drive_gap_ms)))
        .fetch_optional(&mut *tx)
        .await?;
        let drive_id = match near {
            Some(row) => {
                let drive = drive_from_row(&row)?;
                sqlx::query(
                    "UPDATE drives SET start_at = $1, end_at = $2, views = $3 WHERE id = $4",
                )
                .bind(truncate_to_millis(drive.start.min(start)))
                .bind(truncate_to_millis(drive.end.max(end)))
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
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(r.user_id)
                .bind(r.device_id)
                .bind(truncate_to_millis(start))
                .bind(truncate_to_millis(end))
                .bind(views_text(&[r.view]))
                .bind(truncate_to_millis(r.created_at))
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let sql = format!(
            "INSERT INTO recordings (id, user_id, device_id, drive_id, kind, view, created_at,
                 {FILE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, {FILE_VALUES}) RETURNING *"
        );
        let query = sqlx::query(&sql)
            .bind(r.id)
            .bind(r.user_id)
            .bind(r.device_id)
            .bind(drive_id)
            .bind(r.kind.as_str())
            .bind(r.view.as_str())
            .bind(truncate_to_millis(r.created_at));
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, {FILE_VALUES}, $22)
             ON CONFLICT (user_id, sha256) DO NOTHING"
        );
        let query = sqlx::query(&sql)
            .bind(c.id)
            .bind(c.user_id)
            .bind(c.device_id)
            .bind(c.kind.as_str())
            .bind(c.view.as_str())
            .bind(to_json(&c.incidents))
            .bind(truncate_to_millis(c.created_at));
        bind_file(query, &c.file)
            .bind(incident_mask(&c.incidents))
            .execute(self.pool())
            .await?;
        let sql =
            format!("SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = $1 AND sha256 = $2");
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (user_id, sha256) DO NOTHING",
        )
        .bind(s.id)
        .bind(s.user_id)
        .bind(s.device_id)
        .bind(truncate_to_millis(s.start))
        .bind(&s.blob_key)
        .bind(to_i64(s.size))
        .bind(&s.sha256)
        .bind(to_json(&s.telemetry))
        .bind(&s.filename)
        .bind(truncate_to_millis(s.created_at))
        .execute(self.pool())
        .await?;
        let sql = format!(
            "SELECT t.*, {COVERING_DRIVE} FROM sidecars t WHERE user_id = $1 AND sha256 = $2"
        );
        let row = sqlx::query(&sql)
            .bind(s.user_id)
            .bind(&s.sha256)
            .fetch_one(self.pool())
            .await?;
        sidecar_from_row(&row)
    }

    async fn recording(&self, user_id: Uuid, id: Uuid) -> Result<Option<Recording>> {
        sqlx::query("SELECT * FROM recordings WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(recording_from_row)
            .transpose()
    }

    async fn clip(&self, user_id: Uuid, id: Uuid) -> Result<Option<Clip>> {
        let sql =
            format!("SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = $1 AND id = $2");
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
            format!("SELECT t.*, {COVERING_DRIVE} FROM sidecars t WHERE user_id = $1 AND id = $2");
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
            "SELECT * FROM drives WHERE user_id = $1 ORDER BY start_at DESC, id DESC LIMIT $2",
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
            "SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = $1
             ORDER BY start_at DESC, id DESC LIMIT $2"
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
            "SELECT * FROM recordings WHERE user_id = $1 AND drive_id = $2
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
            "SELECT * FROM recordings WHERE user_id = $1 AND device_id = $2 AND view = $3
                 AND kind = 'recording' AND original_size IS NULL
             ORDER BY abs(EXTRACT(EPOCH FROM (start_at - $4))), id LIMIT 1",
        )
        .bind(user_id)
        .bind(device_id)
        .bind(view.as_str())
        .bind(truncate_to_millis(at))
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(recording_from_row)
        .transpose()
    }
}
