/* sla.c - a ticket's service-level clocks, derived from its history.
 *
 * Pure: the events, the current plan, the calendar and `now` in, four
 * clocks out (deskmail/sla.h).  Each clock is one walk over the events in
 * time order: the ticket's state (status, severity) is followed from
 * creation, the clock starts, pauses, resumes and stops on it, and the
 * working time of each running interval is added with wt_between.  The
 * instants where the used time reaches the target and the at-risk share are
 * found inside the interval that crosses them (wt_add), so `due`,
 * `breached_at` and `at_risk_at` come out of the same walk; a clock costs one
 * wt_between per running interval and at most four wt_add calls.
 *
 * What it does not do: read the database, decide escalations or send mail
 * (desk/ does, from these numbers); nor know the targets of past plans or
 * severities as they were: every target is the current plan's, for the
 * current severity and line, over the whole history (a severity change
 * keeps the time used and sets the target again, as PRODUCT.md asks).
 *
 * The history is input (staff commands, mail): the events are copied and
 * sorted only when out of order (on the stack up to a few dozen), and what
 * is kept of it (pauses, change lines) is capped, oldest dropped. */
#include "deskmail/sla.h"

#include <glib.h>
#include <string.h>

/* Instants are clamped to [1970, 9999] so that no sum can overflow. */
#define TIME_MIN INT64_C(0)
#define TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define STACK_EVENTS 64
#define MAX_NAME_BYTES 120 /* of a status, severity, plan or actor in a line */

enum { THR_TARGET, THR_RISK, N_THR };

typedef enum {
	CH_CREATED,   /* created: <target> */
	CH_STARTED,   /* started on line N: <target> (no line event at line_since) */
	CH_LINE,      /* line a -> b: started, <target> */
	CH_PAUSED,    /* status a -> b: paused */
	CH_REPAUSED,  /* status a -> b: still paused */
	CH_RESUMED,   /* status a -> b: resumed */
	CH_CLOSED,    /* closed: stopped */
	CH_REOPENED,  /* reopened: resumed | reopened as b: paused */
	CH_SEVERITY,  /* severity a -> b: <target> */
	CH_PLAN,      /* plan a -> b: <target> */
	CH_RESPONDED, /* response by a: stopped */
	CH_RESTARTED, /* response by a: restarted */
} ChangeKind;

enum { ST_RUNNING, ST_PAUSED, ST_STOPPED };

typedef struct {
	int64_t at;
	int64_t work;    /* the target shown, working seconds */
	int64_t elapsed; /* and elapsed seconds */
	const char *a, *b;
	uint8_t what;  /* ChangeKind */
	uint8_t state; /* ST_*: after a start or a reopening */
} Change;

typedef struct {
	int64_t from, to;
	const char *status;
} Pause;

/* The last `cap` of what was pushed; item k (0-based, of `total`) lives in
 * slot k % cap.  Grows up to cap, then overwrites the oldest. */
typedef struct {
	char *buf;
	size_t elem, cap, alloc, len, total;
} Ring;

typedef struct {
	int64_t at; /* clamped to [created_at, TIME_MAX] */
	size_t i;   /* position in the input: ties keep it */
	const SlaEvent *e;
} Item;

/* The clocks mostly run over the same intervals (the status history is
 * theirs in common): each interval's working time is asked of the calendar
 * once, through a small direct-mapped cache. */
#define N_SPANS 32
typedef struct {
	struct {
		int64_t a, b, work;
	} slot[N_SPANS];
} Spans;

typedef struct {
	const SlaTicket *t;
	Spans *spans;
	SlaClockKind kind;
	int64_t created, now;
	int64_t work_thr[N_THR], el_thr[N_THR]; /* target and at-risk share */
	bool crossed_w[N_THR], crossed_e[N_THR];
	int64_t cross_w[N_THR], cross_e[N_THR];
	bool started, own_stop, closed, paused;
	const char *status, *severity;
	int64_t started_at, stop_at;
	int64_t seg_from; /* start of the running interval */
	int64_t r;        /* last resumption */
	int64_t used_r;   /* used at r */
	int64_t el_r;     /* used_elapsed at r */
	int64_t used, used_el;
	Ring pauses, changes;
} Walk;

