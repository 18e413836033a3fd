//! A route as GPX 1.1: one track of `trkpt`s with their UTC time, and the speed where the
//! camera gave one as a Garmin `TrackPointExtension` (v2, metres per second).
//!
//! Written by hand: the document is a fixed, small shape, all numbers but the one name
//! (which is escaped), and the GPX crates on crates.io either lack the Garmin extension
//! or pull in a general XML stack for it.

use crate::library::telemetry::TelemetrySeries;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The media type of a GPX document.
pub const CONTENT_TYPE: &str = "application/gpx+xml";

/// One point of a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// When (UTC).
    pub time: DateTime<Utc>,
    /// Latitude, degrees (WGS 84).
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Speed over ground, m/s, when known.
    pub speed: Option<f64>,
}

/// The points of `series` (times in seconds from `start`), each fix with its speed.
pub fn points(series: &TelemetrySeries, start: DateTime<Utc>) -> Vec<TrackPoint> {
    let speeds: HashMap<u64, f64> = series
        .speed
        .iter()
        .map(|s| (s[0].to_bits(), s[1]))
        .collect();
    series
        .route
        .iter()
        .map(|&[t, lat, lon]| TrackPoint {
            time: start + Duration::milliseconds((t * 1000.0).round() as i64),
            lat,
            lon,
            speed: speeds.get(&t.to_bits()).copied(),
        })
        .collect()
}

/// The GPX 1.1 document of one track named `name`.
pub fn document(name: &str, points: &[TrackPoint]) -> String {
    let mut out = String::from(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<gpx version="1.1" creator="dashvault" xmlns="http://www.topografix.com/GPX/1/1" "#,
        r#"xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2" "#,
        r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
        r#"xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">"#,
        "\n"
    ));
    let _ = writeln!(
        out,
        "  <trk>\n    <name>{}</name>\n    <trkseg>",
        escape(name)
    );
    for p in points {
        let time = p.time.to_rfc3339_opts(SecondsFormat::Millis, true);
        let _ = write!(
            out,
            r#"      <trkpt lat="{:.7}" lon="{:.7}"><time>{time}</time>"#,
            p.lat, p.lon
        );
        if let Some(speed) = p.speed {
            let _ = write!(
                out,
                "<extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>{speed:.3}</gpxtpx:speed></gpxtpx:TrackPointExtension></extensions>"
            );
        }
        out.push_str("</trkpt>\n");
    }
    out.push_str("    </trkseg>\n  </trk>\n</gpx>\n");
    out
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_carry_time_and_the_speed_of_their_fix() {
        let start = DateTime::from_timestamp(1_767_225_600, 0).expect("time");
        let series = TelemetrySeries {
            route: vec![[0.0, 48.1, 11.5], [1.5, 48.2, 11.6]],
            speed: vec![[1.5, 12.25]],
            g: Vec::new(),
        };
        let points = points(&series, start);
        let gpx = document("a <b> & c", &points);
        assert!(gpx.contains("<name>a &lt;b&gt; &amp; c</name>"));
        assert!(gpx.contains(
            r#"<trkpt lat="48.1000000" lon="11.5000000"><time>2026-01-01T00:00:00.000Z</time></trkpt>"#
        ));
        assert!(gpx.contains("<time>2026-01-01T00:00:01.500Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>12.250</gpxtpx:speed>"));
    }
}
