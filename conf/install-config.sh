#!/bin/sh
# install-config.sh - meson's install script for the configuration
# (conf/meson.build): EXAMPLE CONFDIR
#
# The configuration belongs to the operator once it is installed, so:
#   - CONFDIR/deskmail.conf is written only when there is none;
#   - otherwise the new example goes beside it as deskmail.conf.example
#     (replaced on each install: it is ours), and deskmail.conf is not
#     touched, edited or not;
#   - CONFDIR/templates/ is made, empty, when missing: the operator's copies
#     of the templates they change (the defaults are in
#     <prefix>/share/deskmail/templates and are found there).  Nothing in it
#     is ever written.
# The configuration is made 0640, readable by the group deskmail when that
# group exists and this is a real install (no DESTDIR): it may hold a
# password.
#
# CONFDIR is absolute (/etc/deskmail) or relative to the prefix; $DESTDIR
# (a staging root) goes in front of an absolute one, and a relative one is
# taken under $MESON_INSTALL_DESTDIR_PREFIX (the prefix with DESTDIR), as
# meson does with its own install_dir.
set -eu

example=$1
confdir=$2

case $confdir in
/*) dest=${DESTDIR:-}$confdir ;;
*) dest=${MESON_INSTALL_DESTDIR_PREFIX:?}/$confdir ;;
esac

say() {
	[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "$@"
}

mkdir -p "$dest"
if [ -e "$dest/deskmail.conf" ] || [ -L "$dest/deskmail.conf" ]; then
	say "Keeping $dest/deskmail.conf; the new example is $dest/deskmail.conf.example"
	target=$dest/deskmail.conf.example
else
	say "Installing $example to $dest/deskmail.conf"
	target=$dest/deskmail.conf
fi
# written beside and renamed into place, so no reader sees half a file
tmp=$(mktemp "$dest/.deskmail.conf.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat "$example" >"$tmp"
chmod 0640 "$tmp"
if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" -eq 0 ] && getent group deskmail >/dev/null 2>&1; then
	chgrp deskmail "$tmp"
fi
mv -f "$tmp" "$target"
trap - EXIT

if [ ! -d "$dest/templates" ]; then
	say "Making $dest/templates (for changed templates; the defaults stay in share/deskmail)"
	mkdir -p "$dest/templates"
fi
