/* store.h - PostgreSQL: every SQL statement of deskmail lives in src/store,
 * behind the typed functions below; src/store is also the only includer of
 * libpq-fe.h.  The layers above see a Db handle, plain C types and the
 * planner's types (plan.h), and DmError kinds.
 *
 * SQL is never built from input: every statement is a constant string with
 * $n parameters, prepared once per connection.
 *
 * Error kinds: DM_ETEMP for connection loss, server shutdown, serialization
 * failures and deadlocks (retry later: an MTA gets EX_TEMPFAIL); DM_EPERM for
 * constraint and data errors (the input is at fault); DM_EINTERNAL else;
 * DM_ENOTFOUND where a function says so.  Strings returned to the caller are
 * g_malloc'd (g_free), arrays are the caller's to free as each function
 * says. */
#ifndef DESKMAIL_STORE_H
#define DESKMAIL_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/err.h"
#include "deskmail/mail.h"
#include "deskmail/plan.h"

typedef struct Db Db;

/* Connect (connect_timeout 10 s unless the conninfo says otherwise).
 * DM_ETEMP if the server cannot be reached; DM_EAUTH if it refused the
 * login (bad password, unknown role, pg_hba.conf), with its words;
 * DM_ECONFIG for a conninfo libpq cannot read or a database that does not
 * exist. */
int store_open(const char *conninfo, Db **db_r, DmError *err);
void store_close(Db *db);

/* If the connection was lost, reset it.  DM_ETEMP if it is still down
 * (DM_EAUTH, DM_ECONFIG as store_open).
 * *reconnected_r (may be NULL) is set true when a reset happened: session
 * state (locks, an open batch) is gone. */
int store_ensure(Db *db, bool *reconnected_r, DmError *err);

/* ---- migrations (migrate.c) ---- */

/* Apply the missing migrations from dir (files NNN_name.sql, in order), each
 * in its own transaction, recorded in schema_migrations.  Serialised by an
 * advisory lock, so concurrent runs are harmless.  *applied_r counts them. */
int store_migrate(Db *db, const char *dir, int *applied_r, DmError *err);
/* The highest applied migration number, 0 if none. */
int store_schema_version(Db *db, int *version_r, DmError *err);
/* 0 when every migration in dir (NNN_name.sql) is applied; DM_EUNMIGRATED
 * with "run `deskmail migrate`" when the schema is missing or a migration
 * (the lowest, named) is not applied; DM_ETEMP and others from the query.
 * A dir that cannot be opened checks only that some schema exists. */
int store_check_migrated(Db *db, const char *dir, DmError *err);
/* The server's version ("15.20"), borrowed from the connection. */
const char *store_server_version(Db *db);

/* ---- ingest: a batch of mails in one transaction (ingest.c) ----
 *
 * store_batch_begin; then per mail: store_mail_facts (opens the mail's
 * savepoint), store_reserve_ticket when the planner asks, store_apply_plan
 * (queued: it runs while the caller fetches the next mail), and before the
 * next mail's facts or the commit, store_apply_wait; store_batch_commit.
 * A mail whose apply fails is rolled back to its savepoint alone. */
int store_batch_begin(Db *db, DmError *err);
/* A UID of an IMAP mailbox whose mail is written (inbound_id 0: none, a
 * duplicate or set aside).  A set-aside UID is not to be marked as done on
 * the server (it is flagged apart), so it is recorded as marked. */
typedef struct {
	uint32_t uid;
	int64_t inbound_id;
	bool set_aside;
} SeenUid;

/* A mail that could not be stored even raw: recorded as set aside in the
 * quarantine (where it lies on the server, and why), under a savepoint of
 * its own in the batch's transaction.  Returns the quarantine id. */
int store_set_aside(Db *db, int64_t mailbox_id, uint32_t uidvalidity, uint32_t uid, size_t size,
		    const char *reason, int64_t *id_r, DmError *err);

/* Write the rows the batch's plans left for the end (defer), the batch's
 * IMAP UIDs as done (to be marked on the server) with the checkpoint past
 * them (mailbox_id not 0), and commit, all in one transaction.  On failure
 * nothing of the batch is kept (the caller may take its mails again one by
 * one, without deferring). */
int store_batch_commit(Db *db, const Plan *const *deferred, size_t n_deferred, int64_t mailbox_id,
		       uint32_t uidvalidity, const SeenUid *seen, size_t n_seen, DmError *err);
void store_batch_rollback(Db *db);

/* ---- service levels (sla.c) ---- */

