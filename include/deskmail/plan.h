/* plan.h - the planner: what one incoming mail does to the desk.
 *
 * Everything known about one mail goes in: the parsed Mail, where it came
 * from (MailSource), the MailFacts the store gathered in one query (the
 * sender, the ticket it refers to, that ticket's client, contact and latest
 * client mail, how much automatic mail the sender had this hour, every staff
 * member, the database's "now"), and the Config.  A Plan comes out: the rows
 * to write (inbound, ticket, message, attachments, quarantine), the changes
 * to the ticket, the audit events in order, and the mail to queue with the
 * template and values for each.  Pure code in src/core/: no I/O, no
 * database, no clock, no logging; what the desk should log is in Plan.notes.
 *
 * The desk then renders and composes the mail of the plan (filling the
 * PlanMail output fields) and the store applies it in one transaction.
 *
 * Ownership: a MailFacts owns its strings (g_malloc'd, freed by
 * mail_facts_clear) except `staff`, which is borrowed.  A Plan owns every
 * string it made (in plan->strings) and the rendered output fields; it
 * borrows from the Mail, the MailFacts and the Config it was made from,
 * which must outlive it.  plan_clear frees it. */
#ifndef DESKMAIL_PLAN_H
#define DESKMAIL_PLAN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/config.h"
#include "deskmail/mail.h"
#include "deskmail/sla.h"

/* ---- facts ---------------------------------------------------------------- */

typedef struct {
	int64_t id;
	char *email; /* lower-case */
	char *name;
	char *role; /* one of staff_roles (command.h) */
	int line;
	bool active;
	bool is_manager; /* receives the breach digest */
} StaffFact;

/* Every staff member, active or not, by id. */
typedef struct {
	StaffFact *v;
	size_t n;
} StaffList;

void staff_list_clear(StaffList *l);
/* Borrowed; NULL if no member has that id. */
const StaffFact *staff_by_id(const StaffList *l, int64_t id);

typedef struct {
	int64_t id; /* 0: none */
	char *name;
	char *plan;
	int64_t account_manager_id; /* 0: none */
	char *calendar;             /* the client's own calendar, or NULL */
} ClientFact;

typedef struct {
	int64_t id; /* 0: no such ticket */
	int64_t client_id;
	int64_t contact_id; /* 0: none */
	char *subject;
	char *status;
	char *severity; /* NULL: not set yet */
	char *category; /* NULL: not set yet */
	int line;
	int64_t assignee_id; /* 0: nobody */
	bool chargeable;
	bool first_response_done;
	bool closed;       /* closed_at is set */
	int64_t closed_at; /* when closed, Unix time in microseconds */
	char *created;     /* "YYYY-MM-DD HH:MM UTC" */
	ClientFact client;
	char *contact_email; /* NULL: the ticket has no contact */
	char *contact_name;
	char *last_in_msgid; /* the client's latest mail with a Message-ID ... */
	char *last_in_refs;  /* ... its newest 19 references, space separated */
	char *last_in_body;  /* the clean text of the client's latest mail */
	char *mailbox;       /* the mailbox it came in through (its brand), or NULL */
} TicketFact;

/* Kinds of automatic reply counted per recipient for the hourly limits. */
typedef enum {
	RATE_ACK = 0,
	RATE_NOTICE,  /* quarantine-notice: counted over a day, one allowed */
	RATE_REFUSED, /* attachment-refused */
	RATE_ANY,     /* automatic mail of every kind (desk.max_automatic_per_hour) */
	RATE_KINDS,
	RATE_NOTICE_ALL = RATE_KINDS, /* caps[] only: notices to anyone an hour */
	RATE_CAPS
} RateKind;

