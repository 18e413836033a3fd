//! The uploads this process is writing right now, with the upload settings: one request
//! writes an upload at a time here (across replicas the repository's lock decides), and
//! the running SHA-256 of what each has received. Kept apart from the request handlers
//! so that the shared state can hold it without depending on them.

use super::running::RunningHashes;
use crate::config::UploadConfig;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

/// Upload settings, the uploads this process is writing right now (so two requests
/// never write one upload at once here; across replicas the repository's compare-and-set
/// on the offset decides), and the running SHA-256 of those it receives.
#[derive(Debug)]
pub struct Uploads {
    /// The settings.
    pub config: UploadConfig,
    writing: Mutex<HashSet<Uuid>>,
    pub(super) hashes: RunningHashes,
}

impl Uploads {
    /// Settings, with nothing being written yet.
    pub fn new(config: UploadConfig) -> Self {
        Self {
            config,
            writing: Mutex::new(HashSet::new()),
            hashes: RunningHashes::default(),
        }
    }

    /// Mark `id` as being written until the guard is dropped; `None` if it already is.
    pub(super) fn start_writing(self: &Arc<Self>, id: Uuid) -> Option<WritingGuard> {
        let mut writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        writing.insert(id).then(|| WritingGuard {
            uploads: Arc::clone(self),
            id,
        })
    }
}

/// Releases an upload for writing when dropped (also when the request is cancelled).
pub(super) struct WritingGuard {
    uploads: Arc<Uploads>,
    id: Uuid,
}

impl Drop for WritingGuard {
    fn drop(&mut self) {
        self.uploads
            .writing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}
