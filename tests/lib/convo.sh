# convo.sh - helpers for the conversation and attachment tests: read the
# outbox, decode a mail with Python's email package (independent of the
# GMime code under test), and build multipart mails.  Source after
# servers.sh and mail.sh.

# dm_sql_count SQL-FROM-WHERE: count(*) of it, e.g.
#   dm_sql_count "outbox where kind='relay' and ticket_id=1"
dm_sql_count() {
	dm_psql -c "select count(*) from $1"
}

# dm_outbox_count KIND TICKET [RCPT]
dm_outbox_count() {
	if [ $# -ge 3 ]; then
		dm_sql_count "outbox where kind='$1' and ticket_id=$2 and rcpt='$3'"
	else
		dm_sql_count "outbox where kind='$1' and ticket_id=$2"
	fi
}

# dm_outbox_rcpts KIND TICKET [AFTER-ID]: recipients of KIND rows (with id
# above AFTER-ID), sorted, comma separated; one entry per row, so a
# duplicate shows up twice.
dm_outbox_rcpts() {
	dm_psql -c "select coalesce(string_agg(rcpt, ',' order by rcpt), '') from outbox where kind='$1' and ticket_id=$2 and id > ${3:-0}"
}

# dm_outbox_last KIND TICKET [RCPT]: id of the newest such row (empty if none).
dm_outbox_last() {
	local w="kind='$1' and ticket_id=$2"
	[ $# -ge 3 ] && w="$w and rcpt='$3'"
	dm_psql -c "select coalesce(max(id)::text, '') from outbox where $w"
}

# dm_outbox_max: the highest outbox id so far (0 when empty).
dm_outbox_max() {
	dm_psql -c "select coalesce(max(id), 0) from outbox"
}

# dm_outbox_raw ID FILE: the exact bytes of an outbox row's mail into FILE.
dm_outbox_raw() {
	dm_psql -c "select encode(raw, 'base64') from outbox where id=$1" | base64 -d >"$2"
}

# dm_maildump FILE MODE [ARG]: decode a mail with Python's email package.
#   headers       every header as "Name: decoded value", one a line
#   header NAME   the decoded values of header NAME (may print nothing)
#   text          the text body: the text/plain parts without a file name
#                 (text/html ones when there is no text/plain), decoded
#   files         one line per part with a file name:
#                 "FILENAME SIZE SHA256" of the decoded bytes
#   file NAME     the decoded bytes of the part with file name NAME
dm_maildump() {
	"$DM_PYTHON" - "$@" <<'PY'
import sys, hashlib, email
from email import policy
path, mode = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
with open(path, "rb") as f:
    msg = email.message_from_binary_file(f, policy=policy.default)
out = sys.stdout
if mode == "headers":
    for k, v in msg.items():
        out.write("%s: %s\n" % (k, v))
elif mode == "header":
    for v in msg.get_all(arg, []):
        out.write("%s\n" % v)
elif mode == "text":
    leaves = [p for p in msg.walk() if not p.is_multipart() and p.get_filename() is None
              and p.get_content_disposition() != "attachment"]
    plain = [p for p in leaves if p.get_content_type() == "text/plain"]
    for p in plain or [p for p in leaves if p.get_content_type() == "text/html"]:
        out.write(p.get_content())
        out.write("\n")
elif mode == "files":
    for p in msg.walk():
        if p.is_multipart():
            continue
        fn = p.get_filename()
        if fn is None:
            continue
        data = p.get_payload(decode=True) or b""
        out.write("%s %d %s\n" % (fn, len(data), hashlib.sha256(data).hexdigest()))
elif mode == "file":
    for p in msg.walk():
        if not p.is_multipart() and p.get_filename() == arg:
            sys.stdout.buffer.write(p.get_payload(decode=True) or b"")
            break
else:
    sys.exit("dm_maildump: unknown mode " + mode)
PY
}

# dm_smtp_by_msgid MSGID: the .eml file the SMTP sink received whose
# Message-ID header is <MSGID> (empty if none).
dm_smtp_by_msgid() {
	"$DM_PYTHON" - "$DM_SMTP_OUT" "$1" <<'PY'
import sys, os, email
from email import policy
d, want = sys.argv[1], "<%s>" % sys.argv[2].strip("<>")
for name in sorted(os.listdir(d)):
    if not name.endswith(".eml"):
        continue
    with open(os.path.join(d, name), "rb") as f:
        m = email.message_from_binary_file(f, policy=policy.compat32)
    if (m.get("Message-ID") or "").strip() == want:
        print(os.path.join(d, name))
        break
PY
}

# dm_event_json TICKET JQ-SELECT: the events of TICKET that JQ-SELECT
# selects, as a compact JSON array, e.g.
#   dm_event_json 1 'select(.kind=="status-changed")'
dm_event_json() {
	dm ticket show "$1" --json | jq -c "[.events[] | $2]"
}

# dm_mail_att FILE FROM SUBJECT BODY [-H HEADER]... ATTACHMENT...
# A multipart/mixed mail: a text/plain part with BODY, then one base64
# part per ATTACHMENT file, named after the file.  ATTACHMENT may be
# PATH or PATH:CONTENT-TYPE (default application/octet-stream).
dm_mail_att() {
	local file=$1 from=$2 subject=$3 body=$4
	shift 4
	local headers=()
	while [ $# -gt 0 ] && [ "$1" = -H ]; do
		headers+=("$2")
		shift 2
	done
	dm_mail_seq=$((dm_mail_seq + 1))
	local b="=_dmtest_${$}_${dm_mail_seq}_$RANDOM"
	{
		printf 'From: %s\r\n' "$from"
		printf 'To: support@agency.example\r\n'
		printf 'Subject: %s\r\n' "$subject"
		printf 'Date: Mon, 23 Nov 2026 10:%02d:00 +0000\r\n' $((dm_mail_seq % 60))
		printf 'Message-ID: <a%s.%s.%s@client.example>\r\n' "$$" "$dm_mail_seq" "$RANDOM"
		local h
		for h in "${headers[@]}"; do printf '%s\r\n' "$h"; done
		printf 'MIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n' "$b"
		printf 'This is a multi-part message in MIME format.\r\n'
		printf -- '--%s\r\nContent-Type: text/plain; charset=utf-8\r\n' "$b"
		printf 'Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n' "$body"
		local a path ct name
		for a in "$@"; do
			path=${a%%:*}
			ct=application/octet-stream
			[ "$a" != "$path" ] && ct=${a#*:}
			name=$(basename "$path")
			printf -- '--%s\r\n' "$b"
			printf 'Content-Type: %s; name="%s"\r\n' "$ct" "$name"
			printf 'Content-Disposition: attachment; filename="%s"\r\n' "$name"
			printf 'Content-Transfer-Encoding: base64\r\n\r\n'
			base64 -w 76 "$path" | sed 's/$/\r/'
		done
		printf -- '--%s--\r\n' "$b"
	} >"$file"
}

# dm_new_id OUTPUT: N when OUTPUT (of `dm ingest`) is "new ticket #N", else nothing.
dm_new_id() {
	sed -n 's/^new ticket #\([0-9][0-9]*\)$/\1/p' <<<"$1"
}

# dm_mail_crlf FILE FROM SUBJECT BODY [HEADER...]: dm_mail with a body of
# several lines (newline separated), every line ending in CRLF.
dm_mail_crlf() {
	dm_mail "$@"
	sed -i 's/\r*$/\r/' "$1"
}

# assert_lacks HAYSTACK NEEDLE MSG: HAYSTACK is not empty and has no NEEDLE
# (an empty haystack fails: there was nothing to check).
assert_lacks() {
	if [ -z "$1" ]; then
		dm_not_ok "$3" "nothing to check (empty)"
	elif [[ "$1" == *"$2"* ]]; then
		dm_not_ok "$3" "unexpected: $2" "in: ${1:0:600}"
	else
		dm_ok "$3"
	fi
}

# assert_no_header FILE NAME MSG: FILE is a non-empty mail without header NAME.
assert_no_header() {
	if [ ! -s "$1" ]; then
		dm_not_ok "$3" "no mail to check"
	else
		assert_eq "" "$(dm_maildump "$1" header "$2")" "$3"
	fi
}
