/* test_command.c - the #command parser and the role rules. */
#include <glib.h>
#include <string.h>

#include "deskmail/command.h"

static void test_parse_basic(void)
{
	CommandSet cs;
	command_parse("#status awaiting-quote\r\n#SEVERITY High\n\n#take\n#line 2\n"
		      "#category change\n#chargeable\n#close\n\nHello Alice,\n#close\nbye\n",
		      &cs);
	g_assert_cmpuint(cs.n, ==, 7);
	CommandKind want[] = {CMD_STATUS,   CMD_SEVERITY,   CMD_TAKE, CMD_LINE,
			      CMD_CATEGORY, CMD_CHARGEABLE, CMD_CLOSE};
	for (size_t i = 0; i < cs.n; i++) {
		g_assert_cmpint(cs.cmds[i].kind, ==, want[i]);
		g_assert_cmpstr(cs.cmds[i].error, ==, "");
	}
	g_assert_cmpstr(cs.cmds[0].arg, ==, "awaiting-quote");
	g_assert_cmpstr(cs.cmds[1].arg, ==, "high"); /* any case accepted */
	command_set_clear(&cs);
	command_parse("#status Awaiting  Client\n#status pending_evaluation\n", &cs);
	g_assert_cmpstr(cs.cmds[0].arg, ==, "awaiting-client");
	g_assert_cmpstr(cs.cmds[0].error, ==, "");
	g_assert_cmpstr(cs.cmds[1].arg, ==, "pending-evaluation");
	g_assert_cmpstr(cs.cmds[1].error, ==, "");
	command_set_clear(&cs);
	command_parse("#status awaiting-quote\r\n#SEVERITY High\n\n#take\n#line 2\n"
		      "#category change\n#chargeable\n#close\n\nHello Alice,\n#close\nbye\n",
		      &cs);
	g_assert_cmpstr(cs.cmds[1].line, ==, "#SEVERITY High");
	g_assert_cmpint(cs.cmds[2].line_no, ==, 4);
	g_assert_cmpstr(cs.cmds[3].arg, ==, "2");
	g_assert_false(cs.note);
	/* a #word after the text is text */
	g_assert_cmpstr(cs.rest, ==, "Hello Alice,\n#close\nbye\n");
	command_set_clear(&cs);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *line;
		CommandKind kind;
		const char *error_part;
	} cases[] = {
		{"#status nonsense", CMD_STATUS, "unknown status 'nonsense'"},
		{"#status", CMD_STATUS, "needs a value"},
		{"#severity catastrophic", CMD_SEVERITY, "unknown severity"},
		{"#line 4", CMD_LINE, "use 1, 2 or 3"},
		{"#line two", CMD_LINE, "use 1, 2 or 3"},
		{"#category sales", CMD_CATEGORY, "unknown category"},
		{"#take now", CMD_TAKE, "takes no value"},
		{"#close please", CMD_CLOSE, "takes no value"},
		{"#assign", CMD_ASSIGN, "needs a value"},
		{"#frobnicate", CMD_UNKNOWN, "unknown command '#frobnicate'"},
		{"#closed", CMD_UNKNOWN, "unknown command"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		CommandSet cs;
		char *text = g_strdup_printf("%s\nthe text", cases[i].line);
		command_parse(text, &cs);
		g_test_message("line: %s -> %s", cases[i].line, cs.cmds[0].error);
		g_assert_cmpuint(cs.n, ==, 1);
		g_assert_cmpint(cs.cmds[0].kind, ==, cases[i].kind);
		g_assert_nonnull(strstr(cs.cmds[0].error, cases[i].error_part));
		g_assert_cmpstr(cs.rest, ==, "the text");
		command_set_clear(&cs);
		g_free(text);
	}
}

static void test_parse_note(void)
{
	CommandSet cs;
	command_parse("#severity low\n#note checked the logs\nnothing there\n#close\n", &cs);
	g_assert_cmpuint(cs.n, ==, 2);
	g_assert_cmpint(cs.cmds[1].kind, ==, CMD_NOTE);
	g_assert_true(cs.note);
	/* everything after #note is the note, #close included: not applied */
	g_assert_cmpstr(cs.rest, ==, "checked the logs\nnothing there\n#close\n");
	command_set_clear(&cs);

	command_parse("#note\n\ninternal only", &cs);
	g_assert_true(cs.note);
	g_assert_cmpstr(cs.rest, ==, "\ninternal only");
	command_set_clear(&cs);
}

