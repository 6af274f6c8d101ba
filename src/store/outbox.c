/* outbox.c - the SQL of sending: claiming due rows with a lease (committed
 * before any SMTP traffic, so no transaction stays open across the
 * network), and recording each outcome.
 *
 * The connection works in pipeline mode for a whole send pass: "sent" is
 * recorded without waiting for PostgreSQL, the next claim (or the flush at
 * the end of the pass) reads the outcome.  So a mail costs the SMTP
 * server's time and not a database round trip, and a crash still loses at
 * most the record of the mails in flight, which are sent again with the
 * same Message-ID once their lease runs out.
 *
 * Exactly once under concurrency: a pass claims rows with a token of its
 * own, and before each mail goes on the wire it takes the row again
 * (store_outbox_take): the row must still carry its token and be
 * 'sending', and the session takes an advisory lock on it that it keeps
 * until the outcome is recorded.  A pass whose lease ran out while it was
 * busy (a slow server) has lost those rows to the pass that claimed them
 * next and skips them; the mail it has on the wire at that moment is
 * protected by the lock: the other pass cannot take it until the outcome
 * is recorded, and then it is no longer 'sending'.  A crash ends the
 * session and so frees the lock; the lease makes the row due again.
 *
 * A pass holds a session advisory lock on its token's hash for as long as
 * it works (store_outbox_hold), so the rows of a pass whose process died
 * (or lost its session) are due again at once, not when their lease runs
 * out: a claim nobody holds is free.  The lease then only bounds a pass
 * that lives but hangs.  A hash two live tokens share leaves their rows to
 * the lease, never to a second sender.
 * The outcome records (sent, deferred, failed) match a row by its id and
 * 'sending' only: the lock held over the attempt is what makes it ours. */
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

