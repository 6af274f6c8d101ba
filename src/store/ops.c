/* ops.c - the SQL of the operator's commands: the queue as `outbox list`
 * shows it, taking a row back into the queue or out of it (each with an
 * audit event naming who), the counts of `stats`, and `purge`.
 *
 * Nothing is deleted from the outbox: a dropped row stays, marked
 * 'dropped', as the quarantine keeps a dropped mail; the event says who
 * dropped it.  `purge` removes contents only (texts, attachment bytes, raw
 * mail); the rows, their metadata and the events are the audit trail and
 * stay.  It works in batches, each its own transaction, and marks what it
 * did (ticket.purged_at, inbound.purged_at), so that an interrupted run
 * loses nothing and a second run finds nothing to do. */
#include <string.h>

#include "store-private.h"

/* ---- the queue ---- */

/* pending with an error recorded is a deferral (a 4xx, or the server
 * unreachable); a retried row has its error cleared */
#define QUEUE_STATE                                                                                \
	"CASE WHEN status = 'pending' AND last_error IS NULL THEN 'queued' WHEN status = "         \
	"'pending' THEN 'deferred' ELSE status END"

void queue_rows_clear(GArray *rows)
{
	for (guint i = 0; i < rows->len; i++) {
		QueueRow *q = &g_array_index(rows, QueueRow, i);
		g_free(q->state);
		g_free(q->kind);
		g_free(q->rcpt);
		g_free(q->subject);
		g_free(q->last_error);
	}
	g_array_set_size(rows, 0);
}

int store_queue_list(Db *db, bool failed_only, GArray *rows, DmError *err)
{
	const char *p[] = {failed_only ? "t" : "f"};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT id, " QUEUE_STATE ", kind, rcpt, subject, last_error, attempts, "
			 "extract(epoch FROM next_attempt_at)::bigint, extract(epoch FROM "
			 "created_at)::bigint, ticket_id, octet_length(raw) FROM outbox WHERE "
			 "status = 'failed' OR (NOT $1::bool AND status IN ('pending', 'sending')) "
			 "ORDER BY id",
			 1, p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++) {
		QueueRow q = {
			.id = dbres_i64(r, i, 0, 0),
			.state = dbres_dup(r, i, 1),
			.kind = dbres_dup(r, i, 2),
			.rcpt = dbres_dup(r, i, 3),
			.subject = dbres_dup(r, i, 4),
			.last_error = dbres_dup(r, i, 5),
			.attempts = (int)dbres_i64(r, i, 6, 0),
			.next_attempt = dbres_i64(r, i, 7, 0),
			.created = dbres_i64(r, i, 8, 0),
			.ticket_id = dbres_i64(r, i, 9, 0),
			.size = dbres_i64(r, i, 10, 0),
		};
		g_array_append_val(rows, q);
	}
	dbres_free(r);
	return 0;
}

/* Why row id was not taken: DM_ENOTFOUND, or DM_EPERM with its state. */
static int queue_refused(Db *db, int64_t id, const char *what, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id)};
	DbRes *r = NULL;
	int rc = db_exec(db, "SELECT " QUEUE_STATE " FROM outbox WHERE id = $1::bigint", 1, p, &r,
			 err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0)
		rc = dm_error_set(err, DM_ENOTFOUND, "no outbox mail %s", b);
	else
		rc = dm_error_set(err, DM_EPERM,
				  "outbox mail %s is %s: only queued, deferred or failed mail "
				  "can be %s",
				  b, dbres_get(r, 0, 0), what);
	dbres_free(r);
	return rc;
}

/* One statement each: the rows are locked, changed and their events
 * written together.  A row a send pass claims meanwhile is 'sending' when
 * the lock is granted, and is left alone. */
