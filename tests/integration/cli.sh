#!/bin/bash
# cli.sh - what an operator sees of the command line, against the real
# test servers: usage errors (64) before any configuration is read,
# --help for every command doing nothing else, -q for cron, refusing
# root, password files others may read, the example's placeholder
# password, an unmigrated database (78), refused logins with the server's
# own words (77) for PostgreSQL, IMAP and SMTP, unreachable servers (75),
# IMAP errors in Dovecot's words (a missing mailbox, a missing move_to
# folder, a certificate that does not verify), `check-config -n` and
# `check-config --connect`, and log lines in the journal's format.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
assert_lacks() { # HAYSTACK NEEDLE MSG
	if [[ "$1" != *"$2"* ]]; then dm_ok "$3"; else dm_not_ok "$3" "unexpected: $2" "in: ${1:0:600}"; fi
}
NOCONF=/nonexistent/deskmail.conf

# ---- 1. usage errors: 64, before any configuration is read ----
for line in "frobnicate" "poll --bogus" "poll extra" "client" "client frob" "client add" \
	"client add Acme" "client add Acme --plan" "contact add Acme" "ticket show" \
	"quarantine drop" "attachment get 1 -o" "digest --dry-run=yes"; do
	# shellcheck disable=SC2086
	"$DESKMAIL" -c "$NOCONF" $line >/dev/null 2>"/tmp/cli.$$.err"
	rc=$?
	err=$(cat "/tmp/cli.$$.err")
	if [ "$rc" = 64 ] && [[ "$err" != *"$NOCONF"* ]] && [[ "$err" == deskmail:* ]]; then
		dm_ok "'$line': exit 64 before the configuration is read"
	else
		dm_not_ok "'$line': exit 64 before the configuration is read" "rc $rc" "$err"
	fi
done
"$DESKMAIL" -c "$NOCONF" client frob >/dev/null 2>"/tmp/cli.$$.err"
assert_contains "$(cat "/tmp/cli.$$.err")" "deskmail client add NAME --plan PLAN" "an unknown subcommand lists the command's subcommands"
rm -f "/tmp/cli.$$.err"

# ---- 2. --help and -h for every command and subcommand: stdout, 0, nothing else ----
for line in "check-config" "migrate" "poll" "ingest" "send" "run" "escalate" "digest" \
	"client" "client add" "client set" "client show" "client list" "contact" "contact add" \
	"contact remove" "contact list" "staff" "staff add" "staff set" "staff list" "ticket" \
	"ticket list" "ticket show" "ticket sla" "quarantine" "quarantine list" "quarantine show" \
	"quarantine accept" "quarantine drop" "quarantine retry" "attachment" "attachment get"; do
	for h in --help -h; do
		# shellcheck disable=SC2086
		out=$("$DESKMAIL" -c "$NOCONF" $line $h 2>&1)
		rc=$?
		if [ "$rc" = 0 ] && [[ "$out" == "usage:"* ]] && [[ "$out" == *"deskmail ${line}"* ]]; then
			dm_ok "'$line $h': its usage, exit 0"
		else
			dm_not_ok "'$line $h': its usage, exit 0" "rc $rc" "${out:0:300}"
		fi
	done
done
out=$("$DESKMAIL" --help); rc=$?
assert_eq 0 "$rc" "deskmail --help: exit 0"
assert_contains "$out" "--allow-root" "and the global usage names --allow-root"

