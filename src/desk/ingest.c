/* ingest.c - one mail handed in by an MTA (`deskmail ingest`): a batch of
 * one.  Parse, gather the facts, plan, render, apply, commit; the same
 * path as poll's.  A mail whose effects cannot be stored is kept in
 * quarantine with the reason, as poll keeps it; only when the database is
 * down (DM_ETEMP, EX_TEMPFAIL for the MTA to retry) or refuses even that is
 * nothing stored. */
#include <string.h>

#include "desk-private.h"

int desk_ingest(Desk *desk, const unsigned char *raw, size_t len, const MailSource *src,
		IngestResult *res, DmError *err)
{
	memset(res, 0, sizeof *res);
	int rc = store_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	IngestTiming timing = {0};
	MailJob *j = job_new(g_memdup2(raw, len), len, src);
	job_parse(desk, j, &timing);
	if (j->mail && j->mail->message_id)
		g_strlcpy(res->message_id, j->mail->message_id, sizeof res->message_id);

	return desk_take_one(desk, j, true, &timing, res, err);
}

int desk_take_one(Desk *desk, MailJob *j, bool fallback, IngestTiming *timing, IngestResult *res,
		  DmError *err)
{
	Batch b;
	batch_init(&b, desk, fallback, timing);
	GArray *done = g_array_new(FALSE, TRUE, sizeof(BatchDone));
	int rc = batch_add(&b, j, err);
	if (rc == 0)
		rc = batch_commit(&b, done, err);
	if (rc == 0 && done->len == 1)
		*res = g_array_index(done, BatchDone, 0).res;
	batch_clear(&b);
	g_array_free(done, TRUE);
	return rc;
}
