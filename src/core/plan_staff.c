/* plan_staff.c - staff working a ticket by mail: the plan of one staff
 * member's mail on a ticket.
 *
 * The mail is stored as an internal message (the whole mail kept, its clean
 * text after the commands as the body).  Its #commands are applied in order
 * under the role rules (command.c), each change an audit event with who,
 * what, before and after.  What is left of the text, without quoted history
 * and signature, is relayed to the ticket's contact from the desk address,
 * threaded with the client's latest mail; the first relay is the ticket's
 * first response.  A junior engineer's text, and anything after #note, stays
 * internal: for a junior the assignee (or the line's staff) is told.
 * Refused or not understood commands are not applied and the sender gets one
 * mail listing them; the rest of the mail is still handled.  #chargeable and
 * #category project|consultancy hand the ticket to the client's account
 * manager.  An automatic mail from staff (an out-of-office) is kept as a note
 * and nothing else.
 *
 * The ticket is changed in memory, command by command, exactly as the rows
 * would be, and written once; the mail that follows is rendered from the
 * ticket as it ends up. */
#include <stdio.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/command.h"
#include "plan-private.h"

typedef struct {
	Plan *p;
	const Mail *m;
	const MailFacts *f;
	const Config *cfg;
	const StaffFact *who;
	TicketFact t;    /* the ticket as the commands leave it (strings borrowed) */
	GString *errors; /* for the command-error mail */
	bool handover;   /* #chargeable or a project/consultancy category */
	const char *handover_why;
	int64_t handed_to;   /* the account manager it was handed to */
	int64_t assigned_to; /* #assign gave the ticket to someone else */
	int line_before;     /* the line before the commands */
} Work;

static void refuse(Work *w, const Command *c, const char *why)
{
	g_string_append_printf(w->errors, "  line %d: %s\n    not applied: %s\n", c->line_no,
			       c->line, why);
	plan_event(w->p, w->t.id, "command-refused", w->who->email, NULL, NULL, NULL,
		   psf(w->p, "%s: %s", c->line, why));
}

static const char *staff_email(Work *w, int64_t id)
{
	const StaffFact *s = staff_by_id(w->f->staff, id);
	return s ? s->email : NULL;
}

/* An event "<field>-changed" when before and after differ; true if they do. */
static bool changed(Work *w, const char *field, const char *before, const char *after,
		    const char *detail)
{
	if (g_strcmp0(before, after) == 0)
		return false;
	plan_event(w->p, w->t.id, psf(w->p, "%s-changed", field), w->who->email, field,
		   ps(w->p, before), ps(w->p, after), ps(w->p, detail));
	return true;
}

static void set_status(Work *w, const char *status, const char *detail)
{
	PlanTicketUpdate *u = &w->p->update;
	const char *before = w->t.status;
	u->status = true;
	u->new_status = ps(w->p, status);
	w->t.status = (char *)u->new_status;
	/* closed_at: kept (or now) while closed, cleared otherwise */
	if (strcmp(status, "closed") == 0) {
		if (!w->t.closed) {
			u->closed = CLOSED_NOW;
			w->t.closed = true;
		}
	} else {
		u->closed = CLOSED_CLEAR;
		w->t.closed = false;
	}
	changed(w, "status", before, w->t.status, detail);
}

static void set_severity(Work *w, const char *severity, const char *detail)
{
	const char *before = w->t.severity;
	w->p->update.severity = true;
	w->p->update.new_severity = ps(w->p, severity);
	w->t.severity = (char *)w->p->update.new_severity;
	changed(w, "severity", before, w->t.severity, detail);
}

static void set_category(Work *w, const char *category, const char *detail)
{
	const char *before = w->t.category;
	w->p->update.category = true;
	w->p->update.new_category = ps(w->p, category);
	w->t.category = (char *)w->p->update.new_category;
	changed(w, "category", before, w->t.category, detail);
}

