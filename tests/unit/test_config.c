/* test_config.c - cfg_load on temporary files: the minimal configuration from
 * the issue, the shipped example, and a table of broken files, each of which
 * must fail with DM_ECONFIG naming the right file and line. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deskmail/config.h"

static const char minimal_conf[] =
	"database = { conninfo = \"host=127.0.0.1 port=5432 dbname=deskmail user=deskmail\"; };\n"
	"imap = { url = \"imap://127.0.0.1:1143/INBOX\"; username = \"support\";\n"
	"         password = \"secret\"; /* or password_file = \"...\" */ poll_interval = 30; };\n"
	"smtp = { url = \"smtp://127.0.0.1:2525\"; /* username, password optional */ };\n"
	"desk = { name = \"Example Agency Support\"; address = \"support@agency.example\";\n"
	"         templates = \"templates\"; /* relative to the config file's folder */ };\n"
	"plans = { silver = { /* targets come with the SLA issue */ }; hosting = { }; };\n";

/* ---------- temporary folder ---------- */

static char *tmpdir;

static void tmp_setup(void)
{
	GError *gerr = NULL;
	tmpdir = g_dir_make_tmp("dmcfg-XXXXXX", &gerr);
	g_assert_no_error(gerr);
}

static void rm_tree(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	if (d != NULL) {
		const char *n;
		while ((n = g_dir_read_name(d)) != NULL) {
			g_autofree char *p = g_build_filename(path, n, NULL);
			if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
				rm_tree(p);
			else
				g_unlink(p);
		}
		g_dir_close(d);
	}
	g_rmdir(path);
}

