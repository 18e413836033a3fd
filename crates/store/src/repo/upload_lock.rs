//! [`UploadLock`]: who may write an upload right now, across every server process on one
//! database. On PostgreSQL it is a session advisory lock on a pooled connection, so a
//! process that dies loses it the moment its connection closes (a lease with an expiry
//! would keep a resuming client waiting after every crash). On SQLite only one process
//! serves a database, and its own per-process guard is the lock.

use crate::Result;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

/// Held while one request writes an upload; released when dropped.
#[derive(Debug)]
pub struct UploadLock {
    held: Option<(PoolConnection<Postgres>, i64)>,
}

impl UploadLock {
    /// A lock that needs no database (one process per database).
    pub(crate) fn in_process() -> Self {
        Self { held: None }
    }

    /// The PostgreSQL advisory lock of upload `id`, taken on a connection of `pool` that
    /// it keeps until released; `None` while another session holds it.
    pub(crate) async fn advisory(pool: &PgPool, id: Uuid) -> Result<Option<Self>> {
        let mut conn = pool.acquire().await?;
        let key = advisory_key(id);
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        Ok(locked.then(|| Self {
            held: Some((conn, key)),
        }))
    }

    /// Release the lock now, so that the writer's next request finds it free (dropping
    /// releases it too, but in the background, a moment later).
    pub async fn release(mut self) {
        if let Some((conn, key)) = self.held.take() {
            unlock(conn, key).await;
        }
    }
}

/// Release advisory lock `key` held on `conn`; a connection whose lock state is unknown
/// (the unlock failed) is closed rather than reused.
async fn unlock(mut conn: PoolConnection<Postgres>, key: i64) {
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        conn.close_on_drop();
    }
}

/// The advisory lock key of upload `id` (its first 8 bytes; a collision only makes one
/// request wait for another upload's).
fn advisory_key(id: Uuid) -> i64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&id.as_bytes()[..8]);
    i64::from_be_bytes(first)
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        let Some((mut conn, key)) = self.held.take() else {
            return;
        };
        // Unlock before the connection goes back to the pool; without a runtime (process
        // exit) the connection is closed with the process, which releases it too.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(unlock(conn, key));
        } else {
            conn.close_on_drop();
        }
    }
}
