/* ingest.c - the SQL of taking mail in: a batch of mails in one
 * transaction, one savepoint per mail, the facts of a mail in one query,
 * and a plan written as a short run of pipelined statements.
 *
 * Per mail the desk waits for the database twice at most: for the facts
 * (which also reserve the mail's inbound and message ids, so the planner
 * can name its rows before they exist) and, for a new ticket only, for its
 * number.  The plan's rows go out without waiting; their outcome is read
 * when the desk has fetched the next mail (store_apply_wait).  A mail whose
 * rows fail is rolled back to its own savepoint, so it never takes its
 * neighbours in the batch with it.
 *
 * Duplicates: the facts say when the same bytes, or the same Message-ID and
 * content from the same sender, were stored before.  Two unique indexes on
 * inbound stay the last word: when another process stores the same mail
 * first, the insert fails with one of them and the caller is told it was a
 * duplicate. */
#include <stdio.h>
#include <string.h>

#include "deskmail/route.h"
#include "deskmail/util.h"
#include "store-private.h"

#define MAX_LOOKUP_REFS 50
#define SAVEPOINT "SAVEPOINT dm_mail"
#define RELEASE "RELEASE SAVEPOINT dm_mail"
#define ROLLBACK_TO "ROLLBACK TO SAVEPOINT dm_mail"

int store_batch_begin(Db *db, DmError *err)
{
	db_pipeline_enter(db);
	if (!db_in_pipeline(db))
		return dm_error_set(err, DM_ETEMP, "database: cannot enter pipeline mode");
	int rc = db_begin(db, err);
	/* The statements of a batch are point lookups and inserts by key: their
	 * generic plans are as good as custom ones, and planning the facts query
	 * anew for every mail would cost more than running it. */
	if (rc == 0)
		rc = db_exec(db, "SET LOCAL plan_cache_mode = force_generic_plan", 0, NULL, NULL,
			     err);
	return rc;
}

void store_batch_rollback(Db *db)
{
	db_rollback(db);
	db_pipeline_leave(db);
}

int store_staff_load(Db *db, StaffList *l, DmError *err)
{
	DbRes *r = NULL;
	int rc = db_exec(
		db, "SELECT id, email, name, role, line, active, is_manager FROM staff ORDER BY id",
		0, NULL, &r, err);
	if (rc)
		return rc;
	int n = dbres_rows(r);
	l->v = g_new0(StaffFact, n > 0 ? n : 1);
	l->n = (size_t)n;
	for (int i = 0; i < n; i++) {
		StaffFact *s = &l->v[i];
		s->id = dbres_i64(r, i, 0, 0);
		s->email = dbres_dup(r, i, 1);
		s->name = dbres_dup(r, i, 2);
		s->role = dbres_dup(r, i, 3);
		s->line = (int)dbres_i64(r, i, 4, 1);
		s->active = dbres_bool(r, i, 5);
		s->is_manager = dbres_bool(r, i, 6);
	}
	dbres_free(r);
	return 0;
}

/* Undo the current mail: back to its savepoint, which is then gone. */
static void rollback_mail(Db *db)
{
	if (db_send_simple(db, ROLLBACK_TO, NULL) == 0 && db_send_simple(db, RELEASE, NULL) == 0 &&
	    db_sync(db, NULL) == 0)
		db_wait(db, NULL, NULL);
}

int store_mail_abandon(Db *db, DmError *err)
{
	int rc = db_send_simple(db, ROLLBACK_TO, err);
	if (rc == 0)
		rc = db_send_simple(db, RELEASE, err);
	if (rc == 0)
		rc = db_sync(db, err);
	return rc ? rc : db_wait(db, NULL, err);
}

