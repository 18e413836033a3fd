//! The incidents a simulated drive can hold, and their `kind@seconds` spelling on the
//! command line.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What happens at an incident: one of the shared kinds of motion
/// ([`IncidentKind::MOTION`]); what the simulator makes of each is told by the function that
/// drives it (`drive::scripted`).
pub use dashvault_domain::IncidentKind;

/// The kind of motion named `text` (`camera_event` is the camera's own mark, not a motion
/// to simulate).
fn parse_kind(text: &str) -> Result<IncidentKind, Error> {
    IncidentKind::MOTION
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = IncidentKind::MOTION.iter().map(|k| k.as_str()).collect();
            Error::Options(format!(
                "unknown incident `{text}`: use one of {}",
                names.join(", ")
            ))
        })
}

/// One incident asked for: its kind and when it starts, in seconds from the drive's start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// What happens.
    #[serde(rename = "type")]
    pub kind: IncidentKind,
    /// Seconds from the start of the drive at which it begins.
    pub t: f64,
}

impl FromStr for Incident {
    type Err = Error;

    /// Reads `kind@seconds`, e.g. `hard_brake@130`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let (kind, at) = text.trim().split_once('@').ok_or_else(|| {
            Error::Options(format!(
                "incident `{text}` is not `kind@seconds` (e.g. hard_brake@130)"
            ))
        })?;
        let t: f64 = at
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or_else(|| {
                Error::Options(format!(
                    "incident `{text}`: `{at}` is not a number of seconds"
                ))
            })?;
        Ok(Incident {
            kind: parse_kind(kind)?,
            t,
        })
    }
}

/// Reads a comma-separated list of `kind@seconds` (an empty text is no incident).
pub fn parse_incidents(text: &str) -> Result<Vec<Incident>, Error> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_list_and_refuses_unknown_kinds() {
        let list = parse_incidents("hard_brake@130, sharp_turn@340.5").unwrap();
        assert_eq!(
            list,
            vec![
                Incident {
                    kind: IncidentKind::HardBrake,
                    t: 130.0
                },
                Incident {
                    kind: IncidentKind::SharpTurn,
                    t: 340.5
                }
            ]
        );
        assert!(parse_incidents("").unwrap().is_empty());
        let err = parse_incidents("drift@10").unwrap_err().to_string();
        assert!(err.contains("hard_brake, sudden_stop"), "{err}");
        assert!(parse_incidents("hard_brake").is_err());
        assert!(parse_incidents("camera_event@10").is_err());
        assert!(parse_incidents("hard_brake@soon").is_err());
    }
}
