/* html.c - HTML body -> readable plain text, with libxml2's HTML parser.
 *
 * What it does: parses the HTML leniently (recover mode, no network, no
 * error output), then walks the tree without recursion, so any nesting depth
 * is safe.  Block elements become line breaks (paragraphs and headings a
 * blank line), <li> becomes "- " (indented per list level), <blockquote>
 * lines get "> ", table cells are separated by a space, <a href> becomes
 * "text <url>" unless the URL only repeats the text, whitespace is collapsed
 * outside <pre>.  Mail clients' quote containers are written as "> "
 * lines too: Gmail's gmail_quote, Yahoo's yahoo_quoted, ProtonMail's
 * protonmail_quote, Thunderbird's moz-cite-prefix, and, from where they
 * start to the end of the text, Outlook's divRplyFwdMsg / appendonsend /
 * OLK_SRC_BODY_SECTION / border-top "From:" block and Zimbra's hr#zwchr, so
 * that clean.c finds the history as ">" lines.  script, style, head, title,
 * template and elements hidden with display:none are dropped.  Entities are decoded by libxml2.
 *
 * What it does not: no CSS beyond display:none, no image alt text, no
 * attempt at table layout, no size cap of its own (the caller caps input;
 * libxml2 has its own limits).  Output is valid UTF-8 without NUL, never NULL.
 */
#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <string.h>

#include "deskmail/mime.h"

typedef struct {
	GString *out;
	int pending_nl;     /* line breaks owed before the next text */
	bool pending_space; /* a collapsed blank owed before the next text */
	int pre;            /* inside <pre> */
	int lists;          /* nesting of ul/ol */
	GArray *links;      /* out->len where each open <a> started */
	GArray *quotes;     /* out->len where each open <blockquote> started */
	gssize rest_at;     /* out->len where an Outlook-style history starts, or -1 */
	bool rest_check;    /* ... found by style only: check it starts "Word:" */
} Html;

static bool name_is(const xmlNode *n, const char *name)
{
	return n->name && g_ascii_strcasecmp((const char *)n->name, name) == 0;
}

static bool name_in(const xmlNode *n, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (name_is(n, names[i]))
			return true;
	return false;
}

static const char *const skip_tags[] = {"script",   "style",  "head",  "title",  "template",
					"noframes", "object", "embed", "iframe", NULL};
static const char *const para_tags[] = {"p",          "h1",  "h2", "h3", "h4",    "h5", "h6",
					"blockquote", "pre", "hr", "dl", "table", NULL};
static const char *const line_tags[] = {
	"div",     "tr",       "li",     "ul",         "ol",   "dt",     "dd",
	"section", "article",  "header", "footer",     "nav",  "aside",  "address",
	"form",    "fieldset", "figure", "figcaption", "main", "center", "caption",
	"thead",   "tbody",    "tfoot",  "body",       "html", NULL};

static bool hidden(const xmlNode *n)
{
	xmlChar *style = xmlGetProp(n, (const xmlChar *)"style");
	bool h = false;
	if (style) {
		GString *s = g_string_new(NULL);
		for (const xmlChar *p = style; *p; p++)
			if (!g_ascii_isspace(*p))
				g_string_append_c(s, g_ascii_tolower(*p));
		h = strstr(s->str, "display:none") != NULL;
		g_string_free(s, TRUE);
		xmlFree(style);
	}
	return h;
}

static int trailing_newlines(const GString *s)
{
	int n = 0;
	for (gsize i = s->len; i > 0 && s->str[i - 1] == '\n'; i--)
		n++;
	return n;
}

static void want_newlines(Html *h, int n)
{
	if (h->pending_nl < n)
		h->pending_nl = n;
}

/* Pay owed line breaks (or the owed blank) before new output. */
static void flush(Html *h)
{
	if (h->out->len == 0) {
		h->pending_nl = 0;
		h->pending_space = false;
		return;
	}
	if (h->pending_nl > 0) {
		for (int i = trailing_newlines(h->out); i < h->pending_nl; i++)
			g_string_append_c(h->out, '\n');
		h->pending_nl = 0;
		h->pending_space = false;
	} else if (h->pending_space) {
		char last = h->out->str[h->out->len - 1];
		if (last != ' ' && last != '\n')
			g_string_append_c(h->out, ' ');
		h->pending_space = false;
	}
}

