//! The incidents a simulated drive can hold, and their `kind@seconds` spelling on the
//! command line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What happens at an incident. The snake_case names are those of the detector's event
/// kinds and of the server's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Brakes at about 0.5 g for 1.5 s and drives on: the car slows, it does not stop.
    HardBrake,
    /// Brakes at about 0.55 g to a standstill, stands 8 s, drives on.
    SuddenStop,
    /// Accelerates at about 0.32 g for 3 s from a slow roll.
    HardAccel,
    /// Turns at about 0.45 g of lateral acceleration for 3 s (about 80° at 36 km/h).
    SharpTurn,
    /// Swings left then right at up to 0.5 g within 2.4 s, keeping its heading.
    Swerve,
    /// An impact: a ringing impulse of up to 2.8 g over 0.4 s.
    Collision,
}

impl IncidentKind {
    /// Every kind, in a fixed order.
    pub const ALL: [IncidentKind; 6] = [
        IncidentKind::HardBrake,
        IncidentKind::SuddenStop,
        IncidentKind::HardAccel,
        IncidentKind::SharpTurn,
        IncidentKind::Swerve,
        IncidentKind::Collision,
    ];

    /// The contract name, e.g. `hard_brake`.
    pub fn name(self) -> &'static str {
        match self {
            IncidentKind::HardBrake => "hard_brake",
            IncidentKind::SuddenStop => "sudden_stop",
            IncidentKind::HardAccel => "hard_accel",
            IncidentKind::SharpTurn => "sharp_turn",
            IncidentKind::Swerve => "swerve",
            IncidentKind::Collision => "collision",
        }
    }
}

impl fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IncidentKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        IncidentKind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = IncidentKind::ALL.iter().map(|k| k.name()).collect();
                Error::Options(format!(
                    "unknown incident `{text}`: use one of {}",
                    names.join(", ")
                ))
            })
    }
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
            kind: kind.parse()?,
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
        assert!(parse_incidents("hard_brake@soon").is_err());
    }
}
