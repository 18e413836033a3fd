//! The query string of a library listing, read raw and then checked: `from`, `to`
//! (RFC 3339 or `YYYY-MM-DD`), `time_from`, `time_to` (`HH:MM`, UTC), `type` (repeatable
//! or a comma list), `view`, `device`, `archived`, `cursor`, `limit`.

use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use dashvault_store::model::{Cursor, IncidentType, LibraryFilter, PageRequest, View};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// Items per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most items per page.
pub const MAX_LIMIT: u32 = 200;

/// The listing parameters, as documented in the OpenAPI document. The handler reads
/// them with [`page_request`], which also accepts `type` several times.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items starting at or after this instant (RFC 3339), or this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Items starting before this instant (RFC 3339), or up to the end of this day
    /// (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// Items starting at or after this time of day (`HH:MM`, UTC).
    pub time_from: Option<String>,
    /// Items starting before this time of day (`HH:MM`, UTC); earlier than `time_from`
    /// wraps past midnight.
    pub time_to: Option<String>,
    /// Incident types (`hard_brake`, `sudden_stop`, `hard_accel`, `sharp_turn`, `swerve`,
    /// `collision`, `camera_event`): repeat the parameter or give a comma list; any of
    /// them matches.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `road` or `cabin`.
    pub view: Option<String>,
    /// A device id.
    pub device: Option<Uuid>,
    /// `true` or `false`: archived drives only, or none of them (clips are never archived).
    pub archived: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The page a raw query string asks for; `400` naming the parameter when one is wrong.
pub fn page_request(raw: Option<&str>) -> Result<PageRequest, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
            bad(
                "invalid_query",
                format!("the query string is malformed: {e}"),
            )
        })?;
    let mut filter = LibraryFilter::default();
    let mut after = None;
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in &pairs {
        let value = value.trim();
        match name.as_str() {
            "from" => filter.from = Some(instant(name, value, false)?),
            "to" => filter.to = Some(instant(name, value, true)?),
            "time_from" => filter.time_from_ms = Some(time_of_day(name, value)?),
            "time_to" => filter.time_to_ms = Some(time_of_day(name, value)?),
            "type" => {
                for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    let t = IncidentType::parse(t).ok_or_else(|| {
                        bad(
                            "invalid_type",
                            format!(
                                "unknown incident type {t:?}: use hard_brake, sudden_stop, \
                                 hard_accel, sharp_turn, swerve, collision or camera_event"
                            ),
                        )
                    })?;
                    if !filter.types.contains(&t) {
                        filter.types.push(t);
                    }
                }
            }
            "view" => {
                filter.view = Some(
                    View::parse(value)
                        .ok_or_else(|| bad("invalid_view", "view must be road or cabin".into()))?,
                )
            }
            "device" => {
                filter.device = Some(value.parse().map_err(|_| {
                    bad("invalid_device", "device must be a device id (UUID)".into())
                })?)
            }
            "archived" => {
                filter.archived = Some(match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(bad(
                            "invalid_archived",
                            "archived must be true or false".into(),
                        ))
                    }
                })
            }
            "cursor" => after = Some(decode_cursor(value)?),
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad(
                            "invalid_limit",
                            format!("limit must be from 1 to {MAX_LIMIT}"),
                        )
                    })?
            }
            _ => {}
        }
    }
    Ok(PageRequest {
        filter,
        after,
        limit,
    })
}

/// The `next_cursor` continuing after an item that started at `start` with `id`.
pub fn encode_cursor(start: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", start.timestamp_millis(), id.simple())
}

fn decode_cursor(value: &str) -> Result<Cursor, ApiError> {
    let wrong = || {
        bad(
            "invalid_cursor",
            "cursor is not one this server gave out; start again without it".into(),
        )
    };
    let (ms, id) = value.split_once('_').ok_or_else(wrong)?;
    let start = ms
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(wrong)?;
    let id = Uuid::try_parse(id).map_err(|_| wrong())?;
    Ok(Cursor { start, id })
}

