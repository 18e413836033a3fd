//! The SHA-256 of each upload, computed as its bytes arrive, so that filing a completed
//! upload needs no second read of the whole file (reading a 200 MiB recording again
//! costs about as much as receiving it).
//!
//! The states are a cache of this process, never the upload's truth (that is the row in
//! the repository and the stored bytes): each is kept with the offset it covers and is
//! used only by the request that continues the upload from exactly that offset. A request
//! that fails drops its upload's state (it may cover bytes that were not recorded); after
//! a restart, or when another replica took the previous bytes, there is none, and the
//! file is read again when it is filed.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use uuid::Uuid;

/// Uploads whose state is kept at most (about 112 bytes each); past it, new states are
/// not kept and those uploads are hashed again when filed.
const MAX_STATES: usize = 4096;

/// The running SHA-256 of the uploads this process is receiving, by upload id.
#[derive(Debug, Default)]
pub struct RunningHashes {
    states: Mutex<HashMap<Uuid, (u64, Sha256)>>,
}

impl RunningHashes {
    /// Take out the state of upload `id` that covers its first `offset` bytes (a fresh
    /// one at offset 0), or `None` when this process does not have it.
    pub fn take(&self, id: Uuid, offset: u64) -> Option<Sha256> {
        match self.lock().remove(&id) {
            Some((covered, state)) if covered == offset => Some(state),
            _ if offset == 0 => Some(Sha256::new()),
            _ => None,
        }
    }

    /// Keep the state of upload `id` that covers its first `offset` bytes, for the
    /// request that continues from there.
    pub fn keep(&self, id: Uuid, offset: u64, state: Sha256) {
        let mut states = self.lock();
        if states.len() < MAX_STATES || states.contains_key(&id) {
            states.insert(id, (offset, state));
        }
    }

    /// Forget the state of upload `id` (discarded or expired).
    pub fn forget(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, (u64, Sha256)>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_used_only_from_the_offset_it_covers() {
        let hashes = RunningHashes::default();
        let id = Uuid::now_v7();
        let mut state = hashes.take(id, 0).unwrap_or_else(|| panic!("fresh at 0"));
        state.update(b"hello ");
        hashes.keep(id, 6, state.clone());
        assert!(hashes.take(id, 5).is_none(), "another offset");
        assert!(hashes.take(id, 6).is_none(), "taken out by the miss");
        hashes.keep(id, 6, state);
        let mut state = hashes.take(id, 6).unwrap_or_else(|| panic!("kept at 6"));
        state.update(b"world");
        assert_eq!(state.finalize(), Sha256::digest(b"hello world"));
        hashes.keep(id, 11, Sha256::new());
        hashes.forget(id);
        assert!(hashes.take(id, 11).is_none(), "forgotten");
    }
}
