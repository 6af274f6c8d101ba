/* bounce.c - delivery status notifications: is this mail a bounce, and
 * which of our mails bounced, to whom, and why.
 *
 * What it does: recognises a mail that reports that a mail could not be
 * delivered (RFC 3464 multipart/report, or the text notices that Postfix,
 * Exim, qmail, Sendmail, Exchange, Gmail, Novell and others send) and takes
 * from it the Message-ID of the returned mail, the recipient that failed,
 * the status code and the server's diagnostic, so that the planner can match
 * the bounce to the outbox row by Message-ID.
 *
 * What it does not: no decision about what a bounce means (the planner's),
 * no classification of reasons (unknown user, full mailbox, spam), no VERP.
 * A delay warning, a delivery or relay report, a read receipt (MDN) or an
 * abuse report (ARF) is not a bounce.
 *
 * How, in order:
 * - Gate, with no look at the body: the mail is a multipart/report, or comes
 *   from a bounce sender (Return-Path <> or that of a mailer daemon; From
 *   local part MAILER-DAEMON, postmaster or Exchange's MicrosoftExchange...;
 *   an X-Failed-Recipients header).  Every other mail returns here, so the
 *   parse path of ordinary mail pays for three header look-ups.  A
 *   multipart/report of another report-type (disposition-notification,
 *   feedback-report, ...) returns here too.
 * - Parts: the first message/delivery-status (or global-delivery-status, or
 *   XWall's xdelivery-status) and the first returned message among the first
 *   64 parts, 4 levels deep, never inside the returned message itself.
 * - RFC 3464: the delivery-status text in blank-line separated groups (blank
 *   lines first and last are fine, at most 200 groups); a group with an
 *   Action or a Status code tells a recipient's outcome (a Final-Recipient
 *   alone tells none).  The first recipient whose Action is failed (or,
 *   without Action, whose Status is 5.x.x) makes the bounce;
 *   recipients that are only delayed, delivered, relayed or expanded make it
 *   no bounce, whatever the text says.  A group that announces
 *   Content-Transfer-Encoding: base64 is followed by base64 groups (a Postfix
 *   report re-encoded by a gateway, in the corpus): they are decoded, once.
 * - Without a delivery-status part that says either way, the text (the first
 *   64 KiB of m->text, the body mime_parse chose): delivery-status fields
 *   written into the text (Amazon WorkMail, XWall) are read as above; else it
 *   is a bounce if the report says report-type=delivery-status, or if the
 *   subject or the notice carries a failure phrase of the common MTAs, and
 *   neither says that it is only a delay warning.  The notice is the text
 *   before the copy of the returned mail ("------ This is a copy of the
 *   message", "--- Below this line is a copy of the message", "Original
 *   message follows", a first Received: or Message-ID: line...).
 * - Message-ID: the returned message/rfc822 (or message/global); else the
 *   header block of a text/rfc822-headers part, or of a message/rfc822 that
 *   GMime found no header in (a blank line first); else X-Original-Message-ID
 *   of the delivery status (Gmail); else the first "Message-ID:" line of the
 *   text (returned headers pasted in it); else the bounce's own In-Reply-To,
 *   else its newest References id (some bounces name the original so and
 *   return nothing).
 * - Recipient: Original-Recipient (the address as we wrote it), else
 *   Final-Recipient, else X-Failed-Recipients, else the first address in the
 *   notice that is not the bounce's own From/To/Cc nor a mailer daemon's.
 *   Status: the code in the Status field, else the first 4.x.x or 5.x.x in the
 *   diagnostic, else in the notice.  Diagnostic: Diagnostic-Code without its
 *   type ("smtp;"), else the notice's line with that status code or an SMTP
 *   reply code, else the line that names the recipient.
 *
 * Why this way: the detection of non-standard bounces needs a bounce sender,
 * so a customer who writes (or quotes) "Undelivered Mail Returned to Sender"
 * stays a customer.  The work is bounded by parts looked at, bytes read from
 * a part and bytes of text scanned, whatever the input.  parse.c calls this
 * file and this file calls nothing in parse.c (no circle between files), so
 * it has its own small cleaners; every string it hands out goes through
 * one_line (valid UTF-8, no control characters) and the MimeLimits caps. */
#include <gmime/gmime.h>
#include <stddef.h>
#include <string.h>

#include "bounce.h"
#include "deskmail/mime.h"
#include "deskmail/util.h"
#include "mime-private.h"

