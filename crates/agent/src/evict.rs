//! The phone's loop: when the storage is full, the oldest drives go first — their
//! recordings, sidecars and time-lapse, and their clips that are already in the cloud. A
//! clip not yet in the cloud is never deleted, and a drive whose clips are not cut yet is
//! never touched (its incidents would be lost). Loop deletion is local only: nothing is
//! deleted in the cloud.

use crate::error::AgentError;
use crate::phone::remove_file;
use crate::residency::{Drive, Residency};

/// What making room did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Eviction {
    /// The new bytes fit under the quota now.
    pub fits: bool,
    /// Drives whose files were deleted from the phone, oldest first.
    pub drives: Vec<i64>,
    /// Bytes freed.
    pub freed: u64,
}

/// True when a file with this SHA-256 is known to be in the cloud: its upload finished,
/// or the cloud listed it (tables of the upload and sync modules).
pub async fn in_cloud(residency: &Residency, sha256: &str) -> Result<bool, AgentError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM uploads WHERE sha256 = ?1 AND status = 'done') \
         OR EXISTS (SELECT 1 FROM cloud_clips WHERE sha256 = ?1)",
    )
    .bind(sha256)
    .fetch_one(residency.state().pool())
    .await?)
}

/// Deletes the oldest drives' files until `needed` more bytes fit in `quota`.
pub async fn make_room(
    residency: &Residency,
    needed: u64,
    quota: u64,
) -> Result<Eviction, AgentError> {
    let mut eviction = Eviction::default();
    let mut used = residency.phone_bytes().await?;
    for drive in residency.drives().await? {
        if used + needed <= quota {
            break;
        }
        if !drive.processed {
            continue;
        }
        let freed = evict_drive(residency, &drive).await?;
        if freed > 0 {
            tracing::info!(drive = drive.id, start = %drive.start, freed, "phone storage full: deleted the oldest drive's files from the phone");
            eviction.drives.push(drive.id);
            eviction.freed += freed;
            used = residency.phone_bytes().await?;
        }
    }
    eviction.fits = used + needed <= quota;
    Ok(eviction)
}

/// Deletes what of one drive may go; returns the bytes freed.
async fn evict_drive(residency: &Residency, drive: &Drive) -> Result<u64, AgentError> {
    let mut freed = 0;
    for recording in residency.recordings(drive.id).await? {
        if let Some(path) = &recording.phone_path {
            remove_file(path).map_err(AgentError::io(path))?;
            residency.recording_removed(recording.id).await?;
            freed += recording.size;
        }
    }
    for sidecar in residency.sidecars(drive.id).await? {
        if let Some(path) = &sidecar.phone_path {
            remove_file(path).map_err(AgentError::io(path))?;
            residency.sidecar_removed(sidecar.id).await?;
            freed += sidecar.size;
        }
    }
    if let Some(path) = &drive.timelapse_path {
        remove_file(path).map_err(AgentError::io(path))?;
        residency.clear_timelapse(drive.id).await?;
        freed += drive.timelapse_size;
    }
    for clip in residency.clips(Some(drive.id)).await? {
        let Some(path) = &clip.path else { continue };
        if in_cloud(residency, &clip.sha256).await? {
            remove_file(path).map_err(AgentError::io(path))?;
            residency.clip_removed(clip.id).await?;
            freed += clip.size;
        }
    }
    Ok(freed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::clip_upload;
    use crate::residency::{Clip, Recording};
    use crate::state::State;
    use crate::upload::Queue;
    use chrono::{TimeZone, Utc};
    use std::path::{Path, PathBuf};

    fn file(dir: &Path, name: &str, size: usize) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, vec![7u8; size]).unwrap();
        path
    }

    fn clip(path: PathBuf, sha256: &str, minute: u32) -> Clip {
        let start = Utc.with_ymd_and_hms(2026, 11, 20, 8, minute, 0).unwrap();
        Clip {
            id: uuid::Uuid::now_v7(),
            drive_id: Some(1),
            kind: "auto".into(),
            view: "road".into(),
            start,
            end: start + chrono::Duration::seconds(40),
            incidents: Vec::new(),
            size: 100,
            sha256: sha256.into(),
            path: Some(path),
        }
    }

    #[tokio::test]
    async fn the_oldest_drive_goes_with_its_uploaded_clip_but_not_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).await.unwrap();
        let residency = Residency::new(state.clone());
        let recording = file(dir.path(), "rec.mp4", 1000);
        residency
            .add_recording(&Recording {
                id: 0,
                camera_path: "camera/rec.mp4".into(),
                drive_id: 0,
                start: Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap(),
                duration_ms: 600_000,
                camera_event: false,
                size: 1000,
                sha256: "aa".into(),
                phone_path: Some(recording.clone()),
                original_size: None,
            })
            .await
            .unwrap();
        let uploaded = clip(file(dir.path(), "up.mp4", 100), "bb", 1);
        let waiting = clip(file(dir.path(), "wait.mp4", 100), "cc", 5);
        residency.add_clip(&uploaded).await.unwrap();
        residency.add_clip(&waiting).await.unwrap();
        let queue = Queue::new(state);
        let id = queue.enqueue(&clip_upload(&uploaded)).await.unwrap();
        queue.enqueue(&clip_upload(&waiting)).await.unwrap();
        queue.mark_done(id).await.unwrap();

        // Not processed yet: its incidents are not cut, so nothing may go.
        let room = make_room(&residency, 500, 1000).await.unwrap();
        assert!(!room.fits && room.drives.is_empty());

        residency.set_processed(1, None).await.unwrap();
        let room = make_room(&residency, 500, 1000).await.unwrap();
        assert_eq!((room.fits, room.drives, room.freed), (true, vec![1], 1100));
        assert!(!recording.exists() && !uploaded.path.unwrap().exists());
        assert!(
            waiting.path.as_ref().unwrap().exists(),
            "not in the cloud yet"
        );
        assert_eq!(residency.phone_bytes().await.unwrap(), 100);

        // Only the clip not in the cloud is left: it stays, whatever the quota.
        let room = make_room(&residency, 500, 100).await.unwrap();
        assert!(!room.fits && room.drives.is_empty());
        assert!(waiting.path.unwrap().exists());
    }
}
