/* test_imap_search.c - imap_search_range() against a real Dovecot that
 * tests/integration/imap_search.sh filled: N mails (UIDs 1..N), then the
 * UIDs of EXPUNGED expunged.  Every search must answer exactly the UIDs
 * that are there (each once, ascending, none invented), for any range,
 * limit and window, and runs of expunged UIDs must cost a bounded number
 * of requests.
 *
 *   test_imap_search URL USER PASSWORD N EXPUNGED MODE SEARCH
 *
 * EXPUNGED is a UID set ("1:2,50:59") or "-"; MODE is "small" (many ranges,
 * limits and small windows) or "big" (the whole mailbox at the default
 * window, and walked in batches as poll does); SEARCH says whether the
 * server advertises ESEARCH ("esearch") or not ("plain"), for the bounds
 * on requests.  Prints "FAIL: ..." lines
 * and exits 1 on a failure; the debug log (every SEARCH sent) goes to
 * stderr. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/imap.h"
#include "deskmail/log.h"

static int failures;
static ImapSession *sess;
static GArray *present; /* ascending UIDs in the mailbox */
static uint32_t uidnext;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		failures++;                                                                        \
		printf("FAIL: ");                                                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
	} while (0)

static uint32_t present_at(guint i)
{
	return g_array_index(present, uint32_t, i);
}

static bool parse_uid(const char *s, uint32_t *v_r)
{
	guint64 v;
	if (!g_ascii_string_to_unsigned(s, 10, 1, UINT32_MAX, &v, NULL))
		return false;
	*v_r = (uint32_t)v;
	return true;
}

/* UIDs 1..n without those of `set` ("a:b,c"). */
static bool build_present(uint32_t n, const char *set)
{
	g_autofree bool *gone = g_new0(bool, (gsize)n + 1);
	if (strcmp(set, "-") != 0) {
		g_auto(GStrv) parts = g_strsplit(set, ",", -1);
		for (char **p = parts; *p; p++) {
			g_auto(GStrv) ab = g_strsplit(*p, ":", 2);
			uint32_t a, b;
			if (!parse_uid(ab[0], &a) || !parse_uid(ab[1] ? ab[1] : ab[0], &b) ||
			    a > b || b > n)
				return false;
			for (uint32_t u = a; u <= b; u++)
				gone[u] = true;
		}
	}
	present = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (uint32_t u = 1; u <= n; u++)
		if (!gone[u])
			g_array_append_val(present, u);
	return true;
}

