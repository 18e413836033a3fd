//! Recordings cut off by a power loss, rebuilt with a sibling recording's description.
//! Oracles: ffmpeg decodes the result without a word on its error log, and the decoded
//! frames are the original recording's, in the same order.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use dashvault_media::{recover, recover_keeping_original, AudioRecovery, Mp4Index, Recovery};

use crate::fixtures::{decode_errors, ffprobe, recording, run, Layout, Spec};

/// How a recording was broken.
#[derive(Debug, Clone, Copy)]
enum Break {
    /// The file cut at 70 % of its bytes: the `mdat` size runs past the end.
    Cut,
    /// Cut at 70 %, and the `mdat` size never written (0).
    SizeNeverWritten,
    /// The `moov` at the end is lost; the `mdat` is whole.
    MoovLost,
    /// A file the camera had preallocated (its `mdat` size written first): zeros from
    /// 70 % of its bytes on.
    Preallocated,
}

/// Writes the broken copy of `original` into `dir`.
fn broken(original: &Path, how: Break, dir: &Path) -> PathBuf {
    let bytes = fs::read(original).expect("read recording");
    let index = Mp4Index::read(bytes.as_slice()).expect("original indexes");
    let mdat = index.top_level_box(b"mdat").expect("mdat");
    let mut out = match how {
        Break::Cut | Break::SizeNeverWritten => bytes[..bytes.len() * 7 / 10].to_vec(),
        Break::MoovLost => bytes[..mdat.end() as usize].to_vec(),
        Break::Preallocated => {
            let mut zeroed = bytes.clone();
            zeroed[bytes.len() * 7 / 10..].fill(0);
            zeroed
        }
    };
    if let Break::SizeNeverWritten = how {
        let at = mdat.offset as usize;
        out[at..at + 4].copy_from_slice(&[0; 4]);
    }
    let path = dir.join(format!("broken_{how:?}.mp4"));
    fs::write(&path, out).expect("write broken copy");
    path
}

/// Recovers `broken` with `reference` into `dir/recovered.mp4`, checking that the broken
/// file's bytes are left as they were.
fn recover_into(broken: &Path, reference: &Path, dir: &Path) -> (Recovery, PathBuf) {
    let before = fs::read(broken).unwrap();
    let reference = Mp4Index::read(&File::open(reference).unwrap()).expect("reference");
    let source = File::open(broken).unwrap();
    let recovery = recover(&source, &reference).expect("recover");
    let path = dir.join("recovered.mp4");
    let mut out = File::create(&path).unwrap();
    assert_eq!(
        recovery.plan.write_to(&[source], &mut out).unwrap(),
        recovery.plan.len()
    );
    assert!(
        fs::read(broken).unwrap() == before,
        "the broken file is untouched"
    );
    (recovery, path)
}

/// MD5 of each decoded video frame in display order (the first `limit`, if given).
fn frames(path: &Path, limit: Option<usize>) -> Vec<String> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v"]);
    if let Some(n) = limit {
        cmd.args(["-frames:v", &n.to_string()]);
    }
    run(cmd.args(["-f", "framemd5", "-"]))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_string()))
        .collect()
}

/// Recovers `spec` broken `how`; checks the recovered file against the original and
/// returns what was recovered. Frames of the last group of pictures may be shown in
/// another order when the group was cut (its later pictures are missing), so frames
/// are compared up to that group.
fn check(spec: Spec, how: Break) -> Recovery {
    let (original, sibling) = (recording(spec), recording(spec.part(1)));
    let dir = tempfile::tempdir().unwrap();
    let broken = broken(&original, how, dir.path());
    let (recovery, out) = recover_into(&broken, &sibling, dir.path());
    assert_eq!(recovery.warnings, Vec::<String>::new(), "{how:?}");
    assert_eq!(
        decode_errors(&out),
        "",
        "{how:?}: ffmpeg decodes it cleanly"
    );
    let probe = ffprobe(&out, "v");
    assert_eq!(probe.frames, recovery.video_samples as u64, "{how:?}");
    assert!(probe.first_is_key, "{how:?}");
    assert!((probe.duration - recovery.duration).abs() < 0.05, "{how:?}");
    let got = frames(&out, None);
    let want = frames(&original, Some(got.len()));
    let gop = (spec.gop * 30) as usize;
    let settled = got.len().saturating_sub(gop);
    assert_eq!(got[..settled], want[..settled], "{how:?}: frames differ");
    recovery
}