enum {
	MAX_PARTS = 64,           /* MIME parts looked at */
	MAX_DEPTH = 4,            /* multipart levels looked into */
	MAX_READ = 64 * 1024,     /* bytes read from one part, or of text scanned */
	MAX_NOTICE = 16 * 1024,   /* bytes of the notice searched for phrases */
	MAX_GROUPS = 200,         /* delivery-status groups read */
	MAX_FIELD = 2000,         /* bytes kept of one delivery-status field */
	MAX_DIAG = 500,           /* bytes of bounce_diagnostic */
	MAX_DIAG_LINES = 4,       /* notice lines joined into a diagnostic */
	MAX_ADDR_CANDIDATES = 64, /* addresses in the notice looked at */
};

/* ---- small cleaners ------------------------------------------------------ */

static bool is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

/* Any bytes -> one line of valid UTF-8: control characters and runs of
 * white space become one space, the ends are trimmed.  NULL if empty. */
static char *one_line(const char *s, size_t len)
{
	if (s == NULL)
		return NULL;
	g_autofree char *u = mime_to_utf8(s, len);
	GString *out = g_string_sized_new(strlen(u) + 1);
	bool gap = false;
	for (const char *p = u; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (is_control(c) || c == ' ') {
			gap = out->len > 0;
			continue;
		}
		if (gap)
			g_string_append_c(out, ' ');
		gap = false;
		g_string_append_unichar(out, c);
	}
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/* An id without <> cleaned: NULL if blank, with white space or brackets
 * inside, or longer than max_id_bytes. */
static char *id_clean(const char *raw, size_t len, const MimeLimits *lim)
{
	char *id = one_line(raw, len);
	if (id && (strpbrk(id, " <>") || strlen(id) > lim->max_id_bytes)) {
		g_free(id);
		id = NULL;
	}
	return id;
}

/* A msg-id from a header value: the first <...>, else the bare token if it
 * has an @; cleaned as id_clean. */
static char *id_of(const char *v, const MimeLimits *lim)
{
	if (v == NULL)
		return NULL;
	const char *lt = strchr(v, '<');
	const char *gt = lt ? strchr(lt + 1, '>') : NULL;
	if (lt && gt)
		return id_clean(lt + 1, (size_t)(gt - lt - 1), lim);
	return strchr(v, '@') ? id_clean(v, strlen(v), lim) : NULL;
}

/* An address from a delivery-status value ("rfc822; a@b", "rfc822;
 * rfc822;a@b", "<a@b>", "Name <a@b>") or a header: lower-case, NULL if not
 * a plausible addr-spec or over max_address_bytes. */
static char *addr_of(const char *v, const MimeLimits *lim)
{
	if (v == NULL)
		return NULL;
	/* address types ("rfc822;"), once or more */
	for (;;) {
		const char *semi = strchr(v, ';');
		if (semi == NULL)
			break;
		bool type = semi > v;
		for (const char *p = v; p < semi; p++)
			if (*p == '@' || *p == '<')
				type = false;
		if (!type)
			break;
		v = semi + 1;
	}
	const char *lt = strrchr(v, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	g_autofree char *raw =
		lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strstrip(g_strdup(v));
	/* one_line makes any control a space, which no address has */
	g_autofree char *u = one_line(raw, strlen(raw));
	if (u == NULL || !dm_addr_valid(u) || strlen(u) > lim->max_address_bytes)
		return NULL;
	return g_utf8_strdown(u, -1);
}

/* The local part of addr is a mailer daemon's. */
static bool daemon_addr(const char *addr)
{
	static const char *const names[] = {"mailer-daemon", "postmaster", "mail-daemon",
					    "mailerdaemon"};
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strlen(names[i]) == n && g_ascii_strncasecmp(addr, names[i], n) == 0)
			return true;
	/* Exchange: "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@" */
	return n > 17 && g_ascii_strncasecmp(addr, "microsoftexchange", 17) == 0;
}

/* ---- status codes -------------------------------------------------------- */

/* Length of an RFC 3463 status code "c.sss.ddd" at s (class in classes),
 * standing alone (no digit or dot around it); 0 if none. */
static size_t code_at(const char *s, const char *end, const char *start, const char *classes)
{
	if (s >= end || *s == '\0' || strchr(classes, *s) == NULL)
		return 0;
	if (s > start && (g_ascii_isdigit(s[-1]) || s[-1] == '.'))
		return 0;
	const char *p = s + 1;
	for (int part = 0; part < 2; part++) {
		if (p >= end || *p != '.')
			return 0;
		p++;
		const char *d = p;
		while (p < end && g_ascii_isdigit(*p) && p - d < 4)
			p++;
		if (p == d || p - d > 3)
			return 0;
	}
	if (p < end && (g_ascii_isdigit(*p) || (*p == '.' && p + 1 < end && g_ascii_isdigit(p[1]))))
		return 0;
	return (size_t)(p - s);
}

/* The first status code of the given classes in s[0..len), and where. */
static char *find_code(const char *s, size_t len, const char *classes, const char **at_r)
{
	for (size_t i = 0; i < len; i++) {
		size_t n = code_at(s + i, s + len, s, classes);
		if (n) {
			if (at_r)
				*at_r = s + i;
			return g_strndup(s + i, n);
		}
	}
	return NULL;
}

/* A Status field's value ("5.1.1", "5.1.1 (bad mailbox)", "550 5.1.1") ->
 * its code, or NULL if it holds none. */
static char *status_of(const char *v)
{
	return v ? find_code(v, strlen(v), "245", NULL) : NULL;
}

/* SMTP reply codes that servers give for refused mail. */
static bool smtp_code_at(const char *s, const char *end, const char *start)
{
	static const char *const codes[] = {"421", "450", "451", "452", "454", "500", "501", "502",
					    "503", "504", "521", "523", "530", "535", "541", "550",
					    "551", "552", "553", "554", "556", "571"};
	if (end - s < 4 || (s > start && !(s[-1] == ' ' || s[-1] == '\t' || s[-1] == ':' ||
					   s[-1] == '\n' || s[-1] == '(')))
		return false;
	if (s[3] != ' ' && s[3] != '-')
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
		if (memcmp(s, codes[i], 3) == 0)
			return true;
	return false;
}

/* ---- delivery-status fields ---------------------------------------------- */

typedef struct {
	GString *action, *status, *final_rcpt, *orig_rcpt, *diag, *orig_id;
	GString *last; /* the field a continuation line extends */
	bool base64;   /* Content-Transfer-Encoding: base64 */
	bool any;      /* a field was seen */
} Group;

typedef struct {
	const MimeLimits *lim;
	size_t n_groups;
	bool known;  /* a recipient with an Action or a Status */
	bool failed; /* ... one of them failed: the first is kept below */
	char *rcpt, *status, *diag;
	char *orig_id; /* X-Original-Message-ID of the report (Gmail) */
} Dsn;

static void group_clear(Group *g)
{
	GString **all[] = {&g->action,    &g->status, &g->final_rcpt,
			   &g->orig_rcpt, &g->diag,   &g->orig_id};
	for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
		if (*all[i])
			g_string_free(*all[i], TRUE);
	*g = (Group){0};
}

static GString **group_field(Group *g, const char *name, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"Action", offsetof(Group, action)},
		{"Status", offsetof(Group, status)},
		{"Final-Recipient", offsetof(Group, final_rcpt)},
		{"Original-Recipient", offsetof(Group, orig_rcpt)},
		{"Diagnostic-Code", offsetof(Group, diag)},
		{"X-Original-Message-ID", offsetof(Group, orig_id)},
		{"Original-Message-ID", offsetof(Group, orig_id)},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (strlen(fields[i].name) == n &&
		    g_ascii_strncasecmp(name, fields[i].name, n) == 0)
			return (GString **)(void *)((char *)g + fields[i].off);
	return NULL;
}

