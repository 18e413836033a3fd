//! Indexes of stored videos, read once through ranged reads and kept in a bounded
//! least-recently-used cache, so repeated Range requests of a video do not read its
//! `moov` again.

use super::reader::BlobReader;
use crate::error::ApiError;
use dashvault_media::Mp4Index;
use dashvault_store::blob::BlobKey;
use dashvault_store::model::VideoFile;
use dashvault_store::BlobStore;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// Indexes kept by default (a one-minute recording's index is a few hundred KiB at most).
pub const DEFAULT_CAPACITY: usize = 256;

/// The cache of video indexes by blob key.
#[derive(Debug)]
pub struct IndexCache(Lru<Arc<Mp4Index>>);

/// A bounded map that forgets its least recently used entry when full (an
/// [`lru::LruCache`] behind a lock: lookups and evictions take constant time).
#[derive(Debug)]
struct Lru<V> {
    inner: Mutex<LruCache<String, V>>,
}

impl<V: Clone> Lru<V> {
    fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &str) -> Option<V> {
        self.lock().get(key).cloned()
    }

    fn insert(&self, key: String, value: V) {
        self.lock().put(key, value);
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
        assert_eq!(cache.lock().len(), 2);
        assert_eq!(cache.get("b"), None, "b was the least recently used");
        assert_eq!((cache.get("a"), cache.get("c")), (Some(1), Some(3)));
        cache.insert("a".into(), 4);
        assert_eq!(cache.get("a"), Some(4), "replacing keeps the size");
        assert_eq!(cache.get("c"), Some(3));
    }
}
