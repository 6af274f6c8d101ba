/* plan.c - the Plan object and what every part of the planner shares:
 * strings owned by the plan, audit events, outgoing mail, the template
 * values of a ticket, automatic replies with their hourly limits, and whom a
 * staff notification goes to.
 *
 * Pure code.  The rules are the ones the desk had when they were SQL: a
 * notification goes to the active staff of the ticket's line (the assignee
 * instead, when there is an active one), else to the client's account
 * manager, else to every account and project manager; never to its author.
 * Automatic replies are counted per recipient and kind over the last hour,
 * from the facts, so two autoresponders can never loop. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/util.h"
#include "plan-private.h"

const char *const plan_template_names[TPL_COUNT + 1] = {
	"ack",       "quarantine", "notify", "relay", "command-error", "attachment-refused",
	"escalated", "digest",     NULL};

const char *const plan_placeholders[] = {
	"ticket.id",
	"ticket.subject",
	"ticket.status",
	"ticket.severity",
	"ticket.line",
	"client.name",
	"client.plan",
	"contact.name",
	"contact.email",
	"desk.name",
	"desk.address",
	"sender.name",
	"sender.email",
	"message.subject",
	"reason",
	"ticket.category",
	"ticket.assignee",
	"ticket.chargeable",
	"ticket.created",
	"message.text",
	"recipient.name",
	"actor.name",
	"actor.email",
	"notice.title",
	"notice.text",
	"attachments",
	"errors",
	"refused",
	"reply.marker",
	"ticket.first_response_due",
	"ticket.response_promise",
	"digest.period",
	"digest.text",
	NULL,
};

/* ---- facts ------------------------------------------------------------------ */

static void client_fact_clear(ClientFact *c)
{
	g_free(c->name);
	g_free(c->plan);
	g_free(c->calendar);
	memset(c, 0, sizeof *c);
}

void ticket_fact_clear(TicketFact *t)
{
	g_free(t->subject);
	g_free(t->status);
	g_free(t->severity);
	g_free(t->category);
	g_free(t->created);
	client_fact_clear(&t->client);
	g_free(t->contact_email);
	g_free(t->contact_name);
	g_free(t->last_in_msgid);
	g_free(t->last_in_refs);
	g_free(t->last_in_body);
	g_free(t->mailbox);
	memset(t, 0, sizeof *t);
}

void mail_facts_clear(MailFacts *f)
{
	g_strfreev(f->internal_texts);
	g_strfreev(f->public_texts);
	g_free(f->out_ids);
	g_free(f->contact_name);
	client_fact_clear(&f->contact_client);
	ticket_fact_clear(&f->ticket);
	g_free(f->bounce_kind);
	g_free(f->bounce_rcpt);
	g_free(f->bounce_body);
	for (size_t i = 0; i < f->n_ticket_sent; i++)
		g_free(f->ticket_sent_rcpt[i]);
	g_free(f->ticket_sent_rcpt);
	g_free(f->ticket_sent_n);
	memset(f, 0, sizeof *f);
}

void staff_list_clear(StaffList *l)
{
	for (size_t i = 0; i < l->n; i++) {
		g_free(l->v[i].email);
		g_free(l->v[i].name);
		g_free(l->v[i].role);
	}
	g_free(l->v);
	l->v = NULL;
	l->n = 0;
}

