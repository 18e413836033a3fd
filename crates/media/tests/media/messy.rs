//! Files as real cameras leave them: derived from the real samples by adding what
//! cameras add (noise before the first fix, a record or line cut off, an empty
//! sidecar, bytes after the last box). What can be read is read, the rest is counted.

use std::fs;
use std::path::Path;
use std::process::Command;

use dashvault_media::telemetry::{read_parsed, read_parsed_from, Parsed};
use dashvault_media::Mp4Index;

use crate::fixtures::{recording, run, Spec};
use crate::samples::sample;

/// The shared BlackVue `.gps` log with its anonymised checksum recomputed, so that its
/// one fix reads (see `telemetry::blackvue_gps_mock_format`).
fn blackvue_gps() -> Vec<u8> {
    fs::read_to_string(sample("acolomba__blackvuesync/mock.gps"))
        .expect("read mock.gps")
        .replace("*50", "*5C")
        .into_bytes()
}

/// Reads `bytes` as the server does: from a file whose name says nothing.
fn read_unnamed(bytes: &[u8]) -> Parsed {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload");
    fs::write(&path, bytes).unwrap();
    read_parsed(&path).expect("read as telemetry")
}

#[test]
fn gps_log_with_binary_noise_before_the_first_fix() {
    let clean = read_unnamed(&blackvue_gps());
    assert_eq!(clean.skipped.count, 0);
    assert_eq!(clean.telemetry.gps.len(), 1);
    // Noise that is not UTF-8, on lines of its own and then glued to the first stamp.
    let mut noisy = vec![
        0xff, 0xfe, 0x00, 0x9c, b'\n', 0xc3, 0x28, b'\r', b'\n', 0x80, 0x81,
    ];
    noisy.extend(blackvue_gps());
    let parsed = read_unnamed(&noisy);
    assert_eq!(
        parsed.telemetry, clean.telemetry,
        "the log reads as without noise"
    );
    assert_eq!(parsed.skipped.count, 3, "{:?}", parsed.skipped);
    let first = parsed.skipped.first.unwrap();
    assert!(first.contains("line 1"), "{first}");
}

#[test]
fn gps_log_cut_in_the_middle_of_a_line() {
    let log = blackvue_gps();
    let cut = log.len() - 30;
    let parsed = read_unnamed(&log[..cut]);
    assert!(parsed.telemetry.gps.is_empty(), "the cut sentence is lost");
    assert_eq!(parsed.skipped.count, 1);
    assert_eq!(
        parsed.telemetry.start.unwrap().timestamp_millis(),
        1_553_161_574_690,
        "the stamps before the cut still give the start"
    );
}

#[test]
fn three_gf_with_a_partial_last_record() {
    let data = fs::read(sample("acolomba__blackvuesync/mock.3gf")).unwrap();
    let whole = read_parsed(&sample("acolomba__blackvuesync/mock.3gf")).unwrap();
    assert_eq!((whole.telemetry.accel.len(), whole.skipped.count), (155, 0));
    let cut = &data[..data.len() - 4];
    for parsed in [
        read_unnamed(cut),
        read_parsed_from(cut, Some(Path::new("20190321_094614_N.3gf"))).unwrap(),
    ] {
        assert_eq!(parsed.telemetry.accel.len(), 154);
        assert_eq!(parsed.telemetry.accel[..], whole.telemetry.accel[..154]);
        assert_eq!(parsed.skipped.count, 1);
        assert!(parsed.skipped.first.unwrap().contains("partial record"));
    }
}

#[test]
fn empty_sidecars_are_empty_telemetry() {
    for name in [None, Some(Path::new("x.gps")), Some(Path::new("x.3gf"))] {
        let parsed = read_parsed_from(&[][..], name).expect("an empty sidecar reads");
        assert_eq!(parsed, Parsed::default(), "{name:?}");
    }
    assert_eq!(read_unnamed(&[]), Parsed::default());
}

#[test]
fn noise_is_not_telemetry() {
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("noise.bin");
    for bytes in [&noise[..], b"no telemetry here", b"[oops] not a log\n"] {
        fs::write(&path, bytes).unwrap();
        let err = read_parsed(&path).unwrap_err();
        assert!(
            matches!(err, dashvault_media::Error::Unsupported(_)),
            "{err}"
        );
    }
}

/// ffprobe's view of a file's video stream: frames decoded, or the error it printed.
fn ffprobe_frames(path: &Path) -> String {
    run(Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path))
    .trim()
    .to_string()
}

#[test]
fn mp4_with_bytes_after_its_last_box() {
    let original = recording(Spec::h264(2).size(320, 240));
    let bytes = fs::read(&original).unwrap();
    let clean = Mp4Index::read(bytes.as_slice()).unwrap();
    assert_eq!(clean.trailing_bytes, 0);
    let dir = tempfile::tempdir().unwrap();
    for tail in [
        &[0u8; 8][..],
        &[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02],
        &[0x00, 0x00, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x55],
    ] {
        let mut messy = bytes.clone();
        messy.extend_from_slice(tail);
        let index = Mp4Index::read(messy.as_slice()).expect("indexed despite the tail");
        assert_eq!(index.trailing_bytes, tail.len() as u64, "{tail:02x?}");
        assert_eq!(index.tracks[0].samples, clean.tracks[0].samples);
        assert_eq!(index.top_level, clean.top_level);
        // The oracle reads it the same way.
        let path = dir.path().join("messy.mp4");
        fs::write(&path, &messy).unwrap();
        assert_eq!(ffprobe_frames(&path), ffprobe_frames(&original));
    }
    // A box that runs past the end is a cut-off file, not trailing bytes.
    let mut cut_box = bytes.clone();
    cut_box.extend_from_slice(b"\x00\x00\x10\x00free");
    assert!(Mp4Index::read(cut_box.as_slice()).is_err());
}
