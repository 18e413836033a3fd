//! [`LibraryRepo`] on PostgreSQL. A deletion is one transaction, so its rows, tombstone
//! and blob-removal job are written together or not at all; deleting a drive first locks
//! its device's row, as adding a recording does, so a drive is never extended while it
//! is deleted.

use super::convert::truncate_to_millis;
use super::library::{
    self, delete_blobs_payload, insert_delete_job_sql, tombstone_from_row, Dialect, Param, Sql,
};
use super::media_rows::{clip_from_row, drive_from_row, sidecar_from_row, to_json, Columns};
use super::postgres::PostgresRepo;
use super::LibraryRepo;
use crate::model::{
    Clip, Deletion, DeviceIncident, Drive, NewJob, PageRequest, Sidecar, Tombstone, TombstoneKind,
};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Postgres, Row};
use uuid::Uuid;

pub(super) const DIALECT: Dialect = Dialect {
    placeholder: '$',
    time_of_day: "((EXTRACT(EPOCH FROM t.start_at) * 1000)::BIGINT % 86400000)",
};

/// Run a generated statement.
pub(super) async fn execute(repo: &PostgresRepo, sql: &Sql) -> Result<()> {
    let mut query = sqlx::query::<Postgres>(&sql.text);
    for p in &sql.params {
        query = bind(query, p);
    }
    query.execute(repo.pool()).await?;
    Ok(())
}

/// Run a generated query, all rows.
async fn fetch(repo: &PostgresRepo, sql: &Sql) -> Result<Vec<PgRow>> {
    let mut query = sqlx::query::<Postgres>(&sql.text);
    for p in &sql.params {
        query = bind(query, p);
    }
    Ok(query.fetch_all(repo.pool()).await?)
}

fn bind<'q>(
    query: sqlx::query::Query<'q, Postgres, PgArguments>,
    p: &Param,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    match p {
        Param::Uuid(u) => query.bind(*u),
        Param::Int(n) => query.bind(*n),
        Param::Time(t) => query.bind(truncate_to_millis(*t)),
        Param::Bool(b) => query.bind(*b),
        Param::Text(s) => query.bind(s.clone()),
        Param::Float(x) => query.bind(*x),
    }
}

/// The tombstone of the user's deleted `kind` with this id, if any.
async fn tombstone(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: TombstoneKind,
    id: Uuid,
) -> Result<Option<Tombstone>> {
    sqlx::query("SELECT * FROM tombstones WHERE user_id = $1 AND kind = $2 AND object_id = $3")
        .bind(user_id)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(tombstone_from_row)
        .transpose()
}

/// First key of the advisory lock that orders one user's tombstones (the second is the
/// user's hash): any constant no other lock of this database uses.
const TOMBSTONE_LOCK: i32 = 0x646f_6d62;

/// Write the tombstone and queue the blob removal; the end of every deletion.
async fn bury(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: TombstoneKind,
    id: Uuid,
    files: Vec<(String, String)>,
    now: DateTime<Utc>,
) -> Result<Deletion> {
    let (blob_keys, sha256): (Vec<String>, Vec<String>) = files.into_iter().unzip();
    // Sequence numbers are taken at insert but seen at commit: under this lock (held to
    // the commit) one user's tombstones commit in `seq` order, so an agent that synced
    // past a seq can never miss a smaller one that committed later.
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2::text))")
        .bind(TOMBSTONE_LOCK)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        "INSERT INTO tombstones (user_id, kind, object_id, sha256, deleted_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING *",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(id)
    .bind(to_json(&sha256))
    .bind(truncate_to_millis(now))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(&insert_delete_job_sql(DIALECT))
        .bind(Uuid::now_v7())
        .bind(delete_blobs_payload(&blob_keys, &sha256))
        .bind(i64::from(NewJob::DEFAULT_MAX_ATTEMPTS))
        .bind(truncate_to_millis(now))
        .execute(&mut *conn)
        .await?;
    Ok(Deletion::Deleted {
        tombstone: tombstone_from_row(&row)?,
        blob_keys,
    })
}

/// `(blob_key, sha256)` of each row.
fn files(rows: &[PgRow]) -> Result<Vec<(String, String)>> {
    rows.iter()
        .map(|r| Ok((r.text("blob_key")?, r.text("sha256")?)))
        .collect()
}

#[async_trait]
impl LibraryRepo for PostgresRepo {
    async fn list_clips(&self, user_id: Uuid, page: &PageRequest) -> Result<Vec<Clip>> {
        let sql = library::clips_page(DIALECT, user_id, page);
        fetch(self, &sql).await?.iter().map(clip_from_row).collect()
    }

