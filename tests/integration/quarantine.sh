#!/bin/bash
# quarantine.sh - staff working the quarantine on real servers (PostgreSQL,
# Dovecot, SMTP): show, accept (with --contact), drop, retry, each decision
# recorded with who and when; and a mail that cannot be stored even raw,
# set aside on the server so the mailbox goes on, then retried.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W"
last_q() { dm quarantine list --json | jq -r '.[-1].id'; }

# 1. show: the reason, the sender, the mail as it came
dm_mail "$W/e" 'Eve Newhire <eve@globex.example>' 'Our printer' 'The printer at Globex is down.'
assert_eq quarantined "$(dm ingest "$W/e")" "a new employee's mail is quarantined"
Q=$(last_q)
out=$(dm quarantine show "$Q")
assert_contains "$out" "not a named contact" "show gives the reason"
assert_contains "$out" "eve@globex.example" "and the sender"
assert_contains "$out" "The printer at Globex is down." "and the mail as it came"
assert_eq held "$(dm quarantine show "$Q" --json | jq -r .status)" "show --json: held"

# 2. accept without --contact: refused, nothing changes
out=$(dm quarantine accept "$Q" 2>&1); rc=$?
assert_eq 65 "$rc" "accepting a stranger's mail without --contact is refused"
assert_contains "$out" "--contact" "and the message says what to add"
assert_eq held "$(dm quarantine show "$Q" --json | jq -r .status)" "still held"

# 3. accept --contact: a ticket of that contact's client; the sender made a
# contact of it; acknowledged; the decision recorded with who and when
out=$(dm quarantine accept "$Q" --contact carol@globex.example --by sam@agency.example)
assert_contains "$out" "accepted by sam@agency.example: new ticket #" "accept --contact opens a ticket"
T=$(dm_psql -c "select id from ticket where subject = 'Our printer'")
assert_eq Globex "$(dm_ticket_json "$T" .client.name 2>/dev/null || dm_psql -c "select c.name from ticket t join client c on c.id = t.client_id where t.id = $T")" "of carol's client"
assert_eq Globex "$(dm_psql -c "select c.name from contact k join client c on c.id = k.client_id where k.email = 'eve@globex.example' and k.removed_at is null")" "eve is now a named contact of Globex"
j=$(dm quarantine show "$Q" --json)
assert_eq accepted "$(jq -r .status <<<"$j")" "the entry is accepted"
assert_eq sam@agency.example "$(jq -r .decided_by <<<"$j")" "by sam"
assert_true "at a recorded time" test "$(jq -r .decided_at <<<"$j")" != null
assert_contains "$(jq -r .decision <<<"$j")" "new ticket #$T" "and what came of it"
assert_eq 1 "$(dm_sql_count "event where ticket_id = $T and kind = 'quarantine-accepted' and actor = 'sam@agency.example'")" "an audit event on the ticket"
assert_eq 1 "$(dm_sql_count "outbox where kind = 'ack' and ticket_id = $T and rcpt = 'eve@globex.example'")" "the sender gets the acknowledgement"
assert_eq 1 "$(dm_sql_count "inbound i join quarantine q on q.inbound_id = i.id where q.id = $Q and i.outcome = 'ticket'")" "the stored mail is the ticket's (no second copy)"
assert_eq 1 "$(dm_sql_count "message where ticket_id = $T and direction = 'in'")" "one incoming message on the ticket"
out=$(dm quarantine accept "$Q" --contact carol@globex.example 2>&1); rc=$?
assert_eq 65 "$rc" "an entry is decided once"
assert_contains "$out" "accepted already" "and says so"

# 3b. two people accepting the same entry at the same moment: one ticket
for i in 1 2 3 4 5; do
	dm_mail "$W/r$i" 'carol@globex.example' "Race $i" 'x' 'Auto-Submitted: auto-replied'
	dm ingest "$W/r$i" >/dev/null
	R=$(last_q)
	dm quarantine accept "$R" --by one >/dev/null 2>&1 &
	a=$!
	dm quarantine accept "$R" --by two >/dev/null 2>&1 &
	b=$!
	wait "$a" "$b"
done
assert_eq 5 "$(dm_sql_count "ticket where subject like 'Race %'")" "five entries accepted twice at once: five tickets"
assert_eq 5 "$(dm_sql_count "outbox o join ticket t on t.id = o.ticket_id where o.kind = 'ack' and t.subject like 'Race %'")" "five acknowledgements"

