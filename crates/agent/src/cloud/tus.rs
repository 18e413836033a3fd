//! A tus 1.0 client (core, creation, checksum, termination) written by hand on
//! `reqwest`: no well-kept Rust tus client exists on crates.io (`tus_client` and its fork
//! `tus_async_client` last changed in 2022 and send no checksums; `tusc` is a 0.0.x work
//! in progress without the checksum extension).
//!
//! A file is sent in chunks ([`CHUNK_SIZE`] by default), each a `PATCH` streamed from the
//! file (never buffered whole) with `Upload-Checksum: sha256 …` of that chunk, so the
//! server appends only bytes that arrived intact; the offset it answers is the one to
//! resume from (and `HEAD` tells it after a crash).

use super::{ok, Client, CloudError};
use base64::Engine;
use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use sha2::{Digest, Sha256};
use std::io::SeekFrom;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes per `PATCH`: large enough that per-request costs vanish, small enough that a
/// dropped connection loses little and the server's parts stay a sane size.
pub const CHUNK_SIZE: u64 = 8 * 1024 * 1024;

/// The tus protocol version spoken.
const TUS_VERSION: &str = "1.0.0";
/// Where the server takes uploads.
const UPLOADS_PATH: &str = "/api/v1/uploads";
/// Read buffer for hashing a chunk.
const READ_BUFFER: usize = 64 * 1024;

/// Called with the bytes of the current chunk sent so far.
pub type ChunkProgress = Arc<dyn Fn(u64) + Send + Sync>;

/// `Upload-Metadata`: `key base64(value)` pairs joined by commas.
pub fn encode_metadata(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "{key} {}",
                base64::engine::general_purpose::STANDARD.encode(value)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Client {
    fn tus(&self, method: Method, url: Url) -> RequestBuilder {
        self.request(method, url)
            .header("Tus-Resumable", TUS_VERSION)
    }

    /// Create an upload of `length` bytes described by `metadata` (see the server's
    /// README "Uploads" for the keys); its URL.
    pub async fn tus_create(
        &self,
        length: u64,
        metadata: &[(&str, String)],
    ) -> Result<Url, CloudError> {
        const WHAT: &str = "creating an upload";
        let response = self
            .tus(Method::POST, self.url(UPLOADS_PATH)?)
            .header("Upload-Length", length)
            .header("Upload-Metadata", encode_metadata(metadata))
            .timeout(super::REQUEST_TIMEOUT)
            .send()
            .await?;
        let response = ok(response, WHAT).await?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(CloudError::Protocol {
                what: WHAT,
                why: "no Location header".into(),
            })?;
        let url = self
            .server
            .join(location)
            .map_err(|e| CloudError::Protocol {
                what: WHAT,
                why: format!("Location {location:?}: {e}"),
            })?;
        // The device token goes with every request to it: never to another origin.
        if url.origin() != self.server.origin() {
            return Err(CloudError::Protocol {
                what: WHAT,
                why: format!(
                    "Location {location:?} is not on {}: give --server the URL the server calls itself",
                    self.server
                ),
            });
        }
        Ok(url)
    }

    /// The offset the server holds for the upload at `url`; `None` when the upload is
    /// gone (expired or terminated: create it again).
    pub async fn tus_offset(&self, url: &Url) -> Result<Option<u64>, CloudError> {
        const WHAT: &str = "asking an upload's offset";
        let response = self
            .tus(Method::HEAD, url.clone())
            .timeout(super::REQUEST_TIMEOUT)
            .send()
            .await?;
        if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(None);
        }
        offset_of(&ok(response, WHAT).await?, WHAT).map(Some)
    }

    /// Confirm that the finished upload at `url` is stored as the file with SHA-256
    /// `sha256` (the server's `GET` of the upload: what it became), rather than trust the
    /// last `204`. A file the server refused, or filed with other bytes, is an error.
    pub async fn tus_confirm(&self, url: &Url, sha256: &str) -> Result<(), CloudError> {
        const WHAT: &str = "confirming a finished upload";
        #[derive(serde::Deserialize)]
        struct Status {
            state: String,
            sha256: Option<String>,
            failure: Option<String>,
        }
        let response = self
            .tus(Method::GET, url.clone())
            .timeout(super::REQUEST_TIMEOUT)
            .send()
            .await?;
        let status: Status =
            ok(response, WHAT)
                .await?
                .json()
                .await
                .map_err(|e| CloudError::Protocol {
                    what: WHAT,
                    why: e.to_string(),
                })?;
        match (status.state.as_str(), status.sha256.as_deref()) {
            ("complete", Some(stored)) if stored == sha256 => Ok(()),
            ("failed", _) => Err(CloudError::Protocol {
                what: WHAT,
                why: format!(
                    "the server refused the file: {}",
                    status.failure.unwrap_or_default()
                ),
            }),
            (state, stored) => Err(CloudError::Protocol {
                what: WHAT,
                why: format!("the upload is {state} with SHA-256 {stored:?}, not {sha256}"),
            }),
        }
    }

    /// Send bytes `offset..offset + len` of the file at `path` to the upload at `url`,
    /// streamed from the file with the chunk's SHA-256 in `Upload-Checksum`; the new
    /// offset. A `404`/`410` answer means the upload is gone ([`CloudError::status`]).
    pub async fn tus_patch(
        &self,
        url: &Url,
        path: &Path,
        offset: u64,
        len: u64,
        progress: Option<ChunkProgress>,
    ) -> Result<u64, CloudError> {
        const WHAT: &str = "sending an upload's bytes";
        let file_error = |source| CloudError::File {
            path: path.to_owned(),
            source,
        };
        let mut file = tokio::fs::File::open(path).await.map_err(file_error)?;
        let digest = chunk_sha256(&mut file, offset, len)
            .await
            .map_err(file_error)?;
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(file_error)?;
        let mut sent = 0u64;
        let body = tokio_util::io::ReaderStream::new(file.take(len)).inspect(move |chunk| {
            if let (Ok(bytes), Some(progress)) = (chunk, &progress) {
                sent += bytes.len() as u64;
                progress(sent);
            }
        });
        let response = self
            .tus(Method::PATCH, url.clone())
            .header("Upload-Offset", offset)
            .header("Content-Length", len)
            .header(CONTENT_TYPE, "application/offset+octet-stream")
            .header(
                "Upload-Checksum",
                format!(
                    "sha256 {}",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                ),
            )
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await?;
        offset_of(&ok(response, WHAT).await?, WHAT)
    }

    /// Stop the upload at `url` and let the server forget its bytes (tus termination).
    pub async fn tus_terminate(&self, url: &Url) -> Result<(), CloudError> {
        let response = self
            .tus(Method::DELETE, url.clone())
            .timeout(super::REQUEST_TIMEOUT)
            .send()
            .await?;
        if response.status() != StatusCode::NOT_FOUND {
            ok(response, "terminating an upload").await?;
        }
        Ok(())
    }
}

