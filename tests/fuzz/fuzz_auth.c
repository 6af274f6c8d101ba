/* fuzz_auth.c - a fuzz target for sender verification (auth_check,
 * src/core/auth.c) over any Authentication-Results values, without the
 * MIME parser in front, so that libFuzzer spends its time in the RFC 8601
 * reader and the alignment rules.
 *
 * The input is read as lines: the first is the From address, each further
 * line one header value (topmost first), at most 20 of at most 2000 bytes,
 * made valid UTF-8: what mime_parse hands on (mail.h, mime.h).  Each is
 * checked at every requirement level against the fixed trusted authserv-id
 * "mx.agency.example", against the authserv-id the first value names (so
 * that any input reaches the method results) and against none.  A mail file
 * as input does no harm: its header lines are read as values.  Built with
 * -Dfuzz=true it is a libFuzzer target; built normally tests/fuzz/replay.c
 * replays files through it (the meson test 'fuzz-auth-replay'). */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "deskmail/auth.h"
#include "fuzz.h"

#define TRUSTED_ID "mx.agency.example"
#define MAX_RESULTS 20
#define MAX_RESULT_BYTES 2000

/* A copy of at most max bytes of s, cut at a character boundary. */
static char *cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return g_strdup(s);
	const char *end = g_utf8_find_prev_char(s, s + max + 1);
	return g_strndup(s, end ? (size_t)(end - s) : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_utf8_make_valid((const char *)data, (gssize)size);
	char **lines = g_strsplit(text, "\n", MAX_RESULTS + 2);
	g_free(text);
	const char *from = lines[0];
	char *results[MAX_RESULTS];
	size_t n = 0;
	for (size_t i = 1; from && lines[i] && n < MAX_RESULTS; i++)
		results[n++] = cut_utf8(lines[i], MAX_RESULT_BYTES);

	const char *const *r = (const char *const *)results;
	fuzz_check_auth(r, n, TRUSTED_ID, from);
	fuzz_check_auth(r, n, NULL, from);
	fuzz_check_auth(r, n, TRUSTED_ID, NULL);
	if (n > 0) {
		/* the first value's authserv-id, up to ';' (RFC 8601 2.2) */
		char *id = g_strndup(results[0], strcspn(results[0], ";"));
		fuzz_check_auth(r, n, g_strstrip(id), from);
		g_free(id);
	}
	for (size_t i = 0; i < n; i++)
		g_free(results[i]);
	g_strfreev(lines);
	return 0;
}

void fuzz_cleanup(void)
{
}