/* Index of the first present UID >= uid. */
static guint lower_bound(uint64_t uid)
{
	guint lo = 0, hi = present->len;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (present_at(mid) < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One search, compared with what the mailbox holds.  Returns the number of
 * requests it made, or -1 when it failed. */
static long check(uint32_t first, uint32_t last, size_t max, uint32_t window)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	DmError e = {0};
	size_t before = imap_request_count(sess);
	int rc = imap_search_range(sess, first, last, max, window, &uids, &n, &e);
	long requests = (long)(imap_request_count(sess) - before);
	char what[128];
	snprintf(what, sizeof what, "search %u:%u max %zu window %u", first, last,
		 max == SIZE_MAX ? 0 : max, window);
	if (rc) {
		FAIL("%s: %s", what, e.msg);
		return -1;
	}
	guint i = lower_bound(first ? first : 1);
	size_t want = 0;
	while (i + want < present->len && present_at(i + (guint)want) <= last && want < max)
		want++;
	if (n != want)
		FAIL("%s: %zu UIDs, expected %zu", what, n, want);
	for (size_t k = 0; k < MIN(n, want); k++) {
		if (uids[k] != present_at(i + (guint)k)) {
			FAIL("%s: UID #%zu is %u, expected %u", what, k, uids[k],
			     present_at(i + (guint)k));
			break;
		}
	}
	if ((n == 0) != (uids == NULL))
		FAIL("%s: %zu UIDs but the array is %s", what, n, uids ? "set" : "NULL");
	g_free(uids);
	return requests;
}

/* Walk the whole mailbox as poll does: batches of `max` from the last UID
 * seen, each checked, until a batch comes back short. */
static void walk(size_t max, uint32_t window)
{
	uint32_t next = 1;
	size_t total = 0, requests = 0, calls = 0;
	for (;;) {
		uint32_t *uids = NULL;
		size_t n = 0;
		DmError e = {0};
		size_t before = imap_request_count(sess);
		if (imap_search_range(sess, next, uidnext - 1, max, window, &uids, &n, &e) != 0) {
			FAIL("walk max %zu window %u at %u: %s", max, window, next, e.msg);
			return;
		}
		requests += imap_request_count(sess) - before;
		calls++;
		for (size_t k = 0; k < n; k++) {
			if (total + k >= present->len ||
			    uids[k] != present_at((guint)(total + k))) {
				FAIL("walk max %zu window %u: UID #%zu is %u, expected %u", max,
				     window, total + k, uids[k],
				     total + k < present->len ? present_at((guint)(total + k)) : 0);
				g_free(uids);
				return;
			}
		}
		total += n;
		if (n)
			next = uids[n - 1] + 1;
		g_free(uids);
		if (n < max)
			break;
	}
	if (total != present->len)
		FAIL("walk max %zu window %u: %zu UIDs, expected %u", max, window, total,
		     present->len);
	printf("# walk in batches of %zu, window %u: %zu UIDs in %zu calls, %zu requests\n", max,
	       window, total, calls, requests);
}

static void small_cases(bool esearch)
{
	static const uint32_t windows[] = {0, 1, 7, 64, 1000};
	uint32_t last = uidnext - 1;
	for (size_t w = 0; w < G_N_ELEMENTS(windows); w++) {
		long r = check(1, last, SIZE_MAX, windows[w]);
		printf("# all of 1:%u, window %u: %ld requests\n", last, windows[w], r);
	}
	walk(1, 0);
	walk(37, 0);
	walk(37, 64);
	walk(500, 0);
	walk(500, 7);

	/* edges: nothing asked, an empty range, below the first UID, past the end */
	if (check(10, 9, SIZE_MAX, 0) != 0)
		FAIL("an empty range made requests");
	if (check(1, last, 0, 0) != 0)
		FAIL("max 0 made requests");
	check(0, 5, SIZE_MAX, 0);
	check(last, last, SIZE_MAX, 0);
	check(last, last + 100, SIZE_MAX, 3);
	check(uidnext + 10, uidnext + 20, SIZE_MAX, 0);

	/* every range inside and around the expunged runs, and random ones */
	GRand *rand = g_rand_new_with_seed(20261130);
	for (int i = 0; i < 400; i++) {
		uint32_t a = (uint32_t)g_rand_int_range(rand, 0, (gint32)uidnext + 5);
		uint32_t len = (uint32_t)g_rand_int_range(rand, 0, 1200);
		uint32_t b = a + len >= 3 ? a + len - 3 : 0;
		static const uint32_t wins[] = {0, 1, 2, 3, 5, 8, 64, 700};
		uint32_t win = wins[g_rand_int_range(rand, 0, G_N_ELEMENTS(wins))];
		if (win < 8 && b > a + 200)
			b = a + 200;
		size_t max = (size_t)g_rand_int_range(rand, 0, 120);
		check(a, b, max > 100 ? SIZE_MAX : max, win);
	}
	g_rand_free(rand);

	/* a run of 1,000 expunged UIDs between 5 present ones and the next:
	 * bounded requests, not one per window */
	long r = check(395, last, 10, 64);
	printf("# 10 UIDs across the 1000-UID gap, window 64: %ld requests\n", r);
	if (r > (esearch ? 4 : 25))
		FAIL("crossing the gap took %ld requests", r);
	r = check(400, 1399, SIZE_MAX, 0);
	printf("# the gap alone at the default window: %ld requests\n", r);
	if (r > (esearch ? 2 : 8))
		FAIL("the empty gap took %ld requests", r);
}

static void big_cases(void)
{
	long r = check(1, uidnext - 1, SIZE_MAX, 0);
	printf("# all %u UIDs at the default window: %ld requests\n", present->len, r);
	if (r > 2 * (long)((uidnext + IMAP_SEARCH_WINDOW - 1) / IMAP_SEARCH_WINDOW) + 2)
		FAIL("the whole mailbox took %ld requests", r);
	walk(500, 0);
}

int main(int argc, char **argv)
{
	uint32_t n;
	if (argc != 8 || !parse_uid(argv[4], &n) || !build_present(n, argv[5]) ||
	    (strcmp(argv[6], "small") != 0 && strcmp(argv[6], "big") != 0) ||
	    (strcmp(argv[7], "esearch") != 0 && strcmp(argv[7], "plain") != 0)) {
		fprintf(stderr, "usage: test_imap_search URL USER PASSWORD N EXPUNGED small|big "
				"esearch|plain\n");
		return 2;
	}
	dm_log_level = DM_LOG_DEBUG;
	if (imap_global_init() != 0) {
		fprintf(stderr, "libcurl did not initialise\n");
		return 1;
	}
	ImapParams p = {.url = argv[1], .username = argv[2], .password = argv[3], .timeout = 30};
	sess = imap_session_new(&p);
	uint32_t uidvalidity;
	DmError e = {0};
	if (imap_status(sess, &uidvalidity, &uidnext, &e) != 0)
		FAIL("STATUS: %s", e.msg);
	else if (uidnext != n + 1)
		FAIL("UIDNEXT is %u, expected %u", uidnext, n + 1);
	else if (strcmp(argv[6], "big") == 0)
		big_cases();
	else
		small_cases(strcmp(argv[7], "esearch") == 0);
	imap_session_free(sess);
	imap_global_cleanup();
	g_array_free(present, TRUE);
	printf("# %s %s: %d failure(s)\n", argv[6], argv[7], failures);
	return failures ? 1 : 0;
}