#[test]
fn h264_cut_at_70_percent_keeps_36_s_or_more() {
    let spec = Spec::h264(60).size(640, 360);
    for how in [Break::Cut, Break::SizeNeverWritten, Break::Preallocated] {
        let recovery = check(spec, how);
        assert!(recovery.duration >= 36.0, "{how:?}: {recovery:?}");
        assert!(recovery.keyframes >= 36, "{how:?}: {recovery:?}");
        let AudioRecovery::Skipped(reason) = &recovery.audio else {
            panic!("AAC audio can not be told apart: {:?}", recovery.audio)
        };
        assert!(reason.contains("mp4a"), "{reason}");
    }
}

/// Recovered keeping the original (as ingest does): the new file ends with the broken
/// file's bytes, unchanged, and plays as the plain recovery does.
#[test]
fn a_recovery_keeping_the_original_ends_with_it() {
    let spec = Spec::h264(60).size(640, 360);
    let (original, sibling) = (recording(spec), recording(spec.part(1)));
    let dir = tempfile::tempdir().unwrap();
    let broken = broken(&original, Break::Cut, dir.path());
    let reference = Mp4Index::read(&File::open(&sibling).unwrap()).expect("reference");
    let source = File::open(&broken).unwrap();
    let plain = recover(&source, &reference).expect("recover");
    let kept = recover_keeping_original(&source, &reference).expect("recover");
    let path = dir.path().join("kept.mp4");
    kept.plan
        .write_to(&[source], &mut File::create(&path).unwrap())
        .unwrap();
    let (out, before) = (fs::read(&path).unwrap(), fs::read(&broken).unwrap());
    assert!(out.ends_with(&before), "the original ends the file");
    assert_eq!(decode_errors(&path), "");
    assert_eq!(kept.video_samples, plain.video_samples);
    assert!(kept.duration >= 36.0, "{kept:?}");
    assert_eq!(frames(&path, None).len(), kept.video_samples);
}

#[test]
fn h265_with_its_moov_first_cut_at_70_percent() {
    let spec = Spec::h265(60).size(640, 360).layout(Layout::MoovFirst);
    let recovery = check(spec, Break::Cut);
    assert!(recovery.duration >= 36.0, "{recovery:?}");
}

#[test]
fn a_whole_mdat_without_its_moov_is_recovered_whole() {
    let spec = Spec::h264(60).size(640, 360);
    let recovery = check(spec, Break::MoovLost);
    assert_eq!(recovery.video_samples, 60 * 30);
    assert!((recovery.duration - 60.0).abs() < 1e-9, "{recovery:?}");
}

#[test]
fn pcm_audio_is_recovered_with_the_video() {
    let spec = Spec::h264(20).size(320, 240).pcm();
    let recovery = check(spec, Break::Cut);
    let AudioRecovery::Recovered(samples) = recovery.audio else {
        panic!("PCM audio is recovered: {:?}", recovery.audio)
    };
    assert!(samples > 0);
    // The recovered sound is the original's, up to the recovered length.
    let dir = tempfile::tempdir().unwrap();
    let broken = broken(&recording(spec), Break::Cut, dir.path());
    let (_, out) = recover_into(&broken, &recording(spec.part(1)), dir.path());
    let audio = ffprobe(&out, "a");
    assert!(
        audio.duration > recovery.duration - 0.5,
        "{audio:?} {recovery:?}"
    );
    let md5 = |path: &Path, seconds: f64| {
        run(Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-map", "0:a", "-t", &format!("{seconds}"), "-f", "md5", "-"]))
    };
    assert_eq!(
        md5(&out, audio.duration),
        md5(&recording(spec), audio.duration)
    );
}

#[test]
fn what_holds_no_video_is_refused() {
    let sibling = recording(Spec::h264(2).size(320, 240));
    let reference = Mp4Index::read(&File::open(&sibling).unwrap()).unwrap();
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let mut mdat_of_noise = vec![0, 0, 0, 0];
    mdat_of_noise.extend_from_slice(b"mdat");
    mdat_of_noise.extend_from_slice(&noise);
    for (what, bytes) in [("noise", noise), ("an mdat of noise", mdat_of_noise)] {
        let err = recover(bytes.as_slice(), &reference).unwrap_err();
        assert!(err.is_bad_input(), "{what}: {err}");
    }
}

/// A 3 s H.264 + AAC recording at `size` with x264 options `params` (`repeat-headers=1`:
/// parameter sets before each keyframe; `slices=4`: four slices a picture — both as many
/// cameras write); `hue` tells siblings apart.
fn x264(dir: &Path, name: &str, size: &str, params: &str, hue: u32) -> PathBuf {
    let path = dir.join(name);
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size={size}:rate=30:duration=3,hue=h={hue}"
        ))
        .args(["-f", "lavfi", "-i", "sine=duration=3", "-c:a", "aac"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
            "-bf",
            "2",
        ])
        .args(["-x264-params", params, "-pix_fmt", "yuv420p"])
        .arg(&path));
    path
}

