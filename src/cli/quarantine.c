/* quarantine.c - `deskmail quarantine show|accept|drop|retry ID`: staff
 * working the quarantine from the command line.  `list` is a report
 * (report.c).  Each decision records who made it: --by NAME (a staff
 * member's address links it to them), else the login running the
 * command. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/desk.h"
#include "deskmail/util.h"

static const char usage_text[] =
	"usage: deskmail quarantine list [--status S] [--json] | show ID [--json] | accept ID "
	"[--contact EMAIL] [--by WHO] | drop ID [--by WHO] | retry ID [--by WHO]";

int quarantine_main(Desk *desk, int argc, char **argv, DmError *err)
{
	const char *sub = argc > 1 ? argv[1] : "";
	const char *arg = cli_pos(argc, argv, 2);
	int64_t id = 0;
	if (arg && arg[0] == '#')
		arg++;
	if (arg == NULL || dm_parse_i64(arg, 1, INT64_MAX, &id) != 0)
		return dm_error_set(err, DM_EUSAGE, "%s", usage_text);
	const char *by = cli_who(argc, argv);
	if (strcmp(sub, "show") == 0) {
		GPtrArray *l = g_ptr_array_new_with_free_func(g_free);
		int rc = store_quarantine_show(desk_db(desk), id, cli_flag(argc, argv, "--json"), l,
					       err);
		if (rc == 0)
			cli_print_lines(l);
		else
			g_ptr_array_free(l, TRUE);
		return rc;
	}
	if (strcmp(sub, "drop") == 0) {
		int rc = store_quarantine_drop(desk_db(desk), id, by, err);
		if (rc == 0)
			printf("quarantine #%lld dropped by %s\n", (long long)id, by);
		return rc;
	}
	bool accept = strcmp(sub, "accept") == 0;
	if (!accept && strcmp(sub, "retry") != 0)
		return dm_error_set(err, DM_EUSAGE, "%s", usage_text);
	const char *contact = accept ? cli_opt(argc, argv, "--contact") : NULL;
	g_autofree char *low = contact ? g_utf8_strdown(contact, -1) : NULL;
	IngestResult res;
	int rc = desk_quarantine_redo(desk, id, accept, low, by, &res, err);
	if (rc)
		return rc;
	printf("quarantine #%lld %s by %s: %s", (long long)id, accept ? "accepted" : "retried", by,
	       ingest_outcome_name(res.outcome));
	if (res.ticket_id && res.outcome != INGEST_DUPLICATE)
		printf(" #%lld", (long long)res.ticket_id);
	if (res.outcome == INGEST_QUARANTINE && res.detail[0])
		printf(" (%s)", res.detail);
	printf("\n");
	return 0;
}
