/* test_sla.c - the service-level clocks, against numbers worked out by hand.
 *
 * The calendar of every case: Europe/London, Monday to Friday
 * 09:00-12:30 and 13:30-17:30 (7 h 30 min a day), holidays Friday
 * 2026-12-25, Monday 2026-12-28 and Friday 2027-01-01; British Summer Time
 * ends on Sunday 2026-10-25 (before: London = UTC+1, after: UTC).  The plan
 * is silver-like: first response 4 h; severe 8 h, high 24 h, medium 32 h,
 * low 80 h, enhancement none; resolution 48 h; line 1 7 h 30 min of
 * working time and at most 12 h elapsed; line 2 48 h; follow-up 16 h; at
 * risk at 75 % (first response 3 h, high 18 h, severe 6 h, 48 h -> 36 h,
 * line 1 5 h 37 min 30 s or 9 h elapsed, follow-up 12 h).
 *
 * Each case gives its arithmetic in a comment: W = working hours counted,
 * "Mon 7.5" = a whole day.  Instants are UTC ("Z"); in winter they are
 * London's wall time too. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/sla.h"

static WtCalendar *cal;

static const CfgPlan silver = {
	.name = "silver",
	.first_response_minutes = 240,
	.resolution_minutes = 2880,
	.severity_minutes = {[CFG_SEV_SEVERE] = 480,
			     [CFG_SEV_HIGH] = 1440,
			     [CFG_SEV_MEDIUM] = 1920,
			     [CFG_SEV_LOW] = 4800,
			     [CFG_SEV_ENHANCEMENT] = 0},
	.line1_minutes = 450,
	.line1_max_elapsed_minutes = 720,
	.line2_minutes = 2880,
	.line2_max_elapsed_minutes = 0,
	.follow_up_minutes = 960,
	.at_risk_percent = 75,
};

#define SAM "sam@agency.example"
#define JO "jo@agency.example"

static int64_t T(const char *iso)
{
	int64_t t = 0;
	if (wt_parse_instant(iso, &t) != 0)
		g_error("bad instant in the table: %s", iso);
	return t;
}

/* "H:MM" or "H:MM:SS" -> seconds */
static int64_t D(const char *s)
{
	unsigned h = 0, m = 0, sec = 0;
	int n = sscanf(s, "%u:%u:%u", &h, &m, &sec);
	g_assert_cmpint(n, >=, 2);
	return (int64_t)h * 3600 + m * 60 + sec;
}

typedef struct {
	const char *at;
	SlaEventKind kind;
	const char *before, *after, *actor;
} Ev;

enum { ANY, NO, YES };
#define NP(n) ((n) + 1) /* n pauses; 0 = not checked */

typedef struct {
	bool check;
	SlaState state;
	const char *used, *used_elapsed, *target;       /* "H:MM"; NULL: not checked */
	const char *due, *breached, *risk, *stopped_at; /* ISO, "none" = 0; NULL: not checked */
	int at_risk;                                    /* ANY, NO, YES */
	int n_pauses;                                   /* NP(n); 0: not checked */
	const char *last_pause[3];                      /* from, to ("none"), status */
	const char *changes[7];                         /* when set: exactly these */
} Expect;

typedef struct {
	const char *name;
	const char *created, *line_since, *now; /* line_since NULL: created */
	const char *severity;                   /* the current one */
	int line;                               /* 0: 1 */
	bool no_plan;
	Ev ev[8];
	Expect ex[SLA_N_CLOCKS];
} Case;

#define FR SLA_FIRST_RESPONSE
#define RES SLA_RESOLUTION
#define LINE SLA_LINE
#define FU SLA_FOLLOW_UP
#define ST(k, b, a)                                                                                \
	{                                                                                          \
		k, SLA_EV_STATUS, b, a, "deskmail"                                                 \
	}
#define SEV(k, b, a)                                                                               \
	{                                                                                          \
		k, SLA_EV_SEVERITY, b, a, SAM                                                      \
	}
#define RESP(k, who)                                                                               \
	{                                                                                          \
		k, SLA_EV_RESPONSE, NULL, NULL, who                                                \
	}

