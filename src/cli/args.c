/* args.c - what the administration and report commands share: their
 * argument conventions and printing the lines a report gives. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

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

void cli_print_lines(GPtrArray *lines)
{
	for (guint i = 0; i < lines->len; i++)
		printf("%s\n", (const char *)lines->pdata[i]);
	g_ptr_array_free(lines, TRUE);
}
