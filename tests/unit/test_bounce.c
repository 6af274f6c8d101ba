/* test_bounce.c - bounces (src/mime/bounce.c): every bounce of the shared
 * corpus against what a person read from the file, no bounce among the
 * rest of the corpus (by MANIFEST.tsv's features), our own bounces of the
 * common MTAs (tests/data/bounce-*.eml) and hand-written edge cases: delay
 * warnings, read receipts, mixed recipients, caps and hostile input. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/err.h"
#include "deskmail/mime.h"
#include "deskmail/util.h"
#include "testdata.h"

/* ---- helpers ----------------------------------------------------------- */

static char *dir_path(const char *var, const char *fallback, const char *file)
{
	const char *dir = g_getenv(var);
	return g_build_filename(dir ? dir : fallback, file, NULL);
}

static Mail *parse_buf(const char *buf, size_t len, const MimeLimits *lim)
{
	MimeLimits def;
	if (lim == NULL) {
		mime_limits_default(&def);
		lim = &def;
	}
	Mail *m = NULL;
	DmError e = {0};
	int rc = mime_parse((const unsigned char *)buf, len, lim, &m, &e);
	if (rc != 0)
		g_error("parse failed: %d %s", rc, e.msg);
	return m;
}

static Mail *parse_path(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	if (dm_read_file(path, 64u << 20, &buf, &len) != 0)
		g_error("cannot read %s", path);
	Mail *m = parse_buf(buf, len, NULL);
	free(buf);
	return m;
}

static Mail *corpus_mail(const char *file)
{
	g_autofree char *p = dir_path("DM_CORPUS", "../shared/corpus", file);
	return parse_path(p);
}

static Mail *data_mail(const char *file)
{
	g_autofree char *p = dir_path("DM_TESTDATA", "tests/data", file);
	return parse_path(p);
}

static Mail *parse_str(const char *s)
{
	return parse_buf(s, strlen(s), NULL);
}

