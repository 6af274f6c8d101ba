#!/bin/bash
# conversation.sh - the conversation between clients and staff on real
# PostgreSQL and SMTP (pipe mode): staff notifications, staff replies and
# their commands (#status #severity #assign #take #line #category
# #chargeable #note #close), role rules, command errors, relays to the
# client, junior notes, handover, reopening, and the audit events.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
dm_write_conf
dm_fixture
# this suite's fixture has sam on the 1st line (dm_fixture may put him elsewhere)
dm_psql -c "update staff set line = 1 where email = 'sam@agency.example'"
dm staff add amy@agency.example --name "Amy Account" --role account-manager --line 3 >/dev/null
dm staff add pete@agency.example --name "Pete Project" --role project-manager --line 2 >/dev/null
dm staff add jo@agency.example --name "Jo Junior" --role junior-engineer --line 1 >/dev/null
dm client set "Acme Ltd" --account-manager amy@agency.example >/dev/null
# a senior on line 3 whose short name (t.baker) differs from the first name (Tom)
dm staff add t.baker@agency.example --name "Tom Baker" --role senior-engineer --line 3 >/dev/null
# an inactive member of line 1: never notified
dm staff add ina@agency.example --name "Ina Inactive" --role senior-engineer --line 1 >/dev/null
dm_psql -c "update staff set active = false where email = 'ina@agency.example'"
W=$DM_TEST_DIR/work
mkdir -p "$W"
assert_eq "6" "$(dm staff list --json | jq length)" "fixture: six staff members"

AM=amy@agency.example PM=pete@agency.example SE=sam@agency.example JR=jo@agency.example
TB=t.baker@agency.example AL=alice@acme.example