static void tmp_teardown(void)
{
	rm_tree(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
}

/* Write tmpdir/name; returns the path (caller frees). */
static char *write_file(const char *name, const char *text)
{
	char *path = g_build_filename(tmpdir, name, NULL);
	GError *gerr = NULL;
	g_file_set_contents(path, text, -1, &gerr);
	g_assert_no_error(gerr);
	/* whatever the umask: password files others may read are refused */
	g_assert_cmpint(g_chmod(path, 0640), ==, 0);
	return path;
}

/* ---------- the minimal configuration ---------- */

static void test_minimal(void)
{
	tmp_setup();
	g_autofree char *path = write_file("deskmail.conf", minimal_conf);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = cfg_load(path, &cfg, &err);
	if (rc != 0)
		g_test_message("error: %s", err.msg);
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(cfg);

	g_assert_cmpstr(cfg->path, ==, path);
	g_assert_cmpstr(cfg->dir, ==, tmpdir);
	g_assert_cmpstr(cfg->db_conninfo, ==,
			"host=127.0.0.1 port=5432 dbname=deskmail user=deskmail");
	g_assert_cmpstr(cfg->mailboxes[0].url, ==, "imap://127.0.0.1:1143/INBOX");
	g_assert_cmpstr(cfg->mailboxes[0].username, ==, "support");
	g_assert_cmpstr(cfg->mailboxes[0].password, ==, "secret");
	g_assert_cmpint(cfg->mailboxes[0].poll_interval, ==, 30);
	g_assert_cmpstr(cfg->mailboxes[0].mark_flag, ==, "$Ticketed");
	g_assert_null(cfg->mailboxes[0].move_to);
	g_assert_cmpint(cfg->mailboxes[0].max_message_bytes, ==, 26214400);
	g_assert_true(cfg->mailboxes[0].tls_verify);
	g_assert_null(cfg->mailboxes[0].ca_file);
	g_assert_cmpint(cfg->mailboxes[0].timeout, ==, 60);
	g_assert_cmpint(cfg->mailboxes[0].batch, ==, 500);

	g_assert_cmpstr(cfg->smtp_url, ==, "smtp://127.0.0.1:2525");
	g_assert_null(cfg->smtp_username);
	g_assert_null(cfg->smtp_password);
	g_assert_null(cfg->smtp_helo);
	g_assert_cmpstr(cfg->smtp_starttls, ==, "try");
	g_assert_true(cfg->smtp_tls_verify);
	g_assert_null(cfg->smtp_ca_file);
	g_assert_cmpint(cfg->smtp_timeout, ==, 60);
	g_assert_cmpint(cfg->smtp_max_attempts, ==, 12);
	g_assert_cmpint(cfg->smtp_retry_base, ==, 60);
	g_assert_cmpint(cfg->smtp_retry_max, ==, 3600);

	g_assert_cmpstr(cfg->desk_name, ==, "Example Agency Support");
	g_assert_cmpstr(cfg->desk_address, ==, "support@agency.example");
	g_autofree char *tpl = g_build_filename(tmpdir, "templates", NULL);
	g_assert_cmpstr(cfg->desk_templates, ==, tpl);
	g_assert_cmpstr(cfg->desk_domain, ==, "agency.example");
	g_assert_cmpint(cfg->desk_max_auto_replies_per_hour, ==, 3);
	g_assert_cmpint(cfg->desk_max_acks_per_hour, ==, 0);
	g_assert_cmpint(cfg->desk_reopen_days, ==, 14);
	g_assert_cmpint(cfg->desk_attachment_max_bytes, ==, 10 * 1024 * 1024);
	g_assert_cmpint(cfg->desk_message_attachments_max_bytes, ==, 25 * 1024 * 1024);
	g_assert_false(cfg->desk_notify_account_manager);
	g_assert_false(cfg->desk_notify_attachments);

	g_assert_cmpstr(cfg->log_level, ==, "info");
	g_assert_false(cfg->log_syslog);

	/* no auth group: every From address is believed, and check-config
	 * says so */
	g_assert_false(cfg->auth_configured);
	g_assert_null(cfg->auth_trusted_id);
	g_assert_cmpint(cfg->auth_require, ==, CFG_AUTH_NONE);
	g_assert_cmpint(cfg->auth_staff_require, ==, CFG_AUTH_NONE);
	g_assert_cmpuint(cfg->n_warnings, ==, 2);
	g_assert_cmpstr(cfg->warnings[0], ==,
			"no auth group: anyone can write as staff or as a client contact "
			"(set auth.require and auth.staff_require)");
	/* no calendars: the built-in one, said */
	g_assert_cmpstr(cfg->warnings[1], ==,
			"no calendars: working time is Monday to Friday, 09:00-17:00 UTC (set "
			"calendars and desk.calendar)");
	g_assert_null(cfg->warnings[2]);
	g_assert_true(cfg->default_calendar);
	g_assert_cmpuint(cfg->n_calendars, ==, 1);
	g_assert_cmpint(wt_calendar_week_seconds(cfg->desk_cal), ==, 5 * 8 * 3600);

	g_assert_cmpuint(cfg->n_plans, ==, 2);
	const CfgPlan *silver = cfg_plan(cfg, "silver");
	g_assert_nonnull(silver);
	g_assert_cmpstr(silver->name, ==, "silver");
	g_assert_null(silver->description);
	g_assert_cmpstr(silver->priority, ==, "normal");
	g_assert_cmpint(silver->first_response_minutes, ==, 0);
	g_assert_cmpint(silver->resolution_minutes, ==, 0);
	g_assert_cmpint(silver->max_contacts, ==, 0);
	g_assert_cmpint(silver->hours_per_month, ==, 0);
	g_assert_nonnull(cfg_plan(cfg, "hosting"));
	g_assert_null(cfg_plan(cfg, "gold"));
	g_assert_null(cfg_plan(cfg, NULL));

	cfg_free(cfg);
	cfg_free(NULL);
	tmp_teardown();
}

/* cfg_dump_changed (check-config -n): only what differs from the
 * defaults, a derived default compared with what it derives from. */
static void test_dump_changed(void)
{
	if (g_test_subprocess()) {
		tmp_setup();
		g_autofree char *text =
			g_strconcat(minimal_conf,
				    "auth = { trusted_authserv_id = \"mx.agency.example\"; require "
				    "= \"aligned\";\n"
				    " staff_require = \"aligned\"; };\n"
				    "log = { level = \"info\"; syslog = true; };\n",
				    NULL);
		g_autofree char *path = write_file("deskmail.conf", text);
		Config *cfg = NULL;
		DmError err = {0};
		int rc = cfg_load(path, &cfg, &err);
		if (rc != 0)
			g_printerr("%s\n", err.msg);
		g_assert_cmpint(rc, ==, 0);
		cfg_dump_changed(cfg);
		cfg_free(cfg);
		tmp_teardown();
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*(settings that differ from the defaults)\n*");
	g_test_trap_assert_stdout("*\nimap.url = \"imap://127.0.0.1:1143/INBOX\"\n*");
	g_test_trap_assert_stdout("*\nimap.password = (set)\n*");
	g_test_trap_assert_stdout("*\nlog.syslog = true\n*");
	g_test_trap_assert_stdout("*\nauth.require = \"aligned\"\n*");
	g_test_trap_assert_stdout("*\nplans.silver = { }\n*");
	/* at their defaults: poll_interval 30 written out, level "info",
	 * staff_require the same as require */
	g_test_trap_assert_stdout_unmatched("*poll_interval*");
	g_test_trap_assert_stdout_unmatched("*log.level*");
	g_test_trap_assert_stdout_unmatched("*staff_require*");
	g_test_trap_assert_stdout_unmatched("*imap.timeout*");
	g_test_trap_assert_stdout_unmatched("*calendars.*");
	g_test_trap_assert_stdout_unmatched("*secret*");
}

/* cfg_dump: passwords masked, values printed. Runs in a subprocess so the
 * output can be checked. */
static void test_dump(void)
{
	if (g_test_subprocess()) {
		tmp_setup();
		g_autofree char *path = write_file("deskmail.conf", minimal_conf);
		Config *cfg = NULL;
		DmError err = {0};
		int rc = cfg_load(path, &cfg, &err);
		if (rc != 0)
			g_printerr("%s\n", err.msg);
		g_assert_cmpint(rc, ==, 0);
		cfg_dump(cfg);
		cfg_free(cfg);
		tmp_teardown();
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*\nimap.password = (set)\n*");
	g_test_trap_assert_stdout("*\nimap.poll_interval = 30\n*");
	g_test_trap_assert_stdout("*\nimap.max_message_bytes = 26214400\n*");
	g_test_trap_assert_stdout("*\nimap.tls_verify = true\n*");
	g_test_trap_assert_stdout("*\nimap.move_to = (unset)\n*");
	g_test_trap_assert_stdout("*\nsmtp.password = (unset)\n*");
	g_test_trap_assert_stdout("*\nsmtp.starttls = \"try\"\n*");
	g_test_trap_assert_stdout("*\ndesk.domain = \"agency.example\"\n*");
	g_test_trap_assert_stdout("*\nlog.level = \"info\"\n*");
	g_test_trap_assert_stdout("*\nplans.hosting.priority = \"normal\"\n*");
	g_test_trap_assert_stdout("*\nauth.trusted_authserv_id = (unset)\n*");
	g_test_trap_assert_stdout("*\nauth.require = \"none\"\n*");
	g_test_trap_assert_stdout("*\nauth.staff_require = \"none\"\n*");
	g_test_trap_assert_stdout_unmatched("*secret*");
}

/* The auth group dumped: staff_require shows the requirement it took from
 * require. */
static void test_dump_auth(void)
{
	if (g_test_subprocess()) {
		tmp_setup();
		g_autofree char *text =
			g_strconcat(minimal_conf,
				    "auth = { trusted_authserv_id = \"mx.agency.example\"; require "
				    "= \"aligned\"; };\n",
				    NULL);
		g_autofree char *path = write_file("deskmail.conf", text);
		Config *cfg = NULL;
		DmError err = {0};
		int rc = cfg_load(path, &cfg, &err);
		if (rc != 0)
			g_printerr("%s\n", err.msg);
		g_assert_cmpint(rc, ==, 0);
		cfg_dump(cfg);
		cfg_free(cfg);
		tmp_teardown();
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*\nauth.trusted_authserv_id = \"mx.agency.example\"\n*");
	g_test_trap_assert_stdout("*\nauth.require = \"aligned\"\n*");
	g_test_trap_assert_stdout("*\nauth.staff_require = \"aligned\"\n*");
}

/* ---------- the shipped example ---------- */

static void test_shipped(void)
{
	const char *src = g_getenv("DM_SRCDIR");
	if (src == NULL) {
		g_test_skip("DM_SRCDIR not set");
		return;
	}
	g_autofree char *path = g_build_filename(src, "conf", "deskmail.conf", NULL);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = cfg_load(path, &cfg, &err);
	if (rc != 0)
		g_test_message("error: %s", err.msg);
	g_assert_cmpint(rc, ==, 0);

	g_autofree char *conf_dir = g_build_filename(src, "conf", NULL);
	g_autofree char *abs_dir = g_canonicalize_filename(conf_dir, NULL);
	g_autofree char *tpl = g_build_filename(abs_dir, "templates", NULL);
	g_assert_cmpstr(cfg->desk_templates, ==, tpl);
	g_assert_true(g_file_test(cfg->desk_templates, G_FILE_TEST_IS_DIR));

	static const struct {
		const char *name, *priority;
		int first, resolution, contacts;
	} plans[] = {
		{"silver", "normal", 4, 48, 2}, {"hosting_sla", "high", 2, 24, 0},
		{"hosting", "low", 0, 0, 0},    {"support_maintenance", NULL, -1, -1, -1},
		{"retainer", NULL, -1, -1, -1}, {"project", NULL, -1, -1, -1},
	};
	g_assert_cmpuint(cfg->n_plans, ==, G_N_ELEMENTS(plans));
	for (size_t i = 0; i < G_N_ELEMENTS(plans); i++) {
		const CfgPlan *p = cfg_plan(cfg, plans[i].name);
		g_assert_nonnull(p);
		g_assert_nonnull(p->description);
		if (plans[i].priority != NULL)
			g_assert_cmpstr(p->priority, ==, plans[i].priority);
		if (plans[i].first >= 0) {
			g_assert_cmpint(p->first_response_minutes, ==, plans[i].first * 60);
			g_assert_cmpint(p->resolution_minutes, ==, plans[i].resolution * 60);
			g_assert_cmpint(p->max_contacts, ==, plans[i].contacts);
		}
	}
	/* the example documents the defaults: they must be the defaults */
	g_assert_cmpint(cfg->mailboxes[0].poll_interval, ==, 30);
	g_assert_cmpstr(cfg->mailboxes[0].mark_flag, ==, "$Ticketed");
	g_assert_cmpint(cfg->mailboxes[0].max_message_bytes, ==, 26214400);
	g_assert_cmpint(cfg->desk_attachment_max_bytes, ==, 10485760);
	g_assert_cmpint(cfg->desk_message_attachments_max_bytes, ==, 26214400);
	g_assert_cmpint(cfg->smtp_max_attempts, ==, 12);
	g_assert_cmpstr(cfg->smtp_starttls, ==, "try");
	g_assert_cmpstr(cfg->log_level, ==, "info");
	/* the example sets sender verification up, so check-config is quiet */
	g_assert_true(cfg->auth_configured);
	g_assert_cmpstr(cfg->auth_trusted_id, ==, "mx.agency.example");
	g_assert_cmpint(cfg->auth_require, ==, CFG_AUTH_ALIGNED);
	g_assert_cmpint(cfg->auth_staff_require, ==, CFG_AUTH_DMARC);
	g_assert_cmpuint(cfg->n_warnings, ==, 0);
	cfg_free(cfg);
}

/* ---------- broken files ---------- */

/* Each @TAG@ sits alone on its line, so the line numbers are fixed. */
static const char base_conf[] = "database = {\n"                                     /* 1 */
				"\tconninfo = \"host=127.0.0.1 dbname=deskmail\";\n" /* 2 */
				"\t@DB@\n"                                           /* 3 */
				"};\n"                                               /* 4 */
				"imap = {\n"                                         /* 5 */
				"\turl = \"imap://127.0.0.1:1143/INBOX\";\n"         /* 6 */
				"\tusername = \"support\";\n"                        /* 7 */
				"\tpassword = \"secret\";\n"                         /* 8 */
				"\t@IMAP@\n"                                         /* 9 */
				"};\n"                                               /* 10 */
				"smtp = {\n"                                         /* 11 */
				"\turl = \"smtp://127.0.0.1:2525\";\n"               /* 12 */
				"\t@SMTP@\n"                                         /* 13 */
				"};\n"                                               /* 14 */
				"desk = {\n"                                         /* 15 */
				"\tname = \"Example Agency Support\";\n"             /* 16 */
				"\taddress = \"support@agency.example\";\n"          /* 17 */
				"\t@DESK@\n"                                         /* 18 */
				"};\n"                                               /* 19 */
				"log = {\n"                                          /* 20 */
				"\t@LOG@\n"                                          /* 21 */
				"};\n"                                               /* 22 */
				"plans = {\n"                                        /* 23 */
				"\tsilver = {\n"                                     /* 24 */
				"\t\t@PLAN@\n"                                       /* 25 */
				"\t};\n"                                             /* 26 */
				"\thosting = { };\n"                                 /* 27 */
				"};\n"                                               /* 28 */
				"@TOP@\n";                                           /* 29 */

typedef struct {
	const char *what;
	const char *from, *to; /* replace in base_conf first (same line count) */
	const char *tag;       /* "@IMAP@" etc. */
	const char *insert;
	int line;        /* expected line; 0 = "FILE: " without a line */
	const char *msg; /* expected in the message */
} BadCase;

static const BadCase bad_cases[] = {
	{"unknown top-level key", NULL, NULL, "@TOP@", "bogus = 1;", 29,
	 "setting 'bogus': unknown"},
	/* calendars and the service-level settings of plans */
	{"calendar without timezone", NULL, NULL, "@TOP@",
	 "calendars = { c = { mon = \"09:00-17:00\"; }; };", 29,
	 "setting 'calendars.c.timezone': required"},
	{"unknown time zone", NULL, NULL, "@TOP@",
	 "calendars = { c = { timezone = \"Europe/Londn\"; }; };", 29, "calendars.c"},
	{"span ends before it starts", NULL, NULL, "@TOP@",
	 "calendars = { c = { timezone = \"UTC\"; tue = \"17:00-09:00\"; }; };", 29,
	 "setting 'calendars.c': tue"},
	{"bad holiday", NULL, NULL, "@TOP@",
	 "calendars = { c = { timezone = \"UTC\"; holidays = [ \"2026-02-30\" ]; }; };", 29,
	 "2026-02-30"},
	{"holidays not a list", NULL, NULL, "@TOP@",
	 "calendars = { c = { timezone = \"UTC\"; holidays = \"2026-12-25\"; }; };", 29,
	 "holidays': must be a list"},
	{"unknown calendar key", NULL, NULL, "@TOP@",
	 "calendars = { c = { timezone = \"UTC\"; monday = \"09:00-17:00\"; }; };", 29,
	 "setting 'calendars.c.monday': unknown setting"},
	{"desk.calendar unknown", NULL, NULL, "@DESK@", "calendar = \"paris\";", 18,
	 "setting 'desk.calendar': no calendar \"paris\""},
	{"two calendars, no desk.calendar", NULL, NULL, "@TOP@",
	 "calendars = { a = { timezone = \"UTC\"; }; b = { timezone = \"UTC\"; }; };", 29,
	 "setting 'desk.calendar': required when there are several calendars"},
	{"plan calendar unknown", NULL, NULL, "@PLAN@", "calendar = \"mars\";", 25,
	 "setting 'plans.silver.calendar': no calendar \"mars\""},
	{"severity_hours not a group", NULL, NULL, "@PLAN@", "severity_hours = 8;", 25,
	 "setting 'plans.silver.severity_hours': must be a group"},
	{"unknown severity", NULL, NULL, "@PLAN@", "severity_hours = { urgent = 4; };", 25,
	 "setting 'plans.silver.severity_hours.urgent': unknown setting"},
	{"hours as a string", NULL, NULL, "@PLAN@", "line1_hours = \"7.5\";", 25,
	 "setting 'plans.silver.line1_hours': must be a number of hours"},
	{"negative fractional hours", NULL, NULL, "@PLAN@", "line1_hours = -0.5;", 25,
	 "must be between 0 and 100000 hours"},
	{"at_risk_percent out of range", NULL, NULL, "@PLAN@", "at_risk_percent = 0;", 25,
	 "setting 'plans.silver.at_risk_percent': must be between 1 and 100"},
	{"unknown key in group", NULL, NULL, "@IMAP@", "pol_interval = 30;", 9,
	 "setting 'imap.pol_interval': unknown setting"},
	{"unknown key in plan", NULL, NULL, "@PLAN@", "first_reponse_hours = 4;", 25,
	 "setting 'plans.silver.first_reponse_hours': unknown setting"},
	{"unknown key in log", NULL, NULL, "@LOG@", "file = \"/var/log/x\";", 21,
	 "setting 'log.file': unknown"},
	{"int as string", NULL, NULL, "@IMAP@", "poll_interval = \"30\";", 9,
	 "setting 'imap.poll_interval': must be an integer"},
	{"float for int", NULL, NULL, "@IMAP@", "poll_interval = 30.0;", 9,
	 "setting 'imap.poll_interval': must be an integer"},
	{"bool as string", NULL, NULL, "@IMAP@", "tls_verify = \"yes\";", 9,
	 "setting 'imap.tls_verify': must be true or false"},
	{"string as int", NULL, NULL, "@LOG@", "level = 3;", 21,
	 "setting 'log.level': must be a string"},
	{"plan int as string", NULL, NULL, "@PLAN@", "max_contacts = \"2\";", 25,
	 "setting 'plans.silver.max_contacts': must be an integer"},
	{"group not a group", "log = {\n\t@LOG@\n};", "log = 5;\n\n", NULL, NULL, 20,
	 "setting 'log': must be a group"},
	{"plan as a number", "\thosting = { };", "\thosting = 1;", NULL, NULL, 27,
	 "setting 'plans.hosting': a plan must be a group"},
	{"below range", NULL, NULL, "@IMAP@", "poll_interval = 0;", 9,
	 "setting 'imap.poll_interval': must be between 1 and 86400"},
	{"above range", NULL, NULL, "@IMAP@", "poll_interval = 86401;", 9,
	 "setting 'imap.poll_interval': must be between 1 and 86400"},
	{"int64 setting below range", NULL, NULL, "@IMAP@", "max_message_bytes = 100;", 9,
	 "setting 'imap.max_message_bytes': must be between 1024 and 1073741824"},
	{"int64 literal above range", NULL, NULL, "@IMAP@", "max_message_bytes = 5000000000L;", 9,
	 "setting 'imap.max_message_bytes': must be between 1024 and 1073741824"},
	{"int64 literal for an int above 2^32", NULL, NULL, "@IMAP@",
	 "poll_interval = 4294967297L;", 9,
	 "setting 'imap.poll_interval': must be between 1 and 86400"},
	{"negative plan hours", NULL, NULL, "@PLAN@", "first_response_hours = -1;", 25,
	 "setting 'plans.silver.first_response_hours': must be between 0 and"},
	{"missing required key", "\turl = \"imap://127.0.0.1:1143/INBOX\";", "", NULL, NULL, 5,
	 "setting 'imap.url': required"},
	{"missing desk.address", "\taddress = \"support@agency.example\";", "", NULL, NULL, 15,
	 "setting 'desk.address': required"},
	{"missing password", "\tpassword = \"secret\";", "", NULL, NULL, 5,
	 "setting 'imap.password': required (or imap.password_file)"},
	{"password and password_file", NULL, NULL, "@IMAP@", "password_file = \"pw\";", 9,
	 "setting 'imap.password_file': set either password or password_file, not both"},
	{"password_file missing", "\tpassword = \"secret\";", "\tpassword_file = \"nope\";", NULL,
	 NULL, 8, "setting 'imap.password_file': cannot read "},
	{"smtp password without username", NULL, NULL, "@SMTP@", "password = \"x\";", 13,
	 "setting 'smtp.password': needs smtp.username"},
	{"bad address", "\taddress = \"support@agency.example\";",
	 "\taddress = \"Support <support@agency.example>\";", NULL, NULL, 17,
	 "setting 'desk.address': must be a bare e-mail address"},
	{"address without domain", "\taddress = \"support@agency.example\";",
	 "\taddress = \"support\";", NULL, NULL, 17, "setting 'desk.address'"},
	{"bad log level", NULL, NULL, "@LOG@", "level = \"verbose\";", 21,
	 "setting 'log.level': must be debug, info"},
	{"bad priority", NULL, NULL, "@PLAN@", "priority = \"urgent\";", 25,
	 "setting 'plans.silver.priority': must be"},
	{"bad imap url", "\turl = \"imap://127.0.0.1:1143/INBOX\";", "\turl = \"http://x/\";", NULL,
	 NULL, 6, "setting 'imap.url': must be imap://"},
	{"bad smtp url", "\turl = \"smtp://127.0.0.1:2525\";", "\turl = \"smtp:/x\";", NULL, NULL,
	 12, "setting 'smtp.url': must be smtp://"},
	{"imap url with user and password", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://support:s3cret@127.0.0.1:1143/INBOX\";", NULL, NULL, 6,
	 "put the user name in imap.username and the password in imap.password_file, not in the "
	 "URL"},
	{"imap url with a user", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://support@127.0.0.1:1143/INBOX\";", NULL, NULL, 6,
	 "put the user name in imap.username and the password in imap.password_file, not in the "
	 "URL"},
	{"imap url with a password holding a slash", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imaps://support:s3c/ret@mail.example/INBOX\";", NULL, NULL, 6,
	 "put the user name in imap.username and the password in imap.password_file, not in the "
	 "URL"},
	{"imap url with login options", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://;AUTH=PLAIN@127.0.0.1/INBOX\";", NULL, NULL, 6,
	 "put the user name in imap.username and the password in imap.password_file, not in the "
	 "URL"},
	{"imap url with an at sign in the mailbox", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://127.0.0.1/s3cret@x\";", NULL, NULL, 6,
	 "put the user name in imap.username and the password in imap.password_file, not in the "
	 "URL"},
	{"smtp url with user and password", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://desk:s3cret@mail.example:587\";", NULL, NULL, 12,
	 "put the user name in smtp.username and the password in smtp.password_file, not in the "
	 "URL"},
	{"smtps url with a user", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtps://desk@mail.example\";", NULL, NULL, 12,
	 "put the user name in smtp.username and the password in smtp.password_file, not in the "
	 "URL"},
	{"smtp url with a password holding a slash", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://desk:s3c/ret@mail.example\";", NULL, NULL, 12,
	 "put the user name in smtp.username and the password in smtp.password_file, not in the "
	 "URL"},
	{"smtp url with a path", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1:2525/desk.example\";", NULL, NULL, 12,
	 "without a path or query (the EHLO name is smtp.helo)"},
	{"smtp url with a query", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1:2525?x=1\";", NULL, NULL, 12,
	 "without a path or query (the EHLO name is smtp.helo)"},
	{"smtp url with a fragment", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1:2525#x\";", NULL, NULL, 12,
	 "without a path or query (the EHLO name is smtp.helo)"},
	{"smtp port zero", "\turl = \"smtp://127.0.0.1:2525\";", "\turl = \"smtp://127.0.0.1:0\";",
	 NULL, NULL, 12, "must have a host and, if any, a port of 1 to 65535"},
	{"smtp port too big", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1:65536\";", NULL, NULL, 12,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"smtp port not a number", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1:smtp\";", NULL, NULL, 12,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"smtp port signed", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1:+25\";", NULL, NULL, 12,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"smtp empty port", "\turl = \"smtp://127.0.0.1:2525\";", "\turl = \"smtp://127.0.0.1:\";",
	 NULL, NULL, 12, "must have a host and, if any, a port of 1 to 65535"},
	{"smtp unclosed bracket", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://[::1:25\";", NULL, NULL, 12,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"smtp junk after bracket", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://[::1]x\";", NULL, NULL, 12,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"imap empty port", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://127.0.0.1:/INBOX\";", NULL, NULL, 6,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"imap port too big", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://127.0.0.1:99999/INBOX\";", NULL, NULL, 6,
	 "must have a host and, if any, a port of 1 to 65535"},
	{"imap url with a space", "\turl = \"imap://127.0.0.1:1143/INBOX\";",
	 "\turl = \"imap://127.0.0.1 /INBOX\";", NULL, NULL, 6, "must not contain spaces"},
	{"bad starttls", NULL, NULL, "@SMTP@", "starttls = \"yes\";", 13,
	 "setting 'smtp.starttls': must be \"try\", \"require\" or \"never\""},
	{"starttls never with smtps", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtps://mail.example\";", "@SMTP@", "starttls = \"never\";", 13,
	 "\"never\" contradicts smtps://"},
	{"never with credentials to a remote host", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://mail.example:587\";", "@SMTP@",
	 "starttls = \"never\"; username = \"desk\"; password = \"s3cret\";", 13,
	 "\"never\" would send smtp.username and its password in clear to a host that is not "
	 "loopback"},
	{"never with credentials to localhost.example", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://localhost.example:25\";", "@SMTP@",
	 "starttls = \"never\"; username = \"desk\"; password = \"s3cret\";", 13,
	 "\"never\" would send smtp.username and its password in clear to a host that is not "
	 "loopback"},
	{"never with credentials to 127.0.0.1.evil", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://127.0.0.1.evil.example:25\";", "@SMTP@",
	 "starttls = \"never\"; username = \"desk\"; password = \"s3cret\";", 13,
	 "\"never\" would send smtp.username and its password in clear to a host that is not "
	 "loopback"},
	{"never with credentials to localhost dot", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://localhost.:25\";", "@SMTP@",
	 "starttls = \"never\"; username = \"desk\"; password = \"s3cret\";", 13,
	 "\"never\" would send smtp.username and its password in clear to a host that is not "
	 "loopback"},
	{"never with credentials to v4-mapped", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://[::ffff:127.0.0.1]:25\";", "@SMTP@",
	 "starttls = \"never\"; username = \"desk\"; password = \"s3cret\";", 13,
	 "\"never\" would send smtp.username and its password in clear to a host that is not "
	 "loopback"},
	{"never with credentials to hex loopback", "\turl = \"smtp://127.0.0.1:2525\";",
	 "\turl = \"smtp://0x7f.1:25\";", "@SMTP@",
	 "starttls = \"never\"; username = \"desk\"; password = \"s3cret\";", 13,
	 "\"never\" would send smtp.username and its password in clear to a host that is not "
	 "loopback"},
	{"bad mark flag", NULL, NULL, "@IMAP@", "mark_flag = \"a b\";", 9,
	 "setting 'imap.mark_flag': must be an IMAP flag"},
	{"empty move_to", NULL, NULL, "@IMAP@", "move_to = \"\";", 9,
	 "setting 'imap.move_to': must not be empty"},
	{"control character", NULL, NULL, "@DESK@", "domain = \"a\\nb\";", 18,
	 "setting 'desk.domain': must not contain control characters"},
	{"retry_max below retry_base", NULL, NULL, "@SMTP@", "retry_base = 600; retry_max = 60;",
	 13, "setting 'smtp.retry_max': must not be below"},
	{"syntax error", NULL, NULL, "@DESK@", "domain = ;", 18, "syntax error"},
	{"duplicate setting", NULL, NULL, "@IMAP@", "username = \"again\";", 9,
	 "duplicate setting"},
	{"missing include", NULL, NULL, "@TOP@", "@include \"nonexistent.conf\"", 29,
	 "cannot open include file"},
	{"missing plans", "plans = {\n\tsilver = {\n\t\t@PLAN@\n\t};\n\thosting = { };\n};",
	 "\n\n\n\n\n", NULL, NULL, 0, "setting 'plans': required"},
	{"missing database group",
	 "database = {\n\tconninfo = \"host=127.0.0.1 dbname=deskmail\";\n\t@DB@\n};", "\n\n\n",
	 NULL, NULL, 0, "setting 'database': required group is missing"},
	{"auth not a group", NULL, NULL, "@TOP@", "auth = \"dmarc\";", 29,
	 "setting 'auth': must be a group"},
	{"unknown key in auth", NULL, NULL, "@TOP@", "auth = { requires = \"dmarc\"; };", 29,
	 "setting 'auth.requires': unknown setting"},
	{"unknown requirement", NULL, NULL, "@TOP@",
	 "auth = { trusted_authserv_id = \"mx.agency.example\"; require = \"strict\"; };", 29,
	 "setting 'auth.require': must be \"none\", \"aligned\" or \"dmarc\""},
	{"requirement words are lower-case", NULL, NULL, "@TOP@",
	 "auth = { trusted_authserv_id = \"mx.agency.example\"; staff_require = \"DMARC\"; };", 29,
	 "setting 'auth.staff_require': must be \"none\", \"aligned\" or \"dmarc\""},
	{"requirement as a number", NULL, NULL, "@TOP@",
	 "auth = { trusted_authserv_id = \"mx.agency.example\"; require = 2; };", 29,
	 "setting 'auth.require': must be a string"},
	{"require without a trusted server", NULL, NULL, "@TOP@",
	 "auth = { require = \"dmarc\"; };", 29,
	 "setting 'auth.require': \"dmarc\" needs auth.trusted_authserv_id"},
	{"the error names the requirement's line", NULL, NULL, "@TOP@",
	 "auth = {\n\tstaff_require = \"none\";\n\trequire = \"aligned\";\n};", 31,
	 "setting 'auth.require': \"aligned\" needs"},
	{"staff_require without a trusted server", NULL, NULL, "@TOP@",
	 "auth = { require = \"none\"; staff_require = \"aligned\"; };", 29,
	 "setting 'auth.staff_require': \"aligned\" needs auth.trusted_authserv_id"},
	{"empty authserv-id", NULL, NULL, "@TOP@",
	 "auth = { trusted_authserv_id = \"\"; require = \"dmarc\"; };", 29,
	 "setting 'auth.trusted_authserv_id': must be the authserv-id"},
	{"authserv-id with a space", NULL, NULL, "@TOP@",
	 "auth = { trusted_authserv_id = \"mx agency\"; };", 29,
	 "setting 'auth.trusted_authserv_id': must be an authserv-id"},
	{"authserv-id with a ';'", NULL, NULL, "@TOP@",
	 "auth = { trusted_authserv_id = \"mx;dmarc=pass\"; };", 29,
	 "setting 'auth.trusted_authserv_id': must be an authserv-id"},
	{"empty conninfo", "\tconninfo = \"host=127.0.0.1 dbname=deskmail\";", "\tconninfo = \"\";",
	 NULL, NULL, 2, "setting 'database.conninfo': must not be empty"},
};

/* Replace the first `from` in s (which must be there). */
static char *replace1(char *s, const char *from, const char *to)
{
	char *at = strstr(s, from);
	g_assert_nonnull(at);
	char *out = g_strdup_printf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	g_free(s);
	return out;
}

static char *build_conf(const BadCase *c)
{
	char *s = g_strdup(base_conf);
	if (c->from != NULL)
		s = replace1(s, c->from, c->to);
	static const char *const tags[] = {"@DB@",  "@IMAP@", "@SMTP@", "@DESK@",
					   "@LOG@", "@PLAN@", "@TOP@"};
	for (size_t i = 0; i < G_N_ELEMENTS(tags); i++) {
		if (strstr(s, tags[i]) == NULL)
			continue; /* replaced away by from/to */
		bool here = c->tag != NULL && strcmp(c->tag, tags[i]) == 0;
		s = replace1(s, tags[i], here ? c->insert : "");
	}
	return s;
}

static void test_bad(gconstpointer data)
{
	const BadCase *c = data;
	tmp_setup();
	g_autofree char *text = build_conf(c);
	g_autofree char *path = write_file("deskmail.conf", text);
	Config *cfg = (Config *)0x1; /* must stay untouched */
	DmError err = {0};
	int rc = cfg_load(path, &cfg, &err);
	g_test_message("%s -> %s", c->what, err.msg);
	g_assert_cmpint(rc, ==, DM_ECONFIG);
	g_assert_cmpint(err.kind, ==, DM_ECONFIG);
	g_assert_true(cfg == (Config *)0x1);

	g_autofree char *where = c->line > 0 ? g_strdup_printf("%s:%d: ", path, c->line)
					     : g_strdup_printf("%s: ", path);
	g_assert_true(g_str_has_prefix(err.msg, where));
	if (c->msg != NULL)
		g_assert_nonnull(strstr(err.msg, c->msg));
	/* no message repeats a password (the URL cases hold one) */
	g_assert_null(strstr(err.msg, "s3c"));
	tmp_teardown();
}

/* the base configuration itself loads (so each bad case tests one thing) */
static void test_base_ok(void)
{
	tmp_setup();
	BadCase none = {0};
	g_autofree char *text = build_conf(&none);
	g_autofree char *path = write_file("deskmail.conf", text);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = cfg_load(path, &cfg, &err);
	if (rc != 0)
		g_test_message("error: %s", err.msg);
	g_assert_cmpint(rc, ==, 0);
	cfg_free(cfg);
	tmp_teardown();
}

/* ---------- good files beyond the defaults ---------- */

static Config *load_text(const char *text)
{
	g_autofree char *path = write_file("deskmail.conf", text);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = cfg_load(path, &cfg, &err);
	if (rc != 0)
		g_test_message("error: %s", err.msg);
	g_assert_cmpint(rc, ==, 0);
	return cfg;
}

static char *with(const char *tag, const char *insert)
{
	BadCase c = {.tag = tag, .insert = insert};
	return build_conf(&c);
}

static void test_int64(void)
{
	tmp_setup();
	g_autofree char *t1 = with("@IMAP@", "max_message_bytes = 1048576L; poll_interval = 60L;");
	Config *cfg = load_text(t1);
	g_assert_cmpint(cfg->mailboxes[0].max_message_bytes, ==, 1048576);
	g_assert_cmpint(cfg->mailboxes[0].poll_interval, ==, 60);
	cfg_free(cfg);

	g_autofree char *t2 = with("@DESK@", "attachment_max_bytes = 1073741824L; "
					     "message_attachments_max_bytes = 2048;");
	cfg = load_text(t2);
	g_assert_cmpint(cfg->desk_attachment_max_bytes, ==, 1073741824);
	g_assert_cmpint(cfg->desk_message_attachments_max_bytes, ==, 2048);
	cfg_free(cfg);

	g_autofree char *t3 = with("@PLAN@", "first_response_hours = 8L; hours_per_month = 0;");
	cfg = load_text(t3);
	g_assert_cmpint(cfg_plan(cfg, "silver")->first_response_minutes, ==, 8 * 60);
	cfg_free(cfg);
	tmp_teardown();
}

static void test_all_settings(void)
{
	tmp_setup();
	g_autofree char *t1 = with("@IMAP@", "mark_flag = \"\\\\Flagged\"; move_to = \"Done\"; "
					     "tls_verify = false; ca_file = \"/x/ca.pem\"; "
					     "timeout = 5; batch = 7;");
	Config *cfg = load_text(t1);
	g_assert_cmpstr(cfg->mailboxes[0].mark_flag, ==, "\\Flagged");
	g_assert_cmpstr(cfg->mailboxes[0].move_to, ==, "Done");
	g_assert_false(cfg->mailboxes[0].tls_verify);
	g_assert_cmpstr(cfg->mailboxes[0].ca_file, ==, "/x/ca.pem");
	g_assert_cmpint(cfg->mailboxes[0].timeout, ==, 5);
	g_assert_cmpint(cfg->mailboxes[0].batch, ==, 7);
	cfg_free(cfg);

	g_autofree char *t2 = with("@SMTP@", "username = \"u\"; password = \"p\"; "
					     "helo = \"desk.example\"; max_attempts = 3; "
					     "starttls = \"require\"; "
					     "retry_base = 10; retry_max = 10; "
					     "tls_verify = false;");
	cfg = load_text(t2);
	g_assert_cmpstr(cfg->smtp_username, ==, "u");
	g_assert_cmpstr(cfg->smtp_password, ==, "p");
	g_assert_cmpstr(cfg->smtp_helo, ==, "desk.example");
	g_assert_cmpstr(cfg->smtp_starttls, ==, "require");
	g_assert_cmpint(cfg->smtp_max_attempts, ==, 3);
	g_assert_cmpint(cfg->smtp_retry_base, ==, 10);
	g_assert_cmpint(cfg->smtp_retry_max, ==, 10);
	g_assert_false(cfg->smtp_tls_verify);
	cfg_free(cfg);

	g_autofree char *t3 = with("@DESK@", "domain = \"mail.example\"; reopen_days = 0; "
					     "max_auto_replies_per_hour = 0; "
					     "notify_account_manager = true; "
					     "notify_attachments = true;");
	cfg = load_text(t3);
	g_assert_cmpstr(cfg->desk_domain, ==, "mail.example");
	g_assert_cmpint(cfg->desk_reopen_days, ==, 0);
	g_assert_cmpint(cfg->desk_max_auto_replies_per_hour, ==, 0);
	g_assert_true(cfg->desk_notify_account_manager);
	g_assert_true(cfg->desk_notify_attachments);
	cfg_free(cfg);

	g_autofree char *t4 = with("@LOG@", "level = \"debug\"; syslog = true;");
	cfg = load_text(t4);
	g_assert_cmpstr(cfg->log_level, ==, "debug");
	g_assert_true(cfg->log_syslog);
	cfg_free(cfg);

	g_autofree char *t5 = with("@PLAN@", "description = \"Silver\"; priority = \"high\"; "
					     "first_response_hours = 4; resolution_hours = 48; "
					     "max_contacts = 2; hours_per_month = 10; "
					     "line1_hours = 7.5; line1_max_elapsed_hours = 12; "
					     "severity_hours = { severe = 8; high = 24.25; }; "
					     "follow_up_hours = 16; at_risk_percent = 80;");
	cfg = load_text(t5);
	const CfgPlan *p = cfg_plan(cfg, "silver");
	g_assert_cmpstr(p->description, ==, "Silver");
	g_assert_cmpstr(p->priority, ==, "high");
	g_assert_cmpint(p->first_response_minutes, ==, 4 * 60);
	g_assert_cmpint(p->resolution_minutes, ==, 48 * 60);
	g_assert_cmpint(p->line1_minutes, ==, 450);
	g_assert_cmpint(p->line1_max_elapsed_minutes, ==, 720);
	g_assert_cmpint(p->line2_minutes, ==, 0);
	g_assert_cmpint(p->severity_minutes[CFG_SEV_SEVERE], ==, 480);
	g_assert_cmpint(p->severity_minutes[CFG_SEV_HIGH], ==, 1455);
	/* unset severities take resolution_hours; enhancement has no target */
	g_assert_cmpint(p->severity_minutes[CFG_SEV_MEDIUM], ==, 48 * 60);
	g_assert_cmpint(p->severity_minutes[CFG_SEV_LOW], ==, 48 * 60);
	g_assert_cmpint(p->severity_minutes[CFG_SEV_ENHANCEMENT], ==, 0);
	g_assert_cmpint(p->follow_up_minutes, ==, 16 * 60);
	g_assert_cmpint(p->at_risk_percent, ==, 80);
	g_assert_cmpint(p->max_contacts, ==, 2);
	g_assert_cmpint(p->hours_per_month, ==, 10);
	cfg_free(cfg);

	/* an empty plans group is fine */
	BadCase c = {.from = "plans = {\n\tsilver = {\n\t\t@PLAN@\n\t};\n\thosting = { };\n};",
		     .to = "plans = { };"};
	g_autofree char *t6 = build_conf(&c);
	cfg = load_text(t6);
	g_assert_cmpuint(cfg->n_plans, ==, 0);
	g_assert_null(cfg_plan(cfg, "silver"));
	cfg_free(cfg);
	tmp_teardown();
}

static void test_auth(void)
{
	tmp_setup();
	static const struct {
		const char *group;
		const char *trusted;
		int require, staff;
	} cases[] = {
		{"auth = { trusted_authserv_id = \"mx.agency.example\"; require = \"dmarc\"; };",
		 "mx.agency.example", CFG_AUTH_DMARC, CFG_AUTH_DMARC},
		{"auth = { trusted_authserv_id = \"MX.Agency.Example\"; require = \"aligned\"; "
		 "staff_require = \"dmarc\"; };",
		 "MX.Agency.Example", CFG_AUTH_ALIGNED, CFG_AUTH_DMARC},
		{"auth = { trusted_authserv_id = \"mx.agency.example\"; require = \"dmarc\"; "
		 "staff_require = \"none\"; };",
		 "mx.agency.example", CFG_AUTH_DMARC, CFG_AUTH_NONE},
		{"auth = { trusted_authserv_id = \"mx.agency.example\"; staff_require = "
		 "\"aligned\"; };",
		 "mx.agency.example", CFG_AUTH_NONE, CFG_AUTH_ALIGNED},
		/* present but none for staff: allowed, with a warning */
		{"auth = { };", NULL, CFG_AUTH_NONE, CFG_AUTH_NONE},
		{"auth = { require = \"none\"; trusted_authserv_id = \"mx\"; };", "mx",
		 CFG_AUTH_NONE, CFG_AUTH_NONE},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		/* with a calendar: no warning about the built-in one */
		g_autofree char *top = g_strdup_printf(
			"%s calendars = { c = { timezone = \"UTC\"; mon = \"09:00-17:00\"; }; };",
			cases[i].group);
		g_autofree char *text = with("@TOP@", top);
		Config *cfg = load_text(text);
		g_test_message("%s", cases[i].group);
		g_assert_true(cfg->auth_configured);
		g_assert_false(cfg->default_calendar);
		g_assert_cmpstr(cfg->auth_trusted_id, ==, cases[i].trusted);
		g_assert_cmpint(cfg->auth_require, ==, cases[i].require);
		g_assert_cmpint(cfg->auth_staff_require, ==, cases[i].staff);
		if (cases[i].staff == CFG_AUTH_NONE) {
			g_assert_cmpuint(cfg->n_warnings, ==, 1);
			g_assert_cmpstr(
				cfg->warnings[0], ==,
				"auth.staff_require is \"none\": anyone can write as staff");
		} else {
			g_assert_cmpuint(cfg->n_warnings, ==, 0);
			g_assert_null(cfg->warnings);
		}
		cfg_free(cfg);
	}
	tmp_teardown();
}

/* URLs and TLS choices that load: no user information, host[:port] (a
 * trailing "/" on smtp.url is fine), and starttls = "never" with
 * credentials only to a host that is loopback by address. */
static void test_urls(void)
{
	static const struct {
		const char *imap_url, *smtp_url, *smtp_extra, *starttls;
	} cases[] = {
		{"imap://127.0.0.1/INBOX", "smtp://127.0.0.1:2525/", "", "try"},
		{"imaps://mail.example/Support%40agency", "smtps://mail.example", "", "try"},
		{"imaps://[2001:db8::1]:993/INBOX", "smtp://[2001:db8::1]:587",
		 "starttls = \"require\"; username = \"desk\"; password = \"p\";", "require"},
		{"imap://mail.example", "smtp://mail.example:587",
		 "username = \"desk\"; password = \"p\";", "try"},
		{"imap://mail.example", "smtp://mail.example:25", "starttls = \"never\";", "never"},
		{"imap://127.0.0.1/INBOX", "smtp://127.0.0.1:2525",
		 "starttls = \"never\"; username = \"desk\"; password = \"p\";", "never"},
		{"imap://127.0.0.1/INBOX", "smtp://127.3.2.1",
		 "starttls = \"never\"; username = \"desk\"; password = \"p\";", "never"},
		{"imap://127.0.0.1/INBOX", "smtp://LOCALHOST:2525/",
		 "starttls = \"never\"; username = \"desk\"; password = \"p\";", "never"},
		{"imap://127.0.0.1/INBOX", "smtp://[::1]:2525",
		 "starttls = \"never\"; username = \"desk\"; password = \"p\";", "never"},
		{"imap://127.0.0.1/INBOX", "smtps://mail.example",
		 "starttls = \"require\"; username = \"desk\"; password = \"p\";", "require"},
	};
	tmp_setup();
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s %s %s", cases[i].imap_url, cases[i].smtp_url,
			       cases[i].smtp_extra);
		g_autofree char *imap = g_strdup_printf("\turl = \"%s\";", cases[i].imap_url);
		g_autofree char *smtp = g_strdup_printf("\turl = \"%s\";", cases[i].smtp_url);
		BadCase c = {.from = "\turl = \"smtp://127.0.0.1:2525\";",
			     .to = smtp,
			     .tag = "@SMTP@",
			     .insert = cases[i].smtp_extra};
		g_autofree char *text = build_conf(&c);
		text = replace1(text, "\turl = \"imap://127.0.0.1:1143/INBOX\";", imap);
		Config *cfg = load_text(text);
		g_assert_cmpstr(cfg->mailboxes[0].url, ==, cases[i].imap_url);
		g_assert_cmpstr(cfg->smtp_url, ==, cases[i].smtp_url);
		g_assert_cmpstr(cfg->smtp_starttls, ==, cases[i].starttls);
		cfg_free(cfg);
	}
	tmp_teardown();
}

/* @include is resolved against the config file's folder, not the CWD, and
 * errors in an included file name that file. */
static void test_include(void)
{
	tmp_setup();
	g_free(write_file("extra.conf", "log = {\n\tlevel = \"debug\";\n};\n"));
	BadCase c = {.from = "log = {\n\t@LOG@\n};", .to = "@include \"extra.conf\"\n\n"};
	g_autofree char *text = build_conf(&c);
	g_autofree char *cwd = g_get_current_dir();
	g_assert_cmpstr(cwd, !=, tmpdir);
	Config *cfg = load_text(text);
	g_assert_cmpstr(cfg->log_level, ==, "debug");
	cfg_free(cfg);

	g_free(write_file("extra.conf", "log = {\n\tlevel = \"debug\";\n\tcolour = true;\n};\n"));
	g_autofree char *path = write_file("deskmail.conf", text);
	cfg = NULL;
	DmError err = {0};
	g_assert_cmpint(cfg_load(path, &cfg, &err), ==, DM_ECONFIG);
	g_autofree char *where = g_strdup_printf("%s/extra.conf:3: ", tmpdir);
	g_test_message("%s", err.msg);
	g_assert_true(g_str_has_prefix(err.msg, where));
	g_assert_nonnull(strstr(err.msg, "'log.colour'"));
	tmp_teardown();
}

static void test_password_file(void)
{
	static const struct {
		const char *content;
		const char *want; /* NULL = error */
	} cases[] = {
		{"s3cret\n", "s3cret"},
		{"s3cret\r\n", "s3cret"},
		{"s3cret", "s3cret"},
		{"with space\n\n", "with space"},
		{"", ""},
		{"two\nlines\n", NULL},
	};
	tmp_setup();
	g_autofree char *sub = g_build_filename(tmpdir, "secrets", NULL);
	g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
	BadCase c = {.from = "\tpassword = \"secret\";",
		     .to = "\tpassword_file = \"secrets/imap.pw\";"};
	g_autofree char *text = build_conf(&c);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_free(write_file("secrets/imap.pw", cases[i].content));
		g_autofree char *path = write_file("deskmail.conf", text);
		Config *cfg = NULL;
		DmError err = {0};
		int rc = cfg_load(path, &cfg, &err);
		if (cases[i].want == NULL) {
			g_assert_cmpint(rc, ==, DM_ECONFIG);
			g_autofree char *where = g_strdup_printf("%s:8: ", path);
			g_assert_true(g_str_has_prefix(err.msg, where));
			continue;
		}
		g_assert_cmpint(rc, ==, 0);
		g_assert_cmpstr(cfg->mailboxes[0].password, ==, cases[i].want);
		cfg_free(cfg);
	}

	/* too big */
	g_autofree char *big = g_strnfill(5000, 'x');
	g_free(write_file("secrets/imap.pw", big));
	g_autofree char *path = write_file("deskmail.conf", text);
	Config *cfg = NULL;
	DmError err = {0};
	g_assert_cmpint(cfg_load(path, &cfg, &err), ==, DM_ECONFIG);
	g_assert_nonnull(strstr(err.msg, "larger than"));

	/* smtp password_file too */
	g_free(write_file("secrets/imap.pw", "a\n"));
	g_free(write_file("secrets/smtp.pw", "b\n"));
	BadCase c2 = {.from = "\tpassword = \"secret\";",
		      .to = "\tpassword_file = \"secrets/imap.pw\";",
		      .tag = "@SMTP@",
		      .insert = "username = \"u\"; password_file = \"secrets/smtp.pw\";"};
	g_autofree char *text2 = build_conf(&c2);
	cfg = load_text(text2);
	g_assert_cmpstr(cfg->mailboxes[0].password, ==, "a");
	g_assert_cmpstr(cfg->smtp_password, ==, "b");
	cfg_free(cfg);

	/* others may neither read nor write it (as fetchmail); the group may */
	g_autofree char *smtp_pw = g_build_filename(tmpdir, "secrets", "smtp.pw", NULL);
	g_autofree char *path2 = write_file("deskmail.conf", text2);
	static const int modes[] = {0644, 0602, 0601, 0640, 0600, 0660};
	for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_assert_cmpint(g_chmod(smtp_pw, modes[i]), ==, 0);
		DmError e2 = {0};
		cfg = NULL;
		int rc = cfg_load(path2, &cfg, &e2);
		if (modes[i] & 007) {
			g_assert_cmpint(rc, ==, DM_ECONFIG);
			g_autofree char *want =
				g_strdup_printf("%s is readable or writable by others (mode %04o)",
						smtp_pw, modes[i]);
			g_assert_nonnull(strstr(e2.msg, want));
			g_assert_nonnull(strstr(e2.msg, "setting 'smtp.password_file'"));
		} else {
			g_assert_cmpint(rc, ==, 0);
			cfg_free(cfg);
		}
	}
	tmp_teardown();
}