static bool is_status(const char *s)
{
	/* class "." 1-3 digits "." 1-3 digits */
	if (!(s[0] == '2' || s[0] == '4' || s[0] == '5') || s[1] != '.')
		return false;
	const char *p = s + 2;
	for (int part = 0; part < 2; part++) {
		int n = 0;
		while (g_ascii_isdigit(*p)) {
			p++;
			n++;
		}
		if (n < 1 || n > 3)
			return false;
		if (part == 0 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

static void assert_clean(const char *name, const char *what, const char *s)
{
	if (s == NULL)
		return;
	if (!g_utf8_validate(s, -1, NULL))
		g_error("%s: %s is not valid UTF-8", name, what);
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c < 0x20 || (c >= 0x7f && c < 0xa0))
			g_error("%s: %s has control character U+%04X", name, what, c);
	}
	if (*s == '\0' || g_ascii_isspace(s[0]) || g_ascii_isspace(s[strlen(s) - 1]))
		g_error("%s: %s is empty or not trimmed: \"%s\"", name, what, s);
}

/* What mail.h promises about the bounce fields of any parsed mail. */
static void check_bounce(const char *name, const Mail *m)
{
	MimeLimits lim;
	mime_limits_default(&lim);
	if (!m->is_bounce) {
		if (m->bounce_message_id || m->bounce_recipient || m->bounce_status ||
		    m->bounce_diagnostic)
			g_error("%s: bounce fields set on a mail that is no bounce", name);
		return;
	}
	if (!m->is_automatic || m->automatic_reason == NULL)
		g_error("%s: a bounce that is not automatic", name);
	assert_clean(name, "bounce_message_id", m->bounce_message_id);
	assert_clean(name, "bounce_recipient", m->bounce_recipient);
	assert_clean(name, "bounce_status", m->bounce_status);
	assert_clean(name, "bounce_diagnostic", m->bounce_diagnostic);
	if (m->bounce_message_id) {
		g_assert_null(strpbrk(m->bounce_message_id, "<> "));
		g_assert_cmpuint(strlen(m->bounce_message_id), <=, lim.max_id_bytes);
	}
	if (m->bounce_recipient) {
		g_assert_true(dm_addr_valid(m->bounce_recipient));
		g_autofree char *low = g_utf8_strdown(m->bounce_recipient, -1);
		g_assert_cmpstr(low, ==, m->bounce_recipient);
	}
	if (m->bounce_status && !is_status(m->bounce_status))
		g_error("%s: status \"%s\"", name, m->bounce_status);
	if (m->bounce_diagnostic)
		g_assert_cmpuint(strlen(m->bounce_diagnostic), <=, 500);
}

/* ---- expectations, read from the files by hand ------------------------- */

typedef struct {
	const char *file;
	bool bounce;
	const char *id;     /* NULL: the mail names none (note says why) */
	const char *rcpt;   /* NULL: none */
	const char *status; /* NULL: none */
	const char *diag;   /* a part of the diagnostic; NULL: none */
	const char *note;
} Expect;

/* Every corpus mail tagged dsn-bounce in MANIFEST.tsv. */
static const Expect corpus_bounces[] = {
	{"bounceparser-novell-with-rhs.eml", true, NULL, "recipient@example.net", NULL,
	 "recipient@example.net (user not found)",
	 "GroupWise text notice: returns nothing of the mail, has no In-Reply-To, so no id"},
	{"bounceparser-quota.eml", true, "20100224113210.2BEAE16581EF@server4.example.com", "a@b.c",
	 NULL, "User mailbox exceeds allowed size",
	 "SMTP32 text/plain: headers after \"Original message follows.\"; no status code"},
	{"bounceparser-spam-rejection36.eml", true,
	 "20120919102324.5888C6512E9@admin1.example.co.uk", "fred.blogs@sample3.com", "5.0.0",
	 "501 Spam Blocked - psmtp", "RFC 3464, message/rfc822 headers only"},
	{"bounceparser-spam-rejection42.eml", true,
	 "20130325162346.169F41E80A2@cloudadmin1.example.com", "fred.bloggs@example.net", "5.9.8",
	 "5.9.8 Spam",
	 "XWall: message/xdelivery-status, Original-Recipient \"rfc822; rfc822;...\""},
	{"mimekit-bounce.eml", true,
	 "44565655.JitbitHelpdesk.13439.691a0afc-a0a0-457c-8208-f20b7c4a4cb1@jitbit.com",
	 "netec.test@netecgc.com", "5.1.1", "Recipient address rejected: User unknown",
	 "Postfix behind a gateway: the recipient groups of the delivery status are base64"},
	{"phpmimeparser-failure.eml", true, NULL, NULL, NULL, NULL,
	 "report-type=delivery-status cut off after the first line of the (Japanese) "
	 "notice: no delivery status, no returned mail, nothing names the mail"},
	{"sisimai-lhost-amazonworkmail-04.eml", true,
	 "000001523f18b812-863c7d93-3107-46d7-a38d-f122f3d94fc2-000000@us-west-2.amazonses.com",
	 "chatoraneko@example.jp", "5.2.2", "550 5.2.2 <chatoraneko@example.jp>... Mailbox Full",
	 "multipart/mixed: delivery-status fields in the text/plain, message/rfc822"},
	{"sisimai-lhost-mcafee-01.eml", true, "000000000000000000000.shironeko@example.jp",
	 "kijitora@example.co.jp", NULL, "550 Unknown user",
	 "multipart/mixed with message/delivery-status that has no Status field"},
	{"sisimai-lhost-mfilter-05.eml", true, "000000000211.222222222000@localhost",
	 "kijitora@example.co.jp", "4.3.1", "452 4.3.1 Insufficient system resources",
	 "base64 Japanese text, subject \"failure notice\", headers of the mail in the text"},
	{"sisimai-lhost-outlook-06.eml", false, NULL, NULL, NULL, NULL,
	 "Action: delayed (\"Delivery Status Notification (Delay)\"): a warning, not a bounce"},
	{"sisimai-lhost-outlook-07.eml", true, "BAY182-W4180385B0DABF89EB94B34A9300@phx.gbl",
	 "kijitora@example.com", "4.4.7", NULL,
	 "Action: failed with a 4.x.x status; no Diagnostic-Code, no server text"},
	{"sisimai-lhost-surfcontrol-01.eml", true, "20100429233445.00000000000@mx4.example.co.jp",
	 "kijitora@example.com", "5.0.0", "550 kijitora@example.com... No such user",
	 "delivery status opens with blank lines; one group only"},
	{"sisimai-lhost-x2-04.eml", true, "0000000000.ffffffffffffffff@e2.example.ed.jp",
	 "kijitora@example.jp", NULL, "This account is over quota",
	 "text/plain, \"--- Original message follows.\", a NUL at the end; no status code"},
	{"sisimai-lhost-x3-01.eml", true, "fffffffffffffffffffffffffffffff@xample.org",
	 "kijitora@example.com", "5.3.0", "553 5.3.0 <kijitora@example.com>... No such user here",
	 "multipart/report without report-type; the message/rfc822 starts with a blank line"},
	{"sisimai-lhost-zoho-02.eml", true,
	 "14a3e1d1c33.f7b5d16d10424.9039632619844387192@zoho.example.com", "mikeneko@example.co.jp",
	 "5.2.1", "User Unknown",
	 "text notice, two recipients (the first kept), headers pasted without a marker"},
	{"sisimai-rfc3464-52.eml", true,
	 "CAByYQsEVA+zJMnugH3M98xXcDj5XHp8HYsGtb5_r9Jd8LuyF=Q@mail.gmail.example.com",
	 "neko@libsisimai.org", "4.0.0", "returned Null MX", "Gmail, folded Diagnostic-Code"},
	{"sisimai-rfc3464-56.eml", true,
	 "CAByYQsFyrGN=Aa73R9b-3-tiR7uFpUan+9CAWRmKP4z_GriF5Q@mail.gmail.example.com",
	 "siro@neko1.nyaan.jp", "4.4.1", "did not accept our requests to connect", "Gmail"},
	{"sisimai-rfc3464-57.eml", true,
	 "CAByYQsGNYchW5-rGA6r51tLL-hiL6V-y_KsgPd4LNDvjPWuQww@mail.gmail.com",
	 "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp", "5.0.0", "550 : User unknown", "Gmail"},
	{"sisimai-rfc3464-58.eml", true,
	 "CAByYQsEX_JRXGPsXSPPDkp_7RcmLbQcOERwTgCTFt-kq-ayXjQ@mail.gmail.com",
	 "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp", "5.0.0", "User unknown", "Gmail"},
	{"sisimai-rfc3464-61.eml", true, "160000000000.2022.837987497898796986@NEKO-NYAAN-22",
	 "kijitora@example.com", "5.0.0", "rejected due to spam classification",
	 "Gmail, a Diagnostic-Code of several lines"},
	{"sisimai-rfc3464-65.eml", true, "002b01d2a4bb$028be941$b756c59a@example",
	 "kijitora@example.it", "5.0.0", "wasn't delivered to kijitora@example.it",
	 "Gmail without Diagnostic-Code: the diagnostic is the notice's line"},
	{"spamassassin-BOUNCE_MESSAGE-14.eml", true, "000801c8deee$04218af2$38f93592@rqgxb",
	 "s.woolcock@cris.unu.edu", "5.1.1", NULL,
	 "Exchange 2003: MIME headers inside the delivery status; no Diagnostic-Code"},
};

/* Our own: tests/data/bounce-*.eml. */
static const Expect data_bounces[] = {
	{"bounce-postfix.eml", true, "dm.1718003645.9f3c2a1b7d4e6f800001@desk.example",
	 "jane.doe@customer.example", "5.1.1",
	 "550 5.1.1 <jane.doe@customer.example>: Recipient address rejected: User unknown in "
	 "virtual mailbox table",
	 "Postfix RFC 3464, CRLF, Original-Recipient in upper case"},
	{"bounce-exim.eml", true, "dm.1718100160.0c1d2e3f4a5b6c7d0002@desk.example",
	 "bob@gone.example", "5.1.1",
	 "SMTP error from remote mail server after RCPT TO:<bob@gone.example>: host "
	 "mx.gone.example [203.0.113.9]: 550 5.1.1",
	 "Exim text notice, \"------ This is a copy of the message\""},
	{"bounce-exim-delayed.eml", false, NULL, NULL, NULL, NULL,
	 "Exim \"Warning: message ... delayed 24 hours\""},
	{"bounce-qmail.eml", true, "dm.1718181011.5e6f7a8b9c0d1e2f0003@desk.example",
	 "carol@old-isp.example", "5.1.1", "Sorry, no mailbox here by that name. (#5.1.1)",
	 "qmail-send, \"--- Below this line is a copy of the message.\""},
	{"bounce-delayed.eml", false, NULL, NULL, NULL, NULL,
	 "Postfix delay warning: Action: delayed, though the text says \"could not be "
	 "delivered\""},
	{"bounce-exchange.eml", true, "dm.1718288520.1a2b3c4d5e6f70810004@desk.example",
	 "frank@customer.example", "5.1.10",
	 "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient frank@customer.example not found",
	 "Exchange Online NDR, From postmaster, multipart/alternative notice"},
	{"bounce-sendmail.eml", true, "dm.1718355903.2b3c4d5e6f7a8b9c0005@desk.example",
	 "grace@partner.example", "5.1.1", "550 5.1.1 <grace@partner.example>... User unknown",
	 "Sendmail, two failed recipients, text/rfc822-headers with a folded Message-ID"},
	{"bounce-sendmail-text.eml", true, "dm.1718980866.8e9f0a1b2c3d4e5f000a@desk.example",
	 "kurt@oldco.example", NULL, "550 <kurt@oldco.example>... User unknown",
	 "old text-only Sendmail, \"----- Unsent message follows -----\"; no status code"},
	{"bounce-gmail-text.eml", true, "dm.1718615498.7d8e9f0a1b2c3d4e0007@desk.example",
	 "ivan@nowhere.example", "5.1.1", "Recipient address rejected: User unknown",
	 "Gmail's old text notice, \"----- Original message -----\""},
	{"bounce-inreplyto.eml", true, "dm.1718704800.4f5a6b7c8d9e0f1a0008@desk.example",
	 "judy@legacy.example", "5.1.1",
	 "The e-mail account does not exist at the organization this message was sent to",
	 "Exchange 2003 text NDR returning nothing: the id from In-Reply-To"},
	{"bounce-mdn.eml", false, NULL, NULL, NULL, NULL,
	 "Thunderbird read receipt (disposition-notification)"},
	{"bounce-human.eml", false, NULL, NULL, NULL, NULL,
	 "a customer forwarding a bounce, quoting its words: a customer's mail"},
};

static void check_expect(const Expect *x, const Mail *m)
{
	check_bounce(x->file, m);
	if (m->is_bounce != x->bounce)
		g_error("%s: is_bounce %d, expected %d (%s)", x->file, m->is_bounce, x->bounce,
			x->note);
	if (g_strcmp0(m->bounce_message_id, x->id) != 0)
		g_error("%s: id \"%s\", expected \"%s\"", x->file,
			m->bounce_message_id ? m->bounce_message_id : "(none)",
			x->id ? x->id : "(none)");
	if (g_strcmp0(m->bounce_recipient, x->rcpt) != 0)
		g_error("%s: recipient \"%s\", expected \"%s\"", x->file,
			m->bounce_recipient ? m->bounce_recipient : "(none)",
			x->rcpt ? x->rcpt : "(none)");
	if (g_strcmp0(m->bounce_status, x->status) != 0)
		g_error("%s: status \"%s\", expected \"%s\"", x->file,
			m->bounce_status ? m->bounce_status : "(none)",
			x->status ? x->status : "(none)");
	if (x->diag == NULL ? m->bounce_diagnostic != NULL
			    : (m->bounce_diagnostic == NULL ||
			       strstr(m->bounce_diagnostic, x->diag) == NULL))
		g_error("%s: diagnostic \"%s\", expected one with \"%s\"", x->file,
			m->bounce_diagnostic ? m->bounce_diagnostic : "(none)",
			x->diag ? x->diag : "(none)");
}

static const Expect *find_expect(const Expect *xs, size_t n, const char *file)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(xs[i].file, file) == 0)
			return &xs[i];
	return NULL;
}

