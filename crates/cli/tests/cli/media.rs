//! `dashvault media`: probe, cut and time-lapse through the real binary, checked with
//! ffprobe; bad input exits 1 with one line naming the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Creation time written into the generated recordings.
const START: &str = "2024-05-01T10:00:00Z";

fn dashvault(args: &[&str]) -> Output {
    crate::process::dashvault("media", args)
}

fn succeeds(args: &[&str]) -> Output {
    crate::process::succeeds("media", args)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); install ffmpeg"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three consecutive 4 s recordings (320x240 H.264 + AAC, 1 s GOP), cached in
/// `target/test-media`.
fn recordings() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-media");
    std::fs::create_dir_all(&dir).expect("create target/test-media");
    (0..3)
        .map(|i| {
            let path = dir.join(format!("cli_h264_320x240_4s_p{i}.mp4"));
            if !path.exists() {
                let tmp = path.with_extension(format!("tmp{}.mp4", std::process::id()));
                run(Command::new("ffmpeg")
                    .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
                    .arg(format!(
                        "testsrc2=size=320x240:rate=30:duration=4,hue=h={}",
                        i * 40
                    ))
                    .args([
                        "-f",
                        "lavfi",
                        "-i",
                        "sine=frequency=440:sample_rate=48000:duration=4",
                    ])
                    .args([
                        "-c:v",
                        "libx264",
                        "-preset",
                        "ultrafast",
                        "-g",
                        "30",
                        "-c:a",
                        "aac",
                    ])
                    .args(["-metadata", &format!("creation_time={START}"), "-f", "mp4"])
                    .arg(&tmp));
                std::fs::rename(&tmp, &path).expect("rename");
            }
            path
        })
        .collect()
}

fn duration(path: &Path, stream: &str) -> f64 {
    run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream])
        .args(["-show_entries", "stream=duration", "-of", "csv=p=0"])
        .arg(path))
    .trim()
    .parse()
    .expect("ffprobe duration")
}

