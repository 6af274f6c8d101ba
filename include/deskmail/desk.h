/* desk.h - orchestration: take mail in (poll the IMAP mailbox, or one mail
 * from an MTA pipe), send the outbox, and the daemon that does both.  Each
 * reads as a short sequence over the layers below: fetch, parse, gather
 * facts (store), plan (core), render and compose (config, mime), apply
 * (store), mark (imap).  Only the command line and desk/ log above debug. */
#ifndef DESKMAIL_DESK_H
#define DESKMAIL_DESK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/config.h"
#include "deskmail/err.h"
#include "deskmail/plan.h"
#include "deskmail/store.h"

typedef struct Desk Desk;

/* Connect to the database and load the templates.  DM_ETEMP if the database
 * is unreachable, DM_ECONFIG for template problems.  Caller frees.  cfg is
 * borrowed and must outlive the desk. */
int desk_open(const Config *cfg, Desk **desk_r, DmError *err);
void desk_close(Desk *desk);

/* desk_open in two steps, for the daemon, which starts while the database
 * may be down: desk_new loads the templates (DM_ECONFIG) and connects to
 * nothing; desk_connect opens the database connection, or checks it and
 * reconnects (DM_ETEMP, or the kind the store gives a refused login).  No
 * other desk_ function may be called before desk_connect succeeded. */
int desk_new(const Config *cfg, Desk **desk_r, DmError *err);
int desk_connect(Desk *desk, DmError *err);
/* With a folder of migrations set, desk_connect checks on each new
 * connection that they are applied (DM_EUNMIGRATED otherwise, see
 * store_check_migrated).  dir is borrowed. */
void desk_set_schema_dir(Desk *desk, const char *dir);

/* Use cfg from now on (SIGHUP): its templates are loaded and test-rendered,
 * and a changed database conninfo is connected to, before anything is
 * swapped.  On success the desk owns cfg (freed by the next reload or
 * desk_close), the previous one it owned is freed, the IMAP session is
 * reopened by the next poll and the service-level fingerprint is checked
 * again.  On failure nothing changed and cfg is still the caller's.  Call
 * between passes only (desk_run does). */
int desk_reload(Desk *desk, Config *cfg, DmError *err);

/* A flag a signal handler sets to stop poll, send and run at the next mail
 * (NULL: never). */
void desk_set_stop(Desk *desk, volatile sig_atomic_t *stop);
/* A flag a signal handler (SIGHUP) sets to make desk_run read the
 * configuration file again (NULL: never). */
void desk_set_reload(Desk *desk, volatile sig_atomic_t *reload);

/* Load and test-render every template with every placeholder (check-config). */
int desk_check_templates(const Config *cfg, DmError *err);

/* ---- taking mail in ---- */

typedef enum {
	INGEST_TICKET = 1,
	INGEST_REPLY,
	INGEST_QUARANTINE,
	INGEST_DUPLICATE,
	INGEST_SET_ASIDE, /* not stored even raw: left on the server, set aside */
} IngestOutcome;

typedef struct {
	IngestOutcome outcome;
	int64_t ticket_id;
	int64_t inbound_id;
	char message_id[256];
	char detail[256];
} IngestResult;

const char *ingest_outcome_name(IngestOutcome o);

/* One raw message (pipe mode): parse, recognise duplicates, route,
 * authorise and write every effect in one transaction.  A message that
 * cannot be parsed, or src->truncated, is quarantined with the reason
 * (returns 0).  DM_ETEMP when the database is unavailable (nothing was
 * written). */
int desk_ingest(Desk *desk, const unsigned char *raw, size_t len, const MailSource *src,
		IngestResult *res, DmError *err);

typedef struct {
	size_t fetched, tickets, replies, quarantined, duplicates, failed;
	size_t set_aside; /* not stored even raw: left on the server, flagged */
} PollStats;

/* One pass over each configured IMAP mailbox whose poll_interval has
 * passed since this desk last polled it (the first call: all of them),
 * incremental by UID, in batches committed together (about 100 ms of work
 * each), each mail marked on the server after its batch's commit.  A
 * mailbox another process is polling (its advisory lock is taken) is
 * skipped.  st is the sum over the mailboxes; the first mailbox's error is
 * returned (prefixed with its name when there are several), the others'
 * are logged, and every mailbox gets its pass.  Logs a "poll timing:" line
 * per mailbox at info level. */
