//! Built-in periodic jobs: pruning what sign-in leaves behind (expired codes, the send
//! log, expired sessions), finished jobs, uploads that expired unfinished, and the archive pass
//! ([`crate::archive`]). Every worker loop enqueues them once per
//! hour under a dedupe key naming the hour, so however many replicas run, each runs
//! once an hour.

use super::handler::{JobError, JobHandler};
use crate::clock::Clock;
use crate::state::AppState;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use dashvault_store::model::{Job, NewJob};
use dashvault_store::Repo;
use std::sync::Arc;

/// Kind of the job that prunes expired sign-in codes, old sends and expired sessions.
pub const PRUNE_AUTH: &str = "prune_auth";

/// Kind of the job that forgets finished jobs.
pub const PRUNE_JOBS: &str = "prune_jobs";

/// Kind of the job that deletes uploads that expired unfinished (their stored parts too).
pub const UPLOAD_EXPIRY: &str = "upload_expiry";

/// How long the log of sent codes is kept: well beyond the hourly rate-limit window.
const SEND_LOG_KEPT: TimeDelta = TimeDelta::days(1);

/// How long `done` jobs stay listed (and their dedupe keys taken).
const DONE_JOBS_KEPT: TimeDelta = TimeDelta::days(7);

/// The built-in handlers, for [`super::Worker::with_builtin_handlers`].
pub fn handlers(repo: &Arc<dyn Repo>, clock: &Arc<dyn Clock>) -> Vec<Arc<dyn JobHandler>> {
    vec![
        Arc::new(PruneAuth {
            repo: Arc::clone(repo),
            clock: Arc::clone(clock),
        }),
        Arc::new(PruneJobs {
            repo: Arc::clone(repo),
            clock: Arc::clone(clock),
        }),
    ]
}

/// Deletes expired sign-in codes, sends older than a day and expired sessions (none of
/// which is ever read again). Idempotent: a second run finds nothing more to delete.
pub struct PruneAuth {
    repo: Arc<dyn Repo>,
    clock: Arc<dyn Clock>,
}

#[async_trait]
impl JobHandler for PruneAuth {
    fn kind(&self) -> &'static str {
        PRUNE_AUTH
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let now = self.clock.now();
        self.repo.prune_login_codes(now - SEND_LOG_KEPT).await?;
        self.repo.prune_sessions(now).await?;
        Ok(())
    }
}

/// Deletes `done` jobs finished more than a week ago. Idempotent.
pub struct PruneJobs {
    repo: Arc<dyn Repo>,
    clock: Arc<dyn Clock>,
}

#[async_trait]
impl JobHandler for PruneJobs {
    fn kind(&self) -> &'static str {
        PRUNE_JOBS
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let pruned = self
            .repo
            .prune_jobs(self.clock.now() - DONE_JOBS_KEPT)
            .await?;
        tracing::debug!(pruned, "finished jobs pruned");
        Ok(())
    }
}

/// Deletes every upload that expired (its multipart parts, its tail blob and its row) and
/// what no upload owns ([`crate::tus::sweep`]). Idempotent.
pub struct UploadExpiry {
    /// The state whose repository and blob store hold the uploads.
    pub state: AppState,
}

#[async_trait]
impl JobHandler for UploadExpiry {
    fn kind(&self) -> &'static str {
        UPLOAD_EXPIRY
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let report = crate::tus::sweep(&self.state, true)
            .await
            .map_err(|e| JobError::Retryable(format!("sweeping uploads: {e}")))?;
        tracing::debug!(?report, "uploads swept");
        Ok(())
    }
}

/// Which hour's housekeeping a worker loop has enqueued already.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    enqueued_for: Option<String>,
}

impl Schedule {
    /// Enqueue this hour's housekeeping jobs of the kinds a worker `runs`, unless this
    /// loop already did (other replicas' attempts are merged by the dedupe key).
    pub(super) async fn enqueue_due(
        &mut self,
        repo: &dyn Repo,
        now: DateTime<Utc>,
        runs: &[&str],
    ) -> dashvault_store::Result<()> {
        let hour = now.format("%Y-%m-%dT%H").to_string();
        if self.enqueued_for.as_deref() == Some(hour.as_str()) {
            return Ok(());
        }
        for kind in [
            PRUNE_AUTH,
            PRUNE_JOBS,
            UPLOAD_EXPIRY,
            crate::archive::ARCHIVE_PASS,
        ]
        .into_iter()
        .filter(|k| runs.contains(k))
        {
            let job = NewJob::new(kind, serde_json::json!({})).dedupe_key(format!("{kind}:{hour}"));
            repo.enqueue(&job, now).await?;
        }
        self.enqueued_for = Some(hour);
        Ok(())
    }
}