/// SHA-256 of bytes `offset..offset + len` of `file`.
async fn chunk_sha256(
    file: &mut tokio::fs::File,
    offset: u64,
    len: u64,
) -> std::io::Result<[u8; 32]> {
    file.seek(SeekFrom::Start(offset)).await?;
    let mut hasher = Sha256::new();
    let mut left = len;
    let mut buffer = vec![0; READ_BUFFER];
    while left > 0 {
        let want = usize::try_from(left.min(READ_BUFFER as u64)).unwrap_or(READ_BUFFER);
        let read = file.read(&mut buffer[..want]).await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than when it was queued",
            ));
        }
        hasher.update(&buffer[..read]);
        left -= read as u64;
    }
    Ok(hasher.finalize().into())
}

/// The `Upload-Offset` of a tus answer.
fn offset_of(response: &reqwest::Response, what: &'static str) -> Result<u64, CloudError> {
    response
        .headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or(CloudError::Protocol {
            what,
            why: "no valid Upload-Offset header".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_base64_pairs() {
        let header = encode_metadata(&[("kind", "clip".into()), ("start", "2026".into())]);
        assert_eq!(header, "kind Y2xpcA==,start MjAyNg==");
    }

    #[tokio::test]
    async fn a_chunk_hash_covers_exactly_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut file = tokio::fs::File::open(&path).await.unwrap();
        let digest = chunk_sha256(&mut file, 70_000, 100_000).await.unwrap();
        let expected: [u8; 32] = Sha256::digest(&bytes[70_000..170_000]).into();
        assert_eq!(digest, expected);
        assert!(chunk_sha256(&mut file, 150_000, 100_000).await.is_err());
    }
}
