//! `Upload-Metadata`: what an upload is, checked before anything is stored.
//!
//! Keys: `kind` (required: `recording`, `clip`, `timelapse`, `sidecar`), `start`
//! (required, RFC 3339), `view` (`road`, the default, or `cabin`), `device` (a device id;
//! implied by a device token), `sha256` (hex of the whole file, checked when it completes),
//! `filename`, `clock` (`gps`, `device` or `camera`, the default: which clock `start`
//! was read from), for clips `clip` (`auto` or `manual`, the default) and `incidents`
//! (JSON `[{"type", "at", "severity"}]`), and for time-lapses the wall-clock time they
//! cover: `speed` (e.g. `30` for 30x) or `end` (RFC 3339); for a recording its agent
//! rebuilt from a camera file without an index, `original_size`: the length of the
//! camera's file, whose bytes end the upload (kept as its original). Other keys (tus
//! clients add `filetype` and the like) are ignored.

use base64::Engine;
use chrono::{DateTime, Utc};
use dashvault_domain::upload::{key, kind};
use dashvault_store::model::{ClipKind, Clock, Incident, View};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Longest file name kept.
const MAX_FILENAME: usize = 255;
/// Most incidents on one clip.
const MAX_INCIDENTS: usize = 100;
/// Longest incident type.
const MAX_INCIDENT_TYPE: usize = 64;
/// Highest time-lapse speed (a day in under a minute and a half).
const MAX_SPEED: f64 = 1000.0;

/// What an uploaded file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One camera file of a drive.
    Recording,
    /// A clip (automatic or manual).
    Clip(ClipKind),
    /// A drive's time-lapse.
    Timelapse,
    /// A camera's telemetry file, kept unchanged.
    Sidecar,
}

/// Validated `Upload-Metadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadMetadata {
    /// What the file is.
    pub kind: Kind,
    /// Time of the first frame.
    pub start: DateTime<Utc>,
    /// Camera view.
    pub view: View,
    /// Device named by the client, if any.
    pub device: Option<Uuid>,
    /// Expected SHA-256 of the whole file, lower-case hex.
    pub sha256: Option<String>,
    /// File name as the client has it.
    pub filename: Option<String>,
    /// Incidents of a clip.
    pub incidents: Vec<Incident>,
    /// The clock `start` was read from.
    pub clock: Clock,
    /// The wall-clock time a time-lapse covers, if given.
    pub covers: Option<Covers>,
    /// A recording rebuilt from a camera file without an index: that file's length.
    pub original_size: Option<u64>,
}

/// How a time-lapse says the wall-clock time it covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Covers {
    /// Wall-clock seconds per second of playing time.
    Speed(f64),
    /// The wall-clock end of what it shows.
    End(DateTime<Utc>),
}

/// Decode the header's `key base64value` pairs (a key alone has an empty value).
pub fn decode_pairs(header: &str) -> Result<BTreeMap<String, String>, String> {
    let mut pairs = BTreeMap::new();
    for item in header.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, encoded) = item.split_once(' ').unwrap_or((item, ""));
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            return Err(format!("metadata key {key:?} is not plain ASCII"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| format!("the value of metadata key {key:?} is not base64"))?;
        let value = String::from_utf8(bytes)
            .map_err(|_| format!("the value of metadata key {key:?} is not UTF-8"))?;
        if pairs.insert(key.to_owned(), value).is_some() {
            return Err(format!("metadata key {key:?} is given twice"));
        }
    }
    Ok(pairs)
}

impl UploadMetadata {
    /// Parse and check the raw header.
    pub fn parse(header: &str) -> Result<Self, String> {
        Self::from_pairs(&decode_pairs(header)?)
    }

