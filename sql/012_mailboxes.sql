-- 012_mailboxes.sql - several mailboxes in one desk.
--
-- A mailbox's state is per account and folder: two accounts on one server
-- may share a URL (imap://host/INBOX), so the row is keyed by URL and user
-- name.  Rows from before have no user name (''); the first poll with the
-- URL adopts such a row (store_mailbox_open), so its checkpoint is kept.
ALTER TABLE mailbox ADD COLUMN username text NOT NULL DEFAULT '';
ALTER TABLE mailbox DROP CONSTRAINT mailbox_url_key;
ALTER TABLE mailbox ADD CONSTRAINT mailbox_url_username_key UNIQUE (url, username);

-- The mailbox (its configured name) a ticket came in through: later mail
-- about the ticket (relays, notices, escalation mail) goes out with that
-- mailbox's brand, its address and templates.  NULL: the desk's own (a
-- ticket from before, or from the MTA pipe); a name no longer configured
-- falls back to the desk's own too.
ALTER TABLE ticket ADD COLUMN mailbox text;