/* ---- corpus ------------------------------------------------------------ */

/* MANIFEST.tsv rows, each its tab-separated fields (file first, features
 * fifth). */
static GPtrArray *manifest(void)
{
	g_autofree char *p = dir_path("DM_CORPUS", "../shared/corpus", "MANIFEST.tsv");
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 1; lines[i]; i++) {
		char **f = g_strsplit(lines[i], "\t", -1);
		if (g_strv_length(f) >= 5)
			g_ptr_array_add(rows, f);
		else
			g_strfreev(f);
	}
	return rows;
}

static bool has_feature(const char *features, const char *f)
{
	g_auto(GStrv) v = g_strsplit(features, ",", -1);
	return g_strv_contains((const char *const *)v, f);
}

static void test_corpus_bounces(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(corpus_bounces); i++) {
		Mail *m = corpus_mail(corpus_bounces[i].file);
		check_expect(&corpus_bounces[i], m);
		mail_free(m);
	}
}

/* The whole corpus by MANIFEST.tsv: each dsn-bounce mail is in the table
 * above (and is a bounce unless the table says why not); no other mail,
 * autoreplies and the is-not-bounce sample included, is a bounce. */
static void test_corpus_all(void)
{
	GPtrArray *rows = manifest();
	guint tagged = 0, others = 0;
	for (guint i = 0; i < rows->len; i++) {
		char **f = g_ptr_array_index(rows, i);
		const char *file = f[0], *features = f[4];
		Mail *m = corpus_mail(file);
		check_bounce(file, m);
		const Expect *x = find_expect(corpus_bounces, G_N_ELEMENTS(corpus_bounces), file);
		if (has_feature(features, "dsn-bounce")) {
			if (x == NULL)
				g_error("%s is tagged dsn-bounce but not in the table", file);
			tagged++;
		} else {
			if (x != NULL)
				g_error("%s is in the table but not tagged dsn-bounce", file);
			if (m->is_bounce)
				g_error("%s (%s) taken for a bounce: id %s, recipient %s", file,
					features, m->bounce_message_id, m->bounce_recipient);
			others++;
		}
		mail_free(m);
	}
	g_assert_cmpuint(tagged, ==, G_N_ELEMENTS(corpus_bounces));
	g_assert_cmpuint(tagged + others, ==, 193);
	g_ptr_array_free(rows, TRUE);

	/* by name, the ones most like bounces */
	static const char *const not_bounces[] = {
		"bounceparser-aol-vacation.eml", /* vacation auto-reply */
		"bounceparser-warning-5.eml",    /* Return-Path <>, "not a valid user" */
		"bounceparser-warning-6.eml",    /* Lotus Notes out of office */
		"sisimai-not-is-not-bounce-01.eml",
		"sisimai-rfc3834-05.eml", /* Return-Path <>, auto-replied */
		"sisimai-arf-26.eml",     /* abuse report */
		"spamassassin-BOUNCE_MESSAGE-fp-bug5882-att4301.eml", /* Outlook read receipt */
		"flanker-long-links.eml", /* From postmaster@, a person's mail */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(not_bounces); i++) {
		Mail *m = corpus_mail(not_bounces[i]);
		if (m->is_bounce)
			g_error("%s taken for a bounce", not_bounces[i]);
		mail_free(m);
	}
}

