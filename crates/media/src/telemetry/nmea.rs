//! The two NMEA 0183 sentences dashcams log for position: `RMC` and `GGA`.
//!
//! Written by hand rather than with the `nmea` crate: only two sentences and a handful of
//! fields are needed, and the crate brings a parser-combinator stack and dozens of
//! sentence types for that. Any talker id is accepted (`GP`, `GN`, `GL`, …); the `*hh`
//! checksum, when present, must match.

use chrono::{NaiveDate, NaiveTime};

use crate::error::{Error, Result};

/// Knots to metres per second.
const KNOT: f64 = 1852.0 / 3600.0;

/// What one sentence said, in SI units and decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sentence {
    /// `RMC`, recommended minimum data. `None` position when the receiver had no fix.
    Rmc {
        /// UTC time of day.
        time: Option<NaiveTime>,
        /// UTC date.
        date: Option<NaiveDate>,
        /// Latitude and longitude in degrees, when the status is `A` (valid).
        position: Option<(f64, f64)>,
        /// Ground speed in m/s.
        speed: Option<f64>,
        /// Course over ground in degrees from true north.
        heading: Option<f64>,
    },
    /// `GGA`, fix data. `None` position when the fix quality is 0 (invalid).
    Gga {
        /// UTC time of day.
        time: Option<NaiveTime>,
        /// Latitude and longitude in degrees, when the fix is valid.
        position: Option<(f64, f64)>,
        /// Altitude above mean sea level in metres.
        alt: Option<f64>,
    },
    /// Any other well-formed sentence (`GSA`, `GSV`, `VTG`, …), ignored by readers.
    Other,
}

/// Parses one sentence such as `$GPRMC,...*hh` (leading `$` required, line ending stripped).
pub fn parse_sentence(line: &str) -> Result<Sentence> {
    let bad = |problem: String| Error::malformed("NMEA", problem);
    let body = line.strip_prefix('$').ok_or_else(|| {
        bad(format!(
            "sentence does not start with '$': {:?}",
            shorten(line)
        ))
    })?;
    let body = match body.rsplit_once('*') {
        Some((body, sum)) => {
            let stated = u8::from_str_radix(sum.trim(), 16)
                .map_err(|_| bad(format!("checksum {sum:?} is not two hex digits")))?;
            let computed = body.bytes().fold(0u8, |acc, b| acc ^ b);
            if stated != computed {
                return Err(bad(format!(
                    "checksum mismatch (stated {stated:02X}, computed {computed:02X}) in {:?}",
                    shorten(line)
                )));
            }
            body
        }
        None => body,
    };
    let fields: Vec<&str> = body.split(',').collect();
    let kind = fields.first().copied().unwrap_or_default();
    if kind.len() != 5 || !kind.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(format!("bad sentence id {kind:?}")));
    }
    let field = |i: usize| fields.get(i).copied().unwrap_or_default();
    match kind.get(2..) {
        Some("RMC") => {
            let valid = field(2) == "A";
            Ok(Sentence::Rmc {
                time: parse_time(field(1))?,
                date: parse_date(field(9))?,
                position: if valid {
                    position(field(3), field(4), field(5), field(6))?
                } else {
                    None
                },
                speed: number(field(7))?.map(|k| k * KNOT),
                heading: number(field(8))?,
            })
        }
        Some("GGA") => {
            let valid = !matches!(field(6), "" | "0");
            Ok(Sentence::Gga {
                time: parse_time(field(1))?,
                position: if valid {
                    position(field(2), field(3), field(4), field(5))?
                } else {
                    None
                },
                alt: number(field(9))?,
            })
        }
        _ => Ok(Sentence::Other),
    }
}

fn shorten(line: &str) -> &str {
    let end = line.char_indices().nth(80).map_or(line.len(), |(i, _)| i);
    &line[..end]
}

