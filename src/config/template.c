/* template.c - the operator's outgoing-mail templates: NAME.txt (a
 * "Subject:" header line, an empty line, the body) and optional NAME.html.
 *
 * Files are parsed once at load into segments (literal text or a {{name}}
 * placeholder), so syntax errors - an unclosed "{{", a bad name, an unknown
 * header - are reported with file and line when the daemon starts, not when a
 * client's mail is answered.  Rendering only looks the names up.  Values are
 * inserted verbatim in the subject and text body, HTML-escaped in the HTML
 * body; the subject is one line whatever the values hold (they may come from
 * mail), so a value can never add a header.
 *
 * There is no conditional or loop syntax, and no escape for a literal "{{":
 * templates are mail, not programs. */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/template.h"
#include "deskmail/util.h"

typedef struct {
	char *text; /* literal text, or the placeholder name */
	bool is_var;
	int line; /* of the placeholder, for messages */
} Segment;

typedef struct {
	char *path;   /* for messages */
	GArray *segs; /* of Segment */
} Part;

struct Template {
	char *name;
	bool has_subject;
	Part subject;
	Part text;
	Part html; /* segs == NULL when there is no NAME.html */
};

static void part_clear(Part *p)
{
	if (p->segs != NULL) {
		for (guint i = 0; i < p->segs->len; i++)
			g_free(g_array_index(p->segs, Segment, i).text);
		g_array_free(p->segs, TRUE);
		p->segs = NULL;
	}
	g_clear_pointer(&p->path, g_free);
}

void template_free(Template *tpl)
{
	if (tpl == NULL)
		return;
	part_clear(&tpl->subject);
	part_clear(&tpl->text);
	part_clear(&tpl->html);
	g_free(tpl->name);
	g_free(tpl);
}

static void add_seg(Part *p, const char *s, size_t len, bool is_var, int line)
{
	if (len == 0)
		return;
	Segment seg = {g_strndup(s, len), is_var, line};
	g_array_append_val(p->segs, seg);
}

static bool name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '.';
}

/* Split s[0..len) (no NULs; starting at line `line` of `path`) into
 * segments appended to p. */
static int parse_part(Part *p, const char *path, const char *s, size_t len, int line, DmError *err)
{
	if (p->segs == NULL)
		p->segs = g_array_new(FALSE, FALSE, sizeof(Segment));
	const char *end = s + len, *lit = s;
	for (const char *c = s; c < end;) {
		if (*c == '\n') {
			line++;
			c++;
			continue;
		}
		if (!(c[0] == '{' && c + 1 < end && c[1] == '{')) {
			c++;
			continue;
		}
		/* "{{" spaces name spaces "}}", all on one line */
		const char *q = c + 2;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		const char *name = q;
		while (q < end && name_char(*q))
			q++;
		const char *name_end = q;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q + 1 < end && q[0] == '}' && q[1] == '}' && name_end > name) {
			add_seg(p, lit, (size_t)(c - lit), false, line);
			add_seg(p, name, (size_t)(name_end - name), true, line);
			c = lit = q + 2;
			continue;
		}
		const char *nl = memchr(c, '\n', (size_t)(end - c));
		const char *eol = nl ? nl : end;
		const char *close = g_strstr_len(c + 2, eol - (c + 2), "}}");
		if (close == NULL)
			return dm_error_set(err, DM_ECONFIG,
					    "%s:%d: unclosed '{{' (no '}}' on the line)", path,
					    line);
		return dm_error_set(err, DM_ECONFIG,
				    "%s:%d: bad placeholder '%.*s' (names are letters, digits, "
				    "'_' and '.')",
				    path, line, (int)(close + 2 - c), c);
	}
	add_seg(p, lit, (size_t)(end - lit), false, line);
	return 0;
}

/* Read a template file: capped, UTF-8, CRLF turned into LF, BOM dropped.
 * Returns 0, DM_ENOTFOUND (missing) or DM_ECONFIG. */
