//! The metadata repository: one trait per concern, gathered under [`Repo`], with one engine
//! per database (SQLite embedded, PostgreSQL for several replicas).
//!
//! Every method that reads or changes something a user owns takes the owner's id, so a
//! caller can not reach another user's rows by mistake. Methods that depend on the time
//! take `now` from the caller, so tests control the clock.

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
mod postgres_archive;
mod postgres_evidence;
mod shares;
mod sql;
pub mod sqlite;
mod sqlite_archive;
mod sqlite_evidence;
mod upload_lock;
mod uploads;

pub use archive::ArchiveRepo;
pub use evidence::{ActivityRepo, LedgerRepo};
pub use jobs::JobRepo;
pub use library::LibraryRepo;
pub use media::MediaRepo;
pub use shares::ShareRepo;
pub use upload_lock::UploadLock;
pub use uploads::UploadRepo;

use crate::model::{CodeCheck, Device, DeviceUsage, NewDevice, NewLoginCode, Session, User};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Users, created on their first sign-in.
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// The user with this E.164 phone number, created (with `now` as creation time) if new.
    async fn find_or_create_user(&self, phone: &str, now: DateTime<Utc>) -> Result<User>;
    /// The user with this id, if any.
    async fn user(&self, id: Uuid) -> Result<Option<User>>;
}

/// Sign-in codes and the log of codes sent, for expiry, tries and rate limits.
#[async_trait]
pub trait LoginCodeRepo: Send + Sync {
    /// Store a new code for `code.phone`, replacing any previous one (its tries reset), and
    /// log the send for rate limiting.
    async fn put_login_code(&self, code: &NewLoginCode) -> Result<()>;
    /// Check `code_hash` against the live code of `phone` in one atomic step: on a match
    /// (not expired at `now`, fewer than `max_attempts` wrong tries) the code is consumed;
    /// on a mismatch the wrong-try count goes up by one.
    async fn check_login_code(
        &self,
        phone: &str,
        code_hash: &[u8],
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<CodeCheck>;
    /// When the last code for `phone` was sent, if one was.
    async fn last_code_sent_at(&self, phone: &str) -> Result<Option<DateTime<Utc>>>;
    /// Codes sent to `phone` at or after `since`.
    async fn codes_sent_to_phone(&self, phone: &str, since: DateTime<Utc>) -> Result<u64>;
    /// Codes requested from `ip` at or after `since`.
    async fn codes_sent_from_ip(&self, ip: &str, since: DateTime<Utc>) -> Result<u64>;
    /// The oldest send to `phone` at or after `since`, to tell when a limit frees up.
    async fn oldest_code_sent_to_phone(
        &self,
        phone: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;
    /// The oldest request from `ip` at or after `since`.
    async fn oldest_code_sent_from_ip(
        &self,
        ip: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;
    /// Forget sends logged before `before` and codes expired before it (housekeeping).
    async fn prune_login_codes(&self, before: DateTime<Utc>) -> Result<()>;
}

/// Signed-in sessions, found by the hash of their token.
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Store a new session.
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this token hash and its user, if it has not expired at `now`.
    async fn session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, User)>>;
    /// Move the session's expiry to `expires_at` (sliding renewal).
    async fn renew_session(&self, token_hash: &[u8], expires_at: DateTime<Utc>) -> Result<()>;
    /// Remove the session (sign-out); removing an unknown one is not an error.
    async fn delete_session(&self, token_hash: &[u8]) -> Result<()>;
    /// Forget sessions that expired before `before` (housekeeping: expired sessions are
    /// never found, but their rows stay until pruned).
    async fn prune_sessions(&self, before: DateTime<Utc>) -> Result<()>;
}

/// Cameras registered by users, and their agent tokens.
#[async_trait]
pub trait DeviceRepo: Send + Sync {
    /// Register a device.
    async fn create_device(&self, device: &NewDevice) -> Result<Device>;
    /// The user's devices, oldest first.
    async fn devices(&self, user_id: Uuid) -> Result<Vec<Device>>;
    /// One of the user's devices.
    async fn device(&self, user_id: Uuid, id: Uuid) -> Result<Option<Device>>;
    /// Rename one of the user's devices; `None` if the user has no such device.
    async fn rename_device(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<Option<Device>>;
    /// Set (or clear) the time zone of one of the user's devices; `None` if no such device.
    async fn set_device_timezone(
        &self,
        user_id: Uuid,
        id: Uuid,
        timezone: Option<&str>,
    ) -> Result<Option<Device>>;
    /// Note that the device's agent was heard from at `now`; written at most once a minute
    /// per device, so an agent's every request does not become a write.
    async fn touch_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// Keep what the device's agent reports: the uploads waiting on its phone (written
    /// only when it changed, as an agent reports every round).
    async fn set_device_waiting(&self, id: Uuid, uploads_waiting: u64) -> Result<()>;
    /// What one of the user's devices holds in the cloud.
    async fn device_usage(&self, user_id: Uuid, id: Uuid) -> Result<DeviceUsage>;
    /// Replace the device's token (the old one stops working); `false` if no such device.
    async fn replace_device_token(
        &self,
        user_id: Uuid,
        id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool>;
    /// Remove one of the user's devices (its token stops working); `false` if none.
    async fn delete_device(&self, user_id: Uuid, id: Uuid) -> Result<bool>;
    /// The device whose token has this hash.
    async fn device_by_token(&self, token_hash: &[u8]) -> Result<Option<Device>>;
}

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