static void set_line(Work *w, int line, const char *detail)
{
	PlanTicketUpdate *u = &w->p->update;
	int before = w->t.line;
	u->line = true;
	u->new_line = line;
	if (line != before)
		u->line_since = true;
	w->t.line = line;
	changed(w, "line", psf(w->p, "%d", before), psf(w->p, "%d", line), detail);
}

static void set_chargeable(Work *w, const char *detail)
{
	bool before = w->t.chargeable;
	w->p->update.chargeable = true;
	w->p->update.new_chargeable = true;
	w->t.chargeable = true;
	changed(w, "chargeable", before ? "true" : "false", "true", detail);
}

/* Returns whether the assignee changed. */
static bool set_assignee(Work *w, int64_t id, const char *detail)
{
	const char *before = staff_email(w, w->t.assignee_id);
	w->p->update.assignee = true;
	w->p->update.new_assignee = id;
	w->t.assignee_id = id;
	return changed(w, "assignee", before, staff_email(w, id), detail);
}

/* The staff member #assign names: address, local part, full name or first
 * name, in that order of preference, among the active staff; *why set when
 * none or several match. */
static int64_t find_staff(Work *w, const char *name, const char **why)
{
	char *want = g_utf8_strdown(name, -1);
	const StaffFact *best = NULL;
	int best_rank = 0;
	bool tie = false;
	for (size_t i = 0; i < w->f->staff->n; i++) {
		const StaffFact *s = &w->f->staff->v[i];
		if (!s->active)
			continue;
		char *local = g_strndup(s->email, strcspn(s->email, "@"));
		char *lname = g_utf8_strdown(s->name, -1);
		char *first = g_strndup(lname, strcspn(lname, " "));
		int rank = strcmp(s->email, want) == 0 ? 1
			   : strcmp(local, want) == 0  ? 2
			   : strcmp(lname, want) == 0  ? 3
			   : strcmp(first, want) == 0  ? 4
						       : 0;
		g_free(local);
		g_free(lname);
		g_free(first);
		if (rank == 0)
			continue;
		/* the list is ordered by id: the first of the best rank wins */
		if (best == NULL || rank < best_rank) {
			best = s;
			best_rank = rank;
			tie = false;
		} else if (rank == best_rank) {
			tie = true;
		}
	}
	g_free(want);
	if (best == NULL) {
		*why = "no active staff member has that address or short name";
		return 0;
	}
	if (tie) {
		*why = "more than one staff member goes by that name: use the address";
		return 0;
	}
	return best->id;
}

static void apply_command(Work *w, const Command *c)
{
	if (c->error[0]) {
		refuse(w, c, c->error);
		return;
	}
	int64_t target = 0;
	if (c->kind == CMD_ASSIGN) {
		const char *why = NULL;
		target = find_staff(w, c->arg, &why);
		if (why) {
			refuse(w, c, why);
			return;
		}
	}
	const char *no =
		command_refusal(w->who->role, c, c->kind == CMD_ASSIGN && target == w->who->id);
	if (no) {
		refuse(w, c, no);
		return;
	}
	switch (c->kind) {
	case CMD_STATUS:
		set_status(w, c->arg, c->line);
		return;
	case CMD_CLOSE:
		set_status(w, "closed", c->line);
		return;
	case CMD_SEVERITY:
		set_severity(w, c->arg, c->line);
		return;
	case CMD_LINE:
		set_line(w, c->arg[0] - '0', c->line);
		return;
	case CMD_CATEGORY:
		set_category(w, c->arg, c->line);
		if (strcmp(c->arg, "project") == 0 || strcmp(c->arg, "consultancy") == 0) {
			w->handover = true;
			w->handover_why = strcmp(c->arg, "project") == 0
						  ? "categorised as a project"
						  : "categorised as consultancy";
		}
		return;
	case CMD_CHARGEABLE:
		set_chargeable(w, c->line);
		w->handover = true;
		w->handover_why = "marked chargeable";
		return;
	case CMD_TAKE:
		set_assignee(w, w->who->id, c->line);
		return;
	case CMD_ASSIGN:
		if (set_assignee(w, target, c->line) && target != w->who->id)
			w->assigned_to = target;
		return;
	case CMD_TIME: {
		int minutes = 0;
		if (command_duration(c->arg, &minutes) != 0)
			return; /* checked by the parser */
		w->p->time_minutes += minutes;
		plan_event(w->p, w->t.id, "time-recorded", w->who->email, "time", NULL,
			   psf(w->p, "%d min", minutes), c->line);
		return;
	}
	case CMD_NOTE:
	case CMD_UNKNOWN:
		return;
	}
}

