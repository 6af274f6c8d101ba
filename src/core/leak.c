/* leak.c - does a staff reply about to be relayed carry internal text?
 *
 * The last guard before a relay: whatever the cleaning left, a reply that
 * still holds a run of words from one of the ticket's internal messages (a
 * note, a staff notification, a command-error mail) is not sent to the
 * client.  Texts are compared as sequences of words (letters and digits,
 * lower-cased), so a quote prefix, re-wrapped lines or HTML made into text
 * do not hide a copy.  A run counts when LEAK_WORDS words in a row match,
 * twice (LEAK_WORDS + 1 words in common at least), and only runs that no
 * client-visible message of the ticket holds: the client's own words, quoted
 * in our notifications, and what staff already relayed may be quoted again.
 * Pure, bounded: at most LEAK_MAX_WORDS words of each text are read. */
#include <glib.h>
#include <string.h>

#include "plan-private.h"

#define LEAK_WORDS 8
#define LEAK_MAX_WORDS 200000

typedef struct {
	GArray *hashes; /* uint64 of each window, in text order */
	GArray *starts; /* byte offset of each window's first word */
	GArray *ends;   /* byte offset after each window's last word */
} Windows;

/* FNV-1a over the lower-cased words of a window, each followed by a space. */
static void windows_of(const char *text, Windows *w, bool positions)
{
	w->hashes = g_array_new(FALSE, FALSE, sizeof(guint64));
	w->starts = positions ? g_array_new(FALSE, FALSE, sizeof(gsize)) : NULL;
	w->ends = positions ? g_array_new(FALSE, FALSE, sizeof(gsize)) : NULL;
	if (text == NULL)
		return;
	/* each word's hash and position; then windows of LEAK_WORDS */
	GArray *wh = g_array_new(FALSE, FALSE, sizeof(guint64));
	GArray *ws = g_array_new(FALSE, FALSE, sizeof(gsize));
	GArray *we = g_array_new(FALSE, FALSE, sizeof(gsize));
	const char *p = text;
	while (*p && wh->len < LEAK_MAX_WORDS) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			p++;
			continue;
		}
		if (!g_unichar_isalnum(c)) {
			p = g_utf8_next_char(p);
			continue;
		}
		const char *start = p;
		guint64 h = 1469598103934665603ULL;
		while (*p) {
			c = g_utf8_get_char_validated(p, -1);
			if (c == (gunichar)-1 || c == (gunichar)-2 || !g_unichar_isalnum(c))
				break;
			gunichar l = g_unichar_tolower(c);
			for (int k = 0; k < 4; k++) {
				h ^= (l >> (8 * k)) & 0xff;
				h *= 1099511628211ULL;
			}
			p = g_utf8_next_char(p);
		}
		gsize s = (gsize)(start - text), e = (gsize)(p - text);
		g_array_append_val(wh, h);
		g_array_append_val(ws, s);
		g_array_append_val(we, e);
	}
	for (guint i = 0; i + LEAK_WORDS <= wh->len; i++) {
		guint64 h = 1469598103934665603ULL;
		for (guint k = 0; k < LEAK_WORDS; k++) {
			h ^= g_array_index(wh, guint64, i + k);
			h *= 1099511628211ULL;
			h ^= h >> 29;
		}
		g_array_append_val(w->hashes, h);
		if (positions) {
			g_array_append_val(w->starts, g_array_index(ws, gsize, i));
			g_array_append_val(w->ends, g_array_index(we, gsize, i + LEAK_WORDS - 1));
		}
	}
	g_array_free(wh, TRUE);
	g_array_free(ws, TRUE);
	g_array_free(we, TRUE);
}

static void windows_clear(Windows *w)
{
	g_array_free(w->hashes, TRUE);
	if (w->starts)
		g_array_free(w->starts, TRUE);
	if (w->ends)
		g_array_free(w->ends, TRUE);
}

static guint u64_hash(gconstpointer v)
{
	guint64 x = *(const guint64 *)v;
	return (guint)(x ^ (x >> 32));
}

static gboolean u64_equal(gconstpointer a, gconstpointer b)
{
	return *(const guint64 *)a == *(const guint64 *)b;
}

const char *plan_internal_leak(Plan *p, const char *text, const char *const *internal,
			       const char *const *public_texts)
{
	if (text == NULL || *text == '\0' || internal == NULL || internal[0] == NULL)
		return NULL;
	GHashTable *set = g_hash_table_new(u64_hash, u64_equal);
	GArray *keep = g_array_new(FALSE, FALSE, sizeof(Windows)); /* owns the keys */
	for (size_t i = 0; internal[i]; i++) {
		Windows w;
		windows_of(internal[i], &w, false);
		for (guint k = 0; k < w.hashes->len; k++)
			g_hash_table_add(set, &g_array_index(w.hashes, guint64, k));
		g_array_append_val(keep, w);
	}
	for (size_t i = 0; public_texts && public_texts[i]; i++) {
		Windows w;
		windows_of(public_texts[i], &w, false);
		for (guint k = 0; k < w.hashes->len; k++)
			g_hash_table_remove(set, &g_array_index(w.hashes, guint64, k));
		windows_clear(&w);
	}
	Windows r;
	windows_of(text, &r, true);
	const char *found = NULL;
	for (guint k = 0; k + 1 < r.hashes->len && found == NULL; k++) {
		if (g_hash_table_contains(set, &g_array_index(r.hashes, guint64, k)) &&
		    g_hash_table_contains(set, &g_array_index(r.hashes, guint64, k + 1))) {
			gsize s = g_array_index(r.starts, gsize, k);
			gsize e = g_array_index(r.ends, gsize, k + 1);
			if (e - s > 300) /* between characters */
				e = (gsize)(g_utf8_find_prev_char(text + s, text + s + 301) - text);
			/* on one line: the run may span several */
			char *run = g_strndup(text + s, e - s);
			g_strdelimit(run, "\r\n\t", ' ');
			found = ps(p, run);
			g_free(run);
		}
	}
	windows_clear(&r);
	for (guint i = 0; i < keep->len; i++)
		windows_clear(&g_array_index(keep, Windows, i));
	g_array_free(keep, TRUE);
	g_hash_table_destroy(set);
	return found;
}
