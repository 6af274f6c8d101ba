#!/bin/bash
# failures.sh - the IMAP server failing in the middle of a pass, and a batch
# whose common rows PostgreSQL refuses: what was taken in before is kept,
# nothing is doubled, the limits on automatic replies still count right.
# The IMAP failures come from tests/lib/imap_proxy.py, a proxy in front of
# the test Dovecot that cuts the connection on a given command.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
W=$DM_TEST_DIR/work
mkdir -p "$W"
# deskmail always talks to Dovecot through the proxy, on one port (the
# mailbox's state is kept by its URL); proxy REGEX restarts it cutting on
# REGEX ("^$" for never); proxy REGEX no answers it NO in the server's place
PROXY_PORT=$(dm_free_port)
PROXY_PID=
proxy() {
	[ -n "$PROXY_PID" ] && dm_kill_pid "$PROXY_PID"
	"$DM_PYTHON" "$DM_LIB_DIR/imap_proxy.py" "$PROXY_PORT" "$DM_IMAP_PORT" "$1" ${2:-} 2>>"$W/proxy.log" &
	PROXY_PID=$!
	dm_wait_for 10 dm_port_open "$PROXY_PORT"
}
trap '[ -n "$PROXY_PID" ] && dm_kill_pid "$PROXY_PID"; dm_servers_stop' EXIT
DM_IMAP_URL="imap://127.0.0.1:$PROXY_PORT/INBOX" dm_write_conf
proxy '^$' 
dm_fixture
count() { dm_psql -c "select count(*) from $1"; }

# 1. a mail whose fetch always fails: the mails before it in the pass are
# committed and marked, the pass exits 75, and taking it again doubles
# nothing
dm_mail "$W/1" 'alice@acme.example' 'Request one' 'one'
dm_mail "$W/2" 'carol@globex.example' 'Request two' 'two'
dm_mail "$W/3" 'alice@acme.example' 'Request three' 'three'
dm_mail "$W/4" 'carol@globex.example' 'Cannot be fetched' 'four'
dm_deliver "$W/1" "$W/2" "$W/3" "$W/4"
proxy 'UID FETCH 4 '
out=$(dm poll 2>"$W/p1.log"); rc=$?
assert_eq 75 "$rc" "a fetch the server cuts every time: poll exits 75"
assert_eq "fetched 3: 3 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$out" "the three mails before it are counted as taken in"
assert_eq 3 "$(count ticket)" "and their tickets are committed"
assert_eq 3 "$(dm_psql -c 'select last_uid from mailbox')" "the checkpoint is past them"
assert_eq 3 "$(dm_psql -c 'select count(*) from mailbox_seen where marked')" "they are marked on the server"
dm poll >/dev/null 2>&1
assert_eq 3 "$(count ticket)" "a second pass doubles nothing"
assert_eq 3 "$(count inbound)" "every mail stored once"
proxy '^$'
assert_eq "fetched 1: 1 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll 2>/dev/null)" "once the server delivers it, the fourth is taken in"

# 2. marks that always fail: the pass goes on and exits 0, new mail keeps
# coming in, the marks stay to be repaired
proxy 'UID STORE'
dm_mail "$W/5" 'alice@acme.example' 'Request five' 'five'
dm_deliver "$W/5"
out=$(dm poll 2>"$W/p2.log"); rc=$?
assert_eq 0 "$rc" "marks that fail do not fail the pass"
assert_contains "$(cat "$W/p2.log")" "could not mark on the server" "the failed mark is logged"
dm_mail "$W/6" 'carol@globex.example' 'Request six' 'six'
dm_deliver "$W/6"
out=$(dm poll 2>/dev/null); rc=$?
assert_eq 0 "$rc" "nor the next pass, which tries the marks again"
assert_eq "fetched 1: 1 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$out" "and still takes new mail in"
assert_eq 2 "$(dm_psql -c 'select count(*) from mailbox_seen where not marked')" "both stay unmarked"
proxy '^$'
dm poll >/dev/null 2>&1
assert_eq 0 "$(dm_psql -c 'select count(*) from mailbox_seen where not marked')" "the server back, the marks are repaired"

