/* testdata.h - what the unit tests that read mail files share: the shared
 * corpus (DM_CORPUS, ../shared/corpus beside the checkout) and our own test
 * mail (DM_TESTDATA, tests/data) must be there; without them a test says
 * what is missing and fails, rather than aborting half way. */
#ifndef DESKMAIL_TESTDATA_H
#define DESKMAIL_TESTDATA_H

#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

static inline bool have_test_data(void)
{
	static const char *const vars[] = {"DM_CORPUS", "DM_TESTDATA"};
	for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
		const char *dir = g_getenv(vars[i]);
		if (dir == NULL || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
			printf("Bail out! %s=%s is not a folder: the tests need ../shared (the "
			       "corpus) beside the checkout and tests/data\n",
			       vars[i], dir ? dir : "(unset)");
			return false;
		}
	}
	return true;
}

#endif