static const char facts_sql[] =
	"SELECT (extract(epoch FROM dm_now()) * 1000000)::bigint, dm_now()::text, "
	"nextval('inbound_id_seq'::regclass), "
	/* the mail's message id, then ids for the messages it causes */
	"(SELECT array_to_string(array_agg(s.v ORDER BY s.g), ',') FROM (SELECT g, "
	"  nextval('message_id_seq'::regclass) AS v FROM generate_series(0, "
	"  $10::int) g) s), "
	"d.bytes, d.id, "
	"c.id, c.name, cl.id, cl.name, cl.plan, cl.account_manager_id, "
	"tt.id, tt.client_id, rt.id, rt.client_id, "
	"(SELECT count(*) FROM (SELECT 1 FROM outbox o WHERE o.automatic AND o.rcpt = lower($2) "
	"AND "
	"  o.kind = 'ack' AND o.created_at > dm_now() - interval '1 hour' LIMIT $6::int) s), "
	/* a stranger's notice: at most one a day per address */
	"(SELECT count(*) FROM (SELECT 1 FROM outbox o WHERE o.automatic AND o.rcpt = lower($2) "
	"AND "
	"  o.kind = 'quarantine-notice' AND o.created_at > dm_now() - interval '1 day' "
	"  LIMIT $7::int) s), "
	"(SELECT count(*) FROM (SELECT 1 FROM outbox o WHERE o.automatic AND o.rcpt = lower($2) "
	"AND "
	"  o.kind = 'attachment-refused' AND o.created_at > dm_now() - interval '1 hour' "
	"  LIMIT $8::int) s), " TICKET_FACT_COLUMNS ", "
	/* A ticket number when the mail will open a ticket as the planner
	 * decides it for a mail that refers to no ticket: a named contact's, not
	 * automatic ($9), not a duplicate.  Only a hint, to save a round trip:
	 * the planner decides, and the desk reserves a number itself when this
	 * gave none (a client's reply to a ticket closed too long ago). */
	"CASE WHEN $9::boolean AND c.id IS NOT NULL AND tt.id IS NULL AND rt.id IS NULL AND "
	"  rp.id IS NULL AND NOT d.bytes AND d.id IS NULL THEN "
	"  nextval('ticket_id_seq'::regclass) END, "
	/* loops: automatic mail of every kind to the sender, the same words
	 * from the sender lately, the mail sent about the ticket lately */
	"(SELECT count(*) FROM (SELECT 1 FROM outbox o WHERE o.automatic AND o.rcpt = lower($2) "
	"AND "
	"  o.created_at > dm_now() - interval '1 hour' LIMIT $12::int) s), "
	"rp.id, rp.ticket_id, rp.client_id, "
	/* notices to anyone in the last hour, for desk.max_notices_per_hour */
	"(SELECT count(*) FROM (SELECT 1 FROM outbox o WHERE o.kind = 'quarantine-notice' AND "
	"  o.created_at > dm_now() - interval '1 hour' LIMIT $15::int) s), "
	"(SELECT count(*) FROM (SELECT 1 FROM outbox o WHERE o.kind = 'notify-unverified' AND "
	"  o.created_at > dm_now() - interval '1 hour' LIMIT $15::int) s), "
	"(SELECT string_agg(z.rcpt || chr(30) || z.n, chr(31)) FROM (SELECT o.rcpt, count(*) AS n "
	"  FROM outbox o WHERE o.ticket_id = t.id AND o.kind <> 'relay' AND o.created_at > "
	"dm_now() "
	"  - interval '1 hour' GROUP BY o.rcpt) z), "
	/* a bounce: the mail of ours it reports */
	"bo.id, bo.kind, bo.rcpt, bo.ticket_id, bo.author, bo.body, cl.calendar"
	" FROM (SELECT 1) x "
	"CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM inbound WHERE sha256 = $1) AS bytes, "
	"  (SELECT i.id FROM inbound i WHERE $3::text IS NOT NULL AND i.message_id = $3 AND "
	"  i.from_addr IS NOT DISTINCT FROM $2 AND (i.content_sha IS NULL OR i.content_sha = "
	"  $11) LIMIT 1) AS id) d "
	"LEFT JOIN contact c ON c.email = lower($2) AND c.removed_at IS NULL "
	"LEFT JOIN client cl ON cl.id = c.client_id "
	"LEFT JOIN ticket tt ON tt.id = $4::bigint "
	/* the newest message among the referenced ids, each found through
	 * the index (with ORDER BY .. LIMIT 1, or "= ANY($5)", a generic plan
	 * walks every message backwards instead) */
	"LEFT JOIN LATERAL (SELECT t.id, t.client_id FROM message mm JOIN ticket t ON t.id = "
	"  mm.ticket_id WHERE mm.id = (SELECT max(m2.id) FROM unnest($5::text[]) AS r(mid) "
	"  JOIN message m2 ON m2.message_id = r.mid)) rt ON true "
	"LEFT JOIN LATERAL (SELECT i.id, mm.ticket_id, tk.client_id FROM inbound i LEFT JOIN "
	"  message mm ON mm.inbound_id = i.id LEFT JOIN ticket tk ON tk.id = mm.ticket_id WHERE "
	"  $14::int > 0 AND $13::text IS NOT NULL AND i.from_addr = $2 AND i.repeat_key = $13 "
	"  AND i.id IS DISTINCT FROM $16::bigint AND i.outcome <> 'quarantine' "
	"  AND i.received_at > dm_now() - make_interval(mins => $14::int) ORDER BY i.id DESC "
	"  LIMIT 1) rp ON true "
	"LEFT JOIN LATERAL (SELECT o.id, o.kind, o.rcpt, o.ticket_id, a.staff_id AS author, "
	"  a.body FROM outbox o LEFT JOIN LATERAL (SELECT mm.staff_id, mm.body FROM message mm "
	"  WHERE mm.message_id = o.message_id AND mm.direction = 'out' AND mm.staff_id IS NOT "
	"  NULL LIMIT 1) a ON true WHERE $17::text IS NOT NULL AND o.message_id = $17 LIMIT 1) "
	"  bo ON true "
	"LEFT JOIN ticket t ON t.id = COALESCE(tt.id, rt.id, rp.ticket_id, "
	"bo.ticket_id)" TICKET_FACT_JOINS;

/* "rcpt RS n US rcpt RS n ..." -> the per-recipient counts */
static void read_ticket_sent(const char *v, MailFacts *f)
{
	if (v == NULL || *v == '\0')
		return;
	gchar **items = g_strsplit(v, "\x1f", 1000);
	guint n = g_strv_length(items);
	f->ticket_sent_rcpt = g_new0(char *, n);
	f->ticket_sent_n = g_new0(int, n);
	for (guint i = 0; i < n; i++) {
		char *rs = strchr(items[i], '\x1e');
		int64_t k = 0;
		if (rs == NULL || dm_parse_i64(rs + 1, 0, INT_MAX, &k) != 0)
			continue;
		f->ticket_sent_rcpt[f->n_ticket_sent] = g_strndup(items[i], rs - items[i]);
		f->ticket_sent_n[f->n_ticket_sent++] = (int)k;
	}
	g_strfreev(items);
}

