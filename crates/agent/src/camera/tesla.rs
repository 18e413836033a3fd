//! Tesla: `TeslaCam/RecentClips/YYYY-MM-DD_HH-MM-SS-<camera>.mp4` (the rolling hour),
//! and `SavedClips/<event>/…` and `SentryClips/<event>/…` (kept by the driver or by
//! Sentry Mode). Cameras: `front` (road), `back`, `left_repeater`, `right_repeater`,
//! `left_pillar`, `right_pillar` (other views). Telemetry is embedded (SEI).

use super::{number, strip_extension, utc, Parsed, View};

/// Every camera name Tesla writes.
const CAMERAS: &[&str] = &[
    "front",
    "back",
    "left_repeater",
    "right_repeater",
    "left_pillar",
    "right_pillar",
];

/// Parses one Tesla file name; `folders` are the folders between the camera root and it.
pub fn parse(name: &str, folders: &[&str]) -> Option<Parsed> {
    let (stem, _) = strip_extension(name, &["mp4"])?;
    if stem.len() < 20 || !stem.is_char_boundary(19) {
        return None;
    }
    let (stamp, camera) = stem.split_at(19);
    let camera = camera.strip_prefix('-')?;
    if !CAMERAS.contains(&camera) {
        return None;
    }
    let (date, time) = stamp.split_once('_')?;
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split('-').collect();
    let ([y, mo, da], [h, mi, s]) = (d.as_slice(), t.as_slice()) else {
        return None;
    };
    let start = utc(
        (number(y)?, number(mo)?, number(da)?),
        (number(h)?, number(mi)?, number(s)?),
    )?;
    let view = if camera == "front" {
        View::Road
    } else {
        View::Other
    };
    let event = folders
        .iter()
        .any(|f| *f == "SavedClips" || *f == "SentryClips");
    Some(Parsed::Video(start, view, event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn teslacam_names() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 8, 15, 2)
            .unwrap();
        assert_eq!(
            parse(
                "2026-11-20_08-15-02-front.mp4",
                &["TeslaCam", "RecentClips"]
            ),
            Some(Parsed::Video(at, View::Road, false))
        );
        assert_eq!(
            parse(
                "2026-11-20_08-15-02-left_repeater.mp4",
                &["TeslaCam", "SentryClips", "2026-11-20_08-16-00"]
            ),
            Some(Parsed::Video(at, View::Other, true))
        );
        assert_eq!(
            parse(
                "2026-11-20_08-15-02-front.mp4",
                &["TeslaCam", "SavedClips", "x"]
            ),
            Some(Parsed::Video(at, View::Road, true))
        );
        assert_eq!(parse("2026-11-20_08-15-02-roof.mp4", &[]), None);
        assert_eq!(parse("2026-11-20_08-15-02-front.mov", &[]), None);
        assert_eq!(parse("2026-11-20-08-15-02-front.mp4", &[]), None);
    }
}