static int read_template_file(const char *path, const char *name, char **data_r, size_t *len_r,
			      DmError *err)
{
	char *raw = NULL;
	size_t len = 0;
	if (dm_read_file(path, DM_TEMPLATE_MAX_BYTES, &raw, &len) < 0) {
		int e = errno;
		if (e == ENOENT)
			return dm_error_set(err, DM_ENOTFOUND, "template %s: %s: %s", name, path,
					    g_strerror(e));
		if (e == EFBIG)
			return dm_error_set(err, DM_ECONFIG,
					    "template %s: %s: larger than %d bytes", name, path,
					    DM_TEMPLATE_MAX_BYTES);
		return dm_error_set(err, DM_ECONFIG, "template %s: %s: cannot read: %s", name, path,
				    g_strerror(e));
	}
	const char *bad = NULL;
	if (!g_utf8_validate(raw, (gssize)len, &bad)) {
		int line = 1;
		for (const char *c = raw; c < bad; c++)
			line += *c == '\n';
		g_free(raw);
		return dm_error_set(err, DM_ECONFIG, "%s:%d: not valid UTF-8 (or holds a NUL byte)",
				    path, line);
	}
	const char *src = raw;
	if (len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0)
		src += 3;
	GString *out = g_string_sized_new(len);
	for (const char *c = src; c < raw + len; c++)
		if (!(c[0] == '\r' && c + 1 < raw + len && c[1] == '\n'))
			g_string_append_c(out, *c);
	g_free(raw);
	*len_r = out->len;
	*data_r = g_string_free(out, FALSE);
	return 0;
}

/* Header block of NAME.txt: if the first line looks like "Name: value", read
 * header lines up to the first empty line; otherwise the whole file is body.
 * Returns the offset of the body; *line_r = its first line. */
static int parse_headers(Template *tpl, const char *path, const char *data, size_t len,
			 size_t *body_r, int *line_r, DmError *err)
{
	const char *end = data + len, *c = data;
	int line = 1;

	/* an empty first line: no headers */
	if (len > 0 && data[0] == '\n') {
		*body_r = 1;
		*line_r = 2;
		return 0;
	}
	/* does the file start with a header? */
	const char *q = data;
	while (q < end && (g_ascii_isalnum(*q) || *q == '-'))
		q++;
	if (q == data || q >= end || *q != ':') {
		*body_r = 0;
		*line_r = 1;
		return 0;
	}

	while (c < end) {
		const char *nl = memchr(c, '\n', (size_t)(end - c));
		const char *eol = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (eol == c) { /* the empty line */
			*body_r = (size_t)(next - data);
			*line_r = line + 1;
			return 0;
		}
		if (*c == ' ' || *c == '\t')
			return dm_error_set(err, DM_ECONFIG,
					    "%s:%d: folded header lines are not supported "
					    "(or add an empty line before the body)",
					    path, line);
		const char *colon = c;
		while (colon < eol && (g_ascii_isalnum(*colon) || *colon == '-'))
			colon++;
		if (colon == c || colon >= eol || *colon != ':')
			return dm_error_set(err, DM_ECONFIG,
					    "%s:%d: expected a \"Subject: ...\" header or an "
					    "empty line before the body",
					    path, line);
		if (!(colon - c == 7 && g_ascii_strncasecmp(c, "Subject", 7) == 0))
			return dm_error_set(err, DM_ECONFIG,
					    "%s:%d: unknown header '%.*s' (only Subject is "
					    "understood)",
					    path, line, (int)(colon - c), c);
		if (tpl->has_subject)
			return dm_error_set(err, DM_ECONFIG, "%s:%d: a second Subject header", path,
					    line);
		const char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		tpl->has_subject = true;
		tpl->subject.path = g_strdup(path);
		int rc = parse_part(&tpl->subject, path, v, (size_t)(eol - v), line, err);
		if (rc < 0)
			return rc;
		c = next;
		line++;
	}
	/* headers only, no body */
	*body_r = len;
	*line_r = line;
	return 0;
}

static bool valid_name(const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	for (const char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '_' && *c != '-')
			return false;
	return true;
}

