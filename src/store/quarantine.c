/* quarantine.c - the SQL of working the quarantine: one row with its mail
 * (or, for a set-aside mail, where it lies on the server), dropping one,
 * and showing one.  Accepting and retrying run the mail through the
 * ingest path again (src/desk/quarantine.c), whose rows record the
 * decision (ingest.c). */
#include <string.h>

#include "store-private.h"

void quarantine_row_clear(QuarantineRow *q)
{
	g_free(q->status);
	g_free(q->from_addr);
	g_free(q->reason);
	g_free(q->raw);
	g_free(q->mailbox_url);
	g_free(q->mailbox_username);
	memset(q, 0, sizeof *q);
}

int store_quarantine_get(Db *db, int64_t id, QuarantineRow *q, DmError *err)
{
	memset(q, 0, sizeof *q);
	char b[24];
	const char *p[] = {i64s(b, id)};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT q.status, q.from_addr, q.reason, q.inbound_id, encode(i.raw, "
			 "'base64'), i.truncated, q.mailbox_id, q.uidvalidity, q.uid, m.url, "
			 "m.uidvalidity, m.username FROM quarantine q LEFT JOIN inbound i ON i.id "
			 "= q.inbound_id "
			 "LEFT JOIN mailbox m ON m.id = COALESCE(q.mailbox_id, i.mailbox_id) "
			 "WHERE q.id = $1::bigint",
			 1, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no quarantine entry %s", b);
	}
	q->id = id;
	q->status = dbres_dup(r, 0, 0);
	q->from_addr = dbres_dup(r, 0, 1);
	q->reason = dbres_dup(r, 0, 2);
	q->inbound_id = dbres_i64(r, 0, 3, 0);
	if (dbres_get(r, 0, 4)) {
		gsize n = 0;
		q->raw = g_base64_decode(dbres_get(r, 0, 4), &n);
		q->raw = g_realloc(q->raw, n + 1);
		q->raw[n] = '\0';
		q->raw_len = n;
	}
	q->truncated = dbres_bool(r, 0, 5);
	q->mailbox_id = dbres_i64(r, 0, 6, 0);
	q->uidvalidity = (uint32_t)dbres_i64(r, 0, 7, 0);
	q->uid = (uint32_t)dbres_i64(r, 0, 8, 0);
	q->mailbox_url = dbres_dup(r, 0, 9);
	q->mailbox_uidvalidity = (uint32_t)dbres_i64(r, 0, 10, 0);
	q->mailbox_username = dbres_dup(r, 0, 11);
	dbres_free(r);
	return 0;
}

int store_quarantine_lock(Db *db, int64_t id, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id)};
	DbRes *r = NULL;
	int rc = db_exec(
		db,
		"SELECT status FROM quarantine WHERE id = $1::bigint AND status IN ('held', "
		"'set-aside') FOR UPDATE",
		1, p, &r, err);
	if (rc == 0 && dbres_rows(r) == 0)
		rc = dm_error_set(err, DM_EPERM, "quarantine entry %s was decided meanwhile", b);
	dbres_free(r);
	return rc;
}

int store_quarantine_drop(Db *db, int64_t id, const char *by, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), by};
	DbRes *r = NULL;
	int rc = db_exec(
		db,
		"WITH q AS (UPDATE quarantine SET status = 'dropped', decided_by_name = $2, "
		"decided_by = (SELECT s.id FROM staff s WHERE s.email = lower($2)), "
		"decided_at = dm_now(), decision = 'dropped' WHERE id = $1::bigint AND status "
		"IN ('held', 'set-aside') RETURNING id) INSERT INTO event (kind, actor, "
		"staff_id, detail) SELECT 'quarantine-dropped', $2, (SELECT s.id FROM staff s "
		"WHERE s.email = lower($2)), 'quarantine #' || q.id FROM q RETURNING id",
		2, p, &r, err);
	if (rc)
		return rc;
	int n = dbres_rows(r);
	dbres_free(r);
	return n ? 0 : dm_error_set(err, DM_EPERM, "quarantine entry %s is not held", b);
}

int store_quarantine_show(Db *db, int64_t id, bool json, GPtrArray *lines, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id)};
	/* the mail's header as it came (up to 64 KiB) and the start of its
	 * bytes after it, as text */
	static const char cols[] =
		"q.id, q.status, q.reason, q.automatic, q.from_addr, q.from_name, q.subject, "
		"q.received_at, q.inbound_id, i.size, i.message_id, q.uid, q.uidvalidity, "
		"q.decided_by_name, q.decided_at, q.decision, "
		"encode(substring(i.raw FROM 1 FOR 65536), 'escape') AS head";
	DbRes *r = NULL;
	g_autofree char *sql = NULL;
	if (json)
		sql = g_strdup_printf(
			"SELECT json_build_object('id', x.id, 'status', x.status, 'reason', "
			"x.reason, 'automatic', x.automatic, 'from', x.from_addr, 'from_name', "
			"x.from_name, 'subject', x.subject, 'received_at', x.received_at, "
			"'inbound_id', x.inbound_id, 'size', x.size, 'message_id', x.message_id, "
			"'uid', x.uid, 'uidvalidity', x.uidvalidity, 'decided_by', "
			"x.decided_by_name, 'decided_at', x.decided_at, 'decision', x.decision, "
			"'raw_start', x.head) FROM (SELECT %s FROM quarantine q LEFT JOIN inbound "
			"i "
			"ON i.id = q.inbound_id WHERE q.id = $1::bigint) x",
			cols);
	else
		sql = g_strdup_printf(
			"SELECT format(E'quarantine #%%s (%%s)\\nreason:   %%s\\nfrom:     "
			"%%s%%s\\n"
			"subject:  %%s\\nreceived: %%s\\nstored:   %%s\\ndecided:  %%s\\n\\n%%s', "
			"x.id, x.status, x.reason, COALESCE(x.from_addr, '-'), CASE WHEN "
			"x.automatic "
			"THEN ' (automatic mail)' ELSE '' END, x.subject, x.received_at, CASE WHEN "
			"x.inbound_id IS NULL THEN 'not stored: left on the server, uid ' || x.uid "
			"|| ' of uidvalidity ' || x.uidvalidity ELSE 'inbound #' || x.inbound_id "
			"|| "
			"', ' || x.size || ' bytes, Message-ID ' || COALESCE(x.message_id, '-') "
			"END, "
			"COALESCE(x.decision || ' by ' || x.decided_by_name || ' at ' || "
			"x.decided_at, 'not yet'), COALESCE(x.head, '')) FROM (SELECT %s FROM "
			"quarantine q LEFT JOIN inbound i ON i.id = q.inbound_id WHERE q.id = "
			"$1::bigint) x",
			cols);
	int rc = db_exec(db, sql, 1, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no quarantine entry %s", b);
	}
	g_ptr_array_add(lines, g_strdup(dbres_get(r, 0, 0)));
	dbres_free(r);
	return 0;
}

int store_contact_client(Db *db, const char *email, int64_t *client_id_r, DmError *err)
{
	const char *p[] = {email};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT client_id FROM contact WHERE email = lower($1) AND removed_at IS "
			 "NULL",
			 1, p, &r, err);
	if (rc)
		return rc;
	*client_id_r = dbres_rows(r) ? dbres_i64(r, 0, 0, 0) : 0;
	dbres_free(r);
	return *client_id_r ? 0
			    : dm_error_set(err, DM_ENOTFOUND, "%s is not a named contact", email);
}
