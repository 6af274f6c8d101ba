#!/bin/bash
# workers.sh - several mailboxes, several workers on one PostgreSQL.
#
# Three mailboxes (three Dovecot users) of three brands, DM_WORKERS_MAILS
# mails each (300 by default), three `deskmail run` workers killed with
# SIGKILL at random times and started again until all is done.  Then: every
# mail stored once, every ticket acknowledged once (the SMTP sink may hold
# a mail twice only with the same Message-ID: a kill between the server's
# acceptance and the record), each brand's acknowledgements from its own
# address and templates, each mailbox polled by one worker at a time.  The
# database sessions of every worker are cut a few times too (each
# reconnects at its next pass and takes its mailbox's lock anew).
# Also: mail claimed by a worker that died goes out through another long
# before its lease (10 minutes) runs out, and two escalation passes at once
# never double a notice.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
N=${DM_WORKERS_MAILS:-300}
dm_servers_start
W=$DM_TEST_DIR/work
mkdir -p "$W/tpl-b"

# three Dovecot users: support (brand A, the desk's own address), sales
# (brand B, its own address and ack template) and help (brand C, its own
# address, the desk's templates)
printf 'sales:{PLAIN}secret::::::\nhelp:{PLAIN}secret::::::\n' >>"$DM_TEST_DIR/dovecot/passwd"
for u in sales help; do
	mkdir -p "$DM_TEST_DIR/mail/$u/Maildir/"{cur,new,tmp}
done
chown -R "$(id -u "$DM_MAIL_USER"):$(id -g "$DM_MAIL_USER")" "$DM_TEST_DIR/mail"
printf 'Subject: [#{{ticket.id}}] Brand B received: {{ticket.subject}}\n\nBrand B thanks you. Ticket #{{ticket.id}}, {{desk.address}}.\n' >"$W/tpl-b/ack.txt"

mb() { # NAME USER [EXTRA]
	printf '{ name = "%s"; url = "%s"; username = "%s"; password = "secret"; poll_interval = 1; batch = 50; %s }' \
		"$1" "$DM_IMAP_URL" "$2" "${3:-}"
}
cat >"$DM_CONF" <<CONF
database = { conninfo = "$DM_CONNINFO"; };
mailboxes = ( $(mb a support),
              $(mb b sales "address = \"sales@brand-b.example\"; templates = \"$W/tpl-b\";"),
              $(mb c help "address = \"help@brand-c.example\";") );
smtp = { url = "$DM_SMTP_URL"; retry_base = 1; };
desk = { name = "Example Agency Support"; address = "support@agency.example";
         templates = "$DM_REPO_DIR/conf/templates"; max_automatic_per_hour = 0;
         max_notices_per_hour = 0; max_auto_replies_per_hour = 0; };
plans = { silver = { first_response_hours = 4; resolution_hours = 48; }; };
CONF
dm migrate >/dev/null
out=$(dm check-config 2>&1)
assert_contains "$out" 'mailboxes.[1].address = "sales@brand-b.example"' "check-config prints each mailbox with its brand"
assert_contains "$out" "mailboxes.[2].templates = \"$DM_REPO_DIR/conf/templates\" (desk.templates)" "a mailbox without templates uses the desk's"

# N mails into USER's INBOX (cur/, as dm_deliver_tiny does), from the
# contacts k1..k30@acme.example, each with its own subject and Message-ID
DM_GEN_SEQ=0
deliver() { # USER N
	"$DM_PYTHON" - "$DM_TEST_DIR/mail/$1/Maildir" "$(id -u "$DM_MAIL_USER")" "$(id -g "$DM_MAIL_USER")" "$DM_GEN_SEQ" "$2" "$1" <<'PY'
import os, sys
d, uid, gid, seq, n, user = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
cur = os.path.join(d, "cur")
for i in range(seq + 1, seq + n + 1):
    p = os.path.join(cur, "%d.M%07dP2.dmgen:2," % (1000000000 + i, i))
    with open(p, "wb") as f:
        f.write(b"From: k%d@acme.example\r\nTo: %s@desk.example\r\nSubject: %s mail %d\r\n"
                b"Message-ID: <gen%d@acme.example>\r\n\r\nplease help with %d\r\n"
                % (i % 30 + 1, user.encode(), user.encode(), i, i, i))
    os.chown(p, uid, gid)
PY
	DM_GEN_SEQ=$((DM_GEN_SEQ + $2))
}
dm client add "Acme Ltd" --plan silver >/dev/null
dm_psql -c "INSERT INTO contact (client_id, email) SELECT c.id, 'k' || g || '@acme.example' FROM client c, generate_series(1, 30) g WHERE c.name = 'Acme Ltd'" >/dev/null

