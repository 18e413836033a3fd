//! BlackVue sidecar files: `.gps` (NMEA log) and `.3gf` (accelerometer log).
//!
//! `.gps`: text lines `[unix-ms]$GPRMC,…` — the camera's wall clock in milliseconds since
//! 1970 (UTC), then an NMEA sentence or nothing. All sentences of one second share the
//! same stamp; `RMC` gives position, date, speed and course, `GGA` position and altitude.
//! One [`GpsFix`] is made per stamp that has a valid position. `t` counts from the
//! file's first stamp, which is also [`Telemetry::start`]. A fix's `time` is the
//! receiver's `RMC` date and time (UTC) when present, else none: the stamp is the
//! camera's clock, in whatever zone the camera was set to.
//!
//! `.3gf`: records of 10 bytes — big-endian u32 milliseconds since the start of the
//! recording, then three big-endian i16 axes, stored order kept. Scale: 128 counts per g.
//! There is no public BlackVue document of this; the figure is what the open-source
//! `bartbroere/blackvue-acc` tool uses (`/ 128`, "1G is assumed to be 128"), and we
//! checked it on a real BlackVue parking-mode `.3gf` (camera at rest, from
//! `mguzelevich/blackvue-tools` examples): the median vector length is 130 counts, i.e.
//! 1.02 g at 128 counts per g. The sample in `testdata/media-samples` gives 134 (1.05 g).
//!
//! The camera also embeds both logs in its MP4 files ([`parse_embedded`]); there the
//! `.gps` text's first stamp is taken as the recording's start, like `.3gf`'s 0 ms.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::telemetry::nmea::{parse_sentence, Sentence};
use crate::telemetry::{GpsFix, Parsed, Skipped, Telemetry, Vec3Sample};

/// Standard gravity, m/s².
const G: f64 = 9.806_65;
/// `.3gf` counts per g.
const COUNTS_PER_G: f64 = 128.0;
/// Bytes of one `.3gf` record.
const RECORD_3GF: usize = 10;
/// Latest first time of a `.3gf` log, ms: its records count from the recording's start.
const FIRST_3GF_MS: u32 = 600_000;
/// Longest span of a `.3gf` log, ms (cameras write one per minute-long recording).
const SPAN_3GF_MS: u32 = 3_600_000;

/// Reads a BlackVue `.3gf` accelerometer log; a partial record at the end (the camera
/// stopped while writing it) is skipped.
pub fn parse_3gf(data: &[u8]) -> Parsed {
    let records = data.chunks_exact(RECORD_3GF);
    let mut skipped = Skipped::default();
    if !records.remainder().is_empty() {
        skipped.add(format!(
            "BlackVue .3gf: partial record of {} bytes at the end",
            records.remainder().len()
        ));
    }
    let accel = records
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
    Parsed {
        telemetry: Telemetry {
            accel,
            ..Telemetry::default()
        },
        skipped,
    }
}

