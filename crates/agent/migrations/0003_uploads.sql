-- The upload queue, the cellular data spent per month, what is known to be in the cloud,
-- and the cloud deletions still to send (owned by the upload and sync modules).

-- One file to upload. Idempotent per (path, sha256); `tus_url` and `sent_offset` let an
-- upload resume after a crash or a reboot (the server's `HEAD` has the last word).
CREATE TABLE uploads (
    id              INTEGER PRIMARY KEY,
    path            TEXT    NOT NULL,
    sha256          TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    filename        TEXT    NOT NULL,
    -- recording | clip | timelapse | sidecar
    kind            TEXT    NOT NULL,
    -- 0 automatic clip, 1 sidecar, 2 manual clip, 3 drive (lower goes first)
    priority        INTEGER NOT NULL,
    start_at        TEXT    NOT NULL,
    end_at          TEXT    NOT NULL,
    view            TEXT    NOT NULL,
    -- auto | manual, clips only
    clip_kind       TEXT,
    -- JSON [{"type", "at", "severity"}], clips only
    incidents       TEXT,
    tus_url         TEXT,
    sent_offset     INTEGER NOT NULL DEFAULT 0,
    -- queued | done | failed (refused by the server) | gone (the file was deleted) | cancelled
    status          TEXT    NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT,
    created_at      TEXT    NOT NULL,
    uploaded_at     TEXT,
    UNIQUE (path, sha256)
) STRICT;

CREATE INDEX uploads_pending ON uploads (status, priority, start_at);
CREATE INDEX uploads_sha256 ON uploads (sha256);

-- Bytes sent over cellular per calendar month (UTC, "YYYY-MM"), for the monthly budget.
CREATE TABLE cellular_usage (
    month TEXT    NOT NULL PRIMARY KEY,
    bytes INTEGER NOT NULL
) STRICT;

-- Clips known to be in the cloud (listed from the server or uploaded from here).
CREATE TABLE cloud_clips (
    id       TEXT NOT NULL PRIMARY KEY,
    sha256   TEXT,
    kind     TEXT NOT NULL,
    start_at TEXT NOT NULL,
    filename TEXT,
    size     INTEGER,
    seen_at  TEXT NOT NULL
) STRICT;

CREATE INDEX cloud_clips_sha256 ON cloud_clips (sha256);

-- Clips deleted here whose cloud copy is still to be deleted.
CREATE TABLE cloud_deletes (
    sha256     TEXT NOT NULL PRIMARY KEY,
    created_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
) STRICT;
