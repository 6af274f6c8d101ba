/* test_cli.c - the command line's grammar (src/cli/usage.c): what is a
 * usage error (exit 64, before any configuration is read), what asks for
 * help, what passes on to the command. */
#include <glib.h>
#include <string.h>

#include "../../src/cli/cli.h"

typedef struct {
	const char *line; /* the words after "deskmail", split on spaces */
	int want;
	const char *why; /* a part of the complaint, or of the help text */
} Case;

static const Case cases[] = {
	{"poll", CLI_ARGS_OK, NULL},
	{"poll -q", CLI_ARGS_OK, NULL},
	{"poll --quiet", CLI_ARGS_OK, NULL},
	{"poll --help", CLI_ARGS_HELP, "usage: deskmail poll"},
	{"poll -h", CLI_ARGS_HELP, "One pass over the IMAP mailbox"},
	{"poll --bogus", CLI_ARGS_USAGE, "unknown option '--bogus'"},
	{"poll extra", CLI_ARGS_USAGE, "too many arguments"},
	{"frobnicate", CLI_ARGS_USAGE, "unknown command 'frobnicate'"},
	{"ingest", CLI_ARGS_OK, NULL},
	{"ingest mail.eml", CLI_ARGS_OK, NULL},
	{"ingest a b", CLI_ARGS_USAGE, "too many arguments"},
	{"escalate -q", CLI_ARGS_OK, NULL},
	{"digest --dry-run -q", CLI_ARGS_OK, NULL},
	{"digest --dry-run=yes", CLI_ARGS_USAGE, "takes no value"},
	{"check-config -n --connect", CLI_ARGS_OK, NULL},
	{"check-config --connect=now", CLI_ARGS_USAGE, "takes no value"},
	{"client", CLI_ARGS_USAGE, "a subcommand is missing"},
	{"client --help", CLI_ARGS_HELP, "deskmail client set NAME"},
	{"client frob", CLI_ARGS_USAGE, "unknown subcommand 'frob'"},
	{"client add Acme --plan silver", CLI_ARGS_OK, NULL},
	{"client add Acme --plan=silver", CLI_ARGS_OK, NULL},
	{"client add Acme", CLI_ARGS_USAGE, "option '--plan' is required"},
	{"client add --plan silver", CLI_ARGS_USAGE, "missing argument"},
	{"client add Acme --plan", CLI_ARGS_USAGE, "needs a value"},
	{"client add Acme --plan silver --help", CLI_ARGS_HELP, "usage: deskmail client add"},
	{"client add --bogus --help", CLI_ARGS_HELP, "usage: deskmail client add"},
	{"contact add Acme a@b.example --name Al", CLI_ARGS_OK, NULL},
	{"contact add Acme", CLI_ARGS_USAGE, "missing argument"},
	{"contact list", CLI_ARGS_OK, NULL},
	{"contact list Acme --json", CLI_ARGS_OK, NULL},
	{"staff add s@a.example --name Sam --role senior-engineer --line 2 --manager", CLI_ARGS_OK,
	 NULL},
	{"staff add s@a.example --name Sam", CLI_ARGS_USAGE, "option '--role' is required"},
	{"staff set s@a.example --no-manager", CLI_ARGS_OK, NULL},
	{"ticket list --due --limit 5 --json", CLI_ARGS_OK, NULL},
	{"ticket show 12", CLI_ARGS_OK, NULL},
	{"ticket show", CLI_ARGS_USAGE, "missing argument"},
	{"ticket sla 3 --json", CLI_ARGS_OK, NULL},
	{"quarantine accept 4 --contact a@b.example --by sam", CLI_ARGS_OK, NULL},
	{"quarantine drop", CLI_ARGS_USAGE, "missing argument"},
	{"attachment get 7 -o out.bin", CLI_ARGS_OK, NULL},
	{"attachment get 7 -o", CLI_ARGS_USAGE, "needs a value"},
	{"attachment put 7", CLI_ARGS_USAGE, "unknown subcommand 'put'"},
	/* values the grammar knows the form of: refused before the database */
	{"ticket show #12", CLI_ARGS_OK, NULL},
	{"ticket show abc", CLI_ARGS_USAGE, "'abc' is not a ticket number"},
	{"ticket show 0", CLI_ARGS_USAGE, "'0' is not a ticket number"},
	{"ticket show 12x --json", CLI_ARGS_USAGE, "'12x' is not a ticket number"},
	{"ticket sla x", CLI_ARGS_USAGE, "'x' is not a ticket number"},
	{"quarantine show #4", CLI_ARGS_OK, NULL},
	{"quarantine retry four", CLI_ARGS_USAGE, "'four' is not a quarantine id"},
	{"attachment get x", CLI_ARGS_USAGE, "'x' is not an attachment id"},
	{"attachment get -o out.bin x", CLI_ARGS_USAGE, "'x' is not an attachment id"},
	{"attachment get -- -3", CLI_ARGS_USAGE, "'-3' is not an attachment id"},
	{"staff set s@a.example", CLI_ARGS_USAGE, "--manager or --no-manager is required"},
	{"staff set s@a.example --manager --no-manager", CLI_ARGS_USAGE,
	 "--manager and --no-manager exclude each other"},
	{"staff set s@a.example --manager", CLI_ARGS_OK, NULL},
	{"staff add s@a.example --name Sam --role wizard", CLI_ARGS_USAGE,
	 "option '--role': 'wizard' is not one of account-manager, project-manager, "
	 "senior-engineer or junior-engineer"},
	{"staff add s@a.example --name Sam --role=wizard", CLI_ARGS_USAGE,
	 "'wizard' is not one of"},
	{"staff add s@a.example --name Sam --role junior-engineer --line 7", CLI_ARGS_USAGE,
	 "option '--line': '7' is not 1, 2 or 3"},
	{"staff add s@a.example --name Sam --role junior-engineer --line=3", CLI_ARGS_OK, NULL},
	{"ticket list --status bogus", CLI_ARGS_USAGE,
	 "option '--status': 'bogus' is not one of open, pending-evaluation,"},
	{"ticket list --status awaiting-client --client Acme", CLI_ARGS_OK, NULL},
	{"ticket list --due --limit 0", CLI_ARGS_USAGE, "'0' is not a number from 1 to 100000"},
	{"quarantine list --status held", CLI_ARGS_OK, NULL},
	{"quarantine list --status=open", CLI_ARGS_USAGE,
	 "'open' is not one of held, accepted, dropped, set-aside or retried"},
	/* --help still wins */
	{"ticket show abc --help", CLI_ARGS_HELP, "usage: deskmail ticket show"},
	/* the operator's commands check their own lines (ops.c) */
	{"outbox list --json", CLI_ARGS_OK, NULL},
	{"stats --json", CLI_ARGS_OK, NULL},
	{"purge --older-than 2y", CLI_ARGS_OK, NULL},
};

