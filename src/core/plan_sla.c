/* plan_sla.c - the escalation pass's decisions for one ticket: pure.
 *
 * From a ticket's facts (its history as SlaEvents, the notices already
 * recorded) and the configuration it derives the clocks (sla.c) and plans:
 *
 *  - escalation by time: a ticket on line 1 or 2 whose line clock breached
 *    moves up one line; its new line counts from the instant the old one
 *    ran out (not from when the pass ran), so a late pass changes nothing;
 *    the new line's staff are told and so is the client (seed 002);
 *  - at-risk and breach notices of the first-response and resolution clocks
 *    to the assignee (else the line) and the client's account manager;
 *  - a follow-up notice to the assignee (else the line) when nobody has
 *    answered the client for follow_up_hours;
 *  - the due times to store and the next instant the pass has work.
 *
 * Each notice is keyed by ticket, clock, kind and due time (sla_notice and
 * the outbox's event keys), so it goes once however often the pass runs.
 * Staff notices about tickets that are not severe wait for the desk
 * calendar's working hours (PlanMail.not_before); mail to the client does
 * not wait. */
#include <string.h>

#include "plan-private.h"

const CfgPlan *plan_find(const Config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_plans; i++)
		if (strcmp(cfg->plans[i].name, name) == 0)
			return &cfg->plans[i];
	return NULL;
}

static const WtCalendar *calendar_named(const Config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_calendars; i++)
		if (strcmp(wt_calendar_name(cfg->calendars[i]), name) == 0)
			return cfg->calendars[i];
	return NULL;
}

const WtCalendar *plan_ticket_calendar(const Config *cfg, const char *client_calendar,
				       const CfgPlan *plan)
{
	const WtCalendar *c = calendar_named(cfg, client_calendar);
	if (c == NULL && plan != NULL)
		c = calendar_named(cfg, plan->calendar);
	return c != NULL ? c : cfg->desk_cal;
}

void sla_facts_clear(SlaFacts *f)
{
	ticket_fact_clear(&f->t);
	g_free(f->events);
	g_free(f->notices);
	if (f->strings)
		g_string_chunk_free(f->strings);
	memset(f, 0, sizeof *f);
}

static const char *const line_words[4] = {"", "1st", "2nd", "3rd"};

static bool notice_sent(const SlaNoticeFact *n, size_t count, SlaClockKind clock, const char *kind,
			int64_t due)
{
	for (size_t i = 0; n != NULL && i < count; i++)
		if (n[i].clock == clock && n[i].due == due && strcmp(n[i].kind, kind) == 0)
			return true;
	return false;
}

int64_t sla_next_action(const SlaResult *res, int line, const SlaNoticeFact *notices,
			size_t n_notices, int64_t now)
{
	int64_t next = 0;
#define CONSIDER(x)                                                                                \
	do {                                                                                       \
		int64_t x_ = (x);                                                                  \
		if (x_ > now && x_ != WT_NEVER && (next == 0 || x_ < next))                        \
			next = x_;                                                                 \
	} while (0)
	for (int k = 0; k < SLA_N_CLOCKS; k++) {
		const SlaClock *c = &res->clocks[k];
		if (!c->running || c->due == 0 || c->state == SLA_NONE)
			continue;
		if (k == SLA_LINE && line >= 3)
			continue;
		if ((k == SLA_FIRST_RESPONSE || k == SLA_RESOLUTION) && c->at_risk_at &&
		    !notice_sent(notices, n_notices, (SlaClockKind)k, "at-risk", c->due))
			CONSIDER(c->at_risk_at);
		CONSIDER(c->due);
	}
#undef CONSIDER
	return next;
}

static const WtCalendar *ticket_calendar(const SlaFacts *f, const Config *cfg,
					 const CfgPlan **plan_r)
{
	const CfgPlan *plan = plan_find(cfg, f->t.client.plan);
	*plan_r = plan;
	return plan_ticket_calendar(cfg, f->t.client.calendar, plan);
}

static void compute(const SlaFacts *f, const TicketFact *t, int64_t line_since, const CfgPlan *plan,
		    const WtCalendar *cal, SlaResult *res)
{
	SlaTicket st = {
		.created_at = f->created_at,
		.line_since = line_since,
		.status = t->status,
		.severity = t->severity,
		.line = t->line,
		.events = f->events,
		.n_events = f->n_events,
		.plan = plan,
		.cal = cal,
		.now = f->now,
	};
	sla_compute(&st, res);
}

