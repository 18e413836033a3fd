//! The agent's state: one SQLite database, `agent.db`, in its storage directory (the
//! phone storage), so that a crash or a reboot loses neither the queue nor what is where.

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the database file inside the storage directory.
pub const DATABASE_FILE: &str = "agent.db";

/// Opening or using the state database failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The storage directory could not be created.
    #[error("can not create the agent storage directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A database error.
    #[error("agent state database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("agent state database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The open state database.
#[derive(Debug, Clone)]
pub struct State {
    pool: SqlitePool,
    dir: PathBuf,
}

impl State {
    /// Open (creating when missing) the state in `storage_dir` and bring its schema up to
    /// date. WAL and a busy timeout let `agent status` read while `agent run` writes.
    pub async fn open(storage_dir: &Path) -> Result<Self, StateError> {
        let create = |source| StateError::CreateDir {
            path: storage_dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(storage_dir).map_err(create)?;
        // Absolute, so that the paths kept in the database hold from any working directory.
        let storage_dir = &std::fs::canonicalize(storage_dir).map_err(create)?;
        let options = SqliteConnectOptions::new()
            .filename(storage_dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            dir: storage_dir.to_owned(),
        })
    }

    /// The connection pool, for the modules that keep their tables here.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The storage directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A setting, `None` when never set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StateError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Set a setting, replacing its old value.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).await.unwrap();
        assert_eq!(state.setting("network").await.unwrap(), None);
        state.set_setting("network", "wifi").await.unwrap();
        state.set_setting("network", "cellular").await.unwrap();
        drop(state);
        let state = State::open(dir.path()).await.unwrap();
        assert_eq!(
            state.setting("network").await.unwrap().as_deref(),
            Some("cellular")
        );
    }
}