int store_mail_facts(Db *db, const Mail *m, const char *sha256, const int caps[RATE_CAPS],
		     int repeat_window, int64_t redo_inbound_id, bool may_open, int n_out_ids,
		     MailFacts *f, DmError *err)
{
	g_assert(!db_pending(db)); /* the previous mail's outcome was read */
	memset(f, 0, sizeof *f);
	const char *ids[MAX_LOOKUP_REFS + 1] = {0};
	size_t n = 0;
	if (m && m->in_reply_to)
		ids[n++] = m->in_reply_to;
	/* newest references last in the header: look at the newest first */
	for (size_t i = m ? m->n_references : 0; i > 0 && n < MAX_LOOKUP_REFS; i--)
		ids[n++] = m->references[i - 1];
	g_autofree char *arr = pg_array(ids, n);
	char tb[24], c0[24], c1[24], c2[24], c3[24], c4[24], no[24], rw[24], rb[24];
	int64_t token = m ? route_subject_token(m->subject) : 0;
	const char *p[] = {sha256,
			   m && m->from ? m->from->addr : NULL,
			   m ? m->message_id : NULL,
			   i64n(tb, token),
			   arr,
			   i64s(c0, caps[RATE_ACK]),
			   i64s(c1, caps[RATE_NOTICE]),
			   i64s(c2, caps[RATE_REFUSED]),
			   may_open ? "t" : "f",
			   i64s(no, n_out_ids),
			   m && m->content_sha256[0] ? m->content_sha256 : NULL,
			   i64s(c3, caps[RATE_ANY]),
			   m && m->repeat_key[0] ? m->repeat_key : NULL,
			   i64s(rw, repeat_window),
			   i64s(c4, caps[RATE_NOTICE_ALL]),
			   i64n(rb, redo_inbound_id),
			   m && m->is_bounce ? m->bounce_message_id : NULL};
	DbRes *r = NULL;
	int rc = db_send(db, SAVEPOINT, 0, NULL, NULL, NULL, false, NULL, err);
	if (rc == 0)
		rc = db_send(db, facts_sql, 17, p, NULL, NULL, false, &r, err);
	if (rc == 0)
		rc = db_sync(db, err);
	if (rc == 0)
		rc = db_wait(db, NULL, err);
	if (rc == 0 && dbres_rows(r) != 1)
		rc = dm_error_set(err, DM_EINTERNAL, "database: the facts query gave no row");
	if (rc) {
		dbres_free(r);
		if (rc != DM_ETEMP)
			rollback_mail(db);
		return rc;
	}
	f->now = dbres_i64(r, 0, 0, 0);
	g_strlcpy(f->now_text, dbres_get(r, 0, 1) ? dbres_get(r, 0, 1) : "", sizeof f->now_text);
	f->inbound_id = dbres_i64(r, 0, 2, 0);
	gchar **msg_ids = g_strsplit(dbres_get(r, 0, 3) ? dbres_get(r, 0, 3) : "", ",", -1);
	guint n_ids = g_strv_length(msg_ids);
	f->out_ids = g_new0(int64_t, n_ids + 1);
	for (guint i = 0; i < n_ids; i++) {
		int64_t v = 0;
		dm_parse_i64(msg_ids[i], 1, INT64_MAX, &v);
		if (i == 0)
			f->message_id = v;
		else
			f->out_ids[f->n_out_ids++] = v;
	}
	g_strfreev(msg_ids);
	f->dup_bytes = dbres_bool(r, 0, 4);
	f->dup_inbound_id = dbres_i64(r, 0, 5, 0);
	f->contact_id = dbres_i64(r, 0, 6, 0);
	f->contact_name = dbres_dup(r, 0, 7);
	f->contact_client.id = dbres_i64(r, 0, 8, 0);
	f->contact_client.name = dbres_dup(r, 0, 9);
	f->contact_client.plan = dbres_dup(r, 0, 10);
	f->contact_client.account_manager_id = dbres_i64(r, 0, 11, 0);
	f->token_ticket_exists = dbres_get(r, 0, 12) != NULL;
	f->token_client_id = dbres_i64(r, 0, 13, 0);
	f->ref_ticket_id = dbres_i64(r, 0, 14, 0);
	f->ref_client_id = dbres_i64(r, 0, 15, 0);
	f->sent_last_hour[RATE_ACK] = (int)dbres_i64(r, 0, 16, 0);
	f->sent_last_hour[RATE_NOTICE] = (int)dbres_i64(r, 0, 17, 0);
	f->sent_last_hour[RATE_REFUSED] = (int)dbres_i64(r, 0, 18, 0);
	read_ticket_fact(r, 0, 19, &f->ticket);
	int c = 19 + TICKET_FACT_NCOLS;
	f->new_ticket_id = dbres_i64(r, 0, c, 0);
	f->sent_last_hour[RATE_ANY] = (int)dbres_i64(r, 0, c + 1, 0);
	f->repeat_inbound_id = dbres_i64(r, 0, c + 2, 0);
	f->repeat_ticket_id = dbres_i64(r, 0, c + 3, 0);
	f->repeat_client_id = dbres_i64(r, 0, c + 4, 0);
	f->notices_last_hour = (int)dbres_i64(r, 0, c + 5, 0);
	f->unverified_last_hour = (int)dbres_i64(r, 0, c + 6, 0);
	read_ticket_sent(dbres_get(r, 0, c + 7), f);
	f->bounce_outbox_id = dbres_i64(r, 0, c + 8, 0);
	f->bounce_kind = dbres_dup(r, 0, c + 9);
	f->bounce_rcpt = dbres_dup(r, 0, c + 10);
	f->bounce_ticket_id = dbres_i64(r, 0, c + 11, 0);
	f->bounce_author_id = dbres_i64(r, 0, c + 12, 0);
	f->bounce_body = dbres_dup(r, 0, c + 13);
	f->contact_client.calendar = dbres_dup(r, 0, c + 14);
	dbres_free(r);
	return 0;
}

int store_reserve_ticket(Db *db, int64_t *id_r, DmError *err)
{
	DbRes *r = NULL;
	int rc = db_exec(db, "SELECT nextval('ticket_id_seq'::regclass)", 0, NULL, &r, err);
	if (rc == 0)
		*id_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return rc;
}

/* ---- writing a plan ------------------------------------------------------------ */

static const char inbound_sql[] =
	"INSERT INTO inbound (id, sha256, message_id, from_addr, source, mailbox_id, uidvalidity, "
	"uid, size, raw, truncated, automatic, outcome, content_sha, repeat_key) OVERRIDING "
	"SYSTEM VALUE VALUES ($1::bigint, $2, $3, $4, $5, $6::bigint, $7::bigint, $8::bigint, "
	"$9::int, $10, $11::boolean, $12::boolean, $13, $14, $15)";

static const char ticket_sql[] =
	"INSERT INTO ticket (id, client_id, contact_id, subject, last_client_at, reopened_from, "
	"first_response_due, resolution_due, line_due, follow_up_due, sla_next_at, mailbox) "
	"OVERRIDING SYSTEM VALUE VALUES ($1::bigint, $2::bigint, $3::bigint, $4, dm_now(), "
	"$5::bigint, to_timestamp($6::bigint), to_timestamp($7::bigint), to_timestamp($8::bigint), "
	"to_timestamp($9::bigint), to_timestamp($10::bigint), $11)";

static const char message_sql[] =
	"INSERT INTO message (id, ticket_id, inbound_id, direction, author_kind, contact_id, "
	"staff_id, from_addr, from_name, to_addrs, cc_addrs, subject, message_id, in_reply_to, "
	"refs, body, body_full, body_html, automatic, internal) OVERRIDING SYSTEM VALUE VALUES "
	"($1::bigint, $2::bigint, $3::bigint, 'in', $4, $5::bigint, $6::bigint, $7, $8, "
	"$9::text[], $10::text[], $11, $12, $13, $14::text[], $15, $16, $17, $18::boolean, "
	"$19::boolean)";

static const char blob_sql[] = "INSERT INTO blob (sha256, size, data) VALUES ($1, $2::bigint, $3) "
			       "ON CONFLICT DO NOTHING";

static const char attachment_sql[] =
	"INSERT INTO attachment (message_id, blob_sha256, filename, content_type, content_id, "
	"is_inline, size, refused) VALUES ($1::bigint, $2, $3, $4, $5, $6::boolean, $7::bigint, "
	"$8)";

