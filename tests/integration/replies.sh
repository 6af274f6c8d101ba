#!/bin/bash
# replies.sh - what comes back quoted, on real servers (PostgreSQL, SMTP;
# mail by pipe): every mail we send that can be answered starts with the
# reply marker, and text below it in a reply is never kept, whatever the
# mail program did to the quote; a staff reply that still holds internal
# text (a note, a notification) is not relayed: its author is told, with
# their text, and the ticket records why; quoting the client's own words
# is fine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
dm_write_conf
dm_fixture
dm_psql -c "update staff set line = 1 where email = 'sam@agency.example'" >/dev/null
dm staff add jo@agency.example --name "Jo Junior" --role junior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W"
MARK='##- Please type your reply above this line -##'
tid() { dm_psql -c "select id from ticket where subject = '$1'"; }
last_in_body() { dm_psql -c "select body from message where ticket_id = $1 and direction = 'in' order by id desc limit 1"; }

dm_mail "$W/a" 'alice@acme.example' 'Printer queue stuck' 'The print queue in accounts is stuck since this morning, nothing prints.'
dm ingest "$W/a" >/dev/null
T=$(tid 'Printer queue stuck')
ack=$(dm_psql -c "select id from outbox where kind = 'ack' and ticket_id = $T")
dm_outbox_raw "$ack" "$W/ack"
assert_eq "$MARK" "$(dm_maildump "$W/ack" text | sed -n '1p')" "the acknowledgement starts with the reply marker"
n=$(dm_psql -c "select id from outbox where kind = 'notify-new' and ticket_id = $T and rcpt = 'sam@agency.example'")
dm_outbox_raw "$n" "$W/notify"
assert_eq "$MARK" "$(dm_maildump "$W/notify" text | sed -n '1p')" "so does the staff notification"

# 1. the client answers the acknowledgement in three mail programs' ways;
# only the new text is kept
dm_mail "$W/r1" 'alice@acme.example' "Re: [#$T] Printer queue stuck" "It is the second floor printer.

On Tue, 1 Dec 2026 at 09:00, Example Agency Support <support@agency.example> wrote:
> $MARK
>
> Hello Alice Archer, thank you for contacting us."
dm ingest "$W/r1" >/dev/null
assert_eq "It is the second floor printer." "$(last_in_body "$T")" "a quote with > marks: the new text"
dm_mail "$W/r2" 'alice@acme.example' "Re: [#$T] Printer queue stuck" "Also the scanner.

