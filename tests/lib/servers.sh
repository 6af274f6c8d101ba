# servers.sh - real servers for deskmail's integration tests, on loopback:
# PostgreSQL 15 (initdb into a temp folder, run as an unprivileged user),
# Dovecot (its own configuration, plain auth on a free port) and an SMTP
# server (tests/lib/smtp_sink.py, aiosmtpd) that stores what it receives,
# with the session's TLS, EHLO name and login beside each mail.
# Each is started here, remembered by PID and stopped by PID.  Also the
# small TAP assertion helpers the tests share.
#
#   . tests/lib/servers.sh; dm_servers_start; dm_write_conf; ...; dm_done
#
# Exports DM_TEST_DIR DM_CONNINFO DM_PG_PORT DM_IMAP_PORT DM_IMAP_URL
# DM_SMTP_PORT DM_SMTP_URL DM_SMTP_OUT DM_MAILDIR DM_CONF.
#
# OAuth2: with DM_OAUTH2=1 set before dm_servers_start, Dovecot also takes
# XOAUTH2 and OAUTHBEARER logins and checks their bearer tokens with the
# token-introspection service tests/lib/oauth2_introspect.py, which
# dm_servers_start runs too (DM_OAUTH2_URL; its tokens in
# $DM_OAUTH2_TOKENS, one "valid TOKEN USER" or "revoked TOKEN" a line,
# read at each request; each request logged in $DM_OAUTH2_LOG).
# DM_OAUTH2_MODE=get makes Dovecot ask by GET instead of POST.

