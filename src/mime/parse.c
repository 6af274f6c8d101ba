/* parse.c - raw RFC 5322 bytes -> Mail, with GMime 3.2.
 *
 * What it does: parses one message with our own GMimeParserOptions (counting
 * parser warnings), enforces MimeLimits, takes the envelope-ish headers
 * (From, To, Cc, Subject, ids, Date, Authentication-Results), flags automatic
 * mail (RFC 3834, lists, bounces), picks the best text body and turns every
 * other leaf part into an attachment.  Every string it hands out is valid
 * UTF-8 without NUL bytes.
 *
 * What it does not: no decryption or signature checks (encrypted and signed
 * parts are plain attachments), no quoted-history stripping, no policy (the
 * desk decides what an automatic or From-less mail means).
 *
 * Choices, and why:
 * - The MIME tree is walked by our own bounded recursion, not GMimePartIter:
 *   we need the exact nesting depth for max_depth and to know whether a part
 *   sits inside a forwarded message/rfc822.  Loops go by child count, so an
 *   empty multipart is simply empty (pitfall 13), and everything GMime hands
 *   back is NULL-checked.  GMime itself stops nesting at 1024 levels.
 * - Text parts are decoded from their content stream by us (transfer encoding
 *   by GMime, charset by iconv with a replacement character for bad bytes),
 *   not with g_mime_text_part_get_text(): that one stops at a NUL and returns
 *   raw bytes for unknown charsets (pitfall 11).  Unknown charsets and invalid
 *   UTF-8 go through mime_to_utf8 (valid runs kept, stray bytes read as
 *   windows-1252).  Body line ends become LF.
 * - Body: the first text/plain part that is neither Content-Disposition:
 *   attachment nor named (a filename means the sender attached a file), else
 *   the first such text/html made into text.  Parts of the message itself win
 *   over parts of a forwarded message/rfc822; the forwarded ones are used only
 *   when the message has no body of its own.  A blank text/plain next to an
 *   HTML part gives way to the HTML.
 * - Attachments: every other leaf part, including the leaves inside forwarded
 *   message/rfc822 parts.  The message/rfc822 part itself is not kept as a
 *   whole .eml (its leaves already are; keeping both would store the bytes
 *   twice).  is_inline: Content-Disposition inline, or no disposition with a
 *   Content-ID inside multipart/related (an image the HTML shows).
 *   Labels that mailers use for a superset (iso-8859-1, gb2312, euc-kr,
 *   shift_jis, big5) are decoded with the superset, as browsers do; EUC-JP
 *   sent as ISO-2022-JP is recognised.  Raw 8-bit headers (no RFC 2047) are
 *   decoded by GMime's fallback charsets; when the body declares a non-Latin
 *   charset the message is parsed a second time with that charset as the
 *   fallback after UTF-8 (old Big5/GB/Shift_JIS mailers).
 * - Limits: parts, depth, body text/HTML bytes, header count and To+Cc
 *   addresses over the limit give DM_EPERM; References keeps the newest
 *   max_references ids, as mime.h promises.
 * - Automatic mail (first rule that matches is the reason): Auto-Submitted
 *   other than "no"; Precedence bulk/junk/list; Return-Path <>; From local
 *   part MAILER-DAEMON or postmaster; multipart/report; List-Id or
 *   List-Unsubscribe; X-Autoreply or X-Autorespond; a short list of subject
 *   prefixes that only autoresponders write ("Automatic reply:", Lotus
 *   Notes' "AUTO: ... out of the office").
 * - Bounces (delivery status notifications): bounce.c, after the body.
 * - Not a message (DM_EPERM "not an e-mail message"): empty input, GMime
 *   finds no header, or none of From, Sender, To, Cc, Subject, Date,
 *   Message-ID, Received, Return-Path, In-Reply-To, Reply-To, MIME-Version is
 *   present.  A message without a readable From is a Mail with from NULL.
 *   A leading mbox "From " envelope line is skipped.
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <libxml/parser.h>
#include <string.h>

#include "bounce.h"
#include "deskmail/mime.h"
#include "deskmail/util.h"
#include "mime-private.h"

void mime_global_init(void)
{
	g_mime_init();
	xmlInitParser();
}

void mime_global_cleanup(void)
{
	xmlCleanupParser();
	g_mime_shutdown();
}

void mime_limits_default(MimeLimits *lim)
{
	lim->max_parts = 500;
	lim->max_depth = 20;
	lim->max_text_bytes = 4u * 1024 * 1024;
	lim->max_headers = 1000;
	lim->max_addresses = 500;
	lim->max_references = 100;
	lim->max_id_bytes = 250;
	lim->max_address_bytes = 320;
	lim->max_subject_bytes = 1000;
	lim->max_name_bytes = 200;
	lim->max_auth_results = 20;
}

/* ---- text helpers ------------------------------------------------------ */

static bool charset_is_utf8ish(const char *cs)
{
	static const char *const names[] = {
		"utf-8",     "utf8",    "us-ascii", "ascii", "ansi_x3.4-1968",
		"x-unknown", "unknown", "us",       NULL};
	if (cs == NULL || *cs == '\0')
		return true;
	for (int i = 0; names[i]; i++)
		if (g_ascii_strcasecmp(cs, names[i]) == 0)
			return true;
	return false;
}

