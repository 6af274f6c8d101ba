/* test_worktime.c - working-time arithmetic: tables worked out by hand.
 *
 * Every expected instant is written as ISO 8601, with the local offset
 * where that reads better, and converted with GLib's own parser (not ours)
 * so the tables do not depend on the code they test.  The daylight saving
 * dates used (checked with zdump -v on Debian 12's tzdata):
 *
 *   Europe/London     2026-03-29 01:00 GMT -> 02:00 BST (gap 01:00-02:00)
 *                     2026-10-25 02:00 BST -> 01:00 GMT (01:00-02:00 twice)
 *   America/New_York  2026-03-08 02:00 EST -> 03:00 EDT
 *                     2026-11-01 02:00 EDT -> 01:00 EST
 *   America/Santiago  changes at midnight:
 *                     2026-09-06 00:00 -04 -> 01:00 -03 (Sunday starts at 01:00)
 *                     2026-04-05 00:00 -03 -> Saturday 23:00 -04
 *                     (Saturday 4 April 23:00-24:00 happens twice)
 *   Asia/Kolkata      +05:30, no daylight saving. */
#include <glib.h>
#include <string.h>

#include "deskmail/worktime.h"

#define M(m) ((int64_t)(m)*60)
#define H(h) ((int64_t)(h)*3600)

static int64_t iso(const char *s)
{
	GTimeZone *utc = g_time_zone_new_utc();
	GDateTime *dt = g_date_time_new_from_iso8601(s, utc);
	if (dt == NULL)
		g_error("bad ISO in the test table: %s", s);
	int64_t t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	g_time_zone_unref(utc);
	return t;
}

/* an instant for messages, in UTC (g_free) */
static char *show(int64_t t)
{
	if (t == WT_NEVER)
		return g_strdup("NEVER");
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	if (dt == NULL)
		return g_strdup_printf("%" G_GINT64_FORMAT, t);
	char *s = g_date_time_format_iso8601(dt);
	g_date_time_unref(dt);
	return s;
}

#define ALL(x)                                                                                     \
	{                                                                                          \
		x, x, x, x, x, x, x                                                                \
	}
#define WEEKDAYS(x)                                                                                \
	{                                                                                          \
		x, x, x, x, x, NULL, NULL                                                          \
	}
#define SUNDAY(x)                                                                                  \
	{                                                                                          \
		NULL, NULL, NULL, NULL, NULL, NULL, x                                              \
	}
#define SATURDAY(x)                                                                                \
	{                                                                                          \
		NULL, NULL, NULL, NULL, NULL, x, NULL                                              \
	}

static const char *const london_holidays[] = {"2026-12-25", "2026-12-28", "2027-01-01"};

static const struct {
	const char *name;
	const char *tz;
	const char *week[7];
	bool holidays; /* london_holidays */
} calendars[] = {
	{"london", "Europe/London", WEEKDAYS("09:00-12:30,13:30-17:30"), true},
	{"london-9to5", "Europe/London", WEEKDAYS("09:00-17:00"), false},
	{"london-night", "Europe/London", ALL("00:00-04:00"), false},
	{"london-24", "Europe/London", ALL("00:00-24:00"), false},
	/* starts in the spring gap; in the autumn, starts in the repeated hour */
	{"london-gap", "Europe/London", SUNDAY("01:30-03:00"), false},
	/* wholly inside the spring gap */
	{"london-ingap", "Europe/London", SUNDAY("01:10-01:50"), false},
	/* ends in the repeated hour */
	{"london-repend", "Europe/London", SUNDAY("00:00-01:30"), false},
	{"ny-night", "America/New_York", ALL("00:00-04:00"), false},
	{"ny-9to5", "America/New_York", WEEKDAYS("09:00-17:00"), false},
	{"ny-24", "America/New_York", ALL("00:00-24:00"), false},
	/* two spans meeting at 01:00, which happens twice on 1 November: the
	 * first ends at the last 01:00, the second starts at the first; the
	 * hour they share counts once */
	{"ny-split", "America/New_York", SUNDAY("00:00-01:00, 01:00-03:00"), false},
	{"kolkata", "Asia/Kolkata", WEEKDAYS("09:30-18:00"), false},
	{"santiago-24", "America/Santiago", ALL("00:00-24:00"), false},
	{"santiago-sun", "America/Santiago", SUNDAY("00:00-02:00"), false},
	{"santiago-sat", "America/Santiago", SATURDAY("23:00-24:00"), false},
	{"santiago-9to5", "America/Santiago", ALL("09:00-17:00"), false},
	{"none", "Europe/London", ALL(""), false},
	{"utc-mon", "UTC", {"09:00-10:00", NULL, NULL, NULL, NULL, NULL, NULL}, false},
};

static WtCalendar *cals[G_N_ELEMENTS(calendars)];

static const WtCalendar *cal(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(calendars); i++)
		if (strcmp(calendars[i].name, name) == 0)
			return cals[i];
	g_error("no calendar %s", name);
	return NULL;
}

static void make_calendars(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(calendars); i++) {
		char *err = NULL;
		cals[i] = wt_calendar_new(calendars[i].name, calendars[i].tz, calendars[i].week,
					  calendars[i].holidays ? london_holidays : NULL,
					  calendars[i].holidays ? G_N_ELEMENTS(london_holidays) : 0,
					  &err);
		if (cals[i] == NULL)
			g_error("%s: %s", calendars[i].name, err);
		g_assert_null(err);
	}
}

static void test_accessors(void)
{
	g_assert_cmpstr(wt_calendar_name(cal("london")), ==, "london");
	g_assert_cmpstr(wt_calendar_timezone(cal("london")), ==, "Europe/London");
	g_assert_cmpint(wt_calendar_week_seconds(cal("london")), ==, 5 * M(450));
	g_assert_cmpint(wt_calendar_week_seconds(cal("london-24")), ==, 7 * H(24));
	g_assert_cmpint(wt_calendar_week_seconds(cal("ny-split")), ==, H(3));
	g_assert_cmpint(wt_calendar_week_seconds(cal("none")), ==, 0);

	/* NULL week, NULL name, duplicate holidays, blank days */
	const char *hol[] = {"2026-12-25", "2026-12-25", "2026-01-01"};
	WtCalendar *c = wt_calendar_new(NULL, "UTC", NULL, hol, 3, NULL);
	g_assert_nonnull(c);
	g_assert_cmpstr(wt_calendar_name(c), ==, "");
	g_assert_cmpint(wt_calendar_week_seconds(c), ==, 0);
	wt_calendar_free(c);
	const char *week[7] = {" 09:00-10:00 ,\t10:00-11:00 ",
			       "  ",
			       "",
			       NULL,
			       "00:00-24:00",
			       "23:59-24:00",
			       "00:00-00:01"};
	c = wt_calendar_new("x", "America/Argentina/Buenos_Aires", week, hol, 3, NULL);
	g_assert_nonnull(c);
	g_assert_cmpint(wt_calendar_week_seconds(c), ==, H(2) + H(24) + 60 + 60);
	/* 2026-12-25 (a Friday: 00:00-24:00) is a holiday, given twice */
	g_assert_cmpint(
		wt_between(c, iso("2026-12-25T00:00:00-03:00"), iso("2026-12-26T00:00:00-03:00")),
		==, 0);
	g_assert_cmpint(
		wt_between(c, iso("2026-12-18T00:00:00-03:00"), iso("2026-12-19T00:00:00-03:00")),
		==, H(24));
	wt_calendar_free(c);
	wt_calendar_free(NULL);

	/* legacy and Etc names are IANA names too */
	const char *zones[] = {"UTC", "EST5EDT", "Etc/GMT+5", "GMT0"};
	for (size_t i = 0; i < G_N_ELEMENTS(zones); i++) {
		c = wt_calendar_new("z", zones[i], NULL, NULL, 0, NULL);
		g_assert_nonnull(c);
		wt_calendar_free(c);
	}
	/* Etc/GMT+5 is five hours behind UTC */
	const char *nine[7] = ALL("09:00-10:00");
	c = wt_calendar_new("z", "Etc/GMT+5", nine, NULL, 0, NULL);
	g_assert_cmpint(wt_next_working(c, iso("2026-06-01T00:00:00Z")), ==,
			iso("2026-06-01T14:00:00Z"));
	wt_calendar_free(c);
}

