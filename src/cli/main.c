/* main.c - the deskmail command line: configuration, dispatch, exit codes
 * (sysexits), signals for the daemon.  Mail work goes to src/desk
 * (poll, ingest, send, run); migrations, administration and reports go
 * straight to src/store.  This file only translates DmError kinds into exit
 * codes and log lines, and sets the libraries up once (mime, imap, smtp). */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "deskmail/config.h"
#include "deskmail/desk.h"
#include "deskmail/imap.h"
#include "deskmail/log.h"
#include "deskmail/mime.h"
#include "deskmail/smtp.h"
#include "deskmail/store.h"
#include "deskmail/util.h"
#include "dm_build.h"

static volatile sig_atomic_t stop_requested;
/* -q/--quiet, before the command (cron) or after it */
static bool quiet;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static volatile sig_atomic_t reload_requested;

static void on_sighup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* run's handlers: SIGTERM and SIGINT stop it, SIGHUP reloads.  Installed
 * before the configuration is loaded, so that a SIGHUP that comes while
 * the daemon starts does not kill it (the flags are looked at from the
 * first pass on). */
static void run_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_sighup; /* reload, never die */
	sigaction(SIGHUP, &sa, NULL);
}

static void usage(FILE *f)
{
	fputs("usage: deskmail [-c FILE] [-v] [-q] [--allow-root] COMMAND [ARGS]\n"
	      "       deskmail COMMAND [SUBCOMMAND] --help\n"
	      "\n"
	      "  -q, --quiet                  print and log only warnings and errors (cron)\n"
	      "  --allow-root                 run as root (else refused; or "
	      "DESKMAIL_ALLOW_ROOT=1)\n"
	      "\n"
	      "  check-config [-n] [--connect] validate the configuration and templates;\n"
	      "                               -n: only what differs from the defaults;\n"
	      "                               --connect: log in to PostgreSQL, IMAP and SMTP\n"
	      "  migrate                      apply missing database migrations\n"
	      "  poll                         one pass over the IMAP mailbox\n"
	      "  ingest [FILE]                process one message from FILE or stdin (MTA pipe)\n"
	      "  send                         deliver what is due in the outbox\n"
	      "  run                          poll, escalate and send every poll_interval until "
	      "SIGTERM\n"
	      "  escalate [-q]                one pass of the SLA clocks: escalations, at-risk,\n"
	      "                               breach and follow-up notices (cron: every minute)\n"
	      "  digest [--dry-run] [-q]      the breach digest for managers (cron: daily)\n"
	      "  client add NAME --plan PLAN | set NAME [--account-manager EMAIL] [--plan P]\n"
	      "         [--calendar CAL|none] | list\n"
	      "  contact add CLIENT EMAIL [--name NAME] | remove CLIENT EMAIL | list [CLIENT]\n"
	      "  staff add EMAIL --name NAME --role ROLE [--line 1|2|3] [--manager] |\n"
	      "        set EMAIL --manager|--no-manager | list\n"
	      "  ticket list [--status S] [--client C] [--json] | show N [--json]\n"
	      "  ticket list --due [--limit N] [--json]   open tickets by nearest due time\n"
	      "  ticket sla N [--json]        each service-level clock of a ticket, explained\n"
	      "  quarantine list [--status S] [--json]\n"
	      "  quarantine show ID [--json]\n"
	      "  quarantine accept ID [--contact EMAIL] [--by WHO]\n"
	      "  quarantine drop ID [--by WHO]\n"
	      "  quarantine retry ID [--by WHO]\n"
	      "  attachment get ID [-o FILE]  write a stored attachment to FILE or stdout\n"
	      "  outbox list [--failed] [--json]     the mail not sent yet (as mailq)\n"
	      "  outbox retry ID|--all-failed [--by WHO] | drop ID [--by WHO]\n"
	      "  stats [--json] [--prometheus FILE]  mail in, quarantined, sent, deferred,\n"
	      "                               failed; open tickets per status and line\n"
	      "  purge --older-than SPAN [--dry-run] [--by WHO]   remove the contents of\n"
	      "                               tickets closed before SPAN (90d, 6m, 2y) ago\n"
	      "\n"
	      "The configuration is -c FILE, else $DESKMAIL_CONFIG, else " DM_DEFAULT_CONFIG ".\n"
	      "DESKMAIL_NOW=2026-12-24T16:00:00Z runs any command at that instant (tests).\n"
	      "Exit codes: 0 done, 1 not found, 64 usage, 65 bad data, 75 temporary (a server\n"
	      "is unreachable: try again), 77 login refused or run as root, 78 configuration\n"
	      "or database not migrated.\n",
	      f);
}

