//! The embedded engine: one SQLite file (or an in-memory database for quick tests).
//!
//! Settings: WAL journal, so readers never wait for the writer; `synchronous=FULL`, so a
//! committed transaction survives a power cut and not only a crash of the process (the
//! WAL is synced on every commit; dashvault's writes are few and an acknowledged upload or
//! sign-in must not vanish); a 5 s busy timeout, so concurrent writers queue instead of
//! failing; foreign keys enforced. Times are INTEGER milliseconds since the epoch, ids
//! 16-byte BLOBs.

use super::convert::{from_millis, to_millis};
use super::engine::{decoded_columns, exec_on, Columns, Engine, Transaction};
use super::media_rows::to_json;
use super::sql::{Dialect, Param, Sql};
use super::upload_lock::UploadLock;
use super::Repo;
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
