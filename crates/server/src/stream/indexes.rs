//! Indexes of stored videos, read once through ranged reads and kept in a bounded
//! least-recently-used cache, so repeated Range requests of a video do not read its
//! `moov` again.

use super::reader::BlobReader;
use crate::error::ApiError;
use dashvault_media::Mp4Index;
use dashvault_store::blob::BlobKey;
use dashvault_store::model::VideoFile;
use dashvault_store::BlobStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Indexes kept by default (a one-minute recording's index is a few hundred KiB at most).
pub const DEFAULT_CAPACITY: usize = 256;

/// The cache of video indexes by blob key.
#[derive(Debug)]
pub struct IndexCache(Lru<Arc<Mp4Index>>);

/// A bounded map that forgets its least recently used entry when full.
#[derive(Debug)]
struct Lru<V> {
    capacity: usize,
    inner: Mutex<Entries<V>>,
}

#[derive(Debug)]
struct Entries<V> {
    /// Value and last use (a tick of `clock`).
    map: HashMap<String, (V, u64)>,
    clock: u64,
}

impl<V: Clone> Lru<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries {
                map: HashMap::new(),
                clock: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &str) -> Option<V> {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        entries.map.get_mut(key).map(|(value, used)| {
            *used = now;
            value.clone()
        })
    }

    fn insert(&self, key: String, value: V) {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
            let oldest = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.map.remove(&oldest);
            }
        }
        entries.map.insert(key, (value, now));
    }
}

impl IndexCache {
    /// An empty cache holding at most `capacity` indexes (at least one).
    pub fn new(capacity: usize) -> Self {
        Self(Lru::new(capacity))
    }

    /// The index of a stored video, from the cache or read through ranged reads of the
    /// store (on a blocking thread) and cached.
    pub async fn index(
        &self,
        blobs: &Arc<dyn BlobStore>,
        file: &VideoFile,
    ) -> Result<Arc<Mp4Index>, ApiError> {
        if let Some(index) = self.0.get(&file.blob_key) {
            return Ok(index);
        }
        let key = blob_key(file)?;
        let reader = BlobReader::new(Arc::clone(blobs), key, file.size)
            .with_ends()
            .await
            .map_err(|e| {
                ApiError::Internal(format!(
                    "stored video {} can not be read: {e}",
                    file.blob_key
                ))
            })?;
        let index = tokio::task::spawn_blocking(move || Mp4Index::read(&reader))
            .await
            .map_err(|e| ApiError::Internal(format!("indexing task failed: {e}")))?
            .map_err(|e| {
                ApiError::Internal(format!(
                    "stored video {} can not be indexed: {e}",
                    file.blob_key
                ))
            })?;
        let index = Arc::new(index);
        self.0.insert(file.blob_key.clone(), Arc::clone(&index));
        Ok(index)
    }
}

impl Default for IndexCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

/// The checked blob key of a stored video.
pub fn blob_key(file: &VideoFile) -> Result<BlobKey, ApiError> {
    BlobKey::new(file.blob_key.clone())
        .map_err(|e| ApiError::Internal(format!("stored blob key {}: {e}", file.blob_key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_goes_first() {
        let cache = Lru::new(2);
        cache.insert("a".into(), 1);
        cache.insert("b".into(), 2);
        assert_eq!(cache.get("a"), Some(1));
        cache.insert("c".into(), 3);
        assert_eq!(cache.lock().map.len(), 2);
        assert_eq!(cache.get("b"), None, "b was the least recently used");
        assert_eq!((cache.get("a"), cache.get("c")), (Some(1), Some(3)));
        cache.insert("a".into(), 4);
        assert_eq!(cache.get("a"), Some(4), "replacing keeps the size");
        assert_eq!(cache.get("c"), Some(3));
    }
}
