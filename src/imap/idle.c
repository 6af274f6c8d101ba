/* idle.c - waiting for new mail with IMAP IDLE (RFC 2177) on a connection
 * of its own.
 *
 * libcurl 7.88 has no IDLE (TECH-NOTES 1.8), but with CURLOPT_CONNECT_ONLY
 * it connects, does TLS (imaps://, or STARTTLS on imap:// exactly as the
 * polling session does) and logs in with the same SASL code as every other
 * request, and then hands the connection over: CAPABILITY, EXAMINE, IDLE and
 * DONE are spoken here with curl_easy_send/curl_easy_recv, the socket
 * watched with poll() (CURLINFO_ACTIVESOCKET).  So the password never passes
 * through code of ours, and no IMAP quoting of it is needed; an OAuth2
 * bearer token is taken from its file or command as the session does.
 *
 * It only tells that the server announced a change ("* n EXISTS"); what
 * arrived is found by the ordinary poll (deskmail/imap.h).  It stays in IDLE
 * between waits, so what is announced while the desk polls is kept in the
 * socket and wakes the next wait at once: nothing is missed between a poll
 * and the next wait.  IDLE is renewed (DONE, IDLE) before the 30 minutes
 * after which RFC 2177 lets a server drop the client.  Lines from the
 * server are read up to IMAP_IDLE_LINE_MAX bytes; longer ones (and
 * literals) are skipped, never kept. */
#include <curl/curl.h>
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/imap.h"
#include "deskmail/log.h"
#include "deskmail/token.h"
#include "deskmail/util.h"
#include "imap-private.h"

/* The longest server line kept; the rest of a longer one is skipped. */
#define IMAP_IDLE_LINE_MAX 8192
/* Bytes skipped at most for one literal ({n}) before the connection is
 * given up as hostile: a change notification never carries one this big. */
#define IMAP_IDLE_LITERAL_MAX (1024L * 1024)
/* How long one IDLE lasts before it is renewed: under RFC 2177's 29
 * minutes.  Tests shorten it with DESKMAIL_IDLE_RENEW_SECONDS. */
#define IMAP_IDLE_RENEW_US (25LL * 60 * G_USEC_PER_SEC)
/* The slice of poll(): how soon the stop flag is seen. */
#define IMAP_IDLE_SLICE_MS 200

struct ImapIdle {
	CURL *h;
	curl_socket_t sock;
	char *mailbox; /* decoded */
	long timeout;  /* seconds, for replies to our commands */
	unsigned tag;
	bool idling;        /* IDLE sent and "+" seen, DONE not yet sent */
	int64_t idle_since; /* monotonic, of the IDLE command */
	int64_t renew_us;   /* IMAP_IDLE_RENEW_US, or shorter for tests */
	bool changed;       /* EXISTS seen since the last wait returned */
	/* the line being read */
	char line[IMAP_IDLE_LINE_MAX + 1];
	size_t len;
	bool overlong;    /* the line is past IMAP_IDLE_LINE_MAX: skipping it */
	long literal;     /* bytes of a literal still to skip */
	char inbuf[4096]; /* read from curl, not yet split into lines */
	size_t in_pos, in_len;
	char errbuf[CURL_ERROR_SIZE];
	char tagged[256];            /* the server's last tagged NO or BAD during login */
	volatile sig_atomic_t *stop; /* the caller's stop flag, or NULL */
};

/* curl's progress callback while it connects and logs in: a raised stop
 * flag ends the open (CURLE_ABORTED_BY_CALLBACK). */
static int open_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	const ImapIdle *i = arg;
	return i->stop && *i->stop ? 1 : 0;
}

/* A tagged NO or BAD ("A003 NO [AUTHENTICATIONFAILED] ...") is kept: the
 * server's words for a refused login.  Tagged OKs (STARTTLS's "Begin TLS
 * negotiation now") are not: curl's own error says more then. */
static size_t login_line_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	ImapIdle *i = arg;
	size_t n = size * nmemb;
	if (n == 0 || buf[0] == '*' || buf[0] == '+')
		return n;
	char line[sizeof i->tagged];
	size_t k = MIN(n, sizeof line - 1);
	memcpy(line, buf, k);
	line[k] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (imap_tagged_is(line, "NO") || imap_tagged_is(line, "BAD"))
		g_strlcpy(i->tagged, line, sizeof i->tagged);
	return n;
}

/* "imap[s]://host:port/" and the decoded mailbox name (INBOX when the URL
 * names none), from curl's own reading of the URL; user information in
 * the URL is left out. */
