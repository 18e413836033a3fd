//! A camera reached over its Wi-Fi instead of its card: BlackVue ([`blackvue`]) or
//! Viofo / Novatek ([`novatek`]), the protocol asked of the camera at its first listing
//! when not given.
//!
//! A listing names the recordings; a file is taken only once it is finished: with
//! `all_final` (`agent run --once`) everything listed is, otherwise a file is finished
//! once its size is unchanged over two listings at least [`SETTLE`] apart (the camera
//! grows the file it is writing). BlackVue lists no sizes, so each file not imported yet
//! is asked for its size (`Range: bytes=0-0`). Times come from the [`Clock`], which a
//! test moves by hand.

pub mod blackvue;
pub mod novatek;

use super::download::{download, DownloadError};
use super::{parse, CameraFile, Parsed};
use crate::upload::Retry;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{StatusCode, Url};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a file's size must stay the same before it counts as finished.
pub const SETTLE: Duration = Duration::from_secs(5);

/// The prefix of the paths recorded for a Wi-Fi camera's files (`wifi:/Record/…`): the
/// path on the camera, whatever address it has today.
pub const KEY_PREFIX: &str = "wifi:";

/// The protocol a camera speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// BlackVue's `blackvue_vod.cgi`.
    Blackvue,
    /// Viofo and other Novatek cameras: `?custom=1&cmd=3015`.
    Novatek,
}

/// Where the time comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The camera could not be asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WifiError {
    /// No answer, or not one of a camera.
    #[error("camera at {url}: {error}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why it failed.
        error: String,
    },
    /// It answers, but neither protocol.
    #[error("{0} answers neither as a BlackVue (/blackvue_vod.cgi) nor as a Novatek camera (/?custom=1&cmd=3015): give --camera-api")]
    Unknown(Url),
    /// A download failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
}

impl WifiError {
    /// True when the camera did not answer (gone, out of range): asking it for the
    /// next file now would only wait as long again.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            WifiError::Unreachable { .. } | WifiError::Download(DownloadError::Unreachable { .. })
        )
    }
}

/// One recording listed by the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// What its name says (its `path` is the recorded key, `wifi:/Record/…`).
    pub file: CameraFile,
    /// Its path on the camera's HTTP server.
    pub path: String,
    /// Its size, when the listing gives it.
    pub size: Option<u64>,
}

/// A camera on Wi-Fi.
#[derive(Debug, Clone)]
pub struct WifiCamera {
    http: reqwest::Client,
    base: Url,
    /// The protocol, once given or found (a camera out of range is asked later).
    api: Arc<tokio::sync::OnceCell<Api>>,
    clock: Arc<dyn Clock>,
    retry: Retry,
    /// Size last seen of each file not taken yet, and since when.
    seen: Arc<Mutex<HashMap<String, (u64, Instant)>>>,
    /// Sidecars the camera answered 404 for: not asked again by this process.
    absent: Arc<Mutex<HashSet<String>>>,
}

