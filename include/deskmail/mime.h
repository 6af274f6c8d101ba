/* mime.h - raw RFC 5322 bytes -> a parsed Mail, and outgoing mail -> wire
 * bytes.  src/mime/ is the only includer of gmime.h (and of libxml2, for
 * turning HTML into text).
 *
 * The Mail type itself is in mail.h, so that layers which only read mail
 * (core/, store/) need no GMime.  mime_parse makes one, mail_free frees it. */
#ifndef DESKMAIL_MIME_H
#define DESKMAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/err.h"
#include "deskmail/mail.h"

typedef struct {
	size_t max_parts;      /* MIME parts walked; more -> DM_EPERM (default 500) */
	size_t max_depth;      /* multipart nesting; deeper -> DM_EPERM (default 20) */
	size_t max_text_bytes; /* body text kept; longer -> DM_EPERM (default 4 MiB) */
	size_t max_headers;    /* header fields at top level (default 1000) */
	size_t max_addresses;  /* To+Cc addresses kept (default 500) */
	size_t max_references; /* References ids kept, newest kept (default 100) */
	/* Values that are stored in indexed or checked columns, or copied into
	 * the mail we send, are bounded here, whatever the sender wrote: */
	size_t max_id_bytes;      /* a longer Message-ID, In-Reply-To or References
				     id is taken as absent (default 250) */
	size_t max_address_bytes; /* a longer address is taken as absent (320) */
	size_t max_subject_bytes; /* a longer subject is cut, ending in "…" (1000) */
	size_t max_name_bytes;    /* likewise display names (200) */
	size_t max_auth_results;  /* Authentication-Results headers kept, the
				     topmost ones (default 20) */
} MimeLimits;

void mime_limits_default(MimeLimits *lim);

/* Library set-up, once in main() (g_mime_init, libxml2 init). */
void mime_global_init(void);
void mime_global_cleanup(void);

/* Parse raw bytes.  DM_EPERM with a reason if the input is not a message
 * (no headers, garbage) or goes over a limit.  Never fails for bad charsets:
 * unknown bytes are decoded by fallback.  Caller frees *mail_r. */
int mime_parse(const unsigned char *raw, size_t len, const MimeLimits *lim, Mail **mail_r,
	       DmError *err);
void mail_free(Mail *mail);

/* HTML (UTF-8) -> readable plain text with libxml2's HTML parser: block
 * elements become line breaks, links are kept as "text <url>", scripts and
 * styles dropped.  Quoted history is written as "> " lines, as a text/plain
 * mail quotes it: <blockquote> (Apple Mail's type="cite" and others), the
 * quote containers of Gmail (div.gmail_quote), Yahoo (div.yahoo_quoted,
 * div#yahoo_quoted_*), ProtonMail (.protonmail_quote) and Thunderbird
 * (div.moz-cite-prefix); and everything from the start of Outlook's reply
 * header (div#divRplyFwdMsg, div#appendonsend, the border-top "From:" div,
 * Outlook for Mac's reference container) or Zimbra's hr#zwchr to the end.
 * clean_reply_text() then drops them (see clean.h).  Returns a g_malloc'd
 * valid UTF-8 string, never NULL. */
char *mime_html_to_text(const char *html, size_t len);

/* Any bytes -> valid UTF-8 (invalid sequences decoded by fallback charsets,
 * NULs removed).  g_malloc'd. */
char *mime_to_utf8(const char *bytes, size_t len);

/* A file to attach to an outgoing mail (bytes borrowed). */
typedef struct {
	const char *filename;     /* UTF-8; RFC 2231-encoded as needed */
	const char *content_type; /* "type/subtype"; bad or NULL -> application/octet-stream */
	const unsigned char *data;
	size_t size;
	const char *sha256;     /* hex of data if known (else computed), or NULL */
	const char *content_id; /* inline parts only: the HTML's "cid:" without <> */
} OutAttachment;

typedef struct {
	const char *from_name;         /* e.g. the desk name; may be NULL */
	const char *from_addr;         /* required */
	const char *to_name;           /* may be NULL */
	const char *to_addr;           /* required */
	const char *reply_to;          /* addr-spec or NULL */
	const char *subject;           /* UTF-8, encoded-words are produced as needed */
	const char *message_id;        /* without <>, required */
	const char *in_reply_to;       /* without <>, or NULL */
	const char *const *references; /* ids without <>, or NULL */
	size_t n_references;
	const char *auto_submitted;       /* "auto-replied", "auto-generated" or NULL */
	const char *const *extra_headers; /* "Name", "value" pairs, or NULL */
	size_t n_extra_headers;
	const char *text; /* UTF-8 body, required */
	const char *html; /* UTF-8 HTML body or NULL; if set -> multipart/alternative */
	const OutAttachment *attachments; /* if any -> multipart/mixed, base64 parts */
	size_t n_attachments;
	/* parts the HTML shows (<img src="cid:...">): with html, the HTML and
	 * these make a multipart/related (RFC 2387) inside the alternative;
	 * each content_id must be a plain id-left@id-right */
	const OutAttachment *inline_parts;
	size_t n_inline;
	int64_t date; /* Unix time */
} OutMail;

/* Build the wire form of an outgoing mail: CRLF line ends, lines <= 998,
 * 7-bit transfer encodings, RFC 2047 encoded words for non-ASCII headers.
 * Every header value is stripped of CR/LF/controls first.  Returns 0 and a
 * g_malloc'd buffer (NUL-terminated) in *wire_r; DM_EPERM if a required field
 * is missing, an address is not a bare addr-spec (or not valid UTF-8), our
 * own Message-ID is malformed or an extra header would replace one of ours.
 * src/mime/compose.c's file comment has the details. */
int mime_compose(const OutMail *m, char **wire_r, size_t *len_r, DmError *err);

/* A new unique Message-ID (without <>) in the given domain.  g_malloc'd. */
char *mime_new_message_id(const char *domain);

#endif
