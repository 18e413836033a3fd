//! The agent's uploads against a real `dashvault serve`: the upload policy by network,
//! an agent killed (SIGKILL) mid-upload resuming without resending acknowledged bytes,
//! and deletion sync both ways with a fresh install listing the cloud again.
//!
//! The agent side runs through the `dashvault_agent` library; the killed agent is this
//! test binary run again as a child process ([`agent_child`]) so that SIGKILL hits a real
//! process in the middle of its upload.

use crate::cloud::Cloud;
use crate::uploads::video;
use chrono::{DateTime, Utc};
use dashvault_agent::cloud::Client;
use dashvault_agent::state::State;
use dashvault_agent::sync::{self, LocalFiles};
use dashvault_agent::upload::{
    sha256_file, ClipKind, Incident, Kind, NewUpload, Policy, Priority, Queue, Retry, Status,
    Until, Uploader, View,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MIB: usize = 1024 * 1024;

/// Environment of the child agent process: storage directory, server URL, device token.
const CHILD_STORAGE: &str = "DASHVAULT_TEST_AGENT_STORAGE";
const CHILD_SERVER: &str = "DASHVAULT_TEST_AGENT_SERVER";
const CHILD_TOKEN: &str = "DASHVAULT_TEST_AGENT_TOKEN";
/// Chunk size of the child agent: small, so that a large file takes many `PATCH`es.
const CHILD_CHUNK: u64 = MIB as u64;

impl Cloud {
    fn client(&self) -> Client {
        Client::new(self.server.base.parse().unwrap(), &self.device_token).unwrap()
    }

    /// The user's clips in the cloud (one page is plenty here).
    async fn clips(&self) -> Vec<serde_json::Value> {
        let body: serde_json::Value = self
            .get("/api/v1/clips?limit=200")
            .await
            .json()
            .await
            .unwrap();
        body["items"].as_array().unwrap().clone()
    }

    /// The user's drives in the cloud.
    async fn drives(&self) -> Vec<serde_json::Value> {
        let body: serde_json::Value = self
            .get("/api/v1/drives?limit=200")
            .await
            .json()
            .await
            .unwrap();
        body["items"].as_array().unwrap().clone()
    }

    /// Bytes the server has read from tus bodies, from its metrics.
    async fn received(&self) -> u64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("dashvault_tus_received_bytes_total "))
            .expect("the tus_received_bytes metric")
            .trim()
            .parse()
            .unwrap()
    }
}

/// A playable MP4 in `dir` and its queue entry: unique by `seed` when `padding` (bytes
/// of a trailing box filled after the seed) is not zero.
async fn file(
    dir: &Path,
    seed: u8,
    padding: usize,
    kind: Kind,
    priority: Priority,
    minute: i64,
) -> NewUpload {
    let path = dir.join(format!("file-{seed}.mp4"));
    std::fs::write(&path, video(dir, seed, padding)).unwrap();
    let (sha256, size) = sha256_file(&path).await.unwrap();
    let start: DateTime<Utc> = "2026-11-20T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        + chrono::Duration::minutes(minute);
    let clip = match priority {
        Priority::AutoClip => Some(ClipKind::Auto),
        Priority::ManualClip => Some(ClipKind::Manual),
        _ => None,
    };
    NewUpload {
        filename: path.file_name().unwrap().to_string_lossy().into_owned(),
        clock: dashvault_agent::upload::Clock::Camera,
        original_size: None,
        path,
        kind,
        priority,
        start,
        end: start + chrono::Duration::seconds(2),
        view: View::Road,
        clip,
        incidents: if clip == Some(ClipKind::Auto) {
            vec![Incident {
                kind: "hard_brake".into(),
                at: start + chrono::Duration::seconds(1),
                severity: 0.7,
            }]
        } else {
            Vec::new()
        },
        sha256,
        size,
    }
}

async fn upload_now(queue: &Queue, cloud: &Cloud) -> dashvault_agent::upload::Report {
    let policy = Policy::load(queue.state()).await.unwrap();
    Uploader::new()
        .run(queue, &cloud.client(), &policy, Until::Idle)
        .await
        .unwrap()
}