/* Diagnostic-Code "smtp; 550 5.1.1 ..." -> "550 5.1.1 ...", one line. */
static char *diag_of(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	const char *semi = strchr(v, ';');
	if (semi) {
		bool type = semi > v;
		for (const char *p = v; p < semi; p++)
			if (*p == ' ' || *p == '\t')
				type = false;
		if (type)
			v = semi + 1;
	}
	return mime_cap_text(one_line(v, strlen(v)), MAX_DIAG);
}

static void group_end(Dsn *d, Group *g)
{
	d->n_groups++;
	if (g->orig_id && d->orig_id == NULL)
		d->orig_id = g_strdup(g->orig_id->str);
	/* a Status that is no code (an mbox "Status: RO" in pasted headers)
	 * says nothing */
	g_autofree char *st = status_of(g->status ? g->status->str : NULL);
	if (g->action || st) {
		char word[16] = "";
		if (g->action) {
			const char *a = g->action->str;
			while (*a == ' ' || *a == '\t')
				a++;
			size_t n = 0;
			while (a[n] && g_ascii_isalpha(a[n]) && n < sizeof word - 1) {
				word[n] = g_ascii_tolower(a[n]);
				n++;
			}
			word[n] = '\0';
		}
		bool failed = g->action ? strcmp(word, "failed") == 0 : (st && st[0] == '5');
		d->known = true;
		if (failed && !d->failed) {
			d->failed = true;
			d->rcpt = addr_of(g->orig_rcpt ? g->orig_rcpt->str : NULL, d->lim);
			if (d->rcpt == NULL)
				d->rcpt =
					addr_of(g->final_rcpt ? g->final_rcpt->str : NULL, d->lim);
			d->diag = g->diag ? diag_of(g->diag->str) : NULL;
			d->status = g_steal_pointer(&st);
		}
	}
	group_clear(g);
}

