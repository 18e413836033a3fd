//! The library: filtered, keyset-paginated listings of clips and drives, deletion with
//! tombstones, and the lookups the blob-removal job needs; written once for both engines.
//!
//! A deletion is one transaction (SQLite's `BEGIN IMMEDIATE`), so its rows, tombstone and
//! blob-removal job are written together or not at all. On PostgreSQL one user's
//! tombstones are also ordered by a transaction lock ([`Dialect::order_tombstones`]) and
//! a drive's deletion locks its device's row, as adding a recording does.

use super::engine::{Columns, Engine, Exec, Transaction};
use super::media_rows::{clip_from_row, drive_from_row, sidecar_from_row, to_json, COVERING_DRIVE};
use super::sql::{Dialect, Sql};
use crate::model::{
    Clip, DeleteBlobs, Deletion, DeviceIncident, Drive, Incident, LibraryFilter, NewJob,
    PageRequest, Sidecar, Tombstone, TombstoneKind, DELETE_BLOBS_JOB,
};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Listing, deleting and the deletion log of a user's clips and drives.
#[async_trait]
pub trait LibraryRepo: Send + Sync {
    /// A page of the user's clips matching the request, newest start first (ties by id,
    /// descending), each with the drive covering its start.
    async fn list_clips(&self, user_id: Uuid, page: &PageRequest) -> Result<Vec<Clip>>;
    /// A page of the user's drives matching the request, newest start first (ties by
    /// id, descending).
    async fn list_drives(&self, user_id: Uuid, page: &PageRequest) -> Result<Vec<Drive>>;
    /// One of the user's drives.
    async fn drive(&self, user_id: Uuid, id: Uuid) -> Result<Option<Drive>>;
    /// The user's clips whose start one of `drives` covers (same device, start within the
    /// drive's window), oldest first.
    async fn clips_of_drives(&self, user_id: Uuid, drives: &[Drive]) -> Result<Vec<Clip>>;
    /// The incidents (of clips filed, kept or deleted since) that `drives` cover: same
    /// device, within the drive's window; oldest first.
    async fn incidents_of_drives(
        &self,
        user_id: Uuid,
        drives: &[Drive],
    ) -> Result<Vec<DeviceIncident>>;
    /// The user's sidecars of `device_id` starting in `from..to`, oldest first.
    async fn sidecars_between(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sidecar>>;
    /// In one transaction: remove the user's clip, write its tombstone and queue the
    /// removal of its blob (a `delete_blobs` job). A clip this user deleted before gives
    /// its tombstone.
    async fn delete_clip(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Deletion>;
    /// In one transaction: remove the user's drive with its recordings (and time-lapses)
    /// and the sidecars it covers, write its tombstone and queue the removal of their
    /// blobs. The clips it covered are kept (they no longer have a drive). A drive this
    /// user deleted before gives its tombstone.
    async fn delete_drive(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Deletion>;
    /// The user's tombstones with `seq` above `after`, oldest first, at most `limit`.
    async fn tombstones(&self, user_id: Uuid, after: i64, limit: u32) -> Result<Vec<Tombstone>>;
    /// Whether any stored row (recording, clip, sidecar, or an upload still in progress)
    /// refers to the blob `key`, so it must not be removed. A finished upload's row
    /// does not count: it only remembers where its filed file went.
    async fn blob_key_in_use(&self, key: &str) -> Result<bool>;
    /// Whether any user's stored recording, clip or sidecar has this content (hex
    /// SHA-256), so what is derived from it (thumbnails) must be kept.
    async fn content_in_use(&self, sha256: &str) -> Result<bool>;
}

#[async_trait]
impl<E: Engine> LibraryRepo for E {
    async fn list_clips(&self, user_id: Uuid, page: &PageRequest) -> Result<Vec<Clip>> {
        let sql = clips_page(E::DIALECT, user_id, page);
        self.db().all(sql, clip_from_row).await
    }

    async fn list_drives(&self, user_id: Uuid, page: &PageRequest) -> Result<Vec<Drive>> {
        let sql = drives_page(E::DIALECT, user_id, page);
        self.db().all(sql, drive_from_row).await
    }

    async fn drive(&self, user_id: Uuid, id: Uuid) -> Result<Option<Drive>> {
        self.db()
            .optional(
                Sql::new("SELECT * FROM drives WHERE user_id = $1 AND id = $2")
                    .arg(user_id)
                    .arg(id),
                drive_from_row,
            )
            .await
    }

    async fn clips_of_drives(&self, user_id: Uuid, drives: &[Drive]) -> Result<Vec<Clip>> {
        if drives.is_empty() {
            return Ok(Vec::new());
        }
        self.db()
            .all(clips_of_drives_sql(user_id, drives), clip_from_row)
            .await
    }

    async fn incidents_of_drives(
        &self,
        user_id: Uuid,
        drives: &[Drive],
    ) -> Result<Vec<DeviceIncident>> {
        if drives.is_empty() {
            return Ok(Vec::new());
        }
        self.db()
            .all(
                incidents_of_drives_sql(user_id, drives),
                device_incident_from_row,
            )
            .await
    }

    async fn sidecars_between(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Sidecar>> {
        let sql = Sql::new(format!(
            "SELECT t.*, {COVERING_DRIVE} FROM sidecars t
             WHERE user_id = $1 AND device_id = $2 AND start_at >= $3 AND start_at < $4
             ORDER BY start_at, id"
        ))
        .arg(user_id)
        .arg(device_id)
        .arg(from)
        .arg(to);
        self.db().all(sql, sidecar_from_row).await
    }

    async fn delete_clip(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Deletion> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch_all(
                Sql::new("DELETE FROM clips WHERE user_id = $1 AND id = $2 RETURNING *")
                    .arg(user_id)
                    .arg(id),
            )
            .await?;
        if rows.is_empty() {
            return Ok(tombstone(&mut tx, user_id, TombstoneKind::Clip, id)
                .await?
                .map_or(Deletion::NotFound, Deletion::AlreadyDeleted));
        }
        let deletion = bury::<E, _>(
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
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new(format!(
                "SELECT 1 FROM devices WHERE id = (SELECT device_id FROM drives
                     WHERE user_id = $1 AND id = $2){}",
                E::DIALECT.for_update()
            ))
            .arg(user_id)
            .arg(id),
        )
        .await?;
        // Recordings first: removing the drive would cascade to them unseen.
        let mut gone = tx
            .fetch_all(
                Sql::new("DELETE FROM recordings WHERE user_id = $1 AND drive_id = $2 RETURNING *")
                    .arg(user_id)
                    .arg(id),
            )
            .await?;
        let Some(drive) = tx
            .fetch_optional(
                Sql::new("DELETE FROM drives WHERE user_id = $1 AND id = $2 RETURNING *")
                    .arg(user_id)
                    .arg(id),
            )
            .await?
        else {
            return Ok(tombstone(&mut tx, user_id, TombstoneKind::Drive, id)
                .await?
                .map_or(Deletion::NotFound, Deletion::AlreadyDeleted));
        };
        let drive = drive_from_row(&drive)?;
        gone.extend(
            tx.fetch_all(
                Sql::new(
                    "DELETE FROM sidecars WHERE user_id = $1 AND device_id = $2
                         AND start_at >= $3 AND start_at <= $4 RETURNING *",
                )
                .arg(user_id)
                .arg(drive.device_id)
                .arg(drive.start)
                .arg(drive.end),
            )
            .await?,
        );
        let deletion = bury::<E, _>(
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
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM tombstones WHERE user_id = $1 AND seq > $2
                     ORDER BY seq LIMIT $3",
                )
                .arg(user_id)
                .arg(after)
                .arg(limit),
                tombstone_from_row,
            )
            .await
    }

    async fn blob_key_in_use(&self, key: &str) -> Result<bool> {
        let row = self
            .db()
            .fetch_one(
                Sql::new(
                    "SELECT (EXISTS (SELECT 1 FROM recordings WHERE blob_key = $1)
                         OR EXISTS (SELECT 1 FROM clips WHERE blob_key = $1)
                         OR EXISTS (SELECT 1 FROM sidecars WHERE blob_key = $1)
                         OR EXISTS (SELECT 1 FROM uploads WHERE tail_key = $1 OR (blob_key = $1
                             AND (upload_offset < upload_length OR partial)
                             AND failure IS NULL))) AS used",
                )
                .arg(key),
            )
            .await?;
        row.flag("used")
    }

    async fn content_in_use(&self, sha256: &str) -> Result<bool> {
        let row = self
            .db()
            .fetch_one(
                Sql::new(
                    "SELECT (EXISTS (SELECT 1 FROM recordings WHERE sha256 = $1)
                         OR EXISTS (SELECT 1 FROM clips WHERE sha256 = $1)
                         OR EXISTS (SELECT 1 FROM sidecars WHERE sha256 = $1)) AS used",
                )
                .arg(sha256),
            )
            .await?;
        row.flag("used")
    }
}

