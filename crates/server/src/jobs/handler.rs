//! What a job handler is, and how it reports failure.

use async_trait::async_trait;
use dashvault_store::model::Job;

/// Why a job attempt failed, which decides what happens next. This is a handler's
/// outcome rather than an API error: it never reaches a client, only the job's
/// `last_error`.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another try later (a database or blob store that did not answer, a
    /// conflict): the job is queued again with a backoff, until its attempts run out.
    #[error("{0}")]
    Retryable(String),
    /// Will fail the same way every time (a malformed payload, a missing record): the
    /// job becomes `failed` at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<dashvault_store::Error> for JobError {
    /// Repository failures are retried: the database may answer next time, and a
    /// handler that meets a real conflict fails for good once its attempts are used.
    fn from(err: dashvault_store::Error) -> Self {
        Self::Retryable(err.to_string())
    }
}

/// Runs the jobs of one kind. Implementations must be idempotent: the same job may run
/// again after a crash or a lost lease, having done part or all of its work before.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// The job kind this handler takes, e.g. `prune_auth`.
    fn kind(&self) -> &'static str;
    /// Do the work of `job` (its `payload`, and `attempts` so far counting this one).
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}
