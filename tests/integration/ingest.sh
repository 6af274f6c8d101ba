#!/bin/bash
# ingest.sh - `deskmail ingest` (pipe mode) on real PostgreSQL and SMTP:
# routing, authorisation, quarantine notices, automatic mail, duplicates,
# and EX_TEMPFAIL with the database down.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W"

# 1. a named contact opens a ticket and gets one acknowledgement
dm_mail "$W/m1" 'Alice Archer <ALICE@acme.example>' 'Checkout is broken' 'Customers cannot pay since this morning.'
out=$(dm ingest "$W/m1"); rc=$?
assert_eq 0 "$rc" "ingest of a contact's mail exits 0"
assert_eq "new ticket #1" "$out" "contact's mail opens ticket #1 (address compared case-insensitively)"
assert_eq "open" "$(dm_ticket_json 1 .status)" "new ticket is open"
assert_eq "1" "$(dm_ticket_json 1 .line)" "new ticket is on line 1"
assert_eq "Acme Ltd" "$(dm_ticket_json 1 .client)" "ticket belongs to the contact's client"
assert_eq "alice@acme.example" "$(dm_ticket_json 1 .contact)" "ticket names the contact"
assert_eq "Checkout is broken" "$(dm_ticket_json 1 .subject)" "subject stored"
assert_eq "1" "$(dm_psql -c "select count(*) from outbox where kind='ack' and ticket_id=1")" "one acknowledgement queued"
out=$(dm send)
assert_eq "sent 1, deferred 0, failed 0" "$out" "send delivers the acknowledgement"
ack=$(grep -l 'Checkout is broken' "$DM_SMTP_OUT"/*.eml | head -n1)
assert_true "acknowledgement reached the SMTP server" test -n "$ack"
assert_contains "$(cat "$ack")" "[#1]" "acknowledgement subject carries [#1]"
assert_contains "$(cat "$ack")" "In-Reply-To: <$(dm_msgid "$W/m1")>" "acknowledgement threads to the client's mail"
assert_contains "$(cat "$ack")" "Auto-Submitted: auto-replied" "acknowledgement is marked auto-replied"
assert_contains "$(head -n1 "${ack%.eml}.env")" "support@agency.example" "envelope sender is the desk"
assert_contains "$(cat "${ack%.eml}.env")" "alice@acme.example" "acknowledgement goes to the contact"
assert_true "acknowledgement has CRLF line ends only" bash -c "! grep -qP '(?<!\r)\n' '$ack'"

# 2. reply by token joins the ticket
dm_mail "$W/m2" 'bob@acme.example' 'Re: [#1] Checkout is broken' 'Still broken for us too.'
assert_eq "reply #1" "$(dm ingest "$W/m2")" "reply with [#1] from a colleague at the same client joins ticket 1"
# 3. reply by In-Reply-To (no token) joins the ticket
dm_mail "$W/m3" 'alice@acme.example' 'Re: Checkout is broken' 'Any news?' "In-Reply-To: <$(dm_msgid "$W/m1")>"
assert_eq "reply #1" "$(dm ingest "$W/m3")" "reply by In-Reply-To joins ticket 1"
# ... and by References to our own acknowledgement
ackid=$(dm_psql -c "select message_id from outbox where ticket_id=1 and kind='ack'")
dm_mail "$W/m3b" 'alice@acme.example' 'Re: your ticket' 'Thanks' "References: <unknown@x.example> <$ackid>"
assert_eq "reply #1" "$(dm ingest "$W/m3b")" "reply by References to our acknowledgement joins ticket 1"
assert_eq "5" "$(dm_ticket_json 1 '.messages | length')" "ticket 1 has 3 client mails + 1 reply by ref + the ack"
assert_eq "0" "$(dm_psql -c "select count(*) from outbox where ticket_id=1 and kind='ack' and id > 1")" "replies are not acknowledged again"

# 4. a contact of another client cannot join ticket 1
dm_mail "$W/m4" 'carol@globex.example' 'Re: [#1] Checkout is broken' 'Me too?'
assert_eq "quarantined" "$(dm ingest "$W/m4")" "another client's contact does not join ticket 1"
assert_eq "5" "$(dm_ticket_json 1 '.messages | length')" "ticket 1 unchanged"
assert_contains "$(dm quarantine list --json | jq -r '.[-1].reason')" "another client" "reason says why"

# 5. a stranger goes to quarantine and gets exactly one notice
dm_mail "$W/m5" 'Eve Stranger <eve@stranger.example>' 'Please help' 'Who do I talk to?'
assert_eq "quarantined" "$(dm ingest "$W/m5")" "stranger is quarantined"
q=$(dm quarantine list --json | jq -c '[.[] | select(.from == "eve@stranger.example")]')
assert_eq "1" "$(jq length <<<"$q")" "one quarantine row for the stranger"
assert_eq "Please help" "$(jq -r '.[0].subject' <<<"$q")" "quarantine keeps the subject"
assert_contains "$(jq -r '.[0].reason' <<<"$q")" "not a named contact" "quarantine keeps the reason"
assert_true "quarantine JSON has received_at and id" jq -e '.[0].received_at and .[0].id' <<<"$q"
before=$(dm_smtp_count)
dm send >/dev/null
assert_eq "$((before + 2))" "$(dm_smtp_count)" "notices to carol and eve were sent"
assert_eq "1" "$(grep -l 'eve@stranger.example' "$DM_SMTP_OUT"/*.env | wc -l)" "the stranger got exactly one notice"
notice_text() { # RCPT: the text part of the quarantine notice to RCPT, unfolded
	dm_psql -c "select convert_from(raw, 'UTF8') from outbox where kind = 'quarantine-notice' and rcpt = '$1'" |
		"$DM_PYTHON" -c 'import sys, email, email.policy; m = email.message_from_string(sys.stdin.read(), policy=email.policy.default); print(" ".join(m.get_body(("plain",)).get_content().split()))'
}
assert_contains "$(notice_text eve@stranger.example)" "eve@stranger.example is not one of the named contacts we hold for our clients" "the stranger's notice says why"
assert_contains "$(notice_text carol@globex.example)" "carol@globex.example is not a named contact of the organisation that ticket #1 belongs to" "another client's contact is told the ticket is not theirs"

# 6. the same mail again is recognised and does nothing
assert_eq "duplicate" "$(dm ingest "$W/m5")" "same bytes again: duplicate"
sed 's/^Date: .*/Date: Tue, 24 Nov 2026 10:00:00 +0000\r/' "$W/m1" >"$W/m1b"
assert_eq "duplicate" "$(dm ingest "$W/m1b")" "same Message-ID and sender, different bytes: duplicate"
assert_eq "1" "$(dm_psql -c 'select count(*) from ticket')" "still one ticket"
dm send >/dev/null
assert_eq "$((before + 2))" "$(dm_smtp_count)" "nothing more was sent"

# 7. automatic mail is stored but never answered
dm_mail "$W/m6" 'eve@stranger.example' 'Out of office' 'I am away.' 'Auto-Submitted: auto-replied'
assert_eq "quarantined" "$(dm ingest "$W/m6")" "auto-reply from a stranger is quarantined"
dm_mail "$W/m7" 'MAILER-DAEMON@mx.example' 'Undelivered Mail Returned to Sender' 'bounce'
assert_eq "quarantined" "$(dm ingest "$W/m7")" "bounce is quarantined"
dm_mail "$W/m8" 'alice@acme.example' 'Re: [#1] Checkout is broken' 'I am on leave' 'Precedence: bulk'
assert_eq "reply #1" "$(dm ingest "$W/m8")" "automatic reply from a contact joins its ticket"
dm_mail "$W/m9" 'alice@acme.example' 'Newsletter' 'news' 'List-Id: <news.acme.example>'
assert_eq "quarantined" "$(dm ingest "$W/m9")" "list mail from a contact does not open a ticket"
dm_mail "$W/m10" 'eve@stranger.example' 'Hello again' 'x' 'Return-Path: <>'
assert_eq "quarantined" "$(dm ingest "$W/m10")" "empty Return-Path is quarantined"
assert_eq "1" "$(dm_psql -c "select count(*) from quarantine where automatic and from_addr='mailer-daemon@mx.example'")" "bounce marked automatic"
assert_eq "true" "$(dm_ticket_json 1 '[.messages[] | select(.automatic)] | length > 0')" "automatic message on ticket marked automatic"
before=$(dm_smtp_count)
dm send >/dev/null
assert_eq "$before" "$(dm_smtp_count)" "no automatic answer to automatic mail"

# 8. a stranger writing many times gets one notice a day, and it repeats
# nothing they wrote (a forged From would make it their spam)
for i in $(seq 1 14); do
	dm_mail "$W/loop$i" "Buy Pills <loopy@stranger.example>" "Cheap pills $i at http://spam.example" "try $i"
	dm ingest "$W/loop$i" >/dev/null
done
assert_eq "1" "$(dm_psql -c "select count(*) from outbox where rcpt='loopy@stranger.example'")" "one notice a day per sender"
assert_eq "14" "$(dm_psql -c "select count(*) from quarantine where from_addr='loopy@stranger.example'")" "every mail is still kept"
dm_psql -c "select convert_from(raw, 'UTF8') from outbox where rcpt='loopy@stranger.example'" >"$W/loopy.notice"
assert_true "the notice repeats neither the subject nor the name" bash -c "! grep -qiE 'pills|spam.example' '$W/loopy.notice'"
# the desk's hourly cap of notices to anyone
DM_DESK_EXTRA="max_notices_per_hour = 3;" dm_write_conf
for i in $(seq 1 6); do
	dm_mail "$W/many$i" "many$i@stranger.example" "Hello $i" "hi"
	dm ingest "$W/many$i" >/dev/null
done
assert_eq 3 "$(dm_psql -c "select count(*) from outbox where kind = 'quarantine-notice' and created_at > now() - interval '1 hour'")" "max_notices_per_hour caps notices to anyone"
dm_write_conf

# 9. garbage is kept in quarantine with a reason, not dropped
printf '\x00\x01\x02 not a mail at all' >"$W/garbage"
out=$(dm ingest "$W/garbage"); rc=$?
assert_eq "0" "$rc" "garbage input exits 0 (kept)"
assert_eq "quarantined" "$out" "garbage goes to quarantine"
assert_contains "$(dm quarantine list --json | jq -r '.[-1].reason')" "unreadable" "garbage reason says unreadable"
: >"$W/empty"
dm ingest "$W/empty" >/dev/null 2>&1; rc=$?
assert_eq "65" "$rc" "empty input is a data error (EX_DATAERR)"

# 10. over the size cap: refused outright with exit 65 and a message, as an
# MTA refuses it (it bounces it); nothing is cut and stored
dm_write_conf
sed -i 's/poll_interval = 1;/poll_interval = 1; max_message_bytes = 2048;/' "$DM_CONF"
dm_mail "$W/big" 'alice@acme.example' 'Huge' "$(head -c 6000 /dev/zero | tr '\0' 'a')"
before=$(dm_psql -c 'select count(*) from inbound')
out=$(dm ingest "$W/big" 2>&1); rc=$?
assert_eq 65 "$rc" "an over-cap message is refused (EX_DATAERR)"
assert_contains "$out" "over the limit of 2048 bytes" "and stderr says why"
assert_eq "$before" "$(dm_psql -c 'select count(*) from inbound')" "nothing of it is stored"
dm_write_conf

# 11. stdin works like a file
dm_mail "$W/m11" 'carol@globex.example' 'Server down' 'Our server is down.'
assert_eq "new ticket #2" "$(dm ingest <"$W/m11")" "ingest reads standard input"
assert_eq "Globex" "$(dm_ticket_json 2 .client)" "ticket 2 belongs to Globex"
dm ticket list --json >"$W/list.json"
assert_true "ticket list JSON has the required fields" jq -e 'all(.[]; has("id") and has("client") and has("contact") and has("subject") and has("status") and has("severity") and has("line") and has("created_at") and (.messages|type=="number"))' "$W/list.json"
dm ticket show 1 --json >"$W/show.json"
assert_true "ticket show JSON messages have the required fields" jq -e '.messages | all(.[]; has("direction") and has("from") and has("subject") and has("body") and has("created_at") and (.attachments|type=="array"))' "$W/show.json"
dm ticket show 999 >/dev/null 2>&1; rc=$?
assert_eq "1" "$rc" "ticket show of a missing ticket exits 1"

# 12. database down: EX_TEMPFAIL so the MTA retries; nothing lost after
dm_pg_stop
dm_mail "$W/m12" 'alice@acme.example' 'While the DB was down' 'retry me'
dm ingest "$W/m12" >/dev/null 2>&1; rc=$?
assert_eq "75" "$rc" "ingest exits 75 (EX_TEMPFAIL) with the database down"
dm_pg_start
assert_eq "new ticket #3" "$(dm ingest "$W/m12")" "the retried mail is stored once the database is back"
# acknowledgements: no limit by default, desk.max_acks_per_hour when set
for i in 1 2 3 4; do
	dm_mail "$W/busy$i" 'carol@globex.example' "Busy day $i" "request $i"
	dm ingest "$W/busy$i" >/dev/null
done
assert_eq "4" "$(dm_psql -c "select count(*) from outbox where kind = 'ack' and rcpt = 'carol@globex.example' and subject like '%Busy day%'")" "four tickets in a row, four acknowledgements"
DM_DESK_EXTRA="max_acks_per_hour = 6;" dm_write_conf
for i in 5 6 7; do
	dm_mail "$W/busy$i" 'carol@globex.example' "Busy day $i" "request $i"
	dm ingest "$W/busy$i" >/dev/null
done
assert_eq "6" "$(dm_psql -c "select count(*) from outbox where kind = 'ack' and rcpt = 'carol@globex.example' and created_at > now() - interval '1 hour'")" "max_acks_per_hour caps them"
assert_eq "7" "$(dm_psql -c "select count(*) from ticket where subject like 'Busy day%'")" "every request is still a ticket"
assert_true "the suppression is an audit event" test "$(dm_psql -c "select count(*) from event where kind = 'auto-reply-suppressed' and detail = 'carol@globex.example'")" -ge 1
dm_write_conf
# 13. a mail whose effects cannot be stored (a constraint the test adds
# refuses its ticket): kept in quarantine with the reason, raw bytes only,
# and the MTA is told it is taken (exit 0)
dm_psql -c "ALTER TABLE ticket ADD CONSTRAINT test_no_poison CHECK (subject NOT LIKE '%Poison%')" >/dev/null
dm_mail "$W/poison" 'alice@acme.example' 'Poison pill' 'This cannot become a ticket.'
out=$(dm ingest "$W/poison" 2>"$W/poison.err"); rc=$?
dm_psql -c "ALTER TABLE ticket DROP CONSTRAINT test_no_poison" >/dev/null
assert_eq 0 "$rc" "a mail that cannot be stored is still taken (exit 0)"
assert_eq "quarantined" "$out" "as quarantined"
q=$(dm quarantine list --json | jq -c '.[-1]')
assert_contains "$(jq -r .reason <<<"$q")" "could not be stored" "with the reason"
assert_eq "null" "$(jq -r .from <<<"$q")" "and nothing parsed from it (it may be what failed)"
assert_contains "$(dm_psql -c "select convert_from(i.raw, 'UTF8') from inbound i join quarantine q on q.inbound_id = i.id order by q.id desc limit 1")" "This cannot become a ticket." "its raw bytes are kept"
assert_contains "$(cat "$W/poison.err")" "not stored" "the first failure is logged"

# 14. a different mail that reuses a Message-ID of the same sender is
# another mail, stored and answered; the same mail again (other headers
# added on the way) is still a duplicate
dm_mail "$W/r1" 'carol@globex.example' 'First with this id' 'first body' 'Message-ID: <reused@globex.example>'
dm_mail "$W/r2" 'carol@globex.example' 'Second with this id' 'another body' 'Message-ID: <reused@globex.example>'
assert_contains "$(dm ingest "$W/r1")" "new ticket" "a mail with a Message-ID opens a ticket"
assert_contains "$(dm ingest "$W/r2")" "new ticket" "a different mail reusing it is not a duplicate"
{ printf 'Received: from relay.example by mx.example; Mon, 23 Nov 2026 10:00:00 +0000\r\n'; cat "$W/r2"; } >"$W/r2b"
assert_eq "duplicate" "$(dm ingest "$W/r2b")" "the same mail with a header more is a duplicate"

# 15. every mail handed in twice at the same moment (two MTA deliveries):
# each is stored once and acknowledged once
DM_DESK_EXTRA="max_automatic_per_hour = 0;" dm_write_conf
for i in $(seq 1 30); do
	dm_mail "$W/c$i" 'carol@globex.example' "Concurrent $i" "body $i"
done
pids=()
for i in $(seq 1 30); do
	dm ingest "$W/c$i" >/dev/null 2>&1 &
	pids+=($!)
	dm ingest "$W/c$i" >/dev/null 2>&1 &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
assert_eq 0 "$bad" "every one of the sixty deliveries is taken (exit 0)"
assert_eq 30 "$(dm_psql -c "select count(*) from ticket where subject like 'Concurrent %'")" "thirty mails delivered twice at once: thirty tickets"
assert_eq 30 "$(dm_psql -c "select count(*) from outbox o join ticket t on t.id = o.ticket_id where t.subject like 'Concurrent %' and o.kind = 'ack'")" "and thirty acknowledgements"
dm_done
