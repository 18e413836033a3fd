-- What became of an upload, kept with its row until it expires: the SHA-256 of the
-- stored file and the item it was filed as, or why it was refused.
ALTER TABLE uploads ADD COLUMN sha256 TEXT;
ALTER TABLE uploads ADD COLUMN item_kind TEXT CHECK (item_kind IN ('recording', 'clip', 'sidecar'));
ALTER TABLE uploads ADD COLUMN item_id UUID;
ALTER TABLE uploads ADD COLUMN failure TEXT;
CREATE INDEX uploads_multipart_id ON uploads (multipart_id);
