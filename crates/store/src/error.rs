//! The one error type of the store crate, with classifiers so callers can react to a
//! kind of failure (a duplicate, a missing owner, an unreachable database) without
//! matching on engine-specific details.

use std::path::PathBuf;

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL names no engine this crate knows (`sqlite:` or `postgres:`).
    #[error(
        "unsupported database URL {0:?}: expected sqlite:PATH, sqlite::memory: or postgres://…"
    )]
    UnsupportedUrl(String),
    /// The database URL was understood as an engine's URL but is malformed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// The directory that should hold the SQLite file could not be created.
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The database refused or failed a query, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded schema migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value is outside what the record type can hold (e.g. a timestamp beyond
    /// the representable range); the row was written by something other than this crate.
    #[error("corrupt value in column {column}: {value}")]
    Corrupt {
        /// Table and column, e.g. `login_codes.attempts`.
        column: &'static str,
        /// The offending value, as text.
        value: String,
    },
}

/// Result of a repository operation.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The write would have duplicated a unique value (a phone number, a token hash, an id).
    pub fn is_unique_violation(&self) -> bool {
        self.db_error_kind() == Some(sqlx::error::ErrorKind::UniqueViolation)
    }

    /// The write referred to a row that does not exist (e.g. a device for an unknown user).
    pub fn is_foreign_key_violation(&self) -> bool {
        self.db_error_kind() == Some(sqlx::error::ErrorKind::ForeignKeyViolation)
    }

    /// The database could not be reached or no connection was free in time: worth a retry
    /// or a 503, unlike a refused query.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Database(
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            )
        )
    }

    /// The database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `disk_full`): no
    /// write can succeed until room is made.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("13" | "53100"))
            }
            Error::Database(sqlx::Error::Io(e)) => e.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }

    fn db_error_kind(&self) -> Option<sqlx::error::ErrorKind> {
        match self {
            Error::Database(sqlx::Error::Database(e)) => Some(e.kind()),
            _ => None,
        }
    }
}