typedef struct {
	int64_t now;           /* the database's clock, Unix time in microseconds */
	char now_text[64];     /* the same as PostgreSQL prints a timestamptz */
	int64_t inbound_id;    /* reserved for this mail's inbound row */
	int64_t message_id;    /* reserved for this mail's message row */
	int64_t *out_ids;      /* reserved for the messages of the mail it causes, in */
	size_t n_out_ids;      /* order after message_id (g_malloc'd) */
	int64_t new_ticket_id; /* reserved by the caller when plan_opens_ticket */

	bool dup_bytes;         /* these exact bytes were stored before */
	int64_t dup_inbound_id; /* the same Message-ID from the same sender */

	int64_t contact_id; /* the sender as a named contact (0: not one) */
	char *contact_name;
	ClientFact contact_client;

	bool token_ticket_exists; /* the [#N] of the subject exists */
	int64_t token_client_id;
	int64_t ref_ticket_id; /* found by In-Reply-To/References */
	int64_t ref_client_id;
	TicketFact ticket; /* the token's ticket if it exists, else the ref's,
			      else the repeated mail's, else the bounced mail's */

	int sent_last_hour[RATE_KINDS]; /* automatic mail to the sender, up to
					   the caps of plan_rate_caps */

	/* a staff reply: the ticket's internal texts (notes, notifications,
	 * command errors) and its client-visible ones (mail in and relays),
	 * newest first, capped; NULL-terminated, NULL when not loaded.  What
	 * a relay may not carry (leak.c). */
	char **internal_texts;
	char **public_texts;

	int notices_last_hour;    /* quarantine notices to anyone, up to the cap */
	int unverified_last_hour; /* notices of unverified senders to staff, ditto */

	/* the same subject and text from the same sender within
	 * desk.repeat_window: the earlier mail and the ticket it went to */
	int64_t repeat_inbound_id;
	int64_t repeat_ticket_id;
	int64_t repeat_client_id;

	/* a bounce: the outbox row of ours it reports (0: none found), what it
	 * was, its ticket, and for a relay its author and text */
	int64_t bounce_outbox_id;
	char *bounce_kind, *bounce_rcpt;
	int64_t bounce_ticket_id;
	int64_t bounce_author_id;
	char *bounce_body;

	/* mail we sent about the ticket (below) in the last hour, relays
	 * excepted, per recipient */
	char **ticket_sent_rcpt;
	int *ticket_sent_n;
	size_t n_ticket_sent;
	const StaffList *staff; /* borrowed */
} MailFacts;

void mail_facts_clear(MailFacts *f);

/* How far the store must count each kind of automatic mail to the sender
 * for the planner to apply the hourly limits of cfg (0: not at all). */
void plan_rate_caps(const Config *cfg, int caps[RATE_CAPS]);
void ticket_fact_clear(TicketFact *t);

/* Where a mail came from. */
typedef struct {
	const char *source;  /* "imap" or "pipe" */
	int64_t mailbox_id;  /* 0 for pipe */
	const char *mailbox; /* its name, for the log ("INBOX"); may be NULL */
	/* the configured mailbox whose brand (address, templates) the mail
	 * about it carries, recorded with a ticket it opens; NULL: the
	 * desk's own.  Set by the desk once the facts are known (the ticket's
	 * own brand for mail about a ticket). */
	const char *brand;
	uint32_t uidvalidity;
	uint32_t uid;
	bool truncated; /* quarantine whatever it is (over a cap, or unstorable) */
	const char *truncated_reason;

	/* staff working the quarantine (`deskmail quarantine accept|retry`):
	 * the mail is quarantine row redo_quarantine_id, already stored as
	 * inbound row redo_inbound_id (0: set aside, never stored), and runs
	 * through again; accepted: as if authorised (its sender believed, not
	 * taken for automatic mail).  redo_by: who decided. */
	int64_t redo_quarantine_id;
	int64_t redo_inbound_id;
	bool accepted;
	const char *redo_by;
} MailSource;

/* ---- the plan --------------------------------------------------------------- */

typedef enum {
	PLAN_NONE = 0, /* effects of no incoming mail (e.g. a delivery failure) */
	PLAN_TICKET,
	PLAN_REPLY,
	PLAN_QUARANTINE,
	PLAN_DUPLICATE,
} PlanOutcome;

/* The templates of outgoing mail, by the name of their files. */
typedef enum {
	TPL_ACK = 0,
	TPL_QUARANTINE,
	TPL_NOTIFY,
	TPL_RELAY,
	TPL_COMMAND_ERROR,
	TPL_ATTACHMENT_REFUSED,
	TPL_ESCALATED, /* to the client: the ticket moved up a support line */
	TPL_DIGEST,    /* the breach digest for managers */
	TPL_COUNT
} TemplateKind;

extern const char *const plan_template_names[TPL_COUNT + 1]; /* "ack", ... */
extern const char *const plan_placeholders[];                /* NULL-terminated */

#define PLAN_MAX_VARS 40
typedef struct {
	const char *name[PLAN_MAX_VARS];
	const char *value[PLAN_MAX_VARS];
	int n;
} PlanVars;

/* Set name to value (NULL -> ""); strings are borrowed. */
void plan_vars_set(PlanVars *v, const char *name, const char *value);
/* A TemplateLookup (template.h) over PlanVars: unknown names give NULL. */
const char *plan_vars_lookup(void *ctx, const char *name);

