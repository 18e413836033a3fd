//! The scale-out engine: PostgreSQL, shared by any number of server replicas.
//!
//! Ids are UUID, times TIMESTAMPTZ written at millisecond precision (the same values the
//! SQLite engine keeps), hashes BYTEA. Single statements that both test and change a row
//! (`DELETE … RETURNING`, `UPDATE … WHERE attempts < $n`) lock it, so concurrent replicas
//! can not both consume one sign-in code.

use super::convert::{to_u32, to_u64, truncate_to_millis};
use super::engine::{decoded_columns, exec_on, Columns, Engine, Transaction};
use super::sql::{Dialect, Param, Sql};
use super::upload_lock::UploadLock;
use super::{DeviceRepo, LoginCodeRepo, Repo, SessionRepo, UserRepo};
use crate::model::{CodeCheck, Device, DeviceUsage, NewDevice, NewLoginCode, Session, User};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{Connection, Postgres, Row};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long to wait for a free connection (or a new one) before failing the request:
/// short, so that a database that does not answer gives a quick `503` (with
/// `Retry-After`) rather than a request hanging on the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(750);

/// Connections per process: each upload being written holds one (its lock) besides
/// those its queries take.
const MAX_CONNECTIONS: u32 = 32;

/// The metadata repository in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresRepo {
    pool: PgPool,
}