/* Labels that mail software uses for a superset in practice (as browsers
 * do, WHATWG Encoding): decode with the superset. */
static const char *superset(const char *cs)
{
	static const char *const map[][2] = {
		{"iso-8859-1", "WINDOWS-1252"},
		{"latin1", "WINDOWS-1252"},
		{"iso_8859-1", "WINDOWS-1252"},
		{"iso-8859-9", "WINDOWS-1254"},
		{"tis-620", "CP874"},
		{"iso-8859-11", "CP874"},
		{"gb2312", "GB18030"},
		{"gbk", "GB18030"},
		{"x-gbk", "GB18030"},
		{"euc-cn", "GB18030"},
		{"cp936", "GB18030"},
		{"ks_c_5601-1987", "CP949"},
		{"euc-kr", "CP949"},
		{"ks_c_5601", "CP949"},
		{"shift_jis", "CP932"},
		{"shift-jis", "CP932"},
		{"sjis", "CP932"},
		{"x-sjis", "CP932"},
		{"big5", "BIG5-HKSCS"},
		{"x-big5", "BIG5-HKSCS"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (g_ascii_strcasecmp(cs, map[i][0]) == 0)
			return map[i][1];
	return cs;
}

/* iconv output without U+0000 (the only place a 0 byte occurs in UTF-8). */
static void append_no_nul(GString *out, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != '\0')
			g_string_append_c(out, buf[i]);
}

/* Convert with iconv; bad or truncated input bytes become U+FFFD and are
 * counted in *bad_r.  Returns NULL if iconv does not know the charset. */
static char *convert_charset(const char *in, size_t len, const char *charset, size_t *bad_r)
{
	iconv_t cd = g_mime_iconv_open("UTF-8", superset(charset));
	if (cd == (iconv_t)-1)
		cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return NULL;
	GString *out = g_string_sized_new(len + len / 2 + 16);
	char buf[4096];
	char *ip = (char *)in;
	size_t ileft = len, bad = 0;
	while (ileft > 0) {
		char *op = buf;
		size_t oleft = sizeof buf;
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
		append_no_nul(out, buf, (size_t)(op - buf));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL: one replacement, skip a byte, reset state */
		g_string_append(out, "\xef\xbf\xbd");
		bad++;
		ip++;
		ileft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	char *op = buf;
	size_t oleft = sizeof buf;
	iconv(cd, NULL, NULL, &op, &oleft); /* flush shift state */
	append_no_nul(out, buf, (size_t)(op - buf));
	g_mime_iconv_close(cd);
	*bad_r = bad;
	return g_string_free(out, FALSE);
}

/* Charsets worth a try when the declared one does not fit the bytes. */
static const char *const *alternatives(const char *cs)
{
	static const char *const jp[] = {"EUC-JP", "CP932", NULL};
	static const char *const latin1[] = {"ISO-8859-1", NULL};
	static const char *const none[] = {NULL};
	if (cs &&
	    (g_ascii_strncasecmp(cs, "iso-2022-jp", 11) == 0 ||
	     g_ascii_strcasecmp(cs, "euc-jp") == 0 || g_ascii_strcasecmp(cs, "shift_jis") == 0))
		return jp;
	if (cs && strcmp(superset(cs), "WINDOWS-1252") == 0)
		return latin1;
	return none;
}

/* <meta charset=...> or content="...; charset=..." near the top of HTML. */
static char *sniff_html_charset(const char *s, size_t len)
{
	size_t n = len < 4096 ? len : 4096;
	for (size_t i = 0; i + 8 <= n; i++) {
		if (g_ascii_strncasecmp(s + i, "charset=", 8) != 0)
			continue;
		size_t j = i + 8;
		while (j < n && (s[j] == '"' || s[j] == '\'' || s[j] == ' '))
			j++;
		size_t k = j;
		while (k < n && (g_ascii_isalnum(s[k]) || s[k] == '-' || s[k] == '_' ||
				 s[k] == '.' || s[k] == ':'))
			k++;
		if (k > j && k - j < 40)
			return g_strndup(s + j, k - j);
	}
	return NULL;
}

/* Decoded bytes of a text part -> valid UTF-8 (g_malloc'd).  The declared
 * charset first; if iconv does not know it, or it leaves bad bytes: strict
 * UTF-8, known mislabels (EUC-JP sent as ISO-2022-JP), for HTML the <meta>
 * charset; else the declared result with U+FFFD, else mime_to_utf8. */
static char *text_to_utf8(const char *bytes, size_t len, const char *charset, bool is_html)
{
	char *best = NULL;
	size_t bad = 0;
	if (!charset_is_utf8ish(charset)) {
		best = convert_charset(bytes, len, charset, &bad);
		if (best && bad == 0)
			goto done;
	}
	if (g_utf8_validate_len(bytes, len, NULL)) {
		g_free(best);
		best = g_strndup(bytes, len);
		goto done;
	}
	for (const char *const *alt = alternatives(charset); *alt; alt++) {
		size_t b = 0;
		char *t = convert_charset(bytes, len, *alt, &b);
		if (t && b == 0) {
			g_free(best);
			best = t;
			goto done;
		}
		g_free(t);
	}
	if (is_html) {
		g_autofree char *sniffed = sniff_html_charset(bytes, len);
		if (sniffed && !charset_is_utf8ish(sniffed)) {
			size_t b = 0;
			char *t = convert_charset(bytes, len, sniffed, &b);
			if (t && (best == NULL || b < bad)) {
				g_free(best);
				best = t;
			} else {
				g_free(t);
			}
		}
	}
done:
	if (best == NULL)
		return dm_lf_newlines(mime_to_utf8(bytes, len));
	/* iconv output is UTF-8 without NUL; validate anyway */
	if (!g_utf8_validate(best, -1, NULL)) {
		char *clean = mime_to_utf8(best, strlen(best));
		g_free(best);
		best = clean;
	}
	return dm_lf_newlines(best);
}

/* One-line strings (subject, names, ids): valid UTF-8, controls -> space. */
static char *clean_line(const char *s)
{
	if (s == NULL)
		return NULL;
	char *u = mime_to_utf8(s, strlen(s));
	for (unsigned char *p = (unsigned char *)u; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return u;
}

/* An id longer than max is no id: NULL (id is freed). */
static char *cap_id(char *id, size_t max)
{
	if (id && strlen(id) > max) {
		g_free(id);
		return NULL;
	}
	return id;
}

/* As clean_line, but NULL for NULL, empty or all-blank input. */
static char *clean_opt(const char *s)
{
	char *u = clean_line(s);
	if (u && *g_strstrip(u) == '\0') {
		g_free(u);
		return NULL;
	}
	return u;
}

/* ---- parse state ------------------------------------------------------- */

typedef struct {
	GMimeObject *obj; /* borrowed from the message */
	bool in_forward;  /* inside a message/rfc822 */
	bool in_related;  /* direct child of multipart/related */
} Leaf;

typedef struct {
	const MimeLimits *lim;
	GArray *leaves; /* Leaf */
	size_t n_parts;
	DmError *err;
} Walk;

static int walk(Walk *w, GMimeObject *obj, size_t depth, bool in_forward, bool in_related)
{
	if (obj == NULL)
		return 0;
	if (++w->n_parts > w->lim->max_parts)
		return dm_error_set(w->err, DM_EPERM, "more than %zu MIME parts",
				    w->lim->max_parts);
	if (depth > w->lim->max_depth)
		return dm_error_set(w->err, DM_EPERM, "MIME nesting deeper than %zu levels",
				    w->lim->max_depth);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		bool related = ct && g_mime_content_type_is_type(ct, "multipart", "related");
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++) {
			int rc = walk(w, g_mime_multipart_get_part(mp, i), depth + 1, in_forward,
				      related);
			if (rc)
				return rc;
		}
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner)
			return walk(w, g_mime_message_get_mime_part(inner), depth + 1, true, false);
	} else if (GMIME_IS_PART(obj)) {
		Leaf l = {obj, in_forward, in_related};
		g_array_append_val(w->leaves, l);
	}
	return 0;
}