    async fn list_drives(&self, user_id: Uuid, page: &PageRequest) -> Result<Vec<Drive>> {
        let sql = library::drives_page(DIALECT, user_id, page);
        fetch(self, &sql)
            .await?
            .iter()
            .map(drive_from_row)
            .collect()
    }

    async fn drive(&self, user_id: Uuid, id: Uuid) -> Result<Option<Drive>> {
        sqlx::query("SELECT * FROM drives WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(drive_from_row)
            .transpose()
    }

    async fn clips_of_drives(&self, user_id: Uuid, drives: &[Drive]) -> Result<Vec<Clip>> {
        if drives.is_empty() {
            return Ok(Vec::new());
        }
        let sql = library::clips_of_drives(DIALECT, user_id, drives);
        fetch(self, &sql).await?.iter().map(clip_from_row).collect()
    }

    async fn incidents_of_drives(
        &self,
        user_id: Uuid,
        drives: &[Drive],
    ) -> Result<Vec<DeviceIncident>> {
        if drives.is_empty() {
            return Ok(Vec::new());
        }
        let sql = library::incidents_of_drives(DIALECT, user_id, drives);
        fetch(self, &sql)
            .await?
            .iter()
            .map(library::device_incident_from_row)
            .collect()
    }

    async fn sidecars_between(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sidecar>> {
        let sql = format!(
            "SELECT t.*, {} FROM sidecars t
             WHERE user_id = $1 AND device_id = $2 AND start_at >= $3 AND start_at < $4
             ORDER BY start_at, id",
            super::media_rows::COVERING_DRIVE
        );
        sqlx::query(&sql)
            .bind(user_id)
            .bind(device_id)
            .bind(truncate_to_millis(from))
            .bind(truncate_to_millis(to))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(sidecar_from_row)
            .collect()
    }

    async fn delete_clip(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Deletion> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query("DELETE FROM clips WHERE user_id = $1 AND id = $2 RETURNING *")
            .bind(user_id)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            return Ok(tombstone(&mut tx, user_id, TombstoneKind::Clip, id)
                .await?
                .map_or(Deletion::NotFound, Deletion::AlreadyDeleted));
        }
        let deletion = bury(
            &mut tx,
            user_id,
            TombstoneKind::Clip,
            id,
            files(&rows)?,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(deletion)
    }

    async fn delete_drive(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Deletion> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "SELECT 1 FROM devices WHERE id = (SELECT device_id FROM drives
                 WHERE user_id = $1 AND id = $2) FOR UPDATE",
        )
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Recordings first: removing the drive would cascade to them unseen.
        let mut gone =
            sqlx::query("DELETE FROM recordings WHERE user_id = $1 AND drive_id = $2 RETURNING *")
                .bind(user_id)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let Some(drive) =
            sqlx::query("DELETE FROM drives WHERE user_id = $1 AND id = $2 RETURNING *")
                .bind(user_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(tombstone(&mut tx, user_id, TombstoneKind::Drive, id)
                .await?
                .map_or(Deletion::NotFound, Deletion::AlreadyDeleted));
        };
        let drive = drive_from_row(&drive)?;
        gone.extend(
            sqlx::query(
                "DELETE FROM sidecars WHERE user_id = $1 AND device_id = $2
                     AND start_at >= $3 AND start_at <= $4 RETURNING *",
            )
            .bind(user_id)
            .bind(drive.device_id)
            .bind(truncate_to_millis(drive.start))
            .bind(truncate_to_millis(drive.end))
            .fetch_all(&mut *tx)
            .await?,
        );
        let deletion = bury(
            &mut tx,
            user_id,
            TombstoneKind::Drive,
            id,
            files(&gone)?,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(deletion)
    }

    async fn tombstones(&self, user_id: Uuid, after: i64, limit: u32) -> Result<Vec<Tombstone>> {
        sqlx::query(
            "SELECT * FROM tombstones WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(tombstone_from_row)
        .collect()
    }

    async fn blob_key_in_use(&self, key: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM recordings WHERE blob_key = $1)
                 OR EXISTS (SELECT 1 FROM clips WHERE blob_key = $1)
                 OR EXISTS (SELECT 1 FROM sidecars WHERE blob_key = $1)
                 OR EXISTS (SELECT 1 FROM uploads WHERE tail_key = $1 OR (blob_key = $1
                     AND (upload_offset < upload_length OR partial) AND failure IS NULL))",
        )
        .bind(key)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<bool, _>(0)?)
    }

    async fn content_in_use(&self, sha256: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM recordings WHERE sha256 = $1)
                 OR EXISTS (SELECT 1 FROM clips WHERE sha256 = $1)
                 OR EXISTS (SELECT 1 FROM sidecars WHERE sha256 = $1)",
        )
        .bind(sha256)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<bool, _>(0)?)
    }
}