const StaffFact *staff_by_id(const StaffList *l, int64_t id)
{
	for (size_t i = 0; l && id && i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

/* ---- the plan object ------------------------------------------------------ */

void plan_init(Plan *p)
{
	memset(p, 0, sizeof *p);
	p->events = g_array_new(FALSE, TRUE, sizeof(PlanEvent));
	p->mails = g_array_new(FALSE, TRUE, sizeof(PlanMail));
	p->notes = g_ptr_array_new();
	p->strings = g_string_chunk_new(4096);
}

void plan_clear(Plan *p)
{
	if (p->mails) {
		for (guint i = 0; i < p->mails->len; i++) {
			PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
			g_free(pm->subject);
			g_free(pm->text);
			g_free(pm->html);
			g_free(pm->message_id);
			g_free(pm->from_display);
			g_free(pm->wire);
		}
		g_array_free(p->mails, TRUE);
	}
	if (p->events)
		g_array_free(p->events, TRUE);
	if (p->notes)
		g_ptr_array_free(p->notes, TRUE);
	if (p->strings)
		g_string_chunk_free(p->strings);
	g_free(p->refused);
	memset(p, 0, sizeof *p);
}

const char *ps(Plan *p, const char *s)
{
	return s ? g_string_chunk_insert(p->strings, s) : NULL;
}

const char *psf(Plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	const char *r = g_string_chunk_insert(p->strings, s);
	g_free(s);
	return r;
}

const char *plan_cap_text(Plan *p, const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;
	if (len <= max)
		return s;
	const char *end = g_utf8_find_prev_char(s, s + max + 1);
	size_t keep = end ? (size_t)(end - s) : 0;
	return psf(p, "%.*s\n[... %zu more bytes not shown here]", (int)keep, s, len - keep);
}

void plan_event(Plan *p, int64_t ticket_id, const char *kind, const char *actor, const char *field,
		const char *before, const char *after, const char *detail)
{
	PlanEvent e = {.ticket_id = ticket_id,
		       .kind = kind,
		       .actor = actor,
		       .field = field,
		       .before = before,
		       .after = after,
		       .detail = detail};
	g_array_append_val(p->events, e);
}

void plan_note(Plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(p->notes, g_string_chunk_insert(p->strings, s));
	g_free(s);
}

PlanMail *plan_add_mail(Plan *p)
{
	g_array_set_size(p->mails, p->mails->len + 1);
	return &g_array_index(p->mails, PlanMail, p->mails->len - 1);
}

const char *plan_ticket_token(int64_t ticket_id, char buf[32])
{
	snprintf(buf, 32, "[#%lld]", (long long)ticket_id);
	return buf;
}

/* ---- template values --------------------------------------------------------- */

void plan_vars_set(PlanVars *v, const char *name, const char *value)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->name[i], name) == 0) {
			v->value[i] = value ? value : "";
			return;
		}
	g_assert(v->n < PLAN_MAX_VARS);
	v->name[v->n] = name;
	v->value[v->n] = value ? value : "";
	v->n++;
}

const char *plan_vars_lookup(void *ctx, const char *name)
{
	const PlanVars *v = ctx;
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->name[i], name) == 0)
			return v->value[i];
	return NULL;
}

void mail_vars(const Mail *m, const Config *cfg, PlanVars *v)
{
	v->n = 0;
	for (int i = 0; plan_placeholders[i]; i++)
		plan_vars_set(v, plan_placeholders[i], "");
	plan_vars_set(v, "desk.name", cfg->desk_name);
	plan_vars_set(v, "desk.address", cfg->desk_address);
	plan_vars_set(v, "reply.marker", PLAN_REPLY_MARKER);
	if (m) {
		plan_vars_set(v, "message.subject", m->subject);
		plan_vars_set(v, "message.text", m->text); /* capped where it is used */
		if (m->from) {
			plan_vars_set(v, "sender.email", m->from->addr);
			plan_vars_set(v, "sender.name",
				      m->from->name ? m->from->name : m->from->addr);
		}
	}
}