static int by_id(const void *a, const void *b)
{
	const OutboxRow *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* the advisory lock class of a row on the wire (the key is the row id) */
#define SEND_LOCK_CLASS "7291006"
#define SEND_LOCK_KEY "($1::bigint % 2147483647)::int"
/* the advisory lock class of a live pass (the key is its token's hash) */
#define SEND_HOLD_CLASS "7291007"
/* a claim whose pass holds no lock on its token: the pass is gone */
#define CLAIM_ABANDONED                                                                            \
	"(hashtext(claim)::bigint & 4294967295) NOT IN (SELECT l.objid::bigint FROM pg_locks l "   \
	"WHERE l.locktype = 'advisory' AND l.classid = " SEND_HOLD_CLASS " AND l.objsubid = 2 "    \
	"AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = "             \
	"current_database()))"

int store_outbox_hold(Db *db, const char *token, DmError *err)
{
	const char *p[] = {token};
	return db_exec(db, "SELECT pg_try_advisory_lock(" SEND_HOLD_CLASS ", hashtext($1))", 1, p,
		       NULL, err);
}

void store_outbox_unhold(Db *db, const char *token)
{
	const char *p[] = {token};
	db_exec(db, "SELECT pg_advisory_unlock(" SEND_HOLD_CLASS ", hashtext($1))", 1, p, NULL,
		NULL);
}

int store_outbox_claim(Db *db, const char *token, int max, int lease_seconds, GArray *rows,
		       DmError *err)
{
	db_pipeline_enter(db);
	int rc = db_wait(db, NULL, err); /* the sent records still in flight */
	if (rc)
		return rc;
	char mb[24], lb[24];
	const char *p[] = {i64s(mb, max), i64s(lb, lease_seconds), token};
	DbRes *r = NULL;
	rc = db_send(
		db,
		"UPDATE outbox SET status = 'sending', attempts = attempts + 1, locked_until "
		"= dm_now() + make_interval(secs => $2::int), claim = $3 WHERE id IN (SELECT id "
		"FROM outbox WHERE (status = 'pending' AND next_attempt_at <= dm_now()) OR "
		"(status = 'sending' AND (locked_until < dm_now() OR " CLAIM_ABANDONED
		")) ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED) RETURNING id, mail_from, "
		"rcpt, raw, attempts, kind, "
		"message_id, ticket_id",
		3, p, NULL, NULL, true, &r, err);
	if (rc == 0)
		rc = db_sync(db, err);
	if (rc == 0)
		rc = db_wait(db, NULL, err);
	if (rc) {
		dbres_free(r);
		return rc;
	}
	guint first = rows->len;
	for (int i = 0; i < dbres_rows(r); i++) {
		OutboxRow o = {0};
		size_t len = 0;
		const unsigned char *raw = dbres_bin(r, i, 3, &len);
		o.id = dbres_bin_i64(r, i, 0);
		o.mail_from = dbres_dup(r, i, 1);
		o.rcpt = dbres_dup(r, i, 2);
		o.raw = g_memdup2(raw ? raw : (const unsigned char *)"", len + 1);
		o.raw_len = len;
		o.attempts = (int)dbres_bin_i64(r, i, 4);
		o.kind = dbres_dup(r, i, 5);
		o.message_id = dbres_dup(r, i, 6);
		o.ticket_id = dbres_bin_i64(r, i, 7);
		g_array_append_val(rows, o);
	}
	dbres_free(r);
	if (rows->len > first)
		qsort(rows->data + first * sizeof(OutboxRow), rows->len - first, sizeof(OutboxRow),
		      by_id);
	return 0;
}

void outbox_rows_clear(GArray *rows)
{
	for (guint i = 0; i < rows->len; i++) {
		OutboxRow *o = &g_array_index(rows, OutboxRow, i);
		g_free(o->mail_from);
		g_free(o->rcpt);
		g_free(o->kind);
		g_free(o->message_id);
		g_free(o->raw);
	}
	g_array_set_size(rows, 0);
}

int store_outbox_take(Db *db, const char *token, int64_t id, int lease_seconds, bool *mine_r,
		      DmError *err)
{
	char b[24], lb[24];
	const char *p[] = {i64s(b, id), token, i64s(lb, lease_seconds)};
	DbRes *r = NULL;
	*mine_r = false;
	/* the outcomes still in flight first: an error of theirs must not hide
	 * this statement's result (and the lock it may have taken) */
	int rc = db_pending(db) ? db_wait(db, NULL, err) : 0;
	if (rc)
		return rc;
	rc = db_exec(db,
		     "UPDATE outbox SET locked_until = dm_now() + make_interval(secs => $3::int) "
		     "WHERE id = $1::bigint AND claim = $2 AND status = 'sending' RETURNING "
		     "pg_try_advisory_lock(" SEND_LOCK_CLASS ", " SEND_LOCK_KEY ")",
		     3, p, &r, err);
	if (rc == 0 && dbres_rows(r) == 1)
		*mine_r = dbres_bool(r, 0, 0);
	dbres_free(r);
	return rc;
}

int store_outbox_renew(Db *db, const char *token, int lease_seconds, DmError *err)
{
	char lb[24];
	const char *p[] = {token, i64s(lb, lease_seconds)};
	return db_exec(db,
		       "UPDATE outbox SET locked_until = dm_now() + make_interval(secs => $2::int) "
		       "WHERE claim = $1 AND status = 'sending'",
		       2, p, NULL, err);
}

/* Free the row's lock: queued after the outcome's own sync, so the outcome
 * is committed before another session can take the row. */
static int unlock_row(Db *db, const char *id, DmError *err)
{
	const char *p[] = {id};
	int rc = db_send(db, "SELECT pg_advisory_unlock(" SEND_LOCK_CLASS ", " SEND_LOCK_KEY ")", 1,
			 p, NULL, NULL, false, NULL, err);
	return rc ? rc : db_sync(db, err);
}

int store_outbox_unlock(Db *db, int64_t id, DmError *err)
{
	char b[24];
	db_pipeline_enter(db);
	int rc = unlock_row(db, i64s(b, id), err);
	return rc ? rc : db_wait(db, NULL, err);
}

int store_outbox_sent(Db *db, int64_t id, DmError *err)
{
	db_pipeline_enter(db);
	char b[24];
	const char *p[] = {i64s(b, id)};
	int rc = db_send(
		db,
		"UPDATE outbox SET status = 'sent', sent_at = dm_now(), locked_until = NULL, "
		"last_error = NULL, claim = NULL WHERE id = $1::bigint AND status = "
		"'sending'",
		1, p, NULL, NULL, false, NULL, err);
	if (rc == 0)
		rc = db_sync(db, err);
	return rc ? rc : unlock_row(db, p[0], err);
}

int store_outbox_flush(Db *db, DmError *err)
{
	int rc = db_pending(db) ? db_wait(db, NULL, err) : 0;
	db_pipeline_leave(db);
	return rc;
}

int store_outbox_release(Db *db, const char *token, int64_t id, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), token};
	return db_exec(
		db,
		"UPDATE outbox SET status = 'pending', attempts = attempts - 1, locked_until "
		"= NULL, claim = NULL WHERE id = $1::bigint AND claim = $2 AND status = 'sending'",
		2, p, NULL, err);
}