static void test_grammar(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(GStrv) argv = g_strsplit(cases[i].line, " ", -1);
		int argc = (int)g_strv_length(argv);
		g_autofree char *text = NULL, *why = NULL;
		int got = cli_check_args(argc, argv, &text, &why);
		if (got != cases[i].want)
			g_error("'%s': got %d, want %d (%s)", cases[i].line, got, cases[i].want,
				why ? why : "");
		if (cases[i].want == CLI_ARGS_USAGE) {
			g_assert_nonnull(why);
			if (strstr(why, cases[i].why) == NULL)
				g_error("'%s': complaint '%s' lacks '%s'", cases[i].line, why,
					cases[i].why);
		} else if (cases[i].want == CLI_ARGS_HELP) {
			g_assert_null(why);
			g_assert_nonnull(text);
			if (strstr(text, cases[i].why) == NULL)
				g_error("'%s': help lacks '%s'", cases[i].line, cases[i].why);
			g_assert_nonnull(strstr(text, "--help"));
		} else {
			g_assert_null(why);
			g_assert_null(text);
		}
	}
}

/* every command the usage text lists is one the grammar knows */
static void test_known(void)
{
	const char *const cmds[] = {
		"check-config", "migrate",    "poll",   "ingest",  "send",  "run",
		"escalate",     "digest",     "client", "contact", "staff", "ticket",
		"quarantine",   "attachment", "outbox", "stats",   "purge"};
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
		g_assert_true(cli_known_command(cmds[i]));
	g_assert_false(cli_known_command("help"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/grammar", test_grammar);
	g_test_add_func("/cli/known", test_known);
	return g_test_run();
}
