//! Where dashvault keeps things: the metadata repository (SQLite or PostgreSQL) behind
//! [`Repo`], and the files themselves in a blob store (a directory or S3) behind
//! [`BlobStore`]; each has several engines that pass one conformance suite.
//!
//! Overview: [`open`] reads a database URL, connects, runs that engine's migrations and
//! returns an `Arc<dyn Repo>`; [`open_blob_store`] does the same for a blob URL
//! ([`blob`]); [`model`] holds the records (their shared words, such as the incident
//! kinds, come from `dashvault_domain`). With the `testkit` feature (off by default; the
//! store's tests and those of the crates that test against it turn it on), `testkit` and
//! `blob::testkit` are the suites that every engine must pass, with the throw-away
//! databases to run them on.

#![deny(missing_docs)]

pub mod blob;
mod error;
pub mod model;
pub mod repo;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use blob::{open_blob_store, BlobStore};
pub use error::{Error, Result};
pub use repo::{
    ActivityRepo, DeviceRepo, JobRepo, LedgerRepo, LibraryRepo, LoginCodeRepo, MediaRepo, Repo,
    SessionRepo, UploadRepo, UserRepo,
};

use std::sync::Arc;

/// Connect to the database named by `url` (`sqlite://PATH` or `postgres://…`), bring its
/// schema up to date, and return the repository for it.
pub async fn open(url: &str) -> Result<Arc<dyn Repo>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(repo::sqlite::SqliteRepo::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(repo::postgres::PostgresRepo::open(url).await?))
    } else {
        Err(Error::UnsupportedUrl(url.to_owned()))
    }
}
