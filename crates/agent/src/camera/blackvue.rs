//! BlackVue: `Record/YYYYMMDD_HHMMSS_<type><view>[L|S].mp4` and the sidecars
//! `YYYYMMDD_HHMMSS_<type>.gps` (NMEA) and `.3gf` (accelerometer) of the same minute.
//!
//! Types as BlackVue's manuals and the `blackvuesync` project list them: `N` normal, `P`
//! parking, `E` event (impact), `M` manual, `I` parking impact, `O` overspeed, `A` hard
//! acceleration, `T` hard cornering, `B` hard braking, `R`/`X`/`G` geofence enter, exit,
//! pass. Views: `F` front (road), `R` rear, `I` interior (cabin), `O` optional. A
//! trailing `S` marks the low-resolution substream copy, which is skipped (the full file
//! is beside it); `L` (live) is accepted.

use super::{number, strip_extension, utc, Mark, Parsed, View};

/// Types the camera sets for a moment it judged worth keeping.
const EVENT_TYPES: &[u8] = b"EMIOATB";
/// Every type letter.
const TYPES: &[u8] = b"NPEMIOATBRXG";

/// Parses one BlackVue file name.
pub fn parse(name: &str) -> Option<Parsed> {
    let (stem, ext) = strip_extension(name, &["mp4", "gps", "3gf"])?;
    let (date, rest) = stem.split_once('_')?;
    let (time, tail) = rest.split_once('_')?;
    if date.len() != 8 || time.len() != 6 {
        return None;
    }
    let start = utc(
        (
            number(&date[..4])?,
            number(&date[4..6])?,
            number(&date[6..])?,
        ),
        (
            number(&time[..2])?,
            number(&time[2..4])?,
            number(&time[4..])?,
        ),
    )?;
    let tail = tail.as_bytes();
    let kind = *tail.first()?;
    if !TYPES.contains(&kind) {
        return None;
    }
    if ext != "mp4" {
        return (tail.len() == 1).then_some(Parsed::Sidecar(start));
    }
    let view = match tail.get(1)? {
        b'F' => View::Road,
        b'I' => View::Cabin,
        b'R' | b'O' => View::Other,
        _ => return None,
    };
    match &tail[2..] {
        [] | [b'L'] => Some(Parsed::Video(start, view, EVENT_TYPES.contains(&kind))),
        _ => None,
    }
}

/// `E` recordings are events and `M` recordings manual, kept whole as clips.
pub fn mark(name: &str) -> Option<Mark> {
    let Parsed::Video(..) = parse(name)? else {
        return None;
    };
    match name.as_bytes().get(16)? {
        b'E' => Some(Mark::Event),
        b'M' => Some(Mark::Manual),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.with_ymd_and_hms(2026, 11, 20, h, m, s).unwrap()
    }

    #[test]
    fn real_blackvue_names() {
        // Names as in acolomba/blackvuesync's test data and BlackVue's manuals.
        assert_eq!(
            parse("20261120_081502_NF.mp4"),
            Some(Parsed::Video(at(8, 15, 2), View::Road, false))
        );
        assert_eq!(
            parse("20261120_081502_EF.mp4"),
            Some(Parsed::Video(at(8, 15, 2), View::Road, true))
        );
        assert_eq!(
            parse("20261120_081502_NR.mp4"),
            Some(Parsed::Video(at(8, 15, 2), View::Other, false))
        );
        assert_eq!(
            parse("20261120_081502_MI.mp4"),
            Some(Parsed::Video(at(8, 15, 2), View::Cabin, true))
        );
        assert_eq!(
            parse("20261120_081502_PFL.mp4"),
            Some(Parsed::Video(at(8, 15, 2), View::Road, false))
        );
        assert_eq!(
            parse("20261120_081502_N.gps"),
            Some(Parsed::Sidecar(at(8, 15, 2)))
        );
        assert_eq!(
            parse("20261120_081502_E.3gf"),
            Some(Parsed::Sidecar(at(8, 15, 2)))
        );
    }

    #[test]
    fn event_and_manual_recordings_are_marked() {
        assert_eq!(mark("20261120_081502_EF.mp4"), Some(Mark::Event));
        assert_eq!(mark("20261120_081502_MI.mp4"), Some(Mark::Manual));
        assert_eq!(mark("20261120_081502_NF.mp4"), None);
        assert_eq!(mark("20261120_081502_IF.mp4"), None);
        assert_eq!(mark("20261120_081502_E.gps"), None);
    }

    #[test]
    fn other_names_are_not_blackvue() {
        for name in [
            "20261120_081502_NFS.mp4",
            "20261120_081502_ZF.mp4",
            "20261120_081502_NF.gps",
            "20261320_081502_NF.mp4",
            "20261120_251502_NF.mp4",
            "2026_1120_081502_0001F.MP4",
            "20261120_081502_NF.txt",
        ] {
            assert_eq!(parse(name), None, "{name}");
        }
    }
}