# ---- 3. root is refused unless told ----
if [ "$(id -u)" = 0 ]; then
	out=$(env -u DESKMAIL_ALLOW_ROOT "$DESKMAIL" -c "$NOCONF" poll 2>&1); rc=$?
	assert_eq 77 "$rc" "as root without --allow-root: exit 77"
	assert_contains "$out" "refusing to run as root" "with a clear message"
	assert_lacks "$out" "$NOCONF" "before the configuration is read"
	env -u DESKMAIL_ALLOW_ROOT "$DESKMAIL" -c "$NOCONF" --allow-root poll >/dev/null 2>&1; rc=$?
	assert_eq 78 "$rc" "--allow-root before the command: it runs (and finds no configuration)"
	env -u DESKMAIL_ALLOW_ROOT DESKMAIL_ALLOW_ROOT=1 "$DESKMAIL" -c "$NOCONF" poll >/dev/null 2>&1; rc=$?
	assert_eq 78 "$rc" "DESKMAIL_ALLOW_ROOT=1: it runs"
	env -u DESKMAIL_ALLOW_ROOT DESKMAIL_ALLOW_ROOT=yes "$DESKMAIL" -c "$NOCONF" poll >/dev/null 2>&1; rc=$?
	assert_eq 77 "$rc" "DESKMAIL_ALLOW_ROOT=yes is not 1: refused"
	env -u DESKMAIL_ALLOW_ROOT "$DESKMAIL" poll --help >/dev/null 2>&1; rc=$?
	assert_eq 0 "$rc" "--help needs no --allow-root"
	env -u DESKMAIL_ALLOW_ROOT "$DESKMAIL" --version >/dev/null 2>&1; rc=$?
	assert_eq 0 "$rc" "--version needs no --allow-root"
else
	dm_ok "# SKIP not root: the refusal of root is not tested"
fi

dm_servers_start
W=$DM_TEST_DIR/work
mkdir -p "$W"
dm_write_conf

# ---- 4. poll --help does not poll ----
dm_mail "$W/h1" 'alice@acme.example' 'Help is not a poll' 'hello'
dm_deliver "$W/h1"
dm poll --help >/dev/null 2>&1
assert_eq 1 "$(find "$DM_MAILDIR/new" -type f | wc -l)" "poll --help leaves the new mail alone"

# ---- 5. an unmigrated database: 78 with "run deskmail migrate", except migrate ----
out=$(dm ticket list 2>&1); rc=$?
assert_eq 78 "$rc" "never migrated: ticket list exits 78"
assert_contains "$out" "database not migrated: run \`deskmail migrate\`" "and says to run migrate"
out=$(dm poll 2>&1); rc=$?
assert_eq 78 "$rc" "never migrated: poll exits 78"
assert_contains "$out" "deskmail migrate" "and says so"
assert_eq 1 "$(find "$DM_MAILDIR/new" -type f | wc -l)" "without touching the mailbox"
dm_fixture
assert_eq 0 "$(dm ticket list >/dev/null 2>&1; echo $?)" "migrated: ticket list works"
cp -r "$DM_REPO_DIR/sql" "$W/sql"
echo "SELECT 1;" >"$W/sql/999_future.sql"
out=$(DESKMAIL_SQLDIR=$W/sql dm staff list 2>&1); rc=$?
assert_eq 78 "$rc" "a newer migration not applied: exit 78"
assert_contains "$out" "999_future.sql is not applied: run \`deskmail migrate\`" "naming it"
DESKMAIL_SQLDIR=$W/sql dm migrate >/dev/null 2>&1; rc=$?
assert_eq 0 "$rc" "migrate applies it"
assert_eq 0 "$(DESKMAIL_SQLDIR=$W/sql dm staff list >/dev/null 2>&1; echo $?)" "then the commands work again"

# ---- 6. -q: only warnings and errors ----
out=$(dm -q poll 2>"$W/q.err"); rc=$?
assert_eq 0 "$rc" "deskmail -q poll: exit 0"
assert_eq "" "$out" "prints nothing"
assert_lacks "$(cat "$W/q.err")" " info: " "and logs nothing below a warning"
assert_eq 1 "$(dm_psql -c 'select count(*) from ticket')" "the mail was taken in all the same"
dm_mail "$W/h2" 'alice@acme.example' 'Quiet two' 'hello'
dm_deliver "$W/h2"
out=$(dm poll -q 2>"$W/q2.err")
assert_eq "" "$out$(grep -c ' info: ' "$W/q2.err" | grep -v '^0$')" "poll -q after the command: the same"
out=$(dm escalate -q 2>/dev/null)
assert_eq "" "$out" "escalate -q keeps working"
# the operator's commands take -q after them too (cron)
for line in "stats --prometheus $W/q.prom -q" "stats --quiet --json" "outbox list -q" \
	"purge --older-than 2y --dry-run -q"; do
	# shellcheck disable=SC2086
	out=$(dm $line 2>&1); rc=$?
	if [ "$rc" = 0 ]; then
		dm_ok "'$line': exit 0"
	else
		dm_not_ok "'$line': exit 0" "rc $rc" "${out:0:300}"
	fi
