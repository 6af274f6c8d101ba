/* usage.c - the grammar of the command line, checked before anything else
 * happens: every command and subcommand with its positional arguments and
 * options, and its usage text for `--help`.  A command line that does not
 * fit is a usage error (exit 64) before any configuration is read or any
 * server is asked; `--help` or `-h` anywhere an option may stand prints the
 * usage of what was asked and does nothing else.
 *
 * It checks the shape (which words, how many, which options, which take a
 * value) and the values whose form is fixed (a ticket number, a role from
 * the closed list, a line 1-3), so that `ticket show abc` is a usage error
 * even when the database is down; what needs the database to judge (a plan
 * or a client that exists) is left to the command.  A new command is one
 * row in verbs[] below: a command missing from it is refused as unknown. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/command.h"
#include "deskmail/util.h"

typedef struct {
	const char *cmd;
	const char *sub; /* NULL: the command takes no subcommand */
	int min_pos, max_pos;
	/* space separated: "--plan=" takes a value ("--role=role": of the
	 * form kinds[] names "role"), a leading '!' makes it required, and
	 * "--a|--b" are alternatives, at most one given (with '!': exactly
	 * one); every command also takes -h/--help and -q/--quiet */
	const char *opts;
	const char *synopsis; /* after "deskmail " */
	const char *text;
	const char *pos; /* the kinds of the positional arguments, space
			    separated, or NULL: any word */
} Verb;

static const Verb verbs[] = {
	{"check-config", NULL, 0, 0, "-n --connect", "check-config [-n] [--connect]",
	 "Validate the configuration and the templates and print the effective settings.\n"
	 "  -n         print only the settings that differ from the defaults\n"
	 "  --connect  also log in to PostgreSQL, IMAP and SMTP and report each"},
	{"migrate", NULL, 0, 0, "", "migrate", "Apply the missing database migrations."},
	{"poll", NULL, 0, 0, "", "poll", "One pass over the IMAP mailbox."},
	{"ingest", NULL, 0, 1, "", "ingest [FILE]",
	 "Process one message from FILE or stdin (an MTA pipe)."},
	{"send", NULL, 0, 0, "", "send", "Deliver what is due in the outbox."},
	{"run", NULL, 0, 0, "", "run",
	 "Poll, escalate and send every poll_interval until SIGTERM (the daemon)."},
	{"escalate", NULL, 0, 0, "", "escalate [-q]",
	 "One pass of the SLA clocks: escalations, at-risk, breach and follow-up\n"
	 "notices (cron: every minute)."},
	{"digest", NULL, 0, 0, "--dry-run", "digest [--dry-run] [-q]",
	 "The breach digest for managers (cron: daily)."},
	{"client", "add", 1, 1, "!--plan=", "client add NAME --plan PLAN", "Add a client."},
	{"client", "set", 1, 1, "--account-manager= --plan= --calendar=",
	 "client set NAME [--account-manager EMAIL] [--plan PLAN] [--calendar CAL|none]",
	 "Change a client."},
	{"client", "show", 1, 1, "--json", "client show NAME [--json]",
	 "A client, its plan and its hours this month."},
	{"client", "list", 0, 0, "--json", "client list [--json]", "All clients."},
	{"contact", "add", 2, 2, "--name=", "contact add CLIENT EMAIL [--name NAME]",
	 "Add a contact to a client."},
	{"contact", "remove", 2, 2, "", "contact remove CLIENT EMAIL",
	 "Remove a contact from a client."},
	{"contact", "list", 0, 1, "--json", "contact list [CLIENT] [--json]",
	 "The contacts of one client or of all."},
	{"staff", "add", 1, 1, "!--name= !--role=role --line=line --manager",
	 "staff add EMAIL --name NAME --role ROLE [--line 1|2|3] [--manager]",
	 "Add a staff member."},
	{"staff", "set", 1, 1, "!--manager|--no-manager", "staff set EMAIL --manager|--no-manager",
	 "Make a staff member a manager (receives the digest), or not."},
	{"staff", "list", 0, 0, "--json", "staff list [--json]", "All staff."},
	{"ticket", "list", 0, 0, "--status=ticket-status --client= --json --due --limit=limit",
	 "ticket list [--status S] [--client C] [--json] | --due [--limit N] [--json]",
	 "Tickets; with --due, open tickets by nearest due time."},
	{"ticket", "show", 1, 1, "--json", "ticket show N [--json]", "One ticket and its history.",
	 "ticket"},
	{"ticket", "sla", 1, 1, "--json", "ticket sla N [--json]",
	 "Each service-level clock of a ticket, explained.", "ticket"},
	{"quarantine", "list", 0, 0, "--status=quarantine-status --json",
	 "quarantine list [--status S] [--json]", "Mail held in quarantine."},
	{"quarantine", "show", 1, 1, "--json", "quarantine show ID [--json]",
	 "One quarantined mail.", "quarantine"},
	{"quarantine", "accept", 1, 1,
	 "--contact= --by=", "quarantine accept ID [--contact EMAIL] [--by WHO]",
	 "Take a quarantined mail in (adding its sender as a contact with --contact).",
	 "quarantine"},
	{"quarantine", "drop", 1, 1, "--by=", "quarantine drop ID [--by WHO]",
	 "Drop a quarantined mail.", "quarantine"},
	{"quarantine", "retry", 1, 1, "--by=", "quarantine retry ID [--by WHO]",
	 "Take a quarantined mail through the desk again.", "quarantine"},
	{"attachment", "get", 1, 1, "-o= --output=", "attachment get ID [-o FILE]",
	 "Write a stored attachment to FILE or stdout.", "attachment"},
	/* opts NULL: the command checks its own line and prints its own
	 * usage, before the configuration is read (ops.c) */
	{"outbox", NULL, 0, 0, NULL, "outbox list|retry|drop ...", NULL},
	{"stats", NULL, 0, 0, NULL, "stats ...", NULL},
	{"purge", NULL, 0, 0, NULL, "purge ...", NULL},
};

