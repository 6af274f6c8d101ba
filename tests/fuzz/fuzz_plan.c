/* fuzz_plan.c - a fuzz target for the planner (plan_mail, src/core/): the
 * raw bytes of one mail are parsed, and the facts the store would gather
 * about it (who the sender is: a stranger, a client's contact or a staff
 * member of each role; which ticket the token or the references name and
 * its state; the counts behind the hourly limits; the auth requirements of
 * the configuration) are taken from the input's last bytes, so that
 * libFuzzer steers them too.  The facts are consistent as the store makes
 * them (plan.h): the ticket fact is the token's ticket, else the
 * references', else the repeated mail's, and a ticket number is reserved
 * when plan_opens_ticket says so.
 *
 * Checked: everything the plan hands to the store and to outgoing mail is
 * valid UTF-8 (PostgreSQL refuses anything else); a quarantine has a
 * reason; a reply goes to the ticket of the facts; no automatic mail goes
 * to a From address that does not meet the configured auth requirement
 * unless staff accepted the mail (no backscatter to forged senders).  Built with -Dfuzz=true it is
 * a libFuzzer target; built normally tests/fuzz/replay.c replays files through it (the meson test
 * 'fuzz-plan-replay'). */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "deskmail/auth.h"
#include "deskmail/command.h"
#include "deskmail/config.h"
#include "deskmail/mime.h"
#include "deskmail/plan.h"
#include "deskmail/route.h"
#include "fuzz.h"

#define TRUSTED_ID "mx.agency.example"
#define NOW ((int64_t)1800000000 * G_USEC_PER_SEC)
#define DAY ((int64_t)86400 * G_USEC_PER_SEC)

static bool ready;

static void check_opt(const char *s)
{
	if (s)
		fuzz_check_utf8(s, G_MAXSIZE);
}