static const char update_sql[] =
	"UPDATE ticket SET updated_at = dm_now(), "
	"status = CASE WHEN $2::boolean THEN $3 ELSE status END, "
	"closed_at = CASE $4 WHEN 'now' THEN dm_now() WHEN 'clear' THEN NULL ELSE closed_at END, "
	"severity = CASE WHEN $5::boolean THEN $6 ELSE severity END, "
	"category = CASE WHEN $7::boolean THEN $8 ELSE category END, "
	"line = CASE WHEN $9::boolean THEN $10::smallint ELSE line END, "
	"line_since = CASE WHEN $11::boolean THEN COALESCE(to_timestamp($19::bigint), dm_now()) "
	"  ELSE line_since END, "
	"assignee_id = CASE WHEN $12::boolean THEN $13::bigint ELSE assignee_id END, "
	"chargeable = CASE WHEN $14::boolean THEN $15::boolean ELSE chargeable END, "
	"first_response_at = CASE WHEN $16::boolean THEN COALESCE(first_response_at, dm_now()) "
	"  ELSE first_response_at END, "
	"last_client_at = CASE WHEN $17::boolean THEN dm_now() ELSE last_client_at END, "
	"last_staff_at = CASE WHEN $18::boolean THEN dm_now() ELSE last_staff_at END, "
	/* the clocks are derived again (desk/sla.c) when what they read
	 * changed; otherwise the row keeps its indexed columns and the update
	 * stays HOT (a client's reply to an open ticket) */
	"sla_next_at = CASE WHEN $20::boolean THEN dm_now() ELSE sla_next_at END "
	"WHERE id = $1::bigint";

static const char quarantine_sql[] =
	"INSERT INTO quarantine (inbound_id, from_addr, from_name, subject, reason, automatic) "
	"SELECT q.i, q.a, q.n, q.s, q.r, q.au FROM unnest($1::bigint[], $2::text[], $3::text[], "
	"$4::text[], $5::text[], $6::boolean[]) WITH ORDINALITY AS q(i, a, n, s, r, au, k) ORDER "
	"BY q.k";

/* Events in order; staff_id is the actor's when the actor is staff. */
static const char events_sql[] =
	"INSERT INTO event (ticket_id, kind, actor, staff_id, field, before, after, detail) "
	"SELECT e.t, e.k, e.a, (SELECT s.id FROM staff s WHERE s.email = lower(e.a)), e.f, e.b, "
	"e.af, e.d FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], "
	"$6::text[], $7::text[]) WITH ORDINALITY AS e(t, k, a, f, b, af, d, n) ORDER BY e.n";

/* The plan's outgoing mail, all of it in one statement: an outbox row
 * each; when a mail is about a ticket, the conversation shows it as an
 * outgoing message with what it carried (the same blobs as the mail they
 * came from).  Queueing the same event twice does nothing.  Rows are
 * written in the plan's order. */
static const char outgoing_sql[] =
	"WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], "
	"  $5::boolean[], $6::text[], $7::text[], $8::bytea[], $9::text[], $10::bigint[], "
	"  $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::boolean[], "
	"  $23::bigint[], $24::bigint[]) WITH ORDINALITY AS x(key, kind, ticket, rcpt, "
	"  automatic, subject, msgid, raw, author, staff, from_name, irt, refs, body, html, "
	"  internal, row_id, nb, n)), "
	"o AS (INSERT INTO outbox (event_key, kind, ticket_id, mail_from, rcpt, automatic, "
	"  subject, message_id, raw, next_attempt_at) SELECT x.key, x.kind, x.ticket, $17, "
	"  lower(x.rcpt), x.automatic, x.subject, x.msgid, x.raw, GREATEST(dm_now(), "
	"  COALESCE(to_timestamp(x.nb), dm_now())) FROM x ORDER BY x.n ON CONFLICT (event_key) "
	"  DO NOTHING "
	"  RETURNING event_key), "
	"m AS (INSERT INTO message (id, ticket_id, direction, author_kind, staff_id, from_addr, "
	"  from_name, to_addrs, subject, message_id, in_reply_to, refs, body, body_full, "
	"  body_html, automatic, internal) OVERRIDING SYSTEM VALUE SELECT COALESCE(x.row_id, "
	"  nextval('message_id_seq'::regclass)), x.ticket, 'out', x.author, x.staff, "
	"  $17, "
	"  x.from_name, ARRAY[x.rcpt], x.subject, x.msgid, x.irt, x.refs::text[], x.body, x.body, "
	"  x.html, x.automatic, x.internal FROM x JOIN o ON o.event_key = x.key WHERE x.ticket "
	"  IS NOT NULL ORDER BY x.n RETURNING id, message_id) "
	"INSERT INTO attachment (message_id, blob_sha256, filename, content_type, size) "
	"SELECT m.id, a.sha, a.fn, a.ct, a.sz FROM unnest($18::int[], $19::text[], $20::text[], "
	"$21::text[], $22::bigint[]) WITH ORDINALITY AS a(mail, sha, fn, ct, sz, k) JOIN x ON x.n "
	"= a.mail JOIN m ON m.message_id = x.msgid WHERE EXISTS (SELECT 1 FROM blob b WHERE "
	"b.sha256 = a.sha) ORDER BY a.k";

static const char *const outcome_words[] = {"", "ticket", "reply", "quarantine", ""};

static int send_inbound(Db *db, const Plan *p, DmError *err)
{
	const Mail *m = p->mail;
	const MailSource *src = p->src;
	bool imap = src->mailbox_id != 0;
	char ib[24], mb[24], uv[24], uid[24], sz[24];
	const char *v[] = {i64s(ib, p->inbound_id),
			   p->sha256,
			   m ? m->message_id : NULL,
			   m && m->from ? m->from->addr : NULL,
			   imap ? "imap" : "pipe",
			   imap ? i64s(mb, src->mailbox_id) : NULL,
			   imap ? i64s(uv, src->uidvalidity) : NULL,
			   imap ? i64s(uid, src->uid) : NULL,
			   i64s(sz, (int64_t)p->raw_len),
			   (const char *)p->raw,
			   src->truncated ? "t" : "f",
			   p->inbound_automatic ? "t" : "f",
			   outcome_words[p->outcome],
			   m && m->content_sha256[0] ? m->content_sha256 : NULL,
			   m && m->repeat_key[0] ? m->repeat_key : NULL};
	int lens[15] = {0};
	int fmts[15] = {0};
	lens[9] = (int)p->raw_len;
	fmts[9] = 1;
	return db_send(db, inbound_sql, 15, v, lens, fmts, false, NULL, err);
}