void ticket_vars(Plan *p, const Mail *m, const TicketFact *t, const StaffList *staff,
		 const Config *cfg, PlanVars *v)
{
	mail_vars(m, cfg, v);
	const StaffFact *a = staff_by_id(staff, t->assignee_id);
	plan_vars_set(v, "ticket.id", psf(p, "%lld", (long long)t->id));
	plan_vars_set(v, "ticket.subject", t->subject);
	plan_vars_set(v, "ticket.status", t->status);
	plan_vars_set(v, "ticket.severity", t->severity ? t->severity : "not yet set");
	plan_vars_set(v, "ticket.line", psf(p, "%d", t->line));
	plan_vars_set(v, "client.name", t->client.name);
	plan_vars_set(v, "client.plan", t->client.plan);
	plan_vars_set(v, "contact.name",
		      t->contact_name ? t->contact_name
				      : (t->contact_email ? t->contact_email : ""));
	plan_vars_set(v, "contact.email", t->contact_email ? t->contact_email : "");
	plan_vars_set(v, "ticket.category", t->category ? t->category : "not yet set");
	plan_vars_set(v, "ticket.assignee",
		      a ? psf(p, "%s <%s>", a->name, a->email) : "nobody yet");
	plan_vars_set(v, "ticket.chargeable", t->chargeable ? "yes" : "no");
	plan_vars_set(v, "ticket.created", t->created);
}

size_t reply_refs(const Mail *m, const char **out, size_t max)
{
	size_t n = 0, start = 0;
	size_t total = m->n_references + (m->message_id ? 1 : 0);
	if (total > max)
		start = total - max;
	for (size_t i = start; i < m->n_references; i++)
		out[n++] = m->references[i];
	if (m->message_id)
		out[n++] = m->message_id;
	return n;
}

/* ---- attachments ------------------------------------------------------------- */

const char *attachment_refusal(const Config *cfg, size_t size, int64_t *total, char why[160])
{
	if ((int64_t)size > cfg->desk_attachment_max_bytes) {
		snprintf(why, 160, "attachment of %zu bytes is over the limit of %lld", size,
			 (long long)cfg->desk_attachment_max_bytes);
		return why;
	}
	if (*total + (int64_t)size > cfg->desk_message_attachments_max_bytes) {
		snprintf(why, 160, "attachments of this message are over the limit of %lld bytes",
			 (long long)cfg->desk_message_attachments_max_bytes);
		return why;
	}
	*total += (int64_t)size;
	return NULL;
}

size_t kept_attachments(const Config *cfg, const Mail *m, const MailAttachment **out, size_t max)
{
	size_t n = 0;
	int64_t total = 0;
	for (size_t i = 0; m && i < m->n_attachments && n < max; i++) {
		char why[160];
		if (attachment_refusal(cfg, m->attachments[i].size, &total, why))
			continue;
		out[n++] = &m->attachments[i];
	}
	return n;
}

/* The incoming message row with its attachments; the refused ones, with
 * why, are listed in *refused_r (NULL when none). */
void plan_message(Plan *p, const Mail *m, const MailFacts *f, int64_t contact_id, int64_t staff_id,
		  bool internal, const char *body, const char **refused_r, const Config *cfg)
{
	p->message = true;
	p->message_id = f->message_id;
	p->author_contact_id = staff_id ? 0 : contact_id;
	p->author_staff_id = staff_id;
	p->message_internal = internal;
	p->message_body = body ? body : m->text;
	p->refused = g_new0(const char *, m->n_attachments + 1);
	GString *list = g_string_new(NULL);
	int64_t total = 0;
	for (size_t i = 0; i < m->n_attachments; i++) {
		const MailAttachment *a = &m->attachments[i];
		char why[160];
		const char *no = attachment_refusal(cfg, a->size, &total, why);
		if (no == NULL)
			continue;
		p->refused[i] = ps(p, no);
		g_string_append_printf(list, "  %s (%zu bytes): %s\n", a->filename, a->size, no);
	}
	if (refused_r)
		*refused_r = list->len ? ps(p, list->str) : NULL;
	g_string_free(list, TRUE);
}

/* ---- automatic replies ------------------------------------------------------- */

