//! BlackVue's folder layout and sidecar formats, as the media crate reads them
//! (`dashvault_media::telemetry::blackvue`).
//!
//! - `Record/YYYYMMDD_HHMMSS_NF.mp4` (road), `…_NI.mp4` (cabin): `N` for normal recording,
//!   `F`/`I` for the front and interior camera; the time is the recording's start.
//! - `Record/YYYYMMDD_HHMMSS_N.gps`: per second, `[unix-ms]` then an NMEA `$GPRMC` and a
//!   `$GPGGA` sentence with valid checksums; the first stamp is the recording's start.
//! - `Record/YYYYMMDD_HHMMSS_N.3gf`: 10-byte records, big-endian u32 milliseconds since the
//!   recording's start and three big-endian i16 axes at 128 counts per g.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::drive::{CarSample, G};
use crate::video::View;

/// `.3gf` counts per g.
const COUNTS_PER_G: f64 = 128.0;
/// Metres per second in a knot.
const KNOT: f64 = 1852.0 / 3600.0;

/// The name stem of a recording started at `start` of type `kind` (`N` normal, `E`
/// event, `M` manual): `YYYYMMDD_HHMMSS_N`.
pub(crate) fn stem(start: DateTime<Utc>, kind: char) -> String {
    format!("{}_{kind}", start.format("%Y%m%d_%H%M%S"))
}

/// The video file name of a view: `…_NF.mp4` or `…_NI.mp4` (type `N`).
pub(crate) fn video_name(start: DateTime<Utc>, kind: char, view: View) -> String {
    let camera = match view {
        View::Road => 'F',
        View::Cabin => 'I',
    };
    format!("{}{camera}.mp4", stem(start, kind))
}

/// The `.gps` log of a recording started at `start` (UTC): one RMC and one GGA per fix,
/// each line stamped on the camera's clock, `clock` ahead of UTC.
pub(crate) fn gps_log(
    start: DateTime<Utc>,
    clock: chrono::Duration,
    fixes: &[(f64, CarSample)],
) -> String {
    let mut out = String::new();
    for (offset, car) in fixes {
        let at = start + chrono::Duration::milliseconds((offset * 1000.0).round() as i64);
        let stamp = (at + clock).timestamp_millis();
        let time = format!(
            "{:02}{:02}{:02}.{:02}",
            at.hour(),
            at.minute(),
            at.second(),
            at.timestamp_subsec_millis() / 10
        );
        let date = format!("{:02}{:02}{:02}", at.day(), at.month(), at.year() % 100);
        let (lat, ns) = coordinate(car.lat, 2, ('N', 'S'));
        let (lon, ew) = coordinate(car.lon, 3, ('E', 'W'));
        let rmc = format!(
            "GPRMC,{time},A,{lat},{ns},{lon},{ew},{:.2},{:.1},{date},,,A",
            car.speed / KNOT,
            car.heading
        );
        let gga = format!("GPGGA,{time},{lat},{ns},{lon},{ew},1,09,0.9,520.0,M,47.0,M,,");
        for body in [rmc, gga] {
            out.push_str(&format!("[{stamp}]${body}*{:02X}\n", checksum(&body)));
        }
    }
    out
}

/// `ddmm.mmmmm` (or `dddmm.mmmmm`) and its hemisphere letter.
fn coordinate(degrees: f64, width: usize, (plus, minus): (char, char)) -> (String, char) {
    let hemisphere = if degrees < 0.0 { minus } else { plus };
    let abs = degrees.abs();
    let whole = abs.trunc();
    let minutes = (abs - whole) * 60.0;
    (
        format!("{:0width$}{minutes:08.5}", whole as u32),
        hemisphere,
    )
}

/// XOR of the bytes between `$` and `*`.
fn checksum(body: &str) -> u8 {
    body.bytes().fold(0, |acc, b| acc ^ b)
}

/// The `.3gf` log: `(seconds since the recording's start, reading in m/s²)`.
pub(crate) fn accel_log(samples: &[(f64, [f64; 3])]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * 10);
    for (t, v) in samples {
        let ms = (t * 1000.0).round() as u32;
        out.extend_from_slice(&ms.to_be_bytes());
        for axis in v {
            let counts = (axis / G * COUNTS_PER_G)
                .round()
                .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
            out.extend_from_slice(&counts.to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_follow_blackvue() {
        let start = Utc.with_ymd_and_hms(2026, 11, 20, 8, 15, 2).unwrap();
        assert_eq!(video_name(start, 'N', View::Road), "20261120_081502_NF.mp4");
        assert_eq!(
            video_name(start, 'E', View::Cabin),
            "20261120_081502_EI.mp4"
        );
        assert_eq!(stem(start, 'M'), "20261120_081502_M");
    }

    #[test]
    fn coordinates_are_degrees_and_minutes() {
        assert_eq!(coordinate(48.5, 2, ('N', 'S')), ("4830.00000".into(), 'N'));
        assert_eq!(
            coordinate(-11.25, 3, ('E', 'W')),
            ("01115.00000".into(), 'W')
        );
    }
}