typedef struct {
	bool run, pause;
	const char *status;
} Snap;

/* ---- small helpers ---- */

static int64_t clamp_time(int64_t t)
{
	return t < TIME_MIN ? TIME_MIN : t > TIME_MAX ? TIME_MAX : t;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool is_closed(const char *status)
{
	return status && strcmp(status, "closed") == 0;
}

static bool is_none(const char *s)
{
	return !s || !*s;
}

static int64_t minutes(int m)
{
	return m > 0 ? (int64_t)m * 60 : 0;
}

static int severity_index(const char *name)
{
	static const char *const names[CFG_N_SEV] = {
		[CFG_SEV_SEVERE] = "severe",           [CFG_SEV_HIGH] = "high",
		[CFG_SEV_MEDIUM] = "medium",           [CFG_SEV_LOW] = "low",
		[CFG_SEV_ENHANCEMENT] = "enhancement",
	};
	if (is_none(name))
		return -1;
	for (int i = 0; i < CFG_N_SEV; i++)
		if (g_ascii_strcasecmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* The target of clock k under the current plan, for `severity` (the
 * resolution clock) and the current line (the line clock). */
static void targets(const SlaTicket *t, SlaClockKind k, const char *severity, int64_t *work_r,
		    int64_t *el_r)
{
	const CfgPlan *p = t->plan;
	int64_t work = 0, el = 0;

	if (p) {
		switch (k) {
		case SLA_FIRST_RESPONSE:
			work = minutes(p->first_response_minutes);
			break;
		case SLA_RESOLUTION: {
			int i = severity_index(severity);
			work = minutes(i >= 0 ? p->severity_minutes[i] : p->resolution_minutes);
			break;
		}
		case SLA_LINE:
			if (t->line == 1) {
				work = minutes(p->line1_minutes);
				el = minutes(p->line1_max_elapsed_minutes);
			} else if (t->line == 2) {
				work = minutes(p->line2_minutes);
				el = minutes(p->line2_max_elapsed_minutes);
			}
			break;
		case SLA_FOLLOW_UP:
			work = minutes(p->follow_up_minutes);
			break;
		default:
			break;
		}
	}
	if (!t->cal)
		work = 0; /* no calendar, no working time */
	*work_r = work;
	*el_r = el;
}

static void *ring_push(Ring *r)
{
	size_t slot;

	if (r->len < r->cap) {
		if (r->len == r->alloc) {
			r->alloc = r->alloc ? MIN(r->alloc * 2, r->cap) : MIN((size_t)8, r->cap);
			r->buf = g_realloc_n(r->buf, r->alloc, r->elem);
		}
		slot = r->len++;
	} else {
		slot = r->total % r->cap;
	}
	r->total++;
	return r->buf + slot * r->elem;
}

/* The i-th kept item, oldest first. */
static void *ring_get(const Ring *r, size_t i)
{
	return r->buf + ((r->total - r->len + i) % r->cap) * r->elem;
}

static void ring_reset(Ring *r)
{
	r->len = 0;
	r->total = 0;
}

/* ---- the walk ---- */

static bool active(const Walk *w)
{
	return w->started && !w->own_stop && !w->closed;
}

static bool running(const Walk *w)
{
	return active(w) && !w->paused;
}

static bool pausing(const Walk *w)
{
	return active(w) && w->paused;
}

static Snap snap(const Walk *w)
{
	return (Snap){running(w), pausing(w), w->status};
}

/* Count the running interval [a, b): its working and elapsed time, and the
 * instants inside it where the thresholds are reached. */
static void account(Walk *w, int64_t a, int64_t b)
{
	if (b <= a)
		return;
	int64_t work = 0;
	if (w->t->cal) {
		size_t k = (size_t)(((uint64_t)a * 31 + (uint64_t)b) % N_SPANS);
		if (w->spans->slot[k].a != a || w->spans->slot[k].b != b)
			w->spans->slot[k].work = wt_between(w->t->cal, a, b);
		w->spans->slot[k].a = a;
		w->spans->slot[k].b = b;
		work = w->spans->slot[k].work;
	}
	int64_t el = b - a;

	for (int i = 0; i < N_THR; i++) {
		int64_t thr = w->work_thr[i];
		if (thr > 0 && !w->crossed_w[i] && w->used + work >= thr) {
			int64_t u = wt_add(w->t->cal, a, thr - w->used);
			w->crossed_w[i] = true;
			w->cross_w[i] = MIN(u, b);
		}
		thr = w->el_thr[i];
		if (thr > 0 && !w->crossed_e[i] && w->used_el + el >= thr) {
			w->crossed_e[i] = true;
			w->cross_e[i] = a + (thr - w->used_el);
		}
	}
	w->used += work;
	w->used_el += el;
}

/* After a change at `at`: close or open the running interval and the
 * paused interval. */
static void settle(Walk *w, Snap s, int64_t at)
{
	bool run = running(w), pz = pausing(w);
	bool same = str_eq(s.status, w->status);

	if (s.run && !run)
		account(w, w->seg_from, at);
	if (!s.run && run) {
		w->seg_from = w->r = at;
		w->used_r = w->used;
		w->el_r = w->used_el;
	}
	if (s.pause && (!pz || !same) && w->pauses.len > 0) {
		Pause *p = ring_get(&w->pauses, w->pauses.len - 1);
		p->to = at;
	}
	if (pz && (!s.pause || !same)) {
		Pause *p = ring_push(&w->pauses);
		*p = (Pause){at, 0, w->status};
	}
}

static void change(Walk *w, int64_t at, ChangeKind what, const char *a, const char *b, int64_t work,
		   int64_t el)
{
	Change *c = ring_push(&w->changes);
	*c = (Change){.at = at, .work = work, .elapsed = el, .a = a, .b = b, .what = what};
	c->state = w->closed ? ST_STOPPED : w->paused ? ST_PAUSED : ST_RUNNING;
}

static void start(Walk *w, int64_t at, const SlaEvent *line_ev)
{
	Snap s = snap(w);
	int64_t work, el;

	w->started = true;
	w->started_at = at;
	w->r = w->seg_from = at; /* a clock that never runs is due from here */
	if (w->closed)
		w->stop_at = at;
	settle(w, s, at);
	targets(w->t, w->kind, w->severity, &work, &el);
	if (w->kind != SLA_LINE || (!line_ev && at == w->created))
		change(w, at, CH_CREATED, NULL, NULL, work, el);
	else if (line_ev)
		change(w, at, CH_LINE, line_ev->before, line_ev->after, work, el);
	else
		change(w, at, CH_STARTED, NULL, NULL, work, el);
}

static void on_status(Walk *w, const SlaEvent *e, int64_t at)
{
	bool was_closed = w->closed, was_paused = w->paused;
	const char *prev = e->before ? e->before : w->status;
	bool concerned = w->started && !w->own_stop;
	bool same = str_eq(w->status, e->after);

	w->status = e->after;
	w->closed = is_closed(e->after);
	w->paused = !w->closed && sla_status_pauses(e->after);
	if (!concerned)
		return;
	if (!was_closed && w->closed) {
		w->stop_at = at;
		change(w, at, CH_CLOSED, prev, e->after, 0, 0);
	} else if (was_closed && !w->closed) {
		w->stop_at = 0;
		change(w, at, CH_REOPENED, prev, e->after, 0, 0);
	} else if (!w->closed) {
		if (!was_paused && w->paused)
			change(w, at, CH_PAUSED, prev, e->after, 0, 0);
		else if (was_paused && !w->paused)
			change(w, at, CH_RESUMED, prev, e->after, 0, 0);
		else if (was_paused && !same)
			change(w, at, CH_REPAUSED, prev, e->after, 0, 0);
	}
}

static void apply(Walk *w, const SlaEvent *e, int64_t at)
{
	Snap s = snap(w);
	int64_t work, el;

	switch (e->kind) {
	case SLA_EV_STATUS:
		on_status(w, e, at);
		break;
	case SLA_EV_SEVERITY:
		w->severity = e->after;
		if (w->kind == SLA_RESOLUTION && w->started) {
			targets(w->t, w->kind, w->severity, &work, &el);
			change(w, at, CH_SEVERITY, e->before, e->after, work, el);
		}
		break;
	case SLA_EV_PLAN:
		if (w->started && !w->own_stop) {
			targets(w->t, w->kind, w->severity, &work, &el);
			change(w, at, CH_PLAN, e->before, e->after, work, el);
		}
		break;
	case SLA_EV_RESPONSE:
		if (w->kind == SLA_FIRST_RESPONSE && w->started && !w->own_stop) {
			if (!w->closed)
				w->stop_at = at;
			w->own_stop = true;
			change(w, at, CH_RESPONDED, e->actor, NULL, 0, 0);
		} else if (w->kind == SLA_FOLLOW_UP && w->started) {
			/* the clock starts again: what came before is not its */
			if (s.run)
				account(w, w->seg_from, at);
			w->used = w->used_el = 0;
			w->used_r = w->el_r = 0;
			w->r = w->seg_from = at;
			for (int i = 0; i < N_THR; i++)
				w->crossed_w[i] = w->crossed_e[i] = false;
			w->started_at = at;
			if (w->closed)
				w->stop_at = at;
			ring_reset(&w->pauses);
			s.run = s.pause = false;
			change(w, at, CH_RESTARTED, e->actor, NULL, 0, 0);
		}
		break;
	case SLA_EV_LINE: /* the line clock starts at line_since */
	default:
		break;
	}
	settle(w, s, at);
}

static void walk(Walk *w, const Item *items, size_t n, int64_t start_at, const SlaEvent *line_ev)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i].at > w->now)
			break; /* not yet happened */
		if (!w->started && items[i].at >= start_at)
			start(w, start_at, line_ev);
		apply(w, items[i].e, items[i].at);
	}
	if (!w->started)
		start(w, start_at, line_ev);
	if (running(w))
		account(w, w->seg_from, w->now);
}