# a mailbox row from before user names were recorded: the first account
# polling its URL takes it over (and its place), the others get their own
old_id=$(dm_psql -c "INSERT INTO mailbox (url) VALUES ('$DM_IMAP_URL') RETURNING id")

# ---- three workers, killed at random ----
declare -a pids
start_worker() { # I
	"$DESKMAIL" -c "$DM_CONF" run >>"$W/w$1.log" 2>&1 &
	pids[$1]=$!
}
half=$((N / 2))
deliver support "$half"
deliver sales "$half"
deliver help "$half"
t0=$SECONDS
for i in 1 2 3; do start_worker "$i"; done
finished() {
	[ "$(dm_psql -c "select (select count(*) from inbound) = 3 * $N and (select count(*) from outbox where kind = 'ack') = 3 * $N and not exists (select 1 from outbox where status <> 'sent')")" = t ]
}
kills=0
cuts=0
delivered=0
while ! finished && [ $((SECONDS - t0)) -lt 200 ]; do
	sleep "0.$((RANDOM % 5 + 1))"
	if [ $delivered = 0 ] && [ $kills -ge 3 ]; then
		deliver support $((N - half))
		deliver sales $((N - half))
		deliver help $((N - half))
		delivered=1
	fi
	[ $kills -lt 30 ] || continue
	if [ $((RANDOM % 4)) = 0 ] && [ $cuts -lt 5 ]; then
		# every worker's database session cut: each reconnects at its
		# next pass and takes its mailbox's lock anew
		dm_psql -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = 'deskmail' and pid <> pg_backend_pid()" >/dev/null
		cuts=$((cuts + 1))
		continue
	fi
	i=$((RANDOM % 3 + 1))
	kill -KILL "${pids[$i]}" 2>/dev/null && kills=$((kills + 1))
	wait "${pids[$i]}" 2>/dev/null
	echo "--- killed (SIGKILL) at $((SECONDS - t0)) s" >>"$W/w$i.log"
	sleep "0.$((RANDOM % 3))"
	start_worker "$i"
done
took=$((SECONDS - t0))
echo "# $((3 * N)) mails, $kills kills, $cuts cuts of every session: done in ${took}s"
assert_true "all done within 200 s ($kills workers killed)" finished
for i in 1 2 3; do kill -TERM "${pids[$i]}" 2>/dev/null; done
for i in 1 2 3; do wait "${pids[$i]}" 2>/dev/null; done

assert_eq "$((3 * N))|$((3 * N))" "$(dm_psql -c "select count(*), count(distinct (mailbox_id, uidvalidity, uid)) from inbound")" "every mail stored once"
assert_eq "$((3 * N))|0" "$(dm_psql -c "select count(*), count(*) filter (where not marked) from mailbox_seen")" "every mail marked on the server once stored"
# three accounts on one URL: nobody can tell whose the row from before was,
# and taking another account's checkpoint would skip its mail
assert_eq "4 1 1" "$(dm_psql -c "select count(*), count(*) filter (where username = ''), count(*) filter (where id = $old_id and username = '') from mailbox" | tr '|' ' ')" "one row per account; the row from before, on a URL with three accounts, left alone"
assert_eq "a $N,b $N,c $N" "$(dm_psql -c "select string_agg(mailbox || ' ' || n, ',' order by mailbox) from (select mailbox, count(*) n from ticket group by mailbox) x")" "each ticket remembers its mailbox"
assert_eq "$((3 * N))|$((3 * N))" "$(dm_psql -c "select count(*), count(distinct ticket_id) from outbox where kind = 'ack'")" "one acknowledgement queued per ticket"
assert_eq "a support@agency.example,b sales@brand-b.example,c help@brand-c.example" \
	"$(dm_psql -c "select string_agg(distinct t.mailbox || ' ' || o.mail_from, ',') from outbox o join ticket t on t.id = o.ticket_id")" \
	"each brand's mail is sent from its address"
