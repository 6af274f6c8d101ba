/* charset.c - any bytes to valid UTF-8, the one repair every part of mime/
 * uses (parse for headers and bodies, html for markup, compose for values
 * that reach an outgoing header).  Its own file so that parse.c, html.c and
 * compose.c each depend on it and none on another: no circle.
 *
 * Valid UTF-8 runs are kept as they are; every other byte is read as
 * windows-1252 (Latin-1 for 0xa0..0xff), which is what unlabelled 8-bit mail
 * almost always is; NULs are dropped, since no string we store may hold one. */
#include <glib.h>
#include <string.h>

#include "deskmail/mime.h"
#include "mime-private.h"

/* windows-1252 for 0x80..0x9f (0 = unassigned); 0xa0..0xff are Latin-1. */
static const gunichar cp1252_c1[32] = {
	0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

static void append_fallback_byte(GString *out, unsigned char c)
{
	gunichar u = c;
	if (c >= 0x80 && c < 0xa0)
		u = cp1252_c1[c - 0x80] ? cp1252_c1[c - 0x80] : 0xfffd;
	g_string_append_unichar(out, u);
}

char *mime_to_utf8(const char *bytes, size_t len)
{
	GString *out = g_string_sized_new(len + 1);
	const char *p = bytes, *end = bytes ? bytes + len : NULL;
	while (p && p < end) {
		const char *stop = NULL;
		/* a NUL counts as invalid here, so it lands at `stop` */
		g_utf8_validate_len(p, (gsize)(end - p), &stop);
		g_string_append_len(out, p, stop - p);
		p = stop;
		if (p < end) {
			if (*p != '\0')
				append_fallback_byte(out, (unsigned char)*p);
			p++;
		}
	}
	return g_string_free(out, FALSE);
}

char *mime_cap_text(char *s, size_t max)
{
	if (s == NULL || strlen(s) <= max || max < 4)
		return s;
	const char *end = g_utf8_find_prev_char(s, s + max - 3 + 1);
	size_t keep = end ? (size_t)(end - s) : 0;
	memcpy(s + keep, "\xe2\x80\xa6", 4); /* "…" and the NUL */
	return s;
}
