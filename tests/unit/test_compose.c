/* test_compose.c - mime_compose: the wire form (CRLF only, line lengths,
 * 7-bit, folding, boundaries), round trips through mime_parse and through
 * Python's email package (tests/unit/compose_check.py, found through
 * DM_SRCDIR), injection attempts in every header input, invalid UTF-8, and
 * what compose refuses.
 *
 * Each test composes a batch of OutMails.  For each one the expected reading
 * (key -> value, the keys of compose_check.py) is worked out from the
 * OutMail by the rules compose promises (dm_header_safe after mime_to_utf8,
 * stripped; body line ends LF), then compared with what mime_parse reads
 * and with what Python reads.  The random test draws its mails with
 * g_test_rand_*: run with --seed to repeat a failure. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/err.h"
#include "deskmail/mime.h"
#include "deskmail/util.h"

/* ---- what compose promises --------------------------------------------- */

/* A header value as it must come back: valid UTF-8, controls as spaces,
 * stripped.  NULL stays NULL. */
static char *hv(const char *s)
{
	if (s == NULL)
		return NULL;
	g_autofree char *u = mime_to_utf8(s, strlen(s));
	char *m = dm_header_safe(u);
	char *r = g_strdup(g_strstrip(m));
	free(m);
	return r;
}

/* A body as it must come back: valid UTF-8, LF line ends. */
static char *body_expect(const char *s)
{
	return dm_lf_newlines(mime_to_utf8(s, strlen(s)));
}

/* compose.c's rule for ids from incoming mail (kept when true). */
static bool id_ok(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 250 || strchr(id, '@') == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("<>\"\\(),;", *p))
			return false;
	return true;
}

/* The attachment types the tests use and what compose makes of them. */
static const char *type_expect(const char *ct)
{
	static const char *const map[][2] = {
		{"application/pdf", "application/pdf"},
		{"text/csv; charset=utf-8", "text/csv"},
		{"TEXT/HTML", "text/html"},
		{"image/png\r\nBcc: evil@example.org", "image/png"},
		{"application/vnd.oasis.opendocument.text",
		 "application/vnd.oasis.opendocument.text"},
		{"multipart/mixed; boundary=x", "application/octet-stream"},
		{"message/rfc822", "application/octet-stream"},
		{"not a type", "application/octet-stream"},
		{"", "application/octet-stream"},
		{"text/", "application/octet-stream"},
	};
	if (ct == NULL)
		return "application/octet-stream";
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (strcmp(ct, map[i][0]) == 0)
			return map[i][1];
	g_error("type_expect: no entry for \"%s\"", ct);
}

/* What mime_parse makes of a file name (its clean_filename): the part after
 * the last / or \, stripped; NULL if nothing is left. */
static char *parsed_filename(const char *name)
{
	const char *base = name;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	char *r = g_strstrip(g_strdup(base));
	if (*r == '\0' || strcmp(r, ".") == 0 || strcmp(r, "..") == 0) {
		g_free(r);
		return NULL;
	}
	return r;
}

/* ---- the wire ------------------------------------------------------------ */

/* A header line over 78 columns is allowed only when it has nothing left to
 * fold at: one token after "Name:" or after the fold's whitespace. */
static bool could_fold(const char *line, size_t n, bool continuation)
{
	size_t i = 0;
	if (!continuation) {
		while (i < n && line[i] != ':')
			i++;
		i++;
	}
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	for (; i < n; i++)
		if (line[i] == ' ' || line[i] == '\t')
			return true;
	return false;
}

typedef struct {
	size_t delimiters; /* "--b" lines of declared boundaries */
	size_t closes;     /* "--b--" lines */
	size_t header_lines;
	size_t longest_header;
	char *boundaries; /* the declared ones, space-separated */
} WireStats;

/* CRLF only, no NUL, 7-bit (unless eight_bit_headers: an EAI address),
 * lines <= 998, header lines <= 78 unless unfoldable, header names ftext,
 * body lines <= 76 (quoted-printable and base64), and no line that starts
 * with a declared boundary unless it is a delimiter. */
static void check_wire(const char *wire, size_t len, bool eight_bit_headers, WireStats *st)
{
	memset(st, 0, sizeof *st);
	g_assert_cmpuint(strlen(wire), ==, len);
	g_assert_true(len >= 2 && wire[len - 2] == '\r' && wire[len - 1] == '\n');
	GPtrArray *bounds = g_ptr_array_new_with_free_func(g_free);
	bool in_headers = true;
	for (const char *p = wire, *end = wire + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		g_assert_nonnull(nl);
		g_assert_true(nl > p && nl[-1] == '\r');
		size_t n = (size_t)(nl - 1 - p);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			g_assert_cmpuint(c, !=, 0);
			g_assert_cmpuint(c, !=, '\r');
			if (!(in_headers && eight_bit_headers))
				g_assert_cmpuint(c, <, 0x80);
		}
		g_assert_cmpuint(n, <=, 998);
		/* a transport may strip trailing whitespace (RFC 2045 6.7 (3)) */
		if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			g_error("line ends in whitespace: \"%.*s\"", (int)n, p);
		if (in_headers && n == 0) {
			in_headers = false;
		} else if (in_headers) {
			bool cont = p[0] == ' ' || p[0] == '\t';
			if (!cont) {
				size_t k = 0;
				while (k < n && p[k] > ' ' && p[k] < 0x7f && p[k] != ':')
					k++;
				g_assert_cmpuint(k, >, 0);
				g_assert_cmpint(p[k], ==, ':');
			}
			st->header_lines++;
			st->longest_header = MAX(st->longest_header, n);
			if (n > 78 && could_fold(p, n, cont))
				g_error("header line could be folded: %.*s", (int)n, p);
			const char *b = g_strstr_len(p, (gssize)n, "boundary=\"");
			if (b) {
				b += 10;
				const char *q = memchr(b, '"', (size_t)(p + n - b));
				g_assert_nonnull(q);
				g_ptr_array_add(bounds, g_strndup(b, (size_t)(q - b)));
			}
		} else {
			g_assert_cmpuint(n, <=, 76);
			for (guint i = 0; i < bounds->len && n >= 2 && p[0] == '-' && p[1] == '-';
			     i++) {
				const char *b = bounds->pdata[i];
				size_t bl = strlen(b);
				if (n < 2 + bl || memcmp(p + 2, b, bl) != 0)
					continue;
				if (n == 2 + bl) {
					st->delimiters++;
					in_headers = true;
				} else if (n == 4 + bl && p[2 + bl] == '-' && p[3 + bl] == '-') {
					st->closes++;
				} else {
					g_error("content line starts with a boundary: %.*s", (int)n,
						p);
				}
			}
		}
		p = nl + 1;
	}
	g_ptr_array_add(bounds, NULL);
	st->boundaries = g_strjoinv(" ", (char **)bounds->pdata);
	g_ptr_array_free(bounds, TRUE);
}

/* The header block's lines (unfolded) that start with name: */
static size_t count_header(const char *wire, const char *name)
{
	size_t n = 0, nl = strlen(name);
	for (const char *p = wire; *p;) {
		if (p[0] == '\r' && p[1] == '\n')
			break;
		if (g_ascii_strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			n++;
		const char *e = strstr(p, "\r\n");
		p = e ? e + 2 : p + strlen(p);
	}
	return n;
}

/* The encoded words in header `name`. */
static size_t count_encoded_words(const char *wire, const char *name)
{
	size_t nl = strlen(name), n = 0;
	for (const char *p = wire; *p;) {
		if (p[0] == '\r' && p[1] == '\n')
			break;
		const char *e = strstr(p, "\r\n");
		if (g_ascii_strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			while (e[2] == ' ' || e[2] == '\t')
				e = strstr(e + 2, "\r\n");
			for (const char *q = p; (q = g_strstr_len(q, e - q, "=?UTF-8?")); q++)
				n++;
			return n;
		}
		p = e + 2;
	}
	return 0;
}

/* Python's email (3.11) reads the spaces of an encoded display name its own
 * way: it keeps the whitespace between encoded words (RFC 2047 6.2 says to
 * drop it, as GMime does) and collapses runs of spaces inside them.  An
 * encoded name's reading matches when only spaces differ. */
static bool names_match(const char *want_v, const char *got_v, size_t ews)
{
	if (g_strcmp0(want_v, got_v) == 0)
		return true;
	if (ews < 1 || want_v == NULL || got_v == NULL)
		return false;
	GString *x = g_string_new(NULL), *y = g_string_new(NULL);
	for (const char *p = want_v; *p; p++)
		if (*p != ' ')
			g_string_append_c(x, *p);
	for (const char *p = got_v; *p; p++)
		if (*p != ' ')
			g_string_append_c(y, *p);
	bool same = strcmp(x->str, y->str) == 0;
	g_string_free(x, TRUE);
	g_string_free(y, TRUE);
	return same;
}

/* The physical lines of header `name` (1 + its continuation lines). */
static size_t header_line_count(const char *wire, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = wire; *p;) {
		if (p[0] == '\r' && p[1] == '\n')
			return 0;
		const char *e = strstr(p, "\r\n");
		if (g_ascii_strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			size_t lines = 1;
			while (e[2] == ' ' || e[2] == '\t') {
				lines++;
				e = strstr(e + 2, "\r\n");
			}
			return lines;
		}
		p = e + 2;
	}
	return 0;
}

