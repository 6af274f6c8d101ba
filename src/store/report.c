/* report.c - the SQL of reading: clients, contacts, staff, tickets (the
 * whole conversation with its attachments, audit events and outbox) and
 * the quarantine, as lines of text for people or one JSON document for
 * scripts.  The JSON is built by PostgreSQL's json functions, so quoting
 * and escaping are right by construction and each shape lives in one
 * query. */
#include <string.h>

#include "store-private.h"

/* Run sql and append the first column of every row (NULL as ""). */
static int lines_of(Db *db, const char *sql, int n, const char *const *p, GPtrArray *lines,
		    int *rows_r, DmError *err)
{
	DbRes *r = NULL;
	int rc = db_exec(db, sql, n, p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++)
		g_ptr_array_add(lines, g_strdup(dbres_get(r, i, 0) ? dbres_get(r, i, 0) : ""));
	if (rows_r)
		*rows_r = dbres_rows(r);
	dbres_free(r);
	return 0;
}

int store_client_report(Db *db, bool json, GPtrArray *lines, DmError *err)
{
	if (json)
		return lines_of(
			db,
			"SELECT COALESCE(json_agg(json_build_object('id', c.id, 'name', "
			"c.name, 'plan', c.plan, 'account_manager', s.email, 'contacts', "
			"(SELECT count(*) FROM contact k WHERE k.client_id = c.id AND "
			"k.removed_at IS NULL), 'created_at', c.created_at) ORDER BY c.id), "
			"'[]') FROM client c LEFT JOIN staff s ON s.id = c.account_manager_id",
			0, NULL, lines, NULL, err);
	return lines_of(db,
			"SELECT format('%s\t%s\t%s\tcontacts=%s\taccount-manager=%s', c.id, "
			"c.name, c.plan, (SELECT count(*) FROM contact k WHERE k.client_id = "
			"c.id AND k.removed_at IS NULL), COALESCE(s.email, '-')) FROM client c "
			"LEFT JOIN staff s ON s.id = c.account_manager_id ORDER BY c.id",
			0, NULL, lines, NULL, err);
}

int store_contact_report(Db *db, int64_t client_id, bool json, GPtrArray *lines, DmError *err)
{
	char cb[24];
	const char *p[] = {i64n(cb, client_id)};
	if (json)
		return lines_of(
			db,
			"SELECT COALESCE(json_agg(json_build_object('id', k.id, 'client', "
			"c.name, 'email', k.email, 'name', k.name, 'created_at', "
			"k.created_at) ORDER BY c.name, k.email), '[]') FROM contact k JOIN "
			"client c ON c.id = k.client_id WHERE k.removed_at IS NULL AND "
			"($1::bigint IS NULL OR c.id = $1::bigint)",
			1, p, lines, NULL, err);
	return lines_of(db,
			"SELECT format('%s\t%s\t%s', c.name, k.email, COALESCE(k.name, '')) FROM "
			"contact k JOIN client c ON c.id = k.client_id WHERE k.removed_at IS NULL "
			"AND ($1::bigint IS NULL OR c.id = $1::bigint) ORDER BY c.name, k.email",
			1, p, lines, NULL, err);
}

int store_staff_report(Db *db, bool json, GPtrArray *lines, DmError *err)
{
	if (json)
		return lines_of(db,
				"SELECT COALESCE(json_agg(json_build_object('id', id, 'email', "
				"email, 'name', name, 'role', role, 'line', line, 'active', "
				"active) ORDER BY id), '[]') FROM staff",
				0, NULL, lines, NULL, err);
	return lines_of(db,
			"SELECT format('%s\t%s\t%s\tline %s%s', email, name, role, line, CASE "
			"WHEN active THEN '' ELSE '\t(inactive)' END) FROM staff ORDER BY id",
			0, NULL, lines, NULL, err);
}

