//! Suite cases for [`JobRepo`](crate::JobRepo): claim order, run-at, dedupe keys,
//! leases (expiry after a crash, heartbeats), retries, kinds, listings, pruning, and
//! many concurrent claimers on one or two repositories that never share a job.

use super::{at, MINUTE};
use crate::model::{Enqueued, Job, JobCounts, JobState, NewJob};
use crate::Repo;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// How long the claims of these cases hold a job.
const LEASE: i64 = 30_000;

async fn enqueue(repo: &Arc<dyn Repo>, job: NewJob, now: i64) -> Job {
    match repo.enqueue(&job, at(now)).await.expect("enqueue") {
        Enqueued::New(job) => job,
        Enqueued::Duplicate(job) => panic!("unexpected duplicate of {job:?}"),
    }
}

fn job(kind: &str) -> NewJob {
    NewJob::new(kind, json!({ "kind": kind }))
}

/// Claim any kind as `worker` at `at(now)`, for [`LEASE`].
async fn claim(repo: &Arc<dyn Repo>, worker: &str, now: i64) -> Option<Job> {
    repo.claim(worker, &[], at(now), at(now + LEASE))
        .await
        .expect("claim")
}

async fn state(repo: &Arc<dyn Repo>, job: &Job) -> Job {
    repo.job(job.id)
        .await
        .expect("job")
        .expect("the job exists")
}

/// Runnable jobs are claimed earliest `run_at` first, whatever the order they came in.
pub async fn claims_follow_run_at(repo: Arc<dyn Repo>) {
    let late = enqueue(&repo, job("late").run_at(at(3000)), 0).await;
    let early = enqueue(&repo, job("early").run_at(at(1000)), 0).await;
    let middle = enqueue(&repo, job("middle").run_at(at(2000)), 0).await;
    let mut order = Vec::new();
    while let Some(job) = claim(&repo, "w", 10_000).await {
        assert_eq!(job.state, JobState::Running);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.locked_by.as_deref(), Some("w"));
        assert_eq!(job.locked_until, Some(at(10_000 + LEASE)));
        order.push(job.id);
    }
    assert_eq!(order, [early.id, middle.id, late.id]);
}

/// A job is not claimed before its `run_at`, and is from that instant on; a new job with
/// no `run_at` is runnable at once.
pub async fn jobs_wait_for_run_at(repo: Arc<dyn Repo>) {
    let later = enqueue(&repo, job("later").run_at(at(5 * MINUTE)), 0).await;
    assert_eq!(later.state, JobState::Queued);
    assert_eq!(later.run_at, at(5 * MINUTE));
    assert_eq!(later.created_at, at(0));
    assert!(claim(&repo, "w", 5 * MINUTE - 1).await.is_none());
    assert_eq!(
        claim(&repo, "w", 5 * MINUTE).await.map(|j| j.id),
        Some(later.id)
    );
    assert!(repo
        .complete(later.id, "w", at(5 * MINUTE))
        .await
        .expect("complete"));
    let now = enqueue(&repo, job("now"), 6 * MINUTE).await;
    assert_eq!(now.run_at, at(6 * MINUTE));
    assert_eq!(
        claim(&repo, "w", 6 * MINUTE).await.map(|j| j.id),
        Some(now.id)
    );
}

/// Enqueuing under a used dedupe key adds nothing and returns the job already there, in
/// whatever state it is; jobs without a key are never merged.
pub async fn dedupe_key_queues_once(repo: Arc<dyn Repo>) {
    let first = enqueue(&repo, job("prune").dedupe_key("prune:08"), 0).await;
    let again = repo
        .enqueue(&job("prune").dedupe_key("prune:08"), at(1))
        .await
        .expect("enqueue again");
    assert_eq!(again, Enqueued::Duplicate(first.clone()));
    let claimed = claim(&repo, "w", 2).await.expect("claimed");
    assert!(repo
        .complete(claimed.id, "w", at(3))
        .await
        .expect("complete"));
    let after_done = repo
        .enqueue(&job("prune").dedupe_key("prune:08"), at(4))
        .await
        .expect("enqueue after done");
    assert_eq!(after_done.job().id, first.id);
    assert_eq!(after_done.job().state, JobState::Done);
    let other_key = enqueue(&repo, job("prune").dedupe_key("prune:09"), 5).await;
    assert_ne!(other_key.id, first.id);
    let a = enqueue(&repo, job("thumbnail"), 6).await;
    let b = enqueue(&repo, job("thumbnail"), 6).await;
    assert_ne!(a.id, b.id);
    assert_eq!(repo.count_jobs().await.expect("count").queued, 3);
}