/* Lock and read, in the caller's transaction, at most `limit` tickets
 * whose sla_next_at has come, skipping tickets another pass holds.  The client's #time since
 * month_start (Unix seconds) and the allowance warnings of `month` ("2026-12") come with each.
 * Appends SlaFacts to out (sla_facts_clear each). */
int store_sla_take(Db *db, int limit, int64_t month_start, const char *month, GArray *out,
		   DmError *err);
/* Record the fingerprint of the service-level settings; when it differs
 * from the one recorded (or none was), every open ticket is due for the
 * pass: *touched_r says how many. */
int store_sla_fingerprint(Db *db, const char *fingerprint, int64_t *touched_r, DmError *err);
/* Record the fingerprint when none is (`deskmail migrate`: a new database
 * has no ticket whose clocks were derived under other settings). */
int store_sla_fingerprint_init(Db *db, const char *fingerprint, DmError *err);
/* One ticket of a pass inside the pass's transaction: a savepoint before
 * it, released after; a ticket whose plan cannot be written (or rendered)
 * is rolled back to it, set aside for `seconds` with an sla-failed event
 * saying why, and the pass goes on. */
int store_sla_savepoint(Db *db, DmError *err);
int store_sla_release(Db *db, DmError *err);
int store_sla_set_aside(Db *db, int64_t ticket_id, int seconds, const char *why, DmError *err);
int store_sla_begin(Db *db, DmError *err);
int store_sla_commit(Db *db, DmError *err);
void store_sla_rollback(Db *db);
/* What the breach digest reads (at most `limit` candidate tickets). */
int store_digest_facts(Db *db, int limit, int64_t month_start, const char *month, DigestFacts *d,
		       DmError *err);
/* In the caller's transaction: record the digest of `period` for every
 * active manager who has not had it; appends their ids (the others got
 * theirs from an earlier run). */
int store_digest_claim(Db *db, const char *period, GArray *ids, DmError *err);
/* The digest's mail, in the caller's transaction. */
int store_digest_apply(Db *db, const Plan *p, DmError *err);
/* One ticket's facts, unlocked (`deskmail ticket sla`).  DM_ENOTFOUND. */
int store_sla_facts(Db *db, int64_t ticket_id, SlaFacts *f, DmError *err);
/* The plan of one ticket's pass and its due times, notices, outcomes. */
int store_sla_apply(Db *db, const Plan *p, const SlaFacts *f, const SlaWrite *w, DmError *err);

/* Every staff member, ordered by id.  Free with staff_list_clear. */
int store_staff_load(Db *db, StaffList *l, DmError *err);

/* The facts about one mail (m may be NULL for unreadable bytes), in one
 * query, with an inbound and a message id reserved; f->staff is left for
 * the caller.  The automatic mail sent to the sender in the last hour is
 * counted per kind up to caps (plan_rate_caps): the planner only needs to
 * know whether a limit is reached.  When may_open (plan_may_open_ticket)
 * and the mail refers to no ticket, comes from a named contact and is no
 * duplicate, a ticket number is reserved too (f->new_ticket_id); and
 * n_out_ids message ids after the mail's own, for the messages it causes
 * (f->out_ids).  Opens the
 * mail's savepoint first.  On failure the savepoint is rolled back and f is
 * empty. */
/* redo_inbound_id: the mail is that inbound row, run through again (not a
 * repeat of itself); 0 normally. */
int store_mail_facts(Db *db, const Mail *m, const char *sha256, const int caps[RATE_CAPS],
		     int repeat_window, int64_t redo_inbound_id, bool may_open, int n_out_ids,
		     MailFacts *f, DmError *err);
/* A new ticket number, from the ticket sequence (when the facts gave none). */
int store_reserve_ticket(Db *db, int64_t *id_r, DmError *err);
/* The texts of a ticket's newest messages, internal and client-visible
 * apart (NULL-terminated, g_strfreev): what a staff reply may not relay
 * (MailFacts.internal_texts). */
int store_ticket_texts(Db *db, int64_t ticket_id, int64_t author_id, char ***internal_r,
		       char ***public_r, DmError *err);
/* Queue the rows of the plan (its mail rendered) and release the mail's
 * savepoint.  With defer, the rows no later mail's facts read (quarantine,
 * events, outgoing mail) are left for store_batch_commit, which writes
 * those of the whole batch at once.  Only a failure to send is returned
 * here. */
int store_apply_plan(Db *db, const Plan *p, bool defer, DmError *err);
/* Wait for the applied plan.  On failure it is undone (rolled back to its
 * savepoint) and the kind returned; *duplicate_r (may be NULL) is true when
 * it failed only because the same bytes were stored meanwhile by another
 * process. */