fn decodes_cleanly(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn str_args(paths: &[PathBuf]) -> Vec<&str> {
    paths
        .iter()
        .map(|p| p.to_str().expect("utf-8 path"))
        .collect()
}

/// Asserts a failure: exit code 1, one line on stderr that contains `want`.
fn assert_fails(out: &Output, want: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(stderr.contains(want), "{stderr:?} should contain {want:?}");
}

#[test]
fn probe_prints_tracks_as_text_and_json() {
    let files = recordings();
    let out = dashvault(&["probe", files[0].to_str().expect("path")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("vide avc1 320x240: 120 samples, 4 keyframes"),
        "{text}"
    );
    let out = dashvault(&["probe", "--json", files[0].to_str().expect("path")]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["tracks"][0]["codec"], "avc1");
    assert_eq!(json["tracks"][1]["handler"], "soun");
    assert_eq!(json["creation_time"], "2024-05-01T10:00:00Z");
    assert!((json["duration"].as_f64().expect("duration") - 4.0).abs() < 1e-6);
}

#[test]
fn cut_in_seconds_and_rfc3339_to_file_and_stdout() {
    let files = recordings();
    let dir = tempfile::tempdir().expect("tempdir");
    let by_seconds = dir.path().join("a.mp4");
    let mut args = vec![
        "cut",
        "--from",
        "1.5",
        "--to",
        "9",
        "-o",
        by_seconds.to_str().expect("path"),
    ];
    args.extend(str_args(&files));
    succeeds(&args);
    assert!((duration(&by_seconds, "v:0") - 8.0).abs() < 0.034);
    assert!((duration(&by_seconds, "a:0") - 8.0).abs() < 0.034);
    decodes_cleanly(&by_seconds);

    let mut args = vec![
        "cut",
        "--from",
        "2024-05-01T10:00:01.5Z",
        "--to",
        "2024-05-01T12:00:09+02:00",
        "-o",
        "-",
    ];
    args.extend(str_args(&files));
    let out = succeeds(&args);
    assert_eq!(
        out.stdout,
        std::fs::read(&by_seconds).expect("read"),
        "stdout differs from file"
    );

    // Past the end: clamped to the 12 s of recordings.
    let clamped = dir.path().join("b.mp4");
    let mut args = vec![
        "cut",
        "--from",
        "10",
        "--to",
        "99",
        "-o",
        clamped.to_str().expect("path"),
    ];
    args.extend(str_args(&files));
    assert!(dashvault(&args).status.success());
    assert!((duration(&clamped, "v:0") - 2.0).abs() < 0.034);
}

#[test]
fn timelapse_lasts_the_input_divided_by_speed() {
    let files = recordings();
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("tl.mp4");
    let mut args = vec![
        "timelapse",
        "--speed",
        "6",
        "-o",
        out_path.to_str().expect("path"),
    ];
    args.extend(str_args(&files));
    succeeds(&args);
    assert!((duration(&out_path, "v:0") - 2.0).abs() < 0.01);
    decodes_cleanly(&out_path);
}

#[test]
fn bad_input_exits_1_with_one_line_naming_the_file() {
    let files = recordings();
    let dir = tempfile::tempdir().expect("tempdir");
    let truncated = dir.path().join("truncated.mp4");
    let bytes = std::fs::read(&files[0]).expect("read");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).expect("write");
    let out_path = dir.path().join("out.mp4");
    let out = out_path.to_str().expect("path");

    assert_fails(
        &dashvault(&["probe", truncated.to_str().expect("path")]),
        "truncated.mp4",
    );
    let missing = dir.path().join("missing.mp4");
    assert_fails(
        &dashvault(&["probe", missing.to_str().expect("path")]),
        "missing.mp4",
    );
    let f0 = files[0].to_str().expect("path");
    let bad = truncated.to_str().expect("path");
    assert_fails(
        &dashvault(&["cut", "--from", "1", "--to", "5", "-o", out, f0, bad]),
        "truncated.mp4",
    );
    assert_fails(
        &dashvault(&["cut", "--from", "5", "--to", "1", "-o", out, f0]),
        "window",
    );
    assert_fails(
        &dashvault(&["cut", "--from", "soon", "--to", "1", "-o", out, f0]),
        "soon",
    );
    assert_fails(
        &dashvault(&[
            "cut",
            "--from",
            "2020-01-01T00:00:00Z",
            "--to",
            "1",
            "-o",
            out,
            f0,
        ]),
        "before the start",
    );
    assert_fails(
        &dashvault(&["timelapse", "--speed", "0", "-o", out, f0]),
        "speed",
    );
    assert!(!out_path.exists(), "failed commands left an output file");
}

#[test]
fn recover_rebuilds_a_cut_off_recording_into_a_new_file() {
    let files = recordings();
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(&files[0]).expect("read");
    let broken = dir.path().join("broken.mp4");
    std::fs::write(&broken, &bytes[..bytes.len() * 7 / 10]).expect("write");
    let out_path = dir.path().join("recovered.mp4");
    let (reference, bad, out) = (
        files[1].to_str().expect("path"),
        broken.to_str().expect("path"),
        out_path.to_str().expect("path"),
    );
    let printed = succeeds(&["recover", "--reference", reference, "-o", out, bad]);
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(
        text.contains("keyframes") && text.contains("audio       left out"),
        "{text}"
    );
    decodes_cleanly(&out_path);
    // 70 % of 4 s, of which the sound takes a little.
    assert!(duration(&out_path, "v:0") > 2.5, "{text}");
    assert_eq!(
        std::fs::read(&broken).expect("read"),
        bytes[..bytes.len() * 7 / 10],
        "the broken recording is kept as it was"
    );

    assert_fails(
        &dashvault(&["recover", "--reference", reference, "-o", bad, bad]),
        "new file",
    );
    let noise = dir.path().join("noise.mp4");
    std::fs::write(&noise, vec![7u8; 10_000]).expect("write");
    let none = dir.path().join("none.mp4");
    assert_fails(
        &dashvault(&[
            "recover",
            "--reference",
            reference,
            "-o",
            none.to_str().expect("path"),
            noise.to_str().expect("path"),
        ]),
        "noise.mp4",
    );
    assert!(!none.exists(), "a failed recovery left an output file");
}

#[test]
fn probe_reads_past_bytes_after_the_last_box_and_says_so() {
    let files = recordings();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = std::fs::read(&files[0]).expect("read");
    bytes.extend_from_slice(&[0; 8]);
    let messy = dir.path().join("messy.mp4");
    std::fs::write(&messy, &bytes).expect("write");
    let out = succeeds(&["probe", messy.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("trailing    8 bytes"), "{text}");
    let clean = succeeds(&["probe", files[0].to_str().expect("path")]);
    assert!(!String::from_utf8_lossy(&clean.stdout).contains("trailing"));
}
