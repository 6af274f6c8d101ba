#!/bin/bash
# loops.sh - autoresponders without RFC 3834 headers talking through the
# desk, on real servers (PostgreSQL, SMTP; mail handed in by pipe): each
# loop ends by itself within a round or two, or at the hourly limits when
# the autoresponder's words change every time; real people are not limited.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
dm_write_conf
dm_fixture
dm staff add amy@agency.example --name "Amy Away" --role senior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W"

round() { # FILE: hand in one mail and send what it caused
	dm ingest "$1" >/dev/null && dm send >/dev/null
}

# 1. a contact's autoresponder that answers every mail we send with a new
# thread, the same words each time
for i in 1 2 3 4 5; do
	dm_mail "$W/a$i" 'bob@acme.example' 'Away from the office' 'I am away until Monday and will answer your mail when I am back.'
	round "$W/a$i"
done
assert_eq 1 "$(dm_sql_count "ticket where subject = 'Away from the office'")" "five rounds of a markerless autoresponder: one ticket"
assert_eq 1 "$(dm_sql_count "outbox where kind = 'ack' and rcpt = 'bob@acme.example'")" "and one acknowledgement: the loop ended after the first round"
assert_eq 4 "$(dm_sql_count "inbound where from_addr = 'bob@acme.example' and automatic")" "the repeats are kept, as automatic mail"
assert_eq 5 "$(dm_sql_count "message m join ticket t on t.id = m.ticket_id where t.subject = 'Away from the office' and m.direction = 'in'")" "on the ticket the first one opened"

# Two out-of-office replies answering each other through ticket $1, each
# answering only the mail it got: the client's answers a relay, the staff
# member's a notification.  $2: "same" words every time or "changing".
# Prints the number of rounds until one of them got nothing to answer.
ooo_loop() {
	local t=$1 words=$2 i mark c s
	for i in $(seq 1 15); do
		c='Alice is out of the office this week.'
		s='Amy is on leave; please write to the desk.'
		if [ "$words" = changing ]; then
			c="Alice is out of the office (message $i)."
			s="Amy is on leave (note $i)."
		fi
		mark=$(dm_outbox_max)
		dm_mail "$W/l$t.c$i" 'alice@acme.example' "Re: [#$t] Printer trouble" "$c"
		round "$W/l$t.c$i"
		[ "$(dm_sql_count "outbox where id > $mark and rcpt = 'amy@agency.example'")" -gt 0 ] || break
		mark=$(dm_outbox_max)
		dm_mail "$W/l$t.s$i" 'amy@agency.example' "Re: [#$t] The client replied" "$s"
		round "$W/l$t.s$i"
		[ "$(dm_sql_count "outbox where id > $mark and kind = 'relay'")" -gt 0 ] || break
	done
	echo "$i"
}

# 2. a client's out-of-office and a staff member's, both without headers
dm_mail "$W/b0" 'alice@acme.example' 'Printer trouble' 'Please help, the printer is on fire.'
round "$W/b0"
T=$(dm_psql -c "select id from ticket where subject = 'Printer trouble'")
n=$(ooo_loop "$T" same)
assert_eq 2 "$n" "two out-of-offices without headers: the loop ends in the second round"
assert_eq 1 "$(dm_outbox_count notify-reply "$T" amy@agency.example)" "the staff member was told once"
assert_eq 1 "$(dm_outbox_count relay "$T")" "one out-of-office was relayed to the client"
assert_true "the repeat is kept, as automatic mail" test "$(dm_sql_count "inbound where automatic and from_addr = 'alice@acme.example'")" -ge 1

# 3. the same two, their words changing every round (a date, a counter):
# the limit of mail to one address about one ticket ends it
dm_mail "$W/c0" 'alice@acme.example' 'Printer trouble again' 'Now the scanner.'
round "$W/c0"
T=$(dm_psql -c "select id from ticket where subject = 'Printer trouble again'")
n=$(ooo_loop "$T" changing)
assert_true "changing words: the loop ends within ten rounds ($n)" test "$n" -le 10
m=$(dm_sql_count "outbox where ticket_id = $T and rcpt = 'amy@agency.example'")
assert_eq 10 "$m" "the staff member got ten mails about the ticket (desk.max_automatic_per_ticket), then none"
assert_true "the suppression is an audit event" test "$(dm_sql_count "event where ticket_id = $T and kind = 'notification-suppressed'")" -ge 1