# send NAME FROM SUBJECT BODY [HEADER...]: write $W/NAME (CRLF), ingest it;
# the output of ingest is in $out, the outbox id before it in $mark.
send() {
	local name=$1
	shift
	dm_mail_crlf "$W/$name" "$@"
	mark=$(dm_outbox_max)
	out=$(dm ingest "$W/$name")
}
# new_count KIND [RCPT]: outbox rows of KIND (to RCPT) queued by the last send
new_count() {
	local w="kind='$1' and id > $mark"
	[ $# -ge 2 ] && w="$w and rcpt='$2'"
	dm_sql_count "outbox where $w"
}
# raw_of ID NAME: outbox row ID into $W/NAME.eml; prints the path
raw_of() {
	if [ -n "$1" ]; then dm_outbox_raw "$1" "$W/$2.eml"; else : >"$W/$2.eml"; fi
	echo "$W/$2.eml"
}
hdr() { dm_maildump "$1" header "$2"; }   # FILE NAME: decoded header values
txt() { dm_maildump "$1" text; }          # FILE: decoded text body
# ev TICKET JQ-SELECT: selected events as [field, before, after, actor] tuples
ev() { dm_event_json "$1" "select($2) | [.field, .before, .after, .actor]"; }

# common checks of a staff notification: NAME FILE TICKET RCPT
check_notify() {
	local what=$1 f=$2 t=$3 rcpt=$4
	assert_contains "$(hdr "$f" Subject)" "[#$t]" "$what: subject carries [#$t]"
	assert_contains "$(hdr "$f" From)" "support@agency.example" "$what: From is the desk"
	assert_contains "$(hdr "$f" Reply-To)" "support@agency.example" "$what: Reply-To is the desk"
	assert_contains "$(hdr "$f" To)" "$rcpt" "$what: To is $rcpt"
	assert_eq "auto-generated" "$(hdr "$f" Auto-Submitted | tr -d ' ')" "$what: Auto-Submitted: auto-generated"
}

# ---------------------------------------------------------------------------
# 1. notify_account_manager: line staff plus the account manager, never twice
DM_DESK_EXTRA="notify_account_manager = true;" dm_write_conf
send am1 'bob@acme.example' 'Website very slow today' 'Every page takes thirty seconds to load.'
tb=$(dm_new_id "$out")
assert_true "bob's mail opens a ticket (got: $out)" test -n "$tb"
tb=${tb:-0}
assert_eq "$AM,$JR,$SE" "$(dm_outbox_rcpts notify-new "$tb")" \
	"notify_account_manager: notify-new to active line-1 staff and the account manager"
dm client set Globex --account-manager "$SE" >/dev/null
send am2 'carol@globex.example' 'Mail server refuses logins' 'Nobody at Globex can log in to webmail.'
tg=$(dm_new_id "$out")
tg=${tg:-0}
assert_eq "$JR,$SE" "$(dm_outbox_rcpts notify-new "$tg")" \
	"an account manager who is also on the line gets notify-new once"
dm_write_conf

# ---------------------------------------------------------------------------
# 2. a new ticket notifies the active staff of line 1 (not the account manager by default)
send c1 'Alice Archer <alice@acme.example>' 'Office printer on fire' \
	'The office printer is on fire, flames everywhere near the kitchen.'
t1=$(dm_new_id "$out")
assert_true "alice's mail opens a ticket (got: $out)" test -n "$t1"
t1=${t1:-0}
c1id=$(dm_msgid "$W/c1")
assert_eq "$JR,$SE" "$(dm_outbox_rcpts notify-new "$t1")" \
	"notify-new to sam and jo only (not amy by default, not line 2/3, not inactive ina)"
n=$(raw_of "$(dm_outbox_last notify-new "$t1" "$SE")" notify-new-sam)
check_notify "notify-new" "$n" "$t1" "$SE"
body=$(txt "$n")
assert_contains "$body" "Acme Ltd" "notify-new names the client"
assert_contains "$body" "silver" "notify-new names the plan"
# (the line naming the severity says "not yet set"; the one naming the status says open)
assert_contains "$(grep -i severity <<<"$body")" "not yet set" "notify-new says the severity is not yet set"
assert_contains "$(grep -i status <<<"$body")" "open" "notify-new gives the status"
assert_contains "$body" "flames everywhere near the kitchen" "notify-new carries the client's text"
assert_eq "true" "$(dm_ticket_json "$t1" "[.messages[] | select(.direction == \"out\" and .internal and ((.to // []) | index(\"$SE\") != null))] | length > 0")" \
	"the notification is stored as an internal outgoing message of the ticket"
assert_eq "null" "$(dm_ticket_json "$t1" .first_response_at)" "first_response_at is null before any relay"
dm send >/dev/null
nmid=$(dm_psql -c "select message_id from outbox where kind='notify-new' and ticket_id=$t1 and rcpt='$SE'")
sink=$(dm_smtp_by_msgid "$nmid")
assert_true "the notification to sam reached the SMTP server" test -n "$sink"
assert_contains "$(cat "${sink%.eml}.env" 2>/dev/null)" "$SE" "its envelope recipient is sam"

# ---------------------------------------------------------------------------
# 3. a client reply: clean text, notify-reply to the line's staff (no assignee yet)
send c2 'alice@acme.example' "Re: [#$t1] Office printer on fire" $'It is now smoking as well.\n\nOn Mon, 23 Nov 2026 at 09:01, Example Agency Support <support@agency.example> wrote:\n> zebra-quoted-history line one\n> zebra-quoted-history line two'
assert_eq "reply #$t1" "$out" "client reply joins the ticket"
m=$(dm_ticket_json "$t1" '[.messages[] | select(.body_full | contains("It is now smoking"))][0]')
assert_contains "$(jq -r .body <<<"$m")" "It is now smoking as well." "clean body keeps the new text"
assert_eq "false" "$(jq -r '.body | contains("zebra-quoted-history")' <<<"$m")" "clean body drops the quoted history"
assert_contains "$(jq -r .body_full <<<"$m")" "zebra-quoted-history line two" "body_full keeps the quoted history"
assert_eq "$JR,$SE" "$(dm_outbox_rcpts notify-reply "$t1" "$mark")" "notify-reply goes to the line's staff when there is no assignee"
n=$(raw_of "$(dm_outbox_last notify-reply "$t1" "$SE")" notify-reply-1)
check_notify "notify-reply" "$n" "$t1" "$SE"
assert_contains "$(txt "$n")" "It is now smoking as well." "notify-reply carries the client's new text"

# ---------------------------------------------------------------------------
# 4. a junior replies to their notification (by In-Reply-To, no [#N]):
#    an internal note, never relayed; #take is refused for a junior
jmid=$(dm_psql -c "select message_id from outbox where kind='notify-new' and ticket_id=$t1 and rcpt='$JR'")
send j1 'Jo Junior <jo@agency.example>' 'Re: Office printer on fire' \
	$'#take\n\nI think the fuser unit overheated, customer should unplug it.' \
	"In-Reply-To: <$jmid>" "References: <$jmid>"
assert_eq "reply #$t1" "$out" "a staff reply by In-Reply-To of the notification joins the ticket"
assert_eq "null" "$(dm_ticket_json "$t1" .assignee)" "#take by a junior is not applied"
assert_eq "[[\"in\",true]]" "$(dm_ticket_json "$t1" "[.messages[] | select(.from == \"$JR\" and (.body | contains(\"fuser unit overheated\"))) | [.direction, .internal]] | tojson")" \
	"the junior's text is stored as an internal incoming note"
assert_eq "0" "$(new_count relay)" "a junior's text is not relayed to the client"
assert_eq "$SE" "$(dm_outbox_rcpts notify-note "$t1" "$mark")" "notify-note goes to the line's staff except the junior (no assignee)"
n=$(raw_of "$(dm_outbox_last notify-note "$t1" "$SE")" notify-note-1)
check_notify "notify-note" "$n" "$t1" "$SE"
assert_contains "$(txt "$n")" "fuser unit overheated" "notify-note carries the junior's text"
assert_eq "1" "$(new_count command-error "$JR")" "the junior gets one command-error"
assert_eq "1" "$(new_count command-error)" "... and nobody else gets one"
e=$(raw_of "$(dm_outbox_last command-error "$t1" "$JR")" cmderr-jo)
# the mail's fixed text may list the commands ("#assign STAFF, #take, ..."):
# look for "#take" other than as an item of such a comma-separated list
assert_true "the command-error names the refused #take" grep -Eq '#take([^,]|$)' <<<"$(txt "$e")"
assert_contains "$(hdr "$e" From)" "support@agency.example" "command-error comes from the desk"
assert_eq "1" "$(dm_ticket_json "$t1" "[.events[] | select(.kind == \"command-refused\" and .actor == \"$JR\")] | length")" \
	"the refused #take is a command-refused event by jo"
assert_eq "null" "$(dm_ticket_json "$t1" .first_response_at)" "a junior note is not a first response"

# ---------------------------------------------------------------------------
# 5. assigning: managers by short name, first name or email; #take
S="Re: [#$t1] Office printer on fire"
send a1 'Pete Project <pete@agency.example>' "$S" '#assign jo'
assert_eq "$JR" "$(dm_ticket_json "$t1" .assignee)" "project manager assigns by short name (#assign jo)"
assert_eq "1" "$(new_count notify-assign "$JR")" "notify-assign to jo"
assert_eq "[[\"assignee\",null,\"$JR\",\"$PM\"]]" "$(ev "$t1" '.kind == "assignee-changed"')" \
	"assignee-changed event: before null, after jo, actor pete"
assert_eq "0" "$(new_count relay)" "commands only, no text: nothing relayed"
assert_eq "0" "$(new_count command-error)" "valid commands: no command-error"
n=$(raw_of "$(dm_outbox_last notify-assign "$t1" "$JR")" notify-assign-jo)
check_notify "notify-assign" "$n" "$t1" "$JR"
assert_contains "$(txt "$n")" "Acme Ltd" "notify-assign names the client"

send a2 'pete@agency.example' "$S" '#assign Tom'
assert_eq "$TB" "$(dm_ticket_json "$t1" .assignee)" "#assign by first name (Tom -> t.baker@)"
assert_eq "1" "$(new_count notify-assign "$TB")" "notify-assign to Tom"

send a3 'Amy Account <amy@agency.example>' "$S" '#assign SAM@Agency.Example'
assert_eq "$SE" "$(dm_ticket_json "$t1" .assignee)" "account manager assigns by email, case-insensitively"
assert_eq "1" "$(new_count notify-assign "$SE")" "notify-assign to sam"
assert_eq "[[\"assignee\",\"$TB\",\"$SE\",\"$AM\"]]" "$(ev "$t1" ".kind == \"assignee-changed\" and .actor == \"$AM\"")" \
	"assignee-changed event: before t.baker, after sam, actor amy"

# no [#N], only References naming the client's first mail
send a4 'amy@agency.example' 'Re: Office printer on fire' '#assign T.Baker' "References: <unknown.1@elsewhere.example> <$c1id>"
assert_eq "reply #$t1" "$out" "a staff mail whose References name a Message-ID of the ticket joins it"
assert_eq "$TB" "$(dm_ticket_json "$t1" .assignee)" "#assign by short name, case-insensitively (T.Baker)"

send a5 'pete@agency.example' "$S" '#take'
assert_eq "$PM" "$(dm_ticket_json "$t1" .assignee)" "project manager takes the ticket"
assert_eq "0" "$(new_count notify-assign)" "#take sends no notify-assign"
assert_eq "[[\"assignee\",\"$TB\",\"$PM\",\"$PM\"]]" "$(ev "$t1" ".kind == \"assignee-changed\" and .after == \"$PM\"")" \
	"#take is an assignee-changed event"
assert_eq "null" "$(dm_ticket_json "$t1" .first_response_at)" "command-only mails are not a first response"

# ---------------------------------------------------------------------------
# 6. with an assignee: notify-reply and notify-note go to the assignee only
send c3 'alice@acme.example' "$S" 'Any update? It is still smoking badly.' \
	"References: <thread-start.1@acme.example> <thread-middle.2@acme.example>"
c3id=$(dm_msgid "$W/c3")
assert_eq "$PM" "$(dm_outbox_rcpts notify-reply "$t1" "$mark")" "notify-reply goes to the assignee only"
send j2 'jo@agency.example' "$S" 'Replacing the fuser needs an hour of downtime.'
assert_eq "$PM" "$(dm_outbox_rcpts notify-note "$t1" "$mark")" "notify-note goes to the assignee only"
assert_eq "0" "$(new_count relay)" "the junior's second note is not relayed either"

# ---------------------------------------------------------------------------
# 7. a senior replies: commands applied, text relayed without commands,
#    signature and quoted history
send s1 'Sam Senior <sam@agency.example>' "$S" \
	$'#status pending-evaluation\n#severity high\n\nHello Alice, an engineer is on the way to replace the fuser.\n\n-- \nSam Senior\nAgency hotline 555-0199\n\nOn Tue, 24 Nov 2026, Alice Archer <alice@acme.example> wrote:\n> okapi-quoted-history line'
assert_eq "reply #$t1" "$out" "the senior's reply joins the ticket"
assert_eq "pending-evaluation" "$(dm_ticket_json "$t1" .status)" "#status applied"
assert_eq "high" "$(dm_ticket_json "$t1" .severity)" "#severity applied"
assert_eq "[[\"status\",\"open\",\"pending-evaluation\",\"$SE\"]]" "$(ev "$t1" '.kind == "status-changed"')" \
	"status-changed event: open -> pending-evaluation by sam"
assert_eq "[[\"severity\",null,\"high\",\"$SE\"]]" "$(ev "$t1" '.kind == "severity-changed"')" \
	"severity-changed event: null -> high by sam"
assert_eq "0" "$(new_count command-error)" "no command-error for valid commands"
assert_eq "1" "$(new_count relay "$AL")" "one relay to the contact"
assert_eq "1" "$(new_count relay)" "... and to nobody else"
r=$(raw_of "$(dm_outbox_last relay "$t1" "$AL")" relay-1)
assert_contains "$(hdr "$r" From)" "support@agency.example" "relay comes from the desk"
assert_contains "$(hdr "$r" From)" "Sam Senior (Example Agency Support)" "relay names the staff member who answered"
assert_contains "$(hdr "$r" To)" "$AL" "relay is addressed to the contact"
assert_contains "$(hdr "$r" Subject)" "[#$t1]" "relay subject carries [#$t1]"
assert_eq "<$c3id>" "$(hdr "$r" In-Reply-To | tr -d ' ')" "relay In-Reply-To is the client's latest mail"
assert_eq "<thread-start.1@acme.example> <thread-middle.2@acme.example> <$c3id>" "$(hdr "$r" References | tr -s ' \t\r\n' ' ' | sed 's/^ *//; s/ *$//')" \
	"relay References: the client mail's own chain, then the mail itself"
assert_no_header "$r" Auto-Submitted "relay has no Auto-Submitted header"
rb=$(txt "$r")
assert_contains "$rb" "an engineer is on the way to replace the fuser" "relay carries the staff text"
assert_lacks "$rb" "#status" "relay has no #status command line"
assert_lacks "$rb" "#severity" "relay has no #severity command line"
assert_lacks "$rb" "555-0199" "relay has no signature"
assert_lacks "$rb" "okapi-quoted-history" "relay has no quoted history"
assert_eq "false" "$(dm_ticket_json "$t1" '.first_response_at == null')" "the first relay sets first_response_at"
fr=$(dm_ticket_json "$t1" .first_response_at)
dm send >/dev/null
rid=$(dm_outbox_last relay "$t1" "$AL")
rmid=$(dm_psql -c "select message_id from outbox where id=${rid:-0}")
sink=$(dm_smtp_by_msgid "$rmid")
assert_true "the relay reached the SMTP server" test -n "$sink"
assert_contains "$(cat "${sink%.eml}.env" 2>/dev/null)" "$AL" "relay envelope recipient is alice"

# the client's answer: notify-reply shows the current severity and status
send c4 'alice@acme.example' "$S" 'The engineer has arrived, thank you.'
c4id=$(dm_msgid "$W/c4")
n=$(raw_of "$(dm_outbox_last notify-reply "$t1" "$PM")" notify-reply-2)
body=$(txt "$n")
assert_contains "$body" "The engineer has arrived" "notify-reply carries the new text"
assert_contains "$body" "pending-evaluation" "notify-reply gives the status"
assert_contains "$body" "high" "notify-reply gives the severity"
assert_contains "$body" "silver" "notify-reply gives the plan"

# ---------------------------------------------------------------------------
# 8. refused and unknown commands: one command-error, the rest still handled;
#    a # line after text is text
send p1 'pete@agency.example' "$S" \
	$'#frobnicate\n#status nonsense\n#severity medium\n#assign nobody-here\n\nPlease switch the printer off and on again.\n#status closed\nThanks, Pete'
assert_eq "reply #$t1" "$out" "a mail with bad commands is still a reply"
assert_eq "1" "$(new_count command-error "$PM")" "exactly one command-error to the sender"
assert_eq "1" "$(new_count command-error)" "... and to nobody else"
e=$(raw_of "$(dm_outbox_last command-error "$t1" "$PM")" cmderr-pete)
eb=$(txt "$e")
assert_contains "$eb" "#frobnicate" "command-error names the unknown command"
assert_contains "$eb" "#status nonsense" "command-error names the bad status"
assert_contains "$eb" "#assign nobody-here" "command-error names the unknown assignee"
assert_eq "medium" "$(dm_ticket_json "$t1" .severity)" "the valid #severity in the same mail is applied"
assert_eq "pending-evaluation" "$(dm_ticket_json "$t1" .status)" "neither #status nonsense nor the #status line after the text is applied"
assert_eq "$PM" "$(dm_ticket_json "$t1" .assignee)" "#assign nobody-here leaves the assignee"
assert_eq "true" "$(dm_ticket_json "$t1" "[.events[] | select(.kind == \"command-refused\" and .actor == \"$PM\")] | length >= 1")" \
	"refused commands are command-refused events"
assert_eq "1" "$(new_count relay "$AL")" "the text is still relayed"
r=$(raw_of "$(dm_outbox_last relay "$t1" "$AL")" relay-2)
rb=$(txt "$r")
assert_contains "$rb" "Please switch the printer off and on again." "relay carries the text"
assert_contains "$rb" "#status closed" "a # line after text is relayed as text"
assert_lacks "$rb" "#frobnicate" "relay lacks the unknown command line"
assert_lacks "$rb" "#severity medium" "relay lacks the applied command line"
assert_lacks "$rb" "#assign nobody-here" "relay lacks the refused command line"
assert_eq "<$c4id>" "$(hdr "$r" In-Reply-To | tr -d ' ')" "second relay answers the client's newest mail"
assert_eq "$fr" "$(dm_ticket_json "$t1" .first_response_at)" "a later relay keeps first_response_at"

# ---------------------------------------------------------------------------
# 9. a senior may #take but not #assign
send s2 'sam@agency.example' "$S" $'#assign jo\n#take'
assert_eq "$SE" "$(dm_ticket_json "$t1" .assignee)" "a senior engineer may #take"
assert_eq "0" "$(new_count notify-assign)" "the refused #assign sends no notify-assign"
assert_eq "1" "$(new_count command-error "$SE")" "the senior gets a command-error"
e=$(raw_of "$(dm_outbox_last command-error "$t1" "$SE")" cmderr-sam)
assert_contains "$(txt "$e")" "#assign jo" "the command-error names #assign jo"
assert_eq "[]" "$(ev "$t1" ".kind == \"assignee-changed\" and .after == \"$JR\" and .actor == \"$SE\"")" \
	"no assignee-changed event to jo by sam"
assert_eq "1" "$(dm_ticket_json "$t1" "[.events[] | select(.kind == \"command-refused\" and .actor == \"$SE\")] | length")" \
	"the refused #assign is a command-refused event by sam"

# ---------------------------------------------------------------------------
# 10. #line, #note
send p2 'pete@agency.example' "$S" '#line 2'
assert_eq "2" "$(dm_ticket_json "$t1" .line)" "#line 2 applied"
assert_eq "[[\"line\",\"1\",\"2\",\"$PM\"]]" "$(dm_event_json "$t1" 'select(.kind == "line-changed") | [.field, (.before|tostring), (.after|tostring), .actor]')" \
	"line-changed event: 1 -> 2 by pete"
send s3 'sam@agency.example' "$S" $'#severity low\n#note\nCustomer was rude on the phone, be gentle.'
assert_eq "low" "$(dm_ticket_json "$t1" .severity)" "#severity before #note applied"
assert_eq "0" "$(new_count relay)" "#note: nothing relayed"
assert_eq "[true]" "$(dm_ticket_json "$t1" "[.messages[] | select(.from == \"$SE\" and (.body_full | contains(\"Customer was rude\"))) | .internal] | tojson")" \
	"#note text is stored as an internal message"

# ---------------------------------------------------------------------------
# 11. automatic mail from staff: no commands applied, nothing relayed
send o1 'sam@agency.example' "Auto: $S" $'#status closed\n\nI am out of the office until Monday.' \
	'Auto-Submitted: auto-replied'
assert_eq "pending-evaluation" "$(dm_ticket_json "$t1" .status)" "commands in a staff auto-reply are not applied"
assert_eq "0" "$(new_count relay)" "a staff auto-reply is not relayed"
assert_eq "0" "$(new_count command-error)" "a staff auto-reply gets no command-error"

# ---------------------------------------------------------------------------
# 12. awaiting-*: a client reply moves the ticket back to open
send p3 'pete@agency.example' "$S" $'#status awaiting-client\n\nCould you send us the printer model number?'
assert_eq "awaiting-client" "$(dm_ticket_json "$t1" .status)" "#status awaiting-client applied"
assert_eq "1" "$(new_count relay "$AL")" "the question is relayed"
send c5 'alice@acme.example' "$S" 'The model is a LaserJet 4000.'
assert_eq "open" "$(dm_ticket_json "$t1" .status)" "a client reply to an awaiting-* ticket reopens it"
assert_eq "[[\"status\",\"awaiting-client\",\"open\",\"$AL\"]]" "$(ev "$t1" ".kind == \"status-changed\" and .before == \"awaiting-client\"")" \
	"status-changed event awaiting-client -> open by the client"

# ---------------------------------------------------------------------------
# 13. #close, reopen within reopen_days, new ticket after it
tickets=$(dm_sql_count ticket)
send p4 'pete@agency.example' "$S" $'#close\n\nWe replaced the fuser; closing this ticket.'
assert_eq "closed" "$(dm_ticket_json "$t1" .status)" "#close closes the ticket"
assert_eq "[[\"status\",\"open\",\"closed\",\"$PM\"]]" "$(ev "$t1" '.kind == "status-changed" and .after == "closed"')" \
	"status-changed event open -> closed by pete"
assert_eq "1" "$(new_count relay "$AL")" "the closing text is relayed"
send c6 'alice@acme.example' "$S" 'Thanks, but it broke again this afternoon.'
assert_eq "reply #$t1" "$out" "a reply to a recently closed ticket joins it"
assert_eq "open" "$(dm_ticket_json "$t1" .status)" "... and reopens it"
assert_eq "[[\"status\",\"closed\",\"open\",\"$AL\"]]" "$(ev "$t1" '.kind == "status-changed" and .before == "closed"')" \
	"reopen is a status-changed event by the client"
assert_eq "$tickets" "$(dm_sql_count ticket)" "no new ticket for a reopen"

send p5 'pete@agency.example' "$S" '#close'
assert_eq "closed" "$(dm_ticket_json "$t1" .status)" "closed again"
assert_eq "0" "$(new_count relay)" "#close alone relays nothing"
dm_psql -c "update ticket set closed_at = now() - interval '30 days' where id = $t1"
send c7 'alice@acme.example' "$S" 'The printer is on fire again, a month later.'
tn=$(dm_new_id "$out")
assert_true "a reply to a ticket closed 30 days ago opens a new ticket (got: $out)" test -n "$tn"
tn=${tn:-0}
assert_true "the new ticket is not ticket $t1" test "$tn" != "$t1"
assert_eq "$t1" "$(dm_ticket_json "$tn" .reopened_from)" "the new ticket's reopened_from is $t1"
assert_eq "1" "$(dm_outbox_count ack "$tn" "$AL")" "the new ticket is acknowledged"
assert_eq "closed" "$(dm_ticket_json "$t1" .status)" "the old ticket stays closed"
assert_eq "true" "$(dm_ticket_json "$tn" '[.messages[] | select(.direction == "in" and (.body | contains("a month later")))] | length == 1')" \
	"the mail is a message of the new ticket"

DM_DESK_EXTRA="reopen_days = 60;" dm_write_conf
send c8 'alice@acme.example' "$S" 'One more question about the old fire report.'
assert_eq "reply #$t1" "$out" "with reopen_days = 60 a reply after 30 days joins the old ticket"
assert_eq "open" "$(dm_ticket_json "$t1" .status)" "... and reopens it"
dm_write_conf

# ---------------------------------------------------------------------------
# 14. handover to the account manager: #chargeable, #category project|consultancy
send h1 'bob@acme.example' 'Please build us an online shop' 'We would like a shop with 500 products.'
tc=$(dm_new_id "$out")
tc=${tc:-0}
send h2 'pete@agency.example' "Re: [#$tc] Please build us an online shop" \
	$'#chargeable\n\nThis is project work; our account manager will be in touch.'
assert_eq "true" "$(dm_ticket_json "$tc" .chargeable)" "#chargeable marks the ticket chargeable"
assert_eq "$AM" "$(dm_ticket_json "$tc" .assignee)" "#chargeable hands the ticket to the account manager"
assert_eq "1" "$(new_count notify-handover "$AM")" "notify-handover to the account manager"
assert_eq "1" "$(new_count notify-handover)" "... to nobody else"
assert_eq "[[\"chargeable\",\"false\",\"true\",\"$PM\"]]" "$(dm_event_json "$tc" 'select(.kind == "chargeable-changed") | [.field, (.before|tostring), (.after|tostring), .actor]')" \
	"chargeable-changed event false -> true by pete"
assert_eq "[[\"assignee\",null,\"$AM\",\"$PM\"]]" "$(ev "$tc" '.kind == "assignee-changed"')" \
	"handover is an assignee-changed event"
n=$(raw_of "$(dm_outbox_last notify-handover "$tc" "$AM")" notify-handover)
check_notify "notify-handover" "$n" "$tc" "$AM"
assert_contains "$(txt "$n")" "Acme Ltd" "notify-handover names the client"
assert_eq "1" "$(new_count relay "bob@acme.example")" "the text is relayed to the ticket's contact (bob)"

send h3 'bob@acme.example' 'Advice on choosing a CRM' 'Which CRM should we buy?'
tp=$(dm_new_id "$out")
tp=${tp:-0}
send h4 'pete@agency.example' "Re: [#$tp] Advice on choosing a CRM" '#category consultancy'
assert_eq "consultancy" "$(dm_ticket_json "$tp" .category)" "#category consultancy applied"
assert_eq "$AM" "$(dm_ticket_json "$tp" .assignee)" "consultancy goes to the account manager"
assert_eq "1" "$(new_count notify-handover "$AM")" "notify-handover for consultancy"
assert_eq "[[\"category\",null,\"consultancy\",\"$PM\"]]" "$(ev "$tp" '.kind == "category-changed"')" \
	"category-changed event null -> consultancy"
assert_eq "false" "$(dm_ticket_json "$tp" .chargeable)" "#category alone does not set chargeable"

send h5 'bob@acme.example' 'Redesign our logo' 'Our logo needs a new look.'
tq=$(dm_new_id "$out")
tq=${tq:-0}
send h6 'amy@agency.example' "Re: [#$tq] Redesign our logo" '#category project'
assert_eq "project" "$(dm_ticket_json "$tq" .category)" "#category project applied"
assert_eq "$AM" "$(dm_ticket_json "$tq" .assignee)" "project goes to the account manager"
assert_eq "0" "$(new_count notify-handover "$AM")" "no handover notice to the account manager who made the change herself"

send h7 'bob@acme.example' 'Change the footer text' 'Please change 2025 to 2026 in the footer.'
tx=$(dm_new_id "$out")
tx=${tx:-0}
send h8 'pete@agency.example' "Re: [#$tx] Change the footer text" '#category change'
assert_eq "change" "$(dm_ticket_json "$tx" .category)" "#category change applied"
assert_eq "null" "$(dm_ticket_json "$tx" .assignee)" "#category change is no handover"
assert_eq "0" "$(new_count notify-handover)" "no notify-handover for change"

# ---------------------------------------------------------------------------
# 15. the whole conversation adds up, and everything can be sent
assert_eq "2" "$(dm_outbox_count notify-new "$t1")" "replies never send notify-new again"
assert_eq "4" "$(dm_outbox_count relay "$t1")" "exactly the four staff mails with client text were relayed on ticket $t1"
assert_eq "true" "$(dm_ticket_json "$t1" '(.events | length > 0) and all(.events[]; has("kind") and has("actor") and has("field") and has("before") and has("after") and .created_at != null)')" \
	"events carry kind, actor, field, before, after, created_at"
dm ticket show "$t1" --json >"$W/show.json"
assert_true "ticket show JSON has the conversation fields" jq -e 'has("assignee") and has("category") and has("chargeable") and has("first_response_at") and has("reopened_from") and (.messages | all(.[]; has("internal") and (.to | type == "array") and has("body_full")))' "$W/show.json"
dm send >/dev/null
assert_eq "0" "$(dm_sql_count "outbox where status <> 'sent'")" "every queued mail was sent"
assert_eq "$(dm_sql_count outbox)" "$(dm_smtp_count)" "the SMTP server received every outbox mail"
# the text view of a ticket ends with its audit trail
show=$(dm ticket show "$t1")
assert_contains "$show" "--- events" "ticket show (text) lists the events"
assert_true "with who changed what, from what to what" grep -qE "status-changed +sam@agency.example status: open -> pending-evaluation" <<<"$show"
dm_done