/// A worker that crashed mid-job (stopped without completing) holds the job only until
/// its lease runs out; then another worker claims it, as a new attempt, and the first
/// worker can no longer complete, fail or extend it.
pub async fn expired_lease_is_claimed_again(repo: Arc<dyn Repo>) {
    let queued = enqueue(&repo, job("archive"), 0).await;
    let first = claim(&repo, "crashed", 0).await.expect("first claim");
    assert!(
        claim(&repo, "other", LEASE - 1).await.is_none(),
        "lease held"
    );
    let second = claim(&repo, "other", LEASE).await.expect("lease ran out");
    assert_eq!(second.id, queued.id);
    assert_eq!(second.attempts, 2);
    assert_eq!(second.locked_by.as_deref(), Some("other"));
    let id = first.id;
    assert!(!repo
        .complete(id, "crashed", at(LEASE + 1))
        .await
        .expect("complete"));
    assert!(!repo
        .heartbeat(id, "crashed", at(LEASE + 1), at(10 * LEASE))
        .await
        .expect("heartbeat"));
    let late_fail = repo
        .fail(id, "crashed", "late", Some(at(0)), at(LEASE + 1))
        .await
        .expect("fail");
    assert_eq!(late_fail, None);
    assert!(repo
        .complete(id, "other", at(LEASE + 2))
        .await
        .expect("complete"));
    let done = state(&repo, &queued).await;
    assert_eq!(done.state, JobState::Done);
    assert_eq!((done.locked_by, done.locked_until), (None, None));
    assert_eq!(done.updated_at, at(LEASE + 2));
}

/// Heartbeats move the lease forward, so a long job is not taken from a live worker.
pub async fn heartbeat_keeps_the_job(repo: Arc<dyn Repo>) {
    let queued = enqueue(&repo, job("restore"), 0).await;
    claim(&repo, "w", 0).await.expect("claim");
    assert!(repo
        .heartbeat(queued.id, "w", at(20_000), at(20_000 + LEASE))
        .await
        .expect("heartbeat"));
    assert_eq!(
        state(&repo, &queued).await.locked_until,
        Some(at(20_000 + LEASE))
    );
    assert!(claim(&repo, "other", LEASE).await.is_none(), "extended");
    assert!(claim(&repo, "other", 20_000 + LEASE - 1).await.is_none());
    let taken = claim(&repo, "other", 20_000 + LEASE)
        .await
        .expect("ran out");
    assert_eq!((taken.id, taken.attempts), (queued.id, 2));
}

/// A failed attempt with a retry time goes back to the queue until that time, keeping
/// its error; once the attempts are used up the job is `failed` and never claimed again.
pub async fn failures_retry_then_fail(repo: Arc<dyn Repo>) {
    let queued = enqueue(&repo, job("telemetry").max_attempts(3), 0).await;
    assert_eq!((queued.attempts, queued.max_attempts), (0, 3));
    for (attempt, now) in [(1, 0), (2, 10_000), (3, 30_000)] {
        let claimed = claim(&repo, "w", now).await.expect("claimable");
        assert_eq!(claimed.attempts, attempt);
        let retry_at = now + 10_000 * i64::from(attempt);
        let error = format!("attempt {attempt} broke");
        let after = repo
            .fail(claimed.id, "w", &error, Some(at(retry_at)), at(now + 1))
            .await
            .expect("fail");
        let job = state(&repo, &queued).await;
        assert_eq!(job.last_error.as_deref(), Some(error.as_str()));
        assert_eq!((job.locked_by, job.locked_until), (None, None));
        if attempt < 3 {
            assert_eq!(after, Some(JobState::Queued));
            assert_eq!(job.run_at, at(retry_at));
            assert!(claim(&repo, "w", retry_at - 1).await.is_none(), "backoff");
        } else {
            assert_eq!(after, Some(JobState::Failed));
            assert_eq!(job.state, JobState::Failed);
        }
    }
    assert!(claim(&repo, "w", 100 * MINUTE).await.is_none());
}

