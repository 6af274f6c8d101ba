/* compose.c - an OutMail -> RFC 5322 wire bytes, with GMime 3.2.
 *
 * What it does: checks the addresses (bare addr-specs only), passes every
 * header value through dm_header_safe (no CR/LF injection), builds the
 * headers (RFC 2047 encoded words for non-ASCII, done by GMime) and a
 * text/plain body, or multipart/alternative with text/html, both
 * charset=utf-8 and quoted-printable (set by hand, not by set_text, which
 * would pick iso-8859-1 and 8bit: pitfall 12).  The result uses CRLF only and
 * is checked for bare LF and lines over 998 bytes before it is returned.
 *
 * Choices: a malformed Message-ID of our own is DM_EPERM, while In-Reply-To
 * and References ids (they come from incoming mail) that are not plain
 * printable ASCII without < > are dropped rather than failing the reply.
 * Extra headers may not replace the structural ones (From, To, Subject,
 * ids, Date, MIME and Content-*).  Automatic mail (auto_submitted set) also
 * gets "X-Auto-Response-Suppress: All" so that Exchange does not answer it.
 *
 * Attachments make the whole a multipart/mixed with base64 parts whose
 * file names GMime encodes (RFC 2231) when they are not plain ASCII.
 *
 * What it does not: no signing, no SMTP envelope.
 */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/mime.h"
#include "deskmail/util.h"

#define MAX_ID_LEN 250

/* A message-id without <>: printable ASCII, no blanks or brackets, one @. */
static bool msgid_ok(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > MAX_ID_LEN || strchr(id, '@') == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"' || *p == '\\' ||
		    *p == '(' || *p == ')' || *p == ',' || *p == ';')
			return false;
	return true;
}

/* A header field name (RFC 5322 ftext) that does not replace one of ours. */
static bool extra_name_ok(const char *name)
{
	static const char *const reserved[] = {
		"From",        "Sender",         "To",         "Cc",
		"Bcc",         "Reply-To",       "Subject",    "Date",
		"Message-ID",  "In-Reply-To",    "References", "MIME-Version",
		"Return-Path", "Auto-Submitted", NULL};
	if (name == NULL || *name == '\0' || strlen(name) > 76)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ':')
			return false;
	if (g_ascii_strncasecmp(name, "Content-", 8) == 0)
		return false;
	for (int i = 0; reserved[i]; i++)
		if (g_ascii_strcasecmp(name, reserved[i]) == 0)
			return false;
	return true;
}

/* dm_header_safe as a g_malloc'd string; NULL stays NULL. */
static char *safe(const char *s)
{
	if (s == NULL)
		return NULL;
	char *u = g_utf8_validate(s, -1, NULL) ? NULL : mime_to_utf8(s, strlen(s));
	char *m = dm_header_safe(u ? u : s);
	g_free(u);
	char *r = g_strdup(g_strstrip(m));
	g_free(m);
	return r;
}

/* UTF-8 body text with LF line ends only (GMime writes them as CRLF). */
static char *body_text(const char *s)
{
	return dm_lf_newlines(mime_to_utf8(s, strlen(s)));
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	char *body = body_text(text);
	size_t len = strlen(body);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(body, len);
	g_free(body);
	GMimeDataWrapper *dw =
		g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(st);
	g_mime_part_set_content(GMIME_PART(tp), dw);
	g_object_unref(dw);
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(tp);
}

static GMimeObject *attachment_part(const OutAttachment *a)
{
	g_autofree char *ctype = NULL;
	const char *ct = a->content_type;
	GMimeContentType *parsed = ct ? g_mime_content_type_parse(NULL, ct) : NULL;
	if (parsed && g_mime_content_type_get_media_type(parsed) &&
	    g_mime_content_type_get_media_subtype(parsed) &&
	    !g_mime_content_type_is_type(parsed, "multipart", "*") &&
	    !g_mime_content_type_is_type(parsed, "message", "*"))
		ctype = g_strdup_printf("%s/%s", g_mime_content_type_get_media_type(parsed),
					g_mime_content_type_get_media_subtype(parsed));
	if (parsed)
		g_object_unref(parsed);
	char *slash = ctype ? strchr(ctype, '/') : NULL;
	GMimePart *part;
	if (slash) {
		*slash = '\0';
		part = g_mime_part_new_with_type(ctype, slash + 1);
	} else {
		part = g_mime_part_new_with_type("application", "octet-stream");
	}
	GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)a->data, a->size);
	GMimeDataWrapper *dw =
		g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(st);
	g_mime_part_set_content(part, dw);
	g_object_unref(dw);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_autofree char *name = safe(a->filename && *a->filename ? a->filename : "attachment");
	g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
	g_mime_part_set_filename(part, name);
	return GMIME_OBJECT(part);
}

/* CRLF only, no line over 998 bytes (excluding CRLF). */
static bool wire_ok(const char *w, size_t len)
{
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		if (w[i] == '\n') {
			if (i == 0 || w[i - 1] != '\r')
				return false;
			line = 0;
		} else if (w[i] == '\r') {
			if (i + 1 >= len || w[i + 1] != '\n')
				return false;
		} else if (++line > 998) {
			return false;
		}
	}
	return true;
}

static void set_header(GMimeMessage *r, const char *name, const char *value)
{
	g_mime_object_set_header(GMIME_OBJECT(r), name, value, "utf-8");
}