/* ---- a batch of mails, each read by mime_parse and by Python --------- */

typedef struct {
	char *label;
	char *wire;
	size_t len;
	GHashTable *want; /* key -> value; NULL value: must be absent */
	size_t from_ews;  /* encoded words in From, To (see names_match) */
	size_t to_ews;
	char **att_data; /* expected attachment bytes, for mime_parse */
	size_t *att_size;
	size_t n_att;
} Case;

typedef struct {
	GPtrArray *cases;
} Batch;

static void case_free(gpointer p)
{
	Case *c = p;
	g_free(c->label);
	g_free(c->wire);
	g_hash_table_destroy(c->want);
	for (size_t i = 0; i < c->n_att; i++)
		g_free(c->att_data[i]);
	g_free(c->att_data);
	g_free(c->att_size);
	g_free(c);
}

static Batch *batch_new(void)
{
	Batch *b = g_new0(Batch, 1);
	b->cases = g_ptr_array_new_with_free_func(case_free);
	return b;
}

static void batch_free(Batch *b)
{
	g_ptr_array_free(b->cases, TRUE);
	g_free(b);
}

static void want(Case *c, const char *key, char *value_owned)
{
	g_hash_table_replace(c->want, g_strdup(key), value_owned);
}

static void want_s(Case *c, const char *key, const char *value)
{
	want(c, key, g_strdup(value));
}

/* The expected reading of an OutMail that composes. */
static void expect_from(Case *c, const OutMail *o)
{
	char *fn = hv(o->from_name);
	want(c, "From.name", fn ? fn : g_strdup(""));
	want_s(c, "From.addr", o->from_addr);
	want_s(c, "From.count", "1");
	char *tn = hv(o->to_name);
	want(c, "To.name", tn ? tn : g_strdup(""));
	want_s(c, "To.addr", o->to_addr);
	want_s(c, "To.count", "1");
	if (o->reply_to) {
		want_s(c, "Reply-To.addr", o->reply_to);
		want_s(c, "Reply-To.name", "");
	} else {
		want(c, "Reply-To.count", NULL);
	}
	want(c, "Cc", NULL);
	want(c, "Bcc", NULL);
	want(c, "X-Evil", NULL);
	want(c, "Subject", hv(o->subject ? o->subject : ""));
	want_s(c, "Message-ID", o->message_id);
	want_s(c, "In-Reply-To", id_ok(o->in_reply_to) ? o->in_reply_to : NULL);
	GString *refs = g_string_new(NULL);
	for (size_t i = 0; o->references && i < o->n_references; i++)
		if (id_ok(o->references[i]))
			g_string_append_printf(refs, "%s%s", refs->len ? " " : "",
					       o->references[i]);
	want(c, "References", g_string_free(refs, refs->len == 0));
	g_autofree char *auto_sub = hv(o->auto_submitted);
	want_s(c, "Auto-Submitted", auto_sub && *auto_sub ? auto_sub : NULL);
	want_s(c, "X-Auto-Response-Suppress", auto_sub && *auto_sub ? "All" : NULL);
	want_s(c, "MIME-Version", "1.0");
	for (size_t i = 0; i < o->n_extra_headers; i++) {
		g_autofree char *k = g_strconcat("extra.", o->extra_headers[2 * i], NULL);
		want(c, k, hv(o->extra_headers[2 * i + 1]));
	}
	if (o->date > 0)
		want(c, "Date", g_strdup_printf("%lld", (long long)o->date));
	want(c, "plain", body_expect(o->text));
	want(c, "html", o->html ? body_expect(o->html) : NULL);
	want_s(c, "type",
	       o->n_attachments ? "multipart/mixed"
	       : o->html        ? "multipart/alternative"
				: "text/plain");
	want(c, "attachments", g_strdup_printf("%zu", o->n_attachments));
	c->n_att = o->n_attachments;
	c->att_data = g_new0(char *, o->n_attachments + 1);
	c->att_size = g_new0(size_t, o->n_attachments + 1);
	for (size_t i = 0; i < o->n_attachments; i++) {
		const OutAttachment *a = &o->attachments[i];
		char key[64], sha[65];
		g_autofree char *name = hv(a->filename);
		snprintf(key, sizeof key, "att%zu.filename", i);
		want_s(c, key, name && *name ? name : "attachment");
		snprintf(key, sizeof key, "att%zu.name", i);
		want_s(c, key, name && *name ? name : "attachment");
		snprintf(key, sizeof key, "att%zu.type", i);
		want_s(c, key, type_expect(a->content_type));
		dm_sha256_hex(a->data, a->size, sha);
		snprintf(key, sizeof key, "att%zu.sha256", i);
		want_s(c, key, sha);
		snprintf(key, sizeof key, "att%zu.size", i);
		want(c, key, g_strdup_printf("%zu", a->size));
		c->att_data[i] = g_malloc(a->size + 1);
		if (a->size > 0)
			memcpy(c->att_data[i], a->data, a->size);
		c->att_size[i] = a->size;
	}
	want_s(c, "defects", "");
}

static const char *got(GHashTable *t, const char *key)
{
	return g_hash_table_lookup(t, key);
}

static void check_str(const Case *c, const char *who, const char *key, const char *want_v,
		      const char *got_v)
{
	if (g_strcmp0(want_v, got_v) != 0)
		g_error("%s: %s reads %s as \"%s\", want \"%s\"", c->label, who, key,
			got_v ? got_v : "(absent)", want_v ? want_v : "(absent)");
}

/* mime_parse's reading against the expected one. */
static void check_parsed(const Case *c)
{
	Mail *m = NULL;
	MimeLimits lim;
	mime_limits_default(&lim);
	/* what is composed must come back whole: lift the caps the parser puts
	 * on incoming names and subjects (test_mime checks those) */
	lim.max_name_bytes = lim.max_subject_bytes = 1 << 20;
	DmError e = {0};
	int rc = mime_parse((const unsigned char *)c->wire, c->len, &lim, &m, &e);
	if (rc != 0)
		g_error("%s: mime_parse: %d %s", c->label, rc, e.msg);
	GHashTable *w = c->want;
	g_assert_nonnull(m->from);
	check_str(c, "mime_parse", "From.name", got(w, "From.name"),
		  m->from->name ? m->from->name : "");
	g_assert_cmpint(g_ascii_strcasecmp(m->from->addr, got(w, "From.addr")), ==, 0);
	g_assert_cmpuint(m->n_to, ==, 1);
	g_assert_cmpuint(m->n_cc, ==, 0);
	check_str(c, "mime_parse", "To.name", got(w, "To.name"),
		  m->to[0].name ? m->to[0].name : "");
	g_assert_cmpint(g_ascii_strcasecmp(m->to[0].addr, got(w, "To.addr")), ==, 0);
	check_str(c, "mime_parse", "Subject", got(w, "Subject"), m->subject);
	check_str(c, "mime_parse", "Message-ID", got(w, "Message-ID"), m->message_id);
	check_str(c, "mime_parse", "In-Reply-To", got(w, "In-Reply-To"), m->in_reply_to);
	GString *refs = g_string_new(NULL);
	for (size_t i = 0; i < m->n_references; i++)
		g_string_append_printf(refs, "%s%s", i ? " " : "", m->references[i]);
	check_str(c, "mime_parse", "References", got(w, "References"),
		  refs->len ? refs->str : NULL);
	g_string_free(refs, TRUE);
	g_autofree char *date = g_strdup_printf("%lld", (long long)m->date);
	if (got(w, "Date"))
		check_str(c, "mime_parse", "Date", got(w, "Date"), date);
	g_assert_true(m->is_automatic == (got(w, "Auto-Submitted") != NULL));
	/* mime_parse lets a blank text/plain give way to the HTML */
	const char *plain = got(w, "plain");
	bool blank = plain[strspn(plain, " \t\n")] == '\0';
	g_assert_true(!m->text_from_html || (blank && got(w, "html")));
	if (!m->text_from_html)
		check_str(c, "mime_parse", "plain", plain, m->text);
	check_str(c, "mime_parse", "html", got(w, "html"), m->html);
	g_assert_cmpuint(m->n_attachments, ==, c->n_att);
	for (size_t i = 0; i < c->n_att; i++) {
		char key[64];
		snprintf(key, sizeof key, "att%zu.filename", i);
		g_autofree char *fname = parsed_filename(got(w, key));
		g_autofree char *fallback = g_strdup_printf("attachment-%zu", i + 1);
		if (strlen(got(w, key)) <= 200)
			check_str(c, "mime_parse", key, fname ? fname : fallback,
				  m->attachments[i].filename);
		snprintf(key, sizeof key, "att%zu.type", i);
		check_str(c, "mime_parse", key, got(w, key), m->attachments[i].content_type);
		g_assert_cmpmem(m->attachments[i].data, m->attachments[i].size, c->att_data[i],
				c->att_size[i]);
	}
	mail_free(m);
}

