//! GoPro GPMF: the KLV telemetry a GoPro writes into its `gpmd` track, one payload a second.
//!
//! Written by hand from GoPro's public GPMF specification (github.com/gopro/gpmf-parser,
//! README "GPMF Introduction"): a payload is a list of KLV items — a FourCC key, a type
//! byte, a structure size byte and a big-endian 16-bit repeat count, the data padded to
//! 4 bytes. Type 0 nests further KLVs (`DEVC` device → `STRM` stream). In a stream the
//! sticky metadata (`SCAL`, `TYPE`, `GPSF`, `GPSU`) precedes the samples it qualifies.
//!
//! What is read:
//! - `ACCL` accelerometer (m/s², gravity included) and `GYRO` gyroscope (rad/s), each
//!   value divided by `SCAL`. The axes are kept in the order the camera stores them:
//!   HERO5/6 write (Y, -X, Z) of the camera body — the HERO6 stream name says
//!   "up/down, right/left, forward/back" — and HERO8 and later say it with `ORIN`
//!   (e.g. "ZXY"). Accelerometer and gyroscope use the same order, which is what an
//!   orientation-agnostic consumer needs.
//! - `GPS5` (lat, lon, alt, 2-D speed, 3-D speed, with `GPSU` the UTC time of the
//!   payload's first fix and `GPSF` its fix type) and `GPS9` (HERO11+: the same plus
//!   days since 2000, seconds of day, DOP and a fix per sample, described by `TYPE`).
//!   When a device writes both, `GPS9` wins. Fixes of type 0/1 (no 2-D fix) are dropped,
//!   and so are positions off the globe.
//!
//! Sample times: a payload's samples are spread evenly over the payload's time span
//! (the `gpmd` sample's time and duration in the MP4). A bare GPMF stream has no such
//! index; GoPro writes one payload per device per second, so the n-th payload of a
//! device is given `[n, n + 1)` seconds.
//!
//! Why by hand: the Rust crates that read GPMF either pull a whole multi-vendor stack
//! with a second MP4 parser (`telemetry-parser`) or are not maintained; the format
//! needed here is a few hundred lines over bounds-checked slices.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::error::{Error, Result};
use crate::telemetry::{GpsFix, Parsed, Telemetry, Vec3Sample};

/// Deepest KLV nesting accepted; real payloads use 2 (`DEVC` → `STRM`).
const MAX_DEPTH: usize = 8;

/// One `gpmd` sample: its bytes and where it sits on the recording's time line.
#[derive(Debug, Clone, Copy)]
pub struct GpmfPayload<'a> {
    /// The payload bytes (one or more `DEVC` items).
    pub data: &'a [u8],
    /// Start of the payload, seconds from the start of the recording.
    pub t: f64,
    /// Duration of the payload in seconds (the MP4 sample duration).
    pub duration: f64,
}

/// Reads telemetry from timed GPMF payloads, e.g. the samples of an MP4 `gpmd` track.
pub fn parse_payloads<'a>(payloads: impl IntoIterator<Item = GpmfPayload<'a>>) -> Parsed {
    let mut out = Parsed::default();
    for payload in payloads {
        add_payload(payload, &mut out);
    }
    finish(&mut out.telemetry);
    out
}

/// Adds one payload's samples to `out`; call [`finish`] after the last one. A device
/// that can not be read is skipped; an item whose length is wrong ends the payload
/// (nothing after it can be found), counted as one skipped piece.
pub(crate) fn add_payload(payload: GpmfPayload<'_>, out: &mut Parsed) {
    for item in Klvs::new(payload.data, 0) {
        match item {
            Ok(item) if &item.key == b"DEVC" => {
                if let Err(e) = read_device(&item, payload, &mut out.telemetry) {
                    out.skipped.add(e);
                }
            }
            Ok(_) => {}
            Err(e) => out.skipped.add(e),
        }
    }
}

/// Reads telemetry from a bare GPMF stream (payloads back to back, as extracted from a
/// `gpmd` track without its MP4 index); the n-th `DEVC` of each device id is taken as
/// the n-th second. Damaged devices and a cut-off end are skipped, as in
/// [`parse_payloads`].
pub fn parse_stream(data: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let mut seen: Vec<(u32, u32)> = Vec::new();
    for item in Klvs::new(data, 0) {
        let item = match item {
            Ok(item) if &item.key == b"DEVC" => item,
            Ok(_) => continue,
            Err(e) => {
                out.skipped.add(e);
                continue;
            }
        };
        let read = device_id(&item).and_then(|id| {
            let n = match seen.iter_mut().find(|(d, _)| *d == id) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((id, 0));
                    0
                }
            };
            let payload = GpmfPayload {
                data: item.data,
                t: f64::from(n),
                duration: 1.0,
            };
            read_device(&item, payload, &mut out.telemetry)
        });
        if let Err(e) = read {
            out.skipped.add(e);
        }
    }
    finish(&mut out.telemetry);
    out
}