/* The statuses of a quarantine entry (the CHECK in sql/007). */
static const char *const quarantine_states[] = {"held",      "accepted", "dropped",
						"set-aside", "retried",  NULL};

/* "one of a, b or c" (g_free). */
static char *one_of(const char *const *list)
{
	GString *s = g_string_new("one of ");
	for (size_t i = 0; list[i] != NULL; i++) {
		if (i > 0)
			g_string_append(s, list[i + 1] != NULL ? ", " : " or ");
		g_string_append(s, list[i]);
	}
	return g_string_free(s, FALSE);
}

/* A positive number, with an optional '#' when hash. */
static bool is_id(const char *v, bool hash)
{
	int64_t n;
	if (hash && v[0] == '#')
		v++;
	return dm_parse_i64(v, 1, INT64_MAX, &n) == 0;
}

/* What a value of `kind` must be when v is not one (g_free), or NULL when
 * v is fine.  The commands judge these again; this is so that they are
 * usage errors before the configuration and the database are read. */
static char *bad_value(const char *kind, const char *v)
{
	int64_t n;
	if (kind == NULL || *kind == '\0')
		return NULL;
	if (strcmp(kind, "ticket") == 0)
		return is_id(v, true) ? NULL : g_strdup("a ticket number");
	if (strcmp(kind, "quarantine") == 0)
		return is_id(v, true) ? NULL : g_strdup("a quarantine id");
	if (strcmp(kind, "attachment") == 0)
		return is_id(v, false) ? NULL : g_strdup("an attachment id");
	if (strcmp(kind, "line") == 0)
		return dm_parse_i64(v, 1, 3, &n) == 0 ? NULL : g_strdup("1, 2 or 3");
	if (strcmp(kind, "limit") == 0) /* as sla.c */
		return dm_parse_i64(v, 1, 100000, &n) == 0 ? NULL
							   : g_strdup("a number from 1 to 100000");
	const char *const *list = strcmp(kind, "role") == 0                ? staff_roles
				  : strcmp(kind, "ticket-status") == 0     ? ticket_states
				  : strcmp(kind, "quarantine-status") == 0 ? quarantine_states
									   : NULL;
	g_assert(list != NULL); /* a kind verbs[] names but this does not know */
	return command_in_list(list, v) ? NULL : one_of(list);
}

