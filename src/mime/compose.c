/* compose.c - an OutMail -> RFC 5322 wire bytes, written directly.
 *
 * What it does: checks the addresses (bare addr-specs), passes every header
 * value through dm_header_safe after mime_to_utf8 (no CR/LF or control
 * injection, valid UTF-8) and writes the mail into one GString:
 *
 * - Headers: Date (RFC 5322 form, UTC), From, Reply-To, To, Subject,
 *   Message-ID, In-Reply-To, References, Auto-Submitted with
 *   X-Auto-Response-Suppress: All, the extra headers, MIME-Version.  Lines
 *   fold at whitespace before column 78 where there is whitespace to fold at
 *   (an id or address longer than a line stays whole; no line passes 998).
 * - Non-ASCII header text becomes RFC 2047 encoded words: UTF-8, Q or B,
 *   whichever is shorter, at most 75 characters, never splitting a
 *   character, sized to the room left on the line.  A B word followed by
 *   another carries a multiple of 3 bytes, or is written as Q where no
 *   character boundary allows that: GMime joins adjacent B words before
 *   decoding and stops at the "=" padding.
 * - Unstructured text (Subject, extra and Auto-Submitted values): only the
 *   words that need it are encoded: non-ASCII words, words containing "=?"
 *   (a reader would decode them) and words longer than 76 (nothing to fold
 *   at); neighbouring such words share encoded words, spaces included.  A
 *   run of more than WS_MAX blanks between plain words is cut to WS_MAX.
 * - Display names are phrases: atoms as they are, other printable ASCII as
 *   one quoted-string (\ and " escaped), anything with non-ASCII or "=?", or
 *   longer than 76, as Q encoded words with only the characters RFC 2047
 *   allows in a phrase.  Only those may fold: GMime keeps a fold between
 *   atoms or inside quotes as CRLF in the name.
 * - Addresses are written as they are when ASCII; a non-ASCII one (EAI) must
 *   be valid UTF-8 (else DM_EPERM) and gets its domain in IDNA form from
 *   GMime; its local part has no 7-bit form and stays UTF-8 (SMTPUTF8).
 * - Body: text/plain alone, or multipart/alternative with text/html, both
 *   charset=utf-8 and quoted-printable by our own encoder: LF, CRLF and lone
 *   CR become CRLF; lines of at most 76 with soft breaks; a line's last
 *   space or tab, and a "." or "From " at its start, are encoded, so that no
 *   transport strips, dot-stuffs or ">From"-quotes anything; a top-level
 *   text that does not end in a line end gets a final soft break, so the
 *   mail ends in CRLF and the text keeps its bytes.  Text that is not valid
 *   UTF-8 is repaired with mime_to_utf8 and encoded again.
 * - Attachments make a multipart/mixed of base64 parts (lines of 76).  The
 *   type is what GMime parses from OutAttachment.content_type; multipart
 *   and message types (we never build nested messages) and anything that is
 *   not a token pair become application/octet-stream.  The file name goes
 *   into Content-Type name and Content-Disposition filename: a
 *   quoted-string (\ and " escaped) when it is short printable ASCII
 *   without "=?" (GMime's parser would decode that as RFC 2047), else RFC
 *   2231 UTF-8, continued over lines (filename*0*= ...) when long.
 * - Boundaries are "=_dm", a letter for the level and 64 random bits.  "=_"
 *   cannot occur in quoted-printable ("=" is followed by a hex digit or CRLF)
 *   nor in base64 (no "_"), part header lines never start with "--", and the
 *   letter keeps one boundary from being a prefix of the other: a boundary
 *   cannot occur in the content, so the content is not searched for it.
 * - The finished mail is checked (memchr per line) for bare CR or LF and
 *   lines over 998 bytes before it is returned (DM_EINTERNAL: a bug).
 *
 * Choices: a malformed Message-ID of our own is DM_EPERM, while In-Reply-To
 * and References ids (they come from incoming mail) that are not plain
 * printable ASCII without < > are dropped rather than failing the reply.
 * Extra headers may not replace the structural ones (From, To, Subject,
 * ids, Date, MIME and Content-*).  Automatic mail (auto_submitted set) also
 * gets "X-Auto-Response-Suppress: All" so that Exchange does not answer it.
 *
 * What it does not: build a GMimeMessage tree, sign, write an SMTP envelope,
 * or use any charset but UTF-8 (no iconv).  Why: the ingest path composes
 * about three mails per incoming one, and with GMime's object tree one
 * typical call (3 KB text + 3 KB HTML alternative, 10 headers; see
 * tests/bench/compose_bench.c) cost 1.16 million instructions (callgrind),
 * mostly header list re-encoding, the QP + CRLF filter streams (25
 * instructions a byte) and the unref of the tree.  Writing directly costs
 * about 91,000.  GMime's stateless helpers were measured too and not used:
 * header_encode_text costs 8-10k instructions a Subject even when it is
 * ASCII and unstructured_header_fold 14k more, it leaves an ASCII word like
 * "=?utf-8?q?x?=" as it is (readers decode it), and param encoding quotes
 * such a file name as it is.  tests/unit/test_compose.c checks the output
 * against GMime's parser (mime_parse) and Python's email package.
 */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deskmail/mime.h"