/// A failure without a retry time (a permanent error) fails the job at once, and long
/// error texts are kept cut short.
pub async fn permanent_failure_fails_at_once(repo: Arc<dyn Repo>) {
    let queued = enqueue(&repo, job("delete"), 0).await;
    let claimed = claim(&repo, "w", 0).await.expect("claim");
    let long = "é".repeat(10_000);
    let after = repo
        .fail(claimed.id, "w", &long, None, at(1))
        .await
        .expect("fail");
    assert_eq!(after, Some(JobState::Failed));
    let job = state(&repo, &queued).await;
    assert_eq!((job.state, job.attempts), (JobState::Failed, 1));
    let kept = job.last_error.expect("error kept");
    assert!(kept.chars().count() < 10_000 && long.starts_with(&kept));
    assert!(claim(&repo, "w", 100 * MINUTE).await.is_none());
}

/// A job whose worker crashed on its last allowed attempt is marked failed, with a
/// message saying why, instead of being claimed once more.
pub async fn crash_on_the_last_attempt_fails_the_job(repo: Arc<dyn Repo>) {
    let queued = enqueue(&repo, job("thumbnail").max_attempts(1), 0).await;
    claim(&repo, "crashed", 0).await.expect("claim");
    assert!(claim(&repo, "other", LEASE).await.is_none());
    let job = state(&repo, &queued).await;
    assert_eq!((job.state, job.attempts), (JobState::Failed, 1));
    assert!(job.last_error.expect("reason").contains("lease"));
}

/// A worker claims only the kinds it is asked for; no kinds means any.
pub async fn claims_take_only_the_asked_kinds(repo: Arc<dyn Repo>) {
    let a = enqueue(&repo, job("archive"), 0).await;
    let b = enqueue(&repo, job("restore"), 1).await;
    let kinds = ["restore", "delete"];
    let claimed = repo
        .claim("w", &kinds, at(10), at(10 + LEASE))
        .await
        .expect("claim");
    assert_eq!(claimed.map(|j| j.id), Some(b.id));
    let none = repo
        .claim("w", &kinds, at(10), at(10 + LEASE))
        .await
        .expect("claim");
    assert!(none.is_none());
    assert_eq!(claim(&repo, "w", 10).await.map(|j| j.id), Some(a.id));
}

/// Listings filter by state, keep the limit and the payload, and counts add up.
pub async fn jobs_are_listed_and_counted_by_state(repo: Arc<dyn Repo>) {
    let payload = json!({ "drive": "0192-…", "sizes": [1, 2], "nested": { "ok": true } });
    let first = enqueue(&repo, NewJob::new("archive", payload.clone()), 0).await;
    for (n, kind) in ["delete", "restore", "thumbnail", "telemetry"]
        .iter()
        .enumerate()
    {
        enqueue(&repo, job(kind), 1 + n as i64).await;
    }
    let running = claim(&repo, "w", 10).await.expect("claim");
    let done = claim(&repo, "w", 10).await.expect("claim");
    assert!(repo.complete(done.id, "w", at(11)).await.expect("complete"));
    let failed = claim(&repo, "w", 10).await.expect("claim");
    repo.fail(failed.id, "w", "boom", None, at(12))
        .await
        .expect("fail");
    assert_eq!(running.payload, payload, "payload read back");
    assert_eq!(running.id, first.id);
    assert_eq!(
        repo.count_jobs().await.expect("count"),
        JobCounts {
            queued: 2,
            running: 1,
            done: 1,
            failed: 1
        }
    );
    let ids = |jobs: Vec<Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let list = |states: &'static [JobState], limit| {
        let repo = Arc::clone(&repo);
        async move { repo.list_jobs(states, limit).await.expect("list") }
    };
    assert_eq!(ids(list(&[JobState::Failed], 10).await), [failed.id]);
    assert_eq!(list(&[], 10).await.len(), 5);
    assert_eq!(list(&[], 2).await.len(), 2);
    let active = list(&[JobState::Queued, JobState::Running], 10).await;
    assert_eq!(active.len(), 3);
    assert!(
        active.windows(2).all(|w| w[0].run_at <= w[1].run_at),
        "by run_at"
    );
    assert_eq!(active.first().map(|j| j.id), Some(running.id));
    let failed = list(&[JobState::Failed], 1).await;
    assert_eq!(
        failed.first().and_then(|j| j.last_error.as_deref()),
        Some("boom")
    );
}

