/* plan_mail.c - the plan of one incoming mail: a duplicate, a new ticket, a
 * client's reply, a staff member's reply (plan_staff.c) or quarantine.
 *
 * The route (route.c) decides what the mail is from the facts; this file
 * turns that into effects, in the order the desk has always made them, so
 * that the audit trail and the outbox read the same:
 * - a new ticket: the ticket, the message (kept whole: what looks like
 *   quoting may be the forwarded problem itself), "ticket-created", the
 *   line's staff told, refused attachments told to the sender, the
 *   acknowledgement;
 * - a client's reply: the message with its clean text, the ticket back to
 *   open when it waited or was closed within the reopen window, the
 *   assignee (or the line) told; automatic mail (an out-of-office) neither
 *   reopens nor wakes a ticket;
 * - quarantine: the row with its reason and, for a person who is not a
 *   contact, one polite notice (rate-limited).
 * Nothing here reads a clock: "now" is the database's, from the facts. */
#include <stdio.h>
#include <string.h>

#include "deskmail/auth.h"
#include "deskmail/clean.h"
#include "deskmail/route.h"
#include "deskmail/util.h"
#include "plan-private.h"

/* Why mail that carries no automatic marker of its own is automatic all the
 * same: it is from our own address, it is our own mail coming back (our
 * X-Loop), or it repeats, word for word, what the sender wrote lately (an
 * autoresponder without headers answering each of our mails).  NULL when
 * none of these.  The returned text is static or in p (when p is NULL, a
 * generic text). */
static const char *loop_reason(const Mail *m, const MailFacts *f, const Config *cfg, Plan *p)
{
	if (m == NULL || m->is_automatic)
		return NULL;
	/* every address of the desk's (each mailbox's brand has one) */
	const char *only[] = {cfg->desk_address, NULL};
	const char *const *own =
		cfg->own_addresses ? (const char *const *)cfg->own_addresses : only;
	for (size_t i = 0; own[i] != NULL; i++)
		if (m->from && g_ascii_strcasecmp(m->from->addr, own[i]) == 0)
			return "From: our own address";
	for (size_t i = 0; m->x_loop && own[i] != NULL; i++) {
		g_autofree char *ours = g_ascii_strdown(own[i], -1);
		size_t n = strlen(ours);
		for (const char *s = strstr(m->x_loop, ours); s; s = strstr(s + 1, ours)) {
			bool start = s == m->x_loop || !g_ascii_isalnum(s[-1]);
			bool end = !g_ascii_isalnum(s[n]) && s[n] != '.' && s[n] != '-';
			if (start && end)
				return "X-Loop: our own mail came back";
		}
	}
	if (f && f->repeat_inbound_id)
		return p ? psf(p,
			       "repeated mail: the same subject and text as inbound #%lld, "
			       "within %d minutes",
			       (long long)f->repeat_inbound_id, cfg->desk_repeat_window)
			 : "repeated mail";
	return NULL;
}

/* Automatic mail (by its own markers or by loop_reason): never answered by
 * us, opens no ticket, wakes nobody. */
static bool treat_as_automatic(const Mail *m, const MailFacts *f, const Config *cfg)
{
	return m && (m->is_automatic || loop_reason(m, f, cfg, NULL) != NULL);
}

/* Whether the From address of m meets requirement req (CFG_AUTH_*). */
static bool sender_verified(const Mail *m, int req, const Config *cfg)
{
	if (req == CFG_AUTH_NONE)
		return true;
	AuthVerdict v;
	auth_check((const char *const *)m->auth_results, m->n_auth_results, cfg->auth_trusted_id,
		   m->from->addr, (AuthRequire)req, &v);
	return v.verified;
}

/* A mail that would act as a contact (a ticket, a reply) or as staff must
 * meet auth.require / auth.staff_require; one that does not is kept in
 * quarantine and acts as nobody. */
