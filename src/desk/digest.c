/* digest.c - `deskmail digest`: the breach digest for managers, once per
 * period (the desk calendar's day): cron firing twice, or two machines at
 * once, send one.  The managers who have not had this period's digest are
 * recorded (periodic_notice) in the same transaction as their mail is
 * queued; the second run finds them recorded and sends nothing.
 * --dry-run prints the text and writes nothing. */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

#define DIGEST_MAX_TICKETS 5000

static void local_date(const Config *cfg, int64_t now, char out[16])
{
	int64_t y;
	int m, d;
	wt_local_date(cfg->desk_cal, now, &y, &m, &d);
	g_snprintf(out, 16, "%04d-%02d-%02d", (int)(y % 10000), m, d);
}

int desk_digest(Desk *desk, bool dry_run, DigestStats *st, DmError *err)
{
	memset(st, 0, sizeof *st);
	const Config *cfg = desk->cfg;
	int rc = store_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	DigestFacts d = {0};
	d.now = dm_now();
	local_date(cfg, d.now, d.period);
	int64_t month_start = desk_month_start(cfg, d.now, d.month);
	StaffList staff = {0};
	GArray *to = g_array_new(FALSE, FALSE, sizeof(int64_t));
	Plan p;
	plan_init(&p);
	GByteArray *png = g_byte_array_new();
	bool open = false;

	int64_t t0 = now_us();
	rc = store_staff_load(desk->db, &staff, err);
	if (rc == 0)
		rc = store_digest_facts(desk->db, DIGEST_MAX_TICKETS, month_start, d.month, &d,
					err);
	int64_t t1 = now_us();
	if (rc == 0 && !dry_run) {
		rc = store_sla_begin(desk->db, err);
		open = rc == 0;
		if (rc == 0)
			rc = store_digest_claim(desk->db, d.period, to, err);
	}
	if (rc == 0) {
		const char *text = NULL;
		DigestChart chart;
		plan_digest(&d, &staff, dry_run ? NULL : (const int64_t *)(void *)to->data,
			    dry_run ? 0 : to->len, cfg, &p, &text, &chart);
		log_info("digest timing: %zu candidate ticket(s); facts %.3f s, digest %.3f s",
			 d.n_tickets, (double)(t1 - t0) / 1e6, (double)(now_us() - t1) / 1e6);
		if (dry_run) {
			fputs(text, stdout);
		} else if (p.mails->len) {
			if (chart_compliance_png(&chart, png) != 0) {
				log_warn("digest: the chart could not be drawn; sent without it");
				g_byte_array_set_size(png, 0);
			}
			for (guint i = 0; i < p.mails->len; i++) {
				PlanMail *pm = &g_array_index(p.mails, PlanMail, i);
				if (png->len) {
					pm->inline_data = png->data;
					pm->inline_len = png->len;
					pm->inline_cid = "chart@deskmail.invalid";
					pm->inline_type = "image/png";
					pm->inline_name = "service-levels.png";
				}
			}
			rc = render_plan(desk, NULL, &p, err);
			if (rc == 0)
				rc = store_digest_apply(desk->db, &p, err);
		}
		st->managers = dry_run ? 0 : p.mails->len;
	}
	if (open) {
		if (rc == 0)
			rc = store_sla_commit(desk->db, err);
		else
			store_sla_rollback(desk->db);
	}
	g_strlcpy(st->period, d.period, sizeof st->period);
	g_byte_array_free(png, TRUE);
	plan_clear(&p);
	g_array_free(to, TRUE);
	staff_list_clear(&staff);
	digest_facts_clear(&d);
	return rc;
}
