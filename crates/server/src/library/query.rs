//! The query string of a library listing, read raw and then checked: `from`, `to`
//! (RFC 3339 or `YYYY-MM-DD`), `time_from`, `time_to` (`HH:MM`), `tz` (the zone days and
//! times of day are in; UTC when absent), `type` (repeatable or a comma list), `view`,
//! `device`, `archived`, `cursor`, `limit`.

use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use dashvault_store::model::{Cursor, IncidentKind, LibraryFilter, PageRequest, View};
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
    /// Items starting at or after this instant (RFC 3339), or this day (`YYYY-MM-DD`, in
    /// `tz`).
    pub from: Option<String>,
    /// Items starting before this instant (RFC 3339), or up to the end of this day
    /// (`YYYY-MM-DD`, in `tz`).
    pub to: Option<String>,
    /// Items starting at or after this time of day (`HH:MM`, in `tz`).
    pub time_from: Option<String>,
    /// Items starting before this time of day (`HH:MM`, in `tz`); earlier than
    /// `time_from` wraps past midnight.
    pub time_to: Option<String>,
    /// The time zone (IANA name, e.g. `Europe/Berlin`) that days and times of day are
    /// in; UTC when absent. A time of day uses the zone's offset of today, so across a
    /// daylight-saving change the window is off by that change.
    pub tz: Option<String>,
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
    let zone = zone(&pairs)?;
    for (name, value) in &pairs {
        let value = value.trim();
        match name.as_str() {
            "from" => filter.from = Some(instant(name, value, false, zone)?),
            "to" => filter.to = Some(instant(name, value, true, zone)?),
            "time_from" => filter.time_from_ms = Some(time_of_day(name, value, zone)?),
            "time_to" => filter.time_to_ms = Some(time_of_day(name, value, zone)?),
            "type" => {
                for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    let t = t
                        .parse::<IncidentKind>()
                        .map_err(|e| bad("invalid_type", e.to_string()))?;
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

/// The `tz` of the query (UTC when absent or empty).
fn zone(pairs: &[(String, String)]) -> Result<Tz, ApiError> {
    match pairs.iter().rev().find(|(name, _)| name == "tz") {
        Some((_, value)) if !value.trim().is_empty() => value.trim().parse().map_err(|_| {
            bad(
                "invalid_tz",
                format!("tz must be an IANA time zone name such as Europe/Berlin, not {value:?}"),
            )
        }),
        _ => Ok(Tz::UTC),
    }
}

/// An RFC 3339 instant, or a day in `zone`: its start, or with `end_of_day` the next
/// day's start.
fn instant(name: &str, value: &str, end_of_day: bool, zone: Tz) -> Result<DateTime<Utc>, ApiError> {
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
    // A midnight that a daylight-saving change skips starts at the earliest time after it.
    let local = day.and_time(NaiveTime::MIN);
    let start = zone
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc));
    Ok(start)
}

/// `HH:MM` (or `HH:MM:SS`) in `zone` as milliseconds since midnight UTC; `24:00` is the
/// end of the day.
fn time_of_day(name: &str, value: &str, zone: Tz) -> Result<u32, ApiError> {
    const DAY_MS: i64 = 86_400_000;
    let local_ms = if value == "24:00" {
        DAY_MS
    } else {
        NaiveTime::parse_from_str(value, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(value, "%H:%M:%S"))
            .map(|t| i64::from(t.num_seconds_from_midnight()) * 1000)
            .map_err(|_| {
                bad(
                    "invalid_time_of_day",
                    format!("{name} must be a time of day as HH:MM"),
                )
            })?
    };
    if zone == Tz::UTC {
        return Ok(local_ms as u32);
    }
    let offset_ms = i64::from(
        zone.offset_from_utc_datetime(&Utc::now().naive_utc())
            .fix()
            .local_minus_utc(),
    ) * 1000;
    // The end of the day stays the end of a day, so that `to` 24:00 keeps its meaning.
    let utc_ms = (local_ms - offset_ms).rem_euclid(DAY_MS);
    Ok(if local_ms == DAY_MS && utc_ms == 0 {
        DAY_MS
    } else {
        utc_ms
    } as u32)
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
    fn days_and_times_of_day_are_read_in_the_viewers_zone() {
        // Tokyo has no daylight-saving time: +09:00 all year.
        let f =
            request("tz=Asia/Tokyo&from=2026-11-20&to=2026-11-20&time_from=08:00&time_to=10:30")
                .filter;
        assert_eq!(f.from, Some("2026-11-19T15:00:00Z".parse().unwrap()));
        assert_eq!(f.to, Some("2026-11-20T15:00:00Z".parse().unwrap()));
        assert_eq!(f.time_from_ms, Some(23 * 3_600_000));
        assert_eq!(f.time_to_ms, Some(3_600_000 + 30 * 60_000));
        let f = request("from=2026-11-20&time_from=08:00&tz=").filter;
        assert_eq!(f.from, Some("2026-11-20T00:00:00Z".parse().unwrap()));
        assert_eq!(f.time_from_ms, Some(8 * 3_600_000));
        let err = page_request(Some("tz=Mars/Olympus")).unwrap_err();
        assert!(err.to_string().contains("IANA"), "{err}");
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
                IncidentKind::HardBrake,
                IncidentKind::Swerve,
                IncidentKind::Collision
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