static const char common_opts[] = "  -q, --quiet  print and log only warnings and errors\n"
				  "  -h, --help   this text\n";

static bool has_subcommands(const char *cmd)
{
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].cmd, cmd) == 0)
			return verbs[i].sub != NULL;
	return false;
}

bool cli_known_command(const char *cmd)
{
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].cmd, cmd) == 0)
			return true;
	return false;
}

/* The usage of one verb, or of every subcommand of cmd (v == NULL). */
static char *help_text(const char *cmd, const Verb *v)
{
	GString *s = g_string_new(NULL);
	if (v != NULL) {
		g_string_append_printf(s, "usage: deskmail %s\n\n%s\n\n%s", v->synopsis, v->text,
				       common_opts);
		return g_string_free(s, FALSE);
	}
	g_string_append(s, "usage:");
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].cmd, cmd) == 0)
			g_string_append_printf(s, "\n  deskmail %s", verbs[i].synopsis);
	g_string_append_printf(s, "\n\n%s", common_opts);
	return g_string_free(s, FALSE);
}

/* Find option `name` (without "=value") in the verb's list: whether it
 * takes a value, and the kind of the value (g_free; "" for any).  False
 * when the verb does not take it. */
static bool find_opt(const Verb *v, const char *name, size_t len, bool *takes_value_r,
		     char **kind_r)
{
	g_auto(GStrv) opts = g_strsplit_set(v->opts, " |", -1);
	for (char **o = opts; *o; o++) {
		const char *n = *o[0] == '!' ? *o + 1 : *o;
		size_t nl = strcspn(n, "=");
		if (nl == len && strncmp(n, name, len) == 0) {
			*takes_value_r = n[nl] == '=';
			*kind_r = g_strdup(n[nl] == '=' ? n + nl + 1 : "");
			return true;
		}
	}
	return false;
}

/* Is option `name` anywhere in args (as "--name" or "--name=...")? */
static bool given(int argc, char **argv, const char *name, size_t len)
{
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], name, len) == 0 &&
		    (argv[i][len] == '\0' || argv[i][len] == '='))
			return true;
	return false;
}

/* Whether the options of one word of v->opts ("!--name=", "--a|--b") are
 * given as they must be: NULL, or the complaint (g_free). */
static char *check_given(const Verb *v, const char *word, int argc, char **argv)
{
	bool required = word[0] == '!';
	g_auto(GStrv) alts = g_strsplit(required ? word + 1 : word, "|", -1);
	guint n = g_strv_length(alts), seen = 0;
	for (guint k = 0; k < n; k++) {
		alts[k][strcspn(alts[k], "=")] = '\0';
		if (given(argc, argv, alts[k], strlen(alts[k])))
			seen++;
	}
	g_autofree char *names = g_strjoinv(" or ", alts);
	if (required && seen == 0 && n == 1)
		return g_strdup_printf("%s: option '%s' is required", v->synopsis, names);
	if (required && seen == 0)
		return g_strdup_printf("%s: %s is required", v->synopsis, names);
	if (seen > 1) {
		g_autofree char *both = g_strjoinv(" and ", alts);
		return g_strdup_printf("%s: %s exclude each other", v->synopsis, both);
	}
	return NULL;
}

