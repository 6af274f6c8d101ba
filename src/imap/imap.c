/* imap.c - the support mailbox over libcurl IMAP (7.88).
 *
 * Works within libcurl 7.88's IMAP limits (TECH-NOTES pitfalls 1-7):
 * message bodies only through URL fetches (";UIDVALIDITY=v;UID=n", which
 * also lets curl check UIDVALIDITY), never a custom FETCH; a 512 KiB buffer,
 * and every SEARCH bounded by a window of at most IMAP_SEARCH_WINDOW UIDs
 * with an explicit upper UID (never "*", which always matches the highest
 * UID), so that no SEARCH line comes near the length at which curl cuts it
 * or fails; no custom SELECT or EXAMINE; '%' in custom commands written as
 * %25; one retry when a reused connection turns out to be dead.  The
 * server's error text is the first tagged NO or BAD of a request, seen by
 * the header callback, since curl reports none for IMAP (and after a NO
 * it logs out, so the last tagged line is "OK Logout completed"); a debug
 * callback notes which command it answered, so that a NO to LOGIN or
 * AUTHENTICATE is DM_EAUTH and one to curl's own SELECT is not (curl
 * reports both as a denied login).  Of the commands sent only the verb is
 * kept, never their arguments (LOGIN carries the password).  It does not IDLE:
 * deskmail polls.  Plain imap:// is spoken in clear to loopback only, judged
 * by address from curl's own reading of the URL; anywhere else curl must
 * get STARTTLS or fail. */
#include <curl/curl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/imap.h"
#include "deskmail/log.h"
#include "deskmail/token.h"
#include "deskmail/util.h"
#include "imap-private.h"
#define IMAP_BUFFER_SIZE (512L * 1024)
/* curl 7.88 (pingpong.c) cuts a server line to 40 bytes when a read of
 * more than half the buffer holds no line end, and fails on longer lines:
 * against Dovecot, with this buffer, a 301 KB SEARCH line came through and
 * a 313 KB one failed with 56 ("Failure when receiving data from the
 * peer"); with curl's default 16 KiB buffer a 170 KB line came back as
 * 1,369 numbers and CURLE_OK.  A window of IMAP_SEARCH_WINDOW UIDs answers
 * at most 16384 x 11 bytes (10-digit UIDs) = 180 KiB, under half the
 * buffer, whatever the mailbox holds. */
G_STATIC_ASSERT(IMAP_SEARCH_WINDOW * 11L < IMAP_BUFFER_SIZE / 2);

struct ImapSession {
	CURL *h;
	char *server_url;  /* imap://host:port/ */
	char *mailbox_url; /* imap://host:port/INBOX (as configured, percent-encoded) */
	char *mailbox;     /* decoded name, quoted for commands */
	char *username, *password, *ca_file;
	bool tls_verify;
	long timeout;
	char *login_options; /* "AUTH=XOAUTH2" or "AUTH=OAUTHBEARER"; NULL = password */
	DmToken *token;      /* with login_options */
	DmError token_err;   /* why the last request had no token to log in with */
	int caps_known;
	bool has_move, has_uidplus, has_esearch;
	size_t requests; /* performs, for imap_request_count() */
	bool selected;   /* a request on the mailbox URL made curl SELECT it */
	char errbuf[CURL_ERROR_SIZE];
	char tagged[512];      /* last tagged reply line, or its first NO/BAD */
	char sent[32];         /* verb of the last tagged command sent ("UID MOVE") */
	char refused_verb[32]; /* the command the first NO/BAD answered */
	char cont[512];        /* last continuation ("+ ...") of this request: with a
				* refused XOAUTH2 login, the server's only words (curl
				* 7.88 gives up on it without answering, so no NO) */
	GByteArray *body;      /* write callback data */
	size_t max_body;       /* 0 = unlimited */
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
	/* a tagged NO or BAD is kept: after a failed command curl logs out,
	 * and the LOGOUT's "OK Logout completed" must not hide what the
	 * server said to the command */
	if (n > 0 && buf[0] != '*' &&
	    (buf[0] == '+' || s->tagged[0] == '\0' || imap_tagged_is(s->tagged, "OK"))) {
		char *dst = buf[0] == '+' ? s->cont : s->tagged;
		size_t k = MIN(n, sizeof s->tagged - 1);
		memcpy(dst, buf, k);
		dst[k] = '\0';
		dst[strcspn(dst, "\r\n")] = '\0';
	}
	return n;
}

