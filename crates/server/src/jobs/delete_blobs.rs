//! The `delete_blobs` job: removes the stored files of deleted clips and drives, queued
//! in the same transaction that removed their rows (so a crash leaves neither rows
//! pointing at nothing nor, once the job has run, orphan blobs).
//!
//! Files are removed from the hot and the archive store alike.
//!
//! Idempotent: a blob already gone is fine, and a blob some row still refers to (a file
//! stored again since) is kept. Thumbnails made of a deleted file's content go too,
//! unless a stored file with the same content remains.

use super::handler::{JobError, JobHandler};
use crate::state::AppState;
use crate::stream::thumbnail::THUMBNAILS_PREFIX;
use async_trait::async_trait;
use dashvault_store::blob::BlobKey;
use dashvault_store::model::{DeleteBlobs, Job, DELETE_BLOBS_JOB};
use futures_util::TryStreamExt;

/// Runs `delete_blobs` jobs against the state's repository and blob store.
pub struct DeleteBlobsHandler {
    /// The state whose blob store holds the files.
    pub state: AppState,
}

#[async_trait]
impl JobHandler for DeleteBlobsHandler {
    fn kind(&self) -> &'static str {
        DELETE_BLOBS_JOB
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: DeleteBlobs = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed delete_blobs payload: {e}")))?;
        let (repo, blobs) = (&self.state.repo, &self.state.blobs);
        for key in &payload.keys {
            if repo.blob_key_in_use(key).await? {
                continue;
            }
            let key = BlobKey::new(key.clone())
                .map_err(|e| JobError::Permanent(format!("stored blob key {key:?}: {e}")))?;
            blobs.delete(&key).await.map_err(retry)?;
            // An archived drive's files are in the archive store.
            self.state.archive.delete(&key).await.map_err(retry)?;
        }
        let mut gone = Vec::new();
        for sha in &payload.sha256 {
            if !repo.content_in_use(sha).await? {
                gone.push(format!("{THUMBNAILS_PREFIX}/{sha}-"));
            }
        }
        if gone.is_empty() {
            return Ok(());
        }
        let prefix = BlobKey::new(THUMBNAILS_PREFIX)
            .map_err(|e| JobError::Permanent(format!("thumbnail prefix: {e}")))?;
        let thumbnails: Vec<_> = blobs
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(retry)?;
        for blob in thumbnails {
            if gone
                .iter()
                .any(|p| blob.key.as_str().starts_with(p.as_str()))
            {
                blobs.delete(&blob.key).await.map_err(retry)?;
            }
        }
        Ok(())
    }
}

fn retry(err: dashvault_store::blob::BlobError) -> JobError {
    JobError::Retryable(format!("blob store: {err}"))
}
