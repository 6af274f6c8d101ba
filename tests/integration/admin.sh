#!/bin/bash
# admin.sh - configuration checks, migrations and the administration
# commands against a real PostgreSQL.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
. "$here/../lib/mail.sh"
dm_servers_start
dm_write_conf
W=$DM_TEST_DIR/work
mkdir -p "$W"

out=$(dm check-config); rc=$?
assert_eq 0 "$rc" "check-config accepts the test configuration"
assert_contains "$out" "OK" "check-config says OK"
assert_contains "$out" "imap.poll_interval = 1" "check-config prints effective settings"
assert_true "check-config does not print the password" bash -c "! grep -q secret <<<'$out'"
# no auth group: a warning on stderr, and still OK
err=$(dm check-config 2>&1 >/dev/null); rc=$?
assert_eq 0 "$rc" "check-config passes without an auth group"
assert_contains "$err" "deskmail: warning: no auth group: anyone can write as staff or as a client contact (set auth.require and auth.staff_require)" \
	"check-config warns that without an auth group anyone can write as a contact or staff"
cp "$DM_CONF" "$W/auth.conf"
printf 'auth = { trusted_authserv_id = "mx.agency.example"; require = "aligned"; };\n' >>"$W/auth.conf"
out=$("$DESKMAIL" -c "$W/auth.conf" check-config 2>"$W/auth.err"); rc=$?
assert_eq 0 "$rc" "check-config accepts an auth group"
assert_eq "" "$(grep -v 'no calendars' "$W/auth.err")" "and does not warn then of auth"
assert_contains "$err" "deskmail: warning: no calendars: working time is Monday to Friday, 09:00-17:00 UTC" \
	"without calendars check-config says which working time counts"
assert_contains "$out" 'auth.staff_require = "aligned"' "check-config prints the effective staff requirement"
cp "$DM_CONF" "$W/auth-bad.conf"
printf 'auth = { require = "dmarc"; };\n' >>"$W/auth-bad.conf"
out=$("$DESKMAIL" -c "$W/auth-bad.conf" check-config 2>&1); rc=$?
assert_eq 78 "$rc" "a requirement without a trusted authserv-id is a configuration error"
assert_contains "$out" "auth-bad.conf:$(wc -l <"$W/auth-bad.conf"): setting 'auth.require'" "naming the file and line"
cp "$DM_CONF" "$W/bad.conf"
printf "imap_typo = 1;\n" >>"$W/bad.conf"
badline=$(wc -l <"$W/bad.conf")
out=$("$DESKMAIL" -c "$W/bad.conf" check-config 2>&1); rc=$?
assert_eq 78 "$rc" "an unknown key is a configuration error (EX_CONFIG)"
assert_contains "$out" "bad.conf:$badline" "the error names the file and line"
DESKMAIL_CONFIG=$DM_CONF "$DESKMAIL" check-config >/dev/null; rc=$?
assert_eq 0 "$rc" "DESKMAIL_CONFIG names the configuration"
mkdir -p "$W/tpl"
cp "$DM_SRCDIR/conf/templates/"* "$W/tpl/"
printf 'Subject: [#{{ticket.id}}] {{ticket.subjekt}}\n\nhello\n' >"$W/tpl/ack.txt"
sed "s|templates = \"[^\"]*\"|templates = \"$W/tpl\"|" "$DM_CONF" >"$W/tpl.conf"
out=$("$DESKMAIL" -c "$W/tpl.conf" check-config 2>&1); rc=$?
assert_eq 78 "$rc" "a template with an unknown placeholder fails check-config"
assert_contains "$out" "ticket.subjekt" "the error names the placeholder"

# migrations: every file of sql/, once
nmig=$(ls "$DM_REPO_DIR"/sql/[0-9]*_*.sql | wc -l)
assert_true "there are migrations ($nmig)" test "$nmig" -ge 2
assert_eq "$nmig migration(s) applied" "$(dm migrate)" "migrate applies the schema"
assert_eq "0 migration(s) applied" "$(dm migrate)" "migrate again applies nothing"
assert_eq "$nmig" "$(dm_psql -c 'select count(*) from schema_migrations')" "each migration recorded once"
assert_eq "$(ls "$DM_REPO_DIR"/sql/[0-9]*_*.sql | sed 's|.*/||; s|_.*||; s|^0*||' | sort -n | tr '\n' ' ')" \
	"$(dm_psql -c 'select version from schema_migrations order by version' | tr '\n' ' ')" "in order of their numbers"

# clients
assert_contains "$(dm client add 'Acme Ltd' --plan silver)" "Acme Ltd" "client add"
dm client add 'ACME LTD' --plan silver >/dev/null 2>&1; rc=$?
assert_eq 65 "$rc" "a client name is unique, case-insensitively"
out=$(dm client add 'Initech' --plan platinum 2>&1); rc=$?
assert_eq 65 "$rc" "a plan must exist in the configuration"
assert_contains "$out" "platinum" "the error names the plan"
dm client add 'Globex' --plan hosting >/dev/null
assert_eq "Acme Ltd,Globex" "$(dm client list --json | jq -r 'map(.name) | join(",")')" "client list --json"
assert_eq "2" "$(dm client list | wc -l)" "client list as text"