/// True when `data` has the `.3gf` shape: at least one record, times from the start of
/// a recording (the first within [`FIRST_3GF_MS`], none more than [`SPAN_3GF_MS`] after
/// it) that never go back; a partial record at the end is allowed. Text and other
/// files fail on the times, whose high bytes are then far from zero.
pub fn looks_like_3gf(data: &[u8]) -> bool {
    let mut times = data
        .chunks_exact(RECORD_3GF)
        .map(|r| u32::from_be_bytes([r[0], r[1], r[2], r[3]]));
    let Some(first) = times.next().filter(|&ms| ms <= FIRST_3GF_MS) else {
        return false;
    };
    times
        .try_fold(first, |prev, ms| {
            (ms >= prev && ms - first <= SPAN_3GF_MS).then_some(ms)
        })
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
/// neither block is there nor a damaged one; a block whose length runs past the box
/// ends the walk and is counted as skipped.
pub fn parse_embedded(body: &[u8]) -> Option<Parsed> {
    let mut gps = None;
    let mut accel = None;
    let mut skipped = Skipped::default();
    let mut rest = body;
    while let Some(head) = rest.get(..4) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len == 0 {
            break;
        }
        let Some(block) = rest.get(..len).filter(|_| len >= 8) else {
            skipped.add(format!(
                "BlackVue free box: block of {len} bytes with {} bytes left",
                rest.len()
            ));
            break;
        };
        let data = &block[8..];
        match &block[4..8] {
            b"gps " => {
                let text = data.split(|&b| b == 0).next().unwrap_or_default();
                gps = Some(parse_gps(text));
            }
            b"3gf " => {
                let end = data
                    .chunks_exact(RECORD_3GF)
                    .position(|r| r.iter().all(|&b| b == 0xff))
                    .map_or(data.len(), |n| n * RECORD_3GF);
                accel = Some(parse_3gf(&data[..end]));
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    if gps.is_none() && accel.is_none() && skipped.count == 0 {
        return None;
    }
    let mut out = gps.unwrap_or_default();
    if let Some(accel) = accel {
        out.telemetry.accel = accel.telemetry.accel;
        out.skipped.merge(accel.skipped);
    }
    out.skipped.merge(skipped);
    Some(out)
}

/// Sentences of one stamp, merged into one fix.
struct Second {
    ms: i64,
    rmc: Option<Sentence>,
    gga: Option<Sentence>,
}

/// True when some line of `data` holds a `[unix-ms]` stamp followed by a sentence or
/// by nothing: the shape of a `.gps` log, whatever noise surrounds it.
pub fn looks_like_gps(data: &[u8]) -> bool {
    data.split(|&b| b == b'\n').any(|line| {
        stamped(line).is_some_and(|(_, rest)| {
            let rest = rest.trim_ascii();
            rest.is_empty() || rest.starts_with(b"$")
        })
    })
}

/// The first `[digits]` stamp in a line: its value and the bytes after it.
fn stamped(line: &[u8]) -> Option<(i64, &[u8])> {
    line.iter().enumerate().find_map(|(at, &b)| {
        if b != b'[' {
            return None;
        }
        let after = line.get(at + 1..)?;
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || after.get(digits) != Some(&b']') {
            return None;
        }
        let ms = std::str::from_utf8(&after[..digits]).ok()?.parse().ok()?;
        Some((ms, &after[digits + 1..]))
    })
}

/// Reads a BlackVue `.gps` NMEA log, line by line. A line that is not
/// `[unix-ms]sentence` (binary noise the GPS module wrote before its first fix, invalid
/// UTF-8), a damaged sentence or a stamp out of range is skipped and counted; noise
/// before a stamp on its line is skipped with it. A last line without its line end
/// and without a checksum was cut off (the camera stopped mid-line): it is skipped too,
/// since its last field may be cut short.
pub fn parse_gps(data: &[u8]) -> Parsed {
    let mut out = Telemetry::default();
    let mut skipped = Skipped::default();
    let mut first_ms = None;
    let mut current: Option<Second> = None;
    let body = &data[..data.iter().rposition(|&b| b != 0).map_or(0, |e| e + 1)];
    let lines = body.split(|&b| b == b'\n').count();
    let ends_cut = !body.ends_with(b"\n");
    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
        let line = trim(line);
        if line.is_empty() {
            continue;
        }
        let at = || format!("BlackVue .gps line {}", n + 1);
        let Some((ms, rest)) = stamped(line).filter(|&(ms, _)| stamp(ms).is_some()) else {
            skipped.add(format!("{}: no [unix-ms] stamp", at()));
            continue;
        };
        if !line.starts_with(b"[") {
            skipped.add(format!("{}: noise before the stamp", at()));
        }
        let Ok(sentence) = std::str::from_utf8(rest) else {
            skipped.add(format!("{}: not text", at()));
            continue;
        };
        let first = *first_ms.get_or_insert(ms);
        if current.as_ref().is_some_and(|c| c.ms != ms) {
            flush(current.take(), first, &mut out);
        }
        let second = current.get_or_insert(Second {
            ms,
            rmc: None,
            gga: None,
        });
        if sentence.is_empty() {
            continue;
        }
        if ends_cut && n + 1 == lines && !sentence.contains('*') {
            skipped.add(format!("{}: cut off", at()));
            continue;
        }
        match parse_sentence(sentence) {
            Ok(parsed @ Sentence::Rmc { .. }) => second.rmc = Some(parsed),
            Ok(parsed @ Sentence::Gga { .. }) => second.gga = Some(parsed),
            Ok(Sentence::Other) => {}
            Err(e) => skipped.add(format!("{}: {e}", at())),
        }
    }
    if let Some(first) = first_ms {
        flush(current.take(), first, &mut out);
        out.start = stamp(first);
    }
    out.gps.sort_by(|a, b| a.t.total_cmp(&b.t));
    Parsed {
        telemetry: out,
        skipped,
    }
}

/// A line without the whitespace and NUL bytes around it.
fn trim(line: &[u8]) -> &[u8] {
    let blank = |b: &u8| b.is_ascii_whitespace() || *b == 0;
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |e| e + 1);
    &line[start..end]
}

/// A `[unix-ms]` stamp as a time, `None` out of range.
fn stamp(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

fn flush(second: Option<Second>, first_ms: i64, out: &mut Telemetry) {
    let Some(second) = second else { return };
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
    // A stamp out of range is no line of the log; a fix's time is the receiver's (UTC),
    // never the stamp (the camera's clock, which is whatever zone it was set to).
    let (Some((lat, lon)), Some(_)) = (position, stamp(second.ms)) else {
        return;
    };
    let t = second.ms.saturating_sub(first_ms) as f64 / 1000.0;
    out.gps.push(GpsFix {
        t,
        time,
        lat,
        lon,
        speed,
        heading,
        alt,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gps_merges_rmc_and_gga_of_one_stamp() {
        let log = "[1000]$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*70\n\
                   [1000]$GPGGA,220516,5133.82,N,00042.24,W,1,08,0.9,45.5,M,46.9,M,,*62\n\
                   [2000]\n";
        let parsed = parse_gps(log.as_bytes());
        assert_eq!(parsed.skipped, Skipped::default());
        let tel = parsed.telemetry;
        assert_eq!(tel.gps.len(), 1);
        let fix = tel.gps[0];
        assert_eq!(fix.alt, Some(45.5));
        assert_eq!(fix.heading, Some(231.8));
        assert_eq!(fix.time.unwrap().to_rfc3339(), "2094-06-13T22:05:16+00:00");
        assert_eq!(tel.start.unwrap().timestamp_millis(), 1000);
    }

    #[test]
    fn damaged_sentences_and_noise_are_skipped_and_counted() {
        let good = "[1000]$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*70";
        let damaged = "[2000]$GPRMC,220517,A,5133.90,N,00042.24,W,173.8,231.8,130694,004.2,W*70";
        let parsed = parse_gps(format!("\u{1}\u{2}{good}\n{damaged}\nnoise\n").as_bytes());
        assert_eq!(parsed.telemetry.gps.len(), 1, "the good fix is kept");
        assert_eq!(parsed.skipped.count, 3, "{:?}", parsed.skipped);
        let first = parsed.skipped.first.unwrap();
        assert!(
            first.contains("line 1") && first.contains("noise"),
            "{first}"
        );
        let parsed = parse_gps(format!("{damaged}\n").as_bytes());
        assert!(parsed.telemetry.gps.is_empty());
        assert!(parsed.skipped.first.unwrap().contains("checksum"));
    }

    #[test]
    fn a_partial_3gf_record_is_skipped() {
        let parsed = parse_3gf(&[0; 15]);
        assert_eq!(parsed.telemetry.accel.len(), 1);
        assert_eq!(parsed.skipped.count, 1);
        assert!(!looks_like_3gf(&[
            0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0
        ]));
    }
}
