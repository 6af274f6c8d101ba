#!/bin/bash
# install.sh - `meson install` into a staging root, as a packager or an
# administrator would run it (DESTDIR), and what is found there: the binary,
# the migrations and templates in share/deskmail, the example configuration
# where the binary reads it, man pages that format without warnings and
# cover every command and setting, systemd units that systemd-analyze
# accepts, the sysusers.d entry, the crontab example.  Then the staged
# installation runs (check-config, and migrate against a real PostgreSQL)
# with DESKMAIL_DATADIR pointing at the staged share folder, and a second
# install keeps the operator's edited configuration and templates.
# Finally a build folder set up with --prefix=/usr (not built) shows the
# paths for a Debian-style install.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/servers.sh"
: "${DM_BUILDDIR:?}" "${DM_MESON:?}"
export DESKMAIL_ALLOW_ROOT=1   # the tests run as root in CI

DM_TEST_DIR=$(mktemp -d /tmp/dmtest.XXXXXX)
chmod 755 "$DM_TEST_DIR"
DM_SERVER_USER=${DM_SERVER_USER:-postgres}
[ "$(id -u)" -ne 0 ] && DM_SERVER_USER=$(id -un)
DM_PG_PORT=$(dm_free_port)
export DM_TEST_DIR DM_PG_PORT
trap dm_servers_stop EXIT

opt() { # NAME: a meson option of the build folder
	"$DM_MESON" introspect --buildoptions "$DM_BUILDDIR" | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'
}
under() { # PREFIX DIR: DIR under PREFIX unless it is absolute, as meson joins them
	case $2 in /*) echo "$2" ;; *) echo "$1/$2" ;; esac
}
prefix=$(opt prefix)
bindir=$(under "$prefix" "$(opt bindir)")
datadir=$(under "$prefix" "$(opt datadir)")
mandir=$(under "$prefix" "$(opt mandir)")
sysconfdir=$(opt sysconfdir)
case "$prefix:$sysconfdir" in
/usr:* | /usr/local:etc) confdir=/etc/deskmail ;;
*) confdir=$(under "$prefix" "$sysconfdir")/deskmail ;;
esac
S=$DM_TEST_DIR/stage
lacks() { ! grep -qF -- "$2" <<<"$1"; }       # HAYSTACK NEEDLE
lacks_word() { ! grep -qwF -- "$2" <<<"$1"; } # HAYSTACK WORD
install_staged() {
	DESTDIR=$S "$DM_MESON" install -C "$DM_BUILDDIR" --no-rebuild --quiet >"$DM_TEST_DIR/install.log" 2>&1
}

# ---- the first install ----
install_staged; rc=$?
assert_eq 0 "$rc" "DESTDIR=staging meson install succeeds"
[ "$rc" -eq 0 ] || cat "$DM_TEST_DIR/install.log"
bin=$S$bindir/deskmail
share=$S$datadir/deskmail
etc=$S$confdir
assert_true "the binary is in bin/ ($bindir)" test -x "$bin"

nsql=$(ls "$DM_SRCDIR"/sql/*.sql | wc -l)
same=0
for f in "$DM_SRCDIR"/sql/*.sql; do cmp -s "$f" "$share/sql/${f##*/}" && same=$((same + 1)); done
assert_eq "$nsql" "$same" "every migration is in share/deskmail/sql"
ntpl=$(ls "$DM_SRCDIR"/conf/templates/ | wc -l)
same=0
for f in "$DM_SRCDIR"/conf/templates/*; do cmp -s "$f" "$share/templates/${f##*/}" && same=$((same + 1)); done
assert_true "there are templates ($ntpl)" test "$ntpl" -ge 8
assert_eq "$ntpl" "$same" "every default template is in share/deskmail/templates"

assert_true "the example configuration is $confdir/deskmail.conf" cmp "$DM_SRCDIR/conf/deskmail.conf" "$etc/deskmail.conf"
assert_eq 640 "$(stat -c %a "$etc/deskmail.conf")" "deskmail.conf is not readable by others (0640)"
assert_true "no deskmail.conf.example on a first install" test ! -e "$etc/deskmail.conf.example"
assert_true "the binary reads $confdir/deskmail.conf by default" grep -qaF "$confdir/deskmail.conf" "$bin"
assert_true "$confdir/templates is made for the operator's changed templates" test -d "$etc/templates"
assert_eq "" "$(ls -A "$etc/templates")" "and nothing is installed into it"