void plan_rate_caps(const Config *cfg, int caps[RATE_CAPS])
{
	/* acknowledgements are limited only when max_acks_per_hour is set */
	caps[RATE_ACK] = cfg->desk_max_acks_per_hour > 0 ? cfg->desk_max_acks_per_hour : 0;
	caps[RATE_NOTICE] = 1; /* a day */
	caps[RATE_REFUSED] = MAX(cfg->desk_max_auto_replies_per_hour, 0);
	caps[RATE_ANY] = MAX(cfg->desk_max_automatic_per_hour, 0);
	caps[RATE_NOTICE_ALL] = MAX(cfg->desk_max_notices_per_hour, 0);
}

/* Whether mail to rcpt about ticket tid has reached
 * desk.max_automatic_per_ticket in the last hour (relays not counted),
 * with what this plan already sends. */
static bool over_ticket_limit(const Plan *p, int64_t tid, const char *rcpt)
{
	const MailFacts *f = p->facts;
	if (p->max_automatic_per_ticket <= 0 || f == NULL || tid == 0 || f->ticket.id != tid)
		return false;
	int n = 0;
	for (size_t i = 0; i < f->n_ticket_sent; i++)
		if (strcmp(f->ticket_sent_rcpt[i], rcpt) == 0)
			n += f->ticket_sent_n[i];
	for (guint i = 0; i < p->mails->len; i++) {
		const PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
		if (pm->ticket_id == tid && strcmp(pm->to_addr, rcpt) == 0 &&
		    strcmp(pm->kind, "relay") != 0)
			n++;
	}
	return n >= p->max_automatic_per_ticket;
}

void plan_auto_reply(Plan *p, const Mail *m, const MailFacts *f, TemplateKind tpl,
		     const PlanVars *v, const char *kind, const char *key, int64_t ticket_id,
		     int max_per_hour, RateKind rate)
{
	const char *rcpt = m->from->addr;
	int sent = f->sent_last_hour[rate];
	const char *why = NULL;
	if (max_per_hour >= 0 && sent >= max_per_hour)
		why = psf(p, "%d or more %s in the last %s", sent, kind,
			  rate == RATE_NOTICE ? "day" : "hour");
	else if (p->max_automatic_per_hour > 0 &&
		 f->sent_last_hour[RATE_ANY] >= p->max_automatic_per_hour)
		why = psf(p, "%d or more automatic mails in the last hour",
			  f->sent_last_hour[RATE_ANY]);
	else if (ticket_id && over_ticket_limit(p, ticket_id, rcpt))
		why = psf(p, "%d or more mails about ticket #%lld in the last hour",
			  p->max_automatic_per_ticket, (long long)ticket_id);
	if (why) {
		plan_note(p, "automatic %s to %s suppressed: %s", kind, rcpt, why);
		plan_event(p, ticket_id, "auto-reply-suppressed", "deskmail", NULL, NULL, NULL,
			   rcpt);
		return;
	}
	PlanMail *pm = plan_add_mail(p);
	pm->kind = kind;
	pm->event_key = ps(p, key);
	pm->tpl = tpl;
	pm->vars = *v;
	pm->ticket_id = ticket_id;
	/* a stranger's display name is not repeated to the address */
	pm->to_name = tpl == TPL_QUARANTINE ? NULL : m->from->name;
	pm->to_addr = rcpt;
	pm->in_reply_to = m->message_id;
	pm->n_refs = reply_refs(m, pm->refs, 20);
	pm->automatic = true;
}

/* ---- staff notifications ------------------------------------------------------ */

static bool is_manager_role(const char *role)
{
	return strcmp(role, "account-manager") == 0 || strcmp(role, "project-manager") == 0;
}

