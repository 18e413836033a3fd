-- How a stored video's times are known, and what it is made of (issue 18):
-- clock    which clock its start was read from: 'gps' (the camera's clock corrected by its
--          GPS time), 'device' (the camera's local time in the device's time zone) or
--          'camera' (the camera's clock taken as UTC);
-- span_ms  wall-clock milliseconds it covers when that is not its playing time (a
--          time-lapse: its speed times its duration); NULL for real time;
-- original_size  a recording rebuilt at ingest from an upload without an index: the
--          length of the file as uploaded, whose bytes end the stored file unchanged.
ALTER TABLE recordings ADD COLUMN clock TEXT NOT NULL DEFAULT 'camera'
    CHECK (clock IN ('gps', 'device', 'camera'));
ALTER TABLE recordings ADD COLUMN span_ms BIGINT CHECK (span_ms IS NULL OR span_ms >= 0);
ALTER TABLE recordings ADD COLUMN original_size BIGINT
    CHECK (original_size IS NULL OR original_size >= 0);
ALTER TABLE clips ADD COLUMN clock TEXT NOT NULL DEFAULT 'camera'
    CHECK (clock IN ('gps', 'device', 'camera'));
ALTER TABLE clips ADD COLUMN span_ms BIGINT CHECK (span_ms IS NULL OR span_ms >= 0);
ALTER TABLE clips ADD COLUMN original_size BIGINT
    CHECK (original_size IS NULL OR original_size >= 0);