void plan_sla_clocks(const SlaFacts *f, const Config *cfg, SlaResult *res, const WtCalendar **cal_r)
{
	const CfgPlan *plan;
	const WtCalendar *cal = ticket_calendar(f, cfg, &plan);
	compute(f, &f->t, f->line_since, plan, cal, res);
	if (cal_r)
		*cal_r = cal;
}

const char *plan_response_promise(Plan *p, const WtCalendar *cal, int64_t due)
{
	if (due <= 0 || due == WT_NEVER)
		return "We will reply as soon as we can.";
	char *when = wt_format(cal, due);
	const char *s = psf(p, "We will send you a first response by %s (%s time).", when,
			    wt_calendar_timezone(cal));
	g_free(when);
	return s;
}

/* "7.5 working hours" / "12 hours" */
static const char *hours_text(Plan *p, int64_t secs, bool working)
{
	int64_t m = secs / 60;
	const char *w = working ? "working " : "";
	if (m % 60 == 0)
		return psf(p, "%lld %shour%s", (long long)(m / 60), w, m == 60 ? "" : "s");
	return psf(p, "%lld.%02lld %shours", (long long)(m / 60), (long long)((m % 60) * 100 / 60),
		   w);
}

static const char *when_text(Plan *p, const WtCalendar *cal, int64_t t)
{
	if (t <= 0 || t == WT_NEVER)
		return "never";
	char *s = wt_format(cal, t);
	const char *r = ps(p, s);
	g_free(s);
	return r;
}

/* Staff mail waits for the desk's working hours unless the ticket is severe. */
static int64_t staff_not_before(const SlaFacts *f, const TicketFact *t, const Config *cfg)
{
	if (t->severity && strcmp(t->severity, "severe") == 0)
		return 0;
	if (wt_is_working(cfg->desk_cal, f->now))
		return 0;
	int64_t next = wt_next_working(cfg->desk_cal, f->now);
	return next == WT_NEVER ? 0 : next;
}

/* Queue a staff notice; the mails it made get not_before. */
static void staff_notice(Plan *p, const SlaFacts *f, const TicketFact *t, const PlanVars *view,
			 const Notice *n, const StaffList *staff, const Config *cfg)
{
	guint before = p->mails->len;
	plan_notify_staff(p, t, view, n, staff, cfg);
	int64_t nb = staff_not_before(f, t, cfg);
	for (guint i = before; i < p->mails->len; i++) {
		PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
		pm->not_before = nb;
		pm->in_reply_to = NULL;
	}
}

static void add_notice(SlaWrite *w, SlaClockKind clock, const char *kind, int64_t due)
{
	if (w->n_notices >= SLA_MAX_NOTICES)
		return;
	w->notices[w->n_notices].clock = clock;
	w->notices[w->n_notices].kind = kind;
	w->notices[w->n_notices].due = due;
	w->n_notices++;
}

/* Move the ticket up one line by time and tell the new line and the client. */
static void escalate(Plan *p, const SlaFacts *f, TicketFact *t, const SlaClock *lc,
		     const WtCalendar *cal, const StaffList *staff, const Config *cfg, SlaWrite *w)
{
	int from = t->line, to = t->line + 1;
	int64_t at = lc->breached_at;
	const char *limit =
		lc->target && lc->max_elapsed
			? psf(p, "%s, and never more than %s", hours_text(p, lc->target, true),
			      hours_text(p, lc->max_elapsed, false))
		: lc->target ? hours_text(p, lc->target, true)
			     : hours_text(p, lc->max_elapsed, false);
	const char *why =
		psf(p,
		    "on the %s line since %s: its limit of %s (time waiting not "
		    "counted) ran out at %s",
		    line_words[from], when_text(p, cal, lc->started), limit, when_text(p, cal, at));
	p->ticket_id = t->id;
	p->update.any = true;
	p->update.line = true;
	p->update.new_line = to;
	p->update.line_since = true;
	p->update.line_since_at = at;
	plan_event(p, t->id, "line-changed", "deskmail", "line", psf(p, "%d", from),
		   psf(p, "%d", to), psf(p, "escalated by time: %s", why));
	plan_note(p, "ticket #%lld escalated to the %s line: %s", (long long)t->id, line_words[to],
		  why);
	add_notice(w, SLA_LINE, "escalation", at);
	w->escalated_to = to;
	t->line = to;

	PlanVars view;
	ticket_vars(p, NULL, t, staff, cfg, &view);
	Notice n = {.kind = "notify-escalation",
		    .key = psf(p, "sla:%lld:line:escalation:%lld", (long long)t->id, (long long)at),
		    .title = psf(p, "Escalated to the %s line", line_words[to]),
		    .text = psf(p, "This ticket was %s.  It is now yours, %s line.", why,
				line_words[to]),
		    .who = NOTIFY_LINE,
		    .actor_name = cfg->desk_name,
		    .actor_email = cfg->desk_address};
	staff_notice(p, f, t, &view, &n, staff, cfg);

	plan_escalated_mail(
		p, t, &view,
		psf(p, "sla:%lld:escalated:%d:%lld", (long long)t->id, to, (long long)at), cfg);
}

