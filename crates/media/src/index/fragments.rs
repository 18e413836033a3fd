//! Samples of a fragmented file: `mvex/trex` defaults and each `moof`'s track runs.

use mp4_atom::{Decode, Moof, Trex};

use super::{Sample, Track, MAX_SAMPLES};
use crate::boxes::{self, BoxInfo};
use crate::error::{Error, Result};
use crate::source::ReadAt;

/// Largest `moof` read into memory.
const MAX_MOOF: u64 = 16 << 20;
/// `sample_is_non_sync_sample` in sample flags.
const NON_SYNC: u32 = 0x0001_0000;

/// Appends the samples of every `moof` in the file to `tracks`.
pub(super) fn read_fragments<R: ReadAt + ?Sized>(
    src: &R,
    moov: &[u8],
    top_level: &[BoxInfo],
    tracks: &mut [Track],
    file_len: u64,
) -> Result<()> {
    let mvex = boxes::find_path(moov, &[b"mvex"]).unwrap_or_default();
    let mut trexes = Vec::new();
    for b in boxes::children(mvex, "moov/mvex") {
        let b = b?;
        if b.kind.0 == *b"trex" {
            trexes.push(
                Trex::decode(&mut &b.data[..])
                    .map_err(|e| Error::malformed("moov/mvex/trex", e.to_string()))?,
            );
        }
    }
    let mut next_dts: Vec<u64> = tracks
        .iter()
        .map(|t| {
            t.samples
                .last()
                .map_or(0, |s| s.dts + u64::from(s.duration))
        })
        .collect();

    for (n, info) in top_level
        .iter()
        .filter(|b| b.kind.0 == *b"moof")
        .enumerate()
    {
        let at = format!("moof[{n}] at offset {}", info.offset);
        if info.size > MAX_MOOF {
            return Err(Error::Unsupported(format!(
                "{at}: {} bytes, more than {MAX_MOOF}",
                info.size
            )));
        }
        let mut buf = vec![0u8; info.size as usize];
        src.read_exact_at(&mut buf, info.offset)?;
        let moof = Moof::decode(&mut &buf[..]).map_err(|e| Error::malformed(&at, e.to_string()))?;
        for traf in &moof.traf {
            let tfhd = &traf.tfhd;
            let Some(ti) = tracks.iter().position(|t| t.id == tfhd.track_id) else {
                return Err(Error::malformed(
                    &at,
                    format!("traf for unknown track {}", tfhd.track_id),
                ));
            };
            let trex = trexes.iter().find(|t| t.track_id == tfhd.track_id);
            let track = &mut tracks[ti];
            let entry_count = track.sample_entries.len();
            let sdi = tfhd
                .sample_description_index
                .or(trex.map(|t| t.default_sample_description_index))
                .unwrap_or(1);
            if sdi == 0 || sdi as usize > entry_count {
                return Err(Error::malformed(
                    &at,
                    format!("sample description index {sdi} out of range"),
                ));
            }
            let default_duration = tfhd
                .default_sample_duration
                .or(trex.map(|t| t.default_sample_duration))
                .unwrap_or(0);
            let default_size = tfhd
                .default_sample_size
                .or(trex.map(|t| t.default_sample_size))
                .unwrap_or(0);
            let default_flags = tfhd
                .default_sample_flags
                .or(trex.map(|t| t.default_sample_flags))
                .unwrap_or(0);
            let base = tfhd.base_data_offset.unwrap_or(info.offset);
            let mut dts = traf
                .tfdt
                .as_ref()
                .map_or(next_dts[ti], |t| t.base_media_decode_time);
            let mut offset = base;
            for trun in &traf.trun {
                if let Some(data_offset) = trun.data_offset {
                    offset = base
                        .checked_add_signed(i64::from(data_offset))
                        .ok_or_else(|| {
                            Error::malformed(&at, "trun data offset before start of file")
                        })?;
                }
                for (k, e) in trun.samples.iter().enumerate() {
                    if track.samples.len() >= MAX_SAMPLES {
                        return Err(Error::Unsupported(format!(
                            "track {}: more than {MAX_SAMPLES} samples",
                            track.id
                        )));
                    }
                    let size = e.size.unwrap_or(default_size);
                    let duration = e.duration.unwrap_or(default_duration);
                    let flags = e.flags.unwrap_or(default_flags);
                    let end = offset.checked_add(u64::from(size)).filter(|&end| end <= file_len).ok_or_else(|| {
                        Error::malformed(
                            &at,
                            format!("trun sample {} ({size} bytes at offset {offset}) points past end of file ({file_len} bytes)", k + 1),
                        )
                    })?;
                    track.samples.push(Sample {
                        offset,
                        size,
                        dts,
                        duration,
                        cts_offset: e
                            .cts
                            .map_or(0, |c| i32::try_from(c).unwrap_or((c as u32) as i32)),
                        is_sync: flags & NON_SYNC == 0,
                        entry: (sdi - 1) as u16,
                    });
                    offset = end;
                    dts = dts
                        .checked_add(u64::from(duration))
                        .ok_or_else(|| Error::malformed(&at, "decode time overflows"))?;
                }
            }
            next_dts[ti] = dts;
        }
    }
    Ok(())
}
