/* plan_digest.c - the breach digest for managers: pure.
 *
 * From the candidate tickets (their clocks derived here exactly as the
 * escalation pass derives them), the outcomes of the last weeks and the
 * month's #time it writes one text: breached and at-risk tickets grouped by
 * client and plan, each with line, assignee, severity, due and overdue (or
 * left) time in working hours; counts per plan; the share of clocks that
 * met their target over the last DIGEST_WEEKS weeks; the hours used of
 * plans with an allowance.  The same text goes to every manager; the HTML
 * part adds a chart of the weekly shares (drawn by the desk). */
#include <string.h>

#include "plan-private.h"

void digest_facts_clear(DigestFacts *d)
{
	for (size_t i = 0; i < d->n_tickets; i++)
		sla_facts_clear(&d->tickets[i]);
	g_free(d->tickets);
	for (size_t i = 0; i < d->n_outcomes; i++)
		g_free(d->outcomes[i].plan);
	g_free(d->outcomes);
	for (size_t i = 0; i < d->n_allowances; i++) {
		g_free(d->allowances[i].client);
		g_free(d->allowances[i].plan);
	}
	g_free(d->allowances);
	for (size_t i = 0; i < d->n_open; i++)
		g_free(d->open[i].plan);
	g_free(d->open);
	memset(d, 0, sizeof *d);
}

/* One line of the breached or at-risk list. */
typedef struct {
	const SlaFacts *f;
	const WtCalendar *cal;
	bool breached;
	SlaClockKind clock; /* the most urgent clock */
	int64_t due;
	int64_t working; /* overdue (breached) or left (at risk), working seconds */
} Row;

static int row_cmp(const void *a, const void *b)
{
	const Row *x = a, *y = b;
	const char *cx = x->f->t.client.name ? x->f->t.client.name : "";
	const char *cy = y->f->t.client.name ? y->f->t.client.name : "";
	int c = g_utf8_collate(cx, cy);
	if (c)
		return c;
	c = strcmp(x->f->t.client.plan ? x->f->t.client.plan : "",
		   y->f->t.client.plan ? y->f->t.client.plan : "");
	if (c)
		return c;
	return x->f->t.id < y->f->t.id ? -1 : x->f->t.id > y->f->t.id;
}

/* Classify one ticket; false when it is neither breached nor at risk. */
static bool classify(const SlaFacts *f, const Config *cfg, Row *r)
{
	SlaResult res;
	const WtCalendar *cal;
	plan_sla_clocks(f, cfg, &res, &cal);
	memset(r, 0, sizeof *r);
	r->f = f;
	r->cal = cal;
	bool found = false;
	static const SlaClockKind watched[] = {SLA_FIRST_RESPONSE, SLA_RESOLUTION, SLA_LINE};
	for (size_t i = 0; i < G_N_ELEMENTS(watched); i++) {
		const SlaClock *c = &res.clocks[watched[i]];
		if (c->state == SLA_NONE || c->stopped)
			continue;
		if (c->state == SLA_BREACHED && c->breached_at > 0) {
			int64_t over = wt_between(cal, c->breached_at, f->now);
			if (!r->breached || over > r->working) {
				r->breached = true;
				r->clock = c->kind;
				r->due = c->breached_at;
				r->working = over;
			}
			found = true;
		} else if (c->at_risk && !r->breached && c->due > 0) {
			int64_t left = wt_between(cal, f->now, c->due);
			if (!found || left < r->working) {
				r->clock = c->kind;
				r->due = c->due;
				r->working = left;
			}
			found = true;
		}
	}
	sla_result_clear(&res);
	return found;
}

static void list_rows(GString *s, Plan *p, const Row *rows, size_t n, const StaffList *staff)
{
	const char *client = NULL, *plan = NULL;
	for (size_t i = 0; i < n; i++) {
		const Row *r = &rows[i];
		const TicketFact *t = &r->f->t;
		if (client == NULL || strcmp(client, t->client.name ? t->client.name : "") != 0 ||
		    strcmp(plan, t->client.plan ? t->client.plan : "") != 0) {
			client = t->client.name ? t->client.name : "";
			plan = t->client.plan ? t->client.plan : "";
			g_string_append_printf(s, "  %s (plan %s)\n", client, plan);
		}
		const StaffFact *a = staff_by_id(staff, t->assignee_id);
		char *when = wt_format(r->cal, r->due);
		char *w = sla_span_text(r->working);
		g_string_append_printf(
			s, "    #%lld  %s %s %s working (due %s)\n         line %d, %s, %s: %s\n",
			(long long)t->id, sla_clock_title(r->clock),
			r->breached ? "overdue by" : "due in", w, when, t->line,
			t->severity ? t->severity : "no severity", a ? a->email : "unassigned",
			t->subject ? t->subject : "");
		g_free(when);
		g_free(w);
	}
	(void)p;
}

