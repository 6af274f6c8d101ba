/* send.c - delivering the outbox over SMTP.
 *
 * Mail is rendered and composed when it is queued (render.c), so a retry
 * sends the same bytes with the same Message-ID.  A pass claims due rows
 * (status 'sending' with a lease, committed before any SMTP traffic), sends
 * them one after the other on one SMTP connection, and records each
 * outcome: sent (recorded without waiting for the database), deferred with
 * exponential backoff, or failed (a permanent reply, or attempts
 * exhausted).  A server that cannot be reached at all is an outage, not
 * this mail's fault: the pass stops and the mail is due again at once, its
 * attempts untouched, and the pass fails with DM_ETEMP (`send` exits 75);
 * so does a server that refuses our login, with DM_EAUTH (exit 77).  A
 * relay that fails for good is an event of its ticket and its author gets
 * the text back (plan_delivery_failed).  A crash between the SMTP server's
 * acceptance and the 'sent' record leads to one resend after the lease
 * expires, with the same Message-ID; nothing else resends.
 *
 * Two passes at once (two `send`s, or `run` and a `send`) never send one
 * row twice: a pass claims rows with a token of its own and takes each row
 * again just before it goes on the wire (store/outbox.c explains the lock
 * that covers the mail on the wire).  The lease is long enough for one
 * SMTP transaction to time out twice over, and a pass renews the leases of
 * its batch while it works, so a slow server does not make them run out.
 * A pass that dies does not hold its rows that long: while it works it
 * holds its token (a session lock), and rows whose token nobody holds are
 * due again at once, so another worker sends them at its next pass. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/smtp.h"

#define SEND_BATCH 50
#define SEND_LEASE_MIN 600

/* A lease outlasts two SMTP timeouts, and ten minutes at least. */
static int lease_seconds(const Config *cfg)
{
	long l = 2L * cfg->smtp_timeout + 60;
	return l < SEND_LEASE_MIN ? SEND_LEASE_MIN : (int)l;
}

static double secs_since(int64_t t0)
{
	return (double)(now_us() - t0) / G_USEC_PER_SEC;
}

static int64_t backoff(const Config *cfg, int attempts)
{
	int64_t secs = cfg->smtp_retry_base;
	for (int i = 1; i < attempts && secs < cfg->smtp_retry_max; i++)
		secs *= 2;
	return secs > cfg->smtp_retry_max ? cfg->smtp_retry_max : secs;
}

/* Mark the row failed for good, with its audit trail and, for a staff
 * member's relay, their text back to them, in one transaction. */
static int give_up(Desk *desk, const OutboxRow *o, const char *why, DmError *err)
{
	TicketFact t = {0};
	StaffList staff = {0};
	int64_t author = 0;
	char *body = NULL;
	Plan p;
	plan_init(&p);
	int rc = 0;
	if (o->ticket_id) {
		rc = store_outbox_failure_facts(desk->db, o, &t, &author, &body, err);
		if (rc == 0 && author)
			rc = store_staff_load(desk->db, &staff, err);
		if (rc == 0 && t.id) {
			const Brand *brand = desk_brand(desk, t.mailbox);
			plan_delivery_failed(&t, &staff, o->id, o->kind, o->rcpt, why, author, body,
					     brand_cfg(desk, brand), &p);
			for (guint i = 0; i < p.notes->len; i++)
				log_notice("%s", (const char *)p.notes->pdata[i]);
			rc = render_plan(desk, brand, &p, err);
		}
	}
	if (rc == 0)
		rc = store_outbox_fail(desk->db, o->id, why, t.id ? &p : NULL, err);
	else
		store_outbox_unlock(desk->db, o->id, NULL); /* fail() frees it otherwise */
	plan_clear(&p);
	ticket_fact_clear(&t);
	staff_list_clear(&staff);
	g_free(body);
	return rc;
}

void desk_smtp_params(const Config *cfg, SmtpParams *sp)
{
	*sp = (SmtpParams){
		.url = cfg->smtp_url,
		.helo = cfg->smtp_helo,
		.starttls = smtp_starttls_parse(cfg->smtp_starttls), /* checked by config */
		.username = cfg->smtp_username,
		.password = cfg->smtp_password,
		.tls_verify = cfg->smtp_tls_verify,
		.ca_file = cfg->smtp_ca_file,
		.timeout = cfg->smtp_timeout,
	};
	if (cfg->smtp_auth == CFG_LOGIN_OAUTH2) {
		sp->oauth2_mechanism = desk_oauth2_mechanism(cfg->smtp_oauth2_mechanism);
		sp->token_file = cfg->smtp_oauth2_token_file;
		sp->token_command = cfg->smtp_oauth2_token_command;
	}
}