/* The decoded (transfer-encoding removed) bytes of a leaf part. */
static GByteArray *part_bytes(GMimePart *part)
{
	GByteArray *ba = g_byte_array_new();
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	if (dw) {
		GMimeStream *out = g_mime_stream_mem_new_with_byte_array(ba);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
		g_mime_data_wrapper_write_to_stream(dw, out);
		g_object_unref(out);
	}
	return ba;
}

static bool is_body_candidate(GMimeObject *obj, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	if (ct == NULL || !g_mime_content_type_is_type(ct, "text", subtype))
		return false;
	GMimePart *part = GMIME_PART(obj);
	return !g_mime_part_is_attachment(part) && g_mime_part_get_filename(part) == NULL;
}

static char *part_text(GMimeObject *obj, bool is_html)
{
	GByteArray *ba = part_bytes(GMIME_PART(obj));
	const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
	char *t = text_to_utf8((const char *)ba->data, ba->len, cs, is_html);
	g_byte_array_unref(ba);
	return t;
}

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isspace(*s))
			return false;
	return true;
}

/* Unicode characters that must not appear in a file name: bidi overrides
 * and isolates (they disguise "exe.pdf"), C1 controls. */
static bool bad_name_char(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f;
}

/* Decoded file name -> safe base name, or NULL to use "attachment-N". */
static char *clean_filename(const char *raw)
{
	if (raw == NULL)
		return NULL;
	g_autofree char *u = mime_to_utf8(raw, strlen(raw));
	const char *base = u;
	for (const char *p = u; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	GString *s = g_string_new(NULL);
	for (const char *p = base; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (!bad_name_char(c))
			g_string_append_unichar(s, c);
	}
	g_strstrip(s->str);
	s->len = strlen(s->str);
	/* at most 200 bytes: cut the stem at a character boundary, keep a
	 * short extension */
	if (s->len > 200) {
		const char *dot = strrchr(s->str, '.');
		g_autofree char *ext = g_strdup(dot && strlen(dot) <= 16 ? dot : "");
		size_t keep = 200 - strlen(ext);
		const char *cut = g_utf8_find_prev_char(s->str, s->str + keep + 1);
		g_string_truncate(s, cut ? (gsize)(cut - s->str) : 0);
		g_string_append(s, ext);
	}
	if (s->len == 0 || strcmp(s->str, ".") == 0 || strcmp(s->str, "..") == 0) {
		g_string_free(s, TRUE);
		return NULL;
	}
	return g_string_free(s, FALSE);
}

/* Old Windows mailers write filename="C:\TEMP\x.png" unescaped, and the
 * quoted-string rules turn that into "C:TEMPx.png".  If the raw parameter
 * is a plain quoted string with a backslash, take what follows the last one. */
static char *windows_path_base(GMimeObject *obj)
{
	static const char *const where[][2] = {{"Content-Disposition", "filename=\""},
					       {"Content-Type", "name=\""}};
	for (size_t i = 0; i < G_N_ELEMENTS(where); i++) {
		const char *v = g_mime_object_get_header(obj, where[i][0]);
		const char *p = v;
		size_t kl = strlen(where[i][1]);
		while (p && *p) {
			if (g_ascii_strncasecmp(p, where[i][1], kl) == 0 &&
			    (p == v || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ';'))
				break;
			p++;
		}
		if (p == NULL || *p == '\0')
			continue;
		p += kl;
		const char *end = strchr(p, '"');
		if (end == NULL)
			continue;
		g_autofree char *val = g_strndup(p, end - p);
		const char *bs = strrchr(val, '\\');
		if (bs && bs[1] && strstr(val, "=?") == NULL)
			return g_strdup(bs + 1);
	}
	return NULL;
}

static void fill_attachment(MailAttachment *a, const Leaf *l, size_t n)
{
	GMimePart *part = GMIME_PART(l->obj);
	g_autofree char *winbase = windows_path_base(l->obj);
	/* names and types are stored and listed in the mail we send: bounded */
	a->filename = mime_cap_text(
		clean_filename(winbase ? winbase : g_mime_part_get_filename(part)), 255);
	if (a->filename == NULL)
		a->filename = g_strdup_printf("attachment-%zu", n);
	GMimeContentType *ct = g_mime_object_get_content_type(l->obj);
	char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->content_type = mime_cap_text(clean_line(mt ? mt : "application/octet-stream"), 127);
	g_free(mt);
	for (char *p = a->content_type; *p; p++)
		*p = g_ascii_tolower(*p);
	a->content_id = mime_cap_text(clean_opt(g_mime_object_get_content_id(l->obj)), 255);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(l->obj);
	const char *disp = cd ? g_mime_content_disposition_get_disposition(cd) : NULL;
	if (disp)
		a->is_inline = g_ascii_strcasecmp(disp, "inline") == 0;
	else
		a->is_inline = l->in_related && a->content_id != NULL;
	GByteArray *ba = part_bytes(part);
	a->size = ba->len;
	/* never NULL, even for an empty part: the store passes it as a value */
	a->data = g_malloc(ba->len + 1);
	if (ba->len)
		memcpy(a->data, ba->data, ba->len);
	a->data[ba->len] = 0;
	g_byte_array_unref(ba);
	dm_sha256_hex(a->data, a->size, a->sha256);
}

/* ---- addresses --------------------------------------------------------- */

static void collect_addrs(InternetAddressList *list, GArray *out, size_t depth,
			  const MimeLimits *lim)
{
	int n = list ? internet_address_list_length(list) : 0;
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (ia == NULL)
			continue;
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr =
				internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			g_autofree char *a = clean_opt(addr);
			if (a == NULL || strlen(a) > lim->max_address_bytes)
				continue;
			/* the store compares lower-cased addresses, and checks that
			 * they are: lower-case all of it, non-ASCII letters too */
			MailAddr ma = {mime_cap_text(clean_opt(internet_address_get_name(ia)),
						     lim->max_name_bytes),
				       g_utf8_strdown(a, -1)};
			g_array_append_val(out, ma);
		} else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 4) {
			collect_addrs(
				internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out,
				depth + 1, lim);
		}
	}
}

