//! `dashvault agent run` on camera files as real cameras leave them: a recording the
//! power cut left without an index, and a camera whose clock is set to local time
//! (UTC+3) while its GPS says UTC.

use crate::agent::{dashvault, set_network, simulate, time, walk};
use crate::agent_wifi::setup;
use crate::cloud::Cloud;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use dashvault_agent::state::State;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A simulated BlackVue drive of `minutes` from `start` (UTC) into `card/BlackVue`; its
/// `Record` folder.
fn blackvue(card: &Path, minutes: u32, start: &str) -> PathBuf {
    simulate(&card.join("BlackVue"), minutes, start, "", &[]);
    card.join("BlackVue/Record")
}

/// What ffmpeg says decoding `path` whole (nothing for a clean file), and its duration.
fn decode(path: &Path) -> (String, f64) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let duration = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    (String::from_utf8_lossy(&out.stderr).into_owned(), duration)
}

/// The second minute of a 3-minute drive cut at 70 % of its bytes (the camera lost power
/// while writing it: no `moov`; back on, it went on with the next file) is rebuilt at
/// import from its sibling: the phone holds a file of at least 36 s that decodes cleanly
/// and ends with the camera's bytes; it goes up whole, and the cloud's drive holds it
/// marked `recovered`, playable. A file of nothing but zeros after it can not be rebuilt:
/// it is left on the camera and not fetched again. The last file, without an index too,
/// may still be being written: it is left on the camera.
#[tokio::test(flavor = "multi_thread")]
async fn a_recording_cut_off_by_a_power_loss_is_rebuilt_at_import() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    let (card, storage) = (dir.path().join("sdcard"), dir.path().join("phone"));
    let record = blackvue(&card, 4, "2026-11-20T08:00:00Z");
    let cut = record.join("20261120_080100_NF.mp4");
    let bytes = std::fs::read(&cut).unwrap();
    let broken = &bytes[..bytes.len() * 7 / 10];
    std::fs::write(&cut, broken).unwrap();
    let zeros = record.join("20261120_080200_NF.mp4");
    std::fs::write(&zeros, vec![0u8; 100_000]).unwrap();
    let last = record.join("20261120_080300_NF.mp4");
    let writing = std::fs::read(&last).unwrap();
    std::fs::write(&last, &writing[..writing.len() / 2]).unwrap();
    set_network(&storage, "wifi").await;
    cloud.run_once(&card, &storage, &[]);

    let phone: Vec<_> = walk(&storage.join("phone/recordings"));
    assert_eq!(phone.len(), 2, "{phone:?}");
    assert!(!phone.iter().any(|p| p.ends_with("20261120_080300_NF.mp4")));
    let state = State::open(&storage).await.unwrap();
    let noted = format!("unrebuildable:{}", zeros.display());
    assert_eq!(
        state.setting(&noted).await.unwrap().as_deref(),
        Some("100000")
    );
    let rebuilt = phone
        .iter()
        .find(|p| p.ends_with("20261120_080100_NF.mp4"))
        .expect("the cut-off recording is on the phone");
    let (errors, seconds) = decode(rebuilt);
    assert_eq!(errors, "", "ffmpeg decodes it cleanly");
    assert!(seconds >= 36.0, "{seconds} s");
    assert!(
        std::fs::read(rebuilt).unwrap().ends_with(broken),
        "the camera's bytes are kept, unchanged"
    );
    let drives = cloud.get_json("/api/v1/drives").await;
    assert_eq!(drives["items"].as_array().unwrap().len(), 1, "{drives:#}");
    let id = drives["items"][0]["id"].as_str().unwrap();
    let detail = cloud.get_json(&format!("/api/v1/drives/{id}")).await;
    let recovered: Vec<_> = detail["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["recovered"] == true)
        .collect();
    assert_eq!(recovered.len(), 1, "{detail:#}");
    assert_eq!(recovered[0]["kind"], "recording");
    assert!(recovered[0]["duration_ms"].as_u64().unwrap() >= 36_000);
    let window =
        format!("/api/v1/drives/{id}/video?from=2026-11-20T08:01:00Z&to=2026-11-20T08:02:00Z");
    let response = cloud.get(&window).await;
    assert_eq!(response.status(), 200);
    let played = dir.path().join("played.mp4");
    std::fs::write(&played, response.bytes().await.unwrap()).unwrap();
    let (errors, seconds) = decode(&played);
    assert_eq!(errors, "", "the cloud's copy decodes cleanly");
    assert!(seconds >= 36.0, "{seconds} s");
}