static char *addr_array(const MailAddr *a, size_t n)
{
	const char **v = g_new(const char *, n + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].addr;
	char *s = pg_array(v, n);
	g_free(v);
	return s;
}

static int send_message(Db *db, const Plan *p, DmError *err)
{
	const Mail *m = p->mail;
	char mb[24], tb[24], ib[24], cb[24], sb[24];
	g_autofree char *to = addr_array(m->to, m->n_to);
	g_autofree char *cc = addr_array(m->cc, m->n_cc);
	g_autofree char *refs = pg_array((const char *const *)m->references, m->n_references);
	const char *v[] = {i64s(mb, p->message_id),
			   i64s(tb, p->ticket_id),
			   i64s(ib, p->inbound_id),
			   p->author_staff_id     ? "staff"
			   : p->author_contact_id ? "contact"
						  : "system",
			   i64n(cb, p->author_contact_id),
			   i64n(sb, p->author_staff_id),
			   m->from->addr,
			   m->from->name,
			   to,
			   cc,
			   m->subject,
			   m->message_id,
			   m->in_reply_to,
			   refs,
			   p->message_body,
			   m->text,
			   m->html,
			   m->is_automatic ? "t" : "f",
			   p->message_internal ? "t" : "f"};
	int rc = db_send(db, message_sql, 19, v, NULL, NULL, false, NULL, err);
	for (size_t i = 0; rc == 0 && i < m->n_attachments; i++) {
		const MailAttachment *a = &m->attachments[i];
		const char *refused = p->refused ? p->refused[i] : NULL;
		char sz[24];
		i64s(sz, (int64_t)a->size);
		if (refused == NULL) {
			const char *bv[] = {a->sha256, sz, (const char *)a->data};
			int lens[] = {0, 0, (int)a->size};
			int fmts[] = {0, 0, 1};
			rc = db_send(db, blob_sql, 3, bv, lens, fmts, false, NULL, err);
		}
		const char *av[] = {mb,
				    refused ? NULL : a->sha256,
				    a->filename,
				    a->content_type,
				    a->content_id,
				    a->is_inline ? "t" : "f",
				    sz,
				    refused};
		if (rc == 0)
			rc = db_send(db, attachment_sql, 8, av, NULL, NULL, false, NULL, err);
	}
	return rc;
}

static int send_update(Db *db, const Plan *p, DmError *err)
{
	const PlanTicketUpdate *u = &p->update;
	static const char *const closed_words[] = {"keep", "now", "clear"};
	char tb[24], lb[24], ab[24], sb[24];
	const char *v[] = {i64s(tb, p->ticket_id),
			   u->status ? "t" : "f",
			   u->new_status,
			   closed_words[u->closed],
			   u->severity ? "t" : "f",
			   u->new_severity,
			   u->category ? "t" : "f",
			   u->new_category,
			   u->line ? "t" : "f",
			   i64s(lb, u->new_line),
			   u->line_since ? "t" : "f",
			   u->assignee ? "t" : "f",
			   i64n(ab, u->new_assignee),
			   u->chargeable ? "t" : "f",
			   u->new_chargeable ? "t" : "f",
			   u->first_response ? "t" : "f",
			   u->last_client ? "t" : "f",
			   u->last_staff ? "t" : "f",
			   i64n(sb, u->line_since_at),
			   u->status || u->severity || u->line || u->response ||
					   u->closed != CLOSED_KEEP || p->time_minutes > 0
				   ? "t"
				   : "f"};
	return db_send(db, update_sql, 20, v, NULL, NULL, false, NULL, err);
}

/* ---- rows written for many plans at once ---------------------------------------- */

static void finish_params(BinArray *cols, int n, const char **v, int *lens, int *fmts, char **bufs)
{
	for (int c = 0; c < n; c++) {
		bufs[c] = bin_array_finish(&cols[c], &lens[c]);
		v[c] = bufs[c];
		fmts[c] = 1;
	}
}

/* The events of the plans, in order. */
static int send_events(Db *db, const Plan *const *plans, size_t n_plans, DmError *err)
{
	enum { TICKET, KIND, ACTOR, FIELD, BEFORE, AFTER, DETAIL, NCOLS };
	static const unsigned oids[NCOLS] = {OID_INT8, OID_TEXT, OID_TEXT, OID_TEXT,
					     OID_TEXT, OID_TEXT, OID_TEXT};
	BinArray col[NCOLS];
	for (int c = 0; c < NCOLS; c++)
		bin_array_init(&col[c], oids[c]);
	int n = 0;
	for (size_t k = 0; k < n_plans; k++)
		for (guint i = 0; i < plans[k]->events->len; i++, n++) {
			const PlanEvent *e = &g_array_index(plans[k]->events, PlanEvent, i);
			bin_array_i64(&col[TICKET], e->ticket_id, true);
			bin_array_text(&col[KIND], e->kind);
			bin_array_text(&col[ACTOR], e->actor);
			bin_array_text(&col[FIELD], e->field);
			bin_array_text(&col[BEFORE], e->before);
			bin_array_text(&col[AFTER], e->after);
			bin_array_text(&col[DETAIL], e->detail);
		}
	const char *v[NCOLS];
	int lens[NCOLS], fmts[NCOLS];
	char *bufs[NCOLS];
	finish_params(col, NCOLS, v, lens, fmts, bufs);
	int rc = n ? db_send(db, events_sql, NCOLS, v, lens, fmts, false, NULL, err) : 0;
	for (int c = 0; c < NCOLS; c++)
		g_free(bufs[c]);
	return rc;
}