int mime_compose(const OutMail *m, char **wire_r, size_t *len_r, DmError *err)
{
	if (m == NULL || m->text == NULL)
		return dm_error_set(err, DM_EPERM, "outgoing mail without a body");
	if (!dm_addr_valid(m->from_addr))
		return dm_error_set(err, DM_EPERM, "bad From address \"%.100s\"",
				    m->from_addr ? m->from_addr : "(none)");
	if (!dm_addr_valid(m->to_addr))
		return dm_error_set(err, DM_EPERM, "bad To address \"%.100s\"",
				    m->to_addr ? m->to_addr : "(none)");
	if (m->reply_to && !dm_addr_valid(m->reply_to))
		return dm_error_set(err, DM_EPERM, "bad Reply-To address \"%.100s\"", m->reply_to);
	if (!msgid_ok(m->message_id))
		return dm_error_set(err, DM_EPERM, "bad Message-ID \"%.100s\"",
				    m->message_id ? m->message_id : "(none)");
	for (size_t i = 0; i < m->n_extra_headers; i++)
		if (!extra_name_ok(m->extra_headers[2 * i]) || m->extra_headers[2 * i + 1] == NULL)
			return dm_error_set(err, DM_EPERM, "extra header \"%.60s\" not allowed",
					    m->extra_headers[2 * i] ? m->extra_headers[2 * i]
								    : "(none)");

	GMimeMessage *r = g_mime_message_new(TRUE);
	g_autofree char *from_name = safe(m->from_name);
	g_autofree char *to_name = safe(m->to_name);
	g_mime_message_add_mailbox(r, GMIME_ADDRESS_TYPE_FROM,
				   from_name && *from_name ? from_name : NULL, m->from_addr);
	g_mime_message_add_mailbox(r, GMIME_ADDRESS_TYPE_TO, to_name && *to_name ? to_name : NULL,
				   m->to_addr);
	if (m->reply_to)
		g_mime_message_add_mailbox(r, GMIME_ADDRESS_TYPE_REPLY_TO, NULL, m->reply_to);

	g_autofree char *subject = safe(m->subject ? m->subject : "");
	g_mime_message_set_subject(r, subject, "utf-8");

	GDateTime *d = g_date_time_new_from_unix_utc(
		m->date > 0 ? m->date : g_get_real_time() / G_USEC_PER_SEC);
	if (d == NULL)
		d = g_date_time_new_now_utc();
	g_mime_message_set_date(r, d);
	g_date_time_unref(d);
	g_mime_message_set_message_id(r, m->message_id);

	if (m->in_reply_to && msgid_ok(m->in_reply_to)) {
		g_autofree char *v = g_strdup_printf("<%s>", m->in_reply_to);
		set_header(r, "In-Reply-To", v);
	}
	if (m->references && m->n_references > 0) {
		GString *refs = g_string_new(NULL);
		for (size_t i = 0; i < m->n_references; i++) {
			if (!msgid_ok(m->references[i]))
				continue;
			g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "",
					       m->references[i]);
		}
		if (refs->len)
			set_header(r, "References", refs->str);
		g_string_free(refs, TRUE);
	}
	if (m->auto_submitted) {
		g_autofree char *v = safe(m->auto_submitted);
		if (*v) {
			set_header(r, "Auto-Submitted", v);
			set_header(r, "X-Auto-Response-Suppress", "All");
		}
	}
	for (size_t i = 0; i < m->n_extra_headers; i++) {
		g_autofree char *v = safe(m->extra_headers[2 * i + 1]);
		g_mime_object_append_header(GMIME_OBJECT(r), m->extra_headers[2 * i], v, "utf-8");
	}
	set_header(r, "MIME-Version", "1.0");

	GMimeObject *body = text_part("plain", m->text);
	if (m->html) {
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
		g_mime_multipart_add(alt, body);
		g_object_unref(body);
		GMimeObject *hp = text_part("html", m->html);
		g_mime_multipart_add(alt, hp);
		g_object_unref(hp);
		body = GMIME_OBJECT(alt);
	}
	if (m->n_attachments > 0) {
		GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
		g_mime_multipart_add(mixed, body);
		g_object_unref(body);
		for (size_t i = 0; i < m->n_attachments; i++) {
			GMimeObject *ap = attachment_part(&m->attachments[i]);
			g_mime_multipart_add(mixed, ap);
			g_object_unref(ap);
		}
		body = GMIME_OBJECT(mixed);
	}
	g_mime_message_set_mime_part(r, body);
	g_object_unref(body);

	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	char *wire = g_mime_object_to_string(GMIME_OBJECT(r), fo);
	g_mime_format_options_free(fo);
	g_object_unref(r);

	size_t len = wire ? strlen(wire) : 0;
	if (wire == NULL || !wire_ok(wire, len)) {
		g_free(wire);
		return dm_error_set(err, DM_EINTERNAL, "composed mail is not CRLF-clean");
	}
	*wire_r = wire;
	*len_r = len;
	return 0;
}

char *mime_new_message_id(const char *domain)
{
	static gint counter;
	GString *dom = g_string_new(NULL);
	for (const char *p = domain; p && *p; p++)
		if (g_ascii_isalnum(*p) || *p == '.' || *p == '-')
			g_string_append_c(dom, g_ascii_tolower(*p));
	if (dom->len == 0)
		g_string_assign(dom, "deskmail.invalid");
	guint n = (guint)g_atomic_int_add(&counter, 1);
	char *id = g_strdup_printf("dm.%lld.%08x%08x%04x@%s",
				   (long long)(g_get_real_time() / G_USEC_PER_SEC), g_random_int(),
				   g_random_int(), n & 0xffff, dom->str);
	g_string_free(dom, TRUE);
	return id;
}
