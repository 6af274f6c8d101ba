/* raw_fetch.c - the baseline of tests/bench/poll_bench.sh: how fast bare
 * libcurl fetches mail from this IMAP server the way deskmail does (one easy
 * handle, so one connection; one URL fetch per UID,
 * imap://host/MAILBOX;UIDVALIDITY=v;UID=n; a 512 KiB buffer), doing nothing
 * with the bytes but counting them.  The login and a STATUS for UIDVALIDITY
 * come first and are not timed.
 *
 *   raw_fetch URL USER PASSWORD FIRST LAST
 *
 * URL is imap://host:port/MAILBOX.  Prints
 *   raw fetch: N mails, B bytes in S s: R mails/s (0 reconnect(s))
 * and exits 1 if any fetch fails or comes back empty.  Links only libcurl
 * and GLib. */
#include <curl/curl.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static size_t count_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	(void)buf;
	*(size_t *)arg += size * nmemb;
	return size * nmemb;
}

static size_t keep_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	g_string_append_len(arg, buf, (gssize)(size * nmemb));
	return size * nmemb;
}

static bool parse_uint(const char *s, guint64 max, guint64 *v_r)
{
	return g_ascii_string_to_unsigned(s, 10, 0, max, v_r, NULL);
}

int main(int argc, char **argv)
{
	guint64 first, last;
	const char *slash = argc == 6 ? strstr(argv[1], "://") : NULL;
	slash = slash ? strchr(slash + 3, '/') : NULL;
	if (slash == NULL || slash[1] == '\0' || !parse_uint(argv[4], UINT32_MAX, &first) ||
	    !parse_uint(argv[5], UINT32_MAX, &last) || first == 0 || first > last) {
		fprintf(stderr,
			"usage: raw_fetch imap://host:port/MAILBOX USER PASSWORD FIRST LAST\n");
		return 2;
	}
	g_autofree char *server = g_strndup(argv[1], (gsize)(slash - argv[1] + 1));
	const char *mailbox = slash + 1;
	char errbuf[CURL_ERROR_SIZE] = "";

	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_USERNAME, argv[2]);
	curl_easy_setopt(h, CURLOPT_PASSWORD, argv[3]);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

	/* log in, and UIDVALIDITY from STATUS */
	GString *status = g_string_new(NULL);
	g_autofree char *url = g_strdup(server);
	g_autofree char *cmd = g_strdup_printf("STATUS %s (UIDVALIDITY)", mailbox);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, cmd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, status);
	CURLcode rc = curl_easy_perform(h);
	const char *uv = strstr(status->str, "UIDVALIDITY ");
	guint64 uidvalidity = 0;
	if (rc == CURLE_OK && uv) {
		uv += 12;
		g_autofree char *digits = g_strndup(uv, strspn(uv, "0123456789"));
		parse_uint(digits, UINT32_MAX, &uidvalidity);
	}
	g_string_free(status, TRUE);
	if (uidvalidity == 0) {
		fprintf(stderr, "raw_fetch: STATUS failed: %s %s\n", curl_easy_strerror(rc),
			errbuf);
		return 1;
	}

	size_t bytes = 0, got;
	long connects = 0;
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
	gint64 t0 = g_get_monotonic_time();
	for (guint64 uid = first; uid <= last; uid++) {
		g_free(url);
		url = g_strdup_printf("%s;UIDVALIDITY=%u;UID=%u", argv[1], (unsigned)uidvalidity,
				      (unsigned)uid);
		curl_easy_setopt(h, CURLOPT_URL, url);
		got = 0;
		rc = curl_easy_perform(h);
		long fresh = 0;
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
		connects += fresh;
		if (rc != CURLE_OK || got == 0) {
			fprintf(stderr, "raw_fetch: UID %u: %s %s\n", (unsigned)uid,
				curl_easy_strerror(rc), errbuf);
			return 1;
		}
		bytes += got;
	}
	double s = (double)(g_get_monotonic_time() - t0) / 1e6;
	guint64 n = last - first + 1;
	printf("raw fetch: %u mails, %zu bytes in %.3f s: %.1f mails/s (%ld reconnect(s))\n",
	       (unsigned)n, bytes, s, s > 0 ? (double)n / s : 0.0, connects);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return 0;
}
