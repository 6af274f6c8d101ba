/* fuzz_mail.c - a fuzz target for the pure part of the ingest path: parse
 * (GMime, HTML to text), clean the reply text, parse #commands, find the
 * ticket token.  Built with -fsanitize=fuzzer it is a libFuzzer target
 * (LLVMFuzzerTestOneInput); built normally its main() replays files and
 * folders given on the command line, each whole and cut short at eight
 * points (mail broken off in transit), so the corpus runs through it in
 * every test run, under the sanitizers too.  Exit status 0 unless a file
 * cannot be read; a crash, a sanitizer report or a broken promise of
 * mail.h (UTF-8 text, clean bounce strings) is the failure. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/command.h"
#include "deskmail/mime.h"
#include "deskmail/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A bounce string: NULL, or non-empty valid UTF-8 without control
 * characters (mail.h). */
static void check_bounce_string(const char *s, size_t max)
{
	if (s == NULL)
		return;
	g_assert(*s != '\0' && strlen(s) <= max);
	g_assert(g_utf8_validate(s, -1, NULL));
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_assert(c >= 0x20 && !(c >= 0x7f && c < 0xa0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		mime_global_init();
		ready = true;
	}
	MimeLimits lim;
	mime_limits_default(&lim);
	Mail *m = NULL;
	DmError err = {0};
	if (mime_parse(data, size, &lim, &m, &err) != 0)
		return 0;
	g_assert(g_utf8_validate(m->text, -1, NULL));
	g_assert(g_utf8_validate(m->subject, -1, NULL));
	check_bounce_string(m->bounce_message_id, lim.max_id_bytes);
	check_bounce_string(m->bounce_recipient, lim.max_address_bytes);
	check_bounce_string(m->bounce_status, 16);
	check_bounce_string(m->bounce_diagnostic, 500);
	g_assert(m->is_bounce || (m->bounce_message_id == NULL && m->bounce_recipient == NULL &&
				  m->bounce_status == NULL && m->bounce_diagnostic == NULL));
	g_assert(!m->is_bounce || m->is_automatic);
	char *clean = clean_reply_text(m->text);
	g_assert(g_utf8_validate(clean, -1, NULL));
	CommandSet cs;
	command_parse(m->text, &cs);
	g_assert(cs.n <= CMD_MAX);
	g_assert(cs.rest != NULL);
	command_set_clear(&cs);
	(void)route_subject_token(m->subject);
	if (m->html) {
		char *t = mime_html_to_text(m->html, strlen(m->html));
		g_assert(g_utf8_validate(t, -1, NULL));
		g_free(t);
	}
	g_free(clean);
	mail_free(m);
	return 0;
}

#ifndef DM_FUZZING
static int replay_file(const char *path, size_t *n)
{
	char *data = NULL;
	gsize len = 0;
	GError *e = NULL;
	if (!g_file_get_contents(path, &data, &len, &e)) {
		fprintf(stderr, "fuzz_mail: %s\n", e->message);
		g_error_free(e);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	for (int k = 1; k < 8; k++)
		LLVMFuzzerTestOneInput((const uint8_t *)data, len * (size_t)k / 8);
	*n += 8;
	g_free(data);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
			rc |= replay_file(argv[i], &n);
			continue;
		}
		GDir *d = g_dir_open(argv[i], 0, NULL);
		const char *name;
		while (d && (name = g_dir_read_name(d)) != NULL) {
			if (!g_str_has_suffix(name, ".eml"))
				continue;
			char *p = g_build_filename(argv[i], name, NULL);
			rc |= replay_file(p, &n);
			g_free(p);
		}
		if (d)
			g_dir_close(d);
	}
	printf("1..1\n%s 1 - %zu inputs replayed\n", rc ? "not ok" : "ok", n);
	mime_global_cleanup();
	return rc;
}
#endif