/// A BlackVue whose clock is set to UTC+3 names its files three hours ahead of the UTC
/// its GPS gives: the drive goes up at its true UTC start, on the GPS clock.
#[tokio::test(flavor = "multi_thread")]
async fn a_camera_on_local_time_uploads_at_true_utc() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Cloud::start(&dir.path().join("server"), "+14155550177", "CORE-1").await;
    let (card, storage) = (dir.path().join("sdcard"), dir.path().join("phone"));
    let record = blackvue(&card, 2, "2026-11-20T07:30:00Z");
    // The simulated camera names files in UTC: rename them as a UTC+3 clock would.
    for path in walk(&record) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(utc) = NaiveDateTime::parse_from_str(&name[..15], "%Y%m%d_%H%M%S") else {
            continue;
        };
        let local = (utc + Duration::hours(3)).format("%Y%m%d_%H%M%S");
        std::fs::rename(&path, record.join(format!("{local}{}", &name[15..]))).unwrap();
    }
    set_network(&storage, "wifi").await;
    cloud.run_once(&card, &storage, &[]);

    let drives = cloud.get_json("/api/v1/drives").await;
    let drive = &drives["items"][0];
    let start = "2026-11-20T07:30:00Z".parse::<DateTime<Utc>>().unwrap();
    assert!(
        (time(&drive["start"]) - start).abs() <= Duration::seconds(2),
        "{drives:#}"
    );
    let id = drive["id"].as_str().unwrap();
    let detail = cloud.get_json(&format!("/api/v1/drives/{id}")).await;
    let recordings = detail["recordings"].as_array().unwrap();
    assert!(!recordings.is_empty(), "{detail:#}");
    assert!(
        recordings.iter().all(|r| r["clock"] == "gps"),
        "{recordings:#?}"
    );

    // A manual clip made afterwards, 10 s to 30 s into the drive (on the camera's
    // clock), goes up at true UTC too.
    let storage_text = storage.to_string_lossy();
    dashvault(&[
        "agent",
        "clip",
        "--storage",
        &storage_text,
        "--from",
        "10",
        "--to",
        "30",
    ]);
    cloud.run_once(&card, &storage, &[]);
    let clips = cloud.get_json("/api/v1/clips").await;
    let manual: Vec<_> = clips["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "manual")
        .collect();
    assert_eq!(manual.len(), 1, "{clips:#}");
    assert_eq!(manual[0]["clock"], "gps");
    let from = time(&manual[0]["start"]);
    assert!(
        from >= start && from <= start + Duration::seconds(10),
        "{clips:#}"
    );
}

/// A BlackVue on UTC+3 synced over its Wi-Fi through a connection that drops mid-file,
/// one minute's `.gps` with binary noise before its first fix and another's empty: the
/// cloud shows the drive at its true UTC start with the route of its minutes, and no
/// upload failed.
#[tokio::test(flavor = "multi_thread")]
async fn a_blackvue_on_local_time_syncs_over_wifi_at_true_utc_with_its_messy_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, storage, camera) = setup(
        dir.path(),
        "WIFI-3",
        "blackvue",
        3,
        "2026-11-20T07:30:00Z",
        &["--drop-after", "150000", "--clock-offset", "180"],
    )
    .await;
    let record = camera.card.join("Record");
    let noisy = record.join("20261120_103100_N.gps");
    let mut bytes = vec![0x00, 0xff, 0xfe, 0x13, b'\n', 0xc3, 0x28, b'\n'];
    bytes.extend(std::fs::read(&noisy).unwrap());
    std::fs::write(&noisy, bytes).unwrap();
    std::fs::write(record.join("20261120_103200_N.gps"), b"").unwrap();
    let printed = cloud.run_once(Path::new(&camera.base), &storage, &[]);
    assert!(printed.contains("imported 3 recordings"), "{printed}");

    let drives = cloud.get_json("/api/v1/drives").await;
    let drives = drives["items"].as_array().unwrap();
    assert_eq!(drives.len(), 1, "{drives:#?}");
    let start = "2026-11-20T07:30:00Z".parse::<DateTime<Utc>>().unwrap();
    assert!(
        (time(&drives[0]["start"]) - start).abs() <= Duration::seconds(2),
        "{drives:#?}"
    );
    let id = drives[0]["id"].as_str().unwrap();
    let drive = cloud.get_json(&format!("/api/v1/drives/{id}")).await;
    let route = drive["telemetry"]["route"].as_array().unwrap();
    assert!(route.len() >= 60, "{drive:#}");
    let status = crate::agent::status(&storage);
    assert_eq!(status["queue"]["failed"], 0, "{status:#}");
    assert_eq!(status["queue"]["queued"], 0, "{status:#}");
}

/// A Viofo (Novatek) on UTC+3 over Wi-Fi, whose files carry no GPS time: once its
/// owner sets the device's time zone, the cloud reads its names in that zone and shows
/// the drive at its true UTC start (`clock: device`).
#[tokio::test(flavor = "multi_thread")]
async fn a_novatek_on_local_time_goes_up_in_its_device_zone() {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, storage, camera) = setup(
        dir.path(),
        "WIFI-4",
        "novatek",
        2,
        "2026-11-20T09:00:00Z",
        &["--clock-offset", "180"],
    )
    .await;
    let devices = cloud.get_json("/api/v1/devices").await;
    let device = devices["items"][0]["id"].as_str().unwrap().to_owned();
    let set = cloud
        .http
        .patch(cloud.server.url(&format!("/api/v1/devices/{device}")))
        .bearer_auth(&cloud.session)
        .json(&serde_json::json!({ "timezone": "Europe/Istanbul" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let printed = cloud.run_once(Path::new(&camera.base), &storage, &[]);
    assert!(printed.contains("imported 2 recordings"), "{printed}");

    let drives = cloud.get_json("/api/v1/drives").await;
    let drive = &drives["items"][0];
    let start = "2026-11-20T09:00:00Z".parse::<DateTime<Utc>>().unwrap();
    assert!(
        (time(&drive["start"]) - start).abs() <= Duration::seconds(2),
        "{drives:#}"
    );
    let id = drive["id"].as_str().unwrap();
    let detail = cloud.get_json(&format!("/api/v1/drives/{id}")).await;
    let recordings = detail["recordings"].as_array().unwrap();
    assert!(!recordings.is_empty(), "{detail:#}");
    assert!(
        recordings.iter().all(|r| r["clock"] == "device"),
        "{recordings:#?}"
    );
}
