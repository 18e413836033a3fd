//! The index of one MP4 file: its tracks and every sample's place and time.
//!
//! [`Mp4Index::read`] reads only the boxes it needs (`moov`, each `moof`) through a
//! [`ReadAt`] source, checks every size, count and offset against the file, and turns the
//! sample tables (`stsz`, `stts`, `ctts`, `stss`, `stsc`, `stco`/`co64`, edit lists) or the
//! fragment runs (`tfhd`, `tfdt`, `trun`) into one flat list of [`Sample`]s per track.

mod fragments;
mod tables;

use chrono::{DateTime, Utc};
use mp4_atom::{Decode, Mvhd};
use serde::Serialize;

use crate::boxes::{self, BoxInfo, FourCc};
use crate::error::{Error, Result};
use crate::source::ReadAt;

/// Largest `moov` read into memory (a day of recording needs a few tens of MiB).
const MAX_MOOV: u64 = 128 << 20;
/// Largest number of samples in one track; bounds memory on hostile tables.
pub(crate) const MAX_SAMPLES: usize = 1 << 22;
/// Seconds from 1904-01-01 (the MP4 epoch) to 1970-01-01.
const MP4_EPOCH_OFFSET: i64 = 2_082_844_800;

/// Handler type of video tracks.
pub const VIDEO: FourCc = FourCc::new(b"vide");
/// Handler type of audio tracks.
pub const AUDIO: FourCc = FourCc::new(b"soun");

/// Where and when one sample (a video frame, an audio frame, a telemetry record) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// Offset of its first byte in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode time in the track's timescale.
    pub dts: u64,
    /// Duration in the track's timescale.
    pub duration: u32,
    /// Composition (display) time minus decode time, in the track's timescale.
    pub cts_offset: i32,
    /// A random access point (keyframe).
    pub is_sync: bool,
    /// Index into [`Track::sample_entries`] of the description this sample uses.
    pub entry: u16,
}

/// One track of a file, with its samples in decode order.
#[derive(Debug, Clone, Serialize)]
pub struct Track {
    /// Track id from `tkhd`.
    pub id: u32,
    /// Handler type: `vide`, `soun`, `meta`, `text`, `tmcd`…
    pub handler: FourCc,
    /// Codec of the first sample description: `avc1`, `hvc1`, `hev1`, `mp4a`, `gpmd`…
    pub codec: FourCc,
    /// Ticks per second of this track's times.
    pub timescale: u32,
    /// Sum of the sample durations, in ticks.
    pub duration: u64,
    /// Coded width in pixels (video only, else 0).
    pub width: u16,
    /// Coded height in pixels (video only, else 0).
    pub height: u16,
    /// Body of the codec configuration box of the first description: the `avcC` or `hvcC`
    /// record for video, the `esds` descriptor for AAC; empty when there is none.
    pub config: Vec<u8>,
    /// The raw sample description boxes from `stsd`, as found (kept to copy into output).
    #[serde(skip)]
    pub sample_entries: Vec<Vec<u8>>,
    /// Ticks to add to `dts + cts_offset` to get the presentation time (from the edit
    /// list: empty edits delay the track, a media time trims its start).
    pub edit_shift: i64,
    /// Samples in decode order.
    #[serde(skip)]
    pub samples: Vec<Sample>,
    /// Header fields the writer copies into output (matrix, language).
    #[serde(skip)]
    pub(crate) headers: TrackHeaders,
}

/// Track-level boxes the writer copies from the source.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrackHeaders {
    /// The decoded `tkhd` (matrix, volume, size).
    pub tkhd: mp4_atom::Tkhd,
    /// The `mdhd` language code.
    pub language: String,
}

