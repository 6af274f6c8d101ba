-- 001_init.sql - the schema for the whole product.
--
-- Conventions: bigint identity keys; timestamptz everywhere; e-mail addresses
-- stored lower-cased (compare with = on the stored value); every state that
-- input can set is constrained by CHECK so a bug cannot store nonsense.

CREATE TABLE staff (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email       text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
	name        text NOT NULL,
	role        text NOT NULL CHECK (role IN ('account-manager', 'project-manager',
	                                          'senior-engineer', 'junior-engineer')),
	line        smallint NOT NULL DEFAULT 1 CHECK (line BETWEEN 1 AND 3),
	is_manager  boolean NOT NULL DEFAULT false,  -- receives the breach digest
	active      boolean NOT NULL DEFAULT true,
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_email_key ON staff (email);

CREATE TABLE client (
	id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name                text NOT NULL CHECK (name <> ''),
	plan                text NOT NULL,
	account_manager_id  bigint REFERENCES staff (id),
	active              boolean NOT NULL DEFAULT true,
	created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX client_name_key ON client (lower(name));

-- A named, authorised person at a client.  Removing a contact keeps the row
-- (tickets refer to it) and sets removed_at; an address is a contact of at
-- most one client at a time, so a new mail has exactly one client.
CREATE TABLE contact (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id   bigint NOT NULL REFERENCES client (id),
	email       text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
	name        text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	removed_at  timestamptz
);
CREATE UNIQUE INDEX contact_email_active_key ON contact (email) WHERE removed_at IS NULL;
CREATE INDEX contact_client_idx ON contact (client_id);

-- Every raw mail that reached us, once (sha256 of the bytes), with what
-- became of it.  The bytes are kept so nothing is ever lost.
CREATE TABLE inbound (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sha256       text NOT NULL,
	message_id   text,
	from_addr    text,
	source       text NOT NULL CHECK (source IN ('imap', 'pipe')),
	mailbox_id   bigint,
	uidvalidity  bigint,
	uid          bigint,
	size         integer NOT NULL,
	raw          bytea NOT NULL,
	truncated    boolean NOT NULL DEFAULT false,
	automatic    boolean NOT NULL DEFAULT false,
	outcome      text NOT NULL CHECK (outcome IN ('ticket', 'reply', 'quarantine')),
	received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inbound_sha256_key ON inbound (sha256);
CREATE INDEX inbound_message_id_idx ON inbound (message_id) WHERE message_id IS NOT NULL;

CREATE TABLE ticket (
	id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id           bigint NOT NULL REFERENCES client (id),
	contact_id          bigint REFERENCES contact (id),
	subject             text NOT NULL,
	status              text NOT NULL DEFAULT 'open' CHECK (status IN (
		'open', 'pending-evaluation', 'evaluated', 'scheduled', 'testing', 'qa',
		'released', 'monitoring', 'closed', 'awaiting-client', 'awaiting-third-party',
		'awaiting-delivery', 'awaiting-authorisation', 'awaiting-file-restore',
		'awaiting-parts', 'awaiting-quote', 'awaiting-rebuild')),
	severity            text CHECK (severity IN ('severe', 'high', 'medium', 'low', 'enhancement')),
	category            text CHECK (category IN ('advice', 'error', 'change', 'project', 'consultancy')),
	line                smallint NOT NULL DEFAULT 1 CHECK (line BETWEEN 1 AND 3),
	assignee_id         bigint REFERENCES staff (id),
	chargeable          boolean NOT NULL DEFAULT false,
	reopened_from       bigint REFERENCES ticket (id),
	created_at          timestamptz NOT NULL DEFAULT now(),
	updated_at          timestamptz NOT NULL DEFAULT now(),
	line_since          timestamptz NOT NULL DEFAULT now(),
	first_response_at   timestamptz,
	first_response_due  timestamptz,
	resolution_due      timestamptz,
	last_client_at      timestamptz,
	last_staff_at       timestamptz,
	closed_at           timestamptz
);
CREATE INDEX ticket_client_idx ON ticket (client_id);
CREATE INDEX ticket_open_idx ON ticket (status) WHERE status <> 'closed';

-- One message of a ticket's conversation, in or out.  body is the clean
-- text (quoted history removed); body_full keeps the whole text.
CREATE TABLE message (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticket_id    bigint NOT NULL REFERENCES ticket (id),
	inbound_id   bigint REFERENCES inbound (id),
	direction    text NOT NULL CHECK (direction IN ('in', 'out')),
	internal     boolean NOT NULL DEFAULT false,
	author_kind  text NOT NULL CHECK (author_kind IN ('contact', 'staff', 'system')),
	contact_id   bigint REFERENCES contact (id),
	staff_id     bigint REFERENCES staff (id),
	from_addr    text,
	from_name    text,
	to_addrs     text[] NOT NULL DEFAULT '{}',
	cc_addrs     text[] NOT NULL DEFAULT '{}',
	subject      text NOT NULL DEFAULT '',
	message_id   text,
	in_reply_to  text,
	refs         text[] NOT NULL DEFAULT '{}',
	body         text NOT NULL DEFAULT '',
	body_full    text NOT NULL DEFAULT '',
	body_html    text,
	automatic    boolean NOT NULL DEFAULT false,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_ticket_idx ON message (ticket_id, id);
CREATE INDEX message_message_id_idx ON message (message_id) WHERE message_id IS NOT NULL;

-- Attachment bytes, stored once per content.
CREATE TABLE blob (
	sha256      text PRIMARY KEY,
	size        bigint NOT NULL,
	data        bytea NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attachment (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id    bigint NOT NULL REFERENCES message (id),
	blob_sha256   text REFERENCES blob (sha256),
	filename      text NOT NULL,
	content_type  text NOT NULL,
	content_id    text,
	is_inline     boolean NOT NULL DEFAULT false,
	size          bigint NOT NULL,
	refused       text,  -- why it was not stored (over a cap); NULL when stored
	CHECK ((blob_sha256 IS NULL) = (refused IS NOT NULL))
);
CREATE INDEX attachment_message_idx ON attachment (message_id);

-- Mail from senders we could not authorise, or that we could not read.
CREATE TABLE quarantine (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	inbound_id   bigint NOT NULL REFERENCES inbound (id),
	from_addr    text,
	from_name    text,
	subject      text NOT NULL DEFAULT '',
	reason       text NOT NULL CHECK (reason <> ''),
	automatic    boolean NOT NULL DEFAULT false,
	status       text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'accepted', 'dropped')),
	decided_by   bigint REFERENCES staff (id),
	decided_at   timestamptz,
	received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_held_idx ON quarantine (received_at) WHERE status = 'held';

-- Audit trail: who did what, before and after, when.
CREATE TABLE event (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticket_id   bigint REFERENCES ticket (id),
	kind        text NOT NULL,
	actor       text NOT NULL,  -- an address, or 'deskmail' / 'operator'
	staff_id    bigint REFERENCES staff (id),
	field       text,
	before      text,
	after       text,
	detail      text,
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_ticket_idx ON event (ticket_id, id);

-- Outgoing mail, rendered and composed when queued (so a retry sends the
-- same bytes and the same Message-ID).  event_key makes "one mail per event"
-- a database fact: queueing the same event twice is a no-op.
CREATE TABLE outbox (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_key        text NOT NULL,
	kind             text NOT NULL,
	ticket_id        bigint REFERENCES ticket (id),
	mail_from        text NOT NULL,
	rcpt             text NOT NULL CHECK (rcpt = lower(rcpt)),
	automatic        boolean NOT NULL DEFAULT false,  -- an automatic reply (rate-limited)
	subject          text NOT NULL DEFAULT '',
	message_id       text NOT NULL,
	raw              bytea NOT NULL,
	status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
	attempts         integer NOT NULL DEFAULT 0,
	next_attempt_at  timestamptz NOT NULL DEFAULT now(),
	locked_until     timestamptz,
	last_error       text,
	created_at       timestamptz NOT NULL DEFAULT now(),
	sent_at          timestamptz
);
CREATE UNIQUE INDEX outbox_event_key ON outbox (event_key);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_auto_rcpt_idx ON outbox (rcpt, created_at) WHERE automatic;

-- IMAP state: one row per mailbox URL; last_uid advances in the same
-- transaction as a message's effects.
CREATE TABLE mailbox (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url          text NOT NULL UNIQUE,
	uidvalidity  bigint NOT NULL DEFAULT 0,
	last_uid     bigint NOT NULL DEFAULT 0,
	updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Messages whose effects are committed; marked turns true once the flag/move
-- on the server is done, so a crash between the two is repaired next poll.
CREATE TABLE mailbox_seen (
	mailbox_id   bigint NOT NULL REFERENCES mailbox (id),
	uidvalidity  bigint NOT NULL,
	uid          bigint NOT NULL,
	inbound_id   bigint REFERENCES inbound (id),
	marked       boolean NOT NULL DEFAULT false,
	PRIMARY KEY (mailbox_id, uidvalidity, uid)
);
CREATE INDEX mailbox_seen_unmarked_idx ON mailbox_seen (mailbox_id, uidvalidity) WHERE NOT marked;