#define PLAN_MAX_REFS 21
#define PLAN_MAX_ATTACHMENTS 50

typedef struct {
	/* what to send: set by the planner */
	const char *kind;      /* outbox kind: ack, notify-new, relay, ... */
	const char *event_key; /* unique per event: queueing twice is a no-op */
	TemplateKind tpl;
	PlanVars vars;
	int64_t ticket_id;   /* 0: none; else [#N] goes into the subject and the
				mail is also stored as an outgoing message */
	const char *to_name; /* may be NULL */
	const char *to_addr; /* lower-case */
	const char *in_reply_to;
	const char *refs[PLAN_MAX_REFS];
	size_t n_refs;
	bool automatic;          /* an automatic reply: Auto-Submitted: auto-replied */
	const char *auto_header; /* Auto-Submitted of other machine mail, or NULL */
	bool internal;           /* stored as an internal message (staff only) */
	int64_t staff_id;        /* author of a relayed staff reply, 0: the system */
	const char *from_name;   /* display name; NULL: the desk's name */
	const char *reply_to;    /* Reply-To address, or NULL */
	const MailAttachment *attachments[PLAN_MAX_ATTACHMENTS];
	size_t n_attachments;
	int64_t not_before; /* Unix seconds: not sent before then (staff notices
			       waiting for working hours); 0 = at once */
	/* one image the HTML part shows as <img src="cid:inline_cid"> (the
	 * digest's chart; bytes borrowed, set by the desk); NULL = none */
	const unsigned char *inline_data;
	size_t inline_len;
	const char *inline_cid, *inline_type, *inline_name;

	/* how it looks: set by the desk when it renders the plan (g_malloc'd,
	 * freed by plan_clear) */
	char *subject, *text, *html, *message_id;
	char *from_display; /* the From display name used */
	char *wire;
	size_t wire_len;
} PlanMail;

typedef struct {
	int64_t ticket_id;                                          /* 0: none */
	const char *kind, *actor, *field, *before, *after, *detail; /* NULL: SQL NULL */
} PlanEvent;

/* What happens to closed_at when the ticket is written. */
typedef enum { CLOSED_KEEP = 0, CLOSED_NOW, CLOSED_CLEAR } ClosedAction;

typedef struct {
	bool any; /* write the ticket at all (updated_at = now) */
	bool status, severity, category, line, assignee, chargeable; /* which fields */
	const char *new_status, *new_severity, *new_category;
	int new_line;
	int64_t new_assignee; /* 0: nobody */
	bool new_chargeable;
	ClosedAction closed;
	bool line_since;       /* the line changed: line_since = now ... */
	int64_t line_since_at; /* ... or this instant (Unix seconds) when set: an
				  escalation by time counts from its due time */
	bool response;         /* a staff reply relayed (the clocks read it from
				  the relay's message row) */
	bool first_response;   /* first_response_at = now */
	bool last_client;      /* last_client_at = now */
	bool last_staff;       /* last_staff_at = now */
} PlanTicketUpdate;

typedef struct {
	PlanOutcome outcome;
	const char *desk_address; /* the sender of every outgoing mail */
	const char *sha256;       /* of the raw bytes */
	const MailSource *src;    /* borrowed */
	const Mail *mail;         /* borrowed; NULL when the bytes are not a mail */
	const unsigned char *raw; /* the bytes as received (borrowed, set by the desk) */
	size_t raw_len;

	/* the inbound row (every outcome but DUPLICATE and NONE) */
	int64_t inbound_id;
	bool inbound_automatic;

	/* the ticket the mail opens or joins (0: none) */
	int64_t ticket_id;
	bool new_ticket;
	int64_t new_client_id, new_contact_id;
	const char *new_subject;
	int64_t reopened_from;   /* 0: none */
	PlanTicketUpdate update; /* changes to an existing ticket */
	/* a new ticket's clocks (sla.h), Unix seconds, 0 = none; and the next
	 * time the escalation pass has work for it */
	int64_t new_due[SLA_N_CLOCKS];
	int64_t new_sla_next;
	/* #time: minutes of work recorded on the ticket by author_staff_id */
	int time_minutes;

	/* the incoming message row */
	bool message;
	int64_t message_id;
	const int64_t *out_ids; /* ids for the outgoing messages (borrowed from the facts) */
	size_t n_out_ids;
	int64_t author_contact_id, author_staff_id; /* one of them, or neither */
	bool message_internal;
	const char *message_body; /* the clean text stored as body */
	const char **refused;     /* per attachment of the mail: why not kept, or NULL */

	/* the quarantine row */
	bool quarantine;
	const char *quarantine_reason;
	bool quarantine_automatic;

	/* a quarantine row decided (src->redo_quarantine_id): its new status
	 * ("accepted", "retried", or "held" when it is quarantined again, then
	 * with its new reason) and what came of it */
	int64_t bounce_outbox_id; /* mark this outbox row bounced ... */
	const char *bounce_error; /* ... with this as its last_error */
	int64_t decided_quarantine_id;
	const char *decided_status, *decided_by, *decision, *decided_reason;

	GArray *events;   /* of PlanEvent, in order */
	GArray *mails;    /* of PlanMail, in order */
	GPtrArray *notes; /* lines for the desk's log (notice level); borrowed strings */

	/* for the log line and the caller */
	int64_t dup_inbound_id;
	const char *detail; /* quarantine reason, or NULL */
	const char *outcome_text;

	GStringChunk *strings; /* owns what the planner wrote */

	/* the loop limits: the facts of the mail being planned (borrowed; NULL
	 * outside plan_mail), and the mail as the planner took it when it found
	 * it automatic by its facts (a copy, its strings borrowed) */
	const MailFacts *facts;
	Mail mail_as_automatic; /* or, for an accepted mail, as not automatic */
	int max_automatic_per_hour, max_automatic_per_ticket; /* from the desk config */
} Plan;

