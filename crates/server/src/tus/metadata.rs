//! `Upload-Metadata`: what an upload is, checked before anything is stored.
//!
//! Keys: `kind` (required: `recording`, `clip`, `timelapse`, `sidecar`), `start`
//! (required, RFC 3339), `view` (`road`, the default, or `cabin`), `device` (a device id;
//! implied by a device token), `sha256` (hex of the whole file, checked when it completes),
//! `filename`, and for clips `clip` (`auto` or `manual`, the default) and `incidents`
//! (JSON `[{"type", "at", "severity"}]`). Other keys (tus clients add `filetype` and the
//! like) are ignored.

use base64::Engine;
use chrono::{DateTime, Utc};
use dashvault_store::model::{ClipKind, Incident, View};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Longest file name kept.
const MAX_FILENAME: usize = 255;
/// Most incidents on one clip.
const MAX_INCIDENTS: usize = 100;
/// Longest incident type.
const MAX_INCIDENT_TYPE: usize = 64;

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
        let kind = match get("kind") {
            Some("recording") => Kind::Recording,
            Some("timelapse") => Kind::Timelapse,
            Some("sidecar") => Kind::Sidecar,
            Some("clip") => Kind::Clip(match get("clip") {
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
            && (pairs.contains_key("clip") || pairs.contains_key("incidents"))
        {
            return Err("`clip` and `incidents` are for kind clip only".into());
        }
        let start = get("start").ok_or("metadata key `start` (RFC 3339) is required")?;
        let start = DateTime::parse_from_rfc3339(start)
            .map_err(|_| format!("start must be an RFC 3339 time, not {start:?}"))?
            .with_timezone(&Utc);
        let view = match get("view") {
            None => View::Road,
            Some(text) => View::parse(text)
                .ok_or_else(|| format!("view must be road or cabin, not {text:?}"))?,
        };
        let device = get("device")
            .map(|text| {
                Uuid::parse_str(text)
                    .map_err(|_| format!("device must be a device id, not {text:?}"))
            })
            .transpose()?;
        let sha256 = get("sha256")
            .map(|text| {
                let ok = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
                ok.then(|| text.to_ascii_lowercase())
                    .ok_or_else(|| "sha256 must be 64 hex digits".to_owned())
            })
            .transpose()?;
        let filename = get("filename")
            .map(|name| {
                let ok = !name.is_empty()
                    && name.chars().count() <= MAX_FILENAME
                    && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\');
                ok.then(|| name.to_owned()).ok_or_else(|| {
                    format!("filename must be 1 to {MAX_FILENAME} characters, without / \\ or control characters")
                })
            })
            .transpose()?;
        let incidents = get("incidents")
            .map(parse_incidents)
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            kind,
            start,
            view,
            device,
            sha256,
            filename,
            incidents,
        })
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
