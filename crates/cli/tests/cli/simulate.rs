//! `dashvault simulate camera` through the real binary: every recording is an H.264 MP4
//! that ffprobe accepts and that lasts a minute, a cut across two of them plays in
//! Chromium, the sidecars read back, and the detector finds exactly the incidents of the
//! ground truth from them.

use std::path::Path;
use std::process::{Command, Output};

use dashvault_detect::{Detector, SpeedSample, Thresholds, Trace};
use dashvault_media::telemetry::{read_telemetry, Vec3Sample};
use dashvault_simulate::{Camera, FileKind, View};

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["simulate", "camera"])
        .args(args)
        .output()
        .expect("run dashvault")
}

/// ffprobe's `codec_name,duration` of the video stream.
fn probe(path: &Path) -> (String, f64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is needed (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe refuses {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (codec, duration) = text.trim().split_once(',').expect("codec,duration");
    (codec.to_owned(), duration.parse().expect("a duration"))
}

/// The drive's accelerometer and GPS speed on one clock, from the sidecars listed in the
/// ground truth.
fn sidecar_trace(out: &Path, camera: &Camera) -> Trace {
    let mut trace = Trace::default();
    for file in camera.files.iter().filter(|f| f.kind != FileKind::Video) {
        let offset = (file.start - camera.start).num_milliseconds() as f64 / 1000.0;
        let telemetry = read_telemetry(&out.join(&file.path))
            .unwrap_or_else(|e| panic!("{} does not read back: {e}", file.path));
        trace
            .speed
            .extend(telemetry.gps.iter().map(|fix| SpeedSample {
                t: fix.t + offset,
                speed: fix.speed.expect("RMC speed"),
            }));
        trace
            .accel
            .extend(telemetry.accel.iter().map(|s| Vec3Sample {
                t: s.t + offset,
                v: s.v,
            }));
    }
    trace
}

/// Plays `file` to its end in Chromium with the media crate's player script.
fn plays_in_chromium(file: &Path) -> serde_json::Value {
    let tools = std::env::var("DASHVAULT_BROWSER_TOOLS").unwrap_or_else(|_| {
        panic!("DASHVAULT_BROWSER_TOOLS is not set: run ./scripts/test, which installs Chromium and playwright-core")
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../media/tests/browser/play.cjs"
    );
    let out = Command::new("node")
        .arg(script)
        .arg(file)
        .env("NODE_PATH", Path::new(&tools).join("node_modules"))
        .output()
        .expect("node runs (install Node.js)");
    assert!(
        out.status.success(),
        "play.cjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("play.cjs prints JSON")
}

#[test]
fn a_ten_minute_drive_plays_reads_back_and_holds_exactly_its_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let started = std::time::Instant::now();
    let run = simulate(&[
        "--out",
        out.to_str().unwrap(),
        "--minutes",
        "10",
        "--cabin",
        "--incidents",
        "hard_brake@130,sharp_turn@340,collision@500",
        "--start",
        "2026-11-20T08:15:02Z",
        "--seed",
        "42",
    ]);
    let took = started.elapsed();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(took.as_secs() < 20, "a 10-minute drive took {took:?}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("incident sharp_turn at 2026-11-20T08:20:42+00:00"),
        "{stdout}"
    );

    let camera: Camera =
        serde_json::from_slice(&std::fs::read(out.join("simulation.json")).unwrap()).unwrap();
    assert_eq!(camera.seed, 42);
    let videos: Vec<_> = camera
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Video)
        .collect();
    assert_eq!(videos.len(), 20, "a road and a cabin file per minute");
    assert_eq!(videos[0].path, "Record/20261120_081502_NF.mp4");
    assert_eq!(videos[1].path, "Record/20261120_081502_NI.mp4");
    assert_eq!(videos[19].path, "Record/20261120_082402_NI.mp4");
    for file in &videos {
        let (codec, duration) = probe(&out.join(&file.path));
        assert_eq!(codec, "h264", "{}", file.path);
        assert!((duration - 60.0).abs() < 0.1, "{}: {duration} s", file.path);
    }
    assert!(out.join("Record/20261120_082402_N.gps").exists());
    assert!(out.join("Record/20261120_082402_N.3gf").exists());

    let trace = sidecar_trace(out, &camera);
    assert_eq!(trace.accel.len(), 6000, "10 Hz for 10 minutes");
    assert_eq!(trace.speed.len(), 600, "a GPS fix a second");
    let detection = Detector::new(Thresholds::default()).detect(&trace).unwrap();
    let found: Vec<(&str, f64)> = detection
        .events
        .iter()
        .map(|e| (e.kind.as_str(), e.start))
        .collect();
    let truth: Vec<(&str, f64)> = camera
        .incidents
        .iter()
        .map(|i| (i.kind.as_str(), i.t))
        .collect();
    assert_eq!(found.len(), truth.len(), "found {found:?}, truth {truth:?}");
    for (event, incident) in found.iter().zip(&truth) {
        assert_eq!(event.0, incident.0, "found {found:?}, truth {truth:?}");
        assert!(
            (event.1 - incident.1).abs() <= 2.0,
            "found {found:?}, truth {truth:?}"
        );
    }

    // The server cuts clips out of consecutive recordings: one across a file boundary plays.
    let cut = out.join("cut.mp4");
    let cut_run = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["media", "cut", "--from", "57", "--to", "62", "-o"])
        .arg(&cut)
        .arg(out.join("Record/20261120_081502_NF.mp4"))
        .arg(out.join("Record/20261120_081602_NF.mp4"))
        .output()
        .expect("run dashvault media cut");
    assert!(
        cut_run.status.success(),
        "{}",
        String::from_utf8_lossy(&cut_run.stderr)
    );
    let played = plays_in_chromium(&cut);
    assert!(played["error"].is_null(), "{played}");
    assert_eq!(played["ended"], true, "{played}");
    assert_eq!(played["width"], 320, "{played}");
    assert!(
        played["frames"].as_u64().unwrap_or(0) >= 5 * 12 - 2,
        "{played}"
    );
    assert!(videos.iter().any(|f| f.view == Some(View::Cabin)));
}

#[test]
fn loop_recording_and_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = simulate(&["--out", out, "--minutes", "5", "--capacity", "1MB"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let used: u64 = std::fs::read_dir(dir.path().join("Record"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(used <= 1_000_000, "{used} bytes on a 1 MB card");
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("loop recording deleted"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );

    let bad = simulate(&["--out", out, "--incidents", "drift@100"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("unknown incident `drift`"), "{stderr}");
    let early = simulate(&["--out", out, "--minutes", "2", "--incidents", "collision@5"]);
    assert!(String::from_utf8_lossy(&early.stderr).contains("too early"));
    let size = simulate(&["--out", out, "--capacity", "lots"]);
    assert!(String::from_utf8_lossy(&size.stderr).contains("not a size"));
}
