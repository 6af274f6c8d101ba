/* poll.c - one pass over the IMAP mailbox, incremental by UID.
 *
 * The mailbox's UIDVALIDITY and the last UID done are kept in PostgreSQL and
 * advance in the same transaction as each message's effects, so a pass costs
 * one STATUS when nothing is new and otherwise follows the number of new
 * messages, never the size of the mailbox.  A message is flagged or moved on
 * the server only after its commit (in batches, one STORE for up to
 * MARK_BATCH committed messages); mailbox_seen remembers which commits are
 * not marked yet, so a crash between the two is repaired by the next pass.
 * A UIDVALIDITY change starts the mailbox over from UID 1: what was stored
 * before is recognised by content hash or Message-ID and only checkpointed.
 * One poller per mailbox, by a PostgreSQL advisory lock. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/imap.h"
#include "deskmail/log.h"

#define POLL_LOCK_CLASS "7291005"
/* the header of a message over imap.max_message_bytes is kept up to this */
#define HEADER_MAX_BYTES (256 * 1024)
/* committed UIDs are marked on the server this many at a time (one STORE),
 * and at the end of every pass */
#define MARK_BATCH 50

static int mailbox_row(Desk *desk, int64_t *id_r, uint32_t *uv_r, uint32_t *last_r, DmError *err)
{
	const char *p[] = {desk->cfg->imap_url};
	DbRes *r = NULL;
	int rc = db_exec(desk->db,
			 "INSERT INTO mailbox (url) VALUES ($1) ON CONFLICT (url) DO UPDATE "
			 "SET url = EXCLUDED.url RETURNING id, uidvalidity, last_uid",
			 1, p, &r, err);
	if (rc)
		return rc;
	*id_r = dbres_i64(r, 0, 0, 0);
	*uv_r = (uint32_t)dbres_i64(r, 0, 1, 0);
	*last_r = (uint32_t)dbres_i64(r, 0, 2, 0);
	dbres_free(r);
	return 0;
}

static int set_uidvalidity(Desk *desk, int64_t mbid, uint32_t old, uint32_t uv, DmError *err)
{
	char mb[24], u[24], o[24];
	const char *p[] = {i64s(mb, mbid), i64s(u, uv)};
	int rc = db_exec(
		desk->db,
		"UPDATE mailbox SET uidvalidity = $2::bigint, last_uid = 0, updated_at = now() "
		"WHERE id = $1::bigint",
		2, p, NULL, err);
	if (rc == 0 && old != 0)
		rc = desk_event(desk, 0, "mailbox-uidvalidity-changed", "deskmail", "uidvalidity",
				i64s(o, old), u, desk->cfg->imap_url, err);
	return rc;
}

static int advance_to(Desk *desk, int64_t mbid, uint32_t uv, uint32_t uid, DmError *err)
{
	char mb[24], u[24], v[24];
	const char *p[] = {i64s(mb, mbid), i64s(v, uv), i64s(u, uid)};
	return db_exec(
		desk->db,
		"UPDATE mailbox SET last_uid = GREATEST(last_uid, $3::bigint), updated_at = now() "
		"WHERE id = $1::bigint AND uidvalidity = $2::bigint",
		3, p, NULL, err);
}

static int record_marked(Desk *desk, int64_t mbid, uint32_t uv, GArray *uids, DmError *err)
{
	if (uids->len == 0)
		return 0;
	GString *s = g_string_new("{");
	for (guint i = 0; i < uids->len; i++)
		g_string_append_printf(s, "%s%u", i ? "," : "", g_array_index(uids, uint32_t, i));
	g_string_append_c(s, '}');
	char mb[24], v[24];
	const char *p[] = {i64s(mb, mbid), i64s(v, uv), s->str};
	int rc = db_exec(desk->db,
			 "UPDATE mailbox_seen SET marked = true WHERE mailbox_id = $1::bigint AND "
			 "uidvalidity = $2::bigint AND uid = ANY ($3::bigint[])",
			 3, p, NULL, err);
	g_string_free(s, TRUE);
	g_array_set_size(uids, 0);
	return rc;
}

