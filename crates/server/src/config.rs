//! The server's settings, already validated: the binary builds this from its flags,
//! environment and TOML file; tests build it in code.

use std::net::SocketAddr;
use std::time::Duration;

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Where blobs live, e.g. `file:///var/lib/dashvault/blobs`.
    pub blob_url: String,
    /// Sign-in and session rules.
    pub auth: AuthConfig,
    /// How sign-in codes reach the phone.
    pub sms: SmsConfig,
    /// Request-size and time limits.
    pub limits: LimitsConfig,
    /// Resumable uploads: sizes, quota, expiry.
    pub uploads: UploadConfig,
    /// The web UI's settings.
    pub web: WebConfig,
    /// The archive tier and restores.
    pub archive: ArchiveConfig,
    /// The key that signs evidence bundles; the same on every replica.
    pub evidence_key: crate::evidence::key::EvidenceKey,
}

/// The archive tier: where old drives go, when, and how restores work.
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    /// The archive blob store, e.g. `file:///var/lib/dashvault/archive` or
    /// `s3://cold-bucket?…`; a store of its own, never the hot one.
    pub url: String,
    /// Drives that ended longer ago than this are archived (recordings and time-lapses;
    /// clips never are).
    pub after: Duration,
    /// How long an approved restore keeps a drive in the hot store.
    pub restore_for: Duration,
    /// Bearer token of the operator API (`/api/v1/admin/…`); `None`: that API is off.
    pub operator_token: Option<String>,
}

impl ArchiveConfig {
    /// Sixty days to the archive, seven days restored, the archive store at `url`.
    pub fn with_url(url: String) -> Self {
        Self {
            url,
            after: Duration::from_secs(60 * 24 * 3600),
            restore_for: Duration::from_secs(7 * 24 * 3600),
            operator_token: None,
        }
    }
}

/// The web UI's settings.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Map tile URL template for the player's route map, e.g.
    /// `https://tile.example.org/{z}/{x}/{y}.png`; empty: the route is drawn as a line only.
    pub map_tiles_url: String,
}

/// Sign-in codes, their limits, and sessions.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Key of the HMAC that codes are stored under; keep it secret and the same on every
    /// replica.
    pub secret: Vec<u8>,
    /// How long a code is valid.
    pub code_ttl: Duration,
    /// Wrong tries allowed before a code is dead.
    pub code_max_attempts: u32,
    /// Time before another code can be sent to the same number.
    pub code_resend_cooldown: Duration,
    /// Codes sent to one number per hour at most.
    pub codes_per_phone_per_hour: u32,
    /// Codes requested from one client address per hour at most.
    pub codes_per_ip_per_hour: u32,
    /// How long a session lasts without being used; every use extends it.
    pub session_ttl: Duration,
    /// Take the client address from `X-Forwarded-For` and the scheme from
    /// `X-Forwarded-Proto` (only behind a proxy you trust).
    pub trust_proxy_headers: bool,
    /// Always mark the session cookie `Secure` (also done when a trusted proxy says https).
    pub secure_cookies: bool,
}

impl AuthConfig {
    /// The documented defaults, with the given HMAC key.
    pub fn with_secret(secret: Vec<u8>) -> Self {
        Self {
            secret,
            code_ttl: Duration::from_secs(5 * 60),
            code_max_attempts: 5,
            code_resend_cooldown: Duration::from_secs(30),
            codes_per_phone_per_hour: 5,
            codes_per_ip_per_hour: 20,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            trust_proxy_headers: false,
            secure_cookies: false,
        }
    }
}

/// Which SMS sender delivers sign-in codes.
#[derive(Debug, Clone)]
pub enum SmsConfig {
    /// Print each message on the console (the default, for self-hosting and tests).
    Console,
    /// Send through Twilio's Messages API, or any service that speaks it.
    Twilio {
        /// Account SID.
        account_sid: String,
        /// Auth token.
        auth_token: String,
        /// Sender number in E.164.
        from: String,
        /// API base, `https://api.twilio.com` unless testing or proxying.
        base_url: String,
    },
}

/// Request-size and time limits.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Largest JSON request body accepted, in bytes.
    pub json_body_bytes: usize,
    /// Longest time a (non-streaming) request may take.
    pub request_timeout: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            json_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Resumable (tus) upload settings.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// Largest upload accepted, in bytes (`Tus-Max-Size`); larger ones get `413`.
    pub max_size: u64,
    /// Bytes each user may store (finished files plus uploads in progress); beyond it
    /// uploads get `507`. `None`: no quota.
    pub user_quota: Option<u64>,
    /// How long an unfinished upload is kept after its creation.
    pub expiry: Duration,
    /// Recordings of one device at most this far apart belong to one drive (by default
    /// the shared [`dashvault_domain::DRIVE_GAP`], which the agent groups by too).
    pub drive_gap: Duration,
    /// Free bytes of the blob volume that uploads may not use, so that the database and
    /// deletes always have room; `None`: 5 % of the volume, at most 1 GiB.
    pub min_free_space: Option<u64>,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            max_size: 4 << 30,
            user_quota: None,
            expiry: Duration::from_secs(24 * 3600),
            drive_gap: dashvault_domain::DRIVE_GAP,
            min_free_space: None,
        }
    }
}
