/* mailbox.c - an IMAP mailbox's state: its row (UIDVALIDITY and the last
 * UID done), the advisory lock that keeps one poller per mailbox, and
 * mailbox_seen, which remembers the committed UIDs not yet marked on the
 * server so that a crash between the commit and the mark is repaired by the
 * next poll.  The per-mail checkpoint itself is written with the mail's
 * other rows (ingest.c). */
#include "store-private.h"

#define POLL_LOCK_CLASS "7291005"

int store_mailbox_open(Db *db, const char *url, const char *username, bool adopt, int64_t *id_r,
		       uint32_t *uidvalidity_r, uint32_t *last_uid_r, DmError *err)
{
	const char *p[] = {url, username};
	DbRes *r = NULL;
	/* a row from before 012_mailboxes.sql (no user name) is adopted by the
	 * one account configured on its URL (adopt); with several on one URL
	 * nobody can tell whose it was, and taking another account's
	 * checkpoint would skip its mail: the row is left alone.  Two pollers
	 * adopting at once are serialised by the row lock, and the second
	 * finds it taken */
	int rc = !adopt ? 0
			: db_exec(db,
				  "UPDATE mailbox SET username = $2 WHERE url = $1 AND username = "
				  "'' AND "
				  "NOT EXISTS (SELECT 1 FROM mailbox WHERE url = $1 AND username = "
				  "$2)",
				  2, p, NULL, err);
	if (rc == 0)
		rc = db_exec(
			db,
			"INSERT INTO mailbox (url, username) VALUES ($1, $2) ON CONFLICT (url, "
			"username) DO UPDATE SET url = EXCLUDED.url RETURNING id, uidvalidity, "
			"last_uid",
			2, p, &r, err);
	if (rc)
		return rc;
	*id_r = dbres_i64(r, 0, 0, 0);
	*uidvalidity_r = (uint32_t)dbres_i64(r, 0, 1, 0);
	*last_uid_r = (uint32_t)dbres_i64(r, 0, 2, 0);
	dbres_free(r);
	return 0;
}

int store_mailbox_lock(Db *db, int64_t id, bool *locked_r, DmError *err)
{
	char b[24];
	const char *p[] = {POLL_LOCK_CLASS, i64s(b, id)};
	DbRes *r = NULL;
	int rc = db_exec(db, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, p, &r, err);
	if (rc == 0)
		*locked_r = dbres_bool(r, 0, 0);
	dbres_free(r);
	return rc;
}

void store_mailbox_unlock(Db *db, int64_t id)
{
	char b[24];
	const char *p[] = {POLL_LOCK_CLASS, i64s(b, id)};
	db_exec(db, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, p, NULL, NULL);
}

int store_mailbox_reset(Db *db, int64_t id, const char *url, uint32_t old_uidvalidity,
			uint32_t uidvalidity, DmError *err)
{
	char mb[24], u[24], o[24];
	const char *p[] = {i64s(mb, id), i64s(u, uidvalidity)};
	int rc = db_exec(
		db,
		"UPDATE mailbox SET uidvalidity = $2::bigint, last_uid = 0, updated_at = dm_now() "
		"WHERE id = $1::bigint",
		2, p, NULL, err);
	if (rc == 0 && old_uidvalidity != 0)
		rc = store_event_add(db, 0, "mailbox-uidvalidity-changed", "deskmail",
				     "uidvalidity", i64s(o, old_uidvalidity), u, url, err);
	return rc;
}

int store_mailbox_advance(Db *db, int64_t id, uint32_t uidvalidity, uint32_t uid, DmError *err)
{
	char mb[24], u[24], v[24];
	const char *p[] = {i64s(mb, id), i64s(v, uidvalidity), i64s(u, uid)};
	return db_exec(db,
		       "UPDATE mailbox SET last_uid = GREATEST(last_uid, $3::bigint), updated_at = "
		       "dm_now() "
		       "WHERE id = $1::bigint AND uidvalidity = $2::bigint",
		       3, p, NULL, err);
}

int store_mailbox_unmarked(Db *db, int64_t id, uint32_t uidvalidity, size_t max, GArray *uids,
			   DmError *err)
{
	char mb[24], v[24], n[24];
	const char *p[] = {i64s(mb, id), i64s(v, uidvalidity), i64s(n, (int64_t)max)};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT uid FROM mailbox_seen WHERE mailbox_id = $1::bigint AND "
			 "uidvalidity = $2::bigint AND NOT marked ORDER BY uid LIMIT $3::int",
			 3, p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++) {
		uint32_t uid = (uint32_t)dbres_i64(r, i, 0, 0);
		g_array_append_val(uids, uid);
	}
	dbres_free(r);
	return 0;
}

int store_mailbox_marked(Db *db, int64_t id, uint32_t uidvalidity, const uint32_t *uids, size_t n,
			 DmError *err)
{
	if (n == 0)
		return 0;
	GString *s = g_string_new("{");
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s%u", i ? "," : "", uids[i]);
	g_string_append_c(s, '}');
	char mb[24], v[24];
	const char *p[] = {i64s(mb, id), i64s(v, uidvalidity), s->str};
	int rc = db_exec(db,
			 "UPDATE mailbox_seen SET marked = true WHERE mailbox_id = $1::bigint AND "
			 "uidvalidity = $2::bigint AND uid = ANY ($3::bigint[])",
			 3, p, NULL, err);
	g_string_free(s, TRUE);
	return rc;
}