/* Swaps tmpdir/secrets/link between a private and a world-readable file
 * until told to stop, as an attacker racing the mode check would. */
static gint swap_stop;
static gpointer swap_link(gpointer dir)
{
	g_autofree char *link = g_build_filename(dir, "link", NULL);
	g_autofree char *tmp = g_build_filename(dir, "link.tmp", NULL);
	for (unsigned n = 0; !g_atomic_int_get(&swap_stop); n++) {
		g_unlink(tmp);
		if (symlink(n % 2 ? "open.pw" : "private.pw", tmp) == 0)
			(void)rename(tmp, link);
	}
	return NULL;
}

/* The mode is checked on the file that is read: a symlink is followed (a
 * secret mounted by Kubernetes or systemd is one), the mode of its target
 * counts, and swapping the link between the check and the read does not
 * get a world-readable file's content accepted. */
static void test_password_file_race(void)
{
	tmp_setup();
	g_autofree char *sub = g_build_filename(tmpdir, "secrets", NULL);
	g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
	g_free(write_file("secrets/private.pw", "private\n"));
	g_autofree char *open_pw = write_file("secrets/open.pw", "leaked\n");
	g_assert_cmpint(g_chmod(open_pw, 0644), ==, 0);
	g_autofree char *link = g_build_filename(sub, "link", NULL);
	BadCase c = {.from = "\tpassword = \"secret\";",
		     .to = "\tpassword_file = \"secrets/link\";"};
	g_autofree char *text = build_conf(&c);
	g_autofree char *path = write_file("deskmail.conf", text);

	/* followed; the target's mode counts */
	g_assert_cmpint(symlink("private.pw", link), ==, 0);
	Config *cfg = NULL;
	DmError err = {0};
	g_assert_cmpint(cfg_load(path, &cfg, &err), ==, 0);
	g_assert_cmpstr(cfg->mailboxes[0].password, ==, "private");
	cfg_free(cfg);
	g_assert_cmpint(g_unlink(link), ==, 0);
	g_assert_cmpint(symlink("open.pw", link), ==, 0);
	cfg = NULL;
	g_assert_cmpint(cfg_load(path, &cfg, &err), ==, DM_ECONFIG);
	g_assert_nonnull(strstr(err.msg, "is readable or writable by others (mode 0644)"));

	/* the race: whatever a load accepts comes from the private file */
	g_atomic_int_set(&swap_stop, 0);
	GThread *th = g_thread_new("swap", swap_link, sub);
	unsigned ok = 0, refused = 0, leaked = 0;
	gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end && leaked == 0) {
		cfg = NULL;
		DmError e = {0};
		if (cfg_load(path, &cfg, &e) == 0) {
			ok++;
			if (strcmp(cfg->mailboxes[0].password, "private") != 0)
				leaked++;
			cfg_free(cfg);
		} else {
			refused++;
		}
	}
	g_atomic_int_set(&swap_stop, 1);
	g_thread_join(th);
	g_test_message("%u loads accepted, %u refused, %u with the world-readable file", ok,
		       refused, leaked);
	g_assert_cmpuint(leaked, ==, 0);
	tmp_teardown();
}