done
assert_true "stats --prometheus F -q writes F" test -s "$W/q.prom"
out=$(dm poll 2>"$W/loud.err")
assert_contains "$out" "fetched 0" "without -q poll says what it did"

# ---- 7. logs under journald: priority prefixes, no own timestamp ----
: >"$W/journal.err"
js=$(stat -c '%d:%i' "$W/journal.err")
dm_mail "$W/j1" 'alice@acme.example' 'Journal' 'hello'
dm_deliver "$W/j1"
JOURNAL_STREAM=$js dm -v poll >/dev/null 2>>"$W/journal.err"
first=$(head -n1 "$W/journal.err")
assert_true "under journald every line starts with <N>" test -z "$(grep -v '^<[0-7]>' "$W/journal.err")"
assert_true "info lines are <6>" grep -q '^<6>info: ' "$W/journal.err"
assert_true "no timestamp of our own ($first)" test -z "$(grep -E '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' "$W/journal.err")"
: >"$W/journal2.err"
js=$(stat -c '%d:%i' "$W/journal2.err")
JOURNAL_STREAM=$js "$DESKMAIL" -c "$DM_CONF" ticket show 999999 >/dev/null 2>>"$W/journal2.err"
assert_contains "$(cat "$W/journal2.err")" "<3>deskmail: " "a fatal error is <3> under journald"
dm_mail "$W/j2" 'alice@acme.example' 'Journal two' 'hello'
dm_deliver "$W/j2"
JOURNAL_STREAM=1:2 dm poll >/dev/null 2>"$W/nojournal.err"
assert_true "another JOURNAL_STREAM (not our stderr): the usual TIME deskmail LEVEL format" \
	grep -q '^20[0-9-]*T[0-9:]*Z deskmail info: ' "$W/nojournal.err"

# ---- 8. password files and the placeholder ----
printf 'secret\n' >"$W/imap.password"
chmod 644 "$W/imap.password"
sed -i "s|password = \"secret\";|password_file = \"$W/imap.password\";|" "$DM_CONF"
out=$(dm check-config 2>&1); rc=$?
assert_eq 78 "$rc" "a password file readable by others (0644): exit 78"
assert_contains "$out" "$W/imap.password is readable or writable by others (mode 0644)" "naming the file and its mode"
chmod 602 "$W/imap.password"
assert_eq 78 "$(dm check-config >/dev/null 2>&1; echo $?)" "writable by others (0602): refused too"
chmod 640 "$W/imap.password"
assert_eq 0 "$(dm check-config >/dev/null 2>&1; echo $?)" "0640 (owner and group): fine"
assert_eq 0 "$(dm poll >/dev/null 2>&1; echo $?)" "and the poll logs in with it"
dm_write_conf
sed -i 's/password = "secret";/password = "change-me";/' "$DM_CONF"
out=$(dm check-config 2>&1); rc=$?
assert_eq 78 "$rc" "check-config refuses the example's placeholder password"
assert_contains "$out" "imap.password' is still the example's placeholder" "and says which"

# ---- 9. check-config -n: what differs from the defaults ----
dm_write_conf
out=$(dm check-config -n 2>/dev/null); rc=$?
assert_eq 0 "$rc" "check-config -n: exit 0"
assert_contains "$out" "imap.poll_interval = 1" "a changed setting is shown"
assert_contains "$out" "imap.url = \"$DM_IMAP_URL\"" "and a required one"
assert_contains "$out" "imap.password = (set)" "a password is only said to be set"
assert_lacks "$out" "imap.timeout" "a default is not"
assert_lacks "$out" "smtp.max_attempts" "nor another"
assert_contains "$out" "plans.hosting = { }" "a plan at its defaults still shows"
full=$(dm check-config 2>/dev/null)
assert_contains "$full" "imap.timeout = 60" "without -n every setting is shown"