/* ---- our own bounces ---------------------------------------------------- */

static void test_data_bounces(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(data_bounces); i++) {
		Mail *m = data_mail(data_bounces[i].file);
		check_expect(&data_bounces[i], m);
		mail_free(m);
	}
	/* every tests/data/bounce-*.eml is in the table */
	const char *dir = g_getenv("DM_TESTDATA");
	GDir *d = g_dir_open(dir ? dir : "tests/data", 0, NULL);
	g_assert_nonnull(d);
	guint n = 0;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_prefix(name, "bounce-") || !g_str_has_suffix(name, ".eml"))
			continue;
		if (find_expect(data_bounces, G_N_ELEMENTS(data_bounces), name) == NULL)
			g_error("tests/data/%s has no expectation", name);
		n++;
	}
	g_dir_close(d);
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(data_bounces));
}

/* Each mail whole and cut short: never a crash, always clean fields. */
static void test_data_cut(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(data_bounces); i++) {
		g_autofree char *p = dir_path("DM_TESTDATA", "tests/data", data_bounces[i].file);
		char *buf = NULL;
		size_t len = 0;
		g_assert_cmpint(dm_read_file(p, 1u << 20, &buf, &len), ==, 0);
		for (size_t cut = 1; cut <= len; cut += 1 + cut / 8) {
			MimeLimits lim;
			mime_limits_default(&lim);
			Mail *m = NULL;
			DmError e = {0};
			if (mime_parse((const unsigned char *)buf, cut, &lim, &m, &e) == 0) {
				check_bounce(data_bounces[i].file, m);
				mail_free(m);
			}
		}
		free(buf);
	}
}

