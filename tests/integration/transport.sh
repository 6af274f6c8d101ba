#!/bin/bash
# transport.sh - how deskmail's connections are protected, against the real
# test servers: SMTP STARTTLS (tried by default, required with
# smtp.starttls = "require" and whenever a password would cross a network),
# the server's certificate checked against smtp.ca_file, the EHLO name from
# smtp.helo, IMAP in clear only to loopback, and credentials refused in
# URLs.  The SMTP server (tests/lib/smtp_sink.py) offers STARTTLS with a
# self-signed certificate made here, and records for each mail whether its
# session was TLS, the EHLO name it was given and who logged in.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
W=$DM_TEST_DIR/work
T=$DM_TEST_DIR/tls
mkdir -p "$W" "$T"
DM_DESK_EXTRA="max_auto_replies_per_hour = 1000;"
dm_write_conf
dm_fixture

# The server's certificate (for 127.0.0.1 and localhost), and another
# self-signed one that did not sign it: the wrong CA.
for name in server other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=deskmail test $name" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$T/$name.key" -out "$T/$name.pem" 2>>"$W/openssl.log" || {
		echo "openssl failed:" >&2
		cat "$W/openssl.log" >&2
		exit 1
	}
done
printf 's3cret-smtp\n' >"$T/smtp.password"
chmod 600 "$T/smtp.password" # others may not read it: deskmail refuses that

smtp_plain() { dm_smtp_stop; dm_smtp_start "$@"; }
smtp_tls() { dm_smtp_stop; dm_smtp_start --tls-cert "$T/server.pem" --tls-key "$T/server.key" "$@"; }
# conf SMTP-SETTINGS [SMTP-URL]: the test configuration with these smtp settings
conf() { DM_SMTP_EXTRA=$1 DM_SMTP_URL=${2:-$DM_SMTP_URL} dm_write_conf; }
# queue: one new ticket from alice, hence one acknowledgement in the outbox
n=0
queue() {
	n=$((n + 1))
	dm_mail "$W/m$n" 'alice@acme.example' "Transport $n" 'Hello.'
	dm ingest "$W/m$n" >/dev/null
}
# what the SMTP server recorded about the session of its latest mail
last_session() {
	local last
	last=$(find "$DM_SMTP_OUT" -maxdepth 1 -name '[0-9]*.session' -printf '%f\n' | sort -n | tail -n1)
	[ -n "$last" ] && cat "$DM_SMTP_OUT/$last"
}
session_field() { last_session | sed -n "s/^$1=//p"; }
row() { dm_psql -c "select status, attempts from outbox where id = (select max(id) from outbox)"; }
last_error() { dm_psql -c "select coalesce(last_error, '') from outbox where id = (select max(id) from outbox)"; }
due_now() { dm_psql -c "update outbox set next_attempt_at = now() where status = 'pending'" >/dev/null; }

# ---- 1. STARTTLS offered, verified against ca_file, with smtp.helo ----
smtp_tls
conf "ca_file = \"$T/server.pem\"; helo = \"desk.agency.example\";"
queue
assert_eq "sent 1, deferred 0, failed 0" "$(dm send 2>"$W/s1.log")" "starttls try: the mail is sent"
assert_eq "yes" "$(session_field tls)" "the session was upgraded to TLS (STARTTLS was offered)"
assert_contains "$(session_field tls_version)" "TLSv1." "with a TLS version recorded"
assert_eq "desk.agency.example" "$(session_field ehlo)" "EHLO carried smtp.helo"
assert_eq "-" "$(session_field auth)" "no login without smtp.username"

# ---- 2. the wrong CA: no mail, the row stays queued with the error ----
before=$(dm_smtp_count)
conf "ca_file = \"$T/other.pem\";"
queue
assert_eq "sent 0, deferred 1, failed 0" "$(dm send 2>"$W/s2.log")" "wrong CA: the mail is deferred"
assert_eq "pending|1" "$(row)" "the row stays queued, one attempt counted"
assert_contains "$(last_error)" "certificate" "the certificate failure is recorded"
assert_contains "$(cat "$W/s2.log")" "certificate" "and logged"
assert_eq "$before" "$(dm_smtp_count)" "nothing reached the server: no fallback to clear after a failed handshake"
# tls_verify = false takes any certificate (a test server's)
conf "ca_file = \"$T/other.pem\"; tls_verify = false;"
due_now
assert_eq "sent 1, deferred 0, failed 0" "$(dm send 2>/dev/null)" "tls_verify = false: delivered"
assert_eq "yes" "$(session_field tls)" "still over TLS"
assert_eq "sent|2" "$(row)" "recorded as sent after 2 attempts"

# ---- 3. credentials to loopback with STARTTLS offered: the login is over TLS ----
smtp_tls --auth desk:s3cret-smtp
conf "ca_file = \"$T/server.pem\"; username = \"desk\"; password_file = \"$T/smtp.password\";"
queue
assert_eq "sent 1, deferred 0, failed 0" "$(dm send 2>"$W/s3.log")" "authenticated send on loopback"
assert_eq "yes|desk" "$(session_field tls)|$(session_field auth)" "the server saw the login only after STARTTLS"
assert_true "the password is not logged" bash -c "! grep -q s3cret '$W/s3.log'"

