//! The kinds of incident: what the detector finds, the simulator makes, the agent cuts
//! clips around, and the server and the store list and filter by.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What an incident is. The snake_case names (`hard_brake`, …) are a contract: the
/// server's JSON and upload metadata, the store's rows and the simulator's command line
/// all spell the kinds so.
///
/// The first six are kinds of motion, the ones [`IncidentKind::MOTION`] lists: the detector
/// finds them in the G-sensor's signal and the simulator drives them.
/// [`IncidentKind::CameraEvent`] is not motion: it marks a recording that the camera
/// itself flagged and in which nothing was detected. Each kind has one bit in a clip's
/// stored incident mask ([`IncidentKind::bit`]), in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Strong deceleration.
    HardBrake,
    /// Braking to a standstill (reported instead of a hard brake, not as well).
    SuddenStop,
    /// Strong acceleration.
    HardAccel,
    /// Strong lateral acceleration in one direction.
    SharpTurn,
    /// Lateral acceleration one way then the other (a swerve, an aggressive lane change).
    Swerve,
    /// An impact.
    Collision,
    /// A recording the camera itself marked as an event (BlackVue `E`, Novatek `RO`) in
    /// which the detector found no incident of its own.
    CameraEvent,
}

impl IncidentKind {
    /// The six kinds of motion, in a fixed order: what the detector finds and the
    /// simulator drives (not [`IncidentKind::CameraEvent`]; see
    /// [`IncidentKind::ALL`] for every kind).
    pub const MOTION: [Self; 6] = [
        Self::HardBrake,
        Self::SuddenStop,
        Self::HardAccel,
        Self::SharpTurn,
        Self::Swerve,
        Self::Collision,
    ];

    /// Every kind a clip can be marked with, in bit order: the six of
    /// [`IncidentKind::MOTION`], then [`IncidentKind::CameraEvent`].
    pub const ALL: [Self; 7] = [
        Self::HardBrake,
        Self::SuddenStop,
        Self::HardAccel,
        Self::SharpTurn,
        Self::Swerve,
        Self::Collision,
        Self::CameraEvent,
    ];

    /// The contract name, e.g. `hard_brake`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HardBrake => "hard_brake",
            Self::SuddenStop => "sudden_stop",
            Self::HardAccel => "hard_accel",
            Self::SharpTurn => "sharp_turn",
            Self::Swerve => "swerve",
            Self::Collision => "collision",
            Self::CameraEvent => "camera_event",
        }
    }

    /// The kind of a contract name (any of [`IncidentKind::ALL`]).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether it is a kind of motion (one of [`IncidentKind::MOTION`]).
    pub fn is_motion(self) -> bool {
        self != Self::CameraEvent
    }

    /// Its bit in a clip's stored `incident_mask` (the values the store's migration
    /// 0011 used for the first six; `camera_event`, added later, had no clips to mark
    /// then).
    pub fn bit(self) -> i64 {
        1 << (self as u32)
    }

    /// The mask of the named kinds (unknown names add no bit).
    pub fn mask_of<'a>(names: impl IntoIterator<Item = &'a str>) -> i64 {
        names
            .into_iter()
            .filter_map(Self::parse)
            .fold(0, |mask, k| mask | k.bit())
    }
}

impl fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no incident kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownIncidentKind(pub String);

impl fmt::Display for UnknownIncidentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = IncidentKind::ALL.iter().map(|k| k.as_str()).collect();
        write!(
            f,
            "unknown incident kind `{}`: use one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownIncidentKind {}

impl FromStr for IncidentKind {
    type Err = UnknownIncidentKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name).ok_or_else(|| UnknownIncidentKind(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::IncidentKind;

    #[test]
    fn names_round_trip_through_serde_parse_and_display() {
        for kind in IncidentKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<IncidentKind>(&json).unwrap(), kind);
            assert_eq!(IncidentKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.as_str().parse::<IncidentKind>(), Ok(kind));
        }
        assert_eq!(
            serde_json::to_string(&IncidentKind::MOTION).unwrap(),
            r#"["hard_brake","sudden_stop","hard_accel","sharp_turn","swerve","collision"]"#
        );
        assert!(IncidentKind::MOTION.iter().all(|k| k.is_motion()));
        assert!(!IncidentKind::CameraEvent.is_motion());
        let err = "drift".parse::<IncidentKind>().unwrap_err().to_string();
        assert!(
            err.contains("`drift`") && err.contains("hard_brake, sudden_stop"),
            "{err}"
        );
    }

    #[test]
    fn bits_follow_the_stored_order() {
        let bits: Vec<i64> = IncidentKind::ALL.iter().map(|k| k.bit()).collect();
        assert_eq!(bits, [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(
            IncidentKind::mask_of(["hard_brake", "collision", "nope", "camera_event"]),
            1 | 32 | 64
        );
    }
}