# 4. drop: recorded, the bytes kept
dm_mail "$W/s" 'spam@spam.example' 'Cheap watches' 'buy'
dm ingest "$W/s" >/dev/null
Q=$(last_q)
assert_contains "$(USER=jo dm quarantine drop "$Q")" "dropped by jo" "drop, by the login running it"
j=$(dm quarantine show "$Q" --json)
assert_eq "dropped|jo" "$(jq -r '.status + "|" + .decided_by' <<<"$j")" "recorded as dropped, by whom"
assert_eq 1 "$(dm_sql_count "quarantine q join inbound i on i.id = q.inbound_id where q.id = $Q")" "its bytes are kept"
assert_eq 1 "$(dm_sql_count "event where kind = 'quarantine-dropped' and actor = 'jo'")" "an audit event"
assert_eq 0 "$(dm_sql_count "quarantine where status = 'dropped' and id <> $Q")" "nothing else dropped"
out=$(dm quarantine retry "$Q" 2>&1); rc=$?
assert_eq 65 "$rc" "a dropped entry is not retried"

# 5. retry: after the sender was made a contact, the mail goes through
dm_mail "$W/f" 'frank@acme.example' 'VPN down' 'The VPN is down.'
dm ingest "$W/f" >/dev/null
Q=$(last_q)
out=$(dm quarantine retry "$Q" 2>&1)
assert_contains "$out" "quarantined" "a retry that is still a quarantine case says so"
assert_eq held "$(dm quarantine show "$Q" --json | jq -r .status)" "and the entry stays held"
dm contact remove "Acme Ltd" bob@acme.example >/dev/null
dm contact add "Acme Ltd" frank@acme.example >/dev/null
assert_contains "$(dm quarantine retry "$Q" --by amy)" "retried by amy: new ticket #" "after the contact is added the retry opens a ticket"
assert_eq retried "$(dm quarantine show "$Q" --json | jq -r .status)" "the entry is retried"

# 6. a mail that cannot be stored even raw (a constraint the test adds
# refuses its bytes, as parsed and as raw quarantine): set aside, flagged on
# the server, and the mails behind it are taken in
dm_psql -c "ALTER TABLE inbound ADD CONSTRAINT test_refuse CHECK (position('SETASIDE'::bytea in raw) = 0)" >/dev/null
dm_mail "$W/i1" 'alice@acme.example' 'Before it' 'first'
dm_mail "$W/i2" 'alice@acme.example' 'The odd one' 'SETASIDE this mail'
dm_mail "$W/i3" 'alice@acme.example' 'After it' 'third'
dm_deliver "$W/i1" "$W/i2" "$W/i3"
out=$(dm poll 2>"$W/poll.err"); rc=$?
assert_eq 0 "$rc" "the poll goes on past a mail it cannot store (exit 0)"
assert_eq "fetched 3: 2 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s), 1 set aside" "$out" "the two others are taken in, the odd one set aside"
assert_contains "$(cat "$W/poll.err")" "set aside as quarantine #" "the log says so"
q=$(dm quarantine list --json | jq -c '[.[] | select(.status == "set-aside")] | .[0]')
Q=$(jq -r .id <<<"$q")
assert_true "quarantine list shows it with its UID" test "$(jq -r .uid <<<"$q")" -gt 0
assert_contains "$(jq -r .reason <<<"$q")" "test_refuse" "with the error as the reason"
uid=$(jq -r .uid <<<"$q")
assert_eq "$uid" "$(dm_imap_keyword_uids '$DeskmailSetAside')" "it is flagged on the server, and left there"
assert_eq "fetched 0: 0 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll 2>/dev/null)" "the next poll does not stop at it"
out=$(dm quarantine retry "$Q" 2>&1); rc=$?
assert_true "a retry while it still fails says why ($rc)" test "$rc" -ne 0
assert_eq set-aside "$(dm quarantine show "$Q" --json | jq -r .status)" "and it stays set aside"
dm_psql -c "ALTER TABLE inbound DROP CONSTRAINT test_refuse" >/dev/null
assert_contains "$(dm quarantine retry "$Q" --by amy)" "new ticket #" "fixed, the retry fetches it from the server and takes it in"
assert_eq 1 "$(dm_sql_count "ticket where subject = 'The odd one'")" "one ticket"
assert_contains " $(dm_imap_keyword_uids '$Ticketed') " " $uid " "and it is marked on the server as done"
assert_eq 1 "$(dm_sql_count "quarantine q join inbound i on i.id = q.inbound_id where q.id = $Q")" "the entry now holds its bytes"

# 7. pipe: a mail that cannot be stored even raw is left to the MTA (75)
dm_psql -c "ALTER TABLE inbound ADD CONSTRAINT test_refuse CHECK (position('SETASIDE'::bytea in raw) = 0) NOT VALID" >/dev/null
dm_mail "$W/p" 'alice@acme.example' 'Pipe odd one' 'SETASIDE again'
out=$(dm ingest "$W/p" 2>&1); rc=$?
dm_psql -c "ALTER TABLE inbound DROP CONSTRAINT test_refuse" >/dev/null
assert_eq 75 "$rc" "pipe: not stored at all exits 75 (EX_TEMPFAIL: the MTA keeps it)"
assert_contains "$out" "not even in quarantine" "with a clear message"
assert_contains "$(dm ingest "$W/p")" "new ticket" "the MTA's retry is taken in"
dm_done
