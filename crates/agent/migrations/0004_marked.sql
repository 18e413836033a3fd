-- Files the camera itself marked (BlackVue E and M recordings, Novatek's locked RO
-- files): each becomes one clip of the whole file when its drive is processed. A road
-- file is also a recording (its bytes are there); a cabin file waits in phone_path.
CREATE TABLE marked_files (
    camera_path TEXT    NOT NULL PRIMARY KEY,
    view        TEXT    NOT NULL CHECK (view IN ('road', 'cabin')),
    mark        TEXT    NOT NULL CHECK (mark IN ('event', 'manual')),
    start_ms    INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    phone_path  TEXT,
    size        INTEGER NOT NULL DEFAULT 0,
    clip_id     TEXT
) STRICT;
CREATE INDEX marked_files_start_ms ON marked_files (start_ms);
