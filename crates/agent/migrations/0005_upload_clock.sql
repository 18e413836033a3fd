-- Which clock an upload's times are on: 'gps' (the camera's clock corrected by the
-- offset its GPS time gave for the drive, so true UTC) or 'camera' (the camera's clock as
-- it named the file; the server reads it in the device's time zone when one is set).
ALTER TABLE uploads ADD COLUMN clock TEXT NOT NULL DEFAULT 'camera'
    CHECK (clock IN ('gps', 'camera'));
