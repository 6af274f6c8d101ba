/* poll.c - one pass over each IMAP mailbox, incremental by UID.
 *
 * The mailbox's UIDVALIDITY and the last UID done are kept in PostgreSQL
 * and advance with the mails' effects, so a pass costs one STATUS when
 * nothing is new and otherwise follows the number of new messages, never
 * the size of the mailbox: UIDs are searched in bounded windows, mails are
 * fetched one by one and committed in batches (batch.c), and a batch's
 * mails are flagged or moved on the server with one command after its
 * commit.  mailbox_seen remembers which commits are not marked yet, so a
 * crash between the two is repaired by the next pass.  A UIDVALIDITY change
 * starts the mailbox over from UID 1: what was stored before is recognised
 * by content hash or Message-ID and only checkpointed.  One poller per
 * mailbox, by a PostgreSQL advisory lock: several workers on one database
 * share the mailboxes, each skipping those another is polling; a mailbox
 * is polled again once its own poll_interval has passed.
 *
 * The sequence per mail: fetch (imap), parse (mime), then the batch:
 * facts (store), plan (core), render (config + mime), apply (store); per
 * batch: commit (store), mark (imap). */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

/* unmarked commits repaired per pass at most */
#define REPAIR_MAX 1000

typedef struct {
	Desk *desk;
	const CfgMailbox *mb; /* the mailbox polled */
	ImapSession *imap;    /* its session */
	int64_t mbid;
	uint32_t uidvalidity;
	const char *mailbox; /* its name, for the log */
	PollStats *st;
	IngestTiming t;
	double ahead_fetch, ahead_parse; /* the fetcher's own time */
	Batch batch;
	GArray *done;   /* of BatchDone, of the last commit */
	Fetcher *fetch; /* fetching ahead on desk->imap; NULL when not */
} Pass;

static double secs_since(int64_t t0)
{
	return (double)(now_us() - t0) / G_USEC_PER_SEC;
}

/* Mark uids on the server with one command (a STORE, and a MOVE with
 * move_to), then record them as marked.  On failure they stay unmarked in
 * mailbox_seen and the next poll repairs them. */
static int mark(Pass *ps, GArray *uids, DmError *err)
{
	const CfgMailbox *mb = ps->mb;
	if (uids->len == 0)
		return 0;
	int64_t t0 = now_us();
	DmError e = {0};
	const uint32_t *v = (const uint32_t *)(void *)uids->data;
	if (ps->fetch)
		fetcher_pause(ps->fetch);
	int rc = imap_mark_set(ps->imap, v, uids->len, mb->mark_flag, mb->move_to, &e);
	if (ps->fetch)
		fetcher_resume(ps->fetch);
	if (rc != 0 && rc != DM_ENOTFOUND) {
		/* they stay unmarked in mailbox_seen: the next poll repairs them,
		 * and this one goes on */
		log_warn("uids %u..%u: could not mark on the server (the next poll retries): %s",
			 v[0], v[uids->len - 1], e.msg);
		rc = 0;
	} else {
		rc = store_mailbox_marked(ps->desk->db, ps->mbid, ps->uidvalidity, v, uids->len,
					  err);
	}
	ps->t.mark += secs_since(t0);
	return rc == DM_ETEMP ? rc : 0;
}

/* Set-aside UIDs stay where they are, flagged $DeskmailSetAside so that
 * people looking at the mailbox see them (best effort: the quarantine row
 * is the record). */
static void flag_set_aside(Pass *ps, GArray *uids)
{
	if (uids->len == 0)
		return;
	DmError e = {0};
	if (ps->fetch)
		fetcher_pause(ps->fetch);
	int rc = imap_mark_set(ps->imap, (const uint32_t *)(void *)uids->data, uids->len,
			       "$DeskmailSetAside", NULL, &e);
	if (ps->fetch)
		fetcher_resume(ps->fetch);
	if (rc)
		log_warn("could not flag set-aside mail on the server: %s", e.msg);
}

/* Commit the batch, count its mails and mark them on the server.  Mails a
 * failed commit lost are no longer counted as fetched: the next pass takes
 * them again. */
