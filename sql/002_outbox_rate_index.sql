-- 002_outbox_rate_index.sql - the hourly limits on automatic replies count
-- a recipient's rows of one kind (acknowledgements, notices, refusals), and
-- only up to the limit: index them by recipient and kind, so the count of
-- one kind never walks through the rows of another (a contact opening many
-- tickets has many acknowledgements and few notices).
CREATE INDEX outbox_auto_rcpt_kind_idx ON outbox (rcpt, kind, created_at) WHERE automatic;
DROP INDEX outbox_auto_rcpt_idx;