static bool is_blank_char(gunichar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
	       c == 0xa0 || c == 0x2007 || c == 0x202f || c == 0x3000;
}

static void text_node(Html *h, const char *s)
{
	if (h->pre > 0) {
		flush(h);
		for (const char *p = s; *p; p++)
			if (*p != '\r')
				g_string_append_c(h->out, *p);
		return;
	}
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (is_blank_char(c)) {
			h->pending_space = true;
		} else if (c == 0x200b || c == 0xfeff || c == 0x200c || c == 0x034f || c == 0xad) {
			/* zero-width and soft-hyphen fillers (e-mail preheaders) */
		} else {
			flush(h);
			g_string_append_len(h->out, p, g_utf8_next_char(p) - p);
		}
	}
}

/* The text written since offset `from`, trimmed, as a new string. */
static char *written_since(Html *h, gsize from)
{
	if (from > h->out->len)
		from = h->out->len;
	char *t = g_strndup(h->out->str + from, h->out->len - from);
	return g_strstrip(t);
}

static bool same_ascii_ci(const char *a, const char *b)
{
	return g_ascii_strcasecmp(a, b) == 0;
}

/* Does the link text already say what the URL says? */
static bool url_repeats_text(const char *url, const char *text)
{
	if (same_ascii_ci(url, text))
		return true;
	const char *u = url;
	if (g_ascii_strncasecmp(u, "https://", 8) == 0)
		u += 8;
	else if (g_ascii_strncasecmp(u, "http://", 7) == 0)
		u += 7;
	size_t ul = strlen(u), tl = strlen(text);
	while (ul > 0 && u[ul - 1] == '/')
		ul--;
	while (tl > 0 && text[tl - 1] == '/')
		tl--;
	if (g_ascii_strncasecmp(text, "www.", 4) != 0 && g_ascii_strncasecmp(u, "www.", 4) == 0 &&
	    ul - 4 == tl && g_ascii_strncasecmp(u + 4, text, tl) == 0)
		return true;
	return ul == tl && g_ascii_strncasecmp(u, text, ul) == 0;
}

static void end_link(Html *h, const xmlNode *n)
{
	gsize start = g_array_index(h->links, gsize, h->links->len - 1);
	g_array_set_size(h->links, h->links->len - 1);
	xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
	if (href == NULL)
		return;
	/* no blanks or controls inside the URL we print */
	GString *url = g_string_new(NULL);
	for (const xmlChar *p = href; *p; p++)
		if (*p > ' ' && *p != 0x7f)
			g_string_append_c(url, (char)*p);
	xmlFree(href);
	g_autofree char *text = written_since(h, start);
	const char *show = url->str;
	bool skip = url->len == 0 || url->str[0] == '#' ||
		    g_ascii_strncasecmp(url->str, "javascript:", 11) == 0;
	if (!skip && g_ascii_strncasecmp(url->str, "mailto:", 7) == 0) {
		char *q = strchr(url->str + 7, '?');
		if (q)
			*q = '\0';
		show = url->str + 7;
		skip = *show == '\0' || same_ascii_ci(show, text);
	} else if (!skip) {
		skip = url_repeats_text(url->str, text);
	}
	if (!skip && g_utf8_validate(show, -1, NULL)) {
		if (*text)
			h->pending_space = true;
		flush(h);
		g_string_append_c(h->out, '<');
		g_string_append(h->out, show);
		g_string_append_c(h->out, '>');
	}
	g_string_free(url, TRUE);
}

/* Prefix every line written since `start` with "> ". */
static void quote_from(Html *h, gsize start)
{
	while (start < h->out->len && h->out->str[start] == '\n')
		start++;
	if (start >= h->out->len)
		return;
	GString *q = g_string_new("> ");
	for (gsize i = start; i < h->out->len; i++) {
		char c = h->out->str[i];
		g_string_append_c(q, c);
		if (c == '\n')
			g_string_append(q, i + 1 < h->out->len && h->out->str[i + 1] != '\n' ? "> "
											     : ">");
	}
	g_string_truncate(h->out, start);
	g_string_append_len(h->out, q->str, q->len);
	g_string_free(q, TRUE);
}

