//! Where a clip's video frames lie in a camera recording it was cut from: the agent cuts
//! clips without re-encoding, so each video sample of the clip is, byte for byte, a
//! sample of the recording. The run of samples is found by their sizes (from a keyframe
//! of the recording) and then every byte of every matched sample is compared, so only
//! ranges that hold are ever listed.

use super::manifest::Range;
use dashvault_media::{Mp4Index, Sample, Track, VIDEO};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Consecutive samples whose sizes must agree before a place is compared byte by byte.
const PROBE: usize = 8;

/// The byte ranges of `video`'s video samples that are the same bytes in `original`
/// (`video_offset` in `video`, `offset` in `original`), adjacent ones merged, in video
/// order; empty when the video was not cut from it (or either file can not be read).
pub fn matching_ranges(video: &Path, original: &Path) -> Vec<Range> {
    matches(video, original).unwrap_or_default()
}

fn matches(video: &Path, original: &Path) -> Option<Vec<Range>> {
    let (mut v, mut o) = (File::open(video).ok()?, File::open(original).ok()?);
    let (vi, oi) = (Mp4Index::read(&v).ok()?, Mp4Index::read(&o).ok()?);
    let (vt, ot) = (video_track(&vi)?, video_track(&oi)?);
    let first = align(&vt.samples, &ot.samples)?;
    let mut ranges: Vec<Range> = Vec::new();
    for (a, b) in vt.samples.iter().zip(&ot.samples[first..]) {
        if a.size != b.size || !same_bytes(&mut v, a, &mut o, b) {
            break;
        }
        let len = u64::from(a.size);
        match ranges.last_mut() {
            Some(last)
                if last.video_offset + last.length == a.offset
                    && last.offset + last.length == b.offset =>
            {
                last.length += len;
            }
            _ => ranges.push(Range {
                video_offset: a.offset,
                offset: b.offset,
                length: len,
            }),
        }
    }
    Some(ranges)
}

/// The file's video track.
fn video_track(index: &Mp4Index) -> Option<&Track> {
    index.tracks.iter().find(|t| t.handler == VIDEO)
}

/// The first keyframe of `original` from which the sizes of `video`'s first samples
/// follow one another.
fn align(video: &[Sample], original: &[Sample]) -> Option<usize> {
    let probe = PROBE.min(video.len());
    if probe == 0 {
        return None;
    }
    (0..original.len().saturating_sub(probe - 1)).find(|&k| {
        original[k].is_sync
            && video[..probe]
                .iter()
                .zip(&original[k..k + probe])
                .all(|(a, b)| a.size == b.size)
    })
}

/// Whether sample `a` of `v` and sample `b` of `o` (of equal size) hold the same bytes.
fn same_bytes(v: &mut File, a: &Sample, o: &mut File, b: &Sample) -> bool {
    let size = a.size as usize;
    let (mut x, mut y) = (vec![0; size], vec![0; size]);
    let read = v
        .seek(SeekFrom::Start(a.offset))
        .and_then(|_| v.read_exact(&mut x))
        .and_then(|()| o.seek(SeekFrom::Start(b.offset)))
        .and_then(|_| o.read_exact(&mut y));
    read.is_ok() && x == y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(sizes: &[u32], sync_every: usize) -> Vec<Sample> {
        let mut offset = 0;
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let s = Sample {
                    offset,
                    size,
                    dts: i as u64,
                    duration: 1,
                    cts_offset: 0,
                    is_sync: i % sync_every == 0,
                    entry: 1,
                };
                offset += u64::from(size);
                s
            })
            .collect()
    }

    #[test]
    fn a_cut_is_found_at_the_keyframe_its_sizes_follow() {
        let recording = samples(&[9, 5, 6, 7, 5, 6, 7, 5, 6, 7, 8, 9, 4, 3, 2, 1], 4);
        let clip = samples(&[5, 6, 7, 5, 6, 7, 8, 9, 4], 4);
        assert_eq!(align(&clip, &recording), Some(4));
        // The same sizes from a frame that is no keyframe are not a cut's start.
        let shifted = samples(&[9, 9, 5, 6, 7, 5, 6, 7, 8, 9, 4], 4);
        assert_eq!(align(&clip, &shifted), None);
        assert_eq!(align(&[], &recording), None);
    }
}