/* ---- hand-written cases -------------------------------------------------- */

/* A Postfix-like report with the given delivery status and returned part. */
static char *report(const char *extra_headers, const char *dsn, const char *returned_type,
		    const char *returned)
{
	return g_strdup_printf("Return-Path: <>\n"
			       "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
			       "To: support@desk.example\n"
			       "Subject: Undelivered Mail Returned to Sender\n"
			       "Message-Id: <20240601000000.AAAA@mx.example.net>\n"
			       "%s"
			       "MIME-Version: 1.0\n"
			       "Content-Type: multipart/report; report-type=delivery-status;\n"
			       "\tboundary=\"BB\"\n"
			       "\n"
			       "--BB\n"
			       "Content-Type: text/plain\n"
			       "\n"
			       "This is the mail system at host mx.example.net.\n"
			       "\n"
			       "--BB\n"
			       "Content-Type: message/delivery-status\n"
			       "\n"
			       "%s\n"
			       "--BB\n"
			       "Content-Type: %s\n"
			       "\n"
			       "%s\n"
			       "--BB--\n",
			       extra_headers, dsn, returned_type, returned);
}

static const char returned_ack[] = "From: support@desk.example\n"
				   "To: someone@example.org\n"
				   "Subject: [#1] We received your request\n"
				   "Message-ID: <dm.1.abc@desk.example>\n"
				   "\n"
				   "Hello\n";

static Mail *parse_report(const char *extra, const char *dsn, const char *type,
			  const char *returned)
{
	g_autofree char *s = report(extra, dsn, type, returned);
	Mail *m = parse_str(s);
	check_bounce("report", m);
	return m;
}