# ---- 10. refused logins: 77 with the server's words ----
# PostgreSQL: an unknown role, a wrong password (a role with a password,
# and pg_hba.conf asking for it)
conf_db() { dm_write_conf; sed -i "s|conninfo = \"[^\"]*\"|conninfo = \"$1\"|" "$DM_CONF"; }
conf_db "host=127.0.0.1 port=$DM_PG_PORT dbname=deskmail user=nosuch"
out=$(dm ticket list 2>&1); rc=$?
assert_eq 77 "$rc" "PostgreSQL: an unknown role exits 77"
assert_contains "$out" 'role "nosuch" does not exist' "with the server's words"
"$DM_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$DM_PG_PORT" -U postgres -d postgres \
	-c "CREATE ROLE pwuser LOGIN PASSWORD 'right'" >/dev/null
sed -i '1i host all pwuser 127.0.0.1/32 scram-sha-256' "$DM_TEST_DIR/pg/pg_hba.conf"
"$DM_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$DM_PG_PORT" -U postgres -d postgres \
	-c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
conf_db "host=127.0.0.1 port=$DM_PG_PORT dbname=deskmail user=pwuser password=wrong"
out=$(dm ticket list 2>&1); rc=$?
assert_eq 77 "$rc" "PostgreSQL: a wrong password exits 77"
assert_contains "$out" 'password authentication failed for user "pwuser"' "with the server's words"
dm_mail "$W/pipe" 'alice@acme.example' 'Through the pipe' 'hello'
out=$(dm ingest "$W/pipe" 2>&1); rc=$?
assert_eq 75 "$rc" "ingest (an MTA's pipe) with the login refused: 75, so the MTA keeps the mail (77 bounces)"
assert_contains "$out" "password authentication failed" "saying why all the same"
conf_db "host=127.0.0.1 port=$DM_PG_PORT dbname=deskmail user=pwuser"
out=$(PGPASSFILE=/dev/null dm ticket list 2>&1); rc=$?
assert_eq 77 "$rc" "PostgreSQL: no password where one is asked for exits 77"
conf_db "host=127.0.0.1 port=$(dm_free_port) dbname=deskmail user=deskmail"
out=$(dm ticket list 2>&1); rc=$?
assert_eq 75 "$rc" "PostgreSQL unreachable (connection refused): exit 75"
# values of a form the grammar knows: 64 even with the database down (not 75)
for line in "ticket show abc" "attachment get x" "staff set a@b.example" \
	"staff add a@b.example --name A --role wizard" \
	"staff add a@b.example --name A --role junior-engineer --line 7" \
	"ticket list --status bogus"; do
	# shellcheck disable=SC2086
	out=$(dm $line 2>&1); rc=$?
	if [ "$rc" = 64 ] && [[ "$out" == *"usage: deskmail"* ]]; then
		dm_ok "'$line' with the database unreachable: exit 64"
	else
		dm_not_ok "'$line' with the database unreachable: exit 64" "rc $rc" "${out:0:300}"
	fi
done
conf_db "host=no-such-host.invalid dbname=deskmail user=deskmail"
assert_eq 75 "$(dm ticket list >/dev/null 2>&1; echo $?)" "PostgreSQL host unknown to DNS: exit 75"
conf_db "host=127.0.0.1 port=$DM_PG_PORT dbname=nosuchdb user=deskmail"
assert_eq 78 "$(dm ticket list >/dev/null 2>&1; echo $?)" "a database that does not exist: exit 78"
conf_db "host=127.0.0.1 bogus_option=1"
out=$(dm ticket list 2>&1); rc=$?
assert_eq 78 "$rc" "a conninfo libpq cannot read: exit 78"
assert_contains "$out" "bogus_option" "naming what is wrong"

# IMAP: a wrong password, an unreachable server
dm_write_conf
sed -i 's/password = "secret";/password = "wrong";/' "$DM_CONF"
out=$(dm poll 2>&1); rc=$?
assert_eq 77 "$rc" "IMAP: a wrong password exits 77"
assert_contains "$out" "NO [AUTHENTICATIONFAILED] Authentication failed." "with Dovecot's words"
assert_lacks "$out" "Logout" "not the logout that follows"
assert_lacks "$out" "wrong" "and never the password"
DM_IMAP_URL="imap://127.0.0.1:$(dm_free_port)/INBOX" dm_write_conf
assert_eq 75 "$(dm poll >/dev/null 2>&1; echo $?)" "IMAP unreachable: exit 75"