int store_queue_retry(Db *db, int64_t id, const char *by, int64_t *n_r, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), by};
	DbRes *r = NULL;
	int rc = db_exec(
		db,
		"WITH o AS (SELECT id, ticket_id, kind, rcpt, last_error, " QUEUE_STATE " AS state "
		"FROM outbox WHERE (id = $1::bigint AND status IN ('pending', 'failed')) OR "
		"($1::bigint = 0 AND status = 'failed') FOR UPDATE), "
		"u AS (UPDATE outbox x SET status = 'pending', attempts = 0, next_attempt_at = "
		"dm_now(), last_error = NULL, locked_until = NULL, claim = NULL FROM o WHERE "
		"x.id = o.id RETURNING x.id), "
		"e AS (INSERT INTO event (ticket_id, kind, actor, staff_id, field, before, after, "
		"detail) SELECT o.ticket_id, 'outbox-retried', $2, (SELECT s.id FROM staff s WHERE "
		"s.email = lower($2)), 'status', o.state, 'queued', 'outbox #' || o.id || ' (' || "
		"o.kind || ' to ' || o.rcpt || ')' || COALESCE(': ' || o.last_error, '') FROM o) "
		"SELECT count(*) FROM u",
		2, p, &r, err);
	if (rc)
		return rc;
	*n_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return id && *n_r == 0 ? queue_refused(db, id, "retried", err) : 0;
}

int store_queue_drop(Db *db, int64_t id, const char *by, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), by};
	DbRes *r = NULL;
	int rc = db_exec(
		db,
		"WITH o AS (SELECT id, ticket_id, kind, rcpt, last_error, " QUEUE_STATE " AS state "
		"FROM outbox WHERE id = $1::bigint AND status IN ('pending', 'failed') FOR "
		"UPDATE), u AS (UPDATE outbox x SET status = 'dropped', locked_until = NULL, claim "
		"= NULL FROM o WHERE x.id = o.id RETURNING x.id), e AS (INSERT INTO event "
		"(ticket_id, kind, actor, staff_id, field, before, after, detail) SELECT "
		"o.ticket_id, 'outbox-dropped', $2, (SELECT s.id FROM staff s WHERE s.email = "
		"lower($2)), 'status', o.state, 'dropped', 'outbox #' || o.id || ' (' || o.kind || "
		"' to ' || o.rcpt || ')' || COALESCE(': ' || o.last_error, '') FROM o) SELECT "
		"count(*) FROM u",
		2, p, &r, err);
	if (rc)
		return rc;
	int64_t n = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return n == 0 ? queue_refused(db, id, "dropped", err) : 0;
}

/* ---- stats ---- */

void desk_stats_clear(DeskStats *st)
{
	if (st->open_status)
		g_ptr_array_free(st->open_status, TRUE);
	if (st->open_status_n)
		g_array_free(st->open_status_n, TRUE);
	memset(st, 0, sizeof *st);
}

/* Each flow as (total, last hour, last day), the windows by the desk's
 * clock. */
static const char stats_sql[] =
	"WITH i AS (SELECT count(received_at), count(*) FILTER (WHERE received_at >= dm_now() - "
	"interval '1 hour'), count(*) FILTER (WHERE received_at >= dm_now() - interval '1 day') "
	"FROM inbound), "
	"q AS (SELECT count(received_at), count(*) FILTER (WHERE received_at >= dm_now() - "
	"interval '1 hour'), count(*) FILTER (WHERE received_at >= dm_now() - interval '1 day'), "
	"count(*) FILTER (WHERE status IN ('held', 'set-aside')) FROM quarantine), "
	"o AS (SELECT count(sent_at), count(*) FILTER (WHERE sent_at >= dm_now() - interval '1 "
	"hour'), count(*) FILTER (WHERE sent_at >= dm_now() - interval '1 day'), count(*) FILTER "
	"(WHERE status = 'pending' AND last_error IS NULL), count(*) FILTER (WHERE status = "
	"'pending' AND last_error IS NOT NULL), count(*) FILTER (WHERE status = 'sending'), "
	"count(*) FILTER (WHERE status = 'failed') FROM outbox), "
	"d AS (SELECT count(at), count(*) FILTER (WHERE at >= dm_now() - interval '1 hour'), "
	"count(*) FILTER (WHERE at >= dm_now() - interval '1 day') FROM outbox_setback WHERE "
	"outcome = 'deferred'), "
	"f AS (SELECT count(at), count(*) FILTER (WHERE at >= dm_now() - interval '1 hour'), "
	"count(*) FILTER (WHERE at >= dm_now() - interval '1 day') FROM outbox_setback WHERE "
	"outcome = 'failed') "
	"SELECT extract(epoch FROM dm_now())::bigint, i.*, q.*, o.*, d.*, f.* FROM i, q, o, d, f";

