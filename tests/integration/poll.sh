#!/bin/bash
# poll.sh - the whole path on real servers: Dovecot -> deskmail poll ->
# PostgreSQL -> deskmail send -> SMTP; mark after commit; incremental UIDs;
# UIDVALIDITY change; move to a folder; the daemon stops on SIGTERM.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W"

dm_mail "$W/a" 'alice@acme.example' 'Website down' 'The site shows a 500 error.'
dm_mail "$W/b" 'eve@stranger.example' 'Hello' 'Can you help me?'
dm_mail "$W/c" 'carol@globex.example' 'DNS question' 'How do I add a TXT record?'
dm_deliver "$W/a" "$W/b" "$W/c"

out=$(dm poll); rc=$?
assert_eq 0 "$rc" "poll exits 0"
assert_eq "fetched 3: 2 new ticket(s), 0 repl(ies), 1 quarantined, 0 duplicate(s)" "$out" "first poll takes the three mails"
assert_eq "2" "$(dm ticket list --json | jq length)" "two tickets"
assert_eq "3" "$(dm_psql -c 'select count(*) from mailbox_seen where marked')" "all three marked after commit"
assert_eq "3" "$(dm_imap_keyword_uids '$Ticketed' | wc -w)" "the server shows the three as \$Ticketed"
assert_eq "3" "$(dm_psql -c 'select last_uid from mailbox')" "checkpoint at UID 3"

out=$(dm send)
assert_eq "sent 3, deferred 0, failed 0" "$out" "two acknowledgements and one notice sent"
assert_eq "3" "$(dm_smtp_count)" "the SMTP server received three mails"

# a reply to the first acknowledgement, by In-Reply-To only
ackid=$(dm_psql -c "select message_id from outbox where kind='ack' order by id limit 1")
dm_mail "$W/d" 'alice@acme.example' 'Re: Website down' 'It is back, thanks!' "In-Reply-To: <$ackid>"
dm_deliver "$W/d"
assert_eq "fetched 1: 0 new ticket(s), 1 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll)" "the reply is fetched"
assert_eq "2" "$(dm_psql -c "select count(*) from message where ticket_id=1 and direction='in'")" "reply joined ticket 1"

# nothing new: nothing fetched, nothing sent
assert_eq "fetched 0: 0 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll)" "second poll finds nothing"
assert_eq "sent 0, deferred 0, failed 0" "$(dm send)" "and sends nothing"
assert_eq "3" "$(dm_smtp_count)" "no extra mail"

# a commit whose server mark was lost is repaired by the next poll
dm_imap 'UID STORE 1 -FLAGS.SILENT ($Ticketed)' >/dev/null
dm_psql -c 'update mailbox_seen set marked = false where uid = 1' >/dev/null
dm poll >/dev/null
assert_contains " $(dm_imap_keyword_uids '$Ticketed') " " 1 " "unmarked UID 1 is marked again"
assert_eq "0" "$(dm_psql -c 'select count(*) from mailbox_seen where not marked')" "nothing left unmarked"

# UIDVALIDITY change: the mailbox is rebuilt, everything gets new UIDs
old_uv=$(dm_psql -c 'select uidvalidity from mailbox')
dm_imap_stop
find "$DM_MAILDIR" -name 'dovecot-uidlist' -delete
find "$DM_MAILDIR" -name 'dovecot.index*' -delete
find "$DM_MAILDIR" -name 'dovecot.list.index*' -delete
sleep 1
dm_imap_start
out=$(dm poll 2>"$W/uv.log")
new_uv=$(dm_psql -c 'select uidvalidity from mailbox')
assert_true "UIDVALIDITY changed on the server" test "$old_uv" != "$new_uv"
assert_eq "fetched 4: 0 new ticket(s), 0 repl(ies), 0 quarantined, 4 duplicate(s)" "$out" "rescan recognises the four stored mails"
assert_contains "$(cat "$W/uv.log")" "UIDVALIDITY changed" "the change is logged"
assert_eq "1" "$(dm_psql -c "select count(*) from event where kind='mailbox-uidvalidity-changed'")" "and recorded as an event"
assert_eq "2" "$(dm_psql -c 'select count(*) from ticket')" "no ticket doubled"

# move to a folder after commit
dm_imap 'CREATE Processed' >/dev/null
dm_write_conf
sed -i 's|poll_interval = 1;|poll_interval = 1; move_to = "Processed";|' "$DM_CONF"
dm_mail "$W/e" 'bob@acme.example' 'Email bouncing' 'Our mails bounce.'
dm_deliver "$W/e"
assert_eq "fetched 1: 1 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll)" "poll with move_to"
processed=$(dm_imap 'STATUS Processed (MESSAGES)' "${DM_IMAP_URL%/INBOX}/")
assert_contains "$processed" "MESSAGES 1" "the mail was moved to Processed"
assert_eq "fetched 0: 0 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll)" "and is not seen again"
dm_write_conf