static void free_addrs(MailAddr *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		g_free(a[i].name);
		g_free(a[i].addr);
	}
	g_free(a);
}

static MailAddr *addrs_take(GArray *arr, size_t *n_r)
{
	*n_r = arr->len;
	if (arr->len == 0) {
		g_array_free(arr, TRUE);
		return NULL;
	}
	return (MailAddr *)(void *)g_array_free(arr, FALSE);
}

/* ---- automatic mail ---------------------------------------------------- */

static const char *hdr(GMimeMessage *msg, const char *name)
{
	return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

/* First word of a header value, lower-case, at most 63 bytes, cut between
 * characters: it goes on in automatic_reason, a string of the Mail (valid
 * UTF-8, mail.h), and a word of 8-bit text decoded by GMime (2 bytes a
 * character in the fallback charset) used to leave half a character
 * (tests/data/fuzz-auto-submitted-cut-utf8.eml, found by fuzz_mail). */
static void first_token(const char *v, char out[64])
{
	size_t n = 0;
	while (*v == ' ' || *v == '\t')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '\t' && *v != '(' && n < 63)
		out[n++] = g_ascii_tolower(*v++);
	const char *valid_end;
	if (!g_utf8_validate(out, (gssize)n, &valid_end))
		n = (size_t)(valid_end - out);
	out[n] = '\0';
}