/* Hand the ticket to the client's (active) account manager. */
static void hand_over(Work *w)
{
	const StaffFact *am = staff_by_id(w->f->staff, w->t.client.account_manager_id);
	if (am == NULL || !am->active) {
		const char *client = w->t.client.name;
		g_string_append_printf(w->errors,
				       "  the ticket was %s, but client %s has no account manager "
				       "to hand it to; an operator sets one with: deskmail client "
				       "set \"%s\" --account-manager EMAIL\n",
				       w->handover_why, client, client);
		plan_event(w->p, w->t.id, "handover-failed", w->who->email, NULL, NULL, NULL,
			   "the client has no account manager");
		return;
	}
	set_assignee(w, am->id, psf(w->p, "handed to the account manager: %s", w->handover_why));
	w->handed_to = am->id;
	w->assigned_to = 0; /* an #assign in the same mail was overtaken */
}

/* The account manager's notice, with the latest client text so they see
 * the request. */
static void handover_notice(Work *w, const PlanVars *view)
{
	Notice n = {.kind = "notify-handover",
		    .key = psf(w->p, "notify-handover:message:%lld", (long long)w->f->message_id),
		    .title = psf(w->p,
				 "Handed to you as account manager: %s by %s; please schedule "
				 "and cost it",
				 w->handover_why, w->who->name),
		    .text = w->t.last_in_body,
		    .who = NOTIFY_ONE,
		    .one_staff_id = w->handed_to,
		    .exclude_staff_id = w->who->id, /* not to an account manager who did it */
		    .m = NULL,
		    .actor_name = w->who->name,
		    .actor_email = w->who->email};
	plan_notify_staff(w->p, &w->t, view, &n, w->f->staff, w->cfg);
}

/* The text to the ticket's contact, threaded with the client's latest
 * mail; the first relay is the first response. */
static void relay(Work *w, const PlanVars *view, const char *text)
{
	Plan *p = w->p;
	const char *to = w->t.contact_email;
	if (to == NULL) {
		g_string_append(w->errors, "  your text was not sent: the ticket has no contact\n");
		return;
	}
	PlanMail *pm = plan_add_mail(p);
	/* References: the client mail's own (newest 19), then its id */
	char **old = g_strsplit(w->t.last_in_refs ? w->t.last_in_refs : "", " ", 20);
	for (size_t i = 0; old[i] && pm->n_refs < 19; i++)
		if (*old[i])
			pm->refs[pm->n_refs++] = ps(p, old[i]);
	g_strfreev(old);
	if (w->t.last_in_msgid)
		pm->refs[pm->n_refs++] = w->t.last_in_msgid;

	pm->kind = "relay";
	pm->event_key = psf(p, "relay:message:%lld", (long long)w->f->message_id);
	pm->tpl = TPL_RELAY;
	pm->vars = *view;
	plan_vars_set(&pm->vars, "message.text", plan_cap_text(p, text, PLAN_MAX_RELAY_TEXT));
	plan_vars_set(&pm->vars, "actor.name", w->who->name);
	plan_vars_set(&pm->vars, "actor.email", w->who->email);
	plan_vars_set(&pm->vars, "recipient.name", w->t.contact_name ? w->t.contact_name : to);
	pm->ticket_id = w->t.id;
	pm->to_name = w->t.contact_name;
	pm->to_addr = to;
	pm->in_reply_to = w->t.last_in_msgid;
	pm->staff_id = w->who->id;
	/* the client sees who answered, at the desk's address */
	pm->from_name = psf(p, "%s (%s)", w->who->name, w->cfg->desk_name);
	pm->n_attachments = kept_attachments(w->cfg, w->m, pm->attachments, PLAN_MAX_ATTACHMENTS);

	p->update.any = true;
	p->update.response = true;
	if (!w->t.first_response_done) {
		p->update.first_response = true;
		w->t.first_response_done = true;
		plan_event(p, w->t.id, "first-response", w->who->email, "first_response_at", NULL,
			   ps(p, w->f->now_text), NULL);
	}
}

