#!/bin/bash
# oauth2.sh - IMAP and SMTP logins with OAuth2 bearer tokens against servers
# that check them: Dovecot's oauth2 passdb and the SMTP sink (smtp_sink.py
# --oauth2) both ask the token-introspection service
# tests/lib/oauth2_introspect.py, which knows valid and revoked tokens.
# Tokens come from a file or a command; a refused token is fetched again
# once (a refresher may have a newer one), and a token that stays refused is
# a refused login: exit 77 with the server's words.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
DM_OAUTH2=1
dm_servers_start
printf '%s\n' 'valid GOOD-1 support' 'valid GOOD-2 support' \
	'valid SMTP-GOOD support@agency.example' 'revoked REVOKED' >"$DM_OAUTH2_TOKENS"
dm_smtp_stop
dm_smtp_start --oauth2 "$DM_OAUTH2_URL"
W=$DM_TEST_DIR/work
mkdir -p "$W"
DOVECOT_LOG=$DM_TEST_DIR/dovecot/dovecot.log

# counter.sh STATE FIRST THEN: a token refresher that prints FIRST on its
# first run and THEN on every later one, counting its runs in STATE
cat >"$W/counter.sh" <<'SH'
#!/bin/sh
n=$(cat "$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$1"
echo "counter: run $n" >&2
if [ "$n" -eq 1 ]; then echo "$2"; else echo "$3"; fi
SH
runs() { cat "$1" 2>/dev/null || echo 0; }
token_file() { # NAME TOKEN [MODE]
	printf '%s\n' "$2" >"$W/$1.tmp"
	chmod "${3:-600}" "$W/$1.tmp"
	mv "$W/$1.tmp" "$W/$1"
}
imap_conf() { DM_IMAP_LOGIN="auth = \"oauth2\"; $1" dm_write_conf; }
n=0
deliver() {
	n=$((n + 1))
	dm_mail "$W/m$n" 'alice@acme.example' "OAuth2 $n" 'Hello over a bearer token.'
	dm_deliver "$W/m$n"
}
tickets() { dm_psql -c 'select count(*) from ticket'; }
introspected() { grep -c " $1\$" "$DM_OAUTH2_LOG"; }
asked_last() { tail -n "$1" "$DM_OAUTH2_LOG" | paste -sd '|'; } # the last N introspections

dm_write_conf
dm_fixture

# ---- IMAP: a token from a file, XOAUTH2 ----
token_file imap.token GOOD-1
imap_conf "oauth2_token_file = \"$W/imap.token\";"
assert_true "check-config accepts imap.auth = oauth2 with a token file" dm check-config
deliver
out=$(dm poll 2>"$W/p1.log"); rc=$?
assert_eq 0 "$rc" "poll with a valid token from a file exits 0"
assert_eq "fetched 1: 1 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$out" \
	"the mail became a ticket"
assert_eq 1 "$(tickets)" "one ticket"
assert_contains "$(cat "$DOVECOT_LOG")" "Login: user=<support>, method=XOAUTH2" \
	"Dovecot logged deskmail in with XOAUTH2 (the default mechanism)"
assert_contains "$(cat "$DM_OAUTH2_LOG")" "POST valid GOOD-1" \
	"Dovecot checked the token with the introspection service"

# a token file others can read is refused, as a password file would be
token_file imap.token GOOD-1 644
deliver
dm poll >/dev/null 2>"$W/p2.log"; rc=$?
assert_eq 78 "$rc" "a token file readable by others: exit 78"
assert_contains "$(cat "$W/p2.log")" "by others (mode 0644): chmod o-rw it" "and says why"
chmod 600 "$W/imap.token"


# ---- IMAP: a token from a command, OAUTHBEARER; not run at load ----
imap_conf "oauth2_mechanism = \"oauthbearer\"; oauth2_token_command = \"/bin/sh $W/counter.sh $W/c1 GOOD-2 GOOD-2\";"
dm check-config >/dev/null 2>&1
assert_eq 0 "$(runs "$W/c1")" "check-config does not run the token command"
out=$(dm poll 2>"$W/p3.log"); rc=$?
assert_eq 0 "$rc" "poll with a token from a command exits 0"
assert_eq 2 "$(tickets)" "the mail waiting since the refused file became a ticket"
assert_eq 1 "$(runs "$W/c1")" "the command ran once"
assert_contains "$(tail -n 5 "$DOVECOT_LOG")" "method=OAUTHBEARER" "Dovecot saw OAUTHBEARER"
assert_contains "$(cat "$W/p3.log")" "counter: run 1" "the command's standard error went to the log"

# ---- IMAP: refused first, fetched again once, then in ----
imap_conf "oauth2_token_command = \"/bin/sh $W/counter.sh $W/c2 REVOKED GOOD-1\";"
deliver
out=$(dm poll 2>"$W/p4.log"); rc=$?
assert_eq 0 "$rc" "a revoked token from the command, then a good one: poll exits 0"
assert_eq 3 "$(tickets)" "and the mail became a ticket"
assert_eq 2 "$(runs "$W/c2")" "the command ran twice: once more after the refusal"
assert_eq 1 "$(introspected REVOKED)" "the revoked token was tried once"
assert_eq "POST refused REVOKED|POST valid GOOD-1" "$(asked_last 2)" "then the new one"

# the file changes between the refusal and the re-read (a refresher at work)
token_file imap.token REVOKED
imap_conf "oauth2_token_file = \"$W/imap.token\";"
deliver
dm_oauth2_stop
dm_oauth2_start --refuse-delay 1 # the refusal is logged a second before it is answered
(
	for _ in $(seq 1 200); do
		if [ "$(introspected REVOKED)" -ge 2 ]; then token_file imap.token GOOD-2; exit 0; fi
		sleep 0.05
	done
) &
refresher=$!
out=$(dm poll 2>"$W/p5.log"); rc=$?
wait "$refresher"
dm_oauth2_stop
dm_oauth2_start
assert_eq 0 "$rc" "a revoked token in the file, replaced after the refusal: poll exits 0"
assert_eq "POST refused REVOKED|POST valid GOOD-2" "$(asked_last 2)" \
	"the file was read again after the refusal"
assert_eq 4 "$(tickets)" "and the mail became a ticket"

# ---- IMAP: a token that stays refused is a refused login ----
token_file imap.token REVOKED
out=$(dm poll 2>"$W/p6.log"); rc=$?
assert_eq 77 "$rc" "a token that stays refused (file): exit 77"
assert_contains "$(cat "$W/p6.log")" 'the server refused the token: {"status":"401"' \
	"with the server's own words (XOAUTH2: its error challenge)"
imap_conf "oauth2_mechanism = \"oauthbearer\"; oauth2_token_command = \"/bin/sh $W/counter.sh $W/c3 REVOKED REVOKED\";"
out=$(dm poll 2>"$W/p7.log"); rc=$?
assert_eq 77 "$rc" "a token that stays refused (command): exit 77"
assert_eq 2 "$(runs "$W/c3")" "the command ran twice, not more"
assert_contains "$(cat "$W/p7.log")" "login denied: A002 NO [AUTHENTICATIONFAILED] Authentication failed." \
	"with the server's own words (OAUTHBEARER: its tagged NO)"
assert_eq 4 "$(tickets)" "nothing was taken in meanwhile"

# a refresher that fails is temporary trouble, in its own words
imap_conf "oauth2_token_command = \"/bin/sh -c 'echo invalid_grant: refresh token expired >&2; exit 2'\";"
dm poll >/dev/null 2>"$W/p8.log"; rc=$?
assert_eq 75 "$rc" "a failing token command: exit 75"
assert_contains "$(cat "$W/p8.log")" "exited with status 2: invalid_grant: refresh token expired" \
	"the command's status and last words are in the message"

# introspection by GET works the same
dm_imap_stop
DM_OAUTH2_MODE=get dm_oauth2_conf "$DM_TEST_DIR/dovecot/dovecot-oauth2.conf.ext"
dm_imap_start
token_file imap.token GOOD-2
imap_conf "oauth2_token_file = \"$W/imap.token\";"
deliver
out=$(dm poll 2>"$W/p9.log"); rc=$?
assert_eq 0 "$rc" "poll against Dovecot introspecting by GET exits 0"
assert_eq 5 "$(tickets)" "the mail became a ticket"
assert_contains "$(cat "$DM_OAUTH2_LOG")" "GET valid GOOD-2" "Dovecot asked by GET"

# ---- SMTP: the acknowledgements go out through a bearer login ----
imap_conf "oauth2_token_file = \"$W/imap.token\";"
smtp_conf() { DM_IMAP_LOGIN="auth = \"oauth2\"; oauth2_token_file = \"$W/imap.token\";" \
	DM_SMTP_EXTRA="username = \"support@agency.example\"; auth = \"oauth2\"; $1" dm_write_conf; }
pending() { dm_psql -c "select count(*) from outbox where status = 'pending'"; }
attempts() { dm_psql -c "select coalesce(sum(attempts), 0) from outbox"; }
queue() {
	n=$((n + 1))
	dm_mail "$W/m$n" 'alice@acme.example' "OAuth2 $n" 'Hello.'
	dm ingest "$W/m$n" >/dev/null
}
last_session() {
	local last
	last=$(find "$DM_SMTP_OUT" -maxdepth 1 -name '[0-9]*.session' -printf '%f\n' | sort -n | tail -n1)
	[ -n "$last" ] && cat "$DM_SMTP_OUT/$last"
}

# a token that stays refused: exit 77, the mail waits without an attempt
token_file smtp.token REVOKED
smtp_conf "oauth2_token_file = \"$W/smtp.token\";"
assert_true "check-config accepts smtp.auth = oauth2" dm check-config
waiting=$(pending)
before=$(attempts)
out=$(dm send 2>"$W/s1.log"); rc=$?
assert_eq 77 "$rc" "send with a token that stays refused: exit 77"
assert_contains "$(cat "$W/s1.log")" 'the server refused the token: {"status": "401"' \
	"with the server's own words (XOAUTH2: its error challenge)"
assert_eq "$waiting" "$(pending)" "every mail still waits"
assert_eq "$before" "$(attempts)" "and a refused login counts as no attempt"
assert_eq 0 "$(dm_smtp_count)" "nothing was sent"

# a good token from the file: everything goes out, with XOAUTH2
token_file smtp.token SMTP-GOOD
out=$(dm send 2>"$W/s2.log"); rc=$?
assert_eq 0 "$rc" "send with a valid token from a file exits 0"
assert_eq "sent $waiting, deferred 0, failed 0" "$out" "every waiting mail was sent"
assert_eq "$waiting" "$(dm_smtp_count)" "the sink received them"
assert_contains "$(last_session)" "auth=support@agency.example" "logged in as the configured user"
assert_contains "$(last_session)" "auth_mech=XOAUTH2" "with XOAUTH2"

# refused first, the command run again, then sent; OAUTHBEARER
smtp_conf "oauth2_mechanism = \"oauthbearer\"; oauth2_token_command = \"/bin/sh $W/counter.sh $W/c4 REVOKED SMTP-GOOD\";"
queue
sent_before=$(dm_smtp_count)
out=$(dm send 2>"$W/s3.log"); rc=$?
assert_eq 0 "$rc" "send: a revoked token from the command, then a good one: exit 0"
assert_eq "sent 1, deferred 0, failed 0" "$out" "the mail was sent"
assert_eq $((sent_before + 1)) "$(dm_smtp_count)" "the sink received it"
assert_eq 2 "$(runs "$W/c4")" "the command ran twice"
assert_contains "$(last_session)" "auth_mech=OAUTHBEARER" "with OAUTHBEARER"

# a command token that stays refused
smtp_conf "oauth2_mechanism = \"oauthbearer\"; oauth2_token_command = \"/bin/sh $W/counter.sh $W/c5 REVOKED REVOKED\";"
queue
out=$(dm send 2>"$W/s4.log"); rc=$?
assert_eq 77 "$rc" "send with a command token that stays refused: exit 77"
assert_eq 2 "$(runs "$W/c5")" "the command ran twice, not more"
assert_contains "$(cat "$W/s4.log")" "535 5.7.8 Username and Password not accepted" \
	"with the server's own words (OAUTHBEARER: its 535)"
assert_eq 1 "$(pending)" "the mail waits"

# a refresher that fails: nothing is tried, and it costs the mail no attempt
smtp_conf "oauth2_token_command = \"/bin/sh -c 'echo no network >&2; exit 1'\";"
before=$(attempts)
out=$(dm send 2>"$W/s5.log"); rc=$?
assert_contains "$(cat "$W/s5.log")" "exited with status 1: no network" "send: the refresher's words"
assert_eq "$before" "$(attempts)" "a failing refresher counts as no attempt"
assert_eq 1 "$(pending)" "the mail still waits"

# the same in a running daemon (a refresher rewriting the file with umask
# 022): that mailbox's login trouble, said once and backed off, while the
# daemon goes on; put right, the mail comes in
token_file imap.token GOOD-1
imap_conf "oauth2_token_file = \"$W/imap.token\";"
start=$(tickets)
deliver
"$DESKMAIL" -c "$DM_CONF" run >"$W/run.log" 2>&1 &
runpid=$!
more_than() { [ "$(tickets)" -gt "$1" ]; }
dm_wait_for 20 more_than "$start"
token_file imap.token GOOD-1 644
deliver
sleep 3
assert_true "the daemon keeps running with a token file gone readable by others" kill -0 "$runpid"
assert_eq 1 "$(grep -c 'by others (mode 0644)' "$W/run.log")" "and says why once"
before=$(tickets)
chmod 600 "$W/imap.token"
dm_wait_for 30 more_than "$before"
assert_true "the file put right, the mail comes in" test "$(tickets)" -gt "$before"
kill -TERM "$runpid"; wait "$runpid"
assert_eq 0 "$?" "and the daemon stops cleanly"

dm_done