#include "deskmail/util.h"

#define MAX_ID_LEN 250
#define FOLD_AT 78     /* header lines are folded before this column when possible */
#define EW_MAX 75      /* longest encoded word (RFC 2047 2.) */
#define EW_MIN_ROOM 24 /* fold rather than start an encoded word in less room */
#define WORD_MAX 76    /* a longer word in unstructured text is encoded (split) */
#define WS_MAX 64      /* longer whitespace runs in header values are cut */
#define QP_TEXT 75     /* characters of text on a quoted-printable line; "=" makes 76 */
#define B64_IN 57      /* input bytes per base64 line of 76 characters */

static const char hexdig[] = "0123456789ABCDEF";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

/* dm_header_safe as a g_malloc'd string, valid UTF-8 and stripped; NULL
 * stays NULL.  Only spaces remain as whitespace. */
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

/* Length of the valid UTF-8 sequence at s, whose first byte is >= 0x80; 0
 * if it is not one (RFC 3629: no overlong forms, surrogates or values over
 * U+10FFFF, the same as g_utf8_validate).  Stops at a NUL. */
static int utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
			       ? 4
			       : 0;
	}
	return 0;
}

/* Bytes of the character at p in valid UTF-8, not past end. */
static size_t char_len(const unsigned char *p, const unsigned char *end)
{
	size_t n = (size_t)g_utf8_skip[*p];
	return n <= (size_t)(end - p) ? n : (size_t)(end - p);
}

/* base64 of n bytes at in, without line breaks; returns the end of out. */
static char *b64(char *out, const unsigned char *in, size_t n)
{
	for (; n >= 3; n -= 3, in += 3) {
		*out++ = b64dig[in[0] >> 2];
		*out++ = b64dig[((in[0] & 3) << 4) | (in[1] >> 4)];
		*out++ = b64dig[((in[1] & 15) << 2) | (in[2] >> 6)];
		*out++ = b64dig[in[2] & 63];
	}
	if (n > 0) {
		*out++ = b64dig[in[0] >> 2];
		*out++ = b64dig[((in[0] & 3) << 4) | (n > 1 ? in[1] >> 4 : 0)];
		*out++ = n > 1 ? b64dig[(in[1] & 15) << 2] : '=';
		*out++ = '=';
	}
	return out;
}

/* ---- header lines ---------------------------------------------------- */

/* The mail being written, and where its current line starts (for folding). */
typedef struct {
	GString *s;
	size_t line;
	bool first; /* the next header token is the first after "Name:" */
} Wire;

static size_t wire_col(const Wire *w)
{
	return w->s->len - w->line;
}

static void wire_crlf(Wire *w)
{
	g_string_append_len(w->s, "\r\n", 2);
	w->line = w->s->len;
}

/* A whole line of our own (no input in it). */
static void put_line(Wire *w, const char *text)
{
	g_string_append(w->s, text);
	wire_crlf(w);
}

static void hdr_start(Wire *w, const char *name)
{
	g_string_append(w->s, name);
	g_string_append_c(w->s, ':');
	w->first = true;
}

/* Append whitespace ws (1..WS_MAX spaces) and a token, folding before ws
 * when the token would end past FOLD_AT.  The first token of a header is
 * never folded (that would leave "Name:" alone). */
static void put_word(Wire *w, const char *ws, size_t wsl, const char *word, size_t wl)
{
	if (!w->first && wire_col(w) + wsl + wl > FOLD_AT)
		wire_crlf(w);
	g_string_append_len(w->s, ws, wsl);
	g_string_append_len(w->s, word, wl);
	w->first = false;
}

/* RFC 2047 5.(3): the characters a Q-encoded word may carry as they are in
 * any header (phrases included); space is written "_". */
