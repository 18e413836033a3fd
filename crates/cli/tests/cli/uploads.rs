//! Crash safety of uploads in the real binary: `dashvault serve` is killed with SIGKILL
//! while uploads stream, started again on the same data directory, the uploads resumed
//! from the offsets `HEAD` reports, and every stored file checked against its SHA-256.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;

use crate::process::{base_url, lines, wait_for, Spawned};

const MIB: usize = 1024 * 1024;

/// `Upload-Metadata` values (base64) of the three uploads' start times,
/// 2026-11-20T00:00:00Z, 01:00 and 02:00.
const STARTS: [&str; 3] = [
    "MjAyNi0xMS0yMFQwMDowMDowMFo=",
    "MjAyNi0xMS0yMFQwMTowMDowMFo=",
    "MjAyNi0xMS0yMFQwMjowMDowMFo=",
];

/// A `dashvault serve` process on the embedded defaults in `data`, killed when dropped
/// (also when a test panics), so no test leaves a server running.
pub(crate) struct Server {
    child: Spawned,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(data: &Path) -> Self {
        Self::start_with(data, &[])
    }

    /// A server on `data` with more `serve` flags.
    pub(crate) fn start_with(data: &Path, flags: &[&str]) -> Self {
        Self::start_env(data, flags, &[])
    }

    /// A server on `data` with more `serve` flags and environment variables; it listens
    /// on `--listen` if the flags give one, else on a free port.
    pub(crate) fn start_env(data: &Path, flags: &[&str], env: &[(&str, &str)]) -> Self {
        let listen = if flags.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_dashvault"))
            .arg("serve")
            .args(listen)
            .arg("--data-dir")
            .arg(data)
            .args(flags)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map(Spawned::from)
            .expect("dashvault serve starts");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let base = base_url(&wait_for(&stderr, "listening on http://"));
        Self {
            child,
            stdout,
            stderr,
            base,
        }
    }

    /// The next line the server logs that contains `what`.
    pub(crate) fn wait_for_log(&self, what: &str) -> String {
        wait_for(&self.stderr, what)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no graceful shutdown, no flushing, like a power cut of the process.
    pub(crate) fn kill(self) {
        drop(self);
    }

    /// Wait for the process to end by itself (a crash point aborted it).
    pub(crate) fn wait_for_exit(mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// The sign-in code of the next message the console sender prints.
    pub(crate) fn next_code(&self) -> String {
        let line = wait_for(&self.stdout, "code ");
        let at = line.find("code ").unwrap() + 5;
        line[at..at + 6].to_owned()
    }

    pub(crate) async fn sign_in(&self, http: &reqwest::Client, phone: &str) -> String {
        let response = http
            .post(self.url("/api/v1/auth/code"))
            .json(&serde_json::json!({ "phone": phone }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let code = self.next_code();
        let body: serde_json::Value = http
            .post(self.url("/api/v1/auth/verify"))
            .json(&serde_json::json!({ "phone": phone, "code": code }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// A 2 s 320x240 H.264 clip from ffmpeg, made unique and `padding` bytes longer by a
/// trailing `free` box.
pub(crate) fn video(dir: &Path, seed: u8, padding: usize) -> Vec<u8> {
    let path = dir.join(format!("v{seed}.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc=size=320x240:rate=25:decimals={}",
            seed % 3
        ))
        .args(["-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .unwrap_or_else(|e| panic!("ffmpeg is needed (apt-get install ffmpeg): {e}"));
    assert!(status.success());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&u32::try_from(8 + padding).unwrap().to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.extend((0..padding).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

fn sha256(bytes: &[u8], dir: &Path) -> String {
    let path = dir.join("to-hash");
    std::fs::write(&path, bytes).unwrap();
    sha256_of(&path).expect("the file just written")
}

/// A file's SHA-256 in hex; `None` when it cannot be read (e.g. a blob deleted meanwhile).
pub(crate) fn sha256_of(path: &Path) -> Option<String> {
    let output = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

pub(crate) fn tus(request: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    request.bearer_auth(token).header("Tus-Resumable", "1.0.0")
}

pub(crate) async fn patch(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    tus(http.patch(url), token)
        .header("Upload-Offset", offset)
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

async fn head_offset(http: &reqwest::Client, url: &str, token: &str) -> usize {
    let head = tus(http.head(url), token).send().await.unwrap();
    assert_eq!(head.status(), 200);
    head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Start a PATCH of `bytes` at `offset` by hand and send only the first half of the body,
/// leaving the request in flight.
fn half_sent_patch(base: &str, path: &str, token: &str, offset: usize, bytes: &[u8]) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    )
    .unwrap();
    stream.write_all(&bytes[..bytes.len() / 2]).unwrap();
    stream.flush().unwrap();
    stream
}

pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_survive_sigkill_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let server = Server::start(&data);
    let token = server.sign_in(&http, "+14155550100").await;
    let files: Vec<Vec<u8>> = (0..3)
        .map(|i| video(dir.path(), i, 30 * MIB + i as usize * 1000))
        .collect();

    let mut paths = Vec::new();
    let mut in_flight = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let meta = format!("kind Y2xpcA==,clip YXV0bw==,start {}", STARTS[i]);
        let response = tus(http.post(server.url("/api/v1/uploads")), &token)
            .header("Upload-Length", file.len())
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let path = response.headers()["location"].to_str().unwrap().to_owned();
        // Acknowledged before the crash: a tail (2 MiB), then whole parts.
        let mut acked = 0;
        for chunk in [2 * MIB, 6 * MIB] {
            let response = patch(
                &http,
                &server.url(&path),
                &token,
                acked,
                &file[acked..acked + chunk],
            )
            .await;
            assert_eq!(response.status(), 204);
            acked += chunk;
        }
        in_flight.push(half_sent_patch(
            &server.base,
            &path,
            &token,
            acked,
            &file[acked..],
        ));
        paths.push((path, acked));
    }
    // Kill once each in-flight body has had a whole part stored and recorded, while the
    // rest of it is still arriving.
    for (path, acked) in &paths {
        let mut polls = 0;
        while head_offset(&http, &server.url(path), &token).await < acked + 8 * MIB {
            polls += 1;
            assert!(polls < 3000, "the in-flight PATCH of {path} stores no part");
            tokio::task::yield_now().await;
        }
    }
    server.kill();
    drop(in_flight);

    let server = Server::start(&data);
    for ((path, acked), file) in paths.iter().zip(&files) {
        let offset = head_offset(&http, &server.url(path), &token).await;
        assert!(
            offset >= acked + 8 * MIB && offset < file.len(),
            "offset {offset} after the crash"
        );
        let mut at = offset;
        while at < file.len() {
            let end = (at + 3 * MIB).min(file.len());
            let response = patch(&http, &server.url(path), &token, at, &file[at..end]).await;
            assert_eq!(response.status(), 204, "{:?}", response.text().await);
            at = end;
        }
    }
    let clips: serde_json::Value = http
        .get(server.url("/api/v1/clips"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut listed: Vec<String> = clips["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha256"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> = files.iter().map(|f| sha256(f, dir.path())).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    let mut stored: Vec<String> = files_under(&data.join("blobs/media"))
        .iter()
        .map(|p| sha256_of(p).expect("a stored blob"))
        .collect();
    stored.sort();
    assert_eq!(
        stored, expected,
        "the blobs on disk are exactly the uploaded files"
    );
    server.kill();
}
