#!/bin/bash
# sla.sh - service levels on real servers (PostgreSQL, SMTP; mail handed in
# by pipe), stepping through days with DESKMAIL_NOW: due times across a
# holiday, a weekend and a DST change, paused and resumed clocks, a
# severity changed mid-way, escalation by time and by hand, at-risk and
# breach notices (once, however often and however many passes run),
# follow-ups, staff notices waiting for working hours, #time against an
# allowance, the breach digest.  Every expected instant below is worked out
# by hand in the comment above it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start

# London: 09:00-12:30 and 13:30-17:30 (7.5 h a day), Christmas holidays
CAL='calendars = { london = { timezone = "Europe/London";
  mon = "09:00-12:30,13:30-17:30"; tue = "09:00-12:30,13:30-17:30"; wed = "09:00-12:30,13:30-17:30";
  thu = "09:00-12:30,13:30-17:30"; fri = "09:00-12:30,13:30-17:30"; sat = ""; sun = "";
  holidays = [ "2026-12-25", "2026-12-28", "2027-01-01" ]; };
  new_york = { timezone = "America/New_York"; mon = "09:00-17:00"; tue = "09:00-17:00";
  wed = "09:00-17:00"; thu = "09:00-17:00"; fri = "09:00-17:00"; }; };'
cat >"$DM_CONF" <<CONF
database = { conninfo = "$DM_CONNINFO"; };
imap = { url = "$DM_IMAP_URL"; username = "support"; password = "secret"; poll_interval = 1; };
smtp = { url = "$DM_SMTP_URL"; retry_base = 1; };
desk = { name = "Example Agency Support"; address = "support@agency.example"; templates = "$DM_REPO_DIR/conf/templates"; calendar = "london"; };
$CAL
plans = {
  silver = { first_response_hours = 4; resolution_hours = 48;
             severity_hours = { severe = 8; high = 24; medium = 32; low = 80; enhancement = 0; };
             line1_hours = 7.5; line1_max_elapsed_hours = 12; line2_hours = 15; line2_max_elapsed_hours = 48;
             follow_up_hours = 15; at_risk_percent = 75; max_contacts = 5; };
  maint = { first_response_hours = 4; hours_per_month = 2; };
  hosting = { };
};
CONF
dm migrate >/dev/null
dm client add "Acme Ltd" --plan silver >/dev/null
dm client add "Initech" --plan maint >/dev/null
dm client add "Globex" --plan hosting >/dev/null
dm contact add "Acme Ltd" alice@acme.example --name "Alice Archer" >/dev/null
dm contact add "Initech" peter@initech.example --name "Peter" >/dev/null
dm contact add "Globex" carol@globex.example --name "Carol" >/dev/null
dm staff add lin@agency.example --name "Lin First" --role senior-engineer --line 1 >/dev/null
dm staff add sam@agency.example --name "Sam Second" --role senior-engineer --line 2 >/dev/null
dm staff add tia@agency.example --name "Tia Third" --role senior-engineer --line 3 >/dev/null
dm staff add max@agency.example --name "Max Manager" --role account-manager --line 3 --manager >/dev/null
dm client set "Acme Ltd" --account-manager max@agency.example >/dev/null
dm client set "Initech" --account-manager max@agency.example >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W"

at() { # INSTANT CMD...: run deskmail at that instant
	local t=$1
	shift
	DESKMAIL_NOW=$t "$DESKMAIL" -c "$DM_CONF" "$@"
}
tid() { dm_psql -c "select id from ticket where subject = '$1'"; }
due() { # TICKET COLUMN: the stored due time, ISO in UTC
	dm_psql -c "select coalesce(to_char($2 at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), '-') from ticket where id = $1"
}
sla_json() { at "$1" ticket sla "$2" --json | jq -r "$3"; }

