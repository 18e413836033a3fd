//! Support for the upload tests: servers over each metadata engine and blob store, test
//! videos made with ffmpeg, and a small tus client.

use crate::helpers::{spawn_app_with, Engine, TestApp};
use base64::Engine as _;
use dashvault_store::blob::BlobKey;
use futures_util::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Which blob store a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Blobs {
    Fs,
    S3,
}

/// The S3 server the test command started; its absence fails the test.
pub fn s3_url() -> String {
    std::env::var("DASHVAULT_TEST_S3_URL").unwrap_or_else(|_| {
        panic!(
            "DASHVAULT_TEST_S3_URL is not set: run the tests with ./scripts/test, or start the \
             test S3 server first with `eval \"$(scripts/s3-server)\"`"
        )
    })
}

/// A server over `engine` and `blobs`, with `adjust` applied to its configuration.
pub async fn spawn(
    engine: Engine,
    blobs: Blobs,
    adjust: impl FnOnce(&mut dashvault_server::ServerConfig),
) -> TestApp {
    spawn_app_with(engine, |config| {
        if let Blobs::S3 = blobs {
            config.blob_url = s3_url();
        }
        adjust(config);
    })
    .await
}

/// Runs each async test body `fn(TestApp)` on both engines and both blob stores.
#[macro_export]
macro_rules! all_backends {
    ($($name:ident),* $(,)?) => {
        $crate::all_backends!(@one sqlite_fs, Sqlite, Fs; $($name),*);
        $crate::all_backends!(@one sqlite_s3, Sqlite, S3; $($name),*);
        $crate::all_backends!(@one postgres_fs, Postgres, Fs; $($name),*);
        $crate::all_backends!(@one postgres_s3, Postgres, S3; $($name),*);
    };
    (@one $module:ident, $engine:ident, $blobs:ident; $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::tus::spawn(
                        $crate::helpers::Engine::$engine,
                        $crate::tus::Blobs::$blobs,
                        |_| {},
                    )
                    .await;
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// A 2 s 320x240 H.264 MP4 made once per test run with ffmpeg.
fn base_video() -> &'static [u8] {
    static VIDEO: OnceLock<Vec<u8>> = OnceLock::new();
    VIDEO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=25",
            ])
            .args([
                "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25",
            ])
            .args(["-movflags", "+faststart"])
            .arg(&path)
            .status()
            .unwrap_or_else(|e| {
                panic!("ffmpeg is needed to make test videos (apt-get install ffmpeg): {e}")
            });
        assert!(status.success(), "ffmpeg failed to make a test video");
        std::fs::read(&path).unwrap()
    })
}

/// A playable MP4 unique to `seed`, `padding` bytes longer than the base video (a
/// trailing `free` box: any size is still a valid file).
pub fn video(seed: &str, padding: usize) -> Vec<u8> {
    let mut bytes = base_video().to_vec();
    let body_len = seed.len() + padding;
    bytes.extend_from_slice(&u32::try_from(8 + body_len).unwrap().to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.extend_from_slice(seed.as_bytes());
    let mut state = Sha256::digest(seed.as_bytes()).to_vec();
    while bytes.len() < base_video().len() + 8 + body_len {
        state = Sha256::digest(&state).to_vec();
        let room = base_video().len() + 8 + body_len - bytes.len();
        bytes.extend_from_slice(&state[..room.min(state.len())]);
    }
    bytes
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `Upload-Metadata` for `pairs`.
pub fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {}",
                base64::engine::general_purpose::STANDARD.encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A tus client for one credential (session or device token).
pub struct Tus<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl<'a> Tus<'a> {
    pub fn new(app: &'a TestApp, token: impl Into<String>) -> Self {
        Self {
            app,
            token: token.into(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
    }

    /// `POST /api/v1/uploads` with `Upload-Length` and `Upload-Metadata`.
    pub async fn create(&self, length: u64, meta: &str) -> reqwest::Response {
        self.request(reqwest::Method::POST, "/api/v1/uploads")
            .header("Upload-Length", length)
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap()
    }

    /// `POST` a partial upload of the concatenation extension.
    pub async fn request_partial(&self, length: u64) -> reqwest::Response {
        self.request(reqwest::Method::POST, "/api/v1/uploads")
            .header("Upload-Length", length)
            .header("Upload-Concat", "partial")
            .send()
            .await
            .unwrap()
    }

    /// Create and return the upload's path, asserting `201`.
    pub async fn created(&self, length: u64, meta: &str) -> String {
        let response = self.create(length, meta).await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        location(&response)
    }

    /// `PATCH` `bytes` at `offset`, with any `extra` headers.
    pub async fn patch_with(
        &self,
        path: &str,
        offset: u64,
        bytes: &[u8],
        extra: &[(&str, String)],
    ) -> reqwest::Response {
        let mut request = self
            .request(reqwest::Method::PATCH, path)
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream");
        for (name, value) in extra {
            request = request.header(*name, value);
        }
        request.body(bytes.to_vec()).send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, offset: u64, bytes: &[u8]) -> reqwest::Response {
        self.patch_with(path, offset, bytes, &[]).await
    }

    pub async fn head(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::HEAD, path)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path)
            .send()
            .await
            .unwrap()
    }

    /// The upload's offset by `HEAD`.
    pub async fn offset(&self, path: &str) -> u64 {
        let response = self.head(path).await;
        assert_eq!(response.status(), 200);
        header_u64(&response, "upload-offset")
    }

    /// Upload `bytes` whole in chunks of `chunk` bytes; every PATCH but the last must
    /// answer `204` with the new offset. Returns the path and the last answer.
    pub async fn upload(
        &self,
        bytes: &[u8],
        meta: &str,
        chunk: usize,
    ) -> (String, reqwest::Response) {
        let path = self.created(bytes.len() as u64, meta).await;
        let mut offset = 0;
        loop {
            let end = (offset + chunk).min(bytes.len());
            let response = self.patch(&path, offset as u64, &bytes[offset..end]).await;
            if end == bytes.len() {
                return (path, response);
            }
            assert_eq!(response.status(), 204, "{:?}", response.text().await);
            assert_eq!(header_u64(&response, "upload-offset"), end as u64);
            offset = end;
        }
    }
}

/// The `Location` of a creation answer.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub fn header_u64(response: &reqwest::Response, name: &str) -> u64 {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Metadata of a road recording starting at `start`.
pub fn recording(start: &str) -> String {
    metadata(&[("kind", "recording"), ("start", start)])
}

/// `GET` JSON as `token`, asserting `200`.
pub async fn json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get_with(path, token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The stored bytes of the one drive's recordings, through the repository and blob store
/// (checking the SHA-256 filed with them).
pub async fn stored_recording(app: &TestApp, user_token: &str) -> Vec<u8> {
    let drives = json(app, "/api/v1/drives", user_token).await;
    let drive_id: uuid::Uuid = drives["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let me = json(app, "/api/v1/me", user_token).await;
    let user_id: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let recordings = app
        .state
        .repo
        .drive_recordings(user_id, drive_id)
        .await
        .unwrap();
    let file = &recordings[0].file;
    let key = BlobKey::new(file.blob_key.clone()).unwrap();
    let mut body = app.state.blobs.get_range(&key, 0..file.size).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        file.sha256,
        sha256_hex(&bytes),
        "the SHA-256 filed is the stored bytes'"
    );
    bytes
}
