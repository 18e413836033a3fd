//! Room on the blob store's volume: uploads stop at a reserve of free space
//! (`--min-free-space`, by default 5 % of the volume and at most 1 GiB), so that a full
//! disk is a clear `507` before it happens, the database always has room to record a
//! delete, and `/readyz` can say that new uploads would be refused. A store without a
//! volume of its own (S3) has no reserve.

use crate::error::ApiError;
use crate::state::AppState;

/// Room above the reserve a server needs to call itself ready: one part of an upload
/// (a smaller chunk may still fit when it is not).
pub const READY_ROOM: u64 = 8 << 20;

/// Largest default reserve.
const MAX_DEFAULT_RESERVE: u64 = 1 << 30;

/// Why a store has no room for `incoming` more bytes, if it has none.
pub async fn shortage(state: &AppState, incoming: u64) -> Result<Option<String>, ApiError> {
    let Some(space) = state.blobs.free_space().await? else {
        return Ok(None);
    };
    let reserve = state
        .uploads
        .config
        .min_free_space
        .unwrap_or((space.total / 20).min(MAX_DEFAULT_RESERVE));
    // Full at the reserve itself, even for a request that brings no bytes.
    let room = space.available.saturating_sub(reserve);
    Ok((room < incoming.max(1)).then(|| {
        format!(
            "the server's storage is full: {} bytes free, of which {reserve} are kept in reserve; \
             delete videos or ask the operator to add space, then retry",
            space.available
        )
    }))
}

/// `507` unless the store has room for `incoming` more bytes above its reserve.
pub async fn ensure_room(state: &AppState, incoming: u64) -> Result<(), ApiError> {
    match shortage(state, incoming).await? {
        Some(reason) => Err(ApiError::InsufficientStorage(reason)),
        None => Ok(()),
    }
}
