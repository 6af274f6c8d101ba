/* sla.c - what the escalation pass reads and writes: the tickets whose
 * next SLA instant has come, each with its history, locked for the pass;
 * their due times, notices and outcomes. */
#include <string.h>

#include "deskmail/util.h"
#include "store-private.h"

/* events of a ticket kept for its clocks: the newest this many (a ticket
 * with more status changes than this is not a ticket people work) */
#define SLA_MAX_EVENTS 5000
#define SLA_MAX_NOTICE_ROWS 200

/* One row per ticket: its facts, its clocks' inputs, the history as
 * "epoch RS kind RS before RS after RS actor" records separated by US. */
#define SLA_SELECT                                                                                 \
	"SELECT " TICKET_FACT_COLUMNS ", extract(epoch FROM t.created_at)::bigint, "               \
	"extract(epoch FROM t.line_since)::bigint, extract(epoch FROM dm_now())::bigint, "         \
	"(SELECT string_agg(concat_ws(chr(30), h.at, h.k, h.b, h.a, h.who), chr(31) ORDER BY "     \
	"  h.at, h.o) FROM (SELECT * FROM (SELECT extract(epoch FROM e.created_at)::bigint AS "    \
	"  at, e.id AS o, e.field AS k, COALESCE(translate(e.before, chr(30) || chr(31), '  "      \
	"  '), '') AS b, COALESCE(translate(e.after, chr(30) || chr(31), '  '), '') AS a, "        \
	"  translate(e.actor, chr(30) || chr(31), '  ') AS who FROM event e WHERE e.ticket_id = "  \
	"  t.id AND e.kind IN ('status-changed', 'severity-changed', 'line-changed') UNION ALL "   \
	"  SELECT extract(epoch FROM m.created_at)::bigint, m.id, 'response', '', '', "            \
	"  COALESCE(s.email, '') FROM message m LEFT JOIN staff s ON s.id = m.staff_id WHERE "     \
	"  m.ticket_id = t.id AND m.direction = 'out' AND m.staff_id IS NOT NULL AND NOT "         \
	"  m.internal) u ORDER BY u.at DESC, u.o DESC LIMIT " G_STRINGIFY(                         \
		SLA_MAX_EVENTS) ") h), "                                                           \
				"(SELECT string_agg(concat_ws(chr(30), n.clock, n.kind, "          \
				"extract(epoch FROM "                                              \
				"  n.due)::bigint), chr(31)) FROM (SELECT * FROM sla_notice n "    \
				"WHERE n.ticket_id = t.id "                                        \
				"  ORDER BY n.created_at DESC LIMIT " G_STRINGIFY(                 \
					SLA_MAX_NOTICE_ROWS) ") n), "                              \
							     "(SELECT COALESCE(sum(te.minutes), "  \
							     "0) FROM time_entry te WHERE "        \
							     "te.client_id = "                     \
							     "  t.client_id AND te.created_at >= " \
							     "to_timestamp($2::bigint)), "         \
							     "(SELECT string_agg(pn.period, ',') " \
							     "FROM periodic_notice pn WHERE "      \
							     "pn.kind = 'allowance' "              \
							     "  AND pn.subject_id = t.client_id "  \
							     "AND pn.period LIKE $3 || ':%') "

/* The lock is one statement and the facts another: in READ COMMITTED a
 * row locked by FOR UPDATE is its newest version, but the rest of the same
 * statement reads the snapshot taken before a pass that held the lock
 * committed; the next statement sees that pass's work. */
static const char lock_due_sql[] =
	"SELECT array_agg(id) FROM (SELECT id FROM ticket WHERE sla_next_at <= dm_now() ORDER BY "
	"sla_next_at LIMIT $1::int FOR UPDATE SKIP LOCKED) d";

static const char facts_sql[] =
	SLA_SELECT "FROM ticket t" TICKET_FACT_JOINS "WHERE t.id = ANY($1::bigint[]) ORDER BY t.id";

static const char one_sql[] =
	SLA_SELECT "FROM ticket t" TICKET_FACT_JOINS "WHERE t.id = $1::bigint";

static int clock_by_name(const char *s)
{
	for (int k = 0; k < SLA_N_CLOCKS; k++)
		if (strcmp(sla_clock_name((SlaClockKind)k), s) == 0)
			return k;
	return -1;
}