/* A tag as curl writes them ("A001"), followed by a space: its length, or
 * 0 when the line does not start with one. */
static size_t tag_len(const char *line, size_t n)
{
	size_t k = 0;
	while (k < n && g_ascii_isalnum(line[k]))
		k++;
	return k > 0 && k < n && line[k] == ' ' ? k : 0;
}

/* One line the client sent: keep the verb of a tagged command (one or two
 * words of letters: "SELECT", "UID MOVE"), never what follows it. */
static void note_sent(ImapSession *s, const char *line, size_t n)
{
	size_t t = tag_len(line, n);
	if (t == 0)
		return; /* "DONE", a SASL continuation: no verb, possibly a secret */
	const char *v = line + t + 1;
	size_t len = 0, words = 0, max = n - t - 1;
	while (len < max && words < 2) {
		size_t w = 0;
		while (len + w < max && g_ascii_isalpha(v[len + w]))
			w++;
		if (w == 0)
			break;
		len += w;
		words++;
		if (!(words == 1 && w == 3 && g_ascii_strncasecmp(v, "UID", 3) == 0 && len < max &&
		      v[len] == ' '))
			break;
		len++; /* the space after UID */
	}
	if (len == 0)
		return;
	g_strlcpy(s->sent, v, MIN(len + 1, sizeof s->sent));
}

/* One line from the server: the first tagged NO or BAD of a request is
 * noted with the command it answered. */
static void note_reply(ImapSession *s, const char *line, size_t n)
{
	size_t t = tag_len(line, n);
	if (t == 0 || s->refused_verb[0] != '\0')
		return;
	const char *st = line + t + 1;
	size_t rest = n - t - 1;
	if ((rest >= 3 && g_ascii_strncasecmp(st, "NO ", 3) == 0) ||
	    (rest >= 4 && g_ascii_strncasecmp(st, "BAD ", 4) == 0))
		g_strlcpy(s->refused_verb, s->sent[0] ? s->sent : "?", sizeof s->refused_verb);
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	(void)h;
	ImapSession *s = arg;
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	/* one call is one line in 7.88; split anyway */
	while (size > 0) {
		const char *eol = memchr(data, '\n', size);
		size_t n = eol ? (size_t)(eol - data) + 1 : size;
		if (type == CURLINFO_HEADER_OUT)
			note_sent(s, data, n);
		else
			note_reply(s, data, n);
		data += n;
		size -= n;
	}
	return 0;
}

int imap_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : DM_EINTERNAL;
}

void imap_global_cleanup(void)
{
	curl_global_cleanup();
}

size_t imap_request_count(const ImapSession *s)
{
	return s ? s->requests : 0;
}

bool imap_url_is_loopback(const char *url)
{
	/* curl's own URL parser, the one curl_easy_perform() uses, so that no
	 * second parser can read another host out of the same URL
	 * ("localhost@evil", "127.0.0.1.evil.example") */
	CURLU *u = curl_url();
	char *host = NULL;
	bool lo = u != NULL && url != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		  dm_host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return lo;
}

/* `url` without "user:password@" or ";options@": credentials come from
 * ImapParams only, never from the URL (the configuration refuses them
 * there; this keeps them off the wire if one slips through).  g_free. */
static char *without_userinfo(const char *url)
{
	CURLU *u = curl_url();
	char *user = NULL, *pass = NULL, *opts = NULL, *clean = NULL;
	char *out = NULL;
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_USER, &user, 0);
		curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
		curl_url_get(u, CURLUPART_OPTIONS, &opts, 0);
		if ((user || pass || opts) &&
		    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
		    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
		    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK)
			out = g_strdup(clean);
	}
	curl_free(user);
	curl_free(pass);
	curl_free(opts);
	curl_free(clean);
	curl_url_cleanup(u);
	return out ? out : g_strdup(url);
}

