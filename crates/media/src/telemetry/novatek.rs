//! Novatek-based dashcams (Viofo A129/A139, Anker Roav, many OEM clones): `freeGPS` blocks.
//!
//! The camera writes one `free` box a second into `mdat` (or between top-level boxes)
//! whose body starts with `GPS `, and indexes them from a `moov/gps ` box. Layout, as
//! documented by ExifTool (`QuickTimeStream.pl`, `ProcessFreeGPS`, the layout it numbers
//! GPS type 3) and by the Novatek reader of `mapillary_tools`:
//!
//! `gps ` box body: u32 BE version, u32 BE count, then `count` pairs of u32 BE
//! (file offset, size) of the `free` boxes.
//!
//! `free` box (offsets from the box start, numbers little-endian):
//! ```text
//!  0 u32 BE box size     4 "free"     8 "GPS "     12 u32 (unused here)
//! 16 u32 hour  20 u32 minute  24 u32 second  28 u32 year (2 digits)  32 u32 month  36 u32 day
//! 40 status 'A' (valid) / 'V'   41 'N'/'S'   42 'E'/'W'   43 pad
//! 44 f32 latitude ddmm.mmmm  48 f32 longitude dddmm.mmmm  52 f32 speed (knots)  56 f32 course (°)
//! ```
//! Time is UTC with a 2-digit year; some Kenwood models write a 4-digit year and, by
//! ExifTool's account, local time, which is kept as if it were UTC (we cannot know the
//! zone). Blocks with status `V` carry no position and are dropped. Each block
//! stands for one second of video: the n-th block of the index gets `t = n` seconds.
//! Other `freeGPS` layouts (encrypted text, float64, …) are refused with an error naming
//! the block, not guessed. There is no real Novatek sample in testdata/media-samples;
//! the tests build blocks from this layout.

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::telemetry::{GpsFix, Parsed};

/// Smallest block holding every field of the layout.
pub const MIN_BLOCK: usize = 60;
/// Most blocks read from one file (one a second: twelve days of recording).
pub const MAX_BLOCKS: usize = 1 << 20;
/// Knots to metres per second.
const KNOT: f64 = 1852.0 / 3600.0;

/// Reads the `(offset, size)` list of a `moov/gps ` box body.
pub fn parse_gps_index(body: &[u8]) -> Result<Vec<(u64, u64)>> {
    let bad = |problem: String| Error::malformed("moov/gps ", problem);
    let count = body
        .get(4..8)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| bad(format!("{} bytes, too short for a header", body.len())))?;
    let entries = body.get(8..).unwrap_or_default();
    if count > MAX_BLOCKS {
        return Err(bad(format!(
            "claims {count} entries, more than the {MAX_BLOCKS} read"
        )));
    }
    if entries.len() / 8 < count {
        return Err(bad(format!(
            "claims {count} entries, has room for {}",
            entries.len() / 8
        )));
    }
    Ok(entries
        .chunks_exact(8)
        .take(count)
        .map(|e| {
            let offset = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            let size = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
            (u64::from(offset), u64::from(size))
        })
        .collect())
}

/// True when `block` starts like a `freeGPS` box (size, `free`, `GPS `).
pub fn is_freegps(block: &[u8]) -> bool {
    block.get(4..12) == Some(b"freeGPS ".as_slice())
}

/// Reads `freeGPS` blocks (each a whole `free` box, header included), in index order;
/// a block that can not be read is skipped and counted.
pub fn parse_blocks<'a>(blocks: impl IntoIterator<Item = &'a [u8]>) -> Parsed {
    let mut out = Parsed::default();
    for (n, block) in blocks.into_iter().enumerate() {
        match parse_block(block, n as f64) {
            Ok(fix) => out.telemetry.gps.extend(fix),
            Err(e) => out.skipped.add(format!("freeGPS block {n}: {e}")),
        }
    }
    let gps = &out.telemetry.gps;
    out.telemetry.start = gps.first().and_then(|f| {
        let offset = chrono::Duration::milliseconds((f.t * 1000.0).round() as i64);
        f.time?.checked_sub_signed(offset)
    });
    out
}

/// One block; `None` when the receiver had no fix (status `V`).
fn parse_block(block: &[u8], t: f64) -> Result<Option<GpsFix>> {
    let bad = |problem: String| Error::malformed("freeGPS", problem);
    if !is_freegps(block) {
        return Err(bad("does not start with a `free` box holding `GPS `".into()));
    }
    if block.len() < MIN_BLOCK {
        return Err(bad(format!(
            "{} bytes, the layout needs {MIN_BLOCK}",
            block.len()
        )));
    }
    let u32_at = |at: usize| {
        block
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let f32_at = |at: usize| f64::from(f32::from_bits(u32_at(at)));
    let flags = block.get(40..44).unwrap_or_default();
    let (status, ns, ew) = match flags {
        [s, ns, ew, _] => (*s, *ns, *ew),
        _ => return Err(bad("truncated status".into())),
    };
    match status {
        b'V' => return Ok(None),
        b'A' => {}
        other => {
            return Err(bad(format!(
                "unknown layout (status byte {other:#04x} at offset 40)"
            )))
        }
    }
    let sign = |byte: u8, pos: u8, neg: u8, what: &str| match byte {
        b if b == pos => Ok(1.0),
        b if b == neg => Ok(-1.0),
        b => Err(bad(format!("{what} hemisphere byte {b:#04x}"))),
    };
    let lat_sign = sign(ns, b'N', b'S', "latitude")?;
    let lon_sign = sign(ew, b'E', b'W', "longitude")?;
    let degrees = |v: f64| (v / 100.0).trunc() + (v % 100.0) / 60.0;
    let (lat, lon) = (
        lat_sign * degrees(f32_at(44)),
        lon_sign * degrees(f32_at(48)),
    );
    if !(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0) {
        return Err(bad(format!("position ({lat}, {lon}) is out of range")));
    }
    let speed = f32_at(52) * KNOT;
    let heading = f32_at(56);
    let year = u32_at(28);
    let year = if year < 100 { year + 2000 } else { year };
    let time = NaiveDate::from_ymd_opt(year as i32, u32_at(32), u32_at(36))
        .and_then(|d| d.and_hms_opt(u32_at(16), u32_at(20), u32_at(24)))
        .map(|t| t.and_utc());
    Ok(Some(GpsFix {
        t,
        time,
        lat,
        lon,
        speed: speed.is_finite().then_some(speed),
        heading: heading.is_finite().then_some(heading),
        alt: None,
    }))
}
