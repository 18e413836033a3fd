-- The camera clock's offset from UTC that a drive's GPS time gave when it was processed
-- (milliseconds to add to a camera time; NULL: none known), so that a clip made later
-- from the drive goes up at true UTC too.
ALTER TABLE drives ADD COLUMN clock_offset_ms INTEGER;
