/* worktime.c - working-time arithmetic in a calendar (worktime.h).
 *
 * What it does: at wt_calendar_new() the calendar's zone is read once
 * through GLib (GTimeZone) and turned into a small sorted table of UTC
 * offset changes between 1900 and 2110; after that every function works on
 * that table and on plain integers (local day numbers, seconds in a day),
 * so the arithmetic path allocates nothing, takes no lock, reads no file,
 * and costs a couple of binary searches per working day crossed.  Whole
 * weeks with no holiday and no offset change are stepped over at once, so
 * large amounts of work cost O(weeks), and a stretch without working time
 * costs a few comparisons a day.
 *
 * What it deliberately does not do: no I/O after construction, no logging,
 * no globals but constant tables, no locale (names are English).  Outside
 * 1900..2110 the offset in force at the table's edge is kept (GLib's own
 * rules for far years are not consulted), and instants are clamped to years
 * 1..9999 so that nothing overflows near INT64_MIN/INT64_MAX.
 *
 * Why a table rather than g_time_zone_find_interval() on every call: GLib
 * 2.74 scans its transitions linearly (several hundred for a European
 * zone, expanded from the TZif footer up to far years) and
 * g_time_zone_adjust_time() picks one of two repeated hours without saying
 * which; the table gives both the first and the last occurrence, and the
 * end of a gap, by construction. */
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/worktime.h"

#define DAY 86400
/* Instants handled: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define T_MIN INT64_C(-62135596800)
#define T_MAX INT64_C(253402300799)
/* The offset table covers 1900-01-01 .. 2110-01-01 UTC. */
#define TABLE_LO INT64_C(-2208988800)
#define TABLE_HI INT64_C(4417977600)
/* GLib offsets are bounded well inside this; anything beyond is clamped. */
#define MAX_OFFSET (26 * 3600)
#define MAX_INTERVALS 4096
#define ID_MAX 64

struct WtCalendar {
	char *name;
	char *timezone;
	/* spans[wd][k] = {start, end} in seconds of the local day, Monday = 0 */
	int32_t spans[7][WT_MAX_SPANS][2];
	uint8_t n_spans[7];
	int64_t week_seconds;
	/* sorted, unique local day numbers (days since 1970-01-01) */
	int64_t *holidays;
	size_t n_holidays;
	/* offset intervals: iv_start[0] is INT64_MIN, offset iv_off[k] from
	 * iv_start[k] up to iv_start[k+1] */
	int64_t *iv_start;
	int32_t *iv_off;
	size_t n_iv;
	int32_t off_min, off_max;
};