/* Subject prefixes that only autoresponders write (some, e.g. Lotus Notes
 * and some Exchange set-ups, send no header marker at all).  Kept short:
 * a false positive keeps a real mail from opening a ticket. */
static char *subject_reason(const char *subject)
{
	static const char *const prefixes[] = {"automatic reply:",
					       "auto-reply:",
					       "autoreply:",
					       "out of office:",
					       "out of office reply:",
					       "out of office autoreply:",
					       "automatische antwort:",
					       "abwesenheitsnotiz:",
					       "réponse automatique :",
					       "réponse automatique:",
					       "respuesta automática:",
					       "risposta automatica:",
					       "automatisch antwoord:",
					       "automatyczna odpowiedź:",
					       "autosvar:",
					       "automaattinen vastaus:",
					       NULL};
	if (subject == NULL)
		return NULL;
	while (*subject == ' ' || *subject == '\t')
		subject++;
	g_autofree char *low = g_utf8_strdown(subject, -1);
	for (int i = 0; prefixes[i]; i++)
		if (g_str_has_prefix(low, prefixes[i]))
			return g_strdup_printf("Subject: starts with \"%s\"", prefixes[i]);
	/* Lotus Notes: "AUTO: Name is out of the office (returning ...)" */
	if (g_str_has_prefix(subject, "AUTO: ") && strstr(low, "out of the office"))
		return g_strdup("Subject: Lotus Notes out-of-office");
	return NULL;
}

static char *automatic_reason(GMimeMessage *msg, const MailAddr *from)
{
	char tok[64];
	const char *v;
	if ((v = hdr(msg, "Auto-Submitted"))) {
		first_token(v, tok);
		if (strcmp(tok, "no") != 0)
			return g_strdup_printf("Auto-Submitted: %s", tok[0] ? tok : "(empty)");
	}
	if ((v = hdr(msg, "Precedence"))) {
		first_token(v, tok);
		if (!strcmp(tok, "bulk") || !strcmp(tok, "junk") || !strcmp(tok, "list"))
			return g_strdup_printf("Precedence: %s", tok);
	}
	if ((v = hdr(msg, "Return-Path"))) {
		g_autofree char *s = g_strdup(v);
		char *w = s;
		for (const char *r = s; *r; r++)
			if (!g_ascii_isspace(*r))
				*w++ = *r;
		*w = '\0';
		if (strcmp(s, "<>") == 0)
			return g_strdup("Return-Path: <> (bounce)");
	}
	if (from) {
		const char *at = strrchr(from->addr, '@');
		size_t ll = at ? (size_t)(at - from->addr) : strlen(from->addr);
		if ((ll == 13 && g_ascii_strncasecmp(from->addr, "mailer-daemon", 13) == 0) ||
		    (ll == 10 && g_ascii_strncasecmp(from->addr, "postmaster", 10) == 0))
			return g_strdup_printf("From: %.*s (bounce sender)", (int)ll, from->addr);
	}
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct = body ? g_mime_object_get_content_type(body) : NULL;
	if (ct && g_mime_content_type_is_type(ct, "multipart", "report"))
		return g_strdup("Content-Type: multipart/report (delivery or disposition report)");
	if (hdr(msg, "List-Id"))
		return g_strdup("List-Id: mailing list");
	if (hdr(msg, "List-Unsubscribe"))
		return g_strdup("List-Unsubscribe: mailing list");
	if (hdr(msg, "X-Autoreply"))
		return g_strdup("X-Autoreply");
	if (hdr(msg, "X-Autorespond"))
		return g_strdup("X-Autorespond");
	return subject_reason(g_mime_message_get_subject(msg));
}

/* Every Authentication-Results header, top first (the one our own border
 * server added comes before any the sender wrote), cleaned and capped. */
static void auth_results(Mail *m, GMimeMessage *msg, const MimeLimits *lim)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int n = g_mime_header_list_get_count(hl);
	GPtrArray *out = g_ptr_array_new();
	for (int i = 0; i < n && out->len < lim->max_auth_results; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Authentication-Results") != 0)
			continue;
		const char *v = g_mime_header_get_value(h);
		char *c = v ? mime_cap_text(clean_opt(v), 2000) : NULL;
		if (c)
			g_ptr_array_add(out, c);
	}
	m->n_auth_results = out->len;
	m->auth_results = (char **)g_ptr_array_free(out, out->len == 0);
}

/* Every X-Loop value, lower-cased and joined; NULL if none. */
static char *x_loop(GMimeMessage *msg)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int n = g_mime_header_list_get_count(hl);
	GString *out = NULL;
	for (int i = 0; i < n && (out == NULL || out->len < 1000); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "X-Loop") != 0)
			continue;
		const char *v = g_mime_header_get_value(h);
		g_autofree char *c = v ? clean_opt(v) : NULL;
		if (c == NULL)
			continue;
		g_autofree char *low = g_utf8_strdown(c, -1);
		if (out == NULL)
			out = g_string_new(NULL);
		else
			g_string_append(out, ", ");
		g_string_append(out, low);
	}
	return out ? mime_cap_text(g_string_free(out, FALSE), 1000) : NULL;
}