/* Compose o (which must compose), check its wire form and mime_parse's
 * reading, and keep it for Python.  over: NULL or key, value, ... NULL
 * replacing expected readings.  Returns the case (owned by the batch). */
static Case *batch_add_flags(Batch *b, const char *label, const OutMail *o, bool eight_bit_headers,
			     const char *const *over)
{
	Case *c = g_new0(Case, 1);
	c->label = g_strdup(label);
	c->want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	DmError e = {0};
	int rc = mime_compose(o, &c->wire, &c->len, &e);
	if (rc != 0)
		g_error("%s: mime_compose: %d %s", label, rc, e.msg);
	WireStats st;
	check_wire(c->wire, c->len, eight_bit_headers, &st);
	size_t parts = (o->html ? 2 : 0) + (o->n_attachments ? o->n_attachments + 1 : 0);
	g_assert_cmpuint(st.delimiters, ==, parts);
	g_assert_cmpuint(st.closes, ==, (o->html ? 1 : 0) + (o->n_attachments ? 1 : 0));
	g_free(st.boundaries);
	expect_from(c, o);
	for (size_t i = 0; over && over[i]; i += 2)
		want_s(c, over[i], over[i + 1]);
	c->from_ews = count_encoded_words(c->wire, "From");
	c->to_ews = count_encoded_words(c->wire, "To");
	check_parsed(c);
	g_ptr_array_add(b->cases, c);
	return c;
}

static Case *batch_add(Batch *b, const char *label, const OutMail *o)
{
	return batch_add_flags(b, label, o, false, NULL);
}

static char *script_path(void)
{
	const char *src = g_getenv("DM_SRCDIR");
	return g_build_filename(src ? src : ".", "tests", "unit", "compose_check.py", NULL);
}

/* Python's reading of every mail of the batch against the expected one. */
static void batch_python(Batch *b)
{
	g_autofree char *script = script_path();
	g_autofree char *tmp = NULL;
	GError *error = NULL;
	int fd = g_file_open_tmp("dm-compose-XXXXXX", &tmp, &error);
	g_assert_no_error(error);
	FILE *f = fdopen(fd, "wb");
	g_assert_nonnull(f);
	for (guint i = 0; i < b->cases->len; i++) {
		Case *c = b->cases->pdata[i];
		fprintf(f, "%zu\n", c->len);
		g_assert_cmpuint(fwrite(c->wire, 1, c->len, f), ==, c->len);
	}
	g_assert_cmpint(fclose(f), ==, 0);
	const char *argv[] = {"python3", script, tmp, NULL};
	g_autofree char *out = NULL, *errout = NULL;
	int status = 0;
	gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
				   &errout, &status, &error);
	g_unlink(tmp);
	g_assert_no_error(error);
	g_assert_true(ok);
	if (!g_spawn_check_wait_status(status, &error))
		g_error("python3 %s: %s\n%s", script, error->message, errout);
	/* records of "key\thex" lines, each ended by "end\t" */
	gchar **lines = g_strsplit(out, "\n", -1);
	guint n = 0;
	GHashTable *rec = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (gchar **l = lines; *l; l++) {
		if (**l == '\0')
			continue;
		char *tab = strchr(*l, '\t');
		g_assert_nonnull(tab);
		*tab = '\0';
		if (strcmp(*l, "end") == 0) {
			g_assert_cmpuint(n, <, b->cases->len);
			Case *c = b->cases->pdata[n++];
			GHashTableIter it;
			gpointer k, v;
			g_hash_table_iter_init(&it, c->want);
			while (g_hash_table_iter_next(&it, &k, &v)) {
				size_t ews = strcmp(k, "From.name") == 0 ? c->from_ews
					     : strcmp(k, "To.name") == 0 ? c->to_ews
									 : 0;
				if (!names_match(v, got(rec, k), ews))
					check_str(c, "python", k, v, got(rec, k));
			}
			g_hash_table_remove_all(rec);
			continue;
		}
		size_t hl = strlen(tab + 1);
		g_assert_cmpuint(hl % 2, ==, 0);
		char *val = g_malloc(hl / 2 + 1);
		for (size_t i = 0; i < hl / 2; i++)
			val[i] = (char)(g_ascii_xdigit_value(tab[1 + 2 * i]) * 16 +
					g_ascii_xdigit_value(tab[2 + 2 * i]));
		val[hl / 2] = '\0';
		g_hash_table_replace(rec, g_strdup(*l), val);
	}
	g_assert_cmpuint(n, ==, b->cases->len);
	g_hash_table_destroy(rec);
	g_strfreev(lines);
}

/* ---- fixed cases ------------------------------------------------------- */

static OutMail base_out(void)
{
	OutMail m = {
		.from_name = "Support Desk",
		.from_addr = "support@desk.example",
		.to_name = "Alice Example",
		.to_addr = "alice@client.example",
		.subject = "Re: [#42] Printer",
		.message_id = "dm.1.abc@desk.example",
		.text = "Hello Alice,\n\nwe are on it.\n",
		.date = 1772534096,
	};
	return m;
}

/* pre, n copies of piece, post. */
static char *repx(const char *pre, const char *piece, int n, const char *post)
{
	GString *s = g_string_new(pre);
	for (int i = 0; i < n; i++)
		g_string_append(s, piece);
	g_string_append(s, post);
	return g_string_free(s, FALSE);
}

static char *rep(const char *piece, int n)
{
	return repx("", piece, n, "");
}