ImapSession *imap_session_new(const ImapParams *p)
{
	ImapSession *s = g_new0(ImapSession, 1);
	g_autofree char *url = without_userinfo(p->url);
	const char *scheme_end = strstr(url, "://");
	const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	if (path == NULL || path[1] == '\0') {
		s->server_url = g_strconcat(url, path ? "" : "/", NULL);
		s->mailbox_url = g_strconcat(s->server_url, "INBOX", NULL);
		s->mailbox = g_strdup("INBOX");
	} else {
		s->server_url = g_strndup(url, (gsize)(path - url + 1));
		s->mailbox_url = g_strdup(url);
		char *dec = g_uri_unescape_string(path + 1, NULL);
		s->mailbox = dec ? dec : g_strdup(path + 1);
	}
	s->username = g_strdup(p->username);
	s->password = g_strdup(p->password ? p->password : "");
	s->ca_file = g_strdup(p->ca_file);
	s->tls_verify = p->tls_verify;
	s->timeout = p->timeout > 0 ? p->timeout : 60;
	if (p->oauth2_mechanism != NULL) {
		s->login_options = g_strdup_printf("AUTH=%s", p->oauth2_mechanism);
		s->token = dm_token_new(p->token_file, p->token_command, (int)s->timeout);
	}
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
	g_free(s->login_options);
	dm_token_free(s->token);
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
	if (s->login_options != NULL)
		/* pinned: curl prefers OAUTHBEARER when both are offered;
		 * the token itself is set before each request (bearer()) */
		curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, s->login_options);
	else
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
	/* the debug callback is the only place that sees which command a NO
	 * answered; VERBOSE only turns it on (it writes nothing itself) */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
	/* imap:// to anything but loopback must use STARTTLS: never send the
	 * password in clear over a network.  Loopback is decided by address
	 * (imap_url_is_loopback), not by how the host name begins. */
	if (g_str_has_prefix(s->server_url, "imap://") && !imap_url_is_loopback(s->server_url))
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
}

static void forget_replies(ImapSession *s)
{
	s->errbuf[0] = '\0';
	s->tagged[0] = '\0';
	s->cont[0] = '\0';
	s->refused_verb[0] = '\0';
}

/* With OAuth2, the token for the next request: the file is read again when
 * it changed, so a refresher's new token is used from the next request on
 * (curl then opens a new connection: it never reuses one logged in with
 * another token).  False, with s->token_err set, when there is none. */
static bool bearer(ImapSession *s)
{
	if (s->token == NULL)
		return true;
	const char *tok = NULL;
	if (dm_token_get(s->token, &tok, &s->token_err) < 0)
		return false;
	curl_easy_setopt(s->h, CURLOPT_XOAUTH2_BEARER, tok);
	return true;
}

/* After a refused bearer login: the token once more from its source.  True
 * when it changed and is set, so that logging in again makes sense. */
static bool bearer_again(ImapSession *s)
{
	bool changed = false;
	if (dm_token_refresh(s->token, &changed, &s->token_err) < 0 || !changed)
		return false;
	log_debug("imap: the server refused the OAuth2 token; logging in again with a new one "
		  "from the %s",
		  dm_token_source(s->token));
	return bearer(s);
}

/* Run one request; custom may be NULL (URL-driven fetch).  Without a
 * token to log in with it returns CURLE_LOGIN_DENIED with s->token_err
 * set, having sent nothing. */