/* The instant the used time reaches threshold i: where it did, else going
 * on from the last resumption; 0 = none (no threshold, or a calendar that
 * never works again). */
static int64_t projected(const Walk *w, int i)
{
	int64_t best = 0;
	bool have = false;

	if (w->work_thr[i] > 0) {
		int64_t u = w->crossed_w[i] ? w->cross_w[i]
					    : wt_add(w->t->cal, w->r, w->work_thr[i] - w->used_r);
		if (u != WT_NEVER) {
			best = u;
			have = true;
		}
	}
	if (w->el_thr[i] > 0) {
		int64_t u = w->crossed_e[i] ? w->cross_e[i] : w->r + (w->el_thr[i] - w->el_r);
		if (!have || u < best)
			best = u;
		have = true;
	}
	return have ? best : 0;
}

/* ---- the change lines ---- */

/* Append s without control characters, cut at MAX_NAME_BYTES (on a UTF-8
 * character boundary). */
static void append_name(GString *out, const char *s, const char *none)
{
	if (is_none(s)) {
		g_string_append(out, none);
		return;
	}
	size_t n = strlen(s);
	if (n > MAX_NAME_BYTES) {
		n = MAX_NAME_BYTES;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		g_string_append_c(out, c < 0x20 || c == 0x7F ? '?' : (char)c);
	}
	if (n < strlen(s))
		g_string_append(out, "...");
}