/// The tombstone of the user's deleted `kind` with this id, if any.
async fn tombstone<X: Exec>(
    tx: &mut X,
    user_id: Uuid,
    kind: TombstoneKind,
    id: Uuid,
) -> Result<Option<Tombstone>> {
    tx.optional(
        Sql::new("SELECT * FROM tombstones WHERE user_id = $1 AND kind = $2 AND object_id = $3")
            .arg(user_id)
            .arg(kind.as_str())
            .arg(id),
        tombstone_from_row,
    )
    .await
}

/// Write the tombstone and queue the blob removal; the end of every deletion.
async fn bury<E: Engine, X: Exec>(
    tx: &mut X,
    user_id: Uuid,
    kind: TombstoneKind,
    id: Uuid,
    files: Vec<(String, String)>,
    now: DateTime<Utc>,
) -> Result<Deletion> {
    let (blob_keys, sha256): (Vec<String>, Vec<String>) = files.into_iter().unzip();
    if let Some(lock) = E::DIALECT.order_tombstones() {
        tx.execute(Sql::new(lock).arg(user_id)).await?;
    }
    let row = tx
        .fetch_one(
            Sql::new(
                "INSERT INTO tombstones (user_id, kind, object_id, sha256, deleted_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING *",
            )
            .arg(user_id)
            .arg(kind.as_str())
            .arg(id)
            .arg(to_json(&sha256))
            .arg(now),
        )
        .await?;
    tx.execute(
        Sql::new(format!(
            "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at,
                               created_at, updated_at)
             VALUES ($1, '{DELETE_BLOBS_JOB}', $2, 'queued', 0, $3, $4, $4, $4)"
        ))
        .arg(Uuid::now_v7())
        .arg(delete_blobs_payload(&blob_keys, &sha256))
        .arg(NewJob::DEFAULT_MAX_ATTEMPTS)
        .arg(now),
    )
    .await?;
    Ok(Deletion::Deleted {
        tombstone: tombstone_from_row(&row)?,
        blob_keys,
    })
}