fn shas(clips: &[serde_json::Value]) -> Vec<String> {
    let mut shas: Vec<String> = clips
        .iter()
        .map(|c| c["sha256"].as_str().unwrap().to_owned())
        .collect();
    shas.sort();
    shas
}

#[tokio::test(flavor = "multi_thread")]
async fn timelapse_waits_for_wifi_and_manual_clip_for_cellular_permission_and_budget() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550123", "AGENT-1").await;
    let storage = dir.path().join("agent");
    let queue = Queue::new(State::open(&storage).await.unwrap());
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let auto = file(&files, 1, 1024, Kind::Clip, Priority::AutoClip, 0).await;
    let manual = file(&files, 2, 1024, Kind::Clip, Priority::ManualClip, 5).await;
    let timelapse = file(&files, 3, 1024, Kind::Timelapse, Priority::Drive, 10).await;
    let ids = [
        queue.enqueue(&timelapse).await.unwrap(),
        queue.enqueue(&manual).await.unwrap(),
        queue.enqueue(&auto).await.unwrap(),
    ];
    let status = |id| {
        let queue = queue.clone();
        async move { queue.get(id).await.unwrap().unwrap().status }
    };

    let shown = agent(
        "network",
        &storage,
        &["cellular", "--cellular-budget", "off"],
    );
    assert!(
        shown.contains("network             cellular (set by hand"),
        "{shown}"
    );
    assert!(shown.contains("manual on cellular  no"), "{shown}");
    let report = upload_now(&queue, &cloud).await;
    assert_eq!((report.uploaded, report.held_back), (1, 2), "{report:?}");
    assert_eq!(
        shas(&cloud.clips().await),
        std::slice::from_ref(&auto.sha256)
    );
    assert_eq!(
        cloud.received().await,
        auto.size,
        "nothing but the automatic clip went"
    );

    // The automatic clip spent the month's budget: the manual clip still waits.
    let budget = auto.size.to_string();
    let shown = agent(
        "network",
        &storage,
        &["--manual-on-cellular", "yes", "--cellular-budget", &budget],
    );
    assert!(shown.contains("manual on cellular  yes"), "{shown}");
    assert!(
        shown.contains(&format!("{budget} bytes a month, {budget} spent")),
        "{shown}"
    );
    let report = upload_now(&queue, &cloud).await;
    assert_eq!((report.uploaded, report.held_back), (0, 2), "{report:?}");

    agent("network", &storage, &["--cellular-budget", "off"]);
    let report = upload_now(&queue, &cloud).await;
    assert_eq!((report.uploaded, report.held_back), (1, 1), "{report:?}");
    let mut both = vec![auto.sha256.clone(), manual.sha256.clone()];
    both.sort();
    assert_eq!(shas(&cloud.clips().await), both);
    assert_eq!(
        status(ids[0]).await,
        Status::Queued,
        "the time-lapse waits for WiFi"
    );
    assert_eq!(cloud.received().await, auto.size + manual.size);

    agent("network", &storage, &["wifi"]);
    let report = upload_now(&queue, &cloud).await;
    assert_eq!((report.uploaded, report.held_back), (1, 0), "{report:?}");
    assert_eq!(report.bytes_sent, timelapse.size);
    assert_eq!(status(ids[0]).await, Status::Done);
    assert!(
        !cloud.drives().await.is_empty(),
        "the time-lapse's drive is listed"
    );
    assert_eq!(
        cloud.received().await,
        auto.size + manual.size + timelapse.size
    );
}