static int commit(Pass *ps, DmError *err)
{
	Batch *b = &ps->batch;
	g_array_set_size(ps->done, 0);
	int rc = batch_commit(b, ps->done, err);
	ps->st->fetched -= MIN(ps->st->fetched, b->dropped);
	ps->st->failed += b->failed;
	b->failed = b->dropped = 0;
	if (ps->done->len)
		dm_failpoint("batch-committed"); /* committed, not yet marked */
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	GArray *aside = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (guint i = 0; i < ps->done->len; i++) {
		const BatchDone *d = &g_array_index(ps->done, BatchDone, i);
		switch (d->res.outcome) {
		case INGEST_TICKET:
			ps->st->tickets++;
			break;
		case INGEST_REPLY:
			ps->st->replies++;
			break;
		case INGEST_QUARANTINE:
			ps->st->quarantined++;
			break;
		case INGEST_DUPLICATE:
			ps->st->duplicates++;
			break;
		case INGEST_SET_ASIDE:
			ps->st->set_aside++;
			g_array_append_val(aside, d->uid);
			continue;
		}
		g_array_append_val(uids, d->uid);
	}
	flag_set_aside(ps, aside);
	g_array_free(aside, TRUE);
	/* what was committed is marked even when the batch ended on an error */
	DmError me = {0};
	int mrc = mark(ps, uids, &me);
	g_array_free(uids, TRUE);
	if (rc == 0 && mrc)
		rc = dm_error_set(err, mrc, "%s", me.msg);
	return rc;
}

/* Mark what was committed but not marked (a crash between the two). */
static int repair_marks(Pass *ps, DmError *err)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	int rc = store_mailbox_unmarked(ps->desk->db, ps->mbid, ps->uidvalidity, REPAIR_MAX, uids,
					err);
	for (guint i = 0; rc == 0 && i < uids->len; i++)
		log_info("uid %u: to be marked on the server after an earlier interruption",
			 g_array_index(uids, uint32_t, i));
	if (rc == 0)
		rc = mark(ps, uids, err);
	g_array_free(uids, TRUE);
	return rc;
}

/* "INBOX" of imap://host:port/INBOX (borrowed from the URL). */
static const char *mailbox_name(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return p && p[1] ? p + 1 : url;
}

/* A mail over the size cap: left on the server, recorded in quarantine by
 * its header (when that could be had) and where it lies. */
static unsigned char *over_cap_note(Pass *ps, const Fetched *f, size_t *len_r)
{
	g_autofree char *h =
		f->head_len ? g_strndup((const char *)f->head, f->head_len) : g_strdup("");
	g_strchomp(h);
	char *note = g_strdup_printf("%s%sX-Deskmail-Left-On-Server: %s uidvalidity %u uid %u\r\n"
				     "\r\n[deskmail: %s; the whole message was left on the "
				     "server]\r\n",
				     h, *h ? "\r\n" : "", ps->mb->url, ps->uidvalidity, f->uid,
				     f->err.msg);
	*len_r = strlen(note);
	return (unsigned char *)note;
}

/* Parse one fetched UID and add it to the batch (f's bytes are taken). */
static int take(Pass *ps, Fetched *f, DmError *err)
{
	MailSource src = {.source = "imap",
			  .mailbox_id = ps->mbid,
			  .mailbox = ps->mailbox,
			  .brand = ps->mb->name,
			  .uidvalidity = ps->uidvalidity,
			  .uid = f->uid};
	unsigned char *raw = f->raw;
	size_t len = f->len;
	char *why = NULL;
	int rc = f->rc;
	if (rc == DM_EPERM) {
		why = g_strdup(f->err.msg);
		raw = over_cap_note(ps, f, &len);
		src.truncated = true;
		src.truncated_reason = why;
		rc = 0;
	} else {
		f->raw = NULL; /* the job owns it now */
	}
	if (rc == DM_ENOTFOUND) {
		log_info("uid %u: gone from the mailbox before it could be fetched", f->uid);
		/* the checkpoint goes past it with the mails before it */
		rc = commit(ps, err);
		return rc ? rc
			  : store_mailbox_advance(ps->desk->db, ps->mbid, ps->uidvalidity, f->uid,
						  err);
	}
	if (rc)
		return dm_error_set(err, rc, "uid %u: %s", f->uid, f->err.msg);
	ps->st->fetched++;
	MailJob *j = job_new(raw, len, &src);
	j->why = why; /* the job owns the reason src points to */
	ps->ahead_fetch += f->fetch_seconds;
	ps->ahead_parse += f->parse_seconds;
	if (why) {
		job_parse(ps->desk, j, &ps->t); /* the note made of its header */
	} else {
		/* parsed by the fetcher */
		j->mail = f->mail;
		f->mail = NULL;
		j->parse_err = f->parse_err;
		memcpy(j->sha256, f->sha256, sizeof j->sha256);
	}
	return batch_add(&ps->batch, j, err);
}

