/* outbox.c - outgoing mail.  Mail is rendered from its template and
 * composed when it is queued, inside the transaction of the event that
 * caused it, so a retry sends the same bytes with the same Message-ID and
 * the unique event_key makes "one mail per event" a database fact.
 *
 * Sending claims due rows (status 'sending' with a lease, committed before
 * any SMTP traffic, so no transaction stays open across the network), sends
 * each, and records the outcome: sent, deferred with exponential backoff, or
 * failed (permanent reply or attempts exhausted).  A server that cannot be
 * reached at all is an outage, not this mail's fault: the pass stops and
 * the mail is due again at once, its attempts untouched.  A crash between the SMTP
 * server's acceptance and the 'sent' update leads to one resend after the
 * lease expires, with the same Message-ID; nothing else resends.
 *
 * Automatic replies are rate-limited per recipient and kind, by the limit
 * the caller gives (notices: desk.max_auto_replies_per_hour, so two
 * autoresponders can never loop; acknowledgements: desk.max_acks_per_hour,
 * off by default). */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/smtp.h"
#include "deskmail/util.h"

#define SEND_BATCH "50"
#define SEND_LEASE "10 minutes"

int outbox_queue(Desk *desk, const Template *tpl, TplVars *vars, const OutSpec *spec,
		 QueueResult *qr, DmError *err)
{
	const Config *cfg = desk->cfg;
	g_autofree char *rcpt = g_ascii_strdown(spec->to_addr, -1);
	char tb[24];
	int rc;

	if (spec->automatic && spec->max_per_hour >= 0) {
		const char *p[] = {rcpt, spec->kind};
		DbRes *r = NULL;
		rc = db_exec(
			desk->db,
			"SELECT count(*) FROM outbox WHERE automatic AND rcpt = $1 AND kind = $2 "
			"AND created_at > now() - interval '1 hour'",
			2, p, &r, err);
		if (rc)
			return rc;
		int64_t n = dbres_i64(r, 0, 0, 0);
		dbres_free(r);
		if (n >= spec->max_per_hour) {
			log_notice("automatic %s to %s suppressed: %lld in the last hour",
				   spec->kind, rcpt, (long long)n);
			*qr = QUEUED_RATE_LIMITED;
			return desk_event(desk, spec->ticket_id, "auto-reply-suppressed",
					  "deskmail", NULL, NULL, NULL, rcpt, err);
		}
	}

	g_autofree char *subject = NULL, *text = NULL, *html = NULL;
	rc = template_render(tpl, tplvars_lookup, vars, &subject, &text, &html, err);
	if (rc)
		return rc;
	if (spec->ticket_id) {
		char token[32];
		snprintf(token, sizeof token, "[#%lld]", (long long)spec->ticket_id);
		if (strstr(subject, token) == NULL) {
			char *s = g_strdup_printf("%s %s", token, subject);
			g_free(subject);
			subject = s;
		}
	}
	g_autofree char *msgid = mime_new_message_id(cfg->desk_domain);
	const char *extra[] = {"X-Deskmail-Ticket",
			       spec->ticket_id ? i64s(tb, spec->ticket_id) : ""};
	OutMail m = {
		.from_name = spec->from_name ? spec->from_name : cfg->desk_name,
		.from_addr = cfg->desk_address,
		.to_name = spec->to_name,
		.to_addr = rcpt,
		.reply_to = spec->reply_to,
		.subject = subject,
		.message_id = msgid,
		.in_reply_to = spec->in_reply_to,
		.references = spec->refs,
		.n_references = spec->n_refs,
		.auto_submitted = spec->automatic ? "auto-replied" : spec->auto_header,
		.extra_headers = extra,
		.n_extra_headers = spec->ticket_id ? 1 : 0,
		.text = text,
		.html = html,
		.attachments = spec->attachments,
		.n_attachments = spec->n_attachments,
		.date = g_get_real_time() / G_USEC_PER_SEC,
	};
	g_autofree char *wire = NULL;
	size_t wire_len = 0;
	rc = mime_compose(&m, &wire, &wire_len, err);
	if (rc)
		return rc;

	const char *p[] = {spec->event_key,   spec->kind, spec->ticket_id ? tb : NULL,
			   cfg->desk_address, rcpt,       spec->automatic ? "t" : "f",
			   subject,           msgid,      wire};
	int lens[] = {0, 0, 0, 0, 0, 0, 0, 0, (int)wire_len};
	int fmts[] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
	DbRes *r = NULL;
	rc = db_exec_bin(
		desk->db,
		"INSERT INTO outbox (event_key, kind, ticket_id, mail_from, rcpt, automatic, "
		"subject, message_id, raw) VALUES ($1, $2, $3::bigint, $4, $5, $6::boolean, "
		"$7, $8, $9) ON CONFLICT (event_key) DO NOTHING RETURNING id",
		9, p, lens, fmts, &r, err);
	if (rc)
		return rc;
	int inserted = dbres_rows(r);
	dbres_free(r);
	if (!inserted) {
		*qr = QUEUED_ALREADY;
		return 0;
	}
	*qr = QUEUED;
	if (spec->ticket_id == 0)
		return 0;
	/* The conversation shows every mail we send, with what it carried. */
	g_autofree char *refs_arr = pg_text_array(spec->refs, spec->n_refs);
	char sb[24];
	const char *mp[] = {tb,
			    cfg->desk_address,
			    m.from_name,
			    rcpt,
			    subject,
			    msgid,
			    spec->in_reply_to,
			    refs_arr,
			    text,
			    html,
			    spec->automatic ? "t" : "f",
			    spec->internal ? "t" : "f",
			    spec->staff_id ? "staff" : "system",
			    spec->staff_id ? i64s(sb, spec->staff_id) : NULL};
	r = NULL;
	rc = db_exec(
		desk->db,
		"INSERT INTO message (ticket_id, direction, author_kind, staff_id, from_addr, "
		"from_name, to_addrs, subject, message_id, in_reply_to, refs, body, body_full, "
		"body_html, automatic, internal) VALUES ($1::bigint, 'out', $13, $14::bigint, $2, "
		"$3, ARRAY[$4], $5, $6, $7, $8::text[], $9, $9, $10, $11::boolean, $12::boolean) "
		"RETURNING id",
		14, mp, &r, err);
	if (rc)
		return rc;
	char mb[24];
	i64s(mb, dbres_i64(r, 0, 0, 0));
	dbres_free(r);
	/* what we attached: the same blobs as the mail they came from */
	for (size_t i = 0; i < spec->n_attachments; i++) {
		const OutAttachment *a = &spec->attachments[i];
		char sha[65], sz[24];
		if (a->sha256 == NULL)
			dm_sha256_hex(a->data, a->size, sha);
		const char *ap[] = {mb, a->sha256 ? a->sha256 : sha, a->filename,
				    a->content_type ? a->content_type : "application/octet-stream",
				    i64s(sz, (int64_t)a->size)};
		rc = db_exec(
			desk->db,
			"INSERT INTO attachment (message_id, blob_sha256, filename, content_type, "
			"size) SELECT $1::bigint, $2, $3, $4, $5::bigint WHERE EXISTS (SELECT 1 "
			"FROM blob WHERE sha256 = $2)",
			5, ap, NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* A staff member's reply that cannot be delivered to the client: tell
 * them, with their text, so the client is not left without an answer. */
static int tell_author(Desk *desk, const char *outbox_id, int64_t ticket_id, const char *msgid,
		       const char *rcpt, const char *why, DmError *err)
{
	const char *p[] = {msgid};
	DbRes *r = NULL;
	int rc = db_exec(desk->db,
			 "SELECT m.staff_id, m.body FROM message m WHERE m.message_id = $1 AND "
			 "m.direction = 'out' AND m.staff_id IS NOT NULL LIMIT 1",
			 1, p, &r, err);
	if (rc || dbres_rows(r) == 0) {
		dbres_free(r);
		return rc;
	}
	g_autofree char *key = g_strdup_printf("notify-failed:outbox:%s", outbox_id);
	g_autofree char *title = g_strdup_printf("Your reply could not be delivered to %s", rcpt);
	g_autofree char *text = g_strdup_printf("The mail server said: %s\n\nYour text, not "
						"received by the client:\n\n%s",
						why, dbres_get(r, 0, 1));
	Notice n = {.kind = "notify-failed",
		    .key = key,
		    .title = title,
		    .text = text,
		    .who = NOTIFY_ONE,
		    .one_staff_id = dbres_i64(r, 0, 0, 0),
		    .actor_name = desk->cfg->desk_name,
		    .actor_email = desk->cfg->desk_address};
	TplVars view;
	DbRes *keep = NULL;
	rc = ticket_view(desk, NULL, ticket_id, &view, &keep, err);
	if (rc == 0)
		rc = notify_staff(desk, ticket_id, &view, &n, err);
	dbres_free(keep);
	dbres_free(r);
	return rc;
}

/* Mark row i of r failed for good, with its audit trail, in one transaction. */
static int give_up(Desk *desk, DbRes *r, int i, const char *why, DmError *err)
{
	const char *id = dbres_get(r, i, 0), *rcpt = dbres_get(r, i, 2);
	const char *kind = dbres_get(r, i, 5), *msgid = dbres_get(r, i, 6);
	int64_t ticket_id = dbres_i64(r, i, 7, 0);
	const char *p[] = {id, why};
	int rc = db_begin(desk->db, err);
	if (rc == 0)
		rc = db_exec(
			desk->db,
			"UPDATE outbox SET status = 'failed', locked_until = NULL, last_error = $2 "
			"WHERE id = $1::bigint",
			2, p, NULL, err);
	if (rc == 0 && ticket_id) {
		g_autofree char *detail = g_strdup_printf("%s to %s: %s", kind, rcpt, why);
		rc = desk_event(desk, ticket_id, "delivery-failed", "deskmail", NULL, NULL, NULL,
				detail, err);
	}
	if (rc == 0 && ticket_id)
		rc = tell_author(desk, id, ticket_id, msgid, rcpt, why, err);
	if (rc == 0)
		return db_commit(desk->db, err);
	db_rollback(desk->db);
	return rc;
}

static void backoff(const Config *cfg, int attempts, char out[24])
{
	int64_t secs = cfg->smtp_retry_base;
	for (int i = 1; i < attempts && secs < cfg->smtp_retry_max; i++)
		secs *= 2;
	if (secs > cfg->smtp_retry_max)
		secs = cfg->smtp_retry_max;
	i64s(out, secs);
}

int desk_send(Desk *desk, SendStats *st, DmError *err)
{
	const Config *cfg = desk->cfg;
	memset(st, 0, sizeof *st);
	SmtpParams sp = {
		.url = cfg->smtp_url,
		.username = cfg->smtp_username,
		.password = cfg->smtp_password,
		.tls_verify = cfg->smtp_tls_verify,
		.ca_file = cfg->smtp_ca_file,
		.timeout = cfg->smtp_timeout,
	};
	SmtpClient *smtp = NULL;
	int rc = 0;
	bool server_down = false;

	while (!server_down && !(desk->stop && *desk->stop)) {
		DbRes *r = NULL;
		rc = db_exec(
			desk->db,
			"UPDATE outbox SET status = 'sending', attempts = attempts + 1, "
			"locked_until = now() + interval '" SEND_LEASE "' "
			"WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND "
			"next_attempt_at <= now()) OR (status = 'sending' AND locked_until < "
			"now()) "
			"ORDER BY id LIMIT " SEND_BATCH " FOR UPDATE SKIP LOCKED) "
			"RETURNING id, mail_from, rcpt, raw, attempts, kind, message_id, ticket_id",
			0, NULL, &r, err);
		if (rc)
			break;
		int n = dbres_rows(r);
		if (n == 0) {
			dbres_free(r);
			break;
		}
		if (smtp == NULL)
			smtp = smtp_client_new(&sp);
		for (int i = 0; i < n; i++) {
			const char *id = dbres_get(r, i, 0);
			if (server_down || (desk->stop && *desk->stop)) {
				/* not tried: hand it back untouched */
				const char *p[] = {id};
				db_exec(desk->db,
					"UPDATE outbox SET status = 'pending', attempts = attempts "
					"- 1, "
					"locked_until = NULL WHERE id = $1::bigint",
					1, p, NULL, NULL);
				continue;
			}
			const char *from = dbres_get(r, i, 1);
			const char *rcpt = dbres_get(r, i, 2);
			int64_t attempts = dbres_i64(r, i, 4, 1);
			size_t len = 0;
			unsigned char *raw = dbres_bytea(r, i, 3, &len);
			const char *rcpts[] = {rcpt};
			DmError se = {0};
			int src = smtp_send(smtp, from, rcpts, 1, (const char *)raw, len, &se);
			free(raw);
			int urc;
			if (src == 0) {
				const char *p[] = {id};
				urc = db_exec(desk->db,
					      "UPDATE outbox SET status = 'sent', sent_at = now(), "
					      "locked_until = NULL, last_error = NULL WHERE id = "
					      "$1::bigint",
					      1, p, NULL, err);
				st->sent++;
				log_info("outbox %s: sent %s to %s <%s>", id, dbres_get(r, i, 5),
					 rcpt, dbres_get(r, i, 6));
			} else if (src != DM_EPERM && smtp_unreachable(smtp)) {
				/* The server is down, this mail was not refused: it does
				 * not count as an attempt and waits for the next pass
				 * (the next `send`, or poll_interval in `run`) without
				 * backoff, however long the outage. */
				const char *p[] = {id, se.msg};
				urc = db_exec(desk->db,
					      "UPDATE outbox SET status = 'pending', locked_until "
					      "= NULL, "
					      "attempts = attempts - 1, last_error = $2, "
					      "next_attempt_at = "
					      "now() WHERE id = $1::bigint",
					      2, p, NULL, err);
				st->deferred++;
				log_warn("outbox %s: deferred %s to %s: SMTP server unreachable, "
					 "trying "
					 "again on the next pass: %s",
					 id, dbres_get(r, i, 5), rcpt, se.msg);
				server_down = true;
			} else if (src == DM_EPERM || attempts >= cfg->smtp_max_attempts) {
				urc = give_up(desk, r, i, se.msg, err);
				st->failed++;
				log_warn("outbox %s: giving up on %s to %s after %lld attempt(s): "
					 "%s",
					 id, dbres_get(r, i, 5), rcpt, (long long)attempts, se.msg);
			} else {
				char secs[24];
				backoff(cfg, (int)attempts, secs);
				const char *p[] = {id, se.msg, secs};
				urc = db_exec(
					desk->db,
					"UPDATE outbox SET status = 'pending', locked_until = "
					"NULL, "
					"last_error = $2, next_attempt_at = now() + "
					"make_interval(secs => $3::int) WHERE id = $1::bigint",
					3, p, NULL, err);
				st->deferred++;
				log_warn("outbox %s: deferred %s to %s (attempt %lld, retry in "
					 "%ss): %s",
					 id, dbres_get(r, i, 5), rcpt, (long long)attempts, secs,
					 se.msg);
				server_down = true; /* the rest would fail the same way */
			}
			if (urc) {
				rc = urc;
				server_down = true;
			}
		}
		dbres_free(r);
	}
	smtp_client_free(smtp);
	return rc;
}
