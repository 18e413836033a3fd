//! Cuts across consecutive generated recordings, checked with ffprobe and ffmpeg.

use std::fs::File;
use std::path::{Path, PathBuf};

use dashvault_media::{cut, timelapse, CutPlan, Mp4Index, Part, Retime, TimelapseOptions};

use crate::fixtures::{consecutive, decode_errors, ffprobe, recording, Layout, Spec};

pub fn indexes(paths: &[PathBuf]) -> (Vec<File>, Vec<Mp4Index>) {
    paths
        .iter()
        .map(|p| {
            let f = File::open(p).expect("open recording");
            let i = Mp4Index::read(&f).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (f, i)
        })
        .unzip()
}

/// What the players play: three consecutive 4-second 640x360 H.264 recordings with AAC.
fn three_small_files() -> (Vec<File>, Vec<Mp4Index>) {
    indexes(&consecutive(Spec::h264(4).size(640, 360)))
}

/// A cut of [`three_small_files`] from 2.5 s (back to the keyframe at 2 s) to 10 s, in
/// the third file: 8 s long.
pub fn small_cut() -> (tempfile::TempDir, PathBuf) {
    let (files, idx) = three_small_files();
    write(&cut(&idx, 2.5, 10.0).expect("cut"), &files, "cut.mp4")
}

/// A time-lapse of [`three_small_files`] at 10 frames per second: 12 keyframes, 1.2 s.
pub fn small_timelapse() -> (tempfile::TempDir, PathBuf) {
    let (files, idx) = three_small_files();
    let options = TimelapseOptions {
        every: 1,
        retime: Retime::FrameRate(10.0),
    };
    let plan = timelapse(&idx, options).expect("time-lapse");
    write(&plan, &files, "timelapse.mp4")
}

/// Writes a plan to a fresh file and checks that serving it by ranges gives the same bytes.
pub fn write(plan: &CutPlan, files: &[File], name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    let mut out = File::create(&path).expect("create output");
    assert_eq!(
        plan.write_to(files, &mut out).expect("write plan"),
        plan.len()
    );
    let written = std::fs::read(&path).expect("read output");
    assert_eq!(written.len() as u64, plan.len());
    let len = plan.len();
    for range in [0..len, 0..1, 100..len / 2, len / 3..len - 7, len - 1..len] {
        let mut part = Vec::new();
        plan.write_range(files, range.clone(), &mut part)
            .expect("serve range");
        assert_eq!(
            part,
            written[range.start as usize..range.end as usize],
            "range {range:?}"
        );
    }
    (dir, path)
}

/// Asserts `moov` comes before `mdat`.
fn assert_progressive(path: &Path) {
    let index = Mp4Index::read(&File::open(path).expect("open")).expect("index output");
    let kinds: Vec<String> = index.top_level.iter().map(|b| b.kind.to_string()).collect();
    assert_eq!(kinds, ["ftyp", "moov", "mdat"], "{}", path.display());
}

/// Cuts `[from, to]` and checks the result against ffprobe: frame count and duration within
/// a frame, a keyframe first, audio as long as video, and a clean decode. The output must
/// run from `expect_start` to `to` clamped to the end of the recordings.
fn check_cut(paths: &[PathBuf], from: f64, to: f64, expect_start: f64, fps: f64) -> PathBuf {
    let (files, idx) = indexes(paths);
    let plan = cut(&idx, from, to).expect("cut");
    let to = to.min(dashvault_media::timeline(&idx).expect("timeline").1);
    let (dir, out) = write(&plan, &files, "cut.mp4");
    assert_progressive(&out);
    let v = ffprobe(&out, "v");
    let want = to - expect_start;
    assert!(
        (v.duration - want).abs() <= 1.0 / fps + 1e-3,
        "video duration {} != {want}",
        v.duration
    );
    let frames = (want * fps).round() as i64;
    assert!(
        (v.frames as i64 - frames).abs() <= 1,
        "{} frames, want {frames}",
        v.frames
    );
    assert!(v.first_is_key, "first frame is not a keyframe");
    if idx.iter().all(|i| i.audio().is_some()) {
        let a = ffprobe(&out, "a");
        assert!(
            (a.duration - v.duration).abs() <= 1.0 / fps + 1e-3,
            "audio {} s vs video {} s",
            a.duration,
            v.duration
        );
    }
    let errors = decode_errors(&out);
    assert!(errors.is_empty(), "ffmpeg decode errors: {errors}");
    let kept = dir.keep();
    kept.join("cut.mp4")
}

#[test]
fn h264_across_three_files_moov_at_end() {
    let paths = consecutive(Spec::h264(4));
    // 2.5 s → keyframe at 2 s (1 s GOP); 10.2 s is in the third file.
    check_cut(&paths, 2.5, 10.2, 2.0, 30.0);
}

