//! Building a clip's evidence bundle: its video (byte for byte what `video_url` serves),
//! the camera's files it came from, route and G-force, and the signed manifest, as one
//! ZIP of stored (uncompressed) entries.
//!
//! Each file is first streamed from the blob store to a temporary file (hashed on the
//! way), then the ZIP is assembled from those on a blocking thread: memory stays flat
//! whatever the size of the files, and the async threads never wait on the disk.

use super::gpx;
use super::key::EvidenceKey;
use super::manifest::{
    self, BundleFile, ClipFacts, DeviceFacts, IncidentFacts, Manifest, Original, Range,
    ServerFacts, Window,
};
use super::matching::matching_ranges;
use super::window::{clip_series, clip_window, file_end};
use crate::error::ApiError;
use crate::library::telemetry::TelemetrySeries;
use crate::routes::media::{clip_filename, clip_plan};
use crate::state::AppState;
use crate::stream::video::Content;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dashvault_media::Part;
use dashvault_store::blob::{BlobKey, ByteStream};
use dashvault_store::model::{Clip, Device, RecordingKind};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::io::Write as _;
use tempfile::{NamedTempFile, TempPath};
use tokio::io::AsyncWriteExt;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// Sidecars starting this long before a clip may still cover its start.
const SIDECAR_LEAD: Duration = Duration::minutes(2);
/// Most bytes of camera recordings put in one bundle; beyond, they are listed by hash.
const MAX_RECORDING_BYTES: u64 = 4 << 30;

/// A finished bundle in a temporary file (gone when this is dropped).
#[derive(Debug)]
pub struct Bundle {
    /// The ZIP.
    pub path: TempPath,
    /// Its size.
    pub len: u64,
    /// The name to save it under.
    pub filename: String,
}

/// A file ready to go into the ZIP.
struct Staged {
    entry: BundleFile,
    content: Held,
}

/// Where a staged file's bytes are.
enum Held {
    File(TempPath),
    Bytes(Vec<u8>),
}