static const Case cases[] = {
	/* Friday 19:00, out of hours: nothing counts before Monday 09:00.
	 * now Mon 10:00: W 1.  FR 4 h: Mon 3.5 to 12:30, 0.5 from 13:30.
	 * 48 h = 6 days (Mon 9 .. Mon 16) + 3 h: Tue 17 12:00; 36 h = 4 days
	 * + 6 h: Fri 13 3.5 + 2.5 from 13:30 = 16:00.  Line: 12 h elapsed
	 * from Fri 19:00 = Sat 07:00 (before Mon 17:30, the 7.5 working
	 * hours), 9 h = Sat 04:00.  Follow-up 16 h: Mon, Tue, Wed 1 h; 12 h:
	 * Mon, Tue 3.5 + 1 = 14:30. */
	{"arrival out of hours",
	 "2026-11-06T19:00:00Z",
	 NULL,
	 "2026-11-09T10:00:00Z",
	 NULL,
	 1,
	 false,
	 {{NULL}},
	 {[FR] = {true,
		  SLA_RUNNING,
		  "1:00",
		  "63:00",
		  "4:00",
		  "2026-11-09T14:00:00Z",
		  "none",
		  "2026-11-09T12:00:00Z",
		  "none",
		  NO,
		  NP(0),
		  {NULL},
		  {"2026-11-06 19:00 created: target 4 h"}},
	  [RES] = {true, SLA_RUNNING, "1:00", NULL, "48:00", "2026-11-17T12:00:00Z", "none",
		   "2026-11-13T16:00:00Z", "none", NO},
	  [LINE] = {true,
		    SLA_BREACHED,
		    "1:00",
		    "63:00",
		    "7:30",
		    "2026-11-07T07:00:00Z",
		    "2026-11-07T07:00:00Z",
		    "2026-11-07T04:00:00Z",
		    "none",
		    NO,
		    NP(0),
		    {NULL},
		    {"2026-11-06 19:00 created: target 7 h 30 min or 12 h elapsed"}},
	  [FU] = {true, SLA_RUNNING, "1:00", NULL, "16:00", "2026-11-11T10:00:00Z", "none",
		  "2026-11-10T14:30:00Z", "none", NO}}},

	/* Thursday 24 December 16:00: Thu 1.5, then Fri 25 and Mon 28 are
	 * holidays.  FR: 2.5 on Tue 29 = 11:30; 3 h = Tue 10:30, which is
	 * now: at risk.  48 h: Thu 1.5, Tue 29, Wed 30, Thu 31 (24), Fri 1 Jan
	 * holiday, Mon 4, Tue 5, Wed 6 (46.5), Thu 7 1.5 = 10:30; 36 h: 31.5
	 * by Mon 4, Tue 5 3.5 + 1 = 14:30.  Line: Fri 25 04:00 elapsed. */
	{"before a holiday, at risk",
	 "2026-12-24T16:00:00Z",
	 NULL,
	 "2026-12-29T10:30:00Z",
	 NULL,
	 1,
	 false,
	 {{NULL}},
	 {[FR] = {true, SLA_RUNNING, "3:00", NULL, NULL, "2026-12-29T11:30:00Z", "none",
		  "2026-12-29T10:30:00Z", "none", YES},
	  [RES] = {true, SLA_RUNNING, "3:00", NULL, NULL, "2027-01-07T10:30:00Z", "none",
		   "2027-01-05T14:30:00Z", "none", NO},
	  [LINE] = {true, SLA_BREACHED, NULL, NULL, NULL, "2026-12-25T04:00:00Z",
		    "2026-12-25T04:00:00Z"}}},

	/* The same at Tue 12:00: W 1.5 + 3 = 4.5, FR breached at 11:30.
	 * Follow-up 16 h: Thu 1.5, Tue 7.5, Wed 30 7 = 3.5 + 3.5 = 17:00. */
	{"before a holiday, breached",
	 "2026-12-24T16:00:00Z",
	 NULL,
	 "2026-12-29T12:00:00Z",
	 NULL,
	 1,
	 false,
	 {{NULL}},
	 {[FR] = {true, SLA_BREACHED, "4:30", NULL, NULL, "2026-12-29T11:30:00Z",
		  "2026-12-29T11:30:00Z", "2026-12-29T10:30:00Z", "none", NO},
	  [FU] = {true, SLA_RUNNING, "4:30", NULL, NULL, "2026-12-30T17:00:00Z", "none"}}},

	/* Friday 23 October 15:00Z = 16:00 BST: Fri 16:00-17:30 BST = 1.5
	 * (not 2.5 as in UTC).  Summer time ends Sunday; Monday 26 09:00 is
	 * 09:00Z.  now Mon 09:30Z: W 2, elapsed 66.5 h.  FR: 2.5 more on Mon
	 * = 11:30Z; 3 h = 10:30Z.  48 h: Fri 1.5, Mon 26 .. Fri 30 (39), Mon 2
	 * Nov (46.5), Tue 3 1.5 = 10:30.  The change line is in London time. */
	{"across the end of summer time",
	 "2026-10-23T15:00:00Z",
	 NULL,
	 "2026-10-26T09:30:00Z",
	 NULL,
	 1,
	 false,
	 {{NULL}},
	 {[FR] = {true,
		  SLA_RUNNING,
		  "2:00",
		  "66:30",
		  NULL,
		  "2026-10-26T11:30:00Z",
		  "none",
		  "2026-10-26T10:30:00Z",
		  "none",
		  NO,
		  NP(0),
		  {NULL},
		  {"2026-10-23 16:00 created: target 4 h"}},
	  [RES] = {true, SLA_RUNNING, "2:00", "66:30", NULL, "2026-11-03T10:30:00Z", "none"},
	  [LINE] = {true, SLA_BREACHED, "2:00", "66:30", NULL, "2026-10-24T03:00:00Z",
		    "2026-10-24T03:00:00Z"}}},

	/* Thu 12 November 10:00, high (24 h).  Awaiting the client from Fri
	 * 11:00 to Mon 14:00.  Run: Thu 2.5 + 4 = 6.5, Fri 2 (8.5); Mon 3.5,
	 * Tue 1 (13).  Elapsed: 25 + 20 = 45 h.  Due from Mon 14:00 with 8.5
	 * used: 15.5 = Mon 3.5, Tue 7.5, Wed 3.5 + 1 = 14:30; 18 h: 9.5 = Mon
	 * 3.5, Tue 3.5 + 2.5 = 16:00.  FR 4 h: Thu 2.5 + 1.5 = 15:00 (no
	 * response: breached).  Line: 12 h elapsed = Thu 22:00.  Follow-up
	 * 16 h: 7.5 after Mon 14:00 = Mon 3.5, Tue 3.5 + 0.5 = 14:00; 12 h:
	 * 3.5 = Mon 17:30, passed: at risk. */
	{"paused over a weekend, resumed",
	 "2026-11-12T10:00:00Z",
	 NULL,
	 "2026-11-17T10:00:00Z",
	 "high",
	 1,
	 false,
	 {ST("2026-11-13T11:00:00Z", "open", "awaiting-client"),
	  ST("2026-11-16T14:00:00Z", "awaiting-client", "open")},
	 {[FR] = {true, SLA_BREACHED, "13:00", NULL, NULL, "2026-11-12T15:00:00Z",
		  "2026-11-12T15:00:00Z", NULL, "none", NO},
	  [RES] = {true,
		   SLA_RUNNING,
		   "13:00",
		   "45:00",
		   "24:00",
		   "2026-11-18T14:30:00Z",
		   "none",
		   "2026-11-17T16:00:00Z",
		   "none",
		   NO,
		   NP(1),
		   {"2026-11-13T11:00:00Z", "2026-11-16T14:00:00Z", "awaiting-client"},
		   {"2026-11-12 10:00 created: target 24 h",
		    "2026-11-13 11:00 status open -> awaiting-client: paused",
		    "2026-11-16 14:00 status awaiting-client -> open: resumed"}},
	  [LINE] = {true, SLA_BREACHED, NULL, "45:00", NULL, "2026-11-12T22:00:00Z",
		    "2026-11-12T22:00:00Z"},
	  [FU] = {true, SLA_RUNNING, "13:00", NULL, NULL, "2026-11-17T14:00:00Z", "none",
		  "2026-11-16T17:30:00Z", "none", YES}}},

	/* The same on Saturday 12:00, still paused: no due, no at-risk
	 * instant; the first response stays breached while paused. */
	{"paused over a weekend, still paused",
	 "2026-11-12T10:00:00Z",
	 NULL,
	 "2026-11-14T12:00:00Z",
	 "high",
	 1,
	 false,
	 {ST("2026-11-13T11:00:00Z", "open", "awaiting-client")},
	 {[FR] = {true, SLA_BREACHED, "8:30", NULL, NULL, "none", "2026-11-12T15:00:00Z", "none"},
	  [RES] = {true,
		   SLA_PAUSED,
		   "8:30",
		   "25:00",
		   NULL,
		   "none",
		   "none",
		   "none",
		   "none",
		   NO,
		   NP(1),
		   {"2026-11-13T11:00:00Z", "none", "awaiting-client"}},
	  [FU] = {true, SLA_PAUSED, "8:30", NULL, NULL, "none", "none", "none"}}},

	/* Mon 9 November 09:00; FR due 14:00 (3.5 + 0.5), and at 14:00 the
	 * ticket waits for the client: the target is reached at the pause,
	 * which is a breach (<= the stop of counting). */
	{"paused at the moment of breach",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T12:00:00Z",
	 NULL,
	 1,
	 false,
	 {ST("2026-11-09T14:00:00Z", "open", "awaiting-client")},
	 {[FR] = {true,
		  SLA_BREACHED,
		  "4:00",
		  "5:00",
		  NULL,
		  "none",
		  "2026-11-09T14:00:00Z",
		  "none",
		  "none",
		  NO,
		  NP(1),
		  {"2026-11-09T14:00:00Z", "none", "awaiting-client"}}}},

	/* Resumed Tue 09:00, now 10:00: W 4 + 1.  The FR due is the breach
	 * (reached before the resumption), its at-risk instant Mon 12:00.
	 * Resolution 48 h from Tue 09:00 with 4 used: 44 = Tue .. Mon 16
	 * (41.5), Tue 17 3.5 + 3 = 16:30. */
	{"breached while paused, resumed",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T10:00:00Z",
	 NULL,
	 1,
	 false,
	 {ST("2026-11-09T14:00:00Z", "open", "awaiting-client"),
	  ST("2026-11-10T09:00:00Z", "awaiting-client", "open")},
	 {[FR] = {true, SLA_BREACHED, "5:00", NULL, NULL, "2026-11-09T14:00:00Z",
		  "2026-11-09T14:00:00Z", "2026-11-09T12:00:00Z", "none", NO},
	  [RES] = {true, SLA_RUNNING, "5:00", NULL, NULL, "2026-11-17T16:30:00Z", "none"}}},

	/* Mon 09:00 medium (32 h), high (24 h) from Tue 09:00; now Tue 12:00:
	 * W 7.5 + 3 kept.  24 h from Mon: Mon, Tue, Wed (22.5), Thu 1.5 =
	 * 10:30; 18 h: Wed 3 = 12:00. */
	{"severity raised mid-way",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T12:00:00Z",
	 "high",
	 1,
	 false,
	 {SEV("2026-11-10T09:00:00Z", "medium", "high")},
	 {[RES] = {true,
		   SLA_RUNNING,
		   "10:30",
		   NULL,
		   "24:00",
		   "2026-11-12T10:30:00Z",
		   "none",
		   "2026-11-11T12:00:00Z",
		   "none",
		   NO,
		   NP(0),
		   {NULL},
		   {"2026-11-09 09:00 created: target 32 h",
		    "2026-11-10 09:00 severity medium -> high: target 24 h"}}}},

	/* Severe (8 h) from Tue 11:00: 8 h were used by Tue 09:30 (Mon 7.5 +
	 * 0.5), before the change: breached then; 6 h = Mon 3.5 + 2.5 =
	 * 16:00. */
	{"severity raised to severe, already past",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T12:00:00Z",
	 "severe",
	 1,
	 false,
	 {SEV("2026-11-10T11:00:00Z", "medium", "severe")},
	 {[RES] = {true,
		   SLA_BREACHED,
		   "10:30",
		   NULL,
		   "8:00",
		   "2026-11-10T09:30:00Z",
		   "2026-11-10T09:30:00Z",
		   "2026-11-09T16:00:00Z",
		   "none",
		   NO,
		   NP(0),
		   {NULL},
		   {"2026-11-09 09:00 created: target 32 h",
		    "2026-11-10 11:00 severity medium -> severe: target 8 h"}}}},

	/* Enhancement: no target; the time used is still reported. */
	{"severity to enhancement",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T12:00:00Z",
	 "enhancement",
	 1,
	 false,
	 {SEV("2026-11-10T09:00:00Z", "medium", "enhancement")},
	 {[RES] = {true,
		   SLA_NONE,
		   "10:30",
		   "27:00",
		   "0:00",
		   "none",
		   "none",
		   "none",
		   "none",
		   NO,
		   NP(0),
		   {NULL},
		   {"2026-11-09 09:00 created: target 32 h",
		    "2026-11-10 09:00 severity medium -> enhancement: no target"}}}},

	/* Sam answers Mon 11:00: FR met with W 2, keeping its due 14:00 and
	 * at-risk 12:00 (after the stop).  Follow-up from 11:00: Mon 1.5 + 4,
	 * Tue 3 = 8.5; 16 h = Mon 5.5, Tue 7.5, Wed 3 = 12:00; 12 h = Tue
	 * 3.5 + 3 = 16:30. */
	{"first response met",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T12:00:00Z",
	 NULL,
	 1,
	 false,
	 {RESP("2026-11-09T11:00:00Z", SAM)},
	 {[FR] = {true,
		  SLA_MET,
		  "2:00",
		  "2:00",
		  NULL,
		  "2026-11-09T14:00:00Z",
		  "none",
		  "2026-11-09T12:00:00Z",
		  "2026-11-09T11:00:00Z",
		  NO,
		  NP(0),
		  {NULL},
		  {"2026-11-09 09:00 created: target 4 h",
		   "2026-11-09 11:00 response by sam@agency.example: stopped"}},
	  [FU] = {true,
		  SLA_RUNNING,
		  "8:30",
		  NULL,
		  NULL,
		  "2026-11-11T12:00:00Z",
		  "none",
		  "2026-11-10T16:30:00Z",
		  "none",
		  NO,
		  NP(0),
		  {NULL},
		  {"2026-11-09 09:00 created: target 16 h",
		   "2026-11-09 11:00 response by sam@agency.example: restarted"}}}},

	/* Sam answers at 15:00, an hour late: W 3.5 + 1.5. */
	{"first response breached",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-10T12:00:00Z",
	 NULL,
	 1,
	 false,
	 {RESP("2026-11-09T15:00:00Z", SAM)},
	 {[FR] = {true, SLA_BREACHED, "5:00", NULL, NULL, "2026-11-09T14:00:00Z",
		  "2026-11-09T14:00:00Z", "2026-11-09T12:00:00Z", "2026-11-09T15:00:00Z", NO}}},

	/* High, answered Mon 10:00, closed Tue 09:00; now Wed 10:00, closed:
	 * resolution met with Mon 7.5, keeping the due it had while running:
	 * 24 h from Mon 09:00 = Thu 10:30 (after the stop); 18 h = Wed 12:00.
	 * The line clock had breached at Mon 17:30 (7.5 working hours, before
	 * 12 h elapsed at 21:00). */
	{"closed",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-11T10:00:00Z",
	 "high",
	 1,
	 false,
	 {RESP("2026-11-09T10:00:00Z", SAM), ST("2026-11-10T09:00:00Z", "open", "closed")},
	 {[FR] = {true, SLA_MET, "1:00", NULL, NULL, "2026-11-09T14:00:00Z", "none", NULL,
		  "2026-11-09T10:00:00Z"},
	  [RES] = {true,
		   SLA_MET,
		   "7:30",
		   "24:00",
		   NULL,
		   "2026-11-12T10:30:00Z",
		   "none",
		   "2026-11-11T12:00:00Z",
		   "2026-11-10T09:00:00Z",
		   NO,
		   NP(0),
		   {NULL},
		   {"2026-11-09 09:00 created: target 24 h", "2026-11-10 09:00 closed: stopped"}},
	  [LINE] = {true, SLA_BREACHED, "7:30", "24:00", NULL, "2026-11-09T17:30:00Z",
		    "2026-11-09T17:30:00Z", NULL, "2026-11-10T09:00:00Z"}}},

	/* Reopened Wed 13:30, now Thu 09:00: resolution runs again, W 7.5 +
	 * 4; from Wed 13:30 with 7.5 used: 16.5 = Wed 4, Thu 7.5, Fri 3.5 +
	 * 1.5 = 15:00; 10.5 = Wed 4, Thu 3.5 + 3 = 16:30.  The first response
	 * stays met.  Follow-up (since Mon 10:00): Mon 6.5, closed, Wed 4 =
	 * 10.5; 9.5 more from Wed 13:30 = Wed 4, Thu 3.5 + 2 = 15:30. */
	{"closed then reopened",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-12T09:00:00Z",
	 "high",
	 1,
	 false,
	 {RESP("2026-11-09T10:00:00Z", SAM), ST("2026-11-10T09:00:00Z", "open", "closed"),
	  ST("2026-11-11T13:30:00Z", "closed", "open")},
	 {[FR] = {true, SLA_MET, "1:00", NULL, NULL, "2026-11-09T14:00:00Z", "none", NULL,
		  "2026-11-09T10:00:00Z"},
	  [RES] = {true,
		   SLA_RUNNING,
		   "11:30",
		   NULL,
		   NULL,
		   "2026-11-13T15:00:00Z",
		   "none",
		   "2026-11-12T16:30:00Z",
		   "none",
		   NO,
		   NP(0),
		   {NULL},
		   {"2026-11-09 09:00 created: target 24 h", "2026-11-10 09:00 closed: stopped",
		    "2026-11-11 13:30 reopened: resumed"}},
	  [FU] = {true, SLA_RUNNING, "10:30", NULL, NULL, "2026-11-12T15:30:00Z", "none"}}},

	/* Friday 13 November 16:00 on line 1: 12 h elapsed = Sat 04:00 comes
	 * long before 7.5 working hours (Fri 1.5, Mon 3.5 + 2.5 = 16:00); 9 h
	 * elapsed = Sat 01:00.  now Mon 10:00: W 1.5 + 1, 66 h elapsed. */
	{"line 1: the elapsed limit wins",
	 "2026-11-13T16:00:00Z",
	 NULL,
	 "2026-11-16T10:00:00Z",
	 NULL,
	 1,
	 false,
	 {{NULL}},
	 {[LINE] = {true, SLA_BREACHED, "2:30", "66:00", "7:30", "2026-11-14T04:00:00Z",
		    "2026-11-14T04:00:00Z", "2026-11-14T01:00:00Z", "none", NO}}},

	/* The same, but awaiting the client from Fri 17:00 to Mon 09:00: the
	 * weekend does not count as elapsed either.  W 1 + 1, elapsed 1 + 1.
	 * From Mon 09:00: working 6.5 = 3.5 + 3 = 16:30, elapsed 11 h =
	 * 20:00: working wins.  At risk: working 4 h 37 min 30 s = 3.5 +
	 * 1:07:30 = 14:37:30, elapsed 8 h = 17:00. */
	{"line 1: paused time is not elapsed",
	 "2026-11-13T16:00:00Z",
	 NULL,
	 "2026-11-16T10:00:00Z",
	 NULL,
	 1,
	 false,
	 {ST("2026-11-13T17:00:00Z", "open", "awaiting-client"),
	  ST("2026-11-16T09:00:00Z", "awaiting-client", "open")},
	 {[LINE] = {true,
		    SLA_RUNNING,
		    "2:00",
		    "2:00",
		    NULL,
		    "2026-11-16T16:30:00Z",
		    "none",
		    "2026-11-16T14:37:30Z",
		    "none",
		    NO,
		    NP(1),
		    {"2026-11-13T17:00:00Z", "2026-11-16T09:00:00Z", "awaiting-client"}}}},

	/* Resumed Mon 16:00 instead, now 16:30: W 1 + 0.5.  From Mon 16:00:
	 * working 6.5 = Mon 1.5, Tue 3.5 + 1.5 = 15:00; elapsed 11 h = Tue
	 * 03:00: elapsed wins.  At risk: elapsed 8 h = Tue 00:00; working
	 * 4:37:30 = Mon 1.5, Tue 3:07:30 = 12:07:30. */
	{"line 1: elapsed limit after a pause",
	 "2026-11-13T16:00:00Z",
	 NULL,
	 "2026-11-16T16:30:00Z",
	 NULL,
	 1,
	 false,
	 {ST("2026-11-13T17:00:00Z", "open", "awaiting-client"),
	  ST("2026-11-16T16:00:00Z", "awaiting-client", "open")},
	 {[LINE] = {true, SLA_RUNNING, "1:30", "1:30", NULL, "2026-11-17T03:00:00Z", "none",
		    "2026-11-17T00:00:00Z", "none", NO}}},

	/* Escalated to line 2 Tue 12:00; now Wed 09:00: W 0.5 + 4, 21 h
	 * elapsed (no elapsed limit on line 2).  48 h from Tue 12:00: Tue
	 * 4.5, Wed, Thu, Fri, Mon 16, Tue 17 (42), Wed 18 6 = 3.5 + 2.5 =
	 * 16:00; 36 h: Mon 16 (34.5), Tue 17 1.5 = 10:30. */
	{"line 2",
	 "2026-11-09T09:00:00Z",
	 "2026-11-10T12:00:00Z",
	 "2026-11-11T09:00:00Z",
	 NULL,
	 2,
	 false,
	 {{"2026-11-10T12:00:00Z", SLA_EV_LINE, "1", "2", SAM}},
	 {[LINE] = {true,
		    SLA_RUNNING,
		    "4:30",
		    "21:00",
		    "48:00",
		    "2026-11-18T16:00:00Z",
		    "none",
		    "2026-11-17T10:30:00Z",
		    "none",
		    NO,
		    NP(0),
		    {NULL},
		    {"2026-11-10 12:00 line 1 -> 2: started, target 48 h"}}}},

	/* On line 3 from Wed 10:00: no target, the time still counted. */
	{"line 3",
	 "2026-11-09T09:00:00Z",
	 "2026-11-11T10:00:00Z",
	 "2026-11-11T12:00:00Z",
	 NULL,
	 3,
	 false,
	 {{"2026-11-10T12:00:00Z", SLA_EV_LINE, "1", "2", SAM},
	  {"2026-11-11T10:00:00Z", SLA_EV_LINE, "2", "3", SAM}},
	 {[LINE] = {true,
		    SLA_NONE,
		    "2:00",
		    "2:00",
		    "0:00",
		    "none",
		    "none",
		    "none",
		    "none",
		    NO,
		    NP(0),
		    {NULL},
		    {"2026-11-11 10:00 line 2 -> 3: started, no target"}}}},

	/* Responses Mon 10:00 and Tue 15:00, a pause in between: the
	 * follow-up clock counts from Tue 15:00 (Tue 2.5, Wed 1) and has no
	 * pause of its own; 16 h from Tue 15:00: 2.5, Wed 7.5, Thu 3.5 + 2.5
	 * = 16:00; 12 h: Thu 2 = 11:00.  Resolution: Mon 3.5 + 2.5, Tue 2.5
	 * + 4, Wed 1 = 13.5. */
	{"follow-up restarts at each response",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-11T10:00:00Z",
	 NULL,
	 1,
	 false,
	 {RESP("2026-11-09T10:00:00Z", SAM), ST("2026-11-09T16:00:00Z", "open", "awaiting-client"),
	  ST("2026-11-10T10:00:00Z", "awaiting-client", "open"), RESP("2026-11-10T15:00:00Z", JO)},
	 {[RES] = {true, SLA_RUNNING, "13:30", NULL, NULL, NULL, "none", NULL, "none", NO, NP(1)},
	  [FU] = {true,
		  SLA_RUNNING,
		  "3:30",
		  "19:00",
		  NULL,
		  "2026-11-12T16:00:00Z",
		  "none",
		  "2026-11-12T11:00:00Z",
		  "none",
		  NO,
		  NP(0),
		  {NULL},
		  {"2026-11-09 09:00 created: target 16 h",
		   "2026-11-09 10:00 response by sam@agency.example: restarted",
		   "2026-11-09 16:00 status open -> awaiting-client: paused",
		   "2026-11-10 10:00 status awaiting-client -> open: resumed",
		   "2026-11-10 15:00 response by jo@agency.example: restarted"}}}},

	/* A response while the ticket waits: the follow-up clock starts again
	 * paused, its pause clipped to the response. */
	{"follow-up restarted while paused",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-11T10:00:00Z",
	 NULL,
	 1,
	 false,
	 {RESP("2026-11-09T10:00:00Z", SAM), ST("2026-11-10T16:00:00Z", "open", "awaiting-client"),
	  RESP("2026-11-11T09:30:00Z", JO)},
	 {[FU] = {true,
		  SLA_PAUSED,
		  "0:00",
		  "0:00",
		  NULL,
		  "none",
		  "none",
		  "none",
		  "none",
		  NO,
		  NP(1),
		  {"2026-11-11T09:30:00Z", "none", "awaiting-client"}}}},

	/* No plan: no targets, but time and pauses are reported. */
	{"no plan",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-09T12:00:00Z",
	 NULL,
	 1,
	 true,
	 {ST("2026-11-09T11:00:00Z", "open", "awaiting-client")},
	 {[FR] = {true,
		  SLA_NONE,
		  "2:00",
		  "2:00",
		  "0:00",
		  "none",
		  "none",
		  "none",
		  "none",
		  NO,
		  NP(1),
		  {"2026-11-09T11:00:00Z", "none", "awaiting-client"}},
	  [RES] = {true, SLA_NONE, "2:00", NULL, "0:00", "none", "none", "none", "none", NO, NP(1)},
	  [LINE] = {true, SLA_NONE, "2:00", NULL, "0:00", "none", "none", "none", "none", NO,
		    NP(1)},
	  [FU] = {true, SLA_NONE, "2:00", NULL, "0:00", "none", "none", "none", "none", NO,
		  NP(1)}}},

	/* The weekend pause again, events given backwards, and a plan change
	 * stamped before the creation (counted at the creation). */
	{"events out of order",
	 "2026-11-12T10:00:00Z",
	 NULL,
	 "2026-11-17T10:00:00Z",
	 "high",
	 1,
	 false,
	 {ST("2026-11-16T14:00:00Z", "awaiting-client", "open"),
	  ST("2026-11-13T11:00:00Z", "open", "awaiting-client"),
	  {"2026-11-12T09:00:00Z", SLA_EV_PLAN, "bronze", "silver", SAM}},
	 {[RES] = {true,
		   SLA_RUNNING,
		   "13:00",
		   "45:00",
		   "24:00",
		   "2026-11-18T14:30:00Z",
		   "none",
		   "2026-11-17T16:00:00Z",
		   "none",
		   NO,
		   NP(1),
		   {"2026-11-13T11:00:00Z", "2026-11-16T14:00:00Z", "awaiting-client"},
		   {"2026-11-12 10:00 created: target 24 h",
		    "2026-11-12 10:00 plan bronze -> silver: target 24 h",
		    "2026-11-13 11:00 status open -> awaiting-client: paused",
		    "2026-11-16 14:00 status awaiting-client -> open: resumed"}}}},

	/* Created waiting for the client, closed without ever running: the
	 * first response is met with nothing used, and due from the creation
	 * (3.5 + 0.5 = 14:00). */
	{"created waiting, closed",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-09T12:00:00Z",
	 NULL,
	 1,
	 false,
	 {ST("2026-11-09T10:00:00Z", "awaiting-client", "closed")},
	 {[FR] = {true,
		  SLA_MET,
		  "0:00",
		  "0:00",
		  NULL,
		  "2026-11-09T14:00:00Z",
		  "none",
		  "2026-11-09T12:00:00Z",
		  "2026-11-09T10:00:00Z",
		  NO,
		  NP(1),
		  {"2026-11-09T09:00:00Z", "2026-11-09T10:00:00Z", "awaiting-client"},
		  {"2026-11-09 09:00 created: target 4 h, paused",
		   "2026-11-09 10:00 closed: stopped"}}}},

	/* From one waiting status to another, closed, reopened waiting: a
	 * pause for each status; W 1 (09:00-10:00). */
	{"waiting statuses, reopened waiting",
	 "2026-11-09T09:00:00Z",
	 NULL,
	 "2026-11-09T14:00:00Z",
	 NULL,
	 1,
	 false,
	 {ST("2026-11-09T10:00:00Z", "open", "awaiting-client"),
	  ST("2026-11-09T11:00:00Z", "awaiting-client", "awaiting-third-party"),
	  ST("2026-11-09T12:00:00Z", "awaiting-third-party", "closed"),
	  ST("2026-11-09T13:00:00Z", "closed", "awaiting-client")},
	 {[RES] = {true,
		   SLA_PAUSED,
		   "1:00",
		   "1:00",
		   NULL,
		   "none",
		   "none",
		   "none",
		   "none",
		   NO,
		   NP(3),
		   {"2026-11-09T13:00:00Z", "none", "awaiting-client"},
		   {"2026-11-09 09:00 created: target 48 h",
		    "2026-11-09 10:00 status open -> awaiting-client: paused",
		    "2026-11-09 11:00 status awaiting-client -> awaiting-third-party: still paused",
		    "2026-11-09 12:00 closed: stopped",
		    "2026-11-09 13:00 reopened as awaiting-client: paused"}}}},

	/* Summer time, a pause and the holidays together.  Fri 23 October
	 * 16:00 BST (15:00Z), high; awaiting the client from Mon 26 October
	 * 10:00 (GMT) to Thu 24 December 09:00; now Tue 29 December 10:00.
	 * Run: Fri 1.5 (BST span), Mon 26 1 (2.5); Thu 24 7.5, Fri 25 and
	 * Mon 28 holidays, Tue 29 1 = 11.  Elapsed: 67 h (Fri 15:00Z -> Mon
	 * 10:00Z, the extra hour of the change included) + 121 h = 188 h.
	 * Due from Thu 24 09:00 with 2.5 used: 21.5 = Thu 7.5, Tue 7.5, Wed
	 * 30 3.5 + 3 = 16:30; 18 h: 15.5 = Thu, Tue, Wed 0.5 = 09:30.  FR:
	 * 1.5 after the pause = Thu 24 10:30, breached.  Follow-up 16 h: 13.5
	 * = Thu 7.5, Tue 3.5 + 2.5 = 16:00. */
	{"summer time, a pause and holidays",
	 "2026-10-23T15:00:00Z",
	 NULL,
	 "2026-12-29T10:00:00Z",
	 "high",
	 1,
	 false,
	 {ST("2026-10-26T10:00:00Z", "open", "awaiting-client"),
	  ST("2026-12-24T09:00:00Z", "awaiting-client", "open")},
	 {[FR] = {true, SLA_BREACHED, "11:00", NULL, NULL, "2026-12-24T10:30:00Z",
		  "2026-12-24T10:30:00Z"},
	  [RES] = {true,
		   SLA_RUNNING,
		   "11:00",
		   "188:00",
		   NULL,
		   "2026-12-30T16:30:00Z",
		   "none",
		   "2026-12-30T09:30:00Z",
		   "none",
		   NO,
		   NP(1),
		   {"2026-10-26T10:00:00Z", "2026-12-24T09:00:00Z", "awaiting-client"},
		   {"2026-10-23 16:00 created: target 24 h",
		    "2026-10-26 10:00 status open -> awaiting-client: paused",
		    "2026-12-24 09:00 status awaiting-client -> open: resumed"}},
	  [FU] = {true, SLA_RUNNING, "11:00", NULL, NULL, "2026-12-29T16:00:00Z", "none"}}},
};