# 1. Thursday 24 December, 16:00 (London = UTC in winter), before two
# holidays.  First response, 4 working hours: 1.5 h on Thursday (16:00-
# 17:30); Friday 25 and Monday 28 are holidays, then the weekend; Tuesday
# 29 09:00 + 2.5 h = 11:30.  Line 1: 7.5 working hours would end on
# Tuesday 16:00, but never more than 12 hours: Friday 25 04:00.
dm_mail "$W/x1" 'alice@acme.example' 'Shop down before Christmas' 'The shop is down.'
at 2026-12-24T16:00:00Z ingest "$W/x1" >/dev/null
T1=$(tid 'Shop down before Christmas')
assert_eq 2026-12-29T11:30 "$(due "$T1" first_response_due)" "out of hours before two holidays: first response due Tuesday 11:30"
assert_eq 2026-12-25T04:00 "$(due "$T1" line_due)" "line 1: twelve hours elapsed come before 7.5 working hours"
ack=$(dm_psql -c "select id from outbox where kind = 'ack' and ticket_id = $T1")
dm_outbox_raw "$ack" "$W/ack1"
assert_contains "$(dm_maildump "$W/ack1" text)" "by Tuesday 29 December, 11:30 (Europe/London time)" "the acknowledgement says when, in plain words"
assert_eq 2026-12-29T11:30:00+00:00 "$(dm ticket show "$T1" --json | jq -r '.first_response_due' | sed 's/\.000//')" "ticket show --json carries first_response_due"
assert_eq running "$(sla_json 2026-12-24T17:00:00Z "$T1" '.clocks[0].state')" "ticket sla: the first-response clock runs"
assert_eq 60 "$(sla_json 2026-12-24T17:00:00Z "$T1" '.clocks[0].used_minutes')" "ticket sla: one working hour used at 17:00"

