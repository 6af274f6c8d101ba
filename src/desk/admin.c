/* admin.c - clients, contacts and staff, which change often and so live in
 * the database: `deskmail client|contact|staff ...`.  Addresses are stored
 * lower-cased, so they compare case-insensitively; a plan must exist in the
 * configuration; a plan's max_contacts is enforced when a contact is added. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/command.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

static int usage(DmError *err, const char *text)
{
	return dm_error_set(err, DM_EPERM, "usage: deskmail %s", text);
}

/* The id of client NAME (case-insensitive) or #ID. */
static int find_client(Desk *desk, const char *name, int64_t *id_r, DmError *err)
{
	const char *p[] = {name};
	DbRes *r = NULL;
	int rc = db_exec(desk->db,
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

static int client_cmd(Desk *desk, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 0 ? argv[0] : "";
	argc--, argv++;
	if (strcmp(sub, "add") == 0) {
		const char *name = cli_pos(argc, argv, 0), *plan = cli_opt(argc, argv, "--plan");
		if (name == NULL || plan == NULL)
			return usage(err, "client add NAME --plan PLAN");
		if (cfg_plan(desk->cfg, plan) == NULL)
			return dm_error_set(err, DM_EPERM, "plan '%s' is not in the configuration",
					    plan);
		g_autofree char *clean = g_strstrip(g_strdup(name));
		if (*clean == '\0' || !g_utf8_validate(clean, -1, NULL))
			return dm_error_set(err, DM_EPERM, "a client needs a name");
		const char *p[] = {clean, plan};
		DbRes *r = NULL;
		int rc = db_exec(desk->db,
				 "INSERT INTO client (name, plan) VALUES ($1, $2) "
				 "ON CONFLICT DO NOTHING RETURNING id",
				 2, p, &r, err);
		if (rc)
			return rc;
		if (dbres_rows(r) == 0) {
			dbres_free(r);
			return dm_error_set(err, DM_EPERM, "client '%s' exists already", clean);
		}
		printf("client %s: %s (plan %s)\n", dbres_get(r, 0, 0), clean, plan);
		dbres_free(r);
		return desk_event(desk, 0, "client-added", "operator", "client", NULL, clean, plan,
				  err);
	}
	if (strcmp(sub, "set") == 0) {
		const char *name = cli_pos(argc, argv, 0);
		const char *am = cli_opt(argc, argv, "--account-manager"),
			   *plan = cli_opt(argc, argv, "--plan");
		if (name == NULL || (am == NULL && plan == NULL))
			return usage(err,
				     "client set NAME [--account-manager EMAIL] [--plan PLAN]");
		int64_t cid;
		int rc = find_client(desk, name, &cid, err);
		if (rc)
			return rc;
		char cb[24];
		i64s(cb, cid);
		if (plan) {
			if (cfg_plan(desk->cfg, plan) == NULL)
				return dm_error_set(err, DM_EPERM,
						    "plan '%s' is not in the configuration", plan);
			const char *p[] = {cb, plan};
			rc = db_exec(desk->db, "UPDATE client SET plan = $2 WHERE id = $1::bigint",
				     2, p, NULL, err);
			if (rc)
				return rc;
		}
		if (am) {
			const char *p[] = {cb, am};
			DbRes *r = NULL;
			rc = db_exec(desk->db,
				     "UPDATE client SET account_manager_id = s.id FROM staff s "
				     "WHERE client.id = $1::bigint AND s.email = lower($2) "
				     "RETURNING s.id",
				     2, p, &r, err);
			if (rc)
				return rc;
			int n = dbres_rows(r);
			dbres_free(r);
			if (n == 0)
				return dm_error_set(err, DM_ENOTFOUND, "no staff member '%s'", am);
		}
		printf("client %s updated\n", cb);
		return desk_event(desk, 0, "client-updated", "operator", "client", NULL, name,
				  am ? am : plan, err);
	}
	if (strcmp(sub, "list") == 0) {
		if (cli_flag(argc, argv, "--json"))
			return cli_print(
				desk,
				"SELECT COALESCE(json_agg(json_build_object('id', c.id, 'name', "
				"c.name, "
				"'plan', c.plan, 'account_manager', s.email, 'contacts', "
				"(SELECT count(*) FROM contact k WHERE k.client_id = c.id AND "
				"k.removed_at IS NULL), 'created_at', c.created_at) ORDER BY "
				"c.id), "
				"'[]') FROM client c LEFT JOIN staff s ON s.id = "
				"c.account_manager_id",
				0, NULL, NULL, err);
		return cli_print(
			desk,
			"SELECT format('%s\t%s\t%s\tcontacts=%s\taccount-manager=%s', c.id, "
			"c.name, c.plan, (SELECT count(*) FROM contact k WHERE k.client_id = "
			"c.id AND k.removed_at IS NULL), COALESCE(s.email, '-')) FROM client c "
			"LEFT JOIN staff s ON s.id = c.account_manager_id ORDER BY c.id",
			0, NULL, NULL, err);
	}
	return usage(err, "client add|set|list ...");
}

static int contact_cmd(Desk *desk, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 0 ? argv[0] : "";
	argc--, argv++;
	if (strcmp(sub, "add") == 0) {
		const char *client = cli_pos(argc, argv, 0), *email = cli_pos(argc, argv, 1);
		const char *name = cli_opt(argc, argv, "--name");
		if (client == NULL || email == NULL)
			return usage(err, "contact add CLIENT EMAIL [--name NAME]");
		g_autofree char *addr = g_ascii_strdown(email, -1);
		g_strstrip(addr);
		if (!dm_addr_valid(addr))
			return dm_error_set(err, DM_EPERM, "'%s' is not an e-mail address", email);
		int64_t cid;
		int rc = find_client(desk, client, &cid, err);
		if (rc)
			return rc;
		char cb[24];
		const char *p[] = {i64s(cb, cid), addr};
		DbRes *r = NULL;
		rc = db_exec(desk->db,
			     "SELECT cl.name, cl.plan, (SELECT count(*) FROM contact k WHERE "
			     "k.client_id = cl.id AND k.removed_at IS NULL), (SELECT c2.name FROM "
			     "contact "
			     "k JOIN client c2 ON c2.id = k.client_id WHERE k.email = $2 AND "
			     "k.removed_at IS NULL) FROM client cl WHERE cl.id = $1::bigint",
			     2, p, &r, err);
		if (rc)
			return rc;
		g_autofree char *cname = g_strdup(dbres_get(r, 0, 0));
		const CfgPlan *plan = cfg_plan(desk->cfg, dbres_get(r, 0, 1));
		int64_t count = dbres_i64(r, 0, 2, 0);
		g_autofree char *other = g_strdup(dbres_get(r, 0, 3));
		dbres_free(r);
		if (other)
			return dm_error_set(err, DM_EPERM, "%s is already a contact of client '%s'",
					    addr, other);
		if (plan && plan->max_contacts > 0 && count >= plan->max_contacts)
			return dm_error_set(
				err, DM_EPERM,
				"client '%s' has %lld contact(s); plan %s allows at most %d", cname,
				(long long)count, plan->name, plan->max_contacts);
		const char *ip[] = {cb, addr, name};
		rc = db_exec(
			desk->db,
			"INSERT INTO contact (client_id, email, name) VALUES ($1::bigint, $2, $3)",
			3, ip, NULL, err);
		if (rc)
			return rc;
		printf("contact %s added to client %s\n", addr, cname);
		return desk_event(desk, 0, "contact-added", "operator", "contact", NULL, addr,
				  cname, err);
	}
	if (strcmp(sub, "remove") == 0) {
		const char *client = cli_pos(argc, argv, 0), *email = cli_pos(argc, argv, 1);
		if (client == NULL || email == NULL)
			return usage(err, "contact remove CLIENT EMAIL");
		int64_t cid;
		int rc = find_client(desk, client, &cid, err);
		if (rc)
			return rc;
		char cb[24];
		const char *p[] = {i64s(cb, cid), email};
		DbRes *r = NULL;
		rc = db_exec(
			desk->db,
			"UPDATE contact SET removed_at = now() WHERE client_id = $1::bigint AND "
			"email = lower($2) AND removed_at IS NULL RETURNING id",
			2, p, &r, err);
		if (rc)
			return rc;
		int n = dbres_rows(r);
		dbres_free(r);
		if (n == 0)
			return dm_error_set(err, DM_ENOTFOUND, "%s is not a contact of client '%s'",
					    email, client);
		printf("contact %s removed from client %s\n", email, client);
		return desk_event(desk, 0, "contact-removed", "operator", "contact", email, NULL,
				  client, err);
	}
	if (strcmp(sub, "list") == 0) {
		const char *client = cli_pos(argc, argv, 0);
		char cb[24];
		const char *p[] = {NULL};
		if (client) {
			int64_t cid;
			int rc = find_client(desk, client, &cid, err);
			if (rc)
				return rc;
			p[0] = i64s(cb, cid);
		}
		if (cli_flag(argc, argv, "--json"))
			return cli_print(
				desk,
				"SELECT COALESCE(json_agg(json_build_object('id', k.id, 'client', "
				"c.name, "
				"'email', k.email, 'name', k.name, 'created_at', k.created_at) "
				"ORDER BY "
				"c.name, k.email), '[]') FROM contact k JOIN client c ON c.id = "
				"k.client_id WHERE k.removed_at IS NULL AND ($1::bigint IS NULL OR "
				"c.id = $1::bigint)",
				1, p, NULL, err);
		return cli_print(
			desk,
			"SELECT format('%s\t%s\t%s', c.name, k.email, COALESCE(k.name, '')) "
			"FROM contact k JOIN client c ON c.id = k.client_id WHERE "
			"k.removed_at IS NULL AND ($1::bigint IS NULL OR c.id = $1::bigint) "
			"ORDER BY c.name, k.email",
			1, p, NULL, err);
	}
	return usage(err, "contact add|remove|list ...");
}

static int staff_cmd(Desk *desk, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 0 ? argv[0] : "";
	argc--, argv++;
	if (strcmp(sub, "add") == 0) {
		const char *email = cli_pos(argc, argv, 0), *name = cli_opt(argc, argv, "--name");
		const char *role = cli_opt(argc, argv, "--role"),
			   *line = cli_opt(argc, argv, "--line");
		if (email == NULL || name == NULL || role == NULL)
			return usage(err, "staff add EMAIL --name NAME --role ROLE [--line 1|2|3]");
		if (!command_in_list(staff_roles, role))
			return dm_error_set(err, DM_EPERM,
					    "role '%s' is not one of account-manager, "
					    "project-manager, senior-engineer, junior-engineer",
					    role);
		int64_t l = 1;
		if (line && dm_parse_i64(line, 1, 3, &l) != 0)
			return dm_error_set(err, DM_EPERM, "--line must be 1, 2 or 3");
		g_autofree char *addr = g_ascii_strdown(email, -1);
		g_strstrip(addr);
		if (!dm_addr_valid(addr))
			return dm_error_set(err, DM_EPERM, "'%s' is not an e-mail address", email);
		char lb[24];
		const char *p[] = {addr, name, role, i64s(lb, l)};
		DbRes *r = NULL;
		int rc = db_exec(desk->db,
				 "INSERT INTO staff (email, name, role, line) VALUES ($1, $2, $3, "
				 "$4::smallint) ON CONFLICT DO NOTHING RETURNING id",
				 4, p, &r, err);
		if (rc)
			return rc;
		int n = dbres_rows(r);
		dbres_free(r);
		if (n == 0)
			return dm_error_set(err, DM_EPERM, "staff member %s exists already", addr);
		printf("staff %s (%s, %s, line %s) added\n", addr, name, role, lb);
		return desk_event(desk, 0, "staff-added", "operator", "staff", NULL, addr, role,
				  err);
	}
	if (strcmp(sub, "list") == 0) {
		if (cli_flag(argc, argv, "--json"))
			return cli_print(
				desk,
				"SELECT COALESCE(json_agg(json_build_object('id', id, 'email', "
				"email, 'name', name, 'role', role, 'line', line, 'active', "
				"active) ORDER BY id), '[]') FROM staff",
				0, NULL, NULL, err);
		return cli_print(
			desk,
			"SELECT format('%s\t%s\t%s\tline %s%s', email, name, role, line, "
			"CASE WHEN active THEN '' ELSE '\t(inactive)' END) FROM staff ORDER BY id",
			0, NULL, NULL, err);
	}
	return usage(err, "staff add|list ...");
}

int admin_main(Desk *desk, int argc, char **argv, DmError *err)
{
	if (argc < 1)
		return usage(err, "client|contact|staff ...");
	if (strcmp(argv[0], "client") == 0)
		return client_cmd(desk, argc - 1, argv + 1, err);
	if (strcmp(argv[0], "contact") == 0)
		return contact_cmd(desk, argc - 1, argv + 1, err);
	if (strcmp(argv[0], "staff") == 0)
		return staff_cmd(desk, argc - 1, argv + 1, err);
	return usage(err, "client|contact|staff ...");
}
