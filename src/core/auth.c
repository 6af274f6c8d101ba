/* auth.c - sender verification from Authentication-Results (RFC 8601).
 *
 * A tokenizer for the header's grammar (RFC 8601 section 2.2, with CFWS and
 * quoted-string from RFC 5322 and value from RFC 2045) reads one header as
 *
 *   authserv-id [version] ( "; none" / *( ";" method[/version] "=" result
 *                                         [reason=value] *(ptype.property=pvalue) ) )
 *
 * with comments (nested, with quoted-pairs) and folding white space allowed
 * between any two tokens.  Only the topmost header whose authserv-id is the
 * trusted one is read past its authserv-id; its results are folded into a
 * few facts (a dmarc pass for the From domain, an aligned dkim or spf pass)
 * as they are read, so nothing is stored per result and the work is linear
 * in the input.
 *
 * Tolerance: real servers do not all follow the grammar.  Microsoft writes no
 * authserv-id at all ("spf=pass (sender IP is ...) smtp.mailfrom=..."), which
 * can never be the trusted header; it and others write bare "action=none" or
 * "policy=..." next to the properties, which are skipped; and results are
 * sometimes separated by ";" without a space.  A result in which something
 * else cannot be read is marked malformed: it then never counts as a pass
 * (but still counts as a dmarc result that contradicts a pass).  Garbage is
 * skipped up to the next ";" outside comments and quoted strings.
 *
 * What it deliberately does not do: look at ARC (RFC 8617) or any other
 * header, verify anything itself (no DNS: that is the border server's job),
 * or accept the pre-RFC property spellings smtp.mail and smtp.mfrom (our
 * border server is a current one).  Domains are compared as IDNA A-labels,
 * so a U-label From domain matches its xn-- form in header.d. */
#include <glib.h>
#include <libpsl.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/auth.h"
#include "deskmail/config.h"

/* Config stores auth.require and auth.staff_require as ints (the config
 * layer may not include core headers); they are AuthRequire values. */
G_STATIC_ASSERT((int)AUTH_REQUIRE_NONE == CFG_AUTH_NONE);
G_STATIC_ASSERT((int)AUTH_REQUIRE_ALIGNED == CFG_AUTH_ALIGNED);
G_STATIC_ASSERT((int)AUTH_REQUIRE_DMARC == CFG_AUTH_DMARC);

/* Longer method or result names are not ones we know. */
#define AUTH_KEYWORD_MAX 32
/* A property value longer than this (local-part, "@", domain: 64 + 1 + 253,
 * with room for quoting) is not a usable address or domain. */
#define AUTH_VALUE_MAX 512
/* RFC 1035: a domain name's text form without the final dot. */
#define AUTH_DOMAIN_MAX 253

/* ---------- the tokenizer ---------- */

typedef struct {
	const char *p, *end;
} Lex;

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip white space and comments.  A comment nests and may hold quoted-pairs;
 * an unterminated one runs to the end. */
static void skip_cfws(Lex *l)
{
	size_t depth = 0;
	while (l->p < l->end) {
		char c = *l->p;
		if (depth == 0) {
			if (is_wsp(c)) {
				l->p++;
				continue;
			}
			if (c != '(')
				return;
			depth = 1;
			l->p++;
			continue;
		}
		if (c == '\\' && l->p + 1 < l->end)
			l->p++;
		else if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		l->p++;
	}
}

static bool peek(const Lex *l, char c)
{
	return l->p < l->end && *l->p == c;
}

/* Append c to buf (size bytes, NUL-terminated, *len used); sets *over when
 * it does not fit. */
static void put(char *buf, size_t size, size_t *len, char c, bool *over)
{
	if (*len + 1 >= size) {
		*over = true;
		return;
	}
	buf[(*len)++] = c;
	buf[*len] = '\0';
}

/* A quoted-string at l->p (which is '"'), appended unquoted to buf.  Returns
 * false if it is not terminated. */
static bool lex_quoted(Lex *l, char *buf, size_t size, size_t *len, bool *over)
{
	l->p++;
	while (l->p < l->end) {
		char c = *l->p++;
		if (c == '"')
			return true;
		if (c == '\\' && l->p < l->end)
			c = *l->p++;
		put(buf, size, len, c, over);
	}
	return false;
}

