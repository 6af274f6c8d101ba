-- 011_outbox_ops_purge.sql - what the operator commands need: `outbox
-- drop` (a row taken out of the queue is kept, marked dropped, with an
-- audit event, as the quarantine keeps a dropped mail), `stats` (when
-- mail was deferred or failed: one row per setback, so the counts of the
-- last hour and day and the totals never go down, as Prometheus counters
-- must not) and `purge` (which tickets and quarantined mails have had
-- their contents removed, so that a second run finds nothing to do).

ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
	CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'bounced', 'dropped'));

-- A deferral (4xx reply, or the server unreachable) or a final failure of
-- one outbox row.  Sent mail has outbox.sent_at: the send path writes no
-- row here for a mail that goes out.
CREATE TABLE outbox_setback (
	outbox_id  bigint NOT NULL REFERENCES outbox (id),
	outcome    text NOT NULL CHECK (outcome IN ('deferred', 'failed')),
	at         timestamptz NOT NULL DEFAULT dm_now()
);
CREATE INDEX outbox_setback_at_idx ON outbox_setback (at);

-- Contents removed by `deskmail purge`: the bodies, attachments and raw
-- mail of a closed ticket; the raw bytes of a quarantined mail.  The rows,
-- their metadata and the events stay.
ALTER TABLE ticket ADD COLUMN purged_at timestamptz;
ALTER TABLE inbound ADD COLUMN purged_at timestamptz;
CREATE INDEX ticket_purge_idx ON ticket (closed_at) WHERE status = 'closed' AND purged_at IS NULL;
CREATE INDEX inbound_purge_idx ON inbound (received_at)
	WHERE outcome = 'quarantine' AND purged_at IS NULL;

-- `outbox list --failed` and `outbox retry --all-failed` find the failed
-- rows without reading the whole outbox (pending and sending rows have
-- outbox_due_idx).
CREATE INDEX outbox_failed_idx ON outbox (id) WHERE status = 'failed';
