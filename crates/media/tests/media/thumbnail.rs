//! Thumbnails of real H.264 and H.265 files, checked with ffprobe and against ffmpeg's
//! own decode of the same keyframe.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use dashvault_media::thumbnail::{thumbnail, DEFAULT_WIDTH};
use dashvault_media::Error;

use crate::samples::sample;

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.stderr(Stdio::piped()).output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} ({e}): install ffmpeg (apt-get install ffmpeg)")
    });
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Codec, width and height of the only stream of an image, as ffprobe sees it.
fn probe(path: &Path) -> (String, usize, usize) {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path));
    let text = String::from_utf8(out).unwrap();
    let fields: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(fields.len(), 3, "ffprobe said {text:?}");
    (
        fields[0].to_string(),
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
    )
}

/// 8-bit gray pixels of an image.
fn gray(path: &Path) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]))
}

/// 8-bit gray pixels of ffmpeg's decode of the first keyframe at or after `at` seconds,
/// scaled with its area filter.
fn ffmpeg_keyframe(path: &Path, at: f64, (w, h): (usize, usize)) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-skip_frame", "nokey", "-i"])
        .arg(path)
        .args([
            "-vf",
            &format!("select=gte(t\\,{at}),scale={w}:{h}:flags=area"),
        ])
        .args([
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "pipe:1",
        ]))
}

fn mean_and_variance(px: &[u8]) -> (f64, f64) {
    let n = px.len() as f64;
    let mean = px.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
    let var = px
        .iter()
        .map(|&p| (f64::from(p) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var)
}

/// Writes the thumbnail, checks it is a JPEG of the expected size, returns its path.
fn make(dir: &Path, name: &str, at: f64, width: u32, expect: (usize, usize)) -> std::path::PathBuf {
    let jpeg = thumbnail(&sample(name), at, width).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(&jpeg[..2], [0xff, 0xd8], "{name}: JPEG start marker");
    let out = dir.join(format!("{}.jpg", name.replace('/', "_")));
    fs::write(&out, jpeg).unwrap();
    assert_eq!(
        probe(&out),
        ("mjpeg".to_string(), expect.0, expect.1),
        "{name}"
    );
    out
}

/// Compares our thumbnail with ffmpeg's decode of the same keyframe at the same size:
/// the Pearson correlation of their gray pixels (blind to the small range and matrix
/// differences of two YUV→RGB→gray paths) and the mean absolute difference.
fn compare_to_ffmpeg(name: &str, at: f64, thumb: &Path, size: (usize, usize)) -> (f64, f64) {
    let ours = gray(thumb);
    let theirs = ffmpeg_keyframe(&sample(name), at, size);
    assert_eq!(ours.len(), theirs.len());
    let n = ours.len() as f64;
    let diff = ours
        .iter()
        .zip(&theirs)
        .map(|(&a, &b)| f64::from(a.abs_diff(b)))
        .sum::<f64>()
        / n;
    let (ma, va) = mean_and_variance(&ours);
    let (mb, vb) = mean_and_variance(&theirs);
    let cov = ours
        .iter()
        .zip(&theirs)
        .map(|(&a, &b)| (f64::from(a) - ma) * (f64::from(b) - mb))
        .sum::<f64>()
        / n;
    let corr = if va == 0.0 || vb == 0.0 {
        if (ma - mb).abs() < 3.0 {
            1.0
        } else {
            0.0
        }
    } else {
        cov / (va * vb).sqrt()
    };
    eprintln!("{name} at {at} s: correlation {corr:.4}, mean |ours - ffmpeg| = {diff:.2} gray levels, variance {va:.0}");
    (corr, diff)
}

/// Asserts that our thumbnail shows the same picture as ffmpeg's.
fn assert_same_picture(name: &str, at: f64, thumb: &Path, size: (usize, usize)) {
    let (corr, diff) = compare_to_ffmpeg(name, at, thumb, size);
    assert!(
        corr > 0.97 && diff < 16.0,
        "{name}: correlation {corr}, mean difference {diff} to ffmpeg's keyframe"
    );
}

#[test]
fn h264_thumbnail_matches_ffmpeg_keyframe() {
    let dir = tempfile::tempdir().unwrap();
    let name = "Eyevinn__mp4ff/bbb_prog_10s.mp4";
    // The first keyframe (0 s) is black; the one at or after 3 s is at 4.625 s.
    let thumb = make(dir.path(), name, 3.0, 160, (160, 120));
    let (_, var) = mean_and_variance(&gray(&thumb));
    assert!(var > 100.0, "{name}: thumbnail is blank (variance {var})");
    assert_same_picture(name, 3.0, &thumb, (160, 120));
}

#[test]
fn h264_gopro_thumbnail_later_keyframe_default_width() {
    let dir = tempfile::tempdir().unwrap();
    // 848x480 → 320 wide keeps the aspect ratio: 480 * 320 / 848 = 181.1.
    let thumb = make(
        dir.path(),
        "gopro__gpmf-parser/hero7.mp4",
        5.0,
        DEFAULT_WIDTH,
        (320, 181),
    );
    let (_, var) = mean_and_variance(&gray(&thumb));
    assert!(var > 100.0, "hero7 thumbnail is blank (variance {var})");
}

#[test]
fn h265_thumbnail_through_ffmpeg_fallback() {
    let dir = tempfile::tempdir().unwrap();
    // Portrait 1376x1840 → 320 x 427.9.
    let name = "mapillary__mapillary_tools/sample-5s_h265.mp4";
    let thumb = make(dir.path(), name, 0.0, 320, (320, 428));
    let (_, var) = mean_and_variance(&gray(&thumb));
    assert!(var > 100.0, "{name}: thumbnail is blank (variance {var})");
    assert_same_picture(name, 0.0, &thumb, (320, 428));
    // A one-frame all-white HEVC file gives a white thumbnail.
    let white = make(
        dir.path(),
        "mozilla__mp4parse-rust/hevc_white_frame.mp4",
        0.0,
        64,
        (64, 48),
    );
    let (mean, _) = mean_and_variance(&gray(&white));
    assert!(mean > 235.0, "white frame thumbnail has mean {mean}");
}

#[test]
fn every_h264_and_h265_sample_matches_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "Eyevinn__mp4ff/h264.mp4",
        "Eyevinn__mp4ff/hevc.mp4",
        "Eyevinn__mp4ff/prog_8s_dec_dashinit.mp4",
        "jcodec__jcodec/itunes.mov",
        "jcodec__jcodec/example1.mp4",
        "abema__go-mp4/sample.mp4",
        "abema__go-mp4/sample_fragmented.mp4",
    ] {
        let jpeg = thumbnail(&sample(name), 0.0, 160).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = dir.path().join("t.jpg");
        fs::write(&out, jpeg).unwrap();
        let (codec, w, h) = probe(&out);
        assert_eq!((codec.as_str(), w), ("mjpeg", 160), "{name}");
        // ffmpeg turns itunes.mov (rotation -90) upright too: same size, same pixels.
        assert_same_picture(name, 0.0, &out, (w, h));
    }
}

