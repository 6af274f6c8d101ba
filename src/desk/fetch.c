/* fetch.c - fetching ahead: a thread fetches and parses the next mails of
 * a pass while the desk plans, renders and writes the mail before them.
 *
 * Why: an IMAP fetch is a round trip to the server (libcurl 7.88 fetches
 * one message per command, TECH-NOTES pitfall 1) during which the desk
 * would otherwise wait; with the fetch done ahead, a mail costs the longer
 * of the two, not their sum.  The fetcher also hashes and parses each mail
 * (mime_parse makes a Mail of plain C types and keeps no GMime object past
 * its return), so that work leaves the desk's thread too.
 *
 * What it does not: it never marks, searches or decides anything, and it
 * keeps at most FETCH_AHEAD mails or FETCH_AHEAD_BYTES bytes in hand, so
 * memory does not grow with the mailbox.  Mails it fetched and the desk
 * did not take (the pass stopped) are dropped: nothing was written about
 * them, and the next pass fetches them again.
 *
 * One IMAP session, one connection, as before: the desk searches and marks
 * on the same session with the fetcher paused (fetcher_pause waits for the
 * fetch under way to end), so the server never reports to one session what
 * another changed (libcurl 7.88 cannot read an unexpected FETCH response in
 * the middle of its own), and a curl handle is never used by two threads
 * at once.  The fetcher thread calls only imap_fetch/imap_fetch_header,
 * mime_parse, dm_sha256_hex and GLib.  One mutex guards the queues. */
#include <string.h>

#include "desk-private.h"
#include "deskmail/util.h"

/* mails fetched ahead at most, and bytes of them */
#define FETCH_AHEAD 64
#define FETCH_AHEAD_BYTES (4 * 1024 * 1024)
/* the header of a message over imap.max_message_bytes is kept up to this */
#define HEADER_MAX_BYTES (256 * 1024)

struct Fetcher {
	ImapSession *imap; /* borrowed: the desk's session */
	uint32_t uidvalidity;
	size_t max_bytes;
	const MimeLimits *limits;
	GThread *thread;
	GMutex lock;
	GCond cond;
	GQueue todo;  /* of GUINT_TO_POINTER(uid): to fetch, in order */
	GQueue ready; /* of Fetched*: fetched, in order */
	size_t ready_bytes;
	bool stop;
	bool paused; /* the desk uses the session */
	bool busy;   /* the thread is fetching one now */
};

void fetched_free(Fetched *f)
{
	if (f == NULL)
		return;
	g_free(f->raw);
	g_free(f->head);
	mail_free(f->mail);
	g_free(f);
}

/* What a fetched mail holds in memory, parsed: about twice its bytes. */
static size_t held_bytes(const Fetched *f)
{
	return 2 * f->len + f->head_len;
}

static Fetched *fetch_one(Fetcher *fe, uint32_t uid)
{
	Fetched *f = g_new0(Fetched, 1);
	f->uid = uid;
	int64_t t0 = now_us();
	f->rc = imap_fetch(fe->imap, fe->uidvalidity, uid, fe->max_bytes, &f->raw, &f->len,
			   &f->err);
	f->fetch_seconds = (double)(now_us() - t0) / G_USEC_PER_SEC;
	if (f->rc == 0) {
		t0 = now_us();
		dm_sha256_hex(f->raw, f->len, f->sha256);
		if (mime_parse(f->raw, f->len, fe->limits, &f->mail, &f->parse_err) != 0)
			f->mail = NULL;
		f->parse_seconds = (double)(now_us() - t0) / G_USEC_PER_SEC;
	}
	if (f->rc == DM_EPERM) {
		/* over the cap: its header, to record it by sender and subject */
		DmError he = {0};
		if (imap_fetch_header(fe->imap, fe->uidvalidity, uid, HEADER_MAX_BYTES, &f->head,
				      &f->head_len, &he) != 0)
			f->head_len = 0;
	}
	return f;
}

