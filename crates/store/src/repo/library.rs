//! The library: filtered, keyset-paginated listings of clips and drives, deletion with
//! tombstones, and the lookups the blob-removal job needs. [`LibraryRepo`] is the trait;
//! the SQL of a listing's filters is built here once for both engines ([`Dialect`]).

use super::media_rows::{to_json, Columns, COVERING_DRIVE};
use crate::model::{
    Clip, DeleteBlobs, Deletion, DeviceIncident, Drive, Incident, LibraryFilter, PageRequest,
    Sidecar, Tombstone, TombstoneKind, DELETE_BLOBS_JOB,
};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
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

/// A bound value of a generated query, bound by each engine in its own way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// A UUID.
    Uuid(Uuid),
    /// An integer.
    Int(i64),
    /// An instant (milliseconds on SQLite, TIMESTAMPTZ on PostgreSQL).
    Time(DateTime<Utc>),
    /// A boolean.
    Bool(bool),
    /// A text.
    Text(String),
    /// A floating-point number.
    Float(f64),
}

/// What differs between the engines in generated SQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// `?` (SQLite `?NNN`) or `$` (PostgreSQL `$NNN`).
    pub placeholder: char,
    /// Milliseconds since midnight UTC of column `t.start_at`.
    pub time_of_day: &'static str,
}

/// SQL text with its parameters, numbered in order.
#[derive(Debug)]
pub(crate) struct Sql {
    dialect: Dialect,
    /// The text so far.
    pub text: String,
    /// The parameters, `?1`/`$1` first.
    pub params: Vec<Param>,
}

impl Sql {
    /// Start with `text`.
    pub fn new(dialect: Dialect, text: &str) -> Self {
        Self {
            dialect,
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Append `text`.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `param`.
    pub fn bind(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        let _ = write!(
            self.text,
            "{}{}",
            self.dialect.placeholder,
            self.params.len()
        );
        self
    }
}

/// The query of a page of clips, with the covering drive of each.
pub(crate) fn clips_page(dialect: Dialect, user_id: Uuid, page: &PageRequest) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!(
            "SELECT t.*, {} FROM clips t WHERE t.user_id = ",
            COVERING_DRIVE
        ),
    );
    sql.bind(Param::Uuid(user_id));
    let f = &page.filter;
    common_filters(&mut sql, f);
    if !f.types.is_empty() {
        sql.push(" AND (t.incident_mask & ")
            .bind(Param::Int(type_mask(f)))
            .push(") <> 0");
    }
    if let Some(view) = f.view {
        sql.push(" AND t.view = ")
            .bind(Param::Text(view.as_str().to_owned()));
    }
    if f.archived == Some(true) {
        sql.push(" AND 1 = 0");
    }
    keyset(&mut sql, page);
    sql
}

/// The query of a page of drives.
pub(crate) fn drives_page(dialect: Dialect, user_id: Uuid, page: &PageRequest) -> Sql {
    let mut sql = Sql::new(dialect, "SELECT t.* FROM drives t WHERE t.user_id = ");
    sql.bind(Param::Uuid(user_id));
    let f = &page.filter;
    common_filters(&mut sql, f);
    if !f.types.is_empty() {
        sql.push(
            " AND EXISTS (SELECT 1 FROM clips c WHERE c.user_id = t.user_id
                 AND c.device_id = t.device_id AND c.start_at >= t.start_at
                 AND c.start_at <= t.end_at AND (c.incident_mask & ",
        )
        .bind(Param::Int(type_mask(f)))
        .push(") <> 0)");
    }
    if let Some(view) = f.view {
        sql.push(" AND (',' || t.views || ',') LIKE ")
            .bind(Param::Text(format!("%,{},%", view.as_str())));
    }
    if let Some(archived) = f.archived {
        sql.push(" AND t.archived = ").bind(Param::Bool(archived));
    }
    keyset(&mut sql, page);
    sql
}

/// The query of the clips covered by `drives` (none when `drives` is empty), oldest
/// first.
pub(crate) fn clips_of_drives(dialect: Dialect, user_id: Uuid, drives: &[Drive]) -> Sql {
    let mut sql = Sql::new(
        dialect,
        &format!("SELECT t.*, {COVERING_DRIVE} FROM clips t WHERE "),
    );
    within_drives(&mut sql, user_id, drives, "t.start_at");
    sql.push(" ORDER BY t.start_at, t.id");
    sql
}

/// The query of the incidents that `drives` cover: `device_id`, `at`, `type`,
/// `severity`, oldest first.
pub(crate) fn incidents_of_drives(dialect: Dialect, user_id: Uuid, drives: &[Drive]) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "SELECT t.device_id, t.at, t.type, t.severity FROM incidents t WHERE ",
    );
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
        .bind(Param::Uuid(user_id))
        .push(" AND t.device_id = ")
        .bind(Param::Uuid(d.device_id))
        .push(&format!(" AND {time} >= "))
        .bind(Param::Time(d.start))
        .push(&format!(" AND {time} <= "))
        .bind(Param::Time(d.end))
        .push(")");
    }
}

