#!/bin/bash
# bounces.sh - delivery status notifications for mail we sent, on real
# servers (PostgreSQL, SMTP; mail by pipe): matched to the outbox row by
# the Message-ID in the returned headers, the row marked bounced with the
# diagnostic, an event on the ticket, the relay's author (or the assignee)
# told, nothing answered; unmatched ones quarantined with reason "bounce".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
dm_write_conf
dm_fixture
dm staff add amy@agency.example --name "Amy Lead" --role senior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W"

# dsn_postfix FILE MSGID RCPT: a Postfix RFC 3464 report returning the
# headers of our mail with Message-ID MSGID sent to RCPT
dsn_postfix() {
	cat >"$1" <<DSN
Return-Path: <>
From: MAILER-DAEMON@mx.acme.example (Mail Delivery System)
To: support@agency.example
Subject: Undelivered Mail Returned to Sender
Message-Id: <20261130120000.ABC$RANDOM@mx.acme.example>
Date: Mon, 30 Nov 2026 12:00:00 +0000
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.acme.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<$3>: host mx.acme.example said: 550 5.1.1 <$3>: Recipient address
    rejected: User unknown in virtual mailbox table

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example
Arrival-Date: Mon, 30 Nov 2026 11:59:58 +0000

Final-Recipient: rfc822; $3
Original-Recipient: rfc822;$3
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <$3>: Recipient address rejected: User unknown

--B1
Content-Type: text/rfc822-headers

From: Example Agency Support <support@agency.example>
To: $3
Subject: Re: something
Message-ID: <$2>
Date: Mon, 30 Nov 2026 11:59:57 +0000

--B1--
DSN
}

# 1. the acknowledgement of a new ticket bounces
dm_mail "$W/a" 'alice@acme.example' 'Printer jam' 'The printer jams.'
dm ingest "$W/a" >/dev/null
T=$(dm_psql -c "select id from ticket where subject = 'Printer jam'")
dm send >/dev/null
ack=$(dm_psql -c "select message_id from outbox where kind = 'ack' and ticket_id = $T")
mark=$(dm_outbox_max)
dsn_postfix "$W/b1" "$ack" alice@acme.example
assert_contains "$(dm ingest "$W/b1")" "reply #$T" "a bounce of our acknowledgement goes to its ticket"
assert_eq "bounced" "$(dm_psql -c "select status from outbox where message_id = '$ack'")" "the outbox row is marked bounced"
assert_contains "$(dm_psql -c "select last_error from outbox where message_id = '$ack'")" "5.1.1" "with the diagnostic"
assert_eq 1 "$(dm_sql_count "event where ticket_id = $T and kind = 'delivery-bounced'")" "the ticket gets an event"
assert_eq "amy@agency.example" "$(dm_outbox_rcpts notify-bounced "$T" "$mark")" "the line (no assignee yet) is told"
assert_eq 0 "$(dm_sql_count "outbox where id > $mark and rcpt like '%mailer-daemon%'")" "nothing answers the bounce"
assert_eq 0 "$(dm_sql_count "outbox where id > $mark and kind = 'ack'")" "no acknowledgement"
assert_eq "system|t|t" "$(dm_psql -c "select author_kind, internal, automatic from message where ticket_id = $T and direction = 'in' order by id desc limit 1")" "the bounce is kept on the ticket, internal and automatic"
assert_eq duplicate "$(dm ingest "$W/b1")" "the same bounce again is a duplicate"

# 2. a staff reply relayed to the client bounces: its author gets the text
dm_mail "$W/s" 'Amy Lead <amy@agency.example>' "Re: [#$T] Printer jam" 'Please open the tray and remove the paper.'
dm ingest "$W/s" >/dev/null
dm send >/dev/null
relay=$(dm_psql -c "select message_id from outbox where kind = 'relay' and ticket_id = $T")
mark=$(dm_outbox_max)
dsn_postfix "$W/b2" "$relay" alice@acme.example
dm ingest "$W/b2" >/dev/null
assert_eq "bounced" "$(dm_psql -c "select status from outbox where message_id = '$relay'")" "the relay is marked bounced"
n=$(dm_outbox_last notify-bounced "$T" amy@agency.example)
assert_true "the author is told" test -n "$n"
dm_outbox_raw "$n" "$W/n.eml"
assert_contains "$(dm_maildump "$W/n.eml" text)" "Please open the tray" "with her text back"

# 3. a non-standard bounce (Exim's text, the headers copied into the body)
dm_mail "$W/c" 'carol@globex.example' 'Backup failed' 'The nightly backup failed.'
dm ingest "$W/c" >/dev/null
dm send >/dev/null
T3=$(dm_psql -c "select id from ticket where subject = 'Backup failed'")
ack3=$(dm_psql -c "select message_id from outbox where kind = 'ack' and ticket_id = $T3")
sed -e "s/dm.1718100160.0c1d2e3f4a5b6c7d0002@desk.example/$ack3/" "$DM_TESTDATA/bounce-exim.eml" >"$W/b3"
assert_contains "$(dm ingest "$W/b3")" "reply #$T3" "an Exim text bounce is matched too"
assert_eq "bounced" "$(dm_psql -c "select status from outbox where message_id = '$ack3'")" "and its row marked"

# 4. a bounce of nothing we sent: quarantined, reason "bounce"
dsn_postfix "$W/b4" "never-sent-by-us@example.net" someone@acme.example
assert_eq quarantined "$(dm ingest "$W/b4")" "an unmatched bounce is quarantined"
assert_eq bounce "$(dm quarantine list --json | jq -r '.[-1].reason')" "with reason bounce"

# 4b. a quarantined bounce retried: still a bounce, the entry stays held
Q=$(dm quarantine list --json | jq -r '.[-1].id')
out=$(dm quarantine retry "$Q" 2>&1); rc=$?
assert_eq 0 "$rc" "retrying a quarantined bounce works ($out)"
assert_eq held "$(dm quarantine show "$Q" --json | jq -r .status)" "and it stays held"

# 5. the bounce of a stranger's notice: the row marked, kept in quarantine
dm_mail "$W/e" 'eve@nowhere.example' 'Hello' 'Who are you?'
dm ingest "$W/e" >/dev/null
dm send >/dev/null
notice=$(dm_psql -c "select message_id from outbox where kind = 'quarantine-notice' and rcpt = 'eve@nowhere.example'")
dsn_postfix "$W/b5" "$notice" eve@nowhere.example
assert_eq quarantined "$(dm ingest "$W/b5")" "the bounce of a notice is quarantined"
assert_contains "$(dm quarantine list --json | jq -r '.[-1].reason')" "bounce: our quarantine-notice" "saying what bounced"
assert_eq bounced "$(dm_psql -c "select status from outbox where message_id = '$notice'")" "and the notice row is marked bounced"

# 6. a delay warning is not a bounce: nothing is marked
sed -e "s/^Action: failed/Action: delayed/; s/^Status: 5.1.1/Status: 4.4.1/" "$W/b1" | sed -e "s/^Message-Id: <.*/Message-Id: <delay$RANDOM@mx.acme.example>/" >"$W/b6"
dm_psql -c "update outbox set status = 'sent' where message_id = '$ack'" >/dev/null
dm ingest "$W/b6" >/dev/null
assert_eq sent "$(dm_psql -c "select status from outbox where message_id = '$ack'")" "a delay warning marks nothing"
dm_done
