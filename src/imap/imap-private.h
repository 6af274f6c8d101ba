/* imap-private.h - what imap.c (the polling session) and idle.c (the IDLE
 * connection) both read in a server's lines. */
#ifndef DESKMAIL_IMAP_PRIVATE_H
#define DESKMAIL_IMAP_PRIVATE_H

#include <glib.h>
#include <stdbool.h>
#include <string.h>

/* Whether text starts with the word w (any case), then a space or its end. */
static inline bool imap_word_is(const char *text, const char *w)
{
	size_t n = strlen(w);
	return g_ascii_strncasecmp(text, w, n) == 0 && (text[n] == ' ' || text[n] == '\0');
}

/* The status word of a tagged reply line ("A005 NO [UNAVAILABLE] ...")
 * is st ("OK", "NO", "BAD"). */
static inline bool imap_tagged_is(const char *line, const char *st)
{
	const char *sp = strchr(line, ' ');
	return sp != NULL && imap_word_is(sp + 1, st);
}

#endif