/* The quarantine rows of the plans, in order. */
static int send_quarantine(Db *db, const Plan *const *plans, size_t n_plans, DmError *err)
{
	enum { INBOUND, ADDR, NAME, SUBJECT, REASON, AUTO, NCOLS };
	static const unsigned oids[NCOLS] = {OID_INT8, OID_TEXT, OID_TEXT,
					     OID_TEXT, OID_TEXT, OID_BOOL};
	BinArray col[NCOLS];
	for (int c = 0; c < NCOLS; c++)
		bin_array_init(&col[c], oids[c]);
	int n = 0;
	for (size_t k = 0; k < n_plans; k++) {
		const Plan *p = plans[k];
		if (!p->quarantine)
			continue;
		const Mail *m = p->mail;
		bin_array_i64(&col[INBOUND], p->inbound_id, false);
		bin_array_text(&col[ADDR], m && m->from ? m->from->addr : NULL);
		bin_array_text(&col[NAME], m && m->from ? m->from->name : NULL);
		bin_array_text(&col[SUBJECT], m ? m->subject : "");
		bin_array_text(&col[REASON], p->quarantine_reason);
		bin_array_bool(&col[AUTO], p->quarantine_automatic);
		n++;
	}
	const char *v[NCOLS];
	int lens[NCOLS], fmts[NCOLS];
	char *bufs[NCOLS];
	finish_params(col, NCOLS, v, lens, fmts, bufs);
	int rc = n ? db_send(db, quarantine_sql, NCOLS, v, lens, fmts, false, NULL, err) : 0;
	for (int c = 0; c < NCOLS; c++)
		g_free(bufs[c]);
	return rc;
}

/* The columns of outgoing_sql, gathered for one statement. */
enum {
	KEY,
	KIND,
	TICKET,
	RCPT,
	AUTO,
	SUBJECT,
	MSGID,
	RAW,
	AUTHOR,
	STAFF,
	FROM_NAME,
	IRT,
	REFS,
	BODY,
	HTML,
	INTERNAL,
	NCOLS
};
enum { A_MAIL, A_SHA, A_FN, A_CT, A_SIZE, ACOLS };
/* a statement is sent once it holds this many bytes of mail, so that no
 * parameter, and no copy of it in libpq's buffer, grows with the batch */
#define MAIL_CHUNK_BYTES (4 * 1024 * 1024)

typedef struct {
	BinArray col[NCOLS], acol[ACOLS], row_ids, not_before;
	int n;
	size_t bytes;
} MailChunk;

static void chunk_init(MailChunk *c)
{
	static const unsigned oids[NCOLS] = {
		OID_TEXT, OID_TEXT, OID_INT8, OID_TEXT, OID_BOOL, OID_TEXT, OID_TEXT, OID_BYTEA,
		OID_TEXT, OID_INT8, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_BOOL};
	static const unsigned aoids[ACOLS] = {OID_INT4, OID_TEXT, OID_TEXT, OID_TEXT, OID_INT8};
	for (int i = 0; i < NCOLS; i++)
		bin_array_init(&c->col[i], oids[i]);
	for (int i = 0; i < ACOLS; i++)
		bin_array_init(&c->acol[i], aoids[i]);
	bin_array_init(&c->row_ids, OID_INT8);
	bin_array_init(&c->not_before, OID_INT8);
	c->n = 0;
	c->bytes = 0;
}

static void chunk_add(MailChunk *c, const PlanMail *pm, int64_t row_id)
{
	g_assert(pm->wire != NULL); /* the desk renders before it applies */
	g_autofree char *rcpt = g_ascii_strdown(pm->to_addr, -1);
	g_autofree char *refs = pg_array(pm->refs, pm->n_refs);
	BinArray *col = c->col;
	bin_array_text(&col[KEY], pm->event_key);
	bin_array_text(&col[KIND], pm->kind);
	bin_array_i64(&col[TICKET], pm->ticket_id, true);
	bin_array_text(&col[RCPT], rcpt);
	bin_array_bool(&col[AUTO], pm->automatic);
	bin_array_text(&col[SUBJECT], pm->subject);
	bin_array_text(&col[MSGID], pm->message_id);
	bin_array_add(&col[RAW], pm->wire, (int)pm->wire_len);
	bin_array_text(&col[AUTHOR], pm->staff_id ? "staff" : "system");
	bin_array_i64(&col[STAFF], pm->staff_id, true);
	bin_array_text(&col[FROM_NAME], pm->from_display);
	bin_array_text(&col[IRT], pm->in_reply_to);
	bin_array_text(&col[REFS], refs);
	bin_array_text(&col[BODY], pm->text);
	bin_array_text(&col[HTML], pm->html);
	bin_array_bool(&col[INTERNAL], pm->internal);
	bin_array_i64(&c->row_ids, row_id, true);
	bin_array_i64(&c->not_before, pm->not_before, true);
	c->n++;
	c->bytes += pm->wire_len + strlen(pm->text) + (pm->html ? strlen(pm->html) : 0);
	for (size_t a = 0; a < pm->n_attachments; a++) {
		const MailAttachment *at = pm->attachments[a];
		bin_array_i32(&c->acol[A_MAIL], c->n);
		bin_array_text(&c->acol[A_SHA], at->sha256);
		bin_array_text(&c->acol[A_FN], at->filename);
		bin_array_text(&c->acol[A_CT],
			       at->content_type ? at->content_type : "application/octet-stream");
		bin_array_i64(&c->acol[A_SIZE], (int64_t)at->size, false);
	}
}

/* Send the chunk's statement (if it has mail) and start it anew. */
static int chunk_flush(Db *db, MailChunk *c, const char *desk_address, DmError *err)
{
	enum { TOTAL = NCOLS + 1 + ACOLS + 2 };
	const char *v[TOTAL];
	int lens[TOTAL], fmts[TOTAL];
	char *bufs[TOTAL];
	int n = c->n;
	finish_params(c->col, NCOLS, v, lens, fmts, bufs);
	bufs[NCOLS] = NULL;
	v[NCOLS] = desk_address;
	lens[NCOLS] = 0;
	fmts[NCOLS] = 0;
	finish_params(c->acol, ACOLS, v + NCOLS + 1, lens + NCOLS + 1, fmts + NCOLS + 1,
		      bufs + NCOLS + 1);
	finish_params(&c->row_ids, 1, v + TOTAL - 2, lens + TOTAL - 2, fmts + TOTAL - 2,
		      bufs + TOTAL - 2);
	finish_params(&c->not_before, 1, v + TOTAL - 1, lens + TOTAL - 1, fmts + TOTAL - 1,
		      bufs + TOTAL - 1);
	int rc = n ? db_send(db, outgoing_sql, TOTAL, v, lens, fmts, false, NULL, err) : 0;
	for (int i = 0; i < TOTAL; i++)
		g_free(bufs[i]);
	chunk_init(c);
	return rc;
}

/* The outgoing mail of the plans, in order.  A mail about a ticket gets the
 * next message id its plan reserved, so the conversation shows it right
 * after the mail that caused it. */
