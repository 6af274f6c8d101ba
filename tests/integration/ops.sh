#!/bin/bash
# ops.sh - the operator's commands on real servers (PostgreSQL, SMTP):
# `outbox list|retry|drop` on a queue with deferred and failed mail, each
# mail then received by the SMTP server exactly once and a dropped one
# never; `stats` (text, JSON, the Prometheus textfile) against what the
# test sent in; `purge` of closed tickets and old quarantined mail, with
# --dry-run first, the audit trail kept and open tickets untouched.
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
utc_in() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
ack_of() { dm_psql -c "select id from outbox where kind = 'ack' and ticket_id = $1"; }
msgid_of() { dm_psql -c "select message_id from outbox where id = $1"; }
# how many mails the SMTP server received with this Message-ID
# ids N...: sorted, comma separated (as the jq filters below give them)
ids() { printf '%s\n' "$@" | sort -n | paste -sd, -; }
received() { grep -l "^Message-ID: <$1>" "$DM_SMTP_OUT"/*.eml 2>/dev/null | wc -l; }

# ---------------------------------------------------------------------------
# 1. a queue with a deferred and two failed mails
dm_smtp_stop
dm_smtp_start --reject-rcpt 'carol@' --tempfail-rcpt 'bob@'
ticket() { # NAME FROM SUBJECT: ingest a new mail, print its ticket
	dm_mail "$W/$1" "$2" "$3" "Text of $3."
	dm ingest "$W/$1" | sed -n 's/^new ticket #//p'
}
T1=$(ticket a1 alice@acme.example 'Printer jam')
T2=$(ticket c1 carol@globex.example 'VPN down')
T3=$(ticket c2 carol@globex.example 'DNS question')
T4=$(ticket b1 bob@acme.example 'Backup failed')
A1=$(ack_of "$T1") C1=$(ack_of "$T2") C2=$(ack_of "$T3") B1=$(ack_of "$T4")
assert_eq "sent 1, deferred 1, failed 2" "$(dm send 2>/dev/null)" "one send pass: alice's ack sent, bob's deferred, carol's two failed"
T5=$(ticket a2 alice@acme.example 'Toner low')
A2=$(ack_of "$T5")

out=$(dm outbox list)
assert_contains "$out" "-- 4 mail(s): 1 queued, 1 deferred, 0 sending, 2 failed" "outbox list: a summary as mailq's"
line=$(grep "^$B1 " <<<"$out")
assert_contains "$line" "deferred" "bob's ack is listed as deferred"
assert_contains "$line" "bob@acme.example" "with its recipient"
assert_contains "$line" "#$T4" "and its ticket"
assert_contains "$(grep -A1 "^$B1 " <<<"$out" | tail -n1)" "451" "the 4xx reply on the line after it"
assert_contains "$(grep "^$C1 " <<<"$out")" "failed" "carol's ack is listed as failed"
assert_contains "$(grep -A1 "^$C1 " <<<"$out" | tail -n1)" "550" "with the 550 reply"
assert_contains "$(grep "^$A2 " <<<"$out")" "queued" "the mail not tried yet is queued"
assert_eq "" "$(grep "^$A1 " <<<"$out")" "sent mail is not listed"

j=$(dm outbox list --json)
assert_eq "$(ids "$A2" "$B1" "$C1" "$C2")" "$(jq -r '[.[].id] | sort | map(tostring) | join(",")' <<<"$j")" "outbox list --json: the four mails not sent"
assert_eq "deferred|1|bob@acme.example|$T4|ack" "$(jq -r ".[] | select(.id == $B1) | [.status, .attempts, .recipients[0], .ticket, .kind] | map(tostring) | join(\"|\")" <<<"$j")" \
	"bob's: status, attempts, recipients, ticket, kind"
assert_contains "$(jq -r ".[] | select(.id == $B1) | .last_error" <<<"$j")" "451" "bob's last error"
assert_contains "$(jq -r ".[] | select(.id == $B1) | .subject" <<<"$j")" "Backup failed" "bob's subject"
assert_true "bob's next attempt is a time" test "$(jq -r ".[] | select(.id == $B1) | .next_attempt" <<<"$j" | grep -c '^20[0-9-]*T[0-9:]*Z$')" = 1
assert_eq "queued|0|null" "$(jq -r ".[] | select(.id == $A2) | [.status, .attempts, .last_error] | map(tostring) | join(\"|\")" <<<"$j")" "the queued one: no attempt, no error"
assert_eq "$(ids "$C1" "$C2")" "$(dm outbox list --failed --json | jq -r '[.[].id] | sort | map(tostring) | join(",")')" "--failed: only the failed"
assert_eq 2 "$(dm outbox list --failed | grep -c '^[0-9].* failed ')" "--failed as text: two lines"
out=$(dm outbox list --bogus 2>&1); rc=$?
assert_eq 64 "$rc" "an unknown option is a usage error"
assert_contains "$out" "unknown option --bogus" "and named"

# ---------------------------------------------------------------------------
# 2. retry one, retry all failed, drop one; then each goes out exactly once
out=$(dm outbox retry "$C1" --by sam@agency.example)
assert_eq "outbox #$C1 queued again by sam@agency.example" "$out" "retry ID"
assert_eq "pending|0|t|t" "$(dm_psql -c "select status, attempts, last_error is null, next_attempt_at <= now() from outbox where id = $C1")" \
	"back in the queue: due now, attempts reset, the error cleared"
ev=$(dm_event_json "$T2" 'select(.kind == "outbox-retried") | [.actor, .before, .after, .detail]')
assert_contains "$ev" "\"sam@agency.example\",\"failed\",\"queued\"" "an audit event on the ticket: who, from failed to queued"
assert_contains "$ev" "550" "with the error it had"
out=$(dm outbox retry "$A1" 2>&1); rc=$?
assert_eq 65 "$rc" "a sent mail cannot be retried"
assert_contains "$out" "outbox mail $A1 is sent" "and the message says why"
out=$(dm outbox retry 999999 2>&1); rc=$?
assert_eq 1 "$rc" "retrying a mail that does not exist: not found"
out=$(dm outbox retry 2>&1); rc=$?
assert_eq 64 "$rc" "retry without an ID or --all-failed is a usage error"
out=$(dm outbox retry 7 --all-failed 2>&1); rc=$?
assert_eq 64 "$rc" "and with both"
out=$(dm outbox drop "$B1" --by "$(printf 'x%.0s' $(seq 1 300))" 2>&1); rc=$?
assert_eq 64 "$rc" "a --by name over 254 characters is refused"
out=$("$DESKMAIL" -c /nonexistent outbox drop x 2>&1); rc=$?
assert_eq 64 "$rc" "a usage error is found before the configuration is read"
for c in "outbox" "stats" "purge"; do
	out=$("$DESKMAIL" -c /nonexistent $c --help 2>&1); rc=$?
	assert_eq "0" "$rc" "$c --help exits 0 without a configuration"
	assert_contains "$out" "usage: deskmail $c" "and prints its usage"
done
assert_eq "1 failed mail(s) queued again by ops-test" "$(USER=ops-test SUDO_USER= dm outbox retry --all-failed)" "retry --all-failed takes the other one, by the login running it"
assert_eq 1 "$(dm_sql_count "event where kind = 'outbox-retried' and actor = 'ops-test' and ticket_id = $T3")" "recorded with that login"
out=$(dm outbox drop "$B1" --by sam@agency.example)
assert_eq "outbox #$B1 dropped by sam@agency.example" "$out" "drop ID"
assert_eq "dropped" "$(dm_psql -c "select status from outbox where id = $B1")" "the row is kept, marked dropped"
assert_contains "$(dm_event_json "$T4" 'select(.kind == "outbox-dropped") | [.actor, .before, .after]')" '"sam@agency.example","deferred","dropped"' "an audit event: who, from deferred to dropped"
out=$(dm outbox drop "$B1" 2>&1); rc=$?
assert_eq 65 "$rc" "a dropped mail is dropped once"
assert_contains "$out" "is dropped" "and says so"
assert_eq "$(ids "$A2" "$C1" "$C2")" "$(dm outbox list --json | jq -r '[.[] | select(.status == "queued") | .id] | sort | map(tostring) | join(",")')" "three mails queued, the dropped one gone from the list"

dm_smtp_stop
dm_smtp_start
assert_eq "sent 3, deferred 0, failed 0" "$(dm send)" "the server accepts everyone now: the three go out"
for id in "$C1" "$C2" "$A2"; do
	assert_eq 1 "$(received "$(msgid_of "$id")")" "outbox #$id received exactly once"
done
sleep 1.2
assert_eq "sent 0, deferred 0, failed 0" "$(dm send)" "a later pass sends nothing"
assert_eq 0 "$(received "$(msgid_of "$B1")")" "the dropped mail never went out"
assert_eq "outbox is empty" "$(dm outbox list)" "the queue is empty"
assert_eq "[]" "$(dm outbox list --json | jq -c .)" "as JSON too"

# ---------------------------------------------------------------------------
# 3. stats against what went in: 5 tickets' mails, 2 quarantined, 1 staff reply
dm_mail "$W/q1" 'Eve Newhire <eve@globex.example>' 'Our printer' 'The printer at Globex is down.'
dm_mail "$W/q2" 'mallory@nowhere.example' 'Cheap pills' 'Buy now.'
assert_eq quarantined "$(dm ingest "$W/q1")" "a stranger's mail is quarantined"
assert_eq quarantined "$(dm ingest "$W/q2")" "and another"
dm ingest "$W/q2" >/dev/null # the same mail again: stored once, not counted twice
dm send >/dev/null 2>&1
# sam moves Alice's first ticket to the 2nd line, waiting for her
dm_mail_crlf "$W/s1" 'Sam Senior <sam@agency.example>' "Re: [#$T1] Printer jam" $'#line 2\n#status awaiting-client\n#note\nAsked for the model.'
dm ingest "$W/s1" >/dev/null
dm send >/dev/null 2>&1
sent=$(dm_smtp_count)
j=$(dm stats --json)
assert_eq "8|2|$sent|1|2" "$(jq -r '[.mail.received.total, .mail.quarantined.total, .mail.sent.total, .mail.deferred.total, .mail.failed.total] | map(tostring) | join("|")' <<<"$j")" \
	"stats --json totals: 8 received, 2 quarantined, sent as the SMTP server counted ($sent), 1 deferral, 2 failures"
assert_eq "8|2|$sent|1|2" "$(jq -r '[.mail.received.last_hour, .mail.quarantined.last_hour, .mail.sent.last_hour, .mail.deferred.last_hour, .mail.failed.last_hour] | map(tostring) | join("|")' <<<"$j")" \
	"all of it in the last hour"
assert_eq "0|0|0|0" "$(jq -r '[.outbox.queued, .outbox.deferred, .outbox.sending, .outbox.failed] | map(tostring) | join("|")' <<<"$j")" "the queue now: empty"
assert_eq 2 "$(jq -r .quarantine_held <<<"$j")" "two held in quarantine"
assert_eq "5|4|1|0" "$(jq -r '[.tickets_open.total, .tickets_open.by_status.open, .tickets_open.by_status["awaiting-client"], .tickets_open.by_status.scheduled] | map(tostring) | join("|")' <<<"$j")" \
	"five open tickets: four open, one awaiting the client, none scheduled"
assert_eq "4|1|0" "$(jq -r '[.tickets_open.by_line["1"], .tickets_open.by_line["2"], .tickets_open.by_line["3"]] | map(tostring) | join("|")' <<<"$j")" "per line: 4, 1, 0"
j2=$(DESKMAIL_NOW=$(utc_in '+2 hours') dm stats --json)
assert_eq "0|0|0|0|0" "$(jq -r '[.mail[] | .last_hour] | map(tostring) | join("|")' <<<"$j2")" "two hours later: nothing in the last hour"
assert_eq "8|2|$sent|1|2" "$(jq -r '[.mail.received.last_24h, .mail.quarantined.last_24h, .mail.sent.last_24h, .mail.deferred.last_24h, .mail.failed.last_24h] | map(tostring) | join("|")' <<<"$j2")" "and all of it in the last 24 h"
j3=$(DESKMAIL_NOW=$(utc_in '+2 days') dm stats --json)
assert_eq "0|0|0|0|0" "$(jq -r '[.mail[] | .last_24h] | map(tostring) | join("|")' <<<"$j3")" "two days later: nothing in the last 24 h"
assert_eq "8|$sent" "$(jq -r '[.mail.received.total, .mail.sent.total] | map(tostring) | join("|")' <<<"$j3")" "the totals stay"
out=$(dm stats)
assert_true "stats as text: the received line" grep -Eq '^received +8 +8 +8$' <<<"$out"
assert_true "the failed line" grep -Eq '^failed +2 +2 +2$' <<<"$out"
assert_contains "$out" "open tickets: 5" "the open tickets"
assert_contains "$out" "awaiting-client 1" "per status"
assert_contains "$out" "1st 4, 2nd 1, 3rd 0" "per line"

# the Prometheus textfile
mkdir -p "$W/prom"
P=$W/prom/deskmail.prom
assert_true "stats --prometheus FILE writes the file" dm stats --prometheus "$P"
assert_eq "" "$(dm stats --prometheus "$P")" "and prints nothing"
p=$(cat "$P")
assert_contains "$p" $'# TYPE deskmail_mail_received_total counter\ndeskmail_mail_received_total 8\n' "received_total: TYPE and value"
assert_contains "$p" "# HELP deskmail_mail_received_total " "with its HELP"
assert_contains "$p" $'deskmail_mail_quarantined_total 2\n' "quarantined_total"
assert_contains "$p" $'deskmail_mail_sent_total '"$sent"$'\n' "sent_total"
assert_contains "$p" $'deskmail_mail_deferred_total 1\n' "deferred_total"
assert_contains "$p" $'deskmail_mail_failed_total 2\n' "failed_total"
assert_contains "$p" $'deskmail_outbox_mails{state="failed"} 0\n' "the queue by state"
assert_contains "$p" $'deskmail_quarantine_held 2\n' "quarantine held"
assert_contains "$p" $'deskmail_tickets_open{status="open"} 4\n' "open tickets by status"
assert_contains "$p" $'deskmail_tickets_open{status="awaiting-client"} 1\n' "awaiting-client"
assert_contains "$p" $'deskmail_tickets_open{status="qa"} 0\n' "a status without tickets is 0, not absent"
assert_contains "$p" $'deskmail_tickets_open_line{line="2"} 1\n' "open tickets by line"
bad=$(grep -Ev '^(# (HELP|TYPE) deskmail_[a-z_]+ .+|deskmail_[a-z_]+(\{[a-z]+="[a-z0-9-]+"\})? [0-9]+)$' "$P")
assert_eq "" "$bad" "every line is a comment or a sample of the text format"
untyped=$(for m in $(grep -v '^#' "$P" | sed 's/[{ ].*//' | sort -u); do grep -q "^# TYPE $m " "$P" || echo "$m"; done)
assert_eq "" "$untyped" "every metric has a TYPE line"
assert_eq "deskmail.prom" "$(ls "$W/prom")" "no temporary file left beside it"
ino=$(stat -c %i "$P")
dm_mail "$W/a3" 'alice@acme.example' 'Monitor flickers' 'x'
dm ingest "$W/a3" >/dev/null
dm stats --prometheus "$P"
assert_contains "$(cat "$P")" $'deskmail_mail_received_total 9\n' "written again with the new count"
assert_true "by a rename over it, not in place" test "$(stat -c %i "$P")" != "$ino"
out=$(dm stats --prometheus "$W/no-such-dir/x.prom" 2>&1); rc=$?
assert_eq 78 "$rc" "a folder that is not there: a configuration error"
assert_contains "$out" "no-such-dir" "naming the file"
T8=$(dm_psql -c "select id from ticket where subject = 'Monitor flickers'")

# ---------------------------------------------------------------------------
# 4. purge: close some tickets, one with attachments; a ticket still open
# shares one of the attachment's bytes
head -c 20000 /dev/urandom >"$W/shared.bin"
head -c 30000 /dev/urandom >"$W/own.bin"
dm_mail_att "$W/t6" 'alice@acme.example' 'Logs attached' 'Here are the logs.' "$W/shared.bin" "$W/own.bin"
T6=$(dm ingest "$W/t6" | sed -n 's/^new ticket #//p')
dm_mail_att "$W/t7" 'bob@acme.example' 'Same logs' 'Bob sends them too.' "$W/shared.bin"
T7=$(dm ingest "$W/t7" | sed -n 's/^new ticket #//p')
dm send >/dev/null 2>&1
# carol's server refuses again: the replies closing her tickets fail
dm_smtp_stop
dm_smtp_start --reject-rcpt 'carol@'
for t in "$T2" "$T3" "$T6"; do
	s=$(dm_psql -c "select subject from ticket where id = $t")
	dm_mail_crlf "$W/close$t" 'Sam Senior <sam@agency.example>' "Re: [#$t] $s" $'#close\n\nFixed on our side, closing.'
	dm ingest "$W/close$t" >/dev/null
done
dm send >/dev/null 2>&1
dm_smtp_stop
dm_smtp_start
assert_eq "$T2,$T3,$T6" "$(dm_psql -c "select string_agg(id::text, ',' order by id) from ticket where status = 'closed'")" "three tickets closed"
R2=$(dm_psql -c "select id from outbox where kind = 'relay' and ticket_id = $T2 and status = 'failed'")
R3=$(dm_psql -c "select id from outbox where kind = 'relay' and ticket_id = $T3 and status = 'failed'")
assert_true "the replies to carol failed ($R2, $R3)" test -n "$R2" -a -n "$R3"
closed="$T2,$T3,$T6"
open_state() { dm_psql -c "select md5(string_agg(m.body || m.body_full || coalesce(i.raw::text, ''), '|' order by m.id)) from message m left join inbound i on i.id = m.inbound_id where m.ticket_id not in ($closed)"; }
all_state() { dm_psql -c "select md5(string_agg(m.body || m.body_full || coalesce(i.raw::text, ''), '|' order by m.id)) || (select count(*) from blob) || (select sum(octet_length(raw)) from outbox) || (select sum(octet_length(raw)) from inbound) from message m left join inbound i on i.id = m.inbound_id"; }
open_before=$(open_state)
all_before=$(all_state)
events_before=$(dm_sql_count event)
maxev=$(dm_psql -c "select max(id) from event")
SHARED=$(dm_psql -c "select a.id from attachment a join message m on m.id = a.message_id where m.ticket_id = $T7")
OWN=$(dm_psql -c "select a.id from attachment a join message m on m.id = a.message_id where m.ticket_id = $T6 and a.filename = 'own.bin'")
assert_true "the attachment is there before" dm attachment get "$OWN" -o "$W/own.out"

FUTURE=$(utc_in '+3 years')
# nothing is two years old today
out=$(dm purge --older-than 2y --json)
assert_eq "0|0|0" "$(jq -r '[.tickets, .raw_in, .quarantined] | map(tostring) | join("|")' <<<"$out")" "purge --older-than 2y today: nothing that old"
assert_eq "$all_before" "$(all_state)" "and nothing changed"

dry=$(DESKMAIL_NOW=$FUTURE dm purge --older-than 2y --dry-run --json)
assert_eq "true|3" "$(jq -r '[.dry_run, .tickets] | map(tostring) | join("|")' <<<"$dry")" "--dry-run three years on: the three closed tickets"
assert_eq "2|1" "$(jq -r '[.attachments, .blobs] | map(tostring) | join("|")' <<<"$dry")" "two attachments, one stored file freed (the other is shared with an open ticket)"
assert_eq 30000 "$(jq -r .blob_bytes <<<"$dry")" "the bytes freed are own.bin's"
assert_eq "2|2" "$(jq -r '[.quarantined, .quarantine_dropped] | map(tostring) | join("|")' <<<"$dry")" "two quarantined raw mails (the one delivered twice is stored once), their two held entries dropped"
assert_eq "$all_before" "$(all_state)" "--dry-run changes nothing"
assert_eq "$events_before" "$(dm_sql_count event)" "not even an event"
txt=$(DESKMAIL_NOW=$FUTURE dm purge --older-than 2y --dry-run)
assert_contains "$txt" "would remove from 3 closed ticket(s): " "--dry-run as text says what it would remove"

loose=$(dm_sql_count "outbox where ticket_id is null and status = 'sent' and octet_length(raw) > 0")
assert_true "mail sent about no ticket (notices to strangers) before the purge: $loose" test "$loose" -gt 0
res=$(DESKMAIL_NOW=$FUTURE dm purge --older-than 2y --json --by ops-test)
assert_eq "$(jq -c 'del(.dry_run)' <<<"$dry")" "$(jq -c 'del(.dry_run)' <<<"$res")" "the purge removed what --dry-run said it would"
assert_eq 0 "$(dm_sql_count "message where ticket_id in ($closed) and (body <> '' or body_full <> '' or body_html is not null)")" "no message text left on the closed tickets"
assert_eq 0 "$(dm_sql_count "inbound i join message m on m.inbound_id = i.id where m.ticket_id in ($closed) and (octet_length(i.raw) > 0 or i.purged_at is null)")" "no raw mail in left"
assert_eq 0 "$(dm_sql_count "outbox where ticket_id in ($closed) and status <> 'failed' and octet_length(raw) > 0")" "no raw mail out left"
assert_eq 2 "$(dm_sql_count "outbox where id in ($R2, $R3) and octet_length(raw) > 0")" "but a failed mail, still in the queue, keeps its bytes"
assert_eq 0 "$(dm_sql_count "outbox where ticket_id is null and octet_length(raw) > 0")" "nor of mail about no ticket"
assert_true "the mail of tickets kept keeps its bytes" test "$(dm_sql_count "outbox where ticket_id not in ($closed) and octet_length(raw) > 0")" -gt 0
assert_eq 0 "$(dm_sql_count "attachment a join message m on m.id = a.message_id where m.ticket_id in ($closed) and a.blob_sha256 is not null")" "no attachment bytes linked"
out=$(dm attachment get "$OWN" -o "$W/own2.out" 2>&1); rc=$?
assert_true "a purged attachment cannot be fetched (rc $rc)" test "$rc" -ne 0
assert_contains "$out" "purged" "and the message says it was purged"
assert_true "the shared bytes stay for the open ticket" dm attachment get "$SHARED" -o "$W/shared.out"
assert_true "exactly" cmp -s "$W/shared.bin" "$W/shared.out"
assert_eq "$open_before" "$(open_state)" "open tickets untouched"
assert_eq 0 "$(dm_sql_count "ticket where purged_at is not null and id not in ($closed)")" "only the closed tickets are marked purged"
assert_eq "$events_before" "$(dm_sql_count "event where id <= $maxev")" "every event kept"
assert_eq 3 "$(dm_sql_count "event where kind = 'contents-purged' and actor = 'ops-test' and ticket_id in ($closed)")" "and one more per purged ticket, naming who"
j=$(dm ticket show "$T6" --json)
assert_eq "Logs attached|closed" "$(jq -r '[.subject, .status] | join("|")' <<<"$j")" "the ticket keeps its subject and status"
assert_true "its messages keep their sender" test "$(jq -r '[.messages[] | .from] | length' <<<"$j")" -ge 2
assert_eq "own.bin|purged" "$(jq -r '[.messages[].attachments[] | select(.filename == "own.bin") | .filename, (.refused | split(":")[0])] | join("|")' <<<"$j")" "its attachments keep their names, marked purged"
assert_eq 0 "$(dm_sql_count "inbound where outcome = 'quarantine' and octet_length(raw) > 0")" "quarantined raw mail removed"
assert_eq 0 "$(dm_sql_count "quarantine where status = 'held'")" "the held entries are decided: dropped by the purge"
assert_contains "$(dm quarantine show "$(dm quarantine list --json | jq -r '.[0].id')" --json | jq -r .decision)" "purged" "with the purge as the decision"
assert_eq 14 "$(dm stats --json | jq -r .mail.received.total)" "stats count the 14 mails taken in as before: the rows stay"

again=$(DESKMAIL_NOW=$FUTURE dm purge --older-than 2y --json)
assert_eq "0|0|0|0|0|0" "$(jq -r '[.tickets, .message_texts, .attachments, .raw_in, .raw_out, .quarantined] | map(tostring) | join("|")' <<<"$again")" "a second purge finds nothing to do"
dm outbox drop "$R2" >/dev/null
again=$(DESKMAIL_NOW=$FUTURE dm purge --older-than 2y --json)
assert_eq "0|1" "$(jq -r '[.tickets, .raw_out] | map(tostring) | join("|")' <<<"$again")" "once dropped, the next purge removes its bytes"
assert_eq "0|$(dm_psql -c "select octet_length(raw) from outbox where id = $R3")" "$(dm_psql -c "select octet_length(raw) from outbox where id = $R2")|$(dm_psql -c "select octet_length(raw) from outbox where id = $R3")" "that one only"
assert_true "the other can still be retried with its bytes" test "$(dm_psql -c "select octet_length(raw) from outbox where id = $R3")" -gt 0
# batches: 450 tickets closed three years ago, purged 200 at a time, each
# batch its own transaction (now() is the time its transaction began)
dm_psql -c "insert into ticket (client_id, subject, status, closed_at) select (select min(id) from client), 'old ' || g, 'closed', now() - interval '3 years' from generate_series(1, 450) g" >/dev/null
dm_psql -c "insert into message (ticket_id, direction, author_kind, body, body_full) select id, 'in', 'contact', 'old text', 'old text' from ticket where subject like 'old %'" >/dev/null
res=$(dm purge --older-than 2y --json)
assert_eq "450|450|0" "$(jq -r '[.tickets, .message_texts, .raw_in] | map(tostring) | join("|")' <<<"$res")" "450 old tickets purged"
assert_eq 0 "$(dm_sql_count "message m join ticket t on t.id = m.ticket_id where t.subject like 'old %' and m.body <> ''")" "all their texts"
assert_eq 3 "$(dm_psql -c "select count(distinct purged_at) from ticket where subject like 'old %'")" "in three transactions of at most 200 tickets"
out=$(dm purge --older-than 2x 2>&1); rc=$?
assert_eq 64 "$rc" "a span without a known unit is a usage error"
assert_contains "$out" "90d, 6m, 2y" "and the usage shows the forms"
out=$(dm purge --older-than 7d --dry-run 2>&1 >/dev/null)
assert_contains "$out" "desk.reopen_days (14)" "a span shorter than reopen_days is warned about"
out=$(dm purge 2>&1); rc=$?
assert_eq 64 "$rc" "purge without --older-than is a usage error"
dm_done
