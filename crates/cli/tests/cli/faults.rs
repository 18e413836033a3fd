//! Never losing a video, tested on the real binary: `dashvault serve` aborted at each
//! named crash point of ingest (`DASHVAULT_CRASH_AT`, feature `crash-points`), started
//! again on the same database and blob store, the upload resumed from what `HEAD` says;
//! then the file is stored exactly once, byte for byte, the upload says what it became,
//! and nothing is left behind. On both engines and both blob stores.

use crate::uploads::{patch, sha256_of, tus, video, Server};
use std::path::{Path, PathBuf};

const MIB: usize = 1024 * 1024;

/// Where a test server keeps its metadata and blobs, besides its data directory.
struct Backend {
    flags: Vec<String>,
    _database: Option<dashvault_store::testkit::TestDatabase>,
}

impl Backend {
    /// The embedded defaults: SQLite and files under the data directory.
    fn embedded() -> Self {
        Self {
            flags: Vec::new(),
            _database: None,
        }
    }

    /// A fresh PostgreSQL database and a fresh bucket of the test S3 server (a bucket of
    /// its own, so that the sweep never meets another test's objects).
    async fn scale_out() -> Self {
        let database = dashvault_store::testkit::postgres_test_database().await;
        let flags = vec![
            "--database-url".to_owned(),
            database.url().to_owned(),
            "--blob-url".to_owned(),
            fresh_bucket_url(),
        ];
        Self {
            flags,
            _database: Some(database),
        }
    }

    fn flags(&self) -> Vec<&str> {
        self.flags.iter().map(String::as_str).collect()
    }
}

/// The test S3 server's URL with a new, empty bucket (s3s-fs keeps a bucket as a
/// directory of its data directory).
pub(crate) fn fresh_bucket_url() -> String {
    let url = std::env::var("DASHVAULT_TEST_S3_URL")
        .expect("DASHVAULT_TEST_S3_URL is not set: run the tests with ./scripts/test");
    let data = std::env::var("DASHVAULT_TEST_S3_DATA")
        .expect("DASHVAULT_TEST_S3_DATA is not set: run the tests with ./scripts/test");
    let bucket = format!("faults-{}", uuid::Uuid::now_v7().simple());
    std::fs::create_dir(Path::new(&data).join(&bucket)).unwrap();
    let (_, query) = url.split_once('?').expect("an S3 URL with its endpoint");
    format!("s3://{bucket}?{query}")
}

/// The crash point names, in the order an upload passes them (the server's own list).
fn crash_points() -> Vec<&'static str> {
    dashvault_server::crash::CrashPoint::ALL
        .iter()
        .map(|p| p.name())
        .collect()
}

/// Upload `file` as a clip in two PATCHes (a whole part, then the rest) to a server that
/// aborts at `point`; resume on a new server; return that server and the upload's path.
async fn upload_through_crash(
    http: &reqwest::Client,
    data: &Path,
    backend: &Backend,
    token: &str,
    file: &[u8],
    point: &str,
) -> (Server, String) {
    let crashing = Server::start_env(data, &backend.flags(), &[("DASHVAULT_CRASH_AT", point)]);
    let meta = "kind Y2xpcA==,clip YXV0bw==,start MjAyNi0xMS0yMFQwMDowMDowMFo=";
    let created = tus(http.post(crashing.url("/api/v1/uploads")), token)
        .header("Upload-Length", file.len())
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let path = created.headers()["location"].to_str().unwrap().to_owned();
    let mut crashed = false;
    let mut at = 0;
    for end in [6 * MIB, file.len()] {
        let sent = tus(http.patch(crashing.url(&path)), token)
            .header("Upload-Offset", at)
            .header("Content-Type", "application/offset+octet-stream")
            .body(file[at..end].to_vec())
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == 204 => at = end,
            Ok(response) => panic!("{point}: PATCH answered {}", response.status()),
            Err(_) => {
                crashed = true;
                break;
            }
        }
    }
    assert!(crashed, "{point}: the upload never reached its crash point");
    assert!(!crashing.wait_for_exit().success(), "{point}: not an abort");

    let server = Server::start_with(data, &backend.flags());
    let head = tus(http.head(server.url(&path)), token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200, "{point}: HEAD after the restart");
    let mut at: usize = head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    while at < file.len() {
        let response = patch(http, &server.url(&path), token, at, &file[at..]).await;
        assert_eq!(
            response.status(),
            204,
            "{point}: resuming at {at}: {:?}",
            response.text().await
        );
        at = file.len();
    }
    (server, path)
}

