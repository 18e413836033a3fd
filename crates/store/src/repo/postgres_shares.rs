//! [`ShareRepo`] on PostgreSQL.

use super::convert::truncate_to_millis;
use super::postgres::PostgresRepo;
use super::shares::{Share, ShareRepo};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

fn share_from_row(row: &PgRow) -> Result<Share> {
    Ok(Share {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        clip_id: row.try_get("clip_id")?,
        token_hash: row.try_get("token_hash")?,
        include_location: row.try_get("include_location")?,
        allow_download: row.try_get("allow_download")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl ShareRepo for PostgresRepo {
    async fn create_share(&self, share: &Share) -> Result<()> {
        sqlx::query(
            "INSERT INTO shares (id, user_id, clip_id, token_hash, include_location,
                                 created_at, expires_at, revoked_at, allow_download)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(share.id)
        .bind(share.user_id)
        .bind(share.clip_id)
        .bind(&share.token_hash)
        .bind(share.include_location)
        .bind(truncate_to_millis(share.created_at))
        .bind(share.expires_at.map(truncate_to_millis))
        .bind(share.revoked_at.map(truncate_to_millis))
        .bind(share.allow_download)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn clip_shares(&self, user_id: Uuid, clip_id: Uuid) -> Result<Vec<Share>> {
        sqlx::query(
            "SELECT * FROM shares WHERE user_id = $1 AND clip_id = $2 ORDER BY created_at, id",
        )
        .bind(user_id)
        .bind(clip_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(share_from_row)
        .collect()
    }

    async fn share_by_token(&self, token_hash: &[u8]) -> Result<Option<Share>> {
        sqlx::query("SELECT * FROM shares WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(share_from_row)
            .transpose()
    }

    async fn revoke_share(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE shares SET revoked_at = coalesce(revoked_at, $3) WHERE user_id = $1 AND id = $2",
        )
        .bind(user_id)
        .bind(id)
        .bind(truncate_to_millis(now))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
