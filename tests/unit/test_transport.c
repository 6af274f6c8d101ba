/* test_transport.c - what the IMAP and SMTP clients decide from a URL
 * before they connect: whether the host is loopback, read by curl's own
 * URL parser (the one that picks where curl connects), for the hostile
 * forms a security review tried; the SMTP TLS policy (smtp_tls_mode); and
 * that a refused client names its server without the URL's secrets.  No
 * network: nothing here connects. */
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "deskmail/err.h"
#include "deskmail/imap.h"
#include "deskmail/smtp.h"

typedef struct {
	const char *url;
	bool loopback;
} UrlCase;

/* Written for imap://; the SMTP cases reuse them with the scheme changed. */
static const UrlCase url_cases[] = {
	{"imap://127.0.0.1/INBOX", true},
	{"imap://127.0.0.1:1143/INBOX", true},
	{"imap://127.9.8.7:1143/", true},
	{"imap://localhost/INBOX", true},
	{"imap://localhost:143", true},
	{"imap://LOCALHOST/INBOX", true},
	{"imap://LocalHost:1143/INBOX", true},
	{"imap://[::1]/INBOX", true},
	{"imap://[::1]:1143/INBOX", true},
	{"imap://[0:0:0:0:0:0:0:1]:1143/", true},
	/* curl reads these as 127.0.0.1 and connects there: loopback by
	 * address, whatever they look like */
	{"imap://0x7f.1/INBOX", true},
	{"imap://0x7f.1:1143/INBOX", true},
	{"imap://2130706433/", true},
	{"imap://127.1/", true},
	{"imap://%6cocalhost/", true},
	/* user information: the host is what follows the '@' */
	{"imap://user@127.0.0.1/INBOX", true},
	{"imap://localhost@evil.example/INBOX", false},
	{"imap://localhost@evil/INBOX", false},
	{"imap://127.0.0.1@evil.example/", false},
	{"imap://127.0.0.1:1143@evil.example/", false},
	{"imap://127.0.0.1\\@evil.example/", false},
	{"imap://[::1]@evil.example/", false},
	/* look-alike names */
	{"imap://localhost.example/INBOX", false},
	{"imap://localhost.example:143/INBOX", false},
	{"imap://localhost./INBOX", false}, /* resolved through DNS */
	{"imap://LOCALHOST.EXAMPLE/", false},
	{"imap://localhostevil/", false},
	{"imap://127.0.0.1.evil.example/INBOX", false},
	{"imap://127.0.0.1.evil.example:143/INBOX", false},
	{"imap://127.0.0.1./INBOX", false},
	/* the host ends where the path, query or fragment begins */
	{"imap://evil.example/127.0.0.1", false},
	{"imap://evil.example/localhost", false},
	{"imap://evil.example?@127.0.0.1/", false},
	{"imap://evil.example#@127.0.0.1/", false},
	{"imap://evil.example/@127.0.0.1/", false},
	/* IPv6 that is not ::1 */
	{"imap://[::ffff:127.0.0.1]/INBOX", false},
	{"imap://[::ffff:7f00:1]/INBOX", false},
	{"imap://[::]/", false},
	{"imap://[fe80::1]/", false},
	/* not loopback at all, or not a URL curl accepts */
	{"imap://10.0.0.1/INBOX", false},
	{"imap://mail.example/INBOX", false},
	{"imap://127.0.0.1:99999/INBOX", false},
	{"imap://127.0.0.1 /INBOX", false},
	{"imap:///INBOX", false},
	{"", false},
	{"127.0.0.1", false},
};

static void test_imap_loopback(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(url_cases); i++) {
		g_test_message("%s", url_cases[i].url);
		g_assert_cmpint(imap_url_is_loopback(url_cases[i].url), ==, url_cases[i].loopback);
	}
	g_assert_false(imap_url_is_loopback(NULL));
}

/* The same URLs as smtp:// and smtps://: one definition of loopback. */
static void test_smtp_loopback(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(url_cases); i++) {
		const char *u = url_cases[i].url;
		if (!g_str_has_prefix(u, "imap://"))
			continue;
		for (int s = 0; s < 2; s++) {
			g_autofree char *smtp = g_strconcat(s ? "smtps://" : "smtp://",
							    u + strlen("imap://"), NULL);
			g_test_message("%s", smtp);
			g_assert_cmpint(smtp_url_is_loopback(smtp), ==, url_cases[i].loopback);
		}
	}
	g_assert_false(smtp_url_is_loopback(NULL));
}

static void test_starttls_parse(void)
{
	g_assert_cmpint(smtp_starttls_parse(NULL), ==, SMTP_STARTTLS_TRY);
	g_assert_cmpint(smtp_starttls_parse("try"), ==, SMTP_STARTTLS_TRY);
	g_assert_cmpint(smtp_starttls_parse("require"), ==, SMTP_STARTTLS_REQUIRE);
	g_assert_cmpint(smtp_starttls_parse("never"), ==, SMTP_STARTTLS_NEVER);
	g_assert_cmpint(smtp_starttls_parse("Never"), ==, -1);
	g_assert_cmpint(smtp_starttls_parse(""), ==, -1);
	g_assert_cmpint(smtp_starttls_parse("yes"), ==, -1);
}