static bool is_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	return true;
}

static void dsn_parse(Dsn *d, const char *s, size_t len, int depth);

/* The rest of a delivery status, base64-encoded after a group that says so. */
static void dsn_base64(Dsn *d, const char *p, const char *end)
{
	char *b = g_strndup(p, (gsize)(end - p));
	gsize n = 0;
	g_base64_decode_inplace(b, &n); /* skips line ends and other stray bytes */
	char *u = dm_lf_newlines(mime_to_utf8(b, n));
	dsn_parse(d, u, strlen(u), 1);
	g_free(u);
	g_free(b);
}

/* Delivery-status groups (UTF-8, LF) into d. */
static void dsn_parse(Dsn *d, const char *s, size_t len, int depth)
{
	Group g = {0};
	const char *p = s, *end = s + len;
	while (p < end && d->n_groups < MAX_GROUPS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (is_blank(p, le)) {
			if (g.any) {
				bool b64 = g.base64;
				group_end(d, &g);
				if (b64 && depth == 0) {
					dsn_base64(d, next, end);
					return;
				}
			}
			p = next;
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			if (g.last && g.last->len < MAX_FIELD) {
				g_string_append_c(g.last, ' ');
				g_string_append_len(g.last, p, le - p);
			}
			p = next;
			continue;
		}
		g.last = NULL;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		size_t n = colon ? (size_t)(colon - p) : 0;
		for (size_t i = 0; i < n; i++)
			if (p[i] <= ' ' || p[i] > '~')
				n = 0;
		if (n > 0 && n < 64) {
			g.any = true;
			const char *v = colon + 1;
			size_t vl = (size_t)(le - v);
			if (vl > MAX_FIELD)
				vl = MAX_FIELD;
			GString **f = group_field(&g, p, n);
			if (f && *f == NULL) {
				*f = g_string_new_len(v, (gssize)vl);
				g.last = *f;
			}
			if (n == 25 &&
			    g_ascii_strncasecmp(p, "Content-Transfer-Encoding", n) == 0) {
				g_autofree char *cte = g_strstrip(g_strndup(v, vl));
				g.base64 = g_ascii_strcasecmp(cte, "base64") == 0;
			}
		}
		p = next;
	}
	if (g.any)
		group_end(d, &g);
	group_clear(&g);
}

static void dsn_clear(Dsn *d)
{
	g_free(d->rcpt);
	g_free(d->status);
	g_free(d->diag);
	g_free(d->orig_id);
}

/* ---- parts --------------------------------------------------------------- */

typedef struct {
	GMimeObject *dsn;      /* message/delivery-status, or a variant */
	GMimeObject *returned; /* the returned message, or its headers */
	bool mdn;              /* a read receipt part */
	size_t n;
} Parts;

static bool is_dsn_type(GMimeContentType *ct)
{
	const char *type = g_mime_content_type_get_media_type(ct);
	const char *sub = g_mime_content_type_get_media_subtype(ct);
	return type && sub && g_ascii_strcasecmp(type, "message") == 0 &&
	       (g_ascii_strcasecmp(sub, "delivery-status") == 0 ||
		g_ascii_strcasecmp(sub, "global-delivery-status") == 0 ||
		g_ascii_strcasecmp(sub, "xdelivery-status") == 0);
}

static bool is_returned_type(GMimeContentType *ct)
{
	return g_mime_content_type_is_type(ct, "message", "rfc822") ||
	       g_mime_content_type_is_type(ct, "message", "global") ||
	       g_mime_content_type_is_type(ct, "text", "rfc822-headers") ||
	       g_mime_content_type_is_type(ct, "message", "rfc822-headers") ||
	       g_mime_content_type_is_type(ct, "message", "global-headers");
}

static void find_parts(Parts *ps, GMimeObject *obj, size_t depth)
{
	if (obj == NULL || depth > MAX_DEPTH || ++ps->n > MAX_PARTS)
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && ps->n < MAX_PARTS; i++)
			find_parts(ps, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (ct == NULL)
		return;
	if (is_dsn_type(ct)) {
		if (ps->dsn == NULL)
			ps->dsn = obj;
	} else if (g_mime_content_type_is_type(ct, "message", "disposition-notification") ||
		   g_mime_content_type_is_type(ct, "message", "global-disposition-notification")) {
		ps->mdn = true;
	} else if (is_returned_type(ct) || GMIME_IS_MESSAGE_PART(obj)) {
		if (ps->returned == NULL)
			ps->returned = obj;
	}
}

