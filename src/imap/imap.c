/* imap.c - the support mailbox over libcurl IMAP (7.88).
 *
 * Works within libcurl 7.88's IMAP limits (TECH-NOTES pitfalls 1-7):
 * message bodies only through URL fetches (";UIDVALIDITY=v;UID=n", which
 * also lets curl check UIDVALIDITY), never a custom FETCH; a 512 KiB buffer
 * so long SEARCH lines are not cut; searches bounded by a UID window
 * ("UID first:*", filtered because "*" always matches the highest UID); no
 * custom SELECT or EXAMINE; '%' in custom commands written as %25; one retry
 * when a reused connection turns out to be dead.  The server's error text is
 * taken from the last tagged reply seen by the header callback, since curl
 * reports none for IMAP.  It does not IDLE: deskmail polls. */
#include <curl/curl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/imap.h"
#include "deskmail/log.h"

#define IMAP_BUFFER_SIZE (512L * 1024)

struct ImapSession {
	CURL *h;
	char *server_url;  /* imap://host:port/ */
	char *mailbox_url; /* imap://host:port/INBOX (as configured, percent-encoded) */
	char *mailbox;     /* decoded name, quoted for commands */
	char *username, *password, *ca_file;
	bool tls_verify;
	long timeout;
	int caps_known;
	bool has_move, has_uidplus;
	char errbuf[CURL_ERROR_SIZE];
	char tagged[512]; /* last tagged reply line */
	GByteArray *body; /* write callback data */
	size_t max_body;  /* 0 = unlimited */
	bool over_cap;
};

static size_t write_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	ImapSession *s = arg;
	size_t n = size * nmemb;
	if (s->max_body && s->body->len + n > s->max_body) {
		s->over_cap = true;
		return 0; /* -> CURLE_WRITE_ERROR: stop the download */
	}
	g_byte_array_append(s->body, (const guint8 *)buf, (guint)n);
	return n;
}

static size_t header_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	ImapSession *s = arg;
	size_t n = size * nmemb;
	if (n > 0 && buf[0] != '*' && buf[0] != '+') {
		size_t k = MIN(n, sizeof s->tagged - 1);
		memcpy(s->tagged, buf, k);
		s->tagged[k] = '\0';
		s->tagged[strcspn(s->tagged, "\r\n")] = '\0';
	}
	return n;
}

int imap_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : DM_EINTERNAL;
}

void imap_global_cleanup(void)
{
	curl_global_cleanup();
}

static bool is_loopback(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	return g_str_has_prefix(p, "127.") || g_str_has_prefix(p, "localhost") ||
	       g_str_has_prefix(p, "[::1]");
}

ImapSession *imap_session_new(const ImapParams *p)
{
	ImapSession *s = g_new0(ImapSession, 1);
	const char *scheme_end = strstr(p->url, "://");
	const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	if (path == NULL || path[1] == '\0') {
		s->server_url = g_strconcat(p->url, path ? "" : "/", NULL);
		s->mailbox_url = g_strconcat(s->server_url, "INBOX", NULL);
		s->mailbox = g_strdup("INBOX");
	} else {
		s->server_url = g_strndup(p->url, (gsize)(path - p->url + 1));
		s->mailbox_url = g_strdup(p->url);
		char *dec = g_uri_unescape_string(path + 1, NULL);
		s->mailbox = dec ? dec : g_strdup(path + 1);
	}
	s->username = g_strdup(p->username);
	s->password = g_strdup(p->password ? p->password : "");
	s->ca_file = g_strdup(p->ca_file);
	s->tls_verify = p->tls_verify;
	s->timeout = p->timeout > 0 ? p->timeout : 60;
	s->body = g_byte_array_new();
	return s;
}

void imap_session_free(ImapSession *s)
{
	if (s == NULL)
		return;
	if (s->h)
		curl_easy_cleanup(s->h);
	g_free(s->server_url);
	g_free(s->mailbox_url);
	g_free(s->mailbox);
	g_free(s->username);
	g_free(s->password);
	g_free(s->ca_file);
	g_byte_array_free(s->body, TRUE);
	g_free(s);
}

static void setup(ImapSession *s)
{
	if (s->h)
		return;
	CURL *h = s->h = curl_easy_init();
	if (h == NULL)
		abort();
	curl_easy_setopt(h, CURLOPT_USERNAME, s->username);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->password);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, IMAP_BUFFER_SIZE);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout);
	curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 600L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
	/* imap:// to anything but loopback must use STARTTLS: never send the
	 * password in clear over a network */
	if (g_str_has_prefix(s->server_url, "imap://") && !is_loopback(s->server_url))
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
}