/// A simulated 2-minute drive with a hard brake at 60 s in the camera folder `camera`.
fn simulate_drive(camera: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args([
            "simulate",
            "camera",
            "--minutes",
            "2",
            "--incidents",
            "hard_brake@60",
        ])
        .args(["--start", "2026-11-20T08:00:00Z", "--out"])
        .arg(camera)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// `dashvault agent SUBCOMMAND ARGS --storage STORAGE`, which must succeed; what it prints.
fn agent(subcommand: &str, storage: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["agent", subcommand])
        .args(args)
        .arg("--storage")
        .arg(storage)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "agent {subcommand} {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The child agent process of [`killed_agent_resumes_without_resending`]: uploads its
/// storage's queue with 1 MiB chunks. Ignored in a normal run: only that test starts it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "the agent child process of killed_agent_resumes_without_resending"]
async fn agent_child() {
    let storage = std::env::var(CHILD_STORAGE).expect("run as the child of the SIGKILL test");
    let server = std::env::var(CHILD_SERVER).unwrap().parse().unwrap();
    let client = Client::new(server, std::env::var(CHILD_TOKEN).unwrap()).unwrap();
    let state = State::open(Path::new(&storage)).await.unwrap();
    let policy = Policy::load(&state).await.unwrap();
    let report = Uploader::new()
        .with_chunk_size(CHILD_CHUNK)
        .run(&Queue::new(state), &client, &policy, Until::Idle)
        .await
        .unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
}

fn spawn_child(storage: &Path, cloud: &Cloud) -> crate::process::Spawned {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "agent_upload::agent_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_STORAGE, storage)
        .env(CHILD_SERVER, &cloud.server.base)
        .env(CHILD_TOKEN, &cloud.device_token)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map(crate::process::Spawned::from)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_agent_resumes_without_resending() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550123", "AGENT-1").await;
    let storage = dir.path().join("agent");
    let state = State::open(&storage).await.unwrap();
    let queue = Queue::new(state.clone());
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let big = file(&files, 7, 40 * MIB, Kind::Clip, Priority::AutoClip, 0).await;
    let id = queue.enqueue(&big).await.unwrap();

    let mut child = spawn_child(&storage, &cloud);
    // Kill it once a few chunks were sent and well before the end.
    let kill_at = 5 * MIB as u64;
    loop {
        let received = cloud.received().await;
        assert!(
            received < big.size,
            "the upload ended before the agent was killed"
        );
        if received >= kill_at {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the agent ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Let the server finish reading what was on its way, then ask what it holds.
    let mut before = cloud.received().await;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = cloud.received().await;
        if now == before {
            break;
        }
        before = now;
    }
    let row = queue.get(id).await.unwrap().unwrap();
    assert_eq!(row.status, Status::Queued);
    let url = row.tus_url.expect("the upload URL was recorded");
    let held = cloud.client().tus_offset(&url).await.unwrap().unwrap();
    assert!(
        held >= CHILD_CHUNK && held < big.size,
        "acknowledged {held} of {}",
        big.size
    );

    let status = spawn_child(&storage, &cloud).wait().unwrap();
    assert!(status.success());
    let resent = cloud.received().await - before;
    eprintln!(
        "size {}, received before the kill {before}, held {held}, sent after the restart {resent}",
        big.size
    );
    assert!(
        resent <= big.size - held,
        "the restarted agent sent {resent} bytes, the server held {held} of {}",
        big.size
    );
    assert_eq!(queue.get(id).await.unwrap().unwrap().status, Status::Done);
    assert_eq!(shas(&cloud.clips().await), [big.sha256]);
}

/// The local copies a test's agent has, by SHA-256.
struct Files(Mutex<HashMap<String, PathBuf>>);

impl LocalFiles for Files {
    async fn remove(&self, sha256: &str) -> std::io::Result<usize> {
        let path = self.0.lock().unwrap().remove(sha256);
        match path {
            Some(path) => std::fs::remove_file(path).map(|()| 1),
            None => Ok(0),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deletions_sync_both_ways_and_a_fresh_install_lists_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550123", "AGENT-1").await;
    let state = State::open(&dir.path().join("agent")).await.unwrap();
    let queue = Queue::new(state.clone());
    let dir_files = dir.path().join("files");
    std::fs::create_dir_all(&dir_files).unwrap();
    let mut clips = Vec::new();
    for seed in 1..=4 {
        let clip = file(
            &dir_files,
            seed,
            1024,
            Kind::Clip,
            Priority::AutoClip,
            seed.into(),
        )
        .await;
        queue.enqueue(&clip).await.unwrap();
        clips.push(clip);
    }
    assert_eq!(upload_now(&queue, &cloud).await.uploaded, 4);
    let local = Files(Mutex::new(
        clips
            .iter()
            .map(|c| (c.sha256.clone(), c.path.clone()))
            .collect(),
    ));
    let client = cloud.client();
    let first = sync::sync_deletions(&state, &client, &local).await.unwrap();
    assert_eq!(first.listed, 4, "{first:?}");

    // Deleted here → deleted in the cloud.
    let [deleted_here, deleted_in_cloud, looped, kept] = &clips[..] else {
        unreachable!()
    };
    sync::delete_everywhere(&state, &deleted_here.sha256)
        .await
        .unwrap();
    local.remove(&deleted_here.sha256).await.unwrap();
    // Deleted by the loop → local only.
    local.remove(&looped.sha256).await.unwrap();
    // Deleted here while its upload was under way → the server drops its bytes.
    let started = file(&dir_files, 5, 1024, Kind::Clip, Priority::AutoClip, 5).await;
    let started_id = queue.enqueue(&started).await.unwrap();
    let metadata = [
        ("kind", "clip".to_owned()),
        ("start", started.start.to_rfc3339()),
    ];
    let url = client.tus_create(started.size, &metadata).await.unwrap();
    queue.set_tus_url(started_id, Some(&url)).await.unwrap();
    sync::delete_everywhere(&state, &started.sha256)
        .await
        .unwrap();
    // Deleted in the cloud → removed here.
    let id = cloud
        .clips()
        .await
        .iter()
        .find(|c| c["sha256"] == deleted_in_cloud.sha256.as_str())
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .unwrap();
    let response = cloud
        .http
        .delete(cloud.server.url(&format!("/api/v1/clips/{id}")))
        .bearer_auth(&cloud.session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let report = sync::sync_deletions(&state, &client, &local).await.unwrap();
    assert_eq!(report.deleted_in_cloud, 1, "{report:?}");
    assert_eq!(report.removed_locally, 1, "{report:?}");
    assert_eq!(report.terminated, 1, "{report:?}");
    assert_eq!(client.tus_offset(&url).await.unwrap(), None);
    assert_eq!(
        queue.get(started_id).await.unwrap().unwrap().status,
        Status::Cancelled
    );
    assert!(!deleted_in_cloud.path.exists());
    assert!(kept.path.exists());
    let mut left = vec![looped.sha256.clone(), kept.sha256.clone()];
    left.sort();
    assert_eq!(shas(&cloud.clips().await), left);
    let again = sync::sync_deletions(&state, &client, &local).await.unwrap();
    assert_eq!(
        again,
        sync::SyncReport::default(),
        "a second sync has nothing to do"
    );

    // A fresh install lists what is in the cloud.
    let fresh = State::open(&dir.path().join("fresh")).await.unwrap();
    let empty = Files(Mutex::new(HashMap::new()));
    let report = sync::sync_deletions(&fresh, &client, &empty).await.unwrap();
    assert_eq!(report.listed, 2, "{report:?}");
    let mut listed: Vec<String> = sync::cloud_clips(&fresh)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, sha)| sha)
        .collect();
    listed.sort();
    assert_eq!(listed, left);
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_run_follows_the_network_and_syncs_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550123", "AGENT-1").await;
    let (camera, storage) = (dir.path().join("camera"), dir.path().join("agent"));
    simulate_drive(&camera);
    let run_once = || cloud.run_once(&camera, &storage, &[]);

    agent("network", &storage, &["cellular"]);
    run_once();
    let clips = cloud.clips().await;
    assert_eq!(clips.len(), 1, "the automatic clip goes over cellular");
    assert_eq!(clips[0]["kind"], "auto");
    assert!(
        cloud.drives().await.is_empty(),
        "no time-lapse over cellular"
    );

    let made = agent("clip", &storage, &["--from", "10", "--to", "20"]);
    let manual = made.split_whitespace().nth(1).unwrap().to_owned();
    run_once();
    assert_eq!(cloud.clips().await.len(), 1, "the manual clip waits");
    agent("network", &storage, &["--manual-on-cellular", "yes"]);
    run_once();
    assert_eq!(
        cloud.clips().await.len(),
        2,
        "the manual clip went over cellular"
    );
    assert!(cloud.drives().await.is_empty());
    agent("network", &storage, &["wifi"]);
    run_once();
    assert_eq!(
        cloud.drives().await.len(),
        1,
        "the time-lapse went over WiFi"
    );

    // Deleted on the phone → deleted in the cloud at the next run.
    agent("delete", &storage, &[&manual]);
    run_once();
    let left = cloud.clips().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["kind"], "auto");

    // Deleted in the cloud → removed from the phone at the next run.
    let phone_clips = |status: &str| -> u64 {
        let status: serde_json::Value = serde_json::from_str(status).unwrap();
        status["phone"]["clips"].as_u64().unwrap()
    };
    assert_eq!(phone_clips(&agent("status", &storage, &["--json"])), 1);
    let id = left[0]["id"].as_str().unwrap();
    let response = cloud
        .http
        .delete(cloud.server.url(&format!("/api/v1/clips/{id}")))
        .bearer_auth(&cloud.session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    run_once();
    assert_eq!(phone_clips(&agent("status", &storage, &["--json"])), 0);
    assert!(cloud.clips().await.is_empty(), "nothing uploaded again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_camera_that_does_not_upload_drives_sends_no_timelapse_even_on_wifi() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550123", "AGENT-1").await;
    let (camera, storage) = (dir.path().join("camera"), dir.path().join("agent"));
    simulate_drive(&camera);
    agent("network", &storage, &["wifi"]);
    cloud.run_once(&camera, &storage, &["--no-drive-uploads"]);
    assert_eq!(cloud.clips().await.len(), 1);
    assert!(cloud.drives().await.is_empty());
    let status: serde_json::Value =
        serde_json::from_str(&agent("status", &storage, &["--json"])).unwrap();
    assert_eq!(
        status["queue"]["queued"], 1,
        "the time-lapse is held back: {status}"
    );
}

/// A TCP proxy to the server at `base` (`http://host:port`) that cuts its first
/// connection once `cut_after` bytes went from the client to the server (a connection
/// dropped mid-upload); later connections pass untouched. Its base URL.
async fn flaky_proxy(base: &str, cut_after: u64) -> String {
    let target = base.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut limit = Some(cut_after);
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let server = TcpStream::connect(&target).await.unwrap();
            tokio::spawn(pipe(client, server, limit.take()));
        }
    });
    format!("http://{address}")
}