/* ---- wt_add ------------------------------------------------------------ */

static const struct {
	const char *cal;
	const char *t;
	int64_t work;
	const char *expect;
	const char *why;
} add_cases[] = {
	/* London office, GMT in November-January.  24 Dec is a Thursday. */
	{"london", "2026-12-24T16:00:00Z", H(4), "2026-12-29T11:30:00Z",
	 "1.5h Thu, Fri 25 holiday, weekend, Mon 28 holiday, 2.5h Tue"},
	{"london", "2026-12-19T10:00:00Z", H(1), "2026-12-21T10:00:00Z", "Saturday arrival"},
	{"london", "2026-12-20T23:59:59Z", 1, "2026-12-21T09:00:01Z", "Sunday night"},
	{"london", "2026-12-21T06:00:00Z", H(1), "2026-12-21T10:00:00Z", "early morning"},
	{"london", "2026-12-21T12:45:00Z", H(1), "2026-12-21T14:30:00Z", "in the lunch break"},
	{"london", "2026-12-21T09:00:00Z", M(210), "2026-12-21T12:30:00Z",
	 "from a span's start to its end exactly: the end, not 13:30"},
	{"london", "2026-12-21T12:30:00Z", M(30), "2026-12-21T14:00:00Z",
	 "exactly at a span's end"},
	{"london", "2026-12-21T13:30:00Z", H(4), "2026-12-21T17:30:00Z",
	 "exactly at a span's start, to the day's end"},
	{"london", "2026-12-21T11:00:00Z", M(150), "2026-12-21T14:30:00Z", "across lunch"},
	{"london", "2026-12-21T17:30:00Z", 1, "2026-12-22T09:00:01Z", "at the day's end"},
	{"london", "2026-12-21T09:00:00Z", M(450), "2026-12-21T17:30:00Z", "a whole day"},
	{"london", "2026-12-21T09:00:00Z", M(450) + 1, "2026-12-22T09:00:01Z",
	 "a day and a second"},
	{"london", "2026-12-25T10:00:00Z", H(1), "2026-12-29T10:00:00Z", "on a holiday"},
	{"london", "2026-12-21T09:00:00Z", M(2250), "2026-12-29T17:30:00Z",
	 "a week's work: Mon-Thu, then Tue 29 (Fri, Mon holidays)"},
	{"london", "2026-12-21T09:00:00Z", H(45), "2026-12-30T17:30:00Z", "Mon-Thu, Tue, Wed"},
	{"london", "2026-12-21T09:00:00Z", H(53), "2027-01-04T09:30:00Z",
	 "52.5h to Thu 31, Fri 1 Jan holiday, half an hour on Mon 4"},
	{"london", "2026-11-02T09:00:00Z", H(150), "2026-11-27T17:30:00Z", "four whole weeks"},
	{"london", "2026-11-02T09:00:00Z", H(150) + 1, "2026-11-30T09:00:01Z",
	 "four weeks and a second"},
	{"london", "2026-11-04T12:00:00Z", H(150), "2026-12-02T12:00:00Z",
	 "four weeks from a Wednesday noon"},
	{"london", "2026-12-19T10:00:00Z", 0, "2026-12-19T10:00:00Z", "no work: t itself"},
	{"london", "2026-12-19T10:00:00Z", -5, "2026-12-19T10:00:00Z", "negative work: t"},
	/* London 9-17 across the changes */
	{"london-9to5", "2026-03-27T16:00:00Z", H(2), "2026-03-30T10:00:00+01:00",
	 "Fri 1h GMT, Mon 1h BST"},
	{"london-9to5", "2026-10-23T16:00:00+01:00", H(2), "2026-10-26T10:00:00+00:00",
	 "Fri 1h BST, Mon 1h GMT"},
	{"london-9to5", "2026-03-23T09:00:00Z", H(40), "2026-03-27T17:00:00Z", "a week"},
	{"london-9to5", "2026-03-23T09:00:00Z", H(41), "2026-03-30T10:00:00+01:00",
	 "a week and an hour, over the change"},
	{"london-9to5", "2026-10-19T09:00:00+01:00", H(48), "2026-10-26T17:00:00Z",
	 "a week and a day, over the change"},
	/* 00:00-04:00 every day: 3h on 29 March, 5h on 25 October */
	{"london-night", "2026-03-29T00:00:00Z", H(3), "2026-03-29T04:00:00+01:00",
	 "spring: 00:00 GMT to 04:00 BST is 3h"},
	{"london-night", "2026-03-29T00:00:00Z", H(3) + 1, "2026-03-30T00:00:01+01:00",
	 "spring: then the next night"},
	{"london-night", "2026-03-28T00:00:00Z", H(7), "2026-03-29T04:00:00+01:00",
	 "Saturday 4h + Sunday 3h"},
	{"london-night", "2026-03-29T00:30:00Z", M(30), "2026-03-29T02:00:00+01:00",
	 "00:30 GMT + 30 min is the gap's end, 02:00 BST"},
	{"london-night", "2026-10-25T00:00:00+01:00", H(5), "2026-10-25T04:00:00Z",
	 "autumn: 00:00 BST to 04:00 GMT is 5h"},
	{"london-night", "2026-10-25T01:30:00+01:00", H(1), "2026-10-25T01:30:00+00:00",
	 "from the first 01:30 to the second"},
	{"london-night", "2026-10-24T02:00:00+01:00", H(7), "2026-10-25T04:00:00Z",
	 "Saturday 2h + Sunday 5h"},
	{"london-24", "2026-03-28T12:00:00Z", H(36), "2026-03-30T00:00:00Z", "24h: t + w"},
	{"london-24", "2026-10-24T12:00:00Z", H(36), "2026-10-26T00:00:00Z", "24h: t + w"},
	/* a span starting in the gap starts at the gap's end */
	{"london-gap", "2026-03-29T00:00:00Z", H(1), "2026-03-29T03:00:00+01:00",
	 "01:30-03:00 on 29 March is 02:00-03:00 BST"},
	{"london-gap", "2026-03-29T00:00:00Z", H(1) + 1, "2026-04-05T01:30:01+01:00",
	 "then the next Sunday"},
	{"london-gap", "2026-10-24T12:00:00Z", M(150), "2026-10-25T03:00:00Z",
	 "01:30-03:00 on 25 October: from the first 01:30 (BST), 2.5h"},
	{"london-gap", "2026-10-24T12:00:00Z", M(60), "2026-10-25T01:30:00Z",
	 "an hour after the first 01:30 is the second one"},
	{"london-ingap", "2026-03-28T12:00:00Z", 1, "2026-04-05T01:10:01+01:00",
	 "a span wholly in the gap does not exist that day"},
	{"london-repend", "2026-10-24T12:00:00Z", M(150), "2026-10-25T01:30:00Z",
	 "00:00-01:30 on 25 October ends at the last 01:30: 2.5h"},
	/* New York */
	{"ny-night", "2026-03-08T00:00:00-05:00", H(3), "2026-03-08T04:00:00-04:00", "spring: 3h"},
	{"ny-night", "2026-03-08T00:00:00-05:00", H(3) + 1, "2026-03-09T00:00:01-04:00",
	 "spring: then the next night"},
	{"ny-night", "2026-11-01T00:00:00-04:00", H(5), "2026-11-01T04:00:00-05:00", "autumn: 5h"},
	{"ny-night", "2026-11-01T01:30:00-04:00", H(1), "2026-11-01T01:30:00-05:00",
	 "from the first 01:30 to the second"},
	{"ny-9to5", "2026-03-06T16:00:00-05:00", H(2), "2026-03-09T10:00:00-04:00",
	 "Fri EST, Mon EDT"},
	{"ny-9to5", "2026-10-30T16:00:00-04:00", H(2), "2026-11-02T10:00:00-05:00",
	 "Fri EDT, Mon EST"},
	{"ny-24", "2026-10-31T23:00:00-04:00", H(5), "2026-11-01T03:00:00-05:00",
	 "24h: t + w over the change"},
	{"ny-split", "2026-10-31T12:00:00Z", H(4), "2026-11-01T03:00:00-05:00",
	 "00:00 EDT to 03:00 EST, the shared hour once"},
	{"ny-split", "2026-11-07T12:00:00Z", H(3), "2026-11-08T03:00:00-05:00",
	 "an ordinary Sunday: 3h"},
	/* Kolkata, +05:30 */
	{"kolkata", "2026-12-21T08:30:00+05:30", H(1), "2026-12-21T10:30:00+05:30", "early"},
	{"kolkata", "2026-12-25T17:30:00+05:30", H(1), "2026-12-28T10:00:00+05:30",
	 "Friday evening to Monday"},
	{"kolkata", "2026-12-26T12:00:00+05:30", M(510), "2026-12-28T18:00:00+05:30",
	 "a whole Monday"},
	{"kolkata", "2026-12-21T04:00:00Z", M(510), "2026-12-21T12:30:00Z", "in UTC"},
	/* Santiago: changes at midnight */
	{"santiago-sun", "2026-09-05T12:00:00Z", H(1), "2026-09-06T02:00:00-03:00",
	 "Sunday 6 Sep starts at 01:00: 00:00-02:00 is one hour"},
	{"santiago-sun", "2026-09-05T12:00:00Z", H(1) + 1, "2026-09-13T00:00:01-03:00",
	 "then the next Sunday"},
	{"santiago-sun", "2026-04-04T12:00:00Z", H(2), "2026-04-05T02:00:00-04:00",
	 "Sunday 5 Apr 00:00-02:00 is two hours"},
	{"santiago-sat", "2026-04-04T12:00:00Z", H(2), "2026-04-05T00:00:00-04:00",
	 "23:00-24:00 on 4 Apr: from the first 23:00 to midnight, 2h"},
	{"santiago-sat", "2026-04-04T12:00:00Z", H(2) + 1, "2026-04-11T23:00:01-04:00",
	 "then the next Saturday"},
	{"santiago-sat", "2026-09-05T12:00:00Z", H(1), "2026-09-06T01:00:00-03:00",
	 "23:00-24:00 on 5 Sep ends at the gap's end, 01:00 -03"},
	{"santiago-24", "2026-09-05T12:00:00Z", H(24), "2026-09-06T09:00:00-03:00", "24h: t + w"},
	{"santiago-9to5", "2026-09-05T16:00:00-04:00", H(2), "2026-09-06T10:00:00-03:00",
	 "Saturday -04, Sunday -03"},
	{"santiago-9to5", "2026-04-04T16:00:00-03:00", H(2), "2026-04-05T10:00:00-04:00",
	 "Saturday -03, Sunday -04"},
	/* nothing to work */
	{"none", "2026-12-21T09:00:00Z", 1, NULL, "no working time"},
	{"none", "2026-12-21T09:00:00Z", 0, "2026-12-21T09:00:00Z", "no work, no need"},
};

