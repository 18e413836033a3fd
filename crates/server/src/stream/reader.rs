//! Positional reads of a stored blob, for the media crate's synchronous readers.

use bytes::Bytes;
use dashvault_media::ReadAt;
use dashvault_store::blob::BlobKey;
use dashvault_store::BlobStore;
use futures_util::StreamExt;
use std::io;
use std::sync::{Arc, Mutex};

/// Small reads fetch this much from their offset on and keep it for the next reads: the
/// media crate reads box headers and telemetry samples a few bytes at a time, and each
/// ranged read of an object store is a round trip.
const READ_AHEAD: u64 = 256 << 10;

/// A stored blob read at random offsets by the media crate (indexing, thumbnails,
/// telemetry), which reads synchronously: it runs on a blocking thread, and each read
/// waits for a ranged read of the store, small ones through one read-ahead block. No
/// local copy of the blob is made.
pub struct BlobReader {
    blobs: Arc<dyn BlobStore>,
    key: BlobKey,
    len: u64,
    runtime: tokio::runtime::Handle,
    /// The last read-ahead block and its offset.
    block: Mutex<Option<(u64, Bytes)>>,
}

impl BlobReader {
    /// A reader of the `len` bytes stored under `key`; call from within the runtime
    /// (it keeps a handle to it), read from a blocking thread.
    pub fn new(blobs: Arc<dyn BlobStore>, key: BlobKey, len: u64) -> Self {
        Self {
            blobs,
            key,
            len,
            runtime: tokio::runtime::Handle::current(),
            block: Mutex::new(None),
        }
    }

    /// Fills `buf` with the bytes at `offset`, in one ranged read.
    fn fetch_into(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let end = offset + buf.len() as u64;
        self.runtime.block_on(async {
            let mut body = self
                .blobs
                .get_range(&self.key, offset..end)
                .await
                .map_err(io::Error::other)?;
            let mut at = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                let to = at + chunk.len();
                buf.get_mut(at..to).ok_or_else(eof)?.copy_from_slice(&chunk);
                at = to;
            }
            if at == buf.len() {
                Ok(())
            } else {
                Err(eof())
            }
        })
    }
}

fn eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "read past the end of the blob",
    )
}

impl ReadAt for BlobReader {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let want = buf.len() as u64;
        let end = offset
            .checked_add(want)
            .filter(|end| *end <= self.len)
            .ok_or_else(eof)?;
        let mut block = self.block.lock().unwrap_or_else(|e| e.into_inner());
        let covered =
            |(start, bytes): &(u64, Bytes)| offset >= *start && end <= start + bytes.len() as u64;
        if !block.as_ref().is_some_and(covered) {
            if want >= READ_AHEAD {
                return self.fetch_into(buf, offset);
            }
            let ahead = offset.saturating_add(READ_AHEAD).min(self.len);
            let mut bytes = vec![0; usize::try_from(ahead - offset).map_err(|_| eof())?];
            self.fetch_into(&mut bytes, offset)?;
            *block = Some((offset, Bytes::from(bytes)));
        }
        let (start, bytes) = block.as_ref().ok_or_else(eof)?;
        let from = usize::try_from(offset - start).map_err(|_| eof())?;
        let src = bytes.get(from..from + buf.len()).ok_or_else(eof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashvault_store::blob::fs::FsBlobStore;
    use futures_util::stream;

    #[tokio::test]
    async fn small_and_large_reads_return_the_stored_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(dir.path()).await.unwrap());
        let key = BlobKey::new("a/b.bin").unwrap();
        let data: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let body = stream::iter([Ok(Bytes::from(data.clone()))]).boxed();
        store.put(&key, body).await.unwrap();
        let reader = BlobReader::new(store, key, data.len() as u64);
        tokio::task::spawn_blocking(move || {
            let len = data.len() as u64;
            for (offset, n) in [
                (0, 8),
                (4, 16),
                (262_140, 8),
                (10, 300_000),
                (len - 3, 3),
                (0, 700_000),
            ] {
                let mut buf = vec![0; n];
                reader.read_exact_at(&mut buf, offset).unwrap();
                assert_eq!(
                    buf,
                    data[offset as usize..offset as usize + n],
                    "{offset}+{n}"
                );
            }
            let mut past = [0; 4];
            let err = reader.read_exact_at(&mut past, len - 2).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        })
        .await
        .unwrap();
    }
}
