/* replay.c - the main() of a fuzz target built without libFuzzer: replays
 * the files and folders named on the command line through
 * LLVMFuzzerTestOneInput, each file whole and cut short at seven points
 * (mail broken off in transit), so that the corpus and every fuzz finding
 * run through each target in every test run, under the sanitizers too.
 *
 * In a folder it takes the *.eml files and the fuzz findings (fuzz-*, any
 * suffix: tests/data/fuzz-*.eml and the binary ones); a file named on the
 * command line is taken whatever its name.  Prints TAP: one line for the
 * whole replay.  Exit status 0 unless a file cannot be read; a crash, a
 * sanitizer report or a failed promise (g_assert) is the failure.  Not
 * compiled with -Dfuzz=true, where libFuzzer brings its own main(). */
#include <glib.h>
#include <stdio.h>

#include "fuzz.h"

static int replay_file(const char *path, size_t *n)
{
	char *data = NULL;
	gsize len = 0;
	GError *e = NULL;
	if (!g_file_get_contents(path, &data, &len, &e)) {
		fprintf(stderr, "%s: %s\n", g_get_prgname(), e->message);
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
	g_set_prgname(argc > 0 ? argv[0] : "fuzz");
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
			if (!g_str_has_suffix(name, ".eml") && !g_str_has_prefix(name, "fuzz-"))
				continue;
			char *p = g_build_filename(argv[i], name, NULL);
			rc |= replay_file(p, &n);
			g_free(p);
		}
		if (d)
			g_dir_close(d);
	}
	printf("1..1\n%s 1 - %zu inputs replayed\n", rc ? "not ok" : "ok", n);
	fuzz_cleanup();
	return rc;
}
