//! `dashvault detect`: run on a CSV (JSON and table), eval on the real labelled trips,
//! bad input exits 1 with a message naming the problem.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

fn dashvault(args: &[&str]) -> Output {
    crate::process::dashvault("detect", args)
}

fn dashvault_ok(args: &[&str]) -> Output {
    crate::process::succeeds("detect", args)
}

/// Two minutes at 50 Hz of a dashcam tilted on the windshield: a left turn at 20 s, a
/// right turn at 90 s and a 0.4 g brake at 60 s, with a speed column at 1 Hz.
fn drive_csv(dir: &Path, extra_row: Option<&str>) -> PathBuf {
    let mut text = String::from("t,ax,ay,az,gx,gy,gz,speed\n");
    let (s, c) = 0.3f64.sin_cos();
    // Car (x forward, y left, z up) to device, a rotation (a mirror would turn the
    // gyroscope's yaw against the lateral pull): device x = car y, y = tilted z, z =
    // tilted x.
    let device = |v: [f64; 3]| [v[1], c * v[2] - s * v[0], s * v[2] + c * v[0]];
    for i in 0..6000 {
        let t = f64::from(i) / 50.0;
        let (long, lat, yaw) = match t {
            t if (20.0..24.0).contains(&t) => (0.0, 4.0, 0.5),
            t if (90.0..94.0).contains(&t) => (0.0, -4.0, -0.5),
            t if (60.0..62.0).contains(&t) => (-4.0, 0.0, 0.0),
            _ => (0.0, 0.0, 0.0),
        };
        let wobble = 0.05 * (t * 37.0).sin();
        let a = device([long + wobble, lat, 9.81]);
        let w = device([0.0, 0.0, yaw]);
        let speed = if i % 50 == 0 {
            format!(
                "{}",
                if t < 60.0 {
                    15.0
                } else {
                    15.0 - 4.0 * (t - 60.0).min(2.0)
                }
            )
        } else {
            String::new()
        };
        writeln!(
            text,
            "{t},{},{},{},{},{},{},{speed}",
            a[0], a[1], a[2], w[0], w[1], w[2]
        )
        .expect("write to string");
    }
    if let Some(row) = extra_row {
        text.push_str(row);
    }
    let path = dir.join("drive.csv");
    std::fs::write(&path, text).expect("write csv");
    path
}

