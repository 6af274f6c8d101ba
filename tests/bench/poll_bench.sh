#!/bin/bash
# poll_bench.sh [N] - deliver N generated mails (default 2,000) to a real
# Dovecot and measure one `deskmail poll` and the `deskmail send` of the
# acknowledgements: wall time, mails/second, peak memory.  No target yet:
# the figures are printed last.
#
#   bash tests/bench/poll_bench.sh [N]     (after `meson compile -C build`)
set -u
N=${1:-2000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export DESKMAIL=${DESKMAIL:-$root/build/deskmail}
[ -x "$DESKMAIL" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }
. "$root/tests/lib/servers.sh"
. "$root/tests/lib/mail.sh"
dm_servers_start >/dev/null
dm_write_conf
sed -i 's/^log = .*//' "$DM_CONF"
printf 'log = { level = "warning"; };\n' >>"$DM_CONF"
dm_fixture
# two staff on the first line: every new ticket also queues two notifications
dm staff add one@agency.example --name "Line One" --role senior-engineer --line 1 >/dev/null
dm staff add two@agency.example --name "Line Two" --role junior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W/mails"
echo "generating $N mails..." >&2
pad=$(head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 72)
for i in $(seq 1 "$N"); do
	case $((i % 4)) in
	0) from=carol@globex.example ;;
	1) from=alice@acme.example ;;
	2) from=bob@acme.example ;;
	3) from="stranger$i@nowhere.example" ;;
	esac
	dm_mail "$W/mails/$i" "$from" "Benchmark request $i" "Request number $i.
$pad"
done
dm_deliver "$W/mails"/*
dm_imap 'NOOP' >/dev/null   # let Dovecot index the new mail before timing

measure() { # LABEL CMD... -> prints "seconds peak_kib"
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$W/time" "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	cat "$W/time"
}
read -r poll_s poll_kib poll_u poll_sys < <(measure poll "$DESKMAIL" -c "$DM_CONF" poll)
poll_out=$(cat "$W/out")
read -r send_s send_kib < <(measure send "$DESKMAIL" -c "$DM_CONF" send)
send_out=$(cat "$W/out")
read -r idle_s idle_kib < <(measure poll2 "$DESKMAIL" -c "$DM_CONF" poll)
sent=$(sed -n 's/^sent \([0-9]*\).*/\1/p' <<<"$send_out")

echo "poll:  $poll_out"
echo "send:  $send_out"
awk -v n="$N" -v pu="$poll_u" -v psy="$poll_sys" -v ps="$poll_s" -v pk="$poll_kib" -v ss="$send_s" -v sk="$send_kib" \
    -v sent="$sent" -v is="$idle_s" 'BEGIN {
	printf "poll of %d mails: %.2f s, %.1f mails/s, peak %.1f MiB (CPU of deskmail itself: %.2f s user, %.2f s sys)\n", n, ps, (ps > 0 ? n / ps : 0), pk / 1024, pu, psy
	printf "send of %d mails: %.2f s, %.1f mails/s, peak %.1f MiB\n", sent, ss, (ss > 0 ? sent / ss : 0), sk / 1024
	printf "poll with nothing new: %.2f s\n", is
}'