/* One pass over each table: the totals are exact counts, and the windows
 * come from the same scan. */
int store_stats(Db *db, DeskStats *st, DmError *err)
{
	memset(st, 0, sizeof *st);
	DbRes *r = NULL;
	int rc = db_exec(db, stats_sql, 0, NULL, &r, err);
	if (rc)
		return rc;
	int c = 0;
	st->now = dbres_i64(r, 0, c++, 0);
	StatCount *counts[] = {&st->received, &st->quarantined, &st->sent, &st->deferred,
			       &st->failed};
	for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
		counts[k]->total = dbres_i64(r, 0, c++, 0);
		counts[k]->hour = dbres_i64(r, 0, c++, 0);
		counts[k]->day = dbres_i64(r, 0, c++, 0);
		if (k == 1)
			st->quarantine_held = dbres_i64(r, 0, c++, 0);
		if (k == 2) {
			st->queued = dbres_i64(r, 0, c++, 0);
			st->deferred_now = dbres_i64(r, 0, c++, 0);
			st->sending = dbres_i64(r, 0, c++, 0);
			st->failed_now = dbres_i64(r, 0, c++, 0);
		}
	}
	dbres_free(r);
	rc = db_exec(db,
		     "SELECT status, line, count(*) FROM ticket WHERE status <> 'closed' GROUP BY "
		     "status, line ORDER BY status, line",
		     0, NULL, &r, err);
	if (rc)
		return rc;
	st->open_status = g_ptr_array_new_with_free_func(g_free);
	st->open_status_n = g_array_new(FALSE, TRUE, sizeof(int64_t));
	for (int i = 0; i < dbres_rows(r); i++) {
		const char *status = dbres_get(r, i, 0);
		int64_t line = dbres_i64(r, i, 1, 0), n = dbres_i64(r, i, 2, 0);
		guint k = st->open_status->len;
		if (k == 0 || strcmp(st->open_status->pdata[k - 1], status) != 0) {
			g_ptr_array_add(st->open_status, g_strdup(status));
			int64_t zero = 0;
			g_array_append_val(st->open_status_n, zero);
			k++;
		}
		g_array_index(st->open_status_n, int64_t, k - 1) += n;
		if (line >= 1 && line <= 3)
			st->open_line[line] += n;
		st->open_total += n;
	}
	dbres_free(r);
	return 0;
}

/* ---- purge ---- */

/* The tickets to purge: closed before $1, not purged yet. */
#define PURGE_TICKETS                                                                              \
	"SELECT id FROM ticket WHERE status = 'closed' AND purged_at IS NULL AND closed_at < "     \
	"$1::timestamptz"
/* The quarantined mail to purge: received before $1, never a ticket's. */
#define PURGE_QUARANTINED                                                                          \
	"SELECT n.id, octet_length(n.raw) AS n FROM inbound n WHERE n.outcome = 'quarantine' AND " \
	"n.purged_at IS NULL AND n.received_at < $1::timestamptz AND NOT EXISTS (SELECT 1 FROM "   \
	"message m WHERE m.inbound_id = n.id)"
/* Outgoing mail done with (sent, bounced, dropped: a failed mail is still
 * in the queue, to be retried or dropped, and keeps its bytes) of a purged
 * ticket, or of no ticket (digests, notices to strangers) and sent before
 * $1.  A mail dropped after its ticket was purged is found by the next run. */
#define PURGE_OUT                                                                                  \
	"SELECT o.id, octet_length(o.raw) AS n FROM outbox o WHERE o.status IN ('sent', "          \
	"'bounced', 'dropped') AND octet_length(o.raw) > 0 AND CASE WHEN o.ticket_id IS NULL "     \
	"THEN o.created_at < $1::timestamptz ELSE EXISTS (SELECT 1 FROM ticket t WHERE t.id = "    \
	"o.ticket_id AND t.purged_at IS NOT NULL) END"

