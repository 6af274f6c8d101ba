/* test_clean.c - quoted history and signatures removed from replies:
 * table-driven cases for each client's style, then the corpus replies
 * (MANIFEST features outlook-reply, gmail-reply, apple-reply, html-only) against
 * golden files in tests/data/clean/NAME.txt. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/mime.h"
#include "testdata.h"

typedef struct {
	const char *name, *in, *want;
} Case;

static const Case cases[] = {
	{"plain", "Just text.\nSecond line.", "Just text.\nSecond line."},
	{"gmail",
	 "Thanks, fixed.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <m@x.com> wrote:\n\n> Hi\n",
	 "Thanks, fixed."},
	{"gmail wrapped attribution",
	 "Yes.\n\nOn Tue, Aug 3, 2010 at 7:17 AM, Bounine, Alexandre\n<Alexandre@idt.com> "
	 "wrote:\n> old\n",
	 "Yes."},
	{"apple", "Hello\n\nOn Apr 3, 2012, at 4:19 PM, bob wrote:\n\n> Hi\n", "Hello"},
	{"german",
	 "Danke!\n\nAm 23.11.2026 um 09:12 schrieb Alice Archer <a@acme.example>:\n> alt\n",
	 "Danke!"},
	{"french", "Merci.\n\nLe lun. 23 nov. 2026 à 09:12, Alice <a@x.fr> a écrit :\n> ancien\n",
	 "Merci."},
	{"spanish",
	 "Gracias.\n\nEl lun, 23 nov 2026 a las 9:12, Ana (<a@x.es>) escribió:\n> viejo\n",
	 "Gracias."},
	{"dutch", "Bedankt.\n\nOp ma 23 nov. 2026 om 09:12 schreef Jan <j@x.nl>:\n> oud\n",
	 "Bedankt."},
	{"outlook original message",
	 "Done.\n\n-----Original Message-----\nFrom: Sam\nSent: Monday\nTo: Alice\nSubject: "
	 "x\n\nold text\n",
	 "Done."},
	{"outlook german",
	 "Erledigt.\n\n-----Ursprüngliche Nachricht-----\nVon: Sam\nGesendet: Montag\n",
	 "Erledigt."},
	{"outlook header block",
	 "Hello\n\nFrom: xxx@xxx.mailgun.org [mailto:xxx@xxx.mailgun.org]\nSent: March-09-12 4:22 "
	 "PM\n"
	 "To: Dan Le\nSubject: The manager has commented\n\nHi dan\n",
	 "Hello"},
	{"outlook rule",
	 "See below.\n\n________________________________\nFrom: Alice <a@x>\nSent: Monday\n\nold\n",
	 "See below."},
	{"outlook bold headers",
	 "Ok.\n\n*From:* Alice <a@x>\n*Sent:* Monday, 23 November\n*To:* us\n", "Ok."},
	{"signature", "Fixed it.\n\n-- \nSam Senior\nExample Agency\n", "Fixed it."},
	{"inline quoting keeps answers", "> Is it down?\nYes, since 9.\n> When?\nAt nine.\n",
	 "Yes, since 9.\nAt nine."},
	{"crlf", "Line one\r\nLine two\r\n\r\nOn Mon, 1 Jan 2024, X wrote:\r\n> q\r\n",
	 "Line one\nLine two"},
	{"from line in prose is kept", "From: the logs it looks like a disk issue.\nWe will check.",
	 "From: the logs it looks like a disk issue.\nWe will check."},
	{"only quotation: the text as it is", "> all quoted\n> text\n", "> all quoted\n> text"},
	{"blank runs collapsed", "a\n\n\n\n\nb", "a\n\nb"},
	{"empty", "", ""},
};

static void test_cases(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = clean_reply_text(cases[i].in);
		g_test_message("case %s: [%s]", cases[i].name, got);
		g_assert_cmpstr(got, ==, cases[i].want);
		g_free(got);
	}
	char *s = clean_reply_text(NULL);
	g_assert_cmpstr(s, ==, "");
	g_free(s);
}

/* The corpus replies against their golden files.  DM_UPDATE_GOLDEN=1
 * rewrites the goldens (then review the diff). */
