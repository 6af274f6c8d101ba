/* smtp.h - send one prepared message with libcurl SMTP.  Allocates with
 * GLib; hands out nothing but the client itself. */
#ifndef DESKMAIL_SMTP_H
#define DESKMAIL_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "deskmail/err.h"

/* What to do about STARTTLS on an smtp:// URL (smtps:// is TLS from the
 * first byte and ignores this). */
typedef enum {
	SMTP_STARTTLS_TRY = 0, /* upgrade when the server offers STARTTLS, else go on in clear */
	SMTP_STARTTLS_REQUIRE, /* upgrade, or send nothing */
	SMTP_STARTTLS_NEVER,   /* stay in clear */
} SmtpStarttls;

typedef struct {
	const char *url;  /* smtp[s]://host[:port]; a path, query or user information is
			   * dropped: the EHLO name is `helo`, credentials are below */
	const char *helo; /* EHLO name; NULL = this machine's host name, whole
			   * (g_get_host_name(): gethostname(), "localhost" if
			   * unknown) */
	SmtpStarttls starttls;
	const char *username; /* NULL = no AUTH */
	const char *password;
	bool tls_verify;
	const char *ca_file;
	long timeout; /* seconds */
	/* OAuth2, as in ImapParams: NULL = the password; "XOAUTH2" or
	 * "OAUTHBEARER" = a bearer token from token_file or token_command
	 * (exactly one; needs username), fetched again once when refused. */
	const char *oauth2_mechanism;
	const char *token_file;
	const char *token_command;
} SmtpParams;

/* "try", "require", "never" (NULL = "try") to SmtpStarttls; -1 for
 * anything else. */
int smtp_starttls_parse(const char *name);

/* How a client with these parameters protects its connection. */
typedef enum {
	SMTP_TLS_REFUSE,   /* it would log in in clear to a host that is not loopback:
			    * smtp_send fails with DM_ECONFIG and connects nowhere */
	SMTP_TLS_NONE,     /* smtp://, in clear */
	SMTP_TLS_TRY,      /* smtp://, STARTTLS when offered, else in clear */
	SMTP_TLS_REQUIRED, /* smtp://, STARTTLS or the send fails (DM_ETEMP) */
	SMTP_TLS_IMPLICIT, /* smtps:// */
} SmtpTls;

/* The policy, decided before connecting.  smtps:// is IMPLICIT.  On
 * smtp://, "require" is REQUIRED and "try" is TRY, except that with a
 * username "try" becomes REQUIRED unless the host is loopback (the
 * password is never sent in clear over a network: an attacker who strips
 * STARTTLS from the server's answer gets no mail either); "never" is NONE
 * without a username or to loopback, and REFUSE otherwise.  Loopback is
 * judged by smtp_url_is_loopback().  Whatever the mode, a server that
 * offers STARTTLS must then pass certificate verification (tls_verify,
 * ca_file): a failed handshake fails the send, it never falls back to
 * clear. */
SmtpTls smtp_tls_mode(const SmtpParams *p);

/* True when curl would connect to this machine's loopback for `url`,
 * with the host taken out by curl's own URL parser and judged by
 * dm_host_is_loopback() (as imap_url_is_loopback() does for IMAP). */
bool smtp_url_is_loopback(const char *url);

typedef struct SmtpClient SmtpClient;

/* libcurl's global state, once per process before the first client and
 * before any thread starts; smtp_global_cleanup() after the last client is
 * freed.  libcurl counts these calls, so imap_global_init() may init it
 * too.  Returns 0, or DM_EINTERNAL when libcurl cannot initialise. */
int smtp_global_init(void);
void smtp_global_cleanup(void);

/* Strings are copied; the connection is opened on first use and reused.
 * smtp_client_free() accepts NULL. */
SmtpClient *smtp_client_new(const SmtpParams *p);
void smtp_client_free(SmtpClient *c);

/* Send `data` (CRLF line ends, as from mime_compose) from `mail_from` (bare
 * addr-spec, "" for the null sender) to the bare addr-spec recipients.
 * Returns 0 when the server accepted the message for every recipient,
 * DM_ETEMP for connection trouble, a 4xx reply or TLS that failed or was
 * required and not offered, DM_EPERM for a 5xx reply, DM_EAUTH when the
 * server refused the login (with OAuth2: after one new token), DM_ECONFIG
 * when the parameters are SMTP_TLS_REFUSE, and with OAuth2 the errors of
 * dm_token_get when no token can be had (message in err, with the server's code
 * and text when there is one, and the server as scheme://host:port only,
 * never the URL as given). */
int smtp_send(SmtpClient *c, const char *mail_from, const char *const *rcpts, size_t n_rcpts,
	      const char *data, size_t len, DmError *err);

/* Connect, log in (when a username is set) and say NOOP, sending no mail:
 * for `deskmail check-config --connect`.  0 when the server took it;
 * DM_EAUTH when it refused the login (its reply in err), DM_ETEMP when it
 * cannot be reached or TLS fails, DM_ECONFIG as smtp_send. */
int smtp_check(SmtpClient *c, DmError *err);
/* The server as scheme://host[:port], for messages (borrowed). */
const char *smtp_shown(const SmtpClient *c);

/* True when the last smtp_send failed before the server said anything (no
 * connection, no greeting; or, with OAuth2, no token to log in with, so
 * nothing was tried): the server is down, not refusing this mail. */
bool smtp_unreachable(const SmtpClient *c);

#endif
