#!/bin/bash
# install-deps.sh - install what deskmail needs to build, test and run its
# demo on Debian 12, from Debian's own packages.  Idempotent.
set -eu
pkgs=(
	build-essential meson ninja-build pkg-config   # the build
	libgmime-3.0-dev libglib2.0-dev                # MIME parsing and composing (brings GLib)
	libcurl4-openssl-dev                           # IMAP and SMTP clients
	libpq-dev                                      # PostgreSQL client
	libconfig-dev                                  # configuration files
	libxml2-dev                                    # HTML to text
	libpsl-dev                                     # Public Suffix List (DMARC alignment), built into libpsl5
	libjson-glib-dev                               # JSON output of the commands that compute in C (ticket sla)
	libcairo2-dev                                  # the digest's compliance chart (PNG)
	postgresql dovecot-imapd python3-aiosmtpd      # real servers for the tests and demo
	curl jq time ca-certificates                   # test tools: an independent IMAP client, JSON, peak memory
	openssl                                        # test certificates for STARTTLS (transport.sh)
	clang-format                                   # the committed .clang-format, checked by the tests
	groff-base man-db systemd                      # install.sh: man pages formatted, units verified (systemd-analyze)
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
