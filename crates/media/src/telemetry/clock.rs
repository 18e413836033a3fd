//! A camera's clock against GPS time. A camera names its files (and BlackVue stamps its
//! `.gps` lines) on its own clock, set to whatever zone its owner chose; NMEA `RMC`
//! sentences and GoPro GPS carry UTC. Where telemetry has both, the camera's offset is
//! the median difference of its fixes, rounded to the nearest quarter hour: time zones
//! are whole quarter hours from UTC (UTC+5:45, UTC+8:45 the finest), while the rest of the
//! difference is how far the camera's clock drifted and when the receiver reported its
//! fix (seconds), which the recordings' own times share and must keep: the offset moves
//! a drive as a whole, never one file against the next.

use chrono::{DateTime, Duration, Utc};

use super::Telemetry;

/// Time zones are whole multiples of this from UTC.
const ZONE_STEP_MS: i64 = 15 * 60_000;

/// The camera clock's offset from UTC (add it to a camera time to get UTC), from the GPS
/// time of `telemetry`'s fixes, whose `t` counts seconds from `start` on the camera's
/// clock. `None` without a fix that carries GPS time.
pub fn clock_offset(start: DateTime<Utc>, telemetry: &Telemetry) -> Option<Duration> {
    let mut differences: Vec<i64> = telemetry
        .gps
        .iter()
        .filter_map(|fix| {
            let camera = start + Duration::milliseconds((fix.t * 1000.0).round() as i64);
            fix.time.map(|utc| (utc - camera).num_milliseconds())
        })
        .collect();
    if differences.is_empty() {
        return None;
    }
    differences.sort_unstable();
    let median = differences[differences.len() / 2];
    let steps = (median as f64 / ZONE_STEP_MS as f64).round() as i64;
    Some(Duration::milliseconds(steps * ZONE_STEP_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::GpsFix;
    use chrono::TimeZone;

    fn fix(t: f64, utc: Option<DateTime<Utc>>) -> GpsFix {
        GpsFix {
            t,
            time: utc,
            lat: 48.0,
            lon: 11.0,
            speed: None,
            heading: None,
            alt: None,
        }
    }

    #[test]
    fn a_camera_on_utc_plus_3_is_three_hours_ahead() {
        // Named 10:30:00 on the camera; the receiver says 07:30:02 UTC two seconds in,
        // a second late, and one fix far off (a jump before the receiver settled).
        let start = Utc.with_ymd_and_hms(2026, 11, 20, 10, 30, 0).unwrap();
        let utc = |h, m, s| Some(Utc.with_ymd_and_hms(2026, 11, 20, h, m, s).unwrap());
        let telemetry = Telemetry {
            gps: vec![
                fix(2.0, utc(7, 30, 3)),
                fix(3.0, utc(7, 30, 4)),
                fix(4.0, utc(7, 50, 0)),
                fix(5.0, None),
            ],
            ..Telemetry::default()
        };
        assert_eq!(clock_offset(start, &telemetry), Some(Duration::hours(-3)));
        let nepal = Telemetry {
            gps: vec![fix(0.0, utc(4, 45, 1))],
            ..Telemetry::default()
        };
        assert_eq!(
            clock_offset(start, &nepal),
            Some(Duration::minutes(-(5 * 60 + 45)))
        );
        let none = Telemetry {
            gps: vec![fix(0.0, None)],
            ..Telemetry::default()
        };
        assert_eq!(clock_offset(start, &none), None);
    }
}
