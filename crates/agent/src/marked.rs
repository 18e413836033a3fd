//! Files the camera itself marked (BlackVue `E` and `M`, Novatek's locked `RO`): the
//! owner or the camera chose to keep them, so each becomes one clip covering the whole
//! file, road or cabin view as the file is, when its drive is processed.
//!
//! * `E` and `RO` files are automatic clips with the incidents the detector found in
//!   them, or else one `camera_event` incident at the file's start. A road-view one takes
//!   in the detector's windows that overlap it (one clip, not two, as overlapping
//!   incidents give one clip), so its clip may reach past the file's ends.
//! * `M` files are manual clips.
//!
//! A road file is also an ordinary recording of its drive; a cabin file (the cabin view
//! otherwise stays on the camera) waits in the phone storage until its clip is made.
//! Either way nothing of it is loop-deleted before its clip is made, and the clip is
//! kept until it is in the cloud ([`crate::evict`]).

use crate::camera::{Mark, View};
use crate::cutting::{cut_window, Source};
use crate::error::AgentError;
use crate::phone::{persist, Phone};
use crate::residency::{ms, time, Clip, Drive, Incident, Residency};
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use std::path::PathBuf;
use uuid::Uuid;

/// The incident type of a file the camera marked when the detector found nothing in it.
pub const CAMERA_EVENT: &str = dashvault_domain::IncidentKind::CameraEvent.as_str();

/// One marked file, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    /// Where it is on the camera.
    pub camera_path: PathBuf,
    /// Road or cabin.
    pub view: View,
    /// Why it was kept.
    pub mark: Mark,
    /// Its start (from its name).
    pub start: DateTime<Utc>,
    /// Its duration, ms.
    pub duration_ms: i64,
    /// A cabin file's copy on the phone until its clip is made.
    pub phone_path: Option<PathBuf>,
    /// Bytes of that copy.
    pub size: u64,
}

/// An automatic-clip window of the detector, on the wall clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// The incidents in it.
    pub incidents: Vec<Incident>,
}

/// True when this camera file (started at `start`) was recorded as marked, under this
/// path or another one of the same file name (the card mounted elsewhere, the same camera
/// over Wi-Fi).
pub async fn is_marked(
    residency: &Residency,
    camera_path: &std::path::Path,
    start: DateTime<Utc>,
) -> Result<bool, AgentError> {
    let paths: Vec<String> = sqlx::query_scalar(
        "SELECT camera_path FROM marked_files WHERE camera_path = ?1 OR start_ms = ?2",
    )
    .bind(camera_path.to_string_lossy())
    .bind(ms(start))
    .fetch_all(residency.state().pool())
    .await?;
    Ok(paths.iter().any(|p| {
        let p = std::path::Path::new(p);
        p == camera_path || p.file_name() == camera_path.file_name()
    }))
}

/// Records a marked file (once; a second time is ignored).
pub async fn add_marked(residency: &Residency, marked: &Marked) -> Result<(), AgentError> {
    sqlx::query(
        "INSERT INTO marked_files (camera_path, view, mark, start_ms, duration_ms, phone_path, size) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (camera_path) DO NOTHING",
    )
    .bind(marked.camera_path.to_string_lossy())
    .bind(marked.view.name().unwrap_or("road"))
    .bind(marked.mark.as_str())
    .bind(ms(marked.start))
    .bind(marked.duration_ms)
    .bind(marked.phone_path.as_ref().map(|p| p.to_string_lossy().into_owned()))
    .bind(marked.size as i64)
    .execute(residency.state().pool())
    .await?;
    Ok(())
}

/// The marked files starting within `[from, to)` whose clip is not made yet.
async fn unclipped(
    residency: &Residency,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Marked>, AgentError> {
    let rows = sqlx::query(
        "SELECT * FROM marked_files WHERE clip_id IS NULL AND start_ms >= ? AND start_ms < ? \
         ORDER BY start_ms, camera_path",
    )
    .bind(ms(from))
    .bind(ms(to))
    .fetch_all(residency.state().pool())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Marked {
                camera_path: PathBuf::from(row.get::<String, _>("camera_path")),
                view: if row.get::<String, _>("view") == "cabin" {
                    View::Cabin
                } else {
                    View::Road
                },
                mark: Mark::parse(&row.get::<String, _>("mark"))?,
                start: time(row.get("start_ms")),
                duration_ms: row.get("duration_ms"),
                phone_path: row
                    .get::<Option<String>, _>("phone_path")
                    .map(PathBuf::from),
                size: row.get::<i64, _>("size") as u64,
            })
        })
        .collect())
}

