/* sla.c - the escalation pass: the tickets whose next SLA instant has come
 * (store_sla_take locks them, skipping those another pass holds), each
 * planned by plan_sla and written with its mail in one transaction per
 * chunk.  Safe from cron every minute and from two passes at once: a
 * ticket is in one pass at a time, its sla_next_at moves past now when it
 * is done, and each notice is a row with a unique key (sla_notice) and an
 * outbox event key.  Run after every poll and ingest too: a ticket the
 * mail changed has sla_next_at = now, so its clocks are derived again at
 * once. */
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

#define ESCALATE_CHUNK 200

int64_t desk_month_start(const Config *cfg, int64_t now, char month[8])
{
	int64_t y;
	int m, d;
	wt_local_date(cfg->desk_cal, now, &y, &m, &d);
	g_snprintf(month, 8, "%04d-%02d", (int)(y % 10000), m);
	return wt_local_midnight(cfg->desk_cal, y, m, 1);
}

static void facts_array_clear(GArray *a)
{
	for (guint i = 0; i < a->len; i++)
		sla_facts_clear(&g_array_index(a, SlaFacts, i));
	g_array_set_size(a, 0);
}

int desk_escalate(Desk *desk, EscalateStats *st, DmError *err)
{
	memset(st, 0, sizeof *st);
	const Config *cfg = desk->cfg;
	int rc = store_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	/* the month of allowances, in the desk's calendar */
	char month[8];
	int64_t month_start = desk_month_start(cfg, dm_now(), month);
	/* targets or calendars changed since the last pass: every open
	 * ticket's clocks are derived again */
	int64_t touched = 0;
	rc = desk->sla_settings_checked
		     ? 0
		     : store_sla_fingerprint(desk->db, cfg->sla_fingerprint, &touched, err);
	if (rc)
		return rc;
	desk->sla_settings_checked = true;
	if (touched)
		log_notice("escalate: service-level settings changed (or first pass): the clocks "
			   "of %lld open ticket(s) are derived again",
			   (long long)touched);
	GArray *facts = g_array_new(FALSE, TRUE, sizeof(SlaFacts));
	StaffList staff = {0};
	bool staff_loaded = false;
	for (;;) {
		rc = store_sla_begin(desk->db, err);
		if (rc)
			break;
		rc = store_sla_take(desk->db, ESCALATE_CHUNK, month_start, month, facts, err);
		if (rc == 0 && facts->len && !staff_loaded) {
			rc = store_staff_load(desk->db, &staff, err);
			staff_loaded = rc == 0;
		}
		for (guint i = 0; rc == 0 && i < facts->len; i++) {
			const SlaFacts *f = &g_array_index(facts, SlaFacts, i);
			Plan p;
			plan_init(&p);
			SlaWrite w;
			/* the ticket's brand: the mailbox it came in through */
			const Brand *brand = desk_brand(desk, f->t.mailbox);
			plan_sla(f, &staff, brand_cfg(desk, brand), &p, &w);
			for (guint k = 0; k < p.notes->len; k++)
				log_notice("%s", (const char *)p.notes->pdata[k]);
			rc = store_sla_savepoint(desk->db, err);
			DmError e = {0};
			int trc = rc ? rc : render_plan(desk, brand, &p, &e);
			if (rc == 0 && trc == 0)
				trc = store_sla_apply(desk->db, &p, f, &w, &e);
			if (rc == 0 && trc == 0) {
				rc = store_sla_release(desk->db, err);
				st->tickets++;
				st->escalated += w.escalated_to ? 1 : 0;
				st->notices += w.n_notices;
				st->mails += p.mails->len;
			} else if (rc == 0 && trc == DM_ETEMP) {
				*err = e;
				rc = trc;
			} else if (rc == 0) {
				/* this ticket alone: set aside an hour, the pass goes on */
				log_warn("escalate: ticket #%lld set aside for an hour: %s",
					 (long long)f->t.id, e.msg);
				rc = store_sla_set_aside(desk->db, f->t.id, 3600, e.msg, err);
				st->failed++;
			}
			plan_clear(&p);
		}
		guint n = facts->len;
		facts_array_clear(facts);
		if (rc) {
			store_sla_rollback(desk->db);
			break;
		}
		rc = store_sla_commit(desk->db, err);
		if (rc || n < ESCALATE_CHUNK || desk_stopping(desk))
			break;
	}
	g_array_free(facts, TRUE);
	staff_list_clear(&staff);
	return rc;
}