static bool q_plain(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t q_cost(unsigned char c)
{
	return q_plain(c) || c == ' ' ? 1 : 3;
}

/* The UTF-8 text [text, end) as encoded words after whitespace ws: each
 * word is sized to the room left on the line (at most EW_MAX), the next one
 * follows after one space, where the line may fold.  A phrase is all Q and
 * its words end after a space of the text where they can: Python's email
 * (3.11) keeps the whitespace between encoded words of a display name, which
 * RFC 2047 6.2 (and GMime) drop, so it then reads a doubled space rather
 * than a word cut in two. */
static void put_encoded(Wire *w, const char *ws, size_t wsl, const char *text, const char *end,
			bool phrase)
{
	const unsigned char *p = (const unsigned char *)text, *e = (const unsigned char *)end;
	size_t qlen = 0;
	for (const unsigned char *c = p; c < e; c++)
		qlen += q_cost(*c);
	bool use_b = !phrase && qlen > ((size_t)(e - p) + 2) / 3 * 4;
	char word[EW_MAX + 1];
	while (p < e) {
		size_t col = wire_col(w) + wsl;
		size_t room = col < FOLD_AT ? FOLD_AT - col : 0;
		if (room < EW_MIN_ROOM && !w->first) {
			wire_crlf(w);
			room = FOLD_AT - wsl;
		}
		if (room < EW_MIN_ROOM || room > EW_MAX)
			room = EW_MAX;
		size_t budget = room - 12; /* "=?UTF-8?Q?" and "?=" */
		/* GMime's decoder joins adjacent B words before decoding and
		 * stops at "=" padding: every B word but the last carries a
		 * multiple of 3 bytes, and where no character boundary allows
		 * that, the word is Q (words of another encoding are not joined). */
		const unsigned char *cut = NULL;
		if (use_b) {
			const unsigned char *q = p;
			while (q < e) {
				size_t n = char_len(q, e);
				if ((size_t)(q + n - p) > budget / 4 * 3)
					break;
				q += n;
				if ((q - p) % 3 == 0 || q == e)
					cut = q;
			}
		}
		size_t wl = 10;
		if (cut) {
			memcpy(word, "=?UTF-8?B?", 10);
			wl = (size_t)(b64(word + wl, p, (size_t)(cut - p)) - word);
			p = cut;
		} else {
			memcpy(word, "=?UTF-8?Q?", 10);
			const unsigned char *after_space = NULL;
			size_t after_space_wl = 0;
			while (p < e) {
				size_t n = char_len(p, e), cost = 0;
				for (size_t i = 0; i < n; i++)
					cost += q_cost(p[i]);
				if (wl > 10 && wl - 10 + cost > budget) {
					if (phrase && after_space) {
						p = after_space;
						wl = after_space_wl;
					}
					break;
				}
				if (*p == ' ') {
					after_space = p + 1;
					after_space_wl = wl + 1;
				}
				for (size_t i = 0; i < n; i++, p++) {
					if (q_plain(*p)) {
						word[wl++] = (char)*p;
					} else if (*p == ' ') {
						word[wl++] = '_';
					} else {
						word[wl++] = '=';
						word[wl++] = hexdig[*p >> 4];
						word[wl++] = hexdig[*p & 15];
					}
				}
			}
		}
		word[wl++] = '?';
		word[wl++] = '=';
		g_string_append_len(w->s, ws, wsl);
		g_string_append_len(w->s, word, wl);
		w->first = false;
		ws = " ";
		wsl = 1;
	}
}

/* A word of unstructured text that must be an encoded word. */
static bool needs_ew(const char *word, const char *end)
{
	if (end - word > WORD_MAX)
		return true;
	for (const char *p = word; p < end; p++)
		if ((unsigned char)*p >= 0x80 || (p[0] == '=' && p + 1 < end && p[1] == '?'))
			return true;
	return false;
}

/* Unstructured text (RFC 5322 3.2.5), from safe(): words as they are,
 * runs of words that need it as encoded words. */
static void put_unstructured(Wire *w, const char *v)
{
	const char *p = v, *ws = " ";
	size_t wsl = 1;
	while (*p) {
		const char *sp = p;
		while (*p == ' ')
			p++;
		if (p > sp) {
			ws = sp;
			wsl = MIN((size_t)(p - sp), WS_MAX);
		}
		if (*p == '\0')
			break;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		if (!needs_ew(word, p)) {
			put_word(w, ws, wsl, word, (size_t)(p - word));
			continue;
		}
		const char *end = p;
		for (;;) {
			const char *q = end, *e;
			while (*q == ' ')
				q++;
			if (*q == '\0')
				break;
			for (e = q; *e && *e != ' ';)
				e++;
			if (!needs_ew(q, e))
				break;
			end = e;
		}
		put_encoded(w, ws, wsl, word, end, false);
		p = end;
	}
}

/* RFC 5322 atext */
static bool atext(unsigned char c)
{
	return g_ascii_isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A display name (from safe(), not empty) as an RFC 5322 phrase. */
static void put_phrase(Wire *w, const char *name)
{
	size_t n = strlen(name);
	bool ascii = true, atoms = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 0x80)
			ascii = false;
		if (c == ' ' ? name[i + 1] == ' ' : !atext(c))
			atoms = false;
	}
	if (ascii && n <= WORD_MAX && strstr(name, "=?") == NULL) {
		if (atoms) {
			put_word(w, " ", 1, name, n);
			return;
		}
		GString *q = g_string_sized_new(n + 8);
		g_string_append_c(q, '"');
		for (size_t i = 0; i < n; i++) {
			if (name[i] == '"' || name[i] == '\\')
				g_string_append_c(q, '\\');
			g_string_append_c(q, name[i]);
		}
		g_string_append_c(q, '"');
		bool fits = q->len <= WORD_MAX;
		if (fits)
			put_word(w, " ", 1, q->str, q->len);
		g_string_free(q, TRUE);
		if (fits)
			return;
	}
	put_encoded(w, " ", 1, name, name + n, true);
}