static void check_instant(const char *what, const char *want, int64_t got)
{
	if (!want)
		return;
	int64_t w = strcmp(want, "none") == 0 ? 0 : T(want);
	if (w != got) {
		g_autofree char *g = got ? wt_format_iso(cal, got) : g_strdup("none");
		g_test_message("%s: want %s, got %s (%" G_GINT64_FORMAT ")", what, want, g, got);
		g_test_fail();
	}
}

static void check_duration(const char *what, const char *want, int64_t got)
{
	if (want && D(want) != got) {
		g_test_message("%s: want %s, got %" G_GINT64_FORMAT ":%02d:%02d", what, want,
			       got / 3600, (int)(got / 60 % 60), (int)(got % 60));
		g_test_fail();
	}
}

static void build(const Case *c, SlaEvent *ev, SlaTicket *t)
{
	size_t n = 0;
	const char *status = "open";

	for (; n < G_N_ELEMENTS(c->ev) && c->ev[n].at; n++) {
		ev[n] = (SlaEvent){T(c->ev[n].at), c->ev[n].kind, c->ev[n].before, c->ev[n].after,
				   c->ev[n].actor};
	}
	/* the current status: the after of the latest status event */
	int64_t latest = INT64_MIN;
	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == SLA_EV_STATUS && ev[i].at >= latest) {
			latest = ev[i].at;
			status = ev[i].after;
		}
	*t = (SlaTicket){
		.created_at = T(c->created),
		.line_since = T(c->line_since ? c->line_since : c->created),
		.status = status,
		.severity = c->severity,
		.line = c->line ? c->line : 1,
		.events = ev,
		.n_events = n,
		.plan = c->no_plan ? NULL : &silver,
		.cal = cal,
		.now = T(c->now),
	};
}