/* Mark the committed UIDs in `pending` on the server with one command (a
 * STORE, and a MOVE with move_to), then record them as marked.  On failure
 * they stay unmarked in mailbox_seen and the next poll repairs them. */
static int flush_marks(Desk *desk, int64_t mbid, uint32_t uv, GArray *pending, DmError *err)
{
	const Config *cfg = desk->cfg;
	if (pending->len == 0)
		return 0;
	DmError e = {0};
	int rc = imap_mark_set(desk->imap, (const uint32_t *)(void *)pending->data, pending->len,
			       cfg->imap_mark_flag, cfg->imap_move_to, &e);
	if (rc != 0 && rc != DM_ENOTFOUND) {
		log_warn("uids %u..%u: could not mark on the server (the next poll retries): %s",
			 g_array_index(pending, uint32_t, 0),
			 g_array_index(pending, uint32_t, pending->len - 1), e.msg);
		g_array_set_size(pending, 0);
		return 0;
	}
	return record_marked(desk, mbid, uv, pending, err);
}

/* Mark what was committed but not marked (a crash between the two). */
static int repair_marks(Desk *desk, int64_t mbid, uint32_t uv, GArray *marked, DmError *err)
{
	char mb[24], v[24];
	const char *p[] = {i64s(mb, mbid), i64s(v, uv)};
	DbRes *r = NULL;
	int rc = db_exec(desk->db,
			 "SELECT uid FROM mailbox_seen WHERE mailbox_id = $1::bigint AND "
			 "uidvalidity = $2::bigint AND NOT marked ORDER BY uid LIMIT 1000",
			 2, p, &r, err);
	if (rc)
		return rc;
	for (int i = 0; i < dbres_rows(r); i++) {
		uint32_t uid = (uint32_t)dbres_i64(r, i, 0, 0);
		g_array_append_val(marked, uid);
		log_info("uid %u: to be marked on the server after an earlier interruption", uid);
	}
	dbres_free(r);
	return flush_marks(desk, mbid, uv, marked, err);
}

/* "INBOX" of imap://host:port/INBOX (borrowed from the URL). */
static const char *mailbox_name(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return p && p[1] ? p + 1 : url;
}

static int ingest_one(Desk *desk, int64_t mbid, uint32_t uv, uint32_t uid, PollStats *st,
		      DmError *err)
{
	const Config *cfg = desk->cfg;
	unsigned char *raw = NULL;
	size_t len = 0;
	DmError fe = {0};
	IngestSource src = {.source = "imap",
			    .mailbox_id = mbid,
			    .mailbox = mailbox_name(cfg->imap_url),
			    .uidvalidity = uv,
			    .uid = uid};
	int rc = imap_fetch(desk->imap, uv, uid, (size_t)cfg->imap_max_message_bytes, &raw, &len,
			    &fe);
	g_autofree char *note = NULL;
	if (rc == DM_ENOTFOUND) {
		log_info("uid %u: gone from the mailbox before it could be fetched", uid);
		return advance_to(desk, mbid, uv, uid, err);
	}
	if (rc == DM_EPERM) {
		/* Over the cap: left on the server, recorded in quarantine by
		 * its header (when that can be had) and where it lies. */
		unsigned char *head = NULL;
		size_t hlen = 0;
		DmError he = {0};
		if (imap_fetch_header(desk->imap, uv, uid, HEADER_MAX_BYTES, &head, &hlen, &he) !=
		    0)
			hlen = 0;
		g_autofree char *h = hlen ? g_strndup((const char *)head, hlen) : g_strdup("");
		g_free(head);
		g_strchomp(h);
		note = g_strdup_printf("%s%sX-Deskmail-Left-On-Server: %s uidvalidity %u uid %u\r\n"
				       "\r\n[deskmail: %s; the whole message was left on the "
				       "server]\r\n",
				       h, *h ? "\r\n" : "", cfg->imap_url, uv, uid, fe.msg);
		raw = (unsigned char *)g_strdup(note);
		len = strlen(note);
		src.truncated = true;
		src.truncated_reason = fe.msg;
	} else if (rc) {
		dm_error_set(err, rc, "uid %u: %s", uid, fe.msg);
		return rc;
	}
	st->fetched++;
	IngestResult res;
	rc = desk_ingest(desk, raw, len, &src, &res, err);
	if (rc && rc != DM_ETEMP) {
		/* A bug or a value the database refused: keep the mail in
		 * quarantine with the reason instead of blocking the mailbox. */
		g_autofree char *why = g_strdup_printf("could not be stored: %s", err->msg);
		dm_error_clear(err);
		src.truncated = true;
		src.truncated_reason = why;
		rc = desk_ingest(desk, raw, len, &src, &res, err);
	}
	if (note)
		g_free(raw);
	else
		g_free(raw);
	if (rc) {
		st->failed++;
		return rc;
	}
	switch (res.outcome) {
	case INGEST_TICKET:
		st->tickets++;
		break;
	case INGEST_REPLY:
		st->replies++;
		break;
	case INGEST_QUARANTINE:
		st->quarantined++;
		break;
	case INGEST_DUPLICATE:
		st->duplicates++;
		break;
	}
	return 0;
}

