//! A camera file fetched over HTTP into a partial file that survives a dropped
//! connection: each attempt asks only for the bytes not yet there (`Range: bytes=N-`),
//! so nothing is fetched twice, and the attempts of one call are bounded, with backoff.
//! The partial file stays for the next call when they run out (the camera went away).

use crate::upload::Retry;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{StatusCode, Url};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// Why a download did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The camera has no such file (404).
    #[error("{0}: not on the camera")]
    NotFound(Url),
    /// The camera answered something other than the file.
    #[error("{url}: the camera answered {status}")]
    Status {
        /// The file.
        url: Url,
        /// Its answer.
        status: StatusCode,
    },
    /// The connection failed on every attempt (the camera went away, or is out of range).
    #[error("{url}: {error} (after {attempts} attempts; the bytes fetched are kept)")]
    Unreachable {
        /// The file.
        url: Url,
        /// The last failure.
        error: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The partial file could not be written.
    #[error("{path}: {error}")]
    Io {
        /// The partial file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// Fetches `url` into `partial`, continuing from what `partial` already holds; returns
/// the file's whole size once `partial` holds all of it. `expected` is the size the
/// camera listed, when it lists sizes.
pub async fn download(
    http: &reqwest::Client,
    url: &Url,
    partial: &Path,
    expected: Option<u64>,
    retry: &Retry,
) -> Result<u64, DownloadError> {
    let io = |error| DownloadError::Io {
        path: partial.to_owned(),
        error,
    };
    if let Some(dir) = partial.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
    }
    let mut total = expected;
    let mut last = String::new();
    for attempt in 0..retry.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(retry.backoff(attempt - 1)).await;
        }
        let have = match tokio::fs::metadata(partial).await {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(e)),
        };
        match total {
            Some(size) if have == size => return Ok(size),
            // The camera has a shorter file of that name now (rewritten): start over.
            Some(size) if have > size => truncate(partial).await.map_err(io)?,
            _ => {}
        }
        match fetch_rest(http, url, partial, have).await {
            Ok(Some(size)) => total = Some(size),
            Ok(None) => continue,
            Err(Failure::Final(e)) => return Err(e),
            Err(Failure::Retry(e, size)) => {
                total = size.or(total);
                tracing::info!(%url, error = %e, attempt, "camera download interrupted; resuming");
                last = e;
                continue;
            }
        }
        let have = tokio::fs::metadata(partial).await.map_err(io)?.len();
        if total == Some(have) {
            return Ok(have);
        }
    }
    Err(DownloadError::Unreachable {
        url: url.clone(),
        error: last,
        attempts: retry.attempts.max(1),
    })
}

/// How one attempt failed.
enum Failure {
    /// Not worth another attempt.
    Final(DownloadError),
    /// Try again (with the file's size when the answer gave it).
    Retry(String, Option<u64>),
}

/// One attempt: asks for the bytes from `have` on and appends them to `partial`.
/// `Ok(Some(size))`: the body ended (the file is `size` bytes); `Ok(None)`: the camera
/// ignored or refused the range and `partial` was emptied, to start over.
async fn fetch_rest(
    http: &reqwest::Client,
    url: &Url,
    partial: &Path,
    have: u64,
) -> Result<Option<u64>, Failure> {
    let io = |error| {
        Failure::Final(DownloadError::Io {
            path: partial.to_owned(),
            error,
        })
    };
    let mut request = http.get(url.clone());
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Retry(e.to_string(), None))?;
    let status = response.status();
    let size = match status {
        StatusCode::NOT_FOUND => return Err(Failure::Final(DownloadError::NotFound(url.clone()))),
        StatusCode::PARTIAL_CONTENT => match content_range(&response) {
            Some((from, size)) if from == have => size,
            _ => {
                tracing::warn!(%url, "camera answered another range; starting the file over");
                truncate(partial).await.map_err(io)?;
                return Ok(None);
            }
        },
        StatusCode::OK => {
            if have > 0 {
                tracing::warn!(%url, "camera ignores byte ranges; fetching the whole file again");
                truncate(partial).await.map_err(io)?;
            }
            response
                .content_length()
                .ok_or_else(|| Failure::Retry("the camera gave no Content-Length".into(), None))?
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            truncate(partial).await.map_err(io)?;
            return Ok(None);
        }
        status => {
            return Err(Failure::Final(DownloadError::Status {
                url: url.clone(),
                status,
            }))
        }
    };
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)
        .await
        .map_err(io)?;
    let mut response = response;
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => file.write_all(&bytes).await.map_err(io)?,
            Ok(None) => break Ok(Some(size)),
            Err(e) => break Err(Failure::Retry(e.to_string(), Some(size))),
        }
    };
    // A tokio file writes in the background: wait for the last write, so the file's
    // length is what was received.
    file.flush().await.map_err(io)?;
    if outcome.is_err() {
        // The bytes kept for the next attempt; a whole file is synced as it lands.
        file.sync_all().await.map_err(io)?;
    }
    outcome
}

/// Start and whole size of a `206` answer's `Content-Range: bytes A-B/SIZE`.
fn content_range(response: &reqwest::Response) -> Option<(u64, u64)> {
    let text = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let (range, size) = text.strip_prefix("bytes ")?.split_once('/')?;
    let (from, _) = range.split_once('-')?;
    Some((from.trim().parse().ok()?, size.trim().parse().ok()?))
}

async fn truncate(path: &Path) -> std::io::Result<()> {
    tokio::fs::File::create(path).await.map(drop)
}