static bool is_keyword_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* A Keyword (RFC 8601: letters, digits, hyphens; we also take '_'),
 * lower-cased into buf.  Returns false, consuming nothing, if there is none;
 * a keyword too long for buf is consumed and returns false. */
static bool lex_keyword(Lex *l, char *buf, size_t size)
{
	size_t len = 0;
	bool over = false;
	buf[0] = '\0';
	if (l->p >= l->end || !is_keyword_char(*l->p))
		return false;
	while (l->p < l->end && is_keyword_char(*l->p))
		put(buf, size, &len, g_ascii_tolower(*l->p++), &over);
	return !over;
}

/* RFC 2045 token characters; bytes above 0x7f are let through (they can
 * only make a value that matches nothing). */
static bool is_token_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u != 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* A value (RFC 2045: token / quoted-string) into buf.  Returns false if there
 * is none, it is unterminated or it does not fit. */
static bool lex_value(Lex *l, char *buf, size_t size)
{
	size_t len = 0;
	bool over = false;
	buf[0] = '\0';
	if (peek(l, '"'))
		return lex_quoted(l, buf, size, &len, &over) && !over;
	if (l->p >= l->end || !is_token_char(*l->p))
		return false;
	while (l->p < l->end && is_token_char(*l->p))
		put(buf, size, &len, *l->p++, &over);
	return !over;
}

/* A pvalue: a value, or an address or domain ([[local-part] "@"] domain),
 * which may have '@', '/', '=' and quoted local-parts in it: everything up
 * to white space, a comment or ';', quoted strings unquoted.  May be empty
 * ("smtp.mailfrom=" for the null sender).  Returns false if it is
 * unterminated or does not fit. */
static bool lex_pvalue(Lex *l, char *buf, size_t size)
{
	size_t len = 0;
	bool over = false, ok = true;
	buf[0] = '\0';
	while (l->p < l->end && ok) {
		char c = *l->p;
		if (is_wsp(c) || c == '(' || c == ';')
			break;
		if (c == '"') {
			ok = lex_quoted(l, buf, size, &len, &over);
			continue;
		}
		put(buf, size, &len, c, &over);
		l->p++;
	}
	return ok && !over;
}

/* Skip to the next ';' outside comments and quoted strings (or the end). */
static void skip_to_semicolon(Lex *l)
{
	char scratch[2];
	size_t len = 0;
	bool over = false;
	for (;;) {
		skip_cfws(l);
		if (l->p >= l->end || *l->p == ';')
			return;
		if (*l->p == '"') {
			len = 0;
			lex_quoted(l, scratch, sizeof scratch, &len, &over);
		} else {
			l->p++;
		}
	}
}

/* ---------- one result ---------- */

typedef enum { P_HEADER_D, P_HEADER_I, P_HEADER_FROM, P_SMTP_MAILFROM, P_SMTP_HELO, P_COUNT } Prop;

static const char *const prop_names[P_COUNT] = {"header.d", "header.i", "header.from",
						"smtp.mailfrom", "smtp.helo"};

typedef struct {
	char method[AUTH_KEYWORD_MAX];
	char result[AUTH_KEYWORD_MAX];
	bool malformed; /* something in it could not be read */
	bool has[P_COUNT];
	char val[P_COUNT][AUTH_VALUE_MAX];
} ResInfo;

static int prop_of(const char *ptype, const char *property)
{
	for (int i = 0; i < P_COUNT; i++) {
		const char *n = prop_names[i];
		size_t tl = strlen(ptype);
		if (strncmp(n, ptype, tl) == 0 && n[tl] == '.' && strcmp(n + tl + 1, property) == 0)
			return i;
	}
	return -1;
}

/* Whether a property ("ptype.property=" or "keyword=") starts at l->p.
 * Reads a copy of the lexer. */
