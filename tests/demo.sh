#!/bin/bash
# tests/demo.sh - set everything up on a fresh Debian 12 machine and run
# deskmail's main job on a built-in demo: its own PostgreSQL, Dovecot (IMAP)
# and SMTP server on loopback, a sample client with contacts, sample mail in
# the support mailbox; then `deskmail poll` and `deskmail send`, and what
# they did: the tickets, the quarantine, and the mail the SMTP server got.
#
#   bash tests/demo.sh           (DM_KEEP=1 keeps the servers' folder)
set -eu
cd "$(dirname "$0")/.."
root=$PWD
bash tests/lib/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
export DESKMAIL=$root/build/deskmail
export DESKMAIL_ALLOW_ROOT=1 # run as root here: deskmail refuses it unless told
set +e
. tests/lib/servers.sh
. tests/lib/mail.sh
dm_servers_start
dm_write_conf

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "configuration: $DM_CONF"
dm check-config | tail -n 1
say "database: migrate"
dm migrate
say "administration: a client, its contacts, staff"
dm client add "Acme Ltd" --plan silver
dm client add "Globex" --plan hosting
dm contact add "Acme Ltd" alice@acme.example --name "Alice Archer"
dm contact add "Acme Ltd" bob@acme.example --name "Bob Baker"
dm contact add "Globex" carol@globex.example --name "Carol Chen"
dm contact add "Globex" juergen@globex.example --name "Jürgen Müller"
dm staff add sam@agency.example --name "Sam Senior" --role senior-engineer --line 1
dm staff add jo@agency.example --name "Jo Junior" --role junior-engineer --line 1
dm staff add amy@agency.example --name "Amy Account" --role account-manager --line 2
dm client set "Acme Ltd" --account-manager amy@agency.example
say "sample mail delivered to the support mailbox (Dovecot on 127.0.0.1:$DM_IMAP_PORT)"
for f in tests/data/demo/*.eml; do echo "  $(basename "$f")"; done
dm_deliver tests/data/demo/*.eml
say "deskmail poll"
dm poll
say "deskmail send"
dm send
say "deskmail ticket list"
dm ticket list
say "deskmail quarantine list"
dm quarantine list

# Staff work ticket 1 from their mail client: they reply to the
# notification deskmail sent them.
W=$DM_TEST_DIR/demo
mkdir -p "$W"
notified=$(dm_psql -c "select message_id from outbox where kind = 'notify-new' and ticket_id = 1 and rcpt = 'sam@agency.example'")
dm_mail "$W/10-sam.eml" 'Sam Senior <sam@agency.example>' 'Re: [#1] New ticket: Checkout page shows an error' \
	"#take
#severity high
#status awaiting-client

Hello Alice,

Thank you, we can see the error in the payment module's log. Could you tell
us roughly when you last completed an order successfully?

Sam

On Mon, 23 Nov 2026, Example Agency Support wrote:
> New ticket." "In-Reply-To: <$notified>"
dm_mail "$W/11-jo.eml" 'jo@agency.example' 'Re: [#1] Checkout page shows an error' \
	"#take
The payment plugin was updated last night, that may be it."
say "staff reply by mail: Sam (#take, #severity high, #status awaiting-client, text for Alice), Jo (junior)"
dm_deliver "$W/10-sam.eml" "$W/11-jo.eml"
dm poll
dm send
dm_mail "$W/12-alice.eml" 'Alice Archer <alice@acme.example>' 'Re: [#1] Checkout page shows an error' \
	"Yesterday around 6pm, just before the update I think.

On Mon, 23 Nov 2026, Example Agency Support wrote:
> Hello Alice,"
say "the client answers: the ticket goes back to open and Sam (its assignee) is told"
dm_deliver "$W/12-alice.eml"
dm poll
dm send
say "deskmail ticket show 1"
dm ticket show 1

# The support address is public: trust, loops, bounces and the quarantine.
say "sender verification on: only our border server's Authentication-Results count (auth group)"
dm_write_conf 'auth = { trusted_authserv_id = "mx.agency.example"; require = "aligned"; staff_require = "dmarc"; };'
dm check-config | grep '^auth'
ok_acme='Authentication-Results: mx.agency.example; dkim=pass header.d=acme.example; dmarc=pass header.from=acme.example'
dm_mail "$W/20-forged.eml" 'Sam Senior <sam@agency.example>' 'Re: [#1] Checkout page shows an error' \
	"#status closed

Please re-enter your card details at http://pay.evil.example/" \
	'Authentication-Results: mx.agency.example; spf=fail smtp.mailfrom=agency.example; dmarc=fail header.from=agency.example' \
	'Authentication-Results: evil.example; dmarc=pass header.from=agency.example'
say "a forged staff reply (dmarc=fail at our server, a pass of its own below): quarantined, ticket 1 untouched, Sam told"
dm_deliver "$W/20-forged.eml"
dm poll
dm quarantine list --status held | tail -n 1
dm_psql -c "select 'ticket 1 is ' || status from ticket where id = 1"
say "a client's out-of-office without any header, answering every mail: the second one is taken as automatic"
for i in 1 2; do
	dm_mail "$W/3$i-ooo.eml" 'Bob Baker <bob@acme.example>' 'Away until Monday' 'I am out of the office until Monday.' "$ok_acme"
	dm_deliver "$W/3$i-ooo.eml"
	dm poll
done
dm send >/dev/null
say "the acknowledgement to Bob bounces: matched, marked, the ticket's staff told, nothing answered"
ack=$(dm_psql -c "select message_id from outbox where kind = 'ack' and rcpt = 'bob@acme.example' order by id limit 1")
sed -e "s/dm.1718003645.9f3c2a1b7d4e6f800001@desk.example/$ack/" tests/data/bounce-postfix.eml >"$W/40-bounce.eml"
dm_deliver "$W/40-bounce.eml"
dm poll
dm_psql -c "select 'outbox ' || id || ' (' || kind || ' to ' || rcpt || '): ' || status || ', ' || last_error from outbox where message_id = '$ack'"
say "staff work the quarantine: show the stranger's mail, accept it for Globex (Carol's client)"
q=$(dm quarantine list --json | jq -r '[.[] | select(.from == "eve@example.net")][0].id')
dm quarantine show "$q" | head -n 7
dm quarantine accept "$q" --contact carol@globex.example --by amy@agency.example
dm send

# Service levels, stepping through days with DESKMAIL_NOW.
say "service levels: a London calendar (09:00-12:30, 13:30-17:30, Christmas holidays); silver: first response in 4 working hours, 1st line 7.5 working hours and never more than 12"
AUTH='auth = { trusted_authserv_id = "mx.agency.example"; require = "aligned"; staff_require = "dmarc"; };'
CAL='calendars = { london = { timezone = "Europe/London"; mon = "09:00-12:30,13:30-17:30"; tue = "09:00-12:30,13:30-17:30"; wed = "09:00-12:30,13:30-17:30"; thu = "09:00-12:30,13:30-17:30"; fri = "09:00-12:30,13:30-17:30"; holidays = [ "2026-12-25", "2026-12-28", "2027-01-01" ]; }; };'
PLANS='plans = { silver = { first_response_hours = 4; resolution_hours = 48; severity_hours = { severe = 8; high = 24; medium = 32; low = 80; enhancement = 0; }; line1_hours = 7.5; line1_max_elapsed_hours = 12; line2_hours = 15; line2_max_elapsed_hours = 48; follow_up_hours = 15; max_contacts = 2; }; hosting = { }; };'
DM_DESK_EXTRA='calendar = "london";' dm_write_conf "$AUTH $CAL"
sed -i "s/^plans = .*\$/$PLANS/" "$DM_CONF"
dm check-config | grep -E '^calendars|^plans.silver.(first_response|line1)'
dm staff set amy@agency.example --manager
at() { local t=$1; shift; DESKMAIL_NOW=$t "$DESKMAIL" -c "$DM_CONF" "$@"; }
dm_mail "$W/40-christmas.eml" 'Alice Archer <alice@acme.example>' 'Shop down on Christmas Eve' 'The shop shows a blank page.' "$ok_acme"
say "Thursday 24 December, 16:00: Alice writes (deskmail ingest, DESKMAIL_NOW=2026-12-24T16:00:00Z; the pass after it also moves up the earlier tickets, unanswered since today)"
at 2026-12-24T16:00:00Z ingest "$W/40-christmas.eml"
T=$(dm_psql -c "select id from ticket where subject = 'Shop down on Christmas Eve'")
A=$(dm_psql -c "select id from outbox where kind = 'ack' and ticket_id = $T")
dm_psql -c "select encode(raw, 'base64') from outbox where id = $A" | base64 -d >"$W/40-ack.eml"
"$DM_PYTHON" - "$W/40-ack.eml" <<'PY'
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
body = m.get_body(('plain',)).get_content()
print('  the acknowledgement says: ' + ' '.join(l.strip() for l in body.splitlines() if 'first response' in l or 'by ' in l and '2026' not in l)[:200])
PY
say "deskmail ticket sla $T (at 17:00): 1.5 working hours left on Thursday, then Friday 25 and Monday 28 are holidays"
at 2026-12-24T17:00:00Z ticket sla "$T"
say "deskmail escalate, Friday 25 December 04:00: 12 hours on the 1st line, escalated to the 2nd"
at 2026-12-25T04:00:00Z escalate
dm_psql -c "select format('  %-18s to %-22s not before %s', kind, rcpt, to_char(next_attempt_at, 'Dy DD Mon HH24:MI')) from outbox where ticket_id = $T order by id"
echo "  (the client is told at once; the 2nd line's notice waits for the staff's working hours: the ticket is not severe)"
say "deskmail ticket list --due (Tuesday 29 December, 09:00)"
at 2026-12-29T09:00:00Z ticket list --due | head -n 5
say "deskmail digest --dry-run (Tuesday 29 December, 12:00), for the managers (Amy)"
at 2026-12-29T12:00:00Z digest --dry-run | head -n 24
at 2026-12-29T12:00:00Z digest
at 2026-12-29T12:00:00Z send

# What comes back quoted.
ok_staff='Authentication-Results: mx.agency.example; dkim=pass header.d=agency.example; dmarc=pass header.from=agency.example'
MARK='##- Please type your reply above this line -##'
say "Alice answers the acknowledgement; her mail program quotes it in a way no rule knows: cut at the reply marker"
dm_mail "$W/50-quoted.eml" 'Alice Archer <alice@acme.example>' "Re: [#$T] Shop down on Christmas Eve" "It is back up, thank you!
Alice
    $MARK
    Hello Alice Archer, thank you for contacting Example Agency Support." "$ok_acme"
at 2026-12-29T12:05:00Z ingest "$W/50-quoted.eml" >/dev/null
echo "  kept: $(dm_psql -c "select body from message where ticket_id = $T and direction = 'in' order by id desc limit 1" | tr '\n' '|')"
say "Jo's internal note, then Sam pastes it into his reply to Alice: not relayed, Sam told why"
dm_mail "$W/51-note.eml" 'Jo Junior <jo@agency.example>' "Re: [#$T] Shop down on Christmas Eve" "The outage was our hosting provider again; we owe them a service credit, do not promise one." "$ok_staff"
at 2026-12-29T12:10:00Z ingest "$W/51-note.eml" >/dev/null
dm_mail "$W/52-leak.eml" 'Sam Senior <sam@agency.example>' "Re: [#$T] Shop down on Christmas Eve" "Glad it is back, Alice. The outage was our hosting provider again;
we owe them a service credit, do not promise one." "$ok_staff"
at 2026-12-29T12:15:00Z ingest "$W/52-leak.eml" >/dev/null
dm_psql -c "select format('  event %s: %s', kind, detail) from event where ticket_id = $T and kind = 'relay-withheld'"
dm_psql -c "select format('  %s to %s', kind, rcpt) from outbox where ticket_id = $T and kind = 'notify-withheld'"
at 2026-12-29T12:15:00Z send >/dev/null

# What an operator runs.
say "deskmail check-config -n: only the settings that differ from the defaults"
dm check-config -n | head -n 12
say "deskmail check-config --connect: a login to each server"
dm check-config --connect
say "deskmail outbox list: what is not yet delivered"
dm outbox list
say "deskmail stats"
dm stats
say "deskmail purge --older-than 2y --dry-run, as if in 2029: what would be removed of old closed tickets"
at 2029-06-01T12:00:00Z purge --older-than 2y --dry-run

# The daemon: new mail within two seconds (IMAP IDLE), a reload on SIGHUP.
say "deskmail run, polling only every 300 s: it waits with IMAP IDLE, and a new mail is a ticket at once"
sed 's/poll_interval = 1;/poll_interval = 300;/' "$DM_CONF" >"$W/run.conf"
"$DESKMAIL" -c "$W/run.conf" run >"$W/run.log" 2>&1 &
runpid=$!
dm_wait_for 20 grep -q "IMAP IDLE: waiting" "$W/run.log"
before=$(dm_psql -c "select count(*) from ticket")
dm_mail "$W/60-idle.eml" 'Alice Archer <alice@acme.example>' 'Newsletter signup form broken' 'The signup form on the blog gives a 500 error.' "$ok_acme"
t0=$(date +%s.%N)
dm_deliver "$W/60-idle.eml"
more_tickets() { [ "$(dm_psql -c "select count(*) from ticket")" -gt "$before" ]; }
dm_wait_for 10 more_tickets
echo "  ticket #$(dm_psql -c "select max(id) from ticket") opened $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after delivery"
say "kill -HUP: the configuration and templates read again, the daemon goes on"
kill -HUP "$runpid"
dm_wait_for 10 grep -q "reloaded" "$W/run.log"
kill -TERM "$runpid"; wait "$runpid"
sed 's/^/  /' "$W/run.log" | grep -v "^  *$" | tail -n 8

say "mail received by the SMTP server (127.0.0.1:$DM_SMTP_PORT)"
for n in $(ls "$DM_SMTP_OUT" | sed -n 's/^\([0-9]*\)\.eml$/\1/p' | sort -n); do
	f=$DM_SMTP_OUT/$n.eml
	"$DM_PYTHON" - "$f" "${f%.eml}.env" <<'PY'
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
rcpt = open(sys.argv[2]).read().split('\n')[1]
print('  to %-24s %s' % (rcpt, str(m['Subject'])[:100]))
PY
done
say "second poll: nothing new"
dm poll
echo
echo "Try: $DESKMAIL -c $DM_CONF ticket show 1 --json | jq ."
[ "${DM_KEEP:-0}" = 1 ] && { echo "servers left running in $DM_TEST_DIR"; trap - EXIT; }
exit 0