int desk_poll(Desk *desk, PollStats *st, DmError *err);
/* The shortest poll_interval of the mailboxes, in seconds. */
int desk_poll_interval(const Desk *desk);

/* desk_poll for mailbox i of the configuration alone: polled when its
 * poll_interval has passed since this process last polled it, or at once
 * with `now` (its server announced mail); *polled_r says whether it was.
 * The error names the mailbox when there are several. */
int desk_poll_mailbox(Desk *desk, size_t i, bool now, bool *polled_r, PollStats *st, DmError *err);

/* ---- the quarantine, worked by staff (quarantine.c) ---- */

/* Run quarantine entry id through again: a held mail from its stored
 * bytes, a set-aside one fetched from the server.  accept: as if its sender
 * were authorised (contact, when not NULL, names a named contact whose
 * client the sender is first added to).  by: who decided (recorded).  A
 * retry that is still a quarantine case leaves the entry held with its new
 * reason (res->outcome INGEST_QUARANTINE). */
int desk_quarantine_redo(Desk *desk, int64_t id, bool accept, const char *contact, const char *by,
			 IngestResult *res, DmError *err);
/* Add addr as a named contact of client_id, as `contact add` does (not a
 * contact of another client, within the plan's max_contacts), with an
 * audit event naming actor. */
int desk_contact_add(const Config *cfg, Db *db, int64_t client_id, const char *addr,
		     const char *name, const char *actor, DmError *err);
/* The desk's database (for the commands that only read or drop). */
Db *desk_db(Desk *desk);

/* ---- sending ---- */

typedef struct {
	size_t sent, deferred, failed;
} SendStats;

/* Deliver what is due over SMTP on one connection; on failure record the
 * error and retry later with backoff.  Logs a "send timing:" line.
 * DM_ETEMP when the pass stopped because the server cannot be reached,
 * DM_EAUTH when it refused the login (the mail waits, its attempts
 * untouched; st counts what was done before). */
int desk_send(Desk *desk, SendStats *st, DmError *err);

/* ---- check-config --connect (check.c) ---- */

/* Log in to the IMAP server of mailbox i and ask the mailbox's STATUS, or
 * to the SMTP server and say NOOP, sending nothing.  0 with *info_r
 * (g_free) saying what was found; else the kind and the server's words
 * as imap/smtp give them (DM_EAUTH a refused login, DM_ETEMP a server
 * that cannot be reached, ...). */
int desk_check_imap(const Config *cfg, size_t i, char **info_r, DmError *err);
int desk_check_smtp(const Config *cfg, char **info_r, DmError *err);

/* ---- the daemon ---- */

/* The daemon: poll, escalate and send, then wait for new mail (IMAP IDLE,
 * or imap.poll_interval seconds when the server has no IDLE), until the
 * stop flag is set; reload the configuration when the reload flag is.  The
 * desk may come from desk_new: the database is connected to (and again
 * after an outage) by the passes.  A refused login or a server that is
 * down is logged once per outage and tried again with backoff.  Returns 0
 * on stop, or DM_ECONFIG / DM_EUNMIGRATED when it cannot go on. */
int desk_run(Desk *desk, DmError *err);

/* ---- service levels (sla.c) ---- */

typedef struct {
	size_t tickets;   /* looked at */
	size_t escalated; /* moved up a line by time */
	size_t notices;   /* at-risk, breach, follow-up, escalation notices */
	size_t mails;     /* queued */
	size_t failed;    /* set aside: their plan could not be written */
} EscalateStats;

typedef struct {
	char period[16]; /* "2026-12-01" */
	size_t managers; /* digests queued now */
} DigestStats;

/* The breach digest of today (the desk calendar's date) to every active
 * manager who has not had it; dry_run: print it, write nothing. */
int desk_digest(Desk *desk, bool dry_run, DigestStats *st, DmError *err);

/* The start (Unix seconds) of the month holding `now` in the desk's
 * calendar, and its "YYYY-MM": the month of allowances. */
int64_t desk_month_start(const Config *cfg, int64_t now, char month[8]);

/* One escalation pass (`deskmail escalate`, and after every poll and
 * ingest): every ticket whose next SLA instant has come. */
int desk_escalate(Desk *desk, EscalateStats *st, DmError *err);

#endif
