#!/bin/bash
# attachments.sh - attachments on real PostgreSQL and SMTP (pipe mode):
# the per-attachment and per-message caps and the attachment-refused
# notice, `deskmail attachment get`, storing the same content once, a staff
# reply's attachment relayed to the client, and notifications with and
# without attachments (desk.notify_attachments).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
. "$here/../lib/convo.sh"
dm_servers_start
CAPS="attachment_max_bytes = 2000; message_attachments_max_bytes = 3000;"
DM_DESK_EXTRA=$CAPS dm_write_conf
dm_fixture
# this suite's fixture has sam on the 1st line (dm_fixture may put him elsewhere)
dm_psql -c "update staff set line = 1 where email = 'sam@agency.example'"
dm staff add jo@agency.example --name "Jo Junior" --role junior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W"
AL=alice@acme.example SE=sam@agency.example

mkbin() { head -c "$2" /dev/urandom >"$W/$1"; }     # NAME SIZE: random bytes
sha() { sha256sum "$1" | cut -c1-64; }             # FILE: hex sha256
# blobs_with FILE: how many blob rows hold exactly FILE's bytes
blobs_with() { dm_sql_count "blob where sha256(data) = decode('$(sha "$1")', 'hex')"; }
# att JQ-FILTER on the attachments of ticket $1's incoming messages, flattened
atts() { dm_ticket_json "$1" "[.messages[] | select(.direction == \"in\") | .attachments[]] | $2"; }
# id of the stored or refused attachment named $2 on ticket $1 (first one)
att_id() { atts "$1" "map(select(.filename == \"$2\")) | .[0].id // empty"; }
raw_of() { # ID NAME: outbox row ID into $W/NAME.eml (empty if no ID); prints the path
	if [ -n "$1" ]; then dm_outbox_raw "$1" "$W/$2.eml"; else : >"$W/$2.eml"; fi
	echo "$W/$2.eml"
}

mkbin a.bin 1000
mkbin b.bin 2500
mkbin c1.bin 1200
mkbin c2.bin 1200
mkbin c3.bin 1200

# ---------------------------------------------------------------------------
# 1. per-attachment cap: a is stored, b (over 2000 bytes) refused with a notice
dm_mail_att "$W/m1" 'Alice Archer <alice@acme.example>' 'Scanner output garbled' \
	'Two sample files from the scanner are attached.' "$W/a.bin" "$W/b.bin"
out=$(dm ingest "$W/m1")
t1=$(dm_new_id "$out")
assert_true "a mail with attachments opens a ticket (got: $out)" test -n "$t1"
t1=${t1:-0}
assert_eq "2" "$(atts "$t1" length)" "both attachments are recorded"
assert_eq '["a.bin",1000,null,"application/octet-stream"]' \
	"$(atts "$t1" 'map(select(.filename == "a.bin"))[0] | [.filename, .size, .refused, .content_type] | tojson')" \
	"a.bin stored: size 1000, not refused, content type kept"
assert_eq '["b.bin",2500]' "$(atts "$t1" 'map(select(.filename == "b.bin"))[0] | [.filename, .size] | tojson')" \
	"b.bin recorded with its size 2500"
assert_eq "true" "$(atts "$t1" 'map(select(.filename == "b.bin"))[0].refused | type == "string" and length > 0')" \
	"b.bin is refused with a reason"
assert_eq "1" "$(blobs_with "$W/a.bin")" "a.bin's bytes are stored"
assert_eq "0" "$(blobs_with "$W/b.bin")" "b.bin's bytes are not stored"
assert_eq "1" "$(dm_outbox_count attachment-refused "$t1" "$AL")" "one attachment-refused notice to the sender"
assert_eq "1" "$(dm_outbox_count attachment-refused "$t1")" "... and to nobody else"
r=$(raw_of "$(dm_outbox_last attachment-refused "$t1" "$AL")" refused-1)
assert_contains "$(dm_maildump "$r" text)" "b.bin" "the notice names b.bin"
assert_contains "$(dm_maildump "$r" header From)" "support@agency.example" "the notice comes from the desk"
assert_contains "$(dm_maildump "$r" header To)" "$AL" "the notice is addressed to the sender"

# notifications carry no attachments by default
n=$(raw_of "$(dm_outbox_last notify-new "$t1" "$SE")" notify-plain)
assert_true "a notify-new to sam was queued" test -s "$n"
assert_contains "$(dm_maildump "$n" text)" "Two sample files from the scanner" "it is the notification of this mail"
assert_eq "0" "$( [ -s "$n" ] && dm_maildump "$n" files | wc -l || echo "no notification")" \
	"by default the notification has no part with a file name"

# ---------------------------------------------------------------------------
# 2. per-message cap: three files of 1200 bytes, the third goes over 3000
dm_mail_att "$W/m2" 'bob@acme.example' 'Three log files' 'Logs from the three web servers.' \
	"$W/c1.bin" "$W/c2.bin" "$W/c3.bin"
