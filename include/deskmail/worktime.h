/* worktime.h - working-time arithmetic in a calendar: pure, no I/O.
 *
 * A calendar is a time zone (an IANA identifier, through GLib's GTimeZone),
 * working spans per weekday in local wall time ("09:00-12:30,13:30-17:30";
 * several a day; "" = no work; "24:00" may end a span) and holidays (local
 * dates with no working time).  Instants are Unix seconds (UTC); working
 * time is counted in real seconds inside the spans.
 *
 * Daylight saving: a span is the real interval from its local start to its
 * local end on that date.  A start or end that falls in a gap (clocks go
 * forward) is the instant the gap ends; on a repeated hour (clocks go back)
 * the start is the first occurrence and the end the last, so a span across a
 * change is one hour shorter or longer in real time.  A change at midnight
 * is handled the same way.  Where that makes two spans overlap in real time
 * (one ends at the last 01:00, the next starts at the first), the shared
 * time counts once: working time is the union of the spans.
 *
 * The zone's offsets are read from GLib once, in wt_calendar_new, for
 * 1900..2110; outside those years the offset at the edge stands.  Instants
 * are taken as years 1..9999 UTC (earlier ones clamped, later ones never
 * reached), so nothing overflows near INT64_MIN/INT64_MAX.
 *
 * Nothing here allocates on the arithmetic path but the wt_format
 * functions; a search past WT_HORIZON_DAYS without working time gives
 * WT_NEVER.  A calendar is immutable once built: any number of threads
 * may use it at once. */
#ifndef DESKMAIL_WORKTIME_H
#define DESKMAIL_WORKTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WT_NEVER INT64_MAX
#define WT_HORIZON_DAYS 3660 /* ten years */
#define WT_MAX_SPANS 8       /* spans a day */
#define WT_MAX_HOLIDAYS 2000

typedef struct WtCalendar WtCalendar;

/* Build a calendar.  `week` is Monday..Sunday (week NULL, or an element
 * NULL, "" or blank = no work that day); spans "HH:MM-HH:MM" (two digits
 * each) separated by commas, spaces allowed around them, each start < end,
 * in order and not overlapping (one may start where the last ended); at
 * most WT_MAX_SPANS a day.  Holidays are "YYYY-MM-DD" (valid dates;
 * duplicates allowed; at most WT_MAX_HOLIDAYS).  The time zone must be an
 * IANA name ("Europe/London", "UTC", "Etc/GMT+5"): an unknown one, a file
 * path, an offset ("+01:00") or a POSIX TZ rule ("CET-1CEST,...") is an
 * error (GLib would silently give UTC, or take the rule).  name NULL is "".
 * On error returns NULL and, when err_r is not NULL, a g_malloc'd message
 * in *err_r naming the day or holiday that is wrong, e.g. "tue: span
 * \"17:00-09:00\" ends before it starts", "unknown time zone \"X\"",
 * "holiday \"2026-02-30\" is not a valid date (YYYY-MM-DD)".  Reads the
 * zone file (through GLib) and takes about 2 ms for a zone with daylight
 * saving. */
WtCalendar *wt_calendar_new(const char *name, const char *timezone, const char *const week[7],
			    const char *const *holidays, size_t n_holidays, char **err_r);
/* NULL is fine. */
void wt_calendar_free(WtCalendar *c);

const char *wt_calendar_name(const WtCalendar *c);
const char *wt_calendar_timezone(const WtCalendar *c);
/* Working seconds in an ordinary week (no holidays); 0 = never works. */
int64_t wt_calendar_week_seconds(const WtCalendar *c);

/* The earliest instant u >= t with wt_between(c, t, u) == work (work >= 0).
 * work <= 0 gives t.  A target that ends exactly at a span's end gives that
 * end (17:30), not the next day's start.  WT_NEVER when the calendar has no
 * working time within WT_HORIZON_DAYS of t (or of the last working time
 * reached on the way), or when the target is after year 9999.  Costs a few
 * binary searches per working day crossed; whole weeks without holiday or
 * offset change are stepped over at once. */
int64_t wt_add(const WtCalendar *c, int64_t t, int64_t work);

/* Working seconds in [a, b); 0 when b <= a. */
int64_t wt_between(const WtCalendar *c, int64_t a, int64_t b);

/* Is t inside a working span? */
bool wt_is_working(const WtCalendar *c, int64_t t);

/* t when it is working time, else the start of the next span (WT_NEVER if
 * none within the horizon). */
int64_t wt_next_working(const WtCalendar *c, int64_t t);

/* t in the calendar's zone as people write it, English names whatever the
 * locale: "Monday 28 December, 11:30".  WT_NEVER gives "never".
 * g_malloc'd. */
char *wt_format(const WtCalendar *c, int64_t t);

/* t in the calendar's zone as ISO 8601 with its offset at that instant:
 * "2026-12-28T11:30:00+00:00" (the offset to the minute).  WT_NEVER gives
 * "never".  g_malloc'd. */
char *wt_format_iso(const WtCalendar *c, int64_t t);

/* The local date of t in the calendar's zone. */
void wt_local_date(const WtCalendar *c, int64_t t, int64_t *y_r, int *m_r, int *d_r);

/* The instant a local date starts in the calendar's zone (the end of the
 * gap when its midnight does not exist).  m 1..12, d 1..31. */
int64_t wt_local_midnight(const WtCalendar *c, int64_t y, int m, int d);

/* The civil date of a day number (days since 1970-01-01, proleptic
 * Gregorian; H. Hinnant's algorithm). */
void wt_civil_from_days(int64_t days, int64_t *y_r, int *m_r, int *d_r);

/* Parse an instant: ISO 8601 with a zone ("2026-12-24T16:00:00Z",
 * "...+01:00"), or without one (then in UTC).  Exactly
 * YYYY-MM-DD{T| }HH:MM[:SS[.fraction]][Z|+HH:MM|+HHMM|+HH] ('t', 'z' too;
 * the fraction is dropped); nothing before or after.  0 and *t_r, or -1
 * and *t_r untouched. */
int wt_parse_instant(const char *s, int64_t *t_r);

#endif
