-- What is where: the camera files imported to the phone, the drives they make up, and the
-- clips cut from them (owned by the import, drives and clips modules). Times are Unix
-- milliseconds (UTC), so that they sort and compare as numbers.

-- A run of recordings without a gap over two minutes. `processed` = incidents detected
-- and clips cut for every recording it has now; a recording arriving later clears it.
CREATE TABLE drives (
    id        INTEGER PRIMARY KEY,
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    -- The drive's time-lapse on the phone, once made, its size and hash.
    timelapse_path TEXT,
    timelapse_size INTEGER NOT NULL DEFAULT 0,
    timelapse_sha256 TEXT
) STRICT;

CREATE INDEX drives_start ON drives (start_ms);

-- One road-view camera file copied to the phone. `phone_path` is NULL once the loop
-- deleted the phone's copy (the row stays, so the file is not imported again).
CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY,
    camera_path TEXT    NOT NULL UNIQUE,
    drive_id    INTEGER NOT NULL REFERENCES drives (id),
    start_ms    INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    -- The camera marked it (impact, button, locked folder).
    camera_event INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    phone_path  TEXT,
    imported_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX recordings_drive ON recordings (drive_id, start_ms);

-- One telemetry sidecar (BlackVue .gps / .3gf) copied to the phone, same rules.
CREATE TABLE sidecars (
    id          INTEGER PRIMARY KEY,
    camera_path TEXT    NOT NULL UNIQUE,
    drive_id    INTEGER REFERENCES drives (id),
    start_ms    INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    phone_path  TEXT
) STRICT;

CREATE INDEX sidecars_start ON sidecars (start_ms);

-- A clip on the phone. `path` is NULL once it was deleted from the phone (only after it
-- reached the cloud, or by the user).
CREATE TABLE clips (
    id        TEXT    NOT NULL PRIMARY KEY,
    drive_id  INTEGER REFERENCES drives (id),
    -- auto | manual
    kind      TEXT    NOT NULL,
    -- road | cabin
    view      TEXT    NOT NULL,
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    -- JSON [{"type", "at", "severity"}]
    incidents TEXT    NOT NULL,
    size      INTEGER NOT NULL,
    sha256    TEXT    NOT NULL,
    path      TEXT,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX clips_drive ON clips (drive_id, start_ms);