# ---- man pages ----
man8=$S$mandir/man8/deskmail.8
man5=$S$mandir/man5/deskmail.conf.5
assert_true "deskmail(8) is in share/man/man8" test -s "$man8"
assert_true "deskmail.conf(5) is in share/man/man5" test -s "$man5"
for page in "$man8" "$man5"; do
	warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
	assert_eq "" "$warn" "${page##*/} formats with groff -ww without a warning"
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	assert_eq "" "$warn" "man -l ${page##*/} gives no warning"
	assert_eq "" "$(grep -oE '@[A-Z_]+@' "$page" | sort -u | tr '\n' ' ')" "${page##*/}: every @PATH@ is filled in"
done
text8=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$man8" 2>/dev/null)
text5=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$man5" 2>/dev/null)
assert_contains "$text8" "$confdir/deskmail.conf" "deskmail(8) names the configuration the binary reads"
assert_contains "$text5" "$datadir/deskmail/templates" "deskmail.conf(5) names the installed templates folder"
# every command of the usage is a term of deskmail(8)
missing=
for cmd in $("$DESKMAIL" --help 2>&1 | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u); do
	grep -qE "^ {7}$cmd( |$)" <<<"$text8" || missing+="$cmd "
done
assert_eq "" "$missing" "deskmail(8) documents every command of the usage"
for word in "check-config [-n] [--connect]" "outbox list" "outbox retry" "outbox drop" "stats [--json]" \
	"purge --older-than" "--allow-root" "DESKMAIL_ALLOW_ROOT" "DESKMAIL_DATADIR" "SIGHUP" "-q, --quiet"; do
	assert_contains "$text8" "$word" "deskmail(8) documents $word"
done
for code in 0 1 64 65 70 75 77 78; do
	grep -qE "^ {7}$code( |$)" <<<"$text8" || missing+="$code "
done
assert_eq "" "$missing" "deskmail(8) explains every exit status"

# ---- systemd units, sysusers.d, crontab ----
unitdir=$S$prefix/lib/systemd/system
for u in deskmail.service deskmail-escalate.service deskmail-escalate.timer \
	deskmail-digest.service deskmail-digest.timer; do
	assert_true "$u is in $prefix/lib/systemd/system" test -s "$unitdir/$u"
done
svc=$(cat "$unitdir/deskmail.service" 2>/dev/null)
assert_contains "$svc" "ExecStart=$bindir/deskmail -c $confdir/deskmail.conf run" "deskmail.service runs the installed binary with the installed configuration"
for key in "User=deskmail" "Restart=on-failure" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
	"NoNewPrivileges=yes" "CapabilityBoundingSet=" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
	"ExecReload=/bin/kill -HUP \$MAINPID"; do
	assert_true "deskmail.service: $key" grep -qxF "$key" "$unitdir/deskmail.service"
done
prevent=" $(sed -n 's/^RestartPreventExitStatus=//p' "$unitdir/deskmail.service") "
assert_true "a refused login (77) and a configuration error (78) do not restart the daemon" \
	bash -c "[[ '$prevent' == *' 77 '* && '$prevent' == *' 78 '* && '$prevent' != *' 75 '* ]]"
for w in escalate digest; do
	f=$unitdir/deskmail-$w.service
	assert_true "deskmail-$w.service runs as deskmail, quietly, in the sandbox" \
		bash -c "grep -qxF 'User=deskmail' '$f' && grep -qxF 'ProtectSystem=strict' '$f' && grep -qE '^ExecStart=$bindir/deskmail -c $confdir/deskmail.conf $w -q\$' '$f'"
	assert_true "deskmail-$w.timer is wanted by timers.target" grep -qxF "WantedBy=timers.target" "$unitdir/deskmail-$w.timer"
