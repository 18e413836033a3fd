//! Broken input: truncated and corrupted recordings give errors, never panics or hangs.

use dashvault_media::{cut, timelapse, Mp4Index, Retime, TimelapseOptions};

use crate::fixtures::{recording, Layout, Spec};

fn small(layout: Layout) -> Vec<u8> {
    std::fs::read(recording(Spec::h264(2).size(320, 240).layout(layout))).expect("read fixture")
}

/// Everything the crate does with an index must survive whatever the index says.
fn exercise(bytes: &[u8]) {
    if let Ok(idx) = Mp4Index::read(bytes) {
        let files = [idx];
        for (from, to) in [(0.0, 1.0), (0.5, 100.0)] {
            if let Ok(plan) = cut(&files, from, to) {
                let mut out = Vec::new();
                let _ = plan.write_range(&[bytes], 0..plan.len(), &mut out);
            }
        }
        let _ = timelapse(
            &files,
            TimelapseOptions {
                every: 1,
                retime: Retime::Speed(4.0),
            },
        );
    }
}

#[test]
fn every_truncation_is_an_error() {
    for layout in [Layout::MoovAtEnd, Layout::MoovFirst, Layout::Fragmented] {
        let bytes = small(layout);
        let len = bytes.len();
        // Every offset through the header boxes, then a spread over the whole file.
        let offsets = (0..4096.min(len))
            .chain((0..len).step_by(len / 1500 + 1))
            .chain(len - 64..len);
        for cut_at in offsets {
            let truncated = &bytes[..cut_at];
            let result = Mp4Index::read(truncated);
            assert!(
                result.is_err(),
                "{layout:?} truncated to {cut_at} of {len} bytes was accepted"
            );
            let err = result.unwrap_err();
            assert!(err.is_bad_input(), "{layout:?} at {cut_at}: {err}");
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    for layout in [Layout::MoovAtEnd, Layout::Fragmented] {
        let bytes = small(layout);
        let moov = Mp4Index::read(&bytes[..])
            .expect("index")
            .top_level
            .iter()
            .filter(|b| b.kind.to_string() == "moov" || b.kind.to_string() == "moof")
            .map(|b| (b.offset as usize, (b.offset + b.size) as usize))
            .collect::<Vec<_>>();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for &(start, end) in &moov {
            for _ in 0..400 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = start + (state as usize) % (end - start);
                let mut broken = bytes.clone();
                broken[at] ^= 1 << (state >> 60 & 7);
                exercise(&broken);
            }
        }
    }
}

#[test]
fn garbage_is_refused_with_a_message() {
    for (bytes, want) in [
        (&b""[..], "empty file"),
        (&b"\0\0\0\x10ftypisom\0\0\0\0"[..], "moov not found"),
        (&b"\0\0\0\x08moo"[..], "truncated"),
        (&b"\0\0\x10\0moov"[..], "runs past the end"),
        (
            &b"# dashvault\n\nA self-hostable cloud"[..],
            "not an MP4/MOV file (it looks like text)",
        ),
        (
            &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0"[..],
            "not an MP4/MOV file (it looks like a PNG image)",
        ),
    ] {
        let err = Mp4Index::read(bytes)
            .expect_err("garbage accepted")
            .to_string();
        assert!(err.contains(want), "{err:?} should mention {want:?}");
    }
}

/// Sets every `ctts` entry of the first track to an extreme offset (found by the fuzzer:
/// shifting negative offsets overflowed).
#[test]
fn extreme_composition_offsets() {
    let bytes = small(Layout::MoovAtEnd);
    let at = bytes
        .windows(4)
        .position(|w| w == b"ctts")
        .expect("fixture has B-frames")
        + 4;
    let count = u32::from_be_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
    for (version, extreme) in [(1u8, i32::MIN), (1, i32::MAX), (0, -1)] {
        let mut broken = bytes.clone();
        broken[at] = version;
        for k in 0..count {
            let value = if k % 2 == 0 {
                extreme
            } else {
                -extreme.saturating_add(1)
            };
            let entry = at + 8 + k * 8 + 4;
            broken[entry..entry + 4].copy_from_slice(&value.to_be_bytes());
        }
        exercise(&broken);
    }
}
