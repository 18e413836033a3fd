//! The scale-out engine: PostgreSQL, shared by any number of server replicas.
//!
//! Ids are UUID, times TIMESTAMPTZ written at millisecond precision (the same values the
//! SQLite engine keeps), hashes BYTEA. This file only connects, migrates and says how
//! the engine binds and reads its types; the queries, written once for both engines, are
//! in the concern modules (how replicas share sign-in codes, uploads and jobs is told
//! there: `accounts`, `uploads`, `jobs`).

use super::convert::truncate_to_millis;
use super::engine::{decoded_columns, native_engine, Columns};
use super::sql::Dialect;
use super::upload_lock::UploadLock;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, Row};
use std::str::FromStr;
use std::time::Duration;

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
}

native_engine!(
    PostgresRepo, Postgres, PgRow, PgArguments, Dialect::Postgres,
    begin: "BEGIN", time: truncate_to_millis, list: Vec::clone,
    upload_lock: |repo, id| UploadLock::advisory(&repo.pool, id).await
);

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
