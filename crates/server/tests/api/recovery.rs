//! What cameras really upload: a recording the camera's power cut left without an index
//! is rebuilt at ingest from a sibling of the same device and view (marked `recovered`,
//! the upload's bytes kept as its original); noisy and empty telemetry sidecars are kept
//! unchanged; a drive's timeline holds its gaps; a time-lapse covers its speed's span.

use crate::both_engines;
use crate::helpers::TestApp;
use crate::tus::{json, metadata, recording, Tus};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A `seconds` long 320x240 10 fps H.264 MP4 (its `moov` last, as cameras write), of
/// `pattern` (an ffmpeg test source).
fn camera_file(dir: &Path, name: &str, pattern: &str, seconds: u32) -> Vec<u8> {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("{pattern}=size=320x240:rate=10"))
        .args([
            "-t",
            &seconds.to_string(),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-g", "10", "-bf", "0"])
        .arg(&path)
        .status()
        .expect("ffmpeg is needed to make test videos");
    assert!(status.success());
    std::fs::read(&path).unwrap()
}

/// What ffmpeg says while decoding `bytes` whole (nothing for a clean file), and the
/// duration ffprobe reads.
fn decode(dir: &Path, bytes: &[u8]) -> (String, f64) {
    let path = dir.join("decoded.mp4");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
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
        .arg(&path)
        .output()
        .unwrap();
    let duration = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    (String::from_utf8_lossy(&out.stderr).into_owned(), duration)
}

/// `GET` the bytes at `path` as `token`, asserting `200`.
async fn bytes(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let response = app.get_with(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.bytes().await.unwrap().to_vec()
}

/// The one drive's detail.
async fn the_drive(app: &TestApp, token: &str) -> Value {
    let drives = json(app, "/api/v1/drives", token).await;
    let id = drives["items"][0]["id"].as_str().unwrap().to_owned();
    json(app, &format!("/api/v1/drives/{id}"), token).await
}

/// A 60 s recording cut at 70 % of its bytes (no `moov`) is filed as a recording of at
/// least 36 s that decodes cleanly, marked `recovered`; its upload's original is the file
/// as sent; without a sibling of its device and view it is refused, saying why.
async fn a_cut_off_recording_is_rebuilt_at_ingest(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let alone = camera_file(dir.path(), "alone.mp4", "testsrc2", 60);
    let cut = &alone[..alone.len() * 7 / 10];
    let (path, done) = tus
        .upload(cut, &recording("2026-11-20T07:20:00Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 422);
    let refused = json(&app, &path, &token).await;
    let reason = refused["failure"].as_str().unwrap();
    assert!(
        reason.contains("no recording of this device's road view"),
        "{reason}"
    );

    let sibling = camera_file(dir.path(), "sibling.mp4", "testsrc", 60);
    let (_, done) = tus
        .upload(&sibling, &recording("2026-11-20T07:29:00Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 204);
    let (path, done) = tus
        .upload(cut, &recording("2026-11-20T07:30:00Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let status = json(&app, &path, &token).await;
    assert_eq!(status["state"], "complete");
    assert_eq!(status["item"]["kind"], "recording");
    assert_eq!(bytes(&app, &format!("{path}/original"), &token).await, cut);

    let drive = the_drive(&app, &token).await;
    let recordings = drive["recordings"].as_array().unwrap();
    assert_eq!(recordings.len(), 2, "{drive}");
    assert_eq!(recordings[0]["recovered"], false);
    let rebuilt = &recordings[1];
    assert_eq!(rebuilt["recovered"], true, "{rebuilt}");
    assert_eq!(rebuilt["clock"], "camera");
    assert!(
        rebuilt["duration_ms"].as_u64().unwrap() >= 36_000,
        "{rebuilt}"
    );
    let id = drive["id"].as_str().unwrap();
    let window =
        format!("/api/v1/drives/{id}/video?from=2026-11-20T07:30:00Z&to=2026-11-20T07:31:00Z");
    let (errors, seconds) = decode(dir.path(), &bytes(&app, &window, &token).await);
    assert_eq!(errors, "", "ffmpeg decodes it cleanly");
    assert!(seconds >= 36.0, "{seconds} s");
    // Its row says the stored object's own SHA-256 and size (the ledger's and the
    // store's checks read them), and the object ends with the upload's bytes.
    let id = rebuilt["id"].as_str().unwrap().parse().unwrap();
    let me = json(&app, "/api/v1/me", &token).await;
    let user = me["id"].as_str().unwrap().parse().unwrap();
    let file = app
        .state
        .repo
        .recording(user, id)
        .await
        .unwrap()
        .unwrap()
        .file;
    let key = dashvault_store::blob::BlobKey::new(file.blob_key.clone()).unwrap();
    let mut body = app.state.blobs.get_range(&key, 0..file.size).await.unwrap();
    let mut stored = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        stored.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(file.sha256, crate::tus::sha256_hex(&stored));
    assert!(stored.ends_with(cut));
    assert_eq!(file.original_size, Some(cut.len() as u64));
}

/// Recordings with a 40 s gap between them: a window over the gap holds only what was
/// recorded (20 s + 20 s, not 20 s of the first and then the second shifted by the gap).
async fn a_gap_in_a_drive_is_a_gap(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let first = camera_file(dir.path(), "first.mp4", "testsrc", 60);
    let second = camera_file(dir.path(), "second.mp4", "testsrc2", 60);
    for (file, start) in [
        (&first, "2026-11-20T07:30:00Z"),
        (&second, "2026-11-20T07:31:40Z"),
    ] {
        let (_, done) = tus.upload(file, &recording(start), 1 << 20).await;
        assert_eq!(done.status(), 204);
    }
    let drive = the_drive(&app, &token).await;
    let recordings = drive["recordings"].as_array().unwrap();
    assert_eq!(recordings[0]["end"], "2026-11-20T07:31:00Z");
    assert_eq!(recordings[1]["start"], "2026-11-20T07:31:40Z");
    let id = drive["id"].as_str().unwrap();
    let over_gap =
        format!("/api/v1/drives/{id}/video?from=2026-11-20T07:30:40Z&to=2026-11-20T07:32:00Z");
    let (errors, seconds) = decode(dir.path(), &bytes(&app, &over_gap, &token).await);
    assert_eq!(errors, "");
    assert!((seconds - 40.0).abs() < 1.5, "{seconds} s");
    let in_gap =
        format!("/api/v1/drives/{id}/video?from=2026-11-20T07:31:10Z&to=2026-11-20T07:31:30Z");
    assert_eq!(app.get_with(&in_gap, &token).await.status(), 400);
}

/// A time-lapse sent with its speed covers its drive's span on the wall clock.
async fn a_timelapse_covers_its_speed(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let lapse = camera_file(dir.path(), "lapse.mp4", "testsrc", 20);
    let meta = metadata(&[
        ("kind", "timelapse"),
        ("start", "2026-11-20T07:30:00Z"),
        ("speed", "30"),
        ("clock", "gps"),
    ]);
    let (_, done) = tus.upload(&lapse, &meta, 1 << 20).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let drive = the_drive(&app, &token).await;
    assert_eq!(drive["end"], "2026-11-20T07:40:00Z", "{drive}");
    let lapse = &drive["recordings"][0];
    assert_eq!(
        (lapse["speed"].as_f64(), &lapse["clock"]),
        (Some(30.0), &Value::from("gps"))
    );
}

/// A camera whose clock is set to its owner's zone (UTC+3) names its files in local
/// time: once the device's `timezone` is set, a recording on the camera's clock is filed
/// at its true UTC start (`clock: device`); one whose start the agent corrected by GPS
/// (`clock: gps`) is kept as sent.
async fn camera_times_are_read_in_the_device_zone(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let first = camera_file(dir.path(), "first.mp4", "testsrc", 5);
    let (_, done) = tus
        .upload(&first, &recording("2026-11-20T07:00:00Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 204);
    let devices = json(&app, "/api/v1/devices", &token).await;
    let device = devices["items"][0]["id"].as_str().unwrap().to_owned();
    let set = app
        .http
        .patch(app.url(&format!("/api/v1/devices/{device}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "timezone": "Europe/Istanbul" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200, "{:?}", set.text().await);
    let local = camera_file(dir.path(), "local.mp4", "testsrc2", 5);
    let (_, done) = tus
        .upload(&local, &recording("2026-11-20T10:30:00Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 204);
    let gps = camera_file(dir.path(), "gps.mp4", "smptebars", 5);
    let meta = metadata(&[
        ("kind", "recording"),
        ("start", "2026-11-20T07:30:05Z"),
        ("clock", "gps"),
    ]);
    let (_, done) = tus.upload(&gps, &meta, 1 << 20).await;
    assert_eq!(done.status(), 204);
    let drives = json(&app, "/api/v1/drives", &token).await;
    let newest = drives["items"][0]["id"].as_str().unwrap();
    let drive = json(&app, &format!("/api/v1/drives/{newest}"), &token).await;
    assert_eq!(drive["start"], "2026-11-20T07:30:00Z", "{drive}");
    let clocks: Vec<_> = drive["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["start"].as_str().unwrap().to_owned(),
                r["clock"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        clocks,
        [
            ("2026-11-20T07:30:00Z".to_owned(), "device".to_owned()),
            ("2026-11-20T07:30:05Z".to_owned(), "gps".to_owned())
        ]
    );
}

/// A GoPro recording with GPS time in it, named by a camera on UTC+3 and sent on the
/// camera's clock: the server corrects it by its GPS time (`clock: gps`), before the
/// device's time zone (set to another one here) would apply.
async fn gps_time_in_a_file_corrects_the_camera_clock(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/media-samples/gopro__gpmf-parser/hero7.mp4"
    );
    let gopro = std::fs::read(sample).unwrap_or_else(|e| panic!("the GoPro sample {sample}: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let first = camera_file(dir.path(), "first.mp4", "testsrc", 5);
    let (_, done) = tus
        .upload(&first, &recording("2019-05-06T10:00:00Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 204);
    let devices = json(&app, "/api/v1/devices", &token).await;
    let device = devices["items"][0]["id"].as_str().unwrap().to_owned();
    let set = app
        .http
        .patch(app.url(&format!("/api/v1/devices/{device}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "timezone": "America/New_York" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    // Its GPS says 2019-05-06T18:15:07Z (GPSU) at its start.
    let (_, done) = tus
        .upload(&gopro, &recording("2019-05-06T21:15:07Z"), 1 << 20)
        .await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let drives = json(&app, "/api/v1/drives", &token).await;
    let newest = drives["items"][0]["id"].as_str().unwrap();
    let drive = json(&app, &format!("/api/v1/drives/{newest}"), &token).await;
    assert_eq!(drive["start"], "2019-05-06T18:15:07Z", "{drive}");
    assert_eq!(drive["recordings"][0]["clock"], "gps", "{drive}");
}

/// A BlackVue `.gps` whose module wrote binary noise before its first fix, and an empty
/// one, are stored unchanged (their originals byte for byte) and read as far as they go.
async fn noisy_and_empty_sidecars_are_kept(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let fix = "GPRMC,073000,A,5133.82,N,00042.24,W,17.8,231.8,201126,004.2,W";
    let sum = fix.bytes().fold(0u8, |x, b| x ^ b);
    let mut noisy = vec![0x00, 0xff, 0xfe, 0x13, 0x80, b'\n', 0xc3, 0x28, b'\n'];
    noisy.extend_from_slice(format!("[1763623800000]${fix}*{sum:02X}\n").as_bytes());
    for (name, file, fixes, skipped) in [
        ("20261120_073000_N.gps", noisy.as_slice(), 1, 2),
        ("20261120_073100_N.gps", &[][..], 0, 0),
    ] {
        let meta = metadata(&[
            ("kind", "sidecar"),
            ("start", "2026-11-20T07:30:00Z"),
            ("filename", name),
        ]);
        // An empty file is whole at its creation (`201`), any other with its last PATCH.
        let (path, done) = if file.is_empty() {
            let created = tus.create(0, &meta).await;
            (crate::tus::location(&created), created)
        } else {
            tus.upload(file, &meta, 1 << 20).await
        };
        let status = done.status().as_u16();
        assert!(
            status == 204 || status == 201,
            "{name}: {status} {:?}",
            done.text().await
        );
        let upload = json(&app, &path, &token).await;
        assert_eq!(upload["item"]["kind"], "sidecar", "{name}: {upload}");
        assert_eq!(bytes(&app, &format!("{path}/original"), &token).await, file);
        let id = upload["item"]["id"].as_str().unwrap().parse().unwrap();
        let me = json(&app, "/api/v1/me", &token).await;
        let user = me["id"].as_str().unwrap().parse().unwrap();
        let sidecar = app.state.repo.sidecar(user, id).await.unwrap().unwrap();
        assert_eq!(sidecar.telemetry.gps_fixes, fixes, "{name}");
        assert_eq!(sidecar.telemetry.skipped, skipped, "{name}");
    }
}

both_engines!(
    a_cut_off_recording_is_rebuilt_at_ingest,
    a_gap_in_a_drive_is_a_gap,
    a_timelapse_covers_its_speed,
    camera_times_are_read_in_the_device_zone,
    gps_time_in_a_file_corrects_the_camera_clock,
    noisy_and_empty_sidecars_are_kept,
);
