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
 * paused or no target. */
#ifndef DESKMAIL_SLA_H
#define DESKMAIL_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/config.h"
#include "deskmail/worktime.h"

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
	int64_t line_since; /* arrival on the current line (>= created_at) */
	const char *status; /* now; the status at creation is the before of the
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
	int64_t to; /* 0 = still paused at `now` */
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
	SlaPause *pauses;     /* the paused intervals since `started` */
	size_t n_pauses;
	char **changes; /* what set or moved it, one line each, oldest first:
			   "2026-12-24 16:00 severity medium -> severe: target 8 h" */
	size_t n_changes;
} SlaClock;

typedef struct {
	SlaClock clocks[SLA_N_CLOCKS];
} SlaResult;

/* Compute the four clocks.  *res is overwritten; free with sla_result_clear. */
void sla_compute(const SlaTicket *t, SlaResult *res);
void sla_result_clear(SlaResult *res);

/* "first-response", "resolution", "line", "follow-up" */
const char *sla_clock_name(SlaClockKind k);
/* "none", "running", "paused", "met", "breached" */
const char *sla_state_name(SlaState s);
/* true for the awaiting-* statuses */
bool sla_status_pauses(const char *status);

#endif
