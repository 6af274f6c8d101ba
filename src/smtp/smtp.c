/* smtp.c - send one prepared message with libcurl SMTP.
 *
 * One easy handle per client, so the connection is reused between
 * messages (curl goes straight to MAIL FROM on a live connection).  The
 * data must already be CRLF-only (mime_compose): CURLOPT_CRLF is never set,
 * because it would turn CRLF into CR CR LF.  Recipients are all-or-nothing
 * per message (ALLLOWFAILS off): a refused recipient fails the whole send,
 * and the outbox keeps one recipient per row anyway.  curl's result is
 * translated here, once: a refused login (535, curl's CURLE_LOGIN_DENIED)
 * -> DM_EAUTH, other 5xx -> DM_EPERM, everything else -> DM_ETEMP.
 *
 * TLS (smtp_tls_mode): smtps:// from the first byte; on smtp:// STARTTLS
 * when offered by default, required with "require" or whenever a password
 * would otherwise cross a network, never with "never".  The URL is read
 * once, by curl's own parser: its host decides loopback, its path is
 * replaced by the EHLO name (curl sends the path as the EHLO name), user
 * information is dropped, and messages show scheme://host:port only.
 * Without smtp.helo the EHLO name is the host name whole: on an empty path
 * curl would send gethostname() cut at the first dot, which is never the
 * fully qualified name RFC 5321 asks for, even on a host named so. */
#include <curl/curl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/log.h"
#include "deskmail/smtp.h"
#include "deskmail/token.h"
#include "deskmail/util.h"

struct SmtpClient {
	CURL *h;
	char *url;   /* what curl gets: no user information, path = "/" EHLO name */
	char *shown; /* scheme://host[:port], for messages */
	char *username, *password, *ca_file;
	char *login_options; /* "AUTH=XOAUTH2" or "AUTH=OAUTHBEARER"; NULL = password */
	DmToken *token;      /* with login_options */
	SmtpTls tls;
	bool tls_verify;
	long timeout;
	char errbuf[CURL_ERROR_SIZE];
	char last_reply[512]; /* first 4xx/5xx reply line of this send */
	char challenge[512];  /* last "334 " line: with a refused XOAUTH2 login,
			       * the server's only words (curl 7.88 gives up
			       * on the error challenge without answering) */
	bool unreachable;     /* the last send failed before any server reply */
};

typedef struct {
	const char *data;
	size_t len, pos;
} Source;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	Source *s = arg;
	size_t room = size * nmemb, left = s->len - s->pos;
	size_t n = left < room ? left : room;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return n;
}

static size_t header_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	SmtpClient *c = arg;
	size_t n = size * nmemb;
	/* keep the first failure reply: after it curl still sends QUIT and
	 * gets "221 Bye" */
	if (n >= 4 && (buf[0] == '4' || buf[0] == '5') && c->last_reply[0] == '\0') {
		size_t k = n < sizeof c->last_reply - 1 ? n : sizeof c->last_reply - 1;
		memcpy(c->last_reply, buf, k);
		c->last_reply[k] = '\0';
		c->last_reply[strcspn(c->last_reply, "\r\n")] = '\0';
	}
	if (n >= 4 && memcmp(buf, "334 ", 4) == 0) {
		size_t k = n < sizeof c->challenge - 1 ? n : sizeof c->challenge - 1;
		memcpy(c->challenge, buf, k);
		c->challenge[k] = '\0';
		c->challenge[strcspn(c->challenge, "\r\n")] = '\0';
	}
	return n;
}

int smtp_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : DM_EINTERNAL;
}

void smtp_global_cleanup(void)
{
	curl_global_cleanup();
}

int smtp_starttls_parse(const char *name)
{
	if (name == NULL || strcmp(name, "try") == 0)
		return SMTP_STARTTLS_TRY;
	if (strcmp(name, "require") == 0)
		return SMTP_STARTTLS_REQUIRE;
	if (strcmp(name, "never") == 0)
		return SMTP_STARTTLS_NEVER;
	return -1;
}

/* The parts of `url` that decide something, as curl's URL parser reads
 * them (the parser curl_easy_perform uses, so no second one can disagree
 * about the host).  False, with the outputs untouched, when curl cannot
 * parse it. */