static void read_history(const char *v, SlaFacts *f)
{
	if (v == NULL || *v == '\0')
		return;
	gchar **recs = g_strsplit(v, "\x1f", SLA_MAX_EVENTS + 1);
	guint n = g_strv_length(recs);
	f->events = g_new0(SlaEvent, n);
	for (guint i = 0; i < n; i++) {
		gchar **x = g_strsplit(recs[i], "\x1e", 5);
		int64_t at;
		if (g_strv_length(x) < 2 || dm_parse_i64(x[0], INT64_MIN / 2, INT64_MAX / 2, &at)) {
			g_strfreev(x);
			continue;
		}
		SlaEvent *e = &f->events[f->n_events];
		const char *k = x[1];
		if (strcmp(k, "status") == 0)
			e->kind = SLA_EV_STATUS;
		else if (strcmp(k, "severity") == 0)
			e->kind = SLA_EV_SEVERITY;
		else if (strcmp(k, "line") == 0)
			e->kind = SLA_EV_LINE;
		else if (strcmp(k, "response") == 0)
			e->kind = SLA_EV_RESPONSE;
		else {
			g_strfreev(x);
			continue;
		}
		e->at = at;
		e->before = x[2] && *x[2] ? g_string_chunk_insert(f->strings, x[2]) : NULL;
		e->after = x[2] && x[3] && *x[3] ? g_string_chunk_insert(f->strings, x[3]) : NULL;
		e->actor = x[2] && x[3] && x[4] ? g_string_chunk_insert(f->strings, x[4]) : NULL;
		f->n_events++;
		g_strfreev(x);
	}
	g_strfreev(recs);
}

static void read_notices(const char *v, SlaFacts *f)
{
	if (v == NULL || *v == '\0')
		return;
	gchar **recs = g_strsplit(v, "\x1f", SLA_MAX_NOTICE_ROWS + 1);
	guint n = g_strv_length(recs);
	f->notices = g_new0(SlaNoticeFact, n);
	for (guint i = 0; i < n; i++) {
		gchar **x = g_strsplit(recs[i], "\x1e", 3);
		int64_t due;
		int k = g_strv_length(x) == 3 ? clock_by_name(x[0]) : -1;
		if (k >= 0 && dm_parse_i64(x[2], INT64_MIN / 2, INT64_MAX / 2, &due) == 0) {
			SlaNoticeFact *nf = &f->notices[f->n_notices++];
			nf->clock = (SlaClockKind)k;
			g_strlcpy(nf->kind, x[1], sizeof nf->kind);
			nf->due = due;
		}
		g_strfreev(x);
	}
	g_strfreev(recs);
}

static void read_sla_facts(const DbRes *r, int row, SlaFacts *f)
{
	memset(f, 0, sizeof *f);
	f->strings = g_string_chunk_new(1024);
	read_ticket_fact(r, row, 0, &f->t);
	int c = TICKET_FACT_NCOLS;
	f->created_at = dbres_i64(r, row, c, 0);
	f->line_since = dbres_i64(r, row, c + 1, f->created_at);
	f->now = dbres_i64(r, row, c + 2, 0);
	read_history(dbres_get(r, row, c + 3), f);
	read_notices(dbres_get(r, row, c + 4), f);
	f->month_minutes = dbres_i64(r, row, c + 5, 0);
	const char *sent = dbres_get(r, row, c + 6);
	if (sent) {
		gchar **v = g_strsplit(sent, ",", 8);
		for (guint i = 0; v[i]; i++) {
			const char *colon = strrchr(v[i], ':');
			if (colon && strcmp(colon, ":80") == 0)
				f->allowance_sent_80 = true;
			if (colon && strcmp(colon, ":100") == 0)
				f->allowance_sent_100 = true;
		}
		g_strfreev(v);
	}
}

int store_sla_take(Db *db, int limit, int64_t month_start, const char *month, GArray *out,
		   DmError *err)
{
	char mb[24], lb[24];
	DbRes *r = NULL;
	const char *v[] = {i64s(lb, limit)};
	int rc = db_exec(db, lock_due_sql, 1, v, &r, err);
	if (rc)
		return rc;
	g_autofree char *locked = dbres_dup(r, 0, 0);
	dbres_free(r);
	r = NULL;
	if (locked == NULL) /* nothing due, or all of it held by other passes */
		return 0;
	const char *fv[] = {locked, i64s(mb, month_start), month};
	rc = db_exec(db, facts_sql, 3, fv, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++) {
		SlaFacts f;
		read_sla_facts(r, i, &f);
		g_strlcpy(f.month, month, sizeof f.month);
		g_array_append_val(out, f);
	}
	dbres_free(r);
	return 0;
}

