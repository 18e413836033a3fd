//! `dashvault media thumb` and `dashvault media telemetry` through the real binary, on
//! the real camera samples in testdata/media-samples; bad input exits 1 with one line naming the file, and what
//! a damaged sidecar's reader skipped is said.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sample(name: &str) -> String {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/media-samples"
    ))
    .join(name);
    assert!(
        path.exists(),
        "missing media sample {} (see testdata/media-samples/README.md)",
        path.display()
    );
    path.display().to_string()
}

fn media(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .arg("media")
        .args(args)
        .output()
        .expect("run dashvault")
}

/// Asserts exit code 1 and a single stderr line that names `file` and contains `problem`.
fn assert_one_line_error(out: &Output, file: &str, problem: &str) {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(file) && err.contains(problem), "{err}");
}

#[test]
fn thumb_writes_a_jpeg_of_the_asked_width() {
    let dir = tempfile::tempdir().unwrap();
    let file = sample("gopro__gpmf-parser/hero7.mp4");
    for (width, expect) in [(None, "320,181"), (Some("160"), "160,91")] {
        let out_path = dir.path().join("t.jpg");
        let mut args = vec![
            "thumb",
            "--at",
            "2.5",
            "-o",
            out_path.to_str().unwrap(),
            &file,
        ];
        if let Some(w) = width {
            args.extend(["--width", w]);
        }
        let out = media(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name,width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(&out_path)
            .output()
            .expect("ffprobe is needed (apt-get install ffmpeg)");
        assert_eq!(
            String::from_utf8_lossy(&probe.stdout).trim(),
            format!("mjpeg,{expect}")
        );
    }
    let out = media(&[
        "thumb",
        "--at",
        "99",
        "-o",
        dir.path().join("x.jpg").to_str().unwrap(),
        &file,
    ]);
    assert_one_line_error(&out, &file, "no keyframe at or after 99 s");
}

#[test]
fn telemetry_summary_json_and_errors() {
    let file = sample("gopro__gpmf-parser/hero7.mp4");
    let out = media(&["telemetry", &file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("199 fixes") && text.contains("2019-05-06T18:15:07.395"),
        "{text}"
    );
    assert!(text.contains("33.1268403, -117.3274043"), "{text}");

    let out = media(&["telemetry", "--json", &file]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["gps"].as_array().map(Vec::len), Some(199));
    assert_eq!(json["accel"][0]["v"].as_array().map(Vec::len), Some(3));

    // The shared .gps log's one sentence has a wrong checksum: it is skipped, and said.
    let gps = sample("acolomba__blackvuesync/mock.gps");
    let out = media(&["telemetry", &gps]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("gps    none")
            && text.contains("skipped 1 unreadable part(s)")
            && text.contains("line 3")
            && text.contains("checksum mismatch"),
        "{text}"
    );
    let out = media(&["telemetry", "--json", &gps]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["gps"].as_array().map(Vec::len), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
    let video = sample("Eyevinn__mp4ff/bbb_prog_10s.mp4");
    assert_one_line_error(&media(&["telemetry", &video]), &video, "no telemetry");
}
