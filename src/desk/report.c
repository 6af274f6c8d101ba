/* report.c - reading tickets and quarantine: `deskmail ticket list|show`
 * and `deskmail quarantine list`, as text for people and as JSON for
 * scripts.  The JSON is built by PostgreSQL's json functions, so quoting and
 * escaping are right by construction and the shape lives in one query. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/util.h"

#define TICKET_JSON                                                                                \
	"json_build_object('id', t.id, 'client', cl.name, 'plan', cl.plan, 'contact', co.email, "  \
	"'contact_name', co.name, 'subject', t.subject, 'status', t.status, 'severity', "          \
	"t.severity, 'category', t.category, 'line', t.line, 'assignee', st.email, 'chargeable', " \
	"t.chargeable, 'created_at', t.created_at, 'updated_at', t.updated_at, "                   \
	"'first_response_at', t.first_response_at, 'closed_at', t.closed_at, 'reopened_from', "    \
	"t.reopened_from"

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
	"FROM "
	"message m WHERE m.ticket_id = t.id), t.subject)" TICKET_FROM
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
	"'actor', "
	"e.actor, 'field', e.field, 'before', e.before, 'after', e.after, 'detail', e.detail, "
	"'created_at', e.created_at) ORDER BY e.id) FROM event e WHERE e.ticket_id = t.id), "
	"'[]'::json), "
	"'outbox', COALESCE((SELECT json_agg(json_build_object('id', o.id, 'kind', o.kind, 'to', "
	"o.rcpt, 'status', o.status, 'attempts', o.attempts, 'message_id', o.message_id, "
	"'last_error', o.last_error, 'sent_at', o.sent_at) ORDER BY o.id) FROM outbox o WHERE "
	"o.ticket_id = t.id), '[]'::json))" TICKET_FROM "WHERE t.id = $1::bigint";

static const char quarantine_json_sql[] =
	"SELECT COALESCE(json_agg(json_build_object('id', q.id, 'from', q.from_addr, 'from_name', "
	"q.from_name, 'subject', q.subject, 'reason', q.reason, 'automatic', q.automatic, "
	"'status', q.status, 'received_at', q.received_at, 'size', i.size, 'message_id', "
	"i.message_id) ORDER BY q.id), '[]') FROM quarantine q JOIN inbound i ON i.id = "
	"q.inbound_id WHERE ($1::text IS NULL OR q.status = $1)";

static const char quarantine_text_sql[] =
	"SELECT format('%s\t%s\t%s\t%s\t%s', q.id, q.received_at, COALESCE(q.from_addr, '-'), "
	"q.reason, q.subject) FROM quarantine q WHERE ($1::text IS NULL OR q.status = $1) "
	"ORDER BY q.id";

static int run_print(Desk *desk, const char *sql, int n, const char *const *p, bool one,
		     DmError *err)
{
	int rows = 0;
	int rc = cli_print(desk, sql, n, p, &rows, err);
	if (rc == 0 && one && rows == 0)
		return dm_error_set(err, DM_ENOTFOUND, "no such ticket");
	return rc;
}

static int show_text(Desk *desk, const char *id, DmError *err)
{
	const char *p[] = {id};
	int rc = run_print(
		desk,
		"SELECT format(E'Ticket #%s: %s\\nClient:   %s (plan %s)\\nContact:  %s\\n"
		"Status:   %s\\nSeverity: %s\\nCategory: %s\\nLine:     %s\\nAssignee: %s\\n"
		"Created:  %s', t.id, t.subject, cl.name, cl.plan, COALESCE(co.email, '-'), "
		"t.status, COALESCE(t.severity, '-'), COALESCE(t.category, '-'), t.line, "
		"COALESCE(st.email, '-'), t.created_at)" TICKET_FROM "WHERE t.id = $1::bigint",
		1, p, true, err);
	if (rc)
		return rc;
	rc = run_print(
		desk,
		"SELECT format(E'\\n--- %s %s%s %s  %s%s', CASE m.direction WHEN 'in' THEN "
		"'from' ELSE 'to' END, CASE m.direction WHEN 'in' THEN m.from_addr ELSE "
		"array_to_string(m.to_addrs, ', ') END, CASE WHEN m.internal THEN ' (internal)' "
		"ELSE '' END, m.created_at, m.subject, CASE WHEN m.author_kind = 'system' AND "
		"m.internal THEN '' ELSE E'\\n' || m.body END) || COALESCE((SELECT "
		"string_agg(format(E'\\n[attachment %s: %s, %s, %s bytes%s]', a.id, a.filename, "
		"a.content_type, a.size, COALESCE(' refused: ' || a.refused, '')), '' ORDER BY "
		"a.id) FROM attachment a WHERE a.message_id = m.id), '') FROM message m WHERE "
		"m.ticket_id = $1::bigint ORDER BY m.id",
		1, p, false, err);
	if (rc)
		return rc;
	printf("\n--- events\n");
	return run_print(
		desk,
		"SELECT format('%s  %-22s %s%s%s', to_char(e.created_at, 'YYYY-MM-DD "
		"HH24:MI:SS'), e.kind, e.actor, CASE WHEN e.field IS NOT NULL THEN format(' "
		"%s: %s -> %s', e.field, COALESCE(e.before, '-'), COALESCE(e.after, '-')) ELSE "
		"'' END, COALESCE(' (' || e.detail || ')', '')) FROM event e WHERE e.ticket_id "
		"= $1::bigint ORDER BY e.id",
		1, p, false, err);
}

/* `deskmail attachment get ID [-o FILE]`: the stored bytes, exactly. */
static int attachment_get(Desk *desk, int argc, char **argv, DmError *err)
{
	int64_t id;
	const char *arg = argc > 2 ? argv[2] : "";
	if (dm_parse_i64(arg, 1, INT64_MAX, &id) != 0)
		return dm_error_set(err, DM_EPERM, "usage: deskmail attachment get ID [-o FILE]");
	const char *out = cli_opt(argc, argv, "-o");
	if (out == NULL)
		out = cli_opt(argc, argv, "--output");
	char b[24];
	const char *p[] = {i64s(b, id)};
	DbRes *r = NULL;
	int rc = db_exec(
		desk->db,
		"SELECT a.filename, a.refused, b.data FROM attachment a LEFT JOIN blob b ON "
		"b.sha256 = a.blob_sha256 WHERE a.id = $1::bigint",
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
	size_t len = 0;
	unsigned char *data = dbres_bytea(r, 0, 2, &len);
	dbres_free(r);
	if (data == NULL)
		return dm_error_set(err, DM_EINTERNAL, "attachment %s: cannot decode its bytes", b);
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (f == NULL) {
		free(data);
		return dm_error_set(err, DM_EPERM, "%s: %s", out, g_strerror(errno));
	}
	bool ok = fwrite(data, 1, len, f) == len;
	ok = (out ? fclose(f) : fflush(f)) == 0 && ok;
	free(data);
	if (!ok)
		return dm_error_set(err, DM_EPERM, "%s: write failed: %s", out ? out : "stdout",
				    g_strerror(errno));
	return 0;
}

int report_main(Desk *desk, int argc, char **argv, DmError *err)
{
	const char *what = argc > 0 ? argv[0] : "";
	const char *sub = argc > 1 ? argv[1] : "";
	bool json = cli_flag(argc, argv, "--json");
	if (strcmp(what, "ticket") == 0 && strcmp(sub, "list") == 0) {
		const char *p[] = {cli_opt(argc, argv, "--status"),
				   cli_opt(argc, argv, "--client")};
		return run_print(desk, json ? list_json_sql : list_text_sql, 2, p, false, err);
	}
	if (strcmp(what, "ticket") == 0 && strcmp(sub, "show") == 0) {
		int64_t id;
		const char *arg = argc > 2 ? argv[2] : "";
		if (arg[0] == '#')
			arg++;
		if (dm_parse_i64(arg, 1, INT64_MAX, &id) != 0)
			return dm_error_set(err, DM_EPERM,
					    "usage: deskmail ticket show N [--json]");
		char b[24];
		const char *p[] = {i64s(b, id)};
		if (json)
			return run_print(desk, show_json_sql, 1, p, true, err);
		return show_text(desk, b, err);
	}
	if (strcmp(what, "attachment") == 0 && strcmp(sub, "get") == 0)
		return attachment_get(desk, argc, argv, err);
	if (strcmp(what, "quarantine") == 0 && strcmp(sub, "list") == 0) {
		const char *p[] = {cli_opt(argc, argv, "--status")};
		return run_print(desk, json ? quarantine_json_sql : quarantine_text_sql, 1, p,
				 false, err);
	}
	return dm_error_set(
		err, DM_EPERM,
		"usage: deskmail ticket list|show N [--json] | quarantine list [--json]");
}