impl PostgresRepo {
    /// Connect to the database at `url` (`postgres://user@host:port/db?…`) and apply the
    /// migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(Error::InvalidUrl)?;
        // One connection outside the pool first: a pool retries a refused connection until
        // its acquire timeout and then reports only that it timed out; this reports the
        // cause (refused, unknown database, authentication) at once.
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = PgPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool, for the ingest tables' implementation beside this file.
    pub(super) fn pool(&self) -> &PgPool {
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

fn user_from_row(row: &PgRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        phone: row.try_get("phone")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The columns a [`Device`] is read from.
const DEVICE_COLUMNS: &str = "id, user_id, model, serial, name, has_cabin_camera, uploads_drives, \
                              created_at, timezone, last_seen_at, uploads_waiting";

fn device_from_row(row: &PgRow) -> Result<Device> {
    Ok(Device {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        model: row.try_get("model")?,
        serial: row.try_get("serial")?,
        name: row.try_get("name")?,
        has_cabin_camera: row.try_get("has_cabin_camera")?,
        uploads_drives: row.try_get("uploads_drives")?,
        created_at: row.try_get("created_at")?,
        timezone: row.try_get("timezone")?,
        uploads_waiting: row
            .try_get::<Option<i64>, _>("uploads_waiting")?
            .map(|n| to_u64(n, "devices.uploads_waiting"))
            .transpose()?,
        last_seen_at: row.try_get("last_seen_at")?,
    })
}

#[async_trait]
impl UserRepo for PostgresRepo {
    async fn find_or_create_user(&self, phone: &str, now: DateTime<Utc>) -> Result<User> {
        sqlx::query(
            "INSERT INTO users (id, phone, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (phone) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(phone)
        .bind(truncate_to_millis(now))
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT id, phone, created_at FROM users WHERE phone = $1")
            .bind(phone)
            .fetch_one(&self.pool)
            .await?;
        user_from_row(&row)
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        sqlx::query("SELECT id, phone, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

#[async_trait]
impl LoginCodeRepo for PostgresRepo {
    async fn put_login_code(&self, code: &NewLoginCode) -> Result<()> {
        let sent_at = truncate_to_millis(code.sent_at);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO login_codes (phone, code_hash, sent_at, expires_at, attempts)
             VALUES ($1, $2, $3, $4, 0)
             ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash,
                 sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0",
        )
        .bind(&code.phone)
        .bind(&code.code_hash)
        .bind(sent_at)
        .bind(truncate_to_millis(code.expires_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO code_sends (phone, ip, sent_at) VALUES ($1, $2, $3)")
            .bind(&code.phone)
            .bind(&code.ip)
            .bind(sent_at)
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
        let now = truncate_to_millis(now);
        let max_attempts = i64::from(max_attempts);
        let mut tx = self.pool.begin().await?;
        // A concurrent check of the same row waits on its lock, then re-tests the WHERE
        // clause against the committed row: at most one DELETE consumes the code, and the
        // try counter never passes `max_attempts`.
        let consumed = sqlx::query(
            "DELETE FROM login_codes
             WHERE phone = $1 AND code_hash = $2 AND expires_at > $3 AND attempts < $4
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
             WHERE phone = $1 AND code_hash <> $2 AND expires_at > $3 AND attempts < $4
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
                attempts: to_u32(i64::from(row.try_get::<i32, _>(0)?), "login_codes.attempts")?,
            }
        } else {
            let live =
                sqlx::query("SELECT 1 FROM login_codes WHERE phone = $1 AND expires_at > $2")
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
        let row = sqlx::query("SELECT MAX(sent_at) FROM code_sends WHERE phone = $1")
            .bind(phone)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn codes_sent_to_phone(&self, phone: &str, since: DateTime<Utc>) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM code_sends WHERE phone = $1 AND sent_at >= $2")
            .bind(phone)
            .bind(truncate_to_millis(since))
            .fetch_one(&self.pool)
            .await?;
        to_u64(row.try_get(0)?, "count(code_sends)")
    }

    async fn codes_sent_from_ip(&self, ip: &str, since: DateTime<Utc>) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM code_sends WHERE ip = $1 AND sent_at >= $2")
            .bind(ip)
            .bind(truncate_to_millis(since))
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
            sqlx::query("SELECT MIN(sent_at) FROM code_sends WHERE phone = $1 AND sent_at >= $2")
                .bind(phone)
                .bind(truncate_to_millis(since))
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get(0)?)
    }

    async fn oldest_code_sent_from_ip(
        &self,
        ip: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let row =
            sqlx::query("SELECT MIN(sent_at) FROM code_sends WHERE ip = $1 AND sent_at >= $2")
                .bind(ip)
                .bind(truncate_to_millis(since))
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get(0)?)
    }

    async fn prune_login_codes(&self, before: DateTime<Utc>) -> Result<()> {
        let before = truncate_to_millis(before);
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM code_sends WHERE sent_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_codes WHERE expires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl SessionRepo for PostgresRepo {
    async fn create_session(&self, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id)
        .bind(truncate_to_millis(session.created_at))
        .bind(truncate_to_millis(session.expires_at))
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
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(truncate_to_millis(now))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = Session {
            token_hash: row.try_get("token_hash")?,
            user_id: user.id,
            created_at: row.try_get("session_created_at")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok(Some((session, user)))
    }

    async fn renew_session(&self, token_hash: &[u8], expires_at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
            .bind(truncate_to_millis(expires_at))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn prune_sessions(&self, before: DateTime<Utc>) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(truncate_to_millis(before))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl DeviceRepo for PostgresRepo {
    async fn create_device(&self, device: &NewDevice) -> Result<Device> {
        let row = sqlx::query(&format!(
            "INSERT INTO devices (id, user_id, model, serial, name, has_cabin_camera,
                                  uploads_drives, token_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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
        .bind(truncate_to_millis(device.created_at))
        .fetch_one(&self.pool)
        .await?;
        device_from_row(&row)
    }

    async fn devices(&self, user_id: Uuid) -> Result<Vec<Device>> {
        sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 ORDER BY created_at, id"
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
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 AND id = $2"
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
            "UPDATE devices SET name = $1 WHERE user_id = $2 AND id = $3",
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
            "UPDATE devices SET timezone = $1 WHERE user_id = $2 AND id = $3",
            timezone,
            user_id,
            id,
        )
        .await
    }

    async fn set_device_waiting(&self, id: Uuid, uploads_waiting: u64) -> Result<()> {
        sqlx::query("UPDATE devices SET uploads_waiting = $1 WHERE id = $2 AND uploads_waiting IS DISTINCT FROM $1")
            .bind(i64::try_from(uploads_waiting).unwrap_or(i64::MAX))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn touch_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE devices SET last_seen_at = $1
             WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $3)",
        )
        .bind(truncate_to_millis(now))
        .bind(id)
        .bind(truncate_to_millis(now - chrono::Duration::minutes(1)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn device_usage(&self, user_id: Uuid, id: Uuid) -> Result<DeviceUsage> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS stored_bytes, MAX(created_at) AS last_upload_at
             FROM (SELECT size, created_at FROM recordings WHERE user_id = $1 AND device_id = $2
                   UNION ALL
                   SELECT size, created_at FROM clips WHERE user_id = $3 AND device_id = $4
                   UNION ALL
                   SELECT size, created_at FROM sidecars WHERE user_id = $5 AND device_id = $6) AS stored",
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
            stored_bytes: to_u64(
                row.try_get::<i64, _>("stored_bytes")?,
                "device stored bytes",
            )?,
            last_upload_at: row.try_get("last_upload_at")?,
        })
    }

    async fn replace_device_token(
        &self,
        user_id: Uuid,
        id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE devices SET token_hash = $1 WHERE user_id = $2 AND id = $3")
            .bind(token_hash)
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_device(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM devices WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn device_by_token(&self, token_hash: &[u8]) -> Result<Option<Device>> {
        sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(device_from_row)
        .transpose()
    }
}

/// Statements on the PostgreSQL pool.
pub(crate) struct PgDb(PgPool);

/// A PostgreSQL transaction.
pub(crate) struct PgTx(sqlx::Transaction<'static, Postgres>);

/// `sql` as a sqlx query, its parameters bound as PostgreSQL stores them.
fn query(sql: &Sql) -> Query<'_, Postgres, PgArguments> {
    sql.params
        .iter()
        .fold(sqlx::query(&sql.text), |query, param| match param {
            Param::Uuid(v) => query.bind(*v),
            Param::Int(v) => query.bind(*v),
            Param::Float(v) => query.bind(*v),
            Param::Time(v) => query.bind(v.map(truncate_to_millis)),
            Param::Bool(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.clone()),
            Param::Bytes(v) => query.bind(v.clone()),
            Param::Texts(v) => query.bind(v.clone()),
        })
}

exec_on!(PgDb, PgRow, query, |s| &s.0);
exec_on!(PgTx, PgRow, query, |s| &mut *s.0);

#[async_trait]
impl Transaction for PgTx {
    async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}

#[async_trait]
impl Engine for PostgresRepo {
    type Row = PgRow;
    type Db = PgDb;
    type Tx = PgTx;
    const DIALECT: Dialect = Dialect::Postgres;

    fn db(&self) -> PgDb {
        PgDb(self.pool.clone())
    }

    async fn begin(&self) -> Result<PgTx> {
        Ok(PgTx(self.pool.begin().await?))
    }

    async fn upload_lock(&self, id: Uuid) -> Result<Option<UploadLock>> {
        UploadLock::advisory(&self.pool, id).await
    }
}

/// Times are TIMESTAMPTZ; integers INTEGER or BIGINT.
impl Columns for PgRow {
    decoded_columns!();

    fn int(&self, col: &'static str) -> Result<i64> {
        Ok(self
            .try_get::<i64, _>(col)
            .or_else(|_| self.try_get::<i32, _>(col).map(i64::from))?)
    }
    fn opt_int(&self, col: &'static str) -> Result<Option<i64>> {
        Ok(self.try_get::<Option<i64>, _>(col).or_else(|_| {
            self.try_get::<Option<i32>, _>(col)
                .map(|n| n.map(i64::from))
        })?)
    }
    fn time(&self, col: &'static str) -> Result<DateTime<Utc>> {
        Ok(self.try_get(col)?)
    }
    fn opt_time(&self, col: &'static str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(col)?)
    }
}

#[async_trait]
impl Repo for PostgresRepo {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        "postgres"
    }
}
