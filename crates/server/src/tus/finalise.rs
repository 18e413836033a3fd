//! What a completed upload becomes: the multipart object assembled, its SHA-256 checked,
//! the file indexed and validated in place by the media crate (embedded telemetry read
//! too, through ranged reads of the store: no local copy of a video is made), and filed
//! as a recording of a drive, a clip, a time-lapse or a sidecar. A file that is not what
//! its kind says is refused (`422`) and nothing of it is kept; the same file (owner and
//! SHA-256) uploaded twice is one object.

use super::metadata::{Kind, UploadMetadata};
use super::rebuild::rebuild;
use super::stored::{abort_multipart, download, hash};
use super::writer::{best_effort_delete, key, scratch_prefix};
use super::TusError;
use crate::crash::{self, CrashPoint};
use crate::evidence::ledger;
use crate::jobs::thumbnail::{MakeThumbnail, ThumbnailOf};
use crate::state::AppState;
use crate::stream::reader::BlobReader;
use chrono::{DateTime, Utc};
use dashvault_media::telemetry::mp4::read_mp4;
use dashvault_media::telemetry::{clock_offset, read_parsed, Parsed};
use dashvault_media::{Mp4Index, ReadAt, VIDEO};
use dashvault_store::blob::{BlobKey, UploadId};
use dashvault_store::model::{
    Keyframe, NewClip, NewRecording, RecordingKind, Sidecar, StoredObject, TelemetrySummary,
    Upload, UploadOutcome, UploadProgress, VideoFile,
};
use futures_util::{stream, StreamExt, TryStreamExt};
use uuid::Uuid;

/// What filing a completed upload did.
#[derive(Debug)]
pub struct Filed {
    /// The item the file is, and its SHA-256.
    pub outcome: UploadOutcome,
    /// The upload's own object is a second copy of a file stored before (under another
    /// key): it is to be deleted once the outcome is recorded.
    pub duplicate: bool,
}

/// Assemble the completed upload's object from `progress` (unless a previous attempt
/// already did) and, unless it is a partial upload, file it. `sha256` is the object's
/// SHA-256 (hex) when it was computed as the bytes arrived; without it the object is read
/// to compute it. A file refused as not what its kind says is recorded as the upload's
/// failure and its bytes are deleted.
pub async fn complete(
    state: &AppState,
    upload: &Upload,
    progress: &UploadProgress,
    sha256: Option<String>,
) -> Result<Option<Filed>, TusError> {
    let blob_key = key(&upload.blob_key)?;
    if !state.blobs.exists(&blob_key).await? {
        match &progress.multipart_id {
            Some(id) if !progress.parts.is_empty() => {
                state
                    .blobs
                    .complete_multipart(&blob_key, &UploadId::new(id.clone()), &progress.parts)
                    .await?;
            }
            _ => {
                state.blobs.put(&blob_key, stream::empty().boxed()).await?;
            }
        }
        crash::reached(CrashPoint::ObjectAssembled);
    }
    if upload.partial {
        return Ok(None);
    }
    match file(state, upload, &blob_key, sha256).await {
        Err(err @ (TusError::Unprocessable(_) | TusError::ChecksumMismatch(_))) => {
            refuse(state, upload, &err.to_string()).await?;
            Err(err)
        }
        other => other.map(Some),
    }
}

/// Record that the upload's file was refused (first, so that a crash meanwhile never
/// leaves an upload that looks resumable without its bytes), then delete its bytes.
async fn refuse(state: &AppState, upload: &Upload, reason: &str) -> Result<(), TusError> {
    state
        .repo
        .fail_upload(upload.user_id, upload.id, reason)
        .await?;
    delete_blobs(state, upload).await
}

/// Forget an upload and every blob it made (its multipart upload, its tail and scratch
/// blobs, and its object unless that is a filed file).
pub async fn discard(state: &AppState, upload: &Upload) -> Result<(), TusError> {
    delete_blobs(state, upload).await?;
    state.repo.delete_upload(upload.user_id, upload.id).await?;
    Ok(())
}

/// Delete every blob the upload made but its filed file.
async fn delete_blobs(state: &AppState, upload: &Upload) -> Result<(), TusError> {
    state.uploads.hashes.forget(upload.id);
    let blob_key = key(&upload.blob_key)?;
    let filed = upload.outcome.is_some();
    if !filed {
        if let Some(id) = &upload.multipart_id {
            abort_multipart(state, &blob_key, id).await;
        }
        best_effort_delete(state, &blob_key).await;
    }
    let prefix = key(&scratch_prefix(upload))?;
    let scratch: Vec<_> = state.blobs.list(Some(&prefix)).try_collect().await?;
    for blob in scratch {
        best_effort_delete(state, &blob.key).await;
    }
    Ok(())
}