static void test_parse_edges(void)
{
	CommandSet cs;
	/* no commands: the whole text */
	command_parse("Hello\n#close\n", &cs);
	g_assert_cmpuint(cs.n, ==, 0);
	g_assert_cmpstr(cs.rest, ==, "Hello\n#close\n");
	command_set_clear(&cs);
	/* a full name is one argument: the desk looks it up */
	command_parse("#assign Jo Junior\n", &cs);
	g_assert_cmpstr(cs.cmds[0].arg, ==, "Jo Junior");
	g_assert_cmpstr(cs.cmds[0].error, ==, "");
	command_set_clear(&cs);
	static const char *const assign_forms[][2] = {
		{"#assign Jo Junior <jo@agency.example>", "jo@agency.example"},
		{"#assign jo@agency.example <mailto:jo@agency.example>", "jo@agency.example"},
		{"#assign @jo", "jo"},
		{"#assign <jo@agency.example>", "jo@agency.example"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(assign_forms); i++) {
		command_parse(assign_forms[i][0], &cs);
		g_assert_cmpstr(cs.cmds[0].arg, ==, assign_forms[i][1]);
		g_assert_cmpstr(cs.cmds[0].error, ==, "");
		command_set_clear(&cs);
	}
	/* "#1" and "# " are text, not commands */
	command_parse("#1 priority is the checkout\n", &cs);
	g_assert_cmpuint(cs.n, ==, 0);
	command_set_clear(&cs);
	command_parse("", &cs);
	g_assert_cmpuint(cs.n, ==, 0);
	g_assert_cmpstr(cs.rest, ==, "");
	command_set_clear(&cs);
	command_parse(NULL, &cs);
	g_assert_cmpstr(cs.rest, ==, "");
	command_set_clear(&cs);
	/* only commands */
	command_parse("#take", &cs);
	g_assert_cmpuint(cs.n, ==, 1);
	g_assert_cmpstr(cs.rest, ==, "");
	command_set_clear(&cs);
	/* a flood of commands is capped, the excess counted */
	GString *s = g_string_new(NULL);
	for (int i = 0; i < CMD_MAX + 5; i++)
		g_string_append(s, "#take\n");
	g_string_append(s, "text");
	command_parse(s->str, &cs);
	g_assert_cmpuint(cs.n, ==, CMD_MAX);
	g_assert_cmpuint(cs.n_dropped, ==, 5);
	g_assert_cmpstr(cs.rest, ==, "text");
	command_set_clear(&cs);
	g_string_free(s, TRUE);
	/* a very long command line is cut, not overflowed */
	char *longline = g_strdup_printf("#assign %0500d\n", 7);
	command_parse(longline, &cs);
	g_assert_cmpuint(strlen(cs.cmds[0].line), <, CMD_LINE_MAX);
	command_set_clear(&cs);
	g_free(longline);
}

static void test_parse_html_spaces(void)
{
	CommandSet cs;
	/* no-break spaces and a BOM, as HTML mail made into text has them */
	command_parse("\xef\xbb\xbf#status\xc2\xa0"
		      "awaiting-client\xc2\xa0\n#take\xe2\x80\x8b\n\nHi",
		      &cs);
	g_assert_cmpuint(cs.n, ==, 2);
	g_assert_cmpint(cs.cmds[0].kind, ==, CMD_STATUS);
	g_assert_cmpstr(cs.cmds[0].arg, ==, "awaiting-client");
	g_assert_cmpstr(cs.cmds[0].error, ==, "");
	g_assert_cmpint(cs.cmds[1].kind, ==, CMD_TAKE);
	g_assert_cmpstr(cs.cmds[1].error, ==, "");
	g_assert_cmpstr(cs.rest, ==, "Hi");
	command_set_clear(&cs);
}

static void test_roles(void)
{
	Command assign = {.kind = CMD_ASSIGN}, take = {.kind = CMD_TAKE},
		status = {.kind = CMD_STATUS}, chargeable = {.kind = CMD_CHARGEABLE};
	g_assert_null(command_refusal("account-manager", &assign, false));
	g_assert_null(command_refusal("project-manager", &assign, false));
	g_assert_null(command_refusal("account-manager", &take, false));
	g_assert_null(command_refusal("senior-engineer", &take, false));
	g_assert_nonnull(command_refusal("senior-engineer", &assign, false));
	g_assert_null(command_refusal("senior-engineer", &assign, true)); /* naming oneself */
	g_assert_nonnull(command_refusal("junior-engineer", &take, false));
	g_assert_nonnull(command_refusal("junior-engineer", &assign, false));
	g_assert_nonnull(command_refusal("junior-engineer", &assign, true));
	g_assert_null(command_refusal("junior-engineer", &status, false));
	g_assert_null(command_refusal("junior-engineer", &chargeable, false));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/command/parse", test_parse_basic);
	g_test_add_func("/command/errors", test_parse_errors);
	g_test_add_func("/command/note", test_parse_note);
	g_test_add_func("/command/edges", test_parse_edges);
	g_test_add_func("/command/html-spaces", test_parse_html_spaces);
	g_test_add_func("/command/roles", test_roles);
	return g_test_run();
}
