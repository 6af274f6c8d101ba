/* mime-private.h - shared by the files of src/mime only. */
#ifndef DESKMAIL_MIME_PRIVATE_H
#define DESKMAIL_MIME_PRIVATE_H

#include <stddef.h>

/* s (valid UTF-8) cut to at most max bytes at a character boundary, ending
 * in "…" when cut; in place, and returned (NULL stays NULL). */
char *mime_cap_text(char *s, size_t max);

#endif
