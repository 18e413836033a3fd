-- Share links to single clips (see crates/store/src/repo/shares.rs). Only the SHA-256 of a
-- link's token is kept. No foreign key to clips: a share outlives its clip's deletion, so
-- that the link answers "gone" rather than "never existed".

CREATE TABLE shares (
    id               UUID        NOT NULL PRIMARY KEY,
    user_id          UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clip_id          UUID        NOT NULL,
    token_hash       BYTEA       NOT NULL UNIQUE,
    include_location BOOLEAN     NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ
);
CREATE INDEX shares_clip ON shares (user_id, clip_id, created_at);
