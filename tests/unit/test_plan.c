/* test_plan.c - the planner without a database: facts in, plan out.
 *
 * Each case builds a Mail and the MailFacts the store would gather, runs
 * plan_mail, and checks the plan: its outcome, rows, ticket changes, the
 * audit events in order and the mail queued (kind, recipient, template
 * values).  The staff of every case: */
#include <glib.h>
#include <string.h>

#include "deskmail/plan.h"

enum { AMY = 1, PETE, SAM, JO, TOM, INA, LINE2 };

static StaffFact staff_v[] = {
	{AMY, "amy@agency.example", "Amy Account", "account-manager", 3, true},
	{PETE, "pete@agency.example", "Pete Project", "project-manager", 2, true},
	{SAM, "sam@agency.example", "Sam Senior", "senior-engineer", 1, true},
	{JO, "jo@agency.example", "Jo Junior", "junior-engineer", 1, true},
	{TOM, "t.baker@agency.example", "Tom Baker", "senior-engineer", 3, true},
	{INA, "ina@agency.example", "Ina Inactive", "senior-engineer", 1, false},
	{LINE2, "lee@agency.example", "Lee Second", "senior-engineer", 2, true},
};
static StaffList staff = {staff_v, G_N_ELEMENTS(staff_v)};

static Config cfg;
static CfgPlan plans[1];

static void setup_config(void)
{
	cfg.desk_name = "Example Agency Support";
	cfg.desk_address = "support@agency.example";
	cfg.desk_domain = "agency.example";
	cfg.desk_max_auto_replies_per_hour = 3;
	cfg.desk_max_acks_per_hour = 0;
	cfg.desk_max_automatic_per_hour = 20;
	cfg.desk_max_automatic_per_ticket = 10;
	cfg.desk_repeat_window = 60;
	cfg.desk_reopen_days = 14;
	cfg.desk_attachment_max_bytes = 1000;
	cfg.desk_message_attachments_max_bytes = 1500;
	cfg.desk_notify_account_manager = false;
	cfg.desk_notify_attachments = false;
	plans[0].name = "silver";
	cfg.plans = plans;
	cfg.n_plans = 1;
}

#define NOW ((int64_t)1800000000 * G_USEC_PER_SEC)
#define DAY ((int64_t)86400 * G_USEC_PER_SEC)

/* ---- building a case ---- */

static MailAddr from_alice = {"Alice Archer", "alice@acme.example"};
static MailAddr from_eve = {"Eve", "eve@stranger.example"};

static Mail *mail(MailAddr *from, const char *subject, const char *text)
{
	Mail *m = g_new0(Mail, 1);
	m->from = from;
	m->subject = (char *)subject;
	m->text = (char *)text;
	m->message_id = "m1@client.example";
	return m;
}

/* Facts of a sender who is alice, a contact of Acme (client 10). */
static void facts_alice(MailFacts *f)
{
	memset(f, 0, sizeof *f);
	f->now = NOW;
	g_strlcpy(f->now_text, "2027-01-15 08:00:00+00", sizeof f->now_text);
	f->inbound_id = 500;
	f->message_id = 900;
	f->contact_id = 20;
	f->contact_name = "Alice Archer";
	f->contact_client = (ClientFact){10, "Acme Ltd", "silver", AMY};
	f->staff = &staff;
}

/* ... and of ticket 7 of Acme, alice's, in `status`. */
static void ticket7(MailFacts *f, const char *status)
{
	f->token_ticket_exists = true;
	f->token_client_id = 10;
	TicketFact *t = &f->ticket;
	t->id = 7;
	t->client_id = 10;
	t->contact_id = 20;
	t->subject = "Checkout is broken";
	t->status = (char *)status;
	t->line = 1;
	t->created = "2027-01-14 09:00 UTC";
	t->client = f->contact_client;
	t->contact_email = "alice@acme.example";
	t->contact_name = "Alice Archer";
	t->last_in_msgid = "c2@acme.example";
	t->last_in_refs = "c0@acme.example c1@acme.example";
	t->last_in_body = "Customers cannot pay.";
	if (strcmp(status, "closed") == 0) {
		t->closed = true;
		t->closed_at = NOW - 2 * DAY;
	}
}

static MailSource pipe_src = {.source = "pipe"};

typedef struct {
	Mail *m;
	MailFacts f;
	Plan p;
} Case;

static void run(Case *c)
{
	plan_init(&c->p);
	if (plan_opens_ticket(c->m, &c->f, &pipe_src, &cfg))
		c->f.new_ticket_id = 42;
	plan_mail(c->m, "no headers", "sha", &pipe_src, &c->f, &cfg, &c->p);
}

static void done(Case *c)
{
	plan_clear(&c->p);
	g_free(c->m);
}

/* "kind@rcpt" of every mail, comma separated. */
static char *mails_of(const Plan *p)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < p->mails->len; i++) {
		const PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
		g_string_append_printf(s, "%s%s@%s", i ? "," : "", pm->kind, pm->to_addr);
	}
	return g_string_free(s, FALSE);
}

/* "kind" (or "kind:field:before>after") of every event, comma separated. */
static char *events_of(const Plan *p)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < p->events->len; i++) {
		const PlanEvent *e = &g_array_index(p->events, PlanEvent, i);
		g_string_append_printf(s, "%s%s", i ? "," : "", e->kind);
		if (e->field)
			g_string_append_printf(s, ":%s:%s>%s", e->field,
					       e->before ? e->before : "-",
					       e->after ? e->after : "-");
	}
	return g_string_free(s, FALSE);
}

/* The first mail of kind, or NULL. */
static const PlanMail *find_mail(const Plan *p, const char *kind)
{
	for (guint i = 0; i < p->mails->len; i++) {
		const PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
		if (strcmp(pm->kind, kind) == 0)
			return pm;
	}
	return NULL;
}

/* The first mail of kind, which must be there. */
static const PlanMail *mail_of(const Plan *p, const char *kind)
{
	const PlanMail *pm = find_mail(p, kind);
	if (pm == NULL)
		g_error("the plan has no %s mail", kind);
	return pm;
}

static const char *var(const PlanMail *pm, const char *name)
{
	return plan_vars_lookup((void *)&pm->vars, name);
}

#define CHECK_LIST(fn, p, want)                                                                    \
	do {                                                                                       \
		char *got_ = fn(p);                                                                \
		g_assert_cmpstr(got_, ==, want);                                                   \
		g_free(got_);                                                                      \
	} while (0)