static bool url_facts(const char *url, bool *implicit_r, bool *loopback_r)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = u != NULL && url != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
	if (ok) {
		*implicit_r = g_ascii_strcasecmp(scheme, "smtps") == 0;
		*loopback_r = dm_host_is_loopback(host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

bool smtp_url_is_loopback(const char *url)
{
	bool implicit = false, loopback = false;
	return url_facts(url, &implicit, &loopback) && loopback;
}

SmtpTls smtp_tls_mode(const SmtpParams *p)
{
	bool implicit = false, loopback = false;
	url_facts(p->url, &implicit, &loopback);
	if (implicit)
		return SMTP_TLS_IMPLICIT;
	bool login_in_clear_risk = p->username != NULL && !loopback;
	switch (p->starttls) {
	case SMTP_STARTTLS_REQUIRE:
		return SMTP_TLS_REQUIRED;
	case SMTP_STARTTLS_NEVER:
		return login_in_clear_risk ? SMTP_TLS_REFUSE : SMTP_TLS_NONE;
	case SMTP_STARTTLS_TRY:
		break;
	}
	return login_in_clear_risk ? SMTP_TLS_REQUIRED : SMTP_TLS_TRY;
}

/* curl's URL for `url`: user information, query and fragment dropped, the
 * path set to "/" and the EHLO name (the host name when helo is NULL); and
 * scheme://host[:port] for messages.  A URL curl cannot parse is kept
 * as it is (curl then fails on it without connecting) and shown only if
 * it holds no '@'. */
static void url_split(const char *url, const char *helo, char **url_r, char **shown_r)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *clean = NULL;
	g_autofree char *path = g_strconcat("/", helo ? helo : g_get_host_name(), NULL);
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, path, CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0); /* none unless given */
		*url_r = g_strdup(clean);
		*shown_r = g_strdup_printf("%s://%s%s%s", scheme, host, port ? ":" : "",
					   port ? port : "");
	} else {
		*url_r = g_strdup(url);
		*shown_r = g_strdup(strchr(url, '@') ? "(SMTP URL not shown)" : url);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(clean);
	curl_url_cleanup(u);
}

SmtpClient *smtp_client_new(const SmtpParams *p)
{
	SmtpClient *c = g_new0(SmtpClient, 1);
	url_split(p->url, p->helo, &c->url, &c->shown);
	c->tls = smtp_tls_mode(p);
	c->username = g_strdup(p->username);
	c->password = g_strdup(p->password);
	c->ca_file = g_strdup(p->ca_file);
	c->tls_verify = p->tls_verify;
	c->timeout = p->timeout > 0 ? p->timeout : 60;
	if (p->oauth2_mechanism != NULL) {
		c->login_options = g_strdup_printf("AUTH=%s", p->oauth2_mechanism);
		c->token = dm_token_new(p->token_file, p->token_command, (int)c->timeout);
	}
	return c;
}

const char *smtp_shown(const SmtpClient *c)
{
	return c->shown;
}

bool smtp_unreachable(const SmtpClient *c)
{
	return c && c->unreachable;
}

void smtp_client_free(SmtpClient *c)
{
	if (c == NULL)
		return;
	if (c->h)
		curl_easy_cleanup(c->h); /* sends QUIT */
	g_free(c->url);
	g_free(c->shown);
	g_free(c->username);
	g_free(c->password);
	g_free(c->ca_file);
	g_free(c->login_options);
	dm_token_free(c->token);
	g_free(c);
}

static void setup(SmtpClient *c)
{
	if (c->h)
		return;
	c->h = curl_easy_init();
	if (c->h == NULL)
		abort();
	CURL *h = c->h;
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, c->timeout);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	switch (c->tls) {
	case SMTP_TLS_TRY:
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		break;
	case SMTP_TLS_REQUIRED:
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		break;
	case SMTP_TLS_NONE:
	case SMTP_TLS_IMPLICIT: /* smtps://: TLS before the greeting */
	case SMTP_TLS_REFUSE:   /* never gets here */
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
		break;
	}
	if (c->username) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		if (c->login_options != NULL)
			/* pinned; the token is set before each send */
			curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, c->login_options);
		else
			curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
}

/* With OAuth2, the token for the next send (or, after a refusal, a new
 * one): *set_r is false when a refreshed token is the refused one again. */
static int bearer(SmtpClient *c, bool again, bool *set_r, DmError *err)
{
	*set_r = true;
	if (c->token == NULL)
		return 0;
	const char *tok = NULL;
	int rc;
	if (again) {
		bool changed = false;
		rc = dm_token_refresh(c->token, &changed, err);
		if (rc < 0 || !changed) {
			*set_r = false;
			return rc;
		}
		log_debug("smtp: the server refused the OAuth2 token; logging in again with a new "
			  "one from the %s",
			  dm_token_source(c->token));
	}
	rc = dm_token_get(c->token, &tok, err);
	if (rc < 0)
		return rc;
	curl_easy_setopt(c->h, CURLOPT_XOAUTH2_BEARER, tok);
	return 0;
}

/* Before a session: no login in clear off loopback, the handle set up,
 * the bearer token in it.  A token that cannot be had means nothing was
 * tried: like a server that cannot be reached, no attempt at a mail. */
static int begin(SmtpClient *c, DmError *err)
{
	c->unreachable = false;
	if (c->tls == SMTP_TLS_REFUSE)
		return dm_error_set(err, DM_ECONFIG,
				    "SMTP %s: refusing to log in without TLS to a host that is not "
				    "loopback (STARTTLS is off)",
				    c->shown);
	setup(c);
	bool set = true;
	DmError te = {0};
	int trc = bearer(c, false, &set, &te);
	if (trc < 0) {
		c->unreachable = true;
		return dm_error_set(err, trc, "SMTP %s: %s", c->shown, te.msg);
	}
	return 0;
}

