//! Share links: one clip shown to anyone holding a random token, which is stored only as
//! its SHA-256. A share is never deleted by its owner, only revoked (so a revoked link
//! answers "gone"); it lives on after its clip is deleted for the same reason.

use super::engine::{Columns, Engine, Exec};
use super::sql::Sql;
use crate::model::Share;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

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

fn share_from_row(row: &impl Columns) -> Result<Share> {
    Ok(Share {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        clip_id: row.uuid("clip_id")?,
        token_hash: row.bytes("token_hash")?,
        include_location: row.flag("include_location")?,
        allow_download: row.flag("allow_download")?,
        created_at: row.time("created_at")?,
        expires_at: row.opt_time("expires_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

#[async_trait]
impl<E: Engine> ShareRepo for E {
    async fn create_share(&self, share: &Share) -> Result<()> {
        self.db()
            .execute(
                Sql::new(
                    "INSERT INTO shares (id, user_id, clip_id, token_hash, include_location,
                                         created_at, expires_at, revoked_at, allow_download)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .arg(share.id)
                .arg(share.user_id)
                .arg(share.clip_id)
                .arg(share.token_hash.as_slice())
                .arg(share.include_location)
                .arg(share.created_at)
                .arg(share.expires_at)
                .arg(share.revoked_at)
                .arg(share.allow_download),
            )
            .await?;
        Ok(())
    }

    async fn clip_shares(&self, user_id: Uuid, clip_id: Uuid) -> Result<Vec<Share>> {
        self.db()
            .all(
                Sql::new(
                    "SELECT * FROM shares WHERE user_id = $1 AND clip_id = $2
                     ORDER BY created_at, id",
                )
                .arg(user_id)
                .arg(clip_id),
                share_from_row,
            )
            .await
    }

    async fn share_by_token(&self, token_hash: &[u8]) -> Result<Option<Share>> {
        self.db()
            .optional(
                Sql::new("SELECT * FROM shares WHERE token_hash = $1").arg(token_hash),
                share_from_row,
            )
            .await
    }

    async fn revoke_share(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new(
                    "UPDATE shares SET revoked_at = coalesce(revoked_at, $3)
                     WHERE user_id = $1 AND id = $2",
                )
                .arg(user_id)
                .arg(id)
                .arg(now),
            )
            .await?;
        Ok(changed > 0)
    }
}