/* ---- new tickets and quarantine ---- */

static void test_new_ticket(void)
{
	Case c = {.m = mail(&from_alice, "Checkout is broken", "Customers cannot pay.")};
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	g_assert_true(c.p.new_ticket);
	g_assert_cmpint(c.p.ticket_id, ==, 42);
	g_assert_cmpint(c.p.new_client_id, ==, 10);
	g_assert_cmpint(c.p.new_contact_id, ==, 20);
	g_assert_cmpint(c.p.inbound_id, ==, 500);
	g_assert_true(c.p.message);
	g_assert_cmpint(c.p.message_id, ==, 900);
	g_assert_cmpint(c.p.author_contact_id, ==, 20);
	g_assert_false(c.p.message_internal);
	/* a new request is kept whole */
	g_assert_cmpstr(c.p.message_body, ==, "Customers cannot pay.");
	CHECK_LIST(events_of, &c.p, "ticket-created:status:->open");
	/* the active staff of line 1 (not the inactive one), then the ack */
	CHECK_LIST(mails_of, &c.p,
		   "notify-new@sam@agency.example,notify-new@jo@agency.example,"
		   "ack@alice@acme.example");
	const PlanMail *ack = mail_of(&c.p, "ack");
	g_assert_true(ack->automatic);
	g_assert_cmpstr(ack->event_key, ==, "ack:ticket:42");
	g_assert_cmpstr(ack->in_reply_to, ==, "m1@client.example");
	g_assert_cmpuint(ack->n_refs, ==, 1);
	g_assert_cmpint(ack->tpl, ==, TPL_ACK);
	g_assert_cmpstr(var(ack, "ticket.id"), ==, "42");
	g_assert_cmpstr(var(ack, "ticket.status"), ==, "open");
	g_assert_cmpstr(var(ack, "ticket.severity"), ==, "not yet set");
	g_assert_cmpstr(var(ack, "client.name"), ==, "Acme Ltd");
	g_assert_cmpstr(var(ack, "contact.name"), ==, "Alice Archer");
	g_assert_cmpstr(var(ack, "ticket.assignee"), ==, "nobody yet");
	g_assert_cmpstr(var(ack, "ticket.created"), ==, "2027-01-15 08:00 UTC");
	const PlanMail *n = mail_of(&c.p, "notify-new");
	g_assert_cmpstr(n->event_key, ==, "notify-new:ticket:42:staff:3");
	g_assert_cmpstr(n->auto_header, ==, "auto-generated");
	g_assert_true(n->internal);
	g_assert_cmpstr(n->reply_to, ==, "support@agency.example");
	g_assert_cmpstr(var(n, "notice.title"), ==, "New ticket");
	g_assert_cmpstr(var(n, "notice.text"), ==, "Customers cannot pay.");
	g_assert_cmpstr(var(n, "recipient.name"), ==, "Sam Senior");
	g_assert_cmpstr(var(n, "attachments"), ==, "  none\n");
	done(&c);
}

static void test_new_ticket_ack_limit(void)
{
	Case c = {.m = mail(&from_alice, "Another", "x")};
	facts_alice(&c.f);
	cfg.desk_max_acks_per_hour = 6;
	c.f.sent_last_hour[RATE_ACK] = 6;
	run(&c);
	cfg.desk_max_acks_per_hour = 0;
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	g_assert_null(find_mail(&c.p, "ack"));
	CHECK_LIST(events_of, &c.p, "ticket-created:status:->open,auto-reply-suppressed");
	g_assert_cmpuint(c.p.notes->len, ==, 1);
	done(&c);
}