static void log_timing(const Pass *ps, int64_t started)
{
	const IngestTiming *t = &ps->t;
	if (ps->st->fetched == 0)
		return;
	log_info("poll timing: %zu mails in %.2f s: fetch %.2f s, parse %.2f s, facts %.2f s, "
		 "plan %.2f s, compose %.2f s, apply %.2f s, commit %.2f s, mark %.2f s",
		 ps->st->fetched, secs_since(started), t->fetch, t->parse, t->facts, t->plan,
		 t->compose, t->apply, t->commit, t->mark);
	/* what the fetcher thread did meanwhile (its time is in "fetch" only
	 * where the desk had to wait for it) */
	log_info("poll fetcher: fetch %.2f s, parse %.2f s", ps->ahead_fetch, ps->ahead_parse);
}

/* The mails above the checkpoint, window by window, into batches; a
 * thread fetches a few mails ahead of the one being taken in. */
static int take_new(Pass *ps, uint32_t last, uint32_t uidnext, DmError *err)
{
	const CfgMailbox *mb = ps->mb;
	int rc = 0;
	bool more = uidnext > last + 1;
	if (more)
		ps->fetch = fetcher_start(ps->imap, ps->uidvalidity, (size_t)mb->max_message_bytes,
					  &ps->desk->limits);
	while (more && rc == 0 && !desk_stopping(ps->desk)) {
		uint32_t *uids = NULL;
		size_t n = 0;
		fetcher_pause(ps->fetch);
		rc = imap_search_range(ps->imap, last + 1, uidnext - 1, (size_t)mb->batch, 0, &uids,
				       &n, err);
		fetcher_resume(ps->fetch);
		if (rc)
			break;
		fetcher_add(ps->fetch, uids, n);
		for (size_t i = 0; i < n && rc == 0 && !desk_stopping(ps->desk); i++) {
			int64_t t0 = now_us();
			Fetched *f = fetcher_next(ps->fetch);
			ps->t.fetch += secs_since(t0); /* the wait for the mail, parsed */
			g_assert(f != NULL && f->uid == uids[i]);
			rc = take(ps, f, err);
			fetched_free(f);
			if (rc == 0)
				last = uids[i];
			if (rc == 0 && batch_full(&ps->batch))
				rc = commit(ps, err);
		}
		more = rc == 0 && n == (size_t)mb->batch && last + 1 < uidnext;
		g_free(uids);
	}
	fetcher_stop(ps->fetch);
	ps->fetch = NULL;
	return rc;
}

/* One pass over mailbox i.  The lock is taken anew by every pass, after
 * store_ensure: a session that was lost and reconnected lost its lock with
 * it, and a pass never reconnects midway (a lost connection fails the
 * statements until the pass ends). */
