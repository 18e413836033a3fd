//! The embedded engine: one SQLite file (or an in-memory database for quick tests).
//!
//! Settings: WAL journal, so readers never wait for the writer; `synchronous=FULL`, so a
//! committed transaction survives a power cut and not only a crash of the process (the
//! WAL is synced on every commit; dashvault's writes are few and an acknowledged upload or
//! sign-in must not vanish); a 5 s busy timeout, so concurrent writers queue instead of
//! failing; foreign keys enforced. Times are INTEGER milliseconds since the epoch, ids
//! 16-byte BLOBs.

use super::convert::{from_millis, to_millis, to_u32, to_u64};
use super::engine::{decoded_columns, exec_on, Columns, Engine, Transaction};
use super::media_rows::to_json;
use super::sql::{Dialect, Param, Sql};
use super::upload_lock::UploadLock;
use super::{DeviceRepo, LoginCodeRepo, Repo, SessionRepo, UserRepo};
use crate::model::{CodeCheck, Device, DeviceUsage, NewDevice, NewLoginCode, Session, User};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for another writer before giving up with "database is
/// locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool of a file database (WAL lets them read in parallel).
const MAX_CONNECTIONS: u32 = 8;

/// The metadata repository in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteRepo {
    pool: SqlitePool,
}

impl SqliteRepo {
    /// Open (creating it and its directory if missing) the database at `url`
    /// (`sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:`) and apply the migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(Error::InvalidUrl)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = if is_in_memory(url) {
            // An in-memory database lives as long as its connection: keep exactly one,
            // forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            create_parent_dir(options.get_filename())?;
            SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .connect_with(options)
                .await?
        };
        MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool, for the ingest tables' implementation beside this file.
    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Run `update` (setting one text column of one of the user's devices to `value`)
    /// and read the device back; `None` if the user has no such device.
    async fn update_device_text(
        &self,
        update: &'static str,
        value: Option<&str>,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Device>> {
        sqlx::query(&format!("{update} RETURNING {DEVICE_COLUMNS}"))
            .bind(value)
            .bind(user_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_from_row)
            .transpose()
    }
}

/// Whether the URL names an in-memory database rather than a file.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Create the directory that will hold the database file, if it has one and it is missing.
fn create_parent_dir(file: &Path) -> Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}

fn user_from_row(row: &SqliteRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        phone: row.try_get("phone")?,
        created_at: from_millis(row.try_get("created_at")?, "users.created_at")?,
    })
}

/// The columns a [`Device`] is read from.
const DEVICE_COLUMNS: &str = "id, user_id, model, serial, name, has_cabin_camera, uploads_drives, \
                              created_at, timezone, last_seen_at, uploads_waiting";

fn device_from_row(row: &SqliteRow) -> Result<Device> {
    Ok(Device {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        model: row.try_get("model")?,
        serial: row.try_get("serial")?,
        name: row.try_get("name")?,
        has_cabin_camera: row.try_get("has_cabin_camera")?,
        uploads_drives: row.try_get("uploads_drives")?,
        created_at: from_millis(row.try_get("created_at")?, "devices.created_at")?,
        timezone: row.try_get("timezone")?,
        uploads_waiting: row
            .try_get::<Option<i64>, _>("uploads_waiting")?
            .map(|n| to_u64(n, "devices.uploads_waiting"))
            .transpose()?,
        last_seen_at: row
            .try_get::<Option<i64>, _>("last_seen_at")?
            .map(|ms| from_millis(ms, "devices.last_seen_at"))
            .transpose()?,
    })
}

fn optional_millis(row: &SqliteRow, column: &'static str) -> Result<Option<DateTime<Utc>>> {
    row.try_get::<Option<i64>, _>(0)?
        .map(|ms| from_millis(ms, column))
        .transpose()
}

