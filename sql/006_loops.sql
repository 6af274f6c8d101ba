-- 006_loops.sql - what loop detection looks up for each incoming mail:
-- the same words again from one sender (inbound.repeat_key, the hash of
-- subject and text), the ticket an earlier mail went to, and the mail we
-- sent about one ticket in the last hour.
ALTER TABLE inbound ADD COLUMN repeat_key text;
CREATE INDEX inbound_repeat_idx ON inbound (from_addr, repeat_key, received_at)
	WHERE repeat_key IS NOT NULL;
CREATE INDEX message_inbound_idx ON message (inbound_id) WHERE inbound_id IS NOT NULL;
CREATE INDEX outbox_ticket_idx ON outbox (ticket_id, created_at) WHERE ticket_id IS NOT NULL;
