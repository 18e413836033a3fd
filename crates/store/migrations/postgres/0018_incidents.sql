-- Every incident a clip was filed with, by device and time, kept when the clip is deleted:
-- a ride keeps the marks of what happened on it even after its clips are gone (issue 19).
-- The same incident in two overlapping clips is one row.

CREATE TABLE incidents (
    user_id   UUID             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id UUID             NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    at        TIMESTAMPTZ      NOT NULL,
    type      TEXT             NOT NULL,
    severity  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_id, device_id, at, type)
);

INSERT INTO incidents (user_id, device_id, at, type, severity)
SELECT c.user_id, c.device_id, date_trunc('milliseconds', (j.value ->> 'at')::timestamptz),
       j.value ->> 'type', COALESCE((j.value ->> 'severity')::double precision, 0.0)
FROM clips c, jsonb_array_elements(c.incidents::jsonb) j
ON CONFLICT DO NOTHING;