/// Pruning forgets only `done` jobs finished before the given instant, and frees their
/// dedupe keys.
pub async fn prune_forgets_old_done_jobs(repo: Arc<dyn Repo>) {
    let kept = enqueue(&repo, job("prune").dedupe_key("k"), 0).await;
    claim(&repo, "w", 0).await.expect("claim");
    assert!(repo
        .complete(kept.id, "w", at(MINUTE))
        .await
        .expect("complete"));
    enqueue(&repo, job("failing"), 0).await;
    let failing = claim(&repo, "w", 0).await.expect("claim");
    repo.fail(failing.id, "w", "no", None, at(0))
        .await
        .expect("fail");
    assert_eq!(repo.prune_jobs(at(MINUTE)).await.expect("prune"), 0);
    assert_eq!(repo.prune_jobs(at(MINUTE + 1)).await.expect("prune"), 1);
    assert!(repo.job(kept.id).await.expect("job").is_none());
    assert_eq!(repo.count_jobs().await.expect("count").failed, 1);
    let again = repo
        .enqueue(&job("prune").dedupe_key("k"), at(2 * MINUTE))
        .await
        .expect("enqueue");
    assert!(matches!(again, Enqueued::New(_)), "{again:?}");
}

/// Many workers claiming at once from one repository never take a job twice.
pub async fn concurrent_claims_run_each_job_once(repo: Arc<dyn Repo>) {
    concurrent_claims_run_each_job_once_across(&[Arc::clone(&repo), repo]).await;
}

/// Jobs in the queue, workers that drain it in [`concurrent_claims_run_each_job_once_across`].
const CONCURRENT_JOBS: usize = 200;
const CONCURRENT_WORKERS: usize = 8;

/// 200 jobs drained by 8 concurrent workers spread over `repos` (several repositories on
/// one database stand for several server replicas): every job is claimed exactly once
/// and ends `done`.
pub async fn concurrent_claims_run_each_job_once_across(repos: &[Arc<dyn Repo>]) {
    let Some(first) = repos.first() else {
        panic!("no repository given");
    };
    for n in 0..CONCURRENT_JOBS {
        enqueue(first, job("thumbnail").run_at(at(n as i64)), 0).await;
    }
    let now: DateTime<Utc> = at(CONCURRENT_JOBS as i64);
    let until = now + TimeDelta::hours(1);
    let claimed = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..CONCURRENT_WORKERS)
        .map(|w| {
            let repo = Arc::clone(&repos[w % repos.len()]);
            let claimed = Arc::clone(&claimed);
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                while let Some(job) = repo.claim(&worker, &[], now, until).await.expect("claim") {
                    claimed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(job.id);
                    assert!(
                        repo.complete(job.id, &worker, now).await.expect("complete"),
                        "{worker} lost job {} it had claimed",
                        job.id
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker panicked");
    }
    let claimed = claimed.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let distinct: HashSet<_> = claimed.iter().collect();
    assert_eq!(distinct.len(), claimed.len(), "a job was claimed twice");
    assert_eq!(claimed.len(), CONCURRENT_JOBS);
    let counts = first.count_jobs().await.expect("count");
    assert_eq!(counts.done, CONCURRENT_JOBS as u64, "{counts:?}");
}