    /// Check decoded pairs.
    pub fn from_pairs(pairs: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |key: &str| pairs.get(key).map(String::as_str);
        let kind = match get(key::KIND) {
            Some(kind::RECORDING) => Kind::Recording,
            Some(kind::TIMELAPSE) => Kind::Timelapse,
            Some(kind::SIDECAR) => Kind::Sidecar,
            Some(kind::CLIP) => Kind::Clip(match get(key::CLIP) {
                None => ClipKind::Manual,
                Some(text) => ClipKind::parse(text)
                    .ok_or_else(|| format!("clip must be auto or manual, not {text:?}"))?,
            }),
            Some(other) => {
                return Err(format!(
                    "kind must be recording, clip, timelapse or sidecar, not {other:?}"
                ))
            }
            None => return Err("metadata key `kind` is required".into()),
        };
        if !matches!(kind, Kind::Clip(_))
            && (pairs.contains_key(key::CLIP) || pairs.contains_key(key::INCIDENTS))
        {
            return Err("`clip` and `incidents` are for kind clip only".into());
        }
        if kind != Kind::Recording && pairs.contains_key(key::ORIGINAL_SIZE) {
            return Err("`original_size` is for kind recording only".into());
        }
        if kind != Kind::Timelapse
            && (pairs.contains_key(key::SPEED) || pairs.contains_key(key::END))
        {
            return Err("`speed` and `end` are for kind timelapse only".into());
        }
        let start = get(key::START).ok_or("metadata key `start` (RFC 3339) is required")?;
        let start = DateTime::parse_from_rfc3339(start)
            .map_err(|_| format!("start must be an RFC 3339 time, not {start:?}"))?
            .with_timezone(&Utc);
        let view = match get(key::VIEW) {
            None => View::Road,
            Some(text) => View::parse(text)
                .ok_or_else(|| format!("view must be road or cabin, not {text:?}"))?,
        };
        let device = get(key::DEVICE)
            .map(|text| {
                Uuid::parse_str(text)
                    .map_err(|_| format!("device must be a device id, not {text:?}"))
            })
            .transpose()?;
        let sha256 = get(key::SHA256)
            .map(|text| {
                let ok = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
                ok.then(|| text.to_ascii_lowercase())
                    .ok_or_else(|| "sha256 must be 64 hex digits".to_owned())
            })
            .transpose()?;
        let filename = get(key::FILENAME)
            .map(|name| {
                let ok = !name.is_empty()
                    && name.chars().count() <= MAX_FILENAME
                    && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\');
                ok.then(|| name.to_owned()).ok_or_else(|| {
                    format!("filename must be 1 to {MAX_FILENAME} characters, without / \\ or control characters")
                })
            })
            .transpose()?;
        let incidents = get(key::INCIDENTS)
            .map(parse_incidents)
            .transpose()?
            .unwrap_or_default();
        let clock = match get(key::CLOCK) {
            None => Clock::Camera,
            Some(text) => Clock::parse(text)
                .ok_or_else(|| format!("clock must be gps, device or camera, not {text:?}"))?,
        };
        let covers = parse_covers(get(key::SPEED), get(key::END), start)?;
        let original_size = get(key::ORIGINAL_SIZE)
            .map(|text| {
                text.parse::<u64>()
                    .map_err(|_| format!("original_size must be a byte count, not {text:?}"))
            })
            .transpose()?;
        Ok(Self {
            kind,
            start,
            view,
            device,
            sha256,
            filename,
            incidents,
            clock,
            covers,
            original_size,
        })
    }

    /// Move the times (start, incidents, a time-lapse's end) by `offset` from the camera's
    /// clock to UTC, as its GPS time gave it, when they are on the camera's clock
    /// (`clock` becomes `gps`).
    pub fn on_gps_clock(&mut self, offset: chrono::Duration) {
        if self.clock == Clock::Camera {
            self.shift(offset, Clock::Gps);
        }
    }