/// Forward both ways until either side closes, or drop both once more than `limit`
/// bytes would go to the server.
async fn pipe(mut client: TcpStream, mut server: TcpStream, limit: Option<u64>) {
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let up = async {
        let mut sent = 0u64;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = client_read.read(&mut buffer).await?;
            if read == 0 {
                return server_write.shutdown().await;
            }
            if limit.is_some_and(|limit| sent + read as u64 > limit) {
                return Err(std::io::Error::other("connection cut"));
            }
            server_write.write_all(&buffer[..read]).await?;
            sent += read as u64;
        }
    };
    let down = async {
        tokio::io::copy(&mut server_read, &mut client_write)
            .await
            .map(drop)
    };
    let _ = tokio::try_join!(up, down);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_resumes_from_the_server_offset() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550123", "AGENT-1").await;
    let queue = Queue::new(State::open(&dir.path().join("agent")).await.unwrap());
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let clip = file(&files, 9, 12 * MIB, Kind::Clip, Priority::AutoClip, 0).await;
    queue.enqueue(&clip).await.unwrap();
    let chunk = MIB as u64;
    // Cut in the middle of the sixth chunk.
    let proxy = flaky_proxy(&cloud.server.base, 5 * chunk + chunk / 2).await;
    let client = Client::new(proxy.parse().unwrap(), &cloud.device_token).unwrap();
    let retry = Retry {
        base: Duration::from_millis(20),
        max: Duration::from_millis(200),
        attempts: 10,
    };
    let report = Uploader::new()
        .with_chunk_size(chunk)
        .with_retry(retry)
        .run(
            &queue,
            &client,
            &Policy::load(queue.state()).await.unwrap(),
            Until::Idle,
        )
        .await
        .unwrap();
    assert_eq!((report.uploaded, report.failed), (1, 0), "{report:?}");
    assert_eq!(report.bytes_sent, clip.size);
    let received = cloud.received().await;
    eprintln!("size {}, the server read {received}", clip.size);
    assert!(
        received > clip.size && received < clip.size + chunk,
        "the server read {received} bytes for a file of {}: only the cut chunk's part again",
        clip.size
    );
    assert_eq!(shas(&cloud.clips().await), [clip.sha256]);
}
