//! The job worker over the real queue of either engine: retries with backoff under the
//! test's clock, permanent failures, a crash mid-job, heartbeats, two workers on one
//! database, and the housekeeping the server runs by itself.
//!
//! Handlers must be idempotent, because a job runs at least once: after a crash (or a
//! lost lease) it runs again, having done part or all of its work. The crash test's
//! handler shows the expected shape: its effect is keyed by the job, so the second run
//! changes nothing the first one did.

use crate::both_engines;
use crate::helpers::TestApp;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use dashvault_server::clock::Clock;
use dashvault_server::jobs::housekeeping::PRUNE_AUTH;
use dashvault_server::jobs::{JobEnd, JobError, JobHandler, Outcome, Ran, Worker, WorkerConfig};
use dashvault_store::model::{Job, JobState, NewJob, NewLoginCode};
use dashvault_store::Repo;
use serde_json::json;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);
const RETRY_BASE: Duration = Duration::from_secs(10);
/// How long a test waits for something another task does before failing.
const PATIENCE: Duration = Duration::from_secs(20);

/// Retries from 10 s; heartbeats (every 20 s at most) too rare to matter unless asked.
fn config() -> WorkerConfig {
    WorkerConfig {
        lease: LEASE,
        heartbeat: Duration::from_secs(3600),
        idle_min: Duration::from_millis(10),
        idle_max: Duration::from_millis(50),
        retry_base: RETRY_BASE,
        retry_max: Duration::from_secs(3600),
        concurrency: 1,
    }
}

fn worker(app: &TestApp, config: WorkerConfig, handler: Arc<dyn JobHandler>) -> Worker {
    Worker::new(Arc::clone(&app.state.repo), app.clock.clone(), config).with_handler(handler)
}

/// Fails as scripted, then succeeds; counts its runs.
struct Scripted {
    kind: &'static str,
    failures: Mutex<VecDeque<JobError>>,
    runs: Mutex<u32>,
}

impl Scripted {
    fn new(kind: &'static str, failures: impl IntoIterator<Item = JobError>) -> Arc<Self> {
        Arc::new(Self {
            kind,
            failures: Mutex::new(failures.into_iter().collect()),
            runs: Mutex::new(0),
        })
    }

    fn runs(&self) -> u32 {
        *self.runs.lock().unwrap()
    }
}

#[async_trait]
impl JobHandler for Scripted {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        *self.runs.lock().unwrap() += 1;
        match self.failures.lock().unwrap().pop_front() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

async fn enqueue(app: &TestApp, job: NewJob) -> Job {
    app.state
        .repo
        .enqueue(&job, app.clock.now())
        .await
        .expect("enqueue")
        .job()
        .clone()
}

async fn stored(app: &TestApp, id: Uuid) -> Job {
    app.state.repo.job(id).await.unwrap().expect("job exists")
}

async fn ran(worker: &Worker) -> Ran {
    match worker.run_one().await.expect("run_one") {
        Outcome::Ran(ran) => *ran,
        Outcome::Empty => panic!("expected a job to run"),
    }
}

async fn empty(worker: &Worker) {
    let outcome = worker.run_one().await.expect("run_one");
    assert!(matches!(outcome, Outcome::Empty), "{outcome:?}");
}

/// The retry time of `ran`, checked to be `base` (jitter: up to a quarter more) after `now`.
fn retry_at(ran: &Ran, now: DateTime<Utc>, base: Duration) -> DateTime<Utc> {
    let JobEnd::Retry { at } = ran.end else {
        panic!("expected a retry, got {:?}", ran.end);
    };
    let delay = (at - now).to_std().expect("retry in the future");
    assert!(
        delay >= base && delay <= base + base / 4,
        "delay {delay:?} for base {base:?}"
    );
    at
}

/// Retryable errors queue the job again after 10 s, then 20 s (plus jitter); it is not
/// run before that, and succeeds on the third attempt.
async fn retries_back_off_then_succeed(app: TestApp) {
    let handler = Scripted::new(
        "flaky",
        [
            JobError::Retryable("database down".into()),
            JobError::Retryable("still down".into()),
        ],
    );
    let worker = worker(&app, config(), handler.clone());
    let job = enqueue(&app, NewJob::new("flaky", json!({ "n": 1 }))).await;

    let first = ran(&worker).await;
    assert_eq!((first.job.id, first.job.attempts), (job.id, 1));
    let at = retry_at(&first, app.clock.now(), RETRY_BASE);
    let queued = stored(&app, job.id).await;
    assert_eq!(queued.state, JobState::Queued);
    assert_eq!(queued.last_error.as_deref(), Some("database down"));
    empty(&worker).await;

    app.clock
        .advance(at - app.clock.now() - TimeDelta::milliseconds(1));
    empty(&worker).await;
    app.clock.advance(TimeDelta::milliseconds(1));
    let second = ran(&worker).await;
    let at = retry_at(&second, app.clock.now(), 2 * RETRY_BASE);

    app.clock.advance(at - app.clock.now());
    assert_eq!(ran(&worker).await.end, JobEnd::Done);
    let done = stored(&app, job.id).await;
    assert_eq!((done.state, done.attempts), (JobState::Done, 3));
    assert_eq!(handler.runs(), 3);
    empty(&worker).await;
}

/// A permanent error fails the job at once; it is never run again.
async fn permanent_error_fails_at_once(app: TestApp) {
    let handler = Scripted::new("delete", [JobError::Permanent("no such drive".into())]);
    let worker = worker(&app, config(), handler.clone());
    let job = enqueue(&app, NewJob::new("delete", json!({ "drive": "x" }))).await;
    assert_eq!(ran(&worker).await.end, JobEnd::Failed);
    let failed = stored(&app, job.id).await;
    assert_eq!((failed.state, failed.attempts), (JobState::Failed, 1));
    assert_eq!(failed.last_error.as_deref(), Some("no such drive"));
    app.clock.advance(TimeDelta::days(1));
    empty(&worker).await;
    assert_eq!(handler.runs(), 1);
}

/// Panics on every run.
struct Panics;

#[async_trait]
impl JobHandler for Panics {
    fn kind(&self) -> &'static str {
        "telemetry"
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        panic!("bad telemetry track");
    }
}

