-- What a camera's agent last reported of itself (issue 19): how many uploads wait on its
-- phone, shown on the Cameras page. NULL: its agent never reported.

ALTER TABLE devices ADD COLUMN uploads_waiting BIGINT CHECK (uploads_waiting >= 0);