int template_load(const char *dir, const char *name, Template **tpl_r, DmError *err)
{
	if (!valid_name(name))
		return dm_error_set(err, DM_ECONFIG, "template '%s': bad name", name ? name : "");

	Template *tpl = g_new0(Template, 1);
	tpl->name = g_strdup(name);
	g_autofree char *txt_base = g_strdup_printf("%s.txt", name);
	g_autofree char *html_base = g_strdup_printf("%s.html", name);
	g_autofree char *txt_path = g_build_filename(dir, txt_base, NULL);
	g_autofree char *html_path = g_build_filename(dir, html_base, NULL);
	char *data = NULL;
	size_t len = 0, body = 0;
	int line = 1;

	int rc = read_template_file(txt_path, name, &data, &len, err);
	if (rc < 0)
		goto fail;
	rc = parse_headers(tpl, txt_path, data, len, &body, &line, err);
	if (rc < 0)
		goto fail;
	tpl->text.path = g_strdup(txt_path);
	rc = parse_part(&tpl->text, txt_path, data + body, len - body, line, err);
	if (rc < 0)
		goto fail;
	g_clear_pointer(&data, g_free);

	DmError html_err = {0};
	rc = read_template_file(html_path, name, &data, &len, &html_err);
	if (rc == DM_ENOTFOUND) {
		rc = 0;
	} else if (rc < 0) {
		dm_error_set(err, rc, "%s", html_err.msg);
		goto fail;
	} else {
		tpl->html.path = g_strdup(html_path);
		rc = parse_part(&tpl->html, html_path, data, len, 1, err);
		if (rc < 0)
			goto fail;
	}
	g_free(data);
	*tpl_r = tpl;
	return 0;
fail:
	g_free(data);
	template_free(tpl);
	return rc;
}

static void append_html_escaped(GString *out, const char *v)
{
	for (const char *c = v; *c; c++) {
		switch (*c) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&#39;");
			break;
		default:
			g_string_append_c(out, *c);
			break;
		}
	}
}

static int render_part(const Template *tpl, const Part *p, bool html, TemplateLookup lookup,
		       void *ctx, char **out_r, DmError *err)
{
	GString *out = g_string_new(NULL);
	for (guint i = 0; p->segs != NULL && i < p->segs->len; i++) {
		const Segment *seg = &g_array_index(p->segs, Segment, i);
		if (!seg->is_var) {
			g_string_append(out, seg->text);
			continue;
		}
		const char *v = lookup ? lookup(ctx, seg->text) : NULL;
		if (v == NULL) {
			g_string_free(out, TRUE);
			return dm_error_set(err, DM_ECONFIG,
					    "template %s: unknown placeholder {{%s}} (%s:%d)",
					    tpl->name, seg->text, p->path, seg->line);
		}
		/* values come from mail and the database: keep the output UTF-8 */
		g_autofree char *fixed =
			g_utf8_validate(v, -1, NULL) ? NULL : g_utf8_make_valid(v, -1);
		if (fixed != NULL)
			v = fixed;
		if (html)
			append_html_escaped(out, v);
		else
			g_string_append(out, v);
	}
	*out_r = g_string_free(out, FALSE);
	return 0;
}

int template_render(const Template *tpl, TemplateLookup lookup, void *ctx, char **subject_r,
		    char **text_r, char **html_r, DmError *err)
{
	char *subject = NULL, *text = NULL, *html = NULL;
	int rc = 0;

	if (tpl->has_subject) {
		rc = render_part(tpl, &tpl->subject, false, lookup, ctx, &subject, err);
		if (rc < 0)
			goto fail;
		/* one line, whatever the values held */
		for (char *c = subject; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = ' ';
		g_strstrip(subject);
	} else {
		subject = g_strdup("");
	}
	rc = render_part(tpl, &tpl->text, false, lookup, ctx, &text, err);
	if (rc < 0)
		goto fail;
	if (tpl->html.segs != NULL) {
		rc = render_part(tpl, &tpl->html, true, lookup, ctx, &html, err);
		if (rc < 0)
			goto fail;
	}
	*subject_r = subject;
	*text_r = text;
	*html_r = html;
	return 0;
fail:
	g_free(subject);
	g_free(text);
	g_free(html);
	return rc;
}