/// A handler that panics fails its attempt like a retryable error; the worker lives on.
async fn panicking_handler_is_retried(app: TestApp) {
    let worker = worker(&app, config(), Arc::new(Panics));
    let job = enqueue(&app, NewJob::new("telemetry", json!({}))).await;
    let first = ran(&worker).await;
    retry_at(&first, app.clock.now(), RETRY_BASE);
    let queued = stored(&app, job.id).await;
    assert_eq!(queued.state, JobState::Queued);
    let error = queued.last_error.unwrap_or_default();
    assert!(error.contains("bad telemetry track"), "{error}");
    empty(&worker).await;
}

/// A job that keeps failing is `failed` once its attempts are used up.
async fn retries_run_out(app: TestApp) {
    let handler = Scripted::new(
        "thumbnail",
        (0..5).map(|n| JobError::Retryable(format!("failure {n}"))),
    );
    let worker = worker(&app, config(), handler.clone());
    let job = enqueue(&app, NewJob::new("thumbnail", json!({})).max_attempts(2)).await;
    let first = ran(&worker).await;
    let at = retry_at(&first, app.clock.now(), RETRY_BASE);
    app.clock.advance(at - app.clock.now());
    assert_eq!(ran(&worker).await.end, JobEnd::Failed);
    let failed = stored(&app, job.id).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("failure 1"));
    app.clock.advance(TimeDelta::days(1));
    empty(&worker).await;
    assert_eq!(handler.runs(), 2);
}

/// Hangs on its first run (the worker then "crashes"); records the job it did, keyed by
/// job id, so a second run is harmless.
struct HangsOnce {
    started: Notify,
    runs: Mutex<u32>,
    done: Mutex<HashSet<Uuid>>,
}

#[async_trait]
impl JobHandler for HangsOnce {
    fn kind(&self) -> &'static str {
        "archive"
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let first = {
            let mut runs = self.runs.lock().unwrap();
            *runs += 1;
            *runs == 1
        };
        if first {
            self.started.notify_one();
            std::future::pending::<()>().await;
        }
        self.done.lock().unwrap().insert(job.id);
        Ok(())
    }
}