int desk_poll(Desk *desk, PollStats *st, DmError *err)
{
	const Config *cfg = desk->cfg;
	memset(st, 0, sizeof *st);
	int rc = db_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	int64_t mbid;
	uint32_t uv_db, last;
	rc = mailbox_row(desk, &mbid, &uv_db, &last, err);
	if (rc)
		return rc;

	char lk[24];
	const char *lp[] = {POLL_LOCK_CLASS, i64s(lk, mbid)};
	DbRes *r = NULL;
	rc = db_exec(desk->db, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, lp, &r, err);
	if (rc)
		return rc;
	bool locked = dbres_bool(r, 0, 0);
	dbres_free(r);
	if (!locked) {
		log_notice("another deskmail is polling %s; skipping this pass", cfg->imap_url);
		return 0;
	}

	if (desk->imap == NULL) {
		ImapParams ip = {.url = cfg->imap_url,
				 .username = cfg->imap_username,
				 .password = cfg->imap_password,
				 .tls_verify = cfg->imap_tls_verify,
				 .ca_file = cfg->imap_ca_file,
				 .timeout = cfg->imap_timeout};
		desk->imap = imap_session_new(&ip);
	}
	GArray *marked = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	uint32_t uv = 0, uidnext = 0;
	rc = imap_status(desk->imap, &uv, &uidnext, err);
	if (rc == 0 && uv != uv_db) {
		if (uv_db != 0)
			log_warn("%s: UIDVALIDITY changed from %u to %u: rescanning; mail already "
				 "stored is recognised and skipped",
				 cfg->imap_url, uv_db, uv);
		rc = set_uidvalidity(desk, mbid, uv_db, uv, err);
		last = 0;
	}
	if (rc == 0)
		rc = repair_marks(desk, mbid, uv, marked, err);

	bool more = rc == 0 && uidnext > last + 1;
	while (more && !(desk->stop && *desk->stop)) {
		uint32_t *uids = NULL;
		size_t n = 0;
		rc = imap_search_range(desk->imap, last + 1, uidnext - 1, (size_t)cfg->imap_batch,
				       0, &uids, &n, err);
		if (rc)
			break;
		for (size_t i = 0; i < n && !(desk->stop && *desk->stop); i++) {
			bool reconnected = false;
			rc = db_ensure(desk->db, &reconnected, err);
			if (rc == 0 && reconnected) {
				/* the session lock went with the old connection */
				rc = dm_error_set(err, DM_ETEMP,
						  "database connection was reset during the pass");
			}
			if (rc == 0)
				rc = ingest_one(desk, mbid, uv, uids[i], st, err);
			if (rc)
				break;
			last = uids[i];
			g_array_append_val(marked, uids[i]);
			if (marked->len >= MARK_BATCH)
				rc = flush_marks(desk, mbid, uv, marked, err);
			if (rc)
				break;
		}
		more = rc == 0 && n == (size_t)cfg->imap_batch;
		g_free(uids);
	}
	/* what was committed is marked even when the pass stops on an error */
	DmError ignore = {0};
	flush_marks(desk, mbid, uv, marked, &ignore);
	g_array_free(marked, TRUE);
	db_exec(desk->db, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, lp, NULL, NULL);
	return rc;
}