/// Sorts each series by time (devices and streams interleave) and sets `start`.
pub(crate) fn finish(out: &mut Telemetry) {
    out.gps.sort_by(|a, b| a.t.total_cmp(&b.t));
    out.accel.sort_by(|a, b| a.t.total_cmp(&b.t));
    out.gyro.sort_by(|a, b| a.t.total_cmp(&b.t));
    out.start = out.gps.iter().find_map(|f| {
        let time = f.time?;
        let offset = Duration::microseconds((f.t * 1e6).round() as i64);
        time.checked_sub_signed(offset)
    });
}

/// One KLV item: key, type, structure size, repeat and its (unpadded) data.
#[derive(Debug, Clone, Copy)]
struct Klv<'a> {
    key: [u8; 4],
    kind: u8,
    size: usize,
    repeat: usize,
    data: &'a [u8],
    depth: usize,
}

impl Klv<'_> {
    fn name(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }

    /// The children of a nested item.
    fn children(&self) -> Result<Klvs<'_>> {
        if self.kind != 0 {
            return Err(malformed(format!("`{}` is not a nested item", self.name())));
        }
        if self.depth + 1 > MAX_DEPTH {
            return Err(malformed(format!(
                "`{}` nests deeper than {MAX_DEPTH} levels",
                self.name()
            )));
        }
        Ok(Klvs::new(self.data, self.depth + 1))
    }
}

/// Iterator over the KLV items of one buffer; stops at the end or at zero padding.
struct Klvs<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    failed: bool,
}

impl<'a> Klvs<'a> {
    fn new(buf: &'a [u8], depth: usize) -> Self {
        Klvs {
            buf,
            pos: 0,
            depth,
            failed: false,
        }
    }

    fn next_item(&mut self) -> Result<Option<Klv<'a>>> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let Some(header) = rest.get(..8) else {
            return Err(malformed(format!(
                "truncated KLV header at offset {} ({} bytes left)",
                self.pos,
                rest.len()
            )));
        };
        let key = [header[0], header[1], header[2], header[3]];
        if !key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ') {
            return Err(malformed(format!(
                "invalid KLV key {key:02x?} at offset {}",
                self.pos
            )));
        }
        let kind = header[4];
        let size = usize::from(header[5]);
        let repeat = usize::from(u16::from_be_bytes([header[6], header[7]]));
        let len = size * repeat;
        let Some(data) = rest.get(8..8 + len) else {
            return Err(malformed(format!(
                "`{}` at offset {} needs {len} bytes, {} left",
                String::from_utf8_lossy(&key),
                self.pos,
                rest.len() - 8
            )));
        };
        self.pos += 8 + len.next_multiple_of(4);
        Ok(Some(Klv {
            key,
            kind,
            size,
            repeat,
            data,
            depth: self.depth,
        }))
    }
}

impl<'a> Iterator for Klvs<'a> {
    type Item = Result<Klv<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_item();
        self.failed = item.is_err();
        item.transpose()
    }
}

fn malformed(problem: String) -> Error {
    Error::malformed("GPMF", problem)
}

/// The `DVID` of a device (a number, or a FourCC read as one); 0 when absent.
fn device_id(devc: &Klv<'_>) -> Result<u32> {
    for child in devc.children()? {
        let child = child?;
        if &child.key == b"DVID" {
            if let Some(b) = child.data.get(..4) {
                return Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            }
        }
    }
    Ok(0)
}

/// What one device payload held for GPS, kept apart so that `GPS9` can win over `GPS5`.
#[derive(Default)]
struct DeviceGps {
    gps5: Vec<GpsFix>,
    gps9: Option<Vec<GpsFix>>,
}

fn read_device(devc: &Klv<'_>, payload: GpmfPayload<'_>, out: &mut Telemetry) -> Result<()> {
    let mut gps = DeviceGps::default();
    for child in devc.children()? {
        let child = child?;
        if &child.key == b"STRM" {
            read_stream(&child, payload, out, &mut gps)?;
        }
    }
    out.gps.extend(gps.gps9.unwrap_or(gps.gps5));
    Ok(())
}

/// Sticky metadata of one stream.
#[derive(Default)]
struct Sticky<'a> {
    scal: Vec<f64>,
    kinds: Option<Vec<u8>>,
    fix: Option<u32>,
    utc: Option<DateTime<Utc>>,
    data: Vec<Klv<'a>>,
}

