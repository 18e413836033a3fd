//! Accounts: users, sign-in codes (with the log of sends that rate limits read),
//! sessions and the cameras users register; written once for both engines.
//!
//! A sign-in code is checked in one write transaction whose statements both test and
//! change the code's row (`DELETE … RETURNING`, `UPDATE … WHERE attempts < $4`), so two
//! checks at once — on SQLite, or on PostgreSQL from two replicas — can not both consume
//! one code, and its try counter never passes the limit.

use super::convert::to_u32;
use super::engine::{Columns, Engine, Exec, Transaction};
use super::media_rows::to_i64;
use super::sql::Sql;
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

/// The columns a [`User`] is read from.
const USER_COLUMNS: &str = "id, phone, created_at";

fn user_from_row(row: &impl Columns) -> Result<User> {
    Ok(User {
        id: row.uuid("id")?,
        phone: row.text("phone")?,
        created_at: row.time("created_at")?,
    })
}

/// The columns a [`Device`] is read from.
const DEVICE_COLUMNS: &str = "id, user_id, model, serial, name, has_cabin_camera, uploads_drives, \
                              created_at, timezone, last_seen_at, uploads_waiting";

fn device_from_row(row: &impl Columns) -> Result<Device> {
    Ok(Device {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        model: row.text("model")?,
        serial: row.text("serial")?,
        name: row.text("name")?,
        has_cabin_camera: row.flag("has_cabin_camera")?,
        uploads_drives: row.flag("uploads_drives")?,
        created_at: row.time("created_at")?,
        timezone: row.opt_text("timezone")?,
        uploads_waiting: row.opt_count("uploads_waiting")?,
        last_seen_at: row.opt_time("last_seen_at")?,
    })
}

/// The instant in column `at` of the single row `sql` returns (`NULL` when its aggregate
/// found nothing).
async fn optional_time<E: Engine>(engine: &E, sql: Sql) -> Result<Option<DateTime<Utc>>> {
    engine.db().fetch_one(sql).await?.opt_time("at")
}

/// The count in column `n` of the single row `sql` returns.
async fn count<E: Engine>(engine: &E, sql: Sql) -> Result<u64> {
    engine.db().fetch_one(sql).await?.count("n")
}

