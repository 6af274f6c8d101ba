#!/bin/bash
# trust.sh - who may act as a client contact or as staff, on real servers
# (PostgreSQL, SMTP; mail handed in by pipe).  With an auth group, only our
# border server's Authentication-Results count: a forged From acts as
# nobody, is kept in quarantine with the verification result, and staff
# are told.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
dm_write_conf
dm_fixture
dm staff add amy@agency.example --name "Amy Lead" --role senior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W"

# without an auth group check-config says what that means
assert_contains "$(dm check-config 2>&1)" "anyone can write as" "check-config warns without an auth group"

AUTH='auth = { trusted_authserv_id = "mx.agency.example"; require = "aligned"; staff_require = "dmarc"; };'
dm_write_conf "$AUTH"
ok_alice='Authentication-Results: mx.agency.example; spf=pass smtp.mailfrom=acme.example; dkim=pass header.d=acme.example; dmarc=pass header.from=acme.example'
ok_sam='Authentication-Results: mx.agency.example; dkim=pass header.d=agency.example; dmarc=pass header.from=agency.example'

# a verified contact opens a ticket
dm_mail "$W/a" 'alice@acme.example' 'Checkout broken' 'Customers cannot pay.' "$ok_alice"
assert_contains "$(dm ingest "$W/a")" "new ticket" "a verified contact opens a ticket"
T=$(dm_psql -c "select id from ticket where subject = 'Checkout broken'")
dm send >/dev/null

# 1. a forged staff reply: our server says dmarc=fail, the sender adds a
# pass of its own under another authserv-id
mark=$(dm_outbox_max)
dm_mail "$W/f1" 'Sam Senior <sam@agency.example>' "Re: [#$T] Checkout broken" "#status closed

Please confirm your card at http://evil.example/pay" \
	'Authentication-Results: mx.agency.example; spf=fail smtp.mailfrom=agency.example; dmarc=fail header.from=agency.example' \
	'Authentication-Results: evil.example; dmarc=pass header.from=agency.example'
assert_eq quarantined "$(dm ingest "$W/f1")" "a forged staff reply is quarantined"
assert_eq open "$(dm_psql -c "select status from ticket where id = $T")" "its #status closed is not applied"
assert_eq 0 "$(dm_sql_count "outbox where id > $mark and kind = 'relay'")" "nothing is relayed to the client"
assert_eq 0 "$(dm_sql_count "outbox where id > $mark and rcpt = 'alice@acme.example'")" "the client gets nothing at all"
q=$(dm quarantine list --json | jq -c '.[-1]')
assert_contains "$(jq -r .reason <<<"$q")" "unverified sender" "the reason says unverified sender"
assert_contains "$(jq -r .reason <<<"$q")" "dmarc=fail, spf=fail (mx.agency.example)" "with the verification result of our server"
assert_eq "amy@agency.example,sam@agency.example" "$(dm_psql -c "select string_agg(rcpt, ',' order by rcpt) from outbox where id > $mark and kind = 'notify-unverified'")" "the ticket's line and the staff member whose address was used are told"

# 2. the same staff reply with our server's pass is a staff reply
dm_mail "$W/s1" 'Sam Senior <sam@agency.example>' "Re: [#$T] Checkout broken" "#status awaiting-client

Please try again now." "$ok_sam"
assert_contains "$(dm ingest "$W/s1")" "reply" "a verified staff reply is taken"
assert_eq awaiting-client "$(dm_psql -c "select status from ticket where id = $T")" "and its command applied"

# 3. the sender writes our server's id itself, below or above the real
# header: only the topmost header with our id counts (our server's own,
# it strips what senders write with its id); with no header from our
# server at all a pass written by the sender counts for nothing
dm_mail "$W/f2" 'alice@acme.example' 'Wire the money' 'Please pay invoice 42 to IBAN XX.' \
	'Authentication-Results: mx.agency.example; dmarc=fail header.from=acme.example' \
	'Authentication-Results: mx.agency.example; dmarc=pass header.from=acme.example'
assert_eq quarantined "$(dm ingest "$W/f2")" "a forged contact mail opens no ticket"
assert_eq 0 "$(dm_sql_count "ticket where subject = 'Wire the money'")" "no ticket"
dm_mail "$W/f3" 'alice@acme.example' 'Wire more money' 'Pay again.' \
	'Authentication-Results: mail.evil.example; dmarc=pass header.from=acme.example'
assert_eq quarantined "$(dm ingest "$W/f3")" "a pass from another server counts for nothing"
assert_contains "$(dm quarantine list --json | jq -r '.[-1].reason')" "no Authentication-Results from mx.agency.example" "and the reason says so"
assert_eq 0 "$(dm_sql_count "outbox where rcpt = 'alice@acme.example' and kind = 'quarantine-notice'")" "no notice goes to a forged address"

# 3b. a flood of forged mail: kept, staff told at most
# desk.max_notices_per_hour times an hour; a forged subject's [#N] never
# reaches the notice (a reply to it would go to that ticket)
DM_DESK_EXTRA="max_notices_per_hour = 5;" dm_write_conf "$AUTH"
mark=$(dm_outbox_max)
for i in $(seq 1 8); do
	dm_mail "$W/fl$i" 'alice@acme.example' "[#$T] Invoice $i" "Pay invoice $i to http://evil.example/$i" \
		'Authentication-Results: mx.agency.example; dmarc=fail header.from=acme.example'
	dm ingest "$W/fl$i" >/dev/null
done
dm_write_conf "$AUTH"
n=$(dm_sql_count "outbox where id > $mark and kind = 'notify-unverified'")
assert_true "eight forged mails: staff told at most five times ($n)" test "$n" -le 5 -a "$n" -ge 1
assert_eq 8 "$(dm_sql_count "quarantine where subject like '%Invoice %'")" "all eight kept"

# 4. a stranger who fails verification gets no notice either
dm_mail "$W/e" 'eve@stranger.example' 'Hello' 'Who are you?'
assert_eq quarantined "$(dm ingest "$W/e")" "a stranger is quarantined"
assert_eq 0 "$(dm_sql_count "outbox where rcpt = 'eve@stranger.example'")" "and, unverified, gets no notice"
dm_done