static void test_typical(void)
{
	/* the shape of a staff notification: every header line fits 78 */
	g_autofree char *para = rep("Guten Tag, der Drucker im zweiten Stock meldet „Papierstau“ "
				    "– können Sie bitte jemanden vorbeischicken?\n",
				    30);
	g_autofree char *html = g_strconcat("<html><body><p>", para, "</p></body></html>\n", NULL);
	const char *refs[] = {"CAFx1y2z3@mail.client.example", "dm.1772534000.ab12@desk.example"};
	const char *extra[] = {"X-Deskmail-Ticket", "1234"};
	OutMail o = base_out();
	o.from_name = "Jo Staff (Support Desk)";
	o.to_name = "Jürgen Müller";
	o.reply_to = "support@desk.example";
	o.subject = "[#1234] New ticket: Drucker im 2. Stock druckt nicht – bitte dringend";
	o.in_reply_to = refs[0];
	o.references = refs;
	o.n_references = 2;
	o.extra_headers = extra;
	o.n_extra_headers = 1;
	o.text = para;
	o.html = html;
	Batch *b = batch_new();
	Case *c = batch_add(b, "typical", &o);
	WireStats st;
	check_wire(c->wire, c->len, false, &st);
	g_assert_cmpuint(st.longest_header, <=, 78);
	g_assert_cmpuint(st.delimiters, ==, 2);
	g_free(st.boundaries);
	g_assert_nonnull(strstr(c->wire, "\r\nMIME-Version: 1.0\r\n"));
	g_assert_nonnull(strstr(c->wire, "Content-Type: text/plain; charset=utf-8\r\n"
					 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	g_assert_nonnull(strstr(c->wire, "Content-Type: text/html; charset=utf-8\r\n"
					 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	g_assert_true(g_str_has_prefix(c->wire, "Date: Tue, 03 Mar 2026 10:34:56 +0000\r\n"));
	g_assert_null(strstr(c->wire, "8bit"));
	g_assert_null(strstr(c->wire, "iso-8859"));
	/* the ASCII words of the subject stay readable */
	g_assert_nonnull(strstr(c->wire, "Subject: [#1234] New ticket: Drucker"));
	batch_python(b);
	batch_free(b);
}

static void test_names(void)
{
	static const char *const names[] = {
		"Support Desk",
		"Desk, Help",
		"Jürgen \"JM\" Müller",
		"O'Brien, Seán (Ops)",
		"a \"quoted\" \\ backslash",
		"Müller, Jürgen",
		"=?utf-8?q?not=20encoded?=",
		"x=?y",
		"Jo Staff (Support Desk)",
		"Dr. A. Example",
		"Jo  two  spaces",
		"\xe5\xbc\xa0\xe4\xbc\x9f (\xe5\xae\xa2\xe6\x88\xb7)", /* CJK */
		"😀 Emoji 🎉 Person",
		"<alice@client.example>",
		"alice@client.example",
		"semi;colon:colon",
		"tab\there",
		"trailing space   ",
		"   ",
		"",
		"Bcc: x@evil.example",
		"a\xff\xfe b\xc3",
		"\xc3\xa9\xcc\x81 combining",
		NULL,
	};
	Batch *b = batch_new();
	for (int i = 0; names[i]; i++) {
		OutMail o = base_out();
		o.from_name = names[i];
		o.to_name = names[(i + 7) % (int)(G_N_ELEMENTS(names) - 1)];
		g_autofree char *label = g_strdup_printf("name %d", i);
		batch_add(b, label, &o);
	}
	/* long names: folded into several encoded words or quoted pieces */
	g_autofree char *long1 = rep("Ünïcödé Nämé ", 20);
	g_autofree char *long2 = rep("Long, Quoted \"Name\" ", 15);
	g_autofree char *long3 = rep("x", 300);
	g_autofree char *long4 = rep("ü", 300);
	g_autofree char *long5 = rep("Atom Only Name ", 12);
	g_autofree char *long6 = repx("", "a", 70, " b");
	const char *longs[] = {long1, long2, long3, long4, long5, long6};
	for (size_t i = 0; i < G_N_ELEMENTS(longs); i++) {
		OutMail o = base_out();
		o.to_name = longs[i];
		o.from_name = longs[(i + 1) % G_N_ELEMENTS(longs)];
		g_autofree char *label = g_strdup_printf("long name %zu", i);
		Case *c = batch_add(b, label, &o);
		g_assert_cmpuint(header_line_count(c->wire, "To"), >, 1);
	}
	batch_python(b);
	batch_free(b);
}

static void test_subjects(void)
{
	g_autofree char *ascii_long = rep("lorem ipsum dolor ", 20);
	g_autofree char *cyr = rep("тест ", 60);
	g_autofree char *word = rep("a", 1500);
	g_autofree char *mixed = g_strconcat("Re: [#42] ", cyr, " end", NULL);
	g_autofree char *url = g_strconcat("see https://example.org/", word, "?x=1 now", NULL);
	g_autofree char *umlauts = rep("ä", 100); /* B words of 2-byte characters */
	static const char *const fixed[] = {
		"Re: [#42] Grüße – тест ✓ Café",
		"😀😀😀 emoji only 🎉",
		"=?utf-8?q?looks_encoded?=",
		"a=?b?=c",
		"  padded  ",
		"",
		"tabs\tand\tmore",
		"two  spaces   three",
		"Bcc: victim@example.org",
		"Hello\r\nBcc: victim@example.org",
		"Hello\nX-Evil: 1",
		"nul-less \x01\x02\x1f\x7f controls",
		"bad \xff\xfe utf8 \xc3",
		"[#42] ünïcödé: 😀 ok",
		"Fwd: Re: AW: =?ISO-8859-1?Q?x?=",
		"underscore_and=equals?question",
		NULL,
	};
	Batch *b = batch_new();
	for (int i = 0; fixed[i]; i++) {
		OutMail o = base_out();
		o.subject = fixed[i];
		g_autofree char *label = g_strdup_printf("subject %d", i);
		batch_add(b, label, &o);
	}
	const char *longs[] = {ascii_long, cyr, word, mixed, url, umlauts};
	for (size_t i = 0; i < G_N_ELEMENTS(longs); i++) {
		OutMail o = base_out();
		o.subject = longs[i];
		g_autofree char *label = g_strdup_printf("long subject %zu", i);
		Case *c = batch_add(b, label, &o);
		WireStats st;
		check_wire(c->wire, c->len, false, &st);
		g_assert_cmpuint(st.longest_header, <=, 78); /* folded */
		g_assert_cmpuint(header_line_count(c->wire, "Subject"), >, 1);
		g_free(st.boundaries);
	}
	OutMail o = base_out();
	o.subject = NULL;
	batch_add(b, "no subject", &o);
	/* a run of 2000 blanks between plain words is cut to 64: a folded line
	 * could not hold it; between encoded words it is kept */
	g_autofree char *blanks = repx("a", " ", 2000, "b");
	g_autofree char *blanks64 = repx("a", " ", 64, "b");
	g_autofree char *blanks_u = repx("ä", "\r\n", 1000, "ü");
	o.subject = blanks;
	o.to_name = blanks;
	const char *over[] = {"Subject", blanks64, NULL};
	batch_add_flags(b, "blank run", &o, false, over);
	o.subject = blanks_u;
	o.to_name = blanks_u;
	batch_add(b, "blank run encoded", &o);
	batch_python(b);
	batch_free(b);
}

/* CR/LF/control injection in every header input: never a header of its own */
static void test_injection(void)
{
	static const char *const evil[] = {
		"x\r\nBcc: evil@example.org",
		"x\nBcc: evil@example.org\n\nbody",
		"x\rX-Evil: 1",
		"x\r\n X-Evil: folded",
		"\r\nCc: evil@example.org",
		"x\x0b\x0c\x1b[31m\x7f y",
		"x\r\n\r\n--=_dmm0000000000000000\r\nContent-Type: text/html",
		NULL,
	};
	Batch *b = batch_new();
	unsigned char data[] = "bytes";
	for (int i = 0; evil[i]; i++) {
		const char *extra[] = {"X-Deskmail-Ticket", evil[i], "X-Other", "ok"};
		const char *refs[] = {evil[i], "good@x.example"};
		OutAttachment att = {.filename = evil[i],
				     .content_type = "image/png\r\nBcc: evil@example.org",
				     .data = data,
				     .size = 5};
		OutMail o = base_out();
		o.from_name = evil[i];
		o.to_name = evil[i];
		o.subject = evil[i];
		o.auto_submitted = evil[i];
		o.extra_headers = extra;
		o.n_extra_headers = 2;
		o.in_reply_to = evil[i];
		o.references = refs;
		o.n_references = 2;
		o.attachments = &att;
		o.n_attachments = 1;
		g_autofree char *label = g_strdup_printf("injection %d", i);
		Case *c = batch_add(b, label, &o);
		g_assert_cmpuint(count_header(c->wire, "Bcc"), ==, 0);
		g_assert_cmpuint(count_header(c->wire, "Cc"), ==, 0);
		g_assert_cmpuint(count_header(c->wire, "X-Evil"), ==, 0);
		g_assert_cmpuint(count_header(c->wire, "Content-Type"), ==, 1);
		g_assert_cmpuint(count_header(c->wire, "X-Deskmail-Ticket"), ==, 1);
		g_assert_cmpuint(count_header(c->wire, "X-Other"), ==, 1);
		g_assert_cmpuint(count_header(c->wire, "In-Reply-To"), ==, 0);
	}
	/* an address with CR/LF is refused, not cleaned */
	OutMail o = base_out();
	o.reply_to = "a@b.example\r\nBcc: evil@example.org";
	char *wire = NULL;
	size_t len = 0;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	g_assert_null(wire);
	batch_python(b);
	batch_free(b);
}

static void test_bodies(void)
{
	g_autofree char *x5000 = rep("x", 5000);
	g_autofree char *u5000 = rep("ü€", 2500);
	g_autofree char *eq = rep("=", 500);
	g_autofree char *sp = rep(" ", 200);
	g_autofree char *sp_line = g_strconcat("a", sp, "\nb", sp, NULL);
	g_autofree char *y75 = rep("y", 75), *z74 = rep("z", 74);
	g_autofree char *dots = rep(".\n..\n. x\n", 20);
	g_autofree char *from = rep("From here\nFrom\nFrom: x\n>From y\nFromage\n", 10);
	/* soft line breaks just before "." and "From " */
	g_autofree char *soft_dot = g_strconcat(y75, ".", z74, "From x\n", NULL);
	static const char *const fixed[] = {
		"Hello\n",
		"no final newline",
		"",
		"\n",
		"\n\n\n",
		"trailing spaces   \nand tabs\t\t\nend   ",
		"ends with a tab\t",
		"crlf\r\nline\r\n",
		"lone\rcr\rmix\r\n\r\n",
		"cr at end\r",
		"equals = sign =20 =\n=",
		"soft =\nbreak look-alike =\r\n",
		"controls \x01\x02\x1b\x7f here",
		"bad \xff\xfe utf8 \xc3 \xe2\x82 \xed\xa0\x80 end\n",
		"Grüße – тест ✓ 😀\n",
		"--=_dmm0123456789abcdef\n--=_dma0123456789abcdef--\n-- \nsig\n",
		"=_ and =?utf-8?q?x?= in text\n",
		"\t leading whitespace\n  \n\t\n",
		NULL,
	};
	const char *longs[] = {x5000, u5000, eq, sp_line, dots, from, soft_dot};
	Batch *b = batch_new();
	for (int html = 0; html < 3; html++) {
		for (int i = 0; fixed[i]; i++) {
			OutMail o = base_out();
			o.text = fixed[i];
			if (html == 1)
				o.html = fixed[(i + 3) % (int)(G_N_ELEMENTS(fixed) - 1)];
			unsigned char d[] = {0, 1, 2};
			OutAttachment att = {.filename = "f.bin", .data = d, .size = 3};
			if (html == 2) {
				o.attachments = &att;
				o.n_attachments = 1;
			}
			g_autofree char *label = g_strdup_printf("body %d html %d", i, html);
			batch_add(b, label, &o);
		}
		for (size_t i = 0; i < G_N_ELEMENTS(longs); i++) {
			OutMail o = base_out();
			o.text = longs[i];
			o.html = html == 1 ? longs[(i + 1) % G_N_ELEMENTS(longs)] : NULL;
			g_autofree char *label = g_strdup_printf("long body %zu html %d", i, html);
			Case *c = batch_add(b, label, &o);
			/* no line of the wire starts with "." or "From " */
			g_assert_null(strstr(c->wire, "\r\n."));
			g_assert_null(strstr(c->wire, "\r\nFrom "));
		}
	}
	batch_python(b);
	batch_free(b);
}

static void test_attachments(void)
{
	unsigned char all[512];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	unsigned char crlf[] = "\r\n.\r\n\r\nFrom x\r\n\0\0\n\r";
	GByteArray *big = g_byte_array_new();
	for (guint32 i = 0, x = 12345; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		guint8 c = (guint8)(x >> 16);
		g_byte_array_append(big, &c, 1);
	}
	g_autofree char *long_name = repx("", "Überlanger Dateiname ", 15, ".pdf");
	g_autofree char *long_ascii = repx("", "long_ascii_name-", 12, ".txt");
	OutAttachment files[] = {
		{.filename = "Rechnung März 2026.pdf",
		 .content_type = "application/pdf",
		 .data = all,
		 .size = sizeof all},
		{.filename = "quote \"me\" and \\ back.txt",
		 .content_type = "text/csv; charset=utf-8",
		 .data = crlf,
		 .size = sizeof crlf - 1},
		{.filename = "=?utf-8?q?not_encoded?=.txt",
		 .content_type = "TEXT/HTML",
		 .data = all,
		 .size = 1},
		{.filename = "", .content_type = "not a type", .data = NULL, .size = 0},
		{.filename = NULL, .content_type = NULL, .data = all, .size = 2},
		{.filename = "emoji 😀 中文.png",
		 .content_type = "multipart/mixed; boundary=x",
		 .data = big->data,
		 .size = big->len},
		{.filename = long_name, .content_type = "message/rfc822", .data = all, .size = 57},
		{.filename = long_ascii, .content_type = "", .data = all, .size = 58},
		{.filename = "semi;colon,comma (paren) 'apos' %41.txt",
		 .content_type = "application/vnd.oasis.opendocument.text",
		 .data = all,
		 .size = 56},
		{.filename = "dir/sub\\name.txt", .content_type = "text/", .data = all, .size = 3},
		{.filename = "bad \xff utf8.txt", .content_type = "text/", .data = all, .size = 4},
	};
	Batch *b = batch_new();
	OutMail o = base_out();
	o.html = "<p>See the files.</p>";
	o.attachments = files;
	o.n_attachments = G_N_ELEMENTS(files);
	batch_add(b, "attachments with html", &o);
	o.html = NULL;
	batch_add(b, "attachments", &o);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		o.attachments = &files[i];
		o.n_attachments = 1;
		g_autofree char *label = g_strdup_printf("attachment %zu", i);
		batch_add(b, label, &o);
	}
	batch_python(b);
	batch_free(b);
	g_byte_array_free(big, TRUE);
}

static void test_ids(void)
{
	GPtrArray *refs = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < 90; i++) /* mime_parse keeps the newest 100 */
		g_ptr_array_add(refs, g_strdup_printf("ref-%d.%s@client.example", i,
						      "abcdefghijklmnopqrstuvwxyz0123456789"));
	g_ptr_array_add(refs, g_strdup("bad id@x.example"));
	g_ptr_array_add(refs, g_strdup("<br@x.example>"));
	g_ptr_array_add(refs, g_strdup("no-at"));
	g_ptr_array_add(refs, g_strdup(""));
	g_ptr_array_add(refs, g_strdup("ümlaut@x.example"));
	g_ptr_array_add(refs, g_strdup("a\r\nBcc: x@evil.example"));
	g_autofree char *long_id = repx("", "l", 240, "@x.example");
	g_ptr_array_add(refs, g_strdup(long_id));
	Batch *b = batch_new();
	OutMail o = base_out();
	o.references = (const char *const *)refs->pdata;
	o.n_references = refs->len;
	o.in_reply_to = "orig@client.example";
	Case *c = batch_add(b, "references", &o);
	WireStats st;
	check_wire(c->wire, c->len, false, &st);
	g_free(st.boundaries);
	g_assert_cmpuint(header_line_count(c->wire, "References"), >, 45); /* folded */
	/* all bad: no References, no In-Reply-To */
	const char *bad[] = {"bad id@x.example", "<a@b.example>"};
	o.references = bad;
	o.n_references = 2;
	o.in_reply_to = "has space@x.example";
	c = batch_add(b, "bad ids", &o);
	g_assert_cmpuint(count_header(c->wire, "References"), ==, 0);
	g_assert_cmpuint(count_header(c->wire, "In-Reply-To"), ==, 0);
	o.in_reply_to = long_id;
	o.references = NULL;
	o.n_references = 5; /* NULL array: none */
	batch_add(b, "long id", &o);
	batch_python(b);
	batch_free(b);
	g_ptr_array_free(refs, TRUE);

	/* our own Message-ID must be right */
	static const char *const bad_own[] = {"<a@b.example>",   "a b@c.example", "",  "no-at-sign",
					      "a@b\r\nBcc: x@y", "ü@x.example",   NULL};
	for (int i = 0; bad_own[i]; i++) {
		OutMail m = base_out();
		m.message_id = bad_own[i];
		char *wire = NULL;
		size_t len = 7;
		DmError e = {0};
		g_assert_cmpint(mime_compose(&m, &wire, &len, &e), ==, DM_EPERM);
		g_assert_null(wire);
		g_assert_cmpuint(len, ==, 7);
		g_assert_nonnull(strstr(e.msg, "Message-ID"));
	}
}

static void test_refused(void)
{
	static const char *const reserved[] = {"Bcc",
					       "bcc",
					       "Subject",
					       "content-type",
					       "Content-Transfer-Encoding",
					       "MESSAGE-ID",
					       "Message-Id",
					       "mime-version",
					       "From",
					       "Sender",
					       "Reply-To",
					       "In-Reply-To",
					       "References",
					       "Date",
					       "Return-Path",
					       "Auto-Submitted",
					       "To",
					       "Cc",
					       "X-Bad Name",
					       "X:Colon",
					       "",
					       "X-Ümlaut",
					       NULL};
	for (int i = 0; reserved[i]; i++) {
		const char *extra[] = {"X-Fine", "1", reserved[i], "v"};
		OutMail o = base_out();
		o.extra_headers = extra;
		o.n_extra_headers = 2;
		char *wire = NULL;
		size_t len = 0;
		DmError e = {0};
		g_assert_cmpint(mime_compose(&o, &wire, &len, &e), ==, DM_EPERM);
		g_assert_null(wire);
		g_assert_cmpstr(e.msg, !=, "");
	}
	g_autofree char *long_name = repx("X-", "n", 75, "");
	const char *nulls[][2] = {{"X-Fine", NULL}, {NULL, "v"}, {long_name, "v"}};
	for (size_t i = 0; i < G_N_ELEMENTS(nulls); i++) {
		OutMail o = base_out();
		o.extra_headers = nulls[i];
		o.n_extra_headers = 1;
		char *wire = NULL;
		size_t len = 0;
		g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
		g_assert_null(wire);
	}
	static const char *const bad_addrs[] = {"Name <a@b.example>",
						"a b@c.example",
						"no-at",
						"a@b.example\r\nRCPT TO:<x@y>",
						"",
						"@b.example",
						"a@",
						"a\xff@b.example",
						NULL};
	for (int i = 0; bad_addrs[i]; i++) {
		for (int which = 0; which < 3; which++) {
			OutMail o = base_out();
			if (which == 0)
				o.from_addr = bad_addrs[i];
			else if (which == 1)
				o.to_addr = bad_addrs[i];
			else
				o.reply_to = bad_addrs[i];
			char *wire = NULL;
			size_t len = 0;
			DmError e = {0};
			g_assert_cmpint(mime_compose(&o, &wire, &len, &e), ==, DM_EPERM);
			g_assert_null(wire);
			g_assert_nonnull(strstr(e.msg, "address"));
		}
	}
	OutMail o = base_out();
	char *wire = NULL;
	size_t len = 0;
	o.to_addr = NULL;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	o = base_out();
	o.from_addr = NULL;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	o = base_out();
	o.text = NULL;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	g_assert_cmpint(mime_compose(NULL, &wire, &len, NULL), ==, DM_EPERM);
	OutAttachment no_data = {.filename = "x", .data = NULL, .size = 10};
	o = base_out();
	o.attachments = &no_data;
	o.n_attachments = 1;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	g_assert_null(wire);
}

static void test_auto_and_date(void)
{
	Batch *b = batch_new();
	static const char *const autos[] = {
		"auto-replied", "auto-generated", "\r\n", "", "  ", NULL};
	for (int i = 0; i < (int)G_N_ELEMENTS(autos); i++) {
		OutMail o = base_out();
		o.auto_submitted = autos[i];
		g_autofree char *label = g_strdup_printf("auto %d", i);
		Case *c = batch_add(b, label, &o);
		bool set = i < 2;
		g_assert_cmpuint(count_header(c->wire, "Auto-Submitted"), ==, set);
		g_assert_cmpuint(count_header(c->wire, "X-Auto-Response-Suppress"), ==, set);
		if (set)
			g_assert_nonnull(strstr(c->wire, "\r\nX-Auto-Response-Suppress: All\r\n"));
	}
	static const int64_t dates[] = {1, 951782400 /* 2000-02-29 */, 1772534096,
					253402300799 /* 9999-12-31 23:59:59 */};
	for (size_t i = 0; i < G_N_ELEMENTS(dates); i++) {
		OutMail o = base_out();
		o.date = dates[i];
		g_autofree char *label = g_strdup_printf("date %zu", i);
		batch_add(b, label, &o);
	}
	OutMail o = base_out();
	o.date = 951782400;
	Case *c = batch_add(b, "leap day", &o);
	g_assert_true(g_str_has_prefix(c->wire, "Date: Tue, 29 Feb 2000 00:00:00 +0000\r\n"));
	batch_python(b);
	batch_free(b);
	/* no date, or one out of range: now */
	static const int64_t nows[] = {0, -5, INT64_C(253402300800), INT64_MAX};
	for (size_t i = 0; i < G_N_ELEMENTS(nows); i++) {
		o = base_out();
		o.date = nows[i];
		char *wire = NULL;
		size_t len = 0;
		int64_t t0 = g_get_real_time() / G_USEC_PER_SEC;
		g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, 0);
		Mail *m = NULL;
		MimeLimits lim;
		mime_limits_default(&lim);
		lim.max_name_bytes = lim.max_subject_bytes = 1 << 20;
		g_assert_cmpint(mime_parse((unsigned char *)wire, len, &lim, &m, NULL), ==, 0);
		g_assert_cmpint(m->date, >=, t0);
		g_assert_cmpint(m->date, <=, t0 + 5);
		mail_free(m);
		g_free(wire);
	}
}

static void test_boundaries(void)
{
	unsigned char d[] = "x";
	OutAttachment att = {.filename = "a.txt", .data = d, .size = 1};
	OutMail o = base_out();
	o.html = "<p>x</p>";
	o.attachments = &att;
	o.n_attachments = 1;
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < 200; i++) {
		char *wire = NULL;
		size_t len = 0;
		g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, 0);
		WireStats st;
		check_wire(wire, len, false, &st);
		gchar **bs = g_strsplit(st.boundaries, " ", -1);
		g_assert_cmpuint(g_strv_length(bs), ==, 2);
		g_assert_cmpstr(bs[0], !=, bs[1]);
		for (int k = 0; k < 2; k++) {
			g_assert_false(g_hash_table_contains(seen, bs[k]));
			g_hash_table_add(seen, g_strdup(bs[k]));
		}
		/* the next mail's text carries this mail's boundaries */
		if (i == 0) {
			g_autofree char *text =
				g_strdup_printf("--%s\n--%s--\n--%s\n", bs[0], bs[1], bs[1]);
			OutMail t = o;
			t.text = text;
			t.html = text;
			Batch *b = batch_new();
			batch_add(b, "boundary in text", &t);
			batch_python(b);
			batch_free(b);
		}
		g_strfreev(bs);
		g_free(st.boundaries);
		g_free(wire);
	}
	g_hash_table_destroy(seen);
}

