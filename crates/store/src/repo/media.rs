//! Drives, recordings, clips and sidecars: [`MediaRepo`], written once for both engines.
//! Every read takes the owner id.
//!
//! Adding a recording decides which drive it joins, in one write transaction (SQLite's
//! `BEGIN IMMEDIATE`, so such transactions run one at a time instead of failing on a lock
//! upgrade). On PostgreSQL it also locks its device's row first ([`Dialect::for_update`]),
//! so two replicas adding recordings of one device decide its drive one after the other
//! (never two drives for one journey).
//!
//! [`Dialect::for_update`]: super::sql::Dialect::for_update

use super::engine::{Columns, Engine, Exec, Transaction};
use super::media_rows::{
    clip_from_row, drive_from_row, gap, incident_mask, merge_views, recording_from_row,
    sidecar_from_row, to_i64, to_json, views_text, COVERING_DRIVE,
};
use super::sql::Sql;
use crate::model::{
    Clip, Drive, NewClip, NewRecording, Recording, Sidecar, StoredObject, VideoFile, View,
};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Drives, recordings, clips and sidecars.
#[async_trait]
pub trait MediaRepo: Send + Sync {
    /// What the user's file with this SHA-256 (lower-case hex) already is, if stored.
    async fn object_by_sha256(&self, user_id: Uuid, sha256: &str) -> Result<Option<StoredObject>>;
    /// Add a recording, in one transaction extending the device's drive it continues
    /// (one that ends at most `drive_gap_ms` before it starts or starts at most that long
    /// after it ends) or creating a new drive. A file already stored for this owner (same
    /// SHA-256) is not added twice: the stored recording is returned.
    async fn add_recording(&self, recording: &NewRecording) -> Result<Recording>;
    /// Add a clip (attached to the drive covering its start, if any); an already stored
    /// file (same owner and SHA-256) gives the stored clip.
    async fn add_clip(&self, clip: &NewClip) -> Result<Clip>;
    /// Add a sidecar; an already stored file (same owner and SHA-256) gives the stored one.
    async fn add_sidecar(&self, sidecar: &Sidecar) -> Result<Sidecar>;
    /// One of the user's recordings.
    async fn recording(&self, user_id: Uuid, id: Uuid) -> Result<Option<Recording>>;
    /// One of the user's clips.
    async fn clip(&self, user_id: Uuid, id: Uuid) -> Result<Option<Clip>>;
    /// One of the user's sidecars, with the drive covering its start.
    async fn sidecar(&self, user_id: Uuid, id: Uuid) -> Result<Option<Sidecar>>;
    /// The user's drives, newest start first, at most `limit`.
    async fn drives(&self, user_id: Uuid, limit: u32) -> Result<Vec<Drive>>;
    /// The user's clips, newest start first, at most `limit`.
    async fn clips(&self, user_id: Uuid, limit: u32) -> Result<Vec<Clip>>;
    /// The recordings of one of the user's drives, in time order.
    async fn drive_recordings(&self, user_id: Uuid, drive_id: Uuid) -> Result<Vec<Recording>>;
    /// The user's recording (not time-lapse, not itself rebuilt) of `device_id` and `view`
    /// that started nearest to `at`: the sibling whose codec configuration rebuilds the
    /// index of a recording the camera's power cut left without one.
    async fn nearest_recording(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        view: View,
        at: DateTime<Utc>,
    ) -> Result<Option<Recording>>;
}

/// The columns every stored video file has, in the order [`bind_file`] binds them.
const FILE_COLUMNS: &str =
    "blob_key, size, sha256, start_at, duration_ms, codec, width, height, keyframes, telemetry,
     filename, clock, span_ms, original_size";

/// Append the values of `file`'s [`FILE_COLUMNS`], comma-separated.
fn bind_file(sql: &mut Sql, file: &VideoFile) {
    sql.bind(&file.blob_key)
        .push(", ")
        .bind(to_i64(file.size))
        .push(", ")
        .bind(&file.sha256)
        .push(", ")
        .bind(file.start)
        .push(", ")
        .bind(to_i64(file.duration_ms))
        .push(", ")
        .bind(&file.codec)
        .push(", ")
        .bind(file.width)
        .push(", ")
        .bind(file.height)
        .push(", ")
        .bind(to_json(&file.keyframes))
        .push(", ")
        .bind(to_json(&file.telemetry))
        .push(", ")
        .bind(file.filename.as_ref())
        .push(", ")
        .bind(file.clock.as_str())
        .push(", ")
        .bind(file.span_ms.map(to_i64))
        .push(", ")
        .bind(file.original_size.map(to_i64));
}

