//! [`JobRepo`] on PostgreSQL, shared by any number of replicas. A claim is one statement
//! whose sub-select takes the next runnable row `FOR UPDATE SKIP LOCKED`: concurrent
//! claimers never wait on each other's rows and never take the same one.

use super::convert::truncate_to_millis;
use super::jobs::{counts_from, error_text, job_from_row, parse_state, JOB_COLUMNS, LEASE_EXPIRED};
use super::media_rows::{to_json, OptionalTime};
use super::postgres::PostgresRepo;
use super::JobRepo;
use crate::model::{Enqueued, Job, JobCounts, JobState, NewJob};
use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

impl OptionalTime for PgRow {
    fn opt_time(&self, col: &'static str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(col)?)
    }
}

fn job(row: Option<PgRow>) -> Result<Option<Job>> {
    row.as_ref().map(job_from_row).transpose()
}

#[async_trait]
impl JobRepo for PostgresRepo {
    async fn enqueue(&self, new: &NewJob, now: DateTime<Utc>) -> Result<Enqueued> {
        let now = truncate_to_millis(now);
        let inserted = sqlx::query(&format!(
            "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at,
                               dedupe_key, created_at, updated_at)
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7)
             ON CONFLICT (dedupe_key) DO NOTHING
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(Uuid::now_v7())
        .bind(&new.kind)
        .bind(to_json(&new.payload))
        .bind(i64::from(new.max_attempts.max(1)))
        .bind(truncate_to_millis(new.run_at.unwrap_or(now)))
        .bind(&new.dedupe_key)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        if let Some(job) = job(inserted)? {
            return Ok(Enqueued::New(job));
        }
        // Only a dedupe key can conflict, and the job holding it is kept.
        let existing = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE dedupe_key = $1"
        ))
        .bind(&new.dedupe_key)
        .fetch_one(self.pool())
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
        let now = truncate_to_millis(now);
        // Rows another replica is already failing are skipped, not waited for: no
        // replica blocks (or deadlocks) on another's housekeeping.
        sqlx::query(
            "UPDATE jobs SET state = 'failed', last_error = $1, locked_by = NULL,
                             locked_until = NULL, updated_at = $2
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE state = 'running' AND locked_until <= $2 AND attempts >= max_attempts
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind(LEASE_EXPIRED)
        .bind(now)
        .execute(self.pool())
        .await?;
        let claimed = sqlx::query(&format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1,
                             locked_until = $3, updated_at = $2
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE ((state = 'queued' AND run_at <= $2)
                        OR (state = 'running' AND locked_until <= $2
                            AND attempts < max_attempts))
                   AND (cardinality($4::text[]) = 0 OR kind = ANY($4))
                 ORDER BY run_at, id
                 FOR UPDATE SKIP LOCKED
                 LIMIT 1)
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(worker)
        .bind(now)
        .bind(truncate_to_millis(locked_until))
        .bind(kinds)
        .fetch_optional(self.pool())
        .await?;
        job(claimed)
    }

    async fn heartbeat(
        &self,
        id: Uuid,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET locked_until = $1, updated_at = $2
             WHERE id = $3 AND locked_by = $4 AND state = 'running'",
        )
        .bind(truncate_to_millis(until))
        .bind(truncate_to_millis(now))
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn complete(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', locked_by = NULL, locked_until = NULL,
                             updated_at = $1
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(truncate_to_millis(now))
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn fail(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<JobState>> {
        let row = sqlx::query(
            "UPDATE jobs SET
                 state = CASE WHEN $1::timestamptz IS NOT NULL AND attempts < max_attempts
                              THEN 'queued' ELSE 'failed' END,
                 run_at = COALESCE($1, run_at), last_error = $2, locked_by = NULL,
                 locked_until = NULL, updated_at = $3
             WHERE id = $4 AND locked_by = $5 AND state = 'running'
             RETURNING state",
        )
        .bind(retry_at.map(truncate_to_millis))
        .bind(error_text(error))
        .bind(truncate_to_millis(now))
        .bind(id)
        .bind(worker)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| parse_state(row.try_get(0)?)).transpose()
    }

    async fn job(&self, id: Uuid) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        job(row)
    }

    async fn list_jobs(&self, states: &[JobState], limit: u32) -> Result<Vec<Job>> {
        let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE cardinality($1::text[]) = 0 OR state = ANY($1)
             ORDER BY run_at, id LIMIT $2"
        ))
        .bind(states)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(job_from_row)
        .collect()
    }

    async fn count_jobs(&self) -> Result<JobCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                .fetch_all(self.pool())
                .await?;
        counts_from(rows)
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1")
            .bind(truncate_to_millis(before))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
