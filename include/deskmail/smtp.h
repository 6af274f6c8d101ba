/* smtp.h - send one prepared message with libcurl SMTP.  Allocates with
 * GLib; hands out nothing but the client itself. */
#ifndef DESKMAIL_SMTP_H
#define DESKMAIL_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "deskmail/err.h"

typedef struct {
	const char *url;      /* smtp[s]://host[:port][/ehlo-name] */
	const char *username; /* NULL = no AUTH */
	const char *password;
	bool tls_verify;
	const char *ca_file;
	long timeout; /* seconds */
} SmtpParams;

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
 * DM_ETEMP for connection trouble or a 4xx reply, DM_EPERM for a 5xx reply
 * (message in err, with the server's code and text when there is one). */
int smtp_send(SmtpClient *c, const char *mail_from, const char *const *rcpts, size_t n_rcpts,
	      const char *data, size_t len, DmError *err);

/* True when the last smtp_send failed before the server said anything (no
 * connection, no greeting): the server is down, not refusing this mail. */
bool smtp_unreachable(const SmtpClient *c);

#endif
