//! Simulated drives read back with the media crate and run through the detector: every
//! incident kind is found at its time from the `.3gf` accelerometer and `.gps` speed, and
//! nothing else is.

use std::path::Path;

use dashvault_detect::{Detector, SpeedSample, Thresholds, Trace};
use dashvault_media::telemetry::{read_telemetry, Vec3Sample};
use dashvault_media::Mp4Index;
use dashvault_simulate::{
    parse_incidents, simulate_camera, Camera, FileKind, Options, View, TRUTH_FILE,
};

/// The whole drive's telemetry on one clock (seconds from the drive's start).
fn drive_trace(out: &Path, camera: &Camera) -> Trace {
    let mut trace = Trace::default();
    for file in camera.files.iter().filter(|f| f.kind != FileKind::Video) {
        let offset = (file.start - camera.start).num_milliseconds() as f64 / 1000.0;
        let telemetry = read_telemetry(&out.join(&file.path)).expect("sidecar reads back");
        match file.kind {
            FileKind::Gps => {
                assert_eq!(telemetry.start, Some(file.start), "{}", file.path);
                assert_eq!(telemetry.gps.len(), 60, "a fix a second: {}", file.path);
                trace
                    .speed
                    .extend(telemetry.gps.iter().map(|fix| SpeedSample {
                        t: fix.t + offset,
                        speed: fix.speed.expect("RMC speed"),
                    }));
            }
            FileKind::Accel => {
                assert_eq!(telemetry.accel.len(), 600, "10 Hz: {}", file.path);
                trace
                    .accel
                    .extend(telemetry.accel.iter().map(|s| Vec3Sample {
                        t: s.t + offset,
                        v: s.v,
                    }));
            }
            FileKind::Video => unreachable!(),
        }
    }
    trace
}

fn check_detection(incidents: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::new(dir.path(), 10);
    options.incidents = parse_incidents(incidents).unwrap();
    options.seed = seed;
    let camera = simulate_camera(&options).unwrap();
    let trace = drive_trace(dir.path(), &camera);
    let detection = Detector::new(Thresholds::default()).detect(&trace).unwrap();
    let found: Vec<(String, f64)> = detection
        .events
        .iter()
        .map(|e| (e.kind.as_str().to_owned(), e.start))
        .collect();
    assert_eq!(
        found.len(),
        camera.incidents.len(),
        "seed {seed}, mount {:?}: found {found:?}, truth {:?}",
        camera.mount,
        camera.incidents
    );
    for (event, truth) in found.iter().zip(&camera.incidents) {
        assert_eq!(event.0, truth.kind.as_str(), "{found:?}");
        assert!(
            (event.1 - truth.t).abs() <= 2.0,
            "{} detected at {} s, happened at {} s",
            event.0,
            event.1,
            truth.t
        );
    }
}

#[test]
fn brakes_turns_and_collisions_are_detected_from_the_sidecars() {
    check_detection("hard_brake@130,sharp_turn@340,collision@500", 1);
}

#[test]
fn stops_launches_and_swerves_are_detected_from_the_sidecars() {
    check_detection("sudden_stop@100,hard_accel@250,swerve@420", 2);
}

#[test]
fn every_kind_is_detected_on_other_mounts() {
    for seed in 3..6 {
        check_detection(
            "hard_brake@60,sudden_stop@120,hard_accel@200,sharp_turn@300,swerve@400,collision@500",
            seed,
        );
    }
}

#[test]
fn incidents_close_together_are_each_detected() {
    // 10 to 25 s apart: one 40 s clip window of the agent covers several of them.
    check_detection(
        "collision@45,swerve@62,hard_brake@80,sudden_stop@95,hard_accel@120",
        7,
    );
}

#[test]
fn a_drive_writes_minute_files_and_its_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::new(dir.path(), 3);
    options.cabin = true;
    options.start = "2026-11-20T08:15:02.5Z".parse().unwrap();
    let camera = simulate_camera(&options).unwrap();
    let names: Vec<&str> = camera.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        &names[..4],
        [
            "Record/20261120_081502_N.gps",
            "Record/20261120_081502_N.3gf",
            "Record/20261120_081502_NF.mp4",
            "Record/20261120_081502_NI.mp4"
        ]
    );
    assert_eq!(names.len(), 12);
    assert_eq!(names[4], "Record/20261120_081602_N.gps");
    for file in camera.files.iter().filter(|f| f.kind == FileKind::Video) {
        let index = Mp4Index::read(&std::fs::File::open(dir.path().join(&file.path)).unwrap())
            .expect("the media crate indexes the recording");
        let video = index.video().expect("a video track");
        assert_eq!(video.samples.len(), 60 * 12);
        assert_eq!(video.sync_count(), 60, "an IDR picture a second");
        assert!(
            (video.end_seconds() - 60.0).abs() < 0.01,
            "{}",
            video.end_seconds()
        );
        assert_eq!((video.width, video.height), (320, 180));
        assert_eq!(index.creation_time, Some(file.start));
        assert!(file.view == Some(View::Road) || file.view == Some(View::Cabin));
    }
    let truth: Camera =
        serde_json::from_slice(&std::fs::read(dir.path().join(TRUTH_FILE)).unwrap()).unwrap();
    assert_eq!(truth, camera);
    assert_eq!(truth.start.to_rfc3339(), "2026-11-20T08:15:02+00:00");

    // Same seed, same bytes.
    let again = tempfile::tempdir().unwrap();
    let twin = simulate_camera(&Options {
        out: again.path().to_owned(),
        ..options.clone()
    })
    .unwrap();
    for (a, b) in camera.files.iter().zip(&twin.files) {
        let read = |root: &Path, path: &str| std::fs::read(root.join(path)).unwrap();
        assert!(
            read(dir.path(), &a.path) == read(again.path(), &b.path),
            "{}",
            a.path
        );
    }
}

#[test]
fn loop_recording_keeps_the_card_under_its_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::new(dir.path(), 4);
    options.capacity = Some(1_000_000);
    let camera = simulate_camera(&options).unwrap();
    let record = dir.path().join("Record");
    let used: u64 = std::fs::read_dir(&record)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(used <= 1_000_000, "{used}");
    assert!(!camera.overwritten.is_empty(), "{camera:?}");
    assert!(
        camera.overwritten[0].starts_with("Record/"),
        "{:?}",
        camera.overwritten
    );
    for path in &camera.overwritten {
        assert!(!dir.path().join(path).exists(), "{path}");
    }
    let last = camera.files.last().unwrap();
    assert!(dir.path().join(&last.path).exists());
}

#[test]
fn incidents_that_do_not_fit_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = Options::new(dir.path(), 2);
    options.incidents = parse_incidents("hard_brake@10").unwrap();
    let err = simulate_camera(&options).unwrap_err();
    assert!(
        err.is_options() && err.to_string().contains("too early"),
        "{err}"
    );
    options.incidents = parse_incidents("hard_brake@115").unwrap();
    let err = simulate_camera(&options).unwrap_err();
    assert!(err.to_string().contains("raise --minutes"), "{err}");
    options.incidents = parse_incidents("sudden_stop@40,hard_brake@45").unwrap();
    assert!(simulate_camera(&options).unwrap_err().is_options());
}