int desk_send(Desk *desk, SendStats *st, DmError *err)
{
	const Config *cfg = desk->cfg;
	memset(st, 0, sizeof *st);
	SmtpParams sp;
	desk_smtp_params(cfg, &sp);
	int rc = store_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	SmtpClient *smtp = NULL;
	bool stop = false;
	int64_t started = now_us();
	const int lease = lease_seconds(cfg);
	char token[80];
	g_snprintf(token, sizeof token, "%.40s:%ld:%08x%08x", g_get_host_name(), (long)getpid(),
		   g_random_int(), g_random_int());
	int64_t renewed = 0;
	double t_claim = 0, t_smtp = 0, t_record = 0;
	/* while this pass lives, its claims are its own (store/outbox.c) */
	rc = store_outbox_hold(desk->db, token, err);
	if (rc)
		return rc;
	GArray *rows = g_array_new(FALSE, TRUE, sizeof(OutboxRow));
	DmError outage = {0}; /* the server down */

	while (!stop && !desk_stopping(desk)) {
		int64_t t0 = now_us();
		outbox_rows_clear(rows);
		rc = store_outbox_claim(desk->db, token, SEND_BATCH, lease, rows, err);
		t_claim += secs_since(t0);
		renewed = now_us();
		if (rc || rows->len == 0)
			break;
		if (smtp == NULL)
			smtp = smtp_client_new(&sp);
		for (guint i = 0; i < rows->len; i++) {
			const OutboxRow *o = &g_array_index(rows, OutboxRow, i);
			if (stop || rc || desk_stopping(desk)) {
				/* not tried: hand it back untouched */
				store_outbox_release(desk->db, token, o->id, NULL);
				continue;
			}
			t0 = now_us();
			if (now_us() - renewed > (int64_t)lease * G_USEC_PER_SEC / 4) {
				rc = store_outbox_renew(desk->db, token, lease, err);
				renewed = now_us();
			}
			bool mine = false;
			if (rc == 0)
				rc = store_outbox_take(desk->db, token, o->id, lease, &mine, err);
			t_claim += secs_since(t0);
			if (rc)
				continue;
			if (!mine) {
				log_notice("outbox %lld: taken over by another send pass, not sent "
					   "here",
					   (long long)o->id);
				continue;
			}
			const char *rcpts[] = {o->rcpt};
			DmError se = {0};
			t0 = now_us();
			int src = smtp_send(smtp, o->mail_from, rcpts, 1, (const char *)o->raw,
					    o->raw_len, &se);
			t_smtp += secs_since(t0);
			t0 = now_us();
			if (src == 0) {
				rc = store_outbox_sent(desk->db, o->id, err);
				st->sent++;
				log_info("outbox %lld: sent %s to %s <%s>", (long long)o->id,
					 o->kind, o->rcpt, o->message_id);
			} else if (src != DM_EPERM && src != DM_EAUTH && smtp_unreachable(smtp)) {
				/* The server is down, this mail was not refused: it does not
				 * count as an attempt and waits for the next pass (the next
				 * `send`, or poll_interval in `run`) without backoff, however
				 * long the outage; the pass fails with DM_ETEMP (exit 75). */
				rc = store_outbox_outage(desk->db, o->id, se.msg, err);
				st->deferred++;
				log_warn("outbox %lld: deferred %s to %s: SMTP server unreachable, "
					 "trying again on the next pass: %s",
					 (long long)o->id, o->kind, o->rcpt, se.msg);
				stop = true;
				dm_error_set(&outage, src == DM_ECONFIG ? DM_ECONFIG : DM_ETEMP,
					     "%s", se.msg);
			} else if (src == DM_EAUTH || src == DM_ECONFIG) {
				/* Our login was refused (or there is no token to log in
				 * with): not this mail's fault, so not an attempt; the pass
				 * stops and says why (exit 77, or 78). */
				rc = store_outbox_outage(desk->db, o->id, se.msg, err);
				st->deferred++;
				log_warn("outbox %lld: deferred %s to %s: %s", (long long)o->id,
					 o->kind, o->rcpt, se.msg);
				stop = true;
				if (rc == 0)
					rc = dm_error_set(err, src, "%s", se.msg);
			} else if (src == DM_EPERM || o->attempts >= cfg->smtp_max_attempts) {
				rc = give_up(desk, o, se.msg, err);
				st->failed++;
				log_warn("outbox %lld: giving up on %s to %s after %d attempt(s): "
					 "%s",
					 (long long)o->id, o->kind, o->rcpt, o->attempts, se.msg);
			} else {
				int64_t secs = backoff(cfg, o->attempts);
				rc = store_outbox_defer(desk->db, o->id, se.msg, secs, err);
				st->deferred++;
				log_warn("outbox %lld: deferred %s to %s (attempt %d, retry in "
					 "%llds): "
					 "%s",
					 (long long)o->id, o->kind, o->rcpt, o->attempts,
					 (long long)secs, se.msg);
				stop = true; /* the rest would fail the same way */
			}
			t_record += secs_since(t0);
		}
		if (rc)
			break;
	}
	int64_t t0 = now_us();
	DmError fe = {0};
	int frc = store_outbox_flush(desk->db, &fe);
	t_record += secs_since(t0);
	if (rc == 0 && frc)
		rc = dm_error_set(err, frc, "%s", fe.msg);
	if (rc == 0 && outage.kind)
		rc = dm_error_set(err, outage.kind, "%s (the outbox waits for the next pass)",
				  outage.msg);
	store_outbox_unhold(desk->db, token);
	outbox_rows_clear(rows);
	g_array_free(rows, TRUE);
	smtp_client_free(smtp);
	size_t n = st->sent + st->deferred + st->failed;
	if (n)
		log_info("send timing: %zu mails in %.2f s: claim %.2f s, smtp %.2f s, record %.2f "
			 "s",
			 n, secs_since(started), t_claim, t_smtp, t_record);
	return rc;
}
