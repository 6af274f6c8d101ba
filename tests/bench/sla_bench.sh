#!/bin/bash
# sla_bench.sh [N] - the escalation pass and the digest over a big desk, on
# a real PostgreSQL:
#
#  1. fills the database with N tickets (default 1,000,000; SQL, in mixed
#     states: a third closed, some waiting, the rest open, on three plans,
#     each with a few status events, due times spread over the past and the
#     next weeks, sla_next_at in the future), then ANALYZE;
#  2. `deskmail escalate` with nothing due (its time, and the plan of its
#     query);
#  3. `deskmail escalate` with 1,000 tickets due (their sla_next_at moved
#     to the past): each is read with its history, its clocks derived,
#     notices planned, rendered and queued;
#  4. `deskmail digest --dry-run` (its candidates, outcomes of four weeks,
#     counts per plan, allowances);
#  5. the same escalate pass run again at once: nothing left to do.
#
# Each figure is printed with its target (under 1 second) and PASS/FAIL.
# Exits 0 whatever the figures, 1 when a step breaks.
#
#   bash tests/bench/sla_bench.sh [N]    (after `meson compile -C build`)
set -u
N=${1:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export DESKMAIL=${DESKMAIL:-$root/build/deskmail}
export DESKMAIL_ALLOW_ROOT=1 # run as root here: deskmail refuses it unless told
[ -x "$DESKMAIL" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 1; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: sla_bench.sh [N]" >&2; exit 64; }
die() { echo "sla_bench: FAILED: $*" >&2; exit 1; }
note() { echo "== $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
figure() { # NAME SECONDS
	local verdict=FAIL
	[ "$(calc "$2 < 1.0 ? 1 : 0")" = 1 ] && verdict=PASS
	printf '%-44s %8.3f s   (target < 1 s)  %s\n' "$1" "$2" "$verdict"
}

. "$root/tests/lib/servers.sh"
. "$root/tests/lib/mail.sh"
dm_servers_start >/dev/null
CAL='calendars = { london = { timezone = "Europe/London";
  mon = "09:00-12:30,13:30-17:30"; tue = "09:00-12:30,13:30-17:30"; wed = "09:00-12:30,13:30-17:30";
  thu = "09:00-12:30,13:30-17:30"; fri = "09:00-12:30,13:30-17:30";
  holidays = [ "2026-12-25", "2026-12-28" ]; }; };'
cat >"$DM_CONF" <<CONF
database = { conninfo = "$DM_CONNINFO"; };
imap = { url = "$DM_IMAP_URL"; username = "support"; password = "secret"; };
smtp = { url = "$DM_SMTP_URL"; };
desk = { name = "Bench Support"; address = "support@agency.example"; templates = "$root/conf/templates"; calendar = "london"; };
$CAL
plans = {
  silver = { first_response_hours = 4; resolution_hours = 48;
             severity_hours = { severe = 8; high = 24; medium = 32; low = 80; };
             line1_hours = 7.5; line1_max_elapsed_hours = 12; line2_hours = 15; line2_max_elapsed_hours = 48;
             follow_up_hours = 15; };
  maint = { first_response_hours = 4; resolution_hours = 40; hours_per_month = 10; };
  hosting = { };
};
CONF
dm migrate >/dev/null || die "migrate"
dm staff add lin@agency.example --name Lin --role senior-engineer --line 1 >/dev/null
dm staff add sam@agency.example --name Sam --role senior-engineer --line 2 >/dev/null
dm staff add max@agency.example --name Max --role account-manager --line 3 --manager >/dev/null
NOW=2026-12-02T11:00:00Z

note "filling $N tickets"
t0=$(now)
dm_psql -q <<SQL >/dev/null || die "fill"
SET deskmail.now = '$NOW';
INSERT INTO client (name, plan, account_manager_id)
  SELECT 'Client ' || g, (ARRAY['silver', 'maint', 'hosting'])[1 + g % 3], (SELECT id FROM staff WHERE email = 'max@agency.example')
  FROM generate_series(1, 3000) g;
INSERT INTO contact (client_id, email, name) SELECT id, 'c' || id || '@client' || id || '.example', 'Contact ' || id FROM client;
-- tickets: created over the last 60 days; a third closed, a tenth waiting
INSERT INTO ticket (client_id, contact_id, subject, status, severity, line, created_at, line_since,
                    first_response_due, resolution_due, line_due, follow_up_due, sla_next_at, closed_at)
SELECT c.id, k.id, 'Ticket ' || g,
  CASE WHEN g % 3 = 0 THEN 'closed' WHEN g % 10 = 1 THEN 'awaiting-client' ELSE (ARRAY['open', 'evaluated', 'scheduled', 'testing'])[1 + g % 4] END,
  (ARRAY[NULL, 'severe', 'high', 'medium', 'low'])[1 + g % 5],
  1 + g % 3,
  dm_now() - make_interval(mins => (g % 86400)),
  dm_now() - make_interval(mins => (g % 86400)),
  CASE WHEN g % 3 <> 0 AND g % 10 <> 1 AND g % 7 = 0 THEN dm_now() + make_interval(mins => 60 + g % 10000) END,
  CASE WHEN g % 3 <> 0 AND g % 10 <> 1 THEN dm_now() + make_interval(mins => 60 + g % 20000) END,
  CASE WHEN g % 3 <> 0 AND g % 10 <> 1 THEN dm_now() + make_interval(mins => 30 + g % 5000) END,
  NULL,
  CASE WHEN g % 3 <> 0 AND g % 10 <> 1 THEN dm_now() + make_interval(mins => 30 + g % 5000) END,
  CASE WHEN g % 3 = 0 THEN dm_now() - make_interval(mins => g % 40000) END
FROM generate_series(1, $N) g
JOIN client c ON c.id = 1 + g % 3000
JOIN contact k ON k.client_id = c.id;
-- a few status events per ticket (its history)
INSERT INTO event (ticket_id, kind, actor, field, before, after, created_at)
  SELECT id, 'status-changed', 'lin@agency.example', 'status', 'open', 'evaluated', created_at + interval '30 minutes'
  FROM ticket WHERE id % 2 = 0;
INSERT INTO event (ticket_id, kind, actor, field, before, after, created_at)
  SELECT id, 'status-changed', 'lin@agency.example', 'status', 'evaluated', 'awaiting-client', created_at + interval '2 hours'
  FROM ticket WHERE status = 'awaiting-client';
-- outcomes of four weeks for the digest, some notices, some time
INSERT INTO sla_outcome (ticket_id, clock, plan, met, due, ended_at)
  SELECT t.id, 'first-response', c.plan, t.id % 5 <> 0, t.created_at + interval '4 hours', dm_now() - make_interval(mins => (t.id % 40000)::int)
  FROM ticket t JOIN client c ON c.id = t.client_id WHERE t.status = 'closed';
INSERT INTO sla_notice (ticket_id, clock, kind, due, plan, created_at)
  SELECT id, 'resolution', 'at-risk', resolution_due, 'silver', dm_now() - interval '1 day' FROM ticket WHERE id % 997 = 0 AND resolution_due IS NOT NULL;
INSERT INTO time_entry (ticket_id, client_id, staff_id, minutes, created_at)
  SELECT t.id, t.client_id, NULL, 30, dm_now() - interval '1 day' FROM ticket t WHERE t.id % 101 = 0;
ANALYZE client, contact, ticket, event, sla_outcome, sla_notice, time_entry;
SQL
note "filled in $(calc "$(now) - $t0") s: $(dm_psql -c "select count(*) from ticket") tickets, $(dm_psql -c "select count(*) from ticket where status <> 'closed'") open"

at() { DESKMAIL_NOW=$NOW "$DESKMAIL" -c "$DM_CONF" "$@"; }

# 2. nothing due
t0=$(now)
at escalate -q || die "escalate (nothing due)"
figure "escalate, nothing due" "$(calc "$(now) - $t0")"

# 3. 1,000 due
dm_psql -c "update ticket set sla_next_at = '$NOW'::timestamptz - interval '1 minute' where id in (select id from ticket where status <> 'closed' order by id limit 1000)" >/dev/null
t0=$(now)
out=$(at escalate) || die "escalate (1,000 due)"
figure "escalate, 1,000 tickets due" "$(calc "$(now) - $t0")"
note "$out"
case "$out" in *"1000 ticket(s) looked at"*) ;; *) die "expected 1000 tickets looked at: $out" ;; esac