/// `(blob_key, sha256)` of each row.
fn files(rows: &[impl Columns]) -> Result<Vec<(String, String)>> {
    rows.iter()
        .map(|r| Ok((r.text("blob_key")?, r.text("sha256")?)))
        .collect()
}

/// The query of a page of clips, with the covering drive of each.
fn clips_page(dialect: Dialect, user_id: Uuid, page: &PageRequest) -> Sql {
    let mut sql = Sql::new(format!(
        "SELECT t.*, {} FROM clips t WHERE t.user_id = ",
        COVERING_DRIVE
    ));
    sql.bind(user_id);
    let f = &page.filter;
    common_filters(&mut sql, dialect, f);
    if !f.types.is_empty() {
        sql.push(" AND (t.incident_mask & ")
            .bind(type_mask(f))
            .push(") <> 0");
    }
    if let Some(view) = f.view {
        sql.push(" AND t.view = ").bind(view.as_str().to_owned());
    }
    if f.archived == Some(true) {
        sql.push(" AND 1 = 0");
    }
    keyset(&mut sql, page);
    sql
}

/// The query of a page of drives.
fn drives_page(dialect: Dialect, user_id: Uuid, page: &PageRequest) -> Sql {
    let mut sql = Sql::new("SELECT t.* FROM drives t WHERE t.user_id = ");
    sql.bind(user_id);
    let f = &page.filter;
    common_filters(&mut sql, dialect, f);
    if !f.types.is_empty() {
        sql.push(
            " AND EXISTS (SELECT 1 FROM clips c WHERE c.user_id = t.user_id
                 AND c.device_id = t.device_id AND c.start_at >= t.start_at
                 AND c.start_at <= t.end_at AND (c.incident_mask & ",
        )
        .bind(type_mask(f))
        .push(") <> 0)");
    }
    if let Some(view) = f.view {
        sql.push(" AND (',' || t.views || ',') LIKE ")
            .bind(format!("%,{},%", view.as_str()));
    }
    if let Some(archived) = f.archived {
        sql.push(" AND t.archived = ").bind(archived);
    }
    keyset(&mut sql, page);
    sql
}

/// The query of the clips covered by `drives` (none when `drives` is empty), oldest
/// first.
fn clips_of_drives_sql(user_id: Uuid, drives: &[Drive]) -> Sql {
    let mut sql = Sql::new(format!("SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE "));
    within_drives(&mut sql, user_id, drives, "t.start_at");
    sql.push(" ORDER BY t.start_at, t.id");
    sql
}

/// The query of the incidents that `drives` cover: `device_id`, `at`, `type`,
/// `severity`, oldest first.
fn incidents_of_drives_sql(user_id: Uuid, drives: &[Drive]) -> Sql {
    let mut sql = Sql::new("SELECT t.device_id, t.at, t.type, t.severity FROM incidents t WHERE ");
    within_drives(&mut sql, user_id, drives, "t.at");
    sql.push(" ORDER BY t.at, t.type");
    sql
}

/// The condition that a row of the user's (`t`) is on one of `drives`: its device, and
/// its `time` column within the drive's window. One indexed range per drive, joined by
/// `OR` alone so the engines read each range from the index rather than scan the table;
/// false when `drives` is empty.
fn within_drives(sql: &mut Sql, user_id: Uuid, drives: &[Drive], time: &str) {
    if drives.is_empty() {
        sql.push("1 = 0");
    }
    for (i, d) in drives.iter().enumerate() {
        sql.push(if i == 0 {
            "(t.user_id = "
        } else {
            " OR (t.user_id = "
        })
        .bind(user_id)
        .push(" AND t.device_id = ")
        .bind(d.device_id)
        .push(&format!(" AND {time} >= "))
        .bind(d.start)
        .push(&format!(" AND {time} <= "))
        .bind(d.end)
        .push(")");
    }
}

/// An incident from a row of [`incidents_of_drives`].
fn device_incident_from_row<R: Columns>(row: &R) -> Result<DeviceIncident> {
    Ok(DeviceIncident {
        device_id: row.uuid("device_id")?,
        incident: Incident {
            kind: row.text("type")?,
            at: row.time("at")?,
            severity: row.float("severity")?,
        },
    })
}

/// The statement that keeps a clip's incidents on its device's timeline (one row per
/// incident; one already kept, from an overlapping clip, stays as it is); `None` for none.
pub(crate) fn keep_incidents(
    user_id: Uuid,
    device_id: Uuid,
    incidents: &[Incident],
) -> Option<Sql> {
    if incidents.is_empty() {
        return None;
    }
    let mut sql =
        Sql::new("INSERT INTO incidents (user_id, device_id, at, type, severity) VALUES ");
    for (i, incident) in incidents.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .bind(user_id)
            .push(", ")
            .bind(device_id)
            .push(", ")
            .bind(incident.at)
            .push(", ")
            .bind(incident.kind.clone())
            .push(", ")
            .bind(incident.severity)
            .push(")");
    }
    sql.push(" ON CONFLICT DO NOTHING");
    Some(sql)
}

