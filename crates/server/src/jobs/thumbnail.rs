//! The `thumbnail` job: makes the JPEG a clip or drive is listed with right after its
//! upload, so MY RIDES and MY INCIDENTS show pictures at once (and an archived drive
//! keeps its picture: the thumbnail stays in the hot store). Idempotent: a thumbnail made
//! before is kept; an item deleted since is nothing to do.

use super::handler::{JobError, JobHandler};
use crate::state::AppState;
use crate::stream::thumbnail;
use crate::stream::thumbnail::{clip_thumbnail_ms, drive_thumbnail_source};
use async_trait::async_trait;
use dashvault_store::model::{Job, NewJob};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Kind of the job.
pub const THUMBNAIL: &str = "thumbnail";

/// What to make a thumbnail of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "of", content = "id")]
pub enum ThumbnailOf {
    /// A clip, at its first incident.
    Clip(Uuid),
    /// A drive, from its first road recording.
    Drive(Uuid),
}

/// The payload of a `thumbnail` job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeThumbnail {
    /// The owner.
    pub user: Uuid,
    /// The item.
    #[serde(flatten)]
    pub of: ThumbnailOf,
}

impl MakeThumbnail {
    /// The job, at most one per item.
    pub fn job(self) -> NewJob {
        let key = match self.of {
            ThumbnailOf::Clip(id) => format!("{THUMBNAIL}:clip:{id}"),
            ThumbnailOf::Drive(id) => format!("{THUMBNAIL}:drive:{id}"),
        };
        NewJob::new(THUMBNAIL, serde_json::to_value(self).unwrap_or_default()).dedupe_key(key)
    }
}

/// Runs `thumbnail` jobs.
pub struct ThumbnailHandler {
    /// The state whose blob store holds the files and the thumbnails.
    pub state: AppState,
}

#[async_trait]
impl JobHandler for ThumbnailHandler {
    fn kind(&self) -> &'static str {
        THUMBNAIL
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let target: MakeThumbnail = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed thumbnail payload: {e}")))?;
        let repo = &self.state.repo;
        let (file, ms) = match target.of {
            ThumbnailOf::Clip(id) => match repo.clip(target.user, id).await? {
                Some(clip) => {
                    let ms = clip_thumbnail_ms(&clip);
                    (clip.file, ms)
                }
                None => return Ok(()),
            },
            ThumbnailOf::Drive(id) => {
                let recordings = repo.drive_recordings(target.user, id).await?;
                match drive_thumbnail_source(&recordings) {
                    Some(first) => (first.file.clone(), 0),
                    None => return Ok(()),
                }
            }
        };
        thumbnail::ensure(&self.state, &file, ms)
            .await
            .map(|_| ())
            .map_err(|e| JobError::Retryable(format!("thumbnail of {}: {e}", file.blob_key)))
    }
}