/// The upload says it is complete with the file's SHA-256, its original is the file byte
/// for byte, and the clip list holds it exactly once.
async fn check_stored_once(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    path: &str,
    file: &[u8],
    expected_sha: &str,
    point: &str,
) {
    let (status, original) = upload_and_original(http, server, token, path).await;
    assert_eq!(status["state"], "complete", "{point}: {status}");
    assert_eq!(status["sha256"], expected_sha, "{point}");
    assert_eq!(status["item"]["kind"], "clip", "{point}");
    assert!(
        original.as_deref() == Some(file),
        "{point}: the original differs (or did not answer 200)"
    );
    let clips = get_json(http, server, token, "/api/v1/clips?limit=100").await;
    let copies = clips["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["sha256"] == expected_sha)
        .count();
    assert_eq!(copies, 1, "{point}: the file is listed {copies} times");
}

/// `GET path` as the user, as JSON.
async fn get_json(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    path: &str,
) -> serde_json::Value {
    http.get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What became of the upload at `path` (its `GET`), and the bytes its `original_url`
/// serves (`None` without one, or when it does not answer 200).
pub(crate) async fn upload_and_original(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    path: &str,
) -> (serde_json::Value, Option<Vec<u8>>) {
    let status = get_json(http, server, token, path).await;
    let Some(original) = status["original_url"].as_str() else {
        return (status, None);
    };
    let response = http
        .get(server.url(original))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let bytes = (response.status() == 200).then_some(response.bytes().await.unwrap().to_vec());
    (status, bytes)
}

/// `dashvault admin storage --json` on the server's settings.
fn storage_report(data: &Path, backend: &Backend) -> serde_json::Value {
    let mut args = vec!["storage", "--json", "--data-dir", data.to_str().unwrap()];
    args.extend(backend.flags());
    let out = crate::process::succeeds("admin", &args);
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn every_crash_point_loses_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let token = {
        let server = Server::start_with(&data, &backend.flags());
        server.sign_in(&http, "+14155550100").await
    };
    for (i, point) in crash_points().into_iter().enumerate() {
        let file = video(dir.path(), i as u8, 6 * MIB + 12_345);
        let source = dir.path().join(format!("source-{i}"));
        std::fs::write(&source, &file).unwrap();
        let sha = sha256_of(&source).unwrap();
        let (server, path) =
            upload_through_crash(&http, &data, &backend, &token, &file, point).await;
        check_stored_once(&http, &server, &token, &path, &file, &sha, point).await;
        server.kill();
        // A restart sweeps what the crash left; then nothing is orphaned.
        let server = Server::start_with(&data, &backend.flags());
        server.wait_for_log("swept what no upload owns");
        let report = storage_report(&data, &backend);
        assert_eq!(report["orphaned_bytes"], 0, "{point}: {report}");
        assert_eq!(report["temporary_bytes"], 0, "{point}: {report}");
        assert_eq!(report["orphaned_multipart_uploads"], 0, "{point}: {report}");
        check_stored_once(&http, &server, &token, &path, &file, &sha, point).await;
        server.kill();
    }
    if backend._database.is_none() {
        let blobs = data.join("blobs");
        let left = crate::uploads::files_under(&blobs.join(".uploads"));
        assert_eq!(left, Vec::<PathBuf>::new());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_crash_point_loses_nothing_on_sqlite_and_files() {
    every_crash_point_loses_nothing(Backend::embedded()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_crash_point_loses_nothing_on_postgres_and_s3() {
    every_crash_point_loses_nothing(Backend::scale_out().await).await;
}

/// The crash loop's size: uploads, their size, chunk, parallel uploads, kills and the
/// time between kills; the defaults keep CI short, `bench/crash-loop.sh` runs it larger.
struct LoopSize {
    uploads: usize,
    size: usize,
    chunk: usize,
    parallel: usize,
    kills: usize,
    every: std::time::Duration,
}

impl LoopSize {
    fn from_env() -> Self {
        let var = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            uploads: var("DASHVAULT_CRASH_LOOP_UPLOADS", 16),
            size: var("DASHVAULT_CRASH_LOOP_MIB", 6) * MIB,
            chunk: MIB,
            parallel: var("DASHVAULT_CRASH_LOOP_PARALLEL", 4),
            kills: var("DASHVAULT_CRASH_LOOP_KILLS", 8),
            every: std::time::Duration::from_millis(
                var("DASHVAULT_CRASH_LOOP_EVERY_MS", 300) as u64
            ),
        }
    }
}

/// A free local port for a server that is started again on the same address.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until a server answers at `base` (it is being restarted).
async fn until_up(http: &reqwest::Client, base: &str) {
    for _ in 0..3000 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no server came back at {base}");
}

/// One upload driven to its end through any number of server kills, as a resuming tus
/// client does: every error means "HEAD and go on from there". Fails the test if an
/// offset the server acknowledged is ever lost. Returns the upload's path.
async fn upload_through_kills(
    http: reqwest::Client,
    base: String,
    token: String,
    file: Vec<u8>,
    chunk: usize,
) -> String {
    let meta = "kind Y2xpcA==,clip YXV0bw==,start MjAyNi0xMS0yMFQwMDowMDowMFo=";
    let path = loop {
        let created = tus(http.post(format!("{base}/api/v1/uploads")), &token)
            .header("Upload-Length", file.len())
            .header("Upload-Metadata", meta)
            .send()
            .await;
        match created {
            Ok(r) if r.status() == 201 => {
                break r.headers()["location"].to_str().unwrap().to_owned()
            }
            _ => until_up(&http, &base).await,
        }
    };
    let url = format!("{base}{path}");
    let mut acked = 0usize;
    loop {
        let offset = match tus(http.head(&url), &token).send().await {
            Ok(r) if r.status() == 200 => r.headers()["upload-offset"]
                .to_str()
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            Ok(r) if r.status() == 423 => {
                tokio::task::yield_now().await;
                continue;
            }
            Ok(r) => panic!("HEAD {path}: {}", r.status()),
            Err(_) => {
                until_up(&http, &base).await;
                continue;
            }
        };
        assert!(
            offset >= acked,
            "{path}: offset {offset} after {acked} bytes were acknowledged"
        );
        if offset == file.len() {
            return path;
        }
        let end = (offset + chunk).min(file.len());
        let sent = tus(http.patch(&url), &token)
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream")
            .body(file[offset..end].to_vec())
            .send()
            .await;
        match sent.map(|r| r.status().as_u16()) {
            Ok(204) => acked = end,
            Ok(409 | 423) => {}
            Ok(status) => panic!("PATCH {path} at {offset}: {status}"),
            Err(_) => until_up(&http, &base).await,
        }
    }
}

/// Uploads in parallel while the server is SIGKILLed again and again: every file is
/// stored intact (checked byte for byte through `original_url`), no acknowledged byte is
/// lost, and after a clean restart what nothing owns is under 1 % of what is stored.
#[tokio::test(flavor = "multi_thread")]
async fn uploads_survive_a_kill_loop() {
    let size = LoopSize::from_env();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let flags = ["--listen", listen.as_str()];
    let http = reqwest::Client::new();
    let mut server = Server::start_with(&data, &flags);
    let base = server.base.clone();
    let token = server.sign_in(&http, "+14155550100").await;
    let files: Vec<Vec<u8>> = (0..size.uploads)
        .map(|i| video(dir.path(), i as u8, size.size + i))
        .collect();

    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(size.parallel));
    let uploads: Vec<_> = files
        .iter()
        .map(|file| {
            let (http, base, token, file) =
                (http.clone(), base.clone(), token.clone(), file.clone());
            let gate = std::sync::Arc::clone(&gate);
            let chunk = size.chunk;
            tokio::spawn(async move {
                let _turn = gate.acquire_owned().await.unwrap();
                upload_through_kills(http, base, token, file, chunk).await
            })
        })
        .collect();
    for _ in 0..size.kills {
        tokio::time::sleep(size.every).await;
        server.kill();
        server = Server::start_with(&data, &flags);
    }
    let mut paths = Vec::new();
    for upload in uploads {
        paths.push(upload.await.unwrap());
    }
    server.kill();

    let server = Server::start_with(&data, &flags);
    server.wait_for_log("swept what no upload owns");
    let mut missing = 0;
    let mut corrupt = 0;
    for (path, file) in paths.iter().zip(&files) {
        match upload_and_original(&http, &server, &token, path).await {
            (status, _) if status["original_url"].is_null() => missing += 1,
            (_, original) if original.as_deref() != Some(&file[..]) => corrupt += 1,
            _ => {}
        }
    }
    assert_eq!(
        (missing, corrupt),
        (0, 0),
        "missing, corrupt of {}",
        files.len()
    );
    let report = storage_report(&data, &Backend::embedded());
    let stored = report["stored_bytes"].as_u64().unwrap();
    let left = report["reclaimable_bytes"].as_u64().unwrap();
    assert!(
        left * 100 < stored,
        "{left} of {stored} bytes owned by nothing: {report}"
    );
    let scratch: u64 = ["blobs/.uploads", "blobs/uploads"]
        .iter()
        .map(|d| data.join(d))
        .filter(|d| d.exists())
        .flat_map(|d| crate::uploads::files_under(&d))
        .map(|f| f.metadata().map_or(0, |m| m.len()))
        .sum();
    assert!(
        scratch * 100 < stored,
        "{scratch} bytes of upload scratch remain"
    );
    eprintln!(
        "crash loop: {} uploads of {} bytes, {} kills: 0 missing, 0 corrupt, {left} bytes orphaned of {stored}",
        files.len(),
        size.size,
        size.kills
    );
}