/// An incident from a row of [`incidents_of_drives`].
pub(crate) fn device_incident_from_row<R: Columns>(row: &R) -> Result<DeviceIncident> {
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
    dialect: Dialect,
    user_id: Uuid,
    device_id: Uuid,
    incidents: &[Incident],
) -> Option<Sql> {
    if incidents.is_empty() {
        return None;
    }
    let mut sql = Sql::new(
        dialect,
        "INSERT INTO incidents (user_id, device_id, at, type, severity) VALUES ",
    );
    for (i, incident) in incidents.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .bind(Param::Uuid(user_id))
            .push(", ")
            .bind(Param::Uuid(device_id))
            .push(", ")
            .bind(Param::Time(incident.at))
            .push(", ")
            .bind(Param::Text(incident.kind.clone()))
            .push(", ")
            .bind(Param::Float(incident.severity))
            .push(")");
    }
    sql.push(" ON CONFLICT DO NOTHING");
    Some(sql)
}

fn type_mask(f: &LibraryFilter) -> i64 {
    f.types.iter().fold(0, |mask, t| mask | t.bit())
}

/// Filters clips and drives share: time window, time of day, device.
fn common_filters(sql: &mut Sql, f: &LibraryFilter) {
    if let Some(from) = f.from {
        sql.push(" AND t.start_at >= ").bind(Param::Time(from));
    }
    if let Some(to) = f.to {
        sql.push(" AND t.start_at < ").bind(Param::Time(to));
    }
    let tod = sql.dialect.time_of_day;
    match (f.time_from_ms, f.time_to_ms) {
        (Some(a), Some(b)) if a > b => {
            sql.push(&format!(" AND ({tod} >= "))
                .bind(Param::Int(a.into()))
                .push(&format!(" OR {tod} < "))
                .bind(Param::Int(b.into()))
                .push(")");
        }
        (a, b) => {
            if let Some(a) = a {
                sql.push(&format!(" AND {tod} >= "))
                    .bind(Param::Int(a.into()));
            }
            if let Some(b) = b {
                sql.push(&format!(" AND {tod} < "))
                    .bind(Param::Int(b.into()));
            }
        }
    }
    if let Some(device) = f.device {
        sql.push(" AND t.device_id = ").bind(Param::Uuid(device));
    }
}

/// Continue after the cursor, newest first, and limit. The first bound alone is what
/// an index range can start from (neither engine seeks on the `OR`).
fn keyset(sql: &mut Sql, page: &PageRequest) {
    if let Some(after) = page.after {
        sql.push(" AND t.start_at <= ")
            .bind(Param::Time(after.start))
            .push(" AND (t.start_at < ")
            .bind(Param::Time(after.start))
            .push(" OR (t.start_at = ")
            .bind(Param::Time(after.start))
            .push(" AND t.id < ")
            .bind(Param::Uuid(after.id))
            .push("))");
    }
    sql.push(" ORDER BY t.start_at DESC, t.id DESC LIMIT ")
        .bind(Param::Int(page.limit.into()));
}

/// A tombstone from a `tombstones` row.
pub(crate) fn tombstone_from_row(row: &impl Columns) -> Result<Tombstone> {
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
pub(crate) fn delete_blobs_payload(keys: &[String], sha256: &[String]) -> String {
    to_json(&DeleteBlobs {
        keys: keys.to_vec(),
        sha256: sha256.to_vec(),
    })
}

/// The SQL inserting a `delete_blobs` job inside a deletion's transaction (parameters:
/// id, payload, max attempts, now), in the dialect's placeholders.
pub(crate) fn insert_delete_job_sql(dialect: Dialect) -> String {
    let p = dialect.placeholder;
    format!(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at,
                           created_at, updated_at)
         VALUES ({p}1, '{DELETE_BLOBS_JOB}', {p}2, 'queued', 0, {p}3, {p}4, {p}4, {p}4)"
    )
}