#define TICKET_JSON                                                                                \
	"json_build_object('id', t.id, 'client', cl.name, 'plan', cl.plan, 'contact', co.email, "  \
	"'contact_name', co.name, 'subject', t.subject, 'status', t.status, 'severity', "          \
	"t.severity, 'category', t.category, 'line', t.line, 'assignee', st.email, 'chargeable', " \
	"t.chargeable, 'created_at', t.created_at, 'updated_at', t.updated_at, "                   \
	"'first_response_at', t.first_response_at, 'closed_at', t.closed_at, 'reopened_from', "    \
	"t.reopened_from, 'first_response_due', t.first_response_due, 'resolution_due', "          \
	"t.resolution_due, 'line_due', t.line_due, 'follow_up_due', t.follow_up_due, "             \
	"'line_since', t.line_since"

#define TICKET_FROM                                                                                \
	" FROM ticket t JOIN client cl ON cl.id = t.client_id LEFT JOIN contact co ON co.id = "    \
	"t.contact_id LEFT JOIN staff st ON st.id = t.assignee_id "

static const char list_json_sql[] =
	"SELECT COALESCE(json_agg(" TICKET_JSON ", 'messages', (SELECT count(*) FROM message m "
	"WHERE m.ticket_id = t.id)) ORDER BY t.id), '[]')" TICKET_FROM
	"WHERE ($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR lower(cl.name) = "
	"lower($2))";

static const char list_text_sql[] =
	"SELECT format('#%s\t%s\t%s\t%s\tline %s\t%s\t%s msg\t%s', t.id, t.status, "
	"COALESCE(t.severity, '-'), cl.name, t.line, COALESCE(co.email, '-'), (SELECT count(*) "
	"FROM message m WHERE m.ticket_id = t.id), t.subject)" TICKET_FROM
	"WHERE ($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR lower(cl.name) = "
	"lower($2)) ORDER BY t.id";

static const char show_json_sql[] =
	"SELECT " TICKET_JSON ", "
	"'messages', COALESCE((SELECT json_agg(json_build_object('id', m.id, 'direction', "
	"m.direction, 'internal', m.internal, 'automatic', m.automatic, 'author', m.author_kind, "
	"'from', m.from_addr, 'from_name', m.from_name, 'to', to_json(m.to_addrs), 'cc', "
	"to_json(m.cc_addrs), 'subject', m.subject, 'message_id', m.message_id, 'in_reply_to', "
	"m.in_reply_to, 'body', m.body, 'body_full', m.body_full, 'created_at', m.created_at, "
	"'attachments', COALESCE((SELECT json_agg(json_build_object('id', a.id, 'filename', "
	"a.filename, 'content_type', a.content_type, 'size', a.size, 'inline', a.is_inline, "
	"'refused', a.refused) ORDER BY a.id) FROM attachment a WHERE a.message_id = m.id), "
	"'[]'::json)) ORDER BY m.id) FROM message m WHERE m.ticket_id = t.id), '[]'::json), "
	"'events', COALESCE((SELECT json_agg(json_build_object('id', e.id, 'kind', e.kind, "
	"'actor', e.actor, 'field', e.field, 'before', e.before, 'after', e.after, 'detail', "
	"e.detail, 'created_at', e.created_at) ORDER BY e.id) FROM event e WHERE e.ticket_id = "
	"t.id), '[]'::json), "
	"'outbox', COALESCE((SELECT json_agg(json_build_object('id', o.id, 'kind', o.kind, 'to', "
	"o.rcpt, 'status', o.status, 'attempts', o.attempts, 'message_id', o.message_id, "
	"'last_error', o.last_error, 'sent_at', o.sent_at) ORDER BY o.id) FROM outbox o WHERE "
	"o.ticket_id = t.id), '[]'::json))" TICKET_FROM "WHERE t.id = $1::bigint";