assert_contains "$(cat "$W"/w*.log)" "another deskmail is polling it; skipping this pass" "workers skip a mailbox another is polling"

# what reached the SMTP server: each acknowledgement at least once, a
# second copy only with the same Message-ID
dm_psql -c "select o.message_id, t.mailbox from outbox o join ticket t on t.id = o.ticket_id where o.kind = 'ack'" >"$W/acks"
"$DM_PYTHON" - "$DM_SMTP_OUT" "$W/acks" >"$W/check" <<'PY'
import email, glob, os, sys
from email import policy
out, acks = sys.argv[1], sys.argv[2]
want = dict(l.strip().split("|") for l in open(acks) if l.strip())
addr = {"a": "support@agency.example", "b": "sales@brand-b.example", "c": "help@brand-c.example"}
seen, bad = {}, []
for f in glob.glob(os.path.join(out, "*.eml")):
    m = email.message_from_binary_file(open(f, "rb"), policy=policy.compat32)
    mid = (m["Message-ID"] or "").strip().strip("<>")
    seen[mid] = seen.get(mid, 0) + 1
    mb = want.get(mid)
    if mb is None:
        bad.append("unexpected mail " + mid)
        continue
    env_from = open(f[:-4] + ".env").readline().strip()
    body = m.get_payload(decode=True) if not m.is_multipart() else m.get_payload(0).get_payload(decode=True)
    body = (body or b"").decode("utf-8", "replace")
    if addr[mb] not in (m["From"] or "") or env_from != addr[mb] or addr[mb] not in (m["X-Loop"] or ""):
        bad.append("%s of %s: From %s, MAIL FROM %s" % (mid, mb, m["From"], env_from))
    if mb == "b" and ("Brand B received" not in (m["Subject"] or "") or "Brand B thanks you" not in body):
        bad.append("%s of b: not its own template: %s" % (mid, m["Subject"]))
    if mb == "c" and ("Thank you for contacting" not in body or "help@brand-c.example" not in body):
        bad.append("%s of c: not the desk's template with its address" % mid)
    if mb != "b" and "Brand B" in body:
        bad.append("%s of %s: brand b's template" % (mid, mb))
missing = [m for m in want if m not in seen]
print("received %d distinct %d missing %d repeated %d" % (sum(seen.values()), len(seen), len(missing), sum(v - 1 for v in seen.values())))
for b in bad[:5]:
    print("bad: " + b)
print("bad %d" % len(bad))
PY
cat "$W/check" | sed 's/^/# /'
read -r _ recv _ distinct _ missing _ repeated < "$W/check"
assert_eq "$((3 * N)) 0" "$distinct $missing" "every acknowledgement reached the SMTP server"
# a kill, or a cut session, between the server's acceptance and the record
# repeats the mail on the wire: one per kill, one per worker and cut
assert_true "a mail received twice only with its Message-ID, at most once per interruption ($repeated repeated, $kills kills, $cuts cuts)" test "$repeated" -le $((kills + 3 * cuts))
assert_eq "bad 0" "$(tail -n1 "$W/check")" "each brand's acknowledgements: From, MAIL FROM and X-Loop its address; b's template; c's address in the desk's template"

# ---- a worker dies with mail claimed: another sends it within 2 minutes ----
# smtp.timeout is the default (60 s): the lease is 10 minutes, yet the
# dead pass's token is free at once, and the next pass of another worker
# takes its rows
dm_smtp_stop
dm_smtp_start --delay 0.5
before=$(dm_smtp_count)
deliver support 20
start_worker 1
some_sent() { [ "$(dm_smtp_count)" -ge $((before + 2)) ]; }
dm_wait_for 60 some_sent
kill -KILL "${pids[1]}"
wait "${pids[1]}" 2>/dev/null
left=$(dm_psql -c "select count(*) from outbox where status = 'sending' and claim is not null and locked_until > now() + interval '5 minutes'")
assert_true "the killed worker left rows claimed, their lease 10 minutes ahead ($left)" test "$left" -ge 5
t1=$SECONDS
start_worker 2
all_sent() { [ "$(dm_psql -c "select count(*) from outbox where status <> 'sent'")" = 0 ]; }
dm_wait_for 120 all_sent
waited=$((SECONDS - t1))
assert_true "another worker sent them within 2 minutes (${waited}s)" all_sent
kill -TERM "${pids[2]}"
wait "${pids[2]}" 2>/dev/null
assert_eq "$((3 * N + 20))" "$(dm_psql -c "select count(*) from outbox where kind = 'ack' and status = 'sent'")" "every acknowledgement recorded as sent"
extra=$(($(dm_smtp_count) - before - 20))
assert_true "at most the mail on the wire at the kill was received twice ($extra)" test "$extra" -le 1
dm_smtp_stop
dm_smtp_start

