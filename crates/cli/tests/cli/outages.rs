//! The real server when what it stands on fails: a full disk (a small tmpfs, with and
//! without the reserve of free space), the database unreachable, the S3 store
//! unreachable (both behind a TCP proxy the test cuts and restores). Every answer is an
//! honest status (`507`, `503` with `Retry-After`), never a `500` or a hang; `/readyz`
//! says why; and everything resumes by itself once the cause is gone, with nothing lost.

use crate::faults::{fresh_bucket_url, upload_and_original};
use crate::uploads::{tus, video, Server};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const MIB: usize = 1024 * 1024;

/// A tmpfs of `mib` MiB mounted for one test (needs root, as CI has), unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a {mib} MiB tmpfs failed: the full-disk tests need root (CI runs as root)"
        );
        Self { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A TCP proxy to `upstream` that a test can cut (listener and open connections gone:
/// the dependency "does not answer") and restore on the same port.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Self {
            port,
            upstream: upstream.to_owned(),
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream.clone(), Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// A client that opens a connection per request: a kept-alive connection that the
/// server closes as a request starts is not what these tests are about.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// `url` with its `host:port` replaced by the proxy's.
fn through(url: &str, upstream: &str, proxy: &Proxy) -> String {
    url.replacen(upstream, &format!("127.0.0.1:{}", proxy.port), 1)
}

/// Create a clip upload of `len` bytes; its path.
async fn create(http: &reqwest::Client, server: &Server, token: &str, len: usize) -> String {
    let meta = "kind Y2xpcA==,clip YXV0bw==,start MjAyNi0xMS0yMFQwMDowMDowMFo=";
    let created = tus(http.post(server.url("/api/v1/uploads")), token)
        .header("Upload-Length", len)
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    created.headers()["location"].to_str().unwrap().to_owned()
}

async fn patch_at(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    path: &str,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    tus(http.patch(server.url(path)), token)
        .header("Upload-Offset", offset)
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

/// Send the rest of `file` from the upload's offset, in `chunk`s; the last answer.
async fn finish(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    path: &str,
    file: &[u8],
    chunk: usize,
) -> reqwest::Response {
    let head = tus(http.head(server.url(path)), token)
        .send()
        .await
        .unwrap();
    let mut at: usize = head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    loop {
        let end = (at + chunk).min(file.len());
        let response = patch_at(http, server, token, path, at, &file[at..end]).await;
        if response.status() != 204 || end == file.len() {
            return response;
        }
        at = end;
    }
}

/// The upload's stored original is `file`, byte for byte.
async fn assert_stored(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    path: &str,
    file: &[u8],
) {
    let (status, original) = upload_and_original(http, server, token, path).await;
    assert_eq!(status["state"], "complete", "{status}");
    assert!(original.as_deref() == Some(file), "the stored file differs");
}

/// A server under `dir` with `flags`, signed in, with a clip upload of `file` whose
/// first 6 MiB are stored: the server, the session token and the upload's path.
async fn upload_begun(
    http: &reqwest::Client,
    dir: &std::path::Path,
    flags: &[&str],
    file: &[u8],
) -> (Server, String, String) {
    let server = Server::start_with(&dir.join("data"), flags);
    let token = server.sign_in(http, "+14155550100").await;
    let path = create(http, &server, &token, file.len()).await;
    let first = patch_at(http, &server, &token, &path, 0, &file[..6 * MIB]).await;
    assert_eq!(first.status(), 204);
    (server, token, path)
}

async fn readyz(http: &reqwest::Client, server: &Server) -> (u16, String) {
    let response = http.get(server.url("/readyz")).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Uploads stop with `507` at the reserve of free space, `/readyz` says so, a delete still
/// works there, and once it freed room the stopped upload resumes and completes.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_is_507_and_recovers_after_a_delete() {
    let disk = Tmpfs::mount(64);
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let server = Server::start_with(&disk.path(), &["--min-free-space", &(24 * MIB).to_string()]);
    let token = server.sign_in(&http, "+14155550100").await;
    let files: Vec<Vec<u8>> = (0..5).map(|i| video(dir.path(), i, 12 * MIB)).collect();
    let mut stored = Vec::new();
    let mut refused = None;
    for file in &files {
        let path = create(&http, &server, &token, file.len()).await;
        let last = finish(&http, &server, &token, &path, file, 4 * MIB).await;
        match last.status().as_u16() {
            204 => stored.push(path),
            507 => {
                let body: serde_json::Value = last.json().await.unwrap();
                assert_eq!(body["error"]["code"], "insufficient_storage", "{body}");
                refused = Some((path, file));
                break;
            }
            other => panic!("an upload on a filling disk answered {other}"),
        }
    }
    let (path, file) = refused.expect("the disk never filled");
    assert!(!stored.is_empty(), "nothing fitted before the reserve");
    let (status, reason) = readyz(&http, &server).await;
    assert_eq!(status, 503, "{reason}");
    assert!(reason.contains("storage is full"), "{reason}");

    let status: serde_json::Value = http
        .get(server.url(&stored[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let clip = status["item"]["id"].as_str().unwrap();
    let deleted = http
        .delete(server.url(&format!("/api/v1/clips/{clip}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        deleted.status().is_success(),
        "delete on a full disk: {}",
        deleted.status()
    );
    // The delete job frees the blob in the background: ready again once it has.
    let until = Instant::now() + Duration::from_secs(60);
    while readyz(&http, &server).await.0 != 200 {
        assert!(Instant::now() < until, "room was never made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = finish(&http, &server, &token, &path, file, 4 * MIB).await;
    assert_eq!(last.status(), 204);
    assert_stored(&http, &server, &token, &path, file).await;
}

/// Without a reserve the disk really fills: the write that meets it answers `507`, not
/// `500`, and the upload stays resumable where its stored bytes end.
#[tokio::test(flavor = "multi_thread")]
async fn running_out_of_disk_mid_write_is_507() {
    let disk = Tmpfs::mount(32);
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let server = Server::start_with(&disk.path(), &["--min-free-space", "0"]);
    let token = server.sign_in(&http, "+14155550100").await;
    let file = video(dir.path(), 7, 40 * MIB);
    let path = create(&http, &server, &token, file.len()).await;
    let last = finish(&http, &server, &token, &path, &file, 8 * MIB).await;
    assert_eq!(last.status(), 507, "{:?}", last.text().await);
    let head = tus(http.head(server.url(&path)), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200, "still resumable");
    let gone = tus(http.delete(server.url(&path)), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204, "terminating frees its bytes");
    assert_eq!(readyz(&http, &server).await.0, 200);
}

/// The database stops answering mid-upload: requests get `503` with `Retry-After`
/// within about a second, `/readyz` is `503`, and when it answers again the upload
/// resumes and completes without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn the_database_going_away_is_503_and_recovers() {
    let database = dashvault_store::testkit::postgres_test_database().await;
    let upstream = "127.0.0.1:5432";
    let proxy = Proxy::start(upstream).await;
    let url = through(database.url(), upstream, &proxy);
    assert_ne!(
        url,
        database.url(),
        "the test database is not at {upstream}"
    );
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let file = video(dir.path(), 3, 8 * MIB);
    let (server, token, path) =
        upload_begun(&http, dir.path(), &["--database-url", &url], &file).await;

    proxy.cut();
    for request in [
        http.get(server.url("/api/v1/clips")).bearer_auth(&token),
        tus(http.head(server.url(&path)), &token),
    ] {
        let started = Instant::now();
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    let response = patch_at(&http, &server, &token, &path, 6 * MIB, &file[6 * MIB..]).await;
    assert_eq!(response.status(), 503);
    assert_eq!(readyz(&http, &server).await.0, 503);

    proxy.restore().await;
    let until = Instant::now() + Duration::from_secs(30);
    while readyz(&http, &server).await.0 != 200 {
        assert!(Instant::now() < until, "never ready again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        finish(&http, &server, &token, &path, &file, 4 * MIB)
            .await
            .status(),
        204
    );
    assert_stored(&http, &server, &token, &path, &file).await;
}

/// The S3 store stops answering mid-upload: the PATCH gets `503` with `Retry-After`, not
/// `500`, `/readyz` is `503`, and the upload resumes once the store is back.
#[tokio::test(flavor = "multi_thread")]
async fn the_object_store_going_away_is_503_and_recovers() {
    let bucket_url = fresh_bucket_url();
    let upstream = endpoint_host(&bucket_url);
    let proxy = Proxy::start(&upstream).await;
    let url = through(&bucket_url, &upstream, &proxy);
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let file = video(dir.path(), 4, 12 * MIB);
    let (server, token, path) = upload_begun(&http, dir.path(), &["--blob-url", &url], &file).await;

    proxy.cut();
    let started = Instant::now();
    let response = patch_at(&http, &server, &token, &path, 6 * MIB, &file[6 * MIB..]).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(readyz(&http, &server).await.0, 503);

    proxy.restore().await;
    assert_eq!(readyz(&http, &server).await.0, 200);
    assert_eq!(
        finish(&http, &server, &token, &path, &file, 4 * MIB)
            .await
            .status(),
        204
    );
    assert_stored(&http, &server, &token, &path, &file).await;
}

/// The `host:port` of an S3 URL's `endpoint`.
fn endpoint_host(url: &str) -> String {
    let endpoint = url.split("endpoint=").nth(1).expect("an endpoint");
    let host = endpoint.trim_start_matches("http://");
    host.split(['&', '/']).next().unwrap().to_owned()
}
