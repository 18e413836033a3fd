//! The worker: claims jobs of the kinds it has handlers for, runs them under a lease it
//! keeps extending, and records the outcome (done, retry later, failed).

use super::handler::{JobError, JobHandler};
use super::housekeeping;
use crate::clock::Clock;
use crate::state::AppState;
use chrono::{DateTime, TimeDelta, Utc};
use dashvault_domain::backoff::{Backoff, Jitter};
use dashvault_store::model::{Job, JobState};
use dashvault_store::Repo;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How a worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claim holds a job without a heartbeat; after that another worker may
    /// take it (the first one is presumed dead).
    pub lease: Duration,
    /// How often a running job's lease is extended (at most a third of `lease` is used).
    pub heartbeat: Duration,
    /// First wait after finding the queue empty; it doubles while the queue stays empty.
    pub idle_min: Duration,
    /// Longest wait between polls of an empty queue.
    pub idle_max: Duration,
    /// Wait before the first retry of a failed job; it doubles with each attempt.
    pub retry_base: Duration,
    /// Longest wait before a retry.
    pub retry_max: Duration,
    /// Jobs this worker runs at once in [`Worker::run_until`] (at least 1).
    pub concurrency: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(15),
            idle_min: Duration::from_millis(500),
            idle_max: Duration::from_secs(10),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            concurrency: 2,
        }
    }
}

/// The shortest heartbeat period, whatever the lease.
const MIN_HEARTBEAT: Duration = Duration::from_millis(10);

/// What [`Worker::run_one`] did.
#[derive(Debug)]
pub enum Outcome {
    /// It ran a job.
    Ran(Box<Ran>),
    /// No job was runnable.
    Empty,
}

/// A job run by [`Worker::run_one`], as it was claimed, and how the attempt ended.
#[derive(Debug)]
pub struct Ran {
    /// The job as claimed (state `running`, this attempt counted).
    pub job: Job,
    /// How the attempt ended.
    pub end: JobEnd,
}

/// How one attempt at a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// The handler succeeded; the job is `done`.
    Done,
    /// The handler failed with a retryable error; the job is queued again for `at`.
    Retry {
        /// The earliest time of the next attempt.
        at: DateTime<Utc>,
    },
    /// The handler failed for good, or on its last attempt; the job is `failed`.
    Failed,
    /// The lease ran out and another worker took the job over; this attempt's result was
    /// not recorded (the other worker's is).
    LeaseLost,
}