/* #line by hand: the new line's staff are told, and the client when the
 * ticket moved up (seed 002: "if and when a call is escalated ... this
 * should be communicated to the user"). */
static void line_moved(Work *w, const PlanVars *view)
{
	static const char *const words[4] = {"", "1st", "2nd", "3rd"};
	Plan *p = w->p;
	int to = w->t.line;
	bool up = to > w->line_before;
	Notice n = {.kind = "notify-line",
		    .key = psf(p, "notify-line:message:%lld", (long long)w->f->message_id),
		    .title = psf(p, "%s to the %s line by %s", up ? "Escalated" : "Moved",
				 words[to], w->who->name),
		    .text = w->t.last_in_body,
		    .who = NOTIFY_LINE,
		    .exclude_staff_id = w->who->id,
		    .actor_name = w->who->name,
		    .actor_email = w->who->email};
	plan_notify_staff(p, &w->t, view, &n, w->f->staff, w->cfg);
	if (up)
		plan_escalated_mail(p, &w->t, view,
				    psf(p, "escalated:message:%lld", (long long)w->f->message_id),
				    w->cfg);
}

/* A reply that still holds internal text is not relayed: its author gets it
 * back with the words that gave it away, and the ticket records why. */
static void withhold(Work *w, const PlanVars *view, const char *text, const char *leak)
{
	Plan *p = w->p;
	plan_event(p, w->t.id, "relay-withheld", w->who->email, NULL, NULL, NULL,
		   psf(p, "the reply holds internal text: \"%s\"", leak));
	plan_note(p, "ticket #%lld: reply of %s not relayed: it holds internal text",
		  (long long)w->t.id, w->who->email);
	Notice n = {.kind = "notify-withheld",
		    .key = psf(p, "notify-withheld:message:%lld", (long long)w->f->message_id),
		    .title = "Your reply was NOT sent to the client: it holds internal text",
		    .text = psf(p,
				"Your reply still contains text of an internal note or of one of "
				"our staff notifications:\n\n    \"%s\"\n\nNothing was sent to "
				"the client.  Remove the quoted text and reply again.  Your text "
				"as it would have been sent:\n\n%s",
				leak, plan_cap_text(p, text, PLAN_MAX_NOTICE_TEXT)),
		    .who = NOTIFY_ONE,
		    .one_staff_id = w->who->id,
		    .actor_name = w->cfg->desk_name,
		    .actor_email = w->cfg->desk_address};
	plan_notify_staff(p, &w->t, view, &n, w->f->staff, w->cfg);
}

static void command_error_mail(Work *w, const PlanVars *view)
{
	PlanMail *pm = plan_add_mail(w->p);
	pm->kind = "command-error";
	pm->event_key = psf(w->p, "command-error:message:%lld", (long long)w->f->message_id);
	pm->tpl = TPL_COMMAND_ERROR;
	pm->vars = *view;
	plan_vars_set(&pm->vars, "errors",
		      plan_cap_text(w->p, ps(w->p, w->errors->str), PLAN_MAX_LIST_TEXT));
	plan_vars_set(&pm->vars, "recipient.name", w->who->name);
	pm->ticket_id = w->t.id;
	pm->to_name = w->who->name;
	pm->to_addr = w->who->email;
	pm->in_reply_to = w->m->message_id;
	pm->n_refs = reply_refs(w->m, pm->refs, 20);
	pm->auto_header = "auto-replied";
	pm->internal = true;
	pm->reply_to = w->cfg->desk_address;
}

