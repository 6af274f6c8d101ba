-- 003_lz4.sql - the large values (raw mail in and out, message texts,
-- attachment bytes) are compressed with lz4 rather than pglz: several times
-- cheaper to write and read, for a little less saving of space.  Values
-- already stored keep their compression; new ones use lz4.
ALTER TABLE inbound ALTER COLUMN raw SET COMPRESSION lz4;
ALTER TABLE outbox ALTER COLUMN raw SET COMPRESSION lz4;
ALTER TABLE message ALTER COLUMN body SET COMPRESSION lz4,
	ALTER COLUMN body_full SET COMPRESSION lz4,
	ALTER COLUMN body_html SET COMPRESSION lz4;
ALTER TABLE blob ALTER COLUMN data SET COMPRESSION lz4;