/* An address of From, To or Reply-To (dm_addr_valid): ASCII as it is, a
 * non-ASCII domain in IDNA form (the local part of an EAI address stays
 * UTF-8: there is no 7-bit form of it). */
static void put_addr(Wire *w, const char *name, const char *addr)
{
	const char *a = addr;
	InternetAddress *ia = NULL;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
		if (*p >= 0x80) {
			ia = internet_address_mailbox_new(NULL, addr);
			a = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(ia));
			break;
		}
	}
	if (name && *name) {
		put_phrase(w, name);
		g_autofree char *br = g_strconcat("<", a, ">", NULL);
		put_word(w, " ", 1, br, strlen(br));
	} else {
		put_word(w, " ", 1, a, strlen(a));
	}
	if (ia)
		g_object_unref(ia);
}

/* Two decimal digits of n (0..99). */
static void put_2d(GString *s, int n)
{
	g_string_append_c(s, (char)('0' + n / 10));
	g_string_append_c(s, (char)('0' + n % 10));
}

/* "Date: Tue, 03 Mar 2026 10:34:56 +0000" (RFC 5322 3.3, in UTC) */
static void put_date(Wire *w, int64_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	int year = tm.tm_year + 1900;
	GString *s = w->s;
	g_string_append_len(s, "Date: ", 6);
	g_string_append_len(s, days + 3 * tm.tm_wday, 3);
	g_string_append_len(s, ", ", 2);
	put_2d(s, tm.tm_mday);
	g_string_append_c(s, ' ');
	g_string_append_len(s, months + 3 * tm.tm_mon, 3);
	g_string_append_c(s, ' ');
	put_2d(s, year / 100);
	put_2d(s, year % 100);
	g_string_append_c(s, ' ');
	put_2d(s, tm.tm_hour);
	g_string_append_c(s, ':');
	put_2d(s, tm.tm_min);
	g_string_append_c(s, ':');
	put_2d(s, tm.tm_sec);
	put_line(w, " +0000");
}

/* "=_dm" + tag + 64 random bits: see the file comment. */
static void make_boundary(char out[32], char tag)
{
	memcpy(out, "=_dm", 4);
	out[4] = tag;
	for (int i = 0; i < 2; i++) {
		guint32 r = g_random_int();
		for (int k = 0; k < 8; k++, r >>= 4)
			out[5 + 8 * i + k] = hexdig[r & 15];
	}
	out[21] = '\0';
}

static void put_boundary_header(Wire *w, const char *subtype, const char *boundary)
{
	g_string_append(w->s, "Content-Type: multipart/");
	g_string_append(w->s, subtype);
	g_string_append(w->s, "; boundary=\"");
	g_string_append(w->s, boundary);
	g_string_append_c(w->s, '"');
	wire_crlf(w);
}

/* "\r\n--boundary\r\n", or "\r\n--boundary--" to close. */
static void put_delimiter(Wire *w, const char *boundary, bool close)
{
	g_string_append_len(w->s, "\r\n--", 4);
	g_string_append(w->s, boundary);
	if (close)
		g_string_append_len(w->s, "--", 2);
	else
		wire_crlf(w);
}

/* ---- bodies ---------------------------------------------------------- */

/* The characters a quoted-printable line carries as they are: printable
 * ASCII but "=", and space and tab inside a line.  NUL is not, so a scan
 * stops at the end of the text. */
static const bool qp_literal[256] = {
	['\t'] = true,
	[' '] = true,
	['!' ... '<'] = true,
	['>' ... '~'] = true,
};