static int send_mails(Db *db, const Plan *const *plans, size_t n_plans, DmError *err)
{
	MailChunk c;
	chunk_init(&c);
	int rc = 0;
	/* the envelope sender of the chunk: plans of several brands (several
	 * mailboxes) are sent in chunks of one sender each */
	const char *from = n_plans ? plans[0]->desk_address : NULL;
	for (size_t k = 0; k < n_plans && rc == 0; k++) {
		const Plan *p = plans[k];
		size_t next_id = 0;
		if (c.n && p->mails->len && g_strcmp0(from, p->desk_address) != 0)
			rc = chunk_flush(db, &c, from, err);
		if (p->mails->len)
			from = p->desk_address;
		for (guint i = 0; i < p->mails->len && rc == 0; i++) {
			const PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
			/* 0: the sequence gives one (more mail than ids reserved) */
			int64_t id =
				pm->ticket_id && next_id < p->n_out_ids ? p->out_ids[next_id++] : 0;
			chunk_add(&c, pm, id);
			if (c.bytes >= MAIL_CHUNK_BYTES)
				rc = chunk_flush(db, &c, from, err);
		}
	}
	if (rc == 0 && c.n)
		rc = chunk_flush(db, &c, from, err);
	/* what is left unsent: an empty (or, after an error, an unsent) chunk */
	for (int i = 0; i < NCOLS; i++)
		g_byte_array_free(c.col[i].buf, TRUE);
	for (int i = 0; i < ACOLS; i++)
		g_byte_array_free(c.acol[i].buf, TRUE);
	g_byte_array_free(c.row_ids.buf, TRUE);
	g_byte_array_free(c.not_before.buf, TRUE);
	return rc;
}

/* The rows of a plan that later mails of the batch read back (their facts):
 * inbound, ticket, the incoming message and the ticket's changes, queued in
 * an order the foreign keys accept. */
/* A quarantined mail run through again is its inbound row already: only
 * what came of it changes. */
static int send_inbound_again(Db *db, const Plan *p, DmError *err)
{
	char ib[24];
	const char *v[] = {i64s(ib, p->inbound_id), outcome_words[p->outcome],
			   p->inbound_automatic ? "t" : "f"};
	return db_send(db,
		       "UPDATE inbound SET outcome = $2, automatic = $3::boolean WHERE id = "
		       "$1::bigint",
		       3, v, NULL, NULL, false, NULL, err);
}

/* The quarantine row staff decided on (accept, retry). */
static int send_decision(Db *db, const Plan *p, DmError *err)
{
	char qb[24], ib[24];
	/* a set-aside mail stored now: the row holds its bytes from here on */
	bool stored = !p->src->redo_inbound_id && p->outcome != PLAN_DUPLICATE;
	const char *v[] = {i64s(qb, p->decided_quarantine_id),
			   p->decided_status,
			   p->decided_by,
			   p->decision,
			   p->decided_reason,
			   stored ? i64s(ib, p->inbound_id) : NULL};
	return db_send(
		db,
		"UPDATE quarantine SET status = $2, decided_by_name = $3, decided_by = "
		"(SELECT s.id FROM staff s WHERE s.email = lower($3)), decided_at = dm_now(), "
		"decision = $4, reason = COALESCE($5, reason), inbound_id = "
		"COALESCE(inbound_id, $6::bigint) WHERE id = $1::bigint AND status IN "
		"('held', 'set-aside')",
		6, v, NULL, NULL, false, NULL, err);
}

static int send_own_rows(Db *db, const Plan *p, DmError *err)
{
	int rc = 0;
	if (p->src && p->src->redo_inbound_id) {
		if (p->outcome != PLAN_DUPLICATE && p->outcome != PLAN_QUARANTINE)
			rc = send_inbound_again(db, p, err);
	} else if (rc == 0 && p->outcome != PLAN_DUPLICATE && p->outcome != PLAN_NONE) {
		rc = send_inbound(db, p, err);
	}
	if (rc == 0 && p->new_ticket) {
		char tb[24], cb[24], kb[24], rb[24], db0[24], db1[24], db2[24], db3[24], nb[24];
		const char *v[] = {i64s(tb, p->ticket_id),
				   i64s(cb, p->new_client_id),
				   i64n(kb, p->new_contact_id),
				   p->new_subject,
				   i64n(rb, p->reopened_from),
				   i64n(db0, p->new_due[SLA_FIRST_RESPONSE]),
				   i64n(db1, p->new_due[SLA_RESOLUTION]),
				   i64n(db2, p->new_due[SLA_LINE]),
				   i64n(db3, p->new_due[SLA_FOLLOW_UP]),
				   i64n(nb, p->new_sla_next),
				   p->src ? p->src->brand : NULL};
		rc = db_send(db, ticket_sql, 11, v, NULL, NULL, false, NULL, err);
	}
	if (rc == 0 && p->message)
		rc = send_message(db, p, err);
	if (rc == 0 && p->update.any)
		rc = send_update(db, p, err);
	if (rc == 0 && p->time_minutes > 0) {
		char tb[24], sb[24], mb[24];
		const char *v[] = {i64s(tb, p->ticket_id), i64n(sb, p->author_staff_id),
				   i64s(mb, MIN(p->time_minutes, 100000))};
		rc = db_send(
			db,
			"INSERT INTO time_entry (ticket_id, client_id, staff_id, minutes) "
			"SELECT t.id, t.client_id, $2::bigint, $3::int FROM ticket t WHERE t.id "
			"= $1::bigint",
			3, v, NULL, NULL, false, NULL, err);
	}
	if (rc == 0 && p->decided_quarantine_id)
		rc = send_decision(db, p, err);
	if (rc == 0 && p->bounce_outbox_id) {
		char ob[24];
		const char *v[] = {i64s(ob, p->bounce_outbox_id), p->bounce_error};
		rc = db_send(
			db,
			"UPDATE outbox SET status = 'bounced', last_error = $2, locked_until = "
			"NULL, claim = NULL WHERE id = $1::bigint",
			2, v, NULL, NULL, false, NULL, err);
	}
	return rc;
}

/* The rows nothing reads back before the commit: quarantine, events and
 * outgoing mail, of many plans at once. */
static int send_tail_rows(Db *db, const Plan *const *plans, size_t n, DmError *err)
{
	int rc = n ? send_quarantine(db, plans, n, err) : 0;
	if (rc == 0 && n)
		rc = send_events(db, plans, n, err);
	if (rc == 0 && n)
		rc = send_mails(db, plans, n, err);
	return rc;
}

