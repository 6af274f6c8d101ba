/* failpoint.c - named points where a test may kill the process.
 *
 * The crash tests must stop deskmail at exact moments (inside a batch whose
 * mails are written but not committed; between a commit and the marks on
 * the server) as well as at random ones.  DESKMAIL_FAILPOINTS="name:N,..."
 * makes the Nth arrival at dm_failpoint(name) end the process with SIGKILL,
 * as a power cut would: no cleanup, no flush.  Unset, a failpoint costs one
 * test of a static flag.  It is read once per process. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deskmail/util.h"

#define MAX_POINTS 8

static struct {
	char name[32];
	long left;
} points[MAX_POINTS];
static int n_points = -1;

static void load(void)
{
	n_points = 0;
	const char *spec = getenv("DESKMAIL_FAILPOINTS");
	while (spec && *spec && n_points < MAX_POINTS) {
		const char *colon = strchr(spec, ':');
		const char *end = strchr(spec, ',');
		if (end == NULL)
			end = spec + strlen(spec);
		if (colon && colon < end && (size_t)(colon - spec) < sizeof points[0].name) {
			memcpy(points[n_points].name, spec, (size_t)(colon - spec));
			points[n_points].name[colon - spec] = '\0';
			char num[24] = {0};
			size_t k = (size_t)(end - colon - 1);
			memcpy(num, colon + 1, k < sizeof num - 1 ? k : sizeof num - 1);
			int64_t v;
			if (dm_parse_i64(num, 1, 1000000000, &v) == 0)
				points[n_points++].left = (long)v;
		}
		spec = *end ? end + 1 : end;
	}
}

void dm_failpoint(const char *name)
{
	if (n_points < 0)
		load();
	for (int i = 0; i < n_points; i++)
		if (strcmp(points[i].name, name) == 0 && --points[i].left == 0)
			kill(getpid(), SIGKILL);
}