/* `ingest` runs as an MTA's pipe: Postfix and others bounce the mail on
 * 77 and 78, so there everything but a refused message (65) is 75 and the
 * MTA keeps the mail until the operator has fixed what is wrong. */
static bool mta_pipe;

static int exit_code(int kind)
{
	if (mta_pipe && kind != 0 && kind != DM_EPERM)
		return EX_TEMPFAIL;
	switch (kind) {
	case 0:
		return EX_OK;
	case DM_ETEMP:
		return EX_TEMPFAIL;
	case DM_EPERM:
		return EX_DATAERR;
	case DM_ECONFIG:
		return EX_CONFIG;
	case DM_ENOTFOUND:
		return 1;
	case DM_EAUTH:
		return EX_NOPERM;
	case DM_EUNMIGRATED:
		return EX_CONFIG;
	case DM_EUSAGE:
		return EX_USAGE;
	default:
		return EX_SOFTWARE;
	}
}

static int fail(const DmError *err, int rc)
{
	dm_log_fatal("%s", err->msg[0] ? err->msg : dm_error_kind_name(rc));
	return exit_code(rc);
}

/* Read a message for `ingest`, keeping at most max bytes; the rest is
 * drained and counted so the quarantine reason can say how large it was. */
static int read_message(const char *path, size_t max, char **data_r, size_t *len_r, size_t *total_r,
			DmError *err)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	if (f == NULL)
		return dm_error_set(err, DM_ENOTFOUND, "%s: %s", path, strerror(errno));
	size_t cap = 65536, len = 0, total = 0;
	char *buf = g_malloc(cap + 1);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		total += n;
		size_t keep = len < max ? MIN(n, max - len) : 0;
		if (len + keep > cap) {
			while (len + keep > cap)
				cap *= 2;
			buf = g_realloc(buf, cap + 1);
		}
		memcpy(buf + len, chunk, keep);
		len += keep;
	}
	int bad = ferror(f);
	if (path)
		fclose(f);
	if (bad) {
		g_free(buf);
		return dm_error_set(err, DM_ETEMP, "reading the message: %s", strerror(errno));
	}
	buf[len] = '\0';
	*data_r = buf;
	*len_r = len;
	*total_r = total;
	return 0;
}

/* The folder of the SQL migrations: $DESKMAIL_SQLDIR, the installed one
 * (under $DESKMAIL_DATADIR or <prefix>/share/deskmail), or the source tree's. */
static const char *sql_dir(void)
{
	const char *env = getenv("DESKMAIL_SQLDIR");
	if (env && *env)
		return env;
	static char *installed; /* computed once, kept for the process */
	if (installed == NULL)
		installed = g_build_filename(dm_datadir(), "sql", NULL);
	g_autofree char *first = g_build_filename(installed, "001_init.sql", NULL);
	if (g_file_test(first, G_FILE_TEST_EXISTS))
		return installed;
	return SOURCE_SQLDIR;
}

