/* sla.h - a ticket's service-level clocks, derived from its history: pure,
 * no I/O (src/core/sla.c).
 *
 * Four clocks.  Each counts working time of the ticket's calendar from its
 * start while it runs; time in any awaiting-* status does not count (paused
 * on entry, resumed on exit), nor does time while the ticket is closed.
 *
 *   first response  from creation to the first staff response to the client
 *                   (SLA_EV_RESPONSE); target plan.first_response_minutes.
 *   resolution      from creation until the ticket is closed (a reopening
 *                   resumes it); target: the current severity's
 *                   severity_minutes, or resolution_minutes without one.  A
 *                   severity or plan change sets the target again and keeps
 *                   the time already used.
 *   line            from line_since (the ticket's arrival on its current
 *                   line) until the ticket is closed; target lineN_minutes of
 *                   working time and lineN_max_elapsed_minutes of elapsed
 *                   running time (paused time not counting), whichever comes
 *                   first; the 3rd line has no target.
 *   follow-up       from the last response to the client (or creation) until
 *                   the next one or the ticket is closed; target
 *                   follow_up_minutes.
 *
 * Due: the instant the used time reaches the target if the clock keeps
 * running from its last resumption; it does not depend on `now`.  A paused
 * clock has no due instant (0); a stopped clock keeps the due it had when it
 * stopped.  State: SLA_NONE without a target; SLA_BREACHED once the used
 * time reached the target before `now` or before the clock stopped (a
 * paused or stopped clock can be breached); otherwise SLA_MET when stopped,
 * SLA_PAUSED when paused, SLA_RUNNING.  at_risk_at is the instant the used
 * time reaches plan.at_risk_percent of the target (for the line clock, the
 * earlier of that share of the working and of the elapsed limit); 0 when
 * paused or no target.
 *
 * The details (src/core/sla.c, tests/unit/test_sla.c):
 *   - Events are taken in time order (a stable sort of a copy when needed);
 *     one before created_at counts at created_at, one after `now` is
 *     ignored.  The state at creation is the `before` of the first event of
 *     its kind (status, severity), else the ticket's current one; after
 *     that each event's `after` holds (t->status is not consulted again).
 *   - Statuses: awaiting-* pauses (sla_status_pauses); "closed" stops every
 *     clock; any other name, known or not, runs it.  Reopening (closed ->
 *     anything else) resumes every clock that had not met its own stop: the
 *     stop is undone (stopped false, stopped_at 0).  The first-response clock
 *     stays stopped after its response, even once reopened; the follow-up
 *     clock starts again at each response (started = that response, used and
 *     pauses from then on) and, stopped by a close, resumes with its time on
 *     a reopening.  The line clock starts at line_since (clamped to
 *     [created_at, now]).
 *   - Targets are the current plan's for the current severity (names as
 *     CFG_SEV_*, case-insensitive; none or unknown: resolution_minutes) and
 *     the current line (3: none), applied to the whole history.  NULL plan,
 *     or all limits 0: SLA_NONE, no due, breached_at or at_risk_at, but
 *     used, running, stopped and pauses are reported.  NULL cal: no working
 *     time (used 0, no working target; elapsed limits still count).
 *   - due/at_risk_at of a running or stopped clock: from its last resumption
 *     r, wt_add(cal, r, limit - used at r), or r + (elapsed limit - elapsed
 *     at r), the earlier; when the limit was already reached (a breach
 *     before a pause or a stop, or a severity lowering the target), the
 *     instant it was.  A stopped clock so keeps the due it had while it ran,
 *     even when it stopped before.  An instant the calendar never reaches
 *     (WT_NEVER) is none.  at_risk_percent is of each limit in seconds,
 *     rounded down.
 *   - breached_at <= min(now, stopped_at): reaching the target exactly at
 *     `now` or at the stop is a breach.
 *   - changes: "YYYY-MM-DD HH:MM <what>", in the calendar's time zone (UTC
 *     without one), oldest first, only what concerns the clock:
 *       created: target 4 h          created: target 7 h 30 min or 12 h elapsed
 *       created: no target, paused   started on line 2: target 48 h
 *       line 1 -> 2: started, target 48 h
 *       status open -> awaiting-client: paused
 *       status awaiting-client -> awaiting-parts: still paused
 *       status awaiting-client -> open: resumed
 *       closed: stopped              reopened: resumed
 *       reopened as awaiting-client: paused
 *       severity medium -> severe: target 8 h     (none: "none")
 *       plan silver -> gold: target 4 h   (the current plan's targets: a
 *                                          past plan's are not known)
 *       response by sam@x: stopped   response by sam@x: restarted
 *     Names are cut at 120 bytes, control characters shown as '?'.  At most
 *     SLA_MAX_CHANGES lines of history are kept, the last ones, after a
 *     first line "N earlier changes not shown"; at most SLA_MAX_PAUSES
 *     pauses, the last ones (n_pauses_dropped says how many went). */
