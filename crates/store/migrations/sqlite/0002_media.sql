-- Uploads in progress, and what finished uploads become: drives, recordings, clips and
-- sidecars. Same conventions as 0001 (ids 16-byte BLOBs, times INTEGER milliseconds).
-- JSON columns hold serde JSON text written by the crate.

CREATE TABLE uploads (
    id           BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id    BLOB    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    upload_length INTEGER NOT NULL CHECK (upload_length >= 0),
    upload_offset INTEGER NOT NULL CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
    metadata     TEXT    NOT NULL,
    blob_key     TEXT    NOT NULL,
    multipart_id TEXT,
    parts        TEXT    NOT NULL, -- JSON array of part receipts
    tail_key     TEXT,
    tail_len     INTEGER NOT NULL CHECK (tail_len >= 0),
    partial      INTEGER NOT NULL CHECK (partial IN (0, 1)),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX uploads_user_id ON uploads (user_id);
CREATE INDEX uploads_expires_at ON uploads (expires_at);

CREATE TABLE drives (
    id         BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  BLOB    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    start_at   INTEGER NOT NULL,
    end_at     INTEGER NOT NULL CHECK (end_at >= start_at),
    views      TEXT    NOT NULL, -- comma-separated, sorted: road, cabin
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX drives_user_id_start_at ON drives (user_id, start_at);
CREATE INDEX drives_device_id_start_at ON drives (device_id, start_at);

CREATE TABLE recordings (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id     BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id   BLOB    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    drive_id    BLOB    NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('recording', 'timelapse')),
    view        TEXT    NOT NULL CHECK (view IN ('road', 'cabin')),
    blob_key    TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT    NOT NULL,
    start_at    INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    codec       TEXT    NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    keyframes   TEXT    NOT NULL, -- JSON array of {ms, offset}
    telemetry   TEXT    NOT NULL, -- JSON telemetry summary
    filename    TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, sha256)
) STRICT;
CREATE INDEX recordings_drive_id_start_at ON recordings (drive_id, start_at);

CREATE TABLE clips (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id     BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id   BLOB    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('auto', 'manual')),
    view        TEXT    NOT NULL CHECK (view IN ('road', 'cabin')),
    incidents   TEXT    NOT NULL, -- JSON array of {type, at, severity}
    blob_key    TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT    NOT NULL,
    start_at    INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    codec       TEXT    NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    keyframes   TEXT    NOT NULL,
    telemetry   TEXT    NOT NULL,
    filename    TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, sha256)
) STRICT;
CREATE INDEX clips_user_id_start_at ON clips (user_id, start_at);

CREATE TABLE sidecars (
    id         BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  BLOB    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    start_at   INTEGER NOT NULL,
    blob_key   TEXT    NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    sha256     TEXT    NOT NULL,
    telemetry  TEXT    NOT NULL,
    filename   TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, sha256)
) STRICT;
CREATE INDEX sidecars_device_id_start_at ON sidecars (device_id, start_at);
