/* desk.h - the domain: ingest one mail, poll the mailbox, send the outbox,
 * administration and reports.  Only the command line and desk/ log above
 * debug level. */
#ifndef DESKMAIL_DESK_H
#define DESKMAIL_DESK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/config.h"
#include "deskmail/err.h"
#include "deskmail/mime.h"
#include "deskmail/store.h"
#include "deskmail/template.h"

typedef struct {
	const Config *cfg; /* borrowed */
	Db *db;            /* owned */
	MimeLimits limits;
	Template *tpl_ack;           /* owned: acknowledgement of a new ticket */
	Template *tpl_quarantine;    /* owned: notice to an unknown sender */
	Template *tpl_notify;        /* owned: staff notifications */
	Template *tpl_relay;         /* owned: a staff reply relayed to the client */
	Template *tpl_command_error; /* owned: refused #commands, to the staff member */
	Template *tpl_refused;       /* owned: attachments over a cap, to the sender */
	volatile sig_atomic_t *stop; /* set by a signal handler; may be NULL */
	struct ImapSession *imap;    /* owned, opened by the first poll */
} Desk;

/* Connect to the database and load the templates.  DM_ETEMP if the database
 * is unreachable, DM_ECONFIG for template problems.  Caller frees. */
int desk_open(const Config *cfg, Desk **desk_r, DmError *err);
void desk_close(Desk *desk);

/* Load and test-render every template with every placeholder (check-config). */
int desk_check_templates(const Config *cfg, DmError *err);

/* The folder of the SQL migrations: $DESKMAIL_SQLDIR, the installed one, or
 * the source tree's. Borrowed/static. */
const char *desk_sql_dir(void);

/* ---- ingest ---- */

typedef struct {
	const char *source;  /* "imap" or "pipe" */
	int64_t mailbox_id;  /* 0 for pipe */
	const char *mailbox; /* its name, for the log ("INBOX"); may be NULL */
	uint32_t uidvalidity;
	uint32_t uid;
	bool truncated; /* raw is only the head of a larger message */
	const char *truncated_reason;
} IngestSource;

typedef enum {
	INGEST_TICKET = 1,
	INGEST_REPLY,
	INGEST_QUARANTINE,
	INGEST_DUPLICATE,
} IngestOutcome;

typedef struct {
	IngestOutcome outcome;
	int64_t ticket_id;
	int64_t inbound_id;
	char message_id[256];
	char detail[256];
} IngestResult;

const char *ingest_outcome_name(IngestOutcome o);

/* Process one raw message: parse, recognise duplicates, route, authorise and
 * write every effect (ticket/message, attachments, events, outbox rows and
 * the mailbox checkpoint for IMAP sources) in one transaction.  A message
 * that cannot be parsed is quarantined with the reason (returns 0).
 * DM_ETEMP when the database is unavailable (nothing was written). */
int desk_ingest(Desk *desk, const unsigned char *raw, size_t len, const IngestSource *src,
		IngestResult *res, DmError *err);

/* ---- poll ---- */

typedef struct {
	size_t fetched, tickets, replies, quarantined, duplicates, failed;
} PollStats;

/* One pass over the IMAP mailbox, incremental by UID. */
int desk_poll(Desk *desk, PollStats *st, DmError *err);

/* ---- outbox ---- */

typedef struct {
	size_t sent, deferred, failed;
} SendStats;

/* Deliver what is due over SMTP; on failure record the error and retry later
 * with backoff. */
int desk_send(Desk *desk, SendStats *st, DmError *err);

/* ---- administration and reports (print to stdout) ---- */

int admin_main(Desk *desk, int argc, char **argv, DmError *err);
int report_main(Desk *desk, int argc, char **argv, DmError *err);

#endif