static void test_templates_path(void)
{
	tmp_setup();
	static const struct {
		const char *value, *want; /* want relative to tmpdir unless absolute */
	} cases[] = {
		{"templates", "templates"},
		{"mail/templates/", "mail/templates"},
		{"./t", "t"},
		{"/srv/deskmail/templates", "/srv/deskmail/templates"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *ins = g_strdup_printf("templates = \"%s\";", cases[i].value);
		g_autofree char *text = with("@DESK@", ins);
		Config *cfg = load_text(text);
		g_autofree char *want = g_path_is_absolute(cases[i].want)
						? g_strdup(cases[i].want)
						: g_build_filename(tmpdir, cases[i].want, NULL);
		g_assert_cmpstr(cfg->desk_templates, ==, want);
		cfg_free(cfg);
	}

	/* a relative config path still gives absolute templates and dir */
	g_autofree char *cwd = g_get_current_dir();
	g_free(write_file("deskmail.conf", minimal_conf));
	g_assert_cmpint(g_chdir(tmpdir), ==, 0);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = cfg_load("deskmail.conf", &cfg, &err);
	g_autofree char *here = g_get_current_dir();
	g_assert_cmpint(g_chdir(cwd), ==, 0);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpstr(cfg->path, ==, "deskmail.conf");
	g_assert_true(g_path_is_absolute(cfg->dir));
	g_autofree char *want = g_build_filename(here, "templates", NULL);
	g_assert_cmpstr(cfg->desk_templates, ==, want);
	cfg_free(cfg);
	tmp_teardown();
}

static void test_unreadable(void)
{
	tmp_setup();
	g_autofree char *path = g_build_filename(tmpdir, "missing.conf", NULL);
	Config *cfg = NULL;
	DmError err = {0};
	g_assert_cmpint(cfg_load(path, &cfg, &err), ==, DM_ECONFIG);
	g_autofree char *want = g_strdup_printf("%s: cannot read: %s", path, g_strerror(ENOENT));
	g_assert_cmpstr(err.msg, ==, want);
	g_assert_null(cfg);

	dm_error_clear(&err);
	g_assert_cmpint(cfg_load(tmpdir, &cfg, &err), ==, DM_ECONFIG);
	g_autofree char *want2 = g_strdup_printf("%s: cannot read: %s", tmpdir, g_strerror(EISDIR));
	g_assert_cmpstr(err.msg, ==, want2);
	tmp_teardown();
}

static void test_default_path(void)
{
	g_unsetenv("DESKMAIL_CONFIG");
	g_assert_cmpstr(cfg_default_path(NULL), ==, DM_DEFAULT_CONFIG);
	g_assert_cmpstr(cfg_default_path("/x/y.conf"), ==, "/x/y.conf");
	g_setenv("DESKMAIL_CONFIG", "/env/deskmail.conf", TRUE);
	g_assert_cmpstr(cfg_default_path(NULL), ==, "/env/deskmail.conf");
	g_assert_cmpstr(cfg_default_path("/x/y.conf"), ==, "/x/y.conf");
	g_unsetenv("DESKMAIL_CONFIG");
}

/* ---------- several mailboxes ---------- */

static const char mailboxes_head[] =
	"database = { conninfo = \"dbname=deskmail\"; };\n"
	"smtp = { url = \"smtp://127.0.0.1:2525\"; };\n"
	"desk = { name = \"Desk\"; address = \"Support@Agency.example\"; };\n"
	"plans = { };\n";

static int load_mb_text(const char *text, Config **cfg_r, DmError *err)
{
	g_autofree char *path = write_file("deskmail.conf", text);
	return cfg_load(path, cfg_r, err);
}

static void test_mailboxes(void)
{
	tmp_setup();
	g_autofree char *text = g_strconcat(
		mailboxes_head,
		"mailboxes = (\n"
		"  { url = \"imap://127.0.0.1:1143/INBOX\"; username = \"support\"; password = "
		"\"a\"; },\n"
		"  { name = \"brand-b\"; url = \"imap://127.0.0.1:1143/INBOX\"; username = "
		"\"sales\";\n"
		"    password = \"b\"; address = \"Sales@Brand-B.example\"; templates = "
		"\"tpl-b\";\n"
		"    poll_interval = 5; move_to = \"Done\"; },\n"
		"  { name = \"c\"; url = \"imaps://mail.example/Support\"; username = \"help\"; "
		"password = \"c\";\n"
		"    address = \"support@agency.example\"; }\n"
		");\n",
		NULL);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = load_mb_text(text, &cfg, &err);
	if (rc)
		g_test_message("error: %s", err.msg);
	g_assert_cmpint(rc, ==, 0);
	g_assert_true(cfg->mailbox_list);
	g_assert_cmpuint(cfg->n_mailboxes, ==, 3);
	const CfgMailbox *a = &cfg->mailboxes[0], *b = &cfg->mailboxes[1], *c = &cfg->mailboxes[2];
	g_assert_cmpstr(a->name, ==, "support@127.0.0.1:1143/INBOX"); /* derived */
	g_assert_null(a->address);
	g_assert_null(a->templates);
	g_assert_cmpint(a->poll_interval, ==, 30);
	g_assert_cmpstr(a->mark_flag, ==, "$Ticketed");
	g_assert_cmpstr(b->name, ==, "brand-b");
	g_assert_cmpstr(b->password, ==, "b");
	g_assert_cmpstr(b->address, ==, "sales@brand-b.example");
	g_autofree char *tpl = g_build_filename(cfg->dir, "tpl-b", NULL);
	g_assert_cmpstr(b->templates, ==, tpl);
	g_assert_cmpint(b->poll_interval, ==, 5);
	g_assert_cmpstr(b->move_to, ==, "Done");
	g_assert_true(cfg_mailbox(cfg, "c") == c);
	g_assert_null(cfg_mailbox(cfg, "d"));
	/* every address of ours, lower-case, each once */
	g_assert_nonnull(cfg->own_addresses);
	g_assert_cmpstr(cfg->own_addresses[0], ==, "support@agency.example");
	g_assert_cmpstr(cfg->own_addresses[1], ==, "sales@brand-b.example");
	g_assert_null(cfg->own_addresses[2]);
	cfg_free(cfg);

	/* an entry logs in with OAuth2 as the imap group does */
	g_autofree char *oa = g_strconcat(
		mailboxes_head,
		"mailboxes = ( { url = \"imaps://outlook.office365.com/INBOX\"; username = "
		"\"s@x.example\";\n"
		"  auth = \"oauth2\"; oauth2_token_command = \"get-token\"; } );\n",
		NULL);
	cfg = NULL;
	rc = load_mb_text(oa, &cfg, &err);
	if (rc)
		g_test_message("error: %s", err.msg);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpint(cfg->mailboxes[0].auth, ==, CFG_LOGIN_OAUTH2);
	g_assert_cmpstr(cfg->mailboxes[0].oauth2_token_command, ==, "get-token");
	g_assert_null(cfg->mailboxes[0].password);
	cfg_free(cfg);

	/* the single imap group is mailbox 0, named after its account */
	g_autofree char *one = g_strconcat(mailboxes_head,
					   "imap = { url = \"imap://h/INBOX\"; username = \"u\"; "
					   "password = \"p\"; };\n",
					   NULL);
	cfg = NULL;
	g_assert_cmpint(load_mb_text(one, &cfg, &err), ==, 0);
	g_assert_false(cfg->mailbox_list);
	g_assert_cmpuint(cfg->n_mailboxes, ==, 1);
	g_assert_cmpstr(cfg->mailboxes[0].name, ==, "u@h/INBOX");
	g_assert_cmpstr(cfg->own_addresses[0], ==, "support@agency.example");
	g_assert_null(cfg->own_addresses[1]);
	cfg_free(cfg);

	static const struct {
		const char *conf, *want;
	} bad[] = {
		{"imap = { url = \"imap://h/INBOX\"; username = \"u\"; password = \"p\"; };\n"
		 "mailboxes = ( { url = \"imap://h/INBOX\"; username = \"v\"; password = \"p\"; } "
		 ");\n",
		 ":6: setting 'mailboxes': set either the imap group (one mailbox) or the "
		 "mailboxes list, not both"},
		{"mailboxes = ( { name = \"x\"; url = \"imap://h/INBOX\"; username = \"u\"; "
		 "password = \"p\"; },\n"
		 "  { name = \"x\"; url = \"imap://h/INBOX\"; username = \"v\"; password = \"p\"; "
		 "} "
		 ");\n",
		 ":6: setting 'mailboxes.[1].name': \"x\" is the name of mailboxes.[0] too"},
		{"mailboxes = ( { url = \"imap://h/INBOX\"; username = \"u\"; password = \"p\"; "
		 "},\n"
		 "  { name = \"y\"; url = \"imap://h/INBOX\"; username = \"u\"; password = \"q\"; "
		 "} "
		 ");\n",
		 ":6: setting 'mailboxes.[1]': the same url and username as mailboxes.[0]"},
		{"imap = { url = \"imap://h/INBOX\"; username = \"u\"; password = \"p\";\n"
		 "  address = \"a@b.example\"; };\n",
		 ":6: setting 'imap.address': unknown setting"},
		{"mailboxes = ( { url = \"imap://h/INBOX\"; username = \"u\"; } );\n",
		 ":5: setting 'mailboxes.[0].password': required"},
		{"mailboxes = ( );\n", ":5: setting 'mailboxes': must be a list of 1 to"},
		{"mailboxes = ( 1 );\n", ":5: setting 'mailboxes.[0]': must be a group"},
		{"mailboxes = { url = \"imap://h/INBOX\"; };\n",
		 ":5: setting 'mailboxes': must be a list of 1 to"},
		{"mailboxes = ( { url = \"imap://h/INBOX\"; username = \"u\"; password = \"p\";\n"
		 "  adress = \"a@b.example\"; } );\n",
		 ":6: setting 'mailboxes.[0].adress': unknown setting"},
		{"mailboxes = ( { url = \"imap://h/INBOX\"; username = \"u\"; password = \"p\";\n"
		 "  address = \"Sales <s@b.example>\"; } );\n",
		 ":6: setting 'mailboxes.[0].address': must be a bare e-mail address"},
		{"", ": setting 'imap': required group is missing (or a mailboxes list)"},
		{"mailboxes = ( { url = \"imap://h/INBOX\"; username = \"u\"; password = \"p\";\n"
		 "  auth = \"oauth2\"; oauth2_token_command = \"t\"; } );\n",
		 "setting 'mailboxes.[0].password'"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *t = g_strconcat(mailboxes_head, bad[i].conf, NULL);
		DmError e = {0};
		cfg = NULL;
		rc = load_mb_text(t, &cfg, &e);
		g_test_message("case %zu: %s", i, e.msg);
		g_assert_cmpint(rc, ==, DM_ECONFIG);
		g_assert_null(cfg);
		g_assert_nonnull(strstr(e.msg, bad[i].want));
	}
	tmp_teardown();
}

/* ---------- OAuth2 logins ---------- */

/* Load base_conf with `c` applied: NULL on error (message in *msg_r,
 * g_free), else the Config. */
static Config *try_load(const BadCase *c, char **msg_r)
{
	g_autofree char *text = build_conf(c);
	g_autofree char *path = write_file("deskmail.conf", text);
	Config *cfg = NULL;
	DmError err = {0};
	int rc = cfg_load(path, &cfg, &err);
	*msg_r = rc == 0 ? NULL : g_strdup(err.msg);
	if (rc != 0)
		g_assert_cmpint(rc, ==, DM_ECONFIG);
	return cfg;
}

static void test_oauth2(void)
{
	static const char pw[] = "\tpassword = \"secret\";";
	static const struct {
		const char *what;
		const char *to;   /* replaces imap's password line (8) */
		const char *smtp; /* inserted into smtp { } (line 13) */
		int line;         /* of the error, 0 = none expected */
		const char *msg;  /* expected in the error */
	} bad[] = {
		{"oauth2 with a password",
		 "\tauth = \"oauth2\"; password = \"x\"; oauth2_token_file = "
		 "\"tok\";",
		 "", 8, "setting 'imap.password': not used with imap.auth = \"oauth2\""},
		{"oauth2 without a token source", "\tauth = \"oauth2\";", "", 8,
		 "setting 'imap.auth': \"oauth2\" needs exactly one of imap.oauth2_token_file and "
		 "imap.oauth2_token_command"},
		{"oauth2 with both token sources",
		 "\tauth = \"oauth2\"; oauth2_token_file = \"tok\"; "
		 "oauth2_token_command = \"true\";",
		 "", 8, "needs exactly one of"},
		{"a token file without oauth2", "\tpassword = \"x\"; oauth2_token_file = \"tok\";",
		 "", 8, "setting 'imap.oauth2_token_file': needs imap.auth = \"oauth2\""},
		{"a mechanism without oauth2",
		 "\tpassword = \"x\"; oauth2_mechanism = \"xoauth2\";", "", 8,
		 "setting 'imap.oauth2_mechanism': needs imap.auth = \"oauth2\""},
		{"unknown auth", "\tpassword = \"x\"; auth = \"oauth\";", "", 8,
		 "setting 'imap.auth': must be \"password\" or \"oauth2\""},
		{"unknown mechanism",
		 "\tauth = \"oauth2\"; oauth2_mechanism = \"plain\"; "
		 "oauth2_token_file = \"tok\";",
		 "", 8, "setting 'imap.oauth2_mechanism': must be \"xoauth2\" or \"oauthbearer\""},
		{"empty token command", "\tauth = \"oauth2\"; oauth2_token_command = \"\";", "", 8,
		 "setting 'imap.oauth2_token_command': must not be empty"},
		{"smtp oauth2 without a user name", pw,
		 "auth = \"oauth2\"; oauth2_token_command = \"true\";", 13,
		 "setting 'smtp.auth': \"oauth2\" needs smtp.username"},
		{"smtp oauth2 with a password file", pw,
		 "username = \"u\"; auth = \"oauth2\"; oauth2_token_command = \"true\"; "
		 "password_file = \"tok\";",
		 13, "setting 'smtp.password_file': not used with smtp.auth = \"oauth2\""},
		{"a token file others can read",
		 "\tauth = \"oauth2\"; oauth2_token_file = \"open\";", "", 8,
		 "is readable or writable by others (mode 0644): chmod o-rw it"},
	};
	tmp_setup();
	g_autofree char *tok = write_file("tok", "abc\n");
	g_assert_cmpint(g_chmod(tok, 0600), ==, 0);
	g_autofree char *open_tok = write_file("open", "abc\n");
	g_assert_cmpint(g_chmod(open_tok, 0644), ==, 0);
	g_autofree char *conf_path = g_build_filename(tmpdir, "deskmail.conf", NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		BadCase c = {.from = pw, .to = bad[i].to, .tag = "@SMTP@", .insert = bad[i].smtp};
		g_autofree char *msg = NULL;
		Config *cfg = try_load(&c, &msg);
		g_test_message("%s -> %s", bad[i].what, msg ? msg : "(loaded)");
		g_assert_null(cfg);
		g_autofree char *where = g_strdup_printf("%s:%d: ", conf_path, bad[i].line);
		g_assert_true(g_str_has_prefix(msg, where));
		g_assert_nonnull(strstr(msg, bad[i].msg));
	}

	/* IMAP with a token file (relative to the configuration's folder) and
	 * SMTP with a command, OAUTHBEARER; nothing is run at load */
	BadCase good = {.from = pw,
			.to = "\tauth = \"oauth2\"; oauth2_token_file = \"tok\";",
			.tag = "@SMTP@",
			.insert = "username = \"u@example.com\"; auth = \"oauth2\"; "
				  "oauth2_mechanism = \"oauthbearer\"; "
				  "oauth2_token_command = \"/nonexistent/refresh --user u\";"};
	g_autofree char *msg = NULL;
	Config *cfg = try_load(&good, &msg);
	if (msg != NULL)
		g_test_message("error: %s", msg);
	g_assert_nonnull(cfg);
	g_assert_cmpint(cfg->mailboxes[0].auth, ==, CFG_LOGIN_OAUTH2);
	g_assert_cmpint(cfg->mailboxes[0].oauth2_mechanism, ==, CFG_OAUTH2_XOAUTH2);
	g_assert_cmpstr(cfg->mailboxes[0].oauth2_token_file, ==, tok);
	g_assert_null(cfg->mailboxes[0].oauth2_token_command);
	g_assert_null(cfg->mailboxes[0].password);
	g_assert_cmpint(cfg->smtp_auth, ==, CFG_LOGIN_OAUTH2);
	g_assert_cmpint(cfg->smtp_oauth2_mechanism, ==, CFG_OAUTH2_OAUTHBEARER);
	g_assert_cmpstr(cfg->smtp_oauth2_token_command, ==, "/nonexistent/refresh --user u");
	g_assert_null(cfg->smtp_oauth2_token_file);
	for (size_t i = 0; i < cfg->n_warnings; i++)
		g_assert_null(strstr(cfg->warnings[i], "oauth2"));
	cfg_free(cfg);

	/* the default is a password login */
	BadCase plain = {0};
	cfg = try_load(&plain, &msg);
	g_assert_nonnull(cfg);
	g_assert_cmpint(cfg->mailboxes[0].auth, ==, CFG_LOGIN_PASSWORD);
	g_assert_cmpint(cfg->smtp_auth, ==, CFG_LOGIN_PASSWORD);
	cfg_free(cfg);

	/* a token file that is not there yet: a warning, for check-config */
	BadCase later = {.from = pw, .to = "\tauth = \"oauth2\"; oauth2_token_file = \"later\";"};
	cfg = try_load(&later, &msg);
	g_assert_nonnull(cfg);
	bool warned = false;
	for (size_t i = 0; i < cfg->n_warnings; i++)
		warned = warned || strstr(cfg->warnings[i], "imap.oauth2_token_file") != NULL;
	g_assert_true(warned);
	cfg_free(cfg);
	tmp_teardown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/minimal", test_minimal);
	g_test_add_func("/config/mailboxes", test_mailboxes);
	g_test_add_func("/config/dump", test_dump);
	g_test_add_func("/config/dump-changed", test_dump_changed);
	g_test_add_func("/config/dump-auth", test_dump_auth);
	g_test_add_func("/config/shipped", test_shipped);
	g_test_add_func("/config/base-ok", test_base_ok);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("/config/bad/%02zu-%s", i, bad_cases[i].what);
		g_strdelimit(name + 12, " ", '-');
		g_test_add_data_func(name, &bad_cases[i], test_bad);
	}
	g_test_add_func("/config/int64", test_int64);
	g_test_add_func("/config/all-settings", test_all_settings);
	g_test_add_func("/config/auth", test_auth);
	g_test_add_func("/config/urls", test_urls);
	g_test_add_func("/config/include", test_include);
	g_test_add_func("/config/password-file", test_password_file);
	g_test_add_func("/config/password-file-race", test_password_file_race);
	g_test_add_func("/config/oauth2", test_oauth2);
	g_test_add_func("/config/templates-path", test_templates_path);
	g_test_add_func("/config/unreadable", test_unreadable);
	g_test_add_func("/config/default-path", test_default_path);
	return g_test_run();
}