DM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DM_REPO_DIR=$(cd "$DM_LIB_DIR/../.." && pwd)
DM_PG_BIN=${DM_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
DM_PYTHON=${DM_PYTHON:-/usr/bin/python3}

dm_free_port() {
	"$DM_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# dm_wait_for SECONDS CMD...: true as soon as CMD succeeds, false after SECONDS.
dm_wait_for() {
	local limit=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
}

dm_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Run a command as the unprivileged server user when we are root.
dm_as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$DM_SERVER_USER" -- "$@"
	else
		"$@"
	fi
}

dm_kill_pid() { # PID [NAME]: TERM, wait up to 10 s, then KILL
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# ---- PostgreSQL ----

dm_pg_start() {
	dm_as_user "$DM_PG_BIN/pg_ctl" -D "$DM_TEST_DIR/pg" -l "$DM_TEST_DIR/pglog/pg.log" -w -t 60 \
		-o "-p $DM_PG_PORT -k $DM_TEST_DIR/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
		start >/dev/null || { echo "PostgreSQL did not start:" >&2; tail -n 20 "$DM_TEST_DIR/pglog/pg.log" >&2; return 1; }
	DM_PG_PID=$(head -n1 "$DM_TEST_DIR/pg/postmaster.pid")
}

dm_pg_stop() {
	[ -n "${DM_PG_PID:-}" ] || return 0
	kill -INT "$DM_PG_PID" 2>/dev/null   # fast shutdown
	local i
	for i in $(seq 1 100); do kill -0 "$DM_PG_PID" 2>/dev/null || break; sleep 0.1; done
	dm_kill_pid "$DM_PG_PID"
	DM_PG_PID=
}

dm_pg_init() {
	mkdir -p "$DM_TEST_DIR/pg" "$DM_TEST_DIR/pgsock" "$DM_TEST_DIR/pglog"
	[ "$(id -u)" -eq 0 ] && chown "$DM_SERVER_USER" "$DM_TEST_DIR/pg" "$DM_TEST_DIR/pgsock" "$DM_TEST_DIR/pglog"
	dm_as_user "$DM_PG_BIN/initdb" -D "$DM_TEST_DIR/pg" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 >"$DM_TEST_DIR/initdb.log" 2>&1 \
		|| { echo "initdb failed:" >&2; cat "$DM_TEST_DIR/initdb.log" >&2; return 1; }
	dm_pg_start || return 1
	"$DM_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$DM_PG_PORT" -U postgres -d postgres \
		-c "CREATE ROLE deskmail LOGIN" -c "CREATE DATABASE deskmail OWNER deskmail" >/dev/null
}

dm_psql() {
	"$DM_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$DM_PG_PORT" -U deskmail -d deskmail "$@"
}

# ---- Dovecot ----

dm_imap_init() {
	local d=$DM_TEST_DIR/dovecot
	mkdir -p "$d/run" "$d/state" "$DM_TEST_DIR/mail"
	local u g
	u=$(id -u "$DM_MAIL_USER") g=$(id -g "$DM_MAIL_USER")
	printf 'support:{PLAIN}secret::::::\nstaff:{PLAIN}secret::::::\n' >"$d/passwd"
	local mechs="plain login" oauth2_passdb="" passwd_mechs=""
	if [ "${DM_OAUTH2:-0}" = 1 ]; then
		dm_oauth2_conf "$d/dovecot-oauth2.conf.ext"
		mechs="plain login xoauth2 oauthbearer"
		passwd_mechs="mechanisms = plain login"
		oauth2_passdb="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/dovecot-oauth2.conf.ext
}"
	fi
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = $mechs
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:$DM_TEST_DIR/mail/%u/Maildir
$oauth2_passdb
passdb {
  driver = passwd-file
  $passwd_mechs
  args = scheme=PLAIN username_format=%u $d/passwd
}
userdb {
  driver = static
  args = uid=$u gid=$g home=$DM_TEST_DIR/mail/%u
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DM_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
protocol imap {
  mail_max_userip_connections = 200
}
CONF
	local user
	for user in support staff; do
		mkdir -p "$DM_TEST_DIR/mail/$user/Maildir/"{cur,new,tmp}
	done
	chown -R "$u:$g" "$DM_TEST_DIR/mail"
	DM_MAILDIR=$DM_TEST_DIR/mail/support/Maildir
}

dm_imap_start() {
	/usr/sbin/dovecot -F -c "$DM_TEST_DIR/dovecot/dovecot.conf" >>"$DM_TEST_DIR/dovecot/stdout.log" 2>&1 &
	DM_IMAP_PID=$!
	dm_wait_for 30 dm_port_open "$DM_IMAP_PORT" \
		|| { echo "Dovecot did not start:" >&2; tail -n 20 "$DM_TEST_DIR/dovecot/"*.log >&2; return 1; }
}

dm_imap_stop() {
	dm_kill_pid "${DM_IMAP_PID:-}"
	wait "${DM_IMAP_PID:-}" 2>/dev/null
	DM_IMAP_PID=
}

# dm_deliver FILE...: put mails into the support INBOX (Maildir new/).  The
# file names carry increasing timestamps, and Dovecot gives new mail its
# UIDs in file-name order, so UIDs follow the order of delivery.
DM_DELIVER_SEQ=0
dm_deliver() {
	"$DM_PYTHON" - "$DM_MAILDIR" "$(id -u "$DM_MAIL_USER")" "$(id -g "$DM_MAIL_USER")" "$DM_DELIVER_SEQ" "$@" <<'PY'
import os, sys, time
maildir, uid, gid, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = int(time.time()) - 10_000_000
for i, path in enumerate(sys.argv[5:], start=seq + 1):
    with open(path, "rb") as f:
        data = f.read()
    name = "%d.M%06dP%d.dmtest" % (base + i, i % 1000000, os.getpid())
    tmp = os.path.join(maildir, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.chown(tmp, uid, gid)
    os.rename(tmp, os.path.join(maildir, "new", name))
PY
	DM_DELIVER_SEQ=$((DM_DELIVER_SEQ + $#))
}

# dm_deliver_tiny N [FOLDER]: put N tiny mails (four header lines, one body
# line, from distinct strangers) straight into cur/ of the support INBOX, or
# of its folder FOLDER (created if needed), for tests and benchmarks that
# need a large mailbox quickly (100,000 in a few seconds).  In cur/ with
# ":2," Dovecot indexes them without renaming; they get the next N UIDs.
DM_TINY_SEQ=0
dm_deliver_tiny() {
	local dir=$DM_MAILDIR
	[ -n "${2:-}" ] && dir=$DM_MAILDIR/.$2
	"$DM_PYTHON" - "$dir" "$(id -u "$DM_MAIL_USER")" "$(id -g "$DM_MAIL_USER")" "$DM_TINY_SEQ" "$1" <<'PY'
import os, sys
d, uid, gid, seq, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
for sub in ("", "cur", "new", "tmp"):
    p = os.path.join(d, sub)
    if not os.path.isdir(p):
        os.mkdir(p)
        os.chown(p, uid, gid)
cur = os.path.join(d, "cur")
for i in range(seq + 1, seq + n + 1):
    p = os.path.join(cur, "%d.M%07dP1.dmtiny:2," % (1000000000 + i, i))
    with open(p, "wb") as f:
        f.write(b"From: s%d@nowhere.example\r\nTo: support@agency.example\r\n"
                b"Subject: tiny %d\r\nMessage-ID: <tiny%d@nowhere.example>\r\n\r\nhello\r\n" % (i, i, i))
    os.chown(p, uid, gid)
PY
	DM_TINY_SEQ=$((DM_TINY_SEQ + $1))
}

# ---- OAuth2 token introspection (DM_OAUTH2=1) ----

# dm_oauth2_conf FILE: Dovecot's oauth2 passdb settings for our service.
dm_oauth2_conf() {
	local url=$DM_OAUTH2_URL
	[ "${DM_OAUTH2_MODE:-post}" = get ] && url="$url?token="
	cat >"$1" <<CONF
introspection_url = $url
introspection_mode = ${DM_OAUTH2_MODE:-post}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 10000
CONF
}

dm_oauth2_start() { # [--refuse-delay SECONDS]
	"$DM_PYTHON" "$DM_LIB_DIR/oauth2_introspect.py" --port "$DM_OAUTH2_PORT" \
		--tokens "$DM_OAUTH2_TOKENS" --log "$DM_OAUTH2_LOG" "$@" \
		>>"$DM_TEST_DIR/oauth2.log" 2>&1 &
	DM_OAUTH2_PID=$!
	dm_wait_for 30 dm_port_open "$DM_OAUTH2_PORT" \
		|| { echo "introspection service did not start:" >&2; tail -n 20 "$DM_TEST_DIR/oauth2.log" >&2; return 1; }
}

dm_oauth2_stop() {
	dm_kill_pid "${DM_OAUTH2_PID:-}"
	wait "${DM_OAUTH2_PID:-}" 2>/dev/null
	DM_OAUTH2_PID=
}

# ---- SMTP ----

dm_smtp_start() { # [--reject-rcpt REGEX] [--tempfail-rcpt REGEX] [--delay SECONDS] [--tls-cert PEM --tls-key PEM] [--auth USER:PASSWORD]
	"$DM_PYTHON" "$DM_LIB_DIR/smtp_sink.py" --port "$DM_SMTP_PORT" --out "$DM_SMTP_OUT" "$@" \
		>>"$DM_TEST_DIR/smtp.log" 2>&1 &
	DM_SMTP_PID=$!
	dm_wait_for 30 dm_port_open "$DM_SMTP_PORT" \
		|| { echo "SMTP sink did not start:" >&2; tail -n 20 "$DM_TEST_DIR/smtp.log" >&2; return 1; }
}

dm_smtp_stop() {
	dm_kill_pid "${DM_SMTP_PID:-}"
	wait "${DM_SMTP_PID:-}" 2>/dev/null
	DM_SMTP_PID=
}

dm_smtp_count() {
	find "$DM_SMTP_OUT" -maxdepth 1 -name '[0-9]*.eml' | wc -l
}

# ---- all of them ----

dm_servers_start() { # [--imap-only]: Dovecot alone, for tests of src/imap/
	DM_TEST_DIR=$(mktemp -d /tmp/dmtest.XXXXXX)
	chmod 755 "$DM_TEST_DIR"
	DM_SERVER_USER=${DM_SERVER_USER:-postgres}
	DM_MAIL_USER=${DM_MAIL_USER:-nobody}
	if [ "$(id -u)" -ne 0 ]; then DM_SERVER_USER=$(id -un); DM_MAIL_USER=$(id -un); fi
	DM_PG_PORT=$(dm_free_port)
	DM_IMAP_PORT=$(dm_free_port)
	DM_SMTP_PORT=$(dm_free_port)
	DM_CONNINFO="host=127.0.0.1 port=$DM_PG_PORT dbname=deskmail user=deskmail"
	DM_IMAP_URL="imap://127.0.0.1:$DM_IMAP_PORT/INBOX"
	DM_SMTP_URL="smtp://127.0.0.1:$DM_SMTP_PORT"
	DM_SMTP_OUT=$DM_TEST_DIR/smtp-out
	DM_CONF=$DM_TEST_DIR/deskmail.conf
	export DM_TEST_DIR DM_CONNINFO DM_PG_PORT DM_IMAP_PORT DM_IMAP_URL DM_SMTP_PORT DM_SMTP_URL \
		DM_SMTP_OUT DM_CONF DM_MAILDIR
	mkdir -p "$DM_SMTP_OUT"
	trap dm_servers_stop EXIT
	if [ "${DM_OAUTH2:-0}" = 1 ]; then
		DM_OAUTH2_PORT=$(dm_free_port)
		DM_OAUTH2_URL="http://127.0.0.1:$DM_OAUTH2_PORT/introspect"
		DM_OAUTH2_TOKENS=$DM_TEST_DIR/oauth2-tokens
		DM_OAUTH2_LOG=$DM_TEST_DIR/oauth2-requests.log
		export DM_OAUTH2_URL DM_OAUTH2_TOKENS DM_OAUTH2_LOG
		: >"$DM_OAUTH2_TOKENS"
		dm_oauth2_start || exit 1
	fi
	if [ "${1:-}" != --imap-only ]; then dm_pg_init || exit 1; fi
	dm_imap_init && dm_imap_start || exit 1
	if [ "${1:-}" != --imap-only ]; then dm_smtp_start || exit 1; fi
	export DM_MAILDIR
}

dm_servers_stop() {
	dm_oauth2_stop
	dm_smtp_stop
	dm_imap_stop
	dm_pg_stop
	if [ "${DM_KEEP:-0}" != 1 ] && [ -n "${DM_TEST_DIR:-}" ]; then
		rm -rf "$DM_TEST_DIR"
	fi
}

# dm_write_conf [EXTRA]: the deskmail configuration for these servers;
# EXTRA adds top-level settings, $DM_DESK_EXTRA adds settings to desk { },
# $DM_SMTP_EXTRA to smtp { }, and $DM_IMAP_LOGIN replaces imap's
# 'password = "secret";' (e.g. with auth = "oauth2" and a token source).
dm_write_conf() {
	cat >"$DM_CONF" <<CONF
database = { conninfo = "$DM_CONNINFO"; };
imap = { url = "$DM_IMAP_URL"; username = "support"; ${DM_IMAP_LOGIN:-password = \"secret\";} poll_interval = 1; };
smtp = { url = "$DM_SMTP_URL"; retry_base = 1; ${DM_SMTP_EXTRA:-} };
desk = { name = "Example Agency Support"; address = "support@agency.example"; templates = "$DM_REPO_DIR/conf/templates"; ${DM_DESK_EXTRA:-} };
plans = { silver = { first_response_hours = 4; resolution_hours = 48; max_contacts = 2; }; hosting = { }; };
${1:-}
CONF
}

# ---- TAP assertions ----

DM_T=0
DM_FAILED=0
dm_ok() { DM_T=$((DM_T + 1)); echo "ok $DM_T - $1"; }
dm_not_ok() {
	DM_T=$((DM_T + 1)); DM_FAILED=$((DM_FAILED + 1))
	echo "not ok $DM_T - $1"
	shift
	local line
	for line in "$@"; do echo "#   $line"; done
}
assert_eq() { # EXPECTED ACTUAL MSG
	if [ "$1" == "$2" ]; then dm_ok "$3"; else dm_not_ok "$3" "expected: $1" "actual:   $2"; fi
}
assert_contains() { # HAYSTACK NEEDLE MSG
	if [[ "$1" == *"$2"* ]]; then dm_ok "$3"; else dm_not_ok "$3" "missing: $2" "in: ${1:0:600}"; fi
}
assert_true() { # MSG CMD...
	local msg=$1
	shift
	if "$@" >/dev/null 2>&1; then dm_ok "$msg"; else dm_not_ok "$msg" "command failed: $*"; fi
}
dm_done() {
	echo "1..$DM_T"
	[ "$DM_FAILED" -eq 0 ] || { echo "# $DM_FAILED of $DM_T failed (logs kept: DM_KEEP=1 to keep $DM_TEST_DIR)"; exit 1; }
	exit 0
}