static CURLcode run(ImapSession *s, const char *url, const char *custom, size_t max_body)
{
	setup(s);
	dm_error_clear(&s->token_err);
	if (!bearer(s))
		return CURLE_LOGIN_DENIED;
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 0L);
	CURLcode rc = CURLE_OK;
	bool reconnected = false, refreshed = false;
	for (;;) {
		g_byte_array_set_size(s->body, 0);
		s->max_body = max_body;
		s->over_cap = false;
		forget_replies(s);
		rc = curl_easy_perform(s->h);
		s->requests++;
		long fresh = 0;
		curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &fresh);
		if (rc == CURLE_LOGIN_DENIED && s->token != NULL && !refreshed) {
			/* once: a refresher may have a newer token than ours */
			refreshed = true;
			char tagged[sizeof s->tagged], cont[sizeof s->cont];
			char verb[sizeof s->refused_verb];
			memcpy(tagged, s->tagged, sizeof tagged);
			memcpy(cont, s->cont, sizeof cont);
			memcpy(verb, s->refused_verb, sizeof verb);
			if (bearer_again(s))
				continue;
			memcpy(s->tagged, tagged, sizeof tagged); /* the server's words */
			memcpy(s->cont, cont, sizeof cont);
			memcpy(s->refused_verb, verb, sizeof verb);
			break;
		}
		if (!((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
		       rc == CURLE_GOT_NOTHING) &&
		      fresh == 0) ||
		    reconnected)
			break;
		reconnected = true;
		log_debug("imap: reused connection was closed by the server; reconnecting");
	}
	if (rc == CURLE_OK && g_str_has_prefix(url, s->mailbox_url))
		s->selected = true;
	return rc;
}

/* What the server said when it refused our login, into out: its tagged NO,
 * and the error challenge of a bearer login (RFC 7628: base64 JSON such as
 * {"status":"invalid_token"}), decoded; else curl's words. */
static void login_words(const ImapSession *s, char *out, size_t n)
{
	/* the tagged line is the refusal only if it is one: before
	 * AUTHENTICATE it is CAPABILITY's OK */
	const char *sp = strchr(s->tagged, ' ');
	bool refused = sp != NULL && (g_str_has_prefix(sp, " NO") || g_str_has_prefix(sp, " BAD"));
	char json[256] = "";
	if (g_str_has_prefix(s->cont, "+ ") && s->cont[2] != '\0') {
		gsize len = 0;
		g_autofree guchar *raw = g_base64_decode(s->cont + 2, &len);
		size_t k = 0;
		for (gsize i = 0; i < len && k + 1 < sizeof json; i++)
			json[k++] = raw[i] >= 0x20 && raw[i] < 0x7f ? (char)raw[i] : '?';
		json[k] = '\0';
	}
	if (refused && json[0])
		snprintf(out, n, "%s (%s)", s->tagged, json);
	else if (refused)
		snprintf(out, n, "%s", s->tagged);
	else if (json[0])
		snprintf(out, n, "the server refused the token: %s", json);
	else
		snprintf(out, n, "%s", s->errbuf);
}

static bool is_login(const char *verb)
{
	return g_ascii_strcasecmp(verb, "LOGIN") == 0 ||
	       g_ascii_strcasecmp(verb, "AUTHENTICATE") == 0;
}

/* The one translation of a failed perform: the server's own words when it
 * refused something (and what it refused), else curl's, with the
 * certificate check's result for a TLS failure. */