/* What a run would remove: the sets of the batches below, counted. */
static const char purge_count_sql[] =
	"WITH c AS (" PURGE_TICKETS "), "
	"m AS (SELECT m.id, m.inbound_id, octet_length(m.body) + octet_length(m.body_full) + "
	"COALESCE(octet_length(m.body_html), 0) AS n FROM message m JOIN c ON c.id = "
	"m.ticket_id), "
	"a AS (SELECT x.id, x.blob_sha256 FROM attachment x JOIN m ON m.id = x.message_id "
	"WHERE x.blob_sha256 IS NOT NULL), "
	"b AS (SELECT b.size FROM blob b WHERE b.sha256 IN (SELECT blob_sha256 FROM a) AND NOT "
	"EXISTS (SELECT 1 FROM attachment z WHERE z.blob_sha256 = b.sha256 AND z.id NOT IN "
	"(SELECT id FROM a))), "
	"i AS (SELECT octet_length(n.raw) AS n FROM inbound n WHERE n.id IN (SELECT inbound_id "
	"FROM m) AND n.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM message o JOIN ticket t "
	"ON t.id = o.ticket_id WHERE o.inbound_id = n.id AND t.purged_at IS NULL AND "
	"o.ticket_id NOT IN (SELECT id FROM c))), "
	"o AS (SELECT n FROM (" PURGE_OUT ") x UNION ALL "
	"SELECT octet_length(raw) FROM outbox WHERE ticket_id IN (SELECT id FROM c) AND status "
	"IN ('sent', 'bounced', 'dropped') AND octet_length(raw) > 0), "
	"q AS (" PURGE_QUARANTINED ") "
	"SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM m WHERE n > 0), (SELECT "
	"COALESCE(sum(n), 0) FROM m), (SELECT count(*) FROM a), (SELECT count(*) FROM b), "
	"(SELECT COALESCE(sum(size), 0) FROM b), (SELECT count(*) FROM i), (SELECT "
	"COALESCE(sum(n), 0) FROM i), (SELECT count(*) FROM o), (SELECT COALESCE(sum(n), 0) "
	"FROM o), (SELECT count(*) FROM q), (SELECT COALESCE(sum(n), 0) FROM q), (SELECT "
	"count(*) FROM quarantine WHERE status = 'held' AND inbound_id IN (SELECT id FROM q))";

/* What a run would remove, counted as the batches count it. */
static int purge_count(Db *db, const char *cutoff, PurgeStats *st, DmError *err)
{
	const char *p[] = {cutoff};
	DbRes *r = NULL;
	int rc = db_exec(db, purge_count_sql, 1, p, &r, err);
	if (rc)
		return rc;
	int64_t *v[] = {&st->tickets,
			&st->messages,
			&st->text_bytes,
			&st->attachments,
			&st->blobs,
			&st->blob_bytes,
			&st->raw_in,
			&st->raw_in_bytes,
			&st->raw_out,
			&st->raw_out_bytes,
			&st->quarantined,
			&st->quarantined_bytes,
			&st->quarantine_dropped};
	for (size_t k = 0; k < G_N_ELEMENTS(v); k++)
		*v[k] = dbres_i64(r, 0, (int)k, 0);
	dbres_free(r);
	return 0;
}

/* Add a statement's (count, bytes) to the totals. */
static int add2(Db *db, const char *sql, int n, const char *const *p, int64_t *count,
		int64_t *bytes, DmError *err)
{
	DbRes *r = NULL;
	int rc = db_exec(db, sql, n, p, &r, err);
	if (rc)
		return rc;
	*count += dbres_i64(r, 0, 0, 0);
	if (bytes)
		*bytes += dbres_i64(r, 0, 1, 0);
	dbres_free(r);
	return 0;
}

/* The texts of the messages of tickets $1 (an array). */
static const char purge_texts_sql[] =
	"WITH m AS (SELECT id, octet_length(body) + octet_length(body_full) + "
	"COALESCE(octet_length(body_html), 0) AS n FROM message WHERE ticket_id = "
	"ANY($1::bigint[])), "
	"u AS (UPDATE message x SET body = '', body_full = '', body_html = NULL FROM m WHERE "
	"x.id = m.id AND m.n > 0 RETURNING m.n) "
	"SELECT count(*), COALESCE(sum(n), 0) FROM u";

/* Their attachments, marked refused with why ($2); a blob is freed once
 * no attachment left refers to it: the ones of this batch no longer do when
 * the statement ends, when the foreign key is checked. */