/* A non-ASCII (EAI) address: the domain goes out in IDNA form; the local
 * part has no 7-bit form and stays UTF-8 (SMTPUTF8). */
static void test_eai(void)
{
	Batch *b = batch_new();
	OutMail o = base_out();
	o.to_addr = "alice@bücher.example";
	Case *c = batch_add_flags(b, "idn domain", &o, false, NULL);
	g_assert_nonnull(strstr(c->wire, "<alice@xn--bcher-kva.example>"));
	batch_free(b);
	b = batch_new();
	o.to_addr = "jörg@client.example";
	o.reply_to = "jörg@client.example";
	c = batch_add_flags(b, "utf-8 local part", &o, true, NULL);
	g_assert_nonnull(strstr(c->wire, "<jörg@client.example>"));
	batch_free(b);
}

/* ---- random mails -------------------------------------------------------- */

static const char *const hpieces[] = {
	"a",    "Z",      "0",      " ",        "  ",
	",",    "\"",     "\\",     "(",        ")",
	"<",    ">",      "@",      ":",        ";",
	".",    "=?",     "?=",     "_",        "=",
	"?",    "ä",      "€",      "😀",        "中文",
	"\r",   "\n",     "\r\n",   "\t",       "\x01",
	"\x7f", "\xff",   "\xc3",   "\xe2\x82", "From ",
	"-",    "'",      "word ",  "Müller",   "%",
	"*",    "[#42]",  "/",      "#",        "=?utf-8?q?x?= ",
	"тест", "lorem ", "ipsum ", "dolor ",   "sit amet ",
	"x",    "y",      "z",
};

