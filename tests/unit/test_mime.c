/* test_mime.c - src/mime: parsing (corpus, golden mails, limits), HTML to
 * text, charset fallback and composing.  DM_CORPUS points at the shared
 * real-world corpus (with MANIFEST.tsv), DM_TESTDATA at tests/data. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/err.h"
#include "deskmail/mime.h"
#include "deskmail/util.h"
#include "testdata.h"

/* ---- helpers ----------------------------------------------------------- */

static char *corpus_path(const char *file)
{
	const char *dir = g_getenv("DM_CORPUS");
	return g_build_filename(dir ? dir : "../shared/corpus", file, NULL);
}

static char *data_path(const char *file)
{
	const char *dir = g_getenv("DM_TESTDATA");
	return g_build_filename(dir ? dir : "tests/data", file, NULL);
}

static int parse_buf(const char *buf, size_t len, const MimeLimits *lim, Mail **m_r, DmError *e)
{
	MimeLimits def;
	if (lim == NULL) {
		mime_limits_default(&def);
		lim = &def;
	}
	return mime_parse((const unsigned char *)buf, len, lim, m_r, e);
}

/* Parse a file that must parse. */
static Mail *parse_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	if (dm_read_file(path, 64u << 20, &buf, &len) != 0)
		g_error("cannot read %s", path);
	Mail *m = NULL;
	DmError e = {0};
	int rc = parse_buf(buf, len, NULL, &m, &e);
	free(buf);
	if (rc != 0)
		g_error("%s: parse failed: %d %s", path, rc, e.msg);
	return m;
}

static Mail *corpus_mail(const char *file)
{
	g_autofree char *p = corpus_path(file);
	return parse_file(p);
}

static Mail *data_mail(const char *file)
{
	g_autofree char *p = data_path(file);
	return parse_file(p);
}

static Mail *parse_str(const char *s)
{
	Mail *m = NULL;
	DmError e = {0};
	int rc = parse_buf(s, strlen(s), NULL, &m, &e);
	if (rc != 0)
		g_error("parse failed: %d %s", rc, e.msg);
	return m;
}

static int parse_err(const char *s, size_t len, const MimeLimits *lim, DmError *e)
{
	Mail *m = NULL;
	int rc = parse_buf(s, len, lim, &m, e);
	if (rc == 0)
		mail_free(m);
	return rc;
}

static void assert_utf8(const char *what, const char *s)
{
	if (s == NULL)
		return;
	if (!g_utf8_validate(s, -1, NULL))
		g_error("%s: not valid UTF-8", what);
}

static bool is_lower_ascii(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

/* Everything mime.h promises about a parsed Mail. */
static void check_mail(const char *name, const Mail *m)
{
	g_assert_nonnull(m->subject);
	g_assert_nonnull(m->text);
	assert_utf8(name, m->subject);
	assert_utf8(name, m->text);
	assert_utf8(name, m->html);
	assert_utf8(name, m->message_id);
	assert_utf8(name, m->in_reply_to);
	assert_utf8(name, m->automatic_reason);
	for (size_t i = 0; i < m->n_auth_results; i++)
		assert_utf8(name, m->auth_results[i]);
	g_assert_true(m->is_automatic == (m->automatic_reason != NULL));
	if (m->text_from_html)
		g_assert_nonnull(m->html);
	if (m->message_id)
		g_assert_true(*m->message_id && !strchr(m->message_id, '<'));
	if (m->in_reply_to)
		g_assert_true(*m->in_reply_to && !strchr(m->in_reply_to, '<'));
	const MailAddr *lists[] = {m->from, m->to, m->cc};
	size_t ns[] = {m->from ? 1 : 0, m->n_to, m->n_cc};
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; i < ns[l]; i++) {
			g_assert_nonnull(lists[l][i].addr);
			g_assert_true(*lists[l][i].addr);
			assert_utf8(name, lists[l][i].addr);
			assert_utf8(name, lists[l][i].name);
			if (!is_lower_ascii(lists[l][i].addr))
				g_error("%s: address %s not lower-case", name, lists[l][i].addr);
		}
	for (size_t i = 0; i < m->n_references; i++) {
		assert_utf8(name, m->references[i]);
		g_assert_true(*m->references[i] && !strchr(m->references[i], '<'));
	}
	for (size_t i = 0; i < m->n_attachments; i++) {
		const MailAttachment *a = &m->attachments[i];
		assert_utf8(name, a->filename);
		assert_utf8(name, a->content_type);
		assert_utf8(name, a->content_id);
		g_assert_true(*a->filename);
		g_assert_null(strpbrk(a->filename, "/\\"));
		for (const unsigned char *p = (const unsigned char *)a->filename; *p; p++)
			g_assert_true(*p >= 0x20 && *p != 0x7f);
		g_assert_nonnull(strchr(a->content_type, '/'));
		g_assert_true(is_lower_ascii(a->content_type));
		g_assert_nonnull(a->data);
	}
}

typedef struct {
	char *file;
	char *features;
} Row;