done
if command -v systemd-analyze >/dev/null; then
	# verify needs each ExecStart to exist: a copy pointing at the staged binary
	V=$DM_TEST_DIR/verify
	mkdir -p "$V"
	cp "$unitdir"/deskmail* "$V"/
	sed -i "s|^ExecStart=$bindir/|ExecStart=$S$bindir/|" "$V"/*.service
	out=$(cd "$V" && MANPATH=$S$mandir timeout 120 systemd-analyze verify --man=yes ./deskmail*.service ./deskmail*.timer 2>&1); rc=$?
	assert_eq "0:" "$rc:$out" "systemd-analyze verify accepts the units, their man pages found, without a warning"
	out=$(cd "$V" && timeout 120 systemd-analyze security --offline=yes --threshold=25 ./deskmail.service 2>&1); rc=$?
	assert_eq 0 "$rc" "systemd-analyze security: deskmail.service's exposure is 2.5 or less ($(grep -o 'level for .*' <<<"$out"))"
fi
sysusers=$S$prefix/lib/sysusers.d/deskmail.conf
assert_true "the sysusers.d entry is in $prefix/lib/sysusers.d" grep -qE '^u deskmail ' "$sysusers"
if command -v systemd-sysusers >/dev/null; then
	R=$DM_TEST_DIR/sysroot
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" "$sysusers" >/dev/null 2>&1
	assert_true "systemd-sysusers makes the system user and group deskmail from it" \
		bash -c "grep -q '^deskmail:' '$R/etc/passwd' && grep -q '^deskmail:' '$R/etc/group'"
fi
cron=$S$datadir/doc/deskmail/crontab.example
assert_true "the crontab example is in share/doc/deskmail" \
	grep -qE "^\*.* deskmail +$bindir/deskmail -c $confdir/deskmail.conf escalate -q\$" "$cron"
assert_true "README.md is in share/doc/deskmail" test -s "$S$datadir/doc/deskmail/README.md"

# ---- the staged installation runs ----
# the operator's edits: the password in a file, the database, a changed template
dm_pg_init || exit 1
umask 027
printf 'imap-secret\n' >"$etc/imap.password"
umask 022
sed -i -e 's|^\t*password = "change-me";|\tpassword_file = "imap.password";|' \
	-e "s|^\t*conninfo = .*|\tconninfo = \"host=127.0.0.1 port=$DM_PG_PORT dbname=deskmail user=deskmail\";|" "$etc/deskmail.conf"
assert_true "the configuration is edited" grep -q 'password_file = "imap.password"' "$etc/deskmail.conf"
dmi() { DESKMAIL_DATADIR=$share "$bin" -c "$etc/deskmail.conf" "$@"; }
out=$(dmi check-config 2>&1); rc=$?
assert_eq 0 "$rc" "the installed binary checks the staged configuration"
assert_contains "$out" "templates: deskmail's own, none in $etc/templates: ack, " \
	"and takes every template from deskmail's own"
assert_contains "$out" "($share/templates)" "in the staged share/deskmail/templates (DESKMAIL_DATADIR)"
assert_true "not from the source tree" lacks "$out" "$DM_SRCDIR/conf/templates"
cp "$share/templates/ack.txt" "$etc/templates/ack.txt"
printf '\nWith our thanks, the operator.\n' >>"$etc/templates/ack.txt"
out=$(dmi check-config 2>&1); rc=$?
assert_eq 0 "$rc" "check-config with one template changed in $confdir/templates"
line=$(grep "taken from deskmail's own" <<<"$out")
assert_contains "$line" "templates not in $etc/templates, taken from deskmail's own: " "the others come from deskmail's own"
assert_true "but not ack, the operator's" lacks_word "${line#*own: }" ack
# every setting check-config prints is in deskmail.conf(5)
missing=
for key in $(dmi check-config 2>/dev/null | sed -n 's/^\([a-z][a-z0-9_.\[]*\]*\) = .*/\1/p' \
	| sed -E '/^(plans|calendars|mailboxes)(\.[^.]+|\[[0-9]+\])$/d; s/^(plans|calendars|mailboxes)(\.[^.]+|\[[0-9]+\])\./\1./; s/^[a-z_]+\.//; s/\..*//' | sort -u); do
	grep -qE "^ {7}([a-z0-9_]+, )*$key( |,|$)" <<<"$text5" || missing+="$key "
