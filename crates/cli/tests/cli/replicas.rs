//! Two `dashvault serve` replicas on one PostgreSQL database and one S3 bucket, behind a
//! real nginx that alternates requests between them (the deployment the README
//! describes): uploads whose requests alternate replicas complete once and intact, one
//! upload written on both replicas at once is refused on one (`409` or `423`, never
//! interleaved bytes), a replica killed mid-upload loses nothing, and sessions, share
//! links and thumbnails work through either.

use crate::faults::fresh_bucket_url;
use crate::uploads::{tus, video, Server};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

/// The secret every replica shares (sign-in codes are hashed under it).
const SECRET: &str = "replicas-share-this-secret-of-at-least-32-chars";
/// The evidence key both replicas sign bundles with (base64 of a 32-byte seed).
const EVIDENCE_KEY: &str = "cmVwbGljYXMtc2hhcmUtdGhpcy1ldmlkZW5jZS1rZXk=";

/// nginx in front of `upstreams`, in a directory of its own; stopped when dropped.
struct Nginx {
    child: Child,
    base: String,
}

impl Nginx {
    fn start(dir: &Path, upstreams: &[&str]) -> Self {
        let port = crate::faults::free_port();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("server {};", u.trim_start_matches("http://")))
            .collect();
        let conf = format!(
            "user root;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n\
               proxy_temp_path {dir}/proxy;\n  upstream dashvault {{ {servers} }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 0;\n\
                 proxy_request_buffering off;\n    proxy_buffering off;\n\
                 proxy_http_version 1.1;\n    proxy_read_timeout 300s;\n\
                 proxy_send_timeout 300s;\n    proxy_set_header Host $host;\n\
                 proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                 proxy_set_header X-Forwarded-Proto $scheme;\n\
                 add_header X-Upstream $upstream_addr always;\n\
                 location / {{ proxy_pass http://dashvault; }}\n  }}\n}}\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .args(["-p"])
            .arg(dir)
            .args(["-c"])
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx is needed (apt-get install nginx); ./scripts/test installs it");
        let nginx = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "nginx did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flags of a replica on the shared database and bucket.
fn replica_flags<'a>(database: &'a str, bucket: &'a str, listen: &'a str) -> Vec<&'a str> {
    vec![
        "--database-url",
        database,
        "--blob-url",
        bucket,
        "--secret",
        SECRET,
        "--evidence-key",
        EVIDENCE_KEY,
        "--listen",
        listen,
    ]
}