/// The evidence bundle of `clip` (of `device`), signed with `key`.
pub async fn build(
    state: &AppState,
    clip: &Clip,
    device: &Device,
    key: &EvidenceKey,
) -> Result<Bundle, ApiError> {
    let (start, end) = clip_window(clip);
    let mut staged = Vec::new();

    let video = clip_plan(state, clip, Content::Full).await?;
    let len = video.plan().len();
    let body = video.body(state.blobs.clone(), 0..len);
    staged.push(stage_stream(manifest::VIDEO, body).await?);

    let mut originals = vec![source_original(clip, video.plan().parts())];
    originals.extend(camera_files(state, clip, (start, end)).await?);
    let mut names = Vec::new();
    for original in &mut originals {
        let Some(path) = original.path.clone() else {
            continue;
        };
        let path = unique(&mut names, path, original.id);
        let key = BlobKey::new(blob_key_of(state, clip, original).await?)
            .map_err(|e| ApiError::Internal(format!("stored blob key: {e}")))?;
        let body = state
            .blobs
            .get_range(&key, 0..original.size)
            .await
            .map_err(|e| ApiError::Internal(format!("reading an original: {e}")))?;
        staged.push(stage_stream(&path, body).await?);
        original.path = Some(path);
    }
    camera_ranges(&staged, &mut originals).await?;

    let series = clip_series(state, clip).await?;
    if !series.route.is_empty() {
        let points = gpx::points(&series, start);
        let name = clip_filename(clip).replace(".mp4", "");
        staged.push(stage_bytes(
            manifest::ROUTE,
            gpx::document(&name, &points).into_bytes(),
        ));
    }
    staged.push(stage_bytes(manifest::GFORCE, gforce_csv(&series, start)));

    let manifest = Manifest {
        format: manifest::FORMAT.to_owned(),
        clip: ClipFacts {
            id: clip.id,
            kind: clip.kind.as_str().to_owned(),
            view: clip.view.as_str().to_owned(),
            incidents: clip
                .incidents
                .iter()
                .map(|i| IncidentFacts {
                    kind: i.kind.clone(),
                    at: i.at,
                    severity: i.severity,
                })
                .collect(),
        },
        device: DeviceFacts {
            id: device.id,
            model: device.model.clone(),
            serial: device.serial.clone(),
        },
        window: Window {
            start,
            end,
            clock: clip.file.clock.as_str().to_owned(),
        },
        files: staged.iter().map(|s| s.entry.clone()).collect(),
        originals,
        server: ServerFacts {
            name: "dashvault".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        created_at: state.clock.now(),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ApiError::Internal(format!("writing the manifest: {e}")))?;
    let signature = key.sign(&manifest_bytes);
    let filename = clip_filename(clip).replace(".mp4", "_evidence.zip");
    let (path, len) = tokio::task::spawn_blocking(move || zip(staged, &manifest_bytes, &signature))
        .await
        .map_err(|e| ApiError::Internal(format!("bundle task failed: {e}")))?
        .map_err(|e| ApiError::Internal(format!("writing the bundle: {e}")))?;
    Ok(Bundle {
        path,
        len,
        filename,
    })
}

/// The clip's own stored file: what the video is cut from, with the ranges it takes.
fn source_original(clip: &Clip, parts: &[Part]) -> Original {
    let mut ranges = Vec::new();
    let mut at = 0;
    for part in parts {
        match part {
            Part::Bytes(bytes) => at += bytes.len() as u64,
            Part::Source { offset, len, .. } => {
                ranges.push(Range {
                    video_offset: at,
                    offset: *offset,
                    length: *len,
                });
                at += len;
            }
        }
    }
    let name = clip
        .file
        .filename
        .clone()
        .unwrap_or_else(|| format!("{}.mp4", clip.id));
    Original {
        role: "source".into(),
        kind: "clip".into(),
        id: clip.id,
        filename: clip.file.filename.clone(),
        sha256: clip.file.sha256.clone(),
        size: clip.file.size,
        path: Some(format!("{}{}", manifest::ORIGINALS, safe_name(&name))),
        not_included: None,
        ranges,
    }
}

/// For each included camera recording, the ranges of the video's frames found byte for
/// byte in it (the agent's cut copied them from there).
async fn camera_ranges(staged: &[Staged], originals: &mut [Original]) -> Result<(), ApiError> {
    let path_of = |name: &str| {
        staged.iter().find_map(|s| match &s.content {
            Held::File(temp) if s.entry.path == name => Some(temp.to_path_buf()),
            _ => None,
        })
    };
    let Some(video) = path_of(manifest::VIDEO) else {
        return Ok(());
    };
    for original in originals.iter_mut().filter(|o| o.role == "recording") {
        let Some(file) = original.path.as_deref().and_then(path_of) else {
            continue;
        };
        let video = video.clone();
        original.ranges = tokio::task::spawn_blocking(move || matching_ranges(&video, &file))
            .await
            .map_err(|e| ApiError::Internal(format!("matching task failed: {e}")))?;
    }
    Ok(())
}

/// The camera's recordings of the clip's drive and view, and its sidecars, that cover
/// the window: included unless archived or too large together.
async fn camera_files(
    state: &AppState,
    clip: &Clip,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Original>, ApiError> {
    let mut out = Vec::new();
    if let Some(drive_id) = clip.drive_id {
        let archived = state
            .repo
            .drive(clip.user_id, drive_id)
            .await?
            .is_some_and(|d| d.archived);
        let mut included = 0u64;
        for r in state.repo.drive_recordings(clip.user_id, drive_id).await? {
            if r.kind != RecordingKind::Recording
                || r.view != clip.view
                || r.file.start >= end
                || file_end(&r.file) <= start
                || r.file.sha256 == clip.file.sha256
            {
                continue;
            }
            let not_included = if archived {
                Some("the drive is in the archive: request a restore".to_owned())
            } else if included + r.file.size > MAX_RECORDING_BYTES {
                Some("too large to include with the others".to_owned())
            } else {
                included += r.file.size;
                None
            };
            out.push(original(
                "recording",
                "recording",
                r.id,
                &r.file.filename,
                &r.file.sha256,
                r.file.size,
                not_included,
            ));
        }
    }
    for s in state
        .repo
        .sidecars_between(clip.user_id, clip.device_id, start - SIDECAR_LEAD, end)
        .await?
    {
        out.push(original(
            "sidecar",
            "sidecar",
            s.id,
            &s.filename,
            &s.sha256,
            s.size,
            None,
        ));
    }
    Ok(out)
}

/// A camera file behind the clip, with no ranges (the video is not cut from it).
fn original(
    role: &str,
    kind: &str,
    id: uuid::Uuid,
    filename: &Option<String>,
    sha256: &str,
    size: u64,
    not_included: Option<String>,
) -> Original {
    let name = filename.clone().unwrap_or_else(|| id.to_string());
    Original {
        role: role.into(),
        kind: kind.into(),
        id,
        filename: filename.clone(),
        sha256: sha256.to_owned(),
        size,
        path: not_included
            .is_none()
            .then(|| format!("{}{}", manifest::ORIGINALS, safe_name(&name))),
        not_included,
        ranges: Vec::new(),
    }
}

/// The blob key of an original listed for `clip`.
async fn blob_key_of(
    state: &AppState,
    clip: &Clip,
    original: &Original,
) -> Result<String, ApiError> {
    let found = match original.kind.as_str() {
        "clip" => Some(clip.file.blob_key.clone()),
        "recording" => state
            .repo
            .recording(clip.user_id, original.id)
            .await?
            .map(|r| r.file.blob_key),
        _ => state
            .repo
            .sidecar(clip.user_id, original.id)
            .await?
            .map(|s| s.blob_key),
    };
    found.ok_or(ApiError::NotFound)
}

/// `path`, or `originals/<id>_<name>` when another file took it.
fn unique(taken: &mut Vec<String>, path: String, id: uuid::Uuid) -> String {
    let path = if taken.contains(&path) {
        path.replacen(
            manifest::ORIGINALS,
            &format!("{}{id}_", manifest::ORIGINALS),
            1,
        )
    } else {
        path
    };
    taken.push(path.clone());
    path
}

/// A file name reduced to one safe path component.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match clean.trim_start_matches('.') {
        "" => "file".to_owned(),
        rest => rest.to_owned(),
    }
}