# ---- 4. no STARTTLS offered: "try" goes on in clear, "require" sends nothing ----
smtp_plain
conf ""
queue
assert_eq "sent 1, deferred 0, failed 0" "$(dm send 2>/dev/null)" "starttls try, not offered: delivered"
assert_eq "no" "$(session_field tls)" "in clear"
host=$("$DM_PYTHON" -c 'import socket; print(socket.gethostname())')
assert_eq "$host" "$(session_field ehlo)" "without smtp.helo the EHLO name is the host name (gethostname, whole)"
# a host named with dots (in a UTS namespace of its own): sent whole, not
# cut at the first dot as libcurl's own default would
if unshare --uts true 2>/dev/null; then
	queue
	unshare --uts bash -c 'hostname desk1.transport.example && exec "$@"' _ \
		"$DESKMAIL" -c "$DM_CONF" send >/dev/null 2>&1
	assert_eq "desk1.transport.example" "$(session_field ehlo)" "a dotted host name is the EHLO name whole"
else
	dm_ok "a dotted host name is the EHLO name whole # SKIP unshare --uts not available"
fi
before=$(dm_smtp_count)
conf "starttls = \"require\";"
queue
assert_eq "sent 0, deferred 1, failed 0" "$(dm send 2>"$W/s4.log")" "starttls require, not offered: deferred"
assert_eq "pending|1" "$(row)" "the row stays queued"
assert_contains "$(last_error)" "STARTTLS" "the refusal is recorded"
assert_eq "$before" "$(dm_smtp_count)" "nothing was sent in clear"
smtp_tls
conf "starttls = \"require\"; ca_file = \"$T/server.pem\";"
due_now
assert_eq "sent 1, deferred 0, failed 0" "$(dm send 2>/dev/null)" "require, once the server offers STARTTLS: delivered"
assert_eq "yes" "$(session_field tls)" "over TLS"

# ---- 5. credentials to a host that is not loopback by address ----
# [::ffff:127.0.0.1] reaches the test server, but is not loopback by
# deskmail's rule ("localhost", 127.0.0.0/8, ::1): with a username, "try"
# must not log in in clear, and "never" is refused outright.
smtp_plain
mapped="smtp://[::ffff:127.0.0.1]:$DM_SMTP_PORT"
conf "username = \"desk\"; password_file = \"$T/smtp.password\";" "$mapped"
before=$(dm_smtp_count)
queue
assert_eq "sent 0, deferred 1, failed 0" "$(dm send 2>"$W/s5.log")" "try + username to a non-loopback host without STARTTLS: deferred"
assert_contains "$(last_error)" "STARTTLS" "STARTTLS was required"
assert_eq "$before" "$(dm_smtp_count)" "no mail and no login in clear"
assert_true "the password is not logged" bash -c "! grep -q s3cret '$W/s5.log'"
conf "username = \"desk\"; password_file = \"$T/smtp.password\"; starttls = \"never\";" "$mapped"
out=$(dm check-config 2>&1); rc=$?
assert_eq 78 "$rc" "starttls never + username to a non-loopback host: configuration error"
assert_contains "$out" "would send smtp.username and its password in clear" "saying why"
conf "starttls = \"never\";" "$mapped"
due_now
assert_eq "sent 1, deferred 0, failed 0" "$(dm send 2>/dev/null)" "never without credentials: delivered in clear"
assert_eq "no|-" "$(session_field tls)|$(session_field auth)" "in clear, no login"

# ---- 6. IMAP in clear only to loopback (Dovecot offers no STARTTLS here) ----
mapped_imap="imap://[::ffff:127.0.0.1]:$DM_IMAP_PORT/INBOX"
DM_IMAP_URL=$mapped_imap dm_write_conf
out=$(dm poll 2>&1); rc=$?
assert_eq 75 "$rc" "IMAP to a non-loopback address without STARTTLS: the poll fails"
assert_contains "$out" "SSL" "curl required STARTTLS (no login in clear)"
DM_IMAP_URL="imap://LocalHost:$DM_IMAP_PORT/INBOX" dm_write_conf
dm poll >"$W/p6.log" 2>&1
assert_eq 0 "$?" "IMAP to localhost (any case) in clear: the poll works"

# ---- 7. credentials in URLs are refused ----
dm_write_conf
sed -i "s|imap://127.0.0.1:|imap://support:s3cret@127.0.0.1:|" "$DM_CONF"
out=$(dm check-config 2>&1); rc=$?
assert_eq 78 "$rc" "imap.url with user:password@: configuration error"
assert_contains "$out" "put the user name in imap.username and the password in imap.password_file, not in the URL" "saying where they belong"
assert_true "without repeating the password" bash -c "! grep -q s3cret <<<\"\$1\"" _ "$out"
dm_write_conf
sed -i "s|smtp://127.0.0.1:|smtp://desk:s3cret@127.0.0.1:|" "$DM_CONF"
out=$(dm send 2>&1); rc=$?
assert_eq 78 "$rc" "smtp.url with user:password@: send refuses to start"
assert_contains "$out" "put the user name in smtp.username and the password in smtp.password_file" "saying where they belong"
assert_true "without repeating the password" bash -c "! grep -q s3cret <<<\"\$1\"" _ "$out"
dm_done