static int fail(ImapSession *s, CURLcode rc, const char *what, DmError *err)
{
	/* curl reports a refused SELECT (no such mailbox) as a denied login
	 * too: only a NO to LOGIN or AUTHENTICATE, or none at all (a bearer
	 * login curl gave up on, no token to log in with), is one */
	if (rc == CURLE_LOGIN_DENIED && (s->refused_verb[0] == '\0' || is_login(s->refused_verb))) {
		char words[768];
		login_words(s, words, sizeof words);
		if (s->token_err.kind != 0 && words[0] != '\0')
			/* refused, and no new token could be had */
			return dm_error_set(err, s->token_err.kind,
					    "IMAP %s: login denied: %s; then %s", what, words,
					    s->token_err.msg);
		if (s->token_err.kind != 0)
			return dm_error_set(err, s->token_err.kind, "IMAP %s: %s", what,
					    s->token_err.msg);
		/* the same secret will not do better next time */
		return dm_error_set(err, DM_EAUTH, "IMAP %s: login denied: %s (as %s at %s)", what,
				    words[0] ? words : curl_easy_strerror(rc), s->username,
				    s->server_url);
	}
	if (s->token_err.kind != 0)
		return dm_error_set(err, s->token_err.kind, "IMAP %s: %s", what, s->token_err.msg);
	if (s->tagged[0] && !imap_tagged_is(s->tagged, "OK")) {
		/* NO/BAD to our command: permanent for it (CURLE_QUOTE_ERROR);
		 * to curl's own SELECT: trouble to retry */
		int kind = rc == CURLE_QUOTE_ERROR ? DM_EPERM : DM_ETEMP;
		const char *v = s->refused_verb;
		if (g_ascii_strncasecmp(v, "UID ", 4) == 0)
			v += 4;
		if (*v && g_ascii_strncasecmp(v, what, strlen(v)) != 0)
			return dm_error_set(err, kind, "IMAP %s: %s refused: %s", what,
					    s->refused_verb, s->tagged);
		return dm_error_set(err, kind, "IMAP %s: %s", what, s->tagged);
	}
	long verify = 0;
	if (rc == CURLE_PEER_FAILED_VERIFICATION &&
	    curl_easy_getinfo(s->h, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK && verify)
		return dm_error_set(err, DM_ETEMP, "IMAP %s: %s: %s (verify result %ld)", what,
				    curl_easy_strerror(rc), s->errbuf, verify);
	return dm_error_set(err, rc == CURLE_QUOTE_ERROR ? DM_EPERM : DM_ETEMP, "IMAP %s: %s%s%s",
			    what, curl_easy_strerror(rc), s->errbuf[0] ? ": " : "", s->errbuf);
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

/* A decimal number at *p (digits only, at most UINT32_MAX); *p moves past
 * it.  False, with *p unmoved, when there is none or it is too large. */
static bool parse_u32(const char **p, uint32_t *v_r)
{
	const char *q = *p;
	uint64_t v = 0;
	while (g_ascii_isdigit(*q)) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > UINT32_MAX)
			return false;
		q++;
	}
	if (q == *p)
		return false;
	*p = q;
	*v_r = (uint32_t)v;
	return true;
}

int imap_status(ImapSession *s, uint32_t *uidvalidity_r, uint32_t *uidnext_r, DmError *err)
{
	g_autofree char *mb = quoted(s->mailbox);
	g_autofree char *cmd = g_strdup_printf("STATUS %s (UIDVALIDITY UIDNEXT)", mb);
	CURLcode rc = CURLE_OK;
	/* STATUS of the mailbox this connection has selected answers from the
	 * connection's view of it, which Dovecot brings up to date only after
	 * a command: mail delivered since the last one would be seen a pass
	 * late (a whole poll_interval after IDLE announced it).  A NOOP on the
	 * mailbox first makes the server look. */
	if (s->selected && (rc = run(s, s->mailbox_url, "NOOP", 64 * 1024)) != CURLE_OK)
		return fail(s, rc, "NOOP", err);
	rc = run(s, s->server_url, cmd, 64 * 1024);
	if (rc != CURLE_OK)
		return fail(s, rc, "STATUS", err);
	const char *t = body_text(s);
	const char *uv = strstr(t, "UIDVALIDITY ");
	const char *un = strstr(t, "UIDNEXT ");
	if (uv == NULL || un == NULL)
		return dm_error_set(err, DM_ETEMP, "IMAP STATUS: unexpected reply");
	uv += 12;
	un += 8;
	uint32_t v, n;
	if (!parse_u32(&uv, &v) || !parse_u32(&un, &n) || v == 0)
		return dm_error_set(err, DM_ETEMP, "IMAP STATUS: bad UIDVALIDITY/UIDNEXT");
	*uidvalidity_r = v;
	*uidnext_r = n;
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
		/* curl says "not found" for any FETCH without its data: only
		 * a tagged OK means the UID is not there.  A NO or BAD (a
		 * server failing, "[UNAVAILABLE]", "[SERVERBUG]") is
		 * temporary: taking it as gone would move the checkpoint
		 * past a mail nobody has read. */
		if (!imap_tagged_is(s->tagged, "OK"))
			return dm_error_set(err, DM_ETEMP, "IMAP FETCH of UID %u: %s", uid,
					    s->tagged[0] ? s->tagged : "no tagged reply");
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
	s->has_esearch = strstr(padded, " ESEARCH ") != NULL;
	s->caps_known = 1;
}

/* ---- SEARCH ---- */

/* What one search answered.  Every UID must lie in [lo, hi], the window
 * asked for: anything else means the reply is not the answer to our search
 * (cut by curl, or a server bug), and nothing is guessed from it. */