void plan_init(Plan *p);
void plan_clear(Plan *p);

/* Whether this mail could open a ticket at all, before any facts: it is a
 * readable mail with a From, neither automatic nor from our own address,
 * nor to be quarantined whatever it is (src->truncated). */
bool plan_may_open_ticket(const Mail *m, const MailSource *src, const Config *cfg);

/* Whether this mail, given its facts, opens a new ticket, so the caller
 * must reserve a ticket number (MailFacts.new_ticket_id) first.  m may be
 * NULL (unreadable mail). */
bool plan_opens_ticket(const Mail *m, const MailFacts *f, const MailSource *src, const Config *cfg);

/* Plan everything one incoming mail causes.  m may be NULL when the bytes
 * are not a readable mail (parse_error then says why).  f->staff must be
 * set; f->new_ticket_id must be set when plan_opens_ticket said so. */
void plan_mail(const Mail *m, const char *parse_error, const char *sha256, const MailSource *src,
	       const MailFacts *f, const Config *cfg, Plan *p);

/* The plan after a relay of a staff member could not be delivered for
 * good: an audit event, and the author gets their text back with the
 * server's answer.  author_id 0 / body NULL when the mail was not a staff
 * member's relay (then only the event). */
void plan_delivery_failed(const TicketFact *t, const StaffList *staff, int64_t outbox_id,
			  const char *kind, const char *rcpt, const char *why, int64_t author_id,
			  const char *body, const Config *cfg, Plan *p);

/* ---- service levels (plan_sla.c) -------------------------------------------- */

/* cfg_plan and cfg_ticket_calendar for the core, which reads the Config
 * type and links no configuration code. */
const CfgPlan *plan_find(const Config *cfg, const char *name);
const WtCalendar *plan_ticket_calendar(const Config *cfg, const char *client_calendar,
				       const CfgPlan *plan);

/* A notice about a clock already recorded (sla_notice): once per ticket,
 * clock, kind and due time. */
typedef struct {
	SlaClockKind clock;
	char kind[16]; /* "at-risk", "breach", "escalation", "follow-up" */
	int64_t due;   /* Unix seconds */
} SlaNoticeFact;

/* What the escalation pass knows of one ticket. */
typedef struct {
	TicketFact t;
	int64_t created_at, line_since, now; /* Unix seconds */
	SlaEvent *events;                    /* status, severity, line changes and
						responses, in time order; strings
						owned by `strings` */
	size_t n_events;
	SlaNoticeFact *notices;
	size_t n_notices;
	/* the client's work this month (#time) against its plan's
	 * hours_per_month, and the warnings already sent this month */
	char month[8]; /* "2026-12", in the desk calendar */
	int64_t month_minutes;
	bool allowance_sent_80, allowance_sent_100;
	GStringChunk *strings;
} SlaFacts;

void sla_facts_clear(SlaFacts *f);

#define SLA_MAX_NOTICES 8

/* What the pass writes besides the plan: the due times (0 = NULL), the
 * next instant it has work for the ticket (0 = none), the notices sent now
 * and where stopped clocks ended (for the digest's share of targets met). */
