//! Telemetry inside an MP4: a GoPro `gpmd` track, Novatek `freeGPS` blocks, BlackVue's
//! embedded `gps ` / `3gf ` logs, or Tesla SEI records in the H.264 frames, tried in
//! that order.
//!
//! Built on the crate's [`Mp4Index`]: the `gpmd` samples are read one at a time at their
//! indexed offsets and timed by the track's own clock; Novatek blocks are found through
//! the `moov/gps ` index, or else among the top-level `free` boxes (as are BlackVue's
//! logs, read whole: a few tens of KiB a minute); for Tesla only the
//! first 4 KiB of each video frame are read (the SEI precedes the slices), never the
//! whole video.

use crate::boxes::BoxInfo;
use crate::error::{Error, Result};
use crate::index::Mp4Index;
use crate::nal::AvcConfig;
use crate::source::ReadAt;
use crate::telemetry::gpmf::{self, GpmfPayload};
use crate::telemetry::Telemetry;
use crate::telemetry::{blackvue, novatek, tesla};

/// Largest `gpmd` sample read (GoPro writes a few KiB a second).
const MAX_GPMF_SAMPLE: u32 = 4 << 20;
/// Bytes of a `freeGPS` block read: every field of the layout is within them.
const BLOCK_READ: u64 = novatek::MIN_BLOCK as u64;
/// Largest BlackVue `free` box read (a minute of logs is a few tens of KiB).
const MAX_BLACKVUE_BOX: u64 = 16 << 20;
/// Bytes read at the start of each video frame to find a Tesla SEI record (it precedes
/// the slices, after at most an access unit delimiter and the parameter sets).
const SEI_PREFIX: u32 = 4096;

/// True when 4 bytes are a top-level box type that starts MP4 / QuickTime files.
pub fn is_mp4_box_type(kind: &[u8]) -> bool {
    matches!(
        kind,
        b"ftyp" | b"moov" | b"mdat" | b"free" | b"skip" | b"wide" | b"pnot" | b"uuid"
    )
}

/// Reads the telemetry of an MP4 file: the GoPro `gpmd` track if there is one, else the
/// Novatek `freeGPS` blocks, else BlackVue's embedded logs, else Tesla SEI records;
/// [`Error::Unsupported`] when it has none of them.
pub fn read_mp4<R: ReadAt + ?Sized>(src: &R) -> Result<Telemetry> {
    let index = Mp4Index::read(src)?;
    if let Some(out) = read_gpmd(src, &index)? {
        return Ok(out);
    }
    if let Some(out) = read_novatek(src, &index)? {
        return Ok(out);
    }
    if let Some(out) = read_blackvue(src, &index)? {
        return Ok(out);
    }
    if let Some(out) = read_tesla(src, &index)? {
        return Ok(out);
    }
    Err(Error::Unsupported(
        "MP4 has no telemetry we read (GoPro gpmd track, Novatek freeGPS blocks, BlackVue gps/3gf blocks, Tesla SEI)"
            .into(),
    ))
}

/// The GoPro `gpmd` track, payload by payload.
fn read_gpmd<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Telemetry>> {
    let Some(track) = index.tracks.iter().find(|t| t.codec.0 == *b"gpmd") else {
        return Ok(None);
    };
    let mut out = Telemetry::default();
    let mut buf = Vec::new();
    for (i, sample) in track.samples.iter().enumerate() {
        if sample.size > MAX_GPMF_SAMPLE {
            return Err(Error::malformed(
                format!("gpmd track {} sample {i}", track.id),
                format!(
                    "{} bytes, more than the {MAX_GPMF_SAMPLE} accepted",
                    sample.size
                ),
            ));
        }
        buf.resize(sample.size as usize, 0);
        src.read_exact_at(&mut buf, sample.offset)?;
        let payload = GpmfPayload {
            data: &buf,
            t: track.seconds(track.pts(sample)),
            duration: track.seconds(i64::from(sample.duration)),
        };
        gpmf::add_payload(payload, &mut out).map_err(|e| match e {
            Error::Malformed { at, problem } => {
                Error::malformed(format!("gpmd track {} sample {i}: {at}", track.id), problem)
            }
            other => other,
        })?;
    }
    gpmf::finish(&mut out);
    Ok(Some(out))
}