int smtp_send(SmtpClient *c, const char *mail_from, const char *const *rcpts, size_t n_rcpts,
	      const char *data, size_t len, DmError *err)
{
	if (n_rcpts == 0)
		return dm_error_set(err, DM_EPERM, "no recipients");
	for (size_t i = 0; i < n_rcpts; i++)
		if (!dm_addr_valid(rcpts[i]))
			return dm_error_set(err, DM_EPERM, "invalid recipient address");
	if (mail_from && *mail_from && !dm_addr_valid(mail_from))
		return dm_error_set(err, DM_EPERM, "invalid sender address");
	int trc = begin(c, err);
	if (trc < 0)
		return trc;
	bool set = true;
	DmError te = {0};
	struct curl_slist *list = NULL;
	for (size_t i = 0; i < n_rcpts; i++)
		list = curl_slist_append(list, rcpts[i]);
	char from[330];
	snprintf(from, sizeof from, "<%s>", mail_from ? mail_from : "");
	curl_easy_setopt(c->h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c->h, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(c->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);

	CURLcode rc = CURLE_OK;
	bool reconnected = false, refreshed = false;
	char refused[sizeof c->last_reply] = "", challenge[sizeof c->challenge] = "";
	for (;;) {
		Source src = {data, len, 0};
		curl_easy_setopt(c->h, CURLOPT_READDATA, &src);
		c->errbuf[0] = '\0';
		c->last_reply[0] = '\0';
		c->challenge[0] = '\0';
		rc = curl_easy_perform(c->h);
		long fresh = 0;
		curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &fresh);
		if (rc == CURLE_LOGIN_DENIED && c->token != NULL && !refreshed) {
			/* once: a refresher may have a newer token than ours */
			refreshed = true;
			memcpy(refused, c->last_reply, sizeof refused);
			memcpy(challenge, c->challenge, sizeof challenge);
			trc = bearer(c, true, &set, &te);
			if (trc == 0 && set)
				continue;
			memcpy(c->last_reply, refused, sizeof refused); /* the server's words */
			memcpy(c->challenge, challenge, sizeof challenge);
			break;
		}
		/* a reused connection the server had closed: retry once on a new one */
		if (!((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
		       rc == CURLE_GOT_NOTHING) &&
		      fresh == 0) ||
		    reconnected)
			break;
		reconnected = true;
	}
	curl_easy_setopt(c->h, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(list);
	if (rc == CURLE_OK)
		return 0;

	long code = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	char words[300] = "";
	if (rc == CURLE_LOGIN_DENIED && c->last_reply[0] == '\0' && c->challenge[4] != '\0') {
		/* the error challenge of a bearer login (RFC 7628): base64 JSON */
		gsize raw_len = 0;
		g_autofree guchar *raw = g_base64_decode(c->challenge + 4, &raw_len);
		size_t k = g_strlcpy(words, "the server refused the token: ", sizeof words);
		for (gsize i = 0; i < raw_len && k + 1 < sizeof words; i++)
			words[k++] = raw[i] >= 0x20 && raw[i] < 0x7f ? (char)raw[i] : '?';
		words[k] = '\0';
	}
	const char *why = c->last_reply[0] ? c->last_reply
			  : words[0]       ? words
					   : (c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	int kind = (code >= 500 && code < 600) ? DM_EPERM : DM_ETEMP;
	if (rc == CURLE_LOGIN_DENIED)
		kind = DM_EAUTH; /* not this mail's fault: the operator must fix it */
	c->unreachable =
		code == 0 && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
			      rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
			      rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR);
	/* a broken connection must not be reused */
	curl_easy_cleanup(c->h);
	c->h = NULL;
	if (te.kind != 0) /* refused, and no new token could be had */
		return dm_error_set(err, te.kind, "SMTP %s: %s%s%s; then %s", c->shown,
				    curl_easy_strerror(rc), why[0] ? ": " : "", why, te.msg);
	return dm_error_set(err, kind, "SMTP %s: %s%s%s", c->shown, curl_easy_strerror(rc),
			    why[0] ? ": " : "", why);
}

static size_t discard_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nmemb;
}

int smtp_check(SmtpClient *c, DmError *err)
{
	int brc = begin(c, err);
	if (brc < 0)
		return brc;
	/* no recipients, no upload: curl connects, logs in and sends the
	 * custom command instead of a mail */
	curl_easy_setopt(c->h, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, "NOOP");
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, discard_cb); /* "250 OK" */
	c->errbuf[0] = '\0';
	c->last_reply[0] = '\0';
	CURLcode rc = curl_easy_perform(c->h);
	long code = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c->h); /* QUIT; a send sets its handle up again */
	c->h = NULL;
	if (rc == CURLE_OK)
		return 0;
	const char *why = c->last_reply[0] ? c->last_reply
					   : (c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	int kind = rc == CURLE_LOGIN_DENIED ? DM_EAUTH : DM_ETEMP;
	c->unreachable = code == 0 && kind == DM_ETEMP;
	if (kind == DM_EAUTH)
		return dm_error_set(err, kind, "SMTP %s: login as %s refused: %s", c->shown,
				    c->username ? c->username : "?", why);
	return dm_error_set(err, kind, "SMTP %s: %s%s%s", c->shown, curl_easy_strerror(rc),
			    why[0] ? ": " : "", why);
}