static const char purge_attachments_sql[] =
	"WITH a AS (SELECT x.id, x.blob_sha256 AS sha FROM attachment x JOIN message m ON m.id "
	"= x.message_id WHERE m.ticket_id = ANY($1::bigint[]) AND x.blob_sha256 IS NOT NULL), "
	"u AS (UPDATE attachment y SET blob_sha256 = NULL, refused = $2 FROM a WHERE y.id = "
	"a.id RETURNING y.id), "
	"d AS (DELETE FROM blob b WHERE b.sha256 IN (SELECT sha FROM a) AND NOT EXISTS (SELECT "
	"1 FROM attachment z WHERE z.blob_sha256 = b.sha256 AND z.id NOT IN (SELECT id FROM "
	"a)) RETURNING b.size) "
	"SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM d), (SELECT "
	"COALESCE(sum(size), 0) FROM d)";

/* The raw mail they came from, kept while a ticket not purged shows it. */
static const char purge_raw_in_sql[] =
	"WITH k AS (SELECT n.id, octet_length(n.raw) AS n FROM inbound n WHERE n.id IN (SELECT "
	"inbound_id FROM message WHERE ticket_id = ANY($1::bigint[])) AND n.purged_at IS NULL "
	"AND NOT EXISTS (SELECT 1 FROM message o JOIN ticket t ON t.id = o.ticket_id WHERE "
	"o.inbound_id = n.id AND t.purged_at IS NULL AND o.ticket_id <> ALL($1::bigint[]))), "
	"u AS (UPDATE inbound x SET raw = ''::bytea, truncated = true, purged_at = dm_now() "
	"FROM k WHERE x.id = k.id RETURNING k.n) "
	"SELECT count(*), COALESCE(sum(n), 0) FROM u";

/* The tickets marked, each with an event naming who ($3) and why ($2). */
static const char purge_mark_sql[] =
	"WITH t AS (UPDATE ticket SET purged_at = dm_now() WHERE id = ANY($1::bigint[]) "
	"RETURNING id), "
	"e AS (INSERT INTO event (ticket_id, kind, actor, staff_id, detail) SELECT id, "
	"'contents-purged', $3, (SELECT s.id FROM staff s WHERE s.email = lower($3)), $2 FROM "
	"t) "
	"SELECT count(*) FROM t";

/* The contents of the tickets ids ('{1,2}'), inside the caller's
 * transaction. */
static int purge_tickets(Db *db, const char *ids, const char *by, const char *note, PurgeStats *st,
			 DmError *err)
{
	const char *t[] = {ids, note, by};
	DbRes *r = NULL;
	int64_t ignored = 0;
	int rc = add2(db, purge_texts_sql, 1, t, &st->messages, &st->text_bytes, err);
	if (rc == 0)
		rc = db_exec(db, purge_attachments_sql, 2, t, &r, err);
	if (rc == 0) {
		st->attachments += dbres_i64(r, 0, 0, 0);
		st->blobs += dbres_i64(r, 0, 1, 0);
		st->blob_bytes += dbres_i64(r, 0, 2, 0);
		dbres_free(r);
	}
	if (rc == 0)
		rc = add2(db, purge_raw_in_sql, 1, t, &st->raw_in, &st->raw_in_bytes, err);
	if (rc == 0)
		rc = add2(db, purge_mark_sql, 3, t, &ignored, NULL, err);
	return rc;
}

/* One batch of tickets in one transaction; *n_r: tickets in it (0: none
 * left). */
static int purge_ticket_batch(Db *db, const char *cutoff, const char *batch, const char *by,
			      const char *note, PurgeStats *st, int64_t *n_r, DmError *err)
{
	*n_r = 0;
	int rc = db_begin(db, err);
	if (rc)
		return rc;
	const char *p[] = {cutoff, batch};
	DbRes *r = NULL;
	rc = db_exec(db,
		     "SELECT COALESCE(array_agg(id ORDER BY id), '{}')::text, count(*) FROM "
		     "(" PURGE_TICKETS " ORDER BY closed_at, id LIMIT $2::int FOR UPDATE SKIP "
		     "LOCKED) t",
		     2, p, &r, err);
	int64_t n = 0;
	if (rc == 0) {
		n = dbres_i64(r, 0, 1, 0);
		if (n > 0)
			rc = purge_tickets(db, dbres_get(r, 0, 0), by, note, st, err);
		dbres_free(r);
	}
	if (rc == 0)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (rc == 0) {
		*n_r = n;
		st->tickets += n;
	}
	return rc;
}