static void test_stranger(void)
{
	Case c = {.m = mail(&from_eve, "Please help", "Who do I talk to?")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	c.f.inbound_id = 501;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_true(c.p.quarantine);
	g_assert_false(c.p.message);
	g_assert_cmpstr(c.p.quarantine_reason, ==, "sender is not a named contact of any client");
	CHECK_LIST(mails_of, &c.p, "quarantine-notice@eve@stranger.example");
	const PlanMail *q = mail_of(&c.p, "quarantine-notice");
	g_assert_cmpint(q->ticket_id, ==, 0);
	g_assert_cmpstr(q->event_key, ==, "notice:inbound:501");
	g_assert_cmpstr(var(q, "notice.text"), ==,
			"eve@stranger.example is not one of the named contacts we hold for our "
			"clients");
	/* nothing the sender wrote goes back to the address in From */
	g_assert_cmpstr(var(q, "message.subject"), ==, "");
	g_assert_cmpstr(var(q, "message.text"), ==, "");
	g_assert_cmpstr(var(q, "sender.name"), ==, "");
	g_assert_null(q->to_name);
	done(&c);

	/* the second in a day: kept, not answered */
	c = (Case){.m = mail(&from_eve, "Again", "x")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	c.f.sent_last_hour[RATE_NOTICE] = 1;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	CHECK_LIST(mails_of, &c.p, "");
	CHECK_LIST(events_of, &c.p, "auto-reply-suppressed");
	done(&c);

	/* the desk's hourly cap of notices to anyone */
	cfg.desk_max_notices_per_hour = 30;
	c = (Case){.m = mail(&from_eve, "First today", "x")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	c.f.notices_last_hour = 30;
	run(&c);
	CHECK_LIST(mails_of, &c.p, "");
	CHECK_LIST(events_of, &c.p, "auto-reply-suppressed");
	done(&c);
	c = (Case){.m = mail(&from_eve, "First today", "x")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	c.f.notices_last_hour = 29;
	run(&c);
	CHECK_LIST(mails_of, &c.p, "quarantine-notice@eve@stranger.example");
	done(&c);
}

static void test_other_clients_contact(void)
{
	/* carol of Globex (client 11) writes to Acme's ticket 7 */
	MailAddr carol = {"Carol", "carol@globex.example"};
	Case c = {.m = mail(&carol, "Re: [#7] Checkout", "Me too?")};
	facts_alice(&c.f);
	c.f.contact_id = 30;
	c.f.contact_client = (ClientFact){11, "Globex", "hosting", 0};
	ticket7(&c.f, "open");
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_cmpstr(c.p.quarantine_reason, ==,
			"sender is a contact of another client, not of ticket #7's");
	const PlanMail *q = mail_of(&c.p, "quarantine-notice");
	g_assert_cmpstr(var(q, "notice.text"), ==,
			"carol@globex.example is not a named contact of the organisation that "
			"ticket #7 belongs to");
	done(&c);
}

static void test_automatic_and_own_address(void)
{
	/* an out-of-office from a contact that refers to no ticket */
	Case c = {.m = mail(&from_alice, "Out of office", "away")};
	c.m->is_automatic = true;
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_true(c.p.quarantine_automatic);
	g_assert_true(c.p.inbound_automatic);
	g_assert_cmpstr(c.p.quarantine_reason, ==, "automatic mail that refers to no ticket");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);

	/* our own address is never answered, even if not marked automatic */
	MailAddr us = {"Support", "Support@Agency.example"};
	c = (Case){.m = mail(&us, "loop", "x")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_true(c.p.quarantine_automatic);
	g_assert_true(c.p.inbound_automatic);
	g_assert_cmpstr(c.p.quarantine_reason, ==,
			"automatic mail that refers to no ticket (From: our own address)");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);

	/* with several mailboxes, every brand's address is ours: From one, or
	 * one in X-Loop; a plain contact's mail still opens a ticket */
	char *own[] = {"support@agency.example", "sales@brand-b.example", NULL};
	cfg.own_addresses = own;
	MailAddr brand = {"Sales", "Sales@Brand-B.example"};
	c = (Case){.m = mail(&brand, "loop", "x")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	run(&c);
	g_assert_cmpstr(c.p.quarantine_reason, ==,
			"automatic mail that refers to no ticket (From: our own address)");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);
	c = (Case){.m = mail(&from_alice, "Fwd: Your request", "see below")};
	c.m->x_loop = "sales@brand-b.example";
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpstr(c.p.quarantine_reason, ==,
			"automatic mail that refers to no ticket (X-Loop: our own mail came "
			"back)");
	done(&c);
	c = (Case){.m = mail(&from_alice, "Help", "please")};
	c.m->x_loop = "xsales@brand-b.example";
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	done(&c);
	cfg.own_addresses = NULL;
}

/* Loops without RFC 3834 markers: our X-Loop coming back, the same words
 * again from one sender, and the per-recipient limits. */
static void test_loops(void)
{
	/* our X-Loop: automatic (a contact's mail that would open a ticket) */
	Case c = {.m = mail(&from_alice, "Fwd: Your request", "see below")};
	c.m->x_loop = "other@list.example, support@agency.example";
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_true(c.p.inbound_automatic);
	g_assert_cmpstr(c.p.quarantine_reason, ==,
			"automatic mail that refers to no ticket (X-Loop: our own mail came "
			"back)");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);

	/* someone else's X-Loop that only looks like ours is not ours */
	c = (Case){.m = mail(&from_alice, "Help", "please")};
	c.m->x_loop = "support@agency.example.evil.example, xsupport@agency.example";
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	CHECK_LIST(mails_of, &c.p,
		   "notify-new@sam@agency.example,notify-new@jo@agency.example,"
		   "ack@alice@acme.example");
	done(&c);

	/* the same words again, lately: automatic, and joins the ticket the
	 * first one opened (kept, nobody told, no acknowledgement) */
	c = (Case){.m = mail(&from_alice, "I am away", "Back on Monday.")};
	facts_alice(&c.f);
	c.f.repeat_inbound_id = 499;
	c.f.repeat_ticket_id = 7;
	c.f.repeat_client_id = 10;
	ticket7(&c.f, "open");
	c.f.token_ticket_exists = false; /* no [#7] in the subject */
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	g_assert_cmpint(c.p.ticket_id, ==, 7);
	g_assert_true(c.p.inbound_automatic);
	CHECK_LIST(mails_of, &c.p, "");
	CHECK_LIST(events_of, &c.p, "client-reply");
	done(&c);

	/* ... and when the first went nowhere: quarantine, saying why */
	c = (Case){.m = mail(&from_alice, "I am away", "Back on Monday.")};
	facts_alice(&c.f);
	c.f.repeat_inbound_id = 499;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_cmpstr(c.p.quarantine_reason, ==,
			"automatic mail that refers to no ticket (repeated mail: the same "
			"subject and text as inbound #499, within 60 minutes)");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);

	/* a staff member's repeat on a ticket: a note, not relayed */
	MailAddr sam = {"Sam Senior", "sam@agency.example"};
	c = (Case){.m = mail(&sam, "Re: [#7] The client replied", "I am on leave.")};
	facts_alice(&c.f);
	c.f.contact_id = 0;
	c.f.contact_client = (ClientFact){0};
	ticket7(&c.f, "open");
	c.f.repeat_inbound_id = 498;
	c.f.repeat_ticket_id = 7;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	CHECK_LIST(mails_of, &c.p, "");
	g_assert_true(c.p.message_internal);
	done(&c);

	/* every kind of automatic mail to one address: the hourly limit */
	c = (Case){.m = mail(&from_alice, "Tenth request today", "x")};
	facts_alice(&c.f);
	c.f.sent_last_hour[RATE_ANY] = 20;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	CHECK_LIST(mails_of, &c.p, "notify-new@sam@agency.example,notify-new@jo@agency.example");
	CHECK_LIST(events_of, &c.p, "ticket-created:status:->open,auto-reply-suppressed");
	done(&c);
	c = (Case){.m = mail(&from_alice, "Under the limit", "x")};
	facts_alice(&c.f);
	c.f.sent_last_hour[RATE_ANY] = 19;
	run(&c);
	g_assert_nonnull(mail_of(&c.p, "ack"));
	done(&c);

	/* mail about one ticket to one address: notifications too */
	char *rcpt[] = {"sam@agency.example", "jo@agency.example"};
	int n[] = {10, 9};
	c = (Case){.m = mail(&from_alice, "Re: [#7] Checkout", "still")};
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket_sent_rcpt = rcpt;
	c.f.ticket_sent_n = n;
	c.f.n_ticket_sent = 2;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	CHECK_LIST(mails_of, &c.p, "notify-reply@jo@agency.example");
	CHECK_LIST(events_of, &c.p, "client-reply,notification-suppressed");
	done(&c);
}

static void test_unreadable_truncated_duplicate(void)
{
	Case c = {.m = NULL};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_cmpstr(c.p.quarantine_reason, ==, "unreadable message: no headers");
	done(&c);

	MailSource big = {.source = "pipe", .truncated = true, .truncated_reason = "too big"};
	c = (Case){.m = mail(&from_alice, "Huge", "aaaa")};
	facts_alice(&c.f);
	plan_init(&c.p);
	g_assert_false(plan_opens_ticket(c.m, &c.f, &big, &cfg));
	plan_mail(c.m, NULL, "sha", &big, &c.f, &cfg, &c.p);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_cmpstr(c.p.quarantine_reason, ==, "too big");
	CHECK_LIST(mails_of, &c.p, ""); /* no notice for what we cut */
	done(&c);

	c = (Case){.m = mail(&from_alice, "Checkout", "again")};
	facts_alice(&c.f);
	c.f.dup_inbound_id = 77;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_DUPLICATE);
	g_assert_cmpint(c.p.dup_inbound_id, ==, 77);
	g_assert_false(c.p.message);
	g_assert_false(c.p.quarantine);
	g_assert_cmpuint(c.p.events->len, ==, 0);
	done(&c);

	c = (Case){.m = NULL};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	c.f.dup_bytes = true;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_DUPLICATE);
	done(&c);
}