static int cmd_ingest(const Config *cfg, Desk *desk, const char *path, DmError *err)
{
	char *raw = NULL;
	size_t len = 0, total = 0;
	size_t max = (size_t)cfg->mailboxes[0].max_message_bytes; /* the first mailbox's */
	int rc = read_message(path, max, &raw, &len, &total, err);
	if (rc)
		return rc;
	if (total == 0) {
		g_free(raw);
		return dm_error_set(err, DM_EPERM, "empty message");
	}
	MailSource src = {.source = "pipe"};
	if (total > len) {
		/* refused outright, as an MTA refuses it: never cut and stored */
		g_free(raw);
		return dm_error_set(err, DM_EPERM,
				    "message of %zu bytes is over the limit of %zu bytes "
				    "(imap.max_message_bytes): not taken",
				    total, max);
	}
	IngestResult res;
	rc = desk_ingest(desk, (unsigned char *)raw, len, &src, &res, err);
	g_free(raw);
	if (rc && rc != DM_ETEMP)
		/* not stored at all, not even raw in quarantine: the MTA keeps
		 * the mail and tries again (EX_TEMPFAIL), nothing is lost */
		rc = dm_error_set(err, DM_ETEMP,
				  "not stored, not even in quarantine (%s); "
				  "leaving it to the MTA to retry",
				  err->msg);
	if (rc == 0 && res.ticket_id && !quiet)
		printf("%s #%lld\n", ingest_outcome_name(res.outcome), (long long)res.ticket_id);
	else if (rc == 0 && !quiet)
		printf("%s\n", ingest_outcome_name(res.outcome));
	return rc;
}

/* poll, ingest, send, run, escalate, digest: the mail work of the desk. */
static int desk_command(const Config *cfg, const char *cmd, int argc, char **argv, DmError *err)
{
	Desk *desk = NULL;
	/* the daemon starts with the database down too: its passes connect */
	bool is_run = strcmp(cmd, "run") == 0;
	int rc = is_run ? desk_new(cfg, &desk, err) : desk_open(cfg, &desk, err);
	if (rc == 0 && is_run)
		desk_set_schema_dir(desk, sql_dir()); /* checked at its connect */
	else if (rc == 0)
		rc = store_check_migrated(desk_db(desk), sql_dir(), err);
	if (rc) {
		desk_close(desk);
		return rc;
	}
	if (strcmp(cmd, "poll") == 0) {
		PollStats st;
		rc = desk_poll(desk, &st, err);
		if (st.fetched || st.failed)
			log_info("poll: %zu fetched: %zu new ticket(s), %zu repl(ies), %zu "
				 "quarantined, %zu duplicate(s), %zu set aside, %zu failed",
				 st.fetched, st.tickets, st.replies, st.quarantined, st.duplicates,
				 st.set_aside, st.failed);
		if (!quiet) {
			printf("fetched %zu: %zu new ticket(s), %zu repl(ies), %zu quarantined, "
			       "%zu duplicate(s)",
			       st.fetched, st.tickets, st.replies, st.quarantined, st.duplicates);
			if (st.set_aside)
				printf(", %zu set aside", st.set_aside);
			printf("\n");
		}
	} else if (strcmp(cmd, "quarantine") == 0) {
		rc = quarantine_main(desk, argc, argv, err);
	} else if (strcmp(cmd, "ingest") == 0) {
		rc = cmd_ingest(cfg, desk, cli_pos(argc - 1, argv + 1, 0), err);
	} else if (strcmp(cmd, "escalate") == 0) {
		EscalateStats es;
		rc = desk_escalate(desk, &es, err);
		if (es.tickets)
			log_info("escalate: %zu ticket(s) looked at: %zu escalated, %zu notice(s), "
				 "%zu mail(s) queued",
				 es.tickets, es.escalated, es.notices, es.mails);
		if (rc == 0 && !quiet)
			printf("escalate: %zu ticket(s) looked at, %zu escalated, %zu notice(s), "
			       "%zu "
			       "mail(s) queued%s\n",
			       es.tickets, es.escalated, es.notices, es.mails,
			       es.failed ? " (some set aside: see the log)" : "");
	} else if (strcmp(cmd, "digest") == 0) {
		DigestStats ds;
		bool dry = cli_flag(argc, argv, "--dry-run");
		rc = desk_digest(desk, dry, &ds, err);
		if (rc == 0 && !dry) {
			log_info("digest %s: %zu manager(s)", ds.period, ds.managers);
			if (!quiet)
				printf("digest %s: queued for %zu manager(s)\n", ds.period,
				       ds.managers);
		}
	} else if (strcmp(cmd, "send") == 0) {
		SendStats st;
		rc = desk_send(desk, &st, err);
		if (!quiet)
			printf("sent %zu, deferred %zu, failed %zu\n", st.sent, st.deferred,
			       st.failed);
	} else { /* run: its signal handlers are installed by main */
		desk_set_stop(desk, &stop_requested);
		desk_set_reload(desk, &reload_requested);
		rc = desk_run(desk, err);
	}
	/* a ticket the mail changed has its clocks derived again at once, and
	 * what else is due is done: the mail is stored whatever this gives */
	if (rc == 0 && (strcmp(cmd, "poll") == 0 || strcmp(cmd, "ingest") == 0)) {
		EscalateStats es;
		DmError e = {0};
		if (desk_escalate(desk, &es, &e) != 0)
			log_warn("escalate: %s (the next pass does it)", e.msg);
	}
	desk_close(desk);
	return rc;
}