static void verify_sender(const Mail *m, const MailFacts *f, const Config *cfg, RouteDecision *d)
{
	bool staff = false;
	for (size_t i = 0; f->staff && i < f->staff->n; i++)
		if (f->staff->v[i].active && strcmp(f->staff->v[i].email, m->from->addr) == 0)
			staff = true;
	int req = staff ? cfg->auth_staff_require : cfg->auth_require;
	if (req == CFG_AUTH_NONE)
		return;
	AuthVerdict v;
	auth_check((const char *const *)m->auth_results, m->n_auth_results, cfg->auth_trusted_id,
		   m->from->addr, (AuthRequire)req, &v);
	if (v.verified)
		return;
	int64_t ticket = d->kind == ROUTE_REPLY ? d->ticket_id : d->reopened_from;
	memset(d, 0, sizeof *d);
	d->kind = ROUTE_QUARANTINE;
	d->unverified = true;
	d->unverified_staff = staff;
	d->unverified_ticket = ticket;
	snprintf(d->reason, sizeof d->reason,
		 "unverified sender (as %s %.80s, %s required): %.180s",
		 staff ? "staff" : "contact", m->from->addr, auth_require_name((AuthRequire)req),
		 v.summary);
}

static bool is_duplicate(const Mail *m, const MailFacts *f, const MailSource *src)
{
	/* a quarantined mail run through again is not a duplicate of itself */
	return (m && f->dup_inbound_id && f->dup_inbound_id != src->redo_inbound_id) ||
	       f->dup_bytes;
}

static void decide(const Mail *m, const char *parse_error, const MailFacts *f,
		   const MailSource *src, const Config *cfg, RouteDecision *d)
{
	if (m) {
		const TicketFact *t = &f->ticket;
		bool closed_expired = t->id && strcmp(t->status, "closed") == 0 && t->closed &&
				      t->closed_at < f->now - (int64_t)cfg->desk_reopen_days *
								      86400 * G_USEC_PER_SEC;
		RouteFacts rf = {
			.has_from = m->from != NULL,
			.sender_is_staff = false, /* below */
			.sender_client_id = f->contact_client.id,
			.token_ticket_id = route_subject_token(m->subject),
			.token_ticket_exists = f->token_ticket_exists,
			.ref_ticket_id = f->ref_ticket_id,
			.ticket_client_id =
				f->token_ticket_exists ? f->token_client_id : f->ref_client_id,
			.automatic = !src->accepted && treat_as_automatic(m, f, cfg),
			.ticket_closed_expired = closed_expired,
		};
		/* a repeat of a mail that went to a ticket goes to that ticket
		 * too (as automatic mail: kept, nobody woken) */
		if (!rf.token_ticket_exists && !rf.ref_ticket_id && f->repeat_ticket_id) {
			rf.ref_ticket_id = f->repeat_ticket_id;
			rf.ticket_client_id = f->repeat_client_id;
		}
		/* a staff address is staff even if it is also somebody's contact */
		for (size_t i = 0; m->from && f->staff && i < f->staff->n; i++)
			if (f->staff->v[i].active &&
			    strcmp(f->staff->v[i].email, m->from->addr) == 0)
				rf.sender_is_staff = true;
		route_decide(&rf, d);
		const char *why =
			m->is_automatic ? m->automatic_reason : loop_reason(m, f, cfg, NULL);
		if (d->kind == ROUTE_QUARANTINE && rf.automatic && !d->refused_ticket && why)
			snprintf(d->reason, sizeof d->reason,
				 "automatic mail that refers to no ticket (%.150s)", why);
	} else {
		memset(d, 0, sizeof *d);
		d->kind = ROUTE_QUARANTINE;
		snprintf(d->reason, sizeof d->reason, "unreadable message: %.150s",
			 parse_error ? parse_error : "");
	}
	if (m && m->from && d->kind != ROUTE_QUARANTINE && !src->accepted)
		verify_sender(m, f, cfg, d);
	else if (m && m->from && d->send_notice && !sender_verified(m, cfg->auth_require, cfg))
		d->send_notice = false; /* no notice to a forged address (backscatter) */
	if (src->truncated) {
		d->kind = ROUTE_QUARANTINE;
		d->send_notice = false;
		snprintf(d->reason, sizeof d->reason, "%.190s",
			 src->truncated_reason ? src->truncated_reason : "");
	}
	/* the %.Ns cuts above may split a character: the reason ends before
	 * it (it is stored, and a byte PostgreSQL refuses would fail the
	 * batch) */
	const char *end = NULL;
	if (!g_utf8_validate(d->reason, -1, &end))
		*(char *)end = '\0';
}