/* ---- a client's replies ---- */

static void test_client_reply(void)
{
	Case c = {.m = mail(&from_alice, "Re: [#7] Checkout is broken",
			    "Still broken.\n\nOn Mon, Sam wrote:\n> did you clear the cache?\n")};
	facts_alice(&c.f);
	ticket7(&c.f, "awaiting-client");
	c.f.ticket.assignee_id = SAM;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	g_assert_cmpint(c.p.ticket_id, ==, 7);
	g_assert_false(c.p.new_ticket);
	g_assert_cmpstr(c.p.message_body, ==, "Still broken.");
	g_assert_true(c.p.update.any);
	g_assert_true(c.p.update.status);
	g_assert_cmpstr(c.p.update.new_status, ==, "open");
	g_assert_cmpint(c.p.update.closed, ==, CLOSED_CLEAR);
	g_assert_true(c.p.update.last_client);
	CHECK_LIST(events_of, &c.p, "client-reply,status-changed:status:awaiting-client>open");
	/* the assignee only */
	CHECK_LIST(mails_of, &c.p, "notify-reply@sam@agency.example");
	const PlanMail *n = mail_of(&c.p, "notify-reply");
	g_assert_cmpstr(n->event_key, ==, "notify-reply:message:900:staff:3");
	g_assert_cmpstr(var(n, "notice.title"), ==, "The client replied");
	g_assert_cmpstr(var(n, "ticket.status"), ==, "open");
	g_assert_cmpstr(var(n, "ticket.assignee"), ==, "Sam Senior <sam@agency.example>");
	done(&c);

	/* an inactive assignee: the line instead */
	c = (Case){.m = mail(&from_alice, "Re: [#7]", "more")};
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket.assignee_id = INA;
	run(&c);
	CHECK_LIST(mails_of, &c.p,
		   "notify-reply@sam@agency.example,notify-reply@jo@agency.example");
	CHECK_LIST(events_of, &c.p, "client-reply");
	done(&c);

	/* an out-of-office on a ticket: kept, nothing woken */
	c = (Case){.m = mail(&from_alice, "Re: [#7]", "I am away")};
	c.m->is_automatic = true;
	facts_alice(&c.f);
	ticket7(&c.f, "awaiting-client");
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	g_assert_false(c.p.update.status);
	g_assert_cmpint(c.p.update.closed, ==, CLOSED_KEEP);
	CHECK_LIST(events_of, &c.p, "client-reply");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);
}

static void test_reopen_window(void)
{
	/* closed two days ago: reopened */
	Case c = {.m = mail(&from_alice, "Re: [#7]", "It broke again")};
	facts_alice(&c.f);
	ticket7(&c.f, "closed");
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	CHECK_LIST(events_of, &c.p, "client-reply,status-changed:status:closed>open");
	const PlanEvent *e = &g_array_index(c.p.events, PlanEvent, 1);
	g_assert_cmpstr(e->detail, ==, "reopened by the client's reply");
	g_assert_cmpstr(var(mail_of(&c.p, "notify-reply"), "notice.title"), ==,
			"The client replied and the ticket is open again");
	done(&c);

	/* closed 20 days ago: a new ticket that refers to the old */
	c = (Case){.m = mail(&from_alice, "Re: [#7]", "It broke again")};
	facts_alice(&c.f);
	ticket7(&c.f, "closed");
	c.f.ticket.closed_at = NOW - 20 * DAY;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	g_assert_cmpint(c.p.ticket_id, ==, 42);
	g_assert_cmpint(c.p.reopened_from, ==, 7);
	CHECK_LIST(events_of, &c.p, "ticket-created:status:->open,followed-up");
	g_assert_cmpstr(var(mail_of(&c.p, "notify-new"), "notice.title"), ==,
			"New ticket (follows up closed ticket #7)");
	done(&c);

	/* the follow-up quotes our notification: cut at the reply marker and
	 * at the history, as a reply is; the staff notice shows the same */
	c = (Case){
		.m = mail(&from_alice, "Re: [#7]",
			  "It broke again.\n\nOn Mon, Example Support wrote:\n> " PLAN_REPLY_MARKER
			  "\n> Your ticket is closed.\n")};
	facts_alice(&c.f);
	ticket7(&c.f, "closed");
	c.f.ticket.closed_at = NOW - 20 * DAY;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	g_assert_cmpstr(c.p.message_body, ==, "It broke again.");
	g_assert_cmpstr(var(mail_of(&c.p, "notify-new"), "notice.text"), ==, "It broke again.");
	done(&c);
}

/* A new ticket from a mail that answers another (a reply's subject here)
 * keeps its clean text; a mail that answers nothing is kept as written,
 * quote marks and all. */
static void test_new_ticket_from_a_reply(void)
{
	Case c = {.m = mail(&from_alice, "RE: Invoice 2026-03",
			    "Please open a ticket for this.\n\n-----Original Message-----\n"
			    "From: Billing\nSent: Monday\n\nYour invoice is attached.\n")};
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	g_assert_cmpstr(c.p.message_body, ==, "Please open a ticket for this.");
	done(&c);

	const char *plain = "The log says:\n> disk full\nWhat now?";
	c = (Case){.m = mail(&from_alice, "Disk full", plain)};
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpstr(c.p.message_body, ==, plain);
	done(&c);
}