fn read_stream<'a>(
    strm: &Klv<'a>,
    payload: GpmfPayload<'_>,
    out: &mut Telemetry,
    gps: &mut DeviceGps,
) -> Result<()> {
    let mut sticky = Sticky::default();
    for item in Klvs::new(strm.data, strm.depth + 1) {
        let item = item?;
        match &item.key {
            b"SCAL" => sticky.scal = numbers(&item)?,
            b"TYPE" => {
                sticky.kinds = Some(item.data.iter().copied().take_while(|&b| b != 0).collect())
            }
            b"GPSF" => sticky.fix = numbers(&item)?.first().map(|&f| f as u32),
            b"GPSU" => sticky.utc = Some(parse_gpsu(item.data)?),
            b"ACCL" | b"GYRO" | b"GPS5" | b"GPS9" => sticky.data.push(item),
            _ => {}
        }
    }
    for item in &sticky.data {
        let rows = rows(item, &sticky)?;
        let n = rows.len();
        let time_of = |i: usize| payload.t + payload.duration * i as f64 / n as f64;
        match &item.key {
            b"ACCL" | b"GYRO" => {
                let series = if &item.key == b"ACCL" {
                    &mut out.accel
                } else {
                    &mut out.gyro
                };
                for (i, row) in rows.iter().enumerate() {
                    let [x, y, z] = first_n::<3>(row, item)?;
                    series.push(Vec3Sample {
                        t: time_of(i),
                        v: [x, y, z],
                    });
                }
            }
            b"GPS5" => {
                if sticky.fix.is_some_and(|f| f < 2) {
                    continue;
                }
                for (i, row) in rows.iter().enumerate() {
                    let [lat, lon, alt, speed] = first_n::<4>(row, item)?;
                    if !on_earth(lat, lon) {
                        continue;
                    }
                    let time = sticky.utc.and_then(|u| {
                        let step = payload.duration * i as f64 / n as f64;
                        u.checked_add_signed(Duration::microseconds((step * 1e6).round() as i64))
                    });
                    gps.gps5.push(fix(time_of(i), time, lat, lon, alt, speed));
                }
            }
            _ => {
                let fixes = gps.gps9.get_or_insert_with(Vec::new);
                for (i, row) in rows.iter().enumerate() {
                    let [lat, lon, alt, speed, _, days, secs, _, fix_type] =
                        first_n::<9>(row, item)?;
                    if fix_type < 2.0 || !on_earth(lat, lon) {
                        continue;
                    }
                    fixes.push(fix(time_of(i), gps9_time(days, secs), lat, lon, alt, speed));
                }
            }
        }
    }
    Ok(())
}

/// A position that can be on the globe (corrupt samples are skipped, not kept).
fn on_earth(lat: f64, lon: f64) -> bool {
    lat.abs() <= 90.0 && lon.abs() <= 180.0
}

fn fix(t: f64, time: Option<DateTime<Utc>>, lat: f64, lon: f64, alt: f64, speed: f64) -> GpsFix {
    GpsFix {
        t,
        time,
        lat,
        lon,
        speed: Some(speed),
        heading: None,
        alt: Some(alt),
    }
}

fn first_n<const N: usize>(row: &[f64], item: &Klv<'_>) -> Result<[f64; N]> {
    row.get(..N)
        .and_then(|s| <[f64; N]>::try_from(s).ok())
        .ok_or_else(|| {
            malformed(format!(
                "`{}` has {} values per sample, expected {N}",
                item.name(),
                row.len()
            ))
        })
}

