//! Manual clips: any stretch of a drive the user picks, road view from the phone's copy,
//! cabin view from the camera's files (cabin view is never copied to the phone otherwise).

use crate::camera::{self, View};
use crate::cutting::{cut_window, Source};
use crate::error::AgentError;
use crate::phone::Phone;
use crate::residency::{Clip, Residency};
use chrono::{DateTime, Utc};
use std::path::Path;
use uuid::Uuid;

/// Cuts `[from, to]` of `view` (road or cabin; cabin needs `camera_dir`) into a manual
/// clip on the phone and records it.
pub async fn make_clip(
    residency: &Residency,
    phone: &Phone,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    view: View,
    camera_dir: Option<&Path>,
) -> Result<Clip, AgentError> {
    if from >= to {
        return Err(AgentError::Request(format!(
            "the clip must end after it starts (from {from} to {to})"
        )));
    }
    let drive = residency
        .drives()
        .await?
        .into_iter()
        .find(|d| d.start < to && d.end > from);
    let sources: Vec<Source> = match view {
        View::Road => {
            let Some(drive) = &drive else {
                return Err(AgentError::Request(format!(
                    "no drive on the phone between {from} and {to}; `dashvault agent status` lists the drives"
                )));
            };
            residency
                .recordings(drive.id)
                .await?
                .into_iter()
                .filter_map(|r| r.phone_path.map(|p| (p, r.start)))
                .collect()
        }
        View::Cabin => {
            let dir = camera_dir.ok_or_else(|| {
                AgentError::Request(
                    "a cabin-view clip is cut from the camera: give --camera DIR".into(),
                )
            })?;
            camera::scan(dir)
                .map_err(AgentError::io(dir))?
                .recordings
                .into_iter()
                .filter(|f| f.view == View::Cabin)
                .map(|f| (f.path, f.start))
                .collect()
        }
        View::Other => {
            return Err(AgentError::Request(
                "clips are made of the road or the cabin view".into(),
            ))
        }
    };
    let id = Uuid::now_v7();
    let out = phone.clip(id);
    let path = out.clone();
    let made = tokio::task::spawn_blocking(move || cut_window(&sources, from, to, &path))
        .await
        .map_err(|e| AgentError::Request(format!("cut stopped: {e}")))??;
    let clip = Clip {
        id,
        drive_id: drive.map(|d| d.id),
        kind: "manual".into(),
        view: view.name().unwrap_or("road").into(),
        start: made.start,
        end: made.end,
        incidents: Vec::new(),
        size: made.written.size,
        sha256: made.written.sha256,
        path: Some(out),
    };
    residency.add_clip(&clip).await?;
    Ok(clip)
}