static const char show_head_sql[] =
	"SELECT format(E'Ticket #%s: %s\\nClient:   %s (plan %s)\\nContact:  %s\\n"
	"Status:   %s\\nSeverity: %s\\nCategory: %s\\nLine:     %s\\nAssignee: %s\\n"
	"Created:  %s\\nDue:      first response %s, resolution %s, line %s, follow-up %s', "
	"t.id, t.subject, cl.name, cl.plan, COALESCE(co.email, '-'), "
	"t.status, COALESCE(t.severity, '-'), COALESCE(t.category, '-'), t.line, "
	"COALESCE(st.email, '-'), t.created_at, COALESCE(t.first_response_due::text, '-'), "
	"COALESCE(t.resolution_due::text, '-'), COALESCE(t.line_due::text, '-'), "
	"COALESCE(t.follow_up_due::text, '-'))" TICKET_FROM "WHERE t.id = $1::bigint";

static const char show_messages_sql[] =
	"SELECT format(E'\\n--- %s %s%s %s  %s%s', CASE m.direction WHEN 'in' THEN "
	"'from' ELSE 'to' END, CASE m.direction WHEN 'in' THEN m.from_addr ELSE "
	"array_to_string(m.to_addrs, ', ') END, CASE WHEN m.internal THEN ' (internal)' "
	"ELSE '' END, m.created_at, m.subject, CASE WHEN m.author_kind = 'system' AND "
	"m.internal THEN '' ELSE E'\\n' || m.body END) || COALESCE((SELECT "
	"string_agg(format(E'\\n[attachment %s: %s, %s, %s bytes%s]', a.id, a.filename, "
	"a.content_type, a.size, COALESCE(' refused: ' || a.refused, '')), '' ORDER BY "
	"a.id) FROM attachment a WHERE a.message_id = m.id), '') FROM message m WHERE "
	"m.ticket_id = $1::bigint ORDER BY m.id";

static const char show_events_sql[] =
	"SELECT format('%s  %-22s %s%s%s', to_char(e.created_at, 'YYYY-MM-DD "
	"HH24:MI:SS'), e.kind, e.actor, CASE WHEN e.field IS NOT NULL THEN format(' "
	"%s: %s -> %s', e.field, COALESCE(e.before, '-'), COALESCE(e.after, '-')) ELSE "
	"'' END, COALESCE(' (' || e.detail || ')', '')) FROM event e WHERE e.ticket_id "
	"= $1::bigint ORDER BY e.id";

int store_ticket_list(Db *db, const char *status, const char *client, bool json, GPtrArray *lines,
		      DmError *err)
{
	const char *p[] = {status, client};
	return lines_of(db, json ? list_json_sql : list_text_sql, 2, p, lines, NULL, err);
}

int store_ticket_show(Db *db, int64_t id, bool json, GPtrArray *lines, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id)};
	int rows = 0;
	int rc = lines_of(db, json ? show_json_sql : show_head_sql, 1, p, lines, &rows, err);
	if (rc == 0 && rows == 0)
		return dm_error_set(err, DM_ENOTFOUND, "no such ticket");
	if (rc || json)
		return rc;
	rc = lines_of(db, show_messages_sql, 1, p, lines, NULL, err);
	if (rc)
		return rc;
	g_ptr_array_add(lines, g_strdup("\n--- events"));
	return lines_of(db, show_events_sql, 1, p, lines, NULL, err);
}

int store_quarantine_list(Db *db, const char *status, bool json, GPtrArray *lines, DmError *err)
{
	const char *p[] = {status};
	if (json)
		return lines_of(
			db,
			"SELECT COALESCE(json_agg(json_build_object('id', q.id, 'from', "
			"q.from_addr, 'from_name', q.from_name, 'subject', q.subject, "
			"'reason', q.reason, 'automatic', q.automatic, 'status', q.status, "
			"'received_at', q.received_at, 'size', i.size, 'message_id', "
			"i.message_id, 'uid', q.uid, 'uidvalidity', q.uidvalidity, "
			"'decided_by', q.decided_by_name, 'decided_at', q.decided_at, "
			"'decision', q.decision) ORDER BY q.id), '[]') FROM quarantine q LEFT "
			"JOIN inbound i ON i.id = q.inbound_id WHERE ($1::text IS NULL OR "
			"q.status = $1)",
			1, p, lines, NULL, err);
	return lines_of(db,
			"SELECT format('%s\t%s\t%s\t%s\t%s\t%s', q.id, q.received_at, q.status, "
			"COALESCE(q.from_addr, '-'), q.reason, q.subject) FROM quarantine q WHERE "
			"($1::text IS NULL OR q.status = $1) ORDER BY q.id",
			1, p, lines, NULL, err);
}