static void test_recipients(void)
{
	/* delayed first, failed second: the failed one */
	Mail *m = parse_report("",
			       "Reporting-MTA: dns; mx.example.net\n"
			       "\n"
			       "Final-Recipient: rfc822; slow@example.org\n"
			       "Action: delayed\n"
			       "Status: 4.4.1\n"
			       "\n"
			       "Final-Recipient: rfc822; gone@example.org\n"
			       "Action: failed\n"
			       "Status: 5.1.1\n"
			       "Diagnostic-Code: smtp; 550 5.1.1 gone\n",
			       "message/rfc822", returned_ack);
	g_assert_true(m->is_bounce);
	g_assert_cmpstr(m->bounce_recipient, ==, "gone@example.org");
	g_assert_cmpstr(m->bounce_status, ==, "5.1.1");
	g_assert_cmpstr(m->bounce_diagnostic, ==, "550 5.1.1 gone");
	g_assert_cmpstr(m->bounce_message_id, ==, "dm.1.abc@desk.example");
	mail_free(m);

	/* only delayed, delivered and relayed recipients: no bounce, whatever
	 * the subject says */
	m = parse_report("",
			 "Reporting-MTA: dns; mx.example.net\n"
			 "\n"
			 "Final-Recipient: rfc822; a@example.org\n"
			 "Action: delivered\n"
			 "Status: 2.0.0\n"
			 "\n"
			 "Final-Recipient: rfc822; b@example.org\n"
			 "Action: relayed (to a non-DSN MTA)\n"
			 "Status: 2.0.0\n"
			 "\n"
			 "Final-Recipient: rfc822; c@example.org\n"
			 "Action: DELAYED\n"
			 "Status: 4.4.7\n",
			 "text/rfc822-headers", returned_ack);
	g_assert_false(m->is_bounce);
	mail_free(m);

	/* no Action, a 5.x.x Status; blank lines with spaces between groups,
	 * upper-case field names; Original-Recipient not an address: Final */
	m = parse_report("",
			 "\n   \n"
			 "REPORTING-MTA: dns; mx.example.net\n"
			 " \t \n"
			 "ORIGINAL-RECIPIENT: x400; /C=DE/O=Example/\n"
			 "FINAL-RECIPIENT: RFC822; <Weird.Case@Example.ORG>\n"
			 "STATUS: 5.2.2 (mailbox full)\n",
			 "message/rfc822", returned_ack);
	g_assert_true(m->is_bounce);
	g_assert_cmpstr(m->bounce_recipient, ==, "weird.case@example.org");
	g_assert_cmpstr(m->bounce_status, ==, "5.2.2");
	g_assert_null(m->bounce_diagnostic);
	mail_free(m);

	/* a Status with the SMTP code first */
	m = parse_report("",
			 "Final-Recipient: rfc822; x@example.org\n"
			 "Action: failed\n"
			 "Status: 550 5.7.1 (relaying denied)\n",
			 "message/rfc822", returned_ack);
	g_assert_cmpstr(m->bounce_status, ==, "5.7.1");
	mail_free(m);

	/* a bad Status: the code is taken from the diagnostic */
	m = parse_report("",
			 "Final-Recipient: rfc822; x@example.org\n"
			 "Action: failed\n"
			 "Status: unknown\n"
			 "Diagnostic-Code: smtp; 552-5.2.2 over quota\n",
			 "message/rfc822", returned_ack);
	g_assert_true(m->is_bounce);
	g_assert_cmpstr(m->bounce_status, ==, "5.2.2");
	mail_free(m);
}

static void test_returned(void)
{
	/* the returned message begins with a blank line: GMime sees no
	 * header, the header block is read from its body */
	Mail *m = parse_report(
		"",
		"Final-Recipient: rfc822; x@example.org\n"
		"Action: failed\n"
		"Status: 5.1.1\n",
		"message/rfc822",
		"\nReceived: from a by b\nMessage-ID:\n\t<dm.2.def@desk.example>\n\nbody\n");
	g_assert_cmpstr(m->bounce_message_id, ==, "dm.2.def@desk.example");
	mail_free(m);

	/* text/rfc822-headers, base64-encoded */
	g_autofree char *b64 = g_base64_encode((const guchar *)returned_ack, strlen(returned_ack));
	g_autofree char *ret = g_strdup_printf("%s\n", b64);
	g_autofree char *s = report("",
				    "Final-Recipient: rfc822; x@example.org\n"
				    "Action: failed\n"
				    "Status: 5.1.1\n",
				    "text/rfc822-headers\nContent-Transfer-Encoding: base64", ret);
	m = parse_str(s);
	check_bounce("base64 headers", m);
	g_assert_cmpstr(m->bounce_message_id, ==, "dm.1.abc@desk.example");
	mail_free(m);

	/* no returned mail: Gmail's X-Original-Message-ID, else In-Reply-To */
	m = parse_report("In-Reply-To: <irt@desk.example>\n",
			 "Reporting-MTA: dns; googlemail.com\n"
			 "X-Original-Message-ID: <dm.3.ghi@desk.example>\n"
			 "\n"
			 "Final-Recipient: rfc822; x@example.org\n"
			 "Action: failed\n"
			 "Status: 5.0.0\n",
			 "text/plain", "nothing returned");
	g_assert_cmpstr(m->bounce_message_id, ==, "dm.3.ghi@desk.example");
	mail_free(m);
	m = parse_report("References: <a@desk.example> <b@desk.example>\n",
			 "Final-Recipient: rfc822; x@example.org\n"
			 "Action: failed\n"
			 "Status: 5.0.0\n",
			 "text/plain", "nothing returned");
	g_assert_cmpstr(m->bounce_message_id, ==, "b@desk.example");
	mail_free(m);

	/* the fallback ids are cleaned as ours: a C1 control (U+0085, which
	 * the header cleaning lets through) makes no id (fuzzer find) */
	m = parse_report("In-Reply-To: <a\xc2\x85"
			 "b@desk.example>\n",
			 "Final-Recipient: rfc822; x@example.org\n"
			 "Action: failed\n"
			 "Status: 5.0.0\n",
			 "text/plain", "nothing returned");
	g_assert_true(m->is_bounce);
	g_assert_null(m->bounce_message_id);
	mail_free(m);

	/* a returned id over max_id_bytes is no id */
	g_autofree char *local = g_strnfill(300, 'x');
	g_autofree char *longret = g_strdup_printf(
		"From: support@desk.example\nMessage-ID: <%s@desk.example>\n\nx\n", local);
	m = parse_report("",
			 "Final-Recipient: rfc822; x@example.org\n"
			 "Action: failed\n"
			 "Status: 5.0.0\n",
			 "message/rfc822", longret);
	g_assert_true(m->is_bounce);
	g_assert_null(m->bounce_message_id);
	mail_free(m);
}

