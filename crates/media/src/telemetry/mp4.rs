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
use crate::telemetry::{blackvue, novatek, tesla};
use crate::telemetry::{Parsed, Skipped};

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
/// [`Error::Unsupported`] when it has none of them. Samples, blocks and records that
/// can not be read are skipped and counted; an MP4 whose index can not be read is an
/// error.
pub fn read_mp4<R: ReadAt + ?Sized>(src: &R) -> Result<Parsed> {
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
fn read_gpmd<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Parsed>> {
    let Some(track) = index.tracks.iter().find(|t| t.codec.0 == *b"gpmd") else {
        return Ok(None);
    };
    let mut out = Parsed::default();
    let mut buf = Vec::new();
    for (i, sample) in track.samples.iter().enumerate() {
        let at = format!("gpmd track {} sample {i}", track.id);
        if sample.size > MAX_GPMF_SAMPLE {
            out.skipped.add(format!(
                "{at}: {} bytes, more than the {MAX_GPMF_SAMPLE} accepted",
                sample.size
            ));
            continue;
        }
        buf.resize(sample.size as usize, 0);
        src.read_exact_at(&mut buf, sample.offset)?;
        let payload = GpmfPayload {
            data: &buf,
            t: track.seconds(track.pts(sample)),
            duration: track.seconds(i64::from(sample.duration)),
        };
        let mut one = Parsed::default();
        gpmf::add_payload(payload, &mut one);
        if let Some(first) = &mut one.skipped.first {
            *first = format!("{at}: {first}");
        }
        let tel = &mut out.telemetry;
        tel.gps.append(&mut one.telemetry.gps);
        tel.accel.append(&mut one.telemetry.accel);
        tel.gyro.append(&mut one.telemetry.gyro);
        out.skipped.merge(one.skipped);
    }
    gpmf::finish(&mut out.telemetry);
    Ok(Some(out))
}

/// Novatek `freeGPS` blocks, through `moov/gps ` or among the top-level `free` boxes;
/// an index entry past the end of the file is skipped and counted.
fn read_novatek<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Parsed>> {
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
    let mut skipped = Skipped::default();
    for (offset, size) in places {
        let len = size.min(BLOCK_READ);
        if offset
            .checked_add(len)
            .is_none_or(|end| end > index.file_len)
        {
            skipped.add(format!(
                "moov/gps : block at {offset} of {size} bytes is past the end of the file"
            ));
            continue;
        }
        let mut block = vec![0u8; len as usize];
        src.read_exact_at(&mut block, offset)?;
        if novatek::is_freegps(&block) {
            blocks.push(block);
        }
    }
    if blocks.is_empty() && skipped.count == 0 {
        return Ok(None);
    }
    let mut out = novatek::parse_blocks(blocks.iter().map(Vec::as_slice));
    out.skipped.merge(skipped);
    Ok(Some(out))
}

/// BlackVue's copies of its `.gps` and `.3gf` logs, in a top-level `free` box.
fn read_blackvue<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Parsed>> {
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
        if let Some(out) = blackvue::parse_embedded(&body) {
            return Ok(Some(out));
        }
    }
    Ok(None)
}

/// The top-level `free` boxes of the file.
fn free_boxes(index: &Mp4Index) -> impl Iterator<Item = &BoxInfo> {
    index.top_level.iter().filter(|b| b.kind.0 == *b"free")
}

/// Tesla SEI records of an H.264 video track; `None` when no frame has one. A record
/// that can not be decoded is skipped and counted.
fn read_tesla<R: ReadAt + ?Sized>(src: &R, index: &Mp4Index) -> Result<Option<Parsed>> {
    let Some(track) = index
        .video()
        .filter(|t| matches!(&t.codec.0, b"avc1" | b"avc3"))
    else {
        return Ok(None);
    };
    let config = AvcConfig::parse(&track.config).map_err(|p| Error::malformed("avcC", p))?;
    let mut out = Parsed::default();
    let mut prefix = Vec::new();
    for (i, sample) in track.samples.iter().enumerate() {
        prefix.resize(sample.size.min(SEI_PREFIX) as usize, 0);
        src.read_exact_at(&mut prefix, sample.offset)?;
        match tesla::record_in_sample_prefix(&prefix, config.length_size) {
            Ok(Some(record)) => tesla::add_record(
                &record,
                track.seconds(track.pts(sample)),
                &mut out.telemetry,
            ),
            Ok(None) => {}
            Err(e) => out
                .skipped
                .add(format!("video track {} sample {i}: {e}", track.id)),
        }
    }
    let tel = &mut out.telemetry;
    tel.gps.sort_by(|a, b| a.t.total_cmp(&b.t));
    tel.accel.sort_by(|a, b| a.t.total_cmp(&b.t));
    let found = !tel.gps.is_empty() || !tel.accel.is_empty();
    Ok(found.then_some(out))
}
