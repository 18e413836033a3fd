//! Share links: one clip shown to anyone holding a random token.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A share link to one clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Id (what the owner revokes).
    pub id: Uuid,
    /// Owner of the clip.
    pub user_id: Uuid,
    /// The shared clip (it may have been deleted since).
    pub clip_id: Uuid,
    /// SHA-256 of the link's token; the token itself is never stored.
    pub token_hash: Vec<u8>,
    /// Whether the shared page and video may show where the clip was recorded.
    pub include_location: bool,
    /// Whether the link's holder may download the clip (not only watch it).
    pub allow_download: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// From this instant on the link is gone; `None`: it never expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the owner revoked it, if they did.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Share {
    /// Whether the link still works at `now` (not revoked, not expired). Whether the clip
    /// still exists is for the caller to check.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}