typedef struct {
	uint32_t lo, hi;
	GArray *uids; /* ALL / SEARCH results are appended here; NULL = none expected */
	bool has_min; /* RETURN (MIN) */
	uint32_t min;
} SearchReply;

static bool take_range(SearchReply *r, uint32_t a, uint32_t b)
{
	if (a > b) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	if (r->uids == NULL || a < r->lo || b > r->hi)
		return false;
	for (uint64_t u = a; u <= b; u++) {
		uint32_t v = (uint32_t)u;
		g_array_append_val(r->uids, v);
	}
	return true;
}

/* "* SEARCH 2 3 4" after "* SEARCH"; a trailing "(MODSEQ n)" is ignored,
 * and so are runs of spaces (a server may end the line with one). */
static bool parse_search(const char *p, SearchReply *r)
{
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '(')
			return true;
		uint32_t u;
		if (!parse_u32(&p, &u) || !take_range(r, u, u))
			return false;
		if (*p != ' ' && *p != '\0')
			return false;
	}
}

/* A sequence set "5,7,9:12" (RFC 4731 ALL). */
static bool parse_set(const char **p, SearchReply *r)
{
	for (;;) {
		uint32_t a, b;
		if (!parse_u32(p, &a))
			return false;
		b = a;
		if (**p == ':') {
			(*p)++;
			if (!parse_u32(p, &b))
				return false;
		}
		if (!take_range(r, a, b))
			return false;
		if (**p != ',')
			return true;
		(*p)++;
	}
}

/* "* ESEARCH (TAG "A4") UID ALL 1:5,9 MIN 1" after "* ESEARCH" (RFC 4731):
 * a correlator, "UID", then name/value pairs, of which ALL and MIN are
 * used and others (MAX, COUNT, MODSEQ) skipped. */
static bool parse_esearch(const char *p, SearchReply *r)
{
	if (p[0] == ' ' && p[1] == '(') {
		p = strchr(p, ')');
		if (p == NULL)
			return false;
		p++;
	}
	if (g_ascii_strncasecmp(p, " UID", 4) == 0 && (p[4] == ' ' || p[4] == '\0'))
		p += 4;
	while (*p == ' ') {
		const char *name = ++p;
		size_t len = strcspn(p, " ");
		p += len;
		if (*p++ != ' ')
			return false; /* every name has a value */
		if (len == 3 && g_ascii_strncasecmp(name, "ALL", 3) == 0) {
			if (!parse_set(&p, r))
				return false;
		} else if (len == 3 && g_ascii_strncasecmp(name, "MIN", 3) == 0) {
			if (!parse_u32(&p, &r->min) || r->min < r->lo || r->min > r->hi)
				return false;
			r->has_min = true;
		} else if (*p == '(') {
			p = strchr(p, ')');
			if (p == NULL)
				return false;
			p++;
		} else {
			p += strcspn(p, " ");
		}
	}
	return *p == '\0';
}

/* Run one SEARCH command and parse its answer into r.  Only "* SEARCH" and
 * "* ESEARCH" lines are read: curl passes every untagged line of a "UID"
 * command (EXPUNGE, EXISTS, FLAGS) to the write callback. */
static int search_once(ImapSession *s, const char *cmd, SearchReply *r, DmError *err)
{
	CURLcode rc = run(s, s->mailbox_url, cmd, 0);
	if (rc != CURLE_OK)
		return fail(s, rc, "SEARCH", err);
	body_text(s);
	bool answered = false;
	char *line = (char *)s->body->data;
	while (line && *line) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		line[strcspn(line, "\r")] = '\0';
		bool ok = true;
		if (imap_word_is(line, "* SEARCH")) {
			answered = true;
			ok = parse_search(line + 8, r);
		} else if (imap_word_is(line, "* ESEARCH")) {
			answered = true;
			ok = parse_esearch(line + 9, r);
		}
		if (!ok)
			return dm_error_set(err, DM_ETEMP, "IMAP %s: unexpected reply \"%.60s\"",
					    cmd, line);
		line = eol ? eol + 1 : NULL;
	}
	if (!answered)
		return dm_error_set(err, DM_ETEMP, "IMAP %s: no SEARCH result in the reply", cmd);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort uids[from..] and drop repeats (a server may list a UID twice). */