/* The repeat key: subject and text, each as its words joined by one
 * space (so line breaks and trailing blanks make no difference), and the
 * files' hashes. */
static void repeat_key(Mail *m)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	const char *parts[] = {m->subject, m->text};
	for (int k = 0; k < 2; k++) {
		bool first = true;
		for (const char *s = parts[k]; *s;) {
			while (*s && g_ascii_isspace(*s))
				s++;
			const char *w = s;
			while (*s && !g_ascii_isspace(*s))
				s++;
			if (s == w)
				break;
			if (!first)
				g_checksum_update(ck, (const guchar *)" ", 1);
			g_checksum_update(ck, (const guchar *)w, s - w);
			first = false;
		}
		g_checksum_update(ck, (const guchar *)"\n", 1);
	}
	/* and the files: the same subject with another file is another mail
	 * (a scanner's "Scan" with an empty text) */
	for (size_t i = 0; i < m->n_attachments; i++)
		g_checksum_update(ck, (const guchar *)m->attachments[i].sha256, 64);
	g_strlcpy(m->repeat_key, g_checksum_get_string(ck), sizeof m->repeat_key);
	g_checksum_free(ck);
}

/* ---- the parser -------------------------------------------------------- */

typedef struct {
	size_t n;      /* warnings seen */
	bool raw_8bit; /* a header had unencoded 8-bit text */
} Warnings;

static void warn_cb(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	Warnings *w = data;
	w->n++;
	if (code == GMIME_WARN_UNENCODED_8BIT_HEADER)
		w->raw_8bit = true;
}

static GMimeMessage *parse_once(const char *raw, size_t len, GMimeParserOptions *po)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(raw, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	g_object_unref(st);
	GMimeMessage *msg = g_mime_parser_construct_message(p, po);
	g_object_unref(p);
	return msg;
}

/* The charset of the first text part, if it is a legacy multi-byte or
 * non-Latin one: raw 8-bit headers are most likely in it too. */
static char *header_charset_hint(GMimeMessage *msg)
{
	GMimeObject *o = g_mime_message_get_mime_part(msg);
	for (int i = 0; i < 32 && o && GMIME_IS_MULTIPART(o); i++)
		o = g_mime_multipart_get_count(GMIME_MULTIPART(o)) > 0
			    ? g_mime_multipart_get_part(GMIME_MULTIPART(o), 0)
			    : NULL;
	if (o == NULL || !GMIME_IS_PART(o))
		return NULL;
	const char *cs = g_mime_object_get_content_type_parameter(o, "charset");
	if (cs == NULL || charset_is_utf8ish(cs) || strcmp(superset(cs), "WINDOWS-1252") == 0)
		return NULL;
	iconv_t cd = g_mime_iconv_open("UTF-8", superset(cs));
	if (cd == (iconv_t)-1)
		return NULL;
	g_mime_iconv_close(cd);
	return g_strdup(superset(cs));
}

void mail_free(Mail *mail)
{
	if (mail == NULL)
		return;
	free_addrs(mail->from, mail->from ? 1 : 0);
	free_addrs(mail->to, mail->n_to);
	free_addrs(mail->cc, mail->n_cc);
	g_free(mail->subject);
	g_free(mail->message_id);
	g_free(mail->in_reply_to);
	for (size_t i = 0; i < mail->n_references; i++)
		g_free(mail->references[i]);
	g_free(mail->references);
	g_free(mail->automatic_reason);
	g_free(mail->x_loop);
	g_free(mail->bounce_message_id);
	g_free(mail->bounce_recipient);
	g_free(mail->bounce_status);
	g_free(mail->bounce_diagnostic);
	for (size_t i = 0; i < mail->n_auth_results; i++)
		g_free(mail->auth_results[i]);
	g_free(mail->auth_results);
	g_free(mail->text);
	g_free(mail->html);
	for (size_t i = 0; i < mail->n_attachments; i++) {
		MailAttachment *a = &mail->attachments[i];
		g_free(a->filename);
		g_free(a->content_type);
		g_free(a->content_id);
		g_free(a->data);
	}
	g_free(mail->attachments);
	g_free(mail);
}

/* Skip an mbox "From sender date" envelope line ("From:" and "From :" are
 * headers and stay). */
static size_t skip_mbox_from(const unsigned char *raw, size_t len)
{
	if (len < 5 || memcmp(raw, "From ", 5) != 0)
		return 0;
	size_t i = 5;
	while (i < len && (raw[i] == ' ' || raw[i] == '\t'))
		i++;
	if (i < len && raw[i] == ':')
		return 0;
	const unsigned char *nl = memchr(raw, '\n', len);
	return nl ? (size_t)(nl - raw) + 1 : len;
}

/* True if the message has at least one header a real e-mail carries. */
static bool has_mail_headers(GMimeMessage *msg)
{
	static const char *const names[] = {
		"From",     "Sender",       "To",       "Cc",          "Subject",
		"Date",     "Message-ID",   "Received", "Return-Path", "In-Reply-To",
		"Reply-To", "MIME-Version", NULL};
	for (int i = 0; names[i]; i++)
		if (hdr(msg, names[i]))
			return true;
	return false;
}

