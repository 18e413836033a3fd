-- Evidence (#20): the ledger of stored files and the activity of clips.
--
-- The ledger is append-only and hash-chained: each entry's `hash` is the SHA-256 of its
-- fields and of the previous entry's hash (see crates/store/src/model/evidence.rs), so
-- that a changed, removed or inserted entry breaks the chain. `seq` counts from 1 with
-- no gap; an object is filed once and deleted once.
CREATE TABLE ledger (
    seq        INTEGER NOT NULL PRIMARY KEY,
    action     TEXT    NOT NULL CHECK (action IN ('store', 'delete')),
    kind       TEXT    NOT NULL CHECK (kind IN ('recording', 'timelapse', 'clip', 'sidecar')),
    object_id  BLOB    NOT NULL CHECK (length(object_id) = 16),
    user_id    BLOB    NOT NULL CHECK (length(user_id) = 16),
    sha256     TEXT    NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    blob_key   TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    UNIQUE (object_id, action)
) STRICT;
CREATE INDEX ledger_user_id_blob_key ON ledger (user_id, blob_key);

-- What was done with a clip: plays, downloads, evidence exports, share links made,
-- opened and revoked. Deleted with the clip. An anonymous viewer's address is kept only
-- as its /24 (IPv4) or /48 (IPv6) network.
CREATE TABLE clip_activity (
    id        BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id   BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clip_id   BLOB    NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('play', 'download', 'evidence_export',
                                                 'share_create', 'share_open', 'share_revoke')),
    via       TEXT    NOT NULL CHECK (via IN ('session', 'device', 'share')),
    ip_prefix TEXT
) STRICT;
CREATE INDEX clip_activity_clip_id_id ON clip_activity (clip_id, id);
