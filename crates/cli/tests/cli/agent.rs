//! `dashvault agent` end to end: a real `dashvault serve`, a camera folder written by
//! `dashvault simulate camera`, and `dashvault agent run --once` in between. The cloud is
//! checked through the JSON API; the phone through `agent status --json` and its files.

use crate::cloud::Cloud;
use chrono::{DateTime, Duration, Utc};
use dashvault_agent::state::State;
use dashvault_agent::upload::policy::NETWORK_SETTING;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `dashvault ARGS`, which must succeed.
pub(crate) fn dashvault(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run dashvault");
    assert!(
        out.status.success(),
        "dashvault {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A simulated drive into `camera`; returns its ground truth (`simulation.json`).
pub(crate) fn simulate(
    camera: &Path,
    minutes: u32,
    start: &str,
    incidents: &str,
    extra: &[&str],
) -> serde_json::Value {
    let minutes = minutes.to_string();
    let camera_text = camera.to_string_lossy();
    let mut args = vec![
        "simulate",
        "camera",
        "--out",
        &camera_text,
        "--minutes",
        &minutes,
        "--start",
        start,
    ];
    if !incidents.is_empty() {
        args.extend(["--incidents", incidents]);
    }
    args.extend(extra);
    dashvault(&args);
    serde_json::from_slice(&std::fs::read(camera.join("simulation.json")).unwrap()).unwrap()
}

/// Sets the network the agent in `storage` takes itself to be on.
pub(crate) async fn set_network(storage: &Path, network: &str) {
    State::open(storage)
        .await
        .unwrap()
        .set_setting(NETWORK_SETTING, network)
        .await
        .unwrap();
}

pub(crate) fn status(storage: &Path) -> serde_json::Value {
    let out = dashvault(&[
        "agent",
        "status",
        "--json",
        "--storage",
        &storage.to_string_lossy(),
    ]);
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).abs() <= Duration::seconds(2)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ten_minute_drive_with_three_incidents_gives_three_clips_in_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    let (camera, storage) = (dir.path().join("camera"), dir.path().join("phone"));
    let truth = simulate(
        &camera,
        10,
        "2026-11-20T08:15:02Z",
        "hard_brake@130,sharp_turn@340,collision@500",
        &[],
    );
    set_network(&storage, "wifi").await;
    let printed = cloud.run_once(&camera, &storage, &[]);
    assert!(printed.contains("cut 3 clips"), "{printed}");

    let clips = cloud.get_json("/api/v1/clips?limit=200").await["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(clips.len(), 3, "{clips:#?}");
    let mut clips: Vec<_> = clips
        .iter()
        .map(|c| (time(&c["start"]), c.clone()))
        .collect();
    clips.sort_by_key(|(start, _)| *start);
    for ((start, clip), expected) in clips.iter().zip(truth["incidents"].as_array().unwrap()) {
        let at = time(&expected["at"]);
        assert_eq!(clip["kind"], "auto");
        let incidents = clip["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), 1, "{clip:#?}");
        assert_eq!(incidents[0]["type"], expected["type"], "{clip:#?}");
        assert!(
            close(time(&incidents[0]["at"]), at),
            "{clip:#?} vs {expected}"
        );
        // 25 s before the incident to 15 s after (dashvault_detect::clip_windows),
        // starting on the keyframe at or before.
        assert!(
            close(*start, at - Duration::seconds(25)),
            "{clip:#?} vs {expected}"
        );
        let duration_ms = clip["duration_ms"].as_i64().unwrap();
        assert!((38_000..=42_000).contains(&duration_ms), "{clip:#?}");
    }

    // The drive went up (WiFi) as its time-lapse, spanning the whole drive, its clips in it.
    let drives = cloud.get_json("/api/v1/drives").await;
    let drives = drives["items"].as_array().unwrap();
    assert_eq!(drives.len(), 1, "{drives:#?}");
    let start = time(&truth["start"]);
    assert!(close(time(&drives[0]["start"]), start), "{drives:#?}");
    assert!(
        close(time(&drives[0]["end"]), start + Duration::minutes(10)),
        "{drives:#?}"
    );
    assert_eq!(
        drives[0]["clips"].as_array().unwrap().len(),
        3,
        "{drives:#?}"
    );

    // A second round finds nothing new and uploads nothing again.
    let printed = cloud.run_once(&camera, &storage, &[]);
    assert!(
        printed.contains("imported 0 recordings, cut 0 clips, uploaded 0"),
        "{printed}"
    );
    let status = status(&storage);
    assert_eq!(status["queue"]["queued"], 0, "{status:#}");
    assert_eq!(status["phone"]["clips_not_in_cloud"], 0, "{status:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_phone_deletes_the_oldest_drive_but_keeps_a_clip_not_yet_in_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    let (camera, storage) = (dir.path().join("camera"), dir.path().join("phone"));
    simulate(&camera, 3, "2026-11-20T08:00:00Z", "hard_brake@60", &[]);
    set_network(&storage, "offline").await;
    cloud.run_once(&camera, &storage, &[]);
    let first = status(&storage);
    assert_eq!(first["phone"]["clips_not_in_cloud"], 1, "{first:#}");
    let used = first["phone"]["used_bytes"].as_u64().unwrap();
    let old_recordings: Vec<_> = walk(&storage.join("phone/recordings"));
    assert_eq!(old_recordings.len(), 3);

    // A second drive, an hour later, the same size: with the quota at what the phone
    // holds now, it fits only if the first drive goes.
    simulate(&camera, 3, "2026-11-20T09:00:00Z", "", &[]);
    cloud.run_once(&camera, &storage, &["--quota", &used.to_string()]);
    let second = status(&storage);
    let drives = second["drives"].as_array().unwrap();
    assert_eq!(drives.len(), 2, "{second:#}");
    assert_eq!(
        drives[0]["recordings_on_phone"], 0,
        "the oldest drive left the phone"
    );
    assert_eq!(
        drives[1]["recordings_on_phone"], 3,
        "the new drive is on the phone"
    );
    assert!(old_recordings.iter().all(|p| !p.exists()));
    assert_eq!(second["phone"]["clips"], 1, "{second:#}");
    assert_eq!(second["phone"]["clips_not_in_cloud"], 1, "{second:#}");
    let clips = walk(&storage.join("phone/clips"));
    assert_eq!(clips.len(), 1, "the clip not yet in the cloud is kept");
    assert!(second["phone"]["used_bytes"].as_u64().unwrap() <= used + drives_timelapse(&storage));

    // Back online, the kept clip goes up.
    set_network(&storage, "wifi").await;
    cloud.run_once(&camera, &storage, &["--quota", &used.to_string()]);
    let clips = cloud.get_json("/api/v1/clips").await;
    assert_eq!(clips["items"].as_array().unwrap().len(), 1, "{clips:#}");
    assert_eq!(status(&storage)["phone"]["clips_not_in_cloud"], 0);
}

/// Bytes of the time-lapses on the phone (made after the import, outside its quota check).
fn drives_timelapse(storage: &Path) -> u64 {
    walk(&storage.join("phone/timelapses"))
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blackvue_card_imports_with_its_telemetry_and_the_cloud_shows_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    // The card as a BlackVue mounts it: BlackVue/Record/ with road and cabin recordings
    // and the .gps / .3gf sidecars of each minute.
    let card = dir.path().join("sdcard");
    let storage = dir.path().join("phone");
    simulate(
        &card.join("BlackVue"),
        2,
        "2026-11-20T10:00:00Z",
        "",
        &["--cabin"],
    );
    let record = card.join("BlackVue/Record");
    let names: Vec<String> = walk(&record)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in [
        "20261120_100000_NF.mp4",
        "20261120_100000_NI.mp4",
        "20261120_100000_N.gps",
        "20261120_100000_N.3gf",
    ] {
        assert!(names.contains(&name.to_owned()), "{names:?}");
    }
    set_network(&storage, "wifi").await;
    cloud.run_once(&card, &storage, &[]);

    let status = status(&storage);
    assert_eq!(status["camera"]["road"], 2, "{status:#}");
    assert_eq!(status["camera"]["cabin"], 2, "{status:#}");
    assert_eq!(status["camera"]["sidecars"], 4, "{status:#}");
    assert_eq!(
        walk(&storage.join("phone/recordings")).len(),
        2,
        "cabin view stays on the camera"
    );
    assert_eq!(walk(&storage.join("phone/sidecars")).len(), 4);

    let drives = cloud.get_json("/api/v1/drives").await;
    let drives = drives["items"].as_array().unwrap();
    assert_eq!(drives.len(), 1, "{drives:#?}");
    assert!(close(
        time(&drives[0]["start"]),
        "2026-11-20T10:00:00Z".parse().unwrap()
    ));
    let id = drives[0]["id"].as_str().unwrap();
    let drive = cloud.get_json(&format!("/api/v1/drives/{id}")).await;
    assert!(
        close(time(&drive["end"]), "2026-11-20T10:02:00Z".parse().unwrap()),
        "{drive:#}"
    );
    // The whole drive's route: downsampled to about a point a second or two.
    let route = drive["telemetry"]["route"].as_array().unwrap();
    assert!(route.len() >= 60, "{drive:#}");
    let speed = drive["telemetry"]["speed"].as_array().unwrap();
    assert!(!speed.is_empty(), "{drive:#}");
}

/// Every file under `dir`, recursively (none when it does not exist).
pub(crate) fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_clips_of_the_road_and_the_cabin_go_up_on_wifi() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    let (camera, storage) = (dir.path().join("camera"), dir.path().join("phone"));
    simulate(&camera, 2, "2026-11-20T11:00:00Z", "", &["--cabin"]);
    set_network(&storage, "offline").await;
    cloud.run_once(&camera, &storage, &[]);
    let storage_text = storage.to_string_lossy();
    // Road from the phone's copy, across the two recordings, in RFC 3339; cabin from the
    // camera's files, in seconds from the drive's start.
    dashvault(&[
        "agent",
        "clip",
        "--storage",
        &storage_text,
        "--from",
        "2026-11-20T11:00:50Z",
        "--to",
        "2026-11-20T11:01:20Z",
    ]);
    dashvault(&[
        "agent",
        "clip",
        "--storage",
        &storage_text,
        "--view",
        "cabin",
        "--from",
        "10",
        "--to",
        "25",
    ]);
    let clips = walk(&storage.join("phone/clips"));
    assert_eq!(clips.len(), 2);
    for clip in &clips {
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(clip)
            .output()
            .expect("ffprobe is needed (apt-get install ffmpeg)");
        assert!(probe.status.success(), "ffprobe refuses {}", clip.display());
    }
    // Offline: the two clips wait, with the drive's time-lapse and its four sidecars.
    assert_eq!(status(&storage)["queue"]["queued"], 7);

    set_network(&storage, "wifi").await;
    cloud.run_once(&camera, &storage, &[]);
    let items = cloud.get_json("/api/v1/clips").await["items"]
        .as_array()
        .unwrap()
        .clone();
    let mut got: Vec<(String, String, DateTime<Utc>)> = items
        .iter()
        .map(|c| {
            let kind = c["kind"].as_str().unwrap().to_owned();
            (
                kind,
                c["view"].as_str().unwrap().to_owned(),
                time(&c["start"]),
            )
        })
        .collect();
    got.sort_by_key(|(_, view, _)| view.clone());
    assert_eq!(got.len(), 2, "{items:#?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("manual", "cabin"));
    assert!(
        close(got[0].2, "2026-11-20T11:00:10Z".parse().unwrap()),
        "{items:#?}"
    );
    assert_eq!((got[1].0.as_str(), got[1].1.as_str()), ("manual", "road"));
    assert!(
        close(got[1].2, "2026-11-20T11:00:50Z".parse().unwrap()),
        "{items:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watching_agent_picks_up_a_new_drive_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    let (camera, storage) = (dir.path().join("camera"), dir.path().join("phone"));
    std::fs::create_dir_all(&camera).unwrap();
    set_network(&storage, "wifi").await;
    let mut agent = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args([
            "agent",
            "run",
            "--interval",
            "200ms",
            "--server",
            &cloud.server.base,
        ])
        .args(["--token", &cloud.device_token, "--camera"])
        .arg(&camera)
        .arg("--storage")
        .arg(&storage)
        .env("RUST_LOG", "info,dashvault_agent::agent=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map(crate::process::Spawned::from)
        .unwrap();
    let stderr = crate::process::lines(agent.stderr.take().unwrap());
    // Each round is said at debug level only: a watching agent's console stays quiet.
    let round = crate::process::wait_for(&stderr, "agent round done");
    assert!(round.contains("DEBUG"), "{round}");

    // A drive that ended 5 minutes ago appears on the camera: the next rounds import it,
    // take it as finished and upload its clip.
    let start = (Utc::now() - Duration::minutes(8)).to_rfc3339();
    simulate(&camera, 3, &start, "sudden_stop@80", &[]);
    crate::process::wait_for(&stderr, "automatic clip cut");
    let line = crate::process::wait_for(&stderr, "uploaded=");
    assert!(!line.contains("uploaded=0"), "{line}");
    let clips = cloud.get_json("/api/v1/clips").await;
    assert_eq!(
        clips["items"][0]["incidents"][0]["type"], "sudden_stop",
        "{clips:#}"
    );

    let pid = agent.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = agent.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_shows_rides_and_incidents_to_the_number_it_prints() {
    use crate::process::{base_url, lines, wait_for};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map(crate::process::Spawned::from)
        .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    let base = base_url(&wait_for(&stderr, "listening on http://"));
    let hint = wait_for(&stderr, "demo: open");
    assert!(hint.contains("+1 415-555-0199"), "{hint}");
    wait_for(
        &stderr,
        "demo: the drive and its incidents are in the cloud",
    );

    let http = reqwest::Client::new();
    let phone = serde_json::json!({ "phone": "+1 415-555-0199" });
    let sent = http
        .post(format!("{base}/api/v1/auth/code"))
        .json(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let line = wait_for(&stdout, "code ");
    let at = line.find("code ").unwrap() + 5;
    let body: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/verify"))
        .json(&serde_json::json!({ "phone": "+14155550199", "code": &line[at..at + 6] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = body["token"].as_str().unwrap();
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .bearer_auth(session)
            .send()
    };
    let drives: serde_json::Value = get("/api/v1/drives").await.unwrap().json().await.unwrap();
    assert_eq!(drives["items"].as_array().unwrap().len(), 1, "{drives:#}");
    let clips: serde_json::Value = get("/api/v1/clips").await.unwrap().json().await.unwrap();
    let mut kinds: Vec<&str> = clips["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["incidents"][0]["type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["collision", "hard_brake", "sharp_turn"],
        "{clips:#}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