static bool at_property(const Lex *l)
{
	Lex k = *l;
	char kw[AUTH_KEYWORD_MAX];
	if (!lex_keyword(&k, kw, sizeof kw))
		return false;
	skip_cfws(&k);
	if (peek(&k, '.')) {
		k.p++;
		skip_cfws(&k);
		if (!lex_keyword(&k, kw, sizeof kw))
			return false;
		skip_cfws(&k);
	}
	return peek(&k, '=');
}

/* After a property's '=': its value into buf.  An empty value ("smtp.mailfrom="
 * for the null sender, as Gmail writes it) is told from CFWS before a value
 * by what follows: nothing, ';', or the next property. */
static bool lex_prop_value(Lex *l, bool reason, char *buf, size_t size)
{
	const char *before = l->p;
	skip_cfws(l);
	if (l->p >= l->end || *l->p == ';' || (l->p != before && at_property(l))) {
		buf[0] = '\0';
		return true;
	}
	return reason ? lex_value(l, buf, size) : lex_pvalue(l, buf, size);
}

/* The properties after "method=result", up to the next ';' or the end. */
static void lex_properties(Lex *l, ResInfo *r)
{
	char ptype[AUTH_KEYWORD_MAX], property[AUTH_KEYWORD_MAX], value[AUTH_VALUE_MAX];
	for (;;) {
		skip_cfws(l);
		if (l->p >= l->end || *l->p == ';')
			return;
		if (!lex_keyword(l, ptype, sizeof ptype))
			goto bad;
		skip_cfws(l);
		if (peek(l, '=')) {
			/* reasonspec, or a bare keyword=value some servers write
			 * (action=none, policy=...): read and ignored */
			l->p++;
			if (!lex_prop_value(l, strcmp(ptype, "reason") == 0, value, sizeof value))
				goto bad;
			continue;
		}
		if (!peek(l, '.'))
			goto bad;
		l->p++;
		skip_cfws(l);
		if (!lex_keyword(l, property, sizeof property))
			goto bad;
		skip_cfws(l);
		if (!peek(l, '='))
			goto bad;
		l->p++;
		if (!lex_prop_value(l, false, value, sizeof value))
			goto bad;
		int i = prop_of(ptype, property);
		/* the first of a repeated property counts */
		if (i >= 0 && !r->has[i]) {
			r->has[i] = true;
			memcpy(r->val[i], value, sizeof value);
		}
	}
bad:
	r->malformed = true;
	skip_to_semicolon(l);
}

/* ---------- domains ---------- */

/* The domain of an address or bare domain: after the last '@', without
 * surrounding <>.  NULL if there is nothing after the '@'. */
static const char *domain_part(const char *v, char *buf, size_t size)
{
	const char *at = strrchr(v, '@');
	const char *d = at ? at + 1 : v;
	if (*d == '<')
		d++;
	size_t n = strlen(d);
	if (n > 0 && d[n - 1] == '>')
		n--;
	if (n == 0 || n >= size)
		return NULL;
	memcpy(buf, d, n);
	buf[n] = '\0';
	return buf;
}

/* `in` as a lower-case ASCII domain name (IDNA A-labels, no final dot) into
 * out[AUTH_DOMAIN_MAX + 1].  Returns false if it is not a domain name. */
static bool norm_domain(const char *in, char *out)
{
	if (in == NULL || *in == '\0')
		return false;
	g_autofree char *ascii = NULL;
	for (const char *p = in; *p; p++) {
		if ((unsigned char)*p >= 0x80) {
			if (!g_utf8_validate(in, -1, NULL))
				return false;
			ascii = g_hostname_to_ascii(in);
			if (ascii == NULL)
				return false;
			in = ascii;
			break;
		}
	}
	size_t n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > AUTH_DOMAIN_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (g_ascii_isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		out[i] = g_ascii_tolower(c);
	}
	out[n] = '\0';
	return label > 0;
}

/* Relaxed alignment (RFC 7489 3.1): the same domain, or the same
 * organizational domain by the Public Suffix List (private entries too, so
 * a.github.io and b.github.io are two organizations).  Both normalized.
 * Without a list (a libpsl built without one) only the same domain. */
