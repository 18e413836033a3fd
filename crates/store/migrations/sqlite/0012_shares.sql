-- Share links to single clips (see crates/store/src/repo/shares.rs). Only the SHA-256 of a
-- link's token is kept. No foreign key to clips: a share outlives its clip's deletion, so
-- that the link answers "gone" rather than "never existed".
-- Times are INTEGER milliseconds since the Unix epoch, like every SQLite table here.

CREATE TABLE shares (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id          BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clip_id          BLOB    NOT NULL CHECK (length(clip_id) = 16),
    token_hash       BLOB    NOT NULL UNIQUE,
    include_location INTEGER NOT NULL CHECK (include_location IN (0, 1)),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER,
    revoked_at       INTEGER
) STRICT;
CREATE INDEX shares_clip ON shares (user_id, clip_id, created_at);
