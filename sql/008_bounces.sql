-- 008_bounces.sql - a delivery status notification for mail we sent is
-- matched to its outbox row by the Message-ID in the returned headers; the
-- row is marked bounced with the diagnostic.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
	CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'bounced'));
CREATE INDEX outbox_message_id_idx ON outbox (message_id);