void plan_staff_reply(Plan *p, const Mail *m, const MailFacts *f, const StaffFact *who,
		      const Config *cfg)
{
	int64_t tid = f->ticket.id;
	if (m->is_automatic) {
		/* an out-of-office from staff: kept, never relayed, no commands */
		plan_message(p, m, f, 0, who->id, true, NULL, NULL, cfg);
		plan_event(p, tid, "staff-reply", who->email, NULL, NULL, NULL,
			   "automatic mail: kept as a note, commands not applied");
		return;
	}
	CommandSet cs;
	char *above = plan_above_marker(m->text);
	command_parse(above, &cs);
	g_free(above);
	char *clean = clean_reply_text_opts(cs.rest ? cs.rest : "",
					    CLEAN_KEEP_FORWARDS | CLEAN_NO_FALLBACK);
	const char *text = ps(p, clean);
	g_free(clean);
	bool junior = strcmp(who->role, "junior-engineer") == 0;

	Work w = {.p = p,
		  .m = m,
		  .f = f,
		  .cfg = cfg,
		  .who = who,
		  .t = f->ticket,
		  .line_before = f->ticket.line};
	w.errors = g_string_new(NULL);

	/* the message row: internal, its clean text after the commands */
	const char *refused = NULL;
	plan_message(p, m, f, 0, who->id, true, text, &refused, cfg);
	if (refused) /* told with the command errors, and not relayed */
		g_string_append_printf(
			w.errors, "  attachments not kept (over the size limits):\n%s", refused);

	for (size_t i = 0; i < cs.n; i++)
		apply_command(&w, &cs.cmds[i]);
	if (cs.n_dropped)
		g_string_append_printf(w.errors,
				       "  %zu more command line(s) were not applied: at most %d "
				       "commands in one mail\n",
				       cs.n_dropped, CMD_MAX);
	if (w.handover)
		hand_over(&w);

	/* The changes are made: every mail below shows the ticket as it is now. */
	PlanVars view;
	ticket_vars(p, m, &w.t, f->staff, cfg, &view);
	if (w.handed_to)
		handover_notice(&w, &view);
	if (w.t.line != w.line_before)
		line_moved(&w, &view);
	if (w.assigned_to) {
		Notice n = {.kind = "notify-assign",
			    .key = psf(p, "notify-assign:message:%lld", (long long)f->message_id),
			    .title = psf(p, "Assigned to you by %s", who->name),
			    .text = text,
			    .who = NOTIFY_ONE,
			    .one_staff_id = w.assigned_to,
			    .m = m,
			    .actor_name = who->name,
			    .actor_email = who->email};
		plan_notify_staff(p, &w.t, &view, &n, f->staff, cfg);
	}

	const char *outcome = "commands only";
	const char *leak = NULL;
	if (*text) {
		if (junior) {
			/* a junior never writes to a client: an internal note, told to
			 * the assignee or the line */
			outcome = "junior engineer: kept as an internal note";
			Notice n = {
				.kind = "notify-note",
				.key = psf(p, "notify-note:message:%lld", (long long)f->message_id),
				.title = psf(p,
					     "Internal note from %s (junior engineer; not sent to "
					     "the client)",
					     who->name),
				.text = text,
				.who = NOTIFY_ASSIGNEE,
				.exclude_staff_id = who->id,
				.m = m,
				.actor_name = who->name,
				.actor_email = who->email};
			plan_notify_staff(p, &w.t, &view, &n, f->staff, cfg);
		} else if (cs.note) {
			outcome = "internal note";
		} else if ((leak = plan_internal_leak(
				    p, text, (const char *const *)f->internal_texts,
				    (const char *const *)f->public_texts)) != NULL) {
			outcome = "not relayed: it holds internal text";
			withhold(&w, &view, text, leak);
		} else {
			outcome = "relayed to the client";
			relay(&w, &view, text);
		}
	}
	if (w.errors->len)
		command_error_mail(&w, &view);
	p->update.any = true;
	p->update.last_staff = true;
	plan_event(p, tid, "staff-reply", who->email, NULL, NULL, NULL, outcome);
	g_string_free(w.errors, TRUE);
	command_set_clear(&cs);
}
