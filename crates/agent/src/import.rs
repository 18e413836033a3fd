//! Camera → phone: every road-view recording not imported yet, and its sidecars, copied
//! into the phone storage (atomically, hashed), oldest first, within the quota. Cabin and
//! other views stay on the camera (a cabin-view clip is cut from the camera's files),
//! except the cabin files the camera marked ([`crate::marked`]), fetched to become clips.
//!
//! The camera is a folder or a camera on Wi-Fi ([`Camera`]). A recording the camera is
//! still writing is left for the next pass: in a folder, one whose index can not be read
//! yet; on Wi-Fi, one whose size still changes between listings (or whose index does not
//! read once fetched). A road file whose index does not read although the camera went on
//! to a later file was cut off by a power loss: it is rebuilt ([`crate::rebuild`]). When
//! the quota is reached, [`crate::evict`] deletes the oldest drives; when that is not
//! enough (only clips not yet in the cloud are left), importing stops and the rest stays
//! on the camera until uploads free space.

use crate::camera::source::{Camera, Fetched, Found};
use crate::camera::{self, CameraFile, View};
use crate::error::AgentError;
use crate::evict::make_room;
use crate::marked::{add_marked, is_marked, Marked};
use crate::phone::{remove_file, Phone, Written};
use crate::rebuild;
use crate::residency::{Recording, Residency, Sidecar};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
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
    /// Cabin-view files the camera marked, fetched to become clips.
    pub marked: usize,
    /// Road recordings the camera left without an index (its power cut), rebuilt.
    pub recovered: usize,
    /// Recordings without an index that could not be rebuilt (no H.264/H.265 picture in
    /// them): left on the camera, not fetched again while their size stays.
    pub unrecoverable: usize,
}

/// One file to fetch: a road recording, or a marked cabin file.
struct Todo {
    file: CameraFile,
    size: u64,
    /// The camera went on to a later file of the view: a file without an index will
    /// never get one (not so with `--once` alone: the last file may still be written).
    moved_on: bool,
}