static void append_duration(GString *out, int64_t sec)
{
	int64_t m = sec / 60, h = m / 60;

	m %= 60;
	if (h && m)
		g_string_append_printf(out, "%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT " min", h,
				       m);
	else if (h)
		g_string_append_printf(out, "%" G_GINT64_FORMAT " h", h);
	else
		g_string_append_printf(out, "%" G_GINT64_FORMAT " min", m);
}

static void append_target(GString *out, int64_t work, int64_t el)
{
	if (!work && !el) {
		g_string_append(out, "no target");
		return;
	}
	g_string_append(out, "target ");
	if (work)
		append_duration(out, work);
	if (work && el)
		g_string_append(out, " or ");
	if (el) {
		append_duration(out, el);
		g_string_append(out, " elapsed");
	}
}

/* Timestamps in the calendar's zone (wt_format_iso, cut), or in UTC
 * without a calendar.  The clocks share their events' instants: each is
 * formatted once, in a small direct-mapped cache.  (Not a GTimeZone of our
 * own: GLib reads and parses the zone file again for each new one.) */
#define N_STAMPS 64
typedef struct {
	const WtCalendar *cal;
	struct {
		int64_t t;
		bool set;
		char s[24]; /* "YYYY-MM-DD HH:MM " */
	} slot[N_STAMPS];
} Stamps;

