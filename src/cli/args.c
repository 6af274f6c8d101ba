/* args.c - what the administration and report commands share: their
 * argument conventions and printing the lines a report gives. */
#include <json-glib/json-glib.h>
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

/* Options that take no value. */
static bool is_flag(const char *a)
{
	static const char *const flags[] = {"--json",    "--manager", "--no-manager",     "--due",
					    "--dry-run", "--force",   "--contact-notice", NULL};
	for (int i = 0; flags[i]; i++)
		if (strcmp(a, flags[i]) == 0)
			return true;
	return false;
}

const char *cli_pos(int argc, char **argv, int k)
{
	int seen = 0;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			if (strchr(argv[i], '=') == NULL && !is_flag(argv[i]) &&
			    strcmp(argv[i], "--quiet") != 0)
				i++;
			continue;
		}
		/* -q, -n: flags; -o FILE */
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if (strcmp(argv[i], "-o") == 0)
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

void cli_print_json(JsonBuilder *b)
{
	JsonGenerator *g = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	g_autofree char *s = json_generator_to_data(g, NULL);
	puts(s);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
}

const char *cli_who(int argc, char **argv)
{
	const char *by = cli_opt(argc, argv, "--by");
	if (by && *by)
		return by;
	const char *const vars[] = {"SUDO_USER", "USER", "LOGNAME"};
	for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
		const char *v = g_getenv(vars[i]);
		if (v && *v)
			return v;
	}
	return "operator";
}