static int split_url(const char *url, char **server_r, char **mailbox_r, DmError *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = 0;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
		rc = dm_error_set(err, DM_ECONFIG, "IMAP IDLE: cannot read the URL");
	} else {
		const char *mb = path[0] == '/' ? path + 1 : path;
		*server_r = g_strdup_printf("%s://%s:%s/", scheme, host, port);
		*mailbox_r = g_strdup(*mb ? mb : "INBOX");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static int send_all(ImapIdle *i, const char *text, DmError *err)
{
	size_t len = strlen(text), off = 0;
	int64_t deadline = g_get_monotonic_time() + (int64_t)i->timeout * G_USEC_PER_SEC;
	while (off < len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(i->h, text + off, len - off, &n);
		if (rc == CURLE_AGAIN) {
			if (g_get_monotonic_time() > deadline)
				return dm_error_set(err, DM_ETEMP, "IMAP IDLE: sending timed out");
			struct pollfd p = {.fd = i->sock, .events = POLLOUT};
			poll(&p, 1, IMAP_IDLE_SLICE_MS);
			continue;
		}
		if (rc != CURLE_OK)
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: sending: %s",
					    curl_easy_strerror(rc));
		off += n;
	}
	return 0;
}

/* A line's literal announcement "{n}" or "{n+}" at its end: n, else -1. */
static long literal_size(const char *line, size_t len)
{
	if (len < 3 || line[len - 1] != '}')
		return -1;
	size_t k = len - 1;
	if (line[k - 1] == '+')
		k--;
	size_t end = k;
	while (k > 0 && g_ascii_isdigit(line[k - 1]))
		k--;
	if (k == 0 || line[k - 1] != '{' || k == end || end - k > 9)
		return -1;
	return strtol(line + k, NULL, 10);
}

/* The next whole line (CRLF stripped) into i->line; overlong lines come
 * back cut, with *cut_r set.  1 with a line, 0 when none is complete in
 * what has been read, DM_ETEMP when the connection failed. */
static int next_line(ImapIdle *i, bool *cut_r, DmError *err)
{
	for (;;) {
		if (i->in_pos == i->in_len) {
			size_t n = 0;
			CURLcode rc = curl_easy_recv(i->h, i->inbuf, sizeof i->inbuf, &n);
			if (rc == CURLE_AGAIN)
				return 0;
			if (rc != CURLE_OK)
				return dm_error_set(err, DM_ETEMP, "IMAP IDLE: receiving: %s",
						    curl_easy_strerror(rc));
			if (n == 0)
				return dm_error_set(err, DM_ETEMP,
						    "IMAP IDLE: the server closed the connection");
			i->in_pos = 0;
			i->in_len = n;
		}
		while (i->in_pos < i->in_len) {
			if (i->literal > 0) {
				size_t skip = MIN((size_t)i->literal, i->in_len - i->in_pos);
				i->in_pos += skip;
				i->literal -= (long)skip;
				continue;
			}
			char c = i->inbuf[i->in_pos++];
			if (c == '\n') {
				while (i->len > 0 && i->line[i->len - 1] == '\r')
					i->len--;
				i->line[i->len] = '\0';
				*cut_r = i->overlong;
				long lit = i->overlong ? -1 : literal_size(i->line, i->len);
				if (lit > IMAP_IDLE_LITERAL_MAX)
					return dm_error_set(err, DM_ETEMP,
							    "IMAP IDLE: a literal of %ld bytes",
							    lit);
				i->literal = lit > 0 ? lit : 0;
				i->len = 0;
				i->overlong = false;
				return 1;
			}
			if (i->len < IMAP_IDLE_LINE_MAX)
				i->line[i->len++] = c;
			else
				i->overlong = true;
		}
	}
}

/* Note what an untagged line says: EXISTS means mail may have come. */
static void untagged(ImapIdle *i, const char *line)
{
	const char *p = line + 2;
	while (g_ascii_isdigit(*p))
		p++;
	if (p > line + 2 && g_ascii_strncasecmp(p, " EXISTS", 7) == 0)
		i->changed = true;
}

/* Wait up to ms for a line and handle it: untagged data is noted; a tagged
 * reply or a continuation is copied to reply (when given).  1 with a
 * tagged or continuation line, 0 on timeout, when *stop is raised, or
 * (on_change) as soon as a change is noted; DM_ETEMP on failure (BYE
 * included). */