/* migrate, client, contact, staff, ticket, quarantine, attachment: the
 * database alone. */
static int store_command(const Config *cfg, const char *cmd, int argc, char **argv, DmError *err)
{
	Db *db = NULL;
	int rc = store_open(cfg->db_conninfo, &db, err);
	if (rc)
		return rc;
	if (strcmp(cmd, "migrate") != 0 && (rc = store_check_migrated(db, sql_dir(), err)) != 0) {
		store_close(db);
		return rc;
	}
	if (strcmp(cmd, "migrate") == 0) {
		int n = 0;
		rc = store_migrate(db, sql_dir(), &n, err);
		if (rc == 0)
			rc = store_sla_fingerprint_init(db, cfg->sla_fingerprint, err);
		if (rc == 0 && !quiet)
			printf("%d migration(s) applied\n", n);
	} else if (strcmp(cmd, "client") == 0 || strcmp(cmd, "contact") == 0 ||
		   strcmp(cmd, "staff") == 0) {
		rc = admin_main(cfg, db, argc, argv, err);
	} else if (strcmp(cmd, "outbox") == 0 || strcmp(cmd, "stats") == 0 ||
		   strcmp(cmd, "purge") == 0) {
		rc = ops_main(cfg, db, argc, argv, err);
	} else if (strcmp(cmd, "ticket") == 0 && argc > 1 &&
		   (strcmp(argv[1], "sla") == 0 ||
		    (strcmp(argv[1], "list") == 0 && cli_flag(argc, argv, "--due")))) {
		rc = sla_cli_main(cfg, db, argc, argv, err);
	} else {
		rc = report_main(db, argc, argv, err);
	}
	store_close(db);
	return rc;
}

