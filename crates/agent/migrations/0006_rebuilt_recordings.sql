-- Road recordings the camera left without an index (its power cut), rebuilt at import:
-- the length of the camera's file, whose bytes end the rebuilt one. Such a recording goes
-- up whole as evidence, and its upload says so (the server keeps those last bytes as the
-- upload's original).
ALTER TABLE recordings ADD COLUMN original_size INTEGER CHECK (original_size IS NULL OR original_size >= 0);
ALTER TABLE uploads ADD COLUMN original_size INTEGER CHECK (original_size IS NULL OR original_size >= 0);