static bool aligned(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return true;
	const psl_ctx_t *psl = psl_builtin();
	if (psl == NULL)
		return false;
	const char *oa = psl_registrable_domain(psl, a);
	const char *ob = psl_registrable_domain(psl, b);
	return oa != NULL && ob != NULL && strcmp(oa, ob) == 0;
}

/* ---------- folding results into a verdict ---------- */

/* What one method's results came to.  Fixed strings, so the summary can be
 * made once at the end. */
typedef struct {
	bool pass_aligned;                     /* dmarc: pass for the From domain */
	const char *aligned_prop;              /* property name that aligned */
	char aligned_dom[AUTH_DOMAIN_MAX + 1]; /* its domain */
	bool pass_other;                       /* a pass that did not align */
	const char *other_prop;
	char other_dom[AUTH_DOMAIN_MAX + 1]; /* "" if not a domain name */
	char fail[AUTH_KEYWORD_MAX];         /* first result other than pass */
} MethodFacts;

typedef struct {
	const char *from_dom;
	MethodFacts dmarc, dkim, spf;
	bool dmarc_contradiction; /* a pass and another result for the From domain */
} Facts;

static void note_fail(MethodFacts *m, const char *result)
{
	if (m->fail[0] == '\0')
		g_strlcpy(m->fail, result, sizeof m->fail);
}

static void note_pass(MethodFacts *m, const char *prop, const char *dom, bool ok, bool is_aligned)
{
	if (ok && is_aligned) {
		if (!m->pass_aligned) {
			m->pass_aligned = true;
			m->aligned_prop = prop;
			g_strlcpy(m->aligned_dom, dom, sizeof m->aligned_dom);
		}
	} else if (!m->pass_other) {
		m->pass_other = true;
		m->other_prop = prop;
		g_strlcpy(m->other_dom, ok ? dom : "", sizeof m->other_dom);
	}
}

/* The domain that property i of r names, normalized into dom. */
static bool prop_domain(const ResInfo *r, int i, char *dom)
{
	char buf[AUTH_VALUE_MAX];
	const char *d = r->has[i] ? domain_part(r->val[i], buf, sizeof buf) : NULL;
	return d != NULL && norm_domain(d, dom);
}

static void fold_dmarc(Facts *f, const ResInfo *r)
{
	char dom[AUTH_DOMAIN_MAX + 1] = "";
	bool ours = true; /* for the From domain (or no header.from given) */
	if (r->has[P_HEADER_FROM])
		ours = prop_domain(r, P_HEADER_FROM, dom) && strcmp(dom, f->from_dom) == 0;
	bool pass = strcmp(r->result, "pass") == 0 && !r->malformed;
	if (!ours) {
		if (strcmp(r->result, "pass") == 0)
			note_pass(&f->dmarc, "header.from", dom, dom[0] != '\0', false);
		return;
	}
	if (pass)
		note_pass(&f->dmarc, "header.from", f->from_dom, true, true);
	else if (strcmp(r->result, "pass") == 0)
		note_fail(&f->dmarc, "pass (unreadable)");
	else
		note_fail(&f->dmarc, r->result);
	if (f->dmarc.pass_aligned && f->dmarc.fail[0] != '\0')
		f->dmarc_contradiction = true;
}

static void fold_dkim(Facts *f, const ResInfo *r)
{
	bool pass = strcmp(r->result, "pass") == 0;
	if (!pass || r->malformed) {
		note_fail(&f->dkim, pass ? "pass (unreadable)" : r->result);
		return;
	}
	char dom[AUTH_DOMAIN_MAX + 1] = "";
	int i = r->has[P_HEADER_D] ? P_HEADER_D : P_HEADER_I;
	bool ok = prop_domain(r, i, dom);
	note_pass(&f->dkim, prop_names[i], dom, ok, ok && aligned(dom, f->from_dom));
}