static void put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYY-MM-DD HH:MM " */
static void append_time(GString *out, Stamps *st, int64_t t)
{
	size_t k = (size_t)((uint64_t)t / 60 % N_STAMPS);
	char *s = st->slot[k].s;

	if (!st->slot[k].set || st->slot[k].t != t) {
		/* "2026-12-28T11:30:00+00:00" */
		char *iso = st->cal ? wt_format_iso(st->cal, t) : NULL;
		if (iso && strlen(iso) >= 16 && iso[10] == 'T') {
			memcpy(s, iso, 16);
			s[10] = ' ';
			s[16] = ' ';
		} else {
			int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), y;
			int64_t sec = t - days * 86400;
			int mo, d;
			wt_civil_from_days(days, &y, &mo, &d);
			memcpy(s, "0000-00-00 00:00 ", 18);
			put_digits(s, CLAMP(y, 0, 9999), 4);
			put_digits(s + 5, mo, 2);
			put_digits(s + 8, d, 2);
			put_digits(s + 11, sec / 3600, 2);
			put_digits(s + 14, sec / 60 % 60, 2);
		}
		g_free(iso);
		st->slot[k].t = t;
		st->slot[k].set = true;
	}
	g_string_append_len(out, s, 17);
}

static char *format_change(const Change *c, const SlaTicket *t, Stamps *st)
{
	GString *s = g_string_sized_new(64);
	static const char *const suffix[] = {"", ", paused", ", stopped"};

	append_time(s, st, c->at);
	switch ((ChangeKind)c->what) {
	case CH_CREATED:
		g_string_append(s, "created: ");
		append_target(s, c->work, c->elapsed);
		g_string_append(s, suffix[c->state]);
		break;
	case CH_STARTED:
		g_string_append_printf(s, "started on line %d: ", t->line);
		append_target(s, c->work, c->elapsed);
		g_string_append(s, suffix[c->state]);
		break;
	case CH_LINE:
		g_string_append(s, "line ");
		append_name(s, c->a, "?");
		g_string_append(s, " -> ");
		append_name(s, c->b, "?");
		g_string_append(s, ": started, ");
		append_target(s, c->work, c->elapsed);
		g_string_append(s, suffix[c->state]);
		break;
	case CH_PAUSED:
	case CH_REPAUSED:
	case CH_RESUMED:
		g_string_append(s, "status ");
		append_name(s, c->a, "none");
		g_string_append(s, " -> ");
		append_name(s, c->b, "none");
		g_string_append(s, c->what == CH_PAUSED     ? ": paused"
				   : c->what == CH_REPAUSED ? ": still paused"
							    : ": resumed");
		break;
	case CH_CLOSED:
		g_string_append(s, "closed: stopped");
		break;
	case CH_REOPENED:
		if (c->state == ST_PAUSED) {
			g_string_append(s, "reopened as ");
			append_name(s, c->b, "none");
			g_string_append(s, ": paused");
		} else {
			g_string_append(s, "reopened: resumed");
		}
		break;
	case CH_SEVERITY:
	case CH_PLAN:
		g_string_append(s, c->what == CH_SEVERITY ? "severity " : "plan ");
		append_name(s, c->a, "none");
		g_string_append(s, " -> ");
		append_name(s, c->b, "none");
		g_string_append(s, ": ");
		append_target(s, c->work, c->elapsed);
		break;
	case CH_RESPONDED:
	case CH_RESTARTED:
		g_string_append(s, "response");
		if (!is_none(c->a)) {
			g_string_append(s, " by ");
			append_name(s, c->a, "");
		}
		g_string_append(s, c->what == CH_RESPONDED ? ": stopped" : ": restarted");
		break;
	}
	return g_string_free(s, FALSE);
}