static void test_add(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(add_cases); i++) {
		const WtCalendar *c = cal(add_cases[i].cal);
		int64_t t = iso(add_cases[i].t);
		int64_t want = add_cases[i].expect ? iso(add_cases[i].expect) : WT_NEVER;
		int64_t got = wt_add(c, t, add_cases[i].work);
		if (got != want) {
			g_autofree char *g = show(got), *w = show(want);
			g_error("add %zu (%s %s + %" G_GINT64_FORMAT "s, %s): got %s, want %s", i,
				add_cases[i].cal, add_cases[i].t, add_cases[i].work,
				add_cases[i].why, g, w);
		}
		/* and back */
		if (want != WT_NEVER && add_cases[i].work >= 0)
			g_assert_cmpint(wt_between(c, t, got), ==, add_cases[i].work);
	}
}

/* ---- wt_between -------------------------------------------------------- */

static const struct {
	const char *cal;
	const char *a, *b;
	int64_t expect;
} between_cases[] = {
	{"london", "2026-12-24T16:00:00Z", "2026-12-29T11:30:00Z", H(4)},
	{"london", "2026-12-21T00:00:00Z", "2026-12-28T00:00:00Z", 4 * M(450)},
	{"london", "2026-12-21T00:00:00Z", "2027-01-04T00:00:00Z", 7 * M(450)},
	{"london", "2026-12-21T12:00:00Z", "2026-12-21T14:00:00Z", H(1)},
	{"london", "2026-12-21T12:30:00Z", "2026-12-21T13:30:00Z", 0},
	{"london", "2026-12-21T12:29:59Z", "2026-12-21T13:30:01Z", 2},
	{"london", "2026-12-21T10:00:00Z", "2026-12-21T10:00:00Z", 0},
	{"london", "2026-12-21T11:00:00Z", "2026-12-21T10:00:00Z", 0},
	{"london", "2026-12-25T00:00:00Z", "2026-12-29T00:00:00Z", 0},
	{"london", "2026-11-02T00:00:00Z", "2026-11-30T00:00:00Z", H(150)},
	{"london", "2026-11-04T12:00:00Z", "2026-12-02T12:00:00Z", H(150)},
	/* 2026: 261 weekdays, two of them holidays (25 and 28 December) */
	{"london", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 259 * M(450)},
	{"london-9to5", "2026-03-23T00:00:00Z", "2026-04-06T00:00:00+01:00", H(80)},
	{"london-night", "2026-03-28T00:00:00Z", "2026-03-30T00:00:00+01:00", H(7)},
	{"london-night", "2026-10-24T00:00:00+01:00", "2026-10-26T00:00:00Z", H(9)},
	{"london-night", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z", H(1)},
	{"london-24", "2026-03-29T00:00:00Z", "2026-03-30T00:00:00+01:00", H(23)},
	{"london-24", "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00Z", H(25)},
	{"london-24", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", H(24 * 365)},
	{"london-gap", "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", H(1)},
	{"london-gap", "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z", M(150)},
	{"london-ingap", "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", 0},
	{"london-ingap", "2026-04-04T00:00:00Z", "2026-04-06T00:00:00Z", M(40)},
	{"london-repend", "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z", M(150)},
	{"ny-night", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", H(3)},
	{"ny-night", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", H(5)},
	{"ny-24", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", H(23)},
	{"ny-24", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", H(25)},
	{"ny-split", "2026-10-31T12:00:00Z", "2026-11-02T12:00:00Z", H(4)},
	{"ny-split", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", H(1)},
	{"ny-split", "2026-11-07T12:00:00Z", "2026-11-09T12:00:00Z", H(3)},
	{"kolkata", "2026-12-21T00:00:00Z", "2026-12-26T00:00:00Z", 5 * M(510)},
	{"kolkata", "2026-12-21T03:30:00Z", "2026-12-21T04:00:00Z", 0},
	{"kolkata", "2026-12-21T03:30:00Z", "2026-12-21T04:00:01Z", 1},
	{"santiago-24", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", H(23)},
	{"santiago-24", "2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", H(24)},
	{"santiago-24", "2026-04-04T00:00:00-03:00", "2026-04-05T00:00:00-04:00", H(25)},
	{"santiago-24", "2026-04-05T00:00:00-04:00", "2026-04-06T00:00:00-04:00", H(24)},
	{"santiago-sun", "2026-09-05T00:00:00Z", "2026-09-07T00:00:00Z", H(1)},
	{"santiago-sat", "2026-04-04T12:00:00Z", "2026-04-06T00:00:00Z", H(2)},
	{"santiago-sat", "2026-09-05T12:00:00Z", "2026-09-07T00:00:00Z", H(1)},
	{"none", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 0},
};

static void test_between(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(between_cases); i++) {
		const WtCalendar *c = cal(between_cases[i].cal);
		int64_t got = wt_between(c, iso(between_cases[i].a), iso(between_cases[i].b));
		if (got != between_cases[i].expect)
			g_error("between %zu (%s %s .. %s): got %" G_GINT64_FORMAT
				", want %" G_GINT64_FORMAT,
				i, between_cases[i].cal, between_cases[i].a, between_cases[i].b,
				got, between_cases[i].expect);
	}
}

/* ---- wt_is_working, wt_next_working ------------------------------------ */

static const struct {
	const char *cal;
	const char *t;
	bool working;
	const char *next; /* NULL: WT_NEVER */
} working_cases[] = {
	{"london", "2026-12-21T09:00:00Z", true, "2026-12-21T09:00:00Z"},
	{"london", "2026-12-21T08:59:59Z", false, "2026-12-21T09:00:00Z"},
	{"london", "2026-12-21T12:29:59Z", true, "2026-12-21T12:29:59Z"},
	{"london", "2026-12-21T12:30:00Z", false, "2026-12-21T13:30:00Z"},
	{"london", "2026-12-21T17:29:59Z", true, "2026-12-21T17:29:59Z"},
	{"london", "2026-12-21T17:30:00Z", false, "2026-12-22T09:00:00Z"},
	{"london", "2026-12-24T18:00:00Z", false, "2026-12-29T09:00:00Z"},
	{"london", "2026-12-25T10:00:00Z", false, "2026-12-29T09:00:00Z"},
	{"london", "2026-12-26T10:00:00Z", false, "2026-12-29T09:00:00Z"},
	{"london", "2026-12-31T17:30:00Z", false, "2027-01-04T09:00:00Z"},
	{"london-9to5", "2026-03-30T07:30:00Z", false, "2026-03-30T09:00:00+01:00"},
	{"london-9to5", "2026-03-30T08:00:00Z", true, "2026-03-30T08:00:00Z"},
	{"london-night", "2026-03-29T00:59:59Z", true, "2026-03-29T00:59:59Z"},
	{"london-night", "2026-03-29T01:00:00Z", true, "2026-03-29T01:00:00Z"},
	{"london-night", "2026-03-29T03:00:00Z", false, "2026-03-29T23:00:00Z"},
	{"london-night", "2026-10-25T03:59:59Z", true, "2026-10-25T03:59:59Z"},
	{"london-night", "2026-10-25T04:00:00Z", false, "2026-10-26T00:00:00Z"},
	{"london-gap", "2026-03-29T00:30:00Z", false, "2026-03-29T01:00:00Z"},
	{"london-gap", "2026-10-25T00:30:00Z", true, "2026-10-25T00:30:00Z"},
	{"london-gap", "2026-10-25T00:29:59Z", false, "2026-10-25T00:30:00Z"},
	{"london-ingap", "2026-03-29T01:00:00Z", false, "2026-04-05T01:10:00+01:00"},
	{"ny-split", "2026-11-01T05:30:00Z", true, "2026-11-01T05:30:00Z"},
	{"ny-split", "2026-11-01T07:59:59Z", true, "2026-11-01T07:59:59Z"},
	{"ny-split", "2026-11-01T08:00:00Z", false, "2026-11-08T00:00:00-05:00"},
	{"santiago-24", "2026-09-06T04:00:00Z", true, "2026-09-06T04:00:00Z"},
	{"santiago-24", "2026-04-05T03:30:00Z", true, "2026-04-05T03:30:00Z"},
	{"santiago-sun", "2026-09-05T12:00:00Z", false, "2026-09-06T01:00:00-03:00"},
	{"santiago-sat", "2026-04-05T02:30:00Z", true, "2026-04-05T02:30:00Z"},
	{"santiago-sat", "2026-04-05T01:59:59Z", false, "2026-04-04T23:00:00-03:00"},
	{"kolkata", "2026-12-21T04:00:00Z", true, "2026-12-21T04:00:00Z"},
	{"kolkata", "2026-12-21T03:59:59Z", false, "2026-12-21T09:30:00+05:30"},
	{"none", "2026-12-21T10:00:00Z", false, NULL},
};

static void test_working(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(working_cases); i++) {
		const WtCalendar *c = cal(working_cases[i].cal);
		int64_t t = iso(working_cases[i].t);
		int64_t want = working_cases[i].next ? iso(working_cases[i].next) : WT_NEVER;
		if (wt_is_working(c, t) != working_cases[i].working)
			g_error("is_working %zu (%s %s) wrong", i, working_cases[i].cal,
				working_cases[i].t);
		int64_t got = wt_next_working(c, t);
		if (got != want) {
			g_autofree char *g = show(got), *w = show(want);
			g_error("next_working %zu (%s %s): got %s, want %s", i,
				working_cases[i].cal, working_cases[i].t, g, w);
		}
	}
}

/* ---- no working time, long searches, extremes ------------------------- */

/* Mondays from 2026-01-05 as holidays, n of them. */
static WtCalendar *mondays_off(int n)
{
	char **hol = g_new0(char *, n + 1);
	GDate *d = g_date_new_dmy(5, G_DATE_JANUARY, 2026);
	for (int i = 0; i < n; i++) {
		hol[i] = g_strdup_printf("%04d-%02d-%02d", g_date_get_year(d), g_date_get_month(d),
					 g_date_get_day(d));
		g_date_add_days(d, 7);
	}
	g_date_free(d);
	const char *week[7] = {"09:00-10:00", NULL, NULL, NULL, NULL, NULL, NULL};
	char *err = NULL;
	WtCalendar *c =
		wt_calendar_new("mondays", "UTC", week, (const char *const *)hol, (size_t)n, &err);
	g_assert_null(err);
	g_assert_nonnull(c);
	g_strfreev(hol);
	return c;
}

static void test_never(void)
{
	const WtCalendar *none = cal("none");
	int64_t t = iso("2026-12-21T09:00:00Z");
	g_assert_cmpint(wt_add(none, t, 1), ==, WT_NEVER);
	g_assert_cmpint(wt_next_working(none, t), ==, WT_NEVER);
	g_assert_false(wt_is_working(none, t));
	g_assert_cmpint(wt_between(none, INT64_MIN, INT64_MAX), ==, 0);

	/* 500 Mondays off: 3500 days without work, inside the horizon */
	WtCalendar *c = mondays_off(500);
	int64_t from = iso("2026-01-01T00:00:00Z");
	g_assert_cmpint(wt_add(c, from, 1), ==, iso("2035-08-06T09:00:01Z"));
	g_assert_cmpint(wt_next_working(c, from), ==, iso("2035-08-06T09:00:00Z"));
	g_assert_cmpint(wt_between(c, from, iso("2035-08-06T09:00:01Z")), ==, 1);
	wt_calendar_free(c);

	/* 530 Mondays (3710 days) and the most holidays (38 years): past the
	 * horizon, quickly */
	int counts[] = {530, WT_MAX_HOLIDAYS};
	for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
		c = mondays_off(counts[k]);
		gint64 t0 = g_get_monotonic_time();
		for (int i = 0; i < 1000; i++) {
			g_assert_cmpint(wt_add(c, from + i * 3600, 1), ==, WT_NEVER);
			g_assert_cmpint(wt_next_working(c, from + i * 3600), ==, WT_NEVER);
		}
		gint64 us = g_get_monotonic_time() - t0;
		g_test_message("2000 ten-year searches with %d holidays: %" G_GINT64_FORMAT " us",
			       counts[k], us);
		g_assert_cmpint(us, <, 5 * G_USEC_PER_SEC);
		/* the year of holidays has no work, and the work after them is counted */
		g_assert_cmpint(wt_between(c, from, iso("2027-01-01T00:00:00Z")), ==, 0);
		wt_calendar_free(c);
	}
}

static void test_extremes(void)
{
	const WtCalendar *c = cal("london");
	const WtCalendar *c24 = cal("london-24");
	g_assert_cmpint(wt_add(c, INT64_MAX, 1), ==, WT_NEVER);
	g_assert_cmpint(wt_add(c, INT64_MAX - 1, H(1)), ==, WT_NEVER);
	g_assert_cmpint(wt_add(c, INT64_MAX, 0), ==, INT64_MAX);
	g_assert_cmpint(wt_add(c, 0, INT64_MAX), ==, WT_NEVER);
	g_assert_cmpint(wt_add(c24, INT64_MAX - H(1), H(2)), ==, WT_NEVER);
	g_assert_cmpint(wt_add(c24, iso("9999-12-31T22:00:00Z"), H(3)), ==, WT_NEVER);
	g_assert_cmpint(wt_add(c24, iso("9999-12-31T22:00:00Z"), H(1)), ==,
			iso("9999-12-31T23:00:00Z"));
	/* 0001-01-01 was a Monday; before 1900 London keeps GMT */
	g_assert_cmpint(wt_add(c, INT64_MIN, 1), ==, iso("0001-01-01T09:00:01Z"));
	g_assert_cmpint(wt_next_working(c, INT64_MIN), ==, iso("0001-01-01T09:00:00Z"));
	g_assert_cmpint(wt_next_working(c, INT64_MAX), ==, WT_NEVER);
	g_assert_false(wt_is_working(c, INT64_MAX));
	g_assert_false(wt_is_working(c, INT64_MIN));
	g_assert_cmpint(wt_between(c, INT64_MAX, INT64_MIN), ==, 0);
	g_assert_cmpint(wt_between(c, INT64_MIN, INT64_MIN + 10), ==, 0);
	g_assert_cmpint(wt_between(c, INT64_MAX - 10, INT64_MAX), ==, 0);

	/* the whole range, without overflow, and additive */
	gint64 t0 = g_get_monotonic_time();
	int64_t all = wt_between(c, INT64_MIN, INT64_MAX);
	g_test_message("ten thousand years: %" G_GINT64_FORMAT " us", g_get_monotonic_time() - t0);
	g_assert_cmpint(all, >, 0);
	g_assert_cmpint(all, ==, wt_between(c, INT64_MIN, 0) + wt_between(c, 0, INT64_MAX));
	g_assert_cmpint(wt_between(c24, INT64_MIN, INT64_MAX), ==,
			iso("9999-12-31T23:59:59Z") + 1 - iso("0001-01-01T00:00:00Z"));

	/* 100000 hours, the most the configuration allows */
	int64_t from = iso("2026-01-01T00:00:00Z");
	g_assert_cmpint(wt_add(c24, from, H(100000)), ==, from + H(100000));
	int64_t r = wt_add(c, from, H(100000));
	g_assert_cmpint(r, !=, WT_NEVER);
	g_assert_cmpint(wt_between(c, from, r), ==, H(100000));
	/* 100000 h at 37.5 h a week is 2666.67 weeks: 51 years and some */
	g_assert_cmpint(r, >, iso("2077-01-01T00:00:00Z"));
	g_assert_cmpint(r, <, iso("2078-01-01T00:00:00Z"));
	g_assert_true(wt_is_working(c, r - 1));

	char *s = wt_format(c, INT64_MIN);
	g_assert_cmpstr(s, ==, "Monday 1 January, 00:00");
	g_free(s);
	s = wt_format(c, INT64_MAX - 1);
	g_assert_cmpstr(s, ==, "Friday 31 December, 23:59");
	g_free(s);
	s = wt_format(c, WT_NEVER);
	g_assert_cmpstr(s, ==, "never");
	g_free(s);
	s = wt_format_iso(c, INT64_MIN);
	g_assert_cmpstr(s, ==, "0001-01-01T00:00:00+00:00");
	g_free(s);
}

/* ---- properties ---------------------------------------------------------- */

static void test_properties(void)
{
	const char *names[] = {"london",       "london-9to5",  "london-night", "london-24",
			       "london-gap",   "ny-night",     "ny-9to5",      "ny-24",
			       "ny-split",     "kolkata",      "santiago-24",  "santiago-sun",
			       "santiago-sat", "santiago-9to5"};
	GRand *rand = g_rand_new_with_seed(20261224);
	int64_t lo = iso("2025-01-01T00:00:00Z"), hi = iso("2028-01-01T00:00:00Z");
	for (size_t n = 0; n < G_N_ELEMENTS(names); n++) {
		const WtCalendar *c = cal(names[n]);
		bool full = wt_calendar_week_seconds(c) == 7 * H(24);
		for (int i = 0; i < 2000; i++) {
			int64_t t = lo + (int64_t)(g_rand_double(rand) * (double)(hi - lo));
			/* often on the hour, where spans begin and end */
			if (i % 3 == 0)
				t -= t % 1800;
			int64_t w = g_rand_int_range(rand, 0, 300 * 3600);
			if (i % 5 == 0)
				w -= w % 1800;
			int64_t r = wt_add(c, t, w);
			g_assert_cmpint(r, !=, WT_NEVER);
			g_assert_cmpint(r, >=, t);
			if (wt_between(c, t, r) != w)
				g_error("%s: between(%" G_GINT64_FORMAT ", add(w=%" G_GINT64_FORMAT
					")) = %" G_GINT64_FORMAT,
					names[n], t, w, wt_between(c, t, r));
			if (full)
				g_assert_cmpint(r, ==, t + w);
			if (w > 0) {
				/* the last second counted is working time, and the
				 * target is the earliest such instant */
				g_assert_true(wt_is_working(c, r - 1));
				g_assert_cmpint(wt_between(c, t, r - 1), ==, w - 1);
			}
			/* monotonic in work and in time */
			int64_t w2 = w + g_rand_int_range(rand, 0, 3600 * 40);
			g_assert_cmpint(wt_add(c, t, w2), >=, r);
			int64_t t2 = t + g_rand_int_range(rand, 0, 3600 * 80);
			g_assert_cmpint(wt_add(c, t2, w), >=, r);
			/* additive */
			int64_t m = t + g_rand_int_range(rand, 0, 3600 * 200);
			int64_t e = m + g_rand_int_range(rand, 0, 3600 * 200);
			g_assert_cmpint(wt_between(c, t, m) + wt_between(c, m, e), ==,
					wt_between(c, t, e));
			g_assert_cmpint(wt_between(c, t, e), <=, e - t);
			/* working now exactly when the next working instant is now */
			int64_t nx = wt_next_working(c, t);
			g_assert_cmpint(nx, >=, t);
			g_assert_cmpint(wt_is_working(c, t), ==, nx == t);
			g_assert_cmpint(wt_between(c, t, nx), ==, 0);
			g_assert_true(wt_is_working(c, nx));
		}
	}
	g_rand_free(rand);
}

/* A benchmark's pass in miniature: 1000 tickets, each an SLA target and
 * the time used so far. */
static void test_speed(void)
{
	const WtCalendar *c = cal("london");
	int64_t from = iso("2026-01-01T00:00:00Z");
	gint64 t0 = g_get_monotonic_time();
	int64_t sum = 0;
	for (int pass = 0; pass < 10; pass++)
		for (int i = 0; i < 1000; i++) {
			int64_t t = from + (int64_t)i * 7919 * 60;
			int64_t r = wt_add(c, t, H(8 + i % 40));
			sum += wt_between(c, t, r + H(100));
		}
	gint64 us = g_get_monotonic_time() - t0;
	g_test_message("10 passes of 1000 tickets: %" G_GINT64_FORMAT " us (%" G_GINT64_FORMAT ")",
		       us, sum);
	g_assert_cmpint(us, <, 10 * G_USEC_PER_SEC);
}

/* ---- invalid calendars ---------------------------------------------------- */

static void test_invalid(void)
{
	static const struct {
		const char *tz;
		int day;
		const char *spans;
		const char *holiday;
		const char *msg;
	} cases[] = {
		{"Mars/Olympus", -1, NULL, NULL, "unknown time zone \"Mars/Olympus\""},
		{"Europe/Londn", -1, NULL, NULL, "unknown time zone \"Europe/Londn\""},
		{"/etc/localtime", -1, NULL, NULL, "unknown time zone \"/etc/localtime\""},
		{"../etc/passwd", -1, NULL, NULL, "unknown time zone \"../etc/passwd\""},
		{"Europe/../London", -1, NULL, NULL, "unknown time zone \"Europe/../London\""},
		{"Europe//London", -1, NULL, NULL, "unknown time zone \"Europe//London\""},
		{"Europe/London/", -1, NULL, NULL, "unknown time zone \"Europe/London/\""},
		{"+01:00", -1, NULL, NULL, "unknown time zone \"+01:00\""},
		{"UTC+1", -1, NULL, NULL, "unknown time zone \"UTC+1\""},
		{"Foo5", -1, NULL, NULL, "unknown time zone \"Foo5\""},
		{"CET-1CEST,M3.5.0,M10.5.0/3", -1, NULL, NULL,
		 "unknown time zone \"CET-1CEST,M3.5.0,M10.5.0/3\""},
		{"Europe/Lon\ndon", -1, NULL, NULL, "unknown time zone \"Europe/Lon?don\""},
		{"", -1, NULL, NULL, "no time zone"},
		{NULL, -1, NULL, NULL, "no time zone"},
		{"UTC", 1, "17:00-09:00", NULL, "tue: span \"17:00-09:00\" ends before it starts"},
		{"UTC", 0, "09:00-09:00", NULL, "mon: span \"09:00-09:00\" is empty"},
		{"UTC", 0, "9:00-17:00", NULL, "mon: span \"9:00-17:00\" is not HH:MM-HH:MM"},
		{"UTC", 0, "09:00 - 17:00", NULL, "mon: span \"09:00 - 17:00\" is not HH:MM-HH:MM"},
		{"UTC", 0, "09.00-17.00", NULL, "mon: span \"09.00-17.00\" is not HH:MM-HH:MM"},
		{"UTC", 0, "09:00-17:00x", NULL, "mon: span \"09:00-17:00x\" is not HH:MM-HH:MM"},
		{"UTC", 0, "09:00", NULL, "mon: span \"09:00\" is not HH:MM-HH:MM"},
		{"UTC", 0, "+9:00-17:00", NULL, "mon: span \"+9:00-17:00\" is not HH:MM-HH:MM"},
		{"UTC", 6, "09:00-17:60", NULL, "sun: span \"09:00-17:60\" has an invalid time"},
		{"UTC", 6, "25:00-26:00", NULL, "sun: span \"25:00-26:00\" has an invalid time"},
		{"UTC", 6, "24:00-24:00", NULL, "sun: span \"24:00-24:00\" has an invalid time"},
		{"UTC", 6, "23:00-24:01", NULL, "sun: span \"23:00-24:01\" has an invalid time"},
		{"UTC", 2, "09:00-12:00,11:00-13:00", NULL,
		 "wed: span \"11:00-13:00\" starts before the previous one ends"},
		{"UTC", 2, "13:00-14:00,09:00-10:00", NULL,
		 "wed: span \"09:00-10:00\" starts before the previous one ends"},
		{"UTC", 3, "09:00-10:00,,11:00-12:00", NULL, "thu: empty span"},
		{"UTC", 3, "09:00-10:00,", NULL, "thu: empty span"},
		{"UTC", 3, ",09:00-10:00", NULL, "thu: empty span"},
		{"UTC", 3, "09:00-10:00, ,11:00-12:00", NULL, "thu: empty span"},
		{"UTC", 4,
		 "01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,"
		 "07:00-08:00,08:00-09:00,09:00-10:00",
		 NULL, "fri: more than 8 spans"},
		{"UTC", 5, "0123456789012345678901234567890123456789012345", NULL,
		 "sat: span \"0123456789012345678901234567890123456789...\" is not HH:MM-HH:MM"},
		{"UTC", -1, NULL, "2026-02-29",
		 "holiday \"2026-02-29\" is not a valid date (YYYY-MM-DD)"},
		{"UTC", -1, NULL, "2026-13-01",
		 "holiday \"2026-13-01\" is not a valid date (YYYY-MM-DD)"},
		{"UTC", -1, NULL, "2026-12-00",
		 "holiday \"2026-12-00\" is not a valid date (YYYY-MM-DD)"},
		{"UTC", -1, NULL, "2026-2-3",
		 "holiday \"2026-2-3\" is not a valid date (YYYY-MM-DD)"},
		{"UTC", -1, NULL, "2026-12-25 ",
		 "holiday \"2026-12-25 \" is not a valid date (YYYY-MM-DD)"},
		{"UTC", -1, NULL, "", "holiday \"\" is not a valid date (YYYY-MM-DD)"},
		{"UTC", -1, NULL, "0000-01-01",
		 "holiday \"0000-01-01\" is not a valid date (YYYY-MM-DD)"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *week[7] = WEEKDAYS("09:00-17:00");
		if (cases[i].day >= 0)
			week[cases[i].day] = cases[i].spans;
		const char *hol[2] = {"2026-12-25", cases[i].holiday};
		size_t n_hol = cases[i].holiday ? 2 : 1;
		char *err = NULL;
		WtCalendar *c = wt_calendar_new("bad", cases[i].tz, week, hol, n_hol, &err);
		if (c != NULL)
			g_error("invalid case %zu accepted", i);
		g_assert_cmpstr(err, ==, cases[i].msg);
		g_free(err);
		/* a NULL err_r is fine */
		g_assert_null(wt_calendar_new("bad", cases[i].tz, week, hol, n_hol, NULL));
	}

	/* a leap day is a date; a NULL holiday and too many are not */
	const char *leap[] = {"2028-02-29"};
	WtCalendar *c = wt_calendar_new("ok", "UTC", NULL, leap, 1, NULL);
	g_assert_nonnull(c);
	wt_calendar_free(c);
	char *err = NULL;
	const char *missing[] = {"2026-12-25", NULL};
	g_assert_null(wt_calendar_new("bad", "UTC", NULL, missing, 2, &err));
	g_assert_cmpstr(err, ==, "holiday 2 missing");
	g_clear_pointer(&err, g_free);
	g_assert_null(wt_calendar_new("bad", "UTC", NULL, NULL, 1, &err));
	g_assert_cmpstr(err, ==, "holidays missing");
	g_clear_pointer(&err, g_free);
	const char **many = g_new(const char *, WT_MAX_HOLIDAYS + 1);
	for (int i = 0; i <= WT_MAX_HOLIDAYS; i++)
		many[i] = "2026-12-25";
	g_assert_null(wt_calendar_new("bad", "UTC", NULL, many, WT_MAX_HOLIDAYS + 1, &err));
	g_assert_cmpstr(err, ==, "too many holidays: 2001 (at most 2000)");
	g_clear_pointer(&err, g_free);
	c = wt_calendar_new("ok", "UTC", NULL, many, WT_MAX_HOLIDAYS, &err);
	g_assert_nonnull(c);
	g_assert_null(err);
	wt_calendar_free(c);
	g_free(many);
	/* exactly WT_MAX_SPANS is fine */
	const char *eight[7] = {"01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,"
				"06:00-07:00,07:00-08:00,08:00-24:00"};
	c = wt_calendar_new("ok", "UTC", eight, NULL, 0, NULL);
	g_assert_nonnull(c);
	g_assert_cmpint(wt_calendar_week_seconds(c), ==, H(23));
	wt_calendar_free(c);
}

/* ---- formatting and parsing ------------------------------------------- */

static void test_format(void)
{
	static const struct {
		const char *cal;
		const char *t;
		const char *text, *iso;
	} cases[] = {
		{"london", "2026-12-28T11:30:00Z", "Monday 28 December, 11:30",
		 "2026-12-28T11:30:00+00:00"},
		{"london", "2026-07-01T10:30:59Z", "Wednesday 1 July, 11:30",
		 "2026-07-01T11:30:59+01:00"},
		{"london", "2026-03-29T00:59:59Z", "Sunday 29 March, 00:59",
		 "2026-03-29T00:59:59+00:00"},
		{"london", "2026-03-29T01:00:00Z", "Sunday 29 March, 02:00",
		 "2026-03-29T02:00:00+01:00"},
		{"london", "2026-10-25T00:30:00Z", "Sunday 25 October, 01:30",
		 "2026-10-25T01:30:00+01:00"},
		{"london", "2026-10-25T01:30:00Z", "Sunday 25 October, 01:30",
		 "2026-10-25T01:30:00+00:00"},
		{"ny-9to5", "2026-11-01T05:30:00Z", "Sunday 1 November, 01:30",
		 "2026-11-01T01:30:00-04:00"},
		{"ny-9to5", "2026-11-01T06:30:00Z", "Sunday 1 November, 01:30",
		 "2026-11-01T01:30:00-05:00"},
		{"ny-9to5", "2026-02-01T00:00:00Z", "Saturday 31 January, 19:00",
		 "2026-01-31T19:00:00-05:00"},
		{"kolkata", "2026-12-28T04:30:00Z", "Monday 28 December, 10:00",
		 "2026-12-28T10:00:00+05:30"},
		{"kolkata", "2026-05-05T18:29:00Z", "Tuesday 5 May, 23:59",
		 "2026-05-05T23:59:00+05:30"},
		{"santiago-24", "2026-09-06T04:00:00Z", "Sunday 6 September, 01:00",
		 "2026-09-06T01:00:00-03:00"},
		{"santiago-24", "2026-09-06T03:59:59Z", "Saturday 5 September, 23:59",
		 "2026-09-05T23:59:59-04:00"},
		{"santiago-24", "2026-04-05T02:30:00Z", "Saturday 4 April, 23:30",
		 "2026-04-04T23:30:00-03:00"},
		{"santiago-24", "2026-04-05T03:30:00Z", "Saturday 4 April, 23:30",
		 "2026-04-04T23:30:00-04:00"},
		{"london", "2028-02-29T12:05:00Z", "Tuesday 29 February, 12:05",
		 "2028-02-29T12:05:00+00:00"},
		{"london", "1970-01-01T00:00:00Z", "Thursday 1 January, 01:00",
		 "1970-01-01T01:00:00+01:00"}, /* British Standard Time, 1968-71 */
		{"ny-24", "2100-07-04T16:00:00Z", "Sunday 4 July, 12:00",
		 "2100-07-04T12:00:00-04:00"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const WtCalendar *c = cal(cases[i].cal);
		int64_t t = iso(cases[i].t);
		g_autofree char *text = wt_format(c, t);
		g_autofree char *is = wt_format_iso(c, t);
		g_assert_cmpstr(text, ==, cases[i].text);
		g_assert_cmpstr(is, ==, cases[i].iso);
		/* the ISO form reads back to the same instant */
		int64_t back = 0;
		g_assert_cmpint(wt_parse_instant(is, &back), ==, 0);
		g_assert_cmpint(back, ==, t);
	}
}

static void test_parse(void)
{
	static const struct {
		const char *s;
		const char *utc; /* NULL: invalid */
	} cases[] = {
		{"2026-12-24T16:00:00Z", "2026-12-24T16:00:00Z"},
		{"2026-12-24T16:00:00+01:00", "2026-12-24T15:00:00Z"},
		{"2026-12-24T16:00:00-05:30", "2026-12-24T21:30:00Z"},
		{"2026-12-24T16:00:00-0530", "2026-12-24T21:30:00Z"},
		{"2026-12-24T16:00:00+05", "2026-12-24T11:00:00Z"},
		{"2026-12-24 16:00:00Z", "2026-12-24T16:00:00Z"},
		{"2026-12-24t16:00:00z", "2026-12-24T16:00:00Z"},
		{"2026-12-24T16:00:00.5Z", "2026-12-24T16:00:00Z"},
		{"2026-12-24T16:00:00.123456789+01:00", "2026-12-24T15:00:00Z"},
		{"2026-12-24T16:00:00,25Z", "2026-12-24T16:00:00Z"},
		{"2026-12-24T16:00:00", "2026-12-24T16:00:00Z"},
		{"2026-12-24 16:00:00", "2026-12-24T16:00:00Z"},
		{"2026-12-24T16:00Z", "2026-12-24T16:00:00Z"},
		{"2026-12-24T16:00", "2026-12-24T16:00:00Z"},
		{"2026-12-24T00:30:00+01:00", "2026-12-23T23:30:00Z"},
		{"2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
		{"2100-03-01T00:00:00Z", "2100-03-01T00:00:00Z"},
		{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
		{"", NULL},
		{"garbage", NULL},
		{"2026-12-24", NULL},
		{"2026-12-24T16", NULL},
		{"2026-12-24T16:0", NULL},
		{"2026-13-01T00:00:00Z", NULL},
		{"2026-00-01T00:00:00Z", NULL},
		{"2026-02-29T00:00:00Z", NULL},
		{"2100-02-29T00:00:00Z", NULL},
		{"2026-12-32T00:00:00Z", NULL},
		{"0000-01-01T00:00:00Z", NULL},
		{"2026-12-24T24:00:00Z", NULL},
		{"2026-12-24T16:60:00Z", NULL},
		{"2026-12-24T16:00:60Z", NULL},
		{"2026-12-24T16:00:0Z", NULL},
		{"2026-12-24T16:00:00ZZ", NULL},
		{"2026-12-24T16:00:00Z ", NULL},
		{" 2026-12-24T16:00:00Z", NULL},
		{"2026-12-24T16:00:00+1", NULL},
		{"2026-12-24T16:00:00+01:0", NULL},
		{"2026-12-24T16:00:00+01:60", NULL},
		{"2026-12-24T16:00:00+24:00", NULL},
		{"2026-12-24T16:00:00+01:00:00", NULL},
		{"2026-12-24T16:00:00.Z", NULL},
		{"2026-12-24T16:00:00.", NULL},
		{"2026-12-24X16:00:00Z", NULL},
		{"2026/12/24T16:00:00Z", NULL},
		{"20261224T160000Z", NULL},
		{"2026-W52-4T16:00:00Z", NULL},
		{"2026-358T16:00:00Z", NULL},
		{"-2026-12-24T16:00:00Z", NULL},
		{"+2026-12-24T16:00:00Z", NULL},
		{"2026-12-24T16:00:00 +01:00", NULL},
		{"2026-12-24T16:00:00UTC", NULL},
		{"2026-12-24T16:00:00+01:00\n", NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int64_t t = 42;
		int rc = wt_parse_instant(cases[i].s, &t);
		if (cases[i].utc == NULL) {
			if (rc != -1)
				g_error("parse %zu (\"%s\") accepted", i, cases[i].s);
			g_assert_cmpint(t, ==, 42); /* untouched */
		} else {
			if (rc != 0)
				g_error("parse %zu (\"%s\") refused", i, cases[i].s);
			g_assert_cmpint(t, ==, iso(cases[i].utc));
		}
	}
	int64_t t = 42;
	g_assert_cmpint(wt_parse_instant(NULL, &t), ==, -1);
	g_assert_cmpint(t, ==, 42);
	g_assert_cmpint(wt_parse_instant("2026-12-24T16:00:00Z", &t), ==, 0);
	g_assert_cmpint(t, ==, 1798128000);
}

/* The local date of an instant, and the instant a local date starts: the
 * desk's day (digest) and month (allowances) come from these. */
static void test_local_date(void)
{
	static const struct {
		const char *cal, *t;
		int y, m, d;
	} dates[] = {
		{"london", "2026-06-30T22:59:59Z", 2026, 6, 30}, /* BST: 23:59:59 */
		{"london", "2026-06-30T23:00:00Z", 2026, 7, 1},
		{"london", "2026-12-31T23:59:59Z", 2026, 12, 31},
		{"london", "2027-01-01T00:00:00Z", 2027, 1, 1},
		{"kolkata", "2026-11-30T18:29:59Z", 2026, 11, 30}, /* +05:30 */
		{"kolkata", "2026-11-30T18:30:00Z", 2026, 12, 1},
		{"ny-9to5", "2026-12-01T04:59:59Z", 2026, 11, 30},
		{"ny-9to5", "2026-12-01T05:00:00Z", 2026, 12, 1},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(dates); i++) {
		int64_t y;
		int m, d;
		wt_local_date(cal(dates[i].cal), iso(dates[i].t), &y, &m, &d);
		g_test_message("%s %s", dates[i].cal, dates[i].t);
		g_assert_cmpint(y, ==, dates[i].y);
		g_assert_cmpint(m, ==, dates[i].m);
		g_assert_cmpint(d, ==, dates[i].d);
	}
	static const struct {
		const char *cal;
		int y, m, d;
		const char *want;
	} starts[] = {
		{"london", 2026, 7, 1, "2026-06-30T23:00:00Z"},
		{"london", 2026, 12, 1, "2026-12-01T00:00:00Z"},
		{"kolkata", 2026, 12, 1, "2026-11-30T18:30:00Z"},
		{"ny-9to5", 2026, 11, 1, "2026-11-01T04:00:00Z"}, /* EDT that midnight */
		/* Santiago's clocks go from 00:00 -04 to 01:00 -03 on 6 September
		 * 2026: the day starts when the gap ends */
		{"santiago-9to5", 2026, 9, 6, "2026-09-06T04:00:00Z"},
		{"santiago-9to5", 2026, 9, 7, "2026-09-07T03:00:00Z"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(starts); i++) {
		g_test_message("%s %d-%d-%d", starts[i].cal, starts[i].y, starts[i].m, starts[i].d);
		g_assert_cmpint(wt_local_midnight(cal(starts[i].cal), starts[i].y, starts[i].m,
						  starts[i].d),
				==, iso(starts[i].want));
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	make_calendars();
	g_test_add_func("/worktime/accessors", test_accessors);
	g_test_add_func("/worktime/add", test_add);
	g_test_add_func("/worktime/between", test_between);
	g_test_add_func("/worktime/working", test_working);
	g_test_add_func("/worktime/never", test_never);
	g_test_add_func("/worktime/extremes", test_extremes);
	g_test_add_func("/worktime/properties", test_properties);
	g_test_add_func("/worktime/speed", test_speed);
	g_test_add_func("/worktime/invalid", test_invalid);
	g_test_add_func("/worktime/format", test_format);
	g_test_add_func("/worktime/local-date", test_local_date);
	g_test_add_func("/worktime/parse", test_parse);
	int rc = g_test_run();
	for (size_t i = 0; i < G_N_ELEMENTS(cals); i++)
		wt_calendar_free(cals[i]);
	return rc;
}
