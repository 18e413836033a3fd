-- Every incident a clip was filed with, by device and time, kept when the clip is deleted:
-- a ride keeps the marks of what happened on it even after its clips are gone (issue 19).
-- The same incident in two overlapping clips is one row.

CREATE TABLE incidents (
    user_id   BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id BLOB    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    severity  REAL    NOT NULL,
    PRIMARY KEY (user_id, device_id, at, type)
) STRICT;

INSERT OR IGNORE INTO incidents (user_id, device_id, at, type, severity)
SELECT c.user_id, c.device_id,
       CAST(ROUND((julianday(json_extract(j.value, '$.at')) - 2440587.5) * 86400000) AS INTEGER),
       json_extract(j.value, '$.type'), COALESCE(json_extract(j.value, '$.severity'), 0.0)
FROM clips c, json_each(c.incidents) j;