int store_attachment_get(Db *db, int64_t id, unsigned char **data_r, size_t *len_r, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id)};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT a.filename, a.refused, encode(b.data, 'base64') FROM attachment a "
			 "LEFT JOIN blob b ON b.sha256 = a.blob_sha256 WHERE a.id = $1::bigint",
			 1, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no attachment %s", b);
	}
	if (dbres_get(r, 0, 1) != NULL || dbres_get(r, 0, 2) == NULL) {
		rc = dm_error_set(err, DM_ENOTFOUND, "attachment %s (%s) was not stored: %s", b,
				  dbres_get(r, 0, 0),
				  dbres_get(r, 0, 1) ? dbres_get(r, 0, 1) : "no content");
		dbres_free(r);
		return rc;
	}
	gsize len = 0;
	*data_r = g_base64_decode(dbres_get(r, 0, 2), &len);
	*len_r = len;
	dbres_free(r);
	return 0;
}

void due_row_clear(DueRow *r)
{
	g_free(r->status);
	g_free(r->severity);
	g_free(r->client);
	g_free(r->plan);
	g_free(r->calendar);
	g_free(r->subject);
	g_free(r->assignee);
	g_free(r->clock);
	memset(r, 0, sizeof *r);
}

int store_ticket_due(Db *db, int limit, GArray *out, DmError *err)
{
	char lb[24];
	const char *p[] = {i64s(lb, limit)};
	DbRes *r = NULL;
	/* open tickets (ticket_open_idx), sorted */
	int rc = db_exec(
		db,
		"SELECT t.id, t.status, t.severity, cl.name, cl.plan, cl.calendar, t.subject, "
		"t.line, st.email, extract(epoch FROM d.due)::bigint, d.clock, "
		"extract(epoch FROM dm_now())::bigint FROM ticket t JOIN client cl ON cl.id = "
		"t.client_id LEFT JOIN staff st ON st.id = t.assignee_id LEFT JOIN LATERAL "
		"(SELECT v.due, v.clock FROM (VALUES (t.first_response_due, 'first-response'), "
		"(t.resolution_due, 'resolution'), (t.line_due, 'line'), (t.follow_up_due, "
		"'follow-up')) v(due, clock) WHERE v.due IS NOT NULL ORDER BY v.due LIMIT 1) d ON "
		"true WHERE t.status <> 'closed' ORDER BY LEAST(t.first_response_due, "
		"t.resolution_due, t.line_due, t.follow_up_due), t.id LIMIT $1::int",
		1, p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++) {
		DueRow d = {0};
		d.id = dbres_i64(r, i, 0, 0);
		d.status = dbres_dup(r, i, 1);
		d.severity = dbres_dup(r, i, 2);
		d.client = dbres_dup(r, i, 3);
		d.plan = dbres_dup(r, i, 4);
		d.calendar = dbres_dup(r, i, 5);
		d.subject = dbres_dup(r, i, 6);
		d.line = (int)dbres_i64(r, i, 7, 1);
		d.assignee = dbres_dup(r, i, 8);
		d.due = dbres_i64(r, i, 9, 0);
		d.clock = dbres_dup(r, i, 10);
		d.now = dbres_i64(r, i, 11, 0);
		g_array_append_val(out, d);
	}
	dbres_free(r);
	return 0;
}