/* One msg-id decoded by GMime, without <>; NULL if empty or if it has
 * blanks (then it is a phrase, not an id). */
static char *decoded_id(const char *text)
{
	g_autofree char *id = g_mime_utils_decode_message_id(text);
	char *c = clean_opt(id);
	if (c && strpbrk(c, " \t")) {
		g_free(c);
		c = NULL;
	}
	return c;
}

/* Every <...> in a header value, in order, decoded (g_free'd array). */
static GPtrArray *bracket_ids(const char *v)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	const char *p = v;
	while ((p = strchr(p, '<')) != NULL) {
		const char *q = strchr(p, '>');
		if (q == NULL)
			break;
		g_autofree char *one = g_strndup(p, (gsize)(q - p + 1));
		char *id = decoded_id(one);
		if (id)
			g_ptr_array_add(ids, id);
		p = q + 1;
	}
	return ids;
}

static int fill_headers(Mail *m, GMimeMessage *msg, GMimeParserOptions *po, const MimeLimits *lim,
			DmError *err)
{
	m->subject =
		mime_cap_text(clean_line(g_mime_message_get_subject(msg)), lim->max_subject_bytes);
	if (m->subject == NULL)
		m->subject = g_strdup("");

	GArray *from = g_array_new(FALSE, TRUE, sizeof(MailAddr));
	collect_addrs(g_mime_message_get_from(msg), from, 0, lim);
	if (from->len > 0) {
		m->from = g_new(MailAddr, 1);
		m->from[0] = g_array_index(from, MailAddr, 0);
		for (guint i = 1; i < from->len; i++) {
			g_free(g_array_index(from, MailAddr, i).name);
			g_free(g_array_index(from, MailAddr, i).addr);
		}
	}
	g_array_free(from, TRUE);

	GArray *to = g_array_new(FALSE, TRUE, sizeof(MailAddr));
	GArray *cc = g_array_new(FALSE, TRUE, sizeof(MailAddr));
	collect_addrs(g_mime_message_get_to(msg), to, 0, lim);
	collect_addrs(g_mime_message_get_cc(msg), cc, 0, lim);
	m->to = addrs_take(to, &m->n_to);
	m->cc = addrs_take(cc, &m->n_cc);
	if (m->n_to + m->n_cc > lim->max_addresses)
		return dm_error_set(err, DM_EPERM,
				    "%zu To/Cc addresses, more than the limit of %zu",
				    m->n_to + m->n_cc, lim->max_addresses);

	m->message_id = cap_id(clean_opt(g_mime_message_get_message_id(msg)), lim->max_id_bytes);
	const char *v = hdr(msg, "In-Reply-To");
	if (v) {
		GPtrArray *ids = bracket_ids(v);
		if (ids->len > 0)
			m->in_reply_to = g_strdup(g_ptr_array_index(ids, 0));
		else
			m->in_reply_to = decoded_id(v);
		m->in_reply_to = cap_id(m->in_reply_to, lim->max_id_bytes);
		g_ptr_array_free(ids, TRUE);
	}
	v = hdr(msg, "References");
	if (v) {
		GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
		GMimeReferences *refs = g_mime_references_parse(po, v);
		int n = refs ? g_mime_references_length(refs) : 0;
		for (int i = 0; i < n; i++) {
			char *id = clean_opt(g_mime_references_get_message_id(refs, i));
			if (id)
				g_ptr_array_add(ids, id);
		}
		if (refs)
			g_mime_references_free(refs);
		GPtrArray *scan = bracket_ids(v);
		if (scan->len > ids->len) {
			/* GMime stops at a phrase it cannot read; keep the longer list */
			g_ptr_array_free(ids, TRUE);
			ids = scan;
		} else {
			g_ptr_array_free(scan, TRUE);
		}
		/* ids over the size cap are no ids */
		for (guint i = ids->len; i > 0; i--)
			if (strlen(g_ptr_array_index(ids, i - 1)) > lim->max_id_bytes)
				g_ptr_array_remove_index(ids, i - 1);
		/* newest kept: drop the oldest beyond max_references */
		if (ids->len > lim->max_references)
			g_ptr_array_remove_range(ids, 0, ids->len - (guint)lim->max_references);
		m->n_references = ids->len;
		g_ptr_array_set_free_func(ids, NULL);
		m->references = (char **)g_ptr_array_free(ids, ids->len == 0);
	}
	GDateTime *d = g_mime_message_get_date(msg);
	m->date = d ? g_date_time_to_unix(d) : 0;

	m->automatic_reason = automatic_reason(msg, m->from);
	m->is_automatic = m->automatic_reason != NULL;
	auth_results(m, msg, lim);
	m->x_loop = x_loop(msg);
	return 0;
}

