/* ingest.c - one incoming mail, start to commit.
 *
 * The mail is parsed outside the transaction; then, in one transaction: the
 * duplicate check (same bytes, or same Message-ID from the same sender),
 * the facts for routing in a single query, the decision (route.c), and
 * every effect: inbound row with the raw bytes, ticket or message,
 * attachments, audit event, outbox rows and the IMAP checkpoint.  Nothing
 * is written if anything fails, and the same mail seen again only advances
 * the checkpoint.  A mail that cannot be parsed, or that went over a cap, is
 * quarantined with its reason rather than dropped.
 *
 * A client's reply is stored with its clean text (quoted history and
 * signature removed; the whole text kept in body_full), moves an awaiting-*
 * or recently closed ticket back to open, and is told to the ticket's
 * assignee (or its line's staff).  Staff mail is handled in conversation.c. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/clean.h"
#include "deskmail/log.h"
#include "deskmail/route.h"
#include "deskmail/util.h"

#define MAX_LOOKUP_REFS 50

const char *ingest_outcome_name(IngestOutcome o)
{
	switch (o) {
	case INGEST_TICKET:
		return "new ticket";
	case INGEST_REPLY:
		return "reply";
	case INGEST_QUARANTINE:
		return "quarantined";
	case INGEST_DUPLICATE:
		return "duplicate";
	}
	return "?";
}

/* What we learned about the sender and the referenced ticket. */
typedef struct {
	int64_t staff_id, contact_id, contact_client_id;
	int64_t token_client_id; /* 0 if the token's ticket does not exist */
	int64_t ref_ticket_id, ref_client_id;
	int64_t dup_inbound_id;
	bool closed_expired; /* the referenced ticket is closed beyond reopening */
	char staff_email[256], staff_name[256], staff_role[32];
} Facts;

static int lookup_facts(Desk *desk, const Mail *m, int64_t token, Facts *f, DmError *err)
{
	const char *ids[MAX_LOOKUP_REFS + 1];
	size_t n = 0;
	if (m->in_reply_to)
		ids[n++] = m->in_reply_to;
	/* newest references last in the header: look at the newest first */
	for (size_t i = m->n_references; i > 0 && n < MAX_LOOKUP_REFS; i--)
		ids[n++] = m->references[i - 1];
	g_autofree char *arr = pg_text_array(ids, n);
	char tb[24];
	char days[24];
	const char *p[] = {m->from ? m->from->addr : NULL, token ? i64s(tb, token) : NULL, arr,
			   m->message_id, i64s(days, desk->cfg->desk_reopen_days)};
	DbRes *r = NULL;
	int rc = db_exec(
		desk->db,
		"SELECT s.id, c.id, c.client_id, tt.client_id, rt.id, rt.client_id, dup.id, "
		"COALESCE(ct.status = 'closed' AND ct.closed_at < now() - make_interval(days => "
		"$5::int), false), s.email, s.name, s.role "
		"FROM (SELECT 1) x "
		"LEFT JOIN staff s ON s.email = $1 AND s.active "
		"LEFT JOIN contact c ON c.email = $1 AND c.removed_at IS NULL "
		"LEFT JOIN ticket tt ON tt.id = $2::bigint "
		"LEFT JOIN LATERAL (SELECT t.id, t.client_id FROM message mm "
		"  JOIN ticket t ON t.id = mm.ticket_id WHERE mm.message_id = ANY ($3::text[]) "
		"  ORDER BY mm.id DESC LIMIT 1) rt ON true "
		"LEFT JOIN LATERAL (SELECT i.id FROM inbound i WHERE $4::text IS NOT NULL "
		"  AND i.message_id = $4 AND i.from_addr IS NOT DISTINCT FROM $1 LIMIT 1) dup ON "
		"true "
		"LEFT JOIN ticket ct ON ct.id = COALESCE(tt.id, rt.id)",
		5, p, &r, err);
	if (rc)
		return rc;
	f->staff_id = dbres_i64(r, 0, 0, 0);
	f->contact_id = dbres_i64(r, 0, 1, 0);
	f->contact_client_id = dbres_i64(r, 0, 2, 0);
	f->token_client_id = dbres_i64(r, 0, 3, 0);
	f->ref_ticket_id = dbres_i64(r, 0, 4, 0);
	f->ref_client_id = dbres_i64(r, 0, 5, 0);
	f->dup_inbound_id = dbres_i64(r, 0, 6, 0);
	f->closed_expired = dbres_bool(r, 0, 7);
	if (f->staff_id) {
		g_strlcpy(f->staff_email, dbres_get(r, 0, 8), sizeof f->staff_email);
		g_strlcpy(f->staff_name, dbres_get(r, 0, 9), sizeof f->staff_name);
		g_strlcpy(f->staff_role, dbres_get(r, 0, 10), sizeof f->staff_role);
	}
	dbres_free(r);
	return 0;
}