# nothing is due at 03:59 on Friday; at 04:00 the ticket moves to line 2
out=$(at 2026-12-25T03:59:00Z escalate)
assert_contains "$out" "0 escalated" "a pass before the line limit escalates nothing"
mark=$(dm_outbox_max)
out=$(at 2026-12-25T04:00:00Z escalate)
assert_contains "$out" "1 escalated" "at the line limit the pass escalates"
assert_eq 2 "$(dm_psql -c "select line from ticket where id = $T1")" "the ticket is on the 2nd line"
assert_eq 2026-12-25T04:00 "$(dm_psql -c "select to_char(line_since at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') from ticket where id = $T1")" "its 2nd line counts from when the 1st ran out"
assert_eq alice@acme.example "$(dm_outbox_rcpts escalated "$T1" "$mark")" "the client is told of the escalation"
assert_eq sam@agency.example "$(dm_outbox_rcpts notify-escalation "$T1" "$mark")" "the 2nd line is told"
assert_eq "2026-12-29 09:00" "$(dm_psql -c "select to_char(next_attempt_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from outbox where kind = 'notify-escalation' and ticket_id = $T1")" "the staff notice waits for working hours (not severe)"
assert_eq "2026-12-25 04:00" "$(dm_psql -c "select to_char(next_attempt_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from outbox where kind = 'escalated' and ticket_id = $T1")" "the client's mail does not wait"
n=$(dm_outbox_max)
at 2026-12-25T04:00:00Z escalate >/dev/null
at 2026-12-25T05:00:00Z escalate >/dev/null
assert_eq "$n" "$(dm_outbox_max)" "passes run again send nothing more"
assert_eq 1 "$(dm_sql_count "event where ticket_id = $T1 and kind = 'line-changed'")" "one escalation event"
# line 2: 15 working hours (Tuesday and Wednesday) or 48 elapsed: Sunday 04:00
assert_eq 2026-12-27T04:00 "$(due "$T1" line_due)" "line 2 is due 48 hours after line 1 ran out"
at 2026-12-27T04:00:00Z escalate >/dev/null
assert_eq 3 "$(dm_psql -c "select line from ticket where id = $T1")" "and then on to the 3rd line"
assert_eq - "$(due "$T1" line_due)" "the 3rd line has no limit"

# 2. a late pass: a ticket whose 1st and 2nd line both ran out while no
# pass ran moves up twice at once, each line counted from its own limit
dm_mail "$W/x2" 'alice@acme.example' 'Late pass' 'Nobody ran the pass.'
at 2026-11-30T09:00:00Z ingest "$W/x2" >/dev/null
T2=$(tid 'Late pass')
# line 1: Monday 09:00 + 7.5 h = 17:30 (12 h elapsed would be 21:00);
# line 2 from Monday 17:30: 15 working hours = Tuesday and Wednesday, Wednesday 17:30
at 2026-12-03T12:00:00Z escalate >/dev/null
assert_eq 3 "$(dm_psql -c "select line from ticket where id = $T2")" "a late pass moves the ticket up twice"
assert_eq "2026-12-02 17:30" "$(dm_psql -c "select to_char(line_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from ticket where id = $T2")" "the 3rd line counts from when the 2nd ran out"

# 3. across the change to winter time: Friday 23 October 16:00 UTC is 17:00
# in London (BST): half an hour that day; Monday 26 October (GMT) 09:00 +
# 3.5 h = 12:30 local = 12:30 UTC.
dm_mail "$W/x3" 'alice@acme.example' 'Clocks go back' 'Before the change.'
at 2026-10-23T16:00:00Z ingest "$W/x3" >/dev/null
T3=$(tid 'Clocks go back')
assert_eq 2026-10-26T12:30 "$(due "$T3" first_response_due)" "across the DST change: due Monday 12:30"

# 4. paused: Monday 30 November 09:00; at 10:00 the staff wait for the
# client (1 h used); the client answers on Wednesday 14:00: 3 h left,
# 14:00-17:00.  Meanwhile no clock runs and nothing is due.
dm_mail "$W/x4" 'alice@acme.example' 'Waiting for you' 'Please look.'
at 2026-11-30T09:00:00Z ingest "$W/x4" >/dev/null
T4=$(tid 'Waiting for you')
dm_mail "$W/x4s" 'lin@agency.example' "Re: [#$T4] Waiting for you" '#status awaiting-client'
at 2026-11-30T10:00:00Z ingest "$W/x4s" >/dev/null
assert_eq - "$(due "$T4" first_response_due)" "paused: no due time"
assert_eq paused "$(sla_json 2026-12-01T10:00:00Z "$T4" '.clocks[0].state')" "ticket sla: paused"
assert_eq awaiting-client "$(sla_json 2026-12-01T10:00:00Z "$T4" '.clocks[0].paused[0].status')" "ticket sla lists the pause"
dm_mail "$W/x4c" 'alice@acme.example' "Re: [#$T4] Waiting for you" 'Here is what you asked for.'
at 2026-12-02T14:00:00Z ingest "$W/x4c" >/dev/null
assert_eq open "$(dm_psql -c "select status from ticket where id = $T4")" "the client's answer reopens it"
assert_eq 2026-12-02T17:00 "$(due "$T4" first_response_due)" "resumed with 3 h left: due Wednesday 17:00"
# a relayed staff reply is the first response: the clock stops (met)
dm_mail "$W/x4r" 'lin@agency.example' "Re: [#$T4] Waiting for you" 'Thanks, fixed.'
at 2026-12-02T15:00:00Z ingest "$W/x4r" >/dev/null
assert_eq met "$(sla_json 2026-12-02T15:00:00Z "$T4" '.clocks[0].state')" "the relayed reply meets the first response"
assert_eq - "$(due "$T4" first_response_due)" "a met clock has no due time"
assert_eq 1 "$(dm_sql_count "sla_outcome where ticket_id = $T4 and clock = 'first-response' and met")" "the outcome is kept for the digest"

# 5. severity: Monday 30 November 09:00; at 11:00 #severity severe (8 h,
# 2 h used): 6 h left = 11:00-12:30, 13:30-17:30 (5.5 h), Tuesday 09:30.
# At-risk at 75 % = 6 h used: Monday 16:00.
dm_mail "$W/x5" 'alice@acme.example' 'Payments fail' 'All payments fail.'
at 2026-11-30T09:00:00Z ingest "$W/x5" >/dev/null
T5=$(tid 'Payments fail')
dm_mail "$W/x5s" 'lin@agency.example' "Re: [#$T5] Payments fail" '#severity severe'
at 2026-11-30T11:00:00Z ingest "$W/x5s" >/dev/null
assert_eq 2026-12-01T09:30 "$(due "$T5" resolution_due)" "severe after 2 h: resolution due Tuesday 09:30"
mark=$(dm_outbox_max)
at 2026-11-30T15:59:00Z escalate >/dev/null
assert_eq 0 "$(dm_sql_count "outbox where id > $mark and kind = 'sla-at-risk' and ticket_id = $T5")" "not at risk before 75 %"
at 2026-11-30T16:00:00Z escalate >/dev/null
assert_eq "lin@agency.example,max@agency.example" "$(dm_outbox_rcpts sla-at-risk "$T5" "$mark")" "at 75 %: the line and the account manager are warned"
at 2026-11-30T16:30:00Z escalate >/dev/null
assert_eq "lin@agency.example,max@agency.example" "$(dm_outbox_rcpts sla-at-risk "$T5" "$mark")" "once"
# the line clock ran out on Monday 17:30 (7.5 h): the first pass after it
# moves the ticket to the 2nd line, then warns of the breach; two passes at
# once at the breach: one notice to each (the 2nd line and the manager)
rb() { dm_psql -c "select coalesce(string_agg(rcpt, ',' order by rcpt), '') from outbox where ticket_id = $T5 and event_key like 'sla:$T5:resolution:breach:%'"; }
at 2026-12-01T09:31:00Z escalate >/dev/null &
p1=$!
at 2026-12-01T09:31:00Z escalate >/dev/null &
p2=$!
wait $p1 $p2
assert_eq 2 "$(dm_psql -c "select line from ticket where id = $T5")" "escalated to the 2nd line by time first"
assert_eq "max@agency.example,sam@agency.example" "$(rb)" "two passes at once: one breach notice to each"
assert_eq "2026-12-01 09:31" "$(dm_psql -c "select to_char(min(next_attempt_at) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from outbox where event_key like 'sla:$T5:resolution:breach:%'")" "severe: the staff notice does not wait"
# the first response (4 h, Monday 14:00) was breached too: no reply was relayed
assert_true "the first-response breach was told as well" test "$(dm_sql_count "outbox where event_key like 'sla:$T5:first-response:breach:%'")" -ge 1
# severity high, written on Tuesday 09:40: 7.5 h of Monday and 40 min of
# Tuesday used; 24 h target: 15 h 50 min left from 09:40 = Tuesday (6 h
# 50 min), Wednesday (7.5 h), Thursday 09:00 + 1.5 h = 10:30
dm_mail "$W/x5h" 'lin@agency.example' "Re: [#$T5] Payments fail" '#severity high'
at 2026-12-01T09:40:00Z ingest "$W/x5h" >/dev/null
assert_eq 2026-12-03T10:30 "$(due "$T5" resolution_due)" "severity high later: the time used is kept, due Thursday 10:30"
assert_contains "$(at 2026-12-01T10:00:00Z ticket sla "$T5")" "severity severe -> high" "ticket sla says what changed the target"

# 6. #line by hand: the client and the new line are told
mark=$(dm_outbox_max)
dm_mail "$W/x5l" 'sam@agency.example' "Re: [#$T5] Payments fail" '#line 3'
at 2026-12-01T10:00:00Z ingest "$W/x5l" >/dev/null
assert_eq alice@acme.example "$(dm_outbox_rcpts escalated "$T5" "$mark")" "#line 3: the client is told"
assert_eq tia@agency.example "$(dm_psql -c "select string_agg(rcpt, ',') from outbox where kind = 'notify-line' and ticket_id = $T5 and rcpt <> 'max@agency.example'")" "#line 3: the 3rd line is told"

# 7. follow-up: a reply on Monday 09:30, then nobody answers the client
# for 15 working hours: Monday 09:30 + 15 h = Wednesday 09:30
dm_mail "$W/x7" 'alice@acme.example' 'Quiet ticket' 'Anyone?'
at 2026-11-30T09:00:00Z ingest "$W/x7" >/dev/null
T7=$(tid 'Quiet ticket')
dm_mail "$W/x7r" 'lin@agency.example' "Re: [#$T7] Quiet ticket" 'Looking into it.'
at 2026-11-30T09:30:00Z ingest "$W/x7r" >/dev/null
assert_eq 2026-12-02T09:30 "$(due "$T7" follow_up_due)" "follow-up due 15 working hours after the last reply"
mark=$(dm_outbox_max)
at 2026-12-02T09:31:00Z escalate >/dev/null
assert_true "a follow-up notice to the line" test "$(dm_sql_count "outbox where id > $mark and kind = 'sla-follow-up' and ticket_id = $T7")" -ge 1

# 8. a plan without targets never breaches
dm_mail "$W/x8" 'carol@globex.example' 'Hosting question' 'When is maintenance?'
at 2026-11-30T09:00:00Z ingest "$W/x8" >/dev/null
T8=$(tid 'Hosting question')
assert_eq "-|-|-|-" "$(dm_psql -c "select coalesce(first_response_due::text,'-')||'|'||coalesce(resolution_due::text,'-')||'|'||coalesce(line_due::text,'-')||'|'||coalesce(follow_up_due::text,'-') from ticket where id = $T8")" "hosting without SLA: no due times"
ack=$(dm_psql -c "select id from outbox where kind = 'ack' and ticket_id = $T8")
dm_outbox_raw "$ack" "$W/ack8"
assert_contains "$(dm_maildump "$W/ack8" text)" "We will reply as soon as we can." "its acknowledgement promises no time"

# 9. #time against the allowance (2 hours a month): 1 h (50 %) nothing;
# 40 min more (83 %) the account manager is told once; 100 % once more
dm_mail "$W/x9" 'peter@initech.example' 'Small change' 'Please change the logo.'
at 2026-12-01T09:00:00Z ingest "$W/x9" >/dev/null
T9=$(tid 'Small change')
allow() { dm_sql_count "outbox where kind = 'notify-allowance' and rcpt = 'max@agency.example'"; }
dm_mail "$W/x9a" 'lin@agency.example' "Re: [#$T9] Small change" '#time 1h'
at 2026-12-01T10:00:00Z ingest "$W/x9a" >/dev/null
assert_eq 0 "$(allow)" "half the allowance: nobody told"
dm_mail "$W/x9b" 'lin@agency.example' "Re: [#$T9] Small change" '#time 40m'
at 2026-12-01T11:00:00Z ingest "$W/x9b" >/dev/null
assert_eq 1 "$(allow)" "past 80 %: the account manager is told"
dm_mail "$W/x9c" 'lin@agency.example' "Re: [#$T9] Small change" '#time 0:10'
at 2026-12-01T12:00:00Z ingest "$W/x9c" >/dev/null
assert_eq 1 "$(allow)" "once"
dm_mail "$W/x9d" 'lin@agency.example' "Re: [#$T9] Small change" '#time 30 min'
at 2026-12-01T13:00:00Z ingest "$W/x9d" >/dev/null
assert_eq 2 "$(allow)" "past 100 %: told again"
assert_eq 140 "$(at 2026-12-01T13:00:00Z client show Initech --json | jq -r '.minutes_this_month')" "client show: 2 h 20 min this month"
assert_eq 116 "$(at 2026-12-01T13:00:00Z client show Initech --json | jq -r '.allowance_used_percent')" "client show: 116 % of the allowance"
assert_eq 0 "$(at 2027-01-04T09:00:00Z client show Initech --json | jq -r '.minutes_this_month')" "a new month starts at zero"
dm_mail "$W/x9e" 'lin@agency.example' "Re: [#$T9] Small change" '#time 3 weeks'
out=$(at 2026-12-01T13:10:00Z ingest "$W/x9e")
assert_eq 1 "$(dm_sql_count "outbox where kind = 'command-error' and ticket_id = $T9")" "an unreadable #time is reported to its author"

# 9b. a client in its own calendar: Initech works in New York.  Tuesday
# 1 December 20:00 UTC is 15:00 there: 2 h that day, Wednesday 09:00 + 2 h
# = 11:00 (16:00 UTC).  Back on the desk's calendar, the next pass derives
# the clock again: London was closed at 20:00, so Wednesday 09:00 + 4 h
# (09:00-12:30, 13:30-14:00) = 14:00.
at 2026-12-01T19:00:00Z client set Initech --calendar new_york >/dev/null
assert_eq new_york "$(at 2026-12-01T19:00:00Z client show Initech --json | jq -r .calendar)" "client show names its calendar"
dm_mail "$W/x9n" 'peter@initech.example' 'New York question' 'A question from New York.'
at 2026-12-01T20:00:00Z ingest "$W/x9n" >/dev/null
TN=$(tid 'New York question')
assert_eq 2026-12-02T16:00 "$(due "$TN" first_response_due)" "in the client's own calendar: Wednesday 11:00 New York time"
ack=$(dm_psql -c "select id from outbox where kind = 'ack' and ticket_id = $TN")
dm_outbox_raw "$ack" "$W/ackn"
assert_contains "$(dm_maildump "$W/ackn" text)" "by Wednesday 2 December, 11:00 (America/New_York time)" "the acknowledgement says it in the client's time"
assert_true "an unknown calendar is refused" test "$(at 2026-12-01T20:30:00Z client set Initech --calendar mars >/dev/null 2>&1; echo $?)" -ne 0
at 2026-12-01T20:30:00Z client set Initech --calendar none >/dev/null
# and Globex moves from hosting without targets to silver: its open
# ticket (Monday 30 November 09:00) gets silver's clocks, 4 working hours
# counted from its arrival: 09:00-12:30 and 13:30-14:00 that day
assert_true "client set refuses an unknown plan" test "$(at 2026-12-01T20:30:00Z client set Globex --plan gold --calendar new_york >/dev/null 2>&1; echo $?)" -ne 0
assert_eq "" "$(dm_psql -c "select calendar from client where name = 'Globex'")" "and writes nothing of the same command"
at 2026-12-01T20:30:00Z client set Globex --plan silver >/dev/null
at 2026-12-01T21:00:00Z escalate >/dev/null
assert_eq 2026-12-02T14:00 "$(due "$TN" first_response_due)" "back on the desk's calendar, the next pass derives it again"
assert_eq 2026-11-30T14:00 "$(due "$T8" first_response_due)" "a plan change gives the client's open tickets the new plan's clocks"

# 10. triage: open tickets by the nearest due time, soonest first, those
# with no running clock last
dues=$(at 2026-11-30T12:00:00Z ticket list --due --json | jq -r '.[] | .due // "none"')
assert_true "ticket list --due lists open tickets" test "$(echo "$dues" | wc -l)" -ge 5
assert_eq "$(echo "$dues" | grep -v none | sort)" "$(echo "$dues" | grep -v none)" "ticket list --due: sorted by due time"
assert_eq "" "$(echo "$dues" | sed -n '/none/,$p' | grep -v none)" "ticket list --due: no running clock comes last"
assert_contains "$(at 2026-11-30T12:00:00Z ticket list --due)" "working" "ticket list --due in text"

# 11. the digest: breached and at risk, by client and plan; once a day
out=$(at 2026-12-03T11:00:00Z digest --dry-run)
assert_contains "$out" "BREACHED" "digest --dry-run prints the digest"
assert_contains "$out" "Acme Ltd (plan silver)" "grouped by client and plan"
assert_contains "$out" "#$T5" "the breached ticket is listed"
assert_contains "$out" "Initech" "hours used against the allowance"
assert_eq 0 "$(dm_sql_count "outbox where kind = 'digest'")" "--dry-run queues nothing"
at 2026-12-03T11:00:00Z digest >/dev/null &
p1=$!
at 2026-12-03T11:00:00Z digest >/dev/null &
p2=$!
wait $p1 $p2
at 2026-12-03T12:00:00Z digest >/dev/null
assert_eq 1 "$(dm_sql_count "outbox where kind = 'digest' and rcpt = 'max@agency.example'")" "cron firing twice (and at once) sends one digest a day"
at 2026-12-04T11:00:00Z digest >/dev/null
assert_eq 2 "$(dm_sql_count "outbox where kind = 'digest'")" "the next day, the next"
d=$(dm_psql -c "select id from outbox where kind = 'digest' order by id limit 1")
dm_outbox_raw "$d" "$W/digest"
assert_contains "$(dm_maildump "$W/digest" files)" "service-levels.png" "the HTML carries the chart"
assert_contains "$(head -c 8 <(dm_maildump "$W/digest" file service-levels.png) | od -An -c | tr -d ' ')" "PNG" "a PNG image"

# 11b. a ticket whose escalation mail cannot be composed (its contact's
# address is broken: put there by SQL, as no command would) is set aside
# with an event, and the pass goes on with the others
dm_mail "$W/xb1" 'alice@acme.example' 'Broken contact' 'One.'
at 2026-12-07T09:00:00Z ingest "$W/xb1" >/dev/null
TB=$(tid 'Broken contact')
dm_mail "$W/xb2" 'alice@acme.example' 'Good contact' 'Two.'
at 2026-12-07T09:00:00Z ingest "$W/xb2" >/dev/null
TG=$(tid 'Good contact')
dm_psql -c "insert into contact (client_id, email) select client_id, 'broken address@acme.example' from ticket where id = $TB; update ticket set contact_id = (select max(id) from contact) where id = $TB" >/dev/null
out=$(at 2026-12-07T17:30:00Z escalate 2>/dev/null); rc=$?
assert_eq 0 "$rc" "a ticket that cannot be escalated does not fail the pass"
assert_contains "$out" "set aside" "the pass says it set one aside"
assert_eq 1 "$(dm_sql_count "event where ticket_id = $TB and kind = 'sla-failed'")" "with an event on that ticket"
assert_eq 1 "$(dm_psql -c "select line from ticket where id = $TB")" "whose escalation is rolled back"
assert_eq 2 "$(dm_psql -c "select line from ticket where id = $TG")" "while the other ticket of the pass is escalated"
assert_eq "2026-12-07 18:30" "$(dm_psql -c "select to_char(sla_next_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from ticket where id = $TB")" "and it is tried again in an hour"

# DESKMAIL_NOW that is not an instant is a usage error before anything runs
DESKMAIL_NOW=tomorrow "$DESKMAIL" -c "$DM_CONF" escalate >/dev/null 2>"$W/now.err"; rc=$?
assert_eq 64 "$rc" "DESKMAIL_NOW=tomorrow: exit 64"
assert_contains "$(cat "$W/now.err")" "DESKMAIL_NOW" "saying which setting is wrong"

# 12. the operator shortens silver's first response to 2 hours: the next
# pass derives every open ticket again (ticket 1: 1.5 h on Thursday, then
# Tuesday 09:30), once
sed -i 's/silver = { first_response_hours = 4;/silver = { first_response_hours = 2;/' "$DM_CONF"
out=$(at 2026-12-24T17:00:00Z escalate 2>&1)
assert_contains "$out" "service-level settings changed" "a changed target is noticed by the next pass"
assert_eq 2026-12-29T09:30 "$(due "$T1" first_response_due)" "and the due times follow it"
out=$(at 2026-12-24T17:01:00Z escalate 2>&1)
assert_eq "" "$(echo "$out" | grep 'settings changed')" "only once"

# 13. every mail queued goes out, once
DESKMAIL_NOW=2027-01-05T10:00:00Z dm send >/dev/null
assert_eq 0 "$(dm_sql_count "outbox where status in ('pending', 'sending')")" "everything queued is sent once due"

dm_done