static void test_attachments_refused(void)
{
	MailAttachment a[3] = {
		{.filename = "small.txt", .content_type = "text/plain", .size = 600},
		{.filename = "big.bin", .content_type = "application/octet-stream", .size = 5000},
		{.filename = "more.txt", .content_type = "text/plain", .size = 1000},
	};
	Case c = {.m = mail(&from_alice, "Files", "see attached")};
	c.m->attachments = a;
	c.m->n_attachments = 3;
	facts_alice(&c.f);
	run(&c);
	g_assert_null(c.p.refused[0]);
	g_assert_nonnull(c.p.refused[1]); /* over the per-attachment cap */
	g_assert_nonnull(c.p.refused[2]); /* over the per-message cap */
	CHECK_LIST(events_of, &c.p, "ticket-created:status:->open,attachment-refused");
	CHECK_LIST(mails_of, &c.p,
		   "notify-new@sam@agency.example,notify-new@jo@agency.example,"
		   "attachment-refused@alice@acme.example,ack@alice@acme.example");
	const PlanMail *r = mail_of(&c.p, "attachment-refused");
	g_assert_nonnull(strstr(var(r, "refused"), "big.bin (5000 bytes)"));
	g_assert_nonnull(strstr(var(mail_of(&c.p, "notify-new"), "attachments"),
				"  big.bin (application/octet-stream, 5000 bytes)\n"));
	g_assert_cmpuint(mail_of(&c.p, "notify-new")->n_attachments, ==, 0);
	done(&c);

	/* with notify_attachments, staff get the kept ones */
	cfg.desk_notify_attachments = true;
	c = (Case){.m = mail(&from_alice, "Files", "see attached")};
	c.m->attachments = a;
	c.m->n_attachments = 3;
	facts_alice(&c.f);
	run(&c);
	cfg.desk_notify_attachments = false;
	const PlanMail *n = mail_of(&c.p, "notify-new");
	g_assert_cmpuint(n->n_attachments, ==, 1);
	g_assert_cmpstr(n->attachments[0]->filename, ==, "small.txt");
	done(&c);
}

static void test_notify_fallback(void)
{
	/* nobody active on the ticket's line: the account manager */
	Case c = {.m = mail(&from_alice, "Re: [#7]", "x")};
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket.line = 3;
	c.f.ticket.client.account_manager_id = 0;
	staff_v[0].active = false; /* amy and tom off line 3 */
	staff_v[4].active = false;
	run(&c);
	/* no account manager: every manager (only pete is active) */
	CHECK_LIST(mails_of, &c.p, "notify-reply@pete@agency.example");
	done(&c);
	staff_v[4].active = true;
	c = (Case){.m = mail(&from_alice, "Re: [#7]", "x")};
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket.line = 3;
	run(&c);
	CHECK_LIST(mails_of, &c.p, "notify-reply@t.baker@agency.example");
	staff_v[0].active = true;
	done(&c);

	/* notify_account_manager adds the client's account manager to the line */
	cfg.desk_notify_account_manager = true;
	c = (Case){.m = mail(&from_alice, "New", "x")};
	facts_alice(&c.f);
	run(&c);
	cfg.desk_notify_account_manager = false;
	CHECK_LIST(mails_of, &c.p,
		   "notify-new@amy@agency.example,notify-new@sam@agency.example,"
		   "notify-new@jo@agency.example,ack@alice@acme.example");
	done(&c);
}

/* ---- staff replies ---- */

static MailAddr from_pete = {"Pete Project", "pete@agency.example"};
static MailAddr from_sam = {"Sam Senior", "sam@agency.example"};
static MailAddr from_jo = {"Jo Junior", "jo@agency.example"};

static void staff_case(Case *c, MailAddr *who, const char *text)
{
	*c = (Case){.m = mail(who, "Re: [#7] Checkout is broken", text)};
	facts_alice(&c->f);
	ticket7(&c->f, "open");
	c->f.contact_id = 0; /* the sender is staff, not a contact */
	c->f.contact_client = (ClientFact){0};
	run(c);
	g_assert_cmpint(c->p.outcome, ==, PLAN_REPLY);
	g_assert_true(c->p.message_internal);
}

/* Sender verification: with auth.require / staff_require set, a mail must
 * carry our border server's passing Authentication-Results to act as a
 * contact or as staff. */
static void test_unverified_senders(void)
{
	cfg.auth_configured = true;
	cfg.auth_trusted_id = "mx.agency.example";
	cfg.auth_require = CFG_AUTH_ALIGNED;
	cfg.auth_staff_require = CFG_AUTH_DMARC;
	char *forged[] = {"mx.agency.example; dmarc=fail header.from=agency.example",
			  "evil.example; dmarc=pass header.from=agency.example"};
	char *pass_staff[] = {"mx.agency.example; spf=pass smtp.mailfrom=agency.example; "
			      "dmarc=pass header.from=agency.example"};
	char *pass_alice[] = {"mx.agency.example; dkim=pass header.d=acme.example"};
	char *spf_only_staff[] = {"mx.agency.example; spf=pass smtp.mailfrom=agency.example"};

	/* a forged staff reply with commands: acts as nobody, staff told */
	Case c = {.m = mail(&from_pete, "Re: [#7] Checkout is broken",
			    "#status closed\n\nPlease log in at http://evil.example/")};
	c.m->auth_results = forged;
	c.m->n_auth_results = 2;
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket.assignee_id = SAM;
	c.f.contact_id = 0;
	c.f.contact_client = (ClientFact){0};
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_true(g_str_has_prefix(c.p.quarantine_reason,
				       "unverified sender (as staff pete@agency.example, dmarc "
				       "required): dmarc=fail"));
	g_assert_false(c.p.update.any);
	g_assert_false(c.p.message);
	/* the assignee and pete himself, nothing to the client */
	CHECK_LIST(mails_of, &c.p,
		   "notify-unverified@sam@agency.example,notify-unverified@pete@agency.example");
	g_assert_nonnull(strstr(var(mail_of(&c.p, "notify-unverified"), "notice.text"),
				"Nothing in it was acted on"));
	done(&c);

	/* the same with our server's dmarc=pass: a staff reply */
	c = (Case){.m = mail(&from_pete, "Re: [#7] Checkout is broken", "#status closed\n\nDone.")};
	c.m->auth_results = pass_staff;
	c.m->n_auth_results = 1;
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.contact_id = 0;
	c.f.contact_client = (ClientFact){0};
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	g_assert_cmpstr(c.p.update.new_status, ==, "closed");
	done(&c);

	/* staff need dmarc: an aligned spf pass is not enough for them */
	c = (Case){.m = mail(&from_pete, "Re: [#7] Checkout is broken", "Done.")};
	c.m->auth_results = spf_only_staff;
	c.m->n_auth_results = 1;
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.contact_id = 0;
	c.f.contact_client = (ClientFact){0};
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	done(&c);

	/* a contact: an aligned dkim pass is enough; nothing at all is not */
	c = (Case){.m = mail(&from_alice, "Help", "please")};
	c.m->auth_results = pass_alice;
	c.m->n_auth_results = 1;
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_TICKET);
	done(&c);
	c = (Case){.m = mail(&from_alice, "Help", "please")};
	facts_alice(&c.f);
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_true(g_str_has_prefix(c.p.quarantine_reason, "unverified sender (as contact"));
	g_assert_cmpint(c.f.new_ticket_id, ==, 0); /* no ticket number reserved */
	/* no ticket: the first line is told; no notice to the forged address */
	CHECK_LIST(mails_of, &c.p,
		   "notify-unverified@sam@agency.example,notify-unverified@jo@agency.example");
	done(&c);

	/* a stranger who fails verification gets no notice (backscatter) */
	c = (Case){.m = mail(&from_eve, "Hello", "who are you")};
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);

	cfg.auth_configured = false;
	cfg.auth_trusted_id = NULL;
	cfg.auth_require = CFG_AUTH_NONE;
	cfg.auth_staff_require = CFG_AUTH_NONE;
}