# ---- 11. IMAP errors in the server's words ----
DM_IMAP_URL="imap://127.0.0.1:$DM_IMAP_PORT/Nope" dm_write_conf
out=$(dm poll 2>&1)
assert_contains "$out" "NO Mailbox doesn't exist: Nope" "a missing mailbox: Dovecot's NO"
assert_lacks "$out" "Logout completed" "not curl's logout"
dm_write_conf
sed -i 's/poll_interval = 1;/poll_interval = 1; move_to = "Nowhere";/' "$DM_CONF"
dm_mail "$W/m1" 'alice@acme.example' 'Move me' 'hello'
dm_deliver "$W/m1"
dm poll >/dev/null 2>"$W/move.err"
assert_contains "$(cat "$W/move.err")" "Mailbox doesn't exist: Nowhere" "a missing move_to folder: Dovecot's NO in the log"
assert_lacks "$(cat "$W/move.err")" "Logout completed" "not curl's logout"

# a certificate that does not verify: Dovecot on imaps with a self-signed one
T=$DM_TEST_DIR/tls
mkdir -p "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=deskmail cli test" \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/server.key" -out "$T/server.pem" 2>"$W/openssl.log"
IMAPS_PORT=$(dm_free_port)
dm_imap_stop
sed -i -e "s|^ssl = no|ssl = yes\nssl_cert = <$T/server.pem\nssl_key = <$T/server.key|" \
	-e "/inet_listener imaps {/,/}/ s|port = 0|port = $IMAPS_PORT\n    address = 127.0.0.1|" \
	"$DM_TEST_DIR/dovecot/dovecot.conf"
dm_imap_start
dm_wait_for 10 dm_port_open "$IMAPS_PORT"
DM_IMAP_URL="imaps://127.0.0.1:$IMAPS_PORT/INBOX" dm_write_conf
out=$(dm poll 2>&1); rc=$?
assert_eq 75 "$rc" "a certificate that does not verify: exit 75"
assert_contains "$out" "SSL certificate problem" "curl's words about the certificate"
assert_contains "$out" "(verify result 18)" "and the verify result (self-signed)"
sed -i "s|imap = {|imap = { ca_file = \"$T/server.pem\";|" "$DM_CONF"
assert_eq 0 "$(dm poll >/dev/null 2>&1; echo $?)" "trusted through imap.ca_file, the same server works"
# STARTTLS: imap:// to an address that is not loopback's (the IPv4-mapped
# one) must go through STARTTLS, and the certificate fails there the same way
DM_IMAP_URL="imap://[::ffff:127.0.0.1]:$DM_IMAP_PORT/INBOX" dm_write_conf
out=$(dm poll 2>&1); rc=$?
assert_eq 75 "$rc" "STARTTLS with a certificate that does not verify: exit 75"
assert_contains "$out" "SSL certificate problem" "curl's words about the certificate"
assert_contains "$out" "(verify result 18)" "and the verify result"
assert_lacks "$out" "Begin TLS negotiation" "not the OK to STARTTLS that came before"

# ---- 12. SMTP: unreachable 75, a refused login 77, the mail waits ----
dm_write_conf
dm_smtp_stop
before=$(dm_psql -c "select count(*) from outbox where status = 'pending'")
out=$(dm send 2>&1); rc=$?
assert_eq 75 "$rc" "send with the SMTP server unreachable: exit 75"
assert_true "there was mail to send ($before)" test "$before" -ge 1
assert_eq 0 "$(dm_psql -c "select coalesce(sum(attempts), 0) from outbox where status = 'pending'")" "no attempt is counted"
dm_smtp_start --tls-cert "$T/server.pem" --tls-key "$T/server.key" --auth desk:right-one
printf 'wrong-one\n' >"$W/smtp.password"
chmod 600 "$W/smtp.password"
DM_SMTP_EXTRA="username = \"desk\"; password_file = \"$W/smtp.password\"; ca_file = \"$T/server.pem\";" dm_write_conf
out=$(dm send 2>&1); rc=$?
assert_eq 77 "$rc" "send with a refused SMTP login: exit 77"
assert_contains "$out" "535" "with the server's reply"
assert_eq 0 "$(dm_psql -c "select coalesce(sum(attempts), 0) from outbox where status = 'pending'")" "still no attempt counted"
assert_eq 0 "$(dm_smtp_count)" "nothing was sent"

