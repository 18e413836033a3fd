//! `dashvault agent run --camera http://…` end to end: `dashvault simulate camera --serve`
//! as a BlackVue or a Viofo/Novatek camera on Wi-Fi (dropping the connection once in the
//! middle of a file), a real `dashvault serve`, and the cloud checked through its API.
//! What the simulated camera served is read from its JSON lines.

use crate::agent::set_network;
use crate::cloud::Cloud;
use crate::process::Spawned;
use crate::process::{base_url, lines, wait_for};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;

/// BlackVue sidecars recorded by a real camera (testdata/media-samples).
const SAMPLES: &str = "../../testdata/media-samples/acolomba__blackvuesync";

/// A `dashvault simulate camera --serve` process, killed when dropped.
pub(crate) struct WifiCamera {
    /// Held so that the camera stops with the test.
    _process: Spawned,
    stdout: Receiver<String>,
    pub(crate) base: String,
    pub(crate) card: PathBuf,
}

impl WifiCamera {
    /// Records a drive of `minutes` from `start` into `card` and serves it as `api`.
    fn start(card: &Path, api: &str, minutes: u32, start: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dashvault"))
            .args(["simulate", "camera", "--out"])
            .arg(card)
            .args(["--minutes", &minutes.to_string(), "--start", start])
            .args(["--serve", "127.0.0.1:0", "--api", api])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map(Spawned::from)
            .expect("dashvault simulate camera --serve starts");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let base = base_url(&wait_for(&stderr, "listening on http://"));
        Self {
            _process: child,
            stdout,
            base,
            card: card.to_owned(),
        }
    }

    /// The requests answered so far (the JSON lines printed; other lines skipped).
    fn served(&self) -> Vec<serde_json::Value> {
        self.stdout
            .try_iter()
            .filter_map(|line| serde_json::from_str(&line).ok())
            .collect()
    }
}

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// A cloud with camera `serial`, phone storage on WiFi, and a simulated camera serving
/// `api` (see [`WifiCamera::start`]), all in `dir`.
pub(crate) async fn setup(
    dir: &Path,
    serial: &str,
    api: &str,
    minutes: u32,
    start: &str,
    extra: &[&str],
) -> (Cloud, PathBuf, WifiCamera) {
    let cloud = Cloud::start(&dir.join("server"), "+14155550177", serial).await;
    let storage = dir.join("phone");
    set_network(&storage, "wifi").await;
    let camera = WifiCamera::start(&dir.join("card"), api, minutes, start, extra);
    (cloud, storage, camera)
}

