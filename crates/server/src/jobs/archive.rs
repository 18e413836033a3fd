//! The archive tier's jobs: `archive_drive` moves one drive to the archive store
//! ([`crate::archive::archive_drive`]), and the periodic `archive_pass` queues one such
//! job for every drive due.

use super::handler::{JobError, JobHandler};
use crate::archive::{
    archive_drive, due, enqueue, ArchiveDrive, ArchiveError, ARCHIVE_DRIVE, ARCHIVE_PASS,
};
use crate::state::AppState;
use async_trait::async_trait;
use dashvault_store::model::Job;

/// Most drives one archive pass queues (the next pass takes the rest).
const BATCH: u32 = 500;

impl From<ArchiveError> for JobError {
    fn from(err: ArchiveError) -> Self {
        Self::Retryable(err.to_string())
    }
}

/// Runs `archive_drive` jobs.
pub struct ArchiveDriveHandler {
    /// The state holding both blob stores.
    pub state: AppState,
}

#[async_trait]
impl JobHandler for ArchiveDriveHandler {
    fn kind(&self) -> &'static str {
        ARCHIVE_DRIVE
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let target: ArchiveDrive = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed archive_drive payload: {e}")))?;
        Ok(archive_drive(&self.state, target).await?)
    }
}

/// Runs the periodic `archive_pass`: queues an `archive_drive` job for every drive due.
pub struct ArchivePassHandler {
    /// The state with the archive settings.
    pub state: AppState,
}

#[async_trait]
impl JobHandler for ArchivePassHandler {
    fn kind(&self) -> &'static str {
        ARCHIVE_PASS
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let now = self.state.clock.now();
        // One job per drive and day: a drive still queued from an earlier pass today is
        // not queued again.
        let tag = now.format("%Y-%m-%d").to_string();
        let batch = due(&self.state, self.state.archive_config.after, now, BATCH).await?;
        for drive in &batch {
            enqueue(&self.state, drive, &tag).await?;
        }
        tracing::debug!(queued = batch.len(), "archive pass");
        Ok(())
    }
}
