-- The durable job queue (see crates/store/src/repo/jobs.rs for its rules). Workers on
-- any number of replicas claim from it with FOR UPDATE SKIP LOCKED.

CREATE TABLE jobs (
    id           UUID        NOT NULL PRIMARY KEY,
    kind         TEXT        NOT NULL,
    payload      TEXT        NOT NULL,
    state        TEXT        NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     BIGINT      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts BIGINT      NOT NULL CHECK (max_attempts >= 1),
    run_at       TIMESTAMPTZ NOT NULL,
    locked_by    TEXT,
    locked_until TIMESTAMPTZ,
    last_error   TEXT,
    dedupe_key   TEXT        UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
-- Claims look for queued jobs by run_at and running ones by lease; listings by state.
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);
CREATE INDEX jobs_running_locked_until ON jobs (locked_until) WHERE state = 'running';
