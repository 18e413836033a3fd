//! Row decoding and value encoding for the ingest tables, written once for both engines:
//! each engine says how to read a column ([`Columns`]).

use super::engine::Columns;
use crate::model::{
    Clip, ClipKind, Clock, Drive, Incident, IncidentKind, Recording, RecordingKind, Sidecar,
    StoredObject, Upload, UploadOutcome, VideoFile, View,
};
use crate::{Error, Result};
use serde::Serialize;
use uuid::Uuid;

/// `value` as JSON text for a JSON column.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising these plain records (strings, numbers, maps with string keys) can not
    // fail; the empty string would be caught as corrupt on reading.
    serde_json::to_string(value).unwrap_or_default()
}

/// A count or size as a database integer (values beyond `i64::MAX` are clamped; no file
/// gets there).
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The views of a drive as stored: sorted, comma-separated.
pub(crate) fn views_text(views: &[View]) -> String {
    let mut sorted: Vec<&str> = [View::Road, View::Cabin]
        .into_iter()
        .filter(|v| views.contains(v))
        .map(View::as_str)
        .collect();
    sorted.dedup();
    sorted.join(",")
}

/// `views` with `view` added.
pub(crate) fn merge_views(views: &str, view: View) -> Result<String> {
    let mut parsed = parse_views(views)?;
    parsed.push(view);
    Ok(views_text(&parsed))
}

fn parse_views(text: &str) -> Result<Vec<View>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            View::parse(s).ok_or_else(|| Error::Corrupt {
                column: "drives.views",
                value: text.to_owned(),
            })
        })
        .collect()
}

fn view(row: &impl Columns, col: &'static str) -> Result<View> {
    let text = row.text(col)?;
    View::parse(&text).ok_or(Error::Corrupt {
        column: col,
        value: text,
    })
}

pub(crate) fn upload_from_row(row: &impl Columns) -> Result<Upload> {
    Ok(Upload {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        device_id: row.uuid("device_id")?,
        length: row.count("upload_length")?,
        offset: row.count("upload_offset")?,
        metadata: row.text("metadata")?,
        blob_key: row.text("blob_key")?,
        multipart_id: row.opt_text("multipart_id")?,
        parts: row.json("parts")?,
        tail_key: row.opt_text("tail_key")?,
        tail_len: row.count("tail_len")?,
        partial: row.flag("partial")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        outcome: upload_outcome(row)?,
        failure: row.opt_text("failure")?,
    })
}

/// What a finished upload became, from its `sha256`, `item_kind` and `item_id` columns.
fn upload_outcome(row: &impl Columns) -> Result<Option<UploadOutcome>> {
    let (Some(sha256), Some(kind), Some(id)) = (
        row.opt_text("sha256")?,
        row.opt_text("item_kind")?,
        row.opt_uuid("item_id")?,
    ) else {
        return Ok(None);
    };
    let item = StoredObject::from_kind(&kind, id).ok_or(Error::Corrupt {
        column: "uploads.item_kind",
        value: kind,
    })?;
    Ok(Some(UploadOutcome { sha256, item }))
}

/// The `sha256`, `item_kind` and `item_id` column values of an upload's outcome.
pub(crate) fn outcome_columns(
    outcome: Option<&UploadOutcome>,
) -> (Option<&str>, Option<&'static str>, Option<Uuid>) {
    match outcome {
        Some(o) => (Some(&o.sha256), Some(o.item.kind()), Some(o.item.id())),
        None => (None, None, None),
    }
}

pub(crate) fn drive_from_row<R: Columns>(row: &R) -> Result<Drive> {
    Ok(Drive {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        device_id: row.uuid("device_id")?,
        start: row.time("start_at")?,
        end: row.time("end_at")?,
        views: parse_views(&row.text("views")?)?,
        archived: row.flag("archived")?,
        restored_until: row.opt_time("restored_until")?,
    })
}

fn video_file_from_row(row: &impl Columns) -> Result<VideoFile> {
    Ok(VideoFile {
        blob_key: row.text("blob_key")?,
        size: row.count("size")?,
        sha256: row.text("sha256")?,
        start: row.time("start_at")?,
        duration_ms: row.count("duration_ms")?,
        codec: row.text("codec")?,
        width: u32::try_from(row.count("width")?).unwrap_or(u32::MAX),
        height: u32::try_from(row.count("height")?).unwrap_or(u32::MAX),
        keyframes: row.json("keyframes")?,
        telemetry: row.json("telemetry")?,
        filename: row.opt_text("filename")?,
        clock: {
            let clock = row.text("clock")?;
            Clock::parse(&clock).ok_or(Error::Corrupt {
                column: "clock",
                value: clock,
            })?
        },
        span_ms: row.opt_count("span_ms")?,
        original_size: row.opt_count("original_size")?,
    })
}

pub(crate) fn recording_from_row(row: &impl Columns) -> Result<Recording> {
    let kind = row.text("kind")?;
    Ok(Recording {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        device_id: row.uuid("device_id")?,
        drive_id: row.uuid("drive_id")?,
        kind: RecordingKind::parse(&kind).ok_or(Error::Corrupt {
            column: "recordings.kind",
            value: kind,
        })?,
        view: view(row, "view")?,
        file: video_file_from_row(row)?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn clip_from_row(row: &impl Columns) -> Result<Clip> {
    let kind = row.text("kind")?;
    Ok(Clip {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        device_id: row.uuid("device_id")?,
        drive_id: row.opt_uuid("drive_id")?,
        kind: ClipKind::parse(&kind).ok_or(Error::Corrupt {
            column: "clips.kind",
            value: kind,
        })?,
        view: view(row, "view")?,
        incidents: row.json("incidents")?,
        file: video_file_from_row(row)?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn sidecar_from_row(row: &impl Columns) -> Result<Sidecar> {
    Ok(Sidecar {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        device_id: row.uuid("device_id")?,
        drive_id: row.opt_uuid("drive_id")?,
        start: row.time("start_at")?,
        blob_key: row.text("blob_key")?,
        size: row.count("size")?,
        sha256: row.text("sha256")?,
        telemetry: row.json("telemetry")?,
        filename: row.opt_text("filename")?,
        created_at: row.time("created_at")?,
    })
}

/// The stored bit set of the incidents' types (see [`IncidentKind::bit`]).
pub(crate) fn incident_mask(incidents: &[Incident]) -> i64 {
    IncidentKind::mask_of(incidents.iter().map(|i| i.kind.as_str()))
}

/// A drive gap in milliseconds as a duration.
pub(crate) fn gap(ms: u64) -> chrono::Duration {
    chrono::Duration::milliseconds(to_i64(ms))
}

/// The subquery giving the drive that covers a clip's or sidecar's start (`t` is the
/// table alias): the device's latest drive starting at or before it, if that one lasts
/// until it (a device's drives do not overlap). Two index seeks per row, however many
/// drives the device has; identical SQL for both engines.
pub(crate) const COVERING_DRIVE: &str = "(SELECT d.id FROM drives d
      WHERE d.end_at >= t.start_at AND d.id = (SELECT p.id FROM drives p
          WHERE p.user_id = t.user_id AND p.device_id = t.device_id
            AND p.start_at <= t.start_at
          ORDER BY p.start_at DESC LIMIT 1)) AS drive_id";
