/* test_template.c - template_load/template_render on temporary files, and the
 * shipped conf/templates rendered with every placeholder the desk provides. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "deskmail/template.h"

static char *tmpdir;

static void tmp_setup(void)
{
	GError *gerr = NULL;
	tmpdir = g_dir_make_tmp("dmtpl-XXXXXX", &gerr);
	g_assert_no_error(gerr);
}

static void tmp_teardown(void)
{
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	if (d != NULL) {
		const char *n;
		while ((n = g_dir_read_name(d)) != NULL) {
			g_autofree char *p = g_build_filename(tmpdir, n, NULL);
			g_unlink(p);
		}
		g_dir_close(d);
	}
	g_rmdir(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
}

static void write_file(const char *name, const char *text, gssize len)
{
	g_autofree char *path = g_build_filename(tmpdir, name, NULL);
	GError *gerr = NULL;
	g_file_set_contents(path, text, len, &gerr);
	g_assert_no_error(gerr);
}

/* values: a NULL-terminated list of name, value pairs */
static const char *lookup_pairs(void *ctx, const char *name)
{
	const char *const *kv = ctx;
	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static const char *const values[] = {
	"a",     "A",
	"b.c",   "BC",
	"x_1",   "X1",
	"evil",  "<b>\"Tom\" & 'Jerry'</b>",
	"crlf",  "line1\r\nBcc: victim@example.org\nx",
	"empty", "",
	NULL,
};

/* ---------- the table ---------- */

typedef struct {
	const char *what;
	const char *txt;  /* NAME.txt; NULL = absent */
	const char *html; /* NAME.html; NULL = absent */
	int load_rc;      /* expected from template_load */
	int render_rc;    /* expected from template_render (if loaded) */
	const char *err;  /* expected in the message, "%s" = tmpdir */
	const char *subject, *text, *html_out;
} Case;

static const Case cases[] = {
	{"basic", "Subject: Hi {{a}}\n\nBody {{a}} and {{b.c}} and {{x_1}}.\n", NULL, 0, 0, NULL,
	 "Hi A", "Body A and BC and X1.\n", NULL},
	{"spaces in braces", "Subject: {{ a }}{{\ta\t}}{{  b.c}}\n\n{{a  }}\n", NULL, 0, 0, NULL,
	 "AABC", "A\n", NULL},
	{"single braces are text", "Subject: {a} }} {\n\n{ {a} }\n", NULL, 0, 0, NULL, "{a} }} {",
	 "{ {a} }\n", NULL},
	{"header case-insensitive", "subject:[#{{a}}]\n\nx", NULL, 0, 0, NULL, "[#A]", "x", NULL},
	{"no Subject header", "\nHello {{a}}\n", NULL, 0, 0, NULL, "", "Hello A\n", NULL},
	{"no header block at all", "Hello {{a}}, how are you\n", NULL, 0, 0, NULL, "",
	 "Hello A, how are you\n", NULL},
	{"headers only", "Subject: s", NULL, 0, 0, NULL, "s", "", NULL},
	{"empty file", "", NULL, 0, 0, NULL, "", "", NULL},
	{"CRLF file", "Subject: S {{a}}\r\n\r\nl1\r\nl2 {{a}}\r\n", NULL, 0, 0, NULL, "S A",
	 "l1\nl2 A\n", NULL},
	{"BOM dropped", "\xEF\xBB\xBFSubject: s\n\nb", NULL, 0, 0, NULL, "s", "b", NULL},
	{"html escaped, text verbatim", "Subject: {{evil}}\n\n{{evil}}\n",
	 "<p>{{evil}}</p>\n<a href=\"{{ evil }}\">x</a>\n", 0, 0, NULL, "<b>\"Tom\" & 'Jerry'</b>",
	 "<b>\"Tom\" & 'Jerry'</b>\n",
	 "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>\n"
	 "<a href=\"&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;\">x</a>\n"},
	{"CR/LF in subject values neutralised", "Subject: [#1] {{crlf}}\n\n{{crlf}}", NULL, 0, 0,
	 NULL, "[#1] line1  Bcc: victim@example.org x", "line1\r\nBcc: victim@example.org\nx",
	 NULL},
	{"empty value, trimmed subject", "Subject: {{empty}} x {{empty}}\n\n{{empty}}", NULL, 0, 0,
	 NULL, "x", "", NULL},
	{"unknown placeholder in body", "Subject: s\n\nline\n{{nope}}\n", NULL, 0, DM_ECONFIG,
	 "template t: unknown placeholder {{nope}} (%s/t.txt:4)", NULL, NULL, NULL},
	{"unknown placeholder in subject", "Subject: {{ticket.idd}}\n\n", NULL, 0, DM_ECONFIG,
	 "template t: unknown placeholder {{ticket.idd}}", NULL, NULL, NULL},
	{"unknown placeholder in html", "Subject: s\n\n{{a}}", "<p>\n{{ b }}</p>", 0, DM_ECONFIG,
	 "template t: unknown placeholder {{b}} (%s/t.html:2)", NULL, NULL, NULL},
	{"unclosed braces in body", "Subject: s\n\nline 3\nline 4 {{a\nline 5 }}\n", NULL,
	 DM_ECONFIG, 0, "%s/t.txt:4: unclosed '{{'", NULL, NULL, NULL},
	{"unclosed braces in subject", "Subject: {{a\n\nbody\n", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:1: unclosed '{{'", NULL, NULL, NULL},
	{"unclosed braces in html", "Subject: s\n\nb", "<p>\n\n{{ a }\n", DM_ECONFIG, 0,
	 "%s/t.html:3: unclosed '{{'", NULL, NULL, NULL},
	{"bad placeholder name", "Subject: s\n\n{{a b}}\n", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:3: bad placeholder '{{a b}}'", NULL, NULL, NULL},
	{"empty placeholder", "\n{{}}", NULL, DM_ECONFIG, 0, "%s/t.txt:2: bad placeholder", NULL,
	 NULL, NULL},
	{"unknown header", "Subjet: s\n\nb", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:1: unknown header 'Subjet'", NULL, NULL, NULL},
	{"second header", "Subject: s\nFrom: x@y\n\nb", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:2: unknown header 'From'", NULL, NULL, NULL},
	{"two subjects", "Subject: s\nSubject: t\n\nb", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:2: a second Subject", NULL, NULL, NULL},
	{"folded subject", "Subject: s\n  more\n\nb", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:2: folded header", NULL, NULL, NULL},
	{"invalid UTF-8", "Subject: s\n\nok\nbad \xff\xfe\n", NULL, DM_ECONFIG, 0,
	 "%s/t.txt:4: not valid UTF-8", NULL, NULL, NULL},
	{"invalid UTF-8 in html", "Subject: s\n\nb", "caf\xe9", DM_ECONFIG, 0,
	 "%s/t.html:1: not valid UTF-8", NULL, NULL, NULL},
	{"missing txt", NULL, "<p>x</p>", DM_ENOTFOUND, 0, "%s/t.txt", NULL, NULL, NULL},
};

/* c->err with "%s" replaced by tmpdir */
static char *with_dir(const char *fmt)
{
	const char *at = strstr(fmt, "%s");
	if (at == NULL)
		return g_strdup(fmt);
	return g_strdup_printf("%.*s%s%s", (int)(at - fmt), fmt, tmpdir, at + 2);
}

static void test_case(gconstpointer data)
{
	const Case *c = data;
	tmp_setup();
	if (c->txt != NULL)
		write_file("t.txt", c->txt, -1);
	if (c->html != NULL)
		write_file("t.html", c->html, -1);

	Template *tpl = NULL;
	DmError err = {0};
	g_autofree char *want_err = c->err ? with_dir(c->err) : NULL;
	int rc = template_load(tmpdir, "t", &tpl, &err);
	g_test_message("%s: load %d %s", c->what, rc, err.msg);
	g_assert_cmpint(rc, ==, c->load_rc);
	if (rc != 0) {
		g_assert_null(tpl);
		g_assert_cmpint(err.kind, ==, c->load_rc);
		g_assert_nonnull(strstr(err.msg, want_err));
		tmp_teardown();
		return;
	}

	char *subject = (char *)"untouched", *text = (char *)"untouched";
	char *html = (char *)"untouched";
	rc = template_render(tpl, lookup_pairs, (void *)values, &subject, &text, &html, &err);
	g_test_message("%s: render %d %s", c->what, rc, err.msg);
	g_assert_cmpint(rc, ==, c->render_rc);
	if (rc != 0) {
		g_assert_cmpint(err.kind, ==, c->render_rc);
		g_assert_nonnull(strstr(err.msg, want_err));
		g_assert_cmpstr(subject, ==, "untouched");
		g_assert_cmpstr(text, ==, "untouched");
		g_assert_cmpstr(html, ==, "untouched");
	} else {
		g_assert_cmpstr(subject, ==, c->subject);
		g_assert_null(strchr(subject, '\r'));
		g_assert_null(strchr(subject, '\n'));
		g_assert_cmpstr(text, ==, c->text);
		g_assert_cmpstr(html, ==, c->html_out);
		g_free(subject);
		g_free(text);
		g_free(html);
	}
	template_free(tpl);
	tmp_teardown();
}

static void test_limits(void)
{
	tmp_setup();
	Template *tpl = NULL;
	DmError err = {0};

	/* size cap */
	gsize n = DM_TEMPLATE_MAX_BYTES + 1;
	g_autofree char *big = g_strnfill(n, 'x');
	write_file("big.txt", big, (gssize)n);
	g_assert_cmpint(template_load(tmpdir, "big", &tpl, &err), ==, DM_ECONFIG);
	g_assert_nonnull(strstr(err.msg, "larger than"));
	g_assert_null(tpl);

	/* exactly at the cap is fine */
	write_file("big.txt", big, (gssize)(n - 1));
	dm_error_clear(&err);
	g_assert_cmpint(template_load(tmpdir, "big", &tpl, &err), ==, 0);
	template_free(tpl);
	template_free(NULL);

	/* NUL byte */
	write_file("nul.txt", "a\0b", 3);
	dm_error_clear(&err);
	tpl = NULL;
	g_assert_cmpint(template_load(tmpdir, "nul", &tpl, &err), ==, DM_ECONFIG);

	/* names cannot leave the folder */
	static const char *const bad_names[] = {"../etc/passwd", "a/b", "", "a.txt", NULL};
	for (size_t i = 0; bad_names[i] != NULL; i++) {
		dm_error_clear(&err);
		g_assert_cmpint(template_load(tmpdir, bad_names[i], &tpl, &err), ==, DM_ECONFIG);
	}
	dm_error_clear(&err);
	g_assert_cmpint(template_load(tmpdir, NULL, &tpl, &err), ==, DM_ECONFIG);
	tmp_teardown();
}

/* invalid UTF-8 in a value (e.g. from a broken mail) still gives UTF-8 */
static void test_value_utf8(void)
{
	tmp_setup();
	write_file("u.txt", "Subject: {{v}}\n\n{{v}}", -1);
	write_file("u.html", "{{v}}", -1);
	Template *tpl = NULL;
	DmError err = {0};
	g_assert_cmpint(template_load(tmpdir, "u", &tpl, &err), ==, 0);
	const char *const vals[] = {"v", "caf\xe9 <x>", NULL};
	char *s = NULL, *t = NULL, *h = NULL;
	g_assert_cmpint(template_render(tpl, lookup_pairs, (void *)vals, &s, &t, &h, &err), ==, 0);
	g_assert_true(g_utf8_validate(s, -1, NULL));
	g_assert_true(g_utf8_validate(t, -1, NULL));
	g_assert_true(g_utf8_validate(h, -1, NULL));
	g_assert_true(g_str_has_prefix(t, "caf"));
	g_assert_true(g_str_has_suffix(h, "&lt;x&gt;"));
	g_free(s);
	g_free(t);
	g_free(h);
	template_free(tpl);
	tmp_teardown();
}

/* ---------- the shipped templates ---------- */

/* Exactly the placeholders the desk provides at render time. */
static const char *const shipped_values[] = {
	"notice.text",
	"bob@elsewhere.example is not one of the named contacts we hold for our clients",
	"ticket.id",
	"42",
	"ticket.subject",
	"Website <down> & \"out\"",
	"ticket.status",
	"open",
	"ticket.severity",
	"high",
	"ticket.line",
	"1",
	"client.name",
	"Smith & Co",
	"client.plan",
	"silver",
	"contact.name",
	"Ann O'Neil",
	"contact.email",
	"ann@client.example",
	"desk.name",
	"Example Agency Support",
	"desk.address",
	"support@agency.example",
	"sender.name",
	"Bob Stranger",
	"sender.email",
	"bob@elsewhere.example",
	"message.subject",
	"Help\r\nBcc: x@y <now>",
	"reason",
	"sender is not a named contact",
	"reply.marker",
	"##- Please type your reply above this line -##",
	"ticket.response_promise",
	"We will send you a first response by Tuesday 29 December, 11:30 (Europe/London time).",
	NULL,
};

static char *read_src(const char *src, const char *name)
{
	g_autofree char *path = g_build_filename(src, "conf", "templates", name, NULL);
	char *data = NULL;
	GError *gerr = NULL;
	g_file_get_contents(path, &data, NULL, &gerr);
	g_assert_no_error(gerr);
	return data;
}

static void test_shipped(void)
{
	const char *src = g_getenv("DM_SRCDIR");
	if (src == NULL) {
		g_test_skip("DM_SRCDIR not set");
		return;
	}
	g_autofree char *dir = g_build_filename(src, "conf", "templates", NULL);

	/* the ack subject carries the ticket token */
	g_autofree char *ack_txt = read_src(src, "ack.txt");
	g_assert_true(g_str_has_prefix(ack_txt, "Subject: [#{{ticket.id}}] {{ticket.subject}}\n"));
	g_autofree char *q_txt = read_src(src, "quarantine.txt");
	/* the notice to a stranger repeats nothing the sender wrote */
	g_assert_true(g_str_has_prefix(q_txt, "Subject: Your message to {{desk.name}} was not "
					      "logged\n"));
	g_assert_null(strstr(q_txt, "{{message."));
	g_assert_null(strstr(q_txt, "{{sender.name"));
	g_autofree char *q_html = read_src(src, "quarantine.html");
	g_assert_null(strstr(q_html, "{{message."));
	g_assert_null(strstr(q_html, "{{sender.name"));

	static const struct {
		const char *name, *subject;
		const char *text_has[4], *html_has[4];
	} shipped[] = {
		{"ack",
		 "[#42] Website <down> & \"out\"",
		 {"ticket #42", "[#42]", "silver", "by Tuesday 29 December, 11:30"},
		 {"ticket #42", "[#42]", "Website &lt;down&gt; &amp; &quot;out&quot;",
		  "Ann O&#39;Neil"}},
		{"quarantine",
		 "Your message to Example Agency Support was not logged",
		 {"bob@elsewhere.example", "support@agency.example", "named contact", NULL},
		 {"bob@elsewhere.example", "named contact", NULL, NULL}},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(shipped); i++) {
		Template *tpl = NULL;
		DmError err = {0};
		int rc = template_load(dir, shipped[i].name, &tpl, &err);
		if (rc != 0)
			g_test_message("%s", err.msg);
		g_assert_cmpint(rc, ==, 0);
		char *s = NULL, *t = NULL, *h = NULL;
		rc = template_render(tpl, lookup_pairs, (void *)shipped_values, &s, &t, &h, &err);
		if (rc != 0)
			g_test_message("%s", err.msg);
		g_assert_cmpint(rc, ==, 0);
		g_assert_cmpstr(s, ==, shipped[i].subject);
		g_assert_nonnull(h);
		for (size_t k = 0; k < 4; k++) {
			const char *want_t = shipped[i].text_has[k];
			const char *want_h = shipped[i].html_has[k];
			if (want_t != NULL && strstr(t, want_t) == NULL)
				g_error("%s.txt lacks \"%s\"", shipped[i].name, want_t);
			if (want_h != NULL && strstr(h, want_h) == NULL)
				g_error("%s.html lacks \"%s\"", shipped[i].name, want_h);
		}
		/* nothing left unrendered, raw values never reach the HTML */
		g_assert_null(strstr(t, "{{"));
		g_assert_null(strstr(h, "{{"));
		g_assert_null(strstr(h, "<down>"));
		g_assert_true(g_str_has_prefix(h, "<!DOCTYPE html>\n"));
		g_assert_true(g_str_has_suffix(h, "</html>\n"));
		g_free(s);
		g_free(t);
		g_free(h);
		template_free(tpl);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *name =
			g_strdup_printf("/template/case/%02zu-%s", i, cases[i].what);
		g_strdelimit(name + 15, " /", '-');
		g_test_add_data_func(name, &cases[i], test_case);
	}
	g_test_add_func("/template/limits", test_limits);
	g_test_add_func("/template/value-utf8", test_value_utf8);
	g_test_add_func("/template/shipped", test_shipped);
	return g_test_run();
}
