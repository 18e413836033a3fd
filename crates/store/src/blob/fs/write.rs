//! Bodies written into files: the chunks of a body are gathered into batches of about
//! [`WRITE_BATCH`] bytes, each written by one blocking task with positional writes. A
//! body so costs a few hops to the blocking pool per mebibyte instead of one per chunk,
//! and its bytes are never copied in user space (the chunks are the request's own).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;

use super::super::{BlobError, ByteStream, Result};
use super::blocking;

/// Bytes gathered before they are written: enough that the hops to the blocking pool
/// cost little, few enough that many uploads at once hold little memory.
const WRITE_BATCH: usize = 256 * 1024;

/// Write `body` into `file` (found at `path`) from byte `start` on, and hand the file back
/// with the number of bytes written. Fails with `too_large()` once more than `max` bytes
/// arrive; nothing past `max` is written.
pub(super) async fn write_body(
    mut file: File,
    path: &Path,
    mut body: ByteStream,
    start: u64,
    max: u64,
    too_large: impl Fn() -> BlobError,
) -> Result<(File, u64)> {
    let mut len = 0u64;
    let mut ended = false;
    while !ended {
        let batch;
        (batch, ended) = gather(&mut body).await?;
        let at = start + len;
        len += batch.iter().map(|chunk| chunk.len() as u64).sum::<u64>();
        if len > max {
            return Err(too_large());
        }
        let path = path.to_owned();
        file = blocking(move || {
            let mut offset = at;
            for chunk in &batch {
                file.write_all_at(chunk, offset)
                    .map_err(BlobError::fs("write", &path))?;
                offset += chunk.len() as u64;
            }
            Ok(file)
        })
        .await?;
    }
    Ok((file, len))
}

/// The next chunks of `body`, about [`WRITE_BATCH`] bytes, and whether the body ended
/// (then it must not be polled again).
async fn gather(body: &mut ByteStream) -> Result<(Vec<Bytes>, bool)> {
    let mut batch = Vec::new();
    let mut size = 0;
    while size < WRITE_BATCH {
        let Some(chunk) = body.next().await else {
            return Ok((batch, true));
        };
        let chunk = chunk.map_err(BlobError::Body)?;
        size += chunk.len();
        batch.push(chunk);
    }
    Ok((batch, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    /// A body of `chunks` chunks of `size` bytes that panics when polled after its end,
    /// as request bodies may.
    fn unfused(chunks: u8, size: usize) -> ByteStream {
        stream::unfold(0, move |n| async move {
            (n < chunks).then(|| (Ok(Bytes::from(vec![n; size])), n + 1))
        })
        .boxed()
    }

    #[tokio::test]
    async fn bodies_are_written_in_batches_from_an_offset() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("data");
        std::fs::write(&path, b"head").unwrap_or_else(|e| panic!("{e}"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        let size = WRITE_BATCH / 3 + 1;
        let (_file, len) = write_body(file, &path, unfused(7, size), 4, u64::MAX, || {
            unreachable!("within the maximum")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(len, 7 * size as u64);
        let mut expected = b"head".to_vec();
        (0..7).for_each(|n| expected.extend(vec![n; size]));
        let stored = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(stored == expected, "the stored bytes differ");
    }

    #[tokio::test]
    async fn a_body_past_the_maximum_fails() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("data");
        let file = File::create_new(&path).unwrap_or_else(|e| panic!("{e}"));
        let result = write_body(file, &path, unfused(2, 10), 0, 19, || {
            BlobError::Body(std::io::Error::other("too large"))
        })
        .await;
        assert!(matches!(result, Err(BlobError::Body(_))));
    }
}