static void test_not_bounces(void)
{
	/* an abuse report (ARF) from a mailer daemon is no bounce */
	Mail *m = parse_str("From: MAILER-DAEMON@mx.example.net\n"
			    "Subject: Undeliverable: abuse report\n"
			    "MIME-Version: 1.0\n"
			    "Content-Type: multipart/report; report-type=feedback-report; "
			    "boundary=\"BB\"\n"
			    "\n"
			    "--BB\n"
			    "Content-Type: text/plain\n"
			    "\n"
			    "This is an email abuse report.\n"
			    "--BB\n"
			    "Content-Type: message/feedback-report\n"
			    "\n"
			    "Feedback-Type: abuse\n"
			    "--BB--\n");
	check_bounce("arf", m);
	g_assert_false(m->is_bounce);
	mail_free(m);

	/* a person writing the words: no bounce sender, no bounce */
	m = parse_str("From: Ann <ann@example.org>\n"
		      "Subject: Undelivered Mail Returned to Sender\n"
		      "\n"
		      "Your mail could not be delivered to one or more recipients.\n"
		      "This is a permanent error.\n"
		      "Message-ID: <quoted@example.org>\n");
	check_bounce("person", m);
	g_assert_false(m->is_bounce);
	mail_free(m);

	/* postmaster writing about something else */
	m = parse_str("From: postmaster@example.org\n"
		      "Return-Path: <postmaster@example.org>\n"
		      "Subject: New spam filter from Monday\n"
		      "\n"
		      "From Monday spam is kept in quarantine for 30 days.\n");
	check_bounce("postmaster", m);
	g_assert_false(m->is_bounce);
	g_assert_true(m->is_automatic); /* as before: a mailer daemon's mail */
	mail_free(m);

	/* a vacation reply with Return-Path <> */
	m = parse_str("Return-Path: <>\n"
		      "From: Bo <bo@example.org>\n"
		      "Subject: Out of office\n"
		      "Auto-Submitted: auto-replied\n"
		      "\n"
		      "I am away. Your mail was not forwarded.\n");
	check_bounce("vacation", m);
	g_assert_false(m->is_bounce);
	mail_free(m);

	/* a delay notice without a delivery status */
	m = parse_str("Return-Path: <>\n"
		      "From: Mail Delivery Subsystem <mailer-daemon@mx.example.net>\n"
		      "Subject: Delivery Status Notification (Delay)\n"
		      "\n"
		      "Delivery to the following recipient has been delayed:\n"
		      "\n"
		      "     x@example.org\n");
	check_bounce("delay", m);
	g_assert_false(m->is_bounce);
	mail_free(m);
}