int store_apply_plan(Db *db, const Plan *p, bool defer, DmError *err)
{
	int rc = send_own_rows(db, p, err);
	if (rc == 0 && !defer)
		rc = send_tail_rows(db, &p, 1, err);
	if (rc == 0)
		rc = db_send(db, RELEASE, 0, NULL, NULL, NULL, false, NULL, err);
	if (rc == 0)
		rc = db_sync(db, err);
	return rc;
}

int store_apply_wait(Db *db, bool *duplicate_r, DmError *err)
{
	char constraint[64];
	if (duplicate_r)
		*duplicate_r = false;
	if (!db_pending(db))
		return 0;
	int rc = db_wait(db, constraint, err);
	if (rc == 0 || rc == DM_ETEMP)
		return rc;
	/* another process stored the same mail first */
	if (duplicate_r && (strcmp(constraint, "inbound_sha256_key") == 0 ||
			    strcmp(constraint, "inbound_sender_content_key") == 0))
		*duplicate_r = true;
	rollback_mail(db);
	return rc;
}

int store_apply_plan_with(Db *db, const Plan *p, StoreMoreRows more, const void *ctx, DmError *err)
{
	bool pipe = db_in_pipeline(db);
	if (!pipe)
		db_pipeline_enter(db);
	int rc = send_own_rows(db, p, err);
	if (rc == 0)
		rc = send_tail_rows(db, &p, 1, err);
	if (rc == 0 && more)
		rc = more(db, ctx, err);
	if (rc == 0)
		rc = db_sync(db, err);
	int wrc = db_wait(db, NULL, err);
	if (rc == 0)
		rc = wrc;
	if (!pipe)
		db_pipeline_leave(db);
	return rc;
}

int store_apply_plan_now(Db *db, const Plan *p, DmError *err)
{
	return store_apply_plan_with(db, p, NULL, NULL, err);
}

/* The batch's UIDs are done and the checkpoint moves past them, in one
 * statement (a row updated once per mail would grow a chain of versions
 * that every later update of the batch walks). */
static int send_seen(Db *db, int64_t mailbox_id, uint32_t uidvalidity, const SeenUid *seen,
		     size_t n_seen, DmError *err)
{
	BinArray uids, ids, marked;
	bin_array_init(&uids, OID_INT8);
	bin_array_init(&ids, OID_INT8);
	bin_array_init(&marked, OID_BOOL);
	uint32_t last = 0;
	for (size_t i = 0; i < n_seen; i++) {
		bin_array_i64(&uids, seen[i].uid, false);
		bin_array_i64(&ids, seen[i].inbound_id, true);
		bin_array_bool(&marked, seen[i].set_aside);
		last = MAX(last, seen[i].uid);
	}
	char mb[24], uv[24], lu[24];
	const char *v[6] = {
		i64s(mb, mailbox_id), i64s(uv, uidvalidity), NULL, NULL, i64s(lu, last), NULL};
	int lens[6] = {0}, fmts[6] = {0, 0, 1, 1, 0, 1};
	char *bu = bin_array_finish(&uids, &lens[2]), *bi = bin_array_finish(&ids, &lens[3]);
	char *bm = bin_array_finish(&marked, &lens[5]);
	v[2] = bu;
	v[3] = bi;
	v[5] = bm;
	int rc = db_send(db,
			 "WITH s AS (INSERT INTO mailbox_seen (mailbox_id, uidvalidity, uid, "
			 "inbound_id, marked) SELECT $1::bigint, $2::bigint, x.u, x.i, x.m FROM "
			 "unnest($3::bigint[], $4::bigint[], $6::boolean[]) AS x(u, i, m) ON "
			 "CONFLICT DO NOTHING) "
			 "UPDATE mailbox SET last_uid = GREATEST(last_uid, $5::bigint), updated_at "
			 "= dm_now() WHERE id = $1::bigint AND uidvalidity = $2::bigint",
			 6, v, lens, fmts, false, NULL, err);
	g_free(bu);
	g_free(bi);
	g_free(bm);
	return rc;
}

int store_set_aside(Db *db, int64_t mailbox_id, uint32_t uidvalidity, uint32_t uid, size_t size,
		    const char *reason, int64_t *id_r, DmError *err)
{
	char mb[24], uv[24], ub[24], sz[24];
	g_autofree char *why = g_strdup_printf("set aside (%s bytes, left on the server): %s",
					       i64s(sz, (int64_t)size), reason ? reason : "");
	const char *v[] = {i64s(mb, mailbox_id), i64s(uv, uidvalidity), i64s(ub, uid), why};
	DbRes *r = NULL;
	int rc = db_send(db, SAVEPOINT, 0, NULL, NULL, NULL, false, NULL, err);
	if (rc == 0)
		rc = db_send(
			db,
			"INSERT INTO quarantine (mailbox_id, uidvalidity, uid, reason, status) "
			"VALUES ($1::bigint, $2::bigint, $3::bigint, $4, 'set-aside') "
			"RETURNING id",
			4, v, NULL, NULL, false, &r, err);
	if (rc == 0)
		rc = db_send(db, RELEASE, 0, NULL, NULL, NULL, false, NULL, err);
	if (rc == 0)
		rc = db_sync(db, err);
	if (rc == 0)
		rc = db_wait(db, NULL, err);
	if (rc == 0 && dbres_rows(r) == 1)
		*id_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	if (rc && rc != DM_ETEMP)
		rollback_mail(db);
	return rc;
}

int store_batch_commit(Db *db, const Plan *const *deferred, size_t n_deferred, int64_t mailbox_id,
		       uint32_t uidvalidity, const SeenUid *seen, size_t n_seen, DmError *err)
{
	if (!db_in_pipeline(db)) {
		/* the connection was lost (and the batch's transaction with it) */
		db_pipeline_leave(db);
		return dm_error_set(err, DM_ETEMP, "database: the connection was lost");
	}
	g_assert(!db_pending(db));
	int rc = send_tail_rows(db, deferred, n_deferred, err);
	if (rc == 0 && mailbox_id && n_seen)
		rc = send_seen(db, mailbox_id, uidvalidity, seen, n_seen, err);
	if (rc == 0)
		rc = db_send_simple(db, "COMMIT", err);
	if (rc == 0)
		rc = db_sync(db, err);
	int wrc = db_wait(db, NULL, err);
	if (rc == 0)
		rc = wrc;
	if (rc)
		db_rollback(db);
	db_pipeline_leave(db);
	return rc;
}