/// A worker dropped mid-job (as in a crash) leaves the job running under its lease; once
/// the lease runs out another worker runs it, and it ends done with its effect once.
async fn crash_mid_job_is_run_again_by_another_worker(app: TestApp) {
    let handler = Arc::new(HangsOnce {
        started: Notify::new(),
        runs: Mutex::new(0),
        done: Mutex::new(HashSet::new()),
    });
    let job = enqueue(&app, NewJob::new("archive", json!({ "drive": 7 }))).await;
    let crashing = worker(&app, config(), handler.clone());
    let crashing_id = crashing.id().to_owned();
    let attempt = tokio::spawn(async move { crashing.run_one().await });
    tokio::time::timeout(PATIENCE, handler.started.notified())
        .await
        .expect("the handler started");
    attempt.abort();
    assert!(attempt.await.unwrap_err().is_cancelled());
    let held = stored(&app, job.id).await;
    assert_eq!(held.state, JobState::Running);
    assert_eq!(held.locked_by.as_deref(), Some(crashing_id.as_str()));

    let survivor = worker(&app, config(), handler.clone());
    empty(&survivor).await;
    app.clock.advance(TimeDelta::from_std(LEASE).unwrap());
    let second = ran(&survivor).await;
    assert_eq!((second.job.id, second.job.attempts), (job.id, 2));
    assert_eq!(second.end, JobEnd::Done);
    assert_eq!(stored(&app, job.id).await.state, JobState::Done);
    assert_eq!(*handler.runs.lock().unwrap(), 2);
    assert_eq!(*handler.done.lock().unwrap(), HashSet::from([job.id]));
}

/// Works until released.
struct Slow {
    started: Notify,
    release: Notify,
}

#[async_trait]
impl JobHandler for Slow {
    fn kind(&self) -> &'static str {
        "restore"
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.started.notify_one();
        self.release.notified().await;
        Ok(())
    }
}

/// While a long job runs its worker extends the lease, so no other worker takes it even
/// after the first lease would have run out.
async fn heartbeat_keeps_a_long_job(app: TestApp) {
    let handler = Arc::new(Slow {
        started: Notify::new(),
        release: Notify::new(),
    });
    let job = enqueue(&app, NewJob::new("restore", json!({}))).await;
    let beating = worker(
        &app,
        WorkerConfig {
            heartbeat: Duration::from_millis(20),
            ..config()
        },
        handler.clone(),
    );
    let attempt = tokio::spawn(async move { beating.run_one().await });
    tokio::time::timeout(PATIENCE, handler.started.notified())
        .await
        .expect("the handler started");
    let claimed_at = app.clock.now();
    app.clock.advance(TimeDelta::seconds(50));
    let extended_to = app.clock.now() + TimeDelta::from_std(LEASE).unwrap();
    tokio::time::timeout(PATIENCE, async {
        while stored(&app, job.id).await.locked_until < Some(extended_to) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a heartbeat extended the lease");
    app.clock.advance(TimeDelta::seconds(30));
    assert!(app.clock.now() > claimed_at + TimeDelta::from_std(LEASE).unwrap());
    let other = worker(&app, config(), handler.clone());
    empty(&other).await;
    handler.release.notify_one();
    let outcome = attempt.await.unwrap().expect("run_one");
    let Outcome::Ran(ran) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(ran.end, JobEnd::Done);
}

/// Records every job it runs.
struct Counter(Mutex<Vec<Uuid>>);

#[async_trait]
impl JobHandler for Counter {
    fn kind(&self) -> &'static str {
        "count"
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        self.0.lock().unwrap().push(job.id);
        tokio::task::yield_now().await;
        Ok(())
    }
}

/// Two workers on two connections to one database (two replicas) drain a queue of 100
/// jobs together: every job runs exactly once.
async fn two_replicas_run_each_job_once(app: TestApp) {
    const JOBS: usize = 100;
    for n in 0..JOBS {
        enqueue(&app, NewJob::new("count", json!({ "n": n }))).await;
    }
    let counter = Arc::new(Counter(Mutex::new(Vec::new())));
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let repo: Arc<dyn Repo> = dashvault_store::open(&app.database_url).await.unwrap();
        let worker = Worker::new(repo, app.clock.clone(), config()).with_handler(counter.clone());
        replicas.push(tokio::spawn(async move {
            let mut ran = 0;
            while let Outcome::Ran(r) = worker.run_one().await.expect("run_one") {
                assert_eq!(r.end, JobEnd::Done);
                ran += 1;
            }
            ran
        }));
    }
    let mut total = 0;
    for replica in replicas {
        total += replica.await.unwrap();
    }
    let ids = counter.0.lock().unwrap().clone();
    assert_eq!(total, JOBS);
    assert_eq!(ids.len(), JOBS);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        JOBS,
        "a job ran twice"
    );
    let done = app
        .state
        .repo
        .list_jobs(&[JobState::Done], 1000)
        .await
        .unwrap();
    assert_eq!(done.iter().filter(|j| j.kind == "count").count(), JOBS);
}

