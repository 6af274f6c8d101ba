#!/bin/bash
# imap_search.sh - imap_search_range() on a real Dovecot (only Dovecot is
# started): a mailbox larger than a search window, with runs of expunged
# UIDs at the start, in the middle and at the end, is enumerated exactly
# (every UID once, in order, none invented) for many ranges, limits and
# windows, with ESEARCH and with plain SEARCH (the same Dovecot restarted
# with ESEARCH left out of its CAPABILITY); then a mailbox of 65,000 mails,
# whose unbounded "UID SEARCH UID 1:*" answer (~370 KB) libcurl 7.88 fails
# to receive, is enumerated whole and in poll-sized batches, both ways.
# The checks are in test_imap_search.c ($DM_TEST_IMAP_SEARCH).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
PROG=${DM_TEST_IMAP_SEARCH:?the test_imap_search program}
dm_servers_start --imap-only
W=$DM_TEST_DIR/work
mkdir -p "$W"
EXPUNGED=1:2,50:59,400:1399,1500,1502,1504,2990:3000 # 1026 UIDs

# dovecot_caps [LIST]: restart Dovecot advertising LIST after login, or its
# own capabilities without LIST.
dovecot_caps() {
	dm_imap_stop
	sed -i '/^imap_capability/d' "$DM_TEST_DIR/dovecot/dovecot.conf"
	[ -n "${1:-}" ] && echo "imap_capability = $1" >>"$DM_TEST_DIR/dovecot/dovecot.conf"
	dm_imap_start
}

run_prog() { # N MODE SEARCH
	local label="$2 mailbox of $1, $3 SEARCH"
	"$PROG" "$DM_IMAP_URL" support secret "$1" "$EXPUNGED" "$2" "$3" >"$W/$2-$3.out" 2>"$W/$2-$3.log"
	local rc=$?
	if [ "$rc" -eq 0 ]; then
		dm_ok "$label: exact"
	else
		dm_not_ok "$label: exact (exit $rc)" "$(grep -m 20 -e FAIL -e usage "$W/$2-$3.out" "$W/$2-$3.log")"
	fi
	grep '^#' "$W/$2-$3.out"
}

dm_deliver_tiny 3000
assert_contains "$(dm_imap 'STATUS INBOX (MESSAGES UIDNEXT)' "${DM_IMAP_URL%/INBOX}/")" \
	"MESSAGES 3000 UIDNEXT 3001" "3000 mails, UIDs 1..3000"
dm_imap "UID STORE $EXPUNGED +FLAGS.SILENT (\\Deleted)" >/dev/null
dm_imap "UID EXPUNGE $EXPUNGED" >/dev/null
assert_contains "$(dm_imap 'STATUS INBOX (MESSAGES UIDNEXT)' "${DM_IMAP_URL%/INBOX}/")" \
	"MESSAGES 1974 UIDNEXT 3001" "1026 of them expunged in runs"

assert_contains "$(dm_imap CAPABILITY)" " ESEARCH" "Dovecot advertises ESEARCH"
run_prog 3000 small esearch
assert_true "ESEARCH is used" grep -q 'UID SEARCH RETURN (ALL) UID' "$W/small-esearch.log"
assert_true "gaps are jumped with RETURN (MIN)" grep -q 'RETURN (MIN)' "$W/small-esearch.log"
assert_true "no search up to *" bash -c "! grep -q ':\*' '$W/small-esearch.log'"

dovecot_caps 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE UIDPLUS MOVE CHILDREN UNSELECT'
caps=$(dm_imap CAPABILITY)
assert_true "restarted without ESEARCH" bash -c "[[ '$caps' == *UIDPLUS* && '$caps' != *ESEARCH* ]]"
run_prog 3000 small plain
assert_true "plain SEARCH is used" grep -q 'UID SEARCH UID [0-9]*:[0-9]*:' "$W/small-plain.log"
assert_true "and never RETURN" bash -c "! grep -q RETURN '$W/small-plain.log'"

dm_deliver_tiny 62000
assert_contains "$(dm_imap 'STATUS INBOX (MESSAGES UIDNEXT)' "${DM_IMAP_URL%/INBOX}/")" \
	"MESSAGES 63974 UIDNEXT 65001" "62,000 more mails"
run_prog 65000 big plain
dovecot_caps
run_prog 65000 big esearch
dm_done
