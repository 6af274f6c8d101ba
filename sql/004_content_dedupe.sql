-- 004_content_dedupe.sql - the same mail seen twice is recognised by its
-- bytes, or by its sender, Message-ID and content (the bytes after its
-- header, which servers on the way do not change); a different mail that
-- reuses a Message-ID is another mail.  The unique index makes it a fact
-- of the database: two deliveries of one mail at the same moment store one.
-- Rows stored before keep content_sha NULL and the older rule (sender and
-- Message-ID alone).
ALTER TABLE inbound ADD COLUMN content_sha text;
CREATE UNIQUE INDEX inbound_sender_content_key ON inbound (from_addr, message_id, content_sha)
	WHERE message_id IS NOT NULL AND content_sha IS NOT NULL;