# ---- two escalation passes at once never double a notice ----
# Lin works the first line; a month later every open ticket's clocks have
# run out: each notice once, whichever pass took the ticket
dm staff add lin@agency.example --name "Lin First" --role senior-engineer --line 1 >/dev/null
later=$(dm_psql -c "select to_char((now() + interval '30 days') at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
mark=$(dm_psql -c "select coalesce(max(id), 0) from outbox")
DESKMAIL_NOW=$later "$DESKMAIL" -c "$DM_CONF" escalate >"$W/esc1.out" 2>"$W/esc1.log" &
e1=$!
DESKMAIL_NOW=$later "$DESKMAIL" -c "$DM_CONF" escalate >"$W/esc2.out" 2>"$W/esc2.log" &
e2=$!
wait "$e1"; r1=$?
wait "$e2"; r2=$?
assert_eq "0 0" "$r1 $r2" "both escalation passes exit 0"
sum() { # FIELD-WORD: the sum of "N WORD" over both outputs
	cat "$W/esc1.out" "$W/esc2.out" | grep -o "[0-9]* $1" | awk '{s += $1} END {print s + 0}'
}
echo "# pass 1: $(cat "$W/esc1.out"); pass 2: $(cat "$W/esc2.out")"
notices=$(dm_psql -c "select count(*) from sla_notice")
mails=$(dm_psql -c "select count(*) from outbox where id > $mark")
assert_true "the passes wrote notices ($notices) and mail ($mails)" test "$notices" -gt 0 -a "$mails" -gt 0
assert_eq "$notices $mails" "$(sum 'notice') $(sum 'mail')" "the notices and mail both passes report are those written: no ticket was worked twice"
assert_eq 0 "$(dm_psql -c "select count(*) from (select ticket_id, kind, rcpt, subject from outbox where id > $mark group by 1, 2, 3, 4 having count(*) > 1) d")" "no mail queued twice"
assert_eq "0" "$(DESKMAIL_NOW=$later "$DESKMAIL" -c "$DM_CONF" escalate 2>/dev/null | grep -o '[0-9]* notice' | grep -o '[0-9]*')" "a third pass finds nothing left to say"

# ---- a stranger's mail to a brand, accepted from the quarantine ----
# the ticket is the brand's, and so is the acknowledgement
"$DM_PYTHON" - "$DM_TEST_DIR/mail/sales/Maildir" "$(id -u "$DM_MAIL_USER")" "$(id -g "$DM_MAIL_USER")" <<'PY'
import os, sys
p = os.path.join(sys.argv[1], "cur", "1999999999.M9999999P2.dmgen:2,")
with open(p, "wb") as f:
    f.write(b"From: newbie@acme.example\r\nTo: sales@brand-b.example\r\nSubject: first contact\r\n"
            b"Message-ID: <stranger1@acme.example>\r\n\r\nhello, we are new\r\n")
os.chown(p, int(sys.argv[2]), int(sys.argv[3]))
PY
"$DESKMAIL" -c "$DM_CONF" poll >/dev/null 2>&1
qid=$(dm_psql -c "select id from quarantine where from_addr = 'newbie@acme.example'")
assert_true "the stranger's mail is held ($qid)" test -n "$qid"
"$DESKMAIL" -c "$DM_CONF" quarantine accept "$qid" --contact k1@acme.example >/dev/null 2>&1
assert_eq "b" "$(dm_psql -c "select mailbox from ticket where subject = 'first contact'")" "accepted, the ticket is the brand's whose mailbox it came to"
assert_eq "sales@brand-b.example" "$(dm_psql -c "select o.mail_from from outbox o join ticket t on t.id = o.ticket_id where t.subject = 'first contact' and o.kind = 'ack'")" "and its acknowledgement comes from the brand's address"
dm_done