static void test_text_bounce(void)
{
	/* X-Failed-Recipients alone is a bounce sender; the bounce is made
	 * automatic if nothing else did */
	Mail *m = parse_str(
		"From: Mail System <mail@mx.example.net>\n"
		"X-Failed-Recipients: Gone@Example.org, other@example.org\n"
		"Subject: Mail delivery failed: returning message to sender\n"
		"\n"
		"A message that you sent could not be delivered to one or more of its\n"
		"recipients. This is a permanent error.\n"
		"\n"
		"------ This is a copy of the message, including all the headers. ------\n"
		"\n"
		"Message-Id: <dm.4.jkl@desk.example>\n"
		"Subject: you have 550 5.7.1 nothing to say\n");
	check_bounce("x-failed", m);
	g_assert_true(m->is_bounce);
	g_assert_true(m->is_automatic);
	g_assert_cmpstr(m->bounce_recipient, ==, "gone@example.org");
	g_assert_cmpstr(m->bounce_message_id, ==, "dm.4.jkl@desk.example");
	/* codes in the returned copy are not the server's */
	g_assert_null(m->bounce_status);
	mail_free(m);

	/* a C1 control in an address makes no address (fuzzer find) */
	m = parse_str("Return-Path: <>\n"
		      "From: MAILER-DAEMON@mx.example.net\n"
		      "X-Failed-Recipients: bob@gone.\xc2\x95"
		      "example\n"
		      "Subject: Mail delivery failed: returning message to sender\n"
		      "\n"
		      "This is a permanent error.\n");
	check_bounce("c1", m);
	g_assert_true(m->is_bounce);
	g_assert_null(m->bounce_recipient);
	mail_free(m);

	/* controls, 8-bit bytes and a very long reply in the diagnostic */
	GString *s = g_string_new("Return-Path: <>\n"
				  "From: MAILER-DAEMON@mx.example.net\n"
				  "Subject: failure notice\n"
				  "MIME-Version: 1.0\n"
				  "Content-Type: text/plain; charset=utf-8\n"
				  "\n"
				  "<r\xc3\xa9mi@example.org>:\n"
				  "Remote host said: 550 5.1.1 caf\xc3\xa9 \x01\x7f\xc2\x85 ");
	for (int i = 0; i < 200; i++)
		g_string_append(s, "very long reply ");
	g_string_append(s, "\n");
	m = parse_str(s->str);
	g_string_free(s, TRUE);
	check_bounce("long", m);
	g_assert_true(m->is_bounce);
	g_assert_cmpstr(m->bounce_recipient, ==, "r\xc3\xa9mi@example.org");
	g_assert_cmpstr(m->bounce_status, ==, "5.1.1");
	g_assert_true(g_str_has_prefix(m->bounce_diagnostic,
				       "Remote host said: 550 5.1.1 caf\xc3\xa9 very long"));
	g_assert_true(g_str_has_suffix(m->bounce_diagnostic, "\xe2\x80\xa6"));
	mail_free(m);
}

/* Hostile input: the work stays bounded and the result sane. */
static void test_hostile(void)
{
	/* the delivery status after more parts than are looked at */
	GString *s = g_string_new("Return-Path: <>\n"
				  "From: MAILER-DAEMON@mx.example.net\n"
				  "Subject: hello\n"
				  "MIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=\"BB\"\n\n");
	for (int i = 0; i < 200; i++)
		g_string_append(s, "--BB\nContent-Type: text/plain\n\nx\n");
	g_string_append(s, "--BB\nContent-Type: message/delivery-status\n\n"
			   "Final-Recipient: rfc822; x@example.org\nAction: failed\n"
			   "--BB--\n");
	Mail *m = parse_str(s->str);
	g_string_free(s, TRUE);
	check_bounce("many parts", m);
	g_assert_false(m->is_bounce);
	mail_free(m);

	/* a huge delivery status of recipients and a notice full of '@' */
	s = g_string_new("Return-Path: <>\n"
			 "From: MAILER-DAEMON@mx.example.net\n"
			 "Subject: Undelivered Mail Returned to Sender\n"
			 "MIME-Version: 1.0\n"
			 "Content-Type: multipart/report; report-type=delivery-status; "
			 "boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\n");
	for (int i = 0; i < 100000; i++)
		g_string_append(s, "@@.a@");
	g_string_append(s, "\n--BB\nContent-Type: message/delivery-status\n\n");
	for (int i = 0; i < 50000; i++)
		g_string_append_printf(s,
				       "Final-Recipient: rfc822; r%d@example.org\n"
				       "Action: delayed\n\n",
				       i);
	g_string_append(s, "Final-Recipient: rfc822; last@example.org\nAction: failed\n--BB--\n");
	gint64 t0 = g_get_monotonic_time();
	m = parse_str(s->str);
	gint64 us = g_get_monotonic_time() - t0;
	g_string_free(s, TRUE);
	check_bounce("huge", m);
	/* only the first groups are read: the failed one at the end is not */
	g_assert_false(m->is_bounce);
	g_assert_cmpint(us, <, 5 * G_USEC_PER_SEC);
	mail_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!have_test_data())
		return 1;
	mime_global_init();
	g_test_add_func("/bounce/corpus/bounces", test_corpus_bounces);
	g_test_add_func("/bounce/corpus/all", test_corpus_all);
	g_test_add_func("/bounce/data/mtas", test_data_bounces);
	g_test_add_func("/bounce/data/cut", test_data_cut);
	g_test_add_func("/bounce/report/recipients", test_recipients);
	g_test_add_func("/bounce/report/returned", test_returned);
	g_test_add_func("/bounce/not-bounces", test_not_bounces);
	g_test_add_func("/bounce/text", test_text_bounce);
	g_test_add_func("/bounce/hostile", test_hostile);
	int rc = g_test_run();
	mime_global_cleanup();
	return rc;
}
