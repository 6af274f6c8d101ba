-- 010_sla.sql - service levels: the clock of the desk, the due times of a
-- ticket's clocks, the notices sent about them once, time worked, digests.

-- The desk's "now".  Every statement uses dm_now() instead of now(): it is
-- now() unless the session set deskmail.now (deskmail does, from
-- DESKMAIL_NOW, so tests and operators can step through days).  Inlined by
-- the planner, STABLE like now().
CREATE FUNCTION dm_now() RETURNS timestamptz
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT COALESCE(NULLIF(current_setting('deskmail.now', true), '')::timestamptz, now()) $$;

ALTER TABLE staff ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE client ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE contact ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE inbound ALTER COLUMN received_at SET DEFAULT dm_now();
ALTER TABLE ticket ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE ticket ALTER COLUMN updated_at SET DEFAULT dm_now();
ALTER TABLE ticket ALTER COLUMN line_since SET DEFAULT dm_now();
ALTER TABLE message ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE blob ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE quarantine ALTER COLUMN received_at SET DEFAULT dm_now();
ALTER TABLE event ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE outbox ALTER COLUMN next_attempt_at SET DEFAULT dm_now();
ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT dm_now();
ALTER TABLE mailbox ALTER COLUMN updated_at SET DEFAULT dm_now();

-- A client may work in its own calendar (a calendars member of the
-- configuration); NULL = its plan's, else the desk's.
ALTER TABLE client ADD COLUMN calendar text CHECK (calendar <> '');

-- The clocks' due times (first_response_due and resolution_due exist):
-- NULL when the clock has no target, is paused or stopped.  sla_next_at is
-- the next instant the escalation pass has something to do for the ticket
-- (an at-risk share reached, a due time, a notice waiting for working
-- hours); the pass reads only tickets whose sla_next_at has come.
ALTER TABLE ticket ADD COLUMN line_due timestamptz;
ALTER TABLE ticket ADD COLUMN follow_up_due timestamptz;
ALTER TABLE ticket ADD COLUMN sla_next_at timestamptz;
CREATE INDEX ticket_sla_next_idx ON ticket (sla_next_at) WHERE sla_next_at IS NOT NULL;
-- (No index on the nearest due time: one on LEAST(the four due times)
-- cost the ingest a third of its rate in tests/bench/poll_bench.sh, and
-- `ticket list --due` sorts the open tickets, which ticket_open_idx finds.)

-- A notice about a clock, once per ticket, clock, kind and due time,
-- however often and however many passes run: the escalation pass inserts
-- here first and queues mail only when the row is new.  Also the history
-- the digest reads (breaches per plan and week).
CREATE TABLE sla_notice (
	ticket_id   bigint NOT NULL REFERENCES ticket (id),
	clock       text NOT NULL CHECK (clock IN ('first-response', 'resolution', 'line', 'follow-up')),
	kind        text NOT NULL CHECK (kind IN ('at-risk', 'breach', 'escalation', 'follow-up')),
	due         timestamptz NOT NULL,
	plan        text,
	created_at  timestamptz NOT NULL DEFAULT dm_now(),
	PRIMARY KEY (ticket_id, clock, kind, due)
);
CREATE INDEX sla_notice_created_idx ON sla_notice (created_at);

-- Where a clock ended, for the digest's share of targets met: one row per
-- ticket and clock when the clock stops (met or not).
CREATE TABLE sla_outcome (
	ticket_id   bigint NOT NULL REFERENCES ticket (id),
	clock       text NOT NULL CHECK (clock IN ('first-response', 'resolution', 'line', 'follow-up')),
	plan        text NOT NULL,
	met         boolean NOT NULL,
	due         timestamptz,
	ended_at    timestamptz NOT NULL,
	PRIMARY KEY (ticket_id, clock, ended_at)
);
CREATE INDEX sla_outcome_ended_idx ON sla_outcome (ended_at);

-- Work recorded by staff (#time 1h30m) against the client's allowance.
CREATE TABLE time_entry (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticket_id   bigint NOT NULL REFERENCES ticket (id),
	client_id   bigint NOT NULL REFERENCES client (id),
	staff_id    bigint REFERENCES staff (id),
	minutes     integer NOT NULL CHECK (minutes > 0 AND minutes <= 100000),
	created_at  timestamptz NOT NULL DEFAULT dm_now()
);
CREATE INDEX time_entry_client_idx ON time_entry (client_id, created_at);

-- Once-a-period mail: the breach digest per manager and period, the
-- allowance warnings per client, month and threshold.
CREATE TABLE periodic_notice (
	kind        text NOT NULL CHECK (kind IN ('digest', 'allowance')),
	subject_id  bigint NOT NULL,  -- staff id (digest), client id (allowance)
	period      text NOT NULL,    -- '2026-12-01' (digest day), '2026-12:80' (allowance)
	created_at  timestamptz NOT NULL DEFAULT dm_now(),
	PRIMARY KEY (kind, subject_id, period)
);

-- Small facts of the desk itself: sla_fingerprint is the hash of the
-- settings the clocks read (Config.sla_fingerprint); when a pass finds it
-- changed (targets or calendars edited, or the first pass after this
-- migration), every open ticket's clocks are derived again.
CREATE TABLE desk_state (
	key    text PRIMARY KEY,
	value  text NOT NULL
);

-- The tickets open before this migration get their clocks from the first
-- pass after it.
UPDATE ticket SET sla_next_at = dm_now() WHERE status <> 'closed';
