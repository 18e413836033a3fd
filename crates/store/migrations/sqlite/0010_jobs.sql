-- The durable job queue (see crates/store/src/repo/jobs.rs for its rules).
-- Times are INTEGER milliseconds since the Unix epoch, like every SQLite table here.

CREATE TABLE jobs (
    id           BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       INTEGER NOT NULL,
    locked_by    TEXT,
    locked_until INTEGER,
    last_error   TEXT,
    dedupe_key   TEXT    UNIQUE,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
-- Claims look for queued jobs by run_at and running ones by lease; listings by state.
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);
CREATE INDEX jobs_running_locked_until ON jobs (locked_until) WHERE state = 'running';
