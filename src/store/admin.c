/* admin.c - the SQL of the administration commands: clients, contacts and
 * staff, which change often and so live in the database, and the audit
 * events the operator's changes leave.  The checks that need no database
 * (a plan exists, an address is well formed, a role is known) are the
 * command line's. */
#include <string.h>

#include "store-private.h"

int store_event_add(Db *db, int64_t ticket_id, const char *kind, const char *actor,
		    const char *field, const char *before, const char *after, const char *detail,
		    DmError *err)
{
	char tb[24];
	const char *p[] = {i64n(tb, ticket_id), kind, actor, field, before, after, detail};
	return db_exec(db,
		       "INSERT INTO event (ticket_id, kind, actor, staff_id, field, before, after, "
		       "detail) VALUES ($1::bigint, $2, $3, (SELECT id FROM staff WHERE email = "
		       "lower($3)), $4, $5, $6, $7)",
		       7, p, NULL, err);
}

int store_client_find(Db *db, const char *name, int64_t *id_r, DmError *err)
{
	const char *p[] = {name};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT id FROM client WHERE lower(name) = lower($1) OR id::text = $1 "
			 "ORDER BY lower(name) = lower($1) DESC LIMIT 1",
			 1, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no client named '%s'", name);
	}
	*id_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return 0;
}

int store_client_add(Db *db, const char *name, const char *plan, int64_t *id_r, DmError *err)
{
	const char *p[] = {name, plan};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "INSERT INTO client (name, plan) VALUES ($1, $2) ON CONFLICT DO NOTHING "
			 "RETURNING id",
			 2, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_EPERM, "client '%s' exists already", name);
	}
	*id_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return store_event_add(db, 0, "client-added", "operator", "client", NULL, name, plan, err);
}

int store_client_set_level(Db *db, int64_t id, const char *plan, bool set_calendar,
			   const char *calendar, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), plan, set_calendar ? "t" : "f", calendar};
	/* the open tickets' clocks are derived again by the next pass, with
	 * the new targets or calendar and the time already used */
	return db_exec(
		db,
		"WITH c AS (UPDATE client SET plan = COALESCE($2, plan), calendar = CASE WHEN "
		"$3::boolean THEN $4 ELSE calendar END WHERE id = $1::bigint RETURNING id) "
		"UPDATE ticket SET sla_next_at = dm_now() WHERE client_id IN (SELECT id FROM c) "
		"AND status <> 'closed'",
		4, p, NULL, err);
}

int store_staff_set_manager(Db *db, const char *email, bool manager, DmError *err)
{
	const char *p[] = {email, manager ? "t" : "f"};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "UPDATE staff SET is_manager = $2::boolean WHERE email = lower($1) "
			 "RETURNING id",
			 2, p, &r, err);
	if (rc)
		return rc;
	int n = dbres_rows(r);
	dbres_free(r);
	return n ? 0 : dm_error_set(err, DM_ENOTFOUND, "no staff member '%s'", email);
}

int store_client_set_account_manager(Db *db, int64_t id, const char *email, DmError *err)
{
	char b[24];
	const char *p[] = {i64s(b, id), email};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "UPDATE client SET account_manager_id = s.id FROM staff s WHERE client.id "
			 "= $1::bigint AND s.email = lower($2) RETURNING s.id",
			 2, p, &r, err);
	if (rc)
		return rc;
	int n = dbres_rows(r);
	dbres_free(r);
	return n ? 0 : dm_error_set(err, DM_ENOTFOUND, "no staff member '%s'", email);
}