static int poll_mailbox(Desk *desk, size_t i, PollStats *st, DmError *err)
{
	const CfgMailbox *mb = &desk->cfg->mailboxes[i];
	memset(st, 0, sizeof *st);
	int64_t started = now_us();
	int rc = store_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	/* log lines name the mailbox by its folder, or by its name when there
	 * are several */
	Pass ps = {.desk = desk,
		   .mb = mb,
		   .mailbox = desk->cfg->mailbox_list ? mb->name : mailbox_name(mb->url),
		   .st = st};
	uint32_t uv_db, last;
	size_t on_url = 0;
	for (size_t k = 0; k < desk->cfg->n_mailboxes; k++)
		on_url += strcmp(desk->cfg->mailboxes[k].url, mb->url) == 0;
	rc = store_mailbox_open(desk->db, mb->url, mb->username, on_url == 1, &ps.mbid, &uv_db,
				&last, err);
	if (rc)
		return rc;
	bool locked = false;
	rc = store_mailbox_lock(desk->db, ps.mbid, &locked, err);
	if (rc)
		return rc;
	if (!locked) {
		log_info("mailbox %s: another deskmail is polling it; skipping this pass",
			 mb->name);
		return 0;
	}
	ps.imap = desk_imap(desk, i);
	batch_init(&ps.batch, desk, true, &ps.t);
	ps.done = g_array_new(FALSE, TRUE, sizeof(BatchDone));

	uint32_t uidnext = 0;
	rc = imap_status(ps.imap, &ps.uidvalidity, &uidnext, err);
	if (rc == 0 && ps.uidvalidity != uv_db) {
		if (uv_db != 0)
			log_warn("%s: UIDVALIDITY changed from %u to %u: rescanning; mail already "
				 "stored is recognised and skipped",
				 mb->url, uv_db, ps.uidvalidity);
		rc = store_mailbox_reset(desk->db, ps.mbid, mb->url, uv_db, ps.uidvalidity, err);
		last = 0;
	}
	if (rc == 0)
		rc = repair_marks(&ps, err);
	if (rc == 0)
		rc = take_new(&ps, last, uidnext, err);
	/* what was taken in is committed and marked even when the pass stops
	 * on an error (the IMAP server's, or a mail's); when the database
	 * itself is gone the commit fails and the batch is taken in again by
	 * the next pass */
	DmError ce = {0};
	int crc = commit(&ps, &ce);
	if (rc == 0 && crc)
		rc = dm_error_set(err, crc, "%s", ce.msg);
	batch_clear(&ps.batch);
	g_array_free(ps.done, TRUE);
	store_mailbox_unlock(desk->db, ps.mbid);
	log_timing(&ps, started);
	return rc;
}

static void add_stats(PollStats *sum, const PollStats *st)
{
	sum->fetched += st->fetched;
	sum->tickets += st->tickets;
	sum->replies += st->replies;
	sum->quarantined += st->quarantined;
	sum->duplicates += st->duplicates;
	sum->failed += st->failed;
	sum->set_aside += st->set_aside;
}

int desk_poll_mailbox(Desk *desk, size_t i, bool now, bool *polled_r, PollStats *st, DmError *err)
{
	const Config *cfg = desk->cfg;
	const CfgMailbox *mb = &cfg->mailboxes[i];
	memset(st, 0, sizeof *st);
	*polled_r = false;
	int64_t t = now_us();
	if (!now && desk->polled_at[i] != 0 &&
	    t - desk->polled_at[i] < (int64_t)mb->poll_interval * G_USEC_PER_SEC - 50000)
		return 0; /* polled lately: its own interval has not passed */
	desk->polled_at[i] = t;
	*polled_r = true;
	DmError e = {0};
	int rc = poll_mailbox(desk, i, st, &e);
	/* a failed poll does not count: the next try (after the daemon's
	 * backoff, a few seconds) polls without waiting the interval out */
	if (rc)
		desk->polled_at[i] = 0;
	if (rc && cfg->mailbox_list)
		dm_error_set(err, rc, "mailbox %s: %s", mb->name, e.msg);
	else if (rc)
		*err = e;
	return rc;
}

int desk_poll(Desk *desk, PollStats *st, DmError *err)
{
	const Config *cfg = desk->cfg;
	memset(st, 0, sizeof *st);
	int rc = 0;
	for (size_t i = 0; i < cfg->n_mailboxes && !desk_stopping(desk); i++) {
		PollStats one;
		DmError e = {0};
		bool polled;
		int mrc = desk_poll_mailbox(desk, i, false, &polled, &one, &e);
		add_stats(st, &one);
		if (mrc == 0)
			continue;
		/* a mailbox's trouble does not keep the others from their pass */
		if (rc == 0 || mrc == DM_ECONFIG) {
			dm_error_clear(err);
			*err = e;
			rc = mrc;
		} else {
			log_warn("poll: %s (%s; retrying next interval)", e.msg,
				 dm_error_kind_name(mrc));
		}
		if (mrc == DM_ECONFIG)
			break;
	}
	return rc;
}

int desk_poll_interval(const Desk *desk)
{
	int s = desk->cfg->mailboxes[0].poll_interval;
	for (size_t i = 1; i < desk->cfg->n_mailboxes; i++)
		s = MIN(s, desk->cfg->mailboxes[i].poll_interval);
	return s;
}