static int checkpoint(Desk *desk, const IngestSource *src, int64_t inbound_id, DmError *err)
{
	if (src->mailbox_id == 0)
		return 0;
	char mb[24], uv[24], uid[24], ib[24];
	const char *p[] = {i64s(mb, src->mailbox_id), i64s(uv, src->uidvalidity),
			   i64s(uid, src->uid), inbound_id ? i64s(ib, inbound_id) : NULL};
	return db_exec(
		desk->db,
		"WITH s AS (INSERT INTO mailbox_seen (mailbox_id, uidvalidity, uid, inbound_id) "
		"VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint) ON CONFLICT DO NOTHING) "
		"UPDATE mailbox SET last_uid = GREATEST(last_uid, $3::bigint), updated_at = now() "
		"WHERE id = $1::bigint AND uidvalidity = $2::bigint",
		4, p, NULL, err);
}

/* Insert the inbound row; *id_r = 0 when these bytes were stored before. */
static int insert_inbound(Desk *desk, const unsigned char *raw, size_t len, const char *sha,
			  const Mail *m, const IngestSource *src, const char *outcome,
			  int64_t *id_r, DmError *err)
{
	char mb[24], uv[24], uid[24], sz[24];
	bool imap = src->mailbox_id != 0;
	const char *p[] = {sha,
			   m ? m->message_id : NULL,
			   m && m->from ? m->from->addr : NULL,
			   imap ? "imap" : "pipe",
			   imap ? i64s(mb, src->mailbox_id) : NULL,
			   imap ? i64s(uv, src->uidvalidity) : NULL,
			   imap ? i64s(uid, src->uid) : NULL,
			   i64s(sz, (int64_t)len),
			   (const char *)raw,
			   src->truncated ? "t" : "f",
			   m && m->is_automatic ? "t" : "f",
			   outcome};
	int lens[12] = {0};
	int fmts[12] = {0};
	lens[8] = (int)len;
	fmts[8] = 1;
	DbRes *r = NULL;
	int rc = db_exec_bin(
		desk->db,
		"INSERT INTO inbound (sha256, message_id, from_addr, source, mailbox_id, "
		"uidvalidity, uid, size, raw, truncated, automatic, outcome) VALUES ($1, $2, "
		"$3, $4, $5::bigint, $6::bigint, $7::bigint, $8::int, $9, $10::boolean, "
		"$11::boolean, $12) ON CONFLICT (sha256) DO NOTHING RETURNING id",
		12, p, lens, fmts, &r, err);
	if (rc)
		return rc;
	*id_r = dbres_rows(r) ? dbres_i64(r, 0, 0, 0) : 0;
	dbres_free(r);
	return 0;
}

static char *addr_array(const MailAddr *a, size_t n)
{
	const char **v = g_new(const char *, n + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].addr;
	char *s = pg_text_array(v, n);
	g_free(v);
	return s;
}

const char *attachment_refusal(const Config *cfg, size_t size, int64_t *total, char why[160])
{
	if ((int64_t)size > cfg->desk_attachment_max_bytes) {
		snprintf(why, 160, "attachment of %zu bytes is over the limit of %lld", size,
			 (long long)cfg->desk_attachment_max_bytes);
		return why;
	}
	if (*total + (int64_t)size > cfg->desk_message_attachments_max_bytes) {
		snprintf(why, 160, "attachments of this message are over the limit of %lld bytes",
			 (long long)cfg->desk_message_attachments_max_bytes);
		return why;
	}
	*total += (int64_t)size;
	return NULL;
}

