#!/bin/bash
# daemon.sh - `deskmail run` as an operator runs it, on real servers:
# SIGHUP reloads the configuration and templates (and keeps the old ones
# when the new ones are broken, without dying); a refused IMAP login is
# logged once and tried again with backoff, not every interval, and its
# end is logged; PostgreSQL down when the daemon starts is waited for;
# configuration errors still end it with 78.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
W=$DM_TEST_DIR/work
mkdir -p "$W"
# the operator's own copy of the templates, edited below
cp -r "$DM_REPO_DIR/conf/templates" "$W/tpl"
dm_write_conf
sed -i "s|templates = \"[^\"]*\"|templates = \"$W/tpl\"|" "$DM_CONF"
dm_fixture

# Dovecot answers a refused login at once (default: after 2 s, and more
# for each failure from the same address: its auth penalty, switched off
# here), so that the number of login tries counts the daemon's tries, and
# logs each wrong password as it comes ("Password mismatch")
dm_imap_stop
printf 'auth_failure_delay = 0\nauth_verbose = yes\nservice anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n' \
	>>"$DM_TEST_DIR/dovecot/dovecot.conf"
dm_imap_start

tickets() { dm_psql -c 'select count(*) from ticket'; }
# sent TEXT: a mail the SMTP server received holds TEXT (the glob is
# expanded at each call, so dm_wait_for sees files written later)
sent() { grep -qs "$1" "$DM_SMTP_OUT"/*.eml; }
acks_with() { grep -ls "$1" "$DM_SMTP_OUT"/*.eml 2>/dev/null | wc -l; }
alive() { kill -0 "$1" 2>/dev/null; }

"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run.log" &
pid=$!
dm_wait_for 20 grep -q 'running: polling' "$W/run.log"

# ---- SIGHUP: a changed template is used after the reload, not before ----
dm_mail "$W/a" 'carol@globex.example' 'First request' 'one'
dm_deliver "$W/a"
dm_wait_for 15 sent 'First request'
assert_eq 1 "$(acks_with 'First request')" "the daemon acknowledges a mail"
sed -i 's/^Thank you for contacting/RELOADED-MARKER Thank you for contacting/' "$W/tpl/ack.txt"
dm_mail "$W/b" 'carol@globex.example' 'Second request' 'two'
dm_deliver "$W/b"
dm_wait_for 15 sent 'Second request'
assert_eq 0 "$(acks_with RELOADED-MARKER)" "an edited template is not used before SIGHUP"
kill -HUP "$pid"
dm_wait_for 10 grep -q 'reloaded from' "$W/run.log"
assert_true "SIGHUP does not kill the daemon" alive "$pid"
assert_contains "$(cat "$W/run.log")" "configuration and templates reloaded from $DM_CONF" "the reload is logged"
dm_mail "$W/c" 'carol@globex.example' 'Third request' 'three'
dm_deliver "$W/c"
dm_wait_for 15 sent 'Third request'
assert_eq 1 "$(acks_with RELOADED-MARKER)" "after SIGHUP the next acknowledgement uses the edited template"
assert_true "... and it is the new mail's" grep -qs 'RELOADED-MARKER' $(grep -ls 'Third request' "$DM_SMTP_OUT"/*.eml)

# log.level is reloaded too: at "warning" the per-mail info lines stop
cp "$DM_CONF" "$W/info.conf"
echo 'log = { level = "warning"; };' >>"$DM_CONF"
kill -HUP "$pid"
sleep 2
lines=$(grep -c 'new ticket #' "$W/run.log")
dm_mail "$W/w" 'carol@globex.example' 'Quiet request' 'quiet'
dm_deliver "$W/w"
dm_wait_for 15 sent 'Quiet request'
assert_true "at log.level warning the mail is still taken in" sent 'Quiet request'
assert_eq "$lines" "$(grep -c 'new ticket #' "$W/run.log")" "and its info line is not logged: log.level was reloaded"
cp "$W/info.conf" "$DM_CONF"
kill -HUP "$pid"
sleep 2

# ---- SIGHUP with a broken configuration: logged, the old one kept ----
cp "$DM_CONF" "$W/good.conf"
echo 'this is not libconfig' >>"$DM_CONF"
kill -HUP "$pid"
dm_wait_for 10 grep -q 'reload of .* refused' "$W/run.log"
assert_true "a broken configuration does not kill the daemon" alive "$pid"
assert_contains "$(grep 'refused' "$W/run.log")" "syntax error" "the refusal gives the reason (file:line: error)"
# a broken template: refused as well, with its reason
cp "$W/good.conf" "$DM_CONF"
cp "$W/tpl/ack.txt" "$W/ack.good"
echo 'Broken {{ here' >>"$W/tpl/ack.txt"
kill -HUP "$pid"
dm_wait_for 10 grep -q "unclosed '{{'" "$W/run.log"
assert_contains "$(grep 'refused' "$W/run.log" | tail -n1)" "unclosed '{{'" "a template that does not render is refused with its reason"
dm_mail "$W/d" 'carol@globex.example' 'Fourth request' 'four'
dm_deliver "$W/d"
dm_wait_for 15 sent 'Fourth request'
assert_true "the daemon still works after refused reloads" sent 'Fourth request'
assert_true "... with the templates it had (no broken text sent)" bash -c "! grep -qs 'Broken' '$DM_SMTP_OUT'/*.eml"
assert_true "... the last good ones" grep -qs 'RELOADED-MARKER' $(grep -ls 'Fourth request' "$DM_SMTP_OUT"/*.eml)
cp "$W/ack.good" "$W/tpl/ack.txt"

# ---- SIGHUP to a database that is down: the reload is taken (not
# refused), the new database is an outage until it answers ----
reloads=$(grep -c 'reloaded from' "$W/run.log")
refusals=$(grep -c 'reload of .* refused' "$W/run.log")
sed -i "s|conninfo = \"$DM_CONNINFO\"|conninfo = \"$DM_CONNINFO port=$(dm_free_port)\"|" "$DM_CONF"
kill -HUP "$pid"
dm_wait_for 10 grep -q 'database: ' "$W/run.log"
assert_eq $((reloads + 1)) "$(grep -c 'reloaded from' "$W/run.log")" "a reload to a database that is down is taken"
assert_eq "$refusals" "$(grep -c 'reload of .* refused' "$W/run.log")" "and not refused"
assert_contains "$(grep 'database: ' "$W/run.log")" "retrying in" "the database is an outage, tried again"
cp "$W/good.conf" "$DM_CONF"
kill -HUP "$pid"
dm_wait_for 10 grep -q 'database: working again' "$W/run.log"
assert_true "back to the first database on the next SIGHUP" grep -q 'database: working again' "$W/run.log"

# ---- a refused IMAP login: logged once, tried again with backoff ----
sed -i 's/password = "secret";/password = "wrong";/' "$DM_CONF"
before=$(grep -c 'Password mismatch' "$DM_TEST_DIR/dovecot/dovecot.log")
kill -HUP "$pid"
dm_wait_for 10 grep -q 'login refused' "$W/run.log"
sleep 12 # twelve poll intervals
tries=$(($(grep -c 'Password mismatch' "$DM_TEST_DIR/dovecot/dovecot.log") - before))
echo "# login tries in ~12 s at poll_interval = 1: $tries"
assert_eq 1 "$(grep -c 'login refused' "$W/run.log")" "a refused login is logged once over twelve intervals"
assert_contains "$(grep 'login refused' "$W/run.log")" "AUTHENTICATIONFAILED" "with the server's own words"
assert_contains "$(grep 'login refused' "$W/run.log")" " error: " "at error level"
[ "$tries" -ge 3 ] && [ "$tries" -le 5 ] && dm_ok "and tried again with backoff, not every interval ($tries tries)" \
	|| dm_not_ok "a refused login is tried again with backoff" "tries: $tries"
assert_true "the daemon keeps running meanwhile" alive "$pid"
dm_mail "$W/e" 'carol@globex.example' 'Fifth request' 'five'
dm_deliver "$W/e"
sed -i 's/password = "wrong";/password = "secret";/' "$DM_CONF"
kill -HUP "$pid"
dm_wait_for 15 sent 'Fifth request'
assert_contains "$(cat "$W/run.log")" "IMAP: login accepted again" "the end of the outage is logged once"
assert_true "and the mail that came meanwhile is taken in" sent 'Fifth request'

kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "the daemon exits 0 on SIGTERM"

# ---- PostgreSQL down when the daemon starts ----
dm_pg_stop
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run2.log" &
pid=$!
dm_wait_for 10 grep -q 'database: ' "$W/run2.log"
sleep 3
assert_true "run does not exit when PostgreSQL is down at start" alive "$pid"
assert_eq 1 "$(grep -c 'database: ' "$W/run2.log")" "the outage is logged once over several tries"
dm_mail "$W/f" 'carol@globex.example' 'Sixth request' 'six'
dm_deliver "$W/f"
dm_pg_start
dm_wait_for 20 sent 'Sixth request'
assert_true "once PostgreSQL is up the daemon takes the mail in" sent 'Sixth request'
assert_contains "$(cat "$W/run2.log")" "database: working again" "and logs that the database is back"
# its session ended under it (between passes): the step that finds out is
# the database's trouble, not the IMAP server's
dm_psql -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where pid <> pg_backend_pid() and datname = current_database()" >/dev/null
dm_wait_for 10 grep -q 're-established' "$W/run2.log"
sleep 1
assert_true "a lost database session is re-established" grep -q 're-established' "$W/run2.log"
assert_eq 0 "$(grep -c 'IMAP: ' "$W/run2.log")" "and the IMAP server is not blamed for it"
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "and exits 0 on SIGTERM"

# with poll_interval = 300 the database is tried again after seconds, not
# minutes (backoff from 5 s), and mail announced by IDLE meanwhile waits
dm_pg_stop
sed -i 's/poll_interval = 1;/poll_interval = 300;/' "$DM_CONF"
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run4.log" &
pid=$!
dm_wait_for 10 grep -q 'database: ' "$W/run4.log"
dm_mail "$W/g" 'carol@globex.example' 'Seventh request' 'seven'
dm_deliver "$W/g"
dm_pg_start
dm_wait_for 45 sent 'Seventh request'
assert_true "poll_interval = 300: the database is tried again within seconds and the mail taken in" \
	sent 'Seventh request'
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "and it exits 0 on SIGTERM"
sed -i 's/poll_interval = 300;/poll_interval = 1;/' "$DM_CONF"

# ---- -q is kept over a reload, even when the file said "warning" too ----
cp "$DM_CONF" "$W/plain.conf"
echo 'log = { level = "warning"; };' >>"$DM_CONF"
"$DESKMAIL" -q -c "$DM_CONF" run 2>"$W/run5.log" &
pid=$!
sleep 2
sed -i 's/level = "warning"/level = "info"/' "$DM_CONF"
kill -HUP "$pid"
sleep 2
assert_true "SIGHUP does not kill a quiet daemon" alive "$pid"
dm_mail "$W/q" 'carol@globex.example' 'Still quiet' 'q'
dm_deliver "$W/q"
dm_wait_for 15 sent 'Still quiet'
assert_true "the mail is taken in" sent 'Still quiet'
assert_eq 0 "$(grep -c 'new ticket #' "$W/run5.log")" "and -q still holds after a reload to log.level info"
kill -TERM "$pid"
wait "$pid"
cp "$W/plain.conf" "$DM_CONF"

# ---- a configuration error still ends it: 78 ----
echo 'Broken {{ here' >>"$W/tpl/ack.txt"
timeout 20 "$DESKMAIL" -c "$DM_CONF" run 2>"$W/run3.log"; rc=$?
assert_eq 78 "$rc" "run with a template that does not render exits 78 (EX_CONFIG)"
dm_done