/* Bounces: matched to our mail, or quarantined as "bounce"; never
 * answered; a staff address that bounces is not written to again. */
static void test_bounces(void)
{
	MailAddr daemon = {NULL, "mailer-daemon@mx.acme.example"};
	Case c = {.m = mail(&daemon, "Undelivered Mail Returned to Sender", "sorry")};
	c.m->is_bounce = c.m->is_automatic = true;
	c.m->bounce_message_id = "dm.1.x@agency.example";
	c.m->bounce_status = "5.1.1";
	memset(&c.f, 0, sizeof c.f);
	c.f.staff = &staff;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_QUARANTINE);
	g_assert_cmpstr(c.p.quarantine_reason, ==, "bounce");
	g_assert_cmpint(c.p.bounce_outbox_id, ==, 0);
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);

	/* our acknowledgement on ticket 7 bounced: the line is told */
	c = (Case){.m = mail(&daemon, "Undelivered Mail Returned to Sender", "sorry")};
	c.m->is_bounce = c.m->is_automatic = true;
	c.m->bounce_message_id = "dm.1.x@agency.example";
	c.m->bounce_status = "5.1.1";
	c.m->bounce_diagnostic = "550 user unknown";
	facts_alice(&c.f);
	c.f.contact_id = 0;
	ticket7(&c.f, "open");
	c.f.bounce_outbox_id = 55;
	c.f.bounce_kind = g_strdup("ack");
	c.f.bounce_rcpt = g_strdup("alice@acme.example");
	c.f.bounce_ticket_id = 7;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	g_assert_cmpint(c.p.ticket_id, ==, 7);
	g_assert_cmpint(c.p.bounce_outbox_id, ==, 55);
	g_assert_cmpstr(c.p.bounce_error, ==, "bounced: 5.1.1 550 user unknown");
	g_assert_true(c.p.message_internal);
	g_assert_false(c.p.update.any);
	CHECK_LIST(events_of, &c.p, "delivery-bounced");
	CHECK_LIST(mails_of, &c.p,
		   "notify-bounced@sam@agency.example,notify-bounced@jo@agency.example");
	g_free(c.f.bounce_kind);
	g_free(c.f.bounce_rcpt);
	done(&c);

	/* a notification to staff bounced: the event only */
	c = (Case){.m = mail(&daemon, "Undelivered", "sorry")};
	c.m->is_bounce = c.m->is_automatic = true;
	facts_alice(&c.f);
	c.f.contact_id = 0;
	ticket7(&c.f, "open");
	c.f.bounce_outbox_id = 56;
	c.f.bounce_kind = g_strdup("notify-reply");
	c.f.bounce_rcpt = g_strdup("sam@agency.example");
	c.f.bounce_ticket_id = 7;
	run(&c);
	g_assert_cmpint(c.p.outcome, ==, PLAN_REPLY);
	CHECK_LIST(events_of, &c.p, "delivery-bounced");
	CHECK_LIST(mails_of, &c.p, "");
	g_free(c.f.bounce_kind);
	g_free(c.f.bounce_rcpt);
	done(&c);
}

/* Texts copied into outgoing mail are capped, at a character boundary. */
static void test_text_caps(void)
{
	GString *big = g_string_new(NULL);
	while (big->len < 200 * 1024)
		g_string_append(big, "Ünïcödé text "); /* multi-byte characters */
	Case c = {.m = mail(&from_alice, "Re: [#7] Checkout", big->str)};
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket.assignee_id = SAM;
	run(&c);
	const PlanMail *n = mail_of(&c.p, "notify-reply");
	const char *t = var(n, "notice.text");
	g_assert_cmpuint(strlen(t), <, 64 * 1024 + 100);
	g_assert_true(g_utf8_validate(t, -1, NULL));
	g_assert_nonnull(strstr(t, "more bytes not shown here]"));
	/* the message row keeps the whole text */
	g_assert_cmpuint(strlen(c.p.message_body), >=, 200 * 1024);
	done(&c);
	g_string_free(big, TRUE);
}