/* A quote box closes: its lines get "> ". */
static void end_quote(Html *h)
{
	gsize start = g_array_index(h->quotes, gsize, h->quotes->len - 1);
	g_array_set_size(h->quotes, h->quotes->len - 1);
	quote_from(h, start);
}

/* Outlook-style history runs to the end: quote it, if it is one (found by
 * style only: its text starts with a header word and a colon). */
static void end_rest(Html *h)
{
	if (h->rest_at < 0 || (gsize)h->rest_at >= h->out->len)
		return;
	gsize start = (gsize)h->rest_at;
	if (h->rest_check) {
		const char *p = h->out->str + start;
		while (*p == '\n' || *p == ' ' || *p == '*')
			p++;
		size_t span = strcspn(p, "\n");
		g_autofree char *head = g_strndup(p, span < 48 ? span : 48);
		if (strchr(head, ':') == NULL && strstr(head, "\xef\xbc\x9a") == NULL)
			return;
	}
	quote_from(h, start);
}

static bool attr_has(const xmlNode *n, const char *attr, const char *const *words, bool prefix)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	bool found = false;
	if (v) {
		for (int i = 0; words[i] && !found; i++)
			found = prefix ? g_ascii_strncasecmp((const char *)v, words[i],
							     strlen(words[i])) == 0
				       : strstr((const char *)v, words[i]) != NULL;
		xmlFree(v);
	}
	return found;
}

/* A mail client's container of quoted history that holds all of it:
 * Gmail, Yahoo, ProtonMail, Thunderbird's attribution, and <blockquote>
 * (Apple Mail's type="cite" and all others).  Its lines get "> ". */
static bool is_quote_box(const xmlNode *n)
{
	static const char *const classes[] = {"gmail_quote", "yahoo_quoted", "protonmail_quote",
					      "moz-cite-prefix", NULL};
	static const char *const ids[] = {"yahoo_quoted", NULL};
	if (name_is(n, "blockquote"))
		return true;
	if (!name_is(n, "div"))
		return false;
	return attr_has(n, "class", classes, false) || attr_has(n, "id", ids, true);
}

/* Where a client starts the history and writes it as what follows, not
 * inside one container: Outlook's reply header (divRplyFwdMsg,
 * appendonsend, Outlook for Mac's reference container or its older
 * span#OLK_SRC_BODY_SECTION, the desktop's
 * border-top "From:" block) and Zimbra's <hr id="zwchr">.  From there to
 * the end, lines get "> ".  *check: found by style only. */
static bool is_rest_marker(const xmlNode *n, bool *check)
{
	static const char *const ids[] = {"divRplyFwdMsg", "appendonsend",
					  "mail-editor-reference-message-container", NULL};
	static const char *const zimbra[] = {"zwchr", NULL};
	static const char *const olk[] = {"OLK_SRC_BODY_SECTION", NULL};
	*check = false;
	if (name_is(n, "hr"))
		return attr_has(n, "id", zimbra, false);
	/* Outlook for Mac (2011-2019): the history in a <span> */
	if (name_is(n, "span"))
		return attr_has(n, "id", olk, false);
	if (!name_is(n, "div"))
		return false;
	if (attr_has(n, "id", ids, false))
		return true;
	xmlChar *style = xmlGetProp(n, (const xmlChar *)"style");
	bool found = false;
	if (style) {
		GString *st = g_string_new(NULL);
		for (const xmlChar *p = style; *p && st->len < 512; p++)
			if (!g_ascii_isspace(*p))
				g_string_append_c(st, g_ascii_tolower(*p));
		found = strstr(st->str, "border:none") && strstr(st->str, "border-top:solid");
		g_string_free(st, TRUE);
		xmlFree(style);
	}
	*check = found;
	return found;
}

