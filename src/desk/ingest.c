/* ingest.c - one mail handed in by an MTA (`deskmail ingest`): a batch of
 * one.  Parse, gather the facts, plan, render, apply, commit; the same
 * path as poll's, without its fallback: a mail that cannot be stored makes
 * the command fail, so the MTA keeps it (EX_TEMPFAIL when the database is
 * down, to be retried). */
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

	Batch b;
	batch_init(&b, desk, false, &timing);
	GArray *done = g_array_new(FALSE, TRUE, sizeof(BatchDone));
	rc = batch_add(&b, j, err);
	if (rc == 0)
		rc = batch_commit(&b, done, err);
	if (rc == 0 && done->len == 1)
		*res = g_array_index(done, BatchDone, 0).res;
	batch_clear(&b);
	g_array_free(done, TRUE);
	return rc;
}