/* MANIFEST.tsv rows (file, features). */
static GArray *manifest(void)
{
	g_autofree char *p = corpus_path("MANIFEST.tsv");
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
	GArray *rows = g_array_new(FALSE, FALSE, sizeof(Row));
	char **lines = g_strsplit(text, "\n", -1);
	for (int i = 1; lines[i]; i++) {
		char **f = g_strsplit(lines[i], "\t", -1);
		if (g_strv_length(f) >= 5) {
			Row r = {g_strdup(f[0]), g_strdup(f[4])};
			g_array_append_val(rows, r);
		}
		g_strfreev(f);
	}
	g_strfreev(lines);
	return rows;
}

static void manifest_free(GArray *rows)
{
	for (guint i = 0; i < rows->len; i++) {
		g_free(g_array_index(rows, Row, i).file);
		g_free(g_array_index(rows, Row, i).features);
	}
	g_array_free(rows, TRUE);
}

static bool has_feature(const char *features, const char *f)
{
	g_auto(GStrv) v = g_strsplit(features, ",", -1);
	return g_strv_contains((const char *const *)v, f);
}

static const MailAttachment *find_att(const Mail *m, const char *filename)
{
	for (size_t i = 0; i < m->n_attachments; i++)
		if (strcmp(m->attachments[i].filename, filename) == 0)
			return &m->attachments[i];
	return NULL;
}

/* ---- corpus ------------------------------------------------------------ */

static void test_corpus_all(void)
{
	GArray *rows = manifest();
	g_assert_cmpuint(rows->len, ==, 193);
	guint parsed = 0;
	for (guint i = 0; i < rows->len; i++) {
		const Row *r = &g_array_index(rows, Row, i);
		g_autofree char *p = corpus_path(r->file);
		char *buf = NULL;
		size_t len = 0;
		g_assert_cmpint(dm_read_file(p, 64u << 20, &buf, &len), ==, 0);
		Mail *m = NULL;
		DmError e = {0};
		int rc = parse_buf(buf, len, NULL, &m, &e);
		free(buf);
		if (rc != 0) {
			if (rc != DM_EPERM || e.msg[0] == '\0')
				g_error("%s: rc %d, reason \"%s\"", r->file, rc, e.msg);
			continue;
		}
		check_mail(r->file, m);
		parsed++;
		mail_free(m);
	}
	/* every mail in the corpus is a readable message within the limits */
	g_assert_cmpuint(parsed, ==, rows->len);
	manifest_free(rows);
}

