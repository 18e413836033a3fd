//! The metadata repository: one trait per concern, gathered under [`Repo`], with one engine
//! per database (SQLite embedded, PostgreSQL for several replicas).
//!
//! Every method that reads or changes something a user owns takes the owner's id, so a
//! caller can not reach another user's rows by mistake. Methods that depend on the time
//! take `now` from the caller, so tests control the clock.

mod accounts;
mod archive;
mod convert;
mod engine;
mod evidence;
mod evidence_rows;
mod jobs;
mod library;
mod media;
mod media_rows;
pub mod postgres;
mod shares;
mod sql;
pub mod sqlite;
mod upload_lock;
mod uploads;

pub use accounts::{DeviceRepo, LoginCodeRepo, SessionRepo, UserRepo};
pub use archive::ArchiveRepo;
pub use evidence::{ActivityRepo, LedgerRepo};
pub use jobs::JobRepo;
pub use library::LibraryRepo;
pub use media::MediaRepo;
pub use shares::ShareRepo;
pub use upload_lock::UploadLock;
pub use uploads::UploadRepo;

use crate::Result;
use async_trait::async_trait;
use engine::{Engine, Exec};
use sql::Sql;

/// The whole metadata repository, as one object the server holds.
#[async_trait]
pub trait Repo:
    UserRepo
    + LoginCodeRepo
    + SessionRepo
    + DeviceRepo
    + UploadRepo
    + MediaRepo
    + LibraryRepo
    + JobRepo
    + ShareRepo
    + ArchiveRepo
    + LedgerRepo
    + ActivityRepo
{
    /// Check that the database answers (for readiness probes).
    async fn ping(&self) -> Result<()>;
    /// Which engine this is, for logs and metrics: `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;
}

#[async_trait]
impl<E: Engine> Repo for E {
    async fn ping(&self) -> Result<()> {
        self.db().execute(Sql::new("SELECT 1")).await?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        E::DIALECT.name()
    }
}