/// An RFC 3339 instant, or a day: its start, or with `end_of_day` the next day's start.
fn instant(name: &str, value: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        bad(
            "invalid_time",
            format!("{name} must be an RFC 3339 time (2026-11-20T08:15:00Z) or a day (2026-11-20)"),
        )
    })?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_time(NaiveTime::MIN).and_utc())
}

/// `HH:MM` (or `HH:MM:SS`) as milliseconds since midnight; `24:00` is the end of the day.
fn time_of_day(name: &str, value: &str) -> Result<u32, ApiError> {
    if value == "24:00" {
        return Ok(86_400_000);
    }
    NaiveTime::parse_from_str(value, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(value, "%H:%M:%S"))
        .map(|t| t.num_seconds_from_midnight() * 1000)
        .map_err(|_| {
            bad(
                "invalid_time_of_day",
                format!("{name} must be a time of day as HH:MM (UTC)"),
            )
        })
}

/// A `400` with a stable code and a message saying what to send instead.
fn bad(code: &'static str, message: String) -> ApiError {
    ApiError::bad_request(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(q: &str) -> PageRequest {
        page_request(Some(q)).unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    #[test]
    fn every_parameter_is_read() {
        let id = Uuid::now_v7();
        let p = request(&format!(
            "from=2026-11-20&to=2026-11-21&time_from=22:00&time_to=02:30&type=hard_brake,swerve\
             &type=collision&view=cabin&device={id}&archived=false&limit=10"
        ));
        let f = p.filter;
        assert_eq!(
            f.from.map(|t| t.to_rfc3339()),
            Some("2026-11-20T00:00:00+00:00".into())
        );
        assert_eq!(
            f.to.map(|t| t.to_rfc3339()),
            Some("2026-11-22T00:00:00+00:00".into())
        );
        assert_eq!(f.time_from_ms, Some(22 * 3_600_000));
        assert_eq!(f.time_to_ms, Some(2 * 3_600_000 + 30 * 60_000));
        assert_eq!(
            f.types,
            [
                IncidentType::HardBrake,
                IncidentType::Swerve,
                IncidentType::Collision
            ]
        );
        assert_eq!(f.view, Some(View::Cabin));
        assert_eq!(f.device, Some(id));
        assert_eq!(f.archived, Some(false));
        assert_eq!(p.limit, 10);
        assert_eq!(request("").limit, DEFAULT_LIMIT);
    }

    #[test]
    fn rfc3339_instants_and_cursors_round_trip() {
        let p = request("from=2026-11-20T08:15:02%2B01:00");
        assert_eq!(
            p.filter.from.map(|t| t.to_rfc3339()),
            Some("2026-11-20T07:15:02+00:00".into())
        );
        let start = DateTime::from_timestamp_millis(1_763_626_502_123).unwrap_or_default();
        let id = Uuid::now_v7();
        let cursor = encode_cursor(start, id);
        assert_eq!(
            request(&format!("cursor={cursor}")).after,
            Some(Cursor { start, id })
        );
    }

    #[test]
    fn wrong_values_are_refused_with_their_name() {
        for (q, code) in [
            ("type=speeding", "invalid_type"),
            ("view=rear", "invalid_view"),
            ("device=car", "invalid_device"),
            ("archived=maybe", "invalid_archived"),
            ("cursor=abc", "invalid_cursor"),
            ("limit=0", "invalid_limit"),
            ("limit=201", "invalid_limit"),
            ("from=yesterday", "invalid_time"),
            ("time_from=25:00", "invalid_time_of_day"),
        ] {
            match page_request(Some(q)) {
                Err(ApiError::BadRequest { code: got, .. }) => assert_eq!(got, code, "{q}"),
                other => panic!("{q}: {other:?}"),
            }
        }
    }
}