/// Novatek `freeGPS` blocks, through `moov/gps ` or among the top-level `free` boxes.
fn read_novatek<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Telemetry>> {
    let places: Vec<(u64, u64)> = match index.moov_box(&[b"gps "]) {
        Some(body) => novatek::parse_gps_index(body)?,
        None => free_boxes(index).map(|b| (b.offset, b.size)).collect(),
    };
    if places.len() > novatek::MAX_BLOCKS {
        return Err(Error::Unsupported(format!(
            "{} freeGPS blocks, more than the {} read",
            places.len(),
            novatek::MAX_BLOCKS
        )));
    }
    let mut blocks = Vec::new();
    for (offset, size) in places {
        let len = size.min(BLOCK_READ);
        if offset
            .checked_add(len)
            .is_none_or(|end| end > index.file_len)
        {
            return Err(Error::malformed(
                "moov/gps ",
                format!("block at {offset} of {size} bytes is past the end of the file"),
            ));
        }
        let mut block = vec![0u8; len as usize];
        src.read_exact_at(&mut block, offset)?;
        if novatek::is_freegps(&block) {
            blocks.push(block);
        }
    }
    if blocks.is_empty() {
        return Ok(None);
    }
    novatek::parse_blocks(blocks.iter().map(Vec::as_slice)).map(Some)
}

/// BlackVue's copies of its `.gps` and `.3gf` logs, in a top-level `free` box.
fn read_blackvue<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Telemetry>> {
    for info in free_boxes(index) {
        let mut head = [0u8; 8];
        if info.body_len() < 8 {
            continue;
        }
        src.read_exact_at(&mut head, info.body_offset())?;
        if !blackvue::is_embedded_block(&head) {
            continue;
        }
        if info.body_len() > MAX_BLACKVUE_BOX {
            return Err(Error::malformed(
                format!("free box at {}", info.offset),
                format!(
                    "{} bytes of BlackVue data, more than the {MAX_BLACKVUE_BOX} read",
                    info.body_len()
                ),
            ));
        }
        let mut body = vec![0u8; info.body_len() as usize];
        src.read_exact_at(&mut body, info.body_offset())?;
        if let Some(out) = blackvue::parse_embedded(&body)? {
            return Ok(Some(out));
        }
    }
    Ok(None)
}

/// The top-level `free` boxes of the file.
fn free_boxes(index: &Mp4Index) -> impl Iterator<Item = &BoxInfo> {
    index.top_level.iter().filter(|b| b.kind.0 == *b"free")
}

/// Tesla SEI records of an H.264 video track; `None` when no frame has one.
fn read_tesla<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Telemetry>> {
    let Some(track) = index
        .video()
        .filter(|t| matches!(&t.codec.0, b"avc1" | b"avc3"))
    else {
        return Ok(None);
    };
    let config = AvcConfig::parse(&track.config).map_err(|p| Error::malformed("avcC", p))?;
    let mut out = Telemetry::default();
    let mut prefix = Vec::new();
    for (i, sample) in track.samples.iter().enumerate() {
        prefix.resize(sample.size.min(SEI_PREFIX) as usize, 0);
        src.read_exact_at(&mut prefix, sample.offset)?;
        let record =
            tesla::record_in_sample_prefix(&prefix, config.length_size).map_err(|e| match e {
                Error::Malformed { at, problem } => Error::malformed(
                    format!("video track {} sample {i}: {at}", track.id),
                    problem,
                ),
                other => other,
            })?;
        if let Some(record) = record {
            tesla::add_record(&record, track.seconds(track.pts(sample)), &mut out);
        }
    }
    out.gps.sort_by(|a, b| a.t.total_cmp(&b.t));
    out.accel.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok((!out.gps.is_empty() || !out.accel.is_empty()).then_some(out))
}