/* At most max decoded bytes of a leaf part, as valid UTF-8 with LF line
 * ends (g_free).  Reads no more than it keeps: the part may be large. */
static char *part_prefix(GMimeObject *obj, size_t max)
{
	GMimeDataWrapper *dw = GMIME_IS_PART(obj) ? g_mime_part_get_content(GMIME_PART(obj)) : NULL;
	GMimeStream *src = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	if (src == NULL)
		return g_strdup("");
	GMimeStream *fs = g_mime_stream_filter_new(src);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	g_mime_stream_reset(fs);
	char *buf = g_malloc(max + 1);
	size_t n = 0;
	while (n < max) {
		ssize_t r = g_mime_stream_read(fs, buf + n, max - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	g_object_unref(fs);
	char *u = dm_lf_newlines(mime_to_utf8(buf, n));
	g_free(buf);
	return u;
}

/* The delivery status as text: GMime 3.2 gives a leaf part; should a
 * GMime take the type for a message, its headers are the first group and
 * its body the others, so it is written back out. */
static char *dsn_text(GMimeObject *obj)
{
	if (!GMIME_IS_MESSAGE_PART(obj))
		return part_prefix(obj, MAX_READ);
	GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
	if (inner == NULL)
		return g_strdup("");
	g_autofree char *s = g_mime_object_to_string(GMIME_OBJECT(inner), NULL);
	size_t n = strnlen(s, MAX_READ);
	return dm_lf_newlines(mime_to_utf8(s, n));
}

/* ---- text ---------------------------------------------------------------- */

/* The first "Message-ID:" line in s[0..len): anywhere (a notice with the
 * returned headers pasted in), or only in the header block that starts
 * after any blank lines (returned headers).  Folded values are followed. */
static char *id_line(const char *s, size_t len, bool header_block, const MimeLimits *lim)
{
	const char *p = s, *end = s + len;
	bool started = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (header_block && is_blank(p, le)) {
			if (started)
				break;
			p = next;
			continue;
		}
		started = true;
		const char *q = p;
		while (!header_block && q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (le - q >= 11 && g_ascii_strncasecmp(q, "message-id:", 11) == 0) {
			GString *v = g_string_new_len(q + 11, le - q - 11);
			while (next < end && (*next == ' ' || *next == '\t') &&
			       v->len < MAX_FIELD) {
				const char *nl2 = memchr(next, '\n', (size_t)(end - next));
				const char *le2 = nl2 ? nl2 : end;
				g_string_append_len(v, next, le2 - next);
				next = nl2 ? nl2 + 1 : end;
			}
			char *id = id_of(v->str, lim);
			g_string_free(v, TRUE);
			if (id)
				return id;
		}
		p = next;
	}
	return NULL;
}

/* s[0..len) lower-cased (ASCII) with every run of white space as one
 * space, for phrase search. */
static char *fold(const char *s, size_t len)
{
	GString *out = g_string_sized_new(len + 1);
	bool gap = false;
	for (size_t i = 0; i < len && s[i]; i++) {
		if (g_ascii_isspace(s[i])) {
			gap = true;
			continue;
		}
		if (gap && out->len)
			g_string_append_c(out, ' ');
		gap = false;
		g_string_append_c(out, g_ascii_tolower(s[i]));
	}
	return g_string_free(out, FALSE);
}

static bool has_any(const char *folded, const char *const *phrases)
{
	for (size_t i = 0; phrases[i]; i++)
		if (strstr(folded, phrases[i]))
			return true;
	return false;
}

/* Subjects that bounces have and people do not write to a mailer daemon's
 * address (lower-case; the subject is lower-cased with Unicode rules). */
static const char *const fail_subjects[] = {
	"undelivered mail",
	"undeliverable",
	"undelivered message",
	"returned mail",
	"returned to sender",
	"mail delivery failed",
	"delivery failed",
	"delivery failure",
	"failure notice",
	"delivery status notification (failure)",
	"non delivery",
	"non-delivery",
	"nondelivery",
	"not delivered",
	"could not be delivered",
	"mail system error",
	"unzustellbar",
	"nicht zustellbar",
	"non remis",
	"non recapitabile",
	"mancato recapito",
	"no se puede entregar",
	"no entregado",
	"onbestelbaar",
	"не доставлено",
	"недоставленное",
	NULL,
};

/* Phrases of failure notices (Postfix, Exim, qmail, Sendmail, Exchange,
 * Gmail, Novell, Lotus, SurfControl...), folded. */
static const char *const fail_phrases[] = {
	"could not be delivered",
	"couldn't be delivered",
	"could not be sent",
	"could not deliver",
	"wasn't delivered to",
	"was not delivered to",
	"was undeliverable",
	"is undeliverable",
	"undeliverable to the following",
	"did not reach the following recipient",
	"delivery has failed",
	"delivery to the following recipients failed",
	"delivery to the following recipient failed",
	"failed permanently",
	"permanent fatal error",
	"this is a permanent error",
	"unable to deliver",
	"wasn't able to deliver",
	"was not able to deliver",
	"message non-deliverable",
	"returning message to sender",
	"qmail-send program",
	NULL,
};

/* Phrases of delay warnings, which are not bounces. */
static const char *const delay_phrases[] = {
	"has not yet been delivered",
	"not been delivered yet",
	"warning message only",
	"this is a warning only",
	"has been delayed",
	"delivery is delayed",
	"still being retried",
	"will continue to try",
	"will be retried",
	"delivery attempts will continue",
	NULL,
};

/* Where the returned copy starts in a notice (folded line contains). */
static const char *const copy_phrases[] = {
	"copy of the message",
	"copy of your message",
	"copy of the original message",
	"original message follows",
	"original message -----",
	"----- original message",
	"original message headers",
	"header of the original message",
	"headers of the original message",
	"original mail info",
	"unsent message follows",
	"message headers follow",
	NULL,
};

/* Header lines that start a pasted copy. */
static const char *const header_starts[] = {
	"received:",     "return-path:", "message-id:", "dkim-signature:",
	"delivered-to:", "x-received:",  NULL,
};

/* Length of the notice: the text before the returned copy. */
static size_t notice_len(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		for (size_t i = 0; header_starts[i]; i++) {
			size_t n = strlen(header_starts[i]);
			if ((size_t)(le - p) >= n &&
			    g_ascii_strncasecmp(p, header_starts[i], n) == 0)
				return (size_t)(p - s);
		}
		g_autofree char *line = fold(p, (size_t)(le - p));
		if (has_any(line, copy_phrases))
			return (size_t)(p - s);
		p = nl ? nl + 1 : end;
	}
	return len;
}

/* A character of an address: ASCII atext and dots (letters, digits, dots
 * and hyphens in the domain), or a non-ASCII letter or digit (an
 * internationalised address; not the quotes around it). */
static bool addr_char(gunichar c, bool domain)
{
	if (c >= 0x80)
		return c < 0x110000 && g_unichar_isalnum(c);
	if (g_ascii_isalnum((char)c) || c == '.' || c == '-')
		return true;
	return !domain && c != 0 && strchr("!#$%&'*+/=?^_`{|}~", (int)c) != NULL;
}

static bool is_own(const Mail *m, const char *a)
{
	if (m->from && strcmp(m->from->addr, a) == 0)
		return true;
	for (size_t i = 0; i < m->n_to; i++)
		if (strcmp(m->to[i].addr, a) == 0)
			return true;
	for (size_t i = 0; i < m->n_cc; i++)
		if (strcmp(m->cc[i].addr, a) == 0)
			return true;
	return false;
}

/* The first address in the notice that is neither the bounce's own nor a
 * mailer daemon's. */
static char *notice_addr(const Mail *m, const char *s, size_t len, const MimeLimits *lim)
{
	const char *end = s + len;
	int seen = 0;
	for (const char *at = memchr(s, '@', len); at && seen < MAX_ADDR_CANDIDATES;
	     at = at + 1 < end ? memchr(at + 1, '@', (size_t)(end - at - 1)) : NULL) {
		const char *a = at, *b = at + 1;
		while (a > s) {
			const char *prev = g_utf8_find_prev_char(s, a);
			if (prev == NULL ||
			    !addr_char(g_utf8_get_char_validated(prev, a - prev), false))
				break;
			a = prev;
		}
		while (b < end) {
			gunichar c = g_utf8_get_char_validated(b, end - b);
			if (!addr_char(c, true))
				break;
			b = g_utf8_next_char(b);
		}
		while (b > at + 1 && (b[-1] == '.' || b[-1] == '-'))
			b--;
		while (a < at && a[0] == '.')
			a++;
		seen++;
		if (a == at || memchr(at + 1, '.', (size_t)(b - at - 1)) == NULL)
			continue;
		g_autofree char *raw = g_strndup(a, (gsize)(b - a));
		char *addr = addr_of(raw, lim);
		if (addr && !daemon_addr(addr) && !is_own(m, addr))
			return addr;
		g_free(addr);
	}
	return NULL;
}

static size_t indent_of(const char *line, const char *end)
{
	size_t n = 0;
	while (line + n < end && (line[n] == ' ' || line[n] == '\t'))
		n++;
	return n;
}

/* The line around pos as one capped line, with the lines before it that are
 * indented as far (Exim and Exchange write the reason above the code) and
 * the indented lines after it (Postfix folds the server's reply so). */
static char *line_at(const char *s, const char *end, const char *pos)
{
	const char *a = pos;
	while (a > s && a[-1] != '\n')
		a--;
	size_t indent = indent_of(a, end);
	for (int i = 1; i < MAX_DIAG_LINES && indent > 0 && a > s; i++) {
		const char *prev = a - 1; /* the '\n' ending the line before */
		while (prev > s && prev[-1] != '\n')
			prev--;
		if (is_blank(prev, a - 1) || indent_of(prev, a - 1) < indent)
			break;
		a = prev;
	}
	const char *b = memchr(pos, '\n', (size_t)(end - pos));
	b = b ? b : end;
	for (int i = 1; i < MAX_DIAG_LINES && b < end; i++) {
		const char *q = b + 1;
		const char *nl = q < end ? memchr(q, '\n', (size_t)(end - q)) : NULL;
		const char *le = nl ? nl : end;
		if (q >= end || (*q != ' ' && *q != '\t') || is_blank(q, le))
			break;
		b = le;
	}
	return mime_cap_text(one_line(a, (size_t)(b - a)), MAX_DIAG);
}

/* The server's words in the notice: the line with the status code, else
 * with an SMTP reply code, else the one naming the recipient (or the next
 * line, when that one holds the address only). */
static char *notice_diag(const char *s, size_t len, const char *code_at_pos, const char *rcpt)
{
	const char *end = s + len;
	if (code_at_pos)
		return line_at(s, end, code_at_pos);
	for (const char *p = s; p < end; p++)
		if (*p >= '4' && *p <= '5' && smtp_code_at(p, end, s))
			return line_at(s, end, p);
	if (rcpt == NULL || *rcpt == '\0')
		return NULL;
	size_t rl = strlen(rcpt);
	for (const char *p = s; p + rl <= end; p++) {
		if (g_ascii_strncasecmp(p, rcpt, rl) != 0)
			continue;
		const char *a = p, *b = p;
		while (a > s && a[-1] != '\n')
			a--;
		while (b < end && *b != '\n')
			b++;
		int letters = 0;
		for (const char *q = a; q < b; q++)
			if (g_ascii_isalpha(*q) && (q < p || q >= p + rl))
				letters++;
		if (letters >= 4)
			return line_at(s, end, a);
		/* the address alone: its reason is on the next line */
		for (const char *q = b; q < end;) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			const char *le = nl ? nl : end;
			if (!is_blank(q, le))
				return line_at(s, end, q);
			q = nl ? nl + 1 : end;
		}
		return NULL;
	}
	return NULL;
}