bool plan_may_open_ticket(const Mail *m, const MailSource *src, const Config *cfg)
{
	if (src->accepted)
		return m && m->from && !src->truncated;
	return m && m->from && !treat_as_automatic(m, NULL, cfg) && !src->truncated &&
	       sender_verified(m, cfg->auth_require, cfg);
}

bool plan_opens_ticket(const Mail *m, const MailFacts *f, const MailSource *src, const Config *cfg)
{
	if (is_duplicate(m, f, src))
		return false;
	RouteDecision d;
	decide(m, NULL, f, src, cfg, &d);
	return d.kind == ROUTE_NEW_TICKET;
}

static const StaffFact *sender_staff(const Mail *m, const MailFacts *f)
{
	for (size_t i = 0; m->from && i < f->staff->n; i++)
		if (f->staff->v[i].active && strcmp(f->staff->v[i].email, m->from->addr) == 0)
			return &f->staff->v[i];
	return NULL;
}

/* Tell the sender which attachments we did not keep (never to automatic
 * mail; rate-limited like every automatic reply). */
static void refused_notice(Plan *p, const Mail *m, const MailFacts *f, int64_t ticket_id,
			   const PlanVars *view, const char *refused, const Config *cfg)
{
	if (refused == NULL || m->is_automatic)
		return;
	PlanVars v = *view;
	plan_vars_set(&v, "refused", plan_cap_text(p, refused, PLAN_MAX_LIST_TEXT));
	plan_auto_reply(p, m, f, TPL_ATTACHMENT_REFUSED, &v, "attachment-refused",
			psf(p, "attachment-refused:inbound:%lld", (long long)f->inbound_id),
			ticket_id, cfg->desk_max_auto_replies_per_hour, RATE_REFUSED);
	plan_event(p, ticket_id, "attachment-refused", m->from->addr, NULL, NULL, NULL, refused);
}

/* Does the subject start the way replies do ("Re:", "AW:", "SV: [2]")? */
static bool reply_subject(const char *subject)
{
	static const char *const prefixes[] = {"re",  "aw", "sv",  "vs",  "antw", "odp", "ynt",
					       "rif", "r",  "res", "réf", "odg",  "vá",  NULL};
	const char *s = subject ? subject : "";
	while (*s == ' ' || *s == '\t')
		s++;
	for (int i = 0; prefixes[i]; i++) {
		size_t len = strlen(prefixes[i]);
		if (g_ascii_strncasecmp(s, prefixes[i], len) != 0)
			continue;
		const char *c = s + len;
		const char *e = *c == '[' ? strchr(c, ']') : NULL;
		if (e && e - c < 8) /* "Re[2]:" */
			c = e + 1;
		while (*c == ' ')
			c++;
		if (*c == ':' || g_str_has_prefix(c, "\xef\xbc\x9a"))
			return true;
	}
	return g_str_has_prefix(s, "回复") || g_str_has_prefix(s, "答复") ||
	       g_str_has_prefix(s, "回覆") || g_str_has_prefix(s, "답장");
}

/* A new ticket's first message: a mail that answers another (In-Reply-To,
 * References, a reply's subject, a follow-up of a closed ticket) carries
 * quoted history, which is cut as in a reply (the reply marker first);
 * other mails are kept as written.  NULL: keep the text as it is. */
static const char *first_text(Plan *p, const Mail *m, const RouteDecision *d)
{
	if (!(m->in_reply_to || m->n_references > 0 || d->reopened_from ||
	      reply_subject(m->subject)))
		return NULL;
	char *above = plan_above_marker(m->text);
	char *clean = clean_reply_text(above);
	g_free(above);
	const char *body = *clean && strcmp(clean, m->text) != 0 ? ps(p, clean) : NULL;
	g_free(clean);
	return body;
}

