//! A road recording the camera's power cut left without an index (no `moov`, an `mdat`
//! size never written or running past the end of the file), rebuilt at import with the
//! media crate's recovery from the codec configuration of the nearest road recording
//! already on the phone: the same camera and view.
//!
//! The rebuilt file's media data is the camera's file whole, unchanged (its last bytes),
//! so the phone keeps one file that plays and is the evidence; the server stores it as
//! it is and serves those last bytes as the upload's original.

use crate::error::AgentError;
use crate::phone::{write_atomically, Written};
use crate::residency::{Recording, Residency};
use chrono::{DateTime, Utc};
use dashvault_media::{recover_keeping_original, Mp4Index};
use std::path::{Path, PathBuf};

/// A recording rebuilt on the phone.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebuilt {
    /// Seconds of video recovered, in ms.
    pub duration_ms: i64,
    /// The rebuilt file.
    pub written: Written,
    /// The length of the camera's file, whose bytes end the rebuilt one.
    pub original_size: u64,
}

/// The phone copy of the road recording that started nearest to `start`: the sibling
/// whose codec configuration rebuilds a recording without an index.
pub async fn reference(
    residency: &Residency,
    start: DateTime<Utc>,
) -> Result<Option<PathBuf>, AgentError> {
    let mut nearest: Option<Recording> = None;
    for drive in residency.drives().await? {
        for recording in residency.recordings(drive.id).await? {
            let closer = nearest
                .as_ref()
                .is_none_or(|n| (n.start - start).abs() > (recording.start - start).abs());
            if recording.phone_path.is_some() && recording.duration_ms > 0 && closer {
                nearest = Some(recording);
            }
        }
    }
    Ok(nearest.and_then(|r| r.phone_path))
}

/// Rebuilds `broken` (a camera file on the phone side, left as it is) into `to` with
/// the description of `reference`.
pub async fn rebuild(broken: &Path, reference: &Path, to: &Path) -> Result<Rebuilt, AgentError> {
    let (broken, reference, to) = (broken.to_owned(), reference.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || {
        let failed = |e: dashvault_media::Error| {
            AgentError::Request(format!("{}: can not rebuild its index: {e}", broken.display()))
        };
        let index = std::fs::File::open(&reference)
            .map_err(AgentError::io(&reference))
            .and_then(|f| Mp4Index::read(&f).map_err(failed))?;
        let source = std::fs::File::open(&broken).map_err(AgentError::io(&broken))?;
        let original_size = source.metadata().map_err(AgentError::io(&broken))?.len();
        let recovery = recover_keeping_original(&source, &index).map_err(failed)?;
        for warning in &recovery.warnings {
            tracing::warn!(file = %broken.display(), reference = %reference.display(), %warning, "rebuilt recording may not play");
        }
        let written = write_atomically(&to, |mut out| {
            recovery
                .plan
                .write_to(std::slice::from_ref(&source), &mut out)
                .map(|_| ())
                .map_err(std::io::Error::other)
        })
        .map_err(AgentError::io(&to))?;
        tracing::info!(
            file = %broken.display(),
            seconds = recovery.duration,
            samples = recovery.video_samples,
            "a recording cut off by a power loss rebuilt from its sample data"
        );
        Ok(Rebuilt {
            duration_ms: (recovery.duration * 1000.0).round() as i64,
            written,
            original_size,
        })
    })
    .await
    .map_err(|e| AgentError::Request(format!("rebuild stopped: {e}")))?
}
