/* test_util.c - number parsing, header-safe strings, addresses, errors,
 * loopback hosts. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "deskmail/err.h"
#include "deskmail/util.h"

static void test_parse(void)
{
	int64_t v = 42;
	g_assert_cmpint(dm_parse_i64("17", 0, 100, &v), ==, 0);
	g_assert_cmpint(v, ==, 17);
	v = 42;
	g_assert_cmpint(dm_parse_i64("101", 0, 100, &v), ==, -1);
	g_assert_cmpint(dm_parse_i64("", 0, 100, &v), ==, -1);
	g_assert_cmpint(dm_parse_i64(" 5", 0, 100, &v), ==, -1);
	g_assert_cmpint(dm_parse_i64("5x", 0, 100, &v), ==, -1);
	g_assert_cmpint(dm_parse_i64("99999999999999999999", 0, INT64_MAX, &v), ==, -1);
	g_assert_cmpint(dm_parse_i64(NULL, 0, 100, &v), ==, -1);
	g_assert_cmpint(v, ==, 42); /* untouched on failure */
	g_assert_cmpint(dm_parse_i64("-3", -5, 5, &v), ==, 0);
	g_assert_cmpint(v, ==, -3);
}

static void test_header_safe(void)
{
	char *s = dm_header_safe("Subject\r\nBcc: victim@example.org\x01\x7f");
	g_assert_null(strchr(s, '\r'));
	g_assert_null(strchr(s, '\n'));
	g_assert_cmpstr(s, ==, "Subject  Bcc: victim@example.org  ");
	g_free(s);
	g_assert_null(dm_header_safe(NULL));
}

static void test_addr(void)
{
	g_assert_true(dm_addr_valid("a@b.example"));
	g_assert_true(dm_addr_valid("first.last+tag@sub.example.org"));
	g_assert_false(dm_addr_valid("no-at-sign"));
	g_assert_false(dm_addr_valid("@example.org"));
	g_assert_false(dm_addr_valid("a@"));
	g_assert_false(dm_addr_valid("Name <a@b>"));
	g_assert_false(dm_addr_valid("a b@c"));
	g_assert_false(dm_addr_valid("a@b\r\nRCPT TO:<x@y>"));
	g_assert_false(dm_addr_valid(""));
	g_assert_false(dm_addr_valid(NULL));
}

/* Hosts as a URL parser hands them over (curl's CURLUPART_HOST keeps the
 * brackets of an IPv6 literal).  Only an address that is loopback for
 * certain counts; anything a resolver could send elsewhere does not. */
static void test_loopback(void)
{
	static const struct {
		const char *host;
		bool loopback;
	} cases[] = {
		{"localhost", true},
		{"LOCALHOST", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"127.255.255.254", true},
		{"[::1]", true},
		{"::1", true},
		{"[0:0:0:0:0:0:0:1]", true},
		{"[0000::0001]", true},
		/* look-alikes */
		{"localhost.example", false},
		{"localhost.", false}, /* goes to DNS (see util.h) */
		{"localhostx", false},
		{"xlocalhost", false},
		{"local host", false},
		{"127.0.0.1.evil.example", false},
		{"127.0.0.1.", false},
		{"127.0.0.1 ", false},
		{" 127.0.0.1", false},
		{"127.0.0.1:143", false},
		{"127.0.0.1/x", false},
		{"127.0.0.1\\@evil", false},
		{"localhost@evil", false},
		{"evil@localhost", false},
		{"user@127.0.0.1", false},
		{"128.0.0.1", false},
		{"126.255.255.255", false},
		{"1.127.0.0", false},
		{"10.0.0.1", false},
		{"0.0.0.0", false},
		/* numeric forms only some parsers read as 127.0.0.1 */
		{"0x7f.1", false},
		{"0x7f000001", false},
		{"2130706433", false},
		{"127.1", false},
		{"0177.0.0.1", false},
		{"127.000.000.001", false},
		{"127.0.0.256", false},
		/* IPv6 that is not ::1 */
		{"[::ffff:127.0.0.1]", false},
		{"::ffff:127.0.0.1", false},
		{"[::]", false},
		{"[::2]", false},
		{"[fe80::1]", false},
		{"[::1", false},
		{"::1]", false},
		{"[[::1]]", false},
		{"[::1%25lo]", false},
		{"[::1]:143", false},
		{"", false},
		{"[]", false},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("%s", cases[i].host);
		g_assert_cmpint(dm_host_is_loopback(cases[i].host), ==, cases[i].loopback);
	}
	g_assert_false(dm_host_is_loopback(NULL));
	g_autofree char *long_host = g_strnfill(300, '1');
	g_assert_false(dm_host_is_loopback(long_host));
	long_host[0] = '[';
	long_host[299] = ']';
	g_assert_false(dm_host_is_loopback(long_host));
}

static void test_error_first_wins(void)
{
	DmError e = {0};
	g_assert_cmpint(dm_error_set(&e, DM_ETEMP, "database down: %s", "x\ny"), ==, DM_ETEMP);
	dm_error_set(&e, DM_EPERM, "later");
	g_assert_cmpint(e.kind, ==, DM_ETEMP);
	g_assert_cmpstr(e.msg, ==, "database down: x y");
	dm_error_clear(&e);
	g_assert_cmpint(e.kind, ==, 0);
	g_assert_cmpint(dm_error_set(NULL, DM_EPERM, "x"), ==, DM_EPERM);
}

static void test_lf_newlines(void)
{
	static const char *const cases[][2] = {
		{"a\r\nb\rc\nd", "a\nb\nc\nd"},
		{"\r\r\n\n", "\n\n\n"},
		{"no breaks", "no breaks"},
		{"", ""},
		{"end\r", "end\n"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *s = g_strdup(cases[i][0]);
		g_assert_true(dm_lf_newlines(s) == s);
		g_assert_cmpstr(s, ==, cases[i][1]);
		g_free(s);
	}
}

static void test_sha(void)
{
	char h[65];
	dm_sha256_hex("abc", 3, h);
	g_assert_cmpstr(h, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_read_fd_cap(void)
{
	char path[] = "/tmp/dmtestXXXXXX";
	int fd = g_mkstemp(path);
	g_assert_cmpint(fd, >=, 0);
	char buf[10000];
	memset(buf, 'x', sizeof buf);
	g_assert_cmpint(write(fd, buf, sizeof buf), ==, (ssize_t)sizeof buf);
	close(fd);
	char *data = NULL;
	size_t len = 0;
	g_assert_cmpint(dm_read_file(path, 20000, &data, &len), ==, 0);
	g_assert_cmpuint(len, ==, sizeof buf);
	g_free(data);
	data = NULL;
	g_assert_cmpint(dm_read_file(path, 9999, &data, &len), ==, -1);
	g_assert_null(data);
	unlink(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/parse", test_parse);
	g_test_add_func("/util/header-safe", test_header_safe);
	g_test_add_func("/util/lf-newlines", test_lf_newlines);
	g_test_add_func("/util/addr", test_addr);
	g_test_add_func("/util/error", test_error_first_wins);
	g_test_add_func("/util/loopback", test_loopback);
	g_test_add_func("/util/sha256", test_sha);
	g_test_add_func("/util/read-cap", test_read_fd_cap);
	return g_test_run();
}