/* A batch of outgoing mail ($3 rows after id $2), emptied. */
static const char purge_out_sql[] =
	"WITH o AS (" PURGE_OUT " AND o.id > $2::bigint ORDER BY o.id LIMIT $3::int), "
	"u AS (UPDATE outbox x SET raw = ''::bytea FROM o WHERE x.id = o.id RETURNING o.id, "
	"o.n) "
	"SELECT count(*), COALESCE(sum(n), 0), COALESCE(max(id), 0) FROM u";

/* A batch of quarantined mail ($2 mails), emptied; its held entries
 * dropped by $3 with the decision $4, each with an event. */
static const char purge_quarantine_sql[] =
	"WITH k AS (" PURGE_QUARANTINED
	" ORDER BY n.received_at, n.id LIMIT $2::int FOR UPDATE SKIP LOCKED), "
	"u AS (UPDATE inbound x SET raw = ''::bytea, truncated = true, purged_at = dm_now() "
	"FROM k WHERE x.id = k.id RETURNING k.id, k.n), "
	"q AS (UPDATE quarantine SET status = 'dropped', decided_by_name = $3, decided_by = "
	"(SELECT s.id FROM staff s WHERE s.email = lower($3)), decided_at = dm_now(), decision "
	"= $4 WHERE inbound_id IN (SELECT id FROM u) AND status = 'held' RETURNING id), "
	"e AS (INSERT INTO event (kind, actor, staff_id, detail) SELECT 'quarantine-dropped', "
	"$3, (SELECT s.id FROM staff s WHERE s.email = lower($3)), 'quarantine #' || q.id || "
	"': ' || $4 FROM q) "
	"SELECT (SELECT count(*) FROM u), (SELECT COALESCE(sum(n), 0) FROM u), (SELECT "
	"count(*) FROM q)";

int store_purge(Db *db, const PurgeSpan *span, bool dry_run, int batch, const char *by,
		PurgeStats *st, DmError *err)
{
	memset(st, 0, sizeof *st);
	char yb[24], mb[24], db_[24], hb[24], bb[24];
	const char *p[] = {i64s(yb, span->years), i64s(mb, span->months), i64s(db_, span->days),
			   i64s(hb, span->hours)};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT (dm_now() - make_interval(years => $1::int, months => $2::int, "
			 "days => $3::int, hours => $4::int))::text",
			 4, p, &r, err);
	if (rc)
		return rc;
	g_strlcpy(st->cutoff, dbres_get(r, 0, 0), sizeof st->cutoff);
	dbres_free(r);
	if (dry_run)
		return purge_count(db, st->cutoff, st, err);

	g_autofree char *note = g_strdup_printf("purged: closed before %s", st->cutoff);
	int64_t n;
	do
		rc = purge_ticket_batch(db, st->cutoff, i64s(bb, batch), by, note, st, &n, err);
	while (rc == 0 && n > 0);

	/* outgoing mail, once its ticket is purged: by id, each batch one
	 * statement */
	int64_t after = 0;
	while (rc == 0) {
		char ab[24];
		const char *o[] = {st->cutoff, i64s(ab, after), bb};
		rc = db_exec(db, purge_out_sql, 3, o, &r, err);
		if (rc)
			break;
		n = dbres_i64(r, 0, 0, 0);
		st->raw_out += n;
		st->raw_out_bytes += dbres_i64(r, 0, 1, 0);
		after = dbres_i64(r, 0, 2, 0);
		dbres_free(r);
		if (n == 0)
			break;
	}

	/* quarantined mail: its held entry is decided, dropped by the purge */
	g_autofree char *qnote = g_strdup_printf("purged: received before %s", st->cutoff);
	while (rc == 0) {
		const char *q[] = {st->cutoff, bb, by, qnote};
		rc = db_exec(db, purge_quarantine_sql, 4, q, &r, err);
		if (rc)
			break;
		n = dbres_i64(r, 0, 0, 0);
		st->quarantined += n;
		st->quarantined_bytes += dbres_i64(r, 0, 1, 0);
		st->quarantine_dropped += dbres_i64(r, 0, 2, 0);
		dbres_free(r);
		if (n == 0)
			break;
	}
	return rc;
}
