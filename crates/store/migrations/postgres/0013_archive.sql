-- Requests to bring an archived drive back to the hot store, decided by an operator.
-- At most one request per drive waits at a time.
CREATE TABLE restores (
    id             UUID        NOT NULL PRIMARY KEY,
    user_id        UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    drive_id       UUID        NOT NULL REFERENCES drives (id) ON DELETE CASCADE,
    requested_at   TIMESTAMPTZ NOT NULL,
    state          TEXT        NOT NULL CHECK (state IN ('requested', 'approved', 'denied')),
    decided_at     TIMESTAMPTZ,
    restored_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX restores_one_waiting_per_drive ON restores (drive_id) WHERE state = 'requested';
CREATE INDEX restores_state_requested_at ON restores (state, requested_at);
