//! BlackVue sidecar files: `.gps` (NMEA log) and `.3gf` (accelerometer log).
//!
//! `.gps`: text lines `[unix-ms]$GPRMC,…` — the camera's wall clock in milliseconds since
//! 1970 (UTC), then an NMEA sentence or nothing. All sentences of one second share the
//! same stamp; `RMC` gives position, date, speed and course, `GGA` position and altitude.
//! One [`GpsFix`] is made per stamp that has a valid position. `t` counts from the
//! file's first stamp, which is also [`Telemetry::start`]. A fix's `time` is the
//! receiver's `RMC` date and time when present, else the stamp.
//!
//! `.3gf`: records of 10 bytes — big-endian u32 milliseconds since the start of the
//! recording, then three big-endian i16 axes, stored order kept. Scale: 128 counts per g.
//! There is no public BlackVue document of this; the figure is what the open-source
//! `bartbroere/blackvue-acc` tool uses (`/ 128`, "1G is assumed to be 128"), and we
//! checked it on a real BlackVue parking-mode `.3gf` (camera at rest, from
//! `mguzelevich/blackvue-tools` examples): the median vector length is 130 counts, i.e.
//! 1.02 g at 128 counts per g. The sample in `shared/media-samples` gives 134 (1.05 g).
//!
//! The camera also embeds both logs in its MP4 files ([`parse_embedded`]); there the
//! `.gps` text's first stamp is taken as the recording's start, like `.3gf`'s 0 ms.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::{Error, Result};
use crate::telemetry::nmea::{parse_sentence, Sentence};
use crate::telemetry::{GpsFix, Telemetry, Vec3Sample};

/// Standard gravity, m/s².
const G: f64 = 9.806_65;
/// `.3gf` counts per g.
const COUNTS_PER_G: f64 = 128.0;
/// Bytes of one `.3gf` record.
const RECORD_3GF: usize = 10;

/// Reads a BlackVue `.3gf` accelerometer log.
pub fn parse_3gf(data: &[u8]) -> Result<Telemetry> {
    if !data.chunks_exact(RECORD_3GF).remainder().is_empty() {
        return Err(Error::malformed(
            "BlackVue .3gf",
            format!(
                "{} bytes is not a whole number of {RECORD_3GF}-byte records (truncated?)",
                data.len()
            ),
        ));
    }
    let accel = data
        .chunks_exact(RECORD_3GF)
        .map(|r| {
            let ms = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
            let axis =
                |i: usize| f64::from(i16::from_be_bytes([r[i], r[i + 1]])) / COUNTS_PER_G * G;
            Vec3Sample {
                t: f64::from(ms) / 1000.0,
                v: [axis(4), axis(6), axis(8)],
            }
        })
        .collect();
    Ok(Telemetry {
        accel,
        ..Telemetry::default()
    })
}

/// True when `data` has the `.3gf` shape: whole records, non-decreasing times.
pub fn looks_like_3gf(data: &[u8]) -> bool {
    !data.is_empty()
        && data.chunks_exact(RECORD_3GF).remainder().is_empty()
        && data
            .chunks_exact(RECORD_3GF)
            .map(|r| u32::from_be_bytes([r[0], r[1], r[2], r[3]]))
            .try_fold(0u32, |prev, ms| (ms >= prev).then_some(ms))
            .is_some()
}

/// Tags of the blocks BlackVue writes into a top-level `free` box of its MP4 files.
const EMBEDDED_TAGS: [&[u8; 4]; 6] = [b"gps ", b"3gf ", b"thum", b"sttm", b"ptnm", b"ptrh"];

/// True when `head` (the first 8 bytes of a `free` box body) starts a BlackVue block:
/// a big-endian u32 length, then one of BlackVue's tags.
pub fn is_embedded_block(head: &[u8]) -> bool {
    head.get(4..8)
        .is_some_and(|tag| EMBEDDED_TAGS.iter().any(|t| t.as_slice() == tag))
}