int store_apply_wait(Db *db, bool *duplicate_r, DmError *err);
/* Leave the current mail (after a failed facts or plan) without applying. */
int store_mail_abandon(Db *db, DmError *err);

/* ---- the IMAP mailbox state (mailbox.c) ---- */

/* The row of the mailbox at url read as username (created when new; with
 * adopt, a row of url from before user names were recorded is taken over:
 * only when this is the one configured account on url). */
int store_mailbox_open(Db *db, const char *url, const char *username, bool adopt, int64_t *id_r,
		       uint32_t *uidvalidity_r, uint32_t *last_uid_r, DmError *err);
/* One poller per mailbox: a session advisory lock.  *locked_r false when
 * another process holds it. */
int store_mailbox_lock(Db *db, int64_t id, bool *locked_r, DmError *err);
void store_mailbox_unlock(Db *db, int64_t id);
/* A new UIDVALIDITY: start over from UID 1; an event when there was an
 * old one. */
int store_mailbox_reset(Db *db, int64_t id, const char *url, uint32_t old_uidvalidity,
			uint32_t uidvalidity, DmError *err);
/* The checkpoint past a UID that had nothing to store (gone). */
int store_mailbox_advance(Db *db, int64_t id, uint32_t uidvalidity, uint32_t uid, DmError *err);
/* Committed UIDs not yet marked on the server, ascending, at most max. */
int store_mailbox_unmarked(Db *db, int64_t id, uint32_t uidvalidity, size_t max, GArray *uids,
			   DmError *err);
/* Those UIDs are now marked on the server. */
int store_mailbox_marked(Db *db, int64_t id, uint32_t uidvalidity, const uint32_t *uids, size_t n,
			 DmError *err);

/* ---- the outbox (outbox.c) ---- */

typedef struct {
	int64_t id;
	char *mail_from, *rcpt, *kind, *message_id;
	int64_t ticket_id; /* 0: none */
	int attempts;      /* including this one */
	unsigned char *raw;
	size_t raw_len;
} OutboxRow;

/* A send pass holds its token for as long as it works (a session advisory
 * lock): rows claimed with a token nobody holds are due again at once (the
 * pass died).  Take it before the first claim. */
int store_outbox_hold(Db *db, const char *token, DmError *err);
void store_outbox_unhold(Db *db, const char *token);

/* Claim up to max due rows for the pass whose token is given (status
 * 'sending', a lease of lease_seconds, attempts + 1), committed before any
 * SMTP traffic.  Appends OutboxRows to rows (free them with
 * outbox_rows_clear). */
int store_outbox_claim(Db *db, const char *token, int max, int lease_seconds, GArray *rows,
		       DmError *err);
/* Before the row goes on the wire: *mine_r true when it still carries the
 * token and is 'sending' (its lease renewed) and this session now holds its
 * lock; false when another pass has it.  The lock is freed by the outcome
 * record (sent, outage, defer, fail) or store_outbox_unlock. */
int store_outbox_take(Db *db, const char *token, int64_t id, int lease_seconds, bool *mine_r,
		      DmError *err);
int store_outbox_unlock(Db *db, int64_t id, DmError *err);
/* Renew the lease of every row the pass still holds (a long batch). */
int store_outbox_renew(Db *db, const char *token, int lease_seconds, DmError *err);
void outbox_rows_clear(GArray *rows);
/* Record a row sent.  Queued without waiting (the next call of any outbox
 * function, or store_outbox_flush, reads the outcome). */
int store_outbox_sent(Db *db, int64_t id, DmError *err);
int store_outbox_flush(Db *db, DmError *err);
/* Not tried: back to pending, the attempt not counted (if the pass still
 * holds it). */
int store_outbox_release(Db *db, const char *token, int64_t id, DmError *err);
/* The server could not be reached: due again at once, attempt not counted. */
int store_outbox_outage(Db *db, int64_t id, const char *why, DmError *err);
/* A temporary failure: due again in delay_seconds. */
int store_outbox_defer(Db *db, int64_t id, const char *why, int64_t delay_seconds, DmError *err);
/* What a failed row was: the ticket (t->id 0 if none), and when it was a
 * staff member's relay its author and text (*author_r 0 / *body_r NULL if
 * not). */
int store_outbox_failure_facts(Db *db, const OutboxRow *row, TicketFact *t, int64_t *author_r,
			       char **body_r, DmError *err);
/* Mark the row failed for good and apply p (its events and mail) in one
 * transaction. */
int store_outbox_fail(Db *db, int64_t id, const char *why, const Plan *p, DmError *err);

/* ---- administration (admin.c) ---- */