static void fold_spf(Facts *f, const ResInfo *r)
{
	bool pass = strcmp(r->result, "pass") == 0;
	if (!pass || r->malformed) {
		note_fail(&f->spf, pass ? "pass (unreadable)" : r->result);
		return;
	}
	/* the null sender ("smtp.mailfrom=" or "<>") is checked by its HELO
	 * name (RFC 7208 2.4) */
	char buf[AUTH_VALUE_MAX];
	int i = P_SMTP_MAILFROM;
	if (!r->has[i] || domain_part(r->val[i], buf, sizeof buf) == NULL)
		i = P_SMTP_HELO;
	char dom[AUTH_DOMAIN_MAX + 1] = "";
	bool ok = prop_domain(r, i, dom);
	note_pass(&f->spf, prop_names[i], dom, ok, ok && aligned(dom, f->from_dom));
}

static void fold(Facts *f, const ResInfo *r)
{
	if (strcmp(r->method, "dmarc") == 0)
		fold_dmarc(f, r);
	else if (strcmp(r->method, "dkim") == 0)
		fold_dkim(f, r);
	else if (strcmp(r->method, "spf") == 0)
		fold_spf(f, r);
}

/* The results after the authserv-id (and version), folded into f. */
static void read_results(Lex *l, Facts *f)
{
	for (;;) {
		skip_cfws(l);
		if (l->p >= l->end)
			return;
		if (*l->p != ';') {
			skip_to_semicolon(l); /* garbage */
			continue;
		}
		l->p++;
		skip_cfws(l);
		ResInfo r = {0};
		if (!lex_keyword(l, r.method, sizeof r.method)) {
			skip_to_semicolon(l);
			continue;
		}
		skip_cfws(l);
		if (peek(l, '/')) { /* method version */
			l->p++;
			skip_cfws(l);
			while (l->p < l->end && g_ascii_isdigit(*l->p))
				l->p++;
			skip_cfws(l);
		}
		if (!peek(l, '=')) { /* "; none", or garbage */
			skip_to_semicolon(l);
			continue;
		}
		l->p++;
		skip_cfws(l);
		if (!lex_keyword(l, r.result, sizeof r.result)) {
			skip_to_semicolon(l);
			continue;
		}
		lex_properties(l, &r);
		fold(f, &r);
	}
}

/* The authserv-id of a header into buf (size bytes), l past it and its
 * version.  False if the header has none: Microsoft's start with the first
 * result ("spf=pass ..."), whose method is no authserv-id. */
static bool read_authserv_id(Lex *l, char *buf, size_t size)
{
	skip_cfws(l);
	if (!lex_value(l, buf, size) || buf[0] == '\0')
		return false;
	skip_cfws(l);
	if (peek(l, '=') || peek(l, '.') || peek(l, '/'))
		return false;
	/* an authres-version: digits before the first ';' */
	const char *save = l->p;
	while (l->p < l->end && g_ascii_isdigit(*l->p))
		l->p++;
	if (l->p > save && (l->p == l->end || is_wsp(*l->p) || *l->p == '(' || *l->p == ';'))
		skip_cfws(l);
	else
		l->p = save;
	return true;
}

/* ---------- the summary ---------- */

/* "dkim=pass header.d=x.example aligned with x.example", "spf=softfail", ...;
 * nothing if the method had no result. */
static void describe(GString *s, const char *method, const MethodFacts *m, const char *from_dom)
{
	if (!m->pass_aligned && !m->pass_other && m->fail[0] == '\0')
		return;
	if (s->len > 0)
		g_string_append(s, ", ");
	if (m->pass_aligned)
		g_string_append_printf(s, "%s=pass %s=%s aligned with %s", method, m->aligned_prop,
				       m->aligned_dom, from_dom);
	else if (m->pass_other)
		g_string_append_printf(s, "%s=pass %s=%s not aligned with %s", method,
				       m->other_prop,
				       m->other_dom[0] ? m->other_dom : "(not a domain)", from_dom);
	else
		g_string_append_printf(s, "%s=%s", method, m->fail);
}

/* Into out->summary: cut on a character boundary, at the first invalid
 * UTF-8 byte, and control characters (C0, DEL, C1) made '?'.  (What we
 * write is ASCII but for the caller's authserv-id.) */
