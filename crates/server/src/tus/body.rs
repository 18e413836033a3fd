//! A request body (or any byte stream) handed out in pieces of exact lengths — one per
//! multipart part or tail blob — while the checksum of everything handed out is computed,
//! and the running SHA-256 of the whole upload ([`super::running`]) continued.

use super::headers::Algorithm;
use bytes::Bytes;
use dashvault_store::blob::ByteStream;
use futures_util::{stream, StreamExt};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// A running digest of one of the checksum extension's algorithms.
#[derive(Debug, Clone)]
pub enum Hasher {
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-256.
    Sha256(Sha256),
}

impl Hasher {
    /// A fresh digest for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(Sha1::new()),
            Algorithm::Sha256 => Self::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(bytes),
            Self::Sha256(h) => h.update(bytes),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// A body that sends nothing for this long is given up, so a stalled client does not
/// hold its upload (and a connection) forever; it resumes from the recorded offset.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

struct Source {
    stream: ByteStream,
    leftover: Bytes,
    hasher: Option<Hasher>,
    running: Option<Sha256>,
}

/// The body being consumed, shared by the pieces cut from it one after another.
#[derive(Clone)]
pub struct Body(Arc<Mutex<Source>>);

impl Body {
    /// Wrap `stream`, hashing what is handed out with `hasher` (the request's checksum)
    /// and continuing `running` (the upload's SHA-256 so far), each if given.
    pub fn new(stream: ByteStream, hasher: Option<Hasher>, running: Option<Sha256>) -> Self {
        Self(Arc::new(Mutex::new(Source {
            stream,
            leftover: Bytes::new(),
            hasher,
            running,
        })))
    }

    /// The next `len` bytes as a stream of their own; it fails with `UnexpectedEof` if the
    /// body ends first.
    pub fn take(&self, len: u64) -> ByteStream {
        stream::unfold((self.clone(), len), |(body, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let next = body.next_chunk(remaining).await;
            let left = match &next {
                Ok(chunk) => remaining - chunk.len() as u64,
                Err(_) => 0,
            };
            Some((next, (body, left)))
        })
        .boxed()
    }

    async fn next_chunk(&self, max: u64) -> io::Result<Bytes> {
        let mut source = self.0.lock().await;
        let mut chunk = if source.leftover.is_empty() {
            loop {
                let next = tokio::time::timeout(IDLE_TIMEOUT, source.stream.next())
                    .await
                    .map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no bytes of the body arrived for a minute",
                        )
                    })?;
                match next {
                    Some(Ok(chunk)) if chunk.is_empty() => continue,
                    Some(Ok(chunk)) => break chunk,
                    Some(Err(e)) => return Err(e),
                    None => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the body ended before its Content-Length",
                        ))
                    }
                }
            }
        } else {
            std::mem::take(&mut source.leftover)
        };
        if chunk.len() as u64 > max {
            // `max` is less than the chunk's length, so it fits in usize.
            source.leftover = chunk.split_off(usize::try_from(max).unwrap_or(usize::MAX));
        }
        if let Some(hasher) = source.hasher.as_mut() {
            hasher.update(&chunk);
        }
        if let Some(running) = source.running.as_mut() {
            running.update(&chunk);
        }
        Ok(chunk)
    }

    /// The digest of everything handed out so far (`None` without a hasher).
    pub async fn digest(&self) -> Option<Vec<u8>> {
        self.0.lock().await.hasher.take().map(Hasher::finish)
    }

    /// The upload's running SHA-256, now covering everything handed out (`None` without
    /// one).
    pub async fn running(&self) -> Option<Sha256> {
        self.0.lock().await.running.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    fn body(chunks: &[&'static [u8]]) -> ByteStream {
        let chunks: Vec<io::Result<Bytes>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        stream::iter(chunks).boxed()
    }

    async fn collect(stream: ByteStream) -> io::Result<Vec<u8>> {
        stream
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
    }

    #[tokio::test]
    async fn pieces_split_chunks_exactly_and_are_hashed() {
        let mut so_far = Sha256::new();
        so_far.update(b"say ");
        let source = Body::new(
            body(&[b"hel", b"", b"lo wor", b"ld"]),
            Some(Hasher::new(Algorithm::Sha256)),
            Some(so_far),
        );
        assert_eq!(collect(source.take(4)).await.ok(), Some(b"hell".to_vec()));
        assert_eq!(collect(source.take(0)).await.ok(), Some(Vec::new()));
        assert_eq!(
            collect(source.take(7)).await.ok(),
            Some(b"o world".to_vec())
        );
        assert_eq!(
            source.digest().await,
            Some(Sha256::digest(b"hello world").to_vec())
        );
        assert_eq!(
            source.running().await.map(Sha256::finalize),
            Some(Sha256::digest(b"say hello world"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out() {
        let stalled = stream::iter([Ok(Bytes::from_static(b"abc"))])
            .chain(stream::pending())
            .boxed();
        let source = Body::new(stalled, None, None);
        let err = collect(source.take(5)).await.err();
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::TimedOut));
    }

    #[tokio::test]
    async fn a_short_body_fails_the_piece() {
        let source = Body::new(body(&[b"abc"]), None, None);
        let err = collect(source.take(5)).await.err();
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::UnexpectedEof));
    }
}
