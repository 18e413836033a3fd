//! The scale-out engine: PostgreSQL, shared by any number of server replicas.
//!
//! Ids are UUID, times TIMESTAMPTZ written at millisecond precision (the same values the
//! SQLite engine keeps), hashes BYTEA. Single statements that both test and change a row
//! (`DELETE … RETURNING`, `UPDATE … WHERE attempts < $n`) lock it, so concurrent replicas
//! can not both consume one sign-in code.

use super::convert::truncate_to_millis;
use super::engine::{decoded_columns, exec_on, Columns, Engine, Transaction};
use super::sql::{Dialect, Param, Sql};
use super::upload_lock::UploadLock;
use super::Repo;
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