static int plan_index(DigestChart *chart, const char *plan)
{
	for (size_t i = 0; i < chart->n_plans; i++)
		if (strcmp(chart->plans[i], plan) == 0)
			return (int)i;
	if (chart->n_plans >= G_N_ELEMENTS(chart->plans))
		return -1;
	chart->plans[chart->n_plans] = plan;
	for (int w = 0; w < DIGEST_WEEKS; w++)
		chart->percent[chart->n_plans][w] = -1;
	return (int)chart->n_plans++;
}

void plan_digest(const DigestFacts *d, const StaffList *staff, const int64_t *to, size_t n_to,
		 const Config *cfg, Plan *p, const char **text_r, DigestChart *chart)
{
	p->outcome = PLAN_NONE;
	p->desk_address = cfg->desk_address;
	memset(chart, 0, sizeof *chart);
	GString *s = g_string_new(NULL);
	char *now = wt_format(cfg->desk_cal, d->now);
	g_string_append_printf(s, "Service levels at %s (%s).\n\n", now,
			       wt_calendar_timezone(cfg->desk_cal));
	g_free(now);

	/* breached and at risk */
	Row *rows = g_new0(Row, d->n_tickets + 1);
	size_t n_breached = 0, n_risk = 0;
	for (size_t i = 0; i < d->n_tickets; i++) {
		Row r;
		if (!classify(&d->tickets[i], cfg, &r))
			continue;
		rows[n_breached + n_risk] = r;
		if (r.breached)
			n_breached++;
		else
			n_risk++;
	}
	size_t n_rows = n_breached + n_risk;
	/* breached first, each group by client and plan */
	Row *b = g_new0(Row, n_rows + 1), *a = g_new0(Row, n_rows + 1);
	size_t nb = 0, na = 0;
	for (size_t i = 0; i < n_rows; i++) {
		if (rows[i].breached)
			b[nb++] = rows[i];
		else
			a[na++] = rows[i];
	}
	qsort(b, nb, sizeof *b, row_cmp);
	qsort(a, na, sizeof *a, row_cmp);
	if (d->candidates > (int64_t)d->n_tickets)
		g_string_append_printf(s,
				       "Only the first %zu of %lld tickets to look at are in this "
				       "digest: see `deskmail ticket list --due` for all.\n\n",
				       d->n_tickets, (long long)d->candidates);
	g_string_append_printf(s, "BREACHED: %zu ticket(s)\n", nb);
	list_rows(s, p, b, nb, staff);
	if (nb == 0)
		g_string_append(s, "  none\n");
	g_string_append_printf(s, "\nAT RISK: %zu ticket(s)\n", na);
	list_rows(s, p, a, na, staff);
	if (na == 0)
		g_string_append(s, "  none\n");

	/* per plan */
	g_string_append(s, "\nOPEN TICKETS PER PLAN\n");
	for (size_t i = 0; i < d->n_open; i++) {
		size_t br = 0, rk = 0;
		for (size_t k = 0; k < nb; k++)
			br += g_strcmp0(b[k].f->t.client.plan, d->open[i].plan) == 0;
		for (size_t k = 0; k < na; k++)
			rk += g_strcmp0(a[k].f->t.client.plan, d->open[i].plan) == 0;
		g_string_append_printf(s, "  %-22s %6lld open, %zu breached, %zu at risk\n",
				       d->open[i].plan, (long long)d->open[i].open, br, rk);
	}
	if (d->n_open == 0)
		g_string_append(s, "  no open tickets\n");

	/* targets met over the weeks: first response and resolution together
	 * for the chart, each apart in the text */
	g_string_append_printf(s, "\nTARGETS MET IN THE LAST %d WEEKS\n", DIGEST_WEEKS);
	int64_t met[16][SLA_N_CLOCKS] = {{0}}, total[16][SLA_N_CLOCKS] = {{0}};
	int64_t wmet[16][DIGEST_WEEKS] = {{0}}, wtot[16][DIGEST_WEEKS] = {{0}};
	for (size_t i = 0; i < d->n_outcomes; i++) {
		const DigestOutcome *o = &d->outcomes[i];
		int k = plan_index(chart, o->plan);
		if (k < 0 || o->week < 0 || o->week >= DIGEST_WEEKS)
			continue;
		met[k][o->clock] += o->met;
		total[k][o->clock] += o->total;
		wmet[k][o->week] += o->met;
		wtot[k][o->week] += o->total;
	}
	for (size_t k = 0; k < chart->n_plans; k++) {
		g_string_append_printf(s, "  %-22s", chart->plans[k]);
		static const SlaClockKind shown[] = {SLA_FIRST_RESPONSE, SLA_RESOLUTION};
		for (size_t c = 0; c < G_N_ELEMENTS(shown); c++) {
			int64_t m = met[k][shown[c]], t = total[k][shown[c]];
			if (t)
				g_string_append_printf(s, "  %s %lld of %lld (%lld%%)",
						       sla_clock_title(shown[c]), (long long)m,
						       (long long)t, (long long)(m * 100 / t));
			else
				g_string_append_printf(s, "  %s -", sla_clock_title(shown[c]));
		}
		g_string_append_c(s, '\n');
		for (int w = 0; w < DIGEST_WEEKS; w++)
			chart->percent[k][w] =
				wtot[k][w] ? (int)(wmet[k][w] * 100 / wtot[k][w]) : -1;
	}
	if (chart->n_plans == 0)
		g_string_append(s, "  no clock ended in these weeks\n");
	for (int w = 0; w < DIGEST_WEEKS; w++) {
		int64_t start = d->now - (int64_t)(DIGEST_WEEKS - w) * 7 * 86400;
		GDateTime *dt = g_date_time_new_from_unix_utc(start);
		char *l = dt ? g_date_time_format(dt, "%d %b") : g_strdup("?");
		chart->week_labels[w] = ps(p, l);
		g_free(l);
		if (dt)
			g_date_time_unref(dt);
	}

	/* allowances: the clients of plans with hours_per_month */
	bool any_allowance = false;
	for (size_t i = 0; i < d->n_allowances; i++) {
		const CfgPlan *plan = plan_find(cfg, d->allowances[i].plan);
		any_allowance |= plan != NULL && plan->hours_per_month > 0;
	}
	if (any_allowance) {
		g_string_append_printf(s, "\nHOURS USED IN %s\n", d->month);
		for (size_t i = 0; i < d->n_allowances; i++) {
			const DigestAllowance *al = &d->allowances[i];
			const CfgPlan *plan = plan_find(cfg, al->plan);
			int per = plan ? plan->hours_per_month : 0;
			if (per <= 0)
				continue;
			g_string_append_printf(s, "  %-30s %7.2f of %d h", al->client,
					       (double)al->minutes / 60.0, per);
			if (per)
				g_string_append_printf(
					s, " (%lld%%)",
					(long long)(al->minutes * 100 / ((int64_t)per * 60)));
			g_string_append_c(s, '\n');
		}
	}
	const char *text = ps(p, s->str);
	g_string_free(s, TRUE);
	g_free(rows);
	g_free(a);
	g_free(b);
	*text_r = text;

	for (size_t i = 0; i < staff->n; i++) {
		const StaffFact *m = &staff->v[i];
		if (!m->active || !m->is_manager)
			continue;
		bool wanted = to == NULL;
		for (size_t k = 0; to && k < n_to && !wanted; k++)
			wanted = to[k] == m->id;
		if (!wanted)
			continue;
		PlanMail *pm = plan_add_mail(p);
		pm->kind = "digest";
		pm->event_key = psf(p, "digest:%s:staff:%lld", d->period, (long long)m->id);
		pm->tpl = TPL_DIGEST;
		plan_vars_set(&pm->vars, "desk.name", cfg->desk_name);
		plan_vars_set(&pm->vars, "desk.address", cfg->desk_address);
		plan_vars_set(&pm->vars, "recipient.name", m->name);
		plan_vars_set(&pm->vars, "digest.period", d->period);
		plan_vars_set(&pm->vars, "digest.text", text);
		pm->to_name = m->name;
		pm->to_addr = m->email;
		pm->auto_header = "auto-generated";
		pm->internal = true;
		pm->reply_to = cfg->desk_address;
	}
}