/* ---- the result ---- */

static void finish(Walk *w, SlaClock *c, Stamps *st)
{
	bool has = w->work_thr[THR_TARGET] > 0 || w->el_thr[THR_TARGET] > 0;

	c->kind = w->kind;
	c->target = w->work_thr[THR_TARGET];
	c->max_elapsed = w->el_thr[THR_TARGET];
	c->running = running(w);
	c->stopped = w->own_stop || w->closed;
	c->started = w->started_at;
	c->stopped_at = c->stopped ? w->stop_at : 0;
	c->used = w->used;
	c->used_elapsed = w->used_el;
	if (has) {
		bool breached = w->crossed_w[THR_TARGET] || w->crossed_e[THR_TARGET];
		int64_t b = w->crossed_w[THR_TARGET] ? w->cross_w[THR_TARGET] : INT64_MAX;
		if (w->crossed_e[THR_TARGET])
			b = MIN(b, w->cross_e[THR_TARGET]);
		c->breached_at = breached ? b : 0;
		c->due = pausing(w) ? 0 : projected(w, THR_TARGET);
		c->at_risk_at = pausing(w) ? 0 : projected(w, THR_RISK);
		c->at_risk = c->running && c->at_risk_at && w->now >= c->at_risk_at && !breached;
		c->state = breached     ? SLA_BREACHED
			   : c->stopped ? SLA_MET
			   : pausing(w) ? SLA_PAUSED
					: SLA_RUNNING;
	} else {
		c->state = SLA_NONE;
	}

	c->n_pauses = w->pauses.len;
	c->n_pauses_dropped = w->pauses.total - w->pauses.len;
	c->pauses = c->n_pauses ? g_new(SlaPause, c->n_pauses) : NULL;
	for (size_t i = 0; i < c->n_pauses; i++) {
		const Pause *p = ring_get(&w->pauses, i);
		c->pauses[i] = (SlaPause){p->from, p->to, g_strdup(p->status ? p->status : "")};
	}

	size_t dropped = w->changes.total - w->changes.len, k = 0;
	c->n_changes = w->changes.len + (dropped > 0);
	c->changes = g_new(char *, c->n_changes + 1);
	if (dropped)
		c->changes[k++] = g_strdup_printf("%zu earlier changes not shown", dropped);
	for (size_t i = 0; i < w->changes.len; i++)
		c->changes[k++] = format_change(ring_get(&w->changes, i), w->t, st);
	c->changes[k] = NULL;

	g_free(w->pauses.buf);
	g_free(w->changes.buf);
}

