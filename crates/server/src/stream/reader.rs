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
    /// The blob's last bytes and their offset, when fetched up front ([`Self::with_ends`]).
    tail: Option<(u64, Bytes)>,
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
            tail: None,
        }
    }

    /// Fetches the first and the last read-ahead block at once, two ranged reads in
    /// parallel, before indexing: a recording's top-level box headers are at its start
    /// and its `moov` (where cameras write it) at its end, so indexing it then costs one
    /// round trip of the store instead of two in a row.
    pub async fn with_ends(mut self) -> io::Result<Self> {
        let head_end = READ_AHEAD.min(self.len);
        let tail_start = self.len.saturating_sub(READ_AHEAD).max(head_end);
        let (head, tail) =
            futures_util::try_join!(self.fetch(0..head_end), self.fetch(tail_start..self.len))?;
        self.block = Mutex::new(Some((0, head)));
        self.tail = Some((tail_start, tail));
        Ok(self)
    }

    /// The bytes of `range`, in one ranged read.
    async fn fetch(&self, range: std::ops::Range<u64>) -> io::Result<Bytes> {
        let want = usize::try_from(range.end - range.start).map_err(|_| eof())?;
        let mut body = self
            .blobs
            .get_range(&self.key, range)
            .await
            .map_err(io::Error::other)?;
        let mut bytes = Vec::with_capacity(want);
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() > want {
                return Err(io::Error::other("the store returned more than asked for"));
            }
        }
        if bytes.len() == want {
            Ok(Bytes::from(bytes))
        } else {
            Err(eof())
        }
    }

    /// Fills `buf` with the bytes at `offset`, in one ranged read.
    fn fetch_into(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let bytes = self
            .runtime
            .block_on(self.fetch(offset..offset + buf.len() as u64))?;
        buf.copy_from_slice(&bytes);
        Ok(())
    }
}

/// Whether `block` holds the bytes `offset..end`.
fn covers(block: &(u64, Bytes), offset: u64, end: u64) -> bool {
    offset >= block.0 && end <= block.0 + block.1.len() as u64
}

/// Copies the bytes at `offset` out of a block that [`covers`] them.
fn copy_from(block: &(u64, Bytes), buf: &mut [u8], offset: u64) -> io::Result<()> {
    let from = usize::try_from(offset - block.0).map_err(|_| eof())?;
    let src = block.1.get(from..from + buf.len()).ok_or_else(eof)?;
    buf.copy_from_slice(src);
    Ok(())
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
        if let Some(tail) = self.tail.as_ref().filter(|t| covers(t, offset, end)) {
            return copy_from(tail, buf, offset);
        }
        let mut block = self.block.lock().unwrap_or_else(|e| e.into_inner());
        if !block.as_ref().is_some_and(|b| covers(b, offset, end)) {
            if want >= READ_AHEAD {
                return self.fetch_into(buf, offset);
            }
            let ahead = offset.saturating_add(READ_AHEAD).min(self.len);
            let bytes = self.runtime.block_on(self.fetch(offset..ahead))?;
            *block = Some((offset, bytes));
        }
        copy_from(block.as_ref().ok_or_else(eof)?, buf, offset)
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

    #[tokio::test]
    async fn ends_fetched_up_front_need_no_further_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(dir.path()).await.unwrap());
        let key = BlobKey::new("a/c.bin").unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 13 % 253) as u8).collect();
        let body = stream::iter([Ok(Bytes::from(data.clone()))]).boxed();
        store.put(&key, body).await.unwrap();
        let len = data.len() as u64;
        let reader = BlobReader::new(Arc::clone(&store), key.clone(), len)
            .with_ends()
            .await
            .unwrap();
        // Gone from the store: only what was fetched up front can still be read.
        store.delete(&key).await.unwrap();
        tokio::task::spawn_blocking(move || {
            for (offset, n) in [(0, 32), (100_000, 8), (len - 60_000, 60_000), (len - 4, 4)] {
                let mut buf = vec![0; n];
                reader.read_exact_at(&mut buf, offset).unwrap();
                assert_eq!(buf, data[offset as usize..][..n], "{offset}+{n}");
            }
            let mut middle = [0; 8];
            assert!(reader.read_exact_at(&mut middle, 500_000).is_err());
        })
        .await
        .unwrap();
    }
}