/// Reads the logs a BlackVue camera also embeds in its MP4: a `free` box body made of
/// blocks `[u32 BE length (itself included)][tag][data]`, where a `gps ` block holds the
/// `.gps` text up to a NUL byte and a `3gf ` block the `.3gf` records up to a record of
/// ten 0xFF bytes (layout as read by the open-source `blackclue` tool). `None` when
/// neither block is there.
pub fn parse_embedded(body: &[u8]) -> Result<Option<Telemetry>> {
    let mut gps = None;
    let mut accel = None;
    let mut rest = body;
    while let Some(head) = rest.get(..4) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len == 0 {
            break;
        }
        let Some(block) = rest.get(..len).filter(|_| len >= 8) else {
            return Err(Error::malformed(
                "BlackVue free box",
                format!("block of {len} bytes with {} bytes left", rest.len()),
            ));
        };
        let data = &block[8..];
        match &block[4..8] {
            b"gps " => {
                let text = data.split(|&b| b == 0).next().unwrap_or_default();
                gps = Some(parse_gps(text)?);
            }
            b"3gf " => {
                let end = data
                    .chunks_exact(RECORD_3GF)
                    .position(|r| r.iter().all(|&b| b == 0xff))
                    .map_or(data.len(), |n| n * RECORD_3GF);
                accel = Some(parse_3gf(&data[..end])?.accel);
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    if gps.is_none() && accel.is_none() {
        return Ok(None);
    }
    let mut out = gps.unwrap_or_default();
    out.accel = accel.unwrap_or_default();
    Ok(Some(out))
}

/// Sentences of one stamp, merged into one fix.
struct Second {
    ms: i64,
    rmc: Option<Sentence>,
    gga: Option<Sentence>,
}

/// Reads a BlackVue `.gps` NMEA log.
pub fn parse_gps(data: &[u8]) -> Result<Telemetry> {
    let text = std::str::from_utf8(data.strip_suffix(b"\0").unwrap_or(data))
        .map_err(|e| Error::malformed("BlackVue .gps", format!("not text: {e}")))?;
    let mut out = Telemetry::default();
    let mut first_ms = None;
    let mut current: Option<Second> = None;
    let mut first_error = None;
    let mut read_any = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if line.is_empty() {
            continue;
        }
        let at = || format!("BlackVue .gps line {}", n + 1);
        let (ms, sentence) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once(']'))
            .and_then(|(ms, rest)| Some((ms.parse::<i64>().ok()?, rest)))
            .ok_or_else(|| Error::malformed(at(), "does not start with [unix-ms]"))?;
        let first = *first_ms.get_or_insert(ms);
        if current.as_ref().is_some_and(|c| c.ms != ms) {
            flush(current.take(), first, &mut out)?;
        }
        let second = current.get_or_insert(Second {
            ms,
            rmc: None,
            gga: None,
        });
        if sentence.is_empty() {
            continue;
        }
        // A damaged sentence (bad checksum, cut line) loses that one reading, not the log:
        // the file is refused only when no sentence in it reads.
        let parsed = match parse_sentence(sentence) {
            Ok(parsed) => parsed,
            Err(e) => {
                first_error.get_or_insert_with(|| Error::malformed(at(), e.to_string()));
                continue;
            }
        };
        read_any = true;
        match parsed {
            Sentence::Rmc { .. } => second.rmc = Some(parsed),
            Sentence::Gga { .. } => second.gga = Some(parsed),
            Sentence::Other => {}
        }
    }
    if let (false, Some(err)) = (read_any, first_error) {
        return Err(err);
    }
    if let Some(first) = first_ms {
        flush(current.take(), first, &mut out)?;
        out.start = Some(stamp(first)?);
    }
    out.gps.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(out)
}

fn stamp(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        Error::malformed(
            "BlackVue .gps",
            format!("timestamp {ms} ms is out of range"),
        )
    })
}

fn flush(second: Option<Second>, first_ms: i64, out: &mut Telemetry) -> Result<()> {
    let Some(second) = second else { return Ok(()) };
    let (mut position, mut time, mut speed, mut heading, mut alt) = (None, None, None, None, None);
    if let Some(Sentence::Gga {
        position: p,
        alt: a,
        ..
    }) = second.gga
    {
        position = p;
        alt = a;
    }
    if let Some(Sentence::Rmc {
        time: t,
        date,
        position: p,
        speed: s,
        heading: h,
    }) = second.rmc
    {
        position = p.or(position);
        speed = s;
        heading = h;
        time = date.zip(t).map(|(d, t)| NaiveDateTime::new(d, t).and_utc());
    }
    let Some((lat, lon)) = position else {
        return Ok(());
    };
    let time = match time {
        Some(time) => time,
        None => stamp(second.ms)?,
    };
    let t = second.ms.saturating_sub(first_ms) as f64 / 1000.0;
    out.gps.push(GpsFix {
        t,
        time: Some(time),
        lat,
        lon,
        speed,
        heading,
        alt,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gps_merges_rmc_and_gga_of_one_stamp() {
        let log = "[1000]$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*70\n\
                   [1000]$GPGGA,220516,5133.82,N,00042.24,W,1,08,0.9,45.5,M,46.9,M,,*62\n\
                   [2000]\n";
        let tel = parse_gps(log.as_bytes()).unwrap();
        assert_eq!(tel.gps.len(), 1);
        let fix = tel.gps[0];
        assert_eq!(fix.alt, Some(45.5));
        assert_eq!(fix.heading, Some(231.8));
        assert_eq!(fix.time.unwrap().to_rfc3339(), "2094-06-13T22:05:16+00:00");
        assert_eq!(tel.start.unwrap().timestamp_millis(), 1000);
    }

    #[test]
    fn a_damaged_sentence_is_skipped_but_an_all_damaged_log_is_refused() {
        let good = "[1000]$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*70";
        let damaged = "[2000]$GPRMC,220517,A,5133.90,N,00042.24,W,173.8,231.8,130694,004.2,W*70";
        let tel = parse_gps(format!("{good}\n{damaged}\n").as_bytes()).unwrap();
        assert_eq!(tel.gps.len(), 1, "the good fix is kept");
        let err = parse_gps(format!("{damaged}\n").as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn truncated_3gf_is_an_error() {
        assert!(parse_3gf(&[0; 15]).is_err());
        assert!(!looks_like_3gf(&[
            0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0
        ]));
    }
}