# 4. the digest
t0=$(now)
at digest --dry-run >/dev/null || die "digest --dry-run"
figure "digest --dry-run" "$(calc "$(now) - $t0")"

# where the digest's time goes: its statements, timed by PostgreSQL
if [ "${DM_BENCH_EXPLAIN:-0}" = 1 ]; then
	for q in \
		"select count(*) from (select id from ticket where status <> 'closed' and least(first_response_due, resolution_due, line_due, follow_up_due) <= '$NOW'::timestamptz union select n.ticket_id from sla_notice n where n.kind in ('breach', 'at-risk') and n.created_at > '$NOW'::timestamptz - interval '35 days') c" \
		"select o.plan, o.clock, floor((extract(epoch from o.ended_at) - extract(epoch from '$NOW'::timestamptz) + 28 * 86400) / (7 * 86400))::int, count(*) filter (where o.met), count(*) from sla_outcome o where o.ended_at > '$NOW'::timestamptz - interval '28 days' and o.ended_at <= '$NOW'::timestamptz group by 1, 2, 3" \
		"select c.plan, count(*) from ticket t join client c on c.id = t.client_id where t.status <> 'closed' group by c.plan"; do
		note "$q"
		dm_psql -c "explain (analyze, costs off, timing off, summary on) $q" | grep -E "Execution Time|Scan|Join|Aggregate" >&2
	done
fi

# 5. again at once: nothing left
t0=$(now)
out=$(at escalate) || die "escalate (again)"
figure "escalate again, nothing left" "$(calc "$(now) - $t0")"
note "$out"
note "queued: $(dm_psql -c "select count(*) from outbox") mail(s)"
if [ -n "${DM_BENCH_HOLD:-}" ]; then # seconds to keep the servers up, to look
	note "holding $DM_BENCH_HOLD s: psql -h 127.0.0.1 -p $DM_PG_PORT -U deskmail deskmail"
	sleep "$DM_BENCH_HOLD"
fi
dm_servers_stop >/dev/null 2>&1
exit 0
