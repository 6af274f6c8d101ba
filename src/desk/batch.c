/* batch.c - mails taken in together: one transaction for up to about
 * 100 ms of work, one savepoint per mail.
 *
 * For each mail: gather its facts (one query), let the planner decide,
 * render the plan's mail, and queue the rows that the facts of later mails
 * read back (inbound, ticket, the incoming message, the ticket's changes);
 * they run in PostgreSQL while the caller fetches and parses the next mail,
 * and their outcome is read just before that next mail's facts.  The rest
 * of every plan (quarantine rows, audit events, outgoing mail) is written
 * for the whole batch at once, by one statement per table, with the
 * commit: a statement costs PostgreSQL far more than a row.  Nothing reads
 * those rows back inside the batch but the hourly limits of automatic
 * replies, which count what the batch queued (`sent`) besides the facts.
 *
 * A mail whose rows fail is undone alone (its savepoint) and tried once
 * more: as a duplicate when another process stored the same bytes
 * meanwhile, else (with `fallback`) quarantined with the reason, raw bytes
 * and nothing parsed from them, so that one bad mail never blocks a
 * mailbox, is lost, or rolls back its neighbours.  Should the batch's common rows fail at the
 * commit, nothing is kept and its mails are taken in again one by one, each with all its rows under
 * its own savepoint.  The log line of each mail is written after the commit, when it is true. */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

/* A batch is committed after this much work, this many mails, or this
 * many bytes of mail held: each mail is a subtransaction (its savepoint),
 * and past 64 of them in one transaction PostgreSQL's snapshots of every
 * other session overflow to pg_subtrans, which slows everyone. */
#define BATCH_MAX_US (100 * 1000)
#define BATCH_MAX_MAILS 60
#define BATCH_MAX_BYTES (8 * 1024 * 1024)

static double secs_since(int64_t t0)
{
	return (double)(now_us() - t0) / G_USEC_PER_SEC;
}

void batch_init(Batch *b, Desk *desk, bool fallback, IngestTiming *timing)
{
	memset(b, 0, sizeof *b);
	b->desk = desk;
	b->fallback = fallback;
	b->defer = true;
	b->timing = timing;
	b->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_free);
	b->seen = g_array_new(FALSE, TRUE, sizeof(SeenUid));
	b->sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* Forget what the batch took in (not its transaction). */
static void forget(Batch *b)
{
	job_free(b->applied);
	b->applied = NULL;
	g_ptr_array_set_size(b->jobs, 0);
	g_array_set_size(b->seen, 0);
	g_hash_table_remove_all(b->sent);
	b->bytes = 0;
}

/* The batch is lost with the connection: nothing of it was kept, its mails
 * (one more, the caller's, already freed) count as dropped. */
static void lose_batch(Batch *b)
{
	b->dropped += b->jobs->len + (b->applied ? 1 : 0) + 1;
	batch_rollback(b);
}

void batch_rollback(Batch *b)
{
	if (b->open)
		store_batch_rollback(b->desk->db);
	b->open = false;
	forget(b);
	staff_list_clear(&b->staff);
}

void batch_clear(Batch *b)
{
	batch_rollback(b);
	g_ptr_array_free(b->jobs, TRUE);
	g_array_free(b->seen, TRUE);
	g_hash_table_destroy(b->sent);
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
	return b->open && (now_us() - b->opened_at >= BATCH_MAX_US ||
			   b->jobs->len >= BATCH_MAX_MAILS || b->bytes >= BATCH_MAX_BYTES);
}

static const char *msgid_of(const MailJob *j)
{
	return j->mail && j->mail->message_id ? j->mail->message_id : "";
}

/* ---- automatic replies queued by the batch, not yet written ---- */

/* "*": every automatic kind (RATE_ANY) */
static const char *const rate_kinds[RATE_KINDS] = {"ack", "quarantine-notice", "attachment-refused",
						   "*"};

static char *sent_key(const char *kind, const char *rcpt)
{
	return g_strconcat(kind, "\n", rcpt, NULL);
}