static const char *const bpieces[] = {
	"a",     "b",       " ",
	"\t",    "\n",      "\r\n",
	"\r",    ".",       "From ",
	"=",     "=20",     "ä",
	"€",     "😀",       "\xff",
	"\xc3",  "\x01",    "--",
	"-- ",   "word ",   "lorem ipsum dolor sit amet, consectetur adipiscing elit ",
	"\n.\n", "\nFrom ", "  \n",
	"\t\n",  "<p>",     "</p>",
	"&amp;", "=_",      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

static char *rand_string(const char *const *pieces, size_t n_pieces, int max)
{
	GString *s = g_string_new(NULL);
	int n = g_test_rand_int_range(0, max + 1);
	for (int i = 0; i < n; i++)
		g_string_append(s, pieces[g_test_rand_int_range(0, (gint32)n_pieces)]);
	return g_string_free(s, FALSE);
}

/* a file name: no path separators (mime_parse keeps only the base name) */
static char *rand_filename(void)
{
	char *s = rand_string(hpieces, G_N_ELEMENTS(hpieces), 12);
	for (char *p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			*p = '_';
	return s;
}

static void test_random(void)
{
	static const char *const ids[] = {"a@b.example",
					  "x.y+z@host.example",
					  "bad id@x.example",
					  "<b@x.example>",
					  "",
					  "no-at",
					  "dm.1772534096.0123456789abcdef0001@desk.example"};
	static const char *const types[] = {"application/pdf",
					    "text/csv; charset=utf-8",
					    "TEXT/HTML",
					    "message/rfc822",
					    "not a type",
					    "",
					    "application/vnd.oasis.opendocument.text"};
	static const char *const autos[] = {"auto-replied", "auto-generated", "\r\n"};
	Batch *b = batch_new();
	GPtrArray *keep = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < 300; i++) {
		OutMail o = base_out();
		int big = g_test_rand_int_range(0, 10) == 0 ? 20 : 1;
		char *s;
#define RS(field, pieces, max)                                                                     \
	do {                                                                                       \
		s = rand_string(pieces, G_N_ELEMENTS(pieces), (max));                              \
		g_ptr_array_add(keep, s);                                                          \
		o.field = s;                                                                       \
	} while (0)
		RS(from_name, hpieces, 8 * big);
		RS(to_name, hpieces, 8 * big);
		RS(subject, hpieces, 15 * big);
		RS(text, bpieces, 60 * big);
		if (g_test_rand_bit())
			RS(html, bpieces, 60 * big);
#undef RS
		if (g_test_rand_bit())
			o.reply_to = "reply@desk.example";
		o.in_reply_to = ids[g_test_rand_int_range(0, G_N_ELEMENTS(ids))];
		const char **refs = g_new(const char *, 4);
		g_ptr_array_add(keep, refs);
		for (int k = 0; k < 4; k++)
			refs[k] = ids[g_test_rand_int_range(0, G_N_ELEMENTS(ids))];
		o.references = refs;
		o.n_references = (size_t)g_test_rand_int_range(0, 5);
		if (g_test_rand_bit())
			o.auto_submitted = autos[g_test_rand_int_range(0, G_N_ELEMENTS(autos))];
		const char **extra = g_new(const char *, 4);
		g_ptr_array_add(keep, extra);
		extra[0] = "X-Deskmail-Ticket";
		extra[1] = s = rand_string(hpieces, G_N_ELEMENTS(hpieces), 6 * big);
		g_ptr_array_add(keep, s);
		extra[2] = "X-Second";
		extra[3] = "2";
		o.extra_headers = extra;
		o.n_extra_headers = (size_t)g_test_rand_int_range(0, 3);
		o.date = g_test_rand_int_range(1, G_MAXINT32);
		size_t n_att =
			g_test_rand_int_range(0, 4) == 0 ? (size_t)g_test_rand_int_range(1, 4) : 0;
		OutAttachment *atts = g_new0(OutAttachment, n_att + 1);
		g_ptr_array_add(keep, atts);
		for (size_t k = 0; k < n_att; k++) {
			size_t size = (size_t)g_test_rand_int_range(0, 3000);
			unsigned char *data = g_malloc(size + 1);
			for (size_t j = 0; j < size; j++)
				data[j] = (unsigned char)g_test_rand_int_range(0, 256);
			g_ptr_array_add(keep, data);
			atts[k].data = data;
			atts[k].size = size;
			atts[k].filename = s = rand_filename();
			g_ptr_array_add(keep, s);
			atts[k].content_type = types[g_test_rand_int_range(0, G_N_ELEMENTS(types))];
		}
		o.attachments = atts;
		o.n_attachments = n_att;
		g_autofree char *label = g_strdup_printf("random %d", i);
		batch_add(b, label, &o);
	}
	batch_python(b);
	batch_free(b);
	g_ptr_array_free(keep, TRUE);
}

/* ---- the first composer's cases (formerly in test_mime.c) ------------- */

/* Parse a buffer with the default limits (or lim). */
static int parse_buf(const char *buf, size_t len, const MimeLimits *lim, Mail **m_r, DmError *e)
{
	MimeLimits def;
	if (lim == NULL) {
		mime_limits_default(&def);
		def.max_name_bytes = def.max_subject_bytes = 1 << 20;
		lim = &def;
	}
	return mime_parse((const unsigned char *)buf, len, lim, m_r, e);
}

static char *compose_ok(const OutMail *m, size_t *len_r)
{
	char *wire = NULL;
	size_t len = 0;
	DmError e = {0};
	int rc = mime_compose(m, &wire, &len, &e);
	if (rc != 0)
		g_error("mime_compose: %d %s", rc, e.msg);
	g_assert_cmpuint(strlen(wire), ==, len);
	/* CRLF only, no line over 998, 7-bit only */
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)wire[i];
		g_assert_cmpuint(c, <, 0x80);
		g_assert_cmpuint(c, !=, 0);
		if (c == '\n') {
			g_assert_true(i > 0 && wire[i - 1] == '\r');
			line = 0;
		} else if (c == '\r') {
			g_assert_true(i + 1 < len && wire[i + 1] == '\n');
		} else {
			g_assert_cmpuint(++line, <=, 998);
		}
	}
	if (len_r)
		*len_r = len;
	return wire;
}

