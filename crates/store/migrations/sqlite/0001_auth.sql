-- Users, sign-in codes, sessions and devices.
-- Conventions for every SQLite table: STRICT; ids are 16-byte UUID BLOBs; times are
-- INTEGER milliseconds since the Unix epoch (UTC), so comparisons are exact; booleans are
-- INTEGER 0/1; secrets are stored only as hashes (BLOB).

CREATE TABLE users (
    id         BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    phone      TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

-- At most one live code per phone number; a new code replaces the row.
CREATE TABLE login_codes (
    phone      TEXT    NOT NULL PRIMARY KEY,
    code_hash  BLOB    NOT NULL,
    sent_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
) STRICT;

-- One row per code sent, for the per-phone and per-address hourly limits.
CREATE TABLE code_sends (
    id      INTEGER NOT NULL PRIMARY KEY,
    phone   TEXT    NOT NULL,
    ip      TEXT    NOT NULL,
    sent_at INTEGER NOT NULL
) STRICT;
CREATE INDEX code_sends_phone_sent_at ON code_sends (phone, sent_at);
CREATE INDEX code_sends_ip_sent_at ON code_sends (ip, sent_at);
CREATE INDEX code_sends_sent_at ON code_sends (sent_at);

CREATE TABLE sessions (
    token_hash BLOB    NOT NULL PRIMARY KEY,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE devices (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id          BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model            TEXT    NOT NULL,
    serial           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    has_cabin_camera INTEGER NOT NULL CHECK (has_cabin_camera IN (0, 1)),
    uploads_drives   INTEGER NOT NULL CHECK (uploads_drives IN (0, 1)),
    token_hash       BLOB    NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_user_id_created_at ON devices (user_id, created_at);