/// File the object of a completed upload as what its metadata says (`sha256`: its
/// SHA-256 if known). Filing again after a crash finds what the first attempt filed.
async fn file(
    state: &AppState,
    upload: &Upload,
    blob_key: &BlobKey,
    sha256: Option<String>,
) -> Result<Filed, TusError> {
    let mut meta = UploadMetadata::parse(&upload.metadata).map_err(TusError::internal)?;
    // Sidecars are small and read by path; videos are indexed in place in the store.
    let local = if meta.kind == Kind::Sidecar {
        Some(download(state, blob_key, upload.length).await?)
    } else {
        None
    };
    let sha256 = match (&local, sha256) {
        (Some((_, copied)), _) => copied.clone(),
        (None, Some(known)) => known,
        (None, None) => hash(state, blob_key, upload.length).await?,
    };
    if let Some(expected) = &meta.sha256 {
        if *expected != sha256 {
            return Err(TusError::ChecksumMismatch(format!(
                "the file's SHA-256 is {sha256}, not the {expected} its metadata gives; nothing was kept"
            )));
        }
    }
    if let Some(item) = state.repo.object_by_sha256(upload.user_id, &sha256).await? {
        // Either this upload filed it before a crash (its key is ours: keep it), or the
        // owner stored the same file before (ours is a second copy).
        let stored = stored_item(state, upload.user_id, item).await?;
        // A crash right after filing may have kept its ledger entry from being written.
        ledger::filed(state.repo.as_ref(), upload.user_id, item, state.clock.now()).await?;
        if let Some(of) = stored.as_ref().and_then(|s| s.thumbnail) {
            queue_thumbnail(state, upload.user_id, of).await;
        }
        return Ok(Filed {
            outcome: UploadOutcome { sha256, item },
            duplicate: stored.map(|s| s.blob_key).as_deref() != Some(upload.blob_key.as_str()),
        });
    }
    let source = match local {
        Some((path, _)) => Source::Sidecar(path),
        None => Source::Blob(BlobReader::new(
            state.blobs.clone(),
            blob_key.clone(),
            upload.length,
        )),
    };
    let (kind, start) = (meta.kind, meta.start);
    let (inspected, rebuilt) =
        match tokio::task::spawn_blocking(move || inspect(&source, kind, start))
            .await
            .map_err(TusError::internal)?
        {
            Ok(inspected) => (inspected, None),
            Err(reason) if kind == Kind::Recording => {
                let rebuilt = rebuild(state, upload, (meta.view, meta.start), blob_key)
                    .await
                    .map_err(|e| match e {
                        TusError::Unprocessable(why) => {
                            TusError::Unprocessable(format!("{reason}; {why}"))
                        }
                        other => other,
                    })?;
                let local = Source::Local(rebuilt.local.to_path_buf());
                let inspected = tokio::task::spawn_blocking(move || inspect(&local, kind, start))
                    .await
                    .map_err(TusError::internal)?
                    .map_err(TusError::Unprocessable)?;
                (inspected, Some(rebuilt))
            }
            Err(reason) => return Err(TusError::Unprocessable(reason)),
        };
    crash::reached(CrashPoint::Indexed);
    let (inspected, gps_offset) = inspected;
    // Times on the camera's clock: corrected by its GPS time where the file has it, else
    // read in the device's time zone, when one is set.
    match gps_offset {
        Some(offset) => meta.on_gps_clock(offset),
        None => {
            let device = state.repo.device(upload.user_id, upload.device_id).await?;
            if let Some(zone) = device.and_then(|d| d.timezone) {
                meta.on_device_clock(&zone);
            }
        }
    }
    let now = state.clock.now();
    let (item, stored_key, thumbnail) = match (inspected, meta.kind) {
        (Inspected::Sidecar(telemetry), _) => {
            let sidecar = Sidecar {
                id: Uuid::now_v7(),
                user_id: upload.user_id,
                device_id: upload.device_id,
                drive_id: None,
                start: meta.start,
                blob_key: upload.blob_key.clone(),
                size: upload.length,
                sha256: sha256.clone(),
                telemetry,
                filename: meta.filename.clone(),
                created_at: now,
            };
            let sidecar = state.repo.add_sidecar(&sidecar).await?;
            (StoredObject::Sidecar(sidecar.id), sidecar.blob_key, None)
        }
        (Inspected::Video(video), Kind::Clip(kind)) => {
            let clip = NewClip {
                id: Uuid::now_v7(),
                user_id: upload.user_id,
                device_id: upload.device_id,
                kind,
                view: meta.view,
                incidents: meta.incidents.clone(),
                file: video.into_file(upload, &meta, sha256.clone()),
                created_at: now,
            };
            let clip = state.repo.add_clip(&clip).await?;
            (
                StoredObject::Clip(clip.id),
                clip.file.blob_key,
                Some(ThumbnailOf::Clip(clip.id)),
            )
        }
        (Inspected::Video(video), kind) => {
            let mut file = video.into_file(upload, &meta, sha256.clone());
            if let Some(rebuilt) = &rebuilt {
                file.blob_key = rebuilt.blob_key.clone();
                file.size = rebuilt.size;
                file.sha256 = rebuilt.sha256.clone();
                file.original_size = Some(upload.length);
            } else if let Some(original) = meta.original_size {
                // Rebuilt by its agent: the camera's file is its last bytes.
                if original > upload.length {
                    return Err(TusError::Unprocessable(format!(
                        "original_size {original} is more than the file's {} bytes",
                        upload.length
                    )));
                }
                file.original_size = Some(original);
            }
            let recording = NewRecording {
                id: Uuid::now_v7(),
                user_id: upload.user_id,
                device_id: upload.device_id,
                kind: if kind == Kind::Timelapse {
                    RecordingKind::Timelapse
                } else {
                    RecordingKind::Recording
                },
                view: meta.view,
                file,
                drive_gap_ms: u64::try_from(state.uploads.config.drive_gap.as_millis())
                    .unwrap_or(u64::MAX),
                created_at: now,
            };
            let recording = state.repo.add_recording(&recording).await?;
            (
                StoredObject::Recording(recording.id),
                recording.file.blob_key,
                Some(ThumbnailOf::Drive(recording.drive_id)),
            )
        }
    };
    crash::reached(CrashPoint::RowsCommitted);
    ledger::filed(state.repo.as_ref(), upload.user_id, item, now).await?;
    if let Some(of) = thumbnail {
        queue_thumbnail(state, upload.user_id, of).await;
    }
    Ok(Filed {
        outcome: UploadOutcome { sha256, item },
        // The same file may have been filed concurrently from another upload.
        duplicate: stored_key != upload.blob_key,
    })
}

