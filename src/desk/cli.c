/* cli.c - what the administration and report commands share: their
 * argument conventions and printing a query's first column. */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"

const char *cli_opt(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return i + 1 < argc ? argv[i + 1] : "";
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

bool cli_flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

const char *cli_pos(int argc, char **argv, int k)
{
	int seen = 0;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			if (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--json") != 0)
				i++;
			continue;
		}
		if (seen++ == k)
			return argv[i];
	}
	return NULL;
}

int cli_print(Desk *desk, const char *sql, int n, const char *const *p, int *rows_r, DmError *err)
{
	DbRes *r = NULL;
	int rc = db_exec(desk->db, sql, n, p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++)
		printf("%s\n", dbres_get(r, i, 0) ? dbres_get(r, i, 0) : "");
	if (rows_r)
		*rows_r = dbres_rows(r);
	dbres_free(r);
	return 0;
}