static void sort_unique(GArray *uids, guint from)
{
	uint32_t *u = (uint32_t *)(void *)uids->data;
	guint n = uids->len - from;
	if (n < 2)
		return;
	qsort(u + from, n, sizeof *u, cmp_u32);
	guint k = from + 1;
	for (guint i = from + 1; i < uids->len; i++)
		if (u[i] != u[k - 1])
			u[k++] = u[i];
	g_array_set_size(uids, k);
}

int imap_search_range(ImapSession *s, uint32_t first_uid, uint32_t last_uid, size_t max,
		      uint32_t window, uint32_t **uids_r, size_t *n_r, DmError *err)
{
	uint64_t lo = first_uid ? first_uid : 1;
	uint64_t cap = window && window < IMAP_SEARCH_WINDOW ? window : IMAP_SEARCH_WINDOW;
	uint64_t span = CLAMP((uint64_t)max, 1, cap);
	GArray *found = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	int rc = 0;
	if (max > 0 && lo <= last_uid)
		capabilities(s);
	while (found->len < max && lo <= last_uid) {
		uint64_t hi = MIN(lo + span - 1, (uint64_t)last_uid);
		size_t wanted = max - found->len;
		guint before = found->len;
		char cmd[96];
		snprintf(cmd, sizeof cmd, "UID SEARCH %sUID %u:%u",
			 s->has_esearch ? "RETURN (ALL) " : "", (unsigned)lo, (unsigned)hi);
		SearchReply r = {.lo = (uint32_t)lo, .hi = (uint32_t)hi, .uids = found};
		if ((rc = search_once(s, cmd, &r, err)) != 0)
			break;
		sort_unique(found, before);
		size_t got = found->len - before;
		log_debug("imap: %s: %zu UID(s)", cmd, got);
		uint64_t searched = hi - lo + 1;
		lo = hi + 1;
		if (got == 0 && s->has_esearch && lo <= last_uid) {
			/* jump to the next UID there is, over the rest of the gap */
			SearchReply m = {.lo = (uint32_t)lo, .hi = last_uid, .uids = NULL};
			snprintf(cmd, sizeof cmd, "UID SEARCH RETURN (MIN) UID %u:%u", (unsigned)lo,
				 (unsigned)last_uid);
			if ((rc = search_once(s, cmd, &m, err)) != 0)
				break;
			log_debug("imap: %s: %s %u", cmd, m.has_min ? "next UID" : "none",
				  m.has_min ? m.min : 0);
			if (!m.has_min)
				break;
			lo = m.min;
		}
		/* next window: twice as wide after an empty one, else as wide as
		 * should hold what is still wanted at the density just seen */
		if (got == 0) {
			span = MIN(span * 2, cap);
		} else if (got < wanted) {
			uint64_t need = MIN((uint64_t)(wanted - got), cap);
			span = CLAMP((need * searched + got - 1) / got, 1, cap);
		}
	}
	if (rc) {
		g_array_free(found, TRUE);
		return rc;
	}
	if (found->len > max)
		g_array_set_size(found, (guint)max);
	*n_r = found->len;
	if (found->len == 0) {
		g_array_free(found, TRUE);
		*uids_r = NULL;
	} else {
		*uids_r = (uint32_t *)(void *)g_array_free(found, FALSE);
	}
	return 0;
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
	dm_error_clear(&s->token_err);
	if (!bearer(s))
		return fail(s, CURLE_LOGIN_DENIED, "APPEND", err);
	Upload u = {data, len, 0};
	curl_easy_setopt(s->h, CURLOPT_URL, s->mailbox_url);
	curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(s->h, CURLOPT_READDATA, &u);
	curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	g_byte_array_set_size(s->body, 0);
	s->max_body = 0;
	forget_replies(s);
	CURLcode rc = curl_easy_perform(s->h);
	s->requests++;
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 0L);
	if (rc != CURLE_OK)
		return fail(s, rc, "APPEND", err);
	return 0;
}
