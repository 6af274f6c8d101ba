/* plan-private.h - shared by the files of the planner (src/core/plan*.c)
 * only: building a Plan (strings, events, mail), template values, the
 * staff a notification goes to, and the attachment caps. */
#ifndef DESKMAIL_PLAN_PRIVATE_H
#define DESKMAIL_PLAN_PRIVATE_H

#include "deskmail/plan.h"

/* A copy of s owned by the plan (NULL stays NULL). */
const char *ps(Plan *p, const char *s);
/* printf into a string owned by the plan. */
const char *psf(Plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Texts copied into the mail we send are capped: a notification shows at
 * most PLAN_MAX_NOTICE_TEXT bytes of the text (the whole is on the ticket),
 * a relay at most PLAN_MAX_RELAY_TEXT, lists we make (command errors,
 * refused files) PLAN_MAX_LIST_TEXT.  s itself when it is short enough,
 * else its head (cut at a character) and a line saying how much is left
 * out, in p. */
#define PLAN_MAX_NOTICE_TEXT (64 * 1024)
#define PLAN_MAX_RELAY_TEXT (1024 * 1024)
#define PLAN_MAX_LIST_TEXT (16 * 1024)
const char *plan_cap_text(Plan *p, const char *s, size_t max);

/* Append an audit event; strings are borrowed (copy with ps first when
 * they do not outlive the plan). */
void plan_event(Plan *p, int64_t ticket_id, const char *kind, const char *actor, const char *field,
		const char *before, const char *after, const char *detail);
void plan_note(Plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new, zeroed outgoing mail at the end of the plan.  The pointer is valid
 * until the next plan_add_mail. */
PlanMail *plan_add_mail(Plan *p);

/* Every placeholder set to "" (v is reset), then the desk's values and the
 * mail's (m may be NULL). */
void mail_vars(const Mail *m, const Config *cfg, PlanVars *v);
/* mail_vars plus the values of ticket t as it is now (after this mail's
 * changes): what every mail caused by one incoming mail shares. */
void ticket_vars(Plan *p, const Mail *m, const TicketFact *t, const StaffList *staff,
		 const Config *cfg, PlanVars *v);

/* References for a reply to m: its References then its Message-ID, the
 * newest `max` of them. */
size_t reply_refs(const Mail *m, const char **out, size_t max);

/* Queue an automatic reply (Auto-Submitted: auto-replied) to the sender of
 * m, threaded with it; at most max_per_hour of its kind an hour to that
 * address (-1: no limit), counted by f->sent_last_hour[rate]. */
void plan_auto_reply(Plan *p, const Mail *m, const MailFacts *f, TemplateKind tpl,
		     const PlanVars *v, const char *kind, const char *key, int64_t ticket_id,
		     int max_per_hour, RateKind rate);

/* Whom a staff notification goes to. */
typedef enum {
	NOTIFY_LINE,        /* the staff of the ticket's line (+ account manager if configured) */
	NOTIFY_ASSIGNEE,    /* the assignee, else the line's staff */
	NOTIFY_ONE,         /* exactly one staff member */
	NOTIFY_ASSIGNEE_AM, /* as NOTIFY_ASSIGNEE, and the client's account manager */
	NOTIFY_AM,          /* the client's account manager (else every manager) */
} NotifyWho;

typedef struct {
	const char *kind;  /* outbox kind: notify-new, notify-reply, ... */
	const char *key;   /* event key prefix, unique per event */
	const char *title; /* {{notice.title}} */
	const char *text;  /* {{notice.text}}: the new text */
	NotifyWho who;
	int64_t one_staff_id;     /* for NOTIFY_ONE */
	int64_t exclude_staff_id; /* never to this member (the author) */
	const Mail *m;            /* the mail that caused it (threading, attachments), or NULL */
	const char *actor_name, *actor_email;
} Notice;

/* Queue a staff notification for every recipient, each rendered from a
 * copy of view; t is the ticket as it is now. */
void plan_notify_staff(Plan *p, const TicketFact *t, const PlanVars *view, const Notice *n,
		       const StaffList *staff, const Config *cfg);

/* The one rule for attachment caps: NULL when an attachment of `size` is
 * kept (and added to *total, the bytes kept of this mail so far), else the
 * reason, written to why. */
const char *attachment_refusal(const Config *cfg, size_t size, int64_t *total, char why[160]);

/* The attachments of m that are kept (attachment_refusal, in order). */
size_t kept_attachments(const Config *cfg, const Mail *m, const MailAttachment **out, size_t max);

/* The incoming message row of m with its attachments; the refused ones,
 * with why, are listed in *refused_r (NULL when none; refused_r may be
 * NULL).  body NULL: the whole text. */
void plan_message(Plan *p, const Mail *m, const MailFacts *f, int64_t contact_id, int64_t staff_id,
		  bool internal, const char *body, const char **refused_r, const Config *cfg);

/* The client's mail saying the ticket moved up to t->line (seed 002: "if
 * and when a call is escalated ... this should be communicated to the
 * user"), by time (plan_sla.c) or by #line (plan_staff.c); nothing when the
 * ticket has no contact. */
void plan_escalated_mail(Plan *p, const TicketFact *t, const PlanVars *view, const char *key,
			 const Config *cfg);

/* A staff reply on a ticket (plan_staff.c): commands, relay or note. */
void plan_staff_reply(Plan *p, const Mail *m, const MailFacts *f, const StaffFact *who,
		      const Config *cfg);

#endif