static void bump(Batch *b, char *key)
{
	gpointer n = g_hash_table_lookup(b->sent, key);
	g_hash_table_insert(b->sent, key, GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
}

static void count_sent(Batch *b, const Plan *p)
{
	for (guint i = 0; i < p->mails->len; i++) {
		const PlanMail *pm = &g_array_index(p->mails, PlanMail, i);
		/* mail about a ticket to a recipient, relays excepted (the
		 * per-ticket limit), as "#N" */
		if (pm->ticket_id && strcmp(pm->kind, "relay") != 0) {
			char t[32];
			snprintf(t, sizeof t, "#%lld", (long long)pm->ticket_id);
			bump(b, sent_key(t, pm->to_addr));
		}
		/* notices to anyone (recipient "") */
		if (strcmp(pm->kind, "quarantine-notice") == 0 ||
		    strcmp(pm->kind, "notify-unverified") == 0)
			bump(b, sent_key(pm->kind, ""));
		/* automatic replies: by kind and by "*" (every kind) per
		 * recipient */
		if (pm->automatic) {
			bump(b, sent_key(pm->kind, pm->to_addr));
			bump(b, sent_key("*", pm->to_addr));
		}
	}
}

/* The facts count what was written; add what this batch queued to the
 * sender, up to the same caps. */
static void add_sent(Batch *b, const Mail *m, MailFacts *f, const int caps[RATE_CAPS])
{
	if (!b->defer || m == NULL || m->from == NULL || g_hash_table_size(b->sent) == 0)
		return;
	for (int k = 0; k < RATE_KINDS; k++) {
		g_autofree char *key = sent_key(rate_kinds[k], m->from->addr);
		int n = GPOINTER_TO_INT(g_hash_table_lookup(b->sent, key));
		f->sent_last_hour[k] = MIN(f->sent_last_hour[k] + n, caps[k]);
	}
	g_autofree char *all = sent_key("quarantine-notice", "");
	f->notices_last_hour += GPOINTER_TO_INT(g_hash_table_lookup(b->sent, all));
	g_autofree char *unv = sent_key("notify-unverified", "");
	f->unverified_last_hour += GPOINTER_TO_INT(g_hash_table_lookup(b->sent, unv));
	if (f->ticket.id == 0)
		return;
	/* the batch's mail about the mail's ticket, per recipient */
	char t[32];
	int tl = snprintf(t, sizeof t, "#%lld\n", (long long)f->ticket.id);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, b->sent);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (strncmp(k, t, (size_t)tl) != 0)
			continue;
		const char *rcpt = (const char *)k + tl;
		size_t i = 0;
		while (i < f->n_ticket_sent && strcmp(f->ticket_sent_rcpt[i], rcpt) != 0)
			i++;
		if (i == f->n_ticket_sent) {
			f->ticket_sent_rcpt =
				g_renew(char *, f->ticket_sent_rcpt, f->n_ticket_sent + 1);
			f->ticket_sent_n = g_renew(int, f->ticket_sent_n, f->n_ticket_sent + 1);
			f->ticket_sent_rcpt[i] = g_strdup(rcpt);
			f->ticket_sent_n[i] = 0;
			f->n_ticket_sent++;
		}
		f->ticket_sent_n[i] += GPOINTER_TO_INT(v);
	}
}

/* ---- one mail ---- */

/* Facts, plan, mail and rows of j, queued; then j is b->applied. */
static int64_t staff_by_address(const StaffList *l, const char *addr)
{
	for (size_t i = 0; addr && i < l->n; i++)
		if (l->v[i].active && g_ascii_strcasecmp(l->v[i].email, addr) == 0)
			return l->v[i].id;
	return 0;
}

