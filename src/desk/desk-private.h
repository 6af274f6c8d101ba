/* desk-private.h - shared between the files of src/desk only. */
#ifndef DESKMAIL_DESK_PRIVATE_H
#define DESKMAIL_DESK_PRIVATE_H

#include "deskmail/desk.h"

/* Template variables: a small fixed set of name/value pairs. */
#define TPL_MAX_VARS 32
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
	bool automatic;        /* Auto-Submitted: auto-replied; rate-limited */
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

/* "%lld" of an int64 into a caller buffer. */
const char *i64s(char buf[24], int64_t v);



/* A PostgreSQL text[] literal ("{"a","b"}") of n strings; g_free. */
char *pg_text_array(const char *const *items, size_t n);
#endif
