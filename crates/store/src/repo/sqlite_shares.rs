//! [`ShareRepo`] on SQLite.

use super::convert::{from_millis, to_millis};
use super::shares::{Share, ShareRepo};
use super::sqlite::SqliteRepo;
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

fn share_from_row(row: &SqliteRow) -> Result<Share> {
    let time = |col: &'static str| -> Result<Option<DateTime<Utc>>> {
        row.try_get::<Option<i64>, _>(col)?
            .map(|ms| from_millis(ms, col))
            .transpose()
    };
    Ok(Share {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        clip_id: row.try_get("clip_id")?,
        token_hash: row.try_get("token_hash")?,
        include_location: row.try_get::<i64, _>("include_location")? != 0,
        allow_download: row.try_get::<i64, _>("allow_download")? != 0,
        created_at: from_millis(row.try_get("created_at")?, "shares.created_at")?,
        expires_at: time("expires_at")?,
        revoked_at: time("revoked_at")?,
    })
}

#[async_trait]
impl ShareRepo for SqliteRepo {
    async fn create_share(&self, share: &Share) -> Result<()> {
        sqlx::query(
            "INSERT INTO shares (id, user_id, clip_id, token_hash, include_location,
                                 created_at, expires_at, revoked_at, allow_download)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(share.id)
        .bind(share.user_id)
        .bind(share.clip_id)
        .bind(&share.token_hash)
        .bind(i64::from(share.include_location))
        .bind(to_millis(share.created_at))
        .bind(share.expires_at.map(to_millis))
        .bind(share.revoked_at.map(to_millis))
        .bind(i64::from(share.allow_download))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn clip_shares(&self, user_id: Uuid, clip_id: Uuid) -> Result<Vec<Share>> {
        sqlx::query(
            "SELECT * FROM shares WHERE user_id = ?1 AND clip_id = ?2 ORDER BY created_at, id",
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
        sqlx::query("SELECT * FROM shares WHERE token_hash = ?1")
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(share_from_row)
            .transpose()
    }

    async fn revoke_share(&self, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE shares SET revoked_at = coalesce(revoked_at, ?3) WHERE user_id = ?1 AND id = ?2",
        )
        .bind(user_id)
        .bind(id)
        .bind(to_millis(now))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
