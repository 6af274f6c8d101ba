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
dm_done