out=$(dm ingest "$W/m2")
t2=$(dm_new_id "$out")
assert_true "the mail with three files opens a ticket (got: $out)" test -n "$t2"
t2=${t2:-0}
assert_eq '[["c1.bin",1200,false],["c2.bin",1200,false],["c3.bin",1200,true]]' \
	"$(atts "$t2" 'sort_by(.filename) | map([.filename, .size, (.refused != null)]) | tojson')" \
	"c1 and c2 stored, c3 refused by the per-message cap"
assert_eq "1" "$(blobs_with "$W/c2.bin")" "c2.bin's bytes are stored"
assert_eq "0" "$(blobs_with "$W/c3.bin")" "c3.bin's bytes are not stored"
assert_eq "1" "$(dm_outbox_count attachment-refused "$t2" bob@acme.example)" "attachment-refused notice to bob"
r=$(raw_of "$(dm_outbox_last attachment-refused "$t2" bob@acme.example)" refused-2)
assert_contains "$(dm_maildump "$r" text)" "c3.bin" "the notice names c3.bin"

# ---------------------------------------------------------------------------
# 3. deskmail attachment get
aid=$(att_id "$t1" a.bin)
bid=$(att_id "$t1" b.bin)
c2id=$(att_id "$t2" c2.bin)
assert_true "a.bin has an attachment id" test -n "$aid"
dm attachment get "${aid:-0}" -o "$W/a.out"
assert_eq "0" "$?" "attachment get -o exits 0"
assert_true "attachment get -o writes the exact bytes" cmp "$W/a.bin" "$W/a.out"
dm attachment get "${aid:-0}" >"$W/a.stdout"
assert_eq "0" "$?" "attachment get to stdout exits 0"
assert_true "attachment get writes the exact bytes to stdout" cmp "$W/a.bin" "$W/a.stdout"
dm attachment get "${c2id:-0}" -o "$W/c2.out"
assert_true "the second attachment of a message comes back exactly" cmp "$W/c2.bin" "$W/c2.out"
assert_true "b.bin has an attachment id" test -n "$bid"
dm attachment get "${bid:-0}" >"$W/b.stdout" 2>"$W/b.err"
rc=$?
assert_true "attachment get of a refused attachment exits non-zero (rc $rc)" test "$rc" -ne 0
assert_true "... with a message on stderr" test -s "$W/b.err"
assert_lacks "$(cat "$W/b.err")" "usage" "... about the attachment, not a usage error"
assert_true "... and nothing on stdout" test ! -s "$W/b.stdout"
dm attachment get 999999 -o "$W/missing.out" 2>"$W/missing.err"
rc=$?
assert_true "attachment get of a missing id exits non-zero (rc $rc)" test "$rc" -ne 0
assert_true "... with a message on stderr" test -s "$W/missing.err"
assert_lacks "$(cat "$W/missing.err")" "usage" "... about the id, not a usage error"

# ---------------------------------------------------------------------------
# 4. the same content in two mails is stored once
blobs=$(dm_sql_count blob)
dm_mail_att "$W/m3" 'alice@acme.example' "Re: [#$t1] Scanner output garbled" 'The same sample again, sorry.' "$W/a.bin"
assert_eq "reply #$t1" "$(dm ingest "$W/m3")" "a reply with the same file joins the ticket"
cp "$W/a.bin" "$W/renamed.bin"
dm_mail_att "$W/m4" 'carol@globex.example' 'Strange file on our server' 'Found this file, is it yours?' "$W/renamed.bin"
out=$(dm ingest "$W/m4")
t3=$(dm_new_id "$out")
t3=${t3:-0}
assert_eq "2" "$(atts "$t1" 'map(select(.filename == "a.bin" and .refused == null)) | length')" "a.bin is an attachment of both of alice's mails"
assert_eq "1" "$(atts "$t3" 'map(select(.filename == "renamed.bin" and .refused == null)) | length')" "the copy under another name is an attachment of carol's ticket"
assert_eq "$blobs" "$(dm_sql_count blob)" "no new blob for the same content"
assert_eq "1" "$(blobs_with "$W/a.bin")" "the content is stored once"
rid=$(att_id "$t3" renamed.bin)
dm attachment get "${rid:-0}" -o "$W/renamed.out"
assert_true "the shared content comes back exactly" cmp "$W/a.bin" "$W/renamed.out"

# ---------------------------------------------------------------------------
# 5. a staff reply's attachment is relayed to the client
mkbin patch.bin 1500
dm_mail_att "$W/s1" 'Sam Senior <sam@agency.example>' "Re: [#$t1] Scanner output garbled" \
	'Hello Alice, the attached driver patch fixes the garbled output.' "$W/patch.bin"
