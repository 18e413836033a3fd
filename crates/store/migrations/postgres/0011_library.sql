-- The library: archived drives, tombstones of deleted items (synced by agents), and the
-- indexes the listings use. Listings are newest first with (start_at, id) as the keyset.

ALTER TABLE drives ADD COLUMN archived BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE drives ADD COLUMN restored_until TIMESTAMPTZ;
DROP INDEX drives_user_id_start_at;
CREATE INDEX drives_user_id_start_at_id ON drives (user_id, start_at, id);

-- Bit set of the clip's incident types (see crates/store/src/model/library.rs), so a
-- type filter is a test on the row the listing index already leads to.
ALTER TABLE clips ADD COLUMN incident_mask BIGINT NOT NULL DEFAULT 0;
UPDATE clips SET incident_mask = (
    SELECT COALESCE(SUM(DISTINCT CASE j.value ->> 'type'
        WHEN 'hard_brake' THEN 1 WHEN 'sudden_stop' THEN 2 WHEN 'hard_accel' THEN 4
        WHEN 'sharp_turn' THEN 8 WHEN 'swerve' THEN 16 WHEN 'collision' THEN 32
        ELSE 0 END), 0)
    FROM jsonb_array_elements(clips.incidents::jsonb) j);
DROP INDEX clips_user_id_start_at;
CREATE INDEX clips_user_id_start_at_id ON clips (user_id, start_at, id);
CREATE INDEX clips_user_id_device_id_start_at_id ON clips (user_id, device_id, start_at, id);
CREATE INDEX recordings_blob_key ON recordings (blob_key);
CREATE INDEX clips_blob_key ON clips (blob_key);
CREATE INDEX sidecars_blob_key ON sidecars (blob_key);

-- What was deleted, oldest first by seq, so an agent can sync deletions after a seq.
CREATE TABLE tombstones (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    UUID    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('clip', 'drive', 'recording')),
    object_id  UUID    NOT NULL,
    sha256     TEXT    NOT NULL, -- JSON array of the deleted files' hex SHA-256
    deleted_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, kind, object_id)
);
CREATE INDEX tombstones_user_id_seq ON tombstones (user_id, seq);