/// The G-force series as CSV: seconds from the clip's start, UTC time, g on the
/// camera's three axes.
fn gforce_csv(series: &TelemetrySeries, start: DateTime<Utc>) -> Vec<u8> {
    // Writing to memory does not fail: the results are ignored.
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["t_s", "time_utc", "gx", "gy", "gz"]);
    for &[t, x, y, z] in &series.g {
        let time = (start + Duration::milliseconds((t * 1000.0).round() as i64))
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let _ = out.write_record([
            format!("{t:.3}"),
            time,
            format!("{x:.4}"),
            format!("{y:.4}"),
            format!("{z:.4}"),
        ]);
    }
    out.into_inner().unwrap_or_default()
}

/// `body` copied to a temporary file as the bundle's `path`, hashed on the way.
async fn stage_stream(path: &str, mut body: ByteStream) -> Result<Staged, ApiError> {
    let io = |e: std::io::Error| ApiError::Internal(format!("staging {path}: {e}"));
    let temp = NamedTempFile::new().map_err(io)?;
    let (file, temp_path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(io)?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        out.write_all(&chunk).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    Ok(Staged {
        entry: BundleFile {
            path: path.to_owned(),
            sha256: hex::encode(hasher.finalize()),
            size,
        },
        content: Held::File(temp_path),
    })
}

/// Bytes made here, as the bundle's `path`.
fn stage_bytes(path: &str, bytes: Vec<u8>) -> Staged {
    Staged {
        entry: BundleFile {
            path: path.to_owned(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            size: bytes.len() as u64,
        },
        content: Held::Bytes(bytes),
    }
}

/// The ZIP of the staged files, the manifest and its signature, in a temporary file.
fn zip(
    staged: Vec<Staged>,
    manifest: &[u8],
    signature: &[u8],
) -> zip::result::ZipResult<(TempPath, u64)> {
    let temp = NamedTempFile::new()?;
    let (file, path) = temp.into_parts();
    let mut zip = zip::ZipWriter::new(file);
    let options = |size: u64| {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .large_file(size >= u64::from(u32::MAX))
    };
    for s in staged {
        zip.start_file(s.entry.path.as_str(), options(s.entry.size))?;
        match s.content {
            Held::File(temp) => {
                std::io::copy(&mut std::fs::File::open(&temp)?, &mut zip)?;
            }
            Held::Bytes(bytes) => zip.write_all(&bytes)?,
        }
    }
    zip.start_file(manifest::MANIFEST, options(0))?;
    zip.write_all(manifest)?;
    zip.start_file(manifest::SIGNATURE, options(0))?;
    zip.write_all(signature)?;
    let mut file = zip.finish()?;
    file.flush()?;
    let len = file.metadata()?.len();
    Ok((path, len))
}