/* ---- the decision -------------------------------------------------------- */

/* Return-Path <> or a mailer daemon's, a mailer daemon's From, or
 * X-Failed-Recipients. */
static bool bounce_sender(const Mail *m, GMimeMessage *msg)
{
	const char *rp = g_mime_object_get_header(GMIME_OBJECT(msg), "Return-Path");
	if (rp) {
		GString *s = g_string_new(NULL);
		for (const char *p = rp; *p && s->len < 400; p++)
			if (!g_ascii_isspace(*p) && *p != '<' && *p != '>')
				g_string_append_c(s, *p);
		bool daemon = s->len == 0 || daemon_addr(s->str);
		g_string_free(s, TRUE);
		if (daemon)
			return true;
	}
	if (m->from && daemon_addr(m->from->addr))
		return true;
	return g_mime_object_get_header(GMIME_OBJECT(msg), "X-Failed-Recipients") != NULL;
}

/* The Message-ID of the returned message or headers. */
static char *returned_id(GMimeObject *ret, const MimeLimits *lim)
{
	if (ret == NULL)
		return NULL;
	if (GMIME_IS_MESSAGE_PART(ret)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(ret));
		if (inner == NULL)
			return NULL;
		const char *raw = g_mime_message_get_message_id(inner);
		char *id = raw ? id_clean(raw, strlen(raw), lim) : NULL;
		if (id)
			return id;
		/* a blank line before the headers: GMime saw none, and the
		 * headers are the body */
		GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(inner));
		GMimeObject *body = g_mime_message_get_mime_part(inner);
		if ((hl == NULL || g_mime_header_list_get_count(hl) == 0) && body &&
		    GMIME_IS_PART(body)) {
			g_autofree char *t = part_prefix(body, MAX_READ);
			return id_line(t, strlen(t), true, lim);
		}
		return NULL;
	}
	g_autofree char *t = part_prefix(ret, MAX_READ);
	return id_line(t, strlen(t), true, lim);
}

