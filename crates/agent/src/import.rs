//! Camera → phone: every road-view recording not imported yet, and its sidecars, copied
//! into the phone storage (atomically, hashed), oldest first, within the quota. Cabin and
//! other views stay on the camera (a cabin-view clip is cut from the camera's files).
//!
//! A recording that can not be indexed yet (the camera is still writing it) is left for
//! the next pass. When the quota is reached, [`crate::evict`] deletes the oldest drives;
//! when that is not enough (only clips not yet in the cloud are left), importing stops
//! and the rest stays on the camera until uploads free space.

use crate::camera::{self, View};
use crate::error::AgentError;
use crate::evict::make_room;
use crate::phone::{copy_file, Phone};
use crate::residency::{Recording, Residency, Sidecar};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// What one import pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Recordings copied to the phone.
    pub recordings: usize,
    /// Sidecars copied to the phone.
    pub sidecars: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Drives deleted from the phone to make room.
    pub evicted_drives: Vec<i64>,
    /// Recordings left on the camera because the phone is full of clips not yet uploaded.
    pub left_on_camera: usize,
    /// Recordings not readable yet (still being written), tried again next pass.
    pub not_ready: usize,
    /// Recordings whose copy failed (gone from the camera meanwhile, …), tried again next pass.
    pub failed: usize,
}

/// Imports what is new on the camera in `camera_dir`; `quota` is in bytes. `progress`
/// shows the bytes copied (pass [`ProgressBar::hidden`] for none).
pub async fn import(
    residency: &Residency,
    phone: &Phone,
    camera_dir: &Path,
    quota: u64,
    progress: &ProgressBar,
) -> Result<ImportReport, AgentError> {
    let dir = camera_dir.to_owned();
    let inventory = tokio::task::spawn_blocking(move || camera::scan(&dir))
        .await
        .map_err(|e| AgentError::Request(format!("camera scan stopped: {e}")))?
        .map_err(AgentError::io(camera_dir))?;
    let mut todo = Vec::new();
    for file in inventory.recordings.iter().filter(|f| f.view == View::Road) {
        if !residency.is_imported(&file.path).await? {
            todo.push(file.clone());
        }
    }
    let total: u64 = todo
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum();
    progress.set_length(total);
    progress.set_style(
        ProgressStyle::with_template("import {bar:30} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = ImportReport::default();
    for (i, file) in todo.iter().enumerate() {
        let Some((duration_ms, size)) = readable(&file.path).await else {
            report.not_ready += 1;
            continue;
        };
        let room = make_room(residency, size, quota).await?;
        report.evicted_drives.extend(room.drives);
        if !room.fits {
            report.left_on_camera = todo.len() - i;
            tracing::warn!(
                left = report.left_on_camera,
                quota,
                "phone storage full of clips not yet in the cloud: recordings stay on the camera until uploads free space"
            );
            break;
        }
        let name = file_name(&file.path);
        let to = phone.recording(file.start, &name);
        let written = match copy(&file.path, &to).await {
            Ok(written) => written,
            Err(e) => {
                // The camera may have overwritten it (loop recording) or be unplugged:
                // nothing was recorded, so the next pass tries again if it is still there.
                tracing::warn!(error = %e, "recording not imported this pass");
                report.failed += 1;
                continue;
            }
        };
        residency
            .add_recording(&Recording {
                id: 0,
                camera_path: file.path.clone(),
                drive_id: 0,
                start: file.start,
                duration_ms,
                camera_event: file.event,
                size: written.size,
                sha256: written.sha256,
                phone_path: Some(to),
            })
            .await?;
        report.recordings += 1;
        report.bytes += written.size;
        progress.inc(written.size);
        report.sidecars +=
            import_sidecars(residency, phone, &inventory.sidecars, file.start).await?;
    }
    // Sidecars the camera finished after their recording was imported.
    for start in late_sidecars(residency, &inventory.sidecars).await? {
        report.sidecars += import_sidecars(residency, phone, &inventory.sidecars, start).await?;
    }
    progress.finish_and_clear();
    Ok(report)
}

/// Copies the sidecars of the recording started at `start` not imported yet.
async fn import_sidecars(
    residency: &Residency,
    phone: &Phone,
    sidecars: &[camera::SidecarFile],
    start: DateTime<Utc>,
) -> Result<usize, AgentError> {
    let mut count = 0;
    for sidecar in sidecars.iter().filter(|s| s.start == start) {
        if residency.is_imported(&sidecar.path).await? {
            continue;
        }
        let to = phone.sidecar(sidecar.start, &file_name(&sidecar.path));
        let written = match copy(&sidecar.path, &to).await {
            Ok(written) => written,
            Err(e) => {
                tracing::warn!(error = %e, "sidecar not imported this pass");
                continue;
            }
        };
        residency
            .add_sidecar(&Sidecar {
                id: 0,
                camera_path: sidecar.path.clone(),
                drive_id: None,
                start: sidecar.start,
                size: written.size,
                sha256: written.sha256,
                phone_path: Some(to),
            })
            .await?;
        count += 1;
    }
    Ok(count)
}

/// Start times of sidecars not imported yet whose recording was.
async fn late_sidecars(
    residency: &Residency,
    sidecars: &[camera::SidecarFile],
) -> Result<Vec<DateTime<Utc>>, AgentError> {
    let mut starts = Vec::new();
    for sidecar in sidecars {
        if !starts.contains(&sidecar.start)
            && !residency.is_imported(&sidecar.path).await?
            && residency.has_recording_at(sidecar.start).await?
        {
            starts.push(sidecar.start);
        }
    }
    Ok(starts)
}

/// Duration (ms) and size of a camera recording, `None` while it can not be indexed.
async fn readable(path: &Path) -> Option<(i64, u64)> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).ok()?;
        let size = file.metadata().ok()?.len();
        match dashvault_media::Mp4Index::read(&file) {
            Ok(index) => Some(((index.duration_seconds() * 1000.0).round() as i64, size)),
            Err(e) => {
                tracing::info!(file = %path.display(), error = %e, "recording not readable yet; trying again next pass");
                None
            }
        }
    })
    .await
    .ok()
    .flatten()
}

async fn copy(from: &Path, to: &Path) -> Result<crate::phone::Written, AgentError> {
    let (from, to) = (from.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || copy_file(&from, &to).map_err(AgentError::io(&from)))
        .await
        .map_err(|e| AgentError::Request(format!("copy stopped: {e}")))?
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