# 3b. the same limit holds inside one poll batch: fifteen client replies to
# one ticket fetched together
dm_mail "$W/p0" 'alice@acme.example' 'Printer on fire' 'It smokes.'
round "$W/p0"
T=$(dm_psql -c "select id from ticket where subject = 'Printer on fire'")
files=()
for i in $(seq 1 15); do
	dm_mail "$W/pp$i" 'alice@acme.example' "Re: [#$T] Printer on fire" "Update number $i: still smoking."
	files+=("$W/pp$i")
done
dm_deliver "${files[@]}"
dm poll >/dev/null 2>&1
n=$(dm_sql_count "outbox where ticket_id = $T and rcpt = 'amy@agency.example'")
assert_eq 10 "$n" "fifteen replies in one poll: ten mails to the staff member about the ticket"

# 4. a contact's autoresponder with changing words that opens a new ticket
# every round: the hourly limit of automatic mail to one address
for i in $(seq 1 25); do
	dm_mail "$W/d$i" 'carol@globex.example' "Automatic notice $i" "Your message number $i was received."
	round "$W/d$i"
done
n=$(dm_sql_count "outbox where automatic and rcpt = 'carol@globex.example'")
assert_eq 20 "$n" "twenty-five rounds: twenty automatic mails to the address, then none"
assert_true "the suppression is an audit event" test "$(dm_sql_count "event where kind = 'auto-reply-suppressed' and detail = 'carol@globex.example'")" -ge 5

# 5. a real contact who opens ten tickets in an hour gets ten
# acknowledgements
for i in $(seq 1 10); do
	dm_mail "$W/e$i" 'bob@acme.example' "Real problem $i" "Something different broke, number $i."
	round "$W/e$i"
done
assert_eq 10 "$(dm_sql_count "outbox o join ticket t on t.id = o.ticket_id where o.kind = 'ack' and t.subject like 'Real problem %'")" "ten real tickets, ten acknowledgements"

# 5b. people are not machines: the same subject and an empty text with
# another file each time (a scanner) is another request; a stranger who
# is added as a contact and sends the same words again gets a ticket
for i in 1 2 3; do
	head -c 2000 /dev/urandom >"$W/scan$i.pdf"
	dm_mail_att "$W/scan$i" 'bob@acme.example' 'Scan' '' "$W/scan$i.pdf:application/pdf"
	round "$W/scan$i"
done
assert_eq 3 "$(dm_sql_count "ticket where subject = 'Scan'")" "three scans with other files: three tickets"
dm_mail "$W/g1" 'gina@globex.example' 'Our VPN' 'The VPN drops every hour.'
assert_eq quarantined "$(dm ingest "$W/g1")" "a stranger is quarantined"
dm contact add Globex gina@globex.example >/dev/null
dm_mail "$W/g2" 'gina@globex.example' 'Our VPN' 'The VPN drops every hour.'
assert_contains "$(dm ingest "$W/g2")" "new ticket" "added as a contact, the same words again open a ticket"

# 6. our own mail coming back (our X-Loop in it) is automatic, and every
# mail we send carries it
f=$(grep -l '^To: bob@acme.example' "$DM_SMTP_OUT"/*.eml | tail -n1)
assert_contains "$(dm_maildump "$f" header X-Loop)" "support@agency.example" "outgoing mail carries X-Loop"
dm_mail "$W/x" 'bob@acme.example' 'Fwd: your acknowledgement' 'Forwarded back with its headers.' 'X-Loop: support@agency.example'
assert_eq quarantined "$(dm ingest "$W/x")" "mail with our X-Loop opens no ticket"
assert_contains "$(dm quarantine list --json | jq -r '.[-1].reason')" "X-Loop" "and says why"
dm_done
