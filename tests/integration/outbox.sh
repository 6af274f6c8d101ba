#!/bin/bash
# outbox.sh - outgoing mail on a real SMTP server: the server down then up,
# backoff, permanent failures, headers that never carry input CR/LF, and
# two send passes at once with leases run out (each mail sent once).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W"

dm_mail "$W/a" 'alice@acme.example' 'Mail server down?' 'We get timeouts.'
dm ingest "$W/a" >/dev/null
dm_smtp_stop
out=$(dm send 2>"$W/send.log"); rc=$?
assert_eq 75 "$rc" "send with the SMTP server down exits 75 (EX_TEMPFAIL: try again later)"
assert_eq "sent 0, deferred 1, failed 0" "$out" "the acknowledgement is deferred"
row=$(dm_psql -c "select status, attempts, last_error is not null from outbox")
assert_eq "pending|0|t" "$row" "the error is recorded; an outage is not counted as an attempt"
assert_contains "$(cat "$W/send.log")" "unreachable" "the outage is logged"
# an outage outlasting max_attempts passes loses nothing
for i in $(seq 1 14); do dm send >/dev/null 2>&1; done
assert_eq "pending|0" "$(dm_psql -c 'select status, attempts from outbox')" "many passes during the outage: still pending"
dm_smtp_start
assert_eq "sent 1, deferred 0, failed 0" "$(dm send)" "the server is back: the next send delivers at once"
assert_eq "1" "$(dm_smtp_count)" "received once"
assert_eq "sent 0, deferred 0, failed 0" "$(dm send)" "and never again"
assert_eq "sent|1" "$(dm_psql -c 'select status, attempts from outbox')" "recorded as sent after 1 attempt"

# a server that answers 4xx: backoff, doubling up to retry_max
dm_smtp_stop
dm_smtp_start --tempfail-rcpt 'bob@'
dm_mail "$W/b" 'bob@acme.example' 'Second' 'x'
dm ingest "$W/b" >/dev/null
assert_eq "sent 0, deferred 1, failed 0" "$(dm send 2>"$W/send.log")" "a 451 defers the mail"
assert_eq "pending|1|t|t" "$(dm_psql -c "select status, attempts, last_error like '%451%', next_attempt_at > now() from outbox where rcpt = 'bob@acme.example'")" "the 451 is recorded and a retry scheduled later"
assert_eq "sent 0, deferred 0, failed 0" "$(dm send)" "nothing is due before the backoff"
sleep 1.1
dm send >/dev/null
secs=$(dm_psql -c "select round(extract(epoch from next_attempt_at - now())) from outbox where status='pending'")
assert_true "second retry waits about twice as long (got ${secs}s)" test "$secs" -ge 1 -a "$secs" -le 2
dm_smtp_stop
dm_smtp_start
sleep 2.1
dm send >/dev/null
assert_eq "2" "$(dm_smtp_count)" "delivered once the server accepts it"
assert_eq "sent|3" "$(dm_psql -c "select status, attempts from outbox where rcpt = 'bob@acme.example'")" "recorded as sent after 3 attempts"

