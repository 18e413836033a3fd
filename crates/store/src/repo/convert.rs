//! Conversions between record fields and column values shared by both engines.
//!
//! Times are kept at millisecond precision by both engines (SQLite as INTEGER
//! milliseconds, PostgreSQL as TIMESTAMPTZ truncated to the millisecond) so that a value
//! read back is the same whichever engine stored it.

use crate::{Error, Result};
use chrono::{DateTime, SubsecRound, Utc};

/// Milliseconds since the Unix epoch, rounded down to the millisecond.
pub(crate) fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The instant `ms` milliseconds after the Unix epoch, as stored in `column`.
pub(crate) fn from_millis(ms: i64, column: &'static str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::Corrupt {
        column,
        value: ms.to_string(),
    })
}

/// `t` without its sub-millisecond part, as it will read back from either engine.
pub(crate) fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// A row count or other non-negative integer read from `column`.
pub(crate) fn to_u64(n: i64, column: &'static str) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::Corrupt {
        column,
        value: n.to_string(),
    })
}

/// A small non-negative integer (such as a try counter) read from `column`.
pub(crate) fn to_u32(n: i64, column: &'static str) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::Corrupt {
        column,
        value: n.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_drops_sub_millisecond_part() {
        let t = DateTime::from_timestamp(1_767_225_600, 123_456_789).unwrap_or_default();
        let back = from_millis(to_millis(t), "t").ok();
        assert_eq!(back, Some(truncate_to_millis(t)));
        assert_eq!(truncate_to_millis(t).timestamp_subsec_nanos(), 123_000_000);
    }

    #[test]
    fn out_of_range_values_are_corrupt() {
        assert!(matches!(
            from_millis(i64::MAX, "x.t"),
            Err(Error::Corrupt { column: "x.t", .. })
        ));
        assert!(to_u64(-1, "x.n").is_err());
        assert!(to_u32(i64::from(u32::MAX) + 1, "x.n").is_err());
        assert_eq!(to_u32(5, "x.n").ok(), Some(5));
    }
}
