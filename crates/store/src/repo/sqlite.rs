//! The embedded engine: one SQLite file (or an in-memory database for quick tests).
//!
//! Settings: WAL journal, so readers never wait for the writer; `synchronous=FULL`, so a
//! committed transaction survives a power cut and not only a crash of the process (the
//! WAL is synced on every commit; dashvault's writes are few and an acknowledged upload or
//! sign-in must not vanish); a 5 s busy timeout, so concurrent writers queue instead of
//! failing; foreign keys enforced. Times are INTEGER milliseconds since the epoch, ids
//! 16-byte BLOBs.

use super::convert::{from_millis, to_millis};
use super::engine::{decoded_columns, native_engine, Columns};
use super::media_rows::to_json;
use super::sql::Dialect;
use super::upload_lock::UploadLock;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

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

native_engine!(
    SqliteRepo, Sqlite, SqliteRow, SqliteArguments<'_>, Dialect::Sqlite,
    begin: "BEGIN IMMEDIATE", time: to_millis, list: to_json,
    // One process serves a SQLite database: its own per-process guard is the lock.
    upload_lock: |_repo, _id| Ok(Some(UploadLock::in_process()))
);

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