int store_sla_facts(Db *db, int64_t ticket_id, SlaFacts *f, DmError *err)
{
	char tb[24];
	const char *v[] = {i64s(tb, ticket_id), "0", ""};
	DbRes *r = NULL;
	int rc = db_exec(db, one_sql, 3, v, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no ticket #%lld", (long long)ticket_id);
	}
	read_sla_facts(r, 0, f);
	dbres_free(r);
	return 0;
}

static int send_sla_rows(Db *db, const SlaFacts *f, const SlaWrite *w, DmError *err)
{
	char tb[24], d0[24], d1[24], d2[24], d3[24], nb[24];
	const char *v[] = {i64s(tb, f->t.id),
			   i64n(d0, w->due[SLA_FIRST_RESPONSE]),
			   i64n(d1, w->due[SLA_RESOLUTION]),
			   i64n(d2, w->due[SLA_LINE]),
			   i64n(d3, w->due[SLA_FOLLOW_UP]),
			   i64n(nb, w->next)};
	int rc = db_send(db,
			 "UPDATE ticket SET first_response_due = to_timestamp($2::bigint), "
			 "resolution_due = to_timestamp($3::bigint), line_due = "
			 "to_timestamp($4::bigint), follow_up_due = to_timestamp($5::bigint), "
			 "sla_next_at = to_timestamp($6::bigint) WHERE id = $1::bigint",
			 6, v, NULL, NULL, false, NULL, err);
	for (size_t i = 0; rc == 0 && i < w->n_notices; i++) {
		char db_[24];
		const char *nv[] = {i64s(tb, f->t.id), sla_clock_name(w->notices[i].clock),
				    w->notices[i].kind, i64s(db_, w->notices[i].due),
				    f->t.client.plan};
		rc = db_send(db,
			     "INSERT INTO sla_notice (ticket_id, clock, kind, due, plan) VALUES "
			     "($1::bigint, $2, $3, to_timestamp($4::bigint), $5) ON CONFLICT DO "
			     "NOTHING",
			     5, nv, NULL, NULL, false, NULL, err);
	}
	for (size_t i = 0; rc == 0 && i < w->n_outcomes; i++) {
		char db_[24], eb[24];
		const char *ov[] = {i64s(tb, f->t.id),
				    sla_clock_name(w->outcomes[i].clock),
				    f->t.client.plan ? f->t.client.plan : "",
				    w->outcomes[i].met ? "t" : "f",
				    i64n(db_, w->outcomes[i].due),
				    i64s(eb, w->outcomes[i].ended)};
		rc = db_send(db,
			     "INSERT INTO sla_outcome (ticket_id, clock, plan, met, due, ended_at) "
			     "VALUES ($1::bigint, $2, $3, $4::boolean, to_timestamp($5::bigint), "
			     "to_timestamp($6::bigint)) ON CONFLICT DO NOTHING",
			     6, ov, NULL, NULL, false, NULL, err);
	}
	for (size_t i = 0; rc == 0 && i < w->n_allowance; i++) {
		char cb[24];
		const char *av[] = {i64s(cb, f->t.client.id), w->allowance_periods[i]};
		rc = db_send(db,
			     "INSERT INTO periodic_notice (kind, subject_id, period) VALUES "
			     "('allowance', $1::bigint, $2) ON CONFLICT DO NOTHING",
			     2, av, NULL, NULL, false, NULL, err);
	}
	return rc;
}

typedef struct {
	const SlaFacts *f;
	const SlaWrite *w;
} SlaRows;

static int more_sla_rows(Db *db, const void *ctx, DmError *err)
{
	const SlaRows *r = ctx;
	return send_sla_rows(db, r->f, r->w, err);
}

int store_sla_apply(Db *db, const Plan *p, const SlaFacts *f, const SlaWrite *w, DmError *err)
{
	SlaRows r = {f, w};
	return store_apply_plan_with(db, p, more_sla_rows, &r, err);
}