static int fill_body(Mail *m, GMimeMessage *msg, const MimeLimits *lim, DmError *err)
{
	Walk w = {lim, g_array_new(FALSE, FALSE, sizeof(Leaf)), 0, err};
	int rc = walk(&w, g_mime_message_get_mime_part(msg), 0, false, false);
	if (rc) {
		g_array_free(w.leaves, TRUE);
		return rc;
	}
	const Leaf *leaves = (const Leaf *)(void *)w.leaves->data;
	guint n = w.leaves->len;

	/* the message's own parts win over those of forwarded messages */
	bool scope_fwd = true;
	for (guint i = 0; i < n && scope_fwd; i++)
		if (!leaves[i].in_forward && (is_body_candidate(leaves[i].obj, "plain") ||
					      is_body_candidate(leaves[i].obj, "html")))
			scope_fwd = false;
	GMimeObject *plain = NULL, *html = NULL;
	for (guint i = 0; i < n; i++) {
		if (leaves[i].in_forward != scope_fwd)
			continue;
		if (!plain && is_body_candidate(leaves[i].obj, "plain"))
			plain = leaves[i].obj;
		else if (!html && is_body_candidate(leaves[i].obj, "html"))
			html = leaves[i].obj;
	}

	if (html) {
		m->html = part_text(html, true);
		if (strlen(m->html) > lim->max_text_bytes)
			rc = dm_error_set(err, DM_EPERM,
					  "HTML body of %zu bytes is over the limit of %zu",
					  strlen(m->html), lim->max_text_bytes);
	}
	if (rc == 0 && plain) {
		m->text = part_text(plain, false);
		if (m->html && is_blank(m->text)) {
			/* a blank text/plain beside real HTML: the HTML says more */
			char *t = mime_html_to_text(m->html, strlen(m->html));
			if (!is_blank(t)) {
				g_free(m->text);
				m->text = t;
				m->text_from_html = true;
			} else {
				g_free(t);
			}
		}
	}
	if (rc == 0 && m->text == NULL && m->html) {
		m->text = mime_html_to_text(m->html, strlen(m->html));
		m->text_from_html = true;
	}
	if (m->text == NULL)
		m->text = g_strdup("");
	if (rc == 0 && strlen(m->text) > lim->max_text_bytes)
		rc = dm_error_set(err, DM_EPERM, "body text of %zu bytes is over the limit of %zu",
				  strlen(m->text), lim->max_text_bytes);

	if (rc == 0 && n > 0) {
		m->attachments = g_new0(MailAttachment, n);
		for (guint i = 0; i < n; i++) {
			if (leaves[i].obj == plain || leaves[i].obj == html)
				continue;
			fill_attachment(&m->attachments[m->n_attachments], &leaves[i],
					m->n_attachments + 1);
			m->n_attachments++;
		}
	}
	g_array_free(w.leaves, TRUE);
	return rc;
}

/* Where the body starts: after the first empty line (CRLF or LF), or at
 * the end when there is none. */
static size_t body_offset(const unsigned char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 2;
		if (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

int mime_parse(const unsigned char *raw, size_t len, const MimeLimits *lim, Mail **mail_r,
	       DmError *err)
{
	MimeLimits def;
	if (lim == NULL) {
		mime_limits_default(&def);
		lim = &def;
	}
	if (raw == NULL || len == 0)
		return dm_error_set(err, DM_EPERM, "not an e-mail message: empty input");
	size_t skip = skip_mbox_from(raw, len);

	Mail *m = g_new0(Mail, 1);
	Warnings warn = {0};
	GMimeParserOptions *po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(po, warn_cb, &warn);
	GMimeMessage *msg = parse_once((const char *)raw + skip, len - skip, po);
	g_autofree char *hint = msg && warn.raw_8bit ? header_charset_hint(msg) : NULL;
	if (hint) {
		/* raw 8-bit headers: parse again with the body's charset as the
		 * second fallback after UTF-8 (GMime takes the first that fits) */
		const char *fallback[] = {"utf-8", hint, "iso-8859-1", NULL};
		g_mime_parser_options_set_fallback_charsets(po, fallback);
		g_object_unref(msg);
		warn = (Warnings){0};
		msg = parse_once((const char *)raw + skip, len - skip, po);
	}
	m->n_parse_warnings = warn.n;

	int rc = 0;
	if (msg == NULL) {
		rc = dm_error_set(err, DM_EPERM, "not an e-mail message: no headers");
		goto out;
	}
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	size_t nh = hl ? (size_t)g_mime_header_list_get_count(hl) : 0;
	if (nh == 0 || !has_mail_headers(msg)) {
		rc = dm_error_set(err, DM_EPERM, "not an e-mail message: no headers");
		goto out;
	}
	if (nh > lim->max_headers) {
		rc = dm_error_set(err, DM_EPERM, "%zu header fields, more than the limit of %zu",
				  nh, lim->max_headers);
		goto out;
	}
	rc = fill_headers(m, msg, po, lim, err);
	if (rc == 0)
		rc = fill_body(m, msg, lim, err);
	if (rc == 0)
		mime_bounce_fill(m, msg, lim); /* bounce.c: reads headers and body */
	if (rc == 0) {
		size_t body = body_offset(raw + skip, len - skip);
		dm_sha256_hex(raw + skip + body, len - skip - body, m->content_sha256);
		repeat_key(m);
	}
out:
	if (msg)
		g_object_unref(msg);
	g_mime_parser_options_free(po);
	if (rc) {
		mail_free(m);
		return rc;
	}
	*mail_r = m;
	return 0;
}
