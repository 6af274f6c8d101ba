/* report.c - reading tickets and quarantine: `deskmail ticket list|show`,
 * `deskmail quarantine list` and `deskmail attachment get`, as text for
 * people and as JSON for scripts.  The queries are the store's
 * (src/store/report.c); this file reads the arguments and writes. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/util.h"

static int print(int rc, GPtrArray *l)
{
	if (rc == 0)
		cli_print_lines(l);
	else
		g_ptr_array_free(l, TRUE);
	return rc;
}

/* `deskmail attachment get ID [-o FILE]`: the stored bytes, exactly. */
static int attachment_get(Db *db, int argc, char **argv, DmError *err)
{
	int64_t id;
	const char *arg = argc > 2 ? argv[2] : "";
	if (dm_parse_i64(arg, 1, INT64_MAX, &id) != 0)
		return dm_error_set(err, DM_EUSAGE, "usage: deskmail attachment get ID [-o FILE]");
	const char *out = cli_opt(argc, argv, "-o");
	if (out == NULL)
		out = cli_opt(argc, argv, "--output");
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = store_attachment_get(db, id, &data, &len, err);
	if (rc)
		return rc;
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (f == NULL) {
		g_free(data);
		return dm_error_set(err, DM_EPERM, "%s: %s", out, g_strerror(errno));
	}
	bool ok = fwrite(data, 1, len, f) == len;
	ok = (out ? fclose(f) : fflush(f)) == 0 && ok;
	g_free(data);
	if (!ok)
		return dm_error_set(err, DM_EPERM, "%s: write failed: %s", out ? out : "stdout",
				    g_strerror(errno));
	return 0;
}

int report_main(Db *db, int argc, char **argv, DmError *err)
{
	const char *what = argc > 0 ? argv[0] : "";
	const char *sub = argc > 1 ? argv[1] : "";
	bool json = cli_flag(argc, argv, "--json");
	GPtrArray *l = g_ptr_array_new_with_free_func(g_free);
	if (strcmp(what, "ticket") == 0 && strcmp(sub, "list") == 0)
		return print(store_ticket_list(db, cli_opt(argc, argv, "--status"),
					       cli_opt(argc, argv, "--client"), json, l, err),
			     l);
	if (strcmp(what, "ticket") == 0 && strcmp(sub, "show") == 0) {
		int64_t id;
		const char *arg = argc > 2 ? argv[2] : "";
		if (arg[0] == '#')
			arg++;
		if (dm_parse_i64(arg, 1, INT64_MAX, &id) != 0) {
			g_ptr_array_free(l, TRUE);
			return dm_error_set(err, DM_EUSAGE,
					    "usage: deskmail ticket show N [--json]");
		}
		return print(store_ticket_show(db, id, json, l, err), l);
	}
	if (strcmp(what, "quarantine") == 0 && strcmp(sub, "list") == 0)
		return print(
			store_quarantine_list(db, cli_opt(argc, argv, "--status"), json, l, err),
			l);
	g_ptr_array_free(l, TRUE);
	if (strcmp(what, "attachment") == 0 && strcmp(sub, "get") == 0)
		return attachment_get(db, argc, argv, err);
	return dm_error_set(
		err, DM_EUSAGE,
		"usage: deskmail ticket list|show N [--json] | quarantine list [--json]");
}
