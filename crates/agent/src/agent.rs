//! One agent over one camera and one phone storage: each pass imports what is new on the
//! camera, processes the drives the camera has finished (incidents, clips, time-lapse)
//! and queues their uploads; [`run`] adds deletion sync and the uploads, once or until
//! stopped.

use crate::camera::source::Camera;
use crate::camera::View;
use crate::clock::on_gps_clock;
use crate::cloud::Client;
use crate::drives::{process_finished, Processed};
use crate::error::AgentError;
use crate::import::{import, ImportReport};
use crate::phone::Phone;
use crate::quota::Quota;
use crate::residency::{Clip, Residency};
use crate::state::State;
use crate::upload::{self, ClipKind, Kind, NewUpload, Policy, Priority, Queue, Until, Uploader};
use chrono::{Duration, Utc};
use dashvault_detect::Detector;
use indicatif::ProgressBar;
use std::future::Future;
use std::path::{Path, PathBuf};

/// Setting: the camera folder (or Wi-Fi address) of the last `agent run` (for `status`
/// and cabin clips).
pub const CAMERA_SETTING: &str = "camera";
/// Setting: the camera model given to `agent run --model`.
pub const MODEL_SETTING: &str = "model";
/// Setting: the phone quota of the last `agent run`, as given (`50%`, `2000000000`).
pub const QUOTA_SETTING: &str = "quota";

/// What an agent works on.
#[derive(Debug, Clone)]
pub struct Options {
    /// Phone storage and state (`--storage`).
    pub storage: PathBuf,
    /// The camera: its folder or its address on Wi-Fi (`--camera`).
    pub camera: Camera,
    /// Share of the disk the phone storage may use (`--quota`).
    pub quota: Quota,
    /// The incident detector (thresholds of the camera model).
    pub detector: Detector,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pass {
    /// The import.
    pub import: ImportReport,
    /// Drives processed, with what was made of them.
    pub processed: Vec<Processed>,
    /// Uploads queued.
    pub queued: usize,
}

/// An agent: its records, phone storage, upload queue and camera.
#[derive(Debug, Clone)]
pub struct Agent {
    residency: Residency,
    phone: Phone,
    queue: Queue,
    options: Options,
}

impl Agent {
    /// Opens the storage (creating it) and remembers the camera and quota for `status`.
    pub async fn open(mut options: Options) -> Result<Self, AgentError> {
        let state = State::open(&options.storage).await?;
        // Absolute, so that the paths kept in the database hold from any working directory.
        options.storage = state.dir().to_owned();
        if let Camera::Folder(dir) = &options.camera {
            let dir = std::fs::canonicalize(dir).map_err(|error| {
                AgentError::Request(format!(
                    "camera folder {}: {error} (give the folder of the camera's card, or its http:// address, with --camera)",
                    dir.display()
                ))
            })?;
            options.camera = Camera::Folder(dir);
        }
        state
            .set_setting(CAMERA_SETTING, &options.camera.describe())
            .await?;
        state
            .set_setting(QUOTA_SETTING, &quota_text(options.quota))
            .await?;
        Ok(Self {
            residency: Residency::new(state.clone()),
            phone: Phone::new(&options.storage),
            queue: Queue::new(state),
            options,
        })
    }

    /// The phone's records.
    pub fn residency(&self) -> &Residency {
        &self.residency
    }

    /// Imports, processes finished drives (all drives when `all_final`) and queues their
    /// uploads. `progress` shows the import.
    pub async fn pass(&self, all_final: bool, progress: &ProgressBar) -> Result<Pass, AgentError> {
        std::fs::create_dir_all(self.phone.root()).map_err(AgentError::io(self.phone.root()))?;
        let quota = self
            .options
            .quota
            .bytes(self.phone.root())
            .map_err(AgentError::io(self.phone.root()))?;
        let import = match import(
            &self.residency,
            &self.phone,
            &self.options.camera,
            all_final,
            quota,
            progress,
        )
        .await
        {
            // A camera on Wi-Fi comes and goes (the car drives off): a watching agent
            // goes on with what it has, and lists the camera again next round.
            Err(AgentError::Camera(e)) if !all_final => {
                tracing::warn!(error = %e, "camera not reachable; trying again next round");
                ImportReport::default()
            }
            other => other?,
        };
        let processed = process_finished(
            &self.residency,
            &self.phone,
            &self.options.detector,
            all_final,
            Utc::now(),
        )
        .await?;
        let mut queued = 0;
        for drive in &processed {
            queued += self.enqueue_drive(drive).await?;
        }
        Ok(Pass {
            import,
            processed,
            queued,
        })
    }