/* The id of client NAME (case-insensitive) or #ID; DM_ENOTFOUND. */
int store_client_find(Db *db, const char *name, int64_t *id_r, DmError *err);
/* DM_EPERM when the name is taken. */
int store_client_add(Db *db, const char *name, const char *plan, int64_t *id_r, DmError *err);
/* A client's plan (NULL: kept) and, with set_calendar, its calendar (NULL:
 * the plan's or the desk's again); its open tickets become due for the
 * escalation pass, which derives their clocks again. */
int store_client_set_level(Db *db, int64_t id, const char *plan, bool set_calendar,
			   const char *calendar, DmError *err);
/* `deskmail client show`: a client, its counts, and its #time since
 * month_start (Unix seconds).  DM_ENOTFOUND. */
typedef struct {
	int64_t id;
	char *name, *plan, *calendar, *account_manager;
	int64_t contacts, open_tickets, month_minutes;
} ClientShow;
int store_client_show(Db *db, const char *name, int64_t month_start, ClientShow *out, DmError *err);
void client_show_clear(ClientShow *c);
/* Whether the member receives the breach digest.  DM_ENOTFOUND. */
int store_staff_set_manager(Db *db, const char *email, bool manager, DmError *err);
/* DM_ENOTFOUND when no staff member has that address. */
int store_client_set_account_manager(Db *db, int64_t id, const char *email, DmError *err);
/* What adding a contact must check: the client's name and plan, its number
 * of contacts, and the client the address already belongs to (NULL). */
int store_contact_check(Db *db, int64_t client_id, const char *addr, char **client_name_r,
			char **plan_r, int64_t *count_r, char **other_client_r, DmError *err);
int store_contact_add(Db *db, int64_t client_id, const char *addr, const char *name, DmError *err);
/* DM_ENOTFOUND when it is not a contact of that client. */
int store_contact_remove(Db *db, int64_t client_id, const char *email, DmError *err);
/* *added_r false when the address is taken. */
int store_staff_add(Db *db, const char *email, const char *name, const char *role, int line,
		    bool *added_r, DmError *err);
/* An audit event by the operator (ticket_id 0: none). */
int store_event_add(Db *db, int64_t ticket_id, const char *kind, const char *actor,
		    const char *field, const char *before, const char *after, const char *detail,
		    DmError *err);

/* ---- reports (report.c): lines of text, or one JSON document ----
 * Each appends g_malloc'd lines to `lines` (a GPtrArray with g_free as its
 * free function). */
int store_client_report(Db *db, bool json, GPtrArray *lines, DmError *err);

/* Open tickets by their nearest due time (`ticket list --due`); tickets
 * with no running clock come last (due 0, clock NULL). */
typedef struct {
	int64_t id;
	char *status, *severity, *client, *plan, *calendar, *subject, *assignee;
	int line;
	int64_t due; /* Unix seconds; 0 = none */
	char *clock; /* the clock that is due first */
	int64_t now;
} DueRow;
void due_row_clear(DueRow *r);
int store_ticket_due(Db *db, int limit, GArray *out, DmError *err);
int store_contact_report(Db *db, int64_t client_id, bool json, GPtrArray *lines, DmError *err);
int store_staff_report(Db *db, bool json, GPtrArray *lines, DmError *err);
int store_ticket_list(Db *db, const char *status, const char *client, bool json, GPtrArray *lines,
		      DmError *err);
/* DM_ENOTFOUND when there is no such ticket. */
int store_ticket_show(Db *db, int64_t id, bool json, GPtrArray *lines, DmError *err);
int store_quarantine_list(Db *db, const char *status, bool json, GPtrArray *lines, DmError *err);

/* ---- working the quarantine (quarantine.c) ---- */

typedef struct {
	int64_t id;
	char *status; /* held, accepted, dropped, set-aside, retried */
	char *from_addr, *reason;
	int64_t inbound_id; /* 0: set aside, never stored */
	unsigned char *raw; /* the stored bytes (NUL-terminated), or NULL */
	size_t raw_len;
	bool truncated;               /* raw is not the mail itself (a note) */
	int64_t mailbox_id;           /* set aside: where it lies */
	uint32_t uidvalidity, uid;    /* (0: not known) */
	char *mailbox_url;            /* that mailbox's URL, or NULL */
	char *mailbox_username;       /* and the user name it is read as ("": unknown) */
	uint32_t mailbox_uidvalidity; /* the mailbox's UIDVALIDITY now */
} QuarantineRow;

int store_quarantine_get(Db *db, int64_t id, QuarantineRow *q, DmError *err);
void quarantine_row_clear(QuarantineRow *q);
/* Inside the batch's transaction: lock entry id while it is decided;
 * DM_EPERM when it is not held (or set aside) any more, e.g. another
 * `quarantine accept` decided it first. */
