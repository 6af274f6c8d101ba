# mail.sh - helpers for integration tests: make test mails, run deskmail.
# Source after servers.sh.

# The tests run as root (CI): deskmail refuses root unless told.
export DESKMAIL_ALLOW_ROOT=1

# dm ARGS...: run the deskmail under test with the test configuration.
dm() {
	"$DESKMAIL" -c "$DM_CONF" "$@"
}

# dm_mail FILE FROM SUBJECT BODY [HEADER...]: write a small RFC 5322 mail.
# Extra arguments are full header lines ("In-Reply-To: <x@y>").
dm_mail_seq=0
dm_mail() {
	local file=$1 from=$2 subject=$3 body=$4
	shift 4
	dm_mail_seq=$((dm_mail_seq + 1))
	{
		printf 'From: %s\r\n' "$from"
		printf 'To: support@agency.example\r\n'
		printf 'Subject: %s\r\n' "$subject"
		printf 'Date: Mon, 23 Nov 2026 09:%02d:00 +0000\r\n' $((dm_mail_seq % 60))
		printf 'Message-ID: <t%s.%s.%s@client.example>\r\n' "$$" "$dm_mail_seq" "$RANDOM"
		local h
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
		printf '%s\r\n' "$body"
	} >"$file"
}

# The Message-ID (without <>) of a mail file.
dm_msgid() {
	sed -n 's/^Message-ID: <\(.*\)>\r*$/\1/Ip' "$1" | head -n1
}

# A field of `ticket show N --json` via jq: dm_ticket_json N JQ-FILTER
dm_ticket_json() {
	dm ticket show "$1" --json | jq -r "$2"
}

# Standard fixture: two clients with contacts, one staff member.  Sam works
# the 2nd line and the clients have no account manager, so a new (1st-line)
# ticket notifies no staff: suites that count client-facing mail see only
# that.  conversation.sh adds the staff of every role.
dm_fixture() {
	dm migrate >/dev/null
	dm client add "Acme Ltd" --plan silver >/dev/null
	dm client add "Globex" --plan hosting >/dev/null
	dm contact add "Acme Ltd" alice@acme.example --name "Alice Archer" >/dev/null
	dm contact add "Acme Ltd" Bob@Acme.example >/dev/null
	dm contact add Globex carol@globex.example --name "Carol" >/dev/null
	dm staff add sam@agency.example --name "Sam Senior" --role senior-engineer --line 2 >/dev/null
}

# dm_imap CMD: run a raw IMAP command against the support INBOX with curl's
# command-line client (an independent IMAP client, to check what deskmail did).
dm_imap() {
	curl -s --max-time 20 -u support:secret --url "${2:-$DM_IMAP_URL}" -X "$1"
}

# UIDs in the support INBOX carrying keyword $1, space separated.
dm_imap_keyword_uids() {
	dm_imap "UID SEARCH KEYWORD $1" | sed -n 's/^\* SEARCH *//p' | tr -d '\r'
}