# contacts
dm contact add 'acme ltd' Alice@ACME.example --name 'Alice Archer' >/dev/null; rc=$?
assert_eq 0 "$rc" "contact add (client name case-insensitive)"
assert_eq "alice@acme.example" "$(dm contact list 'Acme Ltd' --json | jq -r '.[0].email')" "addresses stored lower-case"
assert_eq "Alice Archer" "$(dm contact list --json | jq -r '.[0].name')" "contact name kept"
dm contact add 'Acme Ltd' alice@acme.example >/dev/null 2>&1; rc=$?
assert_eq 65 "$rc" "the same address twice is refused"
dm contact add Globex ALICE@acme.example >/dev/null 2>&1; rc=$?
assert_eq 65 "$rc" "an address belongs to one client at a time"
dm contact add 'Acme Ltd' bob@acme.example >/dev/null
out=$(dm contact add 'Acme Ltd' third@acme.example 2>&1); rc=$?
assert_eq 65 "$rc" "silver allows two named contacts"
assert_contains "$out" "at most 2" "the error says the plan's limit"
dm contact add 'Acme Ltd' 'not an address' >/dev/null 2>&1; rc=$?
assert_eq 65 "$rc" "an invalid address is refused"
dm contact add 'Nobody Inc' x@nobody.example >/dev/null 2>&1; rc=$?
assert_eq 1 "$rc" "an unknown client is not found"
assert_eq "2" "$(dm contact list 'Acme Ltd' | wc -l)" "contact list CLIENT"
dm contact remove 'Acme Ltd' BOB@acme.example >/dev/null; rc=$?
assert_eq 0 "$rc" "contact remove (case-insensitive)"
assert_eq "alice@acme.example" "$(dm contact list 'Acme Ltd' --json | jq -r 'map(.email) | join(",")')" "removed contact is gone from the list"
dm contact remove 'Acme Ltd' bob@acme.example >/dev/null 2>&1; rc=$?
assert_eq 1 "$rc" "removing a non-contact is not found"
dm contact add Globex bob@acme.example >/dev/null; rc=$?
assert_eq 0 "$rc" "a removed contact's address can join another client"

# a removed contact's mail is quarantined
dm_mail "$W/m1" 'carol@globex.example' 'x' 'y'
assert_eq "quarantined" "$(dm ingest "$W/m1")" "mail from a non-contact is quarantined"

# staff
assert_contains "$(dm staff add Sam@Agency.example --name 'Sam Senior' --role senior-engineer --line 2)" "sam@agency.example" "staff add"
out=$(dm staff add jo@agency.example --name 'Jo' --role intern 2>&1); rc=$?
assert_eq 64 "$rc" "unknown role refused (a usage error: the roles are a closed list)"
assert_contains "$out" "'intern' is not one of account-manager" "naming the roles"
dm staff add jo@agency.example --name 'Jo' --role junior-engineer --line 4 >/dev/null 2>&1; rc=$?
assert_eq 64 "$rc" "line must be 1-3 (a usage error)"
dm staff add jo@agency.example --name 'Jo' --role junior-engineer >/dev/null
dm staff add sam@agency.example --name 'Sam' --role account-manager >/dev/null 2>&1; rc=$?
assert_eq 65 "$rc" "staff address unique"
sj=$(dm staff list --json)
assert_eq "2" "$(jq length <<<"$sj")" "staff list --json"
assert_eq "senior-engineer/2,junior-engineer/1" "$(jq -r 'map(.role + "/" + (.line|tostring)) | join(",")' <<<"$sj")" "roles and lines stored (default line 1)"
dm staff add am@agency.example --name 'Ann Manager' --role account-manager >/dev/null
dm client set 'Acme Ltd' --account-manager AM@agency.example >/dev/null; rc=$?
assert_eq 0 "$rc" "client set --account-manager"
assert_eq "am@agency.example" "$(dm client list --json | jq -r '.[0].account_manager')" "account manager recorded"
assert_true "administration changes are audited" test "$(dm_psql -c "select count(*) from event where kind like 'contact-%'")" -ge 4

# a templates folder from an older version (only ack and quarantine): the
# newer templates come from deskmail's own, with a notice
old=$DM_TEST_DIR/old-templates
mkdir -p "$old"
cp "$DM_REPO_DIR"/conf/templates/ack.* "$DM_REPO_DIR"/conf/templates/quarantine.* "$old"/
sed "s|templates = \"[^\"]*\"|templates = \"$old\"|" "$DM_CONF" >"$DM_TEST_DIR/old.conf"
out=$("$DESKMAIL" -c "$DM_TEST_DIR/old.conf" check-config 2>&1); rc=$?
assert_eq 0 "$rc" "check-config passes with an older templates folder"
assert_contains "$out" "templates not in $old, taken from deskmail's own: notify" "and says which templates it took from deskmail's own"
out=$("$DESKMAIL" -c "$DM_TEST_DIR/old.conf" ticket list 2>&1); rc=$?
assert_eq 0 "$rc" "deskmail runs with it"
# a template missing everywhere is still an error naming it
sed "s|templates = \"[^\"]*\"|templates = \"$DM_TEST_DIR/none\"|" "$DM_CONF" >"$DM_TEST_DIR/none.conf"
mkdir -p "$DM_TEST_DIR/none"
printf 'Subject: x\n\n{{nonsense}}\n' >"$DM_TEST_DIR/none/ack.txt"
out=$("$DESKMAIL" -c "$DM_TEST_DIR/none.conf" check-config 2>&1); rc=$?
assert_eq 78 "$rc" "a broken template of the operator's is a configuration error (no silent fallback)"
assert_contains "$out" "nonsense" "naming the placeholder"

dm bogus >/dev/null 2>&1; rc=$?
assert_eq 64 "$rc" "an unknown command is a usage error"
dm_done