/// `GPS9` time: days since 2000-01-01 and seconds of that day.
fn gps9_time(days: f64, secs: f64) -> Option<DateTime<Utc>> {
    if !(0.0..1e6).contains(&days) || !(0.0..86_401.0).contains(&secs) {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?.and_hms_opt(0, 0, 0)?;
    let t = epoch
        .checked_add_signed(Duration::days(days as i64))?
        .checked_add_signed(Duration::microseconds((secs * 1e6).round() as i64))?;
    Some(t.and_utc())
}

/// `GPSU`: "yymmddhhmmss.sss", UTC.
fn parse_gpsu(data: &[u8]) -> Result<DateTime<Utc>> {
    let text = std::str::from_utf8(data.get(..16).unwrap_or(data))
        .map_err(|_| malformed("GPSU is not text".into()))?;
    NaiveDateTime::parse_from_str(&format!("20{text}"), "%Y%m%d%H%M%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| malformed(format!("GPSU {text:?} is not yymmddhhmmss.sss")))
}

/// Size in bytes of one value of a GPMF type, for the numeric types.
fn type_size(kind: u8) -> Option<usize> {
    match kind {
        b'b' | b'B' | b'c' => Some(1),
        b's' | b'S' => Some(2),
        b'l' | b'L' | b'f' | b'q' => Some(4),
        b'd' | b'j' | b'J' | b'Q' => Some(8),
        _ => None,
    }
}

/// One big-endian value of a numeric GPMF type; `bytes` has exactly its size.
fn number(kind: u8, bytes: &[u8]) -> Option<f64> {
    let b4 = || <[u8; 4]>::try_from(bytes).ok();
    let b8 = || <[u8; 8]>::try_from(bytes).ok();
    let b2 = || <[u8; 2]>::try_from(bytes).ok();
    Some(match kind {
        b'b' => f64::from(i8::from_be_bytes([*bytes.first()?])),
        b'B' | b'c' => f64::from(*bytes.first()?),
        b's' => f64::from(i16::from_be_bytes(b2()?)),
        b'S' => f64::from(u16::from_be_bytes(b2()?)),
        b'l' => f64::from(i32::from_be_bytes(b4()?)),
        b'L' => f64::from(u32::from_be_bytes(b4()?)),
        b'f' => f64::from(f32::from_be_bytes(b4()?)),
        b'q' => f64::from(i32::from_be_bytes(b4()?)) / 65_536.0,
        b'd' => f64::from_be_bytes(b8()?),
        b'j' => i64::from_be_bytes(b8()?) as f64,
        b'J' => u64::from_be_bytes(b8()?) as f64,
        b'Q' => i64::from_be_bytes(b8()?) as f64 / 4_294_967_296.0,
        _ => return None,
    })
}

/// All values of a simple numeric item, flattened (used for `SCAL`, `GPSF`).
fn numbers(item: &Klv<'_>) -> Result<Vec<f64>> {
    let size = type_size(item.kind).ok_or_else(|| {
        malformed(format!(
            "`{}` has non-numeric type {:?}",
            item.name(),
            char::from(item.kind)
        ))
    })?;
    item.data
        .chunks_exact(size)
        .map(|c| {
            number(item.kind, c).ok_or_else(|| malformed(format!("bad value in `{}`", item.name())))
        })
        .collect()
}

/// The samples of a data item, each a row of values divided by `SCAL`.
fn rows(item: &Klv<'_>, sticky: &Sticky<'_>) -> Result<Vec<Vec<f64>>> {
    let kinds: Vec<u8> = if item.kind == b'?' {
        sticky.kinds.clone().ok_or_else(|| {
            malformed(format!(
                "`{}` is a structure but its stream has no TYPE",
                item.name()
            ))
        })?
    } else {
        let size = type_size(item.kind).ok_or_else(|| {
            malformed(format!(
                "`{}` has unsupported type {:?}",
                item.name(),
                char::from(item.kind)
            ))
        })?;
        if item.size / size * size != item.size {
            return Err(malformed(format!(
                "`{}` sample of {} bytes is not a whole number of {:?} values",
                item.name(),
                item.size,
                char::from(item.kind)
            )));
        }
        vec![item.kind; item.size / size]
    };
    let mut sizes = Vec::with_capacity(kinds.len());
    for &k in &kinds {
        sizes.push(type_size(k).ok_or_else(|| {
            malformed(format!(
                "`{}` TYPE has unsupported type {:?}",
                item.name(),
                char::from(k)
            ))
        })?);
    }
    if sizes.iter().sum::<usize>() != item.size {
        return Err(malformed(format!(
            "`{}` TYPE describes {} bytes, samples are {}",
            item.name(),
            sizes.iter().sum::<usize>(),
            item.size
        )));
    }
    let scal = |j: usize| -> Result<f64> {
        let s = match sticky.scal.len() {
            0 => 1.0,
            1 => sticky.scal[0],
            n if n == kinds.len() => sticky.scal[j],
            n => {
                return Err(malformed(format!(
                    "`{}` has {} values per sample but SCAL has {n}",
                    item.name(),
                    kinds.len()
                )))
            }
        };
        if s == 0.0 || !s.is_finite() {
            return Err(malformed(format!("SCAL of `{}` is {s}", item.name())));
        }
        Ok(s)
    };
    let mut out = Vec::with_capacity(item.repeat);
    for sample in item.data.chunks_exact(item.size.max(1)) {
        let mut row = Vec::with_capacity(kinds.len());
        let mut at = 0;
        for (j, (&k, &size)) in kinds.iter().zip(&sizes).enumerate() {
            let bytes = sample.get(at..at + size).unwrap_or_default();
            let v = number(k, bytes)
                .ok_or_else(|| malformed(format!("bad value in `{}`", item.name())))?;
            row.push(v / scal(j)?);
            at += size;
        }
        out.push(row);
    }
    Ok(out)
}