int store_sla_begin(Db *db, DmError *err)
{
	return db_begin(db, err);
}

int store_sla_commit(Db *db, DmError *err)
{
	return db_commit(db, err);
}

void store_sla_rollback(Db *db)
{
	db_rollback(db);
}

/* ---- the breach digest ---- */

static const char digest_tickets_sql[] =
	/* both halves from their own index (a join of the union with ticket
	 * to drop the closed ones walks the whole ticket table instead) */
	/* tickets the pass has not yet seen due, and those it sent a breach or
	 * at-risk notice for lately */
	"WITH c AS (SELECT id FROM ticket WHERE sla_next_at <= dm_now() AND status <> 'closed' "
	"UNION SELECT nt.id FROM "
	"sla_notice n JOIN ticket nt ON nt.id = n.ticket_id WHERE n.kind IN ('breach', "
	"'at-risk') AND n.created_at > dm_now() - interval '35 days' AND nt.status <> "
	"'closed'), d AS (SELECT id FROM c ORDER BY id LIMIT $1::int) " SLA_SELECT
	", (SELECT count(*) FROM c) FROM d JOIN ticket t ON t.id = d.id" TICKET_FACT_JOINS
	"ORDER BY t.id";

int store_digest_facts(Db *db, int limit, int64_t month_start, const char *month, DigestFacts *d,
		       DmError *err)
{
	char lb[24], mb[24];
	const char *v[] = {i64s(lb, limit), i64s(mb, month_start), month};
	DbRes *r = NULL;
	int rc = db_exec(db, digest_tickets_sql, 3, v, &r, err);
	if (rc)
		return rc;
	int n = dbres_rows(r);
	d->tickets = g_new0(SlaFacts, n + 1);
	d->candidates = n ? dbres_i64(r, 0, TICKET_FACT_NCOLS + 7, n) : 0;
	for (int i = 0; i < n; i++) {
		read_sla_facts(r, i, &d->tickets[i]);
		g_strlcpy(d->tickets[i].month, month, sizeof d->tickets[i].month);
	}
	d->n_tickets = (size_t)n;
	dbres_free(r);

	rc = db_exec(db,
		     "SELECT o.plan, o.clock, floor((extract(epoch FROM o.ended_at) - "
		     "extract(epoch FROM dm_now()) + 28 * 86400) / (7 * 86400))::int, count(*) "
		     "FILTER (WHERE o.met), count(*) FROM sla_outcome o WHERE o.ended_at > "
		     "dm_now() - interval '28 days' AND o.ended_at < dm_now() GROUP BY 1, 2, 3 "
		     "ORDER BY 1, 2, 3",
		     0, NULL, &r, err);
	if (rc)
		return rc;
	n = dbres_rows(r);
	d->outcomes = g_new0(DigestOutcome, n + 1);
	for (int i = 0; i < n; i++) {
		int k = clock_by_name(dbres_get(r, i, 1) ? dbres_get(r, i, 1) : "");
		if (k < 0)
			continue;
		DigestOutcome *o = &d->outcomes[d->n_outcomes++];
		o->plan = dbres_dup(r, i, 0);
		o->clock = (SlaClockKind)k;
		o->week = (int)dbres_i64(r, i, 2, 0);
		o->met = dbres_i64(r, i, 3, 0);
		o->total = dbres_i64(r, i, 4, 0);
	}
	dbres_free(r);

	rc = db_exec(db,
		     "SELECT c.plan, count(*) FROM ticket t JOIN client c ON c.id = t.client_id "
		     "WHERE t.status <> 'closed' GROUP BY c.plan ORDER BY c.plan",
		     0, NULL, &r, err);
	if (rc)
		return rc;
	n = dbres_rows(r);
	d->open = g_new0(DigestPlanCount, n + 1);
	for (int i = 0; i < n; i++) {
		d->open[i].plan = dbres_dup(r, i, 0);
		d->open[i].open = dbres_i64(r, i, 1, 0);
	}
	d->n_open = (size_t)n;
	dbres_free(r);

	const char *mv[] = {i64s(mb, month_start)};
	rc = db_exec(db,
		     "SELECT c.name, c.plan, sum(te.minutes) FROM time_entry te JOIN client c ON "
		     "c.id = te.client_id WHERE te.created_at >= to_timestamp($1::bigint) GROUP BY "
		     "c.id ORDER BY c.name",
		     1, mv, &r, err);
	if (rc)
		return rc;
	n = dbres_rows(r);
	d->allowances = g_new0(DigestAllowance, n + 1);
	for (int i = 0; i < n; i++) {
		d->allowances[i].client = dbres_dup(r, i, 0);
		d->allowances[i].plan = dbres_dup(r, i, 1);
		d->allowances[i].minutes = dbres_i64(r, i, 2, 0);
	}
	d->n_allowances = (size_t)n;
	dbres_free(r);
	return 0;
}