/* Run one request; custom may be NULL (URL-driven fetch). */
static CURLcode run(ImapSession *s, const char *url, const char *custom, size_t max_body)
{
	setup(s);
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 0L);
	CURLcode rc = CURLE_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		g_byte_array_set_size(s->body, 0);
		s->max_body = max_body;
		s->over_cap = false;
		s->errbuf[0] = '\0';
		s->tagged[0] = '\0';
		rc = curl_easy_perform(s->h);
		long fresh = 0;
		curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &fresh);
		if (!((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
		       rc == CURLE_GOT_NOTHING) &&
		      fresh == 0))
			break;
		log_debug("imap: reused connection was closed by the server; reconnecting");
	}
	return rc;
}

static int fail(ImapSession *s, CURLcode rc, const char *what, DmError *err)
{
	const char *detail = s->tagged[0] ? s->tagged : s->errbuf;
	int kind = DM_ETEMP;
	if (rc == CURLE_QUOTE_ERROR)
		kind = DM_EPERM; /* the server said NO/BAD to our command */
	return dm_error_set(err, kind, "IMAP %s: %s%s%s", what,
			    rc == CURLE_LOGIN_DENIED ? "login denied" : curl_easy_strerror(rc),
			    detail[0] ? ": " : "", detail);
}

/* A mailbox name as an IMAP quoted string, with '%' escaped for curl. */
static char *quoted(const char *name)
{
	GString *q = g_string_new("\"");
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(q, '\\');
		if (*p == '%')
			g_string_append(q, "%25");
		else
			g_string_append_c(q, *p);
	}
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

/* The NUL-terminated text of the write buffer. */
static const char *body_text(ImapSession *s)
{
	g_byte_array_append(s->body, (const guint8 *)"", 1);
	return (const char *)s->body->data;
}