/* The whole policy: scheme x starttls x credentials x loopback. */
static void test_tls_mode(void)
{
	enum { TRY = SMTP_STARTTLS_TRY, REQ = SMTP_STARTTLS_REQUIRE, NEV = SMTP_STARTTLS_NEVER };
	static const struct {
		const char *url;
		int starttls;
		bool user;
		SmtpTls want;
	} cases[] = {
		/* smtps:// is TLS whatever starttls says */
		{"smtps://mail.example", TRY, false, SMTP_TLS_IMPLICIT},
		{"smtps://mail.example:465", REQ, true, SMTP_TLS_IMPLICIT},
		{"smtps://mail.example", NEV, true, SMTP_TLS_IMPLICIT},
		{"SMTPS://mail.example", TRY, true, SMTP_TLS_IMPLICIT},
		/* without credentials: as asked */
		{"smtp://mail.example:25", TRY, false, SMTP_TLS_TRY},
		{"smtp://mail.example:25", REQ, false, SMTP_TLS_REQUIRED},
		{"smtp://mail.example:25", NEV, false, SMTP_TLS_NONE},
		{"smtp://127.0.0.1:25", TRY, false, SMTP_TLS_TRY},
		{"smtp://127.0.0.1:25", NEV, false, SMTP_TLS_NONE},
		/* with credentials to loopback: as asked */
		{"smtp://127.0.0.1:2525", TRY, true, SMTP_TLS_TRY},
		{"smtp://localhost:2525", TRY, true, SMTP_TLS_TRY},
		{"smtp://[::1]:2525", TRY, true, SMTP_TLS_TRY},
		{"smtp://127.0.0.1:2525", REQ, true, SMTP_TLS_REQUIRED},
		{"smtp://127.0.0.1:2525", NEV, true, SMTP_TLS_NONE},
		{"smtp://LOCALHOST", NEV, true, SMTP_TLS_NONE},
		/* with credentials elsewhere: never in clear */
		{"smtp://mail.example:587", TRY, true, SMTP_TLS_REQUIRED},
		{"smtp://mail.example:587", REQ, true, SMTP_TLS_REQUIRED},
		{"smtp://mail.example:587", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://localhost.example:25", TRY, true, SMTP_TLS_REQUIRED},
		{"smtp://localhost.example:25", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://localhost.:25", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://127.0.0.1.evil.example", TRY, true, SMTP_TLS_REQUIRED},
		{"smtp://127.0.0.1.evil.example", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://localhost@evil.example", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://[::ffff:127.0.0.1]:25", TRY, true, SMTP_TLS_REQUIRED},
		{"smtp://[::ffff:127.0.0.1]:25", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://evil.example/127.0.0.1", NEV, true, SMTP_TLS_REFUSE},
		/* a URL curl cannot parse is not loopback */
		{"smtp://127.0.0.1 :25", NEV, true, SMTP_TLS_REFUSE},
		{"smtp://127.0.0.1 :25", TRY, true, SMTP_TLS_REQUIRED},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		SmtpParams p = {.url = cases[i].url,
				.starttls = cases[i].starttls,
				.username = cases[i].user ? "desk" : NULL,
				.password = cases[i].user ? "pw" : NULL};
		g_test_message("%s starttls=%d user=%d", p.url, cases[i].starttls, cases[i].user);
		g_assert_cmpint(smtp_tls_mode(&p), ==, cases[i].want);
	}
}

/* A refused client connects nowhere, and its message shows the server as
 * scheme://host:port, never the URL's user information, path or query. */
static void test_refuse_shows_no_secret(void)
{
	static const char *const urls[] = {
		"smtp://desk:s3cret@mail.example:587/helo.example?x=s3cret#s3cret",
		"smtp://mail.example:587",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		SmtpParams p = {.url = urls[i],
				.starttls = SMTP_STARTTLS_NEVER,
				.username = "desk",
				.password = "s3cret"};
		SmtpClient *c = smtp_client_new(&p);
		const char *rcpt[] = {"someone@example.org"};
		DmError err = {0};
		g_assert_cmpint(smtp_send(c, "desk@example.org", rcpt, 1, "x\r\n", 3, &err), ==,
				DM_ECONFIG);
		g_test_message("%s", err.msg);
		g_assert_true(g_str_has_prefix(err.msg, "SMTP smtp://mail.example:587: refusing"));
		g_assert_null(strstr(err.msg, "s3cret"));
		g_assert_false(smtp_unreachable(c));
		smtp_client_free(c);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/transport/imap-loopback", test_imap_loopback);
	g_test_add_func("/transport/smtp-loopback", test_smtp_loopback);
	g_test_add_func("/transport/starttls-parse", test_starttls_parse);
	g_test_add_func("/transport/tls-mode", test_tls_mode);
	g_test_add_func("/transport/refuse-shows-no-secret", test_refuse_shows_no_secret);
	return g_test_run();
}