int store_contact_check(Db *db, int64_t client_id, const char *addr, char **client_name_r,
			char **plan_r, int64_t *count_r, char **other_client_r, DmError *err)
{
	char cb[24];
	const char *p[] = {i64s(cb, client_id), addr};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "SELECT cl.name, cl.plan, (SELECT count(*) FROM contact k WHERE "
			 "k.client_id = cl.id AND k.removed_at IS NULL), (SELECT c2.name FROM "
			 "contact k JOIN client c2 ON c2.id = k.client_id WHERE k.email = $2 AND "
			 "k.removed_at IS NULL) FROM client cl WHERE cl.id = $1::bigint",
			 2, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no client %s", cb);
	}
	*client_name_r = dbres_dup(r, 0, 0);
	*plan_r = dbres_dup(r, 0, 1);
	*count_r = dbres_i64(r, 0, 2, 0);
	*other_client_r = dbres_dup(r, 0, 3);
	dbres_free(r);
	return 0;
}

int store_contact_add(Db *db, int64_t client_id, const char *addr, const char *name, DmError *err)
{
	char cb[24];
	const char *p[] = {i64s(cb, client_id), addr, name};
	return db_exec(
		db,
		"INSERT INTO contact (client_id, email, name) VALUES ($1::bigint, lower($2), $3)",
		3, p, NULL, err);
}

int store_contact_remove(Db *db, int64_t client_id, const char *email, DmError *err)
{
	char cb[24];
	const char *p[] = {i64s(cb, client_id), email};
	DbRes *r = NULL;
	int rc =
		db_exec(db,
			"UPDATE contact SET removed_at = dm_now() WHERE client_id = $1::bigint AND "
			"email = lower($2) AND removed_at IS NULL RETURNING id",
			2, p, &r, err);
	if (rc)
		return rc;
	int n = dbres_rows(r);
	dbres_free(r);
	return n ? 0 : DM_ENOTFOUND;
}

int store_staff_add(Db *db, const char *email, const char *name, const char *role, int line,
		    bool *added_r, DmError *err)
{
	char lb[24];
	const char *p[] = {email, name, role, i64s(lb, line)};
	DbRes *r = NULL;
	int rc = db_exec(db,
			 "INSERT INTO staff (email, name, role, line) VALUES (lower($1), $2, $3, "
			 "$4::smallint) ON CONFLICT DO NOTHING RETURNING id",
			 4, p, &r, err);
	if (rc == 0)
		*added_r = dbres_rows(r) > 0;
	dbres_free(r);
	return rc;
}

int store_client_show(Db *db, const char *name, int64_t month_start, ClientShow *out, DmError *err)
{
	char mb[24];
	const char *p[] = {name, i64s(mb, month_start)};
	DbRes *r = NULL;
	int rc = db_exec(
		db,
		"SELECT c.id, c.name, c.plan, c.calendar, s.email, (SELECT count(*) FROM contact k "
		"WHERE k.client_id = c.id AND k.removed_at IS NULL), (SELECT count(*) FROM ticket "
		"t WHERE t.client_id = c.id AND t.status <> 'closed'), (SELECT "
		"COALESCE(sum(te.minutes), 0) FROM time_entry te WHERE te.client_id = c.id AND "
		"te.created_at >= to_timestamp($2::bigint)) FROM client c LEFT JOIN staff s ON "
		"s.id = c.account_manager_id WHERE lower(c.name) = lower($1)",
		2, p, &r, err);
	if (rc)
		return rc;
	if (dbres_rows(r) == 0) {
		dbres_free(r);
		return dm_error_set(err, DM_ENOTFOUND, "no client '%s'", name);
	}
	out->id = dbres_i64(r, 0, 0, 0);
	out->name = dbres_dup(r, 0, 1);
	out->plan = dbres_dup(r, 0, 2);
	out->calendar = dbres_dup(r, 0, 3);
	out->account_manager = dbres_dup(r, 0, 4);
	out->contacts = dbres_i64(r, 0, 5, 0);
	out->open_tickets = dbres_i64(r, 0, 6, 0);
	out->month_minutes = dbres_i64(r, 0, 7, 0);
	dbres_free(r);
	return 0;
}

void client_show_clear(ClientShow *c)
{
	g_free(c->name);
	g_free(c->plan);
	g_free(c->calendar);
	g_free(c->account_manager);
	memset(c, 0, sizeof *c);
}