#[async_trait]
impl UserRepo for SqliteRepo {
    async fn find_or_create_user(&self, phone: &str, now: DateTime<Utc>) -> Result<User> {
        sqlx::query(
            "INSERT INTO users (id, phone, created_at) VALUES (?, ?, ?)
             ON CONFLICT (phone) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(phone)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT id, phone, created_at FROM users WHERE phone = ?")
            .bind(phone)
            .fetch_one(&self.pool)
            .await?;
        user_from_row(&row)
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        sqlx::query("SELECT id, phone, created_at FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

#[async_trait]
impl LoginCodeRepo for SqliteRepo {
    async fn put_login_code(&self, code: &NewLoginCode) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO login_codes (phone, code_hash, sent_at, expires_at, attempts)
             VALUES (?, ?, ?, ?, 0)
             ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash,
                 sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0",
        )
        .bind(&code.phone)
        .bind(&code.code_hash)
        .bind(to_millis(code.sent_at))
        .bind(to_millis(code.expires_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO code_sends (phone, ip, sent_at) VALUES (?, ?, ?)")
            .bind(&code.phone)
            .bind(&code.ip)
            .bind(to_millis(code.sent_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_login_code(
        &self,
        phone: &str,
        code_hash: &[u8],
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<CodeCheck> {
        let now = to_millis(now);
        let max_attempts = i64::from(max_attempts);
        // The first statement writes, so the transaction takes SQLite's write lock at once
        // (waiting up to the busy timeout): checks of one database run one after another.
        let mut tx = self.pool.begin().await?;
        let consumed = sqlx::query(
            "DELETE FROM login_codes
             WHERE phone = ? AND code_hash = ? AND expires_at > ? AND attempts < ?
             RETURNING phone",
        )
        .bind(phone)
        .bind(code_hash)
        .bind(now)
        .bind(max_attempts)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = if consumed.is_some() {
            CodeCheck::Accepted
        } else if let Some(row) = sqlx::query(
            "UPDATE login_codes SET attempts = attempts + 1
             WHERE phone = ? AND code_hash <> ? AND expires_at > ? AND attempts < ?
             RETURNING attempts",
        )
        .bind(phone)
        .bind(code_hash)
        .bind(now)
        .bind(max_attempts)
        .fetch_optional(&mut *tx)
        .await?
        {
            CodeCheck::Wrong {
                attempts: to_u32(row.try_get(0)?, "login_codes.attempts")?,
            }
        } else {
            let live = sqlx::query("SELECT 1 FROM login_codes WHERE phone = ? AND expires_at > ?")
                .bind(phone)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if live.is_some() {
                CodeCheck::TooManyAttempts
            } else {
                CodeCheck::Missing
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn last_code_sent_at(&self, phone: &str) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT MAX(sent_at) FROM code_sends WHERE phone = ?")
            .bind(phone)
            .fetch_one(&self.pool)
            .await?;
        optional_millis(&row, "code_sends.sent_at")
    }

    async fn codes_sent_to_phone(&self, phone: &str, since: DateTime<Utc>) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM code_sends WHERE phone = ? AND sent_at >= ?")
            .bind(phone)
            .bind(to_millis(since))
            .fetch_one(&self.pool)
            .await?;
        to_u64(row.try_get(0)?, "count(code_sends)")
    }

    async fn codes_sent_from_ip(&self, ip: &str, since: DateTime<Utc>) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM code_sends WHERE ip = ? AND sent_at >= ?")
            .bind(ip)
            .bind(to_millis(since))
            .fetch_one(&self.pool)
            .await?;
        to_u64(row.try_get(0)?, "count(code_sends)")
    }

    async fn oldest_code_sent_to_phone(
        &self,
        phone: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let row =
            sqlx::query("SELECT MIN(sent_at) FROM code_sends WHERE phone = ? AND sent_at >= ?")
                .bind(phone)
                .bind(to_millis(since))
                .fetch_one(&self.pool)
                .await?;
        optional_millis(&row, "code_sends.sent_at")
    }

    async fn oldest_code_sent_from_ip(
        &self,
        ip: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT MIN(sent_at) FROM code_sends WHERE ip = ? AND sent_at >= ?")
            .bind(ip)
            .bind(to_millis(since))
            .fetch_one(&self.pool)
            .await?;
        optional_millis(&row, "code_sends.sent_at")
    }

    async fn prune_login_codes(&self, before: DateTime<Utc>) -> Result<()> {
        let before = to_millis(before);
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM code_sends WHERE sent_at < ?")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_codes WHERE expires_at < ?")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl SessionRepo for SqliteRepo {
    async fn create_session(&self, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
             VALUES (?, ?, ?, ?)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id)
        .bind(to_millis(session.created_at))
        .bind(to_millis(session.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, User)>> {
        let Some(row) = sqlx::query(
            "SELECT s.token_hash, s.created_at AS session_created_at, s.expires_at,
                    u.id, u.phone, u.created_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = Session {
            token_hash: row.try_get("token_hash")?,
            user_id: user.id,
            created_at: from_millis(row.try_get("session_created_at")?, "sessions.created_at")?,
            expires_at: from_millis(row.try_get("expires_at")?, "sessions.expires_at")?,
        };
        Ok(Some((session, user)))
    }

    async fn renew_session(&self, token_hash: &[u8], expires_at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
            .bind(to_millis(expires_at))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn prune_sessions(&self, before: DateTime<Utc>) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at < ?")
            .bind(to_millis(before))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl DeviceRepo for SqliteRepo {
    async fn create_device(&self, device: &NewDevice) -> Result<Device> {
        let row = sqlx::query(&format!(
            "INSERT INTO devices (id, user_id, model, serial, name, has_cabin_camera,
                                  uploads_drives, token_hash, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING {DEVICE_COLUMNS}"
        ))
        .bind(device.id)
        .bind(device.user_id)
        .bind(&device.model)
        .bind(&device.serial)
        .bind(&device.name)
        .bind(device.has_cabin_camera)
        .bind(device.uploads_drives)
        .bind(&device.token_hash)
        .bind(to_millis(device.created_at))
        .fetch_one(&self.pool)
        .await?;
        device_from_row(&row)
    }

    async fn devices(&self, user_id: Uuid) -> Result<Vec<Device>> {
        sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = ? ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(device_from_row)
        .collect()
    }

    async fn device(&self, user_id: Uuid, id: Uuid) -> Result<Option<Device>> {
        sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = ? AND id = ?"
        ))
        .bind(user_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(device_from_row)
        .transpose()
    }

    async fn rename_device(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<Option<Device>> {
        self.update_device_text(
            "UPDATE devices SET name = ? WHERE user_id = ? AND id = ?",
            Some(name),
            user_id,
            id,
        )
        .await
    }

    async fn set_device_timezone(
        &self,
        user_id: Uuid,
        id: Uuid,
        timezone: Option<&str>,
    ) -> Result<Option<Device>> {
        self.update_device_text(
            "UPDATE devices SET timezone = ? WHERE user_id = ? AND id = ?",
            timezone,
            user_id,
            id,
        )
        .await
    }

    async fn set_device_waiting(&self, id: Uuid, uploads_waiting: u64) -> Result<()> {
        sqlx::query(
            "UPDATE devices SET uploads_waiting = ?1 WHERE id = ?2 AND uploads_waiting IS NOT ?1",
        )
        .bind(i64::try_from(uploads_waiting).unwrap_or(i64::MAX))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn touch_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE devices SET last_seen_at = ?
             WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)",
        )
        .bind(to_millis(now))
        .bind(id)
        .bind(to_millis(now - chrono::Duration::minutes(1)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn device_usage(&self, user_id: Uuid, id: Uuid) -> Result<DeviceUsage> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS stored_bytes, MAX(created_at) AS last_upload_at
             FROM (SELECT size, created_at FROM recordings WHERE user_id = ? AND device_id = ?
                   UNION ALL
                   SELECT size, created_at FROM clips WHERE user_id = ? AND device_id = ?
                   UNION ALL
                   SELECT size, created_at FROM sidecars WHERE user_id = ? AND device_id = ?) AS stored",
        )
        .bind(user_id)
        .bind(id)
        .bind(user_id)
        .bind(id)
        .bind(user_id)
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(DeviceUsage {
            stored_bytes: to_u64(row.try_get("stored_bytes")?, "device stored bytes")?,
            last_upload_at: row
                .try_get::<Option<i64>, _>("last_upload_at")?
                .map(|ms| from_millis(ms, "device last upload"))
                .transpose()?,
        })
    }

    async fn replace_device_token(
        &self,
        user_id: Uuid,
        id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE devices SET token_hash = ? WHERE user_id = ? AND id = ?")
            .bind(token_hash)
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_device(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM devices WHERE user_id = ? AND id = ?")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn device_by_token(&self, token_hash: &[u8]) -> Result<Option<Device>> {
        sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(device_from_row)
        .transpose()
    }
}

/// Statements on the SQLite pool.
pub(crate) struct SqliteDb(SqlitePool);

/// A SQLite write transaction (`BEGIN IMMEDIATE`).
pub(crate) struct SqliteTx(sqlx::Transaction<'static, Sqlite>);

/// `sql` as a sqlx query, its parameters bound as SQLite stores them.
fn query(sql: &Sql) -> Query<'_, Sqlite, SqliteArguments<'_>> {
    sql.params
        .iter()
        .fold(sqlx::query(&sql.text), |query, param| match param {
            Param::Uuid(v) => query.bind(*v),
            Param::Int(v) => query.bind(*v),
            Param::Float(v) => query.bind(*v),
            Param::Time(v) => query.bind(v.map(to_millis)),
            Param::Bool(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.as_deref()),
            Param::Bytes(v) => query.bind(v.as_deref()),
            Param::Texts(v) => query.bind(to_json(v)),
        })
}

exec_on!(SqliteDb, SqliteRow, query, |s| &s.0);
exec_on!(SqliteTx, SqliteRow, query, |s| &mut *s.0);

#[async_trait]
impl Transaction for SqliteTx {
    async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}

#[async_trait]
impl Engine for SqliteRepo {
    type Row = SqliteRow;
    type Db = SqliteDb;
    type Tx = SqliteTx;
    const DIALECT: Dialect = Dialect::Sqlite;

    fn db(&self) -> SqliteDb {
        SqliteDb(self.pool.clone())
    }

    async fn begin(&self) -> Result<SqliteTx> {
        Ok(SqliteTx(self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    async fn upload_lock(&self, _id: Uuid) -> Result<Option<UploadLock>> {
        Ok(Some(UploadLock::in_process()))
    }
}

/// Times are INTEGER milliseconds.
impl Columns for SqliteRow {
    decoded_columns!();

    fn int(&self, col: &'static str) -> Result<i64> {
        Ok(self.try_get(col)?)
    }
    fn opt_int(&self, col: &'static str) -> Result<Option<i64>> {
        Ok(self.try_get(col)?)
    }
    fn time(&self, col: &'static str) -> Result<DateTime<Utc>> {
        from_millis(self.try_get(col)?, col)
    }
    fn opt_time(&self, col: &'static str) -> Result<Option<DateTime<Utc>>> {
        self.try_get::<Option<i64>, _>(col)?
            .map(|ms| from_millis(ms, col))
            .transpose()
    }
}

#[async_trait]
impl Repo for SqliteRepo {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The connection settings the module documents are the ones in force.
    #[tokio::test]
    async fn file_database_uses_wal_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("a/b/dv.db").display());
        let repo = SqliteRepo::open(&url).await.expect("open");
        let pragma = |name: &'static str| {
            let pool = repo.pool.clone();
            async move {
                let row = sqlx::query(name).fetch_one(&pool).await.expect(name);
                row.try_get::<String, _>(0)
                    .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
                    .expect(name)
            }
        };
        assert_eq!(pragma("PRAGMA journal_mode").await, "wal");
        assert_eq!(pragma("PRAGMA synchronous").await, "2", "2 is FULL");
        assert_eq!(pragma("PRAGMA foreign_keys").await, "1");
        assert_eq!(pragma("PRAGMA busy_timeout").await, "5000");
        assert!(dir.path().join("a/b/dv.db").is_file());
    }

    #[test]
    fn in_memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://dv.db?mode=memory"));
        assert!(!is_in_memory("sqlite://./dashvault-data/dashvault.db"));
    }
}
