-- 009_review_fixes.sql
-- The desk-wide hourly limits count mail of one kind to anyone (stranger
-- notices, notices of unverified senders) in the last hour; without this
-- index that count reads the whole outbox.
CREATE INDEX outbox_kind_created_idx ON outbox (kind, created_at);
-- Two deliveries at once of a mail without a readable From are one mail
-- too: an absent sender is a value of the duplicate key, not "unknown".
DROP INDEX inbound_sender_content_key;
CREATE UNIQUE INDEX inbound_sender_content_key ON inbound (from_addr, message_id, content_sha)
	NULLS NOT DISTINCT WHERE message_id IS NOT NULL AND content_sha IS NOT NULL;