static const char *const day_abbr[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const day_name[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					"Friday", "Saturday", "Sunday"};
static const char *const month_name[12] = {"January",   "February", "March",    "April",
					   "May",       "June",     "July",     "August",
					   "September", "October",  "November", "December"};

/* ---- integers and the civil calendar ---------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void wt_civil_from_days(int64_t z, int64_t *y_r, int *m_r, int *d_r)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (m <= 2);
	*m_r = m;
	*d_r = d;
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap_year(y) ? 29 : md[m - 1];
}

/* Monday = 0; day 0 (1970-01-01) was a Thursday. */
static int weekday(int64_t day)
{
	return (int)floor_mod(day + 3, 7);
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* ---- the offset table -------------------------------------------------- */

/* The interval holding instant t: the largest k with iv_start[k] <= t. */
static size_t interval_of(const WtCalendar *c, int64_t t)
{
	size_t lo = 0, hi = c->n_iv; /* iv_start[lo] <= t < iv_start[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->iv_start[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int32_t offset_at(const WtCalendar *c, int64_t t)
{
	return c->iv_off[interval_of(c, t)];
}

static int64_t iv_end(const WtCalendar *c, size_t k)
{
	return k + 1 < c->n_iv ? c->iv_start[k + 1] : INT64_MAX;
}

/* Local wall time L (local seconds since 1970-01-01 00:00 local) to the
 * instant.  Repeated: the first occurrence, or the last with `latest`.  In a
 * gap: the instant the gap ends.  |L| stays below 2^39, so nothing here
 * overflows. */
static int64_t local_to_utc(const WtCalendar *c, int64_t L, bool latest)
{
	size_t ka = interval_of(c, L - c->off_max);
	size_t kb = interval_of(c, L - c->off_min);
	bool found = false;
	int64_t best = 0;
	for (size_t k = ka; k <= kb; k++) {
		int64_t u = L - c->iv_off[k];
		if (u >= c->iv_start[k] && u < iv_end(c, k)) {
			if (!found || latest)
				best = u;
			found = true;
			if (!latest)
				break;
		}
	}
	if (found)
		return best;
	/* A gap: L lies before the local start of some interval in (ka, kb]
	 * and after the local end of the one before; it maps to that start. */
	for (size_t k = ka + 1; k <= kb; k++)
		if (L < c->iv_start[k] + c->iv_off[k])
			return c->iv_start[k];
	return L - c->iv_off[kb]; /* not reached with a well-formed table */
}

static int64_t local_day_of(const WtCalendar *c, int64_t t)
{
	return floor_div(t + offset_at(c, t), DAY);
}

static void table_push(int64_t **start, int32_t **off, size_t *n, size_t *cap, int64_t s, int32_t o)
{
	if (*n > 0 && (*off)[*n - 1] == o)
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*start = g_renew(int64_t, *start, *cap);
		*off = g_renew(int32_t, *off, *cap);
	}
	(*start)[*n] = s;
	(*off)[*n] = o;
	(*n)++;
}

static int32_t glib_offset(GTimeZone *tz, int64_t t)
{
	gint iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, t);
	return (int32_t)clamp64(g_time_zone_get_offset(tz, iv), -MAX_OFFSET, MAX_OFFSET);
}

/* Walk GLib's intervals from TABLE_LO to TABLE_HI: probe 200 days ahead,
 * and where the interval index changed, bisect for the first second of
 * the next interval (GLib's index only grows with time). */
static void build_table(WtCalendar *c, GTimeZone *tz)
{
	size_t cap = 0;
	int64_t t = TABLE_LO;
	gint iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, t);
	table_push(&c->iv_start, &c->iv_off, &c->n_iv, &cap, INT64_MIN, glib_offset(tz, t));
	while (t < TABLE_HI && c->n_iv < MAX_INTERVALS) {
		int64_t probe = MIN(t + 200 * (int64_t)DAY, TABLE_HI);
		if (g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, probe) == iv) {
			t = probe;
			continue;
		}
		int64_t lo = t, hi = probe; /* index(lo) == iv != index(hi) */
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			if (g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, mid) == iv)
				lo = mid;
			else
				hi = mid;
		}
		iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, hi);
		table_push(&c->iv_start, &c->iv_off, &c->n_iv, &cap, hi, glib_offset(tz, hi));
		t = hi;
	}
	c->off_min = c->off_max = c->iv_off[0];
	for (size_t k = 1; k < c->n_iv; k++) {
		c->off_min = MIN(c->off_min, c->iv_off[k]);
		c->off_max = MAX(c->off_max, c->iv_off[k]);
	}
}

/* ---- construction ------------------------------------------------------ */

/* Up to 40 characters of untrusted text for an error message, with
 * anything unprintable shown as '?'. */
static void quote_into(char out[48], const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < 40; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (len > 40) {
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n] = '\0';
}

