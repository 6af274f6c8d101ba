/* check.c - `deskmail check-config [-n] [--connect]`: the configuration
 * and templates checked, the effective settings printed (all of them, or
 * with -n only those that differ from the defaults, as `postconf -n`), and
 * with --connect a login to each server, one line each:
 *
 *   postgresql: ok (server 15.20, schema version 10)
 *   imap: ok (imap://127.0.0.1:1143/INBOX as support, UIDNEXT 7)
 *   smtp: failed: SMTP smtp://127.0.0.1:2525: login as desk refused: 535 ...
 *
 * The exit code is the worst of them: a refused login (77) before a
 * configuration or schema to fix (78) before a server that cannot be
 * reached (75).  Nothing is written anywhere. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/desk.h"
#include "deskmail/imap.h"
#include "deskmail/smtp.h"

/* How bad a failure is, for picking the exit code of several. */
static int severity(int kind)
{
	switch (kind) {
	case 0:
		return 0;
	case DM_ETEMP:
		return 1;
	case DM_ECONFIG:
	case DM_EUNMIGRATED:
		return 2;
	case DM_EAUTH:
		return 3;
	default:
		return 4;
	}
}

static void worst(int rc, const DmError *e, int *worst_rc, DmError *err)
{
	if (severity(rc) > severity(*worst_rc)) {
		*worst_rc = rc;
		dm_error_clear(err);
		dm_error_set(err, rc, "%s", e->msg);
	}
}

static int check_db(const Config *cfg, const char *sql_dir, DmError *e)
{
	Db *db = NULL;
	int rc = store_open(cfg->db_conninfo, &db, e);
	int version = 0;
	if (rc == 0)
		rc = store_schema_version(db, &version, e);
	if (rc == 0)
		rc = store_check_migrated(db, sql_dir, e);
	if (rc == 0)
		printf("postgresql: ok (server %s, schema version %d)\n", store_server_version(db),
		       version);
	else
		printf("postgresql: failed: %s\n", e->msg);
	store_close(db);
	return rc;
}

/* Mailbox i: "imap: ..." for the imap group, "imap NAME: ..." for an
 * entry of the mailboxes list. */
static int check_imap(const Config *cfg, size_t i, DmError *e)
{
	g_autofree char *info = NULL;
	g_autofree char *what = cfg->mailbox_list
					? g_strdup_printf("imap %s", cfg->mailboxes[i].name)
					: g_strdup("imap");
	int rc = desk_check_imap(cfg, i, &info, e);
	if (rc == 0)
		printf("%s: ok (%s)\n", what, info);
	else
		printf("%s: failed: %s\n", what, e->msg);
	return rc;
}

static int check_smtp(const Config *cfg, DmError *e)
{
	g_autofree char *info = NULL;
	int rc = desk_check_smtp(cfg, &info, e);
	if (rc == 0)
		printf("smtp: ok (%s)\n", info);
	else
		printf("smtp: failed: %s\n", e->msg);
	return rc;
}

int check_config_main(const Config *cfg, const char *sql_dir, bool quiet, int argc, char **argv,
		      DmError *err)
{
	/* allowed but unwise: said, without failing */
	for (size_t i = 0; i < cfg->n_warnings; i++)
		fprintf(stderr, "deskmail: warning: %s\n", cfg->warnings[i]);
	int rc = desk_check_templates(cfg, err);
	if (rc == 0)
		rc = cfg_check_placeholders(cfg, err);
	if (rc)
		return rc;
	bool changed = cli_flag(argc, argv, "-n");
	bool connect = cli_flag(argc, argv, "--connect");
	if (!quiet && changed)
		cfg_dump_changed(cfg);
	else if (!quiet && !connect)
		cfg_dump(cfg);
	if (connect) {
		if (imap_global_init() != 0 || smtp_global_init() != 0)
			return dm_error_set(err, DM_EINTERNAL, "cannot set up libcurl");
		int bad = 0;
		DmError e = {0};
		worst(check_db(cfg, sql_dir, &e), &e, &bad, err);
		for (size_t i = 0; i < cfg->n_mailboxes; i++) {
			dm_error_clear(&e);
			worst(check_imap(cfg, i, &e), &e, &bad, err);
		}
		dm_error_clear(&e);
		worst(check_smtp(cfg, &e), &e, &bad, err);
		fflush(stdout);
		smtp_global_cleanup();
		imap_global_cleanup();
		if (bad)
			return bad;
	}
	if (!quiet)
		printf("%s: OK\n", cfg->path);
	return 0;
}