static int read_reply(ImapIdle *i, int ms, volatile sig_atomic_t *stop, bool on_change, char *reply,
		      size_t size, DmError *err)
{
	int64_t deadline = g_get_monotonic_time() + (int64_t)ms * 1000;
	for (;;) {
		bool cut = false;
		int rc = next_line(i, &cut, err);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (i->line[0] == '*' && i->line[1] == ' ') {
				if (g_ascii_strncasecmp(i->line + 2, "BYE", 3) == 0)
					return dm_error_set(err, DM_ETEMP,
							    "IMAP IDLE: the server said %s",
							    i->line);
				if (!cut)
					untagged(i, i->line);
				if (on_change && i->changed)
					return 0;
				/* a server that talks without end does not
				 * hold the wait past its time or the stop flag */
				if (g_get_monotonic_time() >= deadline || (stop && *stop))
					return 0;
				continue;
			}
			if (cut)
				return dm_error_set(err, DM_ETEMP,
						    "IMAP IDLE: a reply longer than %d bytes",
						    IMAP_IDLE_LINE_MAX);
			if (reply)
				g_strlcpy(reply, i->line, size);
			return 1;
		}
		int64_t left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0 || (stop && *stop))
			return 0;
		struct pollfd p = {.fd = i->sock, .events = POLLIN};
		int n = poll(&p, 1, (int)MIN(left, IMAP_IDLE_SLICE_MS));
		if (n < 0 && errno != EINTR)
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: poll: %s",
					    g_strerror(errno));
		if (n > 0 && (p.revents & (POLLERR | POLLNVAL)))
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: the connection failed");
	}
}

/* Send a command and read up to its tagged reply (or the "+" of IDLE).
 * 0 when the server answered OK (or "+"), DM_EPERM with its words for NO
 * or BAD, DM_ETEMP for a silent server or a broken connection. */
static int command(ImapIdle *i, const char *cmd, DmError *err)
{
	char tag[16], text[600], reply[IMAP_IDLE_LINE_MAX + 1];
	snprintf(tag, sizeof tag, "D%u", ++i->tag);
	snprintf(text, sizeof text, "%s %s\r\n", tag, cmd);
	int rc = send_all(i, text, err);
	if (rc)
		return rc;
	for (;;) {
		rc = read_reply(i, (int)i->timeout * 1000, i->stop, false, reply, sizeof reply,
				err);
		if (rc < 0)
			return rc;
		if (rc == 0 && i->stop && *i->stop)
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: stopped waiting for %s",
					    cmd);
		if (rc == 0)
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: no reply to %s within %ld s",
					    cmd, i->timeout);
		if (reply[0] == '+')
			return 0; /* IDLE's continuation */
		size_t tl = strlen(tag);
		if (strncmp(reply, tag, tl) != 0 || reply[tl] != ' ')
			continue; /* not ours (a late reply to an earlier one) */
		if (g_ascii_strncasecmp(reply + tl + 1, "OK", 2) == 0)
			return 0;
		return dm_error_set(err, DM_EPERM, "IMAP %s: %s", cmd, reply);
	}
}