typedef struct {
	char *o;    /* next output byte */
	size_t col; /* characters on the current output line */
} Qp;

/* Output bound for n input bytes: 3 per byte, plus a soft break per
 * line of at least 24 input bytes, plus the final soft break. */
static size_t qp_bound(size_t n)
{
	return n * 3 + n / 4 + 16;
}

static void qp_soft_break(Qp *q)
{
	memcpy(q->o, "=\r\n", 3);
	q->o += 3;
	q->col = 0;
}

static void qp_hex(Qp *q, unsigned char c)
{
	if (q->col + 3 > QP_TEXT)
		qp_soft_break(q);
	q->o[0] = '=';
	q->o[1] = hexdig[c >> 4];
	q->o[2] = hexdig[c & 15];
	q->o += 3;
	q->col += 3;
}

/* Literal characters [p, e) of the text, split into lines; a line's
 * leading "." or "From " is encoded. */
static void qp_run(Qp *q, const char *p, const char *e)
{
	while (p < e) {
		if (q->col == 0 && (*p == '.' || (*p == 'F' && strncmp(p, "From ", 5) == 0))) {
			qp_hex(q, (unsigned char)*p++);
			continue;
		}
		if (q->col >= QP_TEXT) {
			qp_soft_break(q);
			continue;
		}
		size_t n = MIN((size_t)(e - p), QP_TEXT - q->col);
		memcpy(q->o, p, n);
		q->o += n;
		q->col += n;
		p += n;
	}
}

/* Non-zero if one of the 8 bytes in x is not printable ASCII or is "=";
 * its lowest set bit is in the first such byte (the borrows and carries of
 * the tricks only run towards higher bytes).  Tab counts as such a byte
 * here; the byte loop after it takes tab as literal. */
static uint64_t qp_special8(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t eq = x ^ (ones * '=');
	return ((x - ones * 0x20) & ~x & high) /* < 0x20 */
	       | (((x + ones) | x) & high)     /* > 0x7e */
	       | ((eq - ones) & ~eq & high);   /* "=" */
}

/* The end of the run of literal characters at p (end: the NUL). */
static const char *qp_scan(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		uint64_t m = qp_special8(x);
		if (m != 0) {
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
			p += __builtin_ctzll(m) >> 3;
#endif
			break;
		}
		p += 8;
	}
	while (qp_literal[(unsigned char)*p])
		p++;
	return p;
}

/* Quoted-printable of the text [text, end), *end being NUL; false at the
 * first invalid UTF-8 sequence. */
static bool qp_encode(Qp *q, const char *text, const char *end)
{
	const char *p = text;
	for (;;) {
		const char *e = qp_scan(p, end);
		unsigned char c = (unsigned char)*e;
		bool eol = c == '\n' || c == '\r' || c == '\0';
		if (eol && e > p && (e[-1] == ' ' || e[-1] == '\t')) {
			qp_run(q, p, e - 1);
			qp_hex(q, (unsigned char)e[-1]);
		} else {
			qp_run(q, p, e);
		}
		if (c == '\0')
			return true;
		if (eol) {
			memcpy(q->o, "\r\n", 2);
			q->o += 2;
			q->col = 0;
			e += c == '\r' && e[1] == '\n' ? 2 : 1;
		} else if (c < 0x80) {
			qp_hex(q, c);
			e++;
		} else {
			int n = utf8_len(e);
			if (n == 0)
				return false;
			for (int i = 0; i < n; i++)
				qp_hex(q, (unsigned char)e[i]);
			e += n;
		}
		p = e;
	}
}

/* The quoted-printable body of a text part.  last: it ends the mail, so a
 * last line without line end gets a soft break (the mail ends in CRLF and
 * the text keeps its bytes). */
static void put_qp_body(Wire *w, const char *text, bool last)
{
	GString *s = w->s;
	size_t base = s->len, n = strlen(text);
	g_autofree char *fixed = NULL;
	for (;;) {
		size_t bound = qp_bound(n);
		g_string_set_size(s, base + bound);
		Qp q = {.o = s->str + base, .col = 0};
		const char *t = fixed ? fixed : text;
		bool ok = qp_encode(&q, t, t + n);
		if (ok) {
			if (last && q.col > 0)
				qp_soft_break(&q);
			g_assert(q.o <= s->str + base + bound);
			g_string_truncate(s, (size_t)(q.o - s->str));
			return;
		}
		g_assert(fixed == NULL); /* mime_to_utf8 gives valid UTF-8 */
		fixed = mime_to_utf8(text, n);
		n = strlen(fixed);
	}
}

static size_t b64_bound(size_t n)
{
	return (n + 2) / 3 * 4 + (n / B64_IN + 1) * 2 + 8;
}