# a mail over imap.max_message_bytes: left on the server, quarantined by
# its header with the reason, the mailbox goes on
sed -i 's|poll_interval = 1;|poll_interval = 1; max_message_bytes = 20000;|' "$DM_CONF"
big=$(head -c 30000 /dev/zero | tr '\0' 'y' | fold -w 76)
dm_mail "$W/big" 'alice@acme.example' 'Huge log file' "$big"
dm_mail "$W/small" 'alice@acme.example' 'After the huge one' 'A small mail.'
dm_deliver "$W/big" "$W/small"
assert_eq "fetched 2: 1 new ticket(s), 0 repl(ies), 1 quarantined, 0 duplicate(s)" "$(dm poll 2>/dev/null)" "the big mail is quarantined, the next one goes on"
q=$(dm quarantine list --json | jq -c '.[] | select(.subject == "Huge log file")')
assert_eq "alice@acme.example" "$(jq -r .from <<<"$q")" "the quarantine row names the sender (from the header)"
assert_contains "$(jq -r .reason <<<"$q")" "larger than 20000 bytes" "and says why"
assert_contains "$(dm_psql -c "select convert_from(i.raw, 'UTF8') from inbound i join quarantine q on q.inbound_id = i.id where q.subject = 'Huge log file'")" "left on the server" "the stored record says where the whole mail is"
assert_true "the whole mail is still on the server" bash -c "dm_imap() { curl -s --max-time 20 -u support:secret --url \"$DM_IMAP_URL\" -X \"\$1\"; }; dm_imap 'UID SEARCH SUBJECT \"Huge log file\"' | grep -qE 'SEARCH [0-9]'"
dm_write_conf

# rows of a batch that PostgreSQL refuses at its commit (a constraint the
# test adds: no outgoing mail to poison@, the stranger's notice): nothing is lost, the batch is taken in again mail by mail,
# the bad mail is kept in quarantine with the reason and its neighbours are
# unaffected
dm_psql -c "ALTER TABLE outbox ADD CONSTRAINT test_no_poison CHECK (rcpt <> 'poison@stranger.example')" >/dev/null
dm_mail "$W/n1" 'alice@acme.example' 'Before the odd one' 'first'
dm_mail "$W/n2" 'poison@stranger.example' 'Poison pill' 'second'
dm_mail "$W/n3" 'carol@globex.example' 'After the odd one' 'third'
dm_deliver "$W/n1" "$W/n2" "$W/n3"
out=$(dm poll 2>"$W/odd.log")
dm_psql -c "ALTER TABLE outbox DROP CONSTRAINT test_no_poison" >/dev/null
assert_eq "fetched 3: 2 new ticket(s), 0 repl(ies), 1 quarantined, 0 duplicate(s)" "$out" "a batch with a row PostgreSQL refuses: every mail taken in"
assert_contains "$(cat "$W/odd.log")" "taking them in one by one" "the batch was taken in again one by one"
assert_contains "$(dm quarantine list --json | jq -r '.[-1].reason')" "could not be stored" "the refused mail is quarantined with the reason"
assert_contains "$(dm_psql -c "select convert_from(i.raw, 'UTF8') from inbound i join quarantine q on q.inbound_id = i.id order by q.id desc limit 1")" "Subject: Poison pill" "its raw bytes are what is kept"
assert_eq "2" "$(dm_psql -c "select count(*) from ticket t where t.subject in ('Before the odd one', 'After the odd one') and (select count(*) from outbox o where o.ticket_id = t.id and o.kind = 'ack') = 1")" "its neighbours opened their tickets, each acknowledged once"
assert_eq "0" "$(dm_psql -c 'select count(*) from mailbox_seen where not marked')" "and all three are marked on the server"

# the daemon: polls and sends until SIGTERM
dm_mail "$W/f" 'carol@globex.example' 'Backup failed' 'Last night backup failed.'
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run.log" &
pid=$!
dm_deliver "$W/f"
dm_wait_for 30 grep -qs 'Backup failed' $DM_SMTP_OUT/*.eml
assert_true "the daemon acknowledged a mail delivered while it ran" grep -qs 'Backup failed' $DM_SMTP_OUT/*.eml
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "the daemon exits 0 on SIGTERM"
assert_true "the daemon logs one line per message: mailbox, UID, Message-ID, outcome" grep -qE "INBOX uid [0-9]+ <[^>]+> from carol@globex.example: new ticket #[0-9]+" "$W/run.log"

# the IMAP server down: poll exits 75 (cron retries); the daemon rides it out
dm_imap_stop
dm poll >/dev/null 2>&1; rc=$?
assert_eq 75 "$rc" "poll with the IMAP server down exits 75 (EX_TEMPFAIL)"
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run2.log" &
pid=$!
dm_wait_for 10 grep -q 'temporary; retrying' "$W/run2.log"
dm_mail "$W/g" 'carol@globex.example' 'Printer offline' 'The office printer is offline.'
dm_deliver "$W/g"
dm_imap_start
dm_wait_for 30 grep -qs 'Printer offline' $DM_SMTP_OUT/*.eml
assert_true "once the server is back the daemon takes the mail in" grep -qs 'Printer offline' $DM_SMTP_OUT/*.eml
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "and still stops cleanly on SIGTERM"
assert_contains "$(cat "$W/run2.log")" "temporary; retrying" "the outage was logged as temporary"

# PostgreSQL restarted under the daemon: it reconnects and goes on
"$DESKMAIL" -c "$DM_CONF" run 2>"$W/run3.log" &
pid=$!
sleep 1.5
dm_pg_stop
dm_wait_for 10 grep -q 'temporary; retrying' "$W/run3.log"
dm_mail "$W/h" 'carol@globex.example' 'VPN refuses logins' 'Nobody can connect to the VPN.'
dm_deliver "$W/h"
dm_pg_start
dm_wait_for 30 bash -c "grep -qs 'VPN refuses logins' '$DM_SMTP_OUT'/*.eml"
assert_true "after a database restart the daemon takes the mail in" bash -c "grep -qs 'VPN refuses logins' '$DM_SMTP_OUT'/*.eml"
assert_contains "$(cat "$W/run3.log")" "database connection re-established" "the reconnection is logged"
kill -TERM "$pid"
wait "$pid"; rc=$?
assert_eq 0 "$rc" "the daemon exits 0 on SIGTERM after the outage"
dm_done
