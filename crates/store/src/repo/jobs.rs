//! The durable job queue: [`JobRepo`], written once for both engines.
//!
//! A job is claimed by one worker at a time under a lease (`locked_until`); the worker
//! extends it while it works ([`JobRepo::heartbeat`]) and ends it with
//! [`JobRepo::complete`] or [`JobRepo::fail`]. A worker that crashes simply stops
//! heartbeating: once its lease has run out the job is claimable again, so every job is
//! run at least once and handlers must be idempotent. Each claim counts as an attempt, so
//! a job that crashes its worker every time still ends up `failed`.
//!
//! Every change is one statement. On SQLite it runs under the single write lock, so two
//! claimers (in one process or two) can not take the same job; on PostgreSQL the rows to
//! change are taken by a sub-select `FOR UPDATE SKIP LOCKED`, so concurrent replicas
//! never wait on each other's rows and never take the same one.

use super::engine::{Columns, Engine, Exec};
use super::media_rows::to_json;
use super::sql::Sql;
use crate::model::{Enqueued, Job, JobCounts, JobState, NewJob};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The job queue in the metadata database, shared by every replica.
#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Queue `job` (created at `now`, runnable from its `run_at` or `now`). With a dedupe
    /// key already used by any job, nothing is added and that job is returned.
    async fn enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Enqueued>;
    /// Atomically take the next runnable job for `worker`: the queued job (or the running
    /// one whose lease ran out before `now`) with the earliest `run_at`, of one of `kinds`
    /// (any kind when empty). It becomes `running`, locked by `worker` until
    /// `locked_until`, with one more attempt counted. Jobs whose lease ran out after their
    /// last allowed attempt are marked `failed` instead. `None` when nothing is runnable.
    async fn claim(
        &self,
        worker: &str,
        kinds: &[&str],
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Option<Job>>;
    /// Extend `worker`'s lease on job `id` to `until`; `false` if the worker no longer
    /// holds it (another worker reclaimed it after the lease ran out, or it ended).
    async fn heartbeat(
        &self,
        id: Uuid,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Mark job `id` done; `false` if `worker` no longer holds it.
    async fn complete(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Record that an attempt failed with `error`. With `retry_at` and attempts left, the
    /// job goes back to `queued`, not to run before `retry_at`; otherwise (a permanent
    /// error, or the last attempt) it becomes `failed`. Returns the new state, `None` if
    /// `worker` no longer holds the job.
    async fn fail(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<JobState>>;
    /// The job with this id.
    async fn job(&self, id: Uuid) -> Result<Option<Job>>;
    /// Up to `limit` jobs in one of `states` (all states when empty), by `run_at`, oldest
    /// first: the next to run lead.
    async fn list_jobs(&self, states: &[JobState], limit: u32) -> Result<Vec<Job>>;
    /// How many jobs are in each state.
    async fn count_jobs(&self) -> Result<JobCounts>;
    /// Forget `done` jobs finished before `before` (housekeeping; their dedupe keys become
    /// free again). Returns how many were removed.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64>;
}

#[async_trait]
impl<E: Engine> JobRepo for E {
    async fn enqueue(&self, new: &NewJob, now: DateTime<Utc>) -> Result<Enqueued> {
        let inserted = self
            .db()
            .fetch_optional(
                Sql::new(format!(
                    "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at,
                                       dedupe_key, created_at, updated_at)
                     VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7)
                     ON CONFLICT (dedupe_key) DO NOTHING
                     RETURNING {JOB_COLUMNS}"
                ))
                .arg(Uuid::now_v7())
                .arg(&new.kind)
                .arg(to_json(&new.payload))
                .arg(new.max_attempts.max(1))
                .arg(new.run_at.unwrap_or(now))
                .arg(new.dedupe_key.as_deref())
                .arg(now),
            )
            .await?;
        if let Some(row) = inserted {
            return Ok(Enqueued::New(job_from_row(&row)?));
        }
        // Only a dedupe key can conflict, and the job holding it is kept.
        let existing = self
            .db()
            .fetch_one(
                Sql::new(format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE dedupe_key = $1"
                ))
                .arg(new.dedupe_key.as_deref()),
            )
            .await?;
        Ok(Enqueued::Duplicate(job_from_row(&existing)?))
    }

    async fn claim(
        &self,
        worker: &str,
        kinds: &[&str],
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Option<Job>> {
        // Rows another replica is already failing are skipped, not waited for: no replica
        // blocks (or deadlocks) on another's housekeeping.
        let skip_locked = E::DIALECT.skip_locked();
        self.db()
            .execute(
                Sql::new(format!(
                    "UPDATE jobs SET state = 'failed', last_error = $1, locked_by = NULL,
                                     locked_until = NULL, updated_at = $2
                     WHERE id IN (
                         SELECT id FROM jobs
                         WHERE state = 'running' AND locked_until <= $2
                           AND attempts >= max_attempts{skip_locked})"
                ))
                .arg(LEASE_EXPIRED)
                .arg(now),
            )
            .await?;
        let mut sql = Sql::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1,
                             locked_until = $3, updated_at = $2
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE ((state = 'queued' AND run_at <= $2)
                        OR (state = 'running' AND locked_until <= $2
                            AND attempts < max_attempts))",
        )
        .arg(worker)
        .arg(now)
        .arg(locked_until);
        if !kinds.is_empty() {
            let list = kinds.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
            sql = sql.arg(list);
            sql.push(" AND ").push(&E::DIALECT.in_list("kind", 4));
        }
        sql.push(&format!(
            " ORDER BY run_at, id LIMIT 1{skip_locked}) RETURNING {JOB_COLUMNS}"
        ));
        self.db().optional(sql, job_from_row).await
    }

    async fn heartbeat(
        &self,
        id: Uuid,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new(
                    "UPDATE jobs SET locked_until = $1, updated_at = $2
                     WHERE id = $3 AND locked_by = $4 AND state = 'running'",
                )
                .arg(until)
                .arg(now)
                .arg(id)
                .arg(worker),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn complete(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool> {
        let changed = self
            .db()
            .execute(
                Sql::new(
                    "UPDATE jobs SET state = 'done', locked_by = NULL, locked_until = NULL,
                                     updated_at = $1
                     WHERE id = $2 AND locked_by = $3 AND state = 'running'",
                )
                .arg(now)
                .arg(id)
                .arg(worker),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn fail(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<JobState>> {
        let row = self
            .db()
            .fetch_optional(
                Sql::new(
                    "UPDATE jobs SET
                         state = CASE WHEN $1 IS NOT NULL AND attempts < max_attempts
                                      THEN 'queued' ELSE 'failed' END,
                         run_at = COALESCE($1, run_at), last_error = $2, locked_by = NULL,
                         locked_until = NULL, updated_at = $3
                     WHERE id = $4 AND locked_by = $5 AND state = 'running'
                     RETURNING state",
                )
                .arg(retry_at)
                .arg(error_text(error))
                .arg(now)
                .arg(id)
                .arg(worker),
            )
            .await?;
        row.map(|row| parse_state(row.text("state")?)).transpose()
    }

    async fn job(&self, id: Uuid) -> Result<Option<Job>> {
        self.db()
            .optional(
                Sql::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1")).arg(id),
                job_from_row,
            )
            .await
    }

    async fn list_jobs(&self, states: &[JobState], limit: u32) -> Result<Vec<Job>> {
        let mut sql = Sql::new(format!("SELECT {JOB_COLUMNS} FROM jobs")).arg(limit);
        if !states.is_empty() {
            let list = states
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect::<Vec<_>>();
            sql = sql.arg(list);
            sql.push(" WHERE ").push(&E::DIALECT.in_list("state", 2));
        }
        sql.push(" ORDER BY run_at, id LIMIT $1");
        self.db().all(sql, job_from_row).await
    }

    async fn count_jobs(&self) -> Result<JobCounts> {
        let rows = self
            .db()
            .fetch_all(Sql::new(
                "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state",
            ))
            .await?;
        let pairs = rows
            .iter()
            .map(|row| Ok((row.text("state")?, row.int("n")?)))
            .collect::<Result<Vec<_>>>()?;
        counts_from(pairs)
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        self.db()
            .execute(
                Sql::new("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1").arg(before),
            )
            .await
    }
}

/// The columns a job row is read from, in the order every query selects them.
pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, \
     locked_by, locked_until, last_error, dedupe_key, created_at, updated_at";

/// A job from a row holding [`JOB_COLUMNS`].
pub(crate) fn job_from_row<R: Columns>(row: &R) -> Result<Job> {
    Ok(Job {
        id: row.uuid("id")?,
        kind: row.text("kind")?,
        payload: row.json("payload")?,
        state: parse_state(row.text("state")?)?,
        attempts: small(row.int("attempts")?, "jobs.attempts")?,
        max_attempts: small(row.int("max_attempts")?, "jobs.max_attempts")?,
        run_at: row.time("run_at")?,
        locked_by: row.opt_text("locked_by")?,
        locked_until: row.opt_time("locked_until")?,
        last_error: row.opt_text("last_error")?,
        dedupe_key: row.opt_text("dedupe_key")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A state as stored in `jobs.state`.
pub(crate) fn parse_state(text: String) -> Result<JobState> {
    text.parse().map_err(|_| Error::Corrupt {
        column: "jobs.state",
        value: text,
    })
}

fn small(n: i64, column: &'static str) -> Result<u32> {
    super::convert::to_u32(n, column)
}

/// Counts from `(state, count)` pairs.
pub(crate) fn counts_from(pairs: impl IntoIterator<Item = (String, i64)>) -> Result<JobCounts> {
    let mut counts = JobCounts::default();
    for (state, n) in pairs {
        let n = super::convert::to_u64(n, "count(jobs)")?;
        match parse_state(state)? {
            JobState::Queued => counts.queued = n,
            JobState::Running => counts.running = n,
            JobState::Done => counts.done = n,
            JobState::Failed => counts.failed = n,
        }
    }
    Ok(counts)
}

/// The error text kept for a job: long messages are cut at a character boundary.
pub(crate) fn error_text(error: &str) -> &str {
    const MAX: usize = 2000;
    match error.char_indices().nth(MAX) {
        Some((end, _)) => error.get(..end).unwrap_or(error),
        None => error,
    }
}

/// What a job whose lease ran out on its last attempt is marked failed with.
pub(crate) const LEASE_EXPIRED: &str =
    "the worker's lease ran out on the last attempt (did it crash?)";