/* base64 in lines of 76, the last one without CRLF. */
static void put_b64_body(Wire *w, const unsigned char *data, size_t n)
{
	GString *s = w->s;
	size_t base = s->len;
	g_string_set_size(s, base + b64_bound(n));
	char *o = s->str + base;
	for (size_t i = 0; i < n; i += B64_IN) {
		if (i > 0) {
			*o++ = '\r';
			*o++ = '\n';
		}
		o = b64(o, data + i, MIN((size_t)B64_IN, n - i));
	}
	g_string_truncate(s, (size_t)(o - s->str));
}

static void put_text_part_headers(Wire *w, const char *subtype)
{
	g_string_append(w->s, "Content-Type: text/");
	g_string_append(w->s, subtype);
	put_line(w, "; charset=utf-8");
	put_line(w, "Content-Transfer-Encoding: quoted-printable");
	wire_crlf(w);
}

/* ---- attachments ----------------------------------------------------- */

/* RFC 2045 token */
static bool token_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 100)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?=", *p))
			return false;
	return true;
}

/* "type/subtype" of an attachment as GMime parses it; see the file comment. */
static char *attachment_type(const char *content_type)
{
	g_autofree char *ct = safe(content_type);
	GMimeContentType *parsed = ct && *ct ? g_mime_content_type_parse(NULL, ct) : NULL;
	char *r = NULL;
	if (parsed && token_ok(g_mime_content_type_get_media_type(parsed)) &&
	    token_ok(g_mime_content_type_get_media_subtype(parsed)) &&
	    !g_mime_content_type_is_type(parsed, "multipart", "*") &&
	    !g_mime_content_type_is_type(parsed, "message", "*"))
		r = g_strdup_printf("%s/%s", g_mime_content_type_get_media_type(parsed),
				    g_mime_content_type_get_media_subtype(parsed));
	if (parsed)
		g_object_unref(parsed);
	return r ? r : g_strdup("application/octet-stream");
}