static void test_staff_commands_and_relay(void)
{
	Case c;
	staff_case(&c, &from_pete,
		   "#status awaiting-client\n#severity High\n#assign sam\n\nPlease try again "
		   "now.\n\nOn Mon, Alice wrote:\n> broken\n");
	g_assert_cmpint(c.p.author_staff_id, ==, PETE);
	g_assert_cmpstr(c.p.message_body, ==, "Please try again now.");
	g_assert_true(c.p.update.status);
	g_assert_cmpstr(c.p.update.new_status, ==, "awaiting-client");
	g_assert_cmpstr(c.p.update.new_severity, ==, "high");
	g_assert_cmpint(c.p.update.new_assignee, ==, SAM);
	g_assert_true(c.p.update.first_response);
	g_assert_true(c.p.update.last_staff);
	CHECK_LIST(events_of, &c.p,
		   "status-changed:status:open>awaiting-client,"
		   "severity-changed:severity:->high,"
		   "assignee-changed:assignee:->sam@agency.example,"
		   "first-response:first_response_at:->2027-01-15 08:00:00+00,staff-reply");
	CHECK_LIST(mails_of, &c.p, "notify-assign@sam@agency.example,relay@alice@acme.example");
	const PlanMail *r = mail_of(&c.p, "relay");
	g_assert_cmpstr(r->event_key, ==, "relay:message:900");
	g_assert_cmpstr(r->in_reply_to, ==, "c2@acme.example");
	g_assert_cmpuint(r->n_refs, ==, 3);
	g_assert_cmpstr(r->refs[2], ==, "c2@acme.example");
	g_assert_cmpstr(r->from_name, ==, "Pete Project (Example Agency Support)");
	g_assert_cmpint(r->staff_id, ==, PETE);
	g_assert_false(r->automatic);
	g_assert_false(r->internal);
	g_assert_cmpstr(var(r, "message.text"), ==, "Please try again now.");
	g_assert_cmpstr(var(r, "ticket.status"), ==, "awaiting-client");
	g_assert_cmpstr(var(r, "ticket.severity"), ==, "high");
	g_assert_cmpstr(var(r, "recipient.name"), ==, "Alice Archer");
	const PlanEvent *last = &g_array_index(c.p.events, PlanEvent, c.p.events->len - 1);
	g_assert_cmpstr(last->detail, ==, "relayed to the client");
	done(&c);
}

static void test_staff_refused_and_errors(void)
{
	Case c;
	/* a senior may take, not assign others; an unknown command; a bad value */
	staff_case(&c, &from_sam, "#assign jo\n#take\n#frobnicate\n#line 7\nThanks");
	CHECK_LIST(events_of, &c.p,
		   "command-refused,assignee-changed:assignee:->sam@agency.example,"
		   "command-refused,command-refused,first-response:first_response_at:->2027-01-15 "
		   "08:00:00+00,staff-reply");
	CHECK_LIST(mails_of, &c.p, "relay@alice@acme.example,command-error@sam@agency.example");
	const PlanMail *e = mail_of(&c.p, "command-error");
	const char *errors = var(e, "errors");
	g_assert_nonnull(strstr(errors, "line 1: #assign jo"));
	g_assert_nonnull(strstr(errors, "line 3: #frobnicate"));
	g_assert_nonnull(strstr(errors, "line 4: #line 7"));
	g_assert_cmpstr(e->auto_header, ==, "auto-replied");
	g_assert_true(e->internal);
	g_assert_cmpstr(e->event_key, ==, "command-error:message:900");
	done(&c);

	/* #assign by name: first name, local part; ambiguity refused */
	staff_case(&c, &from_pete, "#assign Tom");
	g_assert_cmpint(c.p.update.new_assignee, ==, TOM);
	done(&c);
	staff_case(&c, &from_pete, "#assign t.baker");
	g_assert_cmpint(c.p.update.new_assignee, ==, TOM);
	done(&c);
	staff_v[6].name = "Tom Lee"; /* now two go by Tom */
	staff_case(&c, &from_pete, "#assign tom lee\n#assign Tom");
	staff_v[6].name = "Lee Second";
	g_assert_cmpint(c.p.update.new_assignee, ==, LINE2);
	CHECK_LIST(events_of, &c.p,
		   "assignee-changed:assignee:->lee@agency.example,command-refused,staff-reply");
	g_assert_nonnull(strstr(var(mail_of(&c.p, "command-error"), "errors"),
				"more than one staff member goes by that name"));
	done(&c);
}

static void test_junior_note_and_close(void)
{
	Case c;
	staff_case(&c, &from_jo, "I think it is the payment plugin.");
	g_assert_false(c.p.update.first_response);
	CHECK_LIST(events_of, &c.p, "staff-reply");
	/* the line, not the junior herself */
	CHECK_LIST(mails_of, &c.p, "notify-note@sam@agency.example");
	g_assert_cmpstr(var(mail_of(&c.p, "notify-note"), "notice.title"), ==,
			"Internal note from Jo Junior (junior engineer; not sent to the client)");
	const PlanEvent *e = &g_array_index(c.p.events, PlanEvent, 0);
	g_assert_cmpstr(e->detail, ==, "junior engineer: kept as an internal note");
	done(&c);

	staff_case(&c, &from_sam, "#close\n#note checked the logs\nall fine");
	g_assert_cmpstr(c.p.update.new_status, ==, "closed");
	g_assert_cmpint(c.p.update.closed, ==, CLOSED_NOW);
	CHECK_LIST(events_of, &c.p, "status-changed:status:open>closed,staff-reply");
	CHECK_LIST(mails_of, &c.p, "");
	g_assert_cmpstr(c.p.message_body, ==, "checked the logs\nall fine");
	done(&c);

	/* #close then #status open: closed_at cleared again */
	staff_case(&c, &from_sam, "#close\n#status open");
	g_assert_cmpint(c.p.update.closed, ==, CLOSED_CLEAR);
	g_assert_cmpstr(c.p.update.new_status, ==, "open");
	done(&c);

	/* staff out-of-office: a note, nothing else */
	c = (Case){.m = mail(&from_sam, "Re: [#7]", "#close\nI am away")};
	c.m->is_automatic = true;
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	run(&c);
	g_assert_true(c.p.message_internal);
	g_assert_false(c.p.update.any);
	CHECK_LIST(events_of, &c.p, "staff-reply");
	CHECK_LIST(mails_of, &c.p, "");
	done(&c);
}

static void test_handover(void)
{
	Case c;
	staff_case(&c, &from_sam, "#chargeable\nThis is new work.");
	g_assert_cmpint(c.p.update.new_assignee, ==, AMY);
	CHECK_LIST(events_of, &c.p,
		   "chargeable-changed:chargeable:false>true,"
		   "assignee-changed:assignee:->amy@agency.example,"
		   "first-response:first_response_at:->2027-01-15 08:00:00+00,staff-reply");
	CHECK_LIST(mails_of, &c.p, "notify-handover@amy@agency.example,relay@alice@acme.example");
	const PlanMail *h = mail_of(&c.p, "notify-handover");
	g_assert_cmpstr(var(h, "notice.text"), ==, "Customers cannot pay.");
	g_assert_cmpstr(var(h, "ticket.chargeable"), ==, "yes");
	g_assert_cmpstr(var(h, "ticket.assignee"), ==, "Amy Account <amy@agency.example>");
	done(&c);

	/* no account manager: not handed over, the sender is told */
	*(&c) = (Case){.m = mail(&from_sam, "Re: [#7]", "#category project")};
	facts_alice(&c.f);
	ticket7(&c.f, "open");
	c.f.ticket.client.account_manager_id = 0;
	run(&c);
	CHECK_LIST(events_of, &c.p,
		   "category-changed:category:->project,handover-failed,staff-reply");
	CHECK_LIST(mails_of, &c.p, "command-error@sam@agency.example");
	g_assert_nonnull(strstr(var(mail_of(&c.p, "command-error"), "errors"),
				"has no account manager to hand it to"));
	done(&c);
}

