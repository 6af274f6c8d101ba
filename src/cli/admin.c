/* admin.c - clients, contacts and staff, which change often and so live in
 * the database: `deskmail client|contact|staff ...`.  Addresses are stored
 * lower-cased, so they compare case-insensitively; a plan must exist in the
 * configuration; a plan's max_contacts is enforced when a contact is added.
 * The SQL is the store's (src/store/admin.c); this file checks the
 * arguments and prints. */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/command.h"
#include "deskmail/desk.h"
#include "deskmail/util.h"

static int usage(DmError *err, const char *text)
{
	return dm_error_set(err, DM_EUSAGE, "usage: deskmail %s", text);
}

static int lines(int rc, GPtrArray *l)
{
	if (rc == 0)
		cli_print_lines(l);
	else
		g_ptr_array_free(l, TRUE);
	return rc;
}

static GPtrArray *new_lines(void)
{
	return g_ptr_array_new_with_free_func(g_free);
}

/* A client with its plan's service levels and its hours this month. */
static int client_show(const Config *cfg, Db *db, const char *name, bool json, DmError *err)
{
	char month[8];
	int64_t start = desk_month_start(cfg, dm_now(), month);
	ClientShow c = {0};
	int rc = store_client_show(db, name, start, &c, err);
	if (rc)
		return rc;
	const CfgPlan *plan = cfg_plan(cfg, c.plan);
	const WtCalendar *cal = cfg_ticket_calendar(cfg, c.calendar, plan);
	int allowance = plan ? plan->hours_per_month : 0;
	double used_h = (double)c.month_minutes / 60.0;
	if (json) {
		JsonBuilder *b = json_builder_new();
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "id");
		json_builder_add_int_value(b, c.id);
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, c.name);
		json_builder_set_member_name(b, "plan");
		json_builder_add_string_value(b, c.plan ? c.plan : "");
		json_builder_set_member_name(b, "plan_known");
		json_builder_add_boolean_value(b, plan != NULL);
		json_builder_set_member_name(b, "calendar");
		json_builder_add_string_value(b, wt_calendar_name(cal));
		json_builder_set_member_name(b, "account_manager");
		if (c.account_manager)
			json_builder_add_string_value(b, c.account_manager);
		else
			json_builder_add_null_value(b);
		json_builder_set_member_name(b, "contacts");
		json_builder_add_int_value(b, c.contacts);
		json_builder_set_member_name(b, "open_tickets");
		json_builder_add_int_value(b, c.open_tickets);
		json_builder_set_member_name(b, "month");
		json_builder_add_string_value(b, month);
		json_builder_set_member_name(b, "minutes_this_month");
		json_builder_add_int_value(b, c.month_minutes);
		json_builder_set_member_name(b, "hours_per_month");
		json_builder_add_int_value(b, allowance);
		json_builder_set_member_name(b, "allowance_used_percent");
		if (allowance)
			json_builder_add_int_value(b, c.month_minutes * 100 /
							      ((int64_t)allowance * 60));
		else
			json_builder_add_null_value(b);
		json_builder_end_object(b);
		cli_print_json(b);
	} else {
		printf("Client %lld: %s\nPlan:            %s%s\nCalendar:        %s (%s)\n"
		       "Account manager: %s\nContacts:        %lld\nOpen tickets:    %lld\n",
		       (long long)c.id, c.name, c.plan ? c.plan : "-",
		       plan ? "" : " (not in the configuration)", wt_calendar_name(cal),
		       wt_calendar_timezone(cal), c.account_manager ? c.account_manager : "-",
		       (long long)c.contacts, (long long)c.open_tickets);
		if (allowance)
			printf("Hours in %s:   %.2f of %d (%lld%%)\n", month, used_h, allowance,
			       (long long)(c.month_minutes * 100 / ((int64_t)allowance * 60)));
		else
			printf("Hours in %s:   %.2f (no allowance)\n", month, used_h);
	}
	client_show_clear(&c);
	return 0;
}