/* RFC 2231 attr-char (RFC 5987) */
static bool attr_char(unsigned char c)
{
	return g_ascii_isalnum(c) || (c != 0 && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* "; attr=value" for a file name (from safe()): a quoted-string when that
 * fits a line and is plain ASCII without "=?", else RFC 2231 UTF-8, split
 * into attr*0*=, attr*1*= ... at character boundaries when longer than a
 * line. */
static void put_param(Wire *w, const char *attr, const char *v)
{
	size_t alen = strlen(attr);
	GString *t = g_string_new(attr);
	bool plain = strstr(v, "=?") == NULL;
	g_string_append(t, "=\"");
	for (const unsigned char *p = (const unsigned char *)v; *p && plain; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			plain = false;
		if (*p == '"' || *p == '\\')
			g_string_append_c(t, '\\');
		g_string_append_c(t, (char)*p);
	}
	g_string_append_c(t, '"');
	if (plain && t->len < FOLD_AT - 2) {
		g_string_append_c(w->s, ';');
		put_word(w, " ", 1, t->str, t->len);
		g_string_free(t, TRUE);
		return;
	}
	/* percent-encoded, one character at a time */
	GString *enc = g_string_new("UTF-8''");
	GPtrArray *cuts = g_ptr_array_new(); /* positions in enc where a character starts */
	const unsigned char *p = (const unsigned char *)v, *end = p + strlen(v);
	while (p < end) {
		g_ptr_array_add(cuts, GSIZE_TO_POINTER(enc->len));
		for (size_t i = 0, n = char_len(p, end); i < n; i++, p++) {
			if (attr_char(*p)) {
				g_string_append_c(enc, (char)*p);
			} else {
				g_string_append_c(enc, '%');
				g_string_append_c(enc, hexdig[*p >> 4]);
				g_string_append_c(enc, hexdig[*p & 15]);
			}
		}
	}
	g_ptr_array_add(cuts, GSIZE_TO_POINTER(enc->len));
	if (alen + 2 + enc->len < FOLD_AT - 2) {
		g_string_printf(t, "%s*=%s", attr, enc->str);
		g_string_append_c(w->s, ';');
		put_word(w, " ", 1, t->str, t->len);
	} else {
		/* pieces of at most FOLD_AT - 2 with "attr*N*=" and ";" */
		size_t start = 0, k = 0;
		for (guint i = 1; i < cuts->len; i++) {
			size_t here = GPOINTER_TO_SIZE(cuts->pdata[i]);
			size_t next = i + 1 < cuts->len ? GPOINTER_TO_SIZE(cuts->pdata[i + 1]) : 0;
			bool last = i + 1 == cuts->len;
			if (!last && alen + 8 + (next - start) < FOLD_AT - 2)
				continue;
			g_string_printf(t, "%s*%zu*=", attr, k++);
			g_string_append_len(t, enc->str + start, here - start);
			g_string_append_c(w->s, ';');
			put_word(w, " ", 1, t->str, t->len);
			start = here;
		}
	}
	g_ptr_array_free(cuts, TRUE);
	g_string_free(enc, TRUE);
	g_string_free(t, TRUE);
}

static void put_attachment(Wire *w, const OutAttachment *a)
{
	g_autofree char *type = attachment_type(a->content_type);
	g_autofree char *name = safe(a->filename);
	if (name == NULL || *name == '\0') {
		g_free(name);
		name = g_strdup("attachment");
	}
	hdr_start(w, "Content-Type");
	put_word(w, " ", 1, type, strlen(type));
	put_param(w, "name", name);
	wire_crlf(w);
	put_line(w, "Content-Transfer-Encoding: base64");
	hdr_start(w, "Content-Disposition");
	put_word(w, " ", 1, "attachment", 10);
	put_param(w, "filename", name);
	wire_crlf(w);
	wire_crlf(w);
	put_b64_body(w, a->data, a->size);
}

/* A part the HTML shows: its Content-ID, inline. */
static void put_inline(Wire *w, const OutAttachment *a)
{
	g_autofree char *type = attachment_type(a->content_type);
	g_autofree char *name = safe(a->filename);
	hdr_start(w, "Content-Type");
	put_word(w, " ", 1, type, strlen(type));
	if (name && *name)
		put_param(w, "name", name);
	wire_crlf(w);
	put_line(w, "Content-Transfer-Encoding: base64");
	g_string_append(w->s, "Content-ID: <");
	g_string_append(w->s, a->content_id);
	g_string_append_c(w->s, '>');
	wire_crlf(w);
	hdr_start(w, "Content-Disposition");
	put_word(w, " ", 1, "inline", 6);
	if (name && *name)
		put_param(w, "filename", name);
	wire_crlf(w);
	wire_crlf(w);
	put_b64_body(w, a->data, a->size);
}

/* ---- the mail -------------------------------------------------------- */

/* CRLF only, no line over 998 bytes (excluding CRLF). */
static bool wire_ok(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (nl) {
			if (n == 0 || nl[-1] != '\r')
				return false;
			n--;
		}
		if (n > 998 || memchr(p, '\r', n) != NULL)
			return false;
		p = nl ? nl + 1 : end;
	}
	return true;
}

static bool addr_ok(const char *a)
{
	return dm_addr_valid(a) && g_utf8_validate(a, -1, NULL);
}

static void put_mailbox_header(Wire *w, const char *field, const char *name, const char *addr)
{
	hdr_start(w, field);
	put_addr(w, name, addr);
	wire_crlf(w);
}

static void put_unstructured_header(Wire *w, const char *field, const char *value)
{
	hdr_start(w, field);
	put_unstructured(w, value);
	wire_crlf(w);
}

int mime_compose(const OutMail *m, char **wire_r, size_t *len_r, DmError *err)
{
	if (m == NULL || m->text == NULL)
		return dm_error_set(err, DM_EPERM, "outgoing mail without a body");
	if (!addr_ok(m->from_addr))
		return dm_error_set(err, DM_EPERM, "bad From address \"%.100s\"",
				    m->from_addr ? m->from_addr : "(none)");
	if (!addr_ok(m->to_addr))
		return dm_error_set(err, DM_EPERM, "bad To address \"%.100s\"",
				    m->to_addr ? m->to_addr : "(none)");
	if (m->reply_to && !addr_ok(m->reply_to))
		return dm_error_set(err, DM_EPERM, "bad Reply-To address \"%.100s\"", m->reply_to);
	if (!msgid_ok(m->message_id))
		return dm_error_set(err, DM_EPERM, "bad Message-ID \"%.100s\"",
				    m->message_id ? m->message_id : "(none)");
	for (size_t i = 0; i < m->n_extra_headers; i++)
		if (!extra_name_ok(m->extra_headers[2 * i]) || m->extra_headers[2 * i + 1] == NULL)
			return dm_error_set(err, DM_EPERM, "extra header \"%.60s\" not allowed",
					    m->extra_headers[2 * i] ? m->extra_headers[2 * i]
								    : "(none)");
	size_t tlen = strlen(m->text), hlen = m->html ? strlen(m->html) : 0;
	size_t size = 2048 + qp_bound(tlen) + (m->html ? qp_bound(hlen) : 0);
	for (size_t i = 0; i < m->n_attachments; i++) {
		if (m->attachments[i].data == NULL && m->attachments[i].size > 0)
			return dm_error_set(err, DM_EPERM, "attachment without data");
		size += 512 + b64_bound(m->attachments[i].size);
	}
	for (size_t i = 0; m->html && i < m->n_inline; i++) {
		const OutAttachment *a = &m->inline_parts[i];
		if ((a->data == NULL && a->size > 0) || !msgid_ok(a->content_id))
			return dm_error_set(err, DM_EPERM,
					    "inline part without data or Content-ID");
		size += 512 + b64_bound(a->size);
	}

	Wire w = {.s = g_string_sized_new(size)};
	int64_t now = dm_now();
	/* g_date_time's range, as before: years 1 to 9999 */
	put_date(&w, m->date > 0 && m->date <= INT64_C(253402300799) ? m->date : now);

	g_autofree char *from_name = safe(m->from_name);
	put_mailbox_header(&w, "From", from_name, m->from_addr);
	if (m->reply_to)
		put_mailbox_header(&w, "Reply-To", NULL, m->reply_to);
	g_autofree char *to_name = safe(m->to_name);
	put_mailbox_header(&w, "To", to_name, m->to_addr);
	g_autofree char *subject = safe(m->subject ? m->subject : "");
	put_unstructured_header(&w, "Subject", subject);

	g_string_append(w.s, "Message-ID: <");
	g_string_append(w.s, m->message_id);
	put_line(&w, ">");
	if (m->in_reply_to && msgid_ok(m->in_reply_to)) {
		g_string_append(w.s, "In-Reply-To: <");
		g_string_append(w.s, m->in_reply_to);
		put_line(&w, ">");
	}
	bool refs = false;
	for (size_t i = 0; m->references && i < m->n_references; i++) {
		if (!msgid_ok(m->references[i]))
			continue;
		if (!refs)
			hdr_start(&w, "References");
		refs = true;
		g_autofree char *id = g_strconcat("<", m->references[i], ">", NULL);
		put_word(&w, " ", 1, id, strlen(id));
	}
	if (refs)
		wire_crlf(&w);
	if (m->auto_submitted) {
		g_autofree char *v = safe(m->auto_submitted);
		if (*v) {
			put_unstructured_header(&w, "Auto-Submitted", v);
			put_line(&w, "X-Auto-Response-Suppress: All");
		}
	}
	for (size_t i = 0; i < m->n_extra_headers; i++) {
		g_autofree char *v = safe(m->extra_headers[2 * i + 1]);
		put_unstructured_header(&w, m->extra_headers[2 * i], v);
	}
	put_line(&w, "MIME-Version: 1.0");

	char mixed[32], alt[32];
	if (m->n_attachments > 0) {
		make_boundary(mixed, 'm');
		put_boundary_header(&w, "mixed", mixed);
		wire_crlf(&w);
		g_string_append_len(w.s, "--", 2);
		put_line(&w, mixed);
	}
	if (m->html) {
		make_boundary(alt, 'a');
		put_boundary_header(&w, "alternative", alt);
		wire_crlf(&w);
		g_string_append_len(w.s, "--", 2);
		put_line(&w, alt);
		put_text_part_headers(&w, "plain");
		put_qp_body(&w, m->text, false);
		put_delimiter(&w, alt, false);
		if (m->n_inline > 0) {
			char rel[32];
			make_boundary(rel, 'r');
			put_boundary_header(&w, "related", rel);
			wire_crlf(&w);
			g_string_append_len(w.s, "--", 2);
			put_line(&w, rel);
			put_text_part_headers(&w, "html");
			put_qp_body(&w, m->html, false);
			for (size_t i = 0; i < m->n_inline; i++) {
				put_delimiter(&w, rel, false);
				put_inline(&w, &m->inline_parts[i]);
			}
			put_delimiter(&w, rel, true);
		} else {
			put_text_part_headers(&w, "html");
			put_qp_body(&w, m->html, false);
		}
		put_delimiter(&w, alt, true);
	} else {
		put_text_part_headers(&w, "plain");
		put_qp_body(&w, m->text, m->n_attachments == 0);
	}
	if (m->n_attachments > 0) {
		for (size_t i = 0; i < m->n_attachments; i++) {
			put_delimiter(&w, mixed, false);
			put_attachment(&w, &m->attachments[i]);
		}
		put_delimiter(&w, mixed, true);
	}
	if (m->html || m->n_attachments > 0)
		wire_crlf(&w);

	size_t len = w.s->len;
	char *wire = g_string_free(w.s, FALSE);
	if (!wire_ok(wire, len)) {
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
