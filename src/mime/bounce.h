/* bounce.h - private to src/mime: recognising a delivery status
 * notification (a bounce) in a parsed message, for mime_parse. */
#ifndef DESKMAIL_MIME_BOUNCE_H
#define DESKMAIL_MIME_BOUNCE_H

#include <gmime/gmime.h>

#include "deskmail/mime.h"

/* If msg reports that a mail could not be delivered, set m->is_bounce and
 * the bounce_* strings (each may stay NULL), and make m automatic if it was
 * not yet.  Reads what mime_parse has already filled in m (from, to, cc,
 * subject, text, in_reply_to, references), so it runs after the headers and
 * the body.  Does nothing for mail that is neither a multipart/report nor
 * from a bounce sender.  Cannot fail; the strings are g_malloc'd, valid
 * UTF-8 without control characters, and freed by mail_free. */
void mime_bounce_fill(Mail *m, GMimeMessage *msg, const MimeLimits *lim);

#endif