int imap_status(ImapSession *s, uint32_t *uidvalidity_r, uint32_t *uidnext_r, DmError *err)
{
	g_autofree char *mb = quoted(s->mailbox);
	g_autofree char *cmd = g_strdup_printf("STATUS %s (UIDVALIDITY UIDNEXT)", mb);
	CURLcode rc = run(s, s->server_url, cmd, 64 * 1024);
	if (rc != CURLE_OK)
		return fail(s, rc, "STATUS", err);
	const char *t = body_text(s);
	const char *uv = strstr(t, "UIDVALIDITY ");
	const char *un = strstr(t, "UIDNEXT ");
	if (uv == NULL || un == NULL)
		return dm_error_set(err, DM_ETEMP, "IMAP STATUS: unexpected reply");
	unsigned long v = strtoul(uv + 12, NULL, 10), n = strtoul(un + 8, NULL, 10);
	if (v == 0 || v > UINT32_MAX || n > UINT32_MAX)
		return dm_error_set(err, DM_ETEMP, "IMAP STATUS: bad UIDVALIDITY/UIDNEXT");
	*uidvalidity_r = (uint32_t)v;
	*uidnext_r = (uint32_t)n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int imap_search_from(ImapSession *s, uint32_t first_uid, size_t max, uint32_t **uids_r, size_t *n_r,
		     DmError *err)
{
	char cmd[64];
	snprintf(cmd, sizeof cmd, "UID SEARCH UID %u:*", first_uid ? first_uid : 1);
	CURLcode rc = run(s, s->mailbox_url, cmd, 0);
	if (rc != CURLE_OK)
		return fail(s, rc, "SEARCH", err);
	const char *t = body_text(s);
	GArray *a = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (const char *line = t; line && *line;) {
		const char *eol = strchr(line, '\n');
		if (g_str_has_prefix(line, "* SEARCH")) {
			const char *p = line + 8;
			while (p < (eol ? eol : p + strlen(p))) {
				char *end;
				unsigned long u = strtoul(p, &end, 10);
				if (end == p) {
					p++;
					continue;
				}
				if (u >= first_uid && u > 0 && u <= UINT32_MAX) {
					uint32_t v = (uint32_t)u;
					g_array_append_val(a, v);
				}
				p = end;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	g_array_sort(a, cmp_u32);
	size_t n = MIN((size_t)a->len, max);
	*uids_r = NULL;
	if (n) {
		*uids_r = g_new(uint32_t, n);
		memcpy(*uids_r, a->data, n * sizeof(uint32_t));
	}
	*n_r = n;
	g_array_free(a, TRUE);
	return 0;
}

static int fetch_section(ImapSession *s, uint32_t uidvalidity, uint32_t uid, const char *section,
			 size_t max_bytes, unsigned char **data_r, size_t *len_r, DmError *err)
{
	g_autofree char *url =
		g_strdup_printf("%s;UIDVALIDITY=%u;UID=%u%s%s", s->mailbox_url, uidvalidity, uid,
				section ? ";SECTION=" : "", section ? section : "");
	CURLcode rc = run(s, url, NULL, max_bytes);
	if (rc == CURLE_WRITE_ERROR && s->over_cap)
		return dm_error_set(err, DM_EPERM, "message at UID %u is larger than %zu bytes",
				    uid, max_bytes);
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND) {
		if (strstr(s->errbuf, "UIDVALIDITY"))
			return dm_error_set(err, DM_ETEMP, "IMAP FETCH: UIDVALIDITY has changed");
		return dm_error_set(err, DM_ENOTFOUND, "IMAP FETCH: no message at UID %u", uid);
	}
	if (rc != CURLE_OK)
		return fail(s, rc, "FETCH", err);
	unsigned char *d = g_malloc(s->body->len + 1);
	memcpy(d, s->body->data, s->body->len);
	d[s->body->len] = '\0';
	*data_r = d;
	*len_r = s->body->len;
	return 0;
}

int imap_fetch(ImapSession *s, uint32_t uidvalidity, uint32_t uid, size_t max_bytes,
	       unsigned char **data_r, size_t *len_r, DmError *err)
{
	return fetch_section(s, uidvalidity, uid, NULL, max_bytes, data_r, len_r, err);
}

int imap_fetch_header(ImapSession *s, uint32_t uidvalidity, uint32_t uid, size_t max_bytes,
		      unsigned char **data_r, size_t *len_r, DmError *err)
{
	return fetch_section(s, uidvalidity, uid, "HEADER", max_bytes, data_r, len_r, err);
}

static void capabilities(ImapSession *s)
{
	if (s->caps_known)
		return;
	if (run(s, s->server_url, "CAPABILITY", 64 * 1024) != CURLE_OK)
		return;
	const char *t = body_text(s);
	const char *c = strstr(t, "* CAPABILITY");
	if (c == NULL)
		return;
	g_autofree char *line = g_strndup(c, strcspn(c, "\r\n"));
	g_autofree char *padded = g_strconcat(line, " ", NULL);
	s->has_move = strstr(padded, " MOVE ") != NULL;
	s->has_uidplus = strstr(padded, " UIDPLUS ") != NULL;
	s->caps_known = 1;
}

/* "1:3,7,9:12" for ascending uids. */
static char *uid_set(const uint32_t *uids, size_t n)
{
	GString *set = g_string_new(NULL);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		g_string_append_printf(set, "%s%u", set->len ? "," : "", uids[i]);
		if (j > i)
			g_string_append_printf(set, ":%u", uids[j]);
		i = j + 1;
	}
	return g_string_free(set, FALSE);
}

int imap_mark_set(ImapSession *s, const uint32_t *uids, size_t n, const char *flag,
		  const char *move_to, DmError *err)
{
	if (n == 0)
		return 0;
	g_autofree char *set = uid_set(uids, n);
	CURLcode rc;
	if (flag && *flag) {
		g_autofree char *cmd =
			g_strdup_printf("UID STORE %s +FLAGS.SILENT (%s)", set, flag);
		rc = run(s, s->mailbox_url, cmd, 64 * 1024);
		if (rc != CURLE_OK)
			return fail(s, rc, "STORE", err);
	}
	if (move_to && *move_to) {
		capabilities(s);
		g_autofree char *dest = quoted(move_to);
		if (s->has_move) {
			g_autofree char *cmd = g_strdup_printf("UID MOVE %s %s", set, dest);
			rc = run(s, s->mailbox_url, cmd, 64 * 1024);
			if (rc != CURLE_OK)
				return fail(s, rc, "MOVE", err);
		} else {
			g_autofree char *copy = g_strdup_printf("UID COPY %s %s", set, dest);
			g_autofree char *del =
				g_strdup_printf("UID STORE %s +FLAGS.SILENT (\\Deleted)", set);
			g_autofree char *exp = s->has_uidplus
						       ? g_strdup_printf("UID EXPUNGE %s", set)
						       : g_strdup("NOOP");
			if ((rc = run(s, s->mailbox_url, copy, 64 * 1024)) != CURLE_OK)
				return fail(s, rc, "COPY", err);
			if ((rc = run(s, s->mailbox_url, del, 64 * 1024)) != CURLE_OK)
				return fail(s, rc, "STORE \\Deleted", err);
			if ((rc = run(s, s->mailbox_url, exp, 64 * 1024)) != CURLE_OK)
				return fail(s, rc, "EXPUNGE", err);
		}
	}
	return 0;
}

typedef struct {
	const char *data;
	size_t len, pos;
} Upload;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	Upload *u = arg;
	size_t n = MIN(size * nmemb, u->len - u->pos);
	memcpy(buf, u->data + u->pos, n);
	u->pos += n;
	return n;
}

int imap_append(ImapSession *s, const char *data, size_t len, DmError *err)
{
	setup(s);
	Upload u = {data, len, 0};
	curl_easy_setopt(s->h, CURLOPT_URL, s->mailbox_url);
	curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(s->h, CURLOPT_READDATA, &u);
	curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	g_byte_array_set_size(s->body, 0);
	s->max_body = 0;
	s->tagged[0] = '\0';
	CURLcode rc = curl_easy_perform(s->h);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 0L);
	if (rc != CURLE_OK)
		return fail(s, rc, "APPEND", err);
	return 0;
}