#[test]
fn pictures_of_several_slices_are_one_sample() {
    let dir = tempfile::tempdir().unwrap();
    let original = x264(dir.path(), "a.mp4", "640x360", "slices=4", 0);
    let sibling = x264(dir.path(), "b.mp4", "640x360", "slices=4", 40);
    let broken = broken(&original, Break::Cut, dir.path());
    let (recovery, out) = recover_into(&broken, &sibling, dir.path());
    assert_eq!(decode_errors(&out), "");
    let got = frames(&out, None);
    assert_eq!(got.len(), recovery.video_samples);
    assert!(recovery.duration > 1.8, "{recovery:?}");
    let settled = got.len() - 30;
    assert_eq!(got[..settled], frames(&original, Some(settled))[..]);
}

#[test]
fn a_reference_of_other_settings_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let original = x264(dir.path(), "a.mp4", "640x360", "repeat-headers=1", 0);
    let broken = broken(&original, Break::Cut, dir.path());
    let same = x264(dir.path(), "b.mp4", "640x360", "repeat-headers=1", 40);
    let (recovery, out) = recover_into(&broken, &same, dir.path());
    assert_eq!(recovery.warnings, Vec::<String>::new());
    assert_eq!(decode_errors(&out), "");
    let other = x264(dir.path(), "c.mp4", "320x240", "repeat-headers=1", 40);
    let (recovery, _) = recover_into(&broken, &other, dir.path());
    assert!(
        recovery
            .warnings
            .iter()
            .any(|w| w.contains("parameter sets")),
        "{recovery:?}"
    );
    // Without parameter sets in the samples, the first keyframe is decoded to tell.
    let plain = x264(dir.path(), "d.mp4", "640x360", "slices=1", 0);
    let plain_broken = self::broken(&plain, Break::Cut, dir.path());
    let other = x264(dir.path(), "e.mp4", "320x240", "slices=1", 40);
    let (recovery, _) = recover_into(&plain_broken, &other, dir.path());
    assert!(
        recovery
            .warnings
            .iter()
            .any(|w| w.contains("does not decode")),
        "{recovery:?}"
    );
}

#[test]
fn corrupted_media_data_never_panics() {
    let spec = Spec::h264(2).size(320, 240);
    let bytes = fs::read(recording(spec)).unwrap();
    let reference = Mp4Index::read(&File::open(recording(spec.part(1))).unwrap()).unwrap();
    let cut = &bytes[..bytes.len() * 7 / 10];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..300 {
        let mut broken = cut.to_vec();
        for _ in 0..=round % 8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = 48 + (state as usize) % (broken.len() - 48);
            broken[at] = (state >> 56) as u8;
        }
        if let Ok(recovery) = recover(broken.as_slice(), &reference) {
            let mut out = Vec::new();
            let sources = [broken.as_slice()];
            recovery
                .plan
                .write_range(&sources, 0..recovery.plan.len(), &mut out)
                .expect("a recovered plan writes");
            assert_eq!(out.len() as u64, recovery.plan.len());
        }
    }
}

/// A 4 s recording cut at 70 % and recovered, for the players' tests.
pub fn small_recovered() -> (tempfile::TempDir, PathBuf) {
    let spec = Spec::h264(4).size(640, 360);
    let dir = tempfile::tempdir().unwrap();
    let broken = broken(&recording(spec), Break::Cut, dir.path());
    let (_, out) = recover_into(&broken, &recording(spec.part(1)), dir.path());
    (dir, out)
}