G_GNUC_PRINTF(2, 3) static void set_err(char **err_r, const char *fmt, ...)
{
	if (err_r == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	*err_r = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* An IANA name only: letters, digits, '_', '-', '+' in '/'-separated
 * parts, none starting with '.'; no absolute path, no "..".  GLib would
 * also take POSIX TZ rule strings ("Foo5") and file paths: a typo must not
 * become a zone.  A name without '/' and with a digit must be one of the
 * legacy IANA names below. */
static bool tz_name_ok(const char *id)
{
	static const char *const legacy[] = {"EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT",
					     "GMT0",    "GMT+0",   "GMT-0"};
	size_t len = strlen(id);
	if (len == 0 || len > ID_MAX)
		return false;
	bool slash = false, digit = false, part_start = true;
	for (const char *p = id; *p; p++) {
		char ch = *p;
		if (ch == '/') {
			if (part_start)
				return false;
			slash = true;
			part_start = true;
			continue;
		}
		bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
		bool dig = ch >= '0' && ch <= '9';
		if (part_start && !alpha)
			return false;
		if (!alpha && !dig && ch != '_' && ch != '-' && ch != '+')
			return false;
		digit |= dig;
		part_start = false;
	}
	if (part_start)
		return false;
	if (!slash && digit) {
		for (size_t i = 0; i < G_N_ELEMENTS(legacy); i++)
			if (strcmp(id, legacy[i]) == 0)
				return true;
		return false;
	}
	return true;
}

/* "HH:MM" into seconds; 24:00 only when `end`.  -1 when invalid. */
static int parse_hhmm(const char *s, bool end)
{
	int h = digits(s, 2), m = digits(s + 3, 2);
	if (h < 0 || m < 0 || s[2] != ':')
		return -2; /* shape */
	if (h == 24 && m == 0 && end)
		return DAY;
	if (h > 23 || m > 59)
		return -1;
	return h * 3600 + m * 60;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int parse_day(WtCalendar *c, int wd, const char *s, char **err_r)
{
	const char *day = day_abbr[wd];
	char q[48];
	int n = 0;
	if (s == NULL)
		return 0;
	const char *p = s;
	while (is_blank(*p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && is_blank(*a))
			a++;
		while (b > a && is_blank(b[-1]))
			b--;
		size_t len = (size_t)(b - a);
		if (len == 0) {
			set_err(err_r, "%s: empty span", day);
			return -1;
		}
		quote_into(q, a, len);
		if (n == WT_MAX_SPANS) {
			set_err(err_r, "%s: more than %d spans", day, WT_MAX_SPANS);
			return -1;
		}
		int st = -2, en = -2;
		if (len == 11 && a[5] == '-') {
			st = parse_hhmm(a, false);
			en = parse_hhmm(a + 6, true);
		}
		if (st == -2 || en == -2) {
			set_err(err_r, "%s: span \"%s\" is not HH:MM-HH:MM", day, q);
			return -1;
		}
		if (st < 0 || en < 0) {
			set_err(err_r, "%s: span \"%s\" has an invalid time", day, q);
			return -1;
		}
		if (en < st) {
			set_err(err_r, "%s: span \"%s\" ends before it starts", day, q);
			return -1;
		}
		if (en == st) {
			set_err(err_r, "%s: span \"%s\" is empty", day, q);
			return -1;
		}
		if (n > 0 && st < c->spans[wd][n - 1][1]) {
			set_err(err_r, "%s: span \"%s\" starts before the previous one ends", day,
				q);
			return -1;
		}
		c->spans[wd][n][0] = st;
		c->spans[wd][n][1] = en;
		n++;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	c->n_spans[wd] = (uint8_t)n;
	return 0;
}

static int parse_date(const char *s, int64_t *day_r)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return -1;
	*day_r = days_from_civil(y, m, d);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

WtCalendar *wt_calendar_new(const char *name, const char *timezone, const char *const week[7],
			    const char *const *holidays, size_t n_holidays, char **err_r)
{
	char q[48];
	if (err_r)
		*err_r = NULL;
	if (timezone == NULL || *timezone == '\0') {
		set_err(err_r, "no time zone");
		return NULL;
	}
	if (n_holidays > WT_MAX_HOLIDAYS) {
		set_err(err_r, "too many holidays: %zu (at most %d)", n_holidays, WT_MAX_HOLIDAYS);
		return NULL;
	}
	if (n_holidays > 0 && holidays == NULL) {
		set_err(err_r, "holidays missing");
		return NULL;
	}
	GTimeZone *tz = tz_name_ok(timezone) ? g_time_zone_new_identifier(timezone) : NULL;
	if (tz == NULL) {
		quote_into(q, timezone, strlen(timezone));
		set_err(err_r, "unknown time zone \"%s\"", q);
		return NULL;
	}

	WtCalendar *c = g_new0(WtCalendar, 1);
	for (int wd = 0; wd < 7; wd++) {
		if (parse_day(c, wd, week ? week[wd] : NULL, err_r) < 0)
			goto fail;
		for (int k = 0; k < c->n_spans[wd]; k++)
			c->week_seconds += c->spans[wd][k][1] - c->spans[wd][k][0];
	}
	c->holidays = g_new(int64_t, n_holidays ? n_holidays : 1);
	for (size_t i = 0; i < n_holidays; i++) {
		if (holidays[i] == NULL) {
			set_err(err_r, "holiday %zu missing", i + 1);
			goto fail;
		}
		if (parse_date(holidays[i], &c->holidays[i]) < 0) {
			quote_into(q, holidays[i], strlen(holidays[i]));
			set_err(err_r, "holiday \"%s\" is not a valid date (YYYY-MM-DD)", q);
			goto fail;
		}
	}
	qsort(c->holidays, n_holidays, sizeof *c->holidays, cmp_i64);
	for (size_t i = 0; i < n_holidays; i++)
		if (c->n_holidays == 0 || c->holidays[c->n_holidays - 1] != c->holidays[i])
			c->holidays[c->n_holidays++] = c->holidays[i];

	build_table(c, tz);
	g_time_zone_unref(tz);
	c->name = g_strdup(name ? name : "");
	c->timezone = g_strdup(timezone);
	return c;
fail:
	g_time_zone_unref(tz);
	wt_calendar_free(c);
	return NULL;
}

void wt_calendar_free(WtCalendar *c)
{
	if (c == NULL)
		return;
	g_free(c->name);
	g_free(c->timezone);
	g_free(c->holidays);
	g_free(c->iv_start);
	g_free(c->iv_off);
	g_free(c);
}

const char *wt_calendar_name(const WtCalendar *c)
{
	return c->name;
}

const char *wt_calendar_timezone(const WtCalendar *c)
{
	return c->timezone;
}

int64_t wt_calendar_week_seconds(const WtCalendar *c)
{
	return c->week_seconds;
}

/* ---- the sweep ----------------------------------------------------------- */

/* Index of the first holiday >= day. */
static size_t holiday_from(const WtCalendar *c, int64_t day)
{
	size_t lo = 0, hi = c->n_holidays;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A day's span k as a real interval [*s_r, *e_r) (empty when in a gap). */
static void span_real(const WtCalendar *c, int64_t day, int wd, int k, int64_t *s_r, int64_t *e_r)
{
	int64_t base = day * DAY;
	*s_r = local_to_utc(c, base + c->spans[wd][k][0], false);
	*e_r = local_to_utc(c, base + c->spans[wd][k][1], true);
}

/* Can the seven days from `day` be taken whole?  True when none is a
 * holiday (h: the first holiday >= day) and one offset holds from a day
 * before to a day after; then *start_r and *end_r are the real instants
 * of local midnight at `day` and `day + 7`, and the week's spans add up to
 * exactly week_seconds. */
static bool plain_week(const WtCalendar *c, int64_t day, size_t h, int64_t *start_r, int64_t *end_r)
{
	if (h < c->n_holidays && c->holidays[h] < day + 7)
		return false;
	int64_t u0 = day * DAY - c->off_max - DAY, u1 = (day + 8) * DAY - c->off_min + DAY;
	size_t k = interval_of(c, u0);
	if (iv_end(c, k) <= u1)
		return false;
	*start_r = day * DAY - c->iv_off[k];
	*end_r = (day + 7) * DAY - c->iv_off[k];
	return true;
}

#define DAY_LAST (T_MAX / DAY + 2)

int64_t wt_add(const WtCalendar *c, int64_t t, int64_t work)
{
	if (work <= 0)
		return t;
	if (t > T_MAX || c->week_seconds == 0)
		return WT_NEVER;
	t = MAX(t, T_MIN);
	int64_t day = local_day_of(c, t) - 1;
	size_t h = holiday_from(c, day);
	int64_t cursor = t, rem = work, idle = 0;
	for (; day <= DAY_LAST; day++) {
		while (h < c->n_holidays && c->holidays[h] < day)
			h++;
		int64_t ws, we;
		while (day <= DAY_LAST && rem > c->week_seconds &&
		       plain_week(c, day, h, &ws, &we) && cursor <= ws) {
			rem -= c->week_seconds;
			cursor = we;
			day += 7;
			idle = 0;
			while (h < c->n_holidays && c->holidays[h] < day)
				h++;
		}
		bool worked = false;
		if (!(h < c->n_holidays && c->holidays[h] == day)) {
			int wd = weekday(day);
			for (int k = 0; k < c->n_spans[wd]; k++) {
				int64_t s, e;
				span_real(c, day, wd, k, &s, &e);
				int64_t lo = MAX(s, cursor);
				if (e <= lo)
					continue;
				worked = true;
				if (e - lo >= rem)
					return lo + rem > T_MAX ? WT_NEVER : lo + rem;
				rem -= e - lo;
				cursor = e;
			}
		}
		if (worked)
			idle = 0;
		else if (++idle > WT_HORIZON_DAYS)
			return WT_NEVER;
	}
	return WT_NEVER;
}

int64_t wt_between(const WtCalendar *c, int64_t a, int64_t b)
{
	a = clamp64(a, T_MIN, T_MAX + 1);
	b = clamp64(b, T_MIN, T_MAX + 1);
	if (b <= a || c->week_seconds == 0)
		return 0;
	int64_t day = local_day_of(c, a) - 1, last = local_day_of(c, b) + 1;
	size_t h = holiday_from(c, day);
	int64_t cursor = a, total = 0;
	for (; day <= last; day++) {
		while (h < c->n_holidays && c->holidays[h] < day)
			h++;
		int64_t ws, we;
		while (plain_week(c, day, h, &ws, &we) && cursor <= ws && we <= b) {
			total += c->week_seconds;
			cursor = we;
			day += 7;
			while (h < c->n_holidays && c->holidays[h] < day)
				h++;
		}
		if (h < c->n_holidays && c->holidays[h] == day)
			continue;
		int wd = weekday(day);
		for (int k = 0; k < c->n_spans[wd]; k++) {
			int64_t s, e;
			span_real(c, day, wd, k, &s, &e);
			if (s >= b)
				return total;
			int64_t lo = MAX(s, cursor), hi = MIN(e, b);
			if (hi > lo) {
				total += hi - lo;
				cursor = hi;
			}
		}
	}
	return total;
}

bool wt_is_working(const WtCalendar *c, int64_t t)
{
	if (t < T_MIN || t > T_MAX)
		return false;
	int64_t d0 = local_day_of(c, t);
	size_t h = holiday_from(c, d0 - 1);
	for (int64_t day = d0 - 1; day <= d0 + 1; day++) {
		while (h < c->n_holidays && c->holidays[h] < day)
			h++;
		if (h < c->n_holidays && c->holidays[h] == day)
			continue;
		int wd = weekday(day);
		for (int k = 0; k < c->n_spans[wd]; k++) {
			int64_t s, e;
			span_real(c, day, wd, k, &s, &e);
			if (s <= t && t < e)
				return true;
		}
	}
	return false;
}

int64_t wt_next_working(const WtCalendar *c, int64_t t)
{
	/* the instant the first working second after t begins */
	int64_t u = wt_add(c, MAX(t, T_MIN), 1);
	return u == WT_NEVER ? WT_NEVER : MAX(u - 1, t);
}

/* ---- formatting and parsing ------------------------------------------- */

static void local_fields(const WtCalendar *c, int64_t t, int64_t *day_r, int *sec_r, int *off_r)
{
	t = clamp64(t, T_MIN, T_MAX);
	int32_t off = offset_at(c, t);
	int64_t L = t + off;
	*day_r = floor_div(L, DAY);
	*sec_r = (int)floor_mod(L, DAY);
	*off_r = off;
}

void wt_local_date(const WtCalendar *c, int64_t t, int64_t *y_r, int *m_r, int *d_r)
{
	int64_t day;
	int sec, off;
	local_fields(c, t, &day, &sec, &off);
	wt_civil_from_days(day, y_r, m_r, d_r);
}

int64_t wt_local_midnight(const WtCalendar *c, int64_t y, int m, int d)
{
	return local_to_utc(c, days_from_civil(y, m, d) * DAY, false);
}

char *wt_format(const WtCalendar *c, int64_t t)
{
	if (t == WT_NEVER)
		return g_strdup("never");
	int64_t day, y;
	int sec, off, m, d;
	local_fields(c, t, &day, &sec, &off);
	wt_civil_from_days(day, &y, &m, &d);
	return g_strdup_printf("%s %d %s, %02d:%02d", day_name[weekday(day)], d, month_name[m - 1],
			       sec / 3600, sec / 60 % 60);
}

char *wt_format_iso(const WtCalendar *c, int64_t t)
{
	if (t == WT_NEVER)
		return g_strdup("never");
	int64_t day, y;
	int sec, off, m, d;
	local_fields(c, t, &day, &sec, &off);
	wt_civil_from_days(day, &y, &m, &d);
	int aoff = off < 0 ? -off : off;
	/* an offset with seconds (old LMT) is written to the minute, as
	 * RFC 3339 has no seconds there */
	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int)y, m, d, sec / 3600,
			       sec / 60 % 60, sec % 60, off < 0 ? '-' : '+', aoff / 3600,
			       aoff / 60 % 60);
}

/* YYYY-MM-DD{T|t| }HH:MM[:SS[.fraction]][Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM|+HH|-HH];
 * without a zone the time is UTC.  Fractions are dropped (whole seconds). */
int wt_parse_instant(const char *s, int64_t *t_r)
{
	if (s == NULL)
		return -1;
	size_t len = strlen(s);
	if (len < 16 || len > 64)
		return -1;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int hh = digits(s + 11, 2), mi = digits(s + 14, 2), ss = 0;
	if (y < 1 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo))
		return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	if (hh < 0 || hh > 23 || s[13] != ':' || mi < 0 || mi > 59)
		return -1;
	const char *p = s + 16;
	if (*p == ':') {
		ss = digits(p + 1, 2);
		if (ss < 0 || ss > 59)
			return -1;
		p += 3;
		if (*p == '.' || *p == ',') {
			p++;
			if (*p < '0' || *p > '9')
				return -1;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		int oh = digits(p + 1, 2), om = 0;
		if (oh < 0 || oh > 23)
			return -1;
		p += 3;
		if (*p == ':') {
			om = digits(p + 1, 2);
			if (om < 0)
				return -1;
			p += 3;
		} else if (*p >= '0' && *p <= '9') {
			om = digits(p, 2);
			if (om < 0)
				return -1;
			p += 2;
		}
		if (om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return -1;
	*t_r = days_from_civil(y, mo, d) * DAY + hh * 3600 + mi * 60 + ss - off;
	return 0;
}