#[async_trait]
impl<E: Engine> MediaRepo for E {
    async fn object_by_sha256(&self, user_id: Uuid, sha256: &str) -> Result<Option<StoredObject>> {
        let row = self
            .db()
            .fetch_optional(
                Sql::new(
                    "SELECT 'recording' AS what, id FROM recordings
                         WHERE user_id = $1 AND sha256 = $2
                     UNION ALL SELECT 'clip', id FROM clips WHERE user_id = $1 AND sha256 = $2
                     UNION ALL SELECT 'sidecar', id FROM sidecars
                         WHERE user_id = $1 AND sha256 = $2
                     LIMIT 1",
                )
                .arg(user_id)
                .arg(sha256),
            )
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
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new(format!(
                "SELECT 1 FROM devices WHERE id = $1{}",
                E::DIALECT.for_update()
            ))
            .arg(r.device_id),
        )
        .await?;
        let existing = tx
            .fetch_optional(
                Sql::new("SELECT * FROM recordings WHERE user_id = $1 AND sha256 = $2")
                    .arg(r.user_id)
                    .arg(&r.file.sha256),
            )
            .await?;
        if let Some(row) = existing {
            return recording_from_row(&row);
        }
        let (start, end) = (r.file.start, r.file.end());
        let near = tx
            .fetch_optional(
                Sql::new(
                    "SELECT * FROM drives WHERE user_id = $1 AND device_id = $2
                         AND start_at <= $3 AND end_at >= $4
                     ORDER BY start_at LIMIT 1",
                )
                .arg(r.user_id)
                .arg(r.device_id)
                .arg(end + gap(r.drive_gap_ms))
                .arg(start - gap(r.drive_gap_ms)),
            )
            .await?;
        let drive_id = match near {
            Some(row) => {
                let drive = drive_from_row(&row)?;
                tx.execute(
                    Sql::new(
                        "UPDATE drives SET start_at = $1, end_at = $2, views = $3 WHERE id = $4",
                    )
                    .arg(drive.start.min(start))
                    .arg(drive.end.max(end))
                    .arg(merge_views(&row.text("views")?, r.view)?)
                    .arg(drive.id),
                )
                .await?;
                drive.id
            }
            None => {
                let id = Uuid::now_v7();
                tx.execute(
                    Sql::new(
                        "INSERT INTO drives (id, user_id, device_id, start_at, end_at, views,
                             created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .arg(id)
                    .arg(r.user_id)
                    .arg(r.device_id)
                    .arg(start)
                    .arg(end)
                    .arg(views_text(&[r.view]))
                    .arg(r.created_at),
                )
                .await?;
                id
            }
        };
        let mut sql = Sql::new(format!(
            "INSERT INTO recordings (id, user_id, device_id, drive_id, kind, view, created_at,
                 {FILE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, "
        ))
        .arg(r.id)
        .arg(r.user_id)
        .arg(r.device_id)
        .arg(drive_id)
        .arg(r.kind.as_str())
        .arg(r.view.as_str())
        .arg(r.created_at);
        bind_file(&mut sql, &r.file);
        sql.push(") RETURNING *");
        let recording = recording_from_row(&tx.fetch_one(sql).await?)?;
        tx.commit().await?;
        Ok(recording)
    }

    async fn add_clip(&self, c: &NewClip) -> Result<Clip> {
        // The incidents first: a clip on record always has them on its device's timeline.
        if let Some(keep) = super::library::keep_incidents(c.user_id, c.device_id, &c.incidents) {
            self.db().execute(keep).await?;
        }
        let mut sql = Sql::new(format!(
            "INSERT INTO clips (id, user_id, device_id, kind, view, incidents, created_at,
                 {FILE_COLUMNS}, incident_mask)
             VALUES ($1, $2, $3, $4, $5, $6, $7, "
        ))
        .arg(c.id)
        .arg(c.user_id)
        .arg(c.device_id)
        .arg(c.kind.as_str())
        .arg(c.view.as_str())
        .arg(to_json(&c.incidents))
        .arg(c.created_at);
        bind_file(&mut sql, &c.file);
        sql.push(", ")
            .bind(incident_mask(&c.incidents))
            .push(") ON CONFLICT (user_id, sha256) DO NOTHING");
        self.db().execute(sql).await?;
        let row = self
            .db()
            .fetch_one(
                Sql::new(format!(
                    "SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = $1 AND sha256 = $2"
                ))
                .arg(c.user_id)
                .arg(&c.file.sha256),
            )
            .await?;
        clip_from_row(&row)
    }

    async fn add_sidecar(&self, s: &Sidecar) -> Result<Sidecar> {
        self.db()
            .execute(
                Sql::new(
                    "INSERT INTO sidecars (id, user_id, device_id, start_at, blob_key, size,
                         sha256, telemetry, filename, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (user_id, sha256) DO NOTHING",
                )
                .arg(s.id)
                .arg(s.user_id)
                .arg(s.device_id)
                .arg(s.start)
                .arg(&s.blob_key)
                .arg(to_i64(s.size))
                .arg(&s.sha256)
                .arg(to_json(&s.telemetry))
                .arg(s.filename.as_ref())
                .arg(s.created_at),
            )
            .await?;
        let row = self
            .db()
            .fetch_one(
                Sql::new(format!(
                    "SELECT t.*, {COVERING_DRIVE} FROM sidecars t
                     WHERE user_id = $1 AND sha256 = $2"
                ))
                .arg(s.user_id)
                .arg(&s.sha256),
            )
            .await?;
        sidecar_from_row(&row)
    }

    async fn recording(&self, user_id: Uuid, id: Uuid) -> Result<Option<Recording>> {
        self.db()
            .optional(
                Sql::new("SELECT * FROM recordings WHERE user_id = $1 AND id = $2")
                    .arg(user_id)
                    .arg(id),
                recording_from_row,
            )
            .await
    }

    async fn clip(&self, user_id: Uuid, id: Uuid) -> Result<Option<Clip>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = $1 AND id = $2"
                ))
                .arg(user_id)
                .arg(id),
                clip_from_row,
            )
            .await
    }

    async fn sidecar(&self, user_id: Uuid, id: Uuid) -> Result<Option<Sidecar>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "SELECT t.*, {COVERING_DRIVE} FROM sidecars t WHERE user_id = $1 AND id = $2"
                ))
                .arg(user_id)
                .arg(id),
                sidecar_from_row,
            )
            .await
    }

    async fn drives(&self, user_id: Uuid, limit: u32) -> Result<Vec<Drive>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM drives WHERE user_id = $1
                     ORDER BY start_at DESC, id DESC LIMIT $2",
                )
                .arg(user_id)
                .arg(limit),
                drive_from_row,
            )
            .await
    }

    async fn clips(&self, user_id: Uuid, limit: u32) -> Result<Vec<Clip>> {
        self.db()
            .all(
                Sql::new(format!(
                    "SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE user_id = $1
                     ORDER BY start_at DESC, id DESC LIMIT $2"
                ))
                .arg(user_id)
                .arg(limit),
                clip_from_row,
            )
            .await
    }

    async fn drive_recordings(&self, user_id: Uuid, drive_id: Uuid) -> Result<Vec<Recording>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM recordings WHERE user_id = $1 AND drive_id = $2
                     ORDER BY start_at, view, id",
                )
                .arg(user_id)
                .arg(drive_id),
                recording_from_row,
            )
            .await
    }

    async fn nearest_recording(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        view: View,
        at: DateTime<Utc>,
    ) -> Result<Option<Recording>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "SELECT * FROM recordings WHERE user_id = $1 AND device_id = $2 AND view = $3
                         AND kind = 'recording' AND original_size IS NULL
                     ORDER BY {}, id LIMIT 1",
                    E::DIALECT.time_distance("start_at", 4)
                ))
                .arg(user_id)
                .arg(device_id)
                .arg(view.as_str())
                .arg(at),
                recording_from_row,
            )
            .await
    }
}
