/* batch.c - mails taken in together: one transaction for up to about
 * 100 ms of work, one savepoint per mail.
 *
 * For each mail: gather its facts (one query), let the planner decide,
 * render the plan's mail, and queue its rows; the rows run in PostgreSQL
 * while the caller fetches and parses the next mail, and their outcome is
 * read just before that next mail's facts.  A mail whose rows fail is
 * undone alone (its savepoint) and tried once more: as a duplicate when
 * another process stored the same bytes meanwhile, else (with `fallback`,
 * as poll has it) quarantined with the reason, so that one bad mail never
 * blocks a mailbox or rolls back its neighbours.  The log line of each mail
 * is written after the commit, when it is true. */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

/* A batch is committed after this much work, or this many mails: each mail
 * is a subtransaction (its savepoint), and past 64 of them in one
 * transaction PostgreSQL's snapshots of every other session overflow to
 * pg_subtrans, which slows everyone. */
#define BATCH_MAX_US (100 * 1000)
#define BATCH_MAX_MAILS 60

static double secs_since(int64_t t0)
{
	return (double)(now_us() - t0) / G_USEC_PER_SEC;
}

void batch_init(Batch *b, Desk *desk, bool fallback, IngestTiming *timing)
{
	memset(b, 0, sizeof *b);
	b->desk = desk;
	b->fallback = fallback;
	b->timing = timing;
	b->done = g_array_new(FALSE, TRUE, sizeof(BatchDone));
	b->seen = g_array_new(FALSE, TRUE, sizeof(SeenUid));
}

void batch_rollback(Batch *b)
{
	if (b->open)
		store_batch_rollback(b->desk->db);
	b->open = false;
	job_free(b->applied);
	b->applied = NULL;
	g_array_set_size(b->done, 0);
	g_array_set_size(b->seen, 0);
	staff_list_clear(&b->staff);
}

void batch_clear(Batch *b)
{
	batch_rollback(b);
	g_array_free(b->done, TRUE);
	g_array_free(b->seen, TRUE);
}

static int begin(Batch *b, DmError *err)
{
	if (b->open)
		return 0;
	Db *db = b->desk->db;
	int rc = store_batch_begin(db, err);
	if (rc == 0)
		rc = store_staff_load(db, &b->staff, err);
	if (rc) {
		store_batch_rollback(db);
		staff_list_clear(&b->staff);
		return rc;
	}
	b->open = true;
	b->opened_at = now_us();
	return 0;
}

bool batch_full(const Batch *b)
{
	return b->open &&
	       (now_us() - b->opened_at >= BATCH_MAX_US || b->done->len >= BATCH_MAX_MAILS);
}

static const char *msgid_of(const MailJob *j)
{
	return j->mail && j->mail->message_id ? j->mail->message_id : "";
}

/* Facts, plan, mail and rows of j, queued; then j is b->applied. */
static int try_job(Batch *b, MailJob *j, DmError *err)
{
	Desk *d = b->desk;
	IngestTiming *t = b->timing;
	int64_t t0 = now_us();
	int caps[RATE_KINDS];
	plan_rate_caps(d->cfg, caps);
	int rc = store_mail_facts(d->db, j->mail, j->sha256, caps,
				  plan_may_open_ticket(j->mail, &j->src, d->cfg), &j->facts, err);
	if (rc == 0) {
		j->facts.staff = &b->staff;
		bool opens = plan_opens_ticket(j->mail, &j->facts, &j->src, d->cfg);
		if (opens && j->facts.new_ticket_id == 0)
			rc = store_reserve_ticket(d->db, &j->facts.new_ticket_id, err);
		else if (!opens && j->facts.new_ticket_id)
			log_warn("ticket number %lld reserved for a mail that opens none",
				 (long long)j->facts.new_ticket_id);
		if (rc && rc != DM_ETEMP)
			store_mail_abandon(d->db, NULL);
	}
	t->facts += secs_since(t0);
	if (rc)
		return rc;

	t0 = now_us();
	plan_mail(j->mail, j->parse_err.msg, j->sha256, &j->src, &j->facts, d->cfg, &j->plan);
	j->plan.raw = j->raw;
	j->plan.raw_len = j->len;
	t->plan += secs_since(t0);
	for (guint i = 0; i < j->plan.notes->len; i++)
		log_notice("%s", (const char *)j->plan.notes->pdata[i]);

	t0 = now_us();
	rc = render_plan(d, &j->plan, err);
	t->compose += secs_since(t0);
	if (rc) {
		store_mail_abandon(d->db, NULL);
		return rc;
	}
	t0 = now_us();
	rc = store_apply_plan(d->db, &j->plan, err);
	t->apply += secs_since(t0);
	if (rc == 0)
		b->applied = j;
	return rc;
}

static IngestOutcome outcome_of(PlanOutcome o)
{
	switch (o) {
	case PLAN_TICKET:
		return INGEST_TICKET;
	case PLAN_REPLY:
		return INGEST_REPLY;
	case PLAN_QUARANTINE:
		return INGEST_QUARANTINE;
	default:
		return INGEST_DUPLICATE;
	}
}