int cli_check_args(int argc, char **argv, char **text_r, char **why_r)
{
	*text_r = NULL;
	*why_r = NULL;
	const char *cmd = argv[0];
	if (!cli_known_command(cmd)) {
		*why_r = g_strdup_printf("unknown command '%s'", cmd);
		return CLI_ARGS_USAGE;
	}
	const Verb *v = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].cmd, cmd) == 0 && verbs[i].opts == NULL)
			return CLI_ARGS_OK; /* its own checker's */
	int first = 1;
	if (has_subcommands(cmd)) {
		const char *sub = argc > 1 ? argv[1] : NULL;
		if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
			*text_r = help_text(cmd, NULL);
			if (sub != NULL)
				return CLI_ARGS_HELP;
			*why_r = g_strdup_printf("%s: a subcommand is missing", cmd);
			return CLI_ARGS_USAGE;
		}
		for (size_t i = 0; i < G_N_ELEMENTS(verbs) && v == NULL; i++)
			if (strcmp(verbs[i].cmd, cmd) == 0 && strcmp(verbs[i].sub, sub) == 0)
				v = &verbs[i];
		if (v == NULL) {
			*text_r = help_text(cmd, NULL);
			*why_r = g_strdup_printf("%s: unknown subcommand '%s'", cmd, sub);
			return CLI_ARGS_USAGE;
		}
		first = 2;
	} else {
		for (size_t i = 0; i < G_N_ELEMENTS(verbs) && v == NULL; i++)
			if (strcmp(verbs[i].cmd, cmd) == 0)
				v = &verbs[i];
	}
	/* --help wins over anything wrong on the same line */
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			*text_r = help_text(cmd, v);
			return CLI_ARGS_HELP;
		}
	}
	int npos = 0;
	bool only_pos = false;
	g_auto(GStrv) pos_kinds = g_strsplit(v->pos ? v->pos : "", " ", -1);
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			const char *kind =
				(guint)npos < g_strv_length(pos_kinds) ? pos_kinds[npos] : NULL;
			g_autofree char *want = bad_value(kind, a);
			if (want != NULL) {
				*why_r =
					g_strdup_printf("%s: '%s' is not %s", v->synopsis, a, want);
				break;
			}
			npos++;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			continue;
		size_t len = strcspn(a, "=");
		bool takes_value = false;
		g_autofree char *kind = NULL;
		const char *value = NULL;
		if (!find_opt(v, a, len, &takes_value, &kind)) {
			*why_r = g_strdup_printf("%s: unknown option '%.*s'", v->synopsis, (int)len,
						 a);
		} else if (takes_value && a[len] == '\0') {
			if (i + 1 >= argc)
				*why_r = g_strdup_printf("option '%s' needs a value", a);
			else
				value = argv[i + 1];
			i++;
		} else if (takes_value) {
			value = a + len + 1;
		} else if (a[len] == '=') {
			*why_r = g_strdup_printf("option '%.*s' takes no value", (int)len, a);
		}
		g_autofree char *want = value ? bad_value(kind, value) : NULL;
		if (want != NULL)
			*why_r = g_strdup_printf("option '%.*s': '%s' is not %s", (int)len, a,
						 value, want);
		if (*why_r)
			break;
	}
	if (*why_r == NULL && npos < v->min_pos)
		*why_r = g_strdup_printf("%s: missing argument", v->synopsis);
	else if (*why_r == NULL && npos > v->max_pos)
		*why_r = g_strdup_printf("%s: too many arguments", v->synopsis);
	if (*why_r == NULL) {
		g_auto(GStrv) opts = g_strsplit(v->opts, " ", -1);
		for (char **o = opts; *o && *why_r == NULL; o++)
			*why_r = check_given(v, *o, argc - first, argv + first);
	}
	if (*why_r) {
		*text_r = help_text(cmd, v);
		return CLI_ARGS_USAGE;
	}
	return CLI_ARGS_OK;
}
