//! The real files under `testdata/media-samples`: index them, refuse the broken ones.

use std::fs::File;
use std::path::PathBuf;

use dashvault_media::{Mp4Index, AUDIO, VIDEO};

/// Path of a real media sample (`testdata/media-samples`).
pub fn sample(name: &str) -> PathBuf {
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
    path
}

pub fn index(name: &str) -> dashvault_media::Result<Mp4Index> {
    Mp4Index::read(&File::open(sample(name)).expect("open sample"))
}

#[test]
fn indexes_every_playable_sample() {
    for name in [
        "Eyevinn__mp4ff/bbb_prog_10s.mp4",
        "Eyevinn__mp4ff/h264.mp4",
        "Eyevinn__mp4ff/hevc.mp4",
        "Eyevinn__mp4ff/prog_8s_dec_dashinit.mp4",
        "jcodec__jcodec/itunes.mov",
        "jcodec__jcodec/example1.mp4",
        "mapillary__mapillary_tools/sample-5s_h265.mp4",
        "abema__go-mp4/sample.mp4",
        "abema__go-mp4/sample_fragmented.mp4",
        "mozilla__mp4parse-rust/hevc_white_frame.mp4",
        "gopro__gpmf-parser/hero7.mp4",
    ] {
        let idx = index(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = idx.video().unwrap_or_else(|| panic!("{name}: no video"));
        eprintln!(
            "{name}: {:.3}s video {} {}x{} {} samples {} sync, shift {}, audio {:?}",
            idx.duration_seconds(),
            v.codec,
            v.width,
            v.height,
            v.samples.len(),
            v.sync_count(),
            v.edit_shift,
            idx.audio()
                .map(|a| (a.codec, a.samples.len(), a.edit_shift)),
        );
        assert!(v.samples[0].is_sync, "{name}: first sample not a keyframe");
        assert!(!v.config.is_empty(), "{name}: no codec config");
        assert!(idx.tracks.iter().any(|t| t.handler == VIDEO));
        let _ = AUDIO;
    }
}

#[test]
fn refuses_broken_samples() {
    for (name, expect) in [
        ("Eyevinn__mp4ff/init_truncated.mp4", "runs past"),
        (
            "mozilla__mp4parse-rust/zero_empty_stsc.mp4",
            "moov/trak[0]/mdia/minf/stbl/",
        ),
    ] {
        let err = index(name).expect_err(name).to_string();
        assert!(err.contains(expect), "{name}: {err}");
    }
}

/// Cuts real files and checks the output with ffmpeg: it decodes with no more complaints
/// than the source itself, starts on a keyframe and lasts as long as the window.
#[test]
fn cuts_real_samples() {
    use crate::cut::write;
    use crate::fixtures::{decode_errors, ffprobe};

    for (name, from, to, start) in [
        ("Eyevinn__mp4ff/bbb_prog_10s.mp4", 2.5, 8.0, None),
        (
            "mapillary__mapillary_tools/sample-5s_h265.mp4",
            1.0,
            4.0,
            Some(0.0),
        ),
        ("jcodec__jcodec/example1.mp4", 0.0, 0.4, Some(0.0)),
        (
            "Eyevinn__mp4ff/prog_8s_dec_dashinit.mp4",
            2.2,
            6.0,
            Some(2.0),
        ),
        ("gopro__gpmf-parser/hero7.mp4", 3.0, 9.0, None),
        ("abema__go-mp4/sample_fragmented.mp4", 0.1, 1.0, Some(0.0)),
        ("Eyevinn__mp4ff/hevc.mp4", 0.0, 1.0, Some(0.0)),
        ("jcodec__jcodec/itunes.mov", 0.0, 1.0, Some(0.0)),
    ] {
        let path = sample(name);
        let file = File::open(&path).expect("open");
        let idx = Mp4Index::read(&file).expect("index");
        let total = dashvault_media::timeline(std::slice::from_ref(&idx))
            .expect("timeline")
            .1;
        let plan = dashvault_media::cut(std::slice::from_ref(&idx), from, to)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (_dir, out) = write(&plan, &[file], "cut.mp4");
        let v = ffprobe(&out, "v");
        assert!(v.first_is_key, "{name}: first frame not a keyframe");
        assert!(v.frames > 0, "{name}: no frames");
        let end = to.min(total);
        if let Some(start) = start {
            assert!(
                (v.duration - (end - start)).abs() < 0.02,
                "{name}: {} s, want {}",
                v.duration,
                end - start
            );
        }
        assert!(
            v.duration >= end - from - 0.02,
            "{name}: {} s is shorter than the window",
            v.duration
        );
        let source_errors = decode_errors(&path).lines().count();
        let errors = decode_errors(&out);
        assert!(errors.lines().count() <= source_errors, "{name}: {errors}");
    }
}

/// Any `Read + Seek` works as a source, and gives the same index as a file.
#[test]
fn seek_reader_source_matches_file() {
    let path = sample("Eyevinn__mp4ff/bbb_prog_10s.mp4");
    let from_file = index("Eyevinn__mp4ff/bbb_prog_10s.mp4").expect("index");
    let cursor = std::io::Cursor::new(std::fs::read(path).expect("read"));
    let from_reader = Mp4Index::read(&dashvault_media::SeekReader::new(cursor)).expect("index");
    assert_eq!(from_file.tracks.len(), from_reader.tracks.len());
    for (a, b) in from_file.tracks.iter().zip(&from_reader.tracks) {
        assert_eq!(a.samples, b.samples);
    }
    assert_eq!(from_file.top_level, from_reader.top_level);
}
