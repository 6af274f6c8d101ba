#!/bin/bash
# poll_bench.sh [N] - deskmail's throughput against real servers, in one run:
#
#  1. bare libcurl fetching N mails from Dovecot (tests/bench/raw_fetch.c:
#     one connection, one URL fetch per UID, as deskmail fetches), from a
#     copy of the mailbox, folder Raw;
#  2. `deskmail poll` ingesting the same N mails from INBOX (a mix of
#     contacts and strangers; each new ticket queues an acknowledgement and
#     two staff notifications), and its ratio to 1;
#  3. `deskmail send` of what the poll queued, against Python's smtplib
#     sending the same messages (the bytes the SMTP sink received, to the
#     same recipients) on one connection to the same sink, and the ratio;
#  4. `deskmail poll` of a 100,000-mail mailbox with nothing new, after a
#     first poll over it (from UID 1) and a poll of its last 1,000 (beside
#     bare libcurl fetching 1,000 others of it);
#  5. peak memory of poll and send (GNU time %M);
#  6. where the time per mail goes, from deskmail's "poll timing:" and
#     "send timing:" log lines ("n/a" when the build does not print them).
#
# Every figure is printed on its own line with its target and PASS/FAIL.
# The script exits 0 whatever the figures (a benchmark, not a test), and 1
# when a step itself breaks: deskmail exits non-zero, a count is wrong.
#
#   bash tests/bench/poll_bench.sh [N]     (after `meson compile -C build`; N defaults to 2,000)
set -u
N=${1:-2000}
BIG=100000
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export DESKMAIL=${DESKMAIL:-$root/build/deskmail}
export DESKMAIL_ALLOW_ROOT=1 # run as root here: deskmail refuses it unless told
RAW_FETCH=${RAW_FETCH:-$root/build/tests/raw_fetch}
[ -x "$DESKMAIL" ] && [ -x "$RAW_FETCH" ] ||
	{ echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: poll_bench.sh [N]" >&2; exit 64; }

die() { # a step of the benchmark broke: say so loudly and stop
	echo "poll_bench: FAILED: $*" >&2
	exit 1
}
note() { echo "== $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
# calc EXPR: floating point arithmetic
calc() { awk "BEGIN { printf \"%s\", $1 }"; }

. "$root/tests/lib/servers.sh"
. "$root/tests/lib/mail.sh"
dm_servers_start >/dev/null
# every mail of the benchmark acknowledged: no limit per address
DM_DESK_EXTRA="max_automatic_per_hour = 0;" dm_write_conf
# info, for the timing lines at the end of poll and send
printf 'log = { level = "info"; };\n' >>"$DM_CONF"
dm_fixture
# two staff on the first line: every new ticket also queues two notifications
dm staff add one@agency.example --name "Line One" --role senior-engineer --line 1 >/dev/null
dm staff add two@agency.example --name "Line Two" --role junior-engineer --line 1 >/dev/null
W=$DM_TEST_DIR/work
mkdir -p "$W/mails"
SERVER_URL=${DM_IMAP_URL%/INBOX}/

note "generating and delivering $N mails"
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
# the same mails again in folder Raw, for bare libcurl: a fetch sets \Seen,
# which renames the Maildir file, so neither side fetches mail the other
# has already fetched
dm_imap 'CREATE Raw' "$SERVER_URL" >/dev/null || die "CREATE Raw failed"
DM_MAILDIR=$DM_MAILDIR/.Raw dm_deliver "$W/mails"/*
for box in INBOX Raw; do # Dovecot indexes them now
	status=$(dm_imap "STATUS $box (MESSAGES UIDNEXT)" "$SERVER_URL")
	[[ "$status" == *"MESSAGES $N UIDNEXT $((N + 1))"* ]] || die "Dovecot's $box holds: $status"
done

# measure NAME CMD...: run CMD under GNU time; W/NAME.{out,err,time}
measure() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$W/$name.time" "$@" >"$W/$name.out" 2>"$W/$name.err" ||
		{ tail -n 20 "$W/$name.err" >&2; die "$name: $* exited non-zero"; }
}

# ---- 1. bare libcurl ----
note "raw libcurl fetch of $N mails"
raw=$("$RAW_FETCH" "${SERVER_URL}Raw" support secret 1 "$N") || die "raw_fetch failed"
raw_s=$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' <<<"$raw")
[ -n "$raw_s" ] || die "raw_fetch printed: $raw"

# ---- 2. deskmail poll ----
note "deskmail poll of the same $N mails"
measure poll "$DESKMAIL" -c "$DM_CONF" poll
read -r poll_s poll_kib poll_u poll_sys <"$W/poll.time"
poll_out=$(cat "$W/poll.out")
[[ "$poll_out" == "fetched $N:"* ]] || die "poll: $poll_out (expected $N fetched)"

# ---- 3. deskmail send, and smtplib sending the same mail ----
note "deskmail send of what the poll queued"
queued=$(dm_psql -c "select count(*) from outbox where status = 'pending'")
measure send "$DESKMAIL" -c "$DM_CONF" send
read -r send_s send_kib send_u send_sys <"$W/send.time"
send_out=$(cat "$W/send.out")
sent=$(sed -n 's/^sent \([0-9]*\), deferred 0, failed 0$/\1/p' <<<"$send_out")
[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$sent" -eq "$queued" ] ||
	die "send: $send_out ($queued were queued)"
[ "$(dm_smtp_count)" -eq "$sent" ] || die "the SMTP sink holds $(dm_smtp_count) mails, not $sent"

note "smtplib sending the same $sent messages on one connection"
smtplib_out=$("$DM_PYTHON" - "$DM_SMTP_OUT" "$sent" "$DM_SMTP_PORT" <<'PY'
import os, smtplib, sys, time
out, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
msgs = []
for i in range(1, n + 1):
    with open(os.path.join(out, "%d.env" % i)) as f:
        env = f.read().splitlines()
    with open(os.path.join(out, "%d.eml" % i), "rb") as f:
        msgs.append((env[0], env[1:], f.read()))
t0 = time.monotonic()
s = smtplib.SMTP("127.0.0.1", port)
for frm, rcpts, data in msgs:
    s.sendmail(frm, rcpts, data)
s.quit()
print("%d %.3f" % (len(msgs), time.monotonic() - t0))
PY
) || die "smtplib failed"
read -r lib_n lib_s <<<"$smtplib_out"
[ "$lib_n" -eq "$sent" ] && [ "$(dm_smtp_count)" -eq $((2 * sent)) ] ||
	die "smtplib sent $lib_n, the sink holds $(dm_smtp_count)"

# ---- 4. a mailbox of 100,000 mails ----
note "building a mailbox of $BIG tiny mails (folder Big)"
t0=$(now)
dm_deliver_tiny "$BIG" Big
status=$(dm_imap 'STATUS Big (MESSAGES UIDNEXT)' "$SERVER_URL") # indexed here, before timing
[[ "$status" == *"MESSAGES $BIG UIDNEXT $((BIG + 1))"* ]] || die "Big holds: $status"
build_s=$(calc "$(now) - $t0")
BIG_URL=${SERVER_URL}Big
sed "s|$DM_IMAP_URL|$BIG_URL|" "$DM_CONF" >"$W/big.conf"
big() { "$DESKMAIL" -c "$W/big.conf" "$@"; }

# the first poll searches from UID 1: the daemon's first pass, stopped by
# SIGTERM once it has committed some mail
note "first poll over $BIG mails (deskmail run, stopped once it has ingested mail)"
"$DESKMAIL" -c "$W/big.conf" run >"$W/first.out" 2>"$W/first.err" &
run_pid=$!
t0=$(now)
dm_wait_for 60 bash -c "[ \"\$(\"$DM_PG_BIN/psql\" -X -At -h 127.0.0.1 -p $DM_PG_PORT -U deskmail -d deskmail \
	-c \"select last_uid from mailbox where url = '$BIG_URL'\")\" -gt 0 ]"
waited=$?
first_s=$(calc "$(now) - $t0")
kill -TERM "$run_pid"
wait "$run_pid"
run_rc=$?
first_uid=$(dm_psql -c "select last_uid from mailbox where url = '$BIG_URL'")
[ "$waited" -eq 0 ] && [ "$run_rc" -eq 0 ] ||
	{ tail -n 20 "$W/first.err" >&2; die "the first poll over $BIG mails ingested nothing (exit $run_rc)"; }
first_errors=$(grep -c -e ' deskmail warning: ' -e ' deskmail error: ' -e 'Failure when receiving' "$W/first.err")

# bare libcurl on 1,000 other unseen mails of it, then mark all but the
# last 1,000 as done and poll those
note "raw libcurl fetch of UIDs $((BIG - 1999))..$((BIG - 1000)) of it"
raw_big=$("$RAW_FETCH" "$BIG_URL" support secret $((BIG - 1999)) $((BIG - 1000))) || die "raw_fetch of Big failed"
raw_big_s=$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' <<<"$raw_big")
[ -n "$raw_big_s" ] || die "raw_fetch printed: $raw_big"
dm_psql -c "update mailbox set last_uid = $((BIG - 1000)) where url = '$BIG_URL'" >/dev/null
note "poll of the last 1,000 of them"
measure last1000 "$DESKMAIL" -c "$W/big.conf" poll
read -r last_s _ <"$W/last1000.time"
[[ "$(cat "$W/last1000.out")" == "fetched 1000:"* ]] || die "poll of the last 1,000: $(cat "$W/last1000.out")"

# Dovecot rescans a Maildir's cur/ (100,000 entries) on every STATUS while
# cur/ changed less than a second ago (the marks just set), then records its
# sync on the first access after that: wait for it, as every poll interval
# does, and time Dovecot's own STATUS (curl's command line) beside deskmail.
note "poll of $BIG mails with nothing new, 5 times (after Dovecot has settled)"
sleep 2
dm_imap 'STATUS Big (MESSAGES)' "$SERVER_URL" >/dev/null
status_ms=()
for i in 1 2 3 4 5; do
	t0=$(now)
	dm_imap 'STATUS Big (UIDVALIDITY UIDNEXT)' "$SERVER_URL" >/dev/null || die "curl STATUS failed"
	status_ms+=("$(calc "($(now) - $t0) * 1000")")
done
status_median=$(printf '%s\n' "${status_ms[@]}" | sort -n | sed -n 3p)
idle_ms=()
for i in 1 2 3 4 5; do
	t0=$(now)
	out=$(big poll 2>>"$W/idle.err") || die "idle poll exited non-zero: $out"
	idle_ms+=("$(calc "($(now) - $t0) * 1000")")
	[[ "$out" == "fetched 0:"* ]] || die "idle poll: $out"
done
idle_median=$(printf '%s\n' "${idle_ms[@]}" | sort -n | sed -n 3p)

# ---- the report ----
verdict() { awk "BEGIN { print ($1) ? \"PASS\" : \"FAIL\" }"; }
line() { printf '%-44s %-46s %-18s %s\n' "$1" "$2" "$3" "${4:-}"; }
raw_rate=$(calc "$N / $raw_s")
poll_rate=$(calc "$N / $poll_s")
send_rate=$(calc "$sent / $send_s")
lib_rate=$(calc "$lib_n / $lib_s")
ingest_pct=$(calc "100 * $poll_rate / $raw_rate")
send_pct=$(calc "100 * $send_rate / $lib_rate")

echo
echo "deskmail benchmark: $N mails ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
line "figure" "value" "target" "result"
line "raw libcurl fetch, one connection" "$(printf '%.0f mails/s (%.2f s)' "$raw_rate" "$raw_s")" "(baseline)"
line "ingest: deskmail poll" "$(printf '%.0f mails/s (%.2f s)' "$poll_rate" "$poll_s")" ">= 1000 mails/s" \
	"$(verdict "$poll_rate >= 1000")"
line "ingest / raw fetch" "$(printf '%.1f %%' "$ingest_pct")" ">= 25 %" "$(verdict "$ingest_pct >= 25")"
line "send: deskmail send of $sent mails" "$(printf '%.0f mails/s (%.2f s)' "$send_rate" "$send_s")" "(vs smtplib)"
line "smtplib, one connection, same $lib_n mails" "$(printf '%.0f mails/s (%.2f s)' "$lib_rate" "$lib_s")" "(baseline)"
line "send / smtplib" "$(printf '%.1f %%' "$send_pct")" ">= 60 %" "$(verdict "$send_pct >= 60")"
line "poll of $BIG mails, nothing new" "$(printf '%.1f ms (median of 5; %s)' "$idle_median" \
	"$(printf '%.0f ' "${idle_ms[@]}" | sed 's/ $//')")" "< 50 ms" "$(verdict "$idle_median < 50")"
line "  Dovecot's own STATUS of it (curl)" "$(printf '%.1f ms (median of 5)' "$status_median")" "(baseline)"
line "first poll over $BIG mails, from UID 1" \
	"$(printf 'works: up to UID %s in %.1f s' "$first_uid" "$first_s")" "no IMAP failure" \
	"$(verdict "$first_errors == 0")"
line "poll of the last 1,000 of them" "$(printf '%.0f mails/s (%.2f s)' "$(calc "1000 / $last_s")" "$last_s")" "(info)"
line "  raw libcurl fetch of 1,000 others" "$(printf '%.0f mails/s (%.2f s)' "$(calc "1000 / $raw_big_s")" "$raw_big_s")" "(baseline)"
line "peak RSS of poll" "$(printf '%.1f MiB' "$(calc "$poll_kib / 1024")")" "< 64 MiB" \
	"$(verdict "$poll_kib < 65536")"
line "peak RSS of send" "$(printf '%.1f MiB' "$(calc "$send_kib / 1024")")" "< 64 MiB" \
	"$(verdict "$send_kib < 65536")"
printf '(CPU of deskmail itself: poll %.2f s user + %.2f s sys, send %.2f s user + %.2f s sys; %s mailbox built and indexed in %.1f s)\n' \
	"$poll_u" "$poll_sys" "$send_u" "$send_sys" "$BIG" "$build_s"

# timing_table LABEL FILE MAILS: the "LABEL timing: ..." line of FILE as a
# table.  Everything after the first colon is read as "name seconds" pairs
# separated by commas or colons; a "N mails in T s" pair gives the count
# and the total.
timing_table() {
	local label=$1 file=$2 mails=$3 tl
	tl=$(grep -h "$label timing:" "$file" | tail -n1)
	echo
	if [ -z "$tl" ]; then
		echo "$label timing: n/a (deskmail printed no \"$label timing:\" line)"
		return
	fi
	awk -v label="$label" -v mails="$mails" '{
		rest = substr($0, index($0, label " timing:") + length(label " timing:"))
		n = split(rest, seg, /[,:]/)
		total = 0; k = 0
		for (i = 1; i <= n; i++) {
			s = seg[i]; gsub(/^ +| +$/, "", s)
			if (s == "") continue
			if (match(s, /^[0-9]+ mails? in [0-9.]+ *s$/)) {
				split(s, w, / +/); mails = w[1]; total = w[4] + 0; continue
			}
			if (!match(s, /[0-9.]+ *s?$/)) continue
			name[++k] = substr(s, 1, RSTART - 1); gsub(/ +$/, "", name[k])
			v = substr(s, RSTART); gsub(/[ s]/, "", v); secs[k] = v + 0
		}
		if (total == 0) for (i = 1; i <= k; i++) total += secs[i]
		printf "%s timing: %d mails in %.2f s\n", label, mails, total
		printf "  %-12s %9s %12s %7s\n", "phase", "s", "us/mail", "share"
		for (i = 1; i <= k; i++)
			printf "  %-12s %9.3f %12.1f %6.1f%%\n", name[i], secs[i],
				(mails > 0 ? secs[i] / mails * 1e6 : 0), (total > 0 ? 100 * secs[i] / total : 0)
	}' <<<"$tl"
}
timing_table poll "$W/poll.err" "$N"
timing_table send "$W/send.err" "$sent"
exit 0