static void test_corpus(void)
{
	const char *corpus = g_getenv("DM_CORPUS");
	const char *data = g_getenv("DM_TESTDATA");
	if (corpus == NULL || data == NULL) {
		g_test_fail_printf("DM_CORPUS and DM_TESTDATA must be set");
		return;
	}
	g_autofree char *manifest_path = g_build_filename(corpus, "MANIFEST.tsv", NULL);
	g_autofree char *manifest = NULL;
	g_assert_true(g_file_get_contents(manifest_path, &manifest, NULL, NULL));
	char **rows = g_strsplit(manifest, "\n", -1);
	int checked = 0;
	MimeLimits lim;
	mime_limits_default(&lim);
	for (char **r = rows + 1; *r && **r; r++) {
		char **col = g_strsplit(*r, "\t", -1);
		if (g_strv_length(col) < 5 ||
		    !(strstr(col[4], "outlook-reply") || strstr(col[4], "gmail-reply") ||
		      strstr(col[4], "apple-reply") || strstr(col[4], "html-only"))) {
			g_strfreev(col);
			continue;
		}
		g_autofree char *path = g_build_filename(corpus, col[0], NULL);
		g_autofree char *raw = NULL;
		gsize len;
		g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
		Mail *m = NULL;
		g_assert_cmpint(mime_parse((unsigned char *)raw, len, &lim, &m, NULL), ==, 0);
		char *got = clean_reply_text(m->text);
		g_autofree char *gname = g_strconcat(col[0], ".txt", NULL);
		g_autofree char *gpath = g_build_filename(data, "clean", gname, NULL);
		if (g_getenv("DM_UPDATE_GOLDEN")) {
			g_autofree char *withnl = g_strconcat(got, "\n", NULL);
			g_file_set_contents(gpath, withnl, -1, NULL);
		}
		g_autofree char *want = NULL;
		if (!g_file_get_contents(gpath, &want, NULL, NULL)) {
			g_test_fail_printf("missing golden %s", gpath);
		} else {
			g_strchomp(want);
			if (strcmp(want, got) != 0)
				g_test_message("%s: got [%s]", col[0], got);
			g_assert_cmpstr(got, ==, want);
			/* cleaning must make the text shorter or keep it, never invent */
			g_assert_cmpuint(strlen(got), <=, strlen(m->text));
			/* HTML made into text: no markup, scripts or styles left */
			if (m->text_from_html) {
				g_assert_null(strstr(m->text, "<script"));
				g_assert_null(strstr(m->text, "<style"));
				g_assert_null(strstr(m->text, "</p>"));
				g_assert_null(strstr(m->text, "</div>"));
			}
		}
		checked++;
		g_free(got);
		mail_free(m);
		g_strfreev(col);
	}
	g_strfreev(rows);
	g_assert_cmpint(checked, >=, 15);
}

/* HTML-only replies: libxml2 turns them into text (blockquotes as "> "
 * lines), then the same cleaning applies.  One case per mail client. */
static void test_html_replies(void)
{
	static const Case html[] = {
		{"gmail html",
		 "<div dir=\"ltr\">Thanks, that fixed it.<br><br>Alice</div><br><div "
		 "class=\"gmail_quote\">"
		 "<div dir=\"ltr\" class=\"gmail_attr\">On Mon, 23 Nov 2026 at 10:00, Example "
		 "Agency "
		 "Support &lt;support@agency.example&gt; wrote:<br></div><blockquote "
		 "class=\"gmail_quote\">"
		 "Hello Alice, we are on it.</blockquote></div>",
		 "Thanks, that fixed it.\n\nAlice"},
		{"thunderbird moz-cite-prefix",
		 "<html><body><p>Works now, thank you.</p><div class=\"moz-cite-prefix\">On "
		 "23/11/2026 "
		 "10:00, Example Agency Support wrote:<br></div><blockquote type=\"cite\">Hello "
		 "Alice, we "
		 "are on it.</blockquote><script>alert(1)</script><style>p{}</style></body></html>",
		 "Works now, thank you."},
		{"apple mail blockquote",
		 "<html><body dir=\"auto\">Great, thanks!<div><br><blockquote "
		 "type=\"cite\"><div>On 23 "
		 "Nov 2026, at 10:00, Example Agency Support &lt;support@agency.example&gt; "
		 "wrote:</div>"
		 "<br><div>Hello Alice, we are on it.</div></blockquote></div></body></html>",
		 "Great, thanks!"},
		{"outlook html divRplyFwdMsg, link kept as text",
		 "<html><body><div>All good now, see <a href=\"https://example.com/status\">status "
		 "page</a>.</div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> Example Agency Support "
		 "&lt;support@agency.example&gt;<br><b>Sent:</b> Monday, November 23, 2026 10:00 "
		 "AM<br>"
		 "<b>To:</b> Alice<br><b>Subject:</b> Re: [#1] Site down</div><div>Hello Alice, we "
		 "are on "
		 "it.</div></body></html>",
		 "All good now, see status page <https://example.com/status>."},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(html); i++) {
		char *text = mime_html_to_text(html[i].in, strlen(html[i].in));
		char *got = clean_reply_text(text);
		g_test_message("case: %s", html[i].name);
		g_assert_cmpstr(got, ==, html[i].want);
		g_assert_null(strstr(text, "alert"));
		g_free(got);
		g_free(text);
	}
}

/* Our own samples, one per form: tests/data/clean/samples/NAME.txt (plain
 * text) or NAME.html (made into text by mime_html_to_text first) and
 * NAME.want, the expected clean text.  NAME starting "fwdkeep-" is cleaned
 * with CLEAN_KEEP_FORWARDS (a staff reply).  DM_UPDATE_GOLDEN=1 rewrites. */