    /// Read the times as the camera's local time in time zone `zone` (the device's IANA
    /// name) when they are on the camera's clock, and make them UTC (`clock` becomes
    /// `device`). Times the zone skips (a spring-forward hour) take the offset before it;
    /// an unknown zone changes nothing.
    pub fn on_device_clock(&mut self, zone: &str) {
        let Ok(zone) = zone.parse::<chrono_tz::Tz>() else {
            return;
        };
        if self.clock != Clock::Camera {
            return;
        }
        use chrono::{Offset, TimeZone};
        let local = self.start.naive_utc();
        let offset = zone.offset_from_utc_datetime(&local).fix();
        let utc = zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| {
                offset
                    .from_local_datetime(&local)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            });
        if let Some(utc) = utc {
            self.shift(utc - self.start, Clock::Device);
        }
    }

    /// Every time moved by `by`, now on `clock`.
    fn shift(&mut self, by: chrono::Duration, clock: Clock) {
        self.start += by;
        for incident in &mut self.incidents {
            incident.at += by;
        }
        if let Some(Covers::End(end)) = &mut self.covers {
            *end += by;
        }
        self.clock = clock;
    }

    /// The wall-clock milliseconds a file of `duration_ms` covers when that is not its
    /// playing time (a time-lapse given its speed or end).
    pub fn span_ms(&self, duration_ms: u64) -> Option<u64> {
        match self.covers? {
            Covers::Speed(speed) => Some((duration_ms as f64 * speed).round() as u64),
            Covers::End(end) => u64::try_from((end - self.start).num_milliseconds()).ok(),
        }
    }
}

/// A time-lapse's `speed` or `end` (not both), checked against its `start`.
fn parse_covers(
    speed: Option<&str>,
    end: Option<&str>,
    start: DateTime<Utc>,
) -> Result<Option<Covers>, String> {
    match (speed, end) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err("give a time-lapse's `speed` or its `end`, not both".into()),
        (Some(text), None) => match text.parse::<f64>() {
            Ok(speed) if (1.0..=MAX_SPEED).contains(&speed) => Ok(Some(Covers::Speed(speed))),
            _ => Err(format!(
                "speed must be a number from 1 to {MAX_SPEED}, not {text:?}"
            )),
        },
        (None, Some(text)) => {
            let end = DateTime::parse_from_rfc3339(text)
                .map_err(|_| format!("end must be an RFC 3339 time, not {text:?}"))?
                .with_timezone(&Utc);
            if end <= start {
                return Err("end must be after start".into());
            }
            Ok(Some(Covers::End(end)))
        }
    }
}

