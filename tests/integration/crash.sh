#!/bin/bash
# crash.sh - kill the poller with SIGKILL while it ingests a few hundred
# mails, run it again until done: every mail is stored exactly once, every
# ticket has exactly one acknowledgement queued, every mail is marked on the
# server.  Kills come at random moments, and at exact ones through
# deskmail's failpoints: inside a batch, after its Nth mail was written and
# before the commit ("mail-written"), and between a batch's commit and its
# marks on the server ("batch-committed").
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
N=${DM_CRASH_MAILS:-300}
dm_servers_start
# a contact opening a hundred tickets in an hour gets each acknowledged
# (no limit of automatic mail per address): each must be there exactly once
DM_DESK_EXTRA="max_automatic_per_hour = 0;" dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W/mails"

# a mix: new tickets from contacts, replies to them by token, strangers
new=0
for i in $(seq 1 "$N"); do
	case $((i % 5)) in
	0) dm_mail "$W/mails/$i" 'stranger'$i'@nowhere.example' "Question $i" "Hello $i" ;;
	1 | 2) dm_mail "$W/mails/$i" 'alice@acme.example' "Problem $i" "Body $i"; new=$((new + 1)) ;;
	3) dm_mail "$W/mails/$i" 'carol@globex.example' "Issue $i" "Body $i"; new=$((new + 1)) ;;
	4) dm_mail "$W/mails/$i" 'bob@acme.example' "Re: [#1] Problem" "More $i" ;;
	esac
done
# ticket #1 must exist before the replies to it: deliver mail 1 first
dm_deliver "$W/mails/1"
dm poll >/dev/null
for i in $(seq 2 "$N"); do dm_deliver "$W/mails/$i"; done

kills=0 runs=0 mid_batch=0 after_commit=0
while :; do
	runs=$((runs + 1))
	# first kills inside batches (they commit nothing), then after one
	# batch's commit, then at random early in a pass, so that each kind
	# happens while there is still mail to do; then mixed
	case $runs in
	1 | 2 | 3 | 4) fp="mail-written:$((RANDOM % 40 + 2))" ;;
	5 | 6) fp="batch-committed:1" ;;
	7 | 8 | 9 | 10) fp="" ;;
	*) case $((runs % 3)) in
		0) fp="mail-written:$((RANDOM % 40 + 2))" ;;
		1) fp="batch-committed:$((RANDOM % 2 + 1))" ;;
		*) fp="" ;;
		esac ;;
	esac
	# run the binary itself in the background: killing a shell function's
	# subshell would leave its deskmail running
	DESKMAIL_FAILPOINTS=$fp "$DESKMAIL" -c "$DM_CONF" poll >"$W/poll.out" 2>"$W/poll.err" &
	pid=$!
	if [ -z "$fp" ]; then
		if [ $runs -le 10 ]; then ms=$((RANDOM % 50 + 5)); else ms=$((RANDOM % 150 + 5)); fi
		sleep "0.$(printf '%03d' $ms)"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	if [ $rc -eq 137 ]; then
		case $fp in
		mail-written:*) mid_batch=$((mid_batch + 1)) ;;
		batch-committed:*) after_commit=$((after_commit + 1)) ;;
		*) kills=$((kills + 1)) ;;
		esac
	elif [ $rc -eq 0 ] && grep -q '^fetched 0:' "$W/poll.out" &&
		! grep -q 'another deskmail is polling' "$W/poll.err"; then
		# done: a whole pass that found nothing new (not one that found
		# another poller holding the mailbox)
		break
	fi
	cat "$W/poll.err" >>"$W/poll.log"
	[ $runs -lt 2000 ] || break
done
echo "# $kills random kills, $mid_batch inside a batch, $after_commit between commit and mark, in $runs runs" >&2
assert_true "the poller was killed at random at least 3 times ($kills)" test "$kills" -ge 3
assert_true "the poller was killed inside a batch at least 3 times ($mid_batch)" test "$mid_batch" -ge 3
assert_true "the poller was killed between a commit and its marks ($after_commit)" test "$after_commit" -ge 2
assert_eq "$N" "$(dm_psql -c 'select count(*) from inbound')" "every mail stored exactly once"
assert_eq "$N" "$(dm_psql -c 'select count(distinct uid) from mailbox_seen')" "every UID checkpointed once"
assert_eq "$new" "$(dm_psql -c 'select count(*) from ticket')" "one ticket per new request"
assert_eq "0" "$(dm_psql -c "select count(*) from ticket t where (select count(*) from outbox o where o.ticket_id = t.id and o.kind = 'ack') <> 1")" "every ticket has exactly one acknowledgement queued"
assert_eq "$((N / 5))" "$(dm_psql -c "select count(*) from message where ticket_id = 1 and from_addr = 'bob@acme.example'")" "every reply joined ticket 1 once"
assert_eq "$((N / 5))" "$(dm_psql -c 'select count(*) from quarantine')" "every stranger quarantined once"
assert_eq "$N" "$(dm_imap_keyword_uids '$Ticketed' | wc -w)" "every mail marked on the server"
dm_done