static void test_samples(void)
{
	const char *data = g_getenv("DM_TESTDATA");
	g_autofree char *dir = g_build_filename(data, "clean", "samples", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	int checked = 0, failed = 0;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		gboolean html = g_str_has_suffix(name, ".html");
		if (!html && !g_str_has_suffix(name, ".txt"))
			continue;
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *base = g_strndup(name, strrchr(name, '.') - name);
		g_autofree char *wname = g_strconcat(base, ".want", NULL);
		g_autofree char *wpath = g_build_filename(dir, wname, NULL);
		g_autofree char *in = NULL, *want = NULL;
		gsize len;
		g_assert_true(g_file_get_contents(path, &in, &len, NULL));
		char *text = html ? mime_html_to_text(in, len) : g_strdup(in);
		unsigned flags = g_str_has_prefix(name, "fwdkeep-") ? CLEAN_KEEP_FORWARDS : 0;
		char *got = clean_reply_text_opts(text, flags);
		if (g_getenv("DM_UPDATE_GOLDEN")) {
			g_autofree char *withnl = g_strconcat(got, "\n", NULL);
			g_file_set_contents(wpath, withnl, -1, NULL);
		}
		if (!g_file_get_contents(wpath, &want, NULL, NULL)) {
			g_test_message("%s: missing %s", name, wname);
			failed++;
		} else if (strcmp(g_strchomp(want), got) != 0) {
			g_test_message("%s:\n got: [%s]\nwant: [%s]", name, got, want);
			failed++;
		}
		/* never empty when there was text */
		g_assert_true(*got || !*g_strstrip(text));
		checked++;
		g_free(got);
		g_free(text);
	}
	g_dir_close(d);
	g_assert_cmpint(failed, ==, 0);
	g_assert_cmpint(checked, >=, 60);
}

/* Every mail of the corpus through parse and clean: no crash, and never
 * empty when the text is not blank. */
static void test_corpus_all(void)
{
	const char *corpus = g_getenv("DM_CORPUS");
	GDir *d = g_dir_open(corpus, 0, NULL);
	g_assert_nonnull(d);
	MimeLimits lim;
	mime_limits_default(&lim);
	int n = 0;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(name, ".eml"))
			continue;
		g_autofree char *path = g_build_filename(corpus, name, NULL);
		g_autofree char *raw = NULL;
		gsize len;
		g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
		Mail *m = NULL;
		if (mime_parse((unsigned char *)raw, len, &lim, &m, NULL) != 0)
			continue;
		for (unsigned flags = 0; flags <= CLEAN_KEEP_FORWARDS; flags++) {
			char *got = clean_reply_text_opts(m->text, flags);
			g_autofree char *t = g_strstrip(g_strdup(m->text));
			if (*t && !*got)
				g_test_fail_printf("%s: cleaned to empty", name);
			g_free(got);
		}
		mail_free(m);
		n++;
	}
	g_dir_close(d);
	g_assert_cmpint(n, >=, 150);
}

/* Hostile sizes: a 1 MB line, 100,000 lines, lines made of markers. */
static void test_big(void)
{
	struct {
		const char *unit;
		int times;
	} big[] = {
		{"x", 1 << 20},
		{"a line of text\n", 100000},
		{"> q\nOn Mon wrote wrote wrote wrote wrote wrote wrote wrote x\n", 50000},
		{"On 1 wrote wrote wrote wrote wrote wrote wrote wrote wrote wrote wrote wrote "
		 "wrote wrote wrote wrote wrote wrote wrote wrote wrote wrote wrote wrote:\n> q\n"
		 "a\n",
		 20000},
		{"From: a\nthe text\n", 50000},
		{"<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
		 20000},
		/* an attribution spread over blank lines, never completed */
		{"On 1 Mar 2026 Name\n\n<\n\nmailto:x\nx:\n", 30000},
		/* wrapped candidates: a number, an address cut at "<", colons */
		{"Tested 2 things <\nx@y.z> 1:2:3:4:5:6:7:8:9:0:1:2:3:4:5:6:7:8:9 wrote 1:2\n:\n",
		 30000},
		/* sign-offs and colonless candidates, nothing quoted below */
		{"2026/3/4 Name <a@b.c>\n\nSent from my phone, said nobody\n", 30000},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(big); i++) {
		GString *s = g_string_new("Reply.\n");
		for (int k = 0; k < big[i].times; k++)
			g_string_append(s, big[i].unit);
		gint64 t0 = g_get_monotonic_time();
		char *got = clean_reply_text(s->str);
		gint64 ms = (g_get_monotonic_time() - t0) / 1000;
		g_test_message("big case %zu: %zu bytes in %" G_GINT64_FORMAT " ms", i, s->len, ms);
		g_assert_true(*got);
		g_assert_cmpint(ms, <, 10000);
		g_free(got);
		g_string_free(s, TRUE);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!have_test_data())
		return 1;
	mime_global_init();
	g_test_add_func("/clean/cases", test_cases);
	g_test_add_func("/clean/corpus", test_corpus);
	g_test_add_func("/clean/html-replies", test_html_replies);
	g_test_add_func("/clean/samples", test_samples);
	g_test_add_func("/clean/corpus-all", test_corpus_all);
	g_test_add_func("/clean/big", test_big);
	int rc = g_test_run();
	mime_global_cleanup();
	return rc;
}