static void test_delivery_failed(void)
{
	TicketFact t = {0};
	MailFacts f;
	facts_alice(&f);
	ticket7(&f, "open");
	t = f.ticket;
	Plan p;
	plan_init(&p);
	plan_delivery_failed(&t, &staff, 33, "relay", "alice@acme.example", "550 no such user", SAM,
			     "Please try again now.", &cfg, &p);
	CHECK_LIST(events_of, &p, "delivery-failed");
	CHECK_LIST(mails_of, &p, "notify-failed@sam@agency.example");
	const PlanMail *n = mail_of(&p, "notify-failed");
	g_assert_cmpstr(n->event_key, ==, "notify-failed:outbox:33:staff:3");
	g_assert_nonnull(strstr(var(n, "notice.text"), "550 no such user"));
	g_assert_nonnull(strstr(var(n, "notice.text"), "Please try again now."));
	plan_clear(&p);

	plan_init(&p);
	plan_delivery_failed(&t, &staff, 34, "ack", "alice@acme.example", "550", 0, NULL, &cfg, &p);
	CHECK_LIST(events_of, &p, "delivery-failed");
	CHECK_LIST(mails_of, &p, "");
	plan_clear(&p);
}

/* The guard before a relay: runs of words of the internal texts that no
 * client-visible text holds. */
static void test_internal_leak(void)
{
	const char *internal[] = {
		"Internal note: the client is on the old contract and we should bill the visit "
		"separately, do not tell them yet.",
		"New ticket.\nÉTÉ COMPLET: notre fournisseur a coupé le serveur hier soir sans "
		"nous "
		"prévenir du tout.",
		NULL};
	const char *public_texts[] = {"The printer in accounts has been stuck since this morning "
				      "and nothing prints at all, please help.",
				      NULL};
	static const struct {
		const char *text;
		const char *want; /* the run found, or NULL */
	} cases[] = {
		/* pasted, re-wrapped, quoted with '|' */
		{"Hello Alice.\n| the client is on the old\n| contract and we should bill",
		 "the client is on the old\n| contract and we"},
		/* eight words in a row are not enough */
		{"I think the client is on the old contract too.", NULL},
		/* nine are */
		{"As said: the client is on the old contract and we agree.",
		 "the client is on the old contract and we"},
		/* case and accents: words compared lower-cased */
		{"été complet: notre fournisseur a coupé le serveur hier soir, désolé.",
		 "été complet: notre fournisseur a coupé le serveur hier"},
		/* the client's own words, also quoted in a notification, are fine */
		{"You wrote: the printer in accounts has been stuck since this morning and "
		 "nothing prints at all.",
		 NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		Plan p;
		plan_init(&p);
		const char *got = plan_internal_leak(&p, cases[i].text, internal, public_texts);
		g_test_message("case %zu: %s", i, got ? got : "(none)");
		if (cases[i].want == NULL) {
			g_assert_null(got);
		} else {
			g_autofree char *want = g_strdup(cases[i].want);
			g_strdelimit(want, "\n", ' ');
			g_assert_cmpstr(got, ==, want);
		}
		plan_clear(&p);
	}
	Plan p;
	plan_init(&p);
	g_assert_null(plan_internal_leak(&p, "the client is on the old contract and we should bill",
					 NULL, public_texts));
	plan_clear(&p);
}

/* Text from the reply marker down is dropped, however it is quoted. */
static void test_reply_marker(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"Thanks.\n\nOn Mon, X wrote:\n> " PLAN_REPLY_MARKER "\n> Hello",
		 "Thanks.\n\nOn Mon, X wrote:\n"},
		{"Thanks.\n   " PLAN_REPLY_MARKER "\nHello", "Thanks.\n"},
		{PLAN_REPLY_MARKER "\nHello", ""},
		{"No marker here.\n> quoted", "No marker here.\n> quoted"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = plan_above_marker(cases[i].text);
		g_assert_cmpstr(got, ==, cases[i].want);
	}
	g_autofree char *none = plan_above_marker(NULL);
	g_assert_cmpstr(none, ==, "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	setup_config();
	g_test_add_func("/plan/new-ticket", test_new_ticket);
	g_test_add_func("/plan/new-ticket-ack-limit", test_new_ticket_ack_limit);
	g_test_add_func("/plan/stranger", test_stranger);
	g_test_add_func("/plan/other-clients-contact", test_other_clients_contact);
	g_test_add_func("/plan/automatic-and-own-address", test_automatic_and_own_address);
	g_test_add_func("/plan/loops", test_loops);
	g_test_add_func("/plan/unverified-senders", test_unverified_senders);
	g_test_add_func("/plan/text-caps", test_text_caps);
	g_test_add_func("/plan/bounces", test_bounces);
	g_test_add_func("/plan/unreadable-truncated-duplicate",
			test_unreadable_truncated_duplicate);
	g_test_add_func("/plan/client-reply", test_client_reply);
	g_test_add_func("/plan/reopen-window", test_reopen_window);
	g_test_add_func("/plan/new-ticket-from-a-reply", test_new_ticket_from_a_reply);
	g_test_add_func("/plan/attachments-refused", test_attachments_refused);
	g_test_add_func("/plan/notify-fallback", test_notify_fallback);
	g_test_add_func("/plan/staff-commands-and-relay", test_staff_commands_and_relay);
	g_test_add_func("/plan/staff-refused-and-errors", test_staff_refused_and_errors);
	g_test_add_func("/plan/junior-note-and-close", test_junior_note_and_close);
	g_test_add_func("/plan/handover", test_handover);
	g_test_add_func("/plan/delivery-failed", test_delivery_failed);
	g_test_add_func("/plan/internal-leak", test_internal_leak);
	g_test_add_func("/plan/reply-marker", test_reply_marker);
	return g_test_run();
}
