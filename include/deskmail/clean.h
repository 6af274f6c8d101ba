/* clean.h - the new text of a reply, without quoted history and signature.
 *
 * Works on the plain text of a mail (from text/plain, or HTML already turned
 * into text).  Cuts at the first marker of quoted history: an attribution
 * line ("On ... wrote:" in the corpus's languages, possibly wrapped over two
 * lines), Outlook's "-----Original Message-----" and "From: ... Sent: ..."
 * header block (also after a "____" rule), a "-- " signature delimiter; and
 * drops ">"-quoted lines.  The full original is kept by the caller.  Pure
 * code, no I/O. */
#ifndef DESKMAIL_CLEAN_H
#define DESKMAIL_CLEAN_H

/* Returns g_malloc'd UTF-8 (input must be UTF-8).  Never NULL; may be ""
 * when the mail was nothing but quotation. */
char *clean_reply_text(const char *text);

#endif
