//! Positional reads of a stored blob, for the media crate's synchronous readers.

use dashvault_media::ReadAt;
use dashvault_store::blob::BlobKey;
use dashvault_store::BlobStore;
use futures_util::StreamExt;
use std::io;
use std::sync::Arc;

/// A stored blob read at random offsets by the media crate (indexing, thumbnails), which
/// reads synchronously: it runs on a blocking thread, and each read waits for a ranged
/// read of the store. No local copy of the blob is made.
pub struct BlobReader {
    blobs: Arc<dyn BlobStore>,
    key: BlobKey,
    len: u64,
    runtime: tokio::runtime::Handle,
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
        }
    }
}

impl ReadAt for BlobReader {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let eof = || {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the blob",
            )
        };
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|end| *end <= self.len)
            .ok_or_else(eof)?;
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