static bool has_header_line(const char *wire, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (const char *p = wire; p; p = strstr(p, "\r\n")) {
		if (*p == '\r')
			p += 2;
		if (p[0] == '\r' && p[1] == '\n')
			return false; /* end of the header */
		if (g_ascii_strncasecmp(p, prefix, pl) == 0)
			return true;
	}
	return false;
}

static void test_compose_basic(void)
{
	OutMail o = base_out();
	o.auto_submitted = "auto-replied";
	const char *extra[] = {"X-Deskmail-Ticket", "42"};
	o.extra_headers = extra;
	o.n_extra_headers = 1;
	size_t len = 0;
	char *wire = compose_ok(&o, &len);
	g_assert_true(has_header_line(wire, "From: Support Desk <support@desk.example>\r\n"));
	g_assert_true(has_header_line(wire, "To: Alice Example <alice@client.example>\r\n"));
	g_assert_true(has_header_line(wire, "Subject: Re: [#42] Printer\r\n"));
	g_assert_true(has_header_line(wire, "Message-Id: <dm.1.abc@desk.example>\r\n"));
	g_assert_true(has_header_line(wire, "Date: Tue, 03 Mar 2026 10:34:56 +0000\r\n"));
	g_assert_true(has_header_line(wire, "Auto-Submitted: auto-replied\r\n"));
	g_assert_true(has_header_line(wire, "X-Deskmail-Ticket: 42\r\n"));
	g_assert_true(has_header_line(wire, "MIME-Version: 1.0\r\n"));
	g_assert_true(has_header_line(wire, "Content-Type: text/plain; charset=utf-8\r\n"));
	g_assert_true(has_header_line(wire, "Content-Transfer-Encoding: quoted-printable\r\n"));
	g_assert_false(has_header_line(wire, "In-Reply-To:"));

	Mail *m = NULL;
	g_assert_cmpint(parse_buf(wire, len, NULL, &m, NULL), ==, 0);
	g_assert_cmpstr(m->text, ==, "Hello Alice,\n\nwe are on it.\n");
	g_assert_cmpstr(m->from->addr, ==, "support@desk.example");
	g_assert_cmpstr(m->from->name, ==, "Support Desk");
	g_assert_cmpstr(m->message_id, ==, "dm.1.abc@desk.example");
	g_assert_cmpint(m->date, ==, 1772534096);
	g_assert_true(m->is_automatic);
	mail_free(m);
	g_free(wire);
}

static void test_compose_injection(void)
{
	OutMail o = base_out();
	o.subject = "Hello\r\nBcc: victim@example.org";
	o.to_name = "Alice\r\nCc: other@example.org";
	o.from_name = "Desk\nX-Evil: 1";
	const char *extra[] = {"X-Deskmail-Ticket", "42\r\nBcc: evil@example.org"};
	o.extra_headers = extra;
	o.n_extra_headers = 1;
	size_t len = 0;
	char *wire = compose_ok(&o, &len);
	g_assert_false(has_header_line(wire, "Bcc:"));
	g_assert_false(has_header_line(wire, "Cc:"));
	g_assert_false(has_header_line(wire, "X-Evil:"));
	Mail *m = NULL;
	g_assert_cmpint(parse_buf(wire, len, NULL, &m, NULL), ==, 0);
	g_assert_cmpuint(m->n_cc, ==, 0);
	g_assert_cmpuint(m->n_to, ==, 1);
	g_assert_cmpstr(m->to[0].addr, ==, "alice@client.example");
	g_assert_nonnull(strstr(m->subject, "Hello"));
	g_assert_nonnull(strstr(m->subject, "Bcc: victim@example.org"));
	mail_free(m);
	g_free(wire);
}

static void test_compose_attachments(void)
{
	OutMail o = base_out();
	o.html = "<p>See the files.</p>";
	unsigned char bin[3000];
	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	const char *csv = "a,b\r\n1,2\r\n";
	OutAttachment files[] = {
		{.filename = "Rechnung März 2026.pdf",
		 .content_type = "application/pdf",
		 .data = bin,
		 .size = sizeof bin},
		{.filename = "data.csv\r\nBcc: x@evil.example",
		 .content_type = "text/csv; charset=utf-8",
		 .data = (const unsigned char *)csv,
		 .size = strlen(csv)},
		{.filename = "", .content_type = "not a type", .data = bin, .size = 10},
	};
	o.attachments = files;
	o.n_attachments = G_N_ELEMENTS(files);
	size_t len = 0;
	char *wire = compose_ok(&o, &len); /* CRLF, 7-bit, short lines */
	g_assert_nonnull(strstr(wire, "multipart/mixed"));
	g_assert_nonnull(strstr(wire, "multipart/alternative"));
	g_assert_false(has_header_line(wire, "Bcc:"));

	Mail *m = NULL;
	g_assert_cmpint(parse_buf(wire, len, NULL, &m, NULL), ==, 0);
	g_assert_cmpstr(m->text, ==, "Hello Alice,\n\nwe are on it.\n");
	g_assert_cmpuint(m->n_attachments, ==, 3);
	g_assert_cmpstr(m->attachments[0].filename, ==, "Rechnung März 2026.pdf");
	g_assert_cmpstr(m->attachments[0].content_type, ==, "application/pdf");
	g_assert_cmpuint(m->attachments[0].size, ==, sizeof bin);
	g_assert_cmpmem(m->attachments[0].data, m->attachments[0].size, bin, sizeof bin);
	char sha[65];
	dm_sha256_hex(bin, sizeof bin, sha);
	g_assert_cmpstr(m->attachments[0].sha256, ==, sha); /* its identity in the store */
	/* the name's CR/LF cannot start a header */
	g_assert_null(strchr(m->attachments[1].filename, '\n'));
	g_assert_true(g_str_has_prefix(m->attachments[1].filename, "data.csv"));
	g_assert_cmpstr(m->attachments[1].content_type, ==, "text/csv");
	g_assert_cmpmem(m->attachments[1].data, m->attachments[1].size, csv, strlen(csv));
	/* a bad type becomes application/octet-stream, an empty name a default */
	g_assert_cmpstr(m->attachments[2].content_type, ==, "application/octet-stream");
	g_assert_cmpstr(m->attachments[2].filename, ==, "attachment");
	g_assert_cmpuint(m->attachments[2].size, ==, 10);
	mail_free(m);
	g_free(wire);
}

