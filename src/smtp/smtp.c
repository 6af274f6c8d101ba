/* smtp.c - send one prepared message with libcurl SMTP.
 *
 * One easy handle per client, so the connection is reused between
 * messages (curl goes straight to MAIL FROM on a live connection).  The
 * data must already be CRLF-only (mime_compose): CURLOPT_CRLF is never set,
 * because it would turn CRLF into CR CR LF.  Recipients are all-or-nothing
 * per message (ALLLOWFAILS off): a refused recipient fails the whole send,
 * and the outbox keeps one recipient per row anyway.  curl's result is
 * translated here, once: 5xx -> DM_EPERM, everything else -> DM_ETEMP. */
#include <curl/curl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/log.h"
#include "deskmail/smtp.h"
#include "deskmail/util.h"
struct SmtpClient {
	CURL *h;
	char *url, *username, *password, *ca_file;
	bool tls_verify;
	long timeout;
	char errbuf[CURL_ERROR_SIZE];
	char last_reply[512]; /* first 4xx/5xx reply line of this send */
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

SmtpClient *smtp_client_new(const SmtpParams *p)
{
	SmtpClient *c = g_new0(SmtpClient, 1);
	c->url = g_strdup(p->url);
	c->username = g_strdup(p->username);
	c->password = g_strdup(p->password);
	c->ca_file = g_strdup(p->ca_file);
	c->tls_verify = p->tls_verify;
	c->timeout = p->timeout > 0 ? p->timeout : 60;
	return c;
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
	g_free(c->username);
	g_free(c->password);
	g_free(c->ca_file);
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
	if (strncmp(c->url, "smtps://", 8) != 0 && c->username)
		/* never send a password in clear: require STARTTLS when
		 * authenticating on a plain smtp:// URL */
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->username) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
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
	setup(c);
	struct curl_slist *list = NULL;
	for (size_t i = 0; i < n_rcpts; i++)
		list = curl_slist_append(list, rcpts[i]);
	char from[330];
	snprintf(from, sizeof from, "<%s>", mail_from ? mail_from : "");
	curl_easy_setopt(c->h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c->h, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(c->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);

	CURLcode rc = CURLE_OK;
	c->unreachable = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		Source src = {data, len, 0};
		curl_easy_setopt(c->h, CURLOPT_READDATA, &src);
		c->errbuf[0] = '\0';
		c->last_reply[0] = '\0';
		rc = curl_easy_perform(c->h);
		long fresh = 0;
		curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &fresh);
		/* a reused connection the server had closed: retry once on a new one */
		if (!((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
		       rc == CURLE_GOT_NOTHING) &&
		      fresh == 0))
			break;
	}
	curl_easy_setopt(c->h, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(list);
	if (rc == CURLE_OK)
		return 0;

	long code = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	const char *why = c->last_reply[0] ? c->last_reply
					   : (c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	int kind = (code >= 500 && code < 600) ? DM_EPERM : DM_ETEMP;
	if (rc == CURLE_LOGIN_DENIED)
		kind = DM_ETEMP; /* the operator must fix it; mail waits meanwhile */
	c->unreachable =
		code == 0 && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
			      rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
			      rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR);
	/* a broken connection must not be reused */
	curl_easy_cleanup(c->h);
	c->h = NULL;
	return dm_error_set(err, kind, "SMTP %s: %s%s%s", c->url, curl_easy_strerror(rc),
			    why[0] ? ": " : "", why);
}
