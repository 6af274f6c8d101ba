#!/bin/bash
# poison.sh - hostile mail of many kinds in one mailbox, each followed by a
# normal mail, through `poll` on real servers (PostgreSQL, Dovecot, SMTP):
# no crash, the mailbox never stops, every mail is kept (a ticket, or the
# quarantine with a reason), and the normal mails all become tickets.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
dm_write_conf
dm_fixture
W=$DM_TEST_DIR/work
mkdir -p "$W/p"
py() { "$DM_PYTHON" - "$@"; }

# each poison mail is written by Python (bytes no shell quoting can hold)
py "$W/p" <<'PY'
import os, sys
d = sys.argv[1]
def w(name, data):
    open(os.path.join(d, name), "wb").write(data)
H = b"From: alice@acme.example\r\nTo: support@agency.example\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
# nesting far past the limit
body = b""
for i in range(200):
    body += b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
w("01-deep", H + b"Subject: deep\r\nMessage-ID: <deep@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + body)
# a header line of 2 MB, and 5,000 header fields
w("02-longline", H + b"Subject: " + b"A" * 2_000_000 + b"\r\nMessage-ID: <long@x>\r\n\r\nx\r\n")
w("03-fields", H + b"Subject: fields\r\n" + b"".join(b"X-F%d: v\r\n" % i for i in range(5000)) + b"\r\nx\r\n")
# 50,000 recipients, an id of 5,000 characters, References of 20,000 ids
w("04-rcpts", H.replace(b"To: support@agency.example", b"To: " + b", ".join(b"u%d@x.example" % i for i in range(50000))) + b"Subject: rcpts\r\n\r\nx\r\n")
w("05-ids", H + b"Subject: ids\r\nMessage-ID: <" + b"i" * 5000 + b"@x>\r\nReferences: " + b" ".join(b"<r%d@x>" % i for i in range(20000)) + b"\r\n\r\nx\r\n")
# NUL bytes, a bogus charset, 8-bit garbage in headers, CR alone
w("06-nul", H + b"Subject: nul\x00here\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nab\x00cd\xff\xfe\r\n")
w("07-8bit", b"From: \xe9\xe8\xff <alice@acme.example>\r\nSubject: \xc3\x28\xa0\xa1\r\nTo: support@agency.example\r\n\r\n\x80\x81\r\n")
w("08-cr", H.replace(b"\r\n", b"\r") + b"Subject: cr\r\rbody\r")
# an encoded-word subject of 1 MB, and CR/LF hidden in encoded words
w("09-ew", H + b"Subject: " + b" ".join([b"=?utf-8?b?QUFBQUFBQUFBQUFB?="] * 60000) + b"\r\n\r\nx\r\n")
w("10-inject", H + b"Subject: =?utf-8?q?Hi=0D=0ABcc:_evil@evil.example?=\r\nMessage-ID: <inj@x>\r\n\r\nx\r\n")
# base64 that is not, a boundary that never ends, a part bomb
w("11-b64", H + b"Subject: b64\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b"!!!!****" * 10000 + b"\r\n")
w("12-parts", H + b"Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n" + b"--q\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 20000 + b"--q--\r\n")
# no header at all, only a body; an empty From; From is our own address
w("13-nohead", b"\r\n\r\njust text\r\n")
w("14-nofrom", b"From: \r\nSubject: nofrom\r\n\r\nx\r\n")
w("15-self", b"From: support@agency.example\r\nSubject: self\r\nMessage-ID: <self@x>\r\n\r\nx\r\n")
# an HTML body built to make a parser work: deep tags, many entities
w("16-html", H + b"Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n" + b"<div>" * 100000 + b"&amp;" * 100000 + b"\r\n")
# a 5 MB attachment in quoted-printable with a soft break on every byte
w("17-qp", H + b"Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--q\r\nContent-Type: application/octet-stream; name=f.bin\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + b"A=\r\n" * 1_300_000 + b"--q--\r\n")
# a staff member's mail with 10,000 command lines
w("18-cmds", b"From: sam@agency.example\r\nSubject: Re: [#1] cmds\r\n\r\n" + b"#status open\r\n" * 10000 + b"\r\ntext\r\n")
PY
n=0
for f in "$W"/p/*; do
	n=$((n + 1))
	dm_mail "$W/ok$n" 'carol@globex.example' "Normal request $n" "A normal request after $(basename "$f")."
	dm_deliver "$f" "$W/ok$n"
done
out=$(dm poll 2>"$W/poll.err"); rc=$?
assert_eq 0 "$rc" "poll over $n hostile mails exits 0"
assert_true "no sanitizer report or crash" bash -c "! grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' '$W/poll.err'"
total=$(dm_psql -c "select count(*) from inbound")
assert_eq $((2 * n)) "$total" "every mail is stored ($((2 * n)))"
assert_eq "$n" "$(dm_psql -c "select count(*) from ticket where subject like 'Normal request %'")" "every normal mail after a hostile one is a ticket"
assert_eq 0 "$(dm_psql -c 'select count(*) from mailbox_seen where not marked')" "all are marked on the server"
assert_eq 0 "$(dm_psql -c "select count(*) from quarantine where reason = '' or reason is null")" "every quarantined one has a reason"
assert_eq "fetched 0: 0 new ticket(s), 0 repl(ies), 0 quarantined, 0 duplicate(s)" "$(dm poll 2>/dev/null)" "nothing is taken twice"
dm send >/dev/null 2>"$W/send.err"
assert_true "send has no sanitizer report" bash -c "! grep -q 'runtime error\|AddressSanitizer' '$W/send.err'"
assert_true "no injected header reached the SMTP server" bash -c "! grep -qi '^Bcc:' $DM_SMTP_OUT/*.eml"
big=$(find "$DM_SMTP_OUT" -name '*.eml' -size +200k | wc -l)
assert_eq 0 "$big" "no outgoing mail over 200 KB (subjects and texts are capped)"
# the same through the pipe (a line added at the end, so none is a
# duplicate): each exits 0 (stored) or 65 (refused outright)
bad=0 dups=0
for f in "$W"/p/*; do
	{ cat "$f"; printf '\r\npiped\r\n'; } >"$W/piped"
	out=$(dm ingest "$W/piped" 2>"$W/pipe.err"); rc=$?
	[ "$out" = duplicate ] && dups=$((dups + 1))
	if { [ "$rc" -ne 0 ] && [ "$rc" -ne 65 ]; } || grep -q 'runtime error\|AddressSanitizer' "$W/pipe.err"; then
		bad=$((bad + 1)); echo "# $(basename "$f"): rc=$rc $(head -c 300 "$W/pipe.err")"
	fi
done
assert_eq 0 "$bad" "pipe: every hostile mail is stored or refused with 65"
assert_eq 0 "$dups" "and each was taken in afresh, not as a duplicate"
dm_done