#[test]
fn run_json_lists_events_and_clips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = drive_csv(dir.path(), None);
    let out = dashvault_ok(&["run", csv.to_str().expect("utf-8 path"), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let events = json["events"].as_array().expect("events array");
    let brake = events
        .iter()
        .find(|e| e["type"] == "hard_brake")
        .unwrap_or_else(|| panic!("no hard_brake in {json}"));
    let start = brake["start"].as_f64().expect("start");
    assert!((59.0..61.0).contains(&start), "brake starts at {start}");
    let peak = brake["peak_g"].as_f64().expect("peak_g");
    assert!((0.3..0.5).contains(&peak), "peak {peak} g");
    let severity = brake["severity"].as_f64().expect("severity");
    assert!((0.0..=1.0).contains(&severity));
    assert_eq!(
        events.iter().filter(|e| e["type"] == "sharp_turn").count(),
        2,
        "{json}"
    );
    let clips = json["clips"].as_array().expect("clips array");
    assert!(!clips.is_empty());
    let clip = clips
        .iter()
        .find(|c| c["start"].as_f64() <= Some(start) && c["end"].as_f64() >= Some(start))
        .expect("a clip covers the brake");
    assert!(clip["incidents"]
        .as_array()
        .is_some_and(|i| i.iter().any(|e| e["type"] == "hard_brake")));
}

#[test]
fn run_prints_a_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = drive_csv(dir.path(), None);
    let out = dashvault_ok(&["run", csv.to_str().expect("utf-8 path")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hard_brake") && text.contains("clip from"),
        "{text}"
    );
}

#[test]
fn bad_csv_exits_1_naming_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = drive_csv(dir.path(), Some("120.5,NaN,0,9.8,0,0,0,\n"));
    let out = dashvault(&["run", csv.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a finite number"), "{err}");
    let out = dashvault(&["run", "/nonexistent/drive.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/drive.csv"));
}

/// The real labelled trips 17 and 20, or `None` after one loud line saying the test did
/// not run (the data is read from ../shared, which CI has, and never copied).
fn dataset_trips() -> Option<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/driving-events/jair-jr__driverBehaviorDataset/data");
    let trips: Vec<PathBuf> = ["17", "20"].iter().map(|t| root.join(t)).collect();
    if trips.iter().all(|t| t.join("groundTruth.csv").is_file()) {
        return Some(trips);
    }
    eprintln!(
        "!!!!! NOT RUN: this test needs the real driving-events data at {} (see \
         ../shared/data/driving-events/README.md)",
        root.display()
    );
    None
}

#[test]
fn eval_prints_precision_and_recall_on_real_trips() {
    let Some(trips) = dataset_trips() else {
        return;
    };
    let mut args = vec!["eval", "--rotations", "2"];
    args.extend(trips.iter().map(|t| t.to_str().expect("utf-8 path")));
    let out = dashvault_ok(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("4 runs"), "{text}");
    for needle in [
        "leave-one-trip-out",
        "held out 17",
        "held out 20",
        "tilt-corrected conversion",
        "plain conversion",
        "precision",
        "recall",
        "strict",
        "sharp_turn",
        "hard_brake",
        "calm manoeuvres",
        "collisions",
        "unlabelled detections per hour",
        "detections between labels, one line per manoeuvre",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    // The same trips in a mirror, and at a BlackVue's rate without the gyroscope.
    for extra in [&["--mirrored"][..], &["--rate", "10", "--accel-only"]] {
        let mut args = vec!["eval", "--rotations", "1"];
        args.extend(extra);
        args.extend(trips.iter().map(|t| t.to_str().expect("utf-8 path")));
        let text = String::from_utf8_lossy(&dashvault_ok(&args).stdout).into_owned();
        assert!(text.contains("2 runs"), "{extra:?}: {text}");
    }
    let out = dashvault(&["eval", "--rate", "5", "x"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--rate must be between 10"), "{stderr}");
}

#[test]
fn a_converted_trip_runs_as_a_mounted_camera_records_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(trips) = dataset_trips() else {
        return;
    };
    let trip = &trips[0];
    let out = dashvault_ok(&[
        "convert",
        "--mount",
        "3",
        trip.to_str().expect("utf-8 path"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("t,ax,ay,az,gx,gy,gz\n"), "{}", &text[..80]);
    let csv = dir.path().join("trip17.csv");
    std::fs::write(&csv, &out.stdout).expect("write csv");
    let run = dashvault_ok(&["run", "--json", csv.to_str().expect("utf-8 path")]);
    let found: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    let events = found["events"].as_array().expect("events");
    // Trip 17's labelled brakes and launches (groundTruth.csv), each found as its kind.
    for (kind, start, end) in [
        ("hard_brake", 141.0, 143.3),
        ("hard_brake", 234.0, 236.2),
        ("hard_accel", 304.6, 308.2),
        ("hard_accel", 395.7, 400.2),
    ] {
        assert!(
            events.iter().any(|e| e["type"] == kind
                && e["start"].as_f64() <= Some(end + 1.0)
                && e["end"].as_f64() >= Some(start - 1.0)),
            "no {kind} at {start}–{end} s: {events:?}"
        );
    }
}

#[test]
fn convert_plain_leaves_the_tilt_in() {
    let Some(trips) = dataset_trips() else {
        return;
    };
    let trip = trips[0].to_str().expect("utf-8 path");
    let corrected = dashvault_ok(&["convert", trip]).stdout;
    let plain = dashvault_ok(&["convert", "--plain", trip]).stdout;
    let lines = |bytes: &[u8]| String::from_utf8_lossy(bytes).lines().count();
    assert_eq!(lines(&corrected), lines(&plain), "the same samples");
    assert_ne!(corrected, plain, "--plain skips the tilt correction");
}

#[test]
fn run_reads_camera_telemetry() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media-samples");
    for file in ["dustin__gpmf/hero6.gpmf", "acolomba__blackvuesync/mock.3gf"] {
        let path = samples.join(file);
        assert!(
            path.is_file(),
            "media sample missing: {} (see testdata/media-samples/README.md)",
            path.display()
        );
        let out = dashvault(&["run", path.to_str().expect("utf-8 path"), "--json"]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
        assert!(
            json["events"].is_array() && json["clips"].is_array(),
            "{file}: {json}"
        );
    }
}

#[test]
fn thresholds_file_sets_the_levels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = drive_csv(dir.path(), None);
    let csv = csv.to_str().expect("utf-8 path");
    let strict = dir.path().join("model.toml");
    std::fs::write(&strict, "hard_brake_g = 0.6\nhard_brake_severe_g = 0.9\n").expect("write");
    let out = dashvault_ok(&[
        "run",
        csv,
        "--json",
        "--thresholds",
        strict.to_str().expect("utf-8"),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let kinds: Vec<&str> = json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        !kinds.contains(&"hard_brake"),
        "a 0.4 g brake under a 0.6 g level: {kinds:?}"
    );
    assert!(
        kinds.contains(&"sharp_turn"),
        "other levels keep their defaults: {kinds:?}"
    );
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "hard_brak_g = 0.6\n").expect("write");
    let out = dashvault(&["run", csv, "--thresholds", typo.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hard_brak_g"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "hard_brake_g = -1.0\n").expect("write");
    let out = dashvault(&["run", csv, "--thresholds", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hard_brake_g must be"));
}
