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
say "sample mail delivered to the support mailbox (Dovecot on 127.0.0.1:$DM_IMAP_PORT)"
for f in tests/data/demo/*.eml; do echo "  $(basename "$f")"; done
dm_deliver tests/data/demo/*.eml
say "deskmail poll"
dm poll
say "deskmail send"
dm send
say "deskmail ticket list"
dm ticket list
say "deskmail ticket show 1"
dm ticket show 1
say "deskmail quarantine list"
dm quarantine list
say "mail received by the SMTP server (127.0.0.1:$DM_SMTP_PORT)"
for f in "$DM_SMTP_OUT"/*.eml; do
	[ -e "$f" ] || continue
	printf '  to %-28s %s\n' "$(sed -n 2p "${f%.eml}.env")" \
		"$(grep -m1 '^Subject:' "$f" | cut -c1-90)"
done
say "second poll: nothing new"
dm poll
echo
echo "Try: $DESKMAIL -c $DM_CONF ticket show 1 --json | jq ."
[ "${DM_KEEP:-0}" = 1 ] && { echo "servers left running in $DM_TEST_DIR"; trap - EXIT; }
exit 0