static void new_ticket(Plan *p, const Mail *m, const MailFacts *f, const RouteDecision *d,
		       const Config *cfg)
{
	int64_t tid = f->new_ticket_id;
	g_assert(tid > 0);
	p->outcome = PLAN_TICKET;
	p->ticket_id = tid;
	p->new_ticket = true;
	p->new_client_id = f->contact_client.id;
	p->new_contact_id = f->contact_id;
	p->new_subject = *m->subject ? m->subject : "(no subject)";
	p->reopened_from = d->reopened_from;

	const char *refused = NULL;
	const char *body = first_text(p, m, d);
	plan_message(p, m, f, f->contact_id, 0, false, body, &refused, cfg);
	plan_event(p, tid, "ticket-created", m->from->addr, "status", NULL, "open",
		   d->reason[0] ? ps(p, d->reason) : NULL);
	if (d->reopened_from)
		plan_event(p, d->reopened_from, "followed-up", m->from->addr, NULL, NULL, NULL,
			   "the client wrote again after closing: new ticket");

	/* the ticket as it now is, for every mail below */
	TicketFact t = {
		.id = tid,
		.client_id = f->contact_client.id,
		.contact_id = f->contact_id,
		.subject = (char *)p->new_subject,
		.status = "open",
		.line = 1,
		.created = "",
		.client = f->contact_client,
		.contact_email = m->from->addr,
		.contact_name = f->contact_name,
	};
	GDateTime *dt = g_date_time_new_from_unix_utc(f->now / G_USEC_PER_SEC);
	if (dt) {
		char *s = g_date_time_format(dt, "%Y-%m-%d %H:%M UTC");
		t.created = (char *)ps(p, s);
		g_free(s);
		g_date_time_unref(dt);
	}
	PlanVars view;
	ticket_vars(p, m, &t, f->staff, cfg, &view);

	/* its clocks start now; the acknowledgement says when the first
	 * response is due, in the client's calendar */
	const CfgPlan *plan = plan_find(cfg, t.client.plan);
	const WtCalendar *cal = plan_ticket_calendar(cfg, t.client.calendar, plan);
	int64_t now_s = f->now / G_USEC_PER_SEC;
	SlaTicket st = {.created_at = now_s,
			.line_since = now_s,
			.status = "open",
			.line = 1,
			.plan = plan,
			.cal = cal,
			.now = now_s};
	SlaResult res;
	sla_compute(&st, &res);
	for (int k = 0; k < SLA_N_CLOCKS; k++)
		p->new_due[k] = res.clocks[k].running && res.clocks[k].state != SLA_NONE &&
						res.clocks[k].due != WT_NEVER
					? res.clocks[k].due
					: 0;
	p->new_sla_next = sla_next_action(&res, 1, NULL, 0, now_s);
	int64_t fr = p->new_due[SLA_FIRST_RESPONSE];
	if (fr) {
		char *s = wt_format(cal, fr);
		plan_vars_set(&view, "ticket.first_response_due", ps(p, s));
		g_free(s);
	}
	plan_vars_set(&view, "ticket.response_promise", plan_response_promise(p, cal, fr));
	sla_result_clear(&res);

	Notice n = {.kind = "notify-new",
		    .key = psf(p, "notify-new:ticket:%lld", (long long)tid),
		    .title = d->reopened_from
				     ? psf(p, "New ticket (follows up closed ticket #%lld)",
					   (long long)d->reopened_from)
				     : "New ticket",
		    .text = body ? body : m->text,
		    .who = NOTIFY_LINE,
		    .m = m,
		    .actor_name = m->from->name,
		    .actor_email = m->from->addr};
	plan_notify_staff(p, &t, &view, &n, f->staff, cfg);
	refused_notice(p, m, f, tid, &view, refused, cfg);
	if (d->send_ack) {
		/* acknowledgements cannot loop (automatic mail opens no ticket):
		 * their own limit, off by default */
		int max = cfg->desk_max_acks_per_hour;
		plan_auto_reply(p, m, f, TPL_ACK, &view, "ack",
				psf(p, "ack:ticket:%lld", (long long)tid), tid, max > 0 ? max : -1,
				RATE_ACK);
	}
}

/* A client's reply: clean text, back to open if it waited or was closed
 * within the reopen window, and the assignee (or line) is told. */
