/* desk-private.h - shared between the files of src/desk only. */
#ifndef DESKMAIL_DESK_PRIVATE_H
#define DESKMAIL_DESK_PRIVATE_H

#include <glib.h>

#include "deskmail/desk.h"

/* Template variables: a small fixed set of name/value pairs. */
#define TPL_MAX_VARS 64
typedef struct {
	const char *name[TPL_MAX_VARS];
	const char *value[TPL_MAX_VARS];
	int n;
} TplVars;

/* Every placeholder the templates may use (NULL-terminated). */
extern const char *const desk_placeholders[];

/* Set name to value (NULL -> ""); strings are borrowed. */
void tplvars_set(TplVars *v, const char *name, const char *value);
/* A TemplateLookup over TplVars: unknown names give NULL. */
const char *tplvars_lookup(void *ctx, const char *name);

/* One outgoing mail to queue. */
typedef struct {
	const char *kind;      /* "ack", "quarantine-notice", ... */
	const char *event_key; /* unique per event: queueing twice is a no-op */
	int64_t ticket_id;     /* 0 = none; else [#N] is forced into the subject and
				  the mail is stored as an outgoing message */
	const char *to_name;
	const char *to_addr;
	const char *in_reply_to;
	const char *const *refs;
	size_t n_refs;
	bool automatic;          /* an automatic reply: Auto-Submitted: auto-replied */
	int max_per_hour;        /* automatic: at most this many of this kind to the
				    recipient an hour (0 = none); -1 = no limit */
	const char *auto_header; /* Auto-Submitted value for other machine mail
				    (staff notifications: "auto-generated"), or NULL */
	bool internal;           /* stored as an internal message (staff only) */
	int64_t staff_id;        /* author of a relayed staff reply, 0 = the system */
	const char *from_name;   /* display name, NULL = the desk name */
	const char *reply_to;    /* Reply-To address, or NULL */
	const OutAttachment *attachments;
	size_t n_attachments;
} OutSpec;

typedef enum { QUEUED = 1, QUEUED_ALREADY, QUEUED_RATE_LIMITED } QueueResult;

/* Render tpl with vars, compose and insert into the outbox, inside the
 * caller's transaction. */
int outbox_queue(Desk *desk, const Template *tpl, TplVars *vars, const OutSpec *spec,
		 QueueResult *qr, DmError *err);

/* Insert an audit event (inside the caller's transaction). */
int desk_event(Desk *desk, int64_t ticket_id, const char *kind, const char *actor,
	       const char *field, const char *before, const char *after, const char *detail,
	       DmError *err);

/* ---- shared by ingest.c and conversation.c ---- */

/* What we know of the sender of a mail on a ticket. */
typedef struct {
	int64_t id;
	const char *email, *name, *role; /* borrowed */
} StaffRef;

/* The desk's and the mail's values (m may be NULL) and the ticket's current
 * values: what every mail caused by one incoming mail shares.  Read it once,
 * after that mail's changes to the ticket, and give copies to each
 * template; *keep_r owns the strings. */
int ticket_view(Desk *desk, const Mail *m, int64_t ticket_id, TplVars *v, DbRes **keep_r,
		DmError *err);
/* References for a reply to m: its References then its Message-ID (capped). */
size_t reply_refs(const Mail *m, const char **out, size_t max);

/* Whom a staff notification goes to. */
typedef enum {
	NOTIFY_LINE,     /* the staff of the ticket's line (+ account manager if configured) */
	NOTIFY_ASSIGNEE, /* the assignee, else the line's staff */
	NOTIFY_ONE,      /* exactly one staff member */
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

/* Queue a staff notification for every recipient, rendered from a copy of
 * the ticket's view; inside the transaction. */
int notify_staff(Desk *desk, int64_t ticket_id, const TplVars *view, const Notice *n, DmError *err);

/* A staff member's mail on a ticket: commands, relay or note, notices. */
int staff_reply(Desk *desk, const Mail *m, int64_t ticket_id, int64_t inbound_id,
		const StaffRef *who, DmError *err);

/* The one rule for attachment caps: NULL when an attachment of `size` is
 * kept (and added to *total, the bytes kept of this mail so far), else the
 * reason, written to why. */
const char *attachment_refusal(const Config *cfg, size_t size, int64_t *total, char why[160]);

/* Insert an incoming message row of a ticket (and its attachments); the
 * names of refused attachments, with why, are appended to refused. */
int insert_message(Desk *desk, const Mail *m, int64_t ticket_id, int64_t inbound_id,
		   int64_t contact_id, int64_t staff_id, bool internal, const char *body,
		   int64_t *id_r, GString *refused, DmError *err);

/* ---- cli.c: the administration and report commands ---- */

/* The value of option NAME ("--name VALUE" or "--name=VALUE"); "" when it
 * ends the line; NULL when absent.  Borrowed from argv. */
const char *cli_opt(int argc, char **argv, const char *name);
bool cli_flag(int argc, char **argv, const char *name);
/* Positional argument k, skipping --options and their values. */
const char *cli_pos(int argc, char **argv, int k);
/* Run sql and print the first column of every row (NULL as ""); the row
 * count in *rows_r when not NULL. */
int cli_print(Desk *desk, const char *sql, int n, const char *const *p, int *rows_r, DmError *err);

/* "%lld" of an int64 into a caller buffer. */
const char *i64s(char buf[24], int64_t v);

/* A PostgreSQL text[] literal ("{"a","b"}") of n strings; g_free. */
char *pg_text_array(const char *const *items, size_t n);
#endif