/// Makes the clips of the marked files of `drive` (road view cut from `sources`, the
/// drive's recordings on the phone); the detector's `windows` that a road-view event
/// clip takes in are removed from them.
pub async fn make_clips(
    residency: &Residency,
    phone: &Phone,
    drive: &Drive,
    sources: &[Source],
    windows: &mut Vec<Window>,
) -> Result<Vec<Clip>, AgentError> {
    let mut clips = Vec::new();
    for file in unclipped(residency, drive.start, drive.end).await? {
        let end = file.start + Duration::milliseconds(file.duration_ms);
        let (mut from, mut to) = (file.start, end);
        let mut incidents = Vec::new();
        if file.mark == Mark::Event {
            if file.view == View::Road {
                take_in(windows, &mut from, &mut to, &mut incidents);
            } else {
                for w in windows.iter().filter(|w| w.from < to && w.to > from) {
                    incidents.extend(w.incidents.iter().cloned());
                }
            }
            if incidents.is_empty() {
                incidents.push(Incident {
                    kind: CAMERA_EVENT.into(),
                    at: file.start,
                    // The camera's own sensor crossed its threshold; it gives no strength.
                    severity: 1.0,
                });
            }
            incidents.sort_by_key(|i| i.at);
        }
        let id = Uuid::now_v7();
        let out = phone.clip(id);
        let (start, end, written) = match &file.phone_path {
            Some(staged) => {
                let (staged, path) = (staged.clone(), out.clone());
                let written = tokio::task::spawn_blocking(move || persist(&staged, &path))
                    .await
                    .map_err(|e| AgentError::Request(format!("clip stopped: {e}")))?
                    .map_err(AgentError::io(&out))?;
                (file.start, end, written)
            }
            None if sources.is_empty() => continue,
            None => {
                let (srcs, path) = (sources.to_vec(), out.clone());
                let made = tokio::task::spawn_blocking(move || cut_window(&srcs, from, to, &path))
                    .await
                    .map_err(|e| AgentError::Request(format!("cut stopped: {e}")))??;
                (made.start, made.end, made.written)
            }
        };
        let clip = Clip {
            id,
            drive_id: Some(drive.id),
            kind: match file.mark {
                Mark::Event => "auto",
                Mark::Manual => "manual",
            }
            .into(),
            view: file.view.name().unwrap_or("road").into(),
            start,
            end,
            incidents,
            size: written.size,
            sha256: written.sha256,
            path: Some(out),
        };
        residency.add_clip(&clip).await?;
        sqlx::query("UPDATE marked_files SET clip_id = ?, phone_path = NULL, size = 0 WHERE camera_path = ?")
            .bind(clip.id.to_string())
            .bind(file.camera_path.to_string_lossy())
            .execute(residency.state().pool())
            .await?;
        tracing::info!(clip = %clip.id, kind = %clip.kind, view = %clip.view, file = %file.camera_path.display(), "clip of a file the camera marked");
        clips.push(clip);
    }
    Ok(clips)
}

/// Widens `[from, to)` by every window overlapping it (and those overlapping the
/// widened span), removing them from `windows` and keeping their incidents.
fn take_in(
    windows: &mut Vec<Window>,
    from: &mut DateTime<Utc>,
    to: &mut DateTime<Utc>,
    incidents: &mut Vec<Incident>,
) {
    loop {
        let Some(i) = windows.iter().position(|w| w.from < *to && w.to > *from) else {
            return;
        };
        let w = windows.remove(i);
        *from = (*from).min(w.from);
        *to = (*to).max(w.to);
        incidents.extend(w.incidents);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn window(from: i64, to: i64, kind: &str) -> Window {
        Window {
            from: at(from),
            to: at(to),
            incidents: vec![Incident {
                kind: kind.into(),
                at: at(from + 25),
                severity: 0.5,
            }],
        }
    }

    #[test]
    fn an_event_file_takes_in_the_windows_overlapping_it() {
        let mut windows = vec![
            window(35, 75, "hard_brake"),
            window(110, 150, "collision"),
            window(200, 240, "swerve"),
        ];
        let (mut from, mut to, mut incidents) = (at(60), at(120), Vec::new());
        take_in(&mut windows, &mut from, &mut to, &mut incidents);
        assert_eq!((from, to), (at(35), at(150)));
        let kinds: Vec<_> = incidents.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["hard_brake", "collision"]);
        assert_eq!(windows, [window(200, 240, "swerve")]);
    }
}