/* Returns true if the children are to be visited. */
static bool enter(Html *h, const xmlNode *n)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			text_node(h, (const char *)n->content);
		return false;
	}
	if (n->type != XML_ELEMENT_NODE)
		return false;
	if (name_in(n, skip_tags) || hidden(n))
		return false;
	if (name_is(n, "br")) {
		flush(h);
		g_string_append_c(h->out, '\n');
		h->pending_space = false;
		return true;
	}
	if (name_in(n, para_tags))
		want_newlines(h, 2);
	else if (name_in(n, line_tags))
		want_newlines(h, 1);
	if (name_is(n, "ul") || name_is(n, "ol"))
		h->lists++;
	else if (name_is(n, "li")) {
		flush(h);
		h->pending_nl = 0;
		if (h->out->len > 0 && h->out->str[h->out->len - 1] != '\n')
			g_string_append_c(h->out, '\n');
		for (int i = 1; i < h->lists; i++)
			g_string_append(h->out, "  ");
		g_string_append(h->out, "- ");
		h->pending_space = false;
	} else if (name_is(n, "pre"))
		h->pre++;
	else if (name_is(n, "a")) {
		gsize at = h->out->len;
		g_array_append_val(h->links, at);
	} else if (is_quote_box(n)) {
		flush(h);
		gsize at = h->out->len;
		g_array_append_val(h->quotes, at);
	}
	bool check;
	if (h->rest_at < 0 && is_rest_marker(n, &check)) {
		flush(h);
		h->rest_at = (gssize)h->out->len;
		h->rest_check = check;
	}
	return true;
}

static void leave(Html *h, const xmlNode *n)
{
	if (n->type != XML_ELEMENT_NODE)
		return;
	if (name_is(n, "a") && h->links->len > 0)
		end_link(h, n);
	else if (h->quotes->len > 0 && is_quote_box(n))
		end_quote(h);
	else if (name_is(n, "pre") && h->pre > 0)
		h->pre--;
	else if ((name_is(n, "ul") || name_is(n, "ol")) && h->lists > 0)
		h->lists--;
	else if (name_is(n, "td") || name_is(n, "th"))
		h->pending_space = true;
	if (name_in(n, para_tags))
		want_newlines(h, 2);
	else if (name_in(n, line_tags))
		want_newlines(h, 1);
}

static void walk_tree(Html *h, xmlDoc *doc)
{
	xmlNode *cur = doc->children;
	while (cur) {
		bool desc = enter(h, cur);
		if (desc && cur->children) {
			cur = cur->children;
			continue;
		}
		if (desc)
			leave(h, cur);
		while (cur && cur->next == NULL) {
			cur = cur->parent;
			if (cur == NULL || cur == (xmlNode *)doc) {
				cur = NULL;
				break;
			}
			leave(h, cur);
		}
		if (cur)
			cur = cur->next;
	}
}

/* Blanks before line ends out, 3+ line breaks -> 2, trimmed. */
static char *tidy(GString *s)
{
	GString *o = g_string_sized_new(s->len + 1);
	int nl = 0;
	for (gsize i = 0; i < s->len; i++) {
		char c = s->str[i];
		if (c == '\n') {
			while (o->len > 0 &&
			       (o->str[o->len - 1] == ' ' || o->str[o->len - 1] == '\t'))
				g_string_truncate(o, o->len - 1);
			if (++nl <= 2)
				g_string_append_c(o, '\n');
		} else {
			nl = 0;
			g_string_append_c(o, c);
		}
	}
	char *r = g_string_free(o, FALSE);
	g_strstrip(r);
	return r;
}

char *mime_html_to_text(const char *html, size_t len)
{
	if (html == NULL || len == 0)
		return g_strdup("");
	if (len > INT_MAX)
		len = INT_MAX;
	char *fixed = NULL;
	if (!g_utf8_validate_len(html, len, NULL)) {
		fixed = mime_to_utf8(html, len);
		html = fixed;
		len = strlen(fixed);
	}
	htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
					HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
						HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	g_free(fixed);
	if (doc == NULL)
		return g_strdup("");
	Html h = {
		.out = g_string_new(NULL),
		.links = g_array_new(FALSE, FALSE, sizeof(gsize)),
		.quotes = g_array_new(FALSE, FALSE, sizeof(gsize)),
		.rest_at = -1,
	};
	walk_tree(&h, doc);
	end_rest(&h);
	xmlFreeDoc(doc);
	g_array_free(h.links, TRUE);
	g_array_free(h.quotes, TRUE);
	char *r = tidy(h.out);
	g_string_free(h.out, TRUE);
	if (!g_utf8_validate(r, -1, NULL)) {
		char *f = mime_to_utf8(r, strlen(r));
		g_free(r);
		r = f;
	}
	return r;
}