static void check_plan(const Plan *p, const Mail *m, const MailFacts *f, const Config *cfg)
{
	g_assert(p->outcome >= PLAN_TICKET && p->outcome <= PLAN_DUPLICATE);
	g_assert(p->outcome_text != NULL);
	check_opt(p->new_subject);
	check_opt(p->message_body);
	check_opt(p->quarantine_reason);
	check_opt(p->detail);
	check_opt(p->decided_reason);
	if (p->outcome == PLAN_QUARANTINE && p->quarantine)
		g_assert(p->quarantine_reason && p->quarantine_reason[0] != '\0');
	if (p->outcome == PLAN_REPLY)
		g_assert(p->ticket_id == f->ticket.id && p->ticket_id != 0);
	if (p->outcome == PLAN_TICKET)
		g_assert(p->ticket_id == f->new_ticket_id && p->new_ticket);
	for (size_t i = 0; p->refused && i < m->n_attachments; i++)
		check_opt(p->refused[i]);
	for (guint i = 0; i < p->events->len; i++) {
		const PlanEvent *e = &g_array_index(p->events, PlanEvent, i);
		g_assert(e->kind != NULL);
		check_opt(e->kind);
		check_opt(e->actor);
		check_opt(e->field);
		check_opt(e->before);
		check_opt(e->after);
		check_opt(e->detail);
	}
	for (guint i = 0; i < p->notes->len; i++)
		check_opt(g_ptr_array_index(p->notes, i));
	/* the level the sender had to meet to be answered at all */
	int req = MIN(cfg->auth_require, cfg->auth_staff_require);
	AuthVerdict v = {0};
	if (m && m->from)
		auth_check((const char *const *)m->auth_results, m->n_auth_results,
			   cfg->auth_trusted_id, m->from->addr, (AuthRequire)req, &v);
	for (guint i = 0; i < p->mails->len; i++) {
		const PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
		g_assert(pm->kind && pm->to_addr && pm->event_key);
		fuzz_check_utf8(pm->to_addr, G_MAXSIZE);
		check_opt(pm->to_name);
		check_opt(pm->in_reply_to);
		check_opt(pm->from_name);
		check_opt(pm->reply_to);
		g_assert(pm->n_refs <= PLAN_MAX_REFS);
		for (size_t k = 0; k < pm->n_refs; k++)
			check_opt(pm->refs[k]);
		g_assert(pm->vars.n <= PLAN_MAX_VARS);
		for (int k = 0; k < pm->vars.n; k++) {
			g_assert(pm->vars.name[k] != NULL);
			check_opt(pm->vars.value[k]);
		}
		if (pm->automatic && !p->src->accepted && m && m->from &&
		    strcmp(pm->to_addr, m->from->addr) == 0)
			g_assert(v.verified);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		mime_global_init();
		ready = true;
	}
	MimeLimits lim;
	mime_limits_default(&lim);
	Mail *m = NULL;
	DmError err = {0};
	if (mime_parse(data, size, &lim, &m, &err) != 0)
		m = NULL;
	unsigned b[6];
	for (size_t k = 0; k < G_N_ELEMENTS(b); k++)
		b[k] = fuzz_byte(data, size, k);

	/* the staff: one of each role, and the sender may be one of them */
	StaffFact staff_v[] = {
		{1, "amy@agency.example", "Amy Account", "account-manager", 3, true},
		{2, "pete@agency.example", "Pete Project", "project-manager", 2, true},
		{3, "sam@agency.example", "Sam Senior", "senior-engineer", 1, true},
		{4, "jo@agency.example", "Jo Junior", "junior-engineer", 1, true},
		{5, "ina@agency.example", "Ina Inactive", "senior-engineer", 2, false},
	};
	StaffList staff = {staff_v, G_N_ELEMENTS(staff_v)};
	unsigned who = b[0] & 7; /* 0-4: that staff member, 5: a contact, else nobody */
	const char *from = m && m->from ? m->from->addr : NULL;
	if (from && who < G_N_ELEMENTS(staff_v))
		staff_v[who].email = (char *)from;

	CfgPlan plans[1] = {{.name = "silver"}};
	Config cfg = {
		.desk_name = "Example Agency Support",
		.desk_address = (b[1] & 0x80) && from ? (char *)from : "support@agency.example",
		.desk_domain = "agency.example",
		.desk_max_auto_replies_per_hour = 3,
		.desk_max_acks_per_hour = b[1] & 1 ? 2 : 0,
		.desk_max_automatic_per_hour = 20,
		.desk_max_notices_per_hour = 10,
		.desk_max_automatic_per_ticket = 10,
		.desk_repeat_window = 60,
		.desk_reopen_days = 14,
		.desk_attachment_max_bytes = b[1] & 2 ? 100 : 10000000,
		.desk_message_attachments_max_bytes = 25000000,
		.desk_notify_account_manager = b[1] & 4,
		.desk_notify_attachments = b[1] & 8,
		.plans = plans,
		.n_plans = 1,
		.auth_configured = true,
		.auth_trusted_id = b[2] & 0x40 ? NULL : TRUSTED_ID,
		.auth_require = (b[2] & 3) % 3,
		.auth_staff_require = ((b[2] >> 2) & 3) % 3,
	};
	if (cfg.auth_trusted_id == NULL)
		cfg.auth_require = cfg.auth_staff_require = CFG_AUTH_NONE;

	ClientFact acme = {10, "Acme Ltd", "silver", b[2] & 0x80 ? 1 : 0};
	ClientFact globex = {11, "Globex", "silver", 0};
	int64_t out_ids[8] = {901, 902, 903, 904, 905, 906, 907, 908};
	MailFacts f = {
		.now = NOW,
		.inbound_id = 500,
		.message_id = 900,
		.out_ids = out_ids,
		.n_out_ids = G_N_ELEMENTS(out_ids),
		.dup_bytes = (b[3] & 0x0f) == 0x0f,
		.dup_inbound_id = (b[3] & 0x0f) == 0x0e ? 499 : 0,
		.staff = &staff,
	};
	g_strlcpy(f.now_text, "2027-01-15 08:00:00+00", sizeof f.now_text);
	if (who == 5) {
		f.contact_id = 20;
		f.contact_name = "Alice Archer";
		f.contact_client = acme;
	}
	for (int k = 0; k < RATE_KINDS; k++)
		f.sent_last_hour[k] = (b[4] >> k) & 1 ? 3 : 0;
	f.notices_last_hour = b[4] & 0x10 ? 10 : 0;

	/* the ticket: the token's if it exists, else the references', else
	 * the repeated mail's */
	int64_t token = m ? route_subject_token(m->subject) : 0;
	f.token_ticket_exists = token && (b[3] & 0x10);
	f.ref_ticket_id = b[3] & 0x20 ? 7 : 0;
	f.repeat_inbound_id = b[3] & 0x40 ? 321 : 0;
	f.repeat_ticket_id = f.repeat_inbound_id && (b[3] & 0x80) ? 8 : 0;
	ClientFact tc = b[5] & 1 ? globex : acme;
	f.token_client_id = f.token_ticket_exists ? tc.id : 0;
	f.ref_client_id = f.ref_ticket_id ? tc.id : 0;
	f.repeat_client_id = f.repeat_ticket_id ? tc.id : 0;
	int64_t tid = f.token_ticket_exists ? token
		      : f.ref_ticket_id     ? f.ref_ticket_id
					    : f.repeat_ticket_id;
	if (tid) {
		TicketFact *t = &f.ticket;
		size_t n_states = 0;
		while (ticket_states[n_states])
			n_states++;
		t->id = tid;
		t->client_id = tc.id;
		t->contact_id = b[5] & 2 ? 20 : 0;
		t->subject = "Checkout is broken";
		t->status = (char *)ticket_states[(b[5] >> 2) % n_states];
		t->severity = b[5] & 0x80 ? "high" : NULL;
		t->line = 1 + (b[5] >> 6) % 3;
		t->assignee_id = (b[4] >> 5) & 7;
		t->chargeable = b[1] & 0x10;
		t->first_response_done = b[1] & 0x20;
		t->closed = strcmp(t->status, "closed") == 0;
		t->closed_at = t->closed ? NOW - (b[1] & 0x40 ? 30 : 2) * DAY : 0;
		t->created = "2027-01-14 09:00 UTC";
		t->client = tc;
		t->contact_email = t->contact_id ? "alice@acme.example" : NULL;
		t->contact_name = t->contact_id ? "Alice Archer" : NULL;
		t->last_in_msgid = "c2@acme.example";
		t->last_in_refs = "c0@acme.example c1@acme.example";
		t->last_in_body = "Customers cannot pay.";
	}

	MailSource src = {.source = "pipe"};
	if ((b[0] & 0x18) == 0x18) { /* staff working the quarantine */
		src.redo_quarantine_id = 77;
		src.redo_inbound_id = b[0] & 0x20 ? 499 : 0;
		src.accepted = b[0] & 0x40;
		src.redo_by = "amy@agency.example";
	}
	src.truncated = (b[0] & 0x98) == 0x80;
	src.truncated_reason = src.truncated ? "over a cap" : NULL;

	Plan p;
	plan_init(&p);
	if (plan_opens_ticket(m, &f, &src, &cfg))
		f.new_ticket_id = 42;
	plan_mail(m, m ? NULL : err.msg, "sha", &src, &f, &cfg, &p);
	check_plan(&p, m, &f, &cfg);
	plan_clear(&p);
	mail_free(m);
	return 0;
}

void fuzz_cleanup(void)
{
	if (ready)
		mime_global_cleanup();
}