static void client_reply(Plan *p, const Mail *m, const MailFacts *f, const Config *cfg)
{
	const TicketFact *old = &f->ticket;
	int64_t tid = old->id;
	char *above = plan_above_marker(m->text);
	char *clean = clean_reply_text(above);
	g_free(above);
	/* a reply that is all quotation keeps its whole text for display */
	const char *body = *clean ? ps(p, clean) : m->text;
	g_free(clean);
	const char *refused = NULL;
	plan_message(p, m, f, f->contact_id, 0, false, body, &refused, cfg);

	TicketFact t = *old; /* as it will be */
	PlanTicketUpdate *u = &p->update;
	u->any = true;
	u->last_client = true;
	if (!m->is_automatic) {
		if (g_str_has_prefix(old->status, "awaiting-") ||
		    strcmp(old->status, "closed") == 0) {
			u->status = true;
			u->new_status = "open";
			t.status = "open";
		}
		u->closed = CLOSED_CLEAR;
		t.closed = false;
	}
	plan_event(p, tid, "client-reply", m->from->addr, NULL, NULL, NULL,
		   m->is_automatic ? "automatic" : NULL);
	bool was_closed = strcmp(old->status, "closed") == 0;
	if (strcmp(old->status, t.status) != 0)
		plan_event(p, tid, "status-changed", m->from->addr, "status", ps(p, old->status),
			   t.status,
			   was_closed ? "reopened by the client's reply" : "the client replied");
	if (m->is_automatic)
		return;

	PlanVars view;
	ticket_vars(p, m, &t, f->staff, cfg, &view);
	Notice n = {.kind = "notify-reply",
		    .key = psf(p, "notify-reply:message:%lld", (long long)f->message_id),
		    .title = was_closed ? "The client replied and the ticket is open again"
					: "The client replied",
		    .text = body,
		    .who = NOTIFY_ASSIGNEE,
		    .m = m,
		    .actor_name = m->from->name,
		    .actor_email = m->from->addr};
	plan_notify_staff(p, &t, &view, &n, f->staff, cfg);
	refused_notice(p, m, f, tid, &view, refused, cfg);
}

/* Staff are told of a mail that claimed to be a contact or a staff member
 * and failed sender verification: the ticket's assignee (else its line),
 * or without a ticket the first line (else the managers), and the staff
 * member whose address it used.  Its files are not attached. */
static void unverified_notice(Plan *p, const Mail *m, const MailFacts *f, const RouteDecision *d,
			      const Config *cfg)
{
	if (cfg->desk_max_notices_per_hour > 0 &&
	    f->unverified_last_hour >= cfg->desk_max_notices_per_hour) {
		/* a flood of forged mail: kept, but not each told to staff */
		plan_note(p,
			  "notice of an unverified sender (%s) not sent: %d or more in the last "
			  "hour",
			  m->from->addr, f->unverified_last_hour);
		plan_event(p, 0, "notification-suppressed", "deskmail", NULL, NULL, NULL,
			   m->from->addr);
		return;
	}
	TicketFact t;
	if (d->unverified_ticket && f->ticket.id == d->unverified_ticket) {
		t = f->ticket;
	} else {
		/* the subject is the sender's: no [#N] of it may reach ours (a
		 * staff reply to the notice would go to that ticket) */
		g_autofree char *subj = g_strdup(m->subject);
		for (char *q = strstr(subj, "[#"); q; q = strstr(q + 1, "[#"))
			q[0] = '(';
		t = (TicketFact){
			.subject = (char *)ps(p, subj),
			.status = "quarantined",
			.line = 1,
			.created = "",
			.client = f->contact_client,
			.contact_email = m->from->addr,
			.contact_name = f->contact_name,
		};
	}
	PlanVars view;
	ticket_vars(p, m, &t, f->staff, cfg, &view);
	if (t.id == 0)
		plan_vars_set(&view, "ticket.id", "none");
	Notice n = {
		.kind = "notify-unverified",
		.key = psf(p, "notify-unverified:inbound:%lld", (long long)f->inbound_id),
		.title = psf(p,
			     "A mail claiming to be from %s %s failed sender verification; it is "
			     "held in quarantine",
			     d->unverified_staff ? "staff member" : "contact", m->from->addr),
		.text = psf(p,
			    "%s\n\nNothing in it was acted on or relayed.  The start of its "
			    "text, as it came:\n\n%s",
			    d->reason, plan_cap_text(p, m->text, 4096)),
		.who = t.id ? NOTIFY_ASSIGNEE : NOTIFY_LINE,
		.actor_name = m->from->name,
		.actor_email = m->from->addr,
	};
	plan_notify_staff(p, &t, &view, &n, f->staff, cfg);
	const StaffFact *victim = NULL;
	for (size_t i = 0; d->unverified_staff && i < f->staff->n; i++)
		if (f->staff->v[i].active && strcmp(f->staff->v[i].email, m->from->addr) == 0)
			victim = &f->staff->v[i];
	bool told = false;
	for (guint i = 0; victim && i < p->mails->len; i++)
		if (strcmp(g_array_index(p->mails, PlanMail, i).to_addr, victim->email) == 0)
			told = true;
	if (victim && !told) {
		n.who = NOTIFY_ONE;
		n.one_staff_id = victim->id;
		plan_notify_staff(p, &t, &view, &n, f->staff, cfg);
	}
}