static void test_compose_roundtrip(void)
{
	OutMail o = base_out();
	o.subject = "Re: [#42] Grüße – тест ✓ Café";
	o.to_name = "Jürgen \"JM\" Müller";
	o.in_reply_to = "orig-1@client.example";
	GPtrArray *refs = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < 100; i++)
		g_ptr_array_add(refs, g_strdup_printf("ref-%d.%s@client.example", i,
						      "abcdefghijklmnopqrstuvwxyz0123456789"));
	o.references = (const char *const *)refs->pdata;
	o.n_references = refs->len;
	GString *text = g_string_new("Café ✓\r\nline two\rline three\n");
	for (int i = 0; i < 300; i++)
		g_string_append(text, "x");
	g_string_append(text, "\n.\nFrom here\n");
	o.text = text->str;
	o.html = "<p>Café <b>bold</b> ✓</p>";
	size_t len = 0;
	char *wire = compose_ok(&o, &len);
	/* encoded words, QP, and the charset is UTF-8 even for Latin-1 text */
	g_assert_true(has_header_line(wire, "Subject: Re: [#42] =?"));
	g_assert_nonnull(strstr(wire, "multipart/alternative"));
	g_assert_null(strstr(wire, "iso-8859-1\r\nContent-Transfer-Encoding: 8bit"));
	g_assert_null(strstr(wire, "8bit"));
	g_assert_nonnull(strstr(wire, "Content-Type: text/html; charset=utf-8"));

	Mail *m = NULL;
	g_assert_cmpint(parse_buf(wire, len, NULL, &m, NULL), ==, 0);
	g_assert_cmpstr(m->subject, ==, "Re: [#42] Grüße – тест ✓ Café");
	g_assert_cmpstr(m->to[0].name, ==, "Jürgen \"JM\" Müller");
	g_assert_cmpstr(m->in_reply_to, ==, "orig-1@client.example");
	g_assert_cmpuint(m->n_references, ==, 100);
	for (guint i = 0; i < refs->len; i++)
		g_assert_cmpstr(m->references[i], ==, g_ptr_array_index(refs, i));
	GString *want = g_string_new("Café ✓\nline two\nline three\n");
	for (int i = 0; i < 300; i++)
		g_string_append(want, "x");
	g_string_append(want, "\n.\nFrom here\n");
	g_assert_cmpstr(m->text, ==, want->str);
	g_assert_false(m->text_from_html);
	g_assert_cmpstr(m->html, ==, "<p>Café <b>bold</b> ✓</p>");
	mail_free(m);
	g_string_free(want, TRUE);
	g_string_free(text, TRUE);
	g_ptr_array_free(refs, TRUE);
	g_free(wire);
}

static void test_compose_reject(void)
{
	static const char *const bad_addrs[] = {"Name <a@b.example>",
						"a b@c.example",
						"no-at",
						"a@b.example\r\nRCPT TO:<x@y>",
						"",
						NULL};
	for (int i = 0; bad_addrs[i]; i++) {
		OutMail o = base_out();
		o.to_addr = bad_addrs[i];
		char *wire = NULL;
		size_t len = 0;
		DmError e = {0};
		g_assert_cmpint(mime_compose(&o, &wire, &len, &e), ==, DM_EPERM);
		g_assert_null(wire);
		g_assert_cmpstr(e.msg, !=, "");
		o = base_out();
		o.from_addr = bad_addrs[i];
		dm_error_clear(&e);
		g_assert_cmpint(mime_compose(&o, &wire, &len, &e), ==, DM_EPERM);
		o = base_out();
		o.reply_to = bad_addrs[i];
		dm_error_clear(&e);
		g_assert_cmpint(mime_compose(&o, &wire, &len, &e), ==, DM_EPERM);
	}
	OutMail o = base_out();
	char *wire = NULL;
	size_t len = 0;
	o.to_addr = NULL;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	o = base_out();
	o.text = NULL;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	static const char *const bad_ids[] = {"<a@b.example>", "a b@c.example",   "",
					      "no-at-sign",    "a@b\r\nBcc: x@y", NULL};
	for (int i = 0; bad_ids[i]; i++) {
		o = base_out();
		o.message_id = bad_ids[i];
		g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	}
	o = base_out();
	o.message_id = NULL;
	g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	static const char *const bad_names[] = {
		"Bcc", "Subject", "Content-Type", "X-Bad Name", "X:Colon", "", NULL};
	for (int i = 0; bad_names[i]; i++) {
		const char *extra[] = {bad_names[i], "v"};
		o = base_out();
		o.extra_headers = extra;
		o.n_extra_headers = 1;
		g_assert_cmpint(mime_compose(&o, &wire, &len, NULL), ==, DM_EPERM);
	}
	g_assert_null(wire);

	/* bad ids from incoming mail are dropped, not fatal */
	const char *refs[] = {"good@x.example", "bad id@x.example", "<br@x.example>",
			      "ok2@x.example"};
	o = base_out();
	o.in_reply_to = "has space@x.example";
	o.references = refs;
	o.n_references = 4;
	wire = compose_ok(&o, &len);
	g_assert_false(has_header_line(wire, "In-Reply-To:"));
	g_assert_true(has_header_line(wire, "References: <good@x.example> <ok2@x.example>\r\n"));
	g_free(wire);
}

static void test_compose_long_words(void)
{
	OutMail o = base_out();
	GString *subj = g_string_new("Re: ");
	GString *name = g_string_new(NULL);
	for (int i = 0; i < 1500; i++)
		g_string_append_c(subj, 'a');
	for (int i = 0; i < 1200; i++)
		g_string_append(name, i % 2 ? "b" : "ü");
	o.subject = subj->str;
	o.to_name = name->str;
	size_t len = 0;
	char *wire = compose_ok(&o, &len); /* folded or encoded, lines <= 998 */
	Mail *m = NULL;
	g_assert_cmpint(parse_buf(wire, len, NULL, &m, NULL), ==, 0);
	g_assert_cmpstr(m->subject, ==, subj->str);
	g_assert_cmpstr(m->to[0].name, ==, name->str);
	mail_free(m);
	g_free(wire);
	g_string_free(subj, TRUE);
	g_string_free(name, TRUE);
}

static void test_new_message_id(void)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < 1000; i++) {
		char *id = mime_new_message_id("Desk.Example");
		g_assert_true(g_str_has_prefix(id, "dm."));
		g_assert_true(g_str_has_suffix(id, "@desk.example"));
		g_assert_null(strpbrk(id, "<> \t\r\n"));
		g_assert_false(g_hash_table_contains(seen, id));
		g_hash_table_add(seen, id);
	}
	g_hash_table_destroy(seen);
	char *id = mime_new_message_id("bad domain\r\n<x>");
	g_assert_true(g_str_has_suffix(id, "@baddomainx"));
	g_free(id);
	id = mime_new_message_id(NULL);
	g_assert_true(g_str_has_suffix(id, "@deskmail.invalid"));
	/* usable as OutMail.message_id */
	OutMail o = base_out();
	o.message_id = id;
	char *wire = compose_ok(&o, NULL);
	g_free(wire);
	g_free(id);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	mime_global_init();
	g_test_add_func("/compose/typical", test_typical);
	g_test_add_func("/compose/names", test_names);
	g_test_add_func("/compose/subjects", test_subjects);
	g_test_add_func("/compose/injection", test_injection);
	g_test_add_func("/compose/bodies", test_bodies);
	g_test_add_func("/compose/attachments", test_attachments);
	g_test_add_func("/compose/ids", test_ids);
	g_test_add_func("/compose/refused", test_refused);
	g_test_add_func("/compose/auto-and-date", test_auto_and_date);
	g_test_add_func("/compose/boundaries", test_boundaries);
	g_test_add_func("/compose/eai", test_eai);
	g_test_add_func("/mime/compose/basic", test_compose_basic);
	g_test_add_func("/mime/compose/injection", test_compose_injection);
	g_test_add_func("/mime/compose/roundtrip", test_compose_roundtrip);
	g_test_add_func("/mime/compose/attachments", test_compose_attachments);
	g_test_add_func("/mime/compose/reject", test_compose_reject);
	g_test_add_func("/mime/compose/long-words", test_compose_long_words);
	g_test_add_func("/mime/compose/message-id", test_new_message_id);
	g_test_add_func("/compose/random", test_random);
	int rc = g_test_run();
	mime_global_cleanup();
	return rc;
}