static void test_corpus_automatic(void)
{
	GArray *rows = manifest();
	guint n = 0;
	for (guint i = 0; i < rows->len; i++) {
		const Row *r = &g_array_index(rows, Row, i);
		if (!has_feature(r->features, "autoreply") &&
		    !has_feature(r->features, "dsn-bounce"))
			continue;
		Mail *m = corpus_mail(r->file);
		if (!m->is_automatic)
			g_error("%s (%s) not detected as automatic", r->file, r->features);
		g_assert_nonnull(m->automatic_reason);
		mail_free(m);
		n++;
	}
	g_assert_cmpuint(n, ==, 31);
	manifest_free(rows);

	/* which rule fired, for one mail per rule */
	static const char *const why[][2] = {
		{"bounceparser-aol-vacation.eml", "Auto-Submitted: auto-replied"},
		{"cpython-msg_33.eml", "Precedence: bulk"},
		{"bounceparser-quota.eml", "Return-Path: <>"},
		{"sisimai-lhost-zoho-02.eml", "From: mailer-daemon"},
		{"flanker-long-links.eml", "From: postmaster"},
		{"phpmimeparser-failure.eml", "Content-Type: multipart/report"},
		{"mu-testdir-1220863060.12663_3.mindcrime-2-S.eml", "List-Id"},
		{"spamscope-mail_test_13.eml", "List-Id"},
		{"bounceparser-warning-6.eml", "Subject: Lotus Notes"},
		{"phpmimeparser-issue212.eml", "Subject: starts with \"automatyczna odpowiedź:\""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(why); i++) {
		Mail *m = corpus_mail(why[i][0]);
		if (m->automatic_reason == NULL ||
		    !g_str_has_prefix(m->automatic_reason, why[i][1]))
			g_error("%s: reason \"%s\", expected \"%s\"", why[i][0],
				m->automatic_reason ? m->automatic_reason : "(none)", why[i][1]);
		mail_free(m);
	}
	/* ordinary person-to-person mail is not automatic */
	static const char *const human[] = {
		"talon-gmail.eml",
		"talon-apple_mail.eml",
		"talon-outlook.eml",
		"talon-yahoo.eml",
		"sisimai-not-is-not-bounce-01.eml",
		"otrs-sample_mails-test-email-3.eml",
		"rubymail-two_from_in_message.eml",
		"webklex-issue-412.eml",
		"redmine-issue_update_with_quoted_reply_above.eml",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(human); i++) {
		Mail *m = corpus_mail(human[i]);
		if (m->is_automatic)
			g_error("%s: wrongly automatic (%s)", human[i], m->automatic_reason);
		mail_free(m);
	}
}

static void test_corpus_charsets(void)
{
	/* windows-1251 body */
	Mail *m = corpus_mail("otrs-sample_mails-test-email-8-bulgarian-cp1251.eml");
	g_assert_nonnull(strstr(m->text, "това е тестов отговор"));
	g_assert_nonnull(strstr(m->text, "Екип \"Поддръжка\" в банка \"Хеброс\""));
	mail_free(m);
	/* Shift_JIS body */
	m = corpus_mail("rubymail-japanese_shift_jis.eml");
	g_assert_true(g_str_has_prefix(m->text, "あいうえお\n"));
	mail_free(m);
	/* EUC-JP bytes labelled ISO-2022-JP: the mislabel is recognised */
	m = corpus_mail("spamassassin-nice-cjk-iso-2022-jp.2.eml");
	g_assert_true(g_str_has_prefix(m->text, ">ああ、心当たりがあります。"));
	g_assert_null(strstr(m->text, "\xef\xbf\xbd"));
	mail_free(m);
	/* gb2312 (decoded as its superset GB18030) */
	m = corpus_mail("spamscope-mail_test_12.eml");
	g_assert_cmpstr(m->subject, ==, "代开各地增值税发票");
	g_assert_true(g_str_has_prefix(m->text, "你好！我公司可代开各类增值税发票"));
	mail_free(m);
	/* raw 8-bit Big5 in the Subject, decoded with the body's charset */
	m = corpus_mail("spamassassin-nice-cjk-big5-base64.1.eml");
	g_assert_true(g_str_has_prefix(m->subject, "[SLAT-talk] 鉅靡6月17日新片又到"));
	mail_free(m);
	/* koi8-r encoded words, koi8-r HTML with NUL bytes in it */
	m = corpus_mail("freescout-message-4-null-bytes.eml");
	g_assert_cmpstr(m->subject, ==, "активизация виндойс");
	g_assert_true(g_str_has_prefix(m->text, "Уважаемые системные администраторы, виндос"));
	g_assert_nonnull(strstr(m->text, "Alexandra Volga"));
	g_assert_nonnull(m->html);
	mail_free(m);
	/* a NUL in the middle of a bounce does not cut the text short */
	m = corpus_mail("sisimai-lhost-x2-04.eml");
	g_assert_nonnull(strstr(m->text, "This account is over quota."));
	g_assert_nonnull(strstr(m->text, "I am having great difficulty accessing your files."));
	mail_free(m);
	/* iso-8859-1 encoded-word subject */
	m = corpus_mail("redmine-subject_as_iso-8859-1.eml");
	g_assert_cmpstr(m->subject, ==, "Testmail from Webmail: ä ö ü...");
	mail_free(m);
	/* UTF-7 */
	m = corpus_mail("stalwart-legacy-001.eml");
	g_assert_cmpstr(m->subject, ==, "Die Hasen und die Frösche (Microsoft Outlook 00)");
	g_assert_nonnull(strstr(m->text, "Die Hasen klagten einst über ihre mißliche Lage"));
	mail_free(m);
	/* charset names iconv does not know, HTML with a <meta> charset */
	m = corpus_mail("kopano-html-charset-02.eml");
	g_assert_cmpstr(m->text, ==, "fooЧbar");
	g_assert_true(m->text_from_html);
	mail_free(m);
}

static void test_corpus_structure(void)
{
	/* html-only with an inline image */
	Mail *m = corpus_mail("enmime-html-only-inline.eml");
	g_assert_true(m->text_from_html);
	g_assert_cmpstr(m->text, ==, "Test of HTML section");
	g_assert_cmpuint(m->n_attachments, ==, 1);
	g_assert_cmpstr(m->attachments[0].filename, ==, "favicon.png");
	g_assert_cmpstr(m->attachments[0].content_type, ==, "image/png");
	g_assert_true(m->attachments[0].is_inline);
	g_assert_nonnull(m->attachments[0].content_id);
	g_assert_cmpuint(m->attachments[0].size, ==, 687);
	mail_free(m);

	/* eight attachments with non-ASCII names from several charsets */
	m = corpus_mail("otrs-EmailParser-PostMaster-Test12.eml");
	g_assert_cmpuint(m->n_attachments, ==, 8);
	g_assert_nonnull(find_att(m, "attachment-äöüß-utf8.txt"));
	g_assert_nonnull(find_att(m, "attachment-äöüß-iso.txt"));
	const MailAttachment *jpg = find_att(m, "Обяснительная.jpg");
	g_assert_nonnull(jpg);
	g_assert_cmpuint(jpg ? jpg->size : 0, ==, 118692);
	g_assert_cmpstr(m->from->name, ==, "Сапожников Борис");
	g_assert_cmpstr(m->subject, ==, "test äöüß");
	g_assert_cmpuint(m->n_cc, ==, 2);
	mail_free(m);

	/* RFC 2231 file names */
	m = corpus_mail("djmailbox-message_with_utf8_attachment.eml");
	g_assert_nonnull(find_att(m, "piłkochwyty.jpg"));
	g_assert_nonnull(find_att(m, "odpowiedź Burmistrza.jpg"));
	mail_free(m);
	m = corpus_mail("rt-rfc2231-attachment-filename-continuations.eml");
	g_assert_cmpuint(m->n_attachments, ==, 1);
	g_assert_cmpstr(m->attachments[0].filename, ==, "新しいテキスト ドキュメント.txt");
	mail_free(m);
	m = corpus_mail("nylas-raw_message_with_outlook_emoji.eml");
	g_assert_nonnull(find_att(m, "OutlookEmoji-😊.png"));
	mail_free(m);
	/* unescaped Windows paths in filename="C:\TEMP\..." */
	m = corpus_mail("stalwart-legacy-039.eml");
	g_assert_nonnull(find_att(m, "nsmailV0.png"));
	mail_free(m);

	/* message/rfc822 forward: its parts are attachments */
	m = corpus_mail("mu-wom_bat-rfc822.1.eml");
	g_assert_cmpstr(m->subject, ==, "Fwd: rfc822");
	g_assert_false(m->text_from_html);
	g_assert_cmpuint(m->n_attachments, ==, 1);
	g_assert_cmpstr(m->attachments[0].content_type, ==, "text/plain");
	mail_free(m);

	/* threading headers and date */
	m = corpus_mail("notmuch-lkml-1382298587.003118-2.eml");
	g_assert_cmpstr(m->in_reply_to, ==, "20100625182651.36800d06@tlielax.poochiereds.net");
	g_assert_cmpuint(m->n_references, ==, 7);
	g_assert_cmpstr(m->references[6], ==, "20100625182651.36800d06@tlielax.poochiereds.net");
	g_assert_cmpstr(m->from->addr, ==, "smfrench@gmail.com");
	g_assert_cmpuint(m->n_to, ==, 3);
	g_assert_cmpuint(m->n_cc, ==, 7);
	mail_free(m);
	m = corpus_mail("talon-gmail.eml");
	g_assert_cmpint(m->date, ==, 1333383712);
	g_assert_nonnull(m->html);
	g_assert_false(m->text_from_html);
	mail_free(m);

	/* Authentication-Results: every one, top first */
	m = corpus_mail("bounceparser-warning-6.eml");
	g_assert_cmpuint(m->n_auth_results, ==, 1);
	g_assert_true(g_str_has_prefix(m->auth_results[0], "mx.google.com; spf=neutral"));
	mail_free(m);

	/* mbox "From " envelope line */
	m = corpus_mail("bounceparser-novell-with-rhs.eml");
	g_assert_cmpstr(m->from->addr, ==, "mailer-daemon@simba2.k12.example.net");
	g_assert_cmpstr(m->subject, ==, "Message status - undeliverable");
	mail_free(m);
}

/* ---- golden mails -------------------------------------------------------- */

static void test_golden_charset_nul(void)
{
	Mail *m = data_mail("mime-nul-bogus-charset.eml");
	check_mail("mime-nul-bogus-charset.eml", m);
	/* unknown charset: UTF-8 where valid, else windows-1252 per byte; NUL
	 * removed without losing what follows; CRLF -> LF */
	g_assert_cmpstr(m->text, ==, "Café beforeafter the NUL\nsecond line ÿþ end\n");
	g_assert_cmpstr(m->subject, ==, "café and raw café");
	g_assert_cmpstr(m->from->name, ==, "Café Owner");
	g_assert_cmpstr(m->from->addr, ==, "owner@cafe.example");
	g_assert_cmpstr(m->message_id, ==, "nul-1@cafe.example");
	g_assert_cmpint(m->date, ==, 1772532000);
	g_assert_false(m->is_automatic);
	mail_free(m);
}

static void test_golden_forward(void)
{
	/* no text of its own: the forwarded message's body is the body */
	Mail *m = data_mail("mime-forward-only.eml");
	check_mail("mime-forward-only.eml", m);
	g_assert_cmpstr(m->text, ==, "The printer is on fire.");
	g_assert_nonnull(strstr(m->html, "<b>on fire</b>"));
	g_assert_false(m->text_from_html);
	g_assert_cmpuint(m->n_attachments, ==, 1);
	g_assert_cmpstr(m->attachments[0].filename, ==, "fire.png");
	g_assert_cmpuint(m->attachments[0].size, ==, 8);
	g_assert_cmpmem(m->attachments[0].data, 8, "\x89PNG\r\n\x1a\n", 8);
	g_assert_false(m->attachments[0].is_inline);
	mail_free(m);

	/* a note of its own wins; the forwarded parts become attachments */
	m = data_mail("mime-forward-note.eml");
	g_assert_cmpstr(m->text, ==, "See below, urgent.");
	g_assert_null(m->html);
	g_assert_cmpuint(m->n_attachments, ==, 2);
	g_assert_cmpstr(m->attachments[0].filename, ==, "attachment-1");
	g_assert_cmpstr(m->attachments[0].content_type, ==, "text/plain");
	g_assert_cmpstr(m->attachments[1].filename, ==, "attachment-2");
	g_assert_cmpstr(m->attachments[1].content_type, ==, "text/html");
	mail_free(m);
}

static void test_golden_filenames(void)
{
	Mail *m = data_mail("mime-filenames.eml");
	check_mail("mime-filenames.eml", m);
	g_assert_true(m->text_from_html);
	g_assert_cmpstr(m->text, ==, "Logo:");
	g_assert_cmpuint(m->n_attachments, ==, 7);
	const MailAttachment *a = m->attachments;
	/* image in multipart/related with a Content-ID: inline */
	g_assert_cmpstr(a[0].filename, ==, "attachment-1");
	g_assert_cmpstr(a[0].content_type, ==, "image/png");
	g_assert_cmpstr(a[0].content_id, ==, "logo@client.example");
	g_assert_true(a[0].is_inline);
	g_assert_cmpstr(a[1].filename, ==, "passwd");       /* path stripped */
	g_assert_cmpstr(a[2].filename, ==, "report.xls");   /* C:\Users\bob\ */
	g_assert_cmpstr(a[3].filename, ==, "€ invfdp.exe"); /* U+202E removed */
	g_assert_cmpstr(a[4].filename, ==, "attachment-5"); /* ".." */
	g_assert_cmpstr(a[5].filename, ==, "ätt.pdf");      /* RFC 2047 in quotes */
	g_assert_cmpstr(a[5].content_type, ==, "application/pdf");
	g_assert_cmpuint(a[5].size, ==, 5);
	g_assert_cmpstr(a[6].filename, ==, "attachment-7"); /* no name */
	g_assert_false(a[6].is_inline);
	mail_free(m);
}

static void test_golden_headers(void)
{
	Mail *m = data_mail("mime-headers.eml");
	check_mail("mime-headers.eml", m);
	/* first mailbox of a group, name decoded, address lower-cased */
	g_assert_cmpstr(m->from->name, ==, "Jürgen Müller");
	g_assert_cmpstr(m->from->addr, ==, "juergen@client.example");
	g_assert_cmpuint(m->n_to, ==, 0); /* undisclosed-recipients:; */
	g_assert_cmpuint(m->n_cc, ==, 3);
	g_assert_cmpstr(m->cc[0].name, ==, "Desk, Help");
	g_assert_cmpstr(m->cc[0].addr, ==, "help@desk.example");
	g_assert_cmpstr(m->cc[2].addr, ==, "b@x.example");
	g_assert_cmpstr(m->subject, ==, "Grüße – тест");
	g_assert_cmpint(m->date, ==, 1772534096);
	g_assert_cmpstr(m->message_id, ==, "hdr-1@client.example");
	g_assert_cmpstr(m->in_reply_to, ==, "prev-2@desk.example"); /* phrase skipped */
	g_assert_cmpuint(m->n_references, ==, 2);
	g_assert_cmpstr(m->references[0], ==, "root-1@desk.example");
	g_assert_cmpstr(m->references[1], ==, "prev-2@desk.example");
	g_assert_cmpuint(m->n_auth_results, ==, 2);
	g_assert_cmpstr(m->auth_results[0], ==,
			"mx.desk.example; spf=pass smtp.mailfrom=client.example");
	g_assert_cmpstr(m->auth_results[1], ==, "other.example; dkim=fail");
	g_assert_false(m->is_automatic); /* Auto-Submitted: no */
	g_assert_cmpstr(m->text, ==, "Hello.\n");
	mail_free(m);
}

/* ---- not a message ----------------------------------------------------- */

static void test_not_a_message(void)
{
	DmError e = {0};
	g_assert_cmpint(parse_err("", 0, NULL, &e), ==, DM_EPERM);
	g_assert_cmpstr(e.msg, !=, "");
	static const char garbage[] = "\x00\x01\x02 not a mail at all";
	dm_error_clear(&e);
	g_assert_cmpint(parse_err(garbage, sizeof garbage - 1, NULL, &e), ==, DM_EPERM);
	g_assert_nonnull(strstr(e.msg, "not an e-mail message"));
	dm_error_clear(&e);
	g_assert_cmpint(parse_err("just some words\nand more\n", 25, NULL, &e), ==, DM_EPERM);
	dm_error_clear(&e);
	static const char blank_first[] = "\nFrom: a@b.example\nSubject: x\n\nbody\n";
	g_assert_cmpint(parse_err(blank_first, strlen(blank_first), NULL, &e), ==, DM_EPERM);
	dm_error_clear(&e);
	static const char no_mail_header[] = "X-Foo: bar\nX-Bar: baz\n\nbody\n";
	g_assert_cmpint(parse_err(no_mail_header, strlen(no_mail_header), NULL, &e), ==, DM_EPERM);
	dm_error_clear(&e);
	g_assert_cmpint(parse_err("garbage", 7, NULL, &e), ==, DM_EPERM);
	g_assert_cmpstr(e.msg, !=, "");

	/* no usable From is still a Mail; the desk quarantines it */
	Mail *m = parse_str("From: not an address\nSubject: hi\n\nbody\n");
	g_assert_cmpstr(m->subject, ==, "hi");
	g_assert_cmpstr(m->text, ==, "body\n");
	mail_free(m);
	m = parse_str("Subject: only a subject\n\nx");
	g_assert_null(m->from);
	g_assert_cmpstr(m->subject, ==, "only a subject");
	g_assert_null(m->message_id);
	g_assert_cmpint(m->date, ==, 0);
	mail_free(m);
	/* an mbox envelope line is skipped, "From :" is a header */
	m = parse_str("From someone@x.example Mon Mar  2 10:00:00 2026\nFrom: Someone "
		      "<Someone@X.example>\nSubject: s\n\nb\n");
	g_assert_cmpstr(m->from->addr, ==, "someone@x.example");
	mail_free(m);
	/* automatic markers in generated mail */
	m = parse_str("From: MAILER-DAEMON@mx.example\nSubject: Undelivered\n\nbounce\n");
	g_assert_true(m->is_automatic);
	mail_free(m);
	m = parse_str("From: eve@stranger.example\nReturn-Path: <>\nSubject: x\n\nx\n");
	g_assert_cmpstr(m->automatic_reason, ==, "Return-Path: <> (bounce)");
	mail_free(m);
	m = parse_str("From: a@b.example\nList-Unsubscribe: <mailto:u@b.example>\nSubject: x\n\n");
	g_assert_true(m->is_automatic);
	mail_free(m);
	m = parse_str("From: a@b.example\nX-Autoreply: yes\nSubject: x\n\n");
	g_assert_true(m->is_automatic);
	mail_free(m);
	m = parse_str("From: a@b.example\nAuto-Submitted: auto-generated; owner-email=x@y\n"
		      "Subject: x\n\n");
	g_assert_cmpstr(m->automatic_reason, ==, "Auto-Submitted: auto-generated");
	mail_free(m);
	m = parse_str("From: a@b.example\nPrecedence: first-class\nSubject: Auto: my car\n\n");
	g_assert_false(m->is_automatic);
	mail_free(m);
}

static void test_long_filename(void)
{
	GString *s = g_string_new("From: a@b.example\nSubject: f\nMIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\n"
				  "Content-Type: text/plain\n\nbody\n--B\n"
				  "Content-Type: application/pdf\n"
				  "Content-Disposition: attachment; filename*=UTF-8''");
	for (int i = 0; i < 150; i++)
		g_string_append(s, "%C3%A9"); /* 300 bytes of e-acute */
	g_string_append(s, ".pdf\n\n%PDF\n--B--\n");
	Mail *m = parse_str(s->str);
	g_assert_cmpuint(m->n_attachments, ==, 1);
	const char *fn = m->attachments[0].filename;
	g_assert_true(g_utf8_validate(fn, -1, NULL));
	g_assert_cmpuint(strlen(fn), <=, 200);
	g_assert_cmpuint(strlen(fn), >=, 198);
	g_assert_true(g_str_has_prefix(fn, "éééé"));
	g_assert_true(g_str_has_suffix(fn, "é.pdf"));
	mail_free(m);
	g_string_free(s, TRUE);
}

/* ---- limits ------------------------------------------------------------ */

static GString *multipart_mail(size_t parts)
{
	GString *s = g_string_new("From: a@b.example\nSubject: parts\nMIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=\"B\"\n\n");
	for (size_t i = 0; i < parts; i++)
		g_string_append_printf(s, "--B\nContent-Type: text/plain\n\npart %zu\n", i);
	g_string_append(s, "--B--\n");
	return s;
}

static GString *nested_mail(size_t depth)
{
	GString *s = g_string_new("From: a@b.example\nSubject: deep\nMIME-Version: 1.0\n");
	for (size_t i = 0; i < depth; i++)
		g_string_append_printf(
			s, "Content-Type: multipart/mixed; boundary=\"b%zu\"\n\n--b%zu\n", i, i);
	g_string_append(s, "Content-Type: text/plain\n\ndeep inside\n");
	for (size_t i = depth; i > 0; i--)
		g_string_append_printf(s, "--b%zu--\n", i - 1);
	return s;
}

static void test_limits(void)
{
	MimeLimits lim;
	mime_limits_default(&lim);
	g_assert_cmpuint(lim.max_parts, ==, 500);
	g_assert_cmpuint(lim.max_depth, ==, 20);
	g_assert_cmpuint(lim.max_text_bytes, ==, 4u << 20);
	g_assert_cmpuint(lim.max_headers, ==, 1000);
	g_assert_cmpuint(lim.max_addresses, ==, 500);
	g_assert_cmpuint(lim.max_references, ==, 100);
	DmError e = {0};

	GString *s = multipart_mail(1000);
	g_assert_cmpint(parse_err(s->str, s->len, &lim, &e), ==, DM_EPERM);
	g_assert_nonnull(strstr(e.msg, "MIME parts"));
	g_string_free(s, TRUE);
	s = multipart_mail(400);
	Mail *m = NULL;
	g_assert_cmpint(parse_buf(s->str, s->len, &lim, &m, NULL), ==, 0);
	g_assert_cmpstr(m->text, ==, "part 0");
	g_assert_cmpuint(m->n_attachments, ==, 399);
	mail_free(m);
	g_string_free(s, TRUE);

	dm_error_clear(&e);
	s = nested_mail(50);
	g_assert_cmpint(parse_err(s->str, s->len, &lim, &e), ==, DM_EPERM);
	g_assert_nonnull(strstr(e.msg, "nesting"));
	g_string_free(s, TRUE);
	s = nested_mail(2000); /* beyond GMime's own 1024 levels */
	g_assert_cmpint(parse_err(s->str, s->len, &lim, NULL), ==, DM_EPERM);
	g_string_free(s, TRUE);
	s = nested_mail(10);
	m = NULL;
	g_assert_cmpint(parse_buf(s->str, s->len, &lim, &m, NULL), ==, 0);
	g_assert_cmpstr(m->text, ==, "deep inside");
	mail_free(m);
	g_string_free(s, TRUE);

	dm_error_clear(&e);
	s = g_string_new("From: a@b.example\nSubject: h\n");
	for (int i = 0; i < 1100; i++)
		g_string_append_printf(s, "X-H%d: v\n", i);
	g_string_append(s, "\nbody\n");
	g_assert_cmpint(parse_err(s->str, s->len, &lim, &e), ==, DM_EPERM);
	g_assert_nonnull(strstr(e.msg, "header"));
	g_string_free(s, TRUE);

	dm_error_clear(&e);
	s = g_string_new("From: a@b.example\nSubject: to\nTo: ");
	for (int i = 0; i < 300; i++)
		g_string_append_printf(s, "%su%d@x.example", i ? ", " : "", i);
	g_string_append(s, "\nCc: ");
	for (int i = 0; i < 300; i++)
		g_string_append_printf(s, "%sc%d@x.example", i ? ", " : "", i);
	g_string_append(s, "\n\nbody\n");
	g_assert_cmpint(parse_err(s->str, s->len, &lim, &e), ==, DM_EPERM);
	g_assert_nonnull(strstr(e.msg, "addresses"));
	g_string_free(s, TRUE);

	/* References: the newest max_references are kept */
	s = g_string_new("From: a@b.example\nSubject: refs\nReferences:");
	for (int i = 0; i < 150; i++)
		g_string_append_printf(s, " <r%d@x.example>\n", i);
	g_string_append(s, "\nbody\n");
	m = NULL;
	g_assert_cmpint(parse_buf(s->str, s->len, &lim, &m, NULL), ==, 0);
	g_assert_cmpuint(m->n_references, ==, 100);
	g_assert_cmpstr(m->references[0], ==, "r50@x.example");
	g_assert_cmpstr(m->references[99], ==, "r149@x.example");
	mail_free(m);
	g_string_free(s, TRUE);

	/* body text over the limit */
	lim.max_text_bytes = 1000;
	dm_error_clear(&e);
	s = g_string_new("From: a@b.example\nSubject: big\n\n");
	for (int i = 0; i < 40; i++)
		g_string_append(s, "0123456789012345678901234567890123456789012345678\n");
	g_assert_cmpint(parse_err(s->str, s->len, &lim, &e), ==, DM_EPERM);
	g_assert_nonnull(strstr(e.msg, "over the limit"));
	g_string_free(s, TRUE);
}

/* ---- HTML to text -------------------------------------------------------- */

static void check_html(const char *html, const char *want)
{
	char *t = mime_html_to_text(html, strlen(html));
	g_assert_nonnull(t);
	if (strcmp(t, want) != 0)
		g_error("html_to_text(%s)\n got: [%s]\nwant: [%s]", html, t, want);
	g_free(t);
}

/* Values that reach indexed or checked columns, or our own mail, are
 * bounded whatever the sender wrote. */
static void test_value_caps(void)
{
	g_autofree char *long_id = g_strnfill(3000, 'x');
	g_autofree char *long_subject = NULL;
	GString *subj = g_string_new(NULL);
	while (subj->len < 5000)
		g_string_append(subj, "Grüße ☃ ");
	long_subject = g_string_free(subj, FALSE);
	g_autofree char *long_local = g_strnfill(400, 'a');
	g_autofree char *mail =
		g_strdup_printf("From: =?utf-8?q?=C3=89ve?= <\xc3\x89VE@Stranger.Example>\r\n"
				"To: support@desk.example, %s@long.example\r\n"
				"Subject: %s\r\n"
				"Message-ID: <%s@long.example>\r\n"
				"In-Reply-To: <%s@long.example>\r\n"
				"References: <a@x.example> <%s@long.example> <b@x.example>\r\n"
				"\r\nbody\r\n",
				long_local, long_subject, long_id, long_id, long_id);
	Mail *m = NULL;
	DmError e = {0};
	g_assert_cmpint(parse_buf(mail, strlen(mail), NULL, &m, &e), ==, 0);
	/* an id no mailer would write is no id, in every header */
	g_assert_null(m->message_id);
	g_assert_null(m->in_reply_to);
	g_assert_cmpuint(m->n_references, ==, 2);
	g_assert_cmpstr(m->references[0], ==, "a@x.example");
	g_assert_cmpstr(m->references[1], ==, "b@x.example");
	/* the subject is cut at a character, valid, and says so */
	g_assert_cmpuint(strlen(m->subject), <=, 1000);
	g_assert_cmpuint(strlen(m->subject), >=, 990);
	g_assert_true(g_utf8_validate(m->subject, -1, NULL));
	g_assert_true(g_str_has_suffix(m->subject, "…"));
	/* addresses lower-cased as PostgreSQL's lower() does, non-ASCII too */
	g_assert_nonnull(m->from);
	g_assert_cmpstr(m->from->addr, ==, "éve@stranger.example");
	/* an address over 320 bytes is no address */
	g_assert_cmpuint(m->n_to, ==, 1);
	g_assert_cmpstr(m->to[0].addr, ==, "support@desk.example");
	mail_free(m);

	/* a display name is cut like the subject */
	g_autofree char *long_name = g_strnfill(1000, 'N');
	g_autofree char *mail2 =
		g_strdup_printf("From: %s <n@x.example>\r\nSubject: s\r\n\r\nbody\r\n", long_name);
	m = NULL;
	g_assert_cmpint(parse_buf(mail2, strlen(mail2), NULL, &m, &e), ==, 0);
	g_assert_nonnull(m->from);
	g_assert_cmpuint(strlen(m->from->name), <=, 200);
	g_assert_true(g_str_has_suffix(m->from->name, "…"));
	mail_free(m);
}

static void test_html_to_text(void)
{
	check_html("<html><head><title>T</title><style>p{color:red}</style></head>"
		   "<body><script>alert(1)</script><p>Hello</p></body></html>",
		   "Hello");
	check_html("<p>A</p><p>B</p>line<br>next", "A\n\nB\n\nline\nnext");
	check_html("a<br><br><br><br><br>b", "a\n\nb");
	check_html("<div>  lots   of\n\n  space  </div>", "lots of space");
	check_html("<pre>a\n  b\tc</pre>", "a\n  b\tc");
	check_html("&amp; &lt;b&gt; &eacute;&#8364;&nbsp;x &quot;q&quot;", "& <b> é€ x \"q\"");
	check_html("<ul><li>One</li><li>Two<ul><li>Sub</li></ul></li></ul><ol><li>Three</li></ol>",
		   "- One\n- Two\n  - Sub\n- Three");
	check_html("<a href=\"https://x.example/a?b=1\">Click here</a>",
		   "Click here <https://x.example/a?b=1>");
	check_html("<a href=\"https://x.example/\">https://x.example/</a>", "https://x.example/");
	check_html("see <a href=\"http://www.x.example/\">www.x.example</a>.",
		   "see www.x.example.");
	check_html("<a href=\"mailto:help@x.example\">help@x.example</a>", "help@x.example");
	check_html("<a href=\"mailto:help@x.example?subject=hi\">Write us</a>",
		   "Write us <help@x.example>");
	check_html("<a href=\"#top\">Top</a> <a href=\"javascript:x()\">JS</a>", "Top JS");
	check_html("<a href=\"https://x.example/i\"><img src=\"cid:1\"></a>",
		   "<https://x.example/i>");
	check_html("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
	check_html("<h1>Title</h1>text", "Title\n\ntext");
	check_html("<p>Hi</p><blockquote>quoted<br>more</blockquote><p>after</p>",
		   "Hi\n\n> quoted\n> more\n\nafter");
	check_html("<div style=\"display: none\">preheader</div><p>shown</p>", "shown");
	check_html("<!-- comment --><p>x</p>", "x");
	check_html("", "");
	check_html("   ", "");
	/* invalid UTF-8 in, valid UTF-8 out */
	check_html("<p>caf\xe9</p>", "café");
	char *t = mime_html_to_text(NULL, 0);
	g_assert_cmpstr(t, ==, "");
	g_free(t);
	/* very deep nesting: no crash, valid output */
	GString *deep = g_string_new(NULL);
	for (int i = 0; i < 20000; i++)
		g_string_append(deep, "<div><span>");
	g_string_append(deep, "deep");
	t = mime_html_to_text(deep->str, deep->len);
	g_assert_true(g_utf8_validate(t, -1, NULL));
	g_free(t);
	g_string_free(deep, TRUE);
}

/* ---- mime_to_utf8 ------------------------------------------------------ */

static void check_utf8(const char *in, size_t len, const char *want)
{
	char *t = mime_to_utf8(in, len);
	g_assert_cmpstr(t, ==, want);
	g_free(t);
}

static void test_to_utf8(void)
{
	check_utf8("plain", 5, "plain");
	check_utf8("ñ✓😊", strlen("ñ✓😊"), "ñ✓😊");
	check_utf8("a\xffz", 3, "aÿz");
	check_utf8("\x80\x93x\x94", 4, "€“x”");
	check_utf8("a\0b\0", 4, "ab");
	check_utf8("\xe2\x82", 2, "â‚");                        /* cut-off sequence */
	check_utf8("\xed\xa0\x80", 3, "í\xc2\xa0\xe2\x82\xac"); /* surrogate: not UTF-8 */
	check_utf8("\x81", 1, "\xef\xbf\xbd");                  /* unassigned in windows-1252 */
	check_utf8("x", 0, "");
	char *t = mime_to_utf8(NULL, 0);
	g_assert_cmpstr(t, ==, "");
	g_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!have_test_data())
		return 1;
	mime_global_init();
	g_test_add_func("/mime/corpus/all", test_corpus_all);
	g_test_add_func("/mime/corpus/automatic", test_corpus_automatic);
	g_test_add_func("/mime/corpus/charsets", test_corpus_charsets);
	g_test_add_func("/mime/corpus/structure", test_corpus_structure);
	g_test_add_func("/mime/golden/charset-nul", test_golden_charset_nul);
	g_test_add_func("/mime/golden/forward", test_golden_forward);
	g_test_add_func("/mime/golden/filenames", test_golden_filenames);
	g_test_add_func("/mime/golden/headers", test_golden_headers);
	g_test_add_func("/mime/parse/not-a-message", test_not_a_message);
	g_test_add_func("/mime/parse/long-filename", test_long_filename);
	g_test_add_func("/mime/parse/limits", test_limits);
	g_test_add_func("/mime/parse/value-caps", test_value_caps);
	g_test_add_func("/mime/html/to-text", test_html_to_text);
	g_test_add_func("/mime/utf8/fallback", test_to_utf8);
	int rc = g_test_run();
	mime_global_cleanup();
	return rc;
}
