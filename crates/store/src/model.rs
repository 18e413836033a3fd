//! The records the metadata repository keeps, as plain data.

mod archive;
mod evidence;
mod jobs;
mod library;
mod media;
mod share;

pub use archive::*;
pub use evidence::*;
pub use jobs::*;
pub use library::*;
pub use media::*;
pub use share::*;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// A person who signed in with a phone number at least once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Phone number in E.164 form, e.g. `+14155550100`.
    pub phone: String,
    /// First sign-in.
    pub created_at: DateTime<Utc>,
}

/// A sign-in code waiting to be entered, stored only as a keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoginCode {
    /// E.164 phone number the code was sent to.
    pub phone: String,
    /// Keyed hash (HMAC) of the code; never the code itself.
    pub code_hash: Vec<u8>,
    /// When the code was sent.
    pub sent_at: DateTime<Utc>,
    /// From this instant on the code is refused (it is live while `now < expires_at`).
    pub expires_at: DateTime<Utc>,
    /// The client address that asked for it, for per-IP rate limits.
    pub ip: String,
}

/// What checking an entered code against the stored one found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code matched; it is consumed and can not be used again.
    Accepted,
    /// The code did not match; `attempts` wrong tries have now been made.
    Wrong {
        /// Wrong tries so far, this one included.
        attempts: u32,
    },
    /// The maximum of wrong tries was already reached; the code is dead.
    TooManyAttempts,
    /// There is no live code for this number (never sent, expired or consumed).
    Missing,
}

/// A signed-in browser or API client, found by the hash of its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the opaque token.
    pub token_hash: Vec<u8>,
    /// Whose session it is.
    pub user_id: Uuid,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// A camera (or the user's "web upload" pseudo-device) registered to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Stable id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera model, e.g. `BlackVue DR900X-2CH`.
    pub model: String,
    /// Serial number as the camera reports it.
    pub serial: String,
    /// Name the owner chose.
    pub name: String,
    /// Whether the camera records a cabin view too.
    pub has_cabin_camera: bool,
    /// Whether drives (not only clips) are uploaded for this model.
    pub uploads_drives: bool,
    /// Registration time.
    pub created_at: DateTime<Utc>,
    /// The time zone its clock is set to (IANA name, e.g. `Europe/Berlin`), for
    /// recordings that carry no GPS time; `None`: not set by the owner.
    pub timezone: Option<String>,
    /// When its agent was last heard from (to the minute).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Uploads waiting on its phone, as its agent last reported; `None`: never reported.
    pub uploads_waiting: Option<u64>,
}

/// What a camera holds in the cloud: the Cameras page's figures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceUsage {
    /// Bytes of its recordings, clips and sidecars.
    pub stored_bytes: u64,
    /// When the last of them was stored; `None`: nothing yet.
    pub last_upload_at: Option<DateTime<Utc>>,
}

/// What is needed to register a device; the id and token hash are made by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// New id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Camera model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Display name.
    pub name: String,
    /// Whether the camera records a cabin view too.
    pub has_cabin_camera: bool,
    /// Whether drives are uploaded for this model.
    pub uploads_drives: bool,
    /// SHA-256 of the device token.
    pub token_hash: Vec<u8>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}