/// The GETs of `path` that fetched its bytes (probes of its size left out).
fn fetches<'a>(served: &'a [serde_json::Value], path: &str) -> Vec<&'a serde_json::Value> {
    served
        .iter()
        .filter(|s| s["path"] == path && s["range"] != "bytes=0-0")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blackvue_on_wifi_syncs_through_a_dropped_connection_with_its_event_file_as_a_clip() {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, storage, camera) = setup(
        dir.path(),
        "WIFI-1",
        "blackvue",
        4,
        "2026-11-20T08:00:00Z",
        &["--drop-after", "150000", "--marked", "E@1"],
    )
    .await;
    // The last minute's telemetry as a real BlackVue wrote it (in another car: the
    // detector may see the change of car as an incident, away from the event file).
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLES);
    let record = camera.card.join("Record");
    for ext in ["gps", "3gf"] {
        std::fs::copy(
            samples.join(format!("mock.{ext}")),
            record.join(format!("20261120_080300_N.{ext}")),
        )
        .unwrap();
    }
    let printed = cloud.run_once(Path::new(&camera.base), &storage, &[]);
    assert!(printed.contains("imported 4 recordings"), "{printed}");

    // The file cut off mid-way was resumed from its last byte, not fetched again.
    let served = camera.served();
    let first = fetches(&served, "/Record/20261120_080000_NF.mp4");
    let size = std::fs::metadata(record.join("20261120_080000_NF.mp4"))
        .unwrap()
        .len();
    assert_eq!(first.len(), 2, "{first:#?}");
    let dropped = first.iter().find(|s| s["dropped"] == true).expect("a drop");
    let resumed = first.iter().find(|s| s["status"] == 206).expect("a resume");
    let at = dropped["sent"].as_u64().unwrap();
    assert_eq!(resumed["range"], format!("bytes={at}-"), "{first:#?}");
    assert_eq!(resumed["sent"].as_u64().unwrap(), size - at);
    // The real sidecars were fetched by name, as the camera has them.
    for ext in ["gps", "3gf"] {
        let got = fetches(&served, &format!("/Record/20261120_080300_N.{ext}"));
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0]["status"], 200);
    }

    // The drive, with the route of its simulated minutes, and the event file as one
    // automatic clip of its whole minute, with the camera's own event when the detector
    // found none in it.
    let drives = cloud.get_json("/api/v1/drives").await;
    let drives = drives["items"].as_array().unwrap();
    assert_eq!(drives.len(), 1, "{drives:#?}");
    let start: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
    assert_eq!(time(&drives[0]["start"]), start);
    let id = drives[0]["id"].as_str().unwrap();
    let drive = cloud.get_json(&format!("/api/v1/drives/{id}")).await;
    assert!(
        drive["telemetry"]["route"].as_array().unwrap().len() >= 60,
        "{drive:#}"
    );
    let clips = cloud.get_json("/api/v1/clips").await;
    let clips = clips["items"].as_array().unwrap();
    let event = start + Duration::minutes(1);
    let covering: Vec<_> = clips
        .iter()
        .filter(|c| time(&c["start"]) <= event && time(&c["end"]) >= event + Duration::minutes(1))
        .collect();
    assert_eq!(covering.len(), 1, "{clips:#?}");
    let clip = covering[0];
    assert_eq!(clip["kind"], "auto");
    let incidents = clip["incidents"].as_array().unwrap();
    assert!(!incidents.is_empty(), "{clip:#}");
    if time(&clip["start"]) == event && time(&clip["end"]) == event + Duration::minutes(1) {
        assert_eq!(incidents.len(), 1, "{clip:#}");
        assert_eq!(incidents[0]["type"], "camera_event", "{clip:#}");
        assert_eq!(time(&incidents[0]["at"]), event);
    }
    // No other clip overlaps it: overlapping windows were merged into it.
    let overlapping = clips
        .iter()
        .filter(|c| {
            time(&c["start"]) < time(&clip["end"]) && time(&c["end"]) > time(&clip["start"])
        })
        .count();
    assert_eq!(overlapping, 1, "{clips:#?}");

    // A second round fetches nothing again.
    let printed = cloud.run_once(Path::new(&camera.base), &storage, &[]);
    assert!(printed.contains("imported 0 recordings"), "{printed}");
    let again = camera.served();
    assert!(
        again.iter().all(|s| s["sent"].as_u64().unwrap() < 1000),
        "{again:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_novatek_camera_on_wifi_is_found_and_its_locked_file_kept_as_a_clip() {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, storage, camera) = setup(
        dir.path(),
        "WIFI-2",
        "novatek",
        2,
        "2026-11-20T09:00:00Z",
        &["--drop-after", "100000", "--marked", "E@0"],
    )
    .await;
    let printed = cloud.run_once(Path::new(&camera.base), &storage, &[]);
    assert!(printed.contains("imported 2 recordings"), "{printed}");
    let served = camera.served();
    let locked = fetches(&served, "/DCIM/Movie/RO/2026_1120_090000_0001F.MP4");
    assert_eq!(locked.len(), 2, "dropped once, resumed: {locked:#?}");
    assert!(locked.iter().any(|s| s["status"] == 206), "{locked:#?}");

    let clips = cloud.get_json("/api/v1/clips").await;
    let clips = clips["items"].as_array().unwrap();
    assert_eq!(clips.len(), 1, "{clips:#?}");
    assert_eq!(clips[0]["kind"], "auto");
    assert_eq!(
        time(&clips[0]["start"]),
        "2026-11-20T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(clips[0]["incidents"][0]["type"], "camera_event");
    let listed = cloud.get_json("/api/v1/clips?type=camera_event").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed:#}");
    let drives = cloud.get_json("/api/v1/drives").await;
    assert_eq!(drives["items"].as_array().unwrap().len(), 1, "{drives:#}");

    // Status names the camera on Wi-Fi (it does not ask it).
    let storage_text = storage.to_string_lossy();
    let out = crate::process::succeeds("agent", &["status", "--json", "--storage", &storage_text]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status["wifi_camera"],
        format!("{}/", camera.base),
        "{status:#}"
    );
    assert!(status["camera"].is_null(), "{status:#}");
    let out = crate::process::succeeds("agent", &["status", "--storage", &storage_text]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{}/ on Wi-Fi", camera.base)),
        "{text}"
    );

    // A cabin-view clip needs the card's folder: said so, rather than a file not found.
    let out = crate::process::dashvault(
        "agent",
        &[
            "clip",
            "--view",
            "cabin",
            "--from",
            "5",
            "--to",
            "15",
            "--storage",
            &storage_text,
        ],
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("give the card's folder with --camera DIR"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blackvuesync_syncs_from_the_simulated_blackvue() {
    let tool = std::env::var("DASHVAULT_BLACKVUESYNC")
        .expect("DASHVAULT_BLACKVUESYNC is not set: run the tests with ./scripts/test");
    let dir = tempfile::tempdir().unwrap();
    let camera = WifiCamera::start(
        &dir.path().join("card"),
        "blackvue",
        2,
        "2026-11-20T10:00:00Z",
        &["--marked", "M@1"],
    );
    let dest = dir.path().join("synced");
    std::fs::create_dir_all(&dest).unwrap();
    let out = Command::new("python3")
        .arg(format!("{tool}/bin/blackvuesync"))
        .env("PYTHONPATH", &tool)
        .arg(camera.base.trim_start_matches("http://"))
        .arg("--destination")
        .arg(&dest)
        .output()
        .expect("python3 runs blackvuesync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = camera.card.join("Record");
    for name in [
        "20261120_100000_NF.mp4",
        "20261120_100000_N.gps",
        "20261120_100000_N.3gf",
        "20261120_100100_MF.mp4",
        "20261120_100100_M.gps",
        "20261120_100100_M.3gf",
    ] {
        assert_eq!(
            std::fs::read(dest.join(name)).unwrap(),
            std::fs::read(record.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watching_agent_takes_a_wifi_camera_s_files_once_they_stop_growing() {
    let dir = tempfile::tempdir().unwrap();
    // A drive that ended 5 minutes ago, its second minute an event file with a sudden
    // stop in it.
    let start = (Utc::now() - Duration::minutes(8)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (cloud, storage, camera) = setup(
        dir.path(),
        "WIFI-3",
        "blackvue",
        3,
        &start,
        &["--marked", "E@1", "--incidents", "sudden_stop@80"],
    )
    .await;
    let mut agent = Spawned::from(
        Command::new(env!("CARGO_BIN_EXE_dashvault"))
            .args(["agent", "run", "--interval", "300ms", "--server"])
            .args([&cloud.server.base, "--token", &cloud.device_token])
            .args(["--camera", &camera.base, "--storage"])
            .arg(&storage)
            .env("RUST_LOG", "info,dashvault_agent::agent=debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = lines(agent.stderr.take().unwrap());
    // Seen once, nothing is known to be finished: the first round takes nothing.
    let first = wait_for(&stderr, "agent round done");
    assert!(
        first.contains("imported=0") && first.contains("not_ready=3"),
        "{first}"
    );
    // Once their sizes have held for a few seconds the files come, the event file
    // becomes one clip with the stop in it, and it goes up.
    let line = wait_for(&stderr, "clip of a file the camera marked");
    assert!(line.contains("kind=auto"), "{line}");
    loop {
        let line = wait_for(&stderr, "agent round done");
        if !line.contains("uploaded=0") {
            break;
        }
    }
    let clips = cloud.get_json("/api/v1/clips").await;
    let clips = clips["items"].as_array().unwrap();
    assert_eq!(clips.len(), 1, "{clips:#?}");
    assert_eq!(
        clips[0]["incidents"][0]["type"], "sudden_stop",
        "{clips:#?}"
    );
    let event: DateTime<Utc> = time(&serde_json::json!(start)) + Duration::minutes(1);
    assert!(time(&clips[0]["start"]) <= event, "{clips:#?}");
    assert!(
        time(&clips[0]["end"]) >= event + Duration::minutes(1),
        "{clips:#?}"
    );

    let pid = agent.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(agent.wait().unwrap().success());
}