static void clock_notice(Plan *p, const SlaFacts *f, const TicketFact *t, const SlaClock *c,
			 const char *kind, int64_t due, const WtCalendar *cal,
			 const StaffList *staff, const Config *cfg, SlaWrite *w)
{
	const char *name = sla_clock_name(c->kind);
	const char *title, *text;
	int64_t used_pct = c->target ? c->used * 100 / c->target : 0;
	if (strcmp(kind, "breach") == 0) {
		title = psf(p, "Service level breached: %s", sla_clock_title(c->kind));
		text = psf(p,
			   "The %s target of %s was due at %s and was not met.  Overdue by "
			   "%s.",
			   sla_clock_title(c->kind), hours_text(p, c->target, true),
			   when_text(p, cal, due),
			   hours_text(p, wt_between(cal, due, f->now), true));
	} else if (strcmp(kind, "at-risk") == 0) {
		title = psf(p, "At risk: %s due %s", sla_clock_title(c->kind),
			    when_text(p, cal, due));
		text = psf(p, "%lld%% of the %s target of %s is used; it is due at %s, in %s.",
			   (long long)used_pct, sla_clock_title(c->kind),
			   hours_text(p, c->target, true), when_text(p, cal, due),
			   hours_text(p, wt_between(cal, f->now, due), true));
	} else {
		title = "Follow-up: nobody has answered the client";
		text = psf(p,
			   "Nobody has answered the client since %s (%s).  Please reply or "
			   "set a waiting status.",
			   when_text(p, cal, c->started), hours_text(p, c->used, true));
	}
	PlanVars view;
	ticket_vars(p, NULL, t, staff, cfg, &view);
	Notice n = {
		.kind = psf(p, "sla-%s", kind),
		.key = psf(p, "sla:%lld:%s:%s:%lld", (long long)t->id, name, kind, (long long)due),
		.title = title,
		.text = text,
		.who = strcmp(kind, "follow-up") == 0 ? NOTIFY_ASSIGNEE : NOTIFY_ASSIGNEE_AM,
		.actor_name = cfg->desk_name,
		.actor_email = cfg->desk_address};
	staff_notice(p, f, t, &view, &n, staff, cfg);
	plan_event(p, t->id, psf(p, "sla-%s", kind), "deskmail", name, NULL, when_text(p, cal, due),
		   text);
	add_notice(w, c->kind, kind, due);
}

/* At 80 % and 100 % of the plan's hours_per_month the account manager is
 * told, once a month each (both crossed at once: one mail). */
static void allowance(Plan *p, const SlaFacts *f, const TicketFact *t, const CfgPlan *plan,
		      const StaffList *staff, const Config *cfg, SlaWrite *w)
{
	if (plan == NULL || plan->hours_per_month <= 0 || f->month_minutes <= 0 || !f->month[0])
		return;
	int64_t allowed = (int64_t)plan->hours_per_month * 60;
	int64_t pct = f->month_minutes * 100 / allowed;
	int level = pct >= 100 ? 100 : pct >= 80 ? 80 : 0;
	if (level == 0 || (level == 80 && f->allowance_sent_80) ||
	    (level == 100 && f->allowance_sent_100))
		return;
	if (!f->allowance_sent_80)
		w->allowance_periods[w->n_allowance++] = psf(p, "%s:80", f->month);
	if (level == 100)
		w->allowance_periods[w->n_allowance++] = psf(p, "%s:100", f->month);
	PlanVars view;
	ticket_vars(p, NULL, t, staff, cfg, &view);
	const char *used = hours_text(p, f->month_minutes * 60, false);
	Notice n = {.kind = "notify-allowance",
		    .key = psf(p, "allowance:%lld:%s:%d", (long long)t->client.id, f->month, level),
		    .title = psf(p, "%s has used %lld%% of its monthly hours", t->client.name,
				 (long long)pct),
		    .text = psf(p,
				"Client %s (plan %s) has recorded %s of work in %s, against %d "
				"hours a month (%lld%%).%s",
				t->client.name, plan->name, used, f->month, plan->hours_per_month,
				(long long)pct,
				level == 100 ? "  Further work is beyond the allowance: agree it "
					       "with the client."
					     : ""),
		    .who = NOTIFY_AM,
		    .actor_name = cfg->desk_name,
		    .actor_email = cfg->desk_address};
	plan_notify_staff(p, t, &view, &n, staff, cfg);
	plan_event(p, t->id, "allowance-notice", "deskmail", "hours_per_month", NULL,
		   psf(p, "%lld%%", (long long)pct), n.text);
}