static int try_job(Batch *b, MailJob *j, DmError *err)
{
	Desk *d = b->desk;
	IngestTiming *t = b->timing;
	int64_t t0 = now_us();
	int caps[RATE_CAPS];
	plan_rate_caps(d->cfg, caps);
	/* message ids for what the mail can cause: at most one per active
	 * staff member and four more (ack, refusal, relay, command errors) */
	int n_active = 0;
	for (size_t i = 0; i < b->staff.n; i++)
		n_active += b->staff.v[i].active;
	/* a quarantined mail run through again is not a duplicate of its own
	 * bytes; its entry is locked while it is decided, so two people
	 * deciding it at once take it in once */
	const char *sha = j->src.redo_inbound_id ? NULL : j->sha256;
	int rc = j->src.redo_quarantine_id
			 ? store_quarantine_lock(d->db, j->src.redo_quarantine_id, err)
			 : 0;
	if (rc == 0)
		rc = store_mail_facts(d->db, j->mail, sha, caps, d->cfg->desk_repeat_window,
				      j->src.redo_inbound_id,
				      plan_may_open_ticket(j->mail, &j->src, d->cfg), n_active + 4,
				      &j->facts, err);
	if (rc == 0) {
		j->facts.staff = &b->staff;
		add_sent(b, j->mail, &j->facts, caps);
		/* a staff member's reply to a ticket: what it may not relay */
		int64_t author = j->facts.ticket.id && j->mail && j->mail->from
					 ? staff_by_address(&b->staff, j->mail->from->addr)
					 : 0;
		if (author)
			rc = store_ticket_texts(d->db, j->facts.ticket.id, author,
						&j->facts.internal_texts, &j->facts.public_texts,
						err);
		bool opens = rc == 0 && plan_opens_ticket(j->mail, &j->facts, &j->src, d->cfg);
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

	/* mail about a ticket carries the ticket's brand, other mail that of
	 * the mailbox it came in through */
	j->src.brand = j->facts.ticket.id ? j->facts.ticket.mailbox : j->in_mailbox;
	const Brand *brand = desk_brand(d, j->src.brand);
	t0 = now_us();
	plan_mail(j->mail, j->parse_err.msg, j->sha256, &j->src, &j->facts, brand_cfg(d, brand),
		  &j->plan);
	j->plan.raw = j->raw;
	j->plan.raw_len = j->len;
	t->plan += secs_since(t0);
	for (guint i = 0; i < j->plan.notes->len; i++)
		log_notice("%s", (const char *)j->plan.notes->pdata[i]);

	t0 = now_us();
	rc = render_plan(d, brand, &j->plan, err);
	t->compose += secs_since(t0);
	if (rc) {
		store_mail_abandon(d->db, NULL);
		return rc;
	}
	t0 = now_us();
	rc = store_apply_plan(d->db, &j->plan, b->defer, err);
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

/* j is written (not yet committed): the batch keeps it until the commit. */
static void done(Batch *b, MailJob *j)
{
	if (j->src.mailbox_id) {
		const Plan *p = &j->plan;
		SeenUid s = {j->src.uid, p->outcome == PLAN_DUPLICATE ? 0 : p->inbound_id};
		b->mailbox_id = j->src.mailbox_id;
		b->uidvalidity = j->src.uidvalidity;
		g_array_append_val(b->seen, s);
	}
	if (b->defer) /* else its rows are written, and the facts count them */
		count_sent(b, &j->plan);
	b->bytes += job_bytes(j);
	g_ptr_array_add(b->jobs, j);
}

static int finish(Batch *b, DmError *err);

/* Not even the raw bytes of j could be stored: its UID is recorded as set
 * aside (in quarantine, without the bytes, saying where it lies and why),
 * the checkpoint goes past it and the mailbox goes on; the poll flags it on
 * the server instead of marking it done, and `quarantine retry` fetches it
 * again. */
static int set_aside(Batch *b, MailJob *j, const DmError *why, DmError *err)
{
	char where[160];
	job_where(j, where, sizeof where);
	int64_t qid = 0;
	DmError e = {0};
	int rc = store_set_aside(b->desk->db, j->src.mailbox_id, j->src.uidvalidity, j->src.uid,
				 j->len, why->msg, &qid, &e);
	if (rc) {
		dm_error_set(err, rc, "%s: could not be stored, nor set aside: %s (%s)", where,
			     why->msg, e.msg);
		job_free(j);
		b->failed++;
		return rc;
	}
	log_err("%s <%s>: set aside as quarantine #%lld, left on the server: %s", where,
		msgid_of(j), (long long)qid, why->msg);
	job_reset(j);
	j->set_aside = qid;
	SeenUid s = {j->src.uid, 0, true};
	b->mailbox_id = j->src.mailbox_id;
	b->uidvalidity = j->src.uidvalidity;
	g_array_append_val(b->seen, s);
	b->bytes += job_bytes(j);
	g_ptr_array_add(b->jobs, j);
	return 0;
}

/* j failed and was undone.  Try once more, at once: as a duplicate when the
 * same bytes were stored meanwhile, else with fallback as quarantine with
 * the reason.  Otherwise the error is the batch's. */
static int failed(Batch *b, MailJob *j, int rc, bool dup, const DmError *why, DmError *err)
{
	char where[160];
	job_where(j, where, sizeof where);
	if (!dup)
		log_warn("%s <%s>: not stored: %s", where, msgid_of(j), why->msg);
	if (rc == DM_ETEMP) {
		/* the database is gone (or the transaction with it): so is
		 * everything the batch wrote; its mails are taken in again by
		 * the next pass */
		dm_error_set(err, rc, "%s", why->msg);
		job_free(j);
		lose_batch(b);
		return rc;
	}
	if (!dup && b->fallback && j->fallback && j->src.mailbox_id)
		return set_aside(b, j, why, err);
	if (!dup && b->fallback && j->fallback) {
		/* a pipe's mail not stored even raw: the MTA keeps it and
		 * tries again (EX_TEMPFAIL), nothing is lost */
		dm_error_set(err, DM_ETEMP,
			     "not stored, not even in quarantine (%s); leaving it to the MTA to "
			     "retry",
			     why->msg);
		job_free(j);
		b->failed++;
		return DM_ETEMP;
	}
	if (!dup && (!b->fallback || j->fallback)) {
		dm_error_set(err, rc, "%s", why->msg);
		job_free(j);
		b->failed++;
		return rc;
	}
	if (!dup) {
		/* a bug or a value the database refused: keep the mail in
		 * quarantine with the reason instead of blocking the mailbox or
		 * losing it; its raw bytes only, since anything parsed from it
		 * may be what failed */
		g_free(j->why);
		j->why = g_strdup_printf("could not be stored: %s", why->msg);
		j->src.truncated = true;
		j->src.truncated_reason = j->why;
		j->fallback = true;
		mail_free(j->mail);
		j->mail = NULL;
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

/* Take one job in (the batch owns it from here). */
static int take(Batch *b, MailJob *j, DmError *err)
{
	DmError e = {0};
	int rc = try_job(b, j, &e);
	if (rc)
		return failed(b, j, rc, false, &e, err);
	return 0;
}

int batch_add(Batch *b, MailJob *j, DmError *err)
{
	int rc = begin(b, err);
	if (rc == 0)
		rc = finish(b, err);
	if (rc) {
		job_free(j);
		if (rc == DM_ETEMP && b->open)
			lose_batch(b);
		else
			b->dropped++;
		return rc;
	}
	return take(b, j, err);
}

/* ---- the commit ---- */

static void log_done(const Batch *b, GArray *out)
{
	for (guint i = 0; i < b->jobs->len; i++) {
		const MailJob *j = b->jobs->pdata[i];
		const Plan *p = &j->plan;
		BatchDone d = {0};
		d.uid = j->src.uid;
		job_where(j, d.where, sizeof d.where);
		g_strlcpy(d.from, j->mail && j->mail->from ? j->mail->from->addr : "(none)",
			  sizeof d.from);
		d.res.outcome = j->set_aside ? INGEST_SET_ASIDE : outcome_of(p->outcome);
		d.res.ticket_id = p->outcome == PLAN_DUPLICATE ? 0 : p->ticket_id;
		d.res.inbound_id = p->outcome == PLAN_DUPLICATE ? p->dup_inbound_id : p->inbound_id;
		g_strlcpy(d.res.message_id, msgid_of(j), sizeof d.res.message_id);
		g_strlcpy(d.res.detail, p->detail ? p->detail : "", sizeof d.res.detail);
		if (j->set_aside)
			snprintf(d.res.detail, sizeof d.res.detail, "quarantine #%lld",
				 (long long)j->set_aside);
		char tk[32] = "";
		if (d.res.ticket_id)
			snprintf(tk, sizeof tk, " #%lld", (long long)d.res.ticket_id);
		log_info("%s <%s> from %s: %s%s%s%s%s", d.where, d.res.message_id, d.from,
			 ingest_outcome_name(d.res.outcome), tk, d.res.detail[0] ? " (" : "",
			 d.res.detail, d.res.detail[0] ? ")" : "");
		if (out)
			g_array_append_val(out, d);
	}
}

/* The written rows and the commit. */
static int commit_now(Batch *b, DmError *err)
{
	GPtrArray *plans = g_ptr_array_new();
	for (guint i = 0; b->defer && i < b->jobs->len; i++)
		g_ptr_array_add(plans, &((MailJob *)b->jobs->pdata[i])->plan);
	int64_t t0 = now_us();
	int rc = store_batch_commit(b->desk->db, (const Plan *const *)plans->pdata, plans->len,
				    b->mailbox_id, b->uidvalidity,
				    (const SeenUid *)(void *)b->seen->data, b->seen->len, err);
	b->timing->commit += secs_since(t0);
	g_ptr_array_free(plans, TRUE);
	b->open = false;
	staff_list_clear(&b->staff);
	return rc;
}

/* The batch's common rows failed and nothing is kept: take its mails in
 * again, each with all its rows under its own savepoint, and commit.
 * Returns the error of a mail that failed for good (the mails before it
 * are committed all the same); *commit_rc is the commit's. */
static int one_by_one(Batch *b, DmError *err, int *commit_rc, DmError *commit_err)
{
	GPtrArray *jobs = b->jobs;
	b->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_free);
	g_array_set_size(b->seen, 0);
	g_hash_table_remove_all(b->sent);
	b->bytes = 0;
	b->defer = false;
	int rc = begin(b, err);
	for (guint i = 0; i < jobs->len; i++) {
		MailJob *j = jobs->pdata[i];
		jobs->pdata[i] = NULL;
		if (rc) {
			job_free(j);
			b->dropped++;
			continue;
		}
		job_reset(j);
		rc = take(b, j, err);
		if (rc == 0)
			rc = finish(b, err);
	}
	g_ptr_array_free(jobs, TRUE);
	*commit_rc = rc == DM_ETEMP || !b->open ? DM_ETEMP : commit_now(b, commit_err);
	if (*commit_rc && commit_err->msg[0] == '\0')
		dm_error_set(commit_err, *commit_rc, "%s", err->msg);
	b->defer = true;
	return rc;
}

int batch_commit(Batch *b, GArray *out, DmError *err)
{
	if (!b->open)
		return 0;
	int rc = finish(b, err);
	if (rc == DM_ETEMP) {
		b->dropped += b->jobs->len; /* lost with the connection */
		g_ptr_array_set_size(b->jobs, 0);
		batch_rollback(b);
		return rc;
	}
	/* a mail that failed for good was undone alone: the others stand */
	DmError ce = {0};
	int crc = commit_now(b, &ce);
	if (crc && crc != DM_ETEMP && b->jobs->len) {
		log_warn("%u mail(s) could not be written together (%s): taking them in one by "
			 "one",
			 b->jobs->len, ce.msg);
		dm_error_clear(&ce);
		DmError me = {0};
		int mrc = one_by_one(b, &me, &crc, &ce);
		if (crc == 0) {
			/* committed, up to a mail that failed for good */
			log_done(b, out);
			forget(b);
			if (rc == 0 && mrc)
				rc = dm_error_set(err, mrc, "%s", me.msg);
			return rc;
		}
	}
	if (crc) {
		log_warn("%u mail(s) not stored: %s", b->jobs->len, ce.msg);
		b->dropped += b->jobs->len; /* nothing of them was kept */
		g_ptr_array_set_size(b->jobs, 0);
		batch_rollback(b);
		if (rc == 0)
			dm_error_set(err, crc, "%s", ce.msg);
		return rc ? rc : crc;
	}
	log_done(b, out);
	forget(b);
	return rc;
}