static int client_cmd(const Config *cfg, Db *db, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 0 ? argv[0] : "";
	argc--, argv++;
	if (strcmp(sub, "add") == 0) {
		const char *name = cli_pos(argc, argv, 0), *plan = cli_opt(argc, argv, "--plan");
		if (name == NULL || plan == NULL)
			return usage(err, "client add NAME --plan PLAN");
		if (cfg_plan(cfg, plan) == NULL)
			return dm_error_set(err, DM_EPERM, "plan '%s' is not in the configuration",
					    plan);
		g_autofree char *clean = g_strstrip(g_strdup(name));
		if (*clean == '\0' || !g_utf8_validate(clean, -1, NULL))
			return dm_error_set(err, DM_EPERM, "a client needs a name");
		int64_t id;
		int rc = store_client_add(db, clean, plan, &id, err);
		if (rc == 0)
			printf("client %lld: %s (plan %s)\n", (long long)id, clean, plan);
		return rc;
	}
	if (strcmp(sub, "set") == 0) {
		const char *name = cli_pos(argc, argv, 0);
		const char *am = cli_opt(argc, argv, "--account-manager"),
			   *plan = cli_opt(argc, argv, "--plan"),
			   *cal = cli_opt(argc, argv, "--calendar");
		if (name == NULL || (am == NULL && plan == NULL && cal == NULL))
			return usage(err, "client set NAME [--account-manager EMAIL] [--plan PLAN] "
					  "[--calendar CALENDAR|none]");
		if (cal && strcmp(cal, "none") != 0 &&
		    (cfg_calendar(cfg, cal) == NULL || cfg->default_calendar))
			return dm_error_set(err, DM_EPERM,
					    "calendar '%s' is not in the configuration", cal);
		if (plan && cfg_plan(cfg, plan) == NULL)
			return dm_error_set(err, DM_EPERM, "plan '%s' is not in the configuration",
					    plan);
		int64_t cid;
		int rc = store_client_find(db, name, &cid, err);
		if (rc)
			return rc;
		if (plan || cal) {
			rc = store_client_set_level(db, cid, plan, cal != NULL,
						    cal && strcmp(cal, "none") ? cal : NULL, err);
			if (rc)
				return rc;
		}
		if (am) {
			rc = store_client_set_account_manager(db, cid, am, err);
			if (rc)
				return rc;
		}
		printf("client %lld updated\n", (long long)cid);
		return store_event_add(db, 0, "client-updated", "operator", "client", NULL, name,
				       am     ? am
				       : plan ? plan
					      : cal,
				       err);
	}
	if (strcmp(sub, "list") == 0) {
		GPtrArray *l = new_lines();
		return lines(store_client_report(db, cli_flag(argc, argv, "--json"), l, err), l);
	}
	if (strcmp(sub, "show") == 0) {
		const char *name = cli_pos(argc, argv, 0);
		if (name == NULL)
			return usage(err, "client show NAME [--json]");
		return client_show(cfg, db, name, cli_flag(argc, argv, "--json"), err);
	}
	return usage(err, "client add|set|show|list ...");
}

static int contact_cmd(const Config *cfg, Db *db, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 0 ? argv[0] : "";
	argc--, argv++;
	if (strcmp(sub, "add") == 0) {
		const char *client = cli_pos(argc, argv, 0), *email = cli_pos(argc, argv, 1);
		const char *name = cli_opt(argc, argv, "--name");
		if (client == NULL || email == NULL)
			return usage(err, "contact add CLIENT EMAIL [--name NAME]");
		g_autofree char *addr = g_utf8_strdown(email, -1);
		g_strstrip(addr);
		if (!dm_addr_valid(addr))
			return dm_error_set(err, DM_EPERM, "'%s' is not an e-mail address", email);
		int64_t cid;
		int rc = store_client_find(db, client, &cid, err);
		if (rc)
			return rc;
		rc = desk_contact_add(cfg, db, cid, addr, name, "operator", err);
		if (rc == 0)
			printf("contact %s added to client %s\n", addr, client);
		return rc;
	}
	if (strcmp(sub, "remove") == 0) {
		const char *client = cli_pos(argc, argv, 0), *email = cli_pos(argc, argv, 1);
		if (client == NULL || email == NULL)
			return usage(err, "contact remove CLIENT EMAIL");
		int64_t cid;
		int rc = store_client_find(db, client, &cid, err);
		if (rc)
			return rc;
		rc = store_contact_remove(db, cid, email, err);
		if (rc == DM_ENOTFOUND)
			return dm_error_set(err, DM_ENOTFOUND, "%s is not a contact of client '%s'",
					    email, client);
		if (rc)
			return rc;
		printf("contact %s removed from client %s\n", email, client);
		return store_event_add(db, 0, "contact-removed", "operator", "contact", email, NULL,
				       client, err);
	}
	if (strcmp(sub, "list") == 0) {
		const char *client = cli_pos(argc, argv, 0);
		int64_t cid = 0;
		if (client) {
			int rc = store_client_find(db, client, &cid, err);
			if (rc)
				return rc;
		}
		GPtrArray *l = new_lines();
		return lines(store_contact_report(db, cid, cli_flag(argc, argv, "--json"), l, err),
			     l);
	}
	return usage(err, "contact add|remove|list ...");
}