# 3. a batch taken in again one by one (a constraint the test adds refuses
# an outgoing mail to poison@ at the commit): the daily limit of
# notices (one per address) counts each notice once
dm_psql -c "ALTER TABLE outbox ADD CONSTRAINT test_no_poison CHECK (rcpt <> 'poison@stranger.example')" >/dev/null
dm_mail "$W/x1" 'x@stranger.example' 'help 1' 'one'
dm_mail "$W/x2" 'x@stranger.example' 'help 2' 'two'
dm_mail "$W/x3" 'x@stranger.example' 'help 3' 'three'
dm_mail "$W/x4" 'poison@stranger.example' 'Poison pill' 'four'
dm_deliver "$W/x1" "$W/x2" "$W/x3" "$W/x4"
dm poll >/dev/null 2>"$W/p3.log"
dm_psql -c "ALTER TABLE outbox DROP CONSTRAINT test_no_poison" >/dev/null
assert_contains "$(cat "$W/p3.log")" "taking them in one by one" "the batch was taken in one by one"
assert_eq 1 "$(dm_psql -c "select count(*) from outbox where kind = 'quarantine-notice' and rcpt = 'x@stranger.example'")" "three mails from one stranger, one by one: one notice"
assert_eq 2 "$(dm_psql -c "select count(*) from event where kind = 'auto-reply-suppressed' and detail = 'x@stranger.example'")" "the other two suppressed, each once"
# ... and the same in one normal batch
dm_mail "$W/y1" 'y@stranger.example' 'help 1' 'one'
dm_mail "$W/y2" 'y@stranger.example' 'help 2' 'two'
dm_mail "$W/y3" 'y@stranger.example' 'help 3' 'three'
dm_mail "$W/y4" 'y@stranger.example' 'help 4' 'four'
dm_deliver "$W/y1" "$W/y2" "$W/y3" "$W/y4"
dm poll >/dev/null 2>&1
assert_eq 1 "$(dm_psql -c "select count(*) from outbox where kind = 'quarantine-notice' and rcpt = 'y@stranger.example'")" "in one batch: one notice a day per address"
assert_eq 3 "$(dm_psql -c "select count(*) from event where kind = 'auto-reply-suppressed' and detail = 'y@stranger.example'")" "and the suppressions are events"
assert_eq 4 "$(dm_psql -c "select count(*) from quarantine where from_addr = 'y@stranger.example'")" "every mail is still kept"
# 4. values no mailer writes (a Message-ID of 3,000 characters, which a
# btree index cannot hold; an address with an upper-case non-ASCII letter,
# which the outbox's lower-case check refused): the mail is taken in like
# any other and the mails behind it too
long=$(head -c 3000 /dev/zero | tr '\0' 'x')
dm_mail "$W/l1" 'alice@acme.example' 'Long id' 'a very long Message-ID' "Message-ID: <$long@client.example>"
dm_mail "$W/l2" 'ÉVE@Stranger.Example' 'Accented stranger' 'hello'
dm_mail "$W/l2b" 'XⅠY@Stranger.Example' 'Roman numeral stranger' 'hello'
dm_mail "$W/l2c" 'alice@acme.example' 'Cut token' 'x' "Auto-Submitted: $(head -c 62 /dev/zero | tr '\0' a)é"
dm_mail "$W/l3" 'carol@globex.example' 'After the long id' 'next'
dm_deliver "$W/l1" "$W/l2" "$W/l2b" "$W/l2c" "$W/l3"
qmark=$(dm_psql -c "select coalesce(max(id), 0) from quarantine")
out=$(dm poll 2>"$W/p4.log"); rc=$?
assert_eq 0 "$rc" "poll exits 0"
assert_eq "fetched 5: 2 new ticket(s), 0 repl(ies), 3 quarantined, 0 duplicate(s)" "$out" "all five taken in"
assert_true "in one batch, none refused at the commit" bash -c "! grep -q 'one by one' '$W/p4.log'"
assert_eq 0 "$(dm_psql -c "select count(*) from quarantine where id > $qmark and reason like 'could not be stored%'")" "each quarantined for its own reason"
assert_eq 1 "$(dm_psql -c "select count(*) from ticket where subject = 'Long id'")" "the long-id mail opened its ticket"
assert_eq "" "$(dm_psql -c "select coalesce(message_id, '') from inbound i join message m on m.inbound_id = i.id join ticket t on t.id = m.ticket_id where t.subject = 'Long id'")" "its Message-ID is taken as absent"
assert_eq 1 "$(dm_psql -c "select count(*) from outbox where kind = 'quarantine-notice' and rcpt = 'éve@stranger.example'")" "the accented stranger is lower-cased and gets the notice"