static int store_attachments(Desk *desk, const Mail *m, int64_t message_row, GString *refused_list,
			     DmError *err)
{
	int64_t total = 0;
	char mr[24];
	i64s(mr, message_row);
	for (size_t i = 0; i < m->n_attachments; i++) {
		const MailAttachment *a = &m->attachments[i];
		char sz[24], why[160];
		i64s(sz, (int64_t)a->size);
		const char *refused = attachment_refusal(desk->cfg, a->size, &total, why);
		int rc;
		if (refused && refused_list)
			g_string_append_printf(refused_list, "  %s (%zu bytes): %s\n", a->filename,
					       a->size, refused);
		if (!refused) {
			const char *bp[] = {a->sha256, sz, (const char *)a->data};
			int lens[] = {0, 0, (int)a->size};
			int fmts[] = {0, 0, 1};
			rc = db_exec_bin(
				desk->db,
				"INSERT INTO blob (sha256, size, data) VALUES ($1, $2::bigint, $3) "
				"ON CONFLICT DO NOTHING",
				3, bp, lens, fmts, NULL, err);
			if (rc)
				return rc;
		}
		const char *p[] = {mr,
				   refused ? NULL : a->sha256,
				   a->filename,
				   a->content_type,
				   a->content_id,
				   a->is_inline ? "t" : "f",
				   sz,
				   refused};
		rc = db_exec(
			desk->db,
			"INSERT INTO attachment (message_id, blob_sha256, filename, content_type, "
			"content_id, is_inline, size, refused) VALUES ($1::bigint, $2, $3, $4, $5, "
			"$6::boolean, $7::bigint, $8)",
			8, p, NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

int insert_message(Desk *desk, const Mail *m, int64_t ticket_id, int64_t inbound_id,
		   int64_t contact_id, int64_t staff_id, bool internal, const char *body,
		   int64_t *id_r, GString *refused, DmError *err)
{
	char tb[24], ib[24], cb[24], sb[24];
	g_autofree char *to = addr_array(m->to, m->n_to);
	g_autofree char *cc = addr_array(m->cc, m->n_cc);
	g_autofree char *refs = pg_text_array((const char *const *)m->references, m->n_references);
	const char *p[] = {i64s(tb, ticket_id),
			   i64s(ib, inbound_id),
			   staff_id ? "staff" : "contact",
			   !staff_id && contact_id ? i64s(cb, contact_id) : NULL,
			   staff_id ? i64s(sb, staff_id) : NULL,
			   m->from->addr,
			   m->from->name,
			   to,
			   cc,
			   m->subject,
			   m->message_id,
			   m->in_reply_to,
			   refs,
			   body ? body : m->text,
			   m->text,
			   m->html,
			   m->is_automatic ? "t" : "f",
			   internal ? "t" : "f"};
	DbRes *r = NULL;
	int rc = db_exec(
		desk->db,
		"INSERT INTO message (ticket_id, inbound_id, direction, author_kind, contact_id, "
		"staff_id, from_addr, from_name, to_addrs, cc_addrs, subject, message_id, "
		"in_reply_to, refs, body, body_full, body_html, automatic, internal) VALUES "
		"($1::bigint, $2::bigint, 'in', $3, $4::bigint, $5::bigint, $6, $7, $8::text[], "
		"$9::text[], $10, $11, $12, $13::text[], $14, $15, $16, $17::boolean, "
		"$18::boolean) RETURNING id",
		18, p, &r, err);
	if (rc)
		return rc;
	*id_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return store_attachments(desk, m, *id_r, refused, err);
}

/* Queue an automatic reply (Auto-Submitted: auto-replied) to the sender of
 * m, threaded with it, at most max_per_hour of its kind (-1: no limit). */
static int auto_reply(Desk *desk, const Mail *m, const Template *tpl, TplVars *v, const char *kind,
		      const char *key, int64_t ticket_id, int max_per_hour, DmError *err)
{
	const char *refs[21];
	size_t nrefs = reply_refs(m, refs, 20);
	OutSpec spec = {.kind = kind,
			.event_key = key,
			.ticket_id = ticket_id,
			.to_name = m->from->name,
			.to_addr = m->from->addr,
			.in_reply_to = m->message_id,
			.refs = refs,
			.n_refs = nrefs,
			.automatic = true,
			.max_per_hour = max_per_hour};
	QueueResult qr;
	return outbox_queue(desk, tpl, v, &spec, &qr, err);
}

/* Tell the sender which attachments we did not keep (never to automatic
 * mail; rate-limited like every automatic reply). */
static int refused_notice(Desk *desk, const Mail *m, int64_t ticket_id, int64_t inbound_id,
			  const TplVars *view, const GString *refused, DmError *err)
{
	if (refused->len == 0 || m->is_automatic)
		return 0;
	TplVars v = *view;
	tplvars_set(&v, "refused", refused->str);
	char key[64];
	snprintf(key, sizeof key, "attachment-refused:inbound:%lld", (long long)inbound_id);
	int rc = auto_reply(desk, m, desk->tpl_refused, &v, "attachment-refused", key, ticket_id,
			    desk->cfg->desk_max_auto_replies_per_hour, err);
	if (rc == 0)
		rc = desk_event(desk, ticket_id, "attachment-refused", m->from->addr, NULL, NULL,
				NULL, refused->str, err);
	return rc;
}

/* Every placeholder set to "" (v is reset), then the desk's own values and
 * the mail's (m may be NULL). */
static void mail_vars(Desk *desk, const Mail *m, TplVars *v)
{
	const Config *cfg = desk->cfg;
	v->n = 0;
	for (int i = 0; desk_placeholders[i]; i++)
		tplvars_set(v, desk_placeholders[i], "");
	tplvars_set(v, "desk.name", cfg->desk_name);
	tplvars_set(v, "desk.address", cfg->desk_address);
	if (m) {
		tplvars_set(v, "message.subject", m->subject);
		tplvars_set(v, "message.text", m->text);
		if (m->from) {
			tplvars_set(v, "sender.email", m->from->addr);
			tplvars_set(v, "sender.name",
				    m->from->name ? m->from->name : m->from->addr);
		}
	}
}

int ticket_view(Desk *desk, const Mail *m, int64_t ticket_id, TplVars *v, DbRes **keep_r,
		DmError *err)
{
	mail_vars(desk, m, v);
	char tb[24];
	const char *p[] = {i64s(tb, ticket_id)};
	DbRes *r = NULL;
	int rc = db_exec(
		desk->db,
		"SELECT t.id, t.subject, t.status, COALESCE(t.severity, 'not yet set'), t.line, "
		"cl.name, cl.plan, COALESCE(co.name, co.email, ''), COALESCE(co.email, ''), "
		"COALESCE(t.category, 'not yet set'), COALESCE(st.name || ' <' || st.email || "
		"'>', 'nobody yet'), CASE WHEN t.chargeable THEN 'yes' ELSE 'no' END, "
		"to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"') "
		"FROM ticket t JOIN client cl ON cl.id = t.client_id "
		"LEFT JOIN contact co ON co.id = t.contact_id "
		"LEFT JOIN staff st ON st.id = t.assignee_id WHERE t.id = $1::bigint",
		1, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_EINTERNAL, "ticket %s vanished", tb);
	}
	static const char *const names[] = {
		"ticket.id",     "ticket.subject",  "ticket.status",   "ticket.severity",
		"ticket.line",   "client.name",     "client.plan",     "contact.name",
		"contact.email", "ticket.category", "ticket.assignee", "ticket.chargeable",
		"ticket.created"};
	for (int i = 0; i < (int)G_N_ELEMENTS(names); i++)
		tplvars_set(v, names[i], dbres_get(r, 0, i));
	*keep_r = r;
	return 0;
}

size_t reply_refs(const Mail *m, const char **out, size_t max)
{
	size_t n = 0, start = 0;
	size_t total = m->n_references + (m->message_id ? 1 : 0);
	if (total > max)
		start = total - max;
	for (size_t i = start; i < m->n_references; i++)
		out[n++] = m->references[i];
	if (m->message_id)
		out[n++] = m->message_id;
	return n;
}

static int effects_new_ticket(Desk *desk, const Mail *m, const Facts *f, int64_t inbound_id,
			      const RouteDecision *d, IngestResult *res, DmError *err)
{
	char cb[24], kb[24], rb[24];
	const char *subject = *m->subject ? m->subject : "(no subject)";
	const char *p[] = {i64s(cb, f->contact_client_id), i64s(kb, f->contact_id), subject,
			   d->reopened_from ? i64s(rb, d->reopened_from) : NULL};
	DbRes *r = NULL;
	int rc = db_exec(desk->db,
			 "INSERT INTO ticket (client_id, contact_id, subject, last_client_at, "
			 "reopened_from) VALUES ($1::bigint, $2::bigint, $3, now(), $4::bigint) "
			 "RETURNING id",
			 4, p, &r, err);
	if (rc)
		return rc;
	int64_t tid = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	res->ticket_id = tid;
	int64_t mid;
	g_autoptr(GString) refused = g_string_new(NULL);
	/* a new request is kept whole: what looks like quoting may be the
	 * forwarded problem itself */
	rc = insert_message(desk, m, tid, inbound_id, f->contact_id, 0, false, NULL, &mid, refused,
			    err);
	if (rc == 0)
		rc = desk_event(desk, tid, "ticket-created", m->from->addr, "status", NULL, "open",
				d->reason[0] ? d->reason : NULL, err);
	if (rc == 0 && d->reopened_from)
		rc = desk_event(desk, d->reopened_from, "followed-up", m->from->addr, NULL, NULL,
				NULL, "the client wrote again after closing: new ticket", err);
	if (rc)
		return rc;

	/* everything below is mail about the ticket as it now is */
	TplVars view;
	DbRes *keep = NULL;
	rc = ticket_view(desk, m, tid, &view, &keep, err);
	if (rc)
		return rc;
	char key[64];
	snprintf(key, sizeof key, "notify-new:ticket:%lld", (long long)tid);
	g_autofree char *title =
		d->reopened_from ? g_strdup_printf("New ticket (follows up closed ticket #%lld)",
						   (long long)d->reopened_from)
				 : g_strdup("New ticket");
	Notice n = {.kind = "notify-new",
		    .key = key,
		    .title = title,
		    .text = m->text,
		    .who = NOTIFY_LINE,
		    .m = m,
		    .actor_name = m->from->name,
		    .actor_email = m->from->addr};
	rc = notify_staff(desk, tid, &view, &n, err);
	if (rc == 0)
		rc = refused_notice(desk, m, tid, inbound_id, &view, refused, err);
	if (rc == 0 && d->send_ack) {
		TplVars v = view;
		snprintf(key, sizeof key, "ack:ticket:%lld", (long long)tid);
		/* acknowledgements cannot loop (automatic mail opens no ticket):
		 * their own limit, off by default */
		int max = desk->cfg->desk_max_acks_per_hour;
		rc = auto_reply(desk, m, desk->tpl_ack, &v, "ack", key, tid, max > 0 ? max : -1,
				err);
	}
	dbres_free(keep);
	return rc;
}

/* A client's reply: clean text, back to open if it waited or was closed
 * within the reopen window, and the assignee (or line) is told. */
static int client_reply(Desk *desk, const Mail *m, const Facts *f, int64_t ticket_id,
			int64_t inbound_id, DmError *err)
{
	g_autofree char *clean = clean_reply_text(m->text);
	/* a reply that is all quotation keeps its whole text for display */
	const char *body = *clean ? clean : m->text;
	int64_t mid;
	g_autoptr(GString) refused = g_string_new(NULL);
	int rc = insert_message(desk, m, ticket_id, inbound_id, f->contact_id, 0, false, body, &mid,
				refused, err);
	if (rc)
		return rc;
	char tb[24];
	const char *p[] = {i64s(tb, ticket_id), m->is_automatic ? "t" : "f"};
	DbRes *r = NULL;
	/* Automatic mail (an out-of-office) neither reopens nor wakes a ticket. */
	rc = db_exec(desk->db,
		     "UPDATE ticket t SET updated_at = now(), last_client_at = now(), "
		     "status = CASE WHEN NOT $2::boolean AND (t.status LIKE 'awaiting-%' OR "
		     "t.status = 'closed') THEN 'open' ELSE t.status END, "
		     "closed_at = CASE WHEN NOT $2::boolean THEN NULL ELSE t.closed_at END "
		     "FROM ticket old WHERE t.id = $1::bigint AND old.id = t.id "
		     "RETURNING old.status, t.status",
		     2, p, &r, err);
	if (rc)
		return rc;
	g_autofree char *before = dbres_rows(r) ? g_strdup(dbres_get(r, 0, 0)) : NULL;
	g_autofree char *after = dbres_rows(r) ? g_strdup(dbres_get(r, 0, 1)) : NULL;
	dbres_free(r);
	rc = desk_event(desk, ticket_id, "client-reply", m->from->addr, NULL, NULL, NULL,
			m->is_automatic ? "automatic" : NULL, err);
	if (rc == 0 && before && after && strcmp(before, after) != 0)
		rc = desk_event(desk, ticket_id, "status-changed", m->from->addr, "status", before,
				after,
				strcmp(before, "closed") == 0 ? "reopened by the client's reply"
							      : "the client replied",
				err);
	if (rc || m->is_automatic)
		return rc;
	TplVars view;
	DbRes *keep = NULL;
	rc = ticket_view(desk, m, ticket_id, &view, &keep, err);
	if (rc)
		return rc;
	char key[64];
	snprintf(key, sizeof key, "notify-reply:message:%lld", (long long)mid);
	g_autofree char *title =
		before && strcmp(before, "closed") == 0
			? g_strdup("The client replied and the ticket is open again")
			: g_strdup("The client replied");
	Notice n = {.kind = "notify-reply",
		    .key = key,
		    .title = title,
		    .text = body,
		    .who = NOTIFY_ASSIGNEE,
		    .m = m,
		    .actor_name = m->from->name,
		    .actor_email = m->from->addr};
	rc = notify_staff(desk, ticket_id, &view, &n, err);
	if (rc == 0)
		rc = refused_notice(desk, m, ticket_id, inbound_id, &view, refused, err);
	dbres_free(keep);
	return rc;
}

static int effects_reply(Desk *desk, const Mail *m, const Facts *f, int64_t inbound_id,
			 const RouteDecision *d, IngestResult *res, DmError *err)
{
	res->ticket_id = d->ticket_id;
	/* A staff address is staff even if it is also somebody's contact. */
	if (f->staff_id) {
		StaffRef who = {.id = f->staff_id,
				.email = f->staff_email,
				.name = f->staff_name,
				.role = f->staff_role};
		return staff_reply(desk, m, d->ticket_id, inbound_id, &who, err);
	}
	return client_reply(desk, m, f, d->ticket_id, inbound_id, err);
}

static int effects_quarantine(Desk *desk, const Mail *m, int64_t inbound_id, const RouteDecision *d,
			      bool automatic, DmError *err)
{
	char ib[24];
	const char *p[] = {i64s(ib, inbound_id),
			   m && m->from ? m->from->addr : NULL,
			   m && m->from ? m->from->name : NULL,
			   m ? m->subject : "",
			   d->reason,
			   automatic ? "t" : "f"};
	DbRes *r = NULL;
	int rc = db_exec(
		desk->db,
		"INSERT INTO quarantine (inbound_id, from_addr, from_name, subject, reason, "
		"automatic) VALUES ($1::bigint, $2, $3, $4, $5, $6::boolean) RETURNING id",
		6, p, &r, err);
	if (rc)
		return rc;
	dbres_free(r);
	if (!d->send_notice || automatic || m == NULL || m->from == NULL ||
	    !dm_addr_valid(m->from->addr))
		return 0;
	TplVars v = {0};
	mail_vars(desk, m, &v);
	tplvars_set(&v, "reason", d->reason);
	/* why, in words for the sender */
	g_autofree char *why =
		d->refused_ticket
			? g_strdup_printf("%s is not a named contact of the organisation that "
					  "ticket #%lld belongs to",
					  m->from->addr, (long long)d->refused_ticket)
			: g_strdup_printf("%s is not one of the named contacts we hold for our "
					  "clients",
					  m->from->addr);
	tplvars_set(&v, "notice.text", why);
	char key[48];
	snprintf(key, sizeof key, "notice:inbound:%lld", (long long)inbound_id);
	return auto_reply(desk, m, desk->tpl_quarantine, &v, "quarantine-notice", key, 0,
			  desk->cfg->desk_max_auto_replies_per_hour, err);
}

static int ingest_tx(Desk *desk, const unsigned char *raw, size_t len, const char *sha,
		     const Mail *m, const char *parse_error, const IngestSource *src,
		     IngestResult *res, DmError *err)
{
	RouteDecision d;
	Facts f = {0};
	bool automatic = m && m->is_automatic;
	int rc;

	if (m) {
		int64_t token = route_subject_token(m->subject);
		rc = lookup_facts(desk, m, token, &f, err);
		if (rc)
			return rc;
		if (f.dup_inbound_id) {
			res->outcome = INGEST_DUPLICATE;
			res->inbound_id = f.dup_inbound_id;
			return checkpoint(desk, src, 0, err);
		}
		/* Our own address never gets an answer from us. */
		if (m->from && g_ascii_strcasecmp(m->from->addr, desk->cfg->desk_address) == 0)
			automatic = true;
		RouteFacts rf = {
			.has_from = m->from != NULL,
			.sender_is_staff = f.staff_id != 0,
			.sender_client_id = f.contact_client_id,
			.token_ticket_id = token,
			.token_ticket_exists = f.token_client_id != 0,
			.ref_ticket_id = f.ref_ticket_id,
			.ticket_client_id = f.token_client_id ? f.token_client_id : f.ref_client_id,
			.automatic = automatic,
			.ticket_closed_expired = f.closed_expired,
		};
		route_decide(&rf, &d);
	} else {
		memset(&d, 0, sizeof d);
		d.kind = ROUTE_QUARANTINE;
		snprintf(d.reason, sizeof d.reason, "unreadable message: %.150s", parse_error);
	}
	if (src->truncated) {
		d.kind = ROUTE_QUARANTINE;
		d.send_notice = false;
		snprintf(d.reason, sizeof d.reason, "%.190s", src->truncated_reason);
	}

	static const char *const outcome[] = {"", "ticket", "reply", "quarantine"};
	int64_t inbound_id;
	rc = insert_inbound(desk, raw, len, sha, m, src, outcome[d.kind], &inbound_id, err);
	if (rc)
		return rc;
	if (inbound_id == 0) {
		res->outcome = INGEST_DUPLICATE;
		return checkpoint(desk, src, 0, err);
	}
	res->inbound_id = inbound_id;
	switch (d.kind) {
	case ROUTE_NEW_TICKET:
		res->outcome = INGEST_TICKET;
		rc = effects_new_ticket(desk, m, &f, inbound_id, &d, res, err);
		break;
	case ROUTE_REPLY:
		res->outcome = INGEST_REPLY;
		rc = effects_reply(desk, m, &f, inbound_id, &d, res, err);
		break;
	case ROUTE_QUARANTINE:
		res->outcome = INGEST_QUARANTINE;
		g_strlcpy(res->detail, d.reason, sizeof res->detail);
		rc = effects_quarantine(desk, m, inbound_id, &d, automatic, err);
		break;
	}
	if (rc == 0)
		rc = checkpoint(desk, src, inbound_id, err);
	return rc;
}

int desk_ingest(Desk *desk, const unsigned char *raw, size_t len, const IngestSource *src,
		IngestResult *res, DmError *err)
{
	memset(res, 0, sizeof *res);
	char sha[65];
	dm_sha256_hex(raw, len, sha);
	Mail *m = NULL;
	DmError perr = {0};
	if (mime_parse(raw, len, &desk->limits, &m, &perr) != 0)
		m = NULL;
	if (m && m->message_id)
		g_strlcpy(res->message_id, m->message_id, sizeof res->message_id);

	int rc = db_ensure(desk->db, NULL, err);
	if (rc == 0)
		rc = db_begin(desk->db, err);
	if (rc == 0)
		rc = ingest_tx(desk, raw, len, sha, m, perr.msg, src, res, err);
	if (rc == 0)
		rc = db_commit(desk->db, err);
	else
		db_rollback(desk->db);

	char where[160] = "pipe";
	if (src->mailbox_id)
		snprintf(where, sizeof where, "%.120s uid %u", src->mailbox ? src->mailbox : "imap",
			 src->uid);
	if (rc == 0) {
		char tk[32] = "";
		if (res->ticket_id)
			snprintf(tk, sizeof tk, " #%lld", (long long)res->ticket_id);
		log_info("%s <%s> from %s: %s%s%s%s%s", where, res->message_id,
			 m && m->from ? m->from->addr : "(none)", ingest_outcome_name(res->outcome),
			 tk, res->detail[0] ? " (" : "", res->detail, res->detail[0] ? ")" : "");
	} else {
		log_warn("%s <%s>: not stored: %s", where, res->message_id, err ? err->msg : "");
	}
	mail_free(m);
	return rc;
}