# ---- 13. check-config --connect: each server on its line, the worst exit ----
out=$(dm check-config --connect 2>/dev/null); rc=$?
assert_eq 77 "$rc" "--connect with the SMTP login refused: 77"
assert_contains "$out" "postgresql: ok (server " "postgresql: ok"
assert_contains "$out" "schema version " "with the schema version"
assert_contains "$out" "imap: ok (" "imap: ok"
assert_contains "$out" "smtp: failed: " "smtp: failed"
printf 'right-one\n' >"$W/smtp.password"
out=$(dm check-config --connect 2>/dev/null); rc=$?
assert_eq 0 "$rc" "--connect with all three fine: 0"
assert_contains "$out" "smtp: ok (smtp://127.0.0.1:$DM_SMTP_PORT, logged in as desk)" "smtp: ok, logged in"
assert_eq 0 "$(dm_smtp_count)" "and no mail was sent"
assert_eq 0 "$(dm send >/dev/null 2>&1; echo $?)" "the right password: send works again"
assert_true "and the waiting mail went out" test "$(dm_smtp_count)" -ge 1
sed -i 's/password = "secret";/password = "wrong";/' "$DM_CONF"
out=$(dm check-config --connect 2>/dev/null); rc=$?
assert_eq 77 "$rc" "--connect with the IMAP login refused: 77"
assert_contains "$out" "imap: failed: IMAP STATUS: login denied: " "imap: failed, saying so"
sed -i 's/password = "wrong";/password = "secret";/' "$DM_CONF"
dm_smtp_stop
out=$(dm check-config --connect 2>/dev/null); rc=$?
assert_eq 75 "$rc" "--connect with the SMTP server down: 75 ($out)"
echo "SELECT 1;" >"$W/sql/1000_later.sql"
out=$(DESKMAIL_SQLDIR=$W/sql dm check-config --connect 2>/dev/null); rc=$?
assert_eq 78 "$rc" "--connect on a database missing a migration (and SMTP down): 78 outranks 75"
assert_contains "$out" "postgresql: failed: database not migrated" "postgresql: not migrated"

# ---- 14. a fatal error goes to syslog too when log.syslog is on ----
# /dev/log is a socket of ours, in a mount namespace of the one command
# (root only; the host's /dev is untouched)
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	"$DM_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
' "$W/log.sock" "$W/syslog.txt" &
	SYSLOG_PID=$!
	dm_wait_for 10 test -S "$W/log.sock"
	dm_write_conf "log = { syslog = true; };"
	unshare -m bash -c '
		set -e
		mkdir -p "$1/realdev"
		mount --bind /dev "$1/realdev"
		mount -t tmpfs tmpfs /dev
		for d in null zero urandom random; do touch /dev/$d; mount --bind "$1/realdev/$d" /dev/$d; done
		touch /dev/log
		mount --bind "$1/log.sock" /dev/log
		"$DESKMAIL" -c "$DM_CONF" ticket show 999999 >/dev/null 2>"$1/fatal.err" || echo "rc=$?" >"$1/fatal.rc"
	' _ "$W"
	sleep 0.5
	dm_kill_pid "$SYSLOG_PID"
	assert_eq "rc=1" "$(cat "$W/fatal.rc" 2>/dev/null)" "ticket show of a missing ticket: exit 1"
	assert_contains "$(cat "$W/fatal.err")" "deskmail: " "the fatal error is on stderr"
	assert_true "and in syslog, as an error of the mail facility (<19>)" \
		grep -q '^<19>.*deskmail\[[0-9]*\]: no such ticket' "$W/syslog.txt"
else
	dm_ok "# SKIP no mount namespace: fatal errors to syslog not tested"
fi

dm_done
