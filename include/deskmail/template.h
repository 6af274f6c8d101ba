/* template.h - outgoing-mail templates: files the operator edits.
 *
 * A template NAME lives in the templates folder as NAME.txt (required) and
 * NAME.html (optional).  NAME.txt starts with header lines, of which only
 * "Subject: ..." is understood, then an empty line, then the body.  NAME.html
 * is a body only.  {{name}} placeholders (letters, digits, '.', '_') are
 * replaced by values from a lookup callback; in the HTML body the values are
 * HTML-escaped.  An unknown placeholder is an error, so a typo in a template
 * is found by `deskmail check-config`, not by a client.  Sizes are capped
 * (DM_TEMPLATE_MAX_BYTES per file). */
#ifndef DESKMAIL_TEMPLATE_H
#define DESKMAIL_TEMPLATE_H

#include "deskmail/err.h"

#define DM_TEMPLATE_MAX_BYTES (256 * 1024)

typedef struct Template Template;

/* Return the value for a placeholder name, or NULL if the name is unknown.
 * The string is borrowed and must stay valid during the render call. */
typedef const char *(*TemplateLookup)(void *ctx, const char *name);

/* Load dir/name.txt and dir/name.html (if present).  DM_ENOTFOUND if the
 * .txt file is missing, DM_ECONFIG for syntax errors ("file:line: ...").
 * Caller frees with template_free. */
int template_load(const char *dir, const char *name, Template **tpl_r, DmError *err);
void template_free(Template *tpl);

/* Render.  *subject_r, *text_r are malloc'd UTF-8 (g_free-compatible: use
 * g_free); *html_r is NULL when there is no HTML part.  An unknown
 * placeholder gives DM_ECONFIG naming it.  Values are used verbatim in
 * subject and text and HTML-escaped in html. Subject is "" if the template
 * has none. */
int template_render(const Template *tpl, TemplateLookup lookup, void *ctx, char **subject_r,
		    char **text_r, char **html_r, DmError *err);

#endif