impl WifiCamera {
    /// The camera at `base` (`http://HOST[:PORT]`), speaking `api`, or else the protocol
    /// it answers to when first listed (BlackVue asked first). Nothing is asked yet: the
    /// camera may be out of range now.
    pub fn new(base: Url, api: Option<Api>) -> Result<Self, WifiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| unreachable(&base, e))?;
        Ok(Self {
            http,
            base,
            api: Arc::new(tokio::sync::OnceCell::new_with(api)),
            clock: Arc::new(SystemClock),
            retry: Retry::default(),
            seen: Arc::default(),
            absent: Arc::default(),
        })
    }

    /// The same camera, timed by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same camera, with these download attempts and backoff.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Its address.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Its protocol: as given, or asked of the camera (once).
    pub async fn api(&self) -> Result<Api, WifiError> {
        self.api.get_or_try_init(|| self.detect()).await.copied()
    }

    async fn detect(&self) -> Result<Api, WifiError> {
        if let Ok(text) = self.text(blackvue::LIST_PATH).await {
            if blackvue::parse_list(&text).is_some() {
                return Ok(Api::Blackvue);
            }
        }
        let text = self.text(novatek::LIST_PATH).await?;
        if novatek::parse_list(&text).is_some() {
            return Ok(Api::Novatek);
        }
        Err(WifiError::Unknown(self.base.clone()))
    }

    fn url(&self, path: &str) -> Result<Url, WifiError> {
        self.base.join(path).map_err(|e| WifiError::Unreachable {
            url: format!("{}{path}", self.base),
            error: e.to_string(),
        })
    }

    /// The answer to `GET path` (with a `Range` header when given).
    async fn get(&self, path: &str, range: Option<&str>) -> Result<reqwest::Response, WifiError> {
        let url = self.url(path)?;
        let mut request = self.http.get(url.clone());
        if let Some(range) = range {
            request = request.header(RANGE, range);
        }
        request.send().await.map_err(|e| unreachable(&url, e))
    }

    /// The body of a `200` answer to `GET path`.
    async fn text(&self, path: &str) -> Result<String, WifiError> {
        let response = self.get(path, None).await?;
        let url = response.url().clone();
        if !response.status().is_success() {
            return Err(unreachable(&url, format!("answered {}", response.status())));
        }
        response.text().await.map_err(|e| unreachable(&url, e))
    }

    /// The recordings the camera lists, named as their files say.
    pub async fn list(&self) -> Result<Vec<Listed>, WifiError> {
        let listed: Vec<(String, Option<u64>)> = match self.api().await? {
            Api::Blackvue => {
                let text = self.text(blackvue::LIST_PATH).await?;
                blackvue::parse_list(&text)
                    .ok_or_else(|| WifiError::Unknown(self.base.clone()))?
                    .into_iter()
                    .map(|path| (path, None))
                    .collect()
            }
            Api::Novatek => {
                let text = self.text(novatek::LIST_PATH).await?;
                novatek::parse_list(&text)
                    .ok_or_else(|| WifiError::Unknown(self.base.clone()))?
                    .into_iter()
                    .map(|l| (l.path, l.size))
                    .collect()
            }
        };
        let mut files: Vec<Listed> = listed
            .into_iter()
            .filter_map(|(path, size)| {
                let key = key(&path);
                let relative = Path::new(path.trim_start_matches('/'));
                let Some(Parsed::Video(start, view, event)) = parse(relative) else {
                    return None;
                };
                let file = CameraFile {
                    mark: super::mark(relative),
                    path: key,
                    start,
                    view,
                    event,
                };
                Some(Listed { file, path, size })
            })
            .collect();
        files.sort_by(|a, b| (a.file.start, &a.path).cmp(&(b.file.start, &b.path)));
        Ok(files)
    }

    /// The size of the file at `path` now (what a `bytes=0-0` range answer says).
    pub async fn size(&self, path: &str) -> Result<u64, WifiError> {
        let response = self.get(path, Some("bytes=0-0")).await?;
        let size = match response.status() {
            StatusCode::PARTIAL_CONTENT => response
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit_once('/'))
                .and_then(|(_, size)| size.trim().parse().ok()),
            StatusCode::OK => response.content_length(),
            // An empty file has no byte 0.
            StatusCode::RANGE_NOT_SATISFIABLE => Some(0),
            status => return Err(unreachable(response.url(), format!("answered {status}"))),
        };
        size.ok_or_else(|| unreachable(response.url(), "no size in the answer"))
    }

    /// True when the file at `path`, `size` bytes now, is finished: its size was the
    /// same at a listing at least [`SETTLE`] ago. Records what was seen for next time.
    pub fn settled(&self, path: &str, size: u64) -> bool {
        let now = self.clock.now();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        match seen.get(path) {
            Some((was, since)) if *was == size => now.duration_since(*since) >= SETTLE,
            _ => {
                seen.insert(path.to_owned(), (size, now));
                false
            }
        }
    }

    /// Forgets what was seen of a file taken.
    pub fn taken(&self, path: &str) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(path);
    }

    /// The sidecar paths the camera may have for a recording (BlackVue; none for Novatek,
    /// which keeps telemetry inside the MP4), less those it said it has not.
    pub fn sidecars(&self, path: &str) -> Vec<String> {
        let absent = self.absent.lock().unwrap_or_else(PoisonError::into_inner);
        match self.api.get() {
            Some(Api::Blackvue) => blackvue::sidecars(path),
            Some(Api::Novatek) | None => Vec::new(),
        }
        .into_iter()
        .filter(|p| !absent.contains(p))
        .collect()
    }

    /// Downloads a sidecar into `partial`; `false` when the camera has none of that name
    /// (remembered: not asked again by this process).
    pub async fn download_sidecar(&self, path: &str, partial: &Path) -> Result<bool, WifiError> {
        match self.download(path, partial, None).await {
            Err(WifiError::Download(DownloadError::NotFound(_))) => {
                self.absent
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(path.to_owned());
                Ok(false)
            }
            Err(e) => Err(e),
            Ok(_) => Ok(true),
        }
    }

    /// Downloads the file at `path` into `partial` (resuming what it holds); its size.
    pub async fn download(
        &self,
        path: &str,
        partial: &Path,
        expected: Option<u64>,
    ) -> Result<u64, WifiError> {
        let url = self.url(path)?;
        Ok(download(&self.http, &url, partial, expected, &self.retry).await?)
    }
}

/// True when a `--camera` is the address of a camera on Wi-Fi (`http://` or `https://`)
/// rather than a folder.
pub fn is_address(camera: &str) -> bool {
    camera.starts_with("http://") || camera.starts_with("https://")
}

/// The camera did not answer `url` as it should.
fn unreachable(url: &Url, error: impl ToString) -> WifiError {
    WifiError::Unreachable {
        url: url.to_string(),
        error: error.to_string(),
    }
}

/// The path recorded for the camera file at `path` (`wifi:/Record/…`).
pub fn key(path: &str) -> PathBuf {
    PathBuf::from(format!("{KEY_PREFIX}{path}"))
}

#[cfg(test)]
mod tests;