#ifndef DESKMAIL_SLA_H
#define DESKMAIL_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/config.h"
#include "deskmail/worktime.h"

#define SLA_MAX_CHANGES 200 /* change lines kept a clock, plus one "N earlier" */
#define SLA_MAX_PAUSES 200  /* pauses kept a clock */

typedef enum {
	SLA_FIRST_RESPONSE,
	SLA_RESOLUTION,
	SLA_LINE,
	SLA_FOLLOW_UP,
	SLA_N_CLOCKS
} SlaClockKind;

typedef enum { SLA_NONE, SLA_RUNNING, SLA_PAUSED, SLA_MET, SLA_BREACHED } SlaState;

/* What happened to a ticket, in time order.  Strings are borrowed. */
typedef enum {
	SLA_EV_STATUS,   /* before -> after: status names */
	SLA_EV_SEVERITY, /* before -> after: severity names or NULL/"" for none */
	SLA_EV_LINE,     /* before -> after: "1", "2", "3" */
	SLA_EV_PLAN,     /* before -> after: plan names (the target changes) */
	SLA_EV_RESPONSE, /* a staff reply relayed to the client; actor: who */
} SlaEventKind;

typedef struct {
	int64_t at; /* Unix seconds */
	SlaEventKind kind;
	const char *before;
	const char *after;
	const char *actor; /* an address or "deskmail"; may be NULL */
} SlaEvent;

typedef struct {
	int64_t created_at;
	int64_t line_since;   /* arrival on the current line (>= created_at) */
	const char *status;   /* now; the status at creation is the before of the
				 first status event, else this */
	const char *severity; /* now; NULL or "" = none */
	int line;             /* now: 1..3 */
	const SlaEvent *events;
	size_t n_events;
	const CfgPlan *plan;   /* the current plan; NULL = no targets */
	const WtCalendar *cal; /* the ticket's calendar (client, plan or desk) */
	int64_t now;
} SlaTicket;

typedef struct {
	int64_t from;
	int64_t to;   /* 0 = still paused at `now` */
	char *status; /* the awaiting-* status */
} SlaPause;

typedef struct {
	SlaClockKind kind;
	SlaState state;
	bool running;         /* counting at `now` */
	bool stopped;         /* met its stop event, or the ticket is closed */
	bool at_risk;         /* used >= at_risk share at `now`, not yet breached */
	int64_t target;       /* working seconds; 0 = no working-time target */
	int64_t max_elapsed;  /* elapsed seconds (line clock); 0 = none */
	int64_t started;      /* when this clock started */
	int64_t stopped_at;   /* 0 unless stopped */
	int64_t used;         /* working seconds counted up to now (or the stop) */
	int64_t used_elapsed; /* elapsed running seconds up to now (or the stop) */
	int64_t due;          /* see the file comment; 0 = none */
	int64_t breached_at;  /* when used reached the target; 0 = not breached */
	int64_t at_risk_at;   /* see the file comment; 0 = none */
	SlaPause *pauses;     /* the paused intervals since `started`, before
				 any stop, oldest first; a stop ends one */
	size_t n_pauses;
	size_t n_pauses_dropped; /* earlier pauses not kept (SLA_MAX_PAUSES) */
	char **changes;          /* what set or moved it, one line each, oldest first:
				    "2026-12-24 16:00 severity medium -> severe: target 8 h";
				    NULL-terminated too */
	size_t n_changes;
} SlaClock;

typedef struct {
	SlaClock clocks[SLA_N_CLOCKS];
} SlaResult;

/* Compute the four clocks (clocks[k].kind == k).  *res is overwritten and
 * owns what it points to; free with sla_result_clear.  t NULL: four empty
 * clocks (SLA_NONE).  Allocates only the pauses and the change lines (and a
 * sorted copy of more than a few dozen events out of order). */
void sla_compute(const SlaTicket *t, SlaResult *res);
/* Frees what sla_compute allocated and zeroes *res; NULL is fine. */
void sla_result_clear(SlaResult *res);

/* "first-response", "resolution", "line", "follow-up" */
const char *sla_clock_name(SlaClockKind k);
/* "first response", "resolution", "support line", "follow-up": for people */
const char *sla_clock_title(SlaClockKind k);
/* "7 h 30 min", "45 min" of a length of time in seconds (its absolute
 * value), g_malloc'd: the digest and `ticket sla`. */
char *sla_span_text(int64_t secs);
/* "none", "running", "paused", "met", "breached" */
const char *sla_state_name(SlaState s);
/* true for the awaiting-* statuses */
bool sla_status_pauses(const char *status);

#endif