done
assert_eq "" "$missing" "deskmail.conf(5) documents every setting check-config prints"
# migrate takes the staged sql/: a migration only the staging has is applied
printf 'CREATE TABLE staged_marker (x int);\n' >"$share/sql/999_staged_marker.sql"
out=$(dmi migrate 2>/dev/null); rc=$?
assert_eq "0:$((nsql + 1)) migration(s) applied" "$rc:$out" "migrate applies the migrations of the staged share/deskmail/sql"
assert_eq 999 "$(dm_psql -c 'select max(version) from schema_migrations')" "including the staged one"
rm -f "$share/sql/999_staged_marker.sql"

# ---- a second install over the edited files ----
cp "$etc/deskmail.conf" "$DM_TEST_DIR/edited.conf"
cp "$etc/templates/ack.txt" "$DM_TEST_DIR/edited-ack.txt"
printf 'changed\n' >>"$share/templates/notify.txt"
install_staged; rc=$?
assert_eq 0 "$rc" "installing again succeeds"
assert_true "the edited deskmail.conf is kept" cmp "$DM_TEST_DIR/edited.conf" "$etc/deskmail.conf"
assert_true "the new example is deskmail.conf.example beside it" cmp "$DM_SRCDIR/conf/deskmail.conf" "$etc/deskmail.conf.example"
assert_true "the operator's changed template is kept" cmp "$DM_TEST_DIR/edited-ack.txt" "$etc/templates/ack.txt"
assert_eq "ack.txt" "$(ls "$etc/templates")" "and nothing is added beside it"
assert_true "deskmail's own templates are renewed" cmp "$DM_SRCDIR/conf/templates/notify.txt" "$share/templates/notify.txt"
assert_true "the password file is untouched" grep -qx imap-secret "$etc/imap.password"
install_staged
assert_true "a third install keeps them too" cmp "$DM_TEST_DIR/edited.conf" "$etc/deskmail.conf"
out=$(dmi check-config 2>&1); rc=$?
assert_eq 0 "$rc" "the staged installation still checks"

# ---- a Debian-style prefix: configured only ----
B=$DM_TEST_DIR/build-usr
if "$DM_MESON" setup --prefix=/usr "$B" "$DM_SRCDIR" >"$DM_TEST_DIR/setup-usr.log" 2>&1; then
	assert_true "--prefix=/usr: the binary reads /etc/deskmail/deskmail.conf" \
		grep -qx '#define DM_DEFAULT_CONFIG "/etc/deskmail/deskmail.conf"' "$B/dm_build.h"
	assert_true "--prefix=/usr: deskmail's own data is /usr/share/deskmail" \
		grep -qx '#define PKGDATADIR "/usr/share/deskmail"' "$B/dm_build.h"
	assert_true "--prefix=/usr: deskmail.service runs /usr/bin/deskmail -c /etc/deskmail/deskmail.conf" \
		grep -qx 'ExecStart=/usr/bin/deskmail -c /etc/deskmail/deskmail.conf run' "$B/conf/deskmail.service"
	installed=$("$DM_MESON" introspect --installed "$B" | jq -r '.[]' | sort)
	for f in /usr/bin/deskmail /usr/share/deskmail/sql /usr/share/deskmail/templates \
		/usr/share/man/man8/deskmail.8 /usr/share/man/man5/deskmail.conf.5 \
		/usr/lib/systemd/system/deskmail.service /usr/lib/sysusers.d/deskmail.conf \
		/usr/share/doc/deskmail/crontab.example; do
		assert_true "--prefix=/usr installs $f" grep -qxF "$f" <<<"$installed"
	done
	assert_eq "" "$(grep '^/etc' <<<"$installed")" \
		"--prefix=/usr: meson installs nothing into /etc itself (the script does, only what is absent)"
else
	dm_not_ok "meson setup --prefix=/usr" "$(tail -5 "$DM_TEST_DIR/setup-usr.log")"
fi

dm_done
