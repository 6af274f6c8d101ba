/* clock.c - the desk's clock: DESKMAIL_NOW when it is set, else real time.
 *
 * Everything deskmail records (arrival of mail, events, clocks, the Date of
 * mail it sends) takes its time from here and, in SQL, from dm_now(), which
 * the store points at the same instant (session setting deskmail.now).  A
 * fixed clock lets tests and operators step through days without waiting.
 * Log lines keep the real time. */
#include <glib.h>
#include <stdlib.h>

#include "deskmail/util.h"
#include "deskmail/worktime.h"

static bool fixed;
static int64_t fixed_at;
static char fixed_iso[40];

int dm_clock_init(char **err_r)
{
	const char *v = getenv("DESKMAIL_NOW");
	fixed = false;
	if (v == NULL || *v == '\0')
		return 0;
	int64_t t;
	/* 0001..9999: what PostgreSQL and GLib can both hold */
	if (wt_parse_instant(v, &t) < 0 || t < INT64_C(-62135596800) || t > INT64_C(253402300799)) {
		if (err_r != NULL)
			*err_r = g_strdup_printf("DESKMAIL_NOW: not an ISO 8601 instant: \"%.60s\" "
						 "(e.g. 2026-12-24T16:00:00Z)",
						 v);
		return -1;
	}
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autofree char *iso = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
	g_strlcpy(fixed_iso, iso, sizeof fixed_iso);
	fixed_at = t;
	fixed = true;
	return 0;
}

int64_t dm_now(void)
{
	return fixed ? fixed_at : g_get_real_time() / G_USEC_PER_SEC;
}

int64_t dm_now_usec(void)
{
	return fixed ? fixed_at * G_USEC_PER_SEC : g_get_real_time();
}

const char *dm_now_fixed(void)
{
	return fixed ? fixed_iso : NULL;
}