typedef struct {
	int64_t due[SLA_N_CLOCKS];
	int64_t next;
	struct {
		SlaClockKind clock;
		const char *kind;
		int64_t due;
	} notices[SLA_MAX_NOTICES];
	size_t n_notices;
	struct {
		SlaClockKind clock;
		bool met;
		int64_t due, ended;
	} outcomes[SLA_N_CLOCKS];
	size_t n_outcomes;
	int escalated_to;                 /* the line it moved to by time; 0: none */
	const char *allowance_periods[2]; /* periodic_notice rows: "2026-12:80" */
	size_t n_allowance;
} SlaWrite;

/* One pass over one ticket: escalations by time, at-risk and breach
 * notices, follow-ups, due times.  p is a PLAN_NONE plan (ticket changes,
 * events, mail). */
void plan_sla(const SlaFacts *f, const StaffList *staff, const Config *cfg, Plan *p, SlaWrite *w);

/* The clocks of a ticket from facts alone (`deskmail ticket sla`). */
void plan_sla_clocks(const SlaFacts *f, const Config *cfg, SlaResult *res,
		     const WtCalendar **cal_r);

/* The next instant the pass has work: the earliest at-risk instant whose
 * notice is not sent yet and due time of a running clock, after now.  0 =
 * none.  notices may be NULL. */
int64_t sla_next_action(const SlaResult *res, int line, const SlaNoticeFact *notices,
			size_t n_notices, int64_t now);

/* The acknowledgement's promise in plain words: "We will reply by Monday 28
 * December, 11:30 (Europe/London)." or, without a target, a sentence that
 * promises no time. */
const char *plan_response_promise(Plan *p, const WtCalendar *cal, int64_t due);

/* ---- the breach digest (plan_digest.c) ------------------------------------- */

#define DIGEST_WEEKS 4

/* Where clocks of one plan ended in each of the last DIGEST_WEEKS weeks
 * (week 0 the oldest), from sla_outcome. */
typedef struct {
	char *plan;
	SlaClockKind clock;
	int week;
	int64_t met, total;
} DigestOutcome;

typedef struct {
	char *client, *plan;
	int64_t minutes; /* #time this month */
} DigestAllowance;

typedef struct {
	char *plan;
	int64_t open; /* open tickets */
} DigestPlanCount;

typedef struct {
	int64_t now;
	char period[16];   /* "2026-12-01": the desk calendar's date */
	char month[8];     /* "2026-12" */
	SlaFacts *tickets; /* candidates: open tickets with a clock due by now
			      or a breach or at-risk notice lately */
	size_t n_tickets;
	int64_t candidates; /* how many there were: more than n_tickets when
			       the digest's cap cut them */
	DigestOutcome *outcomes;
	size_t n_outcomes;
	DigestAllowance *allowances;
	size_t n_allowances;
	DigestPlanCount *open;
	size_t n_open;
} DigestFacts;

void digest_facts_clear(DigestFacts *d);

/* The compliance chart: per plan, the share of clocks that met their
 * target in each week (-1: none ended that week). */
typedef struct {
	const char *plans[16];
	int percent[16][DIGEST_WEEKS];
	size_t n_plans;
	const char *week_labels[DIGEST_WEEKS]; /* "23 Nov" */
} DigestChart;

/* The digest: its text (also printed by --dry-run), the chart, and a mail
 * (TPL_DIGEST) to each active manager in `to` (ids; NULL = every active
 * manager).  The text is the same for every manager. */
void plan_digest(const DigestFacts *d, const StaffList *staff, const int64_t *to, size_t n_to,
		 const Config *cfg, Plan *p, const char **text_r, DigestChart *chart);

/* The first run of words of `text` found in one of the ticket's internal
 * texts and in none of its client-visible ones (leak.c): nine words in a
 * row, compared lower-cased as words, so quote marks and re-wrapping do not
 * hide a copy; NULL when there is none.  Both lists NULL-terminated (NULL:
 * none); the run is copied into the plan, on one line. */
const char *plan_internal_leak(Plan *p, const char *text, const char *const *internal,
			       const char *const *public_texts);

/* ---- the reply marker ------------------------------------------------------- */

/* The first line of every mail we send that can be answered
 * ({{reply.marker}} in the templates): text below it in a reply is never
 * kept, whatever the mail program did to the quote. */
#define PLAN_REPLY_MARKER "##- Please type your reply above this line -##"

/* The text above the first line holding PLAN_REPLY_MARKER (however it is
 * quoted), g_malloc'd; the whole text when there is none. */
char *plan_above_marker(const char *text);

/* Render the subject token "[#N]" into buf. */
const char *plan_ticket_token(int64_t ticket_id, char buf[32]);

#endif