/// Where one of the user's items is stored, and the thumbnail it is listed with.
pub(super) struct StoredItem {
    /// Its blob key.
    pub blob_key: String,
    /// Where the file as uploaded starts in the stored object: 0, or for a recording
    /// rebuilt from an upload without an index, its length less the original's.
    pub original_at: u64,
    /// A recording's drive's thumbnail, a clip's own; a sidecar has none.
    pub thumbnail: Option<ThumbnailOf>,
}

/// One of the user's items, if it is still stored.
pub(super) async fn stored_item(
    state: &AppState,
    user: Uuid,
    item: StoredObject,
) -> Result<Option<StoredItem>, TusError> {
    Ok(match item {
        StoredObject::Recording(id) => state.repo.recording(user, id).await?.map(|r| StoredItem {
            original_at: r
                .file
                .original_size
                .map_or(0, |original| r.file.size.saturating_sub(original)),
            blob_key: r.file.blob_key,
            thumbnail: Some(ThumbnailOf::Drive(r.drive_id)),
        }),
        StoredObject::Clip(id) => state.repo.clip(user, id).await?.map(|c| StoredItem {
            original_at: 0,
            blob_key: c.file.blob_key,
            thumbnail: Some(ThumbnailOf::Clip(id)),
        }),
        StoredObject::Sidecar(id) => state.repo.sidecar(user, id).await?.map(|s| StoredItem {
            original_at: 0,
            blob_key: s.blob_key,
            thumbnail: None,
        }),
    })
}

/// Queue the thumbnail an item is listed with. A failure only delays the picture: it is
/// made on its first request then.
async fn queue_thumbnail(state: &AppState, user: Uuid, of: ThumbnailOf) {
    let job = MakeThumbnail { user, of }.job();
    if let Err(err) = state.repo.enqueue(&job, state.clock.now()).await {
        tracing::warn!(%err, "could not queue a thumbnail job");
    }
    crash::reached(CrashPoint::ThumbnailQueued);
}

