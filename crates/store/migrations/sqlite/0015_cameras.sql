-- What the Cameras page shows and sets (issue 19): a camera's time zone (IANA name, for
-- cameras whose recordings carry no GPS time), when its agent was last heard from, and
-- whether a share link lets its holder download the clip.

ALTER TABLE devices ADD COLUMN timezone TEXT;
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
ALTER TABLE shares ADD COLUMN allow_download INTEGER NOT NULL DEFAULT 0
    CHECK (allow_download IN (0, 1));