/// Imports what is new on `camera`; `quota` is in bytes; with `all_final`, files still
/// growing on a Wi-Fi camera are taken as they are. `progress` shows the bytes copied
/// (pass [`ProgressBar::hidden`] for none).
pub async fn import(
    residency: &Residency,
    phone: &Phone,
    camera: &Camera,
    all_final: bool,
    quota: u64,
    progress: &ProgressBar,
) -> Result<ImportReport, AgentError> {
    let found = camera.found().await?;
    sweep_partials(phone, &found);
    let mut report = ImportReport::default();
    let mut todo = Vec::new();
    // A camera on Wi-Fi that stopped answering: nothing more is asked of it this pass.
    let mut gone = false;
    for (file, listed) in &found.recordings {
        let wanted = match file.view {
            View::Road => !imported(residency, &file.path, file.start).await?,
            View::Cabin => {
                file.mark.is_some() && !is_marked(residency, &file.path, file.start).await?
            }
            View::Other => false,
        };
        if !wanted {
            continue;
        }
        let moved_on = found
            .recordings
            .iter()
            .any(|(later, _)| later.view == file.view && later.start > file.start);
        match camera.finished(file, *listed, (all_final, moved_on)).await {
            Ok(Some(size)) => todo.push(Todo {
                file: file.clone(),
                size,
                moved_on,
            }),
            Ok(None) => report.not_ready += 1,
            Err(e) => {
                tracing::warn!(file = %file.path.display(), error = %e, "camera file not reachable this pass");
                report.failed += 1;
                if e.is_camera_unreachable() {
                    gone = true;
                    break;
                }
            }
        }
    }
    if gone {
        todo.clear();
    }
    progress.set_length(todo.iter().map(|t| t.size).sum());
    progress.set_style(
        ProgressStyle::with_template("import {bar:30} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for (
        i,
        Todo {
            file,
            size,
            moved_on,
        },
    ) in todo.iter().enumerate()
    {
        if *moved_on && gave_up(residency, &file.path, *size).await? {
            report.unrecoverable += 1;
            continue;
        }
        let room = make_room(residency, *size, quota).await?;
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
        let to = match file.view {
            View::Road => phone.recording(file.start, &name),
            _ => phone.marked(&name),
        };
        let (duration_ms, written, original_size) = match camera
            .fetch_video(&file.path, (*size, *moved_on), &to, &phone.partial(&name))
            .await
        {
            Ok(Fetched::Done(duration_ms, written)) => (duration_ms, written, None),
            Ok(Fetched::NoIndex(broken)) if file.view == View::Road => {
                match rebuilt(residency, file, &broken, &to).await {
                    Ok(Some(rebuilt)) => {
                        report.recovered += 1;
                        let size = Some(rebuilt.original_size);
                        (rebuilt.duration_ms, rebuilt.written, size)
                    }
                    Ok(None) => {
                        report.not_ready += 1;
                        continue;
                    }
                    Err(e @ AgentError::Request(_)) => {
                        tracing::warn!(file = %file.path.display(), error = %e, "recording without an index can not be rebuilt: left on the camera");
                        give_up(residency, &file.path, *size).await?;
                        remove_file(&broken).map_err(AgentError::io(&broken))?;
                        report.unrecoverable += 1;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(file = %file.path.display(), error = %e, "recording without an index not rebuilt this pass");
                        report.failed += 1;
                        continue;
                    }
                }
            }
            Ok(Fetched::NotReady | Fetched::NoIndex(_)) => {
                report.not_ready += 1;
                continue;
            }
            Err(e) => {
                // The camera may have overwritten it (loop recording), be unplugged or out
                // of Wi-Fi range: nothing was recorded, so the next pass tries again (a
                // Wi-Fi download resumes from the bytes it has). A camera gone is not
                // asked for the rest now.
                tracing::warn!(file = %file.path.display(), error = %e, "recording not imported this pass");
                if e.is_camera_unreachable() {
                    report.failed += todo.len() - i;
                    gone = true;
                    break;
                }
                report.failed += 1;
                continue;
            }
        };
        report.bytes += written.size;
        progress.inc(written.size);
        // Recorded first: a crash before the recording is recorded fetches it again,
        // and the mark is there for it.
        if let Some(mark) = file.mark {
            add_marked(
                residency,
                &Marked {
                    camera_path: file.path.clone(),
                    view: file.view,
                    mark,
                    start: file.start,
                    duration_ms,
                    phone_path: (file.view != View::Road).then(|| to.clone()),
                    size: if file.view == View::Road {
                        0
                    } else {
                        written.size
                    },
                },
            )
            .await?;
        }
        if file.view == View::Road {
            add_road(residency, file, (duration_ms, original_size), &written, &to).await?;
            report.recordings += 1;
            report.sidecars +=
                import_sidecars(residency, phone, camera, &found.sidecars, file.start).await?;
        } else {
            report.marked += 1;
        }
    }
    // Sidecars the camera finished after their recording was imported.
    let late = if gone {
        Vec::new()
    } else {
        late_sidecars(residency, &found.sidecars).await?
    };
    for start in late {
        report.sidecars +=
            import_sidecars(residency, phone, camera, &found.sidecars, start).await?;
    }
    progress.finish_and_clear();
    Ok(report)
}

/// The road recording `file` that the camera left without an index, fetched to
/// `broken`, rebuilt into `to` ([`crate::rebuild`]); `None` while no road recording is on
/// the phone to rebuild it with (the next pass tries again).
async fn rebuilt(
    residency: &Residency,
    file: &CameraFile,
    broken: &Path,
    to: &Path,
) -> Result<Option<rebuild::Rebuilt>, AgentError> {
    let Some(reference) = rebuild::reference(residency, file.start).await? else {
        tracing::info!(file = %file.path.display(), "recording without an index waits for a sibling to rebuild it with");
        return Ok(None);
    };
    let rebuilt = rebuild::rebuild(broken, &reference, to).await?;
    remove_file(broken).map_err(AgentError::io(broken))?;
    Ok(Some(rebuilt))
}

/// The setting that says a camera file of a size could not be rebuilt.
fn gave_up_key(path: &Path) -> String {
    format!("unrebuildable:{}", path.display())
}

/// True when the camera file at `path` could not be rebuilt at this size before.
async fn gave_up(residency: &Residency, path: &Path, size: u64) -> Result<bool, AgentError> {
    let noted = residency.state().setting(&gave_up_key(path)).await?;
    Ok(noted == Some(size.to_string()))
}

/// Notes that the camera file at `path` of `size` bytes can not be rebuilt.
async fn give_up(residency: &Residency, path: &Path, size: u64) -> Result<(), AgentError> {
    residency
        .state()
        .set_setting(&gave_up_key(path), &size.to_string())
        .await?;
    Ok(())
}

/// Records a road recording fetched to `to`.
async fn add_road(
    residency: &Residency,
    file: &CameraFile,
    (duration_ms, original_size): (i64, Option<u64>),
    written: &Written,
    to: &Path,
) -> Result<(), AgentError> {
    residency
        .add_recording(&Recording {
            id: 0,
            camera_path: file.path.clone(),
            drive_id: 0,
            start: file.start,
            duration_ms,
            camera_event: file.event,
            size: written.size,
            sha256: written.sha256.clone(),
            phone_path: Some(to.to_owned()),
            original_size,
        })
        .await?;
    Ok(())
}

/// Copies the sidecars of the recording started at `start` not imported yet.
async fn import_sidecars(
    residency: &Residency,
    phone: &Phone,
    camera: &Camera,
    sidecars: &[camera::SidecarFile],
    start: DateTime<Utc>,
) -> Result<usize, AgentError> {
    let mut count = 0;
    for sidecar in sidecars.iter().filter(|s| s.start == start) {
        if imported(residency, &sidecar.path, sidecar.start).await? {
            continue;
        }
        let name = file_name(&sidecar.path);
        let to = phone.sidecar(sidecar.start, &name);
        let written = match camera
            .fetch_sidecar(&sidecar.path, &to, &phone.partial(&name))
            .await
        {
            Ok(Some(written)) => written,
            Ok(None) => continue,
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
            && !imported(residency, &sidecar.path, sidecar.start).await?
            && residency.has_recording_at(sidecar.start).await?
        {
            starts.push(sidecar.start);
        }
    }
    Ok(starts)
}

/// True when the camera file at `path` (started at `start`) was imported, from there or
/// under another path (a card mounted elsewhere, the same camera over Wi-Fi).
async fn imported(
    residency: &Residency,
    path: &Path,
    start: DateTime<Utc>,
) -> Result<bool, AgentError> {
    if residency.is_imported(path).await? {
        return Ok(true);
    }
    Ok(match path.file_name() {
        Some(name) => residency.has_same_file(start, name).await?,
        None => false,
    })
}

/// Deletes the partly fetched files whose camera file is no longer on the camera (loop
/// recording overwrote it before it was whole): their bytes would never be used.
fn sweep_partials(phone: &Phone, found: &Found) {
    let Ok(entries) = std::fs::read_dir(phone.partials()) else {
        return;
    };
    let listed: HashSet<String> = found
        .recordings
        .iter()
        .map(|(f, _)| file_name(&f.path))
        .chain(found.sidecars.iter().map(|s| file_name(&s.path)))
        .collect();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !listed.contains(&name) {
            tracing::info!(file = %name, "partly fetched file no longer on the camera: deleted");
            if let Err(e) = remove_file(&entry.path()) {
                tracing::warn!(file = %name, error = %e, "can not delete a partly fetched file");
            }
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