    async fn enqueue_drive(&self, processed: &Processed) -> Result<usize, AgentError> {
        let mut items: Vec<NewUpload> = processed.clips.iter().map(clip_upload).collect();
        if let Some((path, made)) = &processed.timelapse {
            items.push(NewUpload {
                path: path.clone(),
                kind: Kind::Timelapse,
                priority: Priority::Drive,
                start: made.start,
                end: made.end,
                view: upload::View::Road,
                clip: None,
                incidents: Vec::new(),
                sha256: made.written.sha256.clone(),
                size: made.written.size,
                filename: format!("drive_{}_timelapse.mp4", stamp(made.start)),
                clock: upload::Clock::Camera,
                original_size: None,
            });
        }
        let recordings = self.residency.recordings(processed.drive.id).await?;
        // A recording the camera's power cut left without an index is often the one that
        // matters most (a collision): it goes up whole, as evidence, at once.
        for recording in &recordings {
            let (Some(path), Some(original)) = (&recording.phone_path, recording.original_size)
            else {
                continue;
            };
            items.push(NewUpload {
                path: path.clone(),
                kind: Kind::Recording,
                priority: Priority::AutoClip,
                start: recording.start,
                end: recording.start + Duration::milliseconds(recording.duration_ms),
                view: upload::View::Road,
                clip: None,
                incidents: Vec::new(),
                sha256: recording.sha256.clone(),
                size: recording.size,
                filename: file_name(&recording.camera_path),
                clock: upload::Clock::Camera,
                original_size: Some(original),
            });
        }
        for sidecar in &processed.sidecars {
            let Some(path) = &sidecar.phone_path else {
                continue;
            };
            let duration = recordings
                .iter()
                .find(|r| r.start == sidecar.start)
                .map_or(60_000, |r| r.duration_ms);
            items.push(NewUpload {
                path: path.clone(),
                kind: Kind::Sidecar,
                priority: Priority::Sidecar,
                start: sidecar.start,
                end: sidecar.start + Duration::milliseconds(duration),
                view: upload::View::Road,
                clip: None,
                incidents: Vec::new(),
                sha256: sidecar.sha256.clone(),
                size: sidecar.size,
                filename: file_name(path),
                clock: upload::Clock::Camera,
                original_size: None,
            });
        }
        if let Some(offset) = processed.clock_offset {
            for item in &mut items {
                on_gps_clock(item, offset);
            }
        }
        for item in &items {
            self.queue.enqueue(item).await?;
        }
        Ok(items.len())
    }
}

/// The upload of a clip made after its drive was processed (a manual clip), at true UTC
/// when the drive's GPS time gave the camera clock's offset.
pub async fn queued_clip(residency: &Residency, clip: &Clip) -> Result<NewUpload, AgentError> {
    let mut upload = clip_upload(clip);
    let drive = match clip.drive_id {
        Some(id) => residency.drive(id).await?,
        None => None,
    };
    if let Some(offset) = drive.and_then(|d| d.clock_offset_ms) {
        on_gps_clock(&mut upload, Duration::milliseconds(offset));
    }
    Ok(upload)
}

/// The upload of a clip: automatic ones first in line, manual ones by the manual rules.
pub fn clip_upload(clip: &Clip) -> NewUpload {
    let auto = clip.kind == "auto";
    let what = clip
        .incidents
        .first()
        .map_or(clip.kind.as_str(), |i| i.kind.as_str());
    NewUpload {
        path: clip.path.clone().unwrap_or_default(),
        kind: Kind::Clip,
        priority: if auto {
            Priority::AutoClip
        } else {
            Priority::ManualClip
        },
        start: clip.start,
        end: clip.end,
        view: if clip.view == View::Cabin.name().unwrap_or_default() {
            upload::View::Cabin
        } else {
            upload::View::Road
        },
        clip: Some(if auto {
            ClipKind::Auto
        } else {
            ClipKind::Manual
        }),
        incidents: clip.incidents.clone(),
        sha256: clip.sha256.clone(),
        size: clip.size,
        filename: format!("clip_{}_{what}.mp4", stamp(clip.start)),
        clock: upload::Clock::Camera,
        original_size: None,
    }
}

fn stamp(time: chrono::DateTime<Utc>) -> String {
    time.format("%Y-%m-%d_%H-%M-%S").to_string()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The quota as the user would write it.
pub fn quota_text(quota: Quota) -> String {
    match quota {
        Quota::Bytes(bytes) => bytes.to_string(),
        Quota::Percent(percent) => format!("{percent}%"),
    }
}

/// What [`run`] did over all its passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Recordings imported.
    pub imported: usize,
    /// Automatic clips cut.
    pub clips: usize,
    /// Uploads the server accepted.
    pub uploaded: usize,
    /// Uploads the policy holds back for now (at the last pass).
    pub held_back: usize,
    /// Uploads refused or out of attempts.
    pub failed: usize,
}

/// Runs the agent: pass, deletion sync, uploads; with `once`, a single round treating
/// every drive on the camera as finished, then returns once the server accepted what the
/// policy allows now. Otherwise repeats every `interval`, logging a failed round and
/// going on. Returns as soon as `stop`
/// completes, even in the middle of a round: every step leaves the state consistent
/// (atomic files, transactions, uploads resumed from the server's offset next time).
pub async fn run(
    agent: &Agent,
    client: &Client,
    uploader: &Uploader,
    once: bool,
    interval: std::time::Duration,
    progress: &ProgressBar,
    stop: impl Future<Output = ()>,
) -> Result<RunReport, AgentError> {
    let mut report = RunReport::default();
    tokio::pin!(stop);
    loop {
        let result = tokio::select! {
            round = round(agent, client, uploader, once, progress, &mut report) => round,
            _ = &mut stop => return Ok(report),
        };
        match result {
            Err(e) if once => return Err(e),
            // A watching agent outlives a bad round (camera unplugged, disk full for now).
            Err(e) => tracing::error!("agent round failed, trying again: {e}"),
            Ok(()) if once => return Ok(report),
            Ok(()) => {}
        }
        tokio::select! {
            _ = &mut stop => return Ok(report),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// One round of [`run`], added to `report`.
async fn round(
    agent: &Agent,
    client: &Client,
    uploader: &Uploader,
    once: bool,
    progress: &ProgressBar,
    report: &mut RunReport,
) -> Result<(), AgentError> {
    let pass = agent.pass(once, progress).await?;
    report.imported += pass.import.recordings;
    report.clips += pass.processed.iter().map(|p| p.clips.len()).sum::<usize>();
    match crate::sync::sync_deletions(agent.queue.state(), client, &agent.residency).await {
        Ok(sync) if sync != Default::default() => {
            tracing::info!(?sync, "deletions in sync")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "deletion sync failed; trying again next round"),
    }
    let policy = Policy::load(agent.queue.state()).await?;
    let uploads = uploader
        .run(&agent.queue, client, &policy, Until::Idle)
        .await
        .map_err(|upload::UploadError::State(e)| AgentError::State(e))?;
    report.uploaded += uploads.uploaded;
    report.failed += uploads.failed;
    report.held_back = uploads.held_back;
    // What still waits, for the owner's Cameras page; a failure only costs that figure.
    let waiting = agent.queue.summary().await?.queued;
    if let Err(e) = client.report_status(waiting).await {
        tracing::debug!(error = %e, "could not report the uploads waiting");
    }
    // Every round, also idle ones: debug, so that a watching agent's (and the demo's)
    // console stays quiet; what a round does is logged at info where it happens.
    tracing::debug!(
        imported = pass.import.recordings,
        imported_bytes = pass.import.bytes,
        sidecars = pass.import.sidecars,
        not_ready = pass.import.not_ready,
        copy_failed = pass.import.failed,
        left_on_camera = pass.import.left_on_camera,
        loop_deleted_drives = ?pass.import.evicted_drives,
        drives = pass.processed.len(),
        queued = pass.queued,
        uploaded = uploads.uploaded,
        held_back = uploads.held_back,
        failed = uploads.failed,
        "agent round done"
    );
    Ok(())
}
