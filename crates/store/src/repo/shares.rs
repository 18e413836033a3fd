//! Share links: one clip shown to anyone holding a random token, which is stored only as
//! its SHA-256. A share is never deleted by its owner, only revoked (so a revoked link
//! answers "gone"); it lives on after its clip is deleted for the same reason.

use crate::Result;
use async_trait::async_trait;
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

/// Share links, by owner and clip, and by token hash for anonymous viewers.
#[async_trait]
pub trait ShareRepo: Send + Sync {
    /// Store a new share.
    async fn create_share(&self, share: &Share) -> Result<()>;
    /// The shares of one of the user's clips, oldest first.
    async fn clip_shares(&self, user_id: Uuid, clip_id: Uuid) -> Result<Vec<Share>>;
    /// The share whose token has this hash, live or not.
    async fn share_by_token(&self, token_hash: &[u8]) -> Result<Option<Share>>;
    /// Revoke one of the user's shares at `now` (a revoked one keeps its first revocation
    /// time); `false` if the user has no such share.
    async fn revoke_share(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool>;
}
