-- 007_quarantine_work.sql - the quarantine as staff work it.
-- A mail that could not be stored even raw is "set aside": a row without
-- an inbound record, naming where it lies on the IMAP server (mailbox,
-- UIDVALIDITY, UID), so that `quarantine retry` can fetch it again.
-- Every decision (accept, drop, retry) says who made it and what came of
-- it.
ALTER TABLE quarantine ALTER COLUMN inbound_id DROP NOT NULL;
ALTER TABLE quarantine
	ADD COLUMN mailbox_id bigint REFERENCES mailbox (id),
	ADD COLUMN uidvalidity bigint,
	ADD COLUMN uid bigint,
	ADD COLUMN decided_by_name text,
	ADD COLUMN decision text;
ALTER TABLE quarantine DROP CONSTRAINT quarantine_status_check;
ALTER TABLE quarantine ADD CONSTRAINT quarantine_status_check
	CHECK (status IN ('held', 'accepted', 'dropped', 'set-aside', 'retried'));
ALTER TABLE quarantine ADD CONSTRAINT quarantine_where_check
	CHECK (inbound_id IS NOT NULL OR uid IS NOT NULL);
CREATE INDEX quarantine_inbound_idx ON quarantine (inbound_id);