impl Track {
    /// Presentation time of a sample, in ticks (may be negative for trimmed samples).
    pub fn pts(&self, sample: &Sample) -> i64 {
        i64::try_from(sample.dts)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(sample.cts_offset))
            .saturating_add(self.edit_shift)
    }

    /// Presentation time in seconds of the first shown sample (0 for an empty track).
    pub fn start_seconds(&self) -> f64 {
        let start = self.samples.iter().map(|s| self.pts(s)).min().unwrap_or(0);
        self.seconds(start)
    }

    /// Presentation time in seconds of the end of the track: the latest sample end.
    pub fn end_seconds(&self) -> f64 {
        let end = self
            .samples
            .iter()
            .map(|s| self.pts(s).saturating_add(i64::from(s.duration)))
            .max()
            .unwrap_or(0);
        self.seconds(end)
    }

    /// Converts ticks of this track to seconds.
    pub fn seconds(&self, ticks: i64) -> f64 {
        ticks as f64 / f64::from(self.timescale.max(1))
    }

    /// Number of sync samples (keyframes).
    pub fn sync_count(&self) -> usize {
        self.samples.iter().filter(|s| s.is_sync).count()
    }
}

/// Everything known about one MP4 file without reading its media data.
#[derive(Debug, Clone, Serialize)]
pub struct Mp4Index {
    /// File length in bytes.
    pub file_len: u64,
    /// Ticks per second of movie-level times (`mvhd`).
    pub movie_timescale: u32,
    /// Movie duration from `mvhd`, in movie ticks.
    pub movie_duration: u64,
    /// Creation time from `mvhd`, when set.
    pub creation_time: Option<DateTime<Utc>>,
    /// True when samples come from `moof` fragments.
    pub fragmented: bool,
    /// Tracks in `moov` order.
    pub tracks: Vec<Track>,
    /// Every top-level box, in file order.
    pub top_level: Vec<BoxInfo>,
    /// Bytes after the last complete top-level box that are not a box (zero padding or
    /// noise a camera left at the end); players ignore them, and so does the index.
    pub trailing_bytes: u64,
    /// Body of the `moov` box.
    #[serde(skip)]
    moov: Vec<u8>,
}

impl Mp4Index {
    /// Reads and checks the index of the MP4 file in `src`.
    pub fn read<R: ReadAt + ?Sized>(src: &R) -> Result<Self> {
        let file_len = src.size()?;
        let (top_level, trailing_bytes) = scan_top_level(src, file_len)
            .map_err(|err| crate::sniff::not_mp4(src, file_len).map_or(err, Error::NotMp4))?;
        let moov_info = top_level
            .iter()
            .find(|b| b.kind.0 == *b"moov")
            .ok_or_else(|| Error::malformed("file", "moov not found"))?;
        if moov_info.body_len() > MAX_MOOV {
            return Err(Error::Unsupported(format!(
                "moov of {} bytes is larger than the {MAX_MOOV} bytes supported",
                moov_info.body_len()
            )));
        }
        let mut moov = vec![0u8; moov_info.body_len() as usize];
        src.read_exact_at(&mut moov, moov_info.body_offset())?;

        let mvhd_box = boxes::children(&moov, "moov")
            .find(|b| b.as_ref().map_or(true, |b| b.kind.0 == *b"mvhd"))
            .transpose()?
            .ok_or_else(|| Error::malformed("moov", "mvhd not found"))?;
        let mvhd = Mvhd::decode(&mut &mvhd_box.data[..])
            .map_err(|e| Error::malformed("moov/mvhd", e.to_string()))?;
        if mvhd.timescale == 0 {
            return Err(Error::malformed("moov/mvhd", "timescale is 0"));
        }

        let mut tracks = Vec::new();
        for (i, trak) in boxes::children(&moov, "moov")
            .filter(|b| b.as_ref().map_or(true, |b| b.kind.0 == *b"trak"))
            .enumerate()
        {
            let at = format!("moov/trak[{i}]");
            tracks.push(tables::read_track(
                trak?.body,
                &at,
                mvhd.timescale,
                file_len,
            )?);
        }
        if tracks.is_empty() {
            return Err(Error::malformed("moov", "no trak box"));
        }

        let fragmented = boxes::find_path(&moov, &[b"mvex"]).is_some();
        if fragmented {
            fragments::read_fragments(src, &moov, &top_level, &mut tracks, file_len)?;
        }
        for (i, t) in tracks.iter_mut().enumerate() {
            t.duration = t
                .samples
                .iter()
                .try_fold(0u64, |acc, s| acc.checked_add(u64::from(s.duration)))
                .ok_or_else(|| {
                    Error::malformed(format!("moov/trak[{i}]"), "sample durations overflow")
                })?;
        }
        if tracks.iter().all(|t| t.samples.is_empty()) {
            return Err(Error::malformed("moov", "no track has any sample"));
        }

        let creation_time = i64::try_from(mvhd.creation_time)
            .ok()
            .filter(|&t| t > MP4_EPOCH_OFFSET)
            .and_then(|t| DateTime::from_timestamp(t - MP4_EPOCH_OFFSET, 0));
        Ok(Mp4Index {
            file_len,
            movie_timescale: mvhd.timescale,
            movie_duration: mvhd.duration,
            creation_time,
            fragmented,
            tracks,
            top_level,
            trailing_bytes,
            moov,
        })
    }

