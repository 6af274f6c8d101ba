#!/bin/bash
# tests/fuzz/run.sh - fuzz deskmail's libFuzzer targets for a while.
#
#   bash tests/fuzz/run.sh SECONDS [TARGET...]
#
# Builds build-fuzz (CC=clang, -Dfuzz=true: ASan, UBSan and libFuzzer) if
# it is not there, seeds a working corpus for each target outside the repo
# (/tmp/dm-fuzz-corpus-TARGET, kept between runs, so a later run goes on
# from what an earlier one found) from ../shared/corpus, tests/data (and its
# demo/ folder) and the findings tests/data/fuzz-*, and runs each TARGET
# (default: fuzz_mail fuzz_command fuzz_auth) for SECONDS seconds on one
# core, with the dictionary tests/fuzz/mail.dict.  Then it prints, per
# target: executions, exec/s, coverage (cov: edges, ft: features), corpus
# size, and the crash, leak, timeout and out-of-memory inputs it left in
# /tmp/dm-fuzz-artifacts-TARGET/.  The full libFuzzer output is in
# /tmp/dm-fuzz-TARGET.log.  Exit status 1 if anything was found.
#
# Each input is bounded: -timeout (seconds per input), -rss_limit_mb=2048,
# -max_len (bytes; larger seeds are cut).  Environment: DM_FUZZ_BUILD (the
# build folder, default build-fuzz), DM_FUZZ_WORK (default /tmp),
# DM_FUZZ_MAX_LEN (default 65536), DM_FUZZ_TIMEOUT (default 10).
#
# A finding: reproduce it with  build-fuzz/tests/TARGET FILE, minimise it
# with  build-fuzz/tests/TARGET -minimize_crash=1 -runs=100000 FILE, add it
# as tests/data/fuzz-WHAT.eml (or without .eml if it is not mail-like): the
# replay tests of the normal build then run it (meson test 'fuzz-replay'...).
set -u
cd "$(dirname "$0")/../.."
root=$PWD
secs=${1:?usage: bash tests/fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_mail fuzz_command fuzz_auth)
build=${DM_FUZZ_BUILD:-build-fuzz}
work=${DM_FUZZ_WORK:-/tmp}
max_len=${DM_FUZZ_MAX_LEN:-65536}
timeout=${DM_FUZZ_TIMEOUT:-10}
corpus_src=$root/../shared/corpus

# the build's own dependencies, then clang and its libFuzzer runtime
bash tests/lib/install-deps.sh || exit 1
if ! command -v clang >/dev/null ||
	! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok installed'; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends clang \
		libclang-rt-14-dev || exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true || exit 1
fi
ninja -C "$build" -j1 $(printf 'tests/%s ' "${targets[@]}") || exit 1

# Seeds for fuzz_auth: a mail's From address, then its
# Authentication-Results values (unfolded), the target's input format.
auth_seeds() { # DIR
	local f n=0
	for f in "$corpus_src"/*.eml tests/data/*.eml tests/data/demo/*.eml; do
		[ -f "$f" ] || continue
		awk 'BEGIN { IGNORECASE = 1 }
		     /^\r?$/ { exit }
		     /^[ \t]/ { cur = cur " " $0; next }
		     { if (cur != "") h[n++] = cur; cur = $0 }
		     END {
			if (cur != "") h[n++] = cur
			from = ""; ar = ""
			for (i = 0; i < n; i++) {
				gsub(/\r/, "", h[i])
				if (from == "" && tolower(h[i]) ~ /^from:/) {
					from = h[i]; sub(/^[^:]*: */, "", from)
					if (match(from, /<[^>]*>/))
						from = substr(from, RSTART + 1, RLENGTH - 2)
				}
				if (tolower(h[i]) ~ /^authentication-results:/) {
					v = h[i]; sub(/^[^:]*: */, "", v); ar = ar v "\n"
				}
			}
			if (ar != "") printf "%s\n%s", from, ar
		     }' "$f" >"$1/seed-$n"
		[ -s "$1/seed-$n" ] || rm -f "$1/seed-$n"
		n=$((n + 1))
	done
	printf '%s\n' 'jo@client.example' \
		'mx.agency.example; dkim=pass header.d=client.example; spf=pass smtp.mailfrom=client.example; dmarc=pass header.from=client.example' \
		'other.example; dmarc=pass header.from=client.example' >"$1/seed-hand-1"
	printf '%s\n' 'jo@mail.client.co.uk' \
		'mx.agency.example 1; spf=pass (sender ok) smtp.mailfrom=bounce.client.co.uk smtp.helo=x; dkim=pass header.i=@client.co.uk header.b=abc' \
		'"mx.agency.example"; dmarc=fail (p=reject) header.from=mail.client.co.uk; dmarc=pass header.from=mail.client.co.uk' >"$1/seed-hand-2"
}

# Seeds for fuzz_command: staff replies with commands, and the texts of
# tests/data/clean.
command_seeds() { # DIR
	printf '#status closed\n#severity high\n\n#assign Jo <jo@agency.example>\nThanks, done.\n' >"$1/seed-hand-1"
	printf '#take\n#line 2\n#category error\n#chargeable\n#note checked the logs\nnot for the client\n' >"$1/seed-hand-2"
	printf '\xc2\xa0#status awaiting client\r\n#closed\r\n#assign mailto:jo@x\r\nRe: [#123] printer\r\n\r\nOn Mon, 1 Jan 2024, Jo wrote:\r\n> old\r\n-- \r\nsig\r\n' >"$1/seed-hand-3"
	cp -n tests/data/clean/* "$1/" 2>/dev/null
}

status=0
for t in "${targets[@]}"; do
	corpus=$work/dm-fuzz-corpus-$t
	art=$work/dm-fuzz-artifacts-$t
	log=$work/dm-fuzz-$t.log
	mkdir -p "$corpus" "$art"
	# the mail seeds for every target (a mail is text, and has
	# Authentication-Results lines), under names of their own
	for f in "$corpus_src"/*.eml tests/data/*.eml tests/data/fuzz-* tests/data/demo/*.eml; do
		[ -f "$f" ] && cp -n "$f" "$corpus/seed-$(basename "$f")"
	done
	case $t in
	fuzz_auth) auth_seeds "$corpus" ;;
	fuzz_command) command_seeds "$corpus" ;;
	esac
	echo "== $t: $secs s, corpus $corpus ($(ls "$corpus" | wc -l) files)"
	# one process on one core (no -fork, no -jobs); UBSan and leaks are
	# findings too
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0 \
	G_DEBUG=fatal-criticals \
		"$build/tests/$t" -max_total_time="$secs" -timeout="$timeout" \
		-rss_limit_mb=2048 -max_len="$max_len" -dict=tests/fuzz/mail.dict \
		-print_final_stats=1 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	echo "   exit $rc; executions ${execs:-?}, exec/s ${rate:-?}"
	echo "   last status: $last"
	echo "   corpus: $(ls "$corpus" | wc -l) files, $(du -sh "$corpus" | cut -f1)"
	found=$(ls "$art" 2>/dev/null)
	if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
		status=1
		echo "   FOUND (in $art/, log $log):"
		for f in $found; do echo "     $art/$f"; done
		grep -E '^(==[0-9]+==ERROR|SUMMARY|ERROR:|\*\*|.*runtime error)' "$log" | head -5 |
			sed 's/^/     /'
	fi
done
exit $status