/// Run `update` (setting one text column, `$1`, of one of the user's devices, `$2` and
/// `$3`) and read the device back; `None` if the user has no such device.
async fn update_device_text<E: Engine>(
    engine: &E,
    update: &'static str,
    value: Option<&str>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Device>> {
    engine
        .db()
        .optional(
            Sql::new(format!("{update} RETURNING {DEVICE_COLUMNS}"))
                .arg(value)
                .arg(user_id)
                .arg(id),
            device_from_row,
        )
        .await
}

#[async_trait]
impl<E: Engine> UserRepo for E {
    async fn find_or_create_user(&self, phone: &str, now: DateTime<Utc>) -> Result<User> {
        self.db()
            .execute(
                Sql::new(
                    "INSERT INTO users (id, phone, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (phone) DO NOTHING",
                )
                .arg(Uuid::now_v7())
                .arg(phone)
                .arg(now),
            )
            .await?;
        let row = self
            .db()
            .fetch_one(
                Sql::new(format!("SELECT {USER_COLUMNS} FROM users WHERE phone = $1")).arg(phone),
            )
            .await?;
        user_from_row(&row)
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        self.db()
            .optional(
                Sql::new(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).arg(id),
                user_from_row,
            )
            .await
    }
}

#[async_trait]
impl<E: Engine> LoginCodeRepo for E {
    async fn put_login_code(&self, code: &NewLoginCode) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new(
                "INSERT INTO login_codes (phone, code_hash, sent_at, expires_at, attempts)
                 VALUES ($1, $2, $3, $4, 0)
                 ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash,
                     sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0",
            )
            .arg(&code.phone)
            .arg(code.code_hash.as_slice())
            .arg(code.sent_at)
            .arg(code.expires_at),
        )
        .await?;
        tx.execute(
            Sql::new("INSERT INTO code_sends (phone, ip, sent_at) VALUES ($1, $2, $3)")
                .arg(&code.phone)
                .arg(&code.ip)
                .arg(code.sent_at),
        )
        .await?;
        tx.commit().await
    }

    async fn check_login_code(
        &self,
        phone: &str,
        code_hash: &[u8],
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<CodeCheck> {
        // On SQLite the transaction holds the write lock from its start (waiting up to
        // the busy timeout): checks of one database run one after another. On PostgreSQL a
        // concurrent check of the same row waits on its lock, then re-tests the WHERE
        // clause against the committed row: at most one DELETE consumes the code, and the
        // try counter never passes `max_attempts`.
        let mut tx = self.begin().await?;
        let consumed = tx
            .fetch_optional(
                Sql::new(
                    "DELETE FROM login_codes
                     WHERE phone = $1 AND code_hash = $2 AND expires_at > $3 AND attempts < $4
                     RETURNING phone",
                )
                .arg(phone)
                .arg(code_hash)
                .arg(now)
                .arg(max_attempts),
            )
            .await?;
        let outcome = if consumed.is_some() {
            CodeCheck::Accepted
        } else if let Some(row) = tx
            .fetch_optional(
                Sql::new(
                    "UPDATE login_codes SET attempts = attempts + 1
                     WHERE phone = $1 AND code_hash <> $2 AND expires_at > $3 AND attempts < $4
                     RETURNING attempts",
                )
                .arg(phone)
                .arg(code_hash)
                .arg(now)
                .arg(max_attempts),
            )
            .await?
        {
            CodeCheck::Wrong {
                attempts: to_u32(row.int("attempts")?, "login_codes.attempts")?,
            }
        } else {
            let live = tx
                .fetch_optional(
                    Sql::new("SELECT 1 FROM login_codes WHERE phone = $1 AND expires_at > $2")
                        .arg(phone)
                        .arg(now),
                )
                .await?;
            if live.is_some() {
                CodeCheck::TooManyAttempts
            } else {
                CodeCheck::Missing
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn last_code_sent_at(&self, phone: &str) -> Result<Option<DateTime<Utc>>> {
        optional_time(
            self,
            Sql::new("SELECT MAX(sent_at) AS at FROM code_sends WHERE phone = $1").arg(phone),
        )
        .await
    }

    async fn codes_sent_to_phone(&self, phone: &str, since: DateTime<Utc>) -> Result<u64> {
        count(
            self,
            Sql::new("SELECT COUNT(*) AS n FROM code_sends WHERE phone = $1 AND sent_at >= $2")
                .arg(phone)
                .arg(since),
        )
        .await
    }

    async fn codes_sent_from_ip(&self, ip: &str, since: DateTime<Utc>) -> Result<u64> {
        count(
            self,
            Sql::new("SELECT COUNT(*) AS n FROM code_sends WHERE ip = $1 AND sent_at >= $2")
                .arg(ip)
                .arg(since),
        )
        .await
    }

    async fn oldest_code_sent_to_phone(
        &self,
        phone: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        optional_time(
            self,
            Sql::new(
                "SELECT MIN(sent_at) AS at FROM code_sends WHERE phone = $1 AND sent_at >= $2",
            )
            .arg(phone)
            .arg(since),
        )
        .await
    }

    async fn oldest_code_sent_from_ip(
        &self,
        ip: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        optional_time(
            self,
            Sql::new("SELECT MIN(sent_at) AS at FROM code_sends WHERE ip = $1 AND sent_at >= $2")
                .arg(ip)
                .arg(since),
        )
        .await
    }

    async fn prune_login_codes(&self, before: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(Sql::new("DELETE FROM code_sends WHERE sent_at < $1").arg(before))
            .await?;
        tx.execute(Sql::new("DELETE FROM login_codes WHERE expires_at < $1").arg(before))
            .await?;
        tx.commit().await
    }
}

#[async_trait]
impl<E: Engine> SessionRepo for E {
    async fn create_session(&self, session: &Session) -> Result<()> {
        self.db()
            .execute(
                Sql::new(
                    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .arg(session.token_hash.as_slice())
                .arg(session.user_id)
                .arg(session.created_at)
                .arg(session.expires_at),
            )
            .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, User)>> {
        let Some(row) = self
            .db()
            .fetch_optional(
                Sql::new(
                    "SELECT s.token_hash, s.created_at AS session_created_at, s.expires_at,
                            u.id, u.phone, u.created_at
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.expires_at > $2",
                )
                .arg(token_hash)
                .arg(now),
            )
            .await?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = Session {
            token_hash: row.bytes("token_hash")?,
            user_id: user.id,
            created_at: row.time("session_created_at")?,
            expires_at: row.time("expires_at")?,
        };
        Ok(Some((session, user)))
    }

    async fn renew_session(&self, token_hash: &[u8], expires_at: DateTime<Utc>) -> Result<()> {
        self.db()
            .execute(
                Sql::new("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
                    .arg(expires_at)
                    .arg(token_hash),
            )
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        self.db()
            .execute(Sql::new("DELETE FROM sessions WHERE token_hash = $1").arg(token_hash))
            .await?;
        Ok(())
    }

    async fn prune_sessions(&self, before: DateTime<Utc>) -> Result<()> {
        self.db()
            .execute(Sql::new("DELETE FROM sessions WHERE expires_at < $1").arg(before))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl<E: Engine> DeviceRepo for E {
    async fn create_device(&self, device: &NewDevice) -> Result<Device> {
        let row = self
            .db()
            .fetch_one(
                Sql::new(format!(
                    "INSERT INTO devices (id, user_id, model, serial, name, has_cabin_camera,
                                          uploads_drives, token_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     RETURNING {DEVICE_COLUMNS}"
                ))
                .arg(device.id)
                .arg(device.user_id)
                .arg(&device.model)
                .arg(&device.serial)
                .arg(&device.name)
                .arg(device.has_cabin_camera)
                .arg(device.uploads_drives)
                .arg(device.token_hash.as_slice())
                .arg(device.created_at),
            )
            .await?;
        device_from_row(&row)
    }

    async fn devices(&self, user_id: Uuid) -> Result<Vec<Device>> {
        self.db()
            .all(
                Sql::new(format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 ORDER BY created_at, id"
                ))
                .arg(user_id),
            device_from_row).await
    }

    async fn device(&self, user_id: Uuid, id: Uuid) -> Result<Option<Device>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 AND id = $2"
                ))
                .arg(user_id)
                .arg(id),
                device_from_row,
            )
            .await
    }

    async fn rename_device(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<Option<Device>> {
        update_device_text(
            self,
            "UPDATE devices SET name = $1 WHERE user_id = $2 AND id = $3",
            Some(name),
            user_id,
            id,
        )
        .await
    }

    async fn set_device_timezone(
        &self,
        user_id: Uuid,
        id: Uuid,
        timezone: Option<&str>,
    ) -> Result<Option<Device>> {
        update_device_text(
            self,
            "UPDATE devices SET timezone = $1 WHERE user_id = $2 AND id = $3",
            timezone,
            user_id,
            id,
        )
        .await
    }

    async fn touch_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.db()
            .execute(
                Sql::new(
                    "UPDATE devices SET last_seen_at = $1
                     WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $3)",
                )
                .arg(now)
                .arg(id)
                .arg(now - chrono::Duration::minutes(1)),
            )
            .await?;
        Ok(())
    }

    async fn set_device_waiting(&self, id: Uuid, uploads_waiting: u64) -> Result<()> {
        self.db()
            .execute(
                Sql::new(
                    "UPDATE devices SET uploads_waiting = $1
                     WHERE id = $2 AND uploads_waiting IS DISTINCT FROM $1",
                )
                .arg(to_i64(uploads_waiting))
                .arg(id),
            )
            .await?;
        Ok(())
    }

    async fn device_usage(&self, user_id: Uuid, id: Uuid) -> Result<DeviceUsage> {
        let row = self
            .db()
            .fetch_one(
                Sql::new(
                    "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS stored_bytes,
                            MAX(created_at) AS last_upload_at
                     FROM (SELECT size, created_at FROM recordings
                           WHERE user_id = $1 AND device_id = $2
                           UNION ALL
                           SELECT size, created_at FROM clips WHERE user_id = $1 AND device_id = $2
                           UNION ALL
                           SELECT size, created_at FROM sidecars
                           WHERE user_id = $1 AND device_id = $2) AS stored",
                )
                .arg(user_id)
                .arg(id),
            )
            .await?;
        Ok(DeviceUsage {
            stored_bytes: row.count("stored_bytes")?,
            last_upload_at: row.opt_time("last_upload_at")?,
        })
    }

    async fn replace_device_token(
        &self,
        user_id: Uuid,
        id: Uuid,
        token_hash: &[u8],
    ) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new("UPDATE devices SET token_hash = $1 WHERE user_id = $2 AND id = $3")
                    .arg(token_hash)
                    .arg(user_id)
                    .arg(id),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn delete_device(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new("DELETE FROM devices WHERE user_id = $1 AND id = $2")
                    .arg(user_id)
                    .arg(id),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn device_by_token(&self, token_hash: &[u8]) -> Result<Option<Device>> {
        self.db()
            .optional(
                Sql::new(format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = $1"
                ))
                .arg(token_hash),
                device_from_row,
            )
            .await
    }
}
