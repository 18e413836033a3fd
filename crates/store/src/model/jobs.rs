//! Records of the durable job queue: work to do later, retried until it succeeds or
//! runs out of attempts, shared by every replica through the metadata database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its `run_at` and a free worker.
    Queued,
    /// Claimed by a worker whose lease has not run out (or has, and nobody reclaimed it yet).
    Running,
    /// Finished successfully.
    Done,
    /// Gave up: a permanent error, or every attempt failed.
    Failed,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    /// The name stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is none of `queued`, `running`, `done`, `failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state {0:?}: expected queued, running, done or failed")]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownJobState(s.to_owned()))
    }
}

/// Work to put in the queue. Build it with [`NewJob::new`] and the builder methods.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What kind of work, which picks the handler: `upload_expiry`, `delete`, `archive`…
    pub kind: String,
    /// The handler's input, as JSON.
    pub payload: serde_json::Value,
    /// Enqueuing a job whose key is already used (by a job in any state) adds nothing:
    /// the same work is queued once. Put a time bucket in the key for periodic work.
    pub dedupe_key: Option<String>,
    /// Not to run before this instant; `None` means as soon as it is enqueued.
    pub run_at: Option<DateTime<Utc>>,
    /// Attempts (claims) before the job is given up as failed; at least 1.
    pub max_attempts: u32,
}

impl NewJob {
    /// Attempts allowed unless [`NewJob::max_attempts`] says otherwise.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

    /// A job of `kind` with `payload`, runnable at once, without a dedupe key.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            dedupe_key: None,
            run_at: None,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The same job, queued at most once under `key`.
    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    /// The same job, not to run before `at`.
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    /// The same job, given up after `n` attempts (`0` counts as 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

/// A job as the queue keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Stable id (time-ordered).
    pub id: Uuid,
    /// What kind of work.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// Where it is in its life.
    pub state: JobState,
    /// Claims so far, the one running included: a worker that crashes mid-job used one.
    pub attempts: u32,
    /// Claims allowed before it is given up.
    pub max_attempts: u32,
    /// Not to run before this instant (the next retry, for a job that failed before).
    pub run_at: DateTime<Utc>,
    /// The worker holding it, while running.
    pub locked_by: Option<String>,
    /// When that worker's lease runs out; afterwards another worker may claim the job.
    pub locked_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The key that makes enqueuing idempotent, if any.
    pub dedupe_key: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// Its last change of state, lease or error.
    pub updated_at: DateTime<Utc>,
}

/// What [`JobRepo::enqueue`](crate::JobRepo::enqueue) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Enqueued {
    /// A new job was queued.
    New(Job),
    /// A job with the same dedupe key already existed (in any state); nothing was added.
    Duplicate(Job),
}

impl Enqueued {
    /// The job, new or already there.
    pub fn job(&self) -> &Job {
        match self {
            Self::New(job) | Self::Duplicate(job) => job,
        }
    }
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Waiting to run.
    pub queued: u64,
    /// Claimed by a worker.
    pub running: u64,
    /// Finished.
    pub done: u64,
    /// Given up.
    pub failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_from_their_names() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        assert!("Queued".parse::<JobState>().is_err());
    }

    #[test]
    fn at_least_one_attempt() {
        let job = NewJob::new("x", serde_json::Value::Null).max_attempts(0);
        assert_eq!(job.max_attempts, 1);
    }
}