static void quarantine(Plan *p, const Mail *m, const MailFacts *f, const RouteDecision *d,
		       bool automatic, const Config *cfg)
{
	p->outcome = PLAN_QUARANTINE;
	p->quarantine = true;
	p->quarantine_reason = ps(p, d->reason);
	p->quarantine_automatic = automatic;
	p->detail = p->quarantine_reason;
	if (d->unverified) {
		unverified_notice(p, m, f, d, cfg);
		return;
	}
	if (!d->send_notice || automatic || m == NULL || m->from == NULL ||
	    !dm_addr_valid(m->from->addr))
		return;
	if (cfg->desk_max_notices_per_hour > 0 &&
	    f->notices_last_hour >= cfg->desk_max_notices_per_hour) {
		plan_note(p,
			  "quarantine notice to %s suppressed: %d or more notices in the last hour",
			  m->from->addr, f->notices_last_hour);
		plan_event(p, 0, "auto-reply-suppressed", "deskmail", NULL, NULL, NULL,
			   m->from->addr);
		return;
	}
	/* nothing the sender wrote is repeated to the address in From, which
	 * may be someone else's (the sender's subject, text and name would
	 * turn the notice into their spam) */
	PlanVars v;
	mail_vars(NULL, cfg, &v);
	plan_vars_set(&v, "sender.email", m->from->addr);
	plan_vars_set(&v, "reason", p->quarantine_reason);
	/* why, in words for the sender */
	plan_vars_set(&v, "notice.text",
		      d->refused_ticket
			      ? psf(p,
				    "%s is not a named contact of the organisation that ticket "
				    "#%lld belongs to",
				    m->from->addr, (long long)d->refused_ticket)
			      : psf(p,
				    "%s is not one of the named contacts we hold for our "
				    "clients",
				    m->from->addr));
	plan_auto_reply(p, m, f, TPL_QUARANTINE, &v, "quarantine-notice",
			psf(p, "notice:inbound:%lld", (long long)f->inbound_id), 0, 1, RATE_NOTICE);
}

/* A delivery status notification.  One that reports mail of ours marks its
 * outbox row bounced; about a ticket it is kept there (an internal,
 * automatic message), the ticket gets an event and the relay's author (or
 * for other mail the assignee, else the line) is told.  Nothing answers a
 * bounce.  One we cannot match, or about no ticket, is quarantined with
 * the reason "bounce". */