fn parse_incidents(text: &str) -> Result<Vec<Incident>, String> {
    let incidents: Vec<Incident> = serde_json::from_str(text)
        .map_err(|e| format!("incidents must be JSON [{{\"type\", \"at\", \"severity\"}}]: {e}"))?;
    if incidents.len() > MAX_INCIDENTS {
        return Err(format!("at most {MAX_INCIDENTS} incidents per clip"));
    }
    for incident in &incidents {
        let kind_ok = !incident.kind.is_empty()
            && incident.kind.len() <= MAX_INCIDENT_TYPE
            && incident
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !kind_ok {
            return Err(format!(
                "incident type {:?} must be 1 to {MAX_INCIDENT_TYPE} of a-z, 0-9 and _",
                incident.kind
            ));
        }
        if !(0.0..=1.0).contains(&incident.severity) {
            return Err(format!(
                "incident severity {} is not within 0..1",
                incident.severity
            ));
        }
    }
    Ok(incidents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(pairs: &[(&str, &str)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    base64::engine::general_purpose::STANDARD.encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn a_clip_with_incidents_parses() {
        let header = encode(&[
            ("kind", "clip"),
            ("clip", "auto"),
            ("start", "2026-11-20T08:00:00+01:00"),
            ("view", "cabin"),
            ("sha256", &"AB".repeat(32)),
            ("filename", "incident.mp4"),
            (
                "incidents",
                r#"[{"type":"hard_brake","at":"2026-11-20T07:00:10Z","severity":0.8}]"#,
            ),
            ("filetype", "video/mp4"),
        ]);
        let meta = UploadMetadata::parse(&header).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(meta.kind, Kind::Clip(ClipKind::Auto));
        assert_eq!(meta.view, View::Cabin);
        assert_eq!(meta.start.to_rfc3339(), "2026-11-20T07:00:00+00:00");
        assert_eq!(meta.sha256, Some("ab".repeat(32)));
        assert_eq!(meta.incidents.len(), 1);
    }

    #[test]
    fn a_timelapse_covers_its_speed_or_its_end() {
        let start = ("start", "2026-11-20T08:00:00Z");
        let parse = |pairs: &[(&str, &str)]| {
            UploadMetadata::parse(&encode(pairs)).unwrap_or_else(|e| panic!("{e}"))
        };
        let sped = parse(&[
            ("kind", "timelapse"),
            start,
            ("speed", "30"),
            ("clock", "gps"),
        ]);
        assert_eq!(sped.clock, Clock::Gps);
        assert_eq!(sped.span_ms(60_000), Some(1_800_000));
        let ended = parse(&[
            ("kind", "timelapse"),
            start,
            ("end", "2026-11-20T08:30:00Z"),
        ]);
        assert_eq!(ended.span_ms(60_000), Some(1_800_000));
        let plain = parse(&[("kind", "recording"), start]);
        assert_eq!((plain.clock, plain.span_ms(60_000)), (Clock::Camera, None));
    }

    #[test]
    fn camera_times_are_read_in_the_device_zone() {
        let mut meta = UploadMetadata::parse(&encode(&[
            ("kind", "clip"),
            ("start", "2026-11-20T11:30:00Z"),
            (
                "incidents",
                r#"[{"type":"hard_brake","at":"2026-11-20T11:30:10Z","severity":0.8}]"#,
            ),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        meta.on_device_clock("Europe/Istanbul");
        assert_eq!(meta.clock, Clock::Device);
        assert_eq!(meta.start.to_rfc3339(), "2026-11-20T08:30:00+00:00");
        assert_eq!(
            meta.incidents[0].at.to_rfc3339(),
            "2026-11-20T08:30:10+00:00"
        );
        let mut gps = UploadMetadata::parse(&encode(&[
            ("kind", "recording"),
            ("start", "2026-11-20T08:30:00Z"),
            ("clock", "gps"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        gps.on_device_clock("Europe/Istanbul");
        assert_eq!(
            (gps.clock, gps.start.to_rfc3339()),
            (Clock::Gps, "2026-11-20T08:30:00+00:00".into())
        );
    }

    #[test]
    fn garbage_is_refused() {
        let start = ("start", "2026-11-20T08:00:00Z");
        for bad in [
            encode(&[start]),
            encode(&[("kind", "movie"), start]),
            encode(&[("kind", "recording")]),
            encode(&[("kind", "recording"), ("start", "yesterday")]),
            encode(&[("kind", "recording"), start, ("view", "rear")]),
            encode(&[("kind", "recording"), start, ("sha256", "abc")]),
            encode(&[("kind", "recording"), start, ("device", "car")]),
            encode(&[("kind", "recording"), start, ("filename", "../etc/passwd")]),
            encode(&[("kind", "recording"), start, ("incidents", "[]")]),
            encode(&[("kind", "clip"), start, ("clip", "sometimes")]),
            encode(&[("kind", "recording"), start, ("clock", "sundial")]),
            encode(&[("kind", "recording"), start, ("original_size", "-1")]),
            encode(&[("kind", "clip"), start, ("original_size", "10")]),
            encode(&[("kind", "recording"), start, ("speed", "30")]),
            encode(&[("kind", "timelapse"), start, ("speed", "0.5")]),
            encode(&[("kind", "timelapse"), start, ("speed", "NaN")]),
            encode(&[
                ("kind", "timelapse"),
                start,
                ("end", "2026-11-20T07:00:00Z"),
            ]),
            encode(&[
                ("kind", "timelapse"),
                start,
                ("speed", "30"),
                ("end", "2026-11-20T09:00:00Z"),
            ]),
            encode(&[("kind", "clip"), start, ("incidents", "{}")]),
            encode(&[
                ("kind", "clip"),
                start,
                (
                    "incidents",
                    r#"[{"type":"x","at":"2026-11-20T08:00:00Z","severity":2}]"#,
                ),
            ]),
            "kind !!!,start x".to_owned(),
            format!(
                "{},{}",
                encode(&[("kind", "clip")]),
                encode(&[("kind", "clip")])
            ),
        ] {
            assert!(UploadMetadata::parse(&bad).is_err(), "{bad}");
        }
    }
}
