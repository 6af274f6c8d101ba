#!/bin/bash
# idle.sh - new mail within two seconds: `deskmail run` waits with IMAP IDLE
# on a real Dovecot (poll_interval = 300, so only IDLE can explain a quick
# ticket), takes a delivered mail in at once, more than once, and stops on
# SIGTERM within a second while it waits; a Dovecot that does not offer
# IDLE is polled every poll_interval instead.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W"

# sent TEXT: a mail the SMTP server received holds TEXT (the glob is
# expanded at each call, so dm_wait_for sees files written later)
sent() { grep -qs "$1" "$DM_SMTP_OUT"/*.eml; }
ms() { echo $(($(date +%s%N) / 1000000)); }
tickets() { dm_psql -c 'select count(*) from ticket'; }

# wait_ticket N LIMIT_MS: wait until there are N tickets, checking every
# 0.1 s; prints the milliseconds it took (or "timeout")
wait_ticket() {
	local want=$1 limit=$2 t0 now
	t0=$(ms)
	while :; do
		[ "$(tickets)" -ge "$want" ] && { echo $(($(ms) - t0)); return 0; }
		now=$(ms)
		[ $((now - t0)) -gt "$limit" ] && { echo timeout; return 1; }
		sleep 0.1
	done
}

sed -i 's/poll_interval = 1;/poll_interval = 300;/' "$DM_CONF"

"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run.log" &
pid=$!
dm_wait_for 20 grep -q 'IMAP IDLE: waiting for mail' "$W/run.log"
assert_true "the daemon waits with IDLE on a server that offers it" grep -q 'IMAP IDLE: waiting for mail' "$W/run.log"
# the first passes are done when the daemon has nothing left to do
sleep 1

dm_mail "$W/a" 'carol@globex.example' 'Mail server slow' 'Outlook takes ages to sync.'
dm_deliver "$W/a"
lat=$(wait_ticket 1 2000)
echo "# latency of the first mail: $lat ms"
[ "$lat" != timeout ] && dm_ok "a mail delivered while run waits (poll_interval = 300) is a ticket within 2 s ($lat ms)" \
	|| dm_not_ok "a mail delivered while run waits is a ticket within 2 s" "$(tail -n 20 "$W/run.log")"
dm_wait_for 5 sent 'Mail server slow'
assert_true "and its acknowledgement goes out in the same pass" sent 'Mail server slow'

sleep 0.5
dm_mail "$W/b" 'alice@acme.example' 'Printer jam' 'Paper stuck in tray 2.'
dm_deliver "$W/b"
lat=$(wait_ticket 2 2000)
echo "# latency of the second mail: $lat ms"
[ "$lat" != timeout ] && dm_ok "the next mail too, on the same IDLE connection ($lat ms)" \
	|| dm_not_ok "the next mail too, on the same IDLE connection" "$(tail -n 20 "$W/run.log")"

# two at once, then one more right behind (arriving during a pass)
dm_mail "$W/c" 'alice@acme.example' 'VPN down' 'No VPN since 9.'
dm_mail "$W/d" 'carol@globex.example' 'DNS' 'Add a TXT record please.'
dm_mail "$W/e" 'carol@globex.example' 'Backup' 'Backup failed tonight.'
dm_deliver "$W/c" "$W/d"
sleep 0.05
dm_deliver "$W/e"
lat=$(wait_ticket 5 2000)
[ "$lat" != timeout ] && dm_ok "mail arriving while a pass runs is not missed ($lat ms)" \
	|| dm_not_ok "mail arriving while a pass runs is not missed" "tickets: $(tickets)"

assert_eq 0 "$(grep -Ec ' (error|warning): ' "$W/run.log")" "no error or warning logged"

# the IMAP server restarted under the waiting daemon: IDLE is opened again
# (with backoff, polled meanwhile) and is as quick as before
dm_imap_stop
dm_imap_start
dm_wait_for 30 grep -q 'IMAP IDLE: connected again' "$W/run.log"
assert_true "after an IMAP server restart the IDLE connection is opened again" grep -q 'IMAP IDLE: connected again' "$W/run.log"
assert_eq 1 "$(grep -c 'IMAP IDLE: .*retrying in' "$W/run.log")" "its loss is logged once"
assert_eq 0 "$(grep -c ' warning: IMAP IDLE' "$W/run.log")" "at info level: the outage is the poll's to warn of"
n=$(tickets)
dm_mail "$W/r" 'carol@globex.example' 'After restart' 'Server came back.'
dm_deliver "$W/r"
lat=$(wait_ticket $((n + 1)) 2000)
[ "$lat" != timeout ] && dm_ok "and a mail is a ticket within 2 s again ($lat ms)" \
	|| dm_not_ok "after the restart a mail is a ticket within 2 s" "$(tail -n 20 "$W/run.log")"

t0=$(ms)
kill -TERM "$pid"
wait "$pid"; rc=$?
took=$(($(ms) - t0))
assert_eq 0 "$rc" "the daemon exits 0 on SIGTERM while it idles"
[ "$took" -lt 1500 ] && dm_ok "and within a second or so ($took ms)" || dm_not_ok "SIGTERM ends the IDLE wait within ~1 s" "took $took ms"

# ---- IDLE renewed (DONE, IDLE) as RFC 2177 asks: every second here ----
DESKMAIL_IDLE_RENEW_SECONDS=1 "$DESKMAIL" -v -c "$DM_CONF" run 2>"$W/run-renew.log" &
pid=$!
dm_wait_for 20 grep -q 'IMAP IDLE: waiting for mail' "$W/run-renew.log"
sleep 3.5
n=$(tickets)
dm_mail "$W/n1" 'carol@globex.example' 'After renewals' 'Still listening?'
dm_deliver "$W/n1"
lat=$(wait_ticket $((n + 1)) 2000)
renewed=$(grep -c 'IDLE renewed' "$W/run-renew.log")
[ "$renewed" -ge 2 ] && dm_ok "IDLE is renewed on the same connection ($renewed times in ~4 s)" \
	|| dm_not_ok "IDLE is renewed" "renewed: $renewed"
[ "$lat" != timeout ] && dm_ok "and mail is still announced after renewals ($lat ms)" \
	|| dm_not_ok "mail is announced after renewals" "$(grep -v postgresql "$W/run-renew.log" | tail -n 20)"
assert_eq 0 "$(grep -Ec ' (error|warning): ' "$W/run-renew.log")" "no error or warning on renewal"
kill -TERM "$pid"
wait "$pid"

# ---- IDLE over TLS (imaps://): curl's TLS under curl_easy_recv ----
T=$DM_TEST_DIR/tls
mkdir -p "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=deskmail idle test" \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>"$W/openssl.log" || { cat "$W/openssl.log"; exit 1; }
chmod 644 "$T/key.pem" "$T/cert.pem"
IMAPS_PORT=$(dm_free_port)
dm_imap_stop
sed -i "s#^ssl = no#ssl = yes\nssl_cert = <$T/cert.pem\nssl_key = <$T/key.pem#; s#    port = 0#    address = 127.0.0.1\n    port = $IMAPS_PORT#" \
	"$DM_TEST_DIR/dovecot/dovecot.conf"
dm_imap_start
cp "$DM_CONF" "$W/plain.conf"
sed -i "s#url = \"$DM_IMAP_URL\";#url = \"imaps://127.0.0.1:$IMAPS_PORT/INBOX\"; ca_file = \"$T/cert.pem\";#" "$DM_CONF"
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run-tls.log" &
pid=$!
dm_wait_for 20 grep -q 'IMAP IDLE: waiting for mail on imaps://' "$W/run-tls.log"
assert_true "the daemon idles over imaps://" grep -q 'IMAP IDLE: waiting for mail on imaps://' "$W/run-tls.log"
sleep 1
n=$(tickets)
dm_mail "$W/t1" 'alice@acme.example' 'Over TLS' 'Sent while idling over TLS.'
dm_deliver "$W/t1"
lat=$(wait_ticket $((n + 1)) 2000)
echo "# latency over imaps://: $lat ms"
[ "$lat" != timeout ] && dm_ok "over TLS a delivered mail is a ticket within 2 s too ($lat ms)" \
	|| dm_not_ok "over TLS a delivered mail is a ticket within 2 s" "$(tail -n 20 "$W/run-tls.log")"
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "and exits 0 on SIGTERM"
# a certificate the daemon does not trust (no ca_file): the IDLE
# connection's failure says why (curl's words and the verify result)
sed -i "s# ca_file = \"$T/cert.pem\";##" "$DM_CONF"
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run-tlsbad.log" &
pid=$!
dm_wait_for 20 grep -q 'IMAP IDLE: ' "$W/run-tlsbad.log"
assert_contains "$(grep 'IMAP IDLE: ' "$W/run-tlsbad.log")" "(verify result " "an untrusted certificate is logged with the certificate check's result"
kill -TERM "$pid"
wait "$pid"
cp "$W/plain.conf" "$DM_CONF"

# ---- two mailboxes: an IDLE connection each ----
mbx() { printf '{ name = "%s"; url = "%s"; username = "%s"; password = "secret"; poll_interval = 300; }' "$1" "$DM_IMAP_URL" "$2"; }
grep -v '^imap = ' "$DM_CONF" >"$W/multi.conf"
echo "mailboxes = ( $(mbx desk support), $(mbx staffbox staff) );" >>"$W/multi.conf"
"$DESKMAIL" -c "$W/multi.conf" run 2>"$W/run-multi.log" &
pid=$!
dm_wait_for 20 bash -c "[ \$(grep -c 'IMAP IDLE: waiting for mail' '$W/run-multi.log') -ge 2 ]"
assert_eq 2 "$(grep -c 'IMAP IDLE: waiting for mail' "$W/run-multi.log")" "with two mailboxes the daemon idles on both"
sleep 1
for box in support staff; do
	n=$(tickets)
	dm_mail "$W/m-$box" 'alice@acme.example' "To the $box mailbox" 'Which one hears it?'
	DM_MAILDIR=$DM_TEST_DIR/mail/$box/Maildir dm_deliver "$W/m-$box"
	lat=$(wait_ticket $((n + 1)) 2000)
	echo "# latency in the $box mailbox: $lat ms"
	[ "$lat" != timeout ] && dm_ok "a mail to the $box mailbox is a ticket within 2 s ($lat ms)" \
		|| dm_not_ok "a mail to the $box mailbox is a ticket within 2 s" "$(grep -v postgresql "$W/run-multi.log" | tail -n 20)"
done
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "and stops on SIGTERM"

# ---- a server without IDLE: polled every poll_interval ----
dm_imap_stop
echo 'imap_capability = IMAP4rev1 SASL-IR LITERAL+ UIDPLUS MOVE ESEARCH' >>"$DM_TEST_DIR/dovecot/dovecot.conf"
dm_imap_start
caps=$(dm_imap CAPABILITY "imap://127.0.0.1:$DM_IMAP_PORT/")
assert_contains "$caps" "ESEARCH" "Dovecot restarted with a capability list"
[[ "$caps" != *IDLE* ]] && dm_ok "that has no IDLE" || dm_not_ok "the capability list has no IDLE" "$caps"
sed -i 's/poll_interval = 300;/poll_interval = 2;/' "$DM_CONF"
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run2.log" &
pid=$!
dm_wait_for 20 grep -q 'does not offer IDLE' "$W/run2.log"
assert_contains "$(cat "$W/run2.log")" "the IMAP server does not offer IDLE; polling" "a server without IDLE is noticed and polled"
n=$(tickets)
dm_mail "$W/f" 'carol@globex.example' 'Polled' 'Found by the interval.'
dm_deliver "$W/f"
lat=$(wait_ticket $((n + 1)) 5000)
echo "# latency without IDLE (poll_interval = 2): $lat ms"
[ "$lat" != timeout ] && dm_ok "and its mail is taken in by the next poll ($lat ms)" \
	|| dm_not_ok "without IDLE the mail is taken in by the next poll" "$(tail -n 20 "$W/run2.log")"
assert_eq 0 "$(grep -c 'IMAP IDLE: waiting' "$W/run2.log")" "no IDLE connection is kept there"
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "that daemon exits 0 on SIGTERM too"

# the same server down when the daemon starts, poll_interval = 300: the
# failed poll does not count as the interval's poll, so it is tried again
# after the backoff (5 s), not after 300 s
sed -i 's/poll_interval = 2;/poll_interval = 300;/' "$DM_CONF"
dm_imap_stop
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run5.log" &
pid=$!
dm_wait_for 20 grep -q 'IMAP: ' "$W/run5.log"
n=$(tickets)
dm_mail "$W/g" 'carol@globex.example' 'Down at start' 'Polled after the backoff.'
dm_deliver "$W/g"
dm_imap_start
lat=$(wait_ticket $((n + 1)) 20000)
echo "# latency after an IMAP outage at start (poll_interval = 300): $lat ms"
[ "$lat" != timeout ] && dm_ok "a poll that failed is tried again after the backoff, not the interval ($lat ms)" \
	|| dm_not_ok "a failed poll is tried again after the backoff" "$(tail -n 20 "$W/run5.log")"
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "and exits 0 on SIGTERM"

# ---- SIGTERM while the IDLE connection is being opened, to a server that
# accepts and never greets: the open is given up at once ----
SILENT_PORT=$(dm_free_port)
"$DM_PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    held.append(s.accept())
' "$SILENT_PORT" &
silent=$!
dm_wait_for 10 dm_port_open "$SILENT_PORT"
sed "s#url = \"$DM_IMAP_URL\";#url = \"imap://127.0.0.1:$SILENT_PORT/INBOX\";#" "$W/plain.conf" >"$W/silent.conf"
"$DESKMAIL" -c "$W/silent.conf" run 2>"$W/run-silent.log" &
pid=$!
sleep 2
t0=$(ms)
kill -TERM "$pid"
wait "$pid"; rc=$?
took=$(($(ms) - t0))
kill "$silent"; wait "$silent" 2>/dev/null
assert_eq 0 "$rc" "SIGTERM while the IDLE connection waits for a silent server's greeting: exit 0"
[ "$took" -lt 1500 ] && dm_ok "within a second or so ($took ms)" || dm_not_ok "SIGTERM ends the IDLE open within ~1 s" "took $took ms; $(tail -n 5 "$W/run-silent.log")"
dm_done