assert_eq "reply #$t1" "$(dm ingest "$W/s1")" "the staff reply with a file joins the ticket"
assert_eq "1" "$(dm_ticket_json "$t1" "[.messages[] | select(.from == \"$SE\") | .attachments[] | select(.filename == \"patch.bin\" and .refused == null)] | length")" \
	"the staff mail's attachment is stored"
rid=$(dm_outbox_last relay "$t1" "$AL")
assert_true "a relay to alice was queued" test -n "$rid"
rmid=$(dm_psql -c "select message_id from outbox where id = ${rid:-0}")
out=$(dm send)
assert_contains "$out" "failed 0" "send delivers everything"
sink=$(dm_smtp_by_msgid "$rmid")
assert_true "the relay reached the SMTP server" test -n "$sink"
[ -n "$sink" ] || sink=/dev/null
assert_contains "$(cat "${sink%.eml}.env" 2>/dev/null)" "$AL" "the relay went to alice"
assert_contains "$(dm_maildump "$sink" text)" "the attached driver patch fixes" "the relay carries the staff text"
assert_eq "patch.bin 1500 $(sha "$W/patch.bin")" "$(dm_maildump "$sink" files)" "the relay carries patch.bin, and only it"
dm_maildump "$sink" file patch.bin >"$W/patch.relayed"
assert_true "the relayed file decodes to the same bytes" cmp "$W/patch.bin" "$W/patch.relayed"
assert_true "the file name is a MIME parameter of the part" grep -Eqi '(file)?name\*?=("?)patch\.bin' "$sink"
assert_contains "$(cat "$sink")" "[#$t1]" "the relay received carries [#$t1]"

# a staff attachment over the cap is not relayed, and the staff member is told
mkbin huge.bin 2600
dm_mail_att "$W/s2" 'Sam Senior <sam@agency.example>' "Re: [#$t1] Scanner output garbled" \
	'Here is the full log as well.' "$W/huge.bin"
assert_eq "reply #$t1" "$(dm ingest "$W/s2")" "the staff reply with a too large file joins the ticket"
rid=$(dm_outbox_last relay "$t1" "$AL")
assert_true "its text is relayed" test -n "$rid"
raw=$(dm_psql -c "select convert_from(raw, 'UTF8') from outbox where id = ${rid:-0}")
assert_true "without the refused file" bash -c '! grep -q huge.bin <<<"$1"' _ "$raw"
cid=$(dm_outbox_last command-error "$t1" "$SE")
assert_true "the staff member gets a mail about it" test -n "$cid"
assert_contains "$(dm_psql -c "select convert_from(raw, 'UTF8') from outbox where id = ${cid:-0}")" "huge.bin" "naming the file"

# ---------------------------------------------------------------------------
# 6. notify_attachments = true: notifications carry the stored files
DM_DESK_EXTRA="$CAPS notify_attachments = true;" dm_write_conf
mkbin d.bin 800
mkbin e.bin 2100
mkbin f.bin 600
dm_mail_att "$W/m5" 'alice@acme.example' 'Invoice PDF will not open' 'The invoice and a big scan are attached.' \
	"$W/d.bin:application/pdf" "$W/e.bin"
out=$(dm ingest "$W/m5")
t4=$(dm_new_id "$out")
assert_true "the mail opens a ticket (got: $out)" test -n "$t4"
t4=${t4:-0}
assert_eq "application/pdf" "$(atts "$t4" 'map(select(.filename == "d.bin"))[0].content_type')" "d.bin keeps its content type"
n=$(raw_of "$(dm_outbox_last notify-new "$t4" "$SE")" notify-att)
assert_contains "$(dm_maildump "$n" text)" "The invoice and a big scan" "it is the notification of this mail"
assert_eq "d.bin 800 $(sha "$W/d.bin")" "$(dm_maildump "$n" files)" \
	"with notify_attachments the notify-new carries the stored file (not the refused one)"
n=$(raw_of "$(dm_outbox_last notify-new "$t4" jo@agency.example)" notify-att-jo)
assert_contains "$(dm_maildump "$n" files)" "d.bin 800 $(sha "$W/d.bin")" "... to every recipient"
dm_mail_att "$W/m6" 'alice@acme.example' "Re: [#$t4] Invoice PDF will not open" 'One more file.' "$W/f.bin"
assert_eq "reply #$t4" "$(dm ingest "$W/m6")" "a reply with a file joins the ticket"
n=$(raw_of "$(dm_outbox_last notify-reply "$t4" "$SE")" notify-reply-att)
assert_contains "$(dm_maildump "$n" text)" "One more file." "it is the notification of the reply"
assert_eq "f.bin 600 $(sha "$W/f.bin")" "$(dm_maildump "$n" files)" "notify-reply carries the reply's file"
out=$(dm send)
assert_contains "$out" "failed 0" "the notifications with files are sent"
sink=$(dm_smtp_by_msgid "$(dm_psql -c "select message_id from outbox where kind = 'notify-reply' and ticket_id = $t4 and rcpt = '$SE'")")
assert_true "the notify-reply reached the SMTP server" test -n "$sink"
[ -n "$sink" ] || sink=/dev/null
assert_eq "f.bin 600 $(sha "$W/f.bin")" "$(dm_maildump "$sink" files)" "the received notification carries f.bin intact"
dm_done
