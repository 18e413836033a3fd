-- Users, sign-in codes, sessions and devices.
-- Conventions for every PostgreSQL table: ids are UUID; times are TIMESTAMPTZ written at
-- millisecond precision (like the SQLite engine); secrets are stored only as hashes
-- (BYTEA).

CREATE TABLE users (
    id         UUID        NOT NULL PRIMARY KEY,
    phone      TEXT        NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

-- At most one live code per phone number; a new code replaces the row.
CREATE TABLE login_codes (
    phone      TEXT        NOT NULL PRIMARY KEY,
    code_hash  BYTEA       NOT NULL,
    sent_at    TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    attempts   INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);

-- One row per code sent, for the per-phone and per-address hourly limits.
CREATE TABLE code_sends (
    id      BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone   TEXT        NOT NULL,
    ip      TEXT        NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX code_sends_phone_sent_at ON code_sends (phone, sent_at);
CREATE INDEX code_sends_ip_sent_at ON code_sends (ip, sent_at);
CREATE INDEX code_sends_sent_at ON code_sends (sent_at);

CREATE TABLE sessions (
    token_hash BYTEA       NOT NULL PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE devices (
    id               UUID        NOT NULL PRIMARY KEY,
    user_id          UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model            TEXT        NOT NULL,
    serial           TEXT        NOT NULL,
    name             TEXT        NOT NULL,
    has_cabin_camera BOOLEAN     NOT NULL,
    uploads_drives   BOOLEAN     NOT NULL,
    token_hash       BYTEA       NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX devices_user_id_created_at ON devices (user_id, created_at);
