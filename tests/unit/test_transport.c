/* test_transport.c - what the IMAP and SMTP clients decide from a URL
 * before they connect: whether the host is loopback, read by curl's own
 * URL parser (the one that picks where curl connects), for the hostile
 * forms a security review tried.  No network: nothing here connects. */
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "deskmail/imap.h"

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/transport/imap-loopback", test_imap_loopback);
	return g_test_run();
}