# 5. the database connection killed in the middle of a poll (a PostgreSQL
# restart, a failover): the pass ends with EX_TEMPFAIL, nothing is kept
# half, and the next pass takes every mail in exactly once
for i in $(seq 1 300); do
	dm_mail "$W/k$i" 'carol@globex.example' "Killed batch $i" "body $i"
done
dm_deliver $(for i in $(seq 1 300); do echo "$W/k$i"; done)
dm poll >"$W/k.out" 2>"$W/k.err" &
p=$!
killed=0
for t in $(seq 1 100); do
	n=$(dm_psql -c "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'deskmail' and pid <> pg_backend_pid()" | grep -c t)
	[ "$n" -gt 0 ] && { killed=1; break; }
	sleep 0.05
done
wait "$p"; rc=$?
assert_eq 1 "$killed" "the poll's database connection was killed"
assert_true "the poll ends with EX_TEMPFAIL or done, not a crash (rc=$rc)" test "$rc" -eq 75 -o "$rc" -eq 0
assert_true "no assertion or sanitizer report" bash -c "! grep -q 'assertion\|runtime error\|AddressSanitizer' '$W/k.err'"
for t in 1 2 3; do dm poll >/dev/null 2>&1 && break; done
assert_eq 300 "$(dm_psql -c "select count(*) from ticket where subject like 'Killed batch %'")" "the next pass takes every mail in: 300 tickets"
assert_eq 300 "$(dm_psql -c "select count(distinct subject) from ticket where subject like 'Killed batch %'")" "none twice"
assert_eq 0 "$(dm_psql -c 'select count(*) from mailbox_seen where not marked')" "all marked on the server"

# 6. a FETCH the server answers NO ("[UNAVAILABLE]", its storage failing):
# curl reports it as "not found", but the mail is there and nobody has read
# it, so the pass ends with EX_TEMPFAIL and the checkpoint does not move
# past it; once the server answers, it and the mail behind it come in
last=$(dm_psql -c 'select max(last_uid) from mailbox')
dm_mail "$W/n1" 'alice@acme.example' 'Fetch answered NO' 'the server failed'
dm_mail "$W/n2" 'carol@globex.example' 'Behind the NO' 'next'
dm_deliver "$W/n1" "$W/n2"
proxy "UID FETCH $((last + 1)) " no
out=$(dm poll 2>"$W/p6.log"); rc=$?
assert_eq 75 "$rc" "a FETCH answered NO: poll exits 75"
assert_contains "$(cat "$W/p6.log")" "NO [UNAVAILABLE]" "the server's words are in the log"
assert_eq "$last" "$(dm_psql -c 'select max(last_uid) from mailbox')" "the checkpoint is not moved past it"
assert_eq 0 "$(dm_psql -c "select count(*) from ticket where subject = 'Fetch answered NO'")" "it is not taken as gone"
proxy '^$'
out=$(dm poll 2>/dev/null); rc=$?
assert_eq 0 "$rc" "the server back, the pass exits 0"
assert_eq 1 "$(dm_psql -c "select count(*) from ticket where subject = 'Fetch answered NO'")" "the mail answered NO is taken in"
assert_eq 1 "$(dm_psql -c "select count(*) from ticket where subject = 'Behind the NO'")" "and the one behind it, once"

# 7. a mailbox row from before user names were recorded (012_mailboxes.sql)
# is taken over by the one account configured on its URL: its checkpoint is
# kept, nothing is taken in twice
mbid=$(dm_psql -c 'select id from mailbox')
dm_psql -c "update mailbox set username = ''" >/dev/null
before=$(dm_psql -c 'select count(*) from inbound')
out=$(dm poll 2>/dev/null); rc=$?
assert_eq 0 "$rc" "a pass over the old row exits 0"
assert_eq "$mbid support" "$(dm_psql -c 'select id, username from mailbox' | tr '|' ' ')" "the one account on its URL takes the old row over"
assert_eq "$before" "$(dm_psql -c 'select count(*) from inbound')" "and takes nothing in twice"
dm_done