/* The mailbox as an IMAP quoted string; NULL when it cannot be one. */
static char *quoted_mailbox(const char *name)
{
	GString *q = g_string_new("\"");
	for (const char *p = name; *p; p++) {
		if (*p == '\r' || *p == '\n' || (unsigned char)*p >= 0x80 || q->len > 400) {
			g_string_free(q, TRUE);
			return NULL;
		}
		if (*p == '"' || *p == '\\')
			g_string_append_c(q, '\\');
		g_string_append_c(q, *p);
	}
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

static int start_idle(ImapIdle *i, DmError *err)
{
	i->idle_since = g_get_monotonic_time();
	int rc = command(i, "IDLE", err);
	i->idling = rc == 0;
	return rc;
}

/* DONE, and the tagged reply to the IDLE it ends. */
static int end_idle(ImapIdle *i, DmError *err)
{
	if (!i->idling)
		return 0;
	i->idling = false;
	char tag[16], reply[IMAP_IDLE_LINE_MAX + 1];
	snprintf(tag, sizeof tag, "D%u ", i->tag);
	int rc = send_all(i, "DONE\r\n", err);
	while (rc == 0) {
		rc = read_reply(i, (int)i->timeout * 1000, NULL, false, reply, sizeof reply, err);
		if (rc == 0)
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: no reply to DONE");
		if (rc == 1 && strncmp(reply, tag, strlen(tag)) == 0)
			return 0;
		if (rc == 1)
			rc = 0;
	}
	return rc;
}

int imap_idle_open(const ImapParams *p, volatile sig_atomic_t *stop, ImapIdle **idle_r,
		   DmError *err)
{
	ImapIdle *i = g_new0(ImapIdle, 1);
	i->stop = stop;
	i->timeout = p->timeout > 0 ? p->timeout : 60;
	i->renew_us = IMAP_IDLE_RENEW_US;
	const char *renew = getenv("DESKMAIL_IDLE_RENEW_SECONDS");
	int64_t secs;
	if (renew && dm_parse_i64(renew, 1, IMAP_IDLE_RENEW_US / G_USEC_PER_SEC, &secs) == 0)
		i->renew_us = secs * G_USEC_PER_SEC;
	g_autofree char *server = NULL;
	int rc = split_url(p->url, &server, &i->mailbox, err);
	g_autofree char *mb = rc == 0 ? quoted_mailbox(i->mailbox) : NULL;
	if (rc == 0 && mb == NULL)
		rc = dm_error_set(err, DM_ECONFIG, "IMAP IDLE: mailbox name not usable: %s",
				  i->mailbox);
	if (rc) {
		imap_idle_close(i);
		return rc;
	}
	CURL *h = i->h = curl_easy_init();
	if (h == NULL)
		abort();
	curl_easy_setopt(h, CURLOPT_URL, server);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_USERNAME, p->username);
	DmToken *token = NULL;
	if (p->oauth2_mechanism != NULL) {
		/* as the polling session: the bearer token from its file or
		 * command, the mechanism pinned (curl copies both) */
		g_autofree char *opts = g_strdup_printf("AUTH=%s", p->oauth2_mechanism);
		const char *tok = NULL;
		token = dm_token_new(p->token_file, p->token_command, (int)i->timeout);
		rc = dm_token_get(token, &tok, err);
		if (rc == 0) {
			curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, opts);
			curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, tok);
		}
	} else {
		curl_easy_setopt(h, CURLOPT_PASSWORD, p->password ? p->password : "");
	}
	if (rc) {
		dm_token_free(token);
		imap_idle_close(i);
		return rc;
	}
	/* the daemon waits on this: a short connect, and a raised stop flag
	 * ends it at once */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, MIN(10L, i->timeout));
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, open_progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, i);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, i->timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, i->errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, login_line_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, i);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, p->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, p->tls_verify ? 2L : 0L);
	if (p->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
	/* as the polling session (imap.c): clear text to loopback only */
	if (g_str_has_prefix(server, "imap://") && !imap_url_is_loopback(server))
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	CURLcode crc = curl_easy_perform(h);
	dm_token_free(token);
	if (crc != CURLE_OK) {
		/* a refused login in the server's words; else curl's, with the
		 * certificate check's result for a TLS failure (as imap.c) */
		long verify = 0;
		if (crc == CURLE_LOGIN_DENIED)
			rc = dm_error_set(err, DM_EAUTH, "IMAP IDLE: login denied: %s",
					  i->tagged[0] ? i->tagged
						       : (i->errbuf[0] ? i->errbuf
								       : curl_easy_strerror(crc)));
		else if (crc == CURLE_PEER_FAILED_VERIFICATION &&
			 curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK &&
			 verify)
			rc = dm_error_set(err, DM_ETEMP, "IMAP IDLE: %s: %s (verify result %ld)",
					  curl_easy_strerror(crc), i->errbuf, verify);
		else
			rc = dm_error_set(err, DM_ETEMP, "IMAP IDLE: %s%s%s",
					  curl_easy_strerror(crc), i->errbuf[0] ? ": " : "",
					  i->errbuf);
		imap_idle_close(i);
		return rc;
	}
	curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &i->sock);
	/* CAPABILITY after login: the list before it may lack IDLE */
	char reply[IMAP_IDLE_LINE_MAX + 1];
	bool has_idle = false;
	rc = send_all(i, "D0 CAPABILITY\r\n", err);
	int64_t cap_deadline = g_get_monotonic_time() + (int64_t)i->timeout * G_USEC_PER_SEC;
	while (rc == 0) {
		bool cut = false;
		int n = next_line(i, &cut, err);
		if (n < 0) {
			rc = n;
		} else if (n == 0) {
			/* in slices: the stop flag is looked at meanwhile */
			struct pollfd pf = {.fd = i->sock, .events = POLLIN};
			if (stop && *stop)
				rc = dm_error_set(err, DM_ETEMP, "IMAP IDLE: stopped");
			else if (g_get_monotonic_time() >= cap_deadline)
				rc = dm_error_set(err, DM_ETEMP,
						  "IMAP IDLE: no reply to CAPABILITY");
			else
				poll(&pf, 1, IMAP_IDLE_SLICE_MS);
		} else if (!cut && g_ascii_strncasecmp(i->line, "* CAPABILITY ", 13) == 0) {
			g_autofree char *caps = g_strconcat(i->line + 12, " ", NULL);
			has_idle = strstr(caps, " IDLE ") != NULL || strstr(caps, " idle ") != NULL;
		} else if (strncmp(i->line, "D0 ", 3) == 0) {
			g_strlcpy(reply, i->line, sizeof reply);
			break;
		}
	}
	if (rc == 0 && !has_idle)
		rc = dm_error_set(err, DM_ENOTFOUND, "the IMAP server does not offer IDLE");
	g_autofree char *examine = g_strdup_printf("EXAMINE %s", mb);
	if (rc == 0)
		rc = command(i, examine, err);
	i->changed = false; /* EXAMINE's own EXISTS is not news */
	if (rc == 0)
		rc = start_idle(i, err);
	if (rc) {
		imap_idle_close(i);
		return rc;
	}
	log_debug("imap: idling on %s", i->mailbox);
	*idle_r = i;
	return 0;
}

