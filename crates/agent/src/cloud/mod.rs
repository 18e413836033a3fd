//! The agent's HTTP client of a dashvault server: tus uploads ([`tus`]) and the library
//! calls deletion sync needs (clip listing, tombstones, clip deletion), all authenticated
//! by the device token, which acts for the device's owner.

pub mod tus;

use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use uuid::Uuid;

/// How long a small request (anything but an upload's body) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Items asked for per page of a listing (the server's maximum).
const PAGE_LIMIT: u32 = 200;

/// A call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The server could not be reached or the connection broke.
    #[error("can not reach the server (check the network and --server): {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with an error status.
    #[error("the server answered {status} to {what}: {message}")]
    Status {
        /// The request, in words.
        what: &'static str,
        /// The HTTP status.
        status: StatusCode,
        /// The server's message (its error body).
        message: String,
    },
    /// The server's answer is not what the protocol says.
    #[error("the server's answer to {what} is malformed: {why}")]
    Protocol {
        /// The request, in words.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A local file to upload could not be read.
    #[error("can not read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl CloudError {
    /// Whether trying again later may succeed: a broken connection, a server error, a
    /// busy or rate-limited answer, a lost race on the offset or a checksum damaged on
    /// the way. Refusals (bad metadata, not a video, quota, authentication) are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status { status, .. } => {
                status.is_server_error() || matches!(status.as_u16(), 408 | 409 | 423 | 429 | 460)
            }
            Self::Protocol { .. } | Self::File { .. } => false,
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A clip in the cloud, as `GET /api/v1/clips` lists it (the fields sync needs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CloudClip {
    /// The server's id.
    pub id: Uuid,
    /// `auto` or `manual`.
    pub kind: String,
    /// Time of the first frame.
    pub start: DateTime<Utc>,
    /// SHA-256 of the file, when the uploader gave one.
    #[serde(default)]
    pub sha256: Option<String>,
    /// File name as uploaded.
    #[serde(default)]
    pub filename: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
}

/// A deletion in the cloud, from `GET /api/v1/tombstones`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tombstone {
    /// Its place in the owner's deletion log (increasing).
    pub seq: i64,
    /// `clip`, `drive` or `recording`.
    pub kind: String,
    /// The deleted item's id.
    pub id: Uuid,
    /// SHA-256 of every file the deletion removed.
    #[serde(default)]
    pub sha256: Vec<String>,
    /// When it was deleted.
    pub deleted_at: DateTime<Utc>,
}

/// One page of a listing.
#[derive(Debug, Deserialize)]
struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// The server and the device token to talk to it with.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Url,
    token: String,
}

impl Client {
    /// A client of `server` (its base URL, e.g. `https://vault.example`) acting with the
    /// device token `token`.
    pub fn new(server: Url, token: impl Into<String>) -> Result<Self, CloudError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_keepalive(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            server,
            token: token.into(),
        })
    }

    /// The server's base URL.
    pub fn server(&self) -> &Url {
        &self.server
    }

    /// `path` (absolute, like `/api/v1/clips`) on the server.
    fn url(&self, path: &str) -> Result<Url, CloudError> {
        self.server.join(path).map_err(|e| CloudError::Protocol {
            what: "building a URL",
            why: format!("{path} on {}: {e}", self.server),
        })
    }

    /// An authenticated request.
    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url).bearer_auth(&self.token)
    }

    /// Every clip of the device's owner in the cloud (all pages).
    pub async fn clips(&self) -> Result<Vec<CloudClip>, CloudError> {
        let mut clips = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = self.url("/api/v1/clips")?;
            url.query_pairs_mut()
                .append_pair("limit", &PAGE_LIMIT.to_string());
            if let Some(cursor) = &cursor {
                url.query_pairs_mut().append_pair("cursor", cursor);
            }
            let page: Page<CloudClip> = self.get_json("listing the cloud's clips", url).await?;
            clips.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(clips),
            }
        }
    }

    /// The owner's deletions after `after` (a `seq`), oldest first, one page.
    pub async fn tombstones(&self, after: i64) -> Result<Vec<Tombstone>, CloudError> {
        let mut url = self.url("/api/v1/tombstones")?;
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("limit", &PAGE_LIMIT.to_string());
        let page: Page<Tombstone> = self.get_json("listing the cloud's deletions", url).await?;
        Ok(page.items)
    }

    /// Delete a clip in the cloud; `false` when the server does not know it (deleted
    /// already long ago, or never there).
    pub async fn delete_clip(&self, id: Uuid) -> Result<bool, CloudError> {
        let url = self.url(&format!("/api/v1/clips/{id}"))?;
        let response = self
            .request(Method::DELETE, url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        ok(response, "deleting a clip in the cloud").await?;
        Ok(true)
    }

    /// Tell the cloud how many uploads wait on this phone (its Cameras page shows it).
    pub async fn report_status(&self, uploads_waiting: u64) -> Result<(), CloudError> {
        let url = self.url("/api/v1/agent/status")?;
        let response = self
            .request(Method::PUT, url)
            .timeout(REQUEST_TIMEOUT)
            .json(&serde_json::json!({ "uploads_waiting": uploads_waiting }))
            .send()
            .await?;
        ok(response, "reporting the agent's status").await?;
        Ok(())
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &'static str,
        url: Url,
    ) -> Result<T, CloudError> {
        let response = self
            .request(Method::GET, url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await?;
        ok(response, what)
            .await?
            .json()
            .await
            .map_err(|e| CloudError::Protocol {
                what,
                why: e.to_string(),
            })
    }
}

/// `response` if its status is a success, else the error with the server's message.
async fn ok(response: Response, what: &'static str) -> Result<Response, CloudError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or(body);
    let message = if status == StatusCode::UNAUTHORIZED {
        format!("{message} (the device token is not valid: pass the one from registering the device, or make a new one)")
    } else {
        message
    };
    Err(CloudError::Status {
        what,
        status,
        message,
    })
}
