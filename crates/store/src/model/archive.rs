//! Records of the archive tier: requests to bring an archived drive back to the hot store.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Where a restore request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RestoreState {
    /// Asked for by the owner, waiting for an operator.
    Requested,
    /// Approved: the drive was copied back to the hot store until `restored_until`.
    Approved,
    /// Refused by an operator.
    Denied,
}

impl RestoreState {
    /// Every state.
    pub const ALL: [RestoreState; 3] = [Self::Requested, Self::Approved, Self::Denied];

    /// The name stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }
}

impl fmt::Display for RestoreState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RestoreState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown restore state `{s}` (requested, approved, denied)"))
    }
}

/// An owner's request to make an archived drive downloadable again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restore {
    /// Id, given to the operator who approves or denies it.
    pub id: Uuid,
    /// The drive.
    #[serde(rename = "drive")]
    pub drive_id: Uuid,
    /// Its owner.
    #[serde(rename = "user")]
    pub user_id: Uuid,
    /// When the owner asked.
    pub requested_at: DateTime<Utc>,
    /// Where it stands.
    pub state: RestoreState,
    /// When an operator approved or denied it.
    pub decided_at: Option<DateTime<Utc>>,
    /// Until when an approved restore keeps the drive in the hot store.
    pub restored_until: Option<DateTime<Utc>>,
}

/// A drive the archive pass is to move: old enough, not archived, not restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveCandidate {
    /// The drive.
    pub drive_id: Uuid,
    /// Its owner.
    pub user_id: Uuid,
    /// End of its last recording.
    pub end: DateTime<Utc>,
}