static void plan_bounce(Plan *p, const Mail *m, const MailFacts *f, const Config *cfg)
{
	p->inbound_id = f->inbound_id;
	p->inbound_automatic = true;
	const char *status = m->bounce_status ? m->bounce_status : "";
	const char *diag = m->bounce_diagnostic ? m->bounce_diagnostic : "";
	const char *what = *status || *diag
				   ? psf(p, "%s%s%s", status, *status && *diag ? " " : "", diag)
				   : "no diagnostic given";
	if (f->bounce_outbox_id == 0 || f->bounce_ticket_id == 0 ||
	    f->ticket.id != f->bounce_ticket_id) {
		p->outcome = PLAN_QUARANTINE;
		p->outcome_text = "quarantined";
		p->quarantine = true;
		p->quarantine_automatic = true;
		if (f->bounce_outbox_id) {
			/* ours, about no ticket (a notice to a stranger) */
			p->bounce_outbox_id = f->bounce_outbox_id;
			p->bounce_error = psf(p, "bounced: %s", what);
			p->quarantine_reason = psf(p, "bounce: our %s to %s: %s", f->bounce_kind,
						   f->bounce_rcpt, what);
		} else {
			p->quarantine_reason = "bounce";
		}
		p->detail = m->bounce_message_id ? psf(p, "%s; the mail that bounced: <%s>",
						       p->quarantine_reason, m->bounce_message_id)
						 : p->quarantine_reason;
		return;
	}
	int64_t tid = f->bounce_ticket_id;
	const char *rcpt = f->bounce_rcpt;
	const char *about = psf(p, "%s to %s: %s", f->bounce_kind, rcpt, what);
	p->outcome = PLAN_REPLY;
	p->outcome_text = "bounce";
	p->ticket_id = tid;
	p->detail = psf(p, "bounce of %s", about);
	p->bounce_outbox_id = f->bounce_outbox_id;
	p->bounce_error = psf(p, "bounced: %s", what);
	plan_message(p, m, f, 0, 0, true, NULL, NULL, cfg);
	plan_event(p, tid, "delivery-bounced", "deskmail", NULL, NULL, NULL, about);
	if (g_str_has_prefix(f->bounce_kind, "notify-")) {
		/* a staff address that bounces: said in the log and the event,
		 * not by more mail that would bounce the same way */
		plan_note(p, "ticket #%lld: our %s bounced", (long long)tid, about);
		return;
	}
	PlanVars view;
	ticket_vars(p, m, &f->ticket, f->staff, cfg, &view);
	bool relay = strcmp(f->bounce_kind, "relay") == 0 && f->bounce_author_id && f->bounce_body;
	Notice n = {
		.kind = "notify-bounced",
		.key = psf(p, "notify-bounced:outbox:%lld", (long long)f->bounce_outbox_id),
		.title =
			relay ? psf(p, "Your reply could not be delivered to %s", rcpt)
			      : psf(p, "Our %s to %s could not be delivered", f->bounce_kind, rcpt),
		.text = relay ? psf(p,
				    "The mail server said: %s\n\nYour text, not received by the "
				    "client:\n\n%s",
				    what, f->bounce_body)
			      : psf(p, "The mail server said: %s", what),
		.who = relay ? NOTIFY_ONE : NOTIFY_ASSIGNEE,
		.one_staff_id = f->bounce_author_id,
		.actor_name = cfg->desk_name,
		.actor_email = cfg->desk_address,
	};
	plan_notify_staff(p, &f->ticket, &view, &n, f->staff, cfg);
}

/* The quarantine row src->redo_quarantine_id, decided: what came of it,
 * and an audit event on the ticket it went to. */
static void decided(Plan *p, const MailSource *src, const RouteDecision *d)
{
	const char *by = src->redo_by ? src->redo_by : "operator";
	p->decided_quarantine_id = src->redo_quarantine_id;
	p->decided_by = by;
	const char *what = src->accepted ? "accepted" : "retried";
	switch (p->outcome) {
	case PLAN_TICKET:
		p->decision = psf(p, "%s: new ticket #%lld", what, (long long)p->ticket_id);
		break;
	case PLAN_REPLY:
		p->decision = psf(p, "%s: reply to ticket #%lld", what, (long long)p->ticket_id);
		break;
	case PLAN_DUPLICATE:
		p->decision = psf(p, "%s: a duplicate of inbound #%lld", what,
				  (long long)p->dup_inbound_id);
		break;
	default:
		p->decision = psf(p, "%s: still quarantined", what);
		break;
	}
	p->decided_status = p->outcome == PLAN_QUARANTINE ? "held" : what;
	p->decided_reason = p->outcome == PLAN_QUARANTINE ? ps(p, d->reason) : NULL;
	if (p->ticket_id && p->outcome != PLAN_DUPLICATE)
		plan_event(p, p->ticket_id,
			   src->accepted ? "quarantine-accepted" : "quarantine-retried", by, NULL,
			   NULL, NULL,
			   psf(p, "quarantine #%lld", (long long)src->redo_quarantine_id));
}