static int item_cmp(const void *a, const void *b)
{
	const Item *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void sla_compute(const SlaTicket *t, SlaResult *res)
{
	Item stack_items[STACK_EVENTS];
	Item *items = stack_items;
	size_t n = 0;
	bool sorted = true;

	memset(res, 0, sizeof(*res));
	for (int k = 0; k < SLA_N_CLOCKS; k++)
		res->clocks[k].kind = (SlaClockKind)k;
	if (!t)
		return;

	int64_t created = clamp_time(t->created_at);
	int64_t now = clamp_time(t->now);
	int64_t line_since = clamp_time(t->line_since);
	line_since = MAX(created, MIN(line_since, MAX(created, now)));

	if (t->events && t->n_events > 0) {
		n = t->n_events;
		if (n > STACK_EVENTS)
			items = g_new(Item, n);
		for (size_t i = 0; i < n; i++) {
			items[i] =
				(Item){MAX(clamp_time(t->events[i].at), created), i, &t->events[i]};
			if (i > 0 && items[i].at < items[i - 1].at)
				sorted = false;
		}
		if (!sorted)
			qsort(items, n, sizeof(*items), item_cmp);
	}

	/* the state at creation, and the line event that began line_since */
	const char *status0 = t->status, *severity0 = t->severity;
	bool have_status = false, have_severity = false;
	const SlaEvent *line_ev = NULL;
	for (size_t i = 0; i < n; i++) {
		const SlaEvent *e = items[i].e;
		if (e->kind == SLA_EV_STATUS && !have_status) {
			status0 = e->before;
			have_status = true;
		} else if (e->kind == SLA_EV_SEVERITY && !have_severity) {
			severity0 = e->before;
			have_severity = true;
		} else if (e->kind == SLA_EV_LINE && items[i].at == line_since) {
			line_ev = e;
		}
	}

	Stamps st;
	Spans spans;
	st.cal = t->cal;
	for (size_t i = 0; i < N_SPANS; i++)
		spans.slot[i].a = spans.slot[i].b = -1; /* b > a in every real one */
	for (size_t i = 0; i < N_STAMPS; i++)
		st.slot[i].set = false;

	int pct = t->plan ? CLAMP(t->plan->at_risk_percent, 0, 100) : 0;
	for (int k = 0; k < SLA_N_CLOCKS; k++) {
		Walk w = {
			.t = t,
			.spans = &spans,
			.kind = (SlaClockKind)k,
			.created = created,
			.now = now,
			.status = status0,
			.severity = severity0,
			.pauses = {.elem = sizeof(Pause), .cap = SLA_MAX_PAUSES},
			.changes = {.elem = sizeof(Change), .cap = SLA_MAX_CHANGES},
		};
		w.closed = is_closed(status0);
		w.paused = !w.closed && sla_status_pauses(status0);
		targets(t, w.kind, t->severity, &w.work_thr[THR_TARGET], &w.el_thr[THR_TARGET]);
		w.work_thr[THR_RISK] = w.work_thr[THR_TARGET] * pct / 100;
		w.el_thr[THR_RISK] = w.el_thr[THR_TARGET] * pct / 100;
		walk(&w, items, n, k == SLA_LINE ? line_since : created, line_ev);
		finish(&w, &res->clocks[k], &st);
	}

	if (items != stack_items)
		g_free(items);
}

void sla_result_clear(SlaResult *res)
{
	if (!res)
		return;
	for (int k = 0; k < SLA_N_CLOCKS; k++) {
		SlaClock *c = &res->clocks[k];
		for (size_t i = 0; i < c->n_pauses; i++)
			g_free(c->pauses[i].status);
		g_free(c->pauses);
		if (c->changes)
			for (size_t i = 0; i < c->n_changes; i++)
				g_free(c->changes[i]);
		g_free(c->changes);
	}
	memset(res, 0, sizeof(*res));
}

const char *sla_clock_name(SlaClockKind k)
{
	switch (k) {
	case SLA_FIRST_RESPONSE:
		return "first-response";
	case SLA_RESOLUTION:
		return "resolution";
	case SLA_LINE:
		return "line";
	case SLA_FOLLOW_UP:
		return "follow-up";
	default:
		return "?";
	}
}

const char *sla_state_name(SlaState s)
{
	switch (s) {
	case SLA_NONE:
		return "none";
	case SLA_RUNNING:
		return "running";
	case SLA_PAUSED:
		return "paused";
	case SLA_MET:
		return "met";
	case SLA_BREACHED:
		return "breached";
	default:
		return "?";
	}
}

bool sla_status_pauses(const char *status)
{
	return status && strncmp(status, "awaiting-", 9) == 0 && status[9] != '\0';
}

const char *sla_clock_title(SlaClockKind k)
{
	switch (k) {
	case SLA_FIRST_RESPONSE:
		return "first response";
	case SLA_RESOLUTION:
		return "resolution";
	case SLA_LINE:
		return "support line";
	case SLA_FOLLOW_UP:
		return "follow-up";
	case SLA_N_CLOCKS:
		break;
	}
	return "?";
}

char *sla_span_text(int64_t secs)
{
	int64_t m = (secs < 0 ? -(secs / 60) : secs / 60);
	if (m >= 60)
		return g_strdup_printf("%lld h %02lld min", (long long)(m / 60),
				       (long long)(m % 60));
	return g_strdup_printf("%lld min", (long long)m);
}