static void test_case(gconstpointer data)
{
	const Case *c = data;
	SlaEvent ev[8];
	SlaTicket t;
	SlaResult res;

	build(c, ev, &t);
	sla_compute(&t, &res);
	for (int k = 0; k < SLA_N_CLOCKS; k++) {
		const Expect *x = &c->ex[k];
		const SlaClock *got = &res.clocks[k];
		const char *name = sla_clock_name(k);
		char what[64];

		g_assert_cmpint(got->kind, ==, k);
		if (!x->check)
			continue;
		if (got->state != x->state) {
			g_test_message("%s: state %s, want %s", name, sla_state_name(got->state),
				       sla_state_name(x->state));
			g_test_fail();
		}
#define CHECK(fn, field, member)                                                                   \
	do {                                                                                       \
		g_snprintf(what, sizeof(what), "%s %s", name, #field);                             \
		fn(what, x->field, got->member);                                                   \
	} while (0)
		CHECK(check_duration, used, used);
		CHECK(check_duration, used_elapsed, used_elapsed);
		CHECK(check_duration, target, target);
		CHECK(check_instant, due, due);
		CHECK(check_instant, breached, breached_at);
		CHECK(check_instant, risk, at_risk_at);
		CHECK(check_instant, stopped_at, stopped_at);
#undef CHECK
		if (x->at_risk != ANY && got->at_risk != (x->at_risk == YES)) {
			g_test_message("%s: at_risk %d", name, got->at_risk);
			g_test_fail();
		}
		if (x->stopped_at)
			g_assert_cmpint(got->stopped, ==, strcmp(x->stopped_at, "none") != 0);
		if (got->state == SLA_RUNNING)
			g_assert_true(got->running && !got->stopped);
		if (got->state == SLA_PAUSED || got->state == SLA_MET)
			g_assert_false(got->running);
		if (x->n_pauses) {
			if (got->n_pauses != (size_t)(x->n_pauses - 1)) {
				g_test_message("%s: %zu pauses, want %d", name, got->n_pauses,
					       x->n_pauses - 1);
				g_test_fail();
			}
		}
		if (x->last_pause[0] && got->n_pauses > 0) {
			const SlaPause *p = &got->pauses[got->n_pauses - 1];
			g_snprintf(what, sizeof(what), "%s last pause from", name);
			check_instant(what, x->last_pause[0], p->from);
			g_snprintf(what, sizeof(what), "%s last pause to", name);
			check_instant(what, x->last_pause[1], p->to);
			g_assert_cmpstr(p->status, ==, x->last_pause[2]);
		}
		if (x->changes[0]) {
			size_t n = 0;
			while (n < G_N_ELEMENTS(x->changes) && x->changes[n])
				n++;
			for (size_t i = 0; i < got->n_changes; i++)
				g_test_message("%s change: %s", name, got->changes[i]);
			g_assert_cmpuint(got->n_changes, ==, n);
			for (size_t i = 0; i < n; i++)
				g_assert_cmpstr(got->changes[i], ==, x->changes[i]);
			g_assert_null(got->changes[n]);
		}
	}
	sla_result_clear(&res);
}

/* 1000 status flips a minute apart from Mon 9 November 09:00: paused at
 * odd minutes (1, 3, .. 999), resumed at even ones (2, .. 1000).  Running
 * minutes: the even ones, 0 .. 998, then all from minute 1000 (Tue 01:40).
 * Working: morning minutes 0 .. 209 -> 105 even, afternoon 270 .. 509 ->
 * 120 even, nothing after 17:30; Tue 09:00 - 10:00 60: 285 min.  The first
 * response (240 min) has 225 by Monday's end, 15 more on Tuesday: 09:15. */
static void test_flips(void)
{
	enum { N = 1000 };
	SlaEvent *ev = g_new(SlaEvent, N);
	int64_t created = T("2026-11-09T09:00:00Z");
	SlaResult res;

	for (int i = 0; i < N; i++)
		ev[i] = (SlaEvent){created + 60 * (i + 1), SLA_EV_STATUS,
				   i % 2 ? "awaiting-client" : "open",
				   i % 2 ? "open" : "awaiting-client", "deskmail"};
	SlaTicket t = {created, created, "open",  NULL, 1,
		       ev,      N,       &silver, cal,  T("2026-11-10T10:00:00Z")};
	sla_compute(&t, &res);

	const SlaClock *r = &res.clocks[SLA_RESOLUTION];
	g_assert_cmpint(r->state, ==, SLA_RUNNING);
	g_assert_cmpint(r->used, ==, 285 * 60);
	g_assert_cmpuint(r->n_changes, ==, SLA_MAX_CHANGES + 1);
	g_assert_cmpstr(r->changes[0], ==, "801 earlier changes not shown");
	g_assert_cmpstr(r->changes[1], ==,
			"2026-11-09 22:21 status open -> awaiting-client: paused");
	g_assert_cmpstr(r->changes[SLA_MAX_CHANGES], ==,
			"2026-11-10 01:40 status awaiting-client -> open: resumed");
	g_assert_cmpuint(r->n_pauses, ==, SLA_MAX_PAUSES);
	g_assert_cmpuint(r->n_pauses_dropped, ==, 300);
	check_instant("last pause from", "2026-11-10T01:39:00Z",
		      r->pauses[SLA_MAX_PAUSES - 1].from);
	check_instant("last pause to", "2026-11-10T01:40:00Z", r->pauses[SLA_MAX_PAUSES - 1].to);
	check_instant("first kept pause", "2026-11-09T19:01:00Z", r->pauses[0].from);

	const SlaClock *f = &res.clocks[SLA_FIRST_RESPONSE];
	g_assert_cmpint(f->state, ==, SLA_BREACHED);
	check_instant("first response breached", "2026-11-10T09:15:00Z", f->breached_at);
	sla_result_clear(&res);
	g_free(ev);
}

/* Strings may be NULL, names may be junk: nothing crashes, unknown
 * statuses run the clock, unknown severities take resolution_minutes. */
static void test_robust(void)
{
	int64_t c0 = T("2026-11-09T09:00:00Z");
	SlaEvent ev[] = {
		{c0 + 3600, SLA_EV_STATUS, NULL, NULL, NULL},
		{c0 + 7200, SLA_EV_STATUS, NULL, "awaiting-", NULL},
		{c0 + 7300, SLA_EV_SEVERITY, NULL, NULL, NULL},
		{c0 + 7400, SLA_EV_PLAN, NULL, NULL, NULL},
		{c0 + 7500, SLA_EV_RESPONSE, NULL, NULL, NULL},
		{c0 + 7600, SLA_EV_LINE, NULL, NULL, NULL},
		{c0 + 10000, SLA_EV_STATUS, "x", "awaiting-x\ny", "a\tb"},
		{c0 + 7800, (SlaEventKind)99, "x", "y", NULL},
		{c0 - 99999, SLA_EV_SEVERITY, "", "Bogus", NULL},
	};
	SlaTicket t = {c0, c0, NULL, "Bogus", 7, ev, G_N_ELEMENTS(ev), &silver, NULL, c0 + 10800};
	SlaResult res;

	sla_compute(&t, &res);
	/* no calendar: no working time; elapsed limits still apply (none on
	 * "line 7") */
	for (int k = 0; k < SLA_N_CLOCKS; k++) {
		g_assert_cmpint(res.clocks[k].used, ==, 0);
		g_assert_cmpint(res.clocks[k].state, ==, SLA_NONE);
	}
	const SlaClock *r = &res.clocks[SLA_RESOLUTION];
	g_assert_cmpint(r->used_elapsed, ==, 10000);
	g_assert_false(r->running);
	g_assert_cmpint(res.clocks[SLA_FIRST_RESPONSE].stopped_at, ==, c0 + 7500);
	g_assert_cmpuint(r->n_changes, ==, 5);
	g_assert_cmpstr(r->changes[0], ==, "2026-11-09 09:00 created: no target");
	g_assert_cmpstr(r->changes[4], ==, "2026-11-09 11:46 status x -> awaiting-x?y: paused");
	g_assert_cmpuint(r->n_pauses, ==, 1);
	g_assert_cmpstr(r->pauses[0].status, ==, "awaiting-x\ny");
	sla_result_clear(&res);

	/* with the calendar: an unknown severity is the resolution target */
	t.cal = cal;
	t.line = 1;
	sla_compute(&t, &res);
	g_assert_cmpint(res.clocks[SLA_RESOLUTION].target, ==, 2880 * 60);
	g_assert_cmpint(res.clocks[SLA_RESOLUTION].used, ==, 10000);
	g_assert_cmpstr(res.clocks[SLA_RESOLUTION].changes[1], ==,
			"2026-11-09 09:00 severity none -> Bogus: target 48 h");
	sla_result_clear(&res);
	sla_result_clear(&res);
	sla_result_clear(NULL);

	sla_compute(NULL, &res);
	g_assert_cmpint(res.clocks[SLA_LINE].kind, ==, SLA_LINE);
	g_assert_cmpint(res.clocks[SLA_LINE].state, ==, SLA_NONE);
	sla_result_clear(&res);

	/* now before the creation, an event in the future */
	SlaEvent later = {c0 + 86400, SLA_EV_RESPONSE, NULL, NULL, SAM};
	SlaTicket early = {c0, c0 + 999999, "open", NULL, 1, &later, 1, &silver, cal, c0 - 60};
	sla_compute(&early, &res);
	g_assert_cmpint(res.clocks[SLA_FIRST_RESPONSE].used, ==, 0);
	g_assert_false(res.clocks[SLA_FIRST_RESPONSE].stopped);
	check_instant("early due", "2026-11-09T14:00:00Z", res.clocks[SLA_FIRST_RESPONSE].due);
	g_assert_cmpint(res.clocks[SLA_LINE].started, ==, c0);
	sla_result_clear(&res);
}

static void test_names(void)
{
	g_assert_cmpstr(sla_clock_name(SLA_FIRST_RESPONSE), ==, "first-response");
	g_assert_cmpstr(sla_clock_name(SLA_RESOLUTION), ==, "resolution");
	g_assert_cmpstr(sla_clock_name(SLA_LINE), ==, "line");
	g_assert_cmpstr(sla_clock_name(SLA_FOLLOW_UP), ==, "follow-up");
	g_assert_cmpstr(sla_state_name(SLA_NONE), ==, "none");
	g_assert_cmpstr(sla_state_name(SLA_RUNNING), ==, "running");
	g_assert_cmpstr(sla_state_name(SLA_PAUSED), ==, "paused");
	g_assert_cmpstr(sla_state_name(SLA_MET), ==, "met");
	g_assert_cmpstr(sla_state_name(SLA_BREACHED), ==, "breached");
	g_assert_true(sla_status_pauses("awaiting-client"));
	g_assert_true(sla_status_pauses("awaiting-rebuild"));
	g_assert_false(sla_status_pauses("awaiting-"));
	g_assert_false(sla_status_pauses("open"));
	g_assert_false(sla_status_pauses("closed"));
	g_assert_false(sla_status_pauses(NULL));
}

/* A ticket with a few dozen events: microseconds, not milliseconds. */
static void test_cost(void)
{
	enum { N = 40, RUNS = 2000 };
	SlaEvent ev[N];
	int64_t c0 = T("2026-11-02T09:00:00Z");
	SlaResult res;

	for (int i = 0; i < N; i++) {
		int64_t at = c0 + (int64_t)i * 5400;
		if (i % 4 == 3)
			ev[i] = (SlaEvent){at, SLA_EV_RESPONSE, NULL, NULL, SAM};
		else if (i % 4 == 2)
			ev[i] = (SlaEvent){at, SLA_EV_SEVERITY, "medium", "high", SAM};
		else
			ev[i] = (SlaEvent){at, SLA_EV_STATUS, i % 4 ? "awaiting-client" : "open",
					   i % 4 ? "open" : "awaiting-client", NULL};
	}
	SlaTicket t = {c0, c0, "open", "high", 1, ev, N, &silver, cal, c0 + 14 * 86400};
	gint64 t0 = g_get_monotonic_time();
	for (int i = 0; i < RUNS; i++) {
		sla_compute(&t, &res);
		sla_result_clear(&res);
	}
	double us = (double)(g_get_monotonic_time() - t0) / RUNS;
	g_test_message("%d events: %.1f us a ticket", N, us);
	g_assert_cmpfloat(us, <, 5000.0); /* generous: sanitizers, slow machines */
}

int main(int argc, char **argv)
{
	static const char *const week[7] = {
		"09:00-12:30,13:30-17:30",
		"09:00-12:30,13:30-17:30",
		"09:00-12:30,13:30-17:30",
		"09:00-12:30,13:30-17:30",
		"09:00-12:30,13:30-17:30",
		NULL,
		NULL,
	};
	static const char *const holidays[] = {"2026-12-25", "2026-12-28", "2027-01-01"};
	g_autofree char *err = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	cal = wt_calendar_new("london", "Europe/London", week, holidays, G_N_ELEMENTS(holidays),
			      &err);
	if (!cal)
		g_error("calendar: %s", err);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("/sla/case/%02zu %s", i, cases[i].name);
		g_test_add_data_func(path, &cases[i], test_case);
	}
	g_test_add_func("/sla/flips", test_flips);
	g_test_add_func("/sla/robust", test_robust);
	g_test_add_func("/sla/names", test_names);
	g_test_add_func("/sla/cost", test_cost);
	rc = g_test_run();
	wt_calendar_free(cal);
	return rc;
}