fn type_mask(f: &LibraryFilter) -> i64 {
    f.types.iter().fold(0, |mask, t| mask | t.bit())
}

/// Filters clips and drives share: time window, time of day, device.
fn common_filters(sql: &mut Sql, dialect: Dialect, f: &LibraryFilter) {
    if let Some(from) = f.from {
        sql.push(" AND t.start_at >= ").bind(from);
    }
    if let Some(to) = f.to {
        sql.push(" AND t.start_at < ").bind(to);
    }
    let tod = dialect.time_of_day("t.start_at");
    match (f.time_from_ms, f.time_to_ms) {
        (Some(a), Some(b)) if a > b => {
            sql.push(&format!(" AND ({tod} >= "))
                .bind(i64::from(a))
                .push(&format!(" OR {tod} < "))
                .bind(i64::from(b))
                .push(")");
        }
        (a, b) => {
            if let Some(a) = a {
                sql.push(&format!(" AND {tod} >= ")).bind(i64::from(a));
            }
            if let Some(b) = b {
                sql.push(&format!(" AND {tod} < ")).bind(i64::from(b));
            }
        }
    }
    if let Some(device) = f.device {
        sql.push(" AND t.device_id = ").bind(device);
    }
}

/// Continue after the cursor, newest first, and limit. The first bound alone is what
/// an index range can start from (neither engine seeks on the `OR`).
fn keyset(sql: &mut Sql, page: &PageRequest) {
    if let Some(after) = page.after {
        sql.push(" AND t.start_at <= ")
            .bind(after.start)
            .push(" AND (t.start_at < ")
            .bind(after.start)
            .push(" OR (t.start_at = ")
            .bind(after.start)
            .push(" AND t.id < ")
            .bind(after.id)
            .push("))");
    }
    sql.push(" ORDER BY t.start_at DESC, t.id DESC LIMIT ")
        .bind(page.limit);
}

/// A tombstone from a `tombstones` row.
fn tombstone_from_row(row: &impl Columns) -> Result<Tombstone> {
    let kind = row.text("kind")?;
    Ok(Tombstone {
        seq: row.int("seq")?,
        user_id: row.uuid("user_id")?,
        kind: TombstoneKind::parse(&kind).ok_or(crate::Error::Corrupt {
            column: "tombstones.kind",
            value: kind,
        })?,
        id: row.uuid("object_id")?,
        sha256: row.json("sha256")?,
        deleted_at: row.time("deleted_at")?,
    })
}

/// The queued `delete_blobs` job's payload for the deleted files' `keys` and `sha256`,
/// as JSON text.
fn delete_blobs_payload(keys: &[String], sha256: &[String]) -> String {
    to_json(&DeleteBlobs {
        keys: keys.to_vec(),
        sha256: sha256.to_vec(),
    })
}