________________________________
Von: Example Agency Support <support@agency.example>
Gesendet: Dienstag, 1. Dezember 2026 09:00
An: Alice Archer
Betreff: [#$T] Printer queue stuck

$MARK

Hello Alice Archer, thank you for contacting us."
dm ingest "$W/r2" >/dev/null
assert_eq "Also the scanner." "$(last_in_body "$T")" "an Outlook block in German with the marker: the new text"
dm_mail "$W/r3" 'alice@acme.example' "Re: [#$T] Printer queue stuck" "Never mind, it works again.
Alice
   $MARK
   Hello Alice Archer, thank you for contacting us.
   [#$T] is our reference."
dm ingest "$W/r3" >/dev/null
assert_eq "Never mind, it works again.
Alice" "$(last_in_body "$T")" "a quote no cleaning rule knows (indented, no header): cut at the marker"

# 2. a staff reply to the notification, quoting all of it: the relay
# carries only the new text
mark=$(dm_outbox_max)
dm_mail "$W/s1" 'sam@agency.example' "Re: [#$T] New ticket: Printer queue stuck" "I restarted the spooler, please try again.

Sam
-----Original Message-----
$MARK
New ticket.
Ticket:    #$T Printer queue stuck"
dm ingest "$W/s1" >/dev/null
r=$(dm_psql -c "select id from outbox where kind = 'relay' and ticket_id = $T and id > $mark")
dm_outbox_raw "$r" "$W/relay1"
body=$(dm_maildump "$W/relay1" text)
assert_contains "$body" "I restarted the spooler, please try again." "the relay carries the reply"
assert_eq "" "$(grep -F 'Ticket:    #' <<<"$body")" "and nothing of the notification"

# 3. an internal note, then a staff reply that carries it (pasted, wrapped
# differently, quoted with '|'): not relayed, the author told, an event
dm_mail "$W/n1" 'jo@agency.example' "Re: [#$T] Printer queue stuck" "The client is on the old contract and we should bill the visit separately, do not tell them yet."
dm ingest "$W/n1" >/dev/null
mark=$(dm_outbox_max)
dm_mail "$W/s2" 'sam@agency.example' "Re: [#$T] Printer queue stuck" "Hello Alice, I will come by tomorrow morning to look at the printer myself.

| The client is on the old contract and we should
| bill the visit separately, do not tell them yet."
out=$(dm ingest "$W/s2")
assert_eq 0 "$(dm_sql_count "outbox where kind = 'relay' and id > $mark")" "a reply holding an internal note is not relayed"
assert_eq "sam@agency.example" "$(dm_outbox_rcpts notify-withheld "$T" "$mark")" "its author is told"
w=$(dm_psql -c "select id from outbox where kind = 'notify-withheld' and id > $mark")
dm_outbox_raw "$w" "$W/withheld"
wb=$(dm_maildump "$W/withheld" text)
assert_contains "$wb" "NOT sent" "the notice says why"
assert_contains "$wb" "I will come by tomorrow morning" "with their text"
assert_eq 1 "$(dm_sql_count "event where ticket_id = $T and kind = 'relay-withheld'")" "the ticket records it"
assert_eq 0 "$(dm_sql_count "outbox where rcpt = 'alice@acme.example' and convert_from(raw, 'UTF8') like '%bill the visit separately%'")" "nothing of the note reached the client"
# the author sends it again without the note: their own words are no leak
mark=$(dm_outbox_max)
dm_mail "$W/s2b" 'sam@agency.example' "Re: [#$T] Printer queue stuck" "Hello Alice, I will come by tomorrow morning to look at the printer myself."
dm ingest "$W/s2b" >/dev/null
assert_eq 1 "$(dm_sql_count "outbox where kind = 'relay' and id > $mark")" "the reply sent again without the note is relayed"

# a disclaimer every staff mail carries: in Jo's note, and in Sam's mail on
# another ticket; Sam's first reply on this one carries it too
DISC='Example Agency Ltd, 12 High Street, London. Registered in England and Wales, company number 01234567.'
dm_mail "$W/o1" 'alice@acme.example' 'Another matter' 'A second question.'
dm ingest "$W/o1" >/dev/null
T2=$(tid 'Another matter')
dm_mail "$W/o2" 'sam@agency.example' "Re: [#$T2] Another matter" "Answered, see the attached guide.

$DISC"
dm ingest "$W/o2" >/dev/null
dm_mail "$W/d1" 'alice@acme.example' 'Third matter' 'A third question.'
dm ingest "$W/d1" >/dev/null
T3=$(tid 'Third matter')
dm_mail "$W/d2" 'jo@agency.example' "Re: [#$T3] Third matter" "Checked the logs, nothing unusual.

$DISC"
dm ingest "$W/d2" >/dev/null
mark=$(dm_outbox_max)
dm_mail "$W/d3" 'sam@agency.example' "Re: [#$T3] Third matter" "Nothing unusual in the logs; it was a one-off.

$DISC"
dm ingest "$W/d3" >/dev/null
assert_eq 1 "$(dm_sql_count "outbox where kind = 'relay' and id > $mark")" "a disclaimer all staff mail carries does not stop a relay"

# 4. quoting the client's own words (which the notifications carry too) is fine
mark=$(dm_outbox_max)
dm_mail "$W/s3" 'sam@agency.example' "Re: [#$T] Printer queue stuck" "You wrote that the print queue in accounts is stuck since this morning, nothing prints: fixed now."
dm ingest "$W/s3" >/dev/null
assert_eq 1 "$(dm_sql_count "outbox where kind = 'relay' and id > $mark")" "a reply quoting the client is relayed"

# 6. commands only, the notification quoted below (without the marker:
# cut by the cleaning rules): nothing is relayed, Gmail's way or Outlook's
mark=$(dm_outbox_max)
dm_mail "$W/c1" 'sam@agency.example' "Re: [#$T] New ticket: Printer queue stuck" "#status awaiting-client

On Tue, 1 Dec 2026 at 09:00, Example Agency Support <support@agency.example> wrote:
> New ticket.
> Ticket:    #$T Printer queue stuck"
dm ingest "$W/c1" >/dev/null
dm_mail "$W/c2" 'sam@agency.example' "Re: [#$T] New ticket: Printer queue stuck" "#status open

From: Example Agency Support <support@agency.example>
Sent: Tuesday, December 1, 2026 9:00 AM
To: Sam Senior <sam@agency.example>
Subject: [#$T] New ticket: Printer queue stuck

New ticket.
Ticket:    #$T Printer queue stuck"
dm ingest "$W/c2" >/dev/null
assert_eq 0 "$(dm_sql_count "outbox where kind = 'relay' and id > $mark")" "a reply of commands only relays nothing, whatever it quotes"
assert_eq open "$(dm_psql -c "select status from ticket where id = $T")" "and its commands are applied"

# 5. a forwarded message in a staff reply is content, not history
mark=$(dm_outbox_max)
dm_mail "$W/s4" 'sam@agency.example' "Re: [#$T] Printer queue stuck" "Here is what the printer's maker told us.

---------- Forwarded message ---------
From: Printer Maker Support <help@printers.example>
Date: Tue, 1 Dec 2026 at 11:00
Subject: Spooler fault
To: <sam@agency.example>

The firmware update 4.2 fixes the stuck queue."
dm ingest "$W/s4" >/dev/null
r=$(dm_psql -c "select id from outbox where kind = 'relay' and ticket_id = $T and id > $mark")
dm_outbox_raw "$r" "$W/relay4"
body=$(dm_maildump "$W/relay4" text)
assert_contains "$body" "Here is what the printer's maker told us." "a staff reply with a forward: its text"
assert_contains "$body" "The firmware update 4.2 fixes the stuck queue." "and the forwarded message, relayed"
# the same block in a client's mail is history
dm_mail "$W/r4" 'alice@acme.example' "Re: [#$T] Printer queue stuck" "Thanks.

---------- Forwarded message ---------
From: Someone <someone@acme.example>
Subject: old

old text"
dm ingest "$W/r4" >/dev/null
assert_eq "Thanks." "$(last_in_body "$T")" "in a client's reply it is cut as history"

# 7. the internal note quoted the way mail programs quote: Gmail's HTML
# blockquote, Outlook's header block (text and HTML), Apple Mail (text and
# HTML), plain '>', bottom posted, re-wrapped without marks, forwarded, a
# quote whose wrapped line lost its '>'.
# Whatever clean text makes of it, the note never reaches the client: cut
# as history (the new text is relayed alone) or withheld.
NOTE1='The client is on the old contract and we should'
NOTE2='bill the visit separately, do not tell them yet.'
NOTE="$NOTE1 $NOTE2"
# the decoded text of every mail to the client after outbox row $1
client_text() {
	local id
	for id in $(dm_psql -c "select id from outbox where rcpt = 'alice@acme.example' and id > $1 order by id"); do
		dm_outbox_raw "$id" "$W/c$id"
		dm_maildump "$W/c$id" text
	done
}
html_mail() { # FILE FROM SUBJECT HTML
	dm_mail "$@"
	sed -i 's|^Content-Type: text/plain; charset=utf-8|Content-Type: text/html; charset=utf-8|' "$1"
}
quoted_styles=0
check_style() { # NAME FILE NEW-TEXT
	local mark relays withheld seen
	mark=$(dm_outbox_max)
	dm ingest "$2" >/dev/null
	seen=$(client_text "$mark" | tr -s ' \n' '  ')
	[ -n "$seen" ] || seen="(nothing sent to the client)"
	assert_lacks "$seen" "bill the visit" "$1: nothing of the note reaches the client"
	assert_lacks "$seen" "old contract" "$1: not its first half either"
	relays=$(dm_sql_count "outbox where kind = 'relay' and id > $mark")
	withheld=$(dm_sql_count "outbox where kind = 'notify-withheld' and id > $mark")
	assert_eq 1 "$((relays + withheld))" "$1: relayed without the note, or withheld"
	if [ "$relays" = 1 ]; then
		assert_contains "$seen" "$3" "$1: the client gets the new text"
	fi
	quoted_styles=$((quoted_styles + 1))
}
S="Re: [#$T] Printer queue stuck"
html_mail "$W/q1" 'sam@agency.example' "$S" "<div dir=\"ltr\">Hello Alice, the new toner is on its way.</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Mon, 23 Nov 2026 at 09:30, Jo Junior &lt;<a href=\"mailto:jo@agency.example\">jo@agency.example</a>&gt; wrote:<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\"><div dir=\"ltr\">$NOTE</div></blockquote></div>"
check_style "Gmail HTML blockquote" "$W/q1" "the new toner is on its way"
dm_mail "$W/q2" 'sam@agency.example' "$S" "The engineer visits on Thursday.

________________________________
From: Jo Junior <jo@agency.example>
Sent: Monday, November 23, 2026 9:30 AM
To: support@agency.example
Subject: $S

$NOTE"
check_style "Outlook header block" "$W/q2" "The engineer visits on Thursday."
html_mail "$W/q3" 'sam@agency.example' "$S" "<html><body><div>We have ordered the spare part.</div><div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri\"><b>From:</b> Jo Junior &lt;jo@agency.example&gt;<br><b>Sent:</b> Monday, November 23, 2026 9:30 AM<br><b>To:</b> support@agency.example<br><b>Subject:</b> $S</font><div>&nbsp;</div></div><div>$NOTE1<br>$NOTE2</div></body></html>"
check_style "Outlook HTML" "$W/q3" "We have ordered the spare part."
dm_mail "$W/q4" 'sam@agency.example' "$S" "The part arrives on Friday.

Sent from my iPhone

> On 23 Nov 2026, at 09:30, Jo Junior <jo@agency.example> wrote:
>
> $NOTE1
> $NOTE2"
check_style "Apple Mail text" "$W/q4" "The part arrives on Friday."
html_mail "$W/q5" 'sam@agency.example' "$S" "<html><body dir=\"auto\">I will call you at ten.<div><br><blockquote type=\"cite\"><div>On 23 Nov 2026, at 09:30, Jo Junior &lt;jo@agency.example&gt; wrote:</div><br><div><div>$NOTE</div></div></blockquote></div></body></html>"
check_style "Apple Mail HTML" "$W/q5" "I will call you at ten."
dm_mail "$W/q6" 'sam@agency.example' "$S" "> $NOTE1
> $NOTE2

The technician comes at eleven."
check_style "plain '>' quote" "$W/q6" "The technician comes at eleven."
dm_mail "$W/q7" 'sam@agency.example' "$S" "On Mon, 23 Nov 2026 at 09:30, Jo Junior <jo@agency.example> wrote:
> $NOTE1
> $NOTE2

The queue is cleared now, please try printing again."
check_style "bottom posted" "$W/q7" "The queue is cleared now"
dm_mail "$W/q8" 'sam@agency.example' "$S" "The printer will be fixed on Friday.

The client is on the old
contract and we should bill the visit
separately, do not tell them yet."
check_style "re-wrapped, no quote marks" "$W/q8" "fixed on Friday"
dm_mail "$W/q9" 'sam@agency.example' "$S" "FYI, see below.

---------- Forwarded message ---------
From: Jo Junior <jo@agency.example>
Date: Mon, 23 Nov 2026 at 09:30
Subject: $S
To: <support@agency.example>

$NOTE"
check_style "forwarded" "$W/q9" "FYI"
dm_mail "$W/q10" 'sam@agency.example' "$S" "Noted, thanks.

On Mon, 23 Nov 2026 at 09:30, Jo Junior <jo@agency.example> wrote:
> $NOTE1
$NOTE2"
check_style "quote whose wrapped line lost its '>'" "$W/q10" "Noted, thanks."
assert_eq 10 "$quoted_styles" "every style was checked"

dm_done