int store_digest_claim(Db *db, const char *period, GArray *ids, DmError *err)
{
	const char *v[] = {period};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "INSERT INTO periodic_notice (kind, subject_id, period) SELECT 'digest', "
			 "s.id, $1 FROM staff s WHERE s.is_manager AND s.active ON CONFLICT DO "
			 "NOTHING RETURNING subject_id",
			 1, v, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++) {
		int64_t id = dbres_i64(r, i, 0, 0);
		g_array_append_val(ids, id);
	}
	dbres_free(r);
	return 0;
}

int store_digest_apply(Db *db, const Plan *p, DmError *err)
{
	return store_apply_plan_now(db, p, err);
}

int store_sla_fingerprint(Db *db, const char *fingerprint, int64_t *touched_r, DmError *err)
{
	*touched_r = 0;
	const char *v[] = {fingerprint};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT value IS NOT DISTINCT FROM $1 FROM (SELECT (SELECT value FROM "
			 "desk_state WHERE key = 'sla_fingerprint') AS value) s",
			 1, v, &r, err);
	if (rc)
		return rc;
	bool same = dbres_bool(r, 0, 0);
	dbres_free(r);
	if (same)
		return 0;
	/* every open ticket due, in chunks that never wait for a lock (a
	 * ticket an ingest holds is made due by that ingest's own update), so
	 * an edit of the settings never deadlocks with the mail coming in */
	for (;;) {
		r = NULL;
		rc = db_exec(
			db,
			"WITH t AS (UPDATE ticket SET sla_next_at = dm_now() WHERE id IN (SELECT "
			"id "
			"FROM ticket WHERE status <> 'closed' AND (sla_next_at IS NULL OR "
			"sla_next_at > dm_now()) ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED) "
			"RETURNING 1) SELECT count(*) FROM t",
			0, NULL, &r, err);
		if (rc)
			return rc;
		int64_t n = dbres_i64(r, 0, 0, 0);
		dbres_free(r);
		*touched_r += n;
		if (n == 0)
			break;
	}
	return db_exec(db,
		       "INSERT INTO desk_state (key, value) VALUES ('sla_fingerprint', $1) ON "
		       "CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		       1, v, NULL, err);
}

int store_sla_fingerprint_init(Db *db, const char *fingerprint, DmError *err)
{
	const char *v[] = {fingerprint};
	return db_exec(db,
		       "INSERT INTO desk_state (key, value) VALUES ('sla_fingerprint', $1) ON "
		       "CONFLICT (key) DO NOTHING",
		       1, v, NULL, err);
}

int store_sla_savepoint(Db *db, DmError *err)
{
	return db_exec(db, "SAVEPOINT sla_ticket", 0, NULL, NULL, err);
}

int store_sla_release(Db *db, DmError *err)
{
	return db_exec(db, "RELEASE SAVEPOINT sla_ticket", 0, NULL, NULL, err);
}

int store_sla_set_aside(Db *db, int64_t ticket_id, int seconds, const char *why, DmError *err)
{
	char tb[24], sb[24];
	const char *v[] = {i64s(tb, ticket_id), i64s(sb, seconds), why};
	int rc = db_exec(db, "ROLLBACK TO SAVEPOINT sla_ticket", 0, NULL, NULL, err);
	if (rc == 0)
		rc = db_exec(db,
			     "WITH e AS (INSERT INTO event (ticket_id, kind, actor, detail) VALUES "
			     "($1::bigint, 'sla-failed', 'deskmail', $3)) UPDATE ticket SET "
			     "sla_next_at = dm_now() + make_interval(secs => $2::int) WHERE id = "
			     "$1::bigint",
			     3, v, NULL, err);
	return rc;
}
