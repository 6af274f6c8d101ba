/* job.c - one mail, one job: the object that owns everything of one mail
 * on its way through the desk (its raw bytes, the parsed Mail, the facts,
 * the plan and the plan's rendered mail) and frees it in one place, as
 * Postfix's cleanup state does for one message. */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/util.h"

MailJob *job_new(unsigned char *raw, size_t len, const MailSource *src)
{
	MailJob *j = g_new0(MailJob, 1);
	j->raw = raw;
	j->len = len;
	j->src = *src;
	j->in_mailbox = src->brand;
	plan_init(&j->plan);
	return j;
}

void job_reset(MailJob *j)
{
	plan_clear(&j->plan);
	plan_init(&j->plan);
	mail_facts_clear(&j->facts);
	j->set_aside = 0;
}

void job_free(MailJob *j)
{
	if (j == NULL)
		return;
	plan_clear(&j->plan);
	mail_facts_clear(&j->facts);
	mail_free(j->mail);
	g_free(j->why);
	g_free(j->raw);
	g_free(j);
}

void job_where(const MailJob *j, char *buf, size_t size)
{
	if (j->src.mailbox_id)
		snprintf(buf, size, "%.120s uid %u", j->src.mailbox ? j->src.mailbox : "imap",
			 j->src.uid);
	else
		snprintf(buf, size, "pipe");
}

void job_parse(Desk *desk, MailJob *j, IngestTiming *t)
{
	int64_t t0 = now_us();
	dm_sha256_hex(j->raw, j->len, j->sha256);
	if (mime_parse(j->raw, j->len, &desk->limits, &j->mail, &j->parse_err) != 0)
		j->mail = NULL;
	if (t)
		t->parse += (double)(now_us() - t0) / G_USEC_PER_SEC;
}

size_t job_bytes(const MailJob *j)
{
	size_t n = j->len;
	if (j->mail) {
		n += strlen(j->mail->text) + (j->mail->html ? strlen(j->mail->html) : 0);
		for (size_t i = 0; i < j->mail->n_attachments; i++)
			n += j->mail->attachments[i].size;
	}
	for (guint i = 0; j->plan.mails && i < j->plan.mails->len; i++) {
		const PlanMail *pm = &g_array_index(j->plan.mails, PlanMail, i);
		n += pm->wire_len + (pm->text ? strlen(pm->text) : 0) +
		     (pm->html ? strlen(pm->html) : 0);
	}
	return n;
}