async fn wait_for_done(app: &TestApp, kind: &str, dedupe_key: &str) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let done = app
                .state
                .repo
                .list_jobs(&[JobState::Done], 1000)
                .await
                .unwrap();
            if done
                .iter()
                .any(|j| j.kind == kind && j.dedupe_key.as_deref() == Some(dedupe_key))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} job {dedupe_key} was done"));
}

/// The server's own worker runs the hourly `prune_auth` job; a worker loop does too for
/// the next hour (whichever takes it first), pruning sends older than a day, and stops
/// when told to.
async fn server_runs_housekeeping(app: TestApp) {
    // The test app serves without a worker; this server on the same state runs one.
    let server = dashvault_server::Server::bind_with_state(
        "127.0.0.1:0".parse().unwrap(),
        app.state.clone(),
    )
    .await
    .unwrap();
    tokio::spawn(server.run(std::future::pending()));
    let hour = |t: DateTime<Utc>| format!("{PRUNE_AUTH}:{}", t.format("%Y-%m-%dT%H"));
    wait_for_done(&app, PRUNE_AUTH, &hour(app.clock.now())).await;

    // Logged before the clock moves to the next hour, so whichever worker prunes in that
    // hour finds it.
    let now = app.clock.now();
    let old = NewLoginCode {
        phone: "+14155550100".into(),
        code_hash: b"hash".to_vec(),
        sent_at: now - TimeDelta::days(2),
        expires_at: now - TimeDelta::days(2) + TimeDelta::minutes(5),
        ip: "192.0.2.1".into(),
    };
    app.state.repo.put_login_code(&old).await.unwrap();
    let sends = || {
        app.state
            .repo
            .codes_sent_to_phone("+14155550100", DateTime::UNIX_EPOCH)
    };
    assert_eq!(sends().await.unwrap(), 1);
    app.clock.advance(TimeDelta::hours(1));
    let now = app.clock.now();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker =
        Worker::with_builtin_handlers(Arc::clone(&app.state.repo), app.clock.clone(), config());
    let looping = tokio::spawn(worker.run_until(async move {
        let _ = stopped.await;
    }));
    wait_for_done(&app, PRUNE_AUTH, &hour(now)).await;
    assert_eq!(sends().await.unwrap(), 0, "old sends pruned");
    stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, looping)
        .await
        .expect("the loop stops when told to")
        .unwrap();
}

/// Each run waits until the other one has started too.
struct Together(tokio::sync::Barrier);

#[async_trait]
impl JobHandler for Together {
    fn kind(&self) -> &'static str {
        "together"
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.0.wait().await;
        Ok(())
    }
}

/// A worker loop with two slots runs two jobs at once (each job waits for the other),
/// and stops when told to.
async fn worker_loop_runs_jobs_side_by_side(app: TestApp) {
    let first = enqueue(&app, NewJob::new("together", json!({ "n": 1 }))).await;
    let second = enqueue(&app, NewJob::new("together", json!({ "n": 2 }))).await;
    let handler = Arc::new(Together(tokio::sync::Barrier::new(2)));
    let worker = worker(
        &app,
        WorkerConfig {
            concurrency: 2,
            ..config()
        },
        handler,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = tokio::spawn(worker.run_until(async move {
        let _ = stopped.await;
    }));
    tokio::time::timeout(PATIENCE, async {
        while stored(&app, first.id).await.state != JobState::Done
            || stored(&app, second.id).await.state != JobState::Done
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("both jobs ran at once");
    stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, looping)
        .await
        .expect("the loop stops when told to")
        .unwrap();
}

both_engines!(
    worker_loop_runs_jobs_side_by_side,
    retries_back_off_then_succeed,
    permanent_error_fails_at_once,
    retries_run_out,
    panicking_handler_is_retried,
    crash_mid_job_is_run_again_by_another_worker,
    heartbeat_keeps_a_long_job,
    two_replicas_run_each_job_once,
    server_runs_housekeeping,
);