/* Whether reply is a tagged OK to the IDLE under way. */
static bool idle_ended(const ImapIdle *i, const char *reply)
{
	char tag[16];
	int n = snprintf(tag, sizeof tag, "D%u ", i->tag);
	return strncmp(reply, tag, (size_t)n) == 0 && imap_word_is(reply + n, "OK");
}

int imap_idle_wait(ImapIdle *i, int timeout_ms, volatile sig_atomic_t *stop, bool *changed_r,
		   DmError *err)
{
	*changed_r = false;
	int64_t deadline = g_get_monotonic_time() + (int64_t)MAX(timeout_ms, 0) * 1000;
	for (;;) {
		if (g_get_monotonic_time() - i->idle_since >= i->renew_us) {
			int rc = end_idle(i, err);
			if (rc == 0)
				rc = start_idle(i, err);
			if (rc)
				return rc;
			log_debug("imap: IDLE renewed on %s", i->mailbox);
		}
		/* an EXISTS seen while renewing (or by the open's IDLE) */
		if (i->changed)
			break;
		int64_t now = g_get_monotonic_time();
		int64_t until = MIN(deadline, i->idle_since + i->renew_us);
		int ms = (int)MAX((until - now) / 1000, 0);
		char reply[IMAP_IDLE_LINE_MAX + 1];
		int rc = read_reply(i, ms, stop, true, reply, sizeof reply, err);
		if (rc < 0)
			return rc;
		if (rc == 1 && i->idling && idle_ended(i, reply) &&
		    g_get_monotonic_time() - i->idle_since >= G_USEC_PER_SEC) {
			/* the server ended our IDLE with OK (some do after a
			 * while): idle again on the same connection */
			i->idling = false;
			log_debug("imap: the server ended IDLE on %s (%.80s); idling again",
				  i->mailbox, reply);
			rc = start_idle(i, err);
			if (rc)
				return rc;
			continue;
		}
		if (rc == 1)
			return dm_error_set(err, DM_ETEMP, "IMAP IDLE: unexpected \"%.80s\"",
					    reply);
		if (i->changed || (stop && *stop) || g_get_monotonic_time() >= deadline)
			break;
	}
	*changed_r = i->changed;
	i->changed = false;
	return 0;
}

void imap_idle_close(ImapIdle *i)
{
	if (i == NULL)
		return;
	if (i->h && i->idling) {
		/* DONE and LOGOUT (curl does not log a connect-only connection
		 * out); the replies are waited for a second at most, since the
		 * connection may be half dead */
		DmError ignored = {0};
		char reply[IMAP_IDLE_LINE_MAX + 1];
		i->idling = false;
		if (send_all(i, "DONE\r\nDZ LOGOUT\r\n", &ignored) == 0)
			while (read_reply(i, 1000, NULL, false, reply, sizeof reply, &ignored) ==
				       1 &&
			       strncmp(reply, "DZ ", 3) != 0)
				;
	}
	if (i->h) {
		curl_easy_setopt(i->h, CURLOPT_SERVER_RESPONSE_TIMEOUT, 2L);
		curl_easy_cleanup(i->h);
	}
	g_free(i->mailbox);
	g_free(i);
}