    /// The body of the box at `path` inside `moov`, e.g. `[b"udta", b"GPMF"]` or `[b"gps "]`.
    pub fn moov_box(&self, path: &[&[u8; 4]]) -> Option<&[u8]> {
        boxes::find_path(&self.moov, path)
    }

    /// The first top-level box of a type (`mdat`, `free`, `udta`…).
    pub fn top_level_box(&self, kind: &[u8; 4]) -> Option<BoxInfo> {
        self.top_level.iter().find(|b| b.kind.0 == *kind).copied()
    }

    /// The first video track with samples.
    pub fn video(&self) -> Option<&Track> {
        self.first_track(VIDEO)
    }

    /// The first audio track with samples.
    pub fn audio(&self) -> Option<&Track> {
        self.first_track(AUDIO)
    }

    fn first_track(&self, handler: FourCc) -> Option<&Track> {
        self.tracks
            .iter()
            .find(|t| t.handler == handler && !t.samples.is_empty())
    }

    /// Duration in seconds: the video track's presentation end, else the longest track's.
    pub fn duration_seconds(&self) -> f64 {
        match self.video() {
            Some(v) => v.end_seconds(),
            None => self
                .tracks
                .iter()
                .map(Track::end_seconds)
                .fold(0.0, f64::max),
        }
    }
}

/// Lists the top-level boxes of the file, which must tile it up to trailing bytes that
/// are no box at all; returns the boxes and the number of trailing bytes.
fn scan_top_level<R: ReadAt + ?Sized>(src: &R, file_len: u64) -> Result<(Vec<BoxInfo>, u64)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while offset < file_len {
        match boxes::read_header(src, offset, file_len, "file") {
            Ok(info) if is_box_type(&info.kind.0) => {
                found.push(info);
                offset = info.end();
            }
            Ok(_) => break,
            Err(_) if is_trailing(src, offset, file_len)? => break,
            Err(err) => return Err(err),
        }
    }
    if file_len == 0 {
        return Err(Error::malformed("file", "empty file"));
    }
    if found.is_empty() {
        return Err(Error::malformed(
            "file",
            "no complete box (truncated, or not an MP4 file)",
        ));
    }
    Ok((found, file_len - offset))
}

/// True for the four letters, digits or spaces of a real top-level box type.
fn is_box_type(kind: &[u8; 4]) -> bool {
    kind.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ')
}

/// Whether the bytes from `offset`, which do not hold a whole box, are trailing bytes
/// rather than a box cut off: fewer than a header, or a header that is no box (its type
/// is not letters, or its size is smaller than a header). A real box that runs past the
/// end means the file was cut off, and stays an error.
fn is_trailing<R: ReadAt + ?Sized>(src: &R, offset: u64, file_len: u64) -> Result<bool> {
    if file_len - offset < 8 {
        return Ok(true);
    }
    let mut head = [0u8; 8];
    src.read_exact_at(&mut head, offset)?;
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kind = [head[4], head[5], head[6], head[7]];
    Ok(!is_box_type(&kind) || (2..8).contains(&size))
}