/* Whether staff member s is a recipient of notice n on ticket t. */
static bool recipient(const StaffFact *s, const TicketFact *t, const Notice *n,
		      const StaffList *staff, const Config *cfg)
{
	if (!s->active || s->id == n->exclude_staff_id)
		return false;
	switch (n->who) {
	case NOTIFY_ONE:
		return s->id == n->one_staff_id;
	case NOTIFY_ASSIGNEE: {
		const StaffFact *a = staff_by_id(staff, t->assignee_id);
		if (a && a->active && t->assignee_id != n->exclude_staff_id)
			return s->id == t->assignee_id;
		return s->line == t->line;
	}
	case NOTIFY_ASSIGNEE_AM: {
		if (t->client.account_manager_id && s->id == t->client.account_manager_id)
			return true;
		const StaffFact *a = staff_by_id(staff, t->assignee_id);
		if (a && a->active && t->assignee_id != n->exclude_staff_id)
			return s->id == t->assignee_id;
		return s->line == t->line;
	}
	case NOTIFY_AM:
		return t->client.account_manager_id && s->id == t->client.account_manager_id;
	case NOTIFY_LINE:
		return s->line == t->line ||
		       (cfg->desk_notify_account_manager && t->client.account_manager_id &&
			s->id == t->client.account_manager_id);
	}
	return false;
}

/* Nobody on the line: the client's account manager, else every manager. */
static bool fallback_recipient(const StaffFact *s, const TicketFact *t, const Notice *n)
{
	if (!s->active || s->id == n->exclude_staff_id)
		return false;
	if (t->client.account_manager_id)
		return s->id == t->client.account_manager_id;
	return is_manager_role(s->role);
}

/* "  report.pdf (application/pdf, 1234 bytes)" lines, for notifications. */
static const char *attachment_lines(Plan *p, const Mail *m)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; m && i < m->n_attachments; i++)
		g_string_append_printf(s, "  %s (%s, %zu bytes)\n", m->attachments[i].filename,
				       m->attachments[i].content_type, m->attachments[i].size);
	if (s->len == 0)
		g_string_append(s, "  none\n");
	const char *r = plan_cap_text(p, ps(p, s->str), PLAN_MAX_LIST_TEXT);
	g_string_free(s, TRUE);
	return r;
}

void plan_notify_staff(Plan *p, const TicketFact *t, const PlanVars *view, const Notice *n,
		       const StaffList *staff, const Config *cfg)
{
	GPtrArray *to = g_ptr_array_new();
	for (size_t i = 0; i < staff->n; i++)
		if (recipient(&staff->v[i], t, n, staff, cfg))
			g_ptr_array_add(to, &staff->v[i]);
	if (to->len == 0 && n->who != NOTIFY_ONE)
		for (size_t i = 0; i < staff->n; i++)
			if (fallback_recipient(&staff->v[i], t, n))
				g_ptr_array_add(to, &staff->v[i]);
	if (to->len == 0) {
		plan_note(p, "ticket #%lld: nobody to send %s to", (long long)t->id, n->kind);
		g_ptr_array_free(to, TRUE);
		return;
	}

	PlanVars v = *view;
	plan_vars_set(&v, "notice.title", n->title);
	plan_vars_set(&v, "notice.text",
		      n->text && *n->text ? plan_cap_text(p, n->text, PLAN_MAX_NOTICE_TEXT)
					  : "(no text)");
	plan_vars_set(&v, "actor.name", n->actor_name ? n->actor_name : n->actor_email);
	plan_vars_set(&v, "actor.email", n->actor_email);
	plan_vars_set(&v, "attachments", attachment_lines(p, n->m));

	for (guint i = 0; i < to->len; i++) {
		const StaffFact *s = to->pdata[i];
		if (over_ticket_limit(p, t->id, s->email)) {
			/* a loop through the desk (two autoresponders answering each
			 * other through a ticket) ends here */
			plan_note(p,
				  "%s to %s suppressed: %d or more mails about ticket #%lld in "
				  "the last hour",
				  n->kind, s->email, p->max_automatic_per_ticket, (long long)t->id);
			plan_event(p, t->id, "notification-suppressed", "deskmail", NULL, NULL,
				   NULL, s->email);
			continue;
		}
		PlanMail *pm = plan_add_mail(p);
		pm->kind = n->kind;
		pm->event_key = psf(p, "%s:staff:%lld", n->key, (long long)s->id);
		pm->tpl = TPL_NOTIFY;
		pm->vars = v;
		plan_vars_set(&pm->vars, "recipient.name", s->name);
		pm->ticket_id = t->id;
		pm->to_name = s->name;
		pm->to_addr = s->email;
		pm->in_reply_to = n->m ? n->m->message_id : NULL;
		pm->n_refs = n->m ? reply_refs(n->m, pm->refs, 20) : 0;
		pm->auto_header = "auto-generated";
		pm->internal = true;
		pm->reply_to = cfg->desk_address;
		if (n->m && cfg->desk_notify_attachments)
			pm->n_attachments =
				kept_attachments(cfg, n->m, pm->attachments, PLAN_MAX_ATTACHMENTS);
	}
	g_ptr_array_free(to, TRUE);
}