async fn json(request: reqwest::RequestBuilder) -> serde_json::Value {
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_behind_nginx_share_every_upload() {
    let database = dashvault_store::testkit::postgres_test_database().await;
    let bucket = fresh_bucket_url();
    let dir = tempfile::tempdir().unwrap();
    let listens: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", crate::faults::free_port()))
        .collect();
    let start = |i: usize| {
        Server::start_with(
            &dir.path().join(format!("replica-{i}")),
            &replica_flags(database.url(), &bucket, &listens[i]),
        )
    };
    let mut replicas = vec![start(0), start(1)];
    let nginx = Nginx::start(
        dir.path(),
        &[replicas[0].base.as_str(), replicas[1].base.as_str()],
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let token = replicas[0].sign_in(&http, "+14155550100").await;

    // Uploads whose requests alternate replicas.
    let files: Vec<Vec<u8>> = (0..3).map(|i| video(dir.path(), i, 7 * MIB)).collect();
    let mut upstreams = std::collections::BTreeSet::new();
    let mut paths = Vec::new();
    for file in &files {
        let meta = "kind Y2xpcA==,clip YXV0bw==,start MjAyNi0xMS0yMFQwMDowMDowMFo=";
        let created = tus(http.post(nginx.url("/api/v1/uploads")), &token)
            .header("Upload-Length", file.len())
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let path = created.headers()["location"].to_str().unwrap().to_owned();
        for at in (0..file.len()).step_by(2 * MIB) {
            let end = (at + 2 * MIB).min(file.len());
            let response = tus(http.patch(nginx.url(&path)), &token)
                .header("Upload-Offset", at)
                .header("Content-Type", "application/offset+octet-stream")
                .body(file[at..end].to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 204, "PATCH at {at}");
            upstreams.insert(
                response.headers()["x-upstream"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        paths.push(path);
    }
    assert_eq!(
        upstreams.len(),
        2,
        "the requests went to both replicas: {upstreams:?}"
    );
    for (path, file) in paths.iter().zip(&files) {
        for replica in &replicas {
            let status = json(http.get(replica.url(path)).bearer_auth(&token)).await;
            assert_eq!(status["state"], "complete");
            let original = http
                .get(replica.url(status["original_url"].as_str().unwrap()))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert!(original.bytes().await.unwrap() == file[..], "{path}");
        }
    }
    let clips = json(http.get(nginx.url("/api/v1/clips")).bearer_auth(&token)).await;
    assert_eq!(
        clips["items"].as_array().unwrap().len(),
        files.len(),
        "each once"
    );

    // One upload written on both replicas at once: one wins, the other is refused.
    let file = video(dir.path(), 9, 24 * MIB);
    let meta = "kind Y2xpcA==,clip YXV0bw==,start MjAyNi0xMS0yMFQwMTowMDowMFo=";
    let created = tus(http.post(replicas[0].url("/api/v1/uploads")), &token)
        .header("Upload-Length", file.len())
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap();
    let path = created.headers()["location"].to_str().unwrap().to_owned();
    let send = |replica: &Server| {
        tus(http.patch(replica.url(&path)), &token)
            .header("Upload-Offset", 0)
            .header("Content-Type", "application/offset+octet-stream")
            .body(file[..16 * MIB].to_vec())
            .send()
    };
    let (a, b) = tokio::join!(send(&replicas[0]), send(&replicas[1]));
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [204, 409] || statuses == [204, 423],
        "two writers at once: {statuses:?}"
    );

    // A replica killed mid-upload: the client resumes through nginx on the other.
    let body = file[16 * MIB..].to_vec();
    let in_flight = tokio::spawn(
        tus(http.patch(replicas[1].url(&path)), &token)
            .header("Upload-Offset", 16 * MIB)
            .header("Content-Type", "application/offset+octet-stream")
            .body(body)
            .send(),
    );
    replicas.remove(1).kill();
    let _ = in_flight.await.unwrap();
    let head = tus(http.head(nginx.url(&path)), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let at: usize = head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(at >= 16 * MIB, "acknowledged bytes lost: {at}");
    if at < file.len() {
        let response = tus(http.patch(nginx.url(&path)), &token)
            .header("Upload-Offset", at)
            .header("Content-Type", "application/offset+octet-stream")
            .body(file[at..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let status = json(http.get(nginx.url(&path)).bearer_auth(&token)).await;
    let original = http
        .get(nginx.url(status["original_url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(original.bytes().await.unwrap() == file[..]);

    // Sessions, share links and thumbnails through either replica.
    replicas.push(start(1));
    let clip = status["item"]["id"].as_str().unwrap().to_owned();
    let share = json(
        http.post(replicas[0].url(&format!("/api/v1/clips/{clip}/shares")))
            .bearer_auth(&token)
            .json(&serde_json::json!({})),
    )
    .await;
    let share_url = share["url"].as_str().unwrap();
    for replica in &replicas {
        let me = http
            .get(replica.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let shared = http.get(replica.url(share_url)).send().await.unwrap();
        assert_eq!(shared.status(), 200, "the share link on {}", replica.base);
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let thumbnail = http
                .get(replica.url(&format!("/api/v1/clips/{clip}/thumbnail")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            if thumbnail.status() == 200 {
                assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
                break;
            }
            assert!(
                Instant::now() < until,
                "no thumbnail: {}",
                thumbnail.status()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // One evidence key on both replicas, and one ledger chain of what both filed.
    let keys: Vec<serde_json::Value> = futures_util::future::join_all(
        replicas
            .iter()
            .map(|r| json(http.get(r.url("/api/v1/evidence/key")))),
    )
    .await;
    assert!(keys.windows(2).all(|k| k[0] == k[1]), "{keys:?}");
    let admin = dir.path().join("admin");
    let out = crate::process::succeeds(
        "admin",
        &[
            "verify-store",
            "--database-url",
            database.url(),
            "--blob-url",
            &bucket,
            "--data-dir",
            admin.to_str().unwrap(),
        ],
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("all hold") && !report.starts_with("0 ledger entries"),
        "{report}"
    );
}
