/* check.c - `deskmail check-config --connect`: a login to the IMAP and the
 * SMTP server with the configured settings (password or OAuth2 token),
 * sending nothing: STATUS of the mailbox, and NOOP.  The command line
 * prints the answers (src/cli/check.c). */
#include <glib.h>

#include "desk-private.h"
#include "deskmail/imap.h"
#include "deskmail/smtp.h"

int desk_check_imap(const Config *cfg, size_t i, char **info_r, DmError *err)
{
	const CfgMailbox *mb = &cfg->mailboxes[i];
	ImapParams ip;
	desk_imap_params(mb, &ip);
	ImapSession *s = imap_session_new(&ip);
	uint32_t uidvalidity = 0, uidnext = 0;
	int rc = imap_status(s, &uidvalidity, &uidnext, err);
	if (rc == 0)
		*info_r = g_strdup_printf("%s as %s%s, UIDVALIDITY %u, UIDNEXT %u", mb->url,
					  mb->username, ip.oauth2_mechanism ? " (OAuth2)" : "",
					  uidvalidity, uidnext);
	imap_session_free(s);
	return rc;
}

int desk_check_smtp(const Config *cfg, char **info_r, DmError *err)
{
	SmtpParams sp;
	desk_smtp_params(cfg, &sp);
	SmtpClient *c = smtp_client_new(&sp);
	int rc = smtp_check(c, err);
	if (rc == 0 && cfg->smtp_username)
		*info_r =
			g_strdup_printf("%s, logged in as %s%s", smtp_shown(c), cfg->smtp_username,
					sp.oauth2_mechanism ? " (OAuth2)" : "");
	else if (rc == 0)
		*info_r = g_strdup_printf("%s, no login", smtp_shown(c));
	smtp_client_free(c);
	return rc;
}