void plan_sla(const SlaFacts *f, const StaffList *staff, const Config *cfg, Plan *p, SlaWrite *w)
{
	memset(w, 0, sizeof *w);
	p->outcome = PLAN_NONE;
	p->desk_address = cfg->desk_address;
	p->ticket_id = f->t.id;

	const CfgPlan *plan;
	const WtCalendar *cal = ticket_calendar(f, cfg, &plan);
	TicketFact t = f->t; /* shallow: the line may change below */
	int64_t line_since = f->line_since;
	SlaResult res;
	compute(f, &t, line_since, plan, cal, &res);

	/* escalation by time; a very late pass may find line 2 run out too */
	for (int k = 0; k < 2 && t.line < 3 && !t.closed; k++) {
		const SlaClock *lc = &res.clocks[SLA_LINE];
		if (lc->state != SLA_BREACHED || lc->breached_at <= 0 || lc->stopped)
			break;
		escalate(p, f, &t, lc, cal, staff, cfg, w);
		line_since = lc->breached_at;
		sla_result_clear(&res);
		compute(f, &t, line_since, plan, cal, &res);
	}

	/* notices: breach, else at-risk; follow-up */
	static const SlaClockKind watched[] = {SLA_FIRST_RESPONSE, SLA_RESOLUTION};
	for (size_t i = 0; i < G_N_ELEMENTS(watched) && !t.closed; i++) {
		const SlaClock *c = &res.clocks[watched[i]];
		if (c->state == SLA_NONE || c->stopped || c->target == 0)
			continue;
		if (c->state == SLA_BREACHED) {
			if (!notice_sent(f->notices, f->n_notices, c->kind, "breach",
					 c->breached_at))
				clock_notice(p, f, &t, c, "breach", c->breached_at, cal, staff, cfg,
					     w);
		} else if (c->at_risk && c->due &&
			   !notice_sent(f->notices, f->n_notices, c->kind, "at-risk", c->due)) {
			clock_notice(p, f, &t, c, "at-risk", c->due, cal, staff, cfg, w);
		}
	}
	const SlaClock *fu = &res.clocks[SLA_FOLLOW_UP];
	if (!t.closed && fu->state == SLA_BREACHED && fu->running && fu->breached_at > 0 &&
	    !notice_sent(f->notices, f->n_notices, SLA_FOLLOW_UP, "follow-up", fu->breached_at))
		clock_notice(p, f, &t, fu, "follow-up", fu->breached_at, cal, staff, cfg, w);

	allowance(p, f, &t, plan, staff, cfg, w);

	/* what to store */
	for (int k = 0; k < SLA_N_CLOCKS; k++) {
		const SlaClock *c = &res.clocks[k];
		w->due[k] = c->running && c->state != SLA_NONE && c->due != WT_NEVER ? c->due : 0;
		if (k == SLA_LINE && t.line >= 3)
			w->due[k] = 0;
		if ((k == SLA_FIRST_RESPONSE || k == SLA_RESOLUTION) && c->stopped &&
		    c->state != SLA_NONE && c->stopped_at > 0 && w->n_outcomes < SLA_N_CLOCKS) {
			w->outcomes[w->n_outcomes].clock = (SlaClockKind)k;
			w->outcomes[w->n_outcomes].met = c->state == SLA_MET;
			w->outcomes[w->n_outcomes].due = c->due;
			w->outcomes[w->n_outcomes].ended = c->stopped_at;
			w->n_outcomes++;
		}
	}
	/* the notices just planned count as sent for the next instant */
	SlaNoticeFact all[256];
	size_t n_all = 0;
	for (size_t i = 0; i < f->n_notices && n_all < G_N_ELEMENTS(all); i++)
		all[n_all++] = f->notices[i];
	for (size_t i = 0; i < w->n_notices && n_all < G_N_ELEMENTS(all); i++) {
		all[n_all].clock = w->notices[i].clock;
		g_strlcpy(all[n_all].kind, w->notices[i].kind, sizeof all[n_all].kind);
		all[n_all].due = w->notices[i].due;
		n_all++;
	}
	w->next = sla_next_action(&res, t.line, all, n_all, f->now);
	sla_result_clear(&res);
}
