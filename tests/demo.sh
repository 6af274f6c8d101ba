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