static gpointer run(gpointer arg)
{
	Fetcher *fe = arg;
	g_mutex_lock(&fe->lock);
	for (;;) {
		while (!fe->stop &&
		       (fe->paused || g_queue_is_empty(&fe->todo) ||
			fe->ready.length >= FETCH_AHEAD || fe->ready_bytes >= FETCH_AHEAD_BYTES))
			g_cond_wait(&fe->cond, &fe->lock);
		if (fe->stop)
			break;
		uint32_t uid = GPOINTER_TO_UINT(g_queue_pop_head(&fe->todo));
		fe->busy = true;
		g_mutex_unlock(&fe->lock);
		Fetched *f = fetch_one(fe, uid);
		g_mutex_lock(&fe->lock);
		fe->busy = false;
		g_queue_push_tail(&fe->ready, f);
		fe->ready_bytes += held_bytes(f);
		/* after a failure the desk stops the pass: fetch no further */
		if (f->rc != 0 && f->rc != DM_EPERM && f->rc != DM_ENOTFOUND)
			while (!g_queue_is_empty(&fe->todo))
				g_queue_pop_head(&fe->todo);
		g_cond_broadcast(&fe->cond);
	}
	g_mutex_unlock(&fe->lock);
	return NULL;
}

Fetcher *fetcher_start(ImapSession *imap, uint32_t uidvalidity, size_t max_bytes,
		       const MimeLimits *limits)
{
	Fetcher *fe = g_new0(Fetcher, 1);
	fe->limits = limits;
	fe->imap = imap;
	fe->uidvalidity = uidvalidity;
	fe->max_bytes = max_bytes;
	g_mutex_init(&fe->lock);
	g_cond_init(&fe->cond);
	g_queue_init(&fe->todo);
	g_queue_init(&fe->ready);
	fe->thread = g_thread_new("deskmail-fetch", run, fe);
	return fe;
}

void fetcher_add(Fetcher *fe, const uint32_t *uids, size_t n)
{
	g_mutex_lock(&fe->lock);
	for (size_t i = 0; i < n; i++)
		g_queue_push_tail(&fe->todo, GUINT_TO_POINTER(uids[i]));
	g_cond_broadcast(&fe->cond);
	g_mutex_unlock(&fe->lock);
}

void fetcher_pause(Fetcher *fe)
{
	g_mutex_lock(&fe->lock);
	fe->paused = true;
	while (fe->busy)
		g_cond_wait(&fe->cond, &fe->lock);
	g_mutex_unlock(&fe->lock);
}

void fetcher_resume(Fetcher *fe)
{
	g_mutex_lock(&fe->lock);
	fe->paused = false;
	g_cond_broadcast(&fe->cond);
	g_mutex_unlock(&fe->lock);
}

Fetched *fetcher_next(Fetcher *fe)
{
	g_mutex_lock(&fe->lock);
	g_assert(!fe->paused);
	while (g_queue_is_empty(&fe->ready) && (fe->busy || !g_queue_is_empty(&fe->todo)))
		g_cond_wait(&fe->cond, &fe->lock);
	Fetched *f = g_queue_pop_head(&fe->ready);
	if (f) {
		fe->ready_bytes -= held_bytes(f);
		g_cond_broadcast(&fe->cond);
	}
	g_mutex_unlock(&fe->lock);
	return f;
}

void fetcher_stop(Fetcher *fe)
{
	if (fe == NULL)
		return;
	g_mutex_lock(&fe->lock);
	fe->stop = true;
	g_cond_broadcast(&fe->cond);
	g_mutex_unlock(&fe->lock);
	g_thread_join(fe->thread);
	g_queue_clear(&fe->todo);
	Fetched *f;
	while ((f = g_queue_pop_head(&fe->ready)) != NULL)
		fetched_free(f);
	g_mutex_clear(&fe->lock);
	g_cond_clear(&fe->cond);
	g_free(fe);
}