# a permanent rejection is not retried
dm_smtp_stop
dm_smtp_start --reject-rcpt 'carol@'
dm_mail "$W/c" 'carol@globex.example' 'Rejected' 'x'
tc=$(dm ingest "$W/c" | sed -n 's/^new ticket #//p')
assert_eq "sent 0, deferred 0, failed 1" "$(dm send)" "a 550 fails the mail at once"
assert_contains "$(dm_psql -c "select last_error from outbox where rcpt='carol@globex.example'")" "550" "the server's reply is recorded"
assert_contains "$(dm ticket show "${tc:-0}" --json | jq -r '.events[] | select(.kind == "delivery-failed") | .detail')" "550" "the failure is an event of the ticket"
# a staff reply that cannot reach the client comes back to its author
dm_mail "$W/c2" 'Sam Senior <sam@agency.example>' "Re: [#${tc:-0}] Rejected" 'We restarted the service, please try again.'
dm ingest "$W/c2" >/dev/null
out=$(dm send 2>/dev/null)
assert_eq "sent 1, deferred 0, failed 1" "$out" "the relay to carol fails; the notice to sam goes out in the same pass"
assert_eq "sent" "$(dm_psql -c "select string_agg(status, ',') from outbox where kind = 'notify-failed' and rcpt = 'sam@agency.example'")" "sam is told, once, that his reply did not reach the client"
f=$(grep -l 'could not be delivered to carol@globex.example' "$DM_SMTP_OUT"/*.eml | tail -n1)
assert_true "sam's notice reached the SMTP server" test -n "$f"
assert_true "it carries his text" grep -q 'We restarted the service' "$f"
dm_smtp_stop
dm_smtp_start

# header injection through an encoded subject
dm_mail "$W/d" 'alice@acme.example' '=?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?=' 'x'
dm ingest "$W/d" >/dev/null
dm send >/dev/null
f=$(grep -l 'Bcc: victim' "$DM_SMTP_OUT"/*.eml | tail -n1)
assert_true "the acknowledgement was sent" test -n "$f"
assert_true "no injected Bcc header" bash -c "! grep -qi '^Bcc:' '$f'"
assert_true "recipient list not widened" bash -c "! grep -q victim '${f%.eml}.env'"
# non-ASCII subject becomes encoded words
dm_mail "$W/e" 'bob@acme.example' '=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=' 'x'
dm ingest "$W/e" >/dev/null
dm send >/dev/null
f=$(grep -l '^To: bob@acme.example' "$DM_SMTP_OUT"/*.eml | tail -n1)
assert_true "non-ASCII subject is sent as encoded words" grep -q '^Subject:.*=?' "$f"
assert_true "the mail is 7-bit" bash -c "! LC_ALL=C grep -qP '[\x80-\xff]' '$f'"

# two send passes at once on a slow server, and the first one's leases run
# out while it works: every mail is sent exactly once
dm_smtp_stop
dm_smtp_start --delay 0.3
dm_psql -c "INSERT INTO outbox (event_key, kind, mail_from, rcpt, subject, message_id, raw) SELECT 'race-' || g, kind, mail_from, rcpt, subject, 'race-' || g || '@desk.example', convert_to(replace(convert_from(raw, 'UTF8'), message_id, 'race-' || g || '@desk.example'), 'UTF8') FROM outbox, generate_series(1, 20) g WHERE id = (SELECT min(id) FROM outbox)" >/dev/null
before=$(dm_smtp_count)
dm send >"$W/race1.out" 2>"$W/race1.log" &
p1=$!
sent_some() { [ "$(dm_smtp_count)" -ge $((before + 3)) ]; }
dm_wait_for 30 sent_some
dm_psql -c "UPDATE outbox SET locked_until = now() - interval '1 second' WHERE status = 'sending'" >/dev/null
dm send >"$W/race2.out" 2>"$W/race2.log" &
p2=$!
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?
assert_eq "0 0" "$rc1 $rc2" "both passes exit 0"
assert_eq 20 "$(grep -l '^Message-ID: <race-' "$DM_SMTP_OUT"/*.eml | wc -l)" "twenty mails, each received once"
assert_eq 20 "$(grep -h '^Message-ID: <race-' "$DM_SMTP_OUT"/*.eml | sort -u | wc -l)" "all twenty different"
assert_eq "20" "$(dm_psql -c "select count(*) from outbox where event_key like 'race-%' and status = 'sent' and claim is null")" "all recorded as sent"
assert_contains "$(cat "$W/race1.log")" "taken over by another send pass" "the first pass left the rows taken over to the second"
assert_eq "0" "$(dm_psql -c "select count(*) from pg_locks where locktype = 'advisory'")" "no row lock is left behind"
dm_done