/// Runs jobs from the queue with the handlers registered on it.
pub struct Worker {
    id: String,
    repo: Arc<dyn Repo>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    handlers: BTreeMap<&'static str, Arc<dyn JobHandler>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker with no handlers yet, under a new unique id (process id and a random
    /// part, so that workers of one process, and of replicas, never share one).
    pub fn new(repo: Arc<dyn Repo>, clock: Arc<dyn Clock>, config: WorkerConfig) -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            id: format!(
                "pid{}-{}",
                std::process::id(),
                random.get(..12).unwrap_or(&random)
            ),
            repo,
            clock,
            config,
            handlers: BTreeMap::new(),
        }
    }

    /// A worker with the built-in handlers ([`housekeeping`]) registered: what `serve`
    /// runs.
    pub fn with_builtin_handlers(
        repo: Arc<dyn Repo>,
        clock: Arc<dyn Clock>,
        config: WorkerConfig,
    ) -> Self {
        let handlers = housekeeping::handlers(&repo, &clock);
        handlers
            .into_iter()
            .fold(Self::new(repo, clock, config), Self::with_handler)
    }

    /// The worker `serve` runs for `state`: the built-in handlers, and the place to
    /// register handlers that need more of the state (blob stores, uploads).
    pub fn for_state(state: &AppState, config: WorkerConfig) -> Self {
        Self::with_builtin_handlers(Arc::clone(&state.repo), Arc::clone(&state.clock), config)
            .with_handler(Arc::new(housekeeping::UploadExpiry {
                state: state.clone(),
            }))
            .with_handler(Arc::new(super::delete_blobs::DeleteBlobsHandler {
                state: state.clone(),
            }))
            .with_handler(Arc::new(super::thumbnail::ThumbnailHandler {
                state: state.clone(),
            }))
            .with_handler(Arc::new(super::archive::ArchiveDriveHandler {
                state: state.clone(),
            }))
            .with_handler(Arc::new(super::archive::ArchivePassHandler {
                state: state.clone(),
            }))
    }

    /// The same worker, also running jobs of `handler.kind()` (replacing any handler
    /// registered for that kind before).
    pub fn with_handler(mut self, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(handler.kind(), handler);
        self
    }

    /// This worker's id, as written in the `locked_by` of the jobs it runs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The kinds this worker runs, the only ones it claims.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    /// Claim the next runnable job of a kind this worker handles, run it (extending the
    /// lease every [`WorkerConfig::heartbeat`]) and record how it ended. `Empty` when
    /// nothing is runnable now: tests call this in a loop to drain the queue.
    pub async fn run_one(&self) -> dashvault_store::Result<Outcome> {
        let now = self.clock.now();
        let kinds = self.kinds();
        let Some(job) = self
            .repo
            .claim(&self.id, &kinds, now, after(now, self.config.lease))
            .await?
        else {
            return Ok(Outcome::Empty);
        };
        let result = match self.handlers.get(job.kind.as_str()) {
            Some(handler) => self.run_with_heartbeat(Arc::clone(handler), &job).await,
            None => Some(Err(JobError::Permanent(format!(
                "no handler for job kind {:?}",
                job.kind
            )))),
        };
        let end = match result {
            None => JobEnd::LeaseLost,
            Some(result) => self.record(&job, result).await?,
        };
        log_end(&job, &end);
        Ok(Outcome::Ran(Box::new(Ran { job, end })))
    }

    /// Run `job`'s handler in its own task while heartbeating its lease. `None` when the
    /// lease was lost (the handler is then stopped: another worker runs the job now).
    async fn run_with_heartbeat(
        &self,
        handler: Arc<dyn JobHandler>,
        job: &Job,
    ) -> Option<Result<(), JobError>> {
        let owned = job.clone();
        let mut task = AbortOnDrop(tokio::spawn(async move { handler.run(&owned).await }));
        // A lease must survive a missed beat or two, whatever the configuration says.
        let every = (self.config.heartbeat.min(self.config.lease / 3)).max(MIN_HEARTBEAT);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                joined = &mut task.0 => {
                    return Some(joined.unwrap_or_else(|err| {
                        Err(JobError::Retryable(format!("the handler crashed: {err}")))
                    }));
                }
                _ = ticks.tick() => {
                    let now = self.clock.now();
                    match self.repo.heartbeat(job.id, &self.id, now, after(now, self.config.lease)).await {
                        Ok(true) => {}
                        Ok(false) => return None,
                        // The lease may well still hold: keep working, try again next tick.
                        Err(err) => tracing::warn!(job = %job.id, %err, "job heartbeat failed"),
                    }
                }
            }
        }
    }

    /// Write the attempt's result to the queue.
    async fn record(
        &self,
        job: &Job,
        result: Result<(), JobError>,
    ) -> dashvault_store::Result<JobEnd> {
        let now = self.clock.now();
        let (error, retry_at) = match result {
            Ok(()) => {
                let held = self.repo.complete(job.id, &self.id, now).await?;
                return Ok(if held {
                    JobEnd::Done
                } else {
                    JobEnd::LeaseLost
                });
            }
            Err(JobError::Permanent(error)) => (error, None),
            Err(JobError::Retryable(error)) => {
                // Attempt n (from 1) failed: the (n-1)th doubling, plus up to a quarter
                // more, so jobs that failed together do not all retry at once.
                let backoff = Backoff {
                    base: self.config.retry_base,
                    max: self.config.retry_max,
                    jitter: Jitter::UpToAQuarterMore,
                };
                let delay = backoff.delay(job.attempts.saturating_sub(1), rand::random::<f64>());
                (error, Some(after(now, delay)))
            }
        };
        let state = self
            .repo
            .fail(job.id, &self.id, &error, retry_at, now)
            .await?;
        Ok(match (state, retry_at) {
            (Some(JobState::Queued), Some(at)) => JobEnd::Retry { at },
            (Some(_), _) => JobEnd::Failed,
            (None, _) => JobEnd::LeaseLost,
        })
    }

    /// Run jobs until `shutdown` completes, up to [`WorkerConfig::concurrency`] at once:
    /// each slot polls the queue (waiting longer while it stays empty) and one also
    /// enqueues the periodic housekeeping jobs this worker has handlers for. Jobs already
    /// running when `shutdown` completes are finished first; were the process killed
    /// instead, their leases would run out and other workers would run them again.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tracing::info!(worker = %self.id, kinds = ?self.kinds(), "job worker started");
        let (stop, stopped) = watch::channel(false);
        let slots = (0..self.config.concurrency.max(1))
            .map(|slot| self.run_slot(slot == 0, stopped.clone()));
        tokio::join!(
            async {
                shutdown.await;
                let _ = stop.send(true);
            },
            futures_util::future::join_all(slots),
        );
        tracing::info!(worker = %self.id, "job worker stopped");
    }

    /// One slot of [`Worker::run_until`]: run jobs one after another until `stopped`.
    async fn run_slot(&self, housekeeping: bool, mut stopped: watch::Receiver<bool>) {
        let mut schedule = housekeeping::Schedule::default();
        let mut idle = self.config.idle_min;
        while !*stopped.borrow() {
            if housekeeping {
                let now = self.clock.now();
                let runs = self.kinds();
                if let Err(err) = schedule.enqueue_due(self.repo.as_ref(), now, &runs).await {
                    tracing::warn!(%err, "could not enqueue housekeeping jobs");
                }
            }
            let wait = match self.run_one().await {
                Ok(Outcome::Ran(_)) => {
                    idle = self.config.idle_min;
                    Duration::ZERO
                }
                Ok(Outcome::Empty) => {
                    let wait = idle;
                    idle = (idle * 2).min(self.config.idle_max);
                    wait
                }
                Err(err) => {
                    tracing::warn!(%err, "could not take a job from the queue");
                    self.config.idle_max
                }
            };
            tokio::select! {
                biased;
                _ = stopped.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Say how an attempt ended: failures at a level an operator sees.
fn log_end(job: &Job, end: &JobEnd) {
    let (id, kind, attempt) = (&job.id, &job.kind, job.attempts);
    match end {
        JobEnd::Done => tracing::debug!(job = %id, kind, attempt, "job done"),
        JobEnd::Retry { at } => {
            tracing::info!(job = %id, kind, attempt, retry_at = %at, "job failed, will retry");
        }
        JobEnd::Failed => tracing::warn!(job = %id, kind, attempt, "job failed for good"),
        JobEnd::LeaseLost => {
            tracing::warn!(job = %id, kind, "job lease lost: another worker took it over");
        }
    }
}

/// The instant `duration` after `now` (the end of time for durations beyond it).
fn after(now: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(duration)
        .ok()
        .and_then(|delta| now.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A spawned handler that is stopped when the worker stops waiting for it (its lease was
/// lost, or the worker itself was dropped).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