#[test]
fn bad_requests_and_broken_files_are_errors() {
    let name = sample("Eyevinn__mp4ff/bbb_prog_10s.mp4");
    let err = thumbnail(&name, 60.0, 320).unwrap_err();
    assert!(
        matches!(err, Error::Request(_)) && err.to_string().contains("no keyframe"),
        "{err}"
    );
    assert!(matches!(thumbnail(&name, 0.0, 0), Err(Error::Request(_))));
    assert!(matches!(
        thumbnail(&name, f64::NAN, 320),
        Err(Error::Request(_))
    ));
    let data = fs::read(&name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.mp4");
    fs::write(&cut, &data[..data.len() - 1000]).unwrap();
    assert!(thumbnail(&cut, 0.0, 320).is_err(), "truncated moov");
    // Keyframe slice data overwritten with garbage, NAL lengths kept, so that the bytes
    // reach the decoder: it fails or returns a picture, never panics or crashes.
    let index = dashvault_media::Mp4Index::read(&data).unwrap();
    let key = index
        .video()
        .unwrap()
        .samples
        .iter()
        .find(|s| s.is_sync)
        .copied()
        .unwrap();
    let (start, end) = (
        key.offset as usize,
        (key.offset + u64::from(key.size)) as usize,
    );
    let mut seed = 0x2545_f491_u32;
    for round in 0..8 {
        let mut broken = data.clone();
        let mut at = start;
        while at + 4 < end {
            let len = u32::from_be_bytes(broken[at..at + 4].try_into().unwrap()) as usize;
            let nal = at + 4;
            // Keep the NAL header byte and a few slice-header bytes on even rounds.
            let keep = if round % 2 == 0 { 1 } else { 4 };
            for b in broken[(nal + keep).min(end)..(nal + len).min(end)].iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                if seed & 3 == 0 {
                    *b = (seed >> 8) as u8;
                }
            }
            at = nal + len;
        }
        let path = dir.path().join(format!("garbage{round}.mp4"));
        fs::write(&path, broken).unwrap();
        let _ = thumbnail(&path, 0.0, 320);
    }
}