/// Where the file to inspect is read from.
enum Source {
    /// A local copy (sidecars).
    Sidecar(tempfile::TempPath),
    /// A local file (a rebuilt recording).
    Local(std::path::PathBuf),
    /// The stored blob itself.
    Blob(BlobReader),
}

/// What inspecting a file found.
enum Inspected {
    Video(Video),
    Sidecar(TelemetrySummary),
}

/// A validated video's index, in short.
struct Video {
    duration_ms: u64,
    codec: String,
    width: u32,
    height: u32,
    keyframes: Vec<Keyframe>,
    telemetry: TelemetrySummary,
}

impl Video {
    fn into_file(self, upload: &Upload, meta: &UploadMetadata, sha256: String) -> VideoFile {
        VideoFile {
            blob_key: upload.blob_key.clone(),
            size: upload.length,
            sha256,
            start: meta.start,
            duration_ms: self.duration_ms,
            codec: self.codec,
            width: self.width,
            height: self.height,
            keyframes: self.keyframes,
            telemetry: self.telemetry,
            filename: meta.filename.clone(),
            clock: meta.clock,
            span_ms: meta.span_ms(self.duration_ms),
            original_size: None,
        }
    }
}

/// What a file is, and the offset of its camera's clock from UTC that its GPS time gives
/// (its times counted from `start`, on the camera's clock).
type Found = (Inspected, Option<chrono::Duration>);

/// Validate and index `source` as `kind` says, started at `start`; the error is the
/// reason to give the client.
fn inspect(source: &Source, kind: Kind, start: DateTime<Utc>) -> Result<Found, String> {
    if kind == Kind::Sidecar {
        return match source {
            Source::Sidecar(path) => read_parsed(path)
                .map(|p| {
                    let offset = clock_offset(start, &p.telemetry);
                    (Inspected::Sidecar(summary(&p)), offset)
                })
                .map_err(|e| format!("not a telemetry file that can be read: {e}")),
            _ => Err("a sidecar must be read from a local copy".into()),
        };
    }
    let path: &std::path::Path = match source {
        Source::Blob(blob) => return inspect_video(blob, start),
        Source::Local(path) => path,
        Source::Sidecar(path) => path,
    };
    let file = std::fs::File::open(path).map_err(|e| format!("reading it back: {e}"))?;
    inspect_video(&file, start)
}

/// Validate and index a video started at `start`.
fn inspect_video<R: ReadAt>(blob: &R, start: DateTime<Utc>) -> Result<Found, String> {
    let index = Mp4Index::read(blob).map_err(|e| format!("not a playable MP4 video: {e}"))?;
    let track = index
        .tracks
        .iter()
        .find(|t| t.handler == VIDEO && t.samples.iter().any(|s| s.is_sync))
        .ok_or("not a playable video: the MP4 has no video track with a keyframe")?;
    let keyframes = track
        .samples
        .iter()
        .filter(|s| s.is_sync)
        .map(|s| Keyframe {
            ms: millis(track.seconds(track.pts(s))),
            offset: s.offset,
        })
        .collect();
    let parsed = read_mp4(blob).ok();
    let video = Video {
        duration_ms: millis(index.duration_seconds()),
        codec: track.codec.to_string(),
        width: u32::from(track.width),
        height: u32::from(track.height),
        keyframes,
        telemetry: parsed.as_ref().map(summary).unwrap_or_default(),
    };
    let offset = parsed.and_then(|p| clock_offset(start, &p.telemetry));
    Ok((Inspected::Video(video), offset))
}

/// Non-negative seconds as whole milliseconds.
fn millis(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1000.0).round() as u64
}

/// The short form of telemetry kept with a file, with the count of the damaged parts
/// (noise, partial records) it was read past, which is logged too.
fn summary(parsed: &Parsed) -> TelemetrySummary {
    let (t, skipped) = (&parsed.telemetry, &parsed.skipped);
    if skipped.count > 0 {
        let first = skipped.first.as_deref().unwrap_or_default();
        tracing::info!(skipped = skipped.count, %first, "telemetry read past damaged parts");
    }
    TelemetrySummary {
        gps_fixes: t.gps.len() as u64,
        accel_samples: t.accel.len() as u64,
        max_speed: t.gps.iter().filter_map(|f| f.speed).reduce(f64::max),
        first_fix: t.gps.first().map(|f| [f.lat, f.lon]),
        last_fix: t.gps.last().map(|f| [f.lat, f.lon]),
        skipped: skipped.count,
    }
}
