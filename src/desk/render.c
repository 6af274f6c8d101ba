/* render.c - the mail of a plan made real: each PlanMail is rendered from
 * its template with the planner's values, gets the ticket's "[#N]" in its
 * subject and a new Message-ID, and is composed into wire bytes, once, when
 * it is queued: a retry sends the same bytes with the same Message-ID. */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/util.h"

static int render_one(Desk *desk, const Brand *b, PlanMail *pm, DmError *err)
{
	const Config *cfg = brand_cfg(desk, b);
	Template *const *tpl = b && b->mb->templates ? b->tpl : desk->tpl;
	char *subject = NULL, *text = NULL, *html = NULL;
	int rc = template_render(tpl[pm->tpl], plan_vars_lookup, &pm->vars, &subject, &text, &html,
				 err);
	if (rc)
		return rc;
	char tb[24];
	if (pm->ticket_id) {
		char token[32];
		plan_ticket_token(pm->ticket_id, token);
		if (strstr(subject, token) == NULL) {
			char *s = g_strdup_printf("%s %s", token, subject);
			g_free(subject);
			subject = s;
		}
		snprintf(tb, sizeof tb, "%lld", (long long)pm->ticket_id);
	}
	pm->subject = subject;
	pm->text = text;
	pm->html = html;
	pm->message_id = mime_new_message_id(cfg->desk_domain);
	pm->from_display = g_strdup(pm->from_name ? pm->from_name : cfg->desk_name);
	g_autofree char *rcpt = g_ascii_strdown(pm->to_addr, -1);

	OutAttachment files[PLAN_MAX_ATTACHMENTS];
	for (size_t i = 0; i < pm->n_attachments; i++) {
		const MailAttachment *a = pm->attachments[i];
		files[i] = (OutAttachment){.filename = a->filename,
					   .content_type = a->content_type,
					   .data = a->data,
					   .size = a->size,
					   .sha256 = a->sha256};
	}
	OutAttachment image = {.filename = pm->inline_name,
			       .content_type = pm->inline_type,
			       .data = pm->inline_data,
			       .size = pm->inline_len,
			       .content_id = pm->inline_cid};
	/* X-Loop on everything we send: mail that comes back with it is ours
	 * (plan_mail.c takes it as automatic) */
	const char *extra[] = {"X-Loop", cfg->desk_address, "X-Deskmail-Ticket", tb};
	OutMail m = {
		.from_name = pm->from_display,
		.from_addr = cfg->desk_address,
		.to_name = pm->to_name,
		.to_addr = rcpt,
		.reply_to = pm->reply_to,
		.subject = pm->subject,
		.message_id = pm->message_id,
		.in_reply_to = pm->in_reply_to,
		.references = pm->refs,
		.n_references = pm->n_refs,
		.auto_submitted = pm->automatic ? "auto-replied" : pm->auto_header,
		.extra_headers = extra,
		.n_extra_headers = pm->ticket_id ? 2 : 1,
		.text = pm->text,
		.html = pm->html,
		.attachments = files,
		.n_attachments = pm->n_attachments,
		.inline_parts = &image,
		.n_inline = pm->inline_data && pm->html ? 1 : 0,
		.date = dm_now(),
	};
	return mime_compose(&m, &pm->wire, &pm->wire_len, err);
}

int render_plan(Desk *desk, const Brand *b, Plan *p, DmError *err)
{
	for (guint i = 0; i < p->mails->len; i++) {
		int rc = render_one(desk, b, &g_array_index(p->mails, PlanMail, i), err);
		if (rc)
			return rc;
	}
	return 0;
}