/* j is written (not yet committed): keep what the log and caller need. */
static void done(Batch *b, MailJob *j)
{
	BatchDone d = {0};
	const Plan *p = &j->plan;
	if (j->src.mailbox_id) {
		SeenUid s = {j->src.uid, p->outcome == PLAN_DUPLICATE ? 0 : p->inbound_id};
		b->mailbox_id = j->src.mailbox_id;
		b->uidvalidity = j->src.uidvalidity;
		g_array_append_val(b->seen, s);
	}
	d.uid = j->src.uid;
	job_where(j, d.where, sizeof d.where);
	g_strlcpy(d.from, j->mail && j->mail->from ? j->mail->from->addr : "(none)", sizeof d.from);
	d.res.outcome = outcome_of(p->outcome);
	d.res.ticket_id = p->outcome == PLAN_DUPLICATE ? 0 : p->ticket_id;
	d.res.inbound_id = p->outcome == PLAN_DUPLICATE ? p->dup_inbound_id : p->inbound_id;
	g_strlcpy(d.res.message_id, msgid_of(j), sizeof d.res.message_id);
	g_strlcpy(d.res.detail, p->detail ? p->detail : "", sizeof d.res.detail);
	g_array_append_val(b->done, d);
	job_free(j);
}

static int finish(Batch *b, DmError *err);

/* j failed and was undone.  Try once more, at once: as a duplicate when the
 * same bytes were stored meanwhile, else with fallback as quarantine with
 * the reason.  Otherwise the error is the batch's. */
static int failed(Batch *b, MailJob *j, int rc, bool dup, const DmError *why, DmError *err)
{
	char where[160];
	job_where(j, where, sizeof where);
	if (!dup)
		log_warn("%s <%s>: not stored: %s", where, msgid_of(j), why->msg);
	if (rc == DM_ETEMP || (!dup && (!b->fallback || j->fallback))) {
		dm_error_set(err, rc, "%s", why->msg);
		job_free(j);
		return rc;
	}
	if (!dup) {
		/* a bug or a value the database refused: keep the mail in
		 * quarantine with the reason instead of blocking the mailbox */
		g_free(j->why);
		j->why = g_strdup_printf("could not be stored: %s", why->msg);
		j->src.truncated = true;
		j->src.truncated_reason = j->why;
		j->fallback = true;
	}
	job_reset(j);
	DmError e = {0};
	rc = try_job(b, j, &e);
	if (rc)
		return failed(b, j, rc, false, &e, err);
	return finish(b, err);
}

/* Read the outcome of the queued job. */
static int finish(Batch *b, DmError *err)
{
	MailJob *j = b->applied;
	if (j == NULL)
		return 0;
	b->applied = NULL;
	int64_t t0 = now_us();
	bool dup = false;
	DmError e = {0};
	int rc = store_apply_wait(b->desk->db, &dup, &e);
	b->timing->apply += secs_since(t0);
	if (rc == 0) {
		done(b, j);
		/* written, not committed: a crash here loses the batch, not a mail */
		dm_failpoint("mail-written");
		return 0;
	}
	return failed(b, j, rc, dup, &e, err);
}

int batch_add(Batch *b, MailJob *j, DmError *err)
{
	int rc = begin(b, err);
	if (rc == 0)
		rc = finish(b, err);
	if (rc) {
		job_free(j);
		return rc;
	}
	DmError e = {0};
	rc = try_job(b, j, &e);
	if (rc)
		return failed(b, j, rc, false, &e, err);
	return 0;
}

int batch_commit(Batch *b, GArray *out, DmError *err)
{
	if (!b->open)
		return 0;
	int rc = finish(b, err);
	if (rc == DM_ETEMP) {
		batch_rollback(b);
		return rc;
	}
	/* a mail that failed for good was undone alone: the others stand */
	int64_t t0 = now_us();
	DmError ce = {0};
	int crc = store_batch_commit(b->desk->db, b->mailbox_id, b->uidvalidity,
				     (const SeenUid *)(void *)b->seen->data, b->seen->len, &ce);
	b->timing->commit += secs_since(t0);
	b->open = false;
	staff_list_clear(&b->staff);
	if (crc) {
		log_warn("%u mail(s) not stored: %s", b->done->len, ce.msg);
		g_array_set_size(b->done, 0);
		batch_rollback(b);
		if (rc == 0)
			dm_error_set(err, crc, "%s", ce.msg);
		return rc ? rc : crc;
	}
	for (guint i = 0; i < b->done->len; i++) {
		const BatchDone *d = &g_array_index(b->done, BatchDone, i);
		char tk[32] = "";
		if (d->res.ticket_id)
			snprintf(tk, sizeof tk, " #%lld", (long long)d->res.ticket_id);
		log_info("%s <%s> from %s: %s%s%s%s%s", d->where, d->res.message_id, d->from,
			 ingest_outcome_name(d->res.outcome), tk, d->res.detail[0] ? " (" : "",
			 d->res.detail, d->res.detail[0] ? ")" : "");
		if (out)
			g_array_append_val(out, *d);
	}
	g_array_set_size(b->done, 0);
	g_array_set_size(b->seen, 0);
	return rc;
}