static bool is_one_of(const char *cmd, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(cmd, list[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	/* Mail can be megabytes, and two threads handle it (desk/fetch.c):
	 * buffers over 512 KiB are mapped and given back to the system when
	 * freed, rather than kept in glibc's arenas (whose threshold otherwise
	 * grows with the largest buffer freed), so memory follows what is in
	 * hand, not what once was. */
	mallopt(M_MMAP_THRESHOLD, 512 * 1024);
	const char *cfg_opt = NULL;
	int verbose = 0, c;
	bool allow_root = false;
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
						 {"verbose", no_argument, NULL, 'v'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"allow-root", no_argument, NULL, 'R'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	/* '+': stop at the command, so its own --options are left alone */
	while ((c = getopt_long(argc, argv, "+c:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_opt = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = true;
			break;
		case 'R':
			allow_root = true;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			puts("deskmail " PACKAGE_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	const char *cmd = argv[optind];
	mta_pipe = strcmp(cmd, "ingest") == 0;
	int cargc = argc - optind;
	char **cargv = argv + optind;

	/* the command line is checked whole before anything is read */
	g_autofree char *help = NULL, *why = NULL;
	switch (cli_check_args(cargc, cargv, &help, &why)) {
	case CLI_ARGS_HELP:
		fputs(help, stdout);
		return EX_OK;
	case CLI_ARGS_USAGE:
		fprintf(stderr, "deskmail: %s\n", why);
		if (help)
			fputs(help, stderr);
		else
			usage(stderr);
		return EX_USAGE;
	default:
		break;
	}
	/* the operator's commands check their own lines (ops.c), also before
	 * anything is read */
	if (strcmp(cmd, "outbox") == 0 || strcmp(cmd, "stats") == 0 || strcmp(cmd, "purge") == 0) {
		DmError uerr = {0};
		if (cli_flag(cargc, cargv, "--help") || cli_flag(cargc, cargv, "-h")) {
			printf("%s\n", ops_usage(cmd));
			return EX_OK;
		}
		if (ops_check(cargc, cargv, &uerr) != 0) {
			fprintf(stderr, "deskmail: %s\n", uerr.msg);
			return EX_USAGE;
		}
	}
	quiet = quiet || cli_flag(cargc, cargv, "-q") || cli_flag(cargc, cargv, "--quiet");
	const char *env_root = getenv("DESKMAIL_ALLOW_ROOT");
	if (geteuid() == 0 && !allow_root && !(env_root && strcmp(env_root, "1") == 0)) {
		dm_log_fatal("refusing to run as root: run it as the deskmail user "
			     "(sudo -u deskmail deskmail ...), or give --allow-root before the "
			     "command (or DESKMAIL_ALLOW_ROOT=1) if you mean it");
		return mta_pipe ? EX_TEMPFAIL : EX_NOPERM;
	}

	g_autofree char *clock_err = NULL;
	if (dm_clock_init(&clock_err) < 0) {
		fprintf(stderr, "deskmail: %s\n", clock_err);
		return EX_USAGE;
	}

	if (strcmp(cmd, "run") == 0)
		run_signals();
	DmError err = {0};
	Config *cfg = NULL;
	const char *path = cfg_default_path(cfg_opt);
	int rc = cfg_load(path, &cfg, &err);
	if (rc)
		return fail(&err, rc);
	dm_log_level = dm_log_level_parse(cfg->log_level);
	if (verbose)
		dm_log_level = DM_LOG_DEBUG;
	else if (quiet && dm_log_level < DM_LOG_WARN)
		dm_log_level = DM_LOG_WARN;
	dm_log_level_fixed = verbose || quiet;
	if (cfg->log_syslog)
		dm_log_use_syslog("deskmail");

	if (strcmp(cmd, "check-config") == 0) {
		rc = check_config_main(cfg, sql_dir(), quiet, cargc, cargv, &err);
		cfg_free(cfg);
		return rc ? fail(&err, rc) : EX_OK;
	}

	static const char *const desk_cmds[] = {"poll",     "ingest", "send", "run",
						"escalate", "digest", NULL};
	static const char *const store_cmds[] = {"migrate", "client",     "contact",    "staff",
						 "ticket",  "quarantine", "attachment", "outbox",
						 "stats",   "purge",      NULL};
	/* quarantine list is a report; its other commands work with mail */
	bool quarantine_work =
		strcmp(cmd, "quarantine") == 0 && cargc > 1 && strcmp(cargv[1], "list") != 0;
	if (is_one_of(cmd, desk_cmds) || quarantine_work) {
		mime_global_init();
		if (imap_global_init() != 0 || smtp_global_init() != 0) {
			dm_log_fatal("cannot set up libcurl");
			cfg_free(cfg);
			return EX_SOFTWARE;
		}
		rc = desk_command(cfg, cmd, cargc, cargv, &err);
		smtp_global_cleanup();
		imap_global_cleanup();
		mime_global_cleanup();
	} else if (is_one_of(cmd, store_cmds)) {
		rc = store_command(cfg, cmd, cargc, cargv, &err);
	} else {
		fprintf(stderr, "deskmail: unknown command '%s'\n", cmd);
		usage(stderr);
		cfg_free(cfg);
		return EX_USAGE;
	}
	cfg_free(cfg);
	if (rc)
		return fail(&err, rc);
	return EX_OK;
}