/* A deferral or failure is also a row of outbox_setback (what `stats`
 * counts), in the same statement as the row's new state. */
#define SETBACK_DEFERRED                                                                           \
	"INSERT INTO outbox_setback (outbox_id, outcome) SELECT id, 'deferred' FROM u"
#define SETBACK_FAILED "INSERT INTO outbox_setback (outbox_id, outcome) SELECT id, 'failed' FROM u"

int store_outbox_outage(Db *db, int64_t id, const char *why, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), why};
	int rc = db_exec(
		db,
		"WITH u AS (UPDATE outbox SET status = 'pending', locked_until = NULL, claim = "
		"NULL, attempts = attempts - 1, last_error = $2, next_attempt_at = dm_now() "
		"WHERE id = $1::bigint AND status = 'sending' RETURNING id) " SETBACK_DEFERRED,
		2, p, NULL, err);
	store_outbox_unlock(db, id, NULL);
	return rc;
}

int store_outbox_defer(Db *db, int64_t id, const char *why, int64_t delay_seconds, DmError *err)
{
	char b[24], d[24];
	const char *p[] = {i64s(b, id), why, i64s(d, delay_seconds)};
	int rc = db_exec(
		db,
		"WITH u AS (UPDATE outbox SET status = 'pending', locked_until = NULL, claim = "
		"NULL, last_error = $2, next_attempt_at = dm_now() + make_interval(secs => "
		"$3::int) WHERE id = $1::bigint AND status = 'sending' RETURNING "
		"id) " SETBACK_DEFERRED,
		3, p, NULL, err);
	store_outbox_unlock(db, id, NULL);
	return rc;
}

int store_outbox_failure_facts(Db *db, const OutboxRow *row, TicketFact *t, int64_t *author_r,
			       char **body_r, DmError *err)
{
	char tb[24];
	const char *p[] = {i64n(tb, row->ticket_id), row->message_id};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT " TICKET_FACT_COLUMNS ", a.staff_id, a.body FROM (SELECT 1) x "
			 "LEFT JOIN ticket t ON t.id = $1::bigint" TICKET_FACT_JOINS
			 "LEFT JOIN LATERAL (SELECT m.staff_id, m.body FROM message m WHERE "
			 "m.message_id = $2 AND m.direction = 'out' AND m.staff_id IS NOT NULL "
			 "LIMIT 1) a ON true",
			 2, p, &r, err);
	if (rc)
		return rc;
	read_ticket_fact(r, 0, 0, t);
	*author_r = dbres_i64(r, 0, TICKET_FACT_NCOLS, 0);
	*body_r = dbres_dup(r, 0, TICKET_FACT_NCOLS + 1);
	dbres_free(r);
	return 0;
}

int store_outbox_fail(Db *db, int64_t id, const char *why, const Plan *p, DmError *err)
{
	char b[24];
	const char *v[] = {i64s(b, id), why};
	int rc = db_begin(db, err);
	if (rc == 0)
		rc = db_exec(db,
			     "WITH u AS (UPDATE outbox SET status = 'failed', locked_until = NULL, "
			     "claim = NULL, last_error = $2 WHERE id = $1::bigint AND status = "
			     "'sending' RETURNING id) " SETBACK_FAILED,
			     2, v, NULL, err);
	if (rc == 0 && p)
		rc = store_apply_plan_now(db, p, err);
	if (rc == 0)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	store_outbox_unlock(db, id, NULL);
	return rc;
}
