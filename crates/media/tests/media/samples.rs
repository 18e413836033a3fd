//! The real files under `../shared/media-samples`: index them, refuse the broken ones.

use std::fs::File;
use std::path::PathBuf;

use dashvault_media::{Mp4Index, AUDIO, VIDEO};

/// Path of a shared media sample.
pub fn sample(name: &str) -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/media-samples"
    ))
    .join(name);
    assert!(
        path.exists(),
        "missing media sample {} (the shared folder must be at ../shared)",
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