static int staff_cmd(Db *db, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 0 ? argv[0] : "";
	argc--, argv++;
	if (strcmp(sub, "add") == 0) {
		const char *email = cli_pos(argc, argv, 0), *name = cli_opt(argc, argv, "--name");
		const char *role = cli_opt(argc, argv, "--role"),
			   *line = cli_opt(argc, argv, "--line");
		if (email == NULL || name == NULL || role == NULL)
			return usage(err, "staff add EMAIL --name NAME --role ROLE [--line 1|2|3] "
					  "[--manager]");
		if (!command_in_list(staff_roles, role))
			return dm_error_set(err, DM_EPERM,
					    "role '%s' is not one of account-manager, "
					    "project-manager, senior-engineer, junior-engineer",
					    role);
		int64_t l = 1;
		if (line && dm_parse_i64(line, 1, 3, &l) != 0)
			return dm_error_set(err, DM_EPERM, "--line must be 1, 2 or 3");
		g_autofree char *addr = g_utf8_strdown(email, -1);
		g_strstrip(addr);
		if (!dm_addr_valid(addr))
			return dm_error_set(err, DM_EPERM, "'%s' is not an e-mail address", email);
		bool added = false;
		int rc = store_staff_add(db, addr, name, role, (int)l, &added, err);
		if (rc)
			return rc;
		if (!added)
			return dm_error_set(err, DM_EPERM, "staff member %s exists already", addr);
		if (cli_flag(argc, argv, "--manager")) {
			rc = store_staff_set_manager(db, addr, true, err);
			if (rc)
				return rc;
		}
		printf("staff %s (%s, %s, line %lld) added\n", addr, name, role, (long long)l);
		return store_event_add(db, 0, "staff-added", "operator", "staff", NULL, addr, role,
				       err);
	}
	if (strcmp(sub, "list") == 0) {
		GPtrArray *l = new_lines();
		return lines(store_staff_report(db, cli_flag(argc, argv, "--json"), l, err), l);
	}
	if (strcmp(sub, "set") == 0) {
		const char *email = cli_pos(argc, argv, 0);
		bool on = cli_flag(argc, argv, "--manager"),
		     off = cli_flag(argc, argv, "--no-manager");
		if (email == NULL || on == off)
			return usage(err, "staff set EMAIL --manager|--no-manager");
		int rc = store_staff_set_manager(db, email, on, err);
		if (rc)
			return rc;
		printf("staff %s: %s\n", email,
		       on ? "a manager (receives the breach digest)" : "not a manager");
		return store_event_add(db, 0, "staff-updated", "operator", "is_manager", NULL,
				       email, on ? "true" : "false", err);
	}
	return usage(err, "staff add|set|list ...");
}

int admin_main(const Config *cfg, Db *db, int argc, char **argv, DmError *err)
{
	if (argc < 1)
		return usage(err, "client|contact|staff ...");
	if (strcmp(argv[0], "client") == 0)
		return client_cmd(cfg, db, argc - 1, argv + 1, err);
	if (strcmp(argv[0], "contact") == 0)
		return contact_cmd(cfg, db, argc - 1, argv + 1, err);
	if (strcmp(argv[0], "staff") == 0)
		return staff_cmd(db, argc - 1, argv + 1, err);
	return usage(err, "client|contact|staff ...");
}
