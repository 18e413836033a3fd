-- Requests to bring an archived drive back to the hot store, decided by an operator.
-- At most one request per drive waits at a time.
CREATE TABLE restores (
    id             BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id        BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    drive_id       BLOB    NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    requested_at   INTEGER NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('requested', 'approved', 'denied')),
    decided_at     INTEGER,
    restored_until INTEGER
) STRICT;
CREATE UNIQUE INDEX restores_one_waiting_per_drive ON restores (drive_id) WHERE state = 'requested';
CREATE INDEX restores_state_requested_at ON restores (state, requested_at);
