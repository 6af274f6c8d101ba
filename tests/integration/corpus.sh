#!/bin/bash
# corpus.sh - every real-world mail in ../shared/corpus goes through
# `deskmail ingest` against the real database: no crash, no sanitizer
# report, each ends as a ticket message or a quarantine row with a reason,
# and the stored text is valid UTF-8.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
corpus=${DM_CORPUS:-$here/../../../shared/corpus}
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W"

# Make the senders of every third corpus mail named contacts of a client, so
# the corpus exercises new tickets and replies as well as quarantine.
dm client add "Corpus Co" --plan hosting >/dev/null
i=0
for f in "$corpus"/*.eml; do
	i=$((i + 1))
	[ $((i % 3)) -eq 0 ] || continue
	a=$(grep -a -m1 -i '^From:' "$f" | grep -oE '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}' | head -n1 | tr 'A-Z' 'a-z')
	[ -n "$a" ] && dm contact add "Corpus Co" "$a" >/dev/null 2>&1
done

n=0 bad=0
: >"$W/outcomes"
for f in "$corpus"/*.eml; do
	n=$((n + 1))
	out=$(dm ingest "$f" 2>"$W/err"); rc=$?
	if [ $rc -ne 0 ] || ! grep -qE '^(new ticket #[0-9]+|reply #[0-9]+|quarantined|duplicate)$' <<<"$out" \
		|| grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$W/err"; then
		bad=$((bad + 1))
		echo "# $f: rc=$rc out=$out" >&2
		head -c 2000 "$W/err" | sed 's/^/#   /' >&2
	fi
	echo "$(basename "$f") $out" >>"$W/outcomes"
done
assert_eq 0 "$bad" "all $n corpus mails ingested cleanly (exit 0, known outcome, no sanitizer report)"
stored=$(dm_psql -c 'select count(*) from inbound')
dups=$(grep -c ' duplicate$' "$W/outcomes")
assert_eq "$n" "$((stored + dups))" "every mail stored once (or recognised as a duplicate of a stored one)"
assert_eq "0" "$(dm_psql -c "select count(*) from inbound i where not exists (select 1 from message m where m.inbound_id = i.id) and not exists (select 1 from quarantine q where q.inbound_id = i.id)")" "each mail is a ticket message or a quarantine row"
assert_eq "0" "$(dm_psql -c "select count(*) from quarantine where reason is null or reason = ''")" "every quarantine row has a reason"
assert_true "some corpus mails became tickets" test "$(dm_psql -c 'select count(*) from ticket')" -gt 5
assert_true "some were quarantined" test "$(dm_psql -c 'select count(*) from quarantine')" -gt 5
assert_eq "0" "$(dm_psql -c "select count(*) from quarantine q join inbound i on i.id = q.inbound_id where i.automatic and exists (select 1 from outbox o where o.kind = 'quarantine-notice' and o.rcpt = q.from_addr and o.created_at >= q.received_at and o.created_at < q.received_at + interval '1 second')")" "automatic corpus mail (bounces, auto-replies) got no notice"
# The server stores text columns in UTF-8 and rejects invalid sequences, so
# a successful insert already proves validity; check the database encoding
# and round-trip all text through convert_to as a second line of defence.
assert_eq "UTF8" "$(dm_psql -c 'show server_encoding')" "database encoding is UTF-8"
assert_eq "0" "$(dm_psql -c "select count(*) from message where position(E'\\\\x00' in body) > 0 or length(convert_to(body, 'UTF8')) < octet_length(body)")" "message text is valid UTF-8 without NUL"
# everything shows as JSON
for t in $(dm_psql -c 'select id from ticket order by id'); do
	dm ticket show "$t" --json | jq -e .id >/dev/null || { echo "# ticket $t JSON broken" >&2; bad=$((bad + 1)); }
done
assert_eq 0 "$bad" "ticket show --json is valid JSON for every corpus ticket"
dm quarantine list --json | jq -e 'length > 0' >/dev/null
assert_eq 0 $? "quarantine list --json is valid JSON"
# attachments came through with names and sizes
assert_true "attachments stored" test "$(dm_psql -c 'select count(*) from attachment')" -gt 0
assert_eq "0" "$(dm_psql -c "select count(*) from attachment a join blob b on b.sha256 = a.blob_sha256 where b.size <> a.size or octet_length(b.data) <> a.size")" "attachment sizes match their bytes"

# The same mails as replies on one ticket: from a senior engineer (commands,
# clean text, relay of text and attachments to the client), a junior (an
# internal note) and the client's contact (clean text, notifications).
# Then everything queued is composed and delivered to the real SMTP server.
dm staff add jo@agency.example --name "Jo Junior" --role junior-engineer --line 2 >/dev/null
dm_mail "$W/open" 'alice@acme.example' 'Corpus conversation' 'Please read the following mails.'
t=$(dm ingest "$W/open" | sed -n 's/^new ticket #//p')
assert_true "a ticket for the corpus conversation" test -n "$t"
senders=(sam@agency.example jo@agency.example alice@acme.example)
n=0 bad=0
for f in "$corpus"/*.eml; do
	from=${senders[$((n % 3))]}
	n=$((n + 1))
	"$DM_PYTHON" - "$f" "$W/as-reply.eml" "$from" "$t" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
m = re.search(rb"\r?\n\r?\n", raw)
head, body = (raw[:m.start()], raw[m.start():]) if m else (raw, b"\r\n\r\n")
lines, skip = [], False
for line in re.split(rb"\r?\n", head):
    if line[:1] in (b" ", b"\t") and skip:
        continue
    skip = re.match(rb"(?i)(from|subject|message-id|auto-submitted|precedence|return-path):", line) is not None
    if not skip:
        lines.append(line)
new = [b"From: " + sys.argv[3].encode(), b"Subject: Re: [#" + sys.argv[4].encode() + b"] corpus " +
       sys.argv[1].rsplit("/", 1)[-1].encode(), b"Message-ID: <corpus-reply-%d@test.example>" % len(raw)]
open(sys.argv[2], "wb").write(b"\r\n".join(new + lines) + body)
PY
	out=$(dm ingest "$W/as-reply.eml" 2>"$W/err"); rc=$?
	if [ $rc -ne 0 ] || ! grep -qE "^(reply #$t|duplicate)$" <<<"$out" ||
		grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$W/err"; then
		bad=$((bad + 1))
		echo "# $f as a reply from $from: rc=$rc out=$out" >&2
		head -c 2000 "$W/err" | sed 's/^/#   /' >&2
	fi
done
assert_eq 0 "$bad" "all $n corpus mails taken as staff, junior and client replies cleanly"
assert_true "senior replies were relayed to the client" \
	test "$(dm_psql -c "select count(*) from outbox where kind = 'relay' and ticket_id = $t")" -gt 10
assert_eq "0" "$(dm_psql -c "select count(*) from outbox o join message m on m.message_id = o.message_id where o.kind = 'relay' and m.body !~ '\\S'")" "no relay without text"
assert_eq "0" "$(dm_psql -c "select count(*) from outbox where kind = 'relay' and rcpt <> 'alice@acme.example'")" "relays go to the ticket's contact only"
assert_eq "0" "$(dm_psql -c "select count(*) from message where ticket_id = $t and staff_id = (select id from staff where email = 'jo@agency.example') and not internal")" "nothing of the junior's is public"
dm_psql -c "update outbox set next_attempt_at = now()" >/dev/null
out=$(dm send 2>"$W/err"); rc=$?
assert_eq 0 "$rc" "send exits 0 ($out)"
assert_true "no sanitizer report while sending" bash -c "! grep -q 'runtime error\|AddressSanitizer' '$W/err'"
assert_eq "0" "$(dm_psql -c "select count(*) from outbox where status <> 'sent'")" "every queued mail was composed and accepted by the SMTP server"
dm_done
