/* sla.c - `deskmail ticket sla N [--json]`: each clock of a ticket
 * explained (target, due, state, working time used, pauses, what changed
 * it), and `deskmail ticket list --due [--json] [--limit N]`: open tickets
 * by their nearest due time, with the working time left in each ticket's
 * calendar.  The clocks are derived here from the history, exactly as the
 * escalation pass derives them (plan_sla_clocks). */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/util.h"

static char *iso(const WtCalendar *cal, int64_t t)
{
	return t > 0 && t != WT_NEVER ? wt_format_iso(cal, t) : NULL;
}

static void add_time(JsonBuilder *b, const char *name, const WtCalendar *cal, int64_t t)
{
	json_builder_set_member_name(b, name);
	g_autofree char *s = iso(cal, t);
	if (s)
		json_builder_add_string_value(b, s);
	else
		json_builder_add_null_value(b);
}

static void clock_json(JsonBuilder *b, const SlaClock *c, const WtCalendar *cal)
{
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "clock");
	json_builder_add_string_value(b, sla_clock_name(c->kind));
	json_builder_set_member_name(b, "state");
	json_builder_add_string_value(b, sla_state_name(c->state));
	json_builder_set_member_name(b, "target_minutes");
	json_builder_add_int_value(b, c->target / 60);
	json_builder_set_member_name(b, "max_elapsed_minutes");
	json_builder_add_int_value(b, c->max_elapsed / 60);
	add_time(b, "started", cal, c->started);
	add_time(b, "due", cal, c->due);
	add_time(b, "at_risk_at", cal, c->at_risk_at);
	add_time(b, "breached_at", cal, c->breached_at);
	add_time(b, "stopped_at", cal, c->stopped_at);
	json_builder_set_member_name(b, "running");
	json_builder_add_boolean_value(b, c->running);
	json_builder_set_member_name(b, "at_risk");
	json_builder_add_boolean_value(b, c->at_risk);
	json_builder_set_member_name(b, "used_minutes");
	json_builder_add_int_value(b, c->used / 60);
	json_builder_set_member_name(b, "used_elapsed_minutes");
	json_builder_add_int_value(b, c->used_elapsed / 60);
	json_builder_set_member_name(b, "paused");
	json_builder_begin_array(b);
	for (size_t i = 0; i < c->n_pauses; i++) {
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "status");
		json_builder_add_string_value(b, c->pauses[i].status ? c->pauses[i].status : "");
		add_time(b, "from", cal, c->pauses[i].from);
		add_time(b, "to", cal, c->pauses[i].to);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "changes");
	json_builder_begin_array(b);
	for (size_t i = 0; i < c->n_changes; i++)
		json_builder_add_string_value(b, c->changes[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void clock_text(const SlaClock *c, const WtCalendar *cal)
{
	g_autofree char *target = c->target ? sla_span_text(c->target) : g_strdup("none");
	g_autofree char *used = sla_span_text(c->used);
	g_autofree char *due = c->due > 0 && c->due != WT_NEVER ? wt_format(cal, c->due) : NULL;
	printf("%-15s %-9s target %s working", sla_clock_name(c->kind), sla_state_name(c->state),
	       target);
	if (c->max_elapsed) {
		g_autofree char *el = sla_span_text(c->max_elapsed);
		printf(" (at most %s elapsed)", el);
	}
	printf(", used %s", used);
	if (due)
		printf(", due %s", due);
	if (c->breached_at > 0) {
		g_autofree char *b = wt_format(cal, c->breached_at);
		printf(", breached %s", b);
	}
	printf("\n");
	for (size_t i = 0; i < c->n_pauses; i++) {
		g_autofree char *f = wt_format(cal, c->pauses[i].from);
		g_autofree char *t =
			c->pauses[i].to ? wt_format(cal, c->pauses[i].to) : g_strdup("now");
		printf("    paused %s .. %s (%s)\n", f, t,
		       c->pauses[i].status ? c->pauses[i].status : "");
	}
	for (size_t i = 0; i < c->n_changes; i++)
		printf("    %s\n", c->changes[i]);
}

static int ticket_sla(const Config *cfg, Db *db, int64_t id, bool json, DmError *err)
{
	SlaFacts f;
	int rc = store_sla_facts(db, id, &f, err);
	if (rc)
		return rc;
	SlaResult res;
	const WtCalendar *cal;
	plan_sla_clocks(&f, cfg, &res, &cal);
	if (json) {
		JsonBuilder *b = json_builder_new();
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "ticket");
		json_builder_add_int_value(b, f.t.id);
		json_builder_set_member_name(b, "plan");
		json_builder_add_string_value(b, f.t.client.plan ? f.t.client.plan : "");
		json_builder_set_member_name(b, "plan_known");
		json_builder_add_boolean_value(b, cfg_plan(cfg, f.t.client.plan) != NULL);
		json_builder_set_member_name(b, "calendar");
		json_builder_add_string_value(b, wt_calendar_name(cal));
		json_builder_set_member_name(b, "timezone");
		json_builder_add_string_value(b, wt_calendar_timezone(cal));
		add_time(b, "now", cal, f.now);
		json_builder_set_member_name(b, "clocks");
		json_builder_begin_array(b);
		for (int k = 0; k < SLA_N_CLOCKS; k++)
			clock_json(b, &res.clocks[k], cal);
		json_builder_end_array(b);
		json_builder_end_object(b);
		cli_print_json(b);
	} else {
		g_autofree char *now = wt_format(cal, f.now);
		printf("Ticket #%lld: plan %s%s, calendar %s (%s), line %d, status %s, now %s\n",
		       (long long)f.t.id, f.t.client.plan ? f.t.client.plan : "-",
		       cfg_plan(cfg, f.t.client.plan) ? "" : " (not configured: no targets)",
		       wt_calendar_name(cal), wt_calendar_timezone(cal), f.t.line,
		       f.t.status ? f.t.status : "-", now);
		for (int k = 0; k < SLA_N_CLOCKS; k++)
			clock_text(&res.clocks[k], cal);
	}
	sla_result_clear(&res);
	sla_facts_clear(&f);
	return 0;
}

static int ticket_due(const Config *cfg, Db *db, bool json, int limit, DmError *err)
{
	GArray *rows = g_array_new(FALSE, TRUE, sizeof(DueRow));
	int rc = store_ticket_due(db, limit, rows, err);
	JsonBuilder *b = json ? json_builder_new() : NULL;
	if (b)
		json_builder_begin_array(b);
	for (guint i = 0; rc == 0 && i < rows->len; i++) {
		const DueRow *d = &g_array_index(rows, DueRow, i);
		const CfgPlan *plan = cfg_plan(cfg, d->plan);
		const WtCalendar *cal = cfg_ticket_calendar(cfg, d->calendar, plan);
		int64_t left = 0;
		bool overdue = d->due > 0 && d->due < d->now;
		if (d->due > 0)
			left = overdue ? -wt_between(cal, d->due, d->now)
				       : wt_between(cal, d->now, d->due);
		if (b) {
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "id");
			json_builder_add_int_value(b, d->id);
			json_builder_set_member_name(b, "client");
			json_builder_add_string_value(b, d->client ? d->client : "");
			json_builder_set_member_name(b, "plan");
			json_builder_add_string_value(b, d->plan ? d->plan : "");
			json_builder_set_member_name(b, "status");
			json_builder_add_string_value(b, d->status ? d->status : "");
			json_builder_set_member_name(b, "severity");
			if (d->severity)
				json_builder_add_string_value(b, d->severity);
			else
				json_builder_add_null_value(b);
			json_builder_set_member_name(b, "line");
			json_builder_add_int_value(b, d->line);
			json_builder_set_member_name(b, "assignee");
			if (d->assignee)
				json_builder_add_string_value(b, d->assignee);
			else
				json_builder_add_null_value(b);
			json_builder_set_member_name(b, "subject");
			json_builder_add_string_value(b, d->subject ? d->subject : "");
			json_builder_set_member_name(b, "clock");
			if (d->clock)
				json_builder_add_string_value(b, d->clock);
			else
				json_builder_add_null_value(b);
			add_time(b, "due", cal, d->due);
			json_builder_set_member_name(b, "working_minutes_left");
			if (d->due > 0)
				json_builder_add_int_value(b, left / 60);
			else
				json_builder_add_null_value(b);
			json_builder_set_member_name(b, "overdue");
			json_builder_add_boolean_value(b, overdue);
			json_builder_end_object(b);
		} else if (d->due > 0) {
			g_autofree char *when = wt_format(cal, d->due);
			g_autofree char *l = sla_span_text(left < 0 ? -left : left);
			printf("#%lld\t%s due %s\t%s of working time %s\t%s\tline %d\t%s\t%s\t%s\n",
			       (long long)d->id, d->clock, when, l, overdue ? "overdue" : "left",
			       d->client, d->line, d->status, d->severity ? d->severity : "-",
			       d->subject);
		} else {
			printf("#%lld\tno clock running\t-\t%s\tline %d\t%s\t%s\t%s\n",
			       (long long)d->id, d->client, d->line, d->status,
			       d->severity ? d->severity : "-", d->subject);
		}
	}
	if (b) {
		json_builder_end_array(b);
		if (rc == 0)
			cli_print_json(b);
		else
			g_object_unref(b);
	}
	for (guint i = 0; i < rows->len; i++)
		due_row_clear(&g_array_index(rows, DueRow, i));
	g_array_free(rows, TRUE);
	return rc;
}

int sla_cli_main(const Config *cfg, Db *db, int argc, char **argv, DmError *err)
{
	bool json = cli_flag(argc, argv, "--json");
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "sla") == 0) {
		int64_t id;
		const char *arg = cli_pos(argc, argv, 2);
		if (arg && arg[0] == '#')
			arg++;
		if (arg == NULL || dm_parse_i64(arg, 1, INT64_MAX, &id) != 0)
			return dm_error_set(err, DM_EUSAGE,
					    "usage: deskmail ticket sla N [--json]");
		return ticket_sla(cfg, db, id, json, err);
	}
	int64_t limit = 100;
	const char *l = cli_opt(argc, argv, "--limit");
	if (l && dm_parse_i64(l, 1, 100000, &limit) != 0)
		return dm_error_set(err, DM_EUSAGE, "--limit must be 1 .. 100000");
	return ticket_due(cfg, db, json, (int)limit, err);
}