fn number(text: &str) -> Result<Option<f64>> {
    if text.is_empty() {
        return Ok(None);
    }
    let v: f64 = text
        .parse()
        .map_err(|_| Error::malformed("NMEA", format!("{text:?} is not a number")))?;
    if v.is_finite() {
        Ok(Some(v))
    } else {
        Err(Error::malformed(
            "NMEA",
            format!("{text:?} is not a finite number"),
        ))
    }
}

/// `hhmmss[.sss]`.
fn parse_time(text: &str) -> Result<Option<NaiveTime>> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveTime::parse_from_str(text, "%H%M%S%.f")
        .map(Some)
        .map_err(|_| Error::malformed("NMEA", format!("time {text:?} is not hhmmss.sss")))
}

/// `ddmmyy`, years 2000–2099.
fn parse_date(text: &str) -> Result<Option<NaiveDate>> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(
        &format!(
            "{}20{}",
            text.get(..4).unwrap_or(text),
            text.get(4..).unwrap_or("")
        ),
        "%d%m%Y",
    )
    .map(Some)
    .map_err(|_| Error::malformed("NMEA", format!("date {text:?} is not ddmmyy")))
}

/// `ddmm.mmmm,N,dddmm.mmmm,E` to signed decimal degrees.
fn position(lat: &str, ns: &str, lon: &str, ew: &str) -> Result<Option<(f64, f64)>> {
    let (Some(lat), Some(lon)) = (number(lat)?, number(lon)?) else {
        return Ok(None);
    };
    let degrees = |v: f64| (v / 100.0).trunc() + (v % 100.0) / 60.0;
    let lat = match ns {
        "N" => degrees(lat),
        "S" => -degrees(lat),
        _ => {
            return Err(Error::malformed(
                "NMEA",
                format!("latitude hemisphere {ns:?} is not N or S"),
            ))
        }
    };
    let lon = match ew {
        "E" => degrees(lon),
        "W" => -degrees(lon),
        _ => {
            return Err(Error::malformed(
                "NMEA",
                format!("longitude hemisphere {ew:?} is not E or W"),
            ))
        }
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(Error::malformed(
            "NMEA",
            format!("position ({lat}, {lon}) is out of range"),
        ));
    }
    Ok(Some((lat, lon)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmc_with_checksum() {
        let s =
            parse_sentence("$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*70")
                .unwrap();
        let Sentence::Rmc {
            time,
            date,
            position,
            speed,
            heading,
        } = s
        else {
            panic!("{s:?}")
        };
        assert_eq!(time, NaiveTime::from_hms_opt(22, 5, 16));
        assert_eq!(date, NaiveDate::from_ymd_opt(2094, 6, 13));
        let (lat, lon) = position.unwrap();
        assert!((lat - (51.0 + 33.82 / 60.0)).abs() < 1e-9);
        assert!((lon + (42.24 / 60.0)).abs() < 1e-9);
        assert!((speed.unwrap() - 173.8 * KNOT).abs() < 1e-9);
        assert_eq!(heading, Some(231.8));
    }

    #[test]
    fn bad_checksum_and_garbage_are_errors() {
        assert!(parse_sentence(
            "$GPRMC,220516,A,5133.82,N,00042.24,W,173.8,231.8,130694,004.2,W*71"
        )
        .is_err());
        assert!(parse_sentence("GPRMC,1").is_err());
        assert!(parse_sentence("$GPGGA,1234567,,,,,1,*zz").is_err());
        assert!(parse_sentence("$GPGGA,123456,9999.0,N,0,E,1,5,1,1,M").is_err());
    }

    #[test]
    fn void_fix_has_no_position() {
        let s = parse_sentence("$GPGGA,002912.261,,,,,0,0,,,M,,M,,*45").unwrap();
        assert_eq!(
            s,
            Sentence::Gga {
                time: NaiveTime::from_hms_milli_opt(0, 29, 12, 261),
                position: None,
                alt: None
            }
        );
    }
}