#[test]
fn h264_two_second_gop_from_keyframe_exactly() {
    let paths = consecutive(Spec::h264(4).gop(2));
    check_cut(&paths, 4.0, 9.0, 4.0, 30.0);
    check_cut(&paths, 3.9, 9.0, 2.0, 30.0);
}

#[test]
fn h265_across_files() {
    let paths = consecutive(Spec::h265(2));
    check_cut(&paths, 0.5, 5.5, 0.0, 30.0);
}

#[test]
fn fragmented_and_faststart_sources() {
    for layout in [Layout::Fragmented, Layout::MoovFirst] {
        let paths = consecutive(Spec::h264(3).layout(layout));
        check_cut(&paths, 1.2, 7.5, 1.0, 30.0);
    }
}

#[test]
fn video_only_sources() {
    let paths = consecutive(Spec::h264(3).size(640, 360).no_audio());
    check_cut(&paths, 2.0, 8.0, 2.0, 30.0);
}

#[test]
fn quicktime_with_pcm_audio() {
    let paths = consecutive(Spec::h264(3).size(640, 360).pcm());
    let (_, idx) = indexes(&paths);
    let audio = idx[0].audio().expect("audio");
    assert_eq!(audio.codec.to_string(), "sowt");
    // One sample per chunk, not one per PCM frame.
    assert!(
        audio.samples.len() < 1000,
        "{} samples",
        audio.samples.len()
    );
    check_cut(&paths, 1.5, 7.2, 1.0, 30.0);
}

#[test]
fn window_past_the_end_is_clamped_and_bad_windows_refused() {
    let paths = consecutive(Spec::h264(4));
    check_cut(&paths, 9.0, 100.0, 9.0, 30.0);
    let (_, idx) = indexes(&paths);
    for (from, to) in [
        (5.0, 5.0),
        (6.0, 2.0),
        (12.0, 20.0),
        (-1.0, 2.0),
        (f64::NAN, 1.0),
    ] {
        let err = cut(&idx, from, to).expect_err("bad window");
        assert!(err.to_string().contains("window"), "{err}");
    }
}

#[test]
fn whole_single_file_keeps_every_frame() {
    let path = recording(Spec::h264(4));
    let out = check_cut(std::slice::from_ref(&path), 0.0, 4.0, 0.0, 30.0);
    assert_eq!(ffprobe(&out, "v").frames, ffprobe(&path, "v").frames);
}

#[test]
fn output_is_a_few_big_page_aligned_ranges() {
    let paths = consecutive(Spec::h264(4));
    let (_, idx) = indexes(&paths);
    let plan = cut(&idx, 1.0, 11.0).expect("cut");
    // Header, then one range per file, each at its source's offset modulo 16 KiB, where
    // the kernel copies fastest (padding between them).
    let mut at = 0;
    let mut ranges = 0;
    for part in plan.parts() {
        match *part {
            Part::Bytes(ref b) => at += b.len() as u64,
            Part::Source { offset, len, .. } => {
                ranges += 1;
                if len >= 1 << 20 {
                    assert_eq!(at % 16384, offset % 16384, "range {ranges} misaligned");
                }
                at += len;
            }
        }
    }
    assert_eq!(ranges, 3, "{:?}", plan.parts().len());
    assert_eq!(at, plan.len());
}

#[test]
fn codec_change_between_files_is_refused_naming_the_file() {
    let paths = [
        recording(Spec::h264(3).size(640, 360).no_audio()),
        recording(Spec::h265(2)),
    ];
    let (_, idx) = indexes(&paths);
    let err = cut(&idx, 1.0, 4.0).expect_err("codec change accepted");
    assert!(
        matches!(&err, dashvault_media::Error::InFile { file: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("codec hvc1 differs from avc1"),
        "{err}"
    );
}

#[test]
fn audio_stays_in_sync_across_files() {
    use crate::fixtures::{beeps, flash_and_beep, flashes};
    let paths: Vec<PathBuf> = (0..3).map(flash_and_beep).collect();
    let (files, idx) = indexes(&paths);
    // From the keyframe at 1 s to 10.5 s: flashes and beeps at 0, 1, … 9 s of output,
    // two of them on file boundaries (3 s and 7 s).
    let plan = cut(&idx, 1.5, 10.5).expect("cut");
    let (_dir, out) = write(&plan, &files, "sync.mp4");
    let video = flashes(&out);
    // silencedetect also reports the end of the stream as the end of a silence.
    let audio: Vec<f64> = beeps(&out).into_iter().filter(|&t| t < 9.5).collect();
    assert_eq!(video.len(), 10, "flashes at {video:?}");
    assert_eq!(audio.len(), 10, "beeps at {audio:?}");
    for (k, (v, a)) in video.iter().zip(&audio).enumerate() {
        assert!((v - k as f64).abs() < 0.001, "flash {k} at {v} s");
        assert!((v - a).abs() < 0.025, "flash at {v} s, beep at {a} s");
    }
}