static bool report_type_is_dsn(const char *rt)
{
	return g_ascii_strcasecmp(rt, "delivery-status") == 0 ||
	       g_ascii_strcasecmp(rt, "global-delivery-status") == 0;
}

void mime_bounce_fill(Mail *m, GMimeMessage *msg, const MimeLimits *lim)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct = top ? g_mime_object_get_content_type(top) : NULL;
	bool report = ct && g_mime_content_type_is_type(ct, "multipart", "report");
	const char *rtype = report ? g_mime_content_type_get_parameter(ct, "report-type") : NULL;
	if (rtype && !report_type_is_dsn(rtype))
		return; /* a read receipt, an abuse report, ... */
	if (!report && !bounce_sender(m, msg))
		return; /* ordinary mail */

	Parts parts = {0};
	find_parts(&parts, top, 0);
	if (parts.mdn)
		return;

	Dsn d = {.lim = lim};
	if (parts.dsn) {
		g_autofree char *t = dsn_text(parts.dsn);
		dsn_parse(&d, t, strlen(t), 0);
	}
	const char *text = m->text ? m->text : "";
	size_t tlen = strnlen(text, MAX_READ);
	size_t nlen = notice_len(text, tlen < MAX_NOTICE ? tlen : MAX_NOTICE);
	if (!d.known) {
		/* delivery-status fields written into the notice (no base64
		 * there: depth 1) */
		Dsn td = {.lim = lim};
		dsn_parse(&td, text, nlen, 1);
		if (td.known) {
			if (td.orig_id == NULL)
				td.orig_id = g_steal_pointer(&d.orig_id);
			dsn_clear(&d);
			d = td;
		} else {
			dsn_clear(&td);
		}
	}
	bool bounce;
	if (d.known) {
		bounce = d.failed;
	} else {
		g_autofree char *subject = g_utf8_strdown(m->subject ? m->subject : "", -1);
		g_autofree char *notice = fold(text, nlen);
		bool subj_fail = has_any(subject, fail_subjects);
		bool subj_delay = strstr(subject, "delay") || g_str_has_prefix(subject, "warning");
		bool delay = has_any(notice, delay_phrases) || (subj_delay && !subj_fail);
		bool fail = (rtype != NULL) || subj_fail || has_any(notice, fail_phrases);
		bounce = fail && !delay;
	}
	if (!bounce) {
		dsn_clear(&d);
		return;
	}

	char *id = returned_id(parts.returned, lim);
	if (id == NULL)
		id = id_of(d.orig_id, lim);
	if (id == NULL)
		id = id_line(text, tlen, false, lim);
	/* parse.c's ids may hold C1 controls: cleaned as ours */
	if (id == NULL && m->in_reply_to)
		id = id_clean(m->in_reply_to, strlen(m->in_reply_to), lim);
	if (id == NULL && m->n_references > 0) {
		const char *last = m->references[m->n_references - 1];
		id = id_clean(last, strlen(last), lim);
	}

	char *rcpt = g_steal_pointer(&d.rcpt);
	if (rcpt == NULL) {
		const char *xf = g_mime_object_get_header(GMIME_OBJECT(msg), "X-Failed-Recipients");
		if (xf) {
			g_auto(GStrv) each = g_strsplit(xf, ",", 8);
			for (int i = 0; each[i] && rcpt == NULL; i++)
				rcpt = addr_of(each[i], lim);
		}
	}
	if (rcpt == NULL)
		rcpt = notice_addr(m, text, nlen, lim);

	char *status = g_steal_pointer(&d.status);
	if (status == NULL && d.diag)
		status = find_code(d.diag, strlen(d.diag), "45", NULL);
	char *diag = g_steal_pointer(&d.diag);
	const char *code_pos = NULL;
	g_autofree char *text_code =
		status == NULL || diag == NULL ? find_code(text, nlen, "45", &code_pos) : NULL;
	if (status == NULL)
		status = g_steal_pointer(&text_code);
	if (diag == NULL)
		diag = notice_diag(text, nlen, code_pos, rcpt);

	m->is_bounce = true;
	m->bounce_message_id = id;
	m->bounce_recipient = rcpt;
	m->bounce_status = status;
	m->bounce_diagnostic = diag;
	if (!m->is_automatic) {
		m->is_automatic = true;
		m->automatic_reason = g_strdup("delivery status notification (a bounce)");
	}
	dsn_clear(&d);
}