void plan_mail(const Mail *m, const char *parse_error, const char *sha256, const MailSource *src,
	       const MailFacts *f, const Config *cfg, Plan *p)
{
	g_assert(f->staff != NULL);
	p->desk_address = cfg->desk_address;
	p->sha256 = sha256;
	p->out_ids = f->out_ids;
	p->n_out_ids = f->n_out_ids;
	p->src = src;
	p->mail = m;
	if (is_duplicate(m, f, src)) {
		p->outcome = PLAN_DUPLICATE;
		p->dup_inbound_id = m && f->dup_inbound_id ? f->dup_inbound_id : 0;
		p->outcome_text = "duplicate";
		if (src->redo_quarantine_id) {
			RouteDecision none = {0};
			decided(p, src, &none);
		}
		return;
	}
	p->facts = f;
	p->max_automatic_per_hour = cfg->desk_max_automatic_per_hour;
	p->max_automatic_per_ticket = cfg->desk_max_automatic_per_ticket;
	/* a bounce of ours, or one from a mail system (a named contact's or a
	 * staff member's own report is routed as their automatic mail) */
	if (m && m->is_bounce && !src->accepted && !src->truncated &&
	    (f->bounce_outbox_id || (!f->contact_id && !sender_staff(m, f)))) {
		plan_bounce(p, m, f, cfg);
		if (src->redo_quarantine_id) {
			/* a quarantined bounce retried: its entry says what came of
			 * it (and stays held when it is still a quarantine case) */
			p->inbound_id = src->redo_inbound_id ? src->redo_inbound_id : p->inbound_id;
			RouteDecision rd = {0};
			if (p->outcome == PLAN_QUARANTINE) {
				g_strlcpy(rd.reason, p->quarantine_reason, sizeof rd.reason);
				p->quarantine = false;
			}
			decided(p, src, &rd);
		}
		return;
	}
	const char *why = src->accepted ? NULL : loop_reason(m, f, cfg, p);
	if (m && src->accepted && m->is_automatic) {
		/* staff accepted it: it is taken as a person's mail */
		p->mail_as_automatic = *m;
		p->mail_as_automatic.is_automatic = false;
		p->mail_as_automatic.automatic_reason = NULL;
		m = p->mail = &p->mail_as_automatic;
	}
	if (why) {
		/* from here on the mail is automatic mail, like any other */
		p->mail_as_automatic = *m;
		p->mail_as_automatic.is_automatic = true;
		p->mail_as_automatic.automatic_reason = (char *)why;
		m = p->mail = &p->mail_as_automatic;
		plan_note(p, "%s", why);
	}
	RouteDecision d;
	decide(m, parse_error, f, src, cfg, &d);
	p->inbound_id = src->redo_inbound_id ? src->redo_inbound_id : f->inbound_id;
	p->inbound_automatic = m && m->is_automatic;
	switch (d.kind) {
	case ROUTE_NEW_TICKET:
		new_ticket(p, m, f, &d, cfg);
		p->outcome_text = "new ticket";
		break;
	case ROUTE_REPLY: {
		p->outcome = PLAN_REPLY;
		p->outcome_text = "reply";
		p->ticket_id = d.ticket_id;
		g_assert(f->ticket.id == d.ticket_id);
		const StaffFact *who = sender_staff(m, f);
		if (who)
			plan_staff_reply(p, m, f, who, cfg);
		else
			client_reply(p, m, f, cfg);
		break;
	}
	case ROUTE_QUARANTINE:
		if (src->redo_quarantine_id) {
			/* still a quarantine case: the row stays, with its new
			 * reason, and nobody is told again */
			p->outcome = PLAN_QUARANTINE;
			p->detail = ps(p, d.reason);
		} else {
			quarantine(p, m, f, &d, treat_as_automatic(m, f, cfg), cfg);
		}
		p->outcome_text = "quarantined";
		break;
	}
	if (src->redo_quarantine_id)
		decided(p, src, &d);
}