/* ---- a relay that could not be delivered -------------------------------------- */

void plan_delivery_failed(const TicketFact *t, const StaffList *staff, int64_t outbox_id,
			  const char *kind, const char *rcpt, const char *why, int64_t author_id,
			  const char *body, const Config *cfg, Plan *p)
{
	p->outcome = PLAN_NONE;
	p->desk_address = cfg->desk_address;
	plan_event(p, t->id, "delivery-failed", "deskmail", NULL, NULL, NULL,
		   psf(p, "%s to %s: %s", kind, rcpt, why));
	if (author_id == 0 || body == NULL)
		return;
	PlanVars view;
	ticket_vars(p, NULL, t, staff, cfg, &view);
	Notice n = {.kind = "notify-failed",
		    .key = psf(p, "notify-failed:outbox:%lld", (long long)outbox_id),
		    .title = psf(p, "Your reply could not be delivered to %s", rcpt),
		    .text = psf(p,
				"The mail server said: %s\n\nYour text, not received by the "
				"client:\n\n%s",
				why, body),
		    .who = NOTIFY_ONE,
		    .one_staff_id = author_id,
		    .actor_name = cfg->desk_name,
		    .actor_email = cfg->desk_address};
	plan_notify_staff(p, t, &view, &n, staff, cfg);
}

char *plan_above_marker(const char *text)
{
	if (text == NULL)
		return g_strdup("");
	const char *m = strstr(text, PLAN_REPLY_MARKER);
	if (m == NULL)
		return g_strdup(text);
	/* back to the start of its line: whatever quotes it goes too */
	while (m > text && m[-1] != '\n')
		m--;
	return g_strndup(text, (gsize)(m - text));
}

void plan_escalated_mail(Plan *p, const TicketFact *t, const PlanVars *view, const char *key,
			 const Config *cfg)
{
	static const char *const words[4] = {"", "1st", "2nd", "3rd"};
	int to = t->line >= 1 && t->line <= 3 ? t->line : 1;
	if (t->contact_email == NULL)
		return;
	PlanMail *pm = plan_add_mail(p);
	pm->kind = "escalated";
	pm->event_key = key;
	pm->tpl = TPL_ESCALATED;
	pm->vars = *view;
	plan_vars_set(&pm->vars, "recipient.name",
		      t->contact_name ? t->contact_name : t->contact_email);
	plan_vars_set(&pm->vars, "notice.title",
		      psf(p, "Your request has been escalated to our %s line", words[to]));
	plan_vars_set(&pm->vars, "notice.text",
		      to == 2 ? "It needs more time or expertise than our first line gives a "
				"request, so our second-line engineers now work on it."
			      : "Our third-line specialists now work on it.");
	pm->ticket_id = t->id;
	pm->to_name = t->contact_name;
	pm->to_addr = t->contact_email;
	pm->in_reply_to = t->last_in_msgid;
	pm->auto_header = "auto-generated";
	pm->reply_to = cfg->desk_address;
}
