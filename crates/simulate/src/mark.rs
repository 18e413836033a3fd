//! Recordings the camera itself marks: BlackVue writes the minute of an impact as an
//! `E` (event) file and the minute the driver pressed its button as an `M` (manual)
//! file, instead of `N` (normal). `TYPE@MINUTE` on the command line.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Why the camera marked a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// The G-sensor saw an impact (`E`).
    Event,
    /// The driver pressed the camera's button (`M`).
    Manual,
}

impl MarkKind {
    /// BlackVue's type letter.
    pub fn letter(self) -> char {
        match self {
            MarkKind::Event => 'E',
            MarkKind::Manual => 'M',
        }
    }
}

/// One marked recording: its kind and the minute of the drive it is (0 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Event or manual.
    pub kind: MarkKind,
    /// Index of the recording in the drive (one a minute).
    pub minute: u32,
}

impl FromStr for Mark {
    type Err = Error;

    /// Reads `E@MINUTE` or `M@MINUTE`, e.g. `E@3`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Options(format!(
                "marked recording `{text}` is not `E@MINUTE` or `M@MINUTE` (e.g. E@3)"
            ))
        };
        let (kind, minute) = text.trim().split_once('@').ok_or_else(bad)?;
        let kind = match kind {
            "E" => MarkKind::Event,
            "M" => MarkKind::Manual,
            _ => return Err(bad()),
        };
        Ok(Mark {
            kind,
            minute: minute.parse().map_err(|_| bad())?,
        })
    }
}

/// BlackVue's type letter of the recording of `minute`: `N` unless a mark names it.
pub(crate) fn letter(marks: &[Mark], minute: u32) -> char {
    marks
        .iter()
        .find(|m| m.minute == minute)
        .map_or('N', |m| m.kind.letter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_read_and_name_their_minute() {
        let marks: Vec<Mark> = ["E@1", "M@3"].iter().map(|t| t.parse().unwrap()).collect();
        assert_eq!(
            (letter(&marks, 0), letter(&marks, 1), letter(&marks, 3)),
            ('N', 'E', 'M')
        );
        for bad in ["X@1", "E1", "E@-1", "E@soon"] {
            assert!(bad.parse::<Mark>().unwrap_err().is_options(), "{bad}");
        }
    }
}