int store_quarantine_lock(Db *db, int64_t id, DmError *err);
/* Drop a held (or set-aside) entry, recording who; DM_EPERM if it is not
 * held any more. */
int store_quarantine_drop(Db *db, int64_t id, const char *by, DmError *err);
/* One entry with its decision and the start of its raw bytes (escaped). */
int store_quarantine_show(Db *db, int64_t id, bool json, GPtrArray *lines, DmError *err);
/* The client whose named contact email is; DM_ENOTFOUND if none. */
int store_contact_client(Db *db, const char *email, int64_t *client_id_r, DmError *err);
/* A stored attachment's bytes (g_free).  DM_ENOTFOUND when there is none,
 * or it was refused (why in err). */
int store_attachment_get(Db *db, int64_t id, unsigned char **data_r, size_t *len_r, DmError *err);

/* ---- the operator's commands (ops.c): the queue, counts, purge ---- */

/* One row of the outbox as `outbox list` shows it.  state: "queued"
 * (pending, never tried or retried), "deferred" (pending after a 4xx or an
 * outage), "sending" (claimed by a send pass), "failed". */
typedef struct {
	int64_t id;
	char *state, *kind, *rcpt, *subject, *last_error; /* last_error may be NULL */
	int attempts;
	int64_t next_attempt; /* Unix seconds */
	int64_t created;      /* Unix seconds */
	int64_t ticket_id;    /* 0: none */
	int64_t size;         /* bytes of the composed mail */
} QueueRow;
void queue_rows_clear(GArray *rows); /* of QueueRow */
/* The mail not sent yet (queued, deferred, sending, failed), or only the
 * failed rows, oldest first; appends QueueRows to rows. */
int store_queue_list(Db *db, bool failed_only, GArray *rows, DmError *err);
/* Back to the queue, due now, attempts reset: row id (which must be queued,
 * deferred or failed), or every failed row when id is 0.  Each row gets an
 * audit event ("outbox-retried") naming `by`.  *n_r: rows retried.
 * DM_ENOTFOUND: no such row; DM_EPERM: the row is sending, sent, bounced or
 * dropped (its state in err). */
int store_queue_retry(Db *db, int64_t id, const char *by, int64_t *n_r, DmError *err);
/* Out of the queue for good: the row is kept, marked 'dropped', with an
 * audit event ("outbox-dropped") naming `by`.  Same errors as retry. */
int store_queue_drop(Db *db, int64_t id, const char *by, DmError *err);

/* Mail counted over all time and the last hour and day (dm_now()). */
typedef struct {
	int64_t total, hour, day;
} StatCount;
typedef struct {
	int64_t now; /* Unix seconds, the desk's clock */
	StatCount received, quarantined, sent, deferred, failed;
	/* the queue now */
	int64_t queued, deferred_now, sending, failed_now, quarantine_held;
	/* open (not closed) tickets: per status (GPtrArray of g_strdup'd names
	 * and the counts beside them, in the order of the status names), and
	 * per support line 1..3 (index 0 unused) */
	GPtrArray *open_status; /* char *, g_free */
	GArray *open_status_n;  /* int64_t */
	int64_t open_line[4];
	int64_t open_total;
} DeskStats;
int store_stats(Db *db, DeskStats *st, DmError *err);
void desk_stats_clear(DeskStats *st);

/* `purge`: the contents (message texts, attachment bytes, raw mail in and
 * out) of tickets closed before the cutoff, and the raw bytes of mail
 * quarantined before it; rows, metadata (addresses, subjects, sizes,
 * Message-IDs, hashes) and events stay.  Outgoing mail still in the queue
 * (queued, deferred, failed) keeps its bytes until it is sent or dropped.
 * Held quarantine entries purged are marked dropped, by `by`.  The cutoff
 * is dm_now() minus the span. */
typedef struct {
	int years, months, days, hours;
} PurgeSpan;
typedef struct {
	char cutoff[40]; /* the instant, as text */
	int64_t tickets, messages, text_bytes, attachments, blobs, blob_bytes;
	int64_t raw_in, raw_in_bytes, raw_out, raw_out_bytes;
	int64_t quarantined, quarantined_bytes, quarantine_dropped;
} PurgeStats;
/* dry_run: count, change nothing.  Else work in batches of `batch`
 * tickets (or mails), each its own transaction; a second run finds
 * nothing.  *st is filled as far as it went, also on error. */
int store_purge(Db *db, const PurgeSpan *span, bool dry_run, int batch, const char *by,
		PurgeStats *st, DmError *err);

#endif