static void set_summary(AuthVerdict *out, const char *text)
{
	const char *end = NULL;
	g_utf8_validate(text, -1, &end);
	size_t n = MIN((size_t)(end - text), sizeof out->summary - 1);
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	memcpy(out->summary, text, n);
	out->summary[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out->summary[i];
		if (c < 0x20 || c == 0x7f) {
			out->summary[i] = '?';
		} else if (c == 0xc2 && i + 1 < n && (unsigned char)out->summary[i + 1] < 0xa0) {
			out->summary[i] = '?';
			out->summary[++i] = '?';
		}
	}
}

/* ---------- the API ---------- */

static const char *const require_names[] = {"none", "aligned", "dmarc"};

int auth_require_parse(const char *word, AuthRequire *out)
{
	for (size_t i = 0; word != NULL && i < G_N_ELEMENTS(require_names); i++) {
		if (strcmp(word, require_names[i]) == 0) {
			*out = (AuthRequire)i;
			return 0;
		}
	}
	return -1;
}

const char *auth_require_name(AuthRequire r)
{
	return (unsigned)r < G_N_ELEMENTS(require_names) ? require_names[r] : "?";
}

void auth_check(const char *const *results, size_t n, const char *trusted_authserv_id,
		const char *from_addr, AuthRequire req, AuthVerdict *out)
{
	memset(out, 0, sizeof *out);
	bool needed = req != AUTH_REQUIRE_NONE;
	g_autoptr(GString) s = g_string_new(NULL);
	char from_dom[AUTH_DOMAIN_MAX + 1] = "";
	const char *at = from_addr ? strrchr(from_addr, '@') : NULL;

	if (trusted_authserv_id == NULL || *trusted_authserv_id == '\0') {
		g_string_append(s, "no trusted server is configured (auth.trusted_authserv_id)");
		goto done;
	}
	/* the topmost header from the trusted server */
	Lex l = {0};
	char id[256];
	for (size_t i = 0; results != NULL && i < n && !out->found; i++) {
		if (results[i] == NULL)
			continue;
		l = (Lex){results[i], results[i] + strlen(results[i])};
		out->found = read_authserv_id(&l, id, sizeof id) &&
			     g_ascii_strcasecmp(id, trusted_authserv_id) == 0;
	}
	if (at == NULL || !norm_domain(at + 1, from_dom)) {
		g_string_append(s, "the From address has no valid domain");
		goto done;
	}
	if (!out->found) {
		g_string_append_printf(s, "no Authentication-Results from %s", trusted_authserv_id);
		goto done;
	}

	Facts f = {.from_dom = from_dom};
	read_results(&l, &f);
	bool dmarc_ok = f.dmarc.pass_aligned && !f.dmarc_contradiction;
	bool dkim_ok = f.dkim.pass_aligned, spf_ok = f.spf.pass_aligned;
	if (req == AUTH_REQUIRE_DMARC)
		out->verified = dmarc_ok;
	else if (req == AUTH_REQUIRE_ALIGNED)
		out->verified = dmarc_ok || dkim_ok || spf_ok;

	if (out->verified) {
		/* the first reason that holds */
		if (dmarc_ok)
			g_string_append(s, "dmarc=pass");
		else
			describe(s, dkim_ok ? "dkim" : "spf", dkim_ok ? &f.dkim : &f.spf, from_dom);
	} else {
		if (f.dmarc_contradiction)
			g_string_append_printf(s, "dmarc=pass and dmarc=%s for %s", f.dmarc.fail,
					       from_dom);
		else if (f.dmarc.pass_aligned)
			g_string_append(s, "dmarc=pass");
		else if (f.dmarc.fail[0] != '\0')
			g_string_append_printf(s, "dmarc=%s", f.dmarc.fail);
		else if (f.dmarc.pass_other)
			g_string_append_printf(s, "dmarc=pass header.from=%s is not %s",
					       f.dmarc.other_dom[0] ? f.dmarc.other_dom
								    : "(not a domain)",
					       from_dom);
		else
			g_string_append(s, "no dmarc result");
		describe(s, "dkim", &f.dkim, from_dom);
		describe(s, "spf", &f.spf, from_dom);
	}
	g_string_append_printf(s, " (%s)", trusted_authserv_id);
done:
	if (!needed) {
		out->verified = true;
		g_string_prepend(s, "not required; ");
	}
	set_summary(out, s->str);
}
