//! Viofo and other Novatek cameras: `DCIM/Movie/YYYY_MMDD_HHMMSS_NNNN<view>.MP4`, with the
//! files the camera locked (impact, button) in `DCIM/Movie/RO` (or `DCIM/RO`). The view
//! letter is `F` front (road), `R` rear, `I` interior (cabin); single-channel models write
//! none. Their telemetry is embedded in the MP4 (`freeGPS` blocks), so there are no sidecars.

use super::{number, strip_extension, utc, Mark, Parsed, View};

/// Parses one Novatek file name; `folders` are the folders between the camera root and it.
pub fn parse(name: &str, folders: &[&str]) -> Option<Parsed> {
    let (stem, _) = strip_extension(name, &["mp4", "mov"])?;
    let mut parts = stem.splitn(4, '_');
    let (year, monthday, time, tail) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || monthday.len() != 4 || time.len() != 6 {
        return None;
    }
    let start = utc(
        (
            number(year)?,
            number(&monthday[..2])?,
            number(&monthday[2..])?,
        ),
        (
            number(&time[..2])?,
            number(&time[2..4])?,
            number(&time[4..])?,
        ),
    )?;
    let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let view = match &tail.as_bytes()[digits..] {
        [] | [b'F'] => View::Road,
        [b'I'] => View::Cabin,
        [b'R'] => View::Other,
        _ => return None,
    };
    let event = folders.iter().any(|f| f.eq_ignore_ascii_case("RO"));
    Some(Parsed::Video(start, view, event))
}

/// Files the camera locked (in `RO`) are events, kept whole as clips.
pub fn mark(name: &str, folders: &[&str]) -> Option<Mark> {
    match parse(name, folders)? {
        Parsed::Video(_, _, true) => Some(Mark::Event),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn viofo_names() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 8, 15, 2)
            .unwrap();
        assert_eq!(
            parse("2026_1120_081502_0001F.MP4", &["DCIM", "Movie"]),
            Some(Parsed::Video(at, View::Road, false))
        );
        assert_eq!(
            parse("2026_1120_081502_0001R.MP4", &["DCIM", "Movie", "RO"]),
            Some(Parsed::Video(at, View::Other, true))
        );
        assert_eq!(
            parse("2026_1120_081502_000123I.MP4", &["DCIM", "RO"]),
            Some(Parsed::Video(at, View::Cabin, true))
        );
        assert_eq!(
            parse("2026_1120_081502_0001.MP4", &["DCIM", "Movie"]),
            Some(Parsed::Video(at, View::Road, false))
        );
        assert_eq!(
            mark("2026_1120_081502_0001F.MP4", &["DCIM", "Movie", "RO"]),
            Some(Mark::Event)
        );
        assert_eq!(mark("2026_1120_081502_0001F.MP4", &["DCIM", "Movie"]), None);
        assert_eq!(parse("2026_1120_081502_0001F.JPG", &[]), None);
        assert_eq!(parse("2026_1120_081502_F.MP4", &[]), None);
        assert_eq!(parse("2026_1131_081502_0001F.MP4", &[]), None);
    }
}
