/* quarantine.c - staff working the quarantine (`deskmail quarantine
 * accept|retry|drop`).
 *
 * Accepting or retrying runs the mail through the ingest path again, the
 * same batch of one as `ingest`: a held mail from its stored bytes (its
 * inbound row stays and records the new outcome), a set-aside mail fetched
 * again from the server by UID.  Accepting takes it as if its sender were
 * authorised: verification and automatic-mail rules do not stop it, and
 * with --contact its sender is first made a named contact of that
 * contact's client.  The decision (who, when, what came of it) is written
 * with the mail's rows, in one transaction.  A retry that is still a
 * quarantine case leaves the entry held, with its new reason. */
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"

int desk_contact_add(const Config *cfg, Db *db, int64_t client_id, const char *addr,
		     const char *name, const char *actor, DmError *err)
{
	g_autofree char *cname = NULL, *plan_name = NULL, *other = NULL;
	int64_t count = 0;
	int rc = store_contact_check(db, client_id, addr, &cname, &plan_name, &count, &other, err);
	if (rc)
		return rc;
	const CfgPlan *plan = cfg_plan(cfg, plan_name);
	if (other)
		return dm_error_set(err, DM_EPERM, "%s is already a contact of client '%s'", addr,
				    other);
	if (plan && plan->max_contacts > 0 && count >= plan->max_contacts)
		return dm_error_set(err, DM_EPERM,
				    "client '%s' has %lld contact(s); plan %s allows at most %d",
				    cname, (long long)count, plan->name, plan->max_contacts);
	rc = store_contact_add(db, client_id, addr, name, err);
	return rc ? rc
		  : store_event_add(db, 0, "contact-added", actor, "contact", NULL, addr, cname,
				    err);
}

/* The IMAP session's parameters of a mailbox (the polling session, the
 * IDLE connection, check-config --connect). */
void desk_imap_params(const CfgMailbox *mb, ImapParams *p)
{
	*p = (ImapParams){.url = mb->url,
			  .username = mb->username,
			  .password = mb->password,
			  .tls_verify = mb->tls_verify,
			  .ca_file = mb->ca_file,
			  .timeout = mb->timeout};
	if (mb->auth == CFG_LOGIN_OAUTH2) {
		p->oauth2_mechanism = desk_oauth2_mechanism(mb->oauth2_mechanism);
		p->token_file = mb->oauth2_token_file;
		p->token_command = mb->oauth2_token_command;
	}
}

ImapSession *desk_imap(Desk *desk, size_t i)
{
	const CfgMailbox *mb = &desk->cfg->mailboxes[i];
	if (desk->imap[i] == NULL) {
		ImapParams ip;
		desk_imap_params(mb, &ip);
		desk->imap[i] = imap_session_new(&ip);
	}
	return desk->imap[i];
}

/* The configured mailbox where entry q lies (by its URL and user name; a
 * row from before user names were recorded by its URL alone), or -1. */
static ssize_t mailbox_of(const Desk *desk, const QuarantineRow *q)
{
	const Config *cfg = desk->cfg;
	for (size_t i = 0; q->mailbox_url != NULL && i < cfg->n_mailboxes; i++) {
		const CfgMailbox *mb = &cfg->mailboxes[i];
		if (strcmp(q->mailbox_url, mb->url) == 0 &&
		    (q->mailbox_username == NULL || *q->mailbox_username == '\0' ||
		     strcmp(q->mailbox_username, mb->username) == 0))
			return (ssize_t)i;
	}
	return -1;
}

/* The mail of entry q: its stored bytes, or fetched again from the server
 * when it was set aside. */
static int mail_of(Desk *desk, const QuarantineRow *q, unsigned char **raw_r, size_t *len_r,
		   DmError *err)
{
	if (q->inbound_id) {
		if (q->truncated && q->raw &&
		    strstr((const char *)q->raw, "X-Deskmail-Left-On-Server:") != NULL)
			return dm_error_set(err, DM_EPERM,
					    "quarantine entry %lld holds only the header of a mail "
					    "left on the server (over imap.max_message_bytes): it "
					    "cannot be taken in from here",
					    (long long)q->id);
		*raw_r = g_memdup2(q->raw ? q->raw : (const unsigned char *)"", q->raw_len + 1);
		*len_r = q->raw_len;
		return 0;
	}
	ssize_t i = mailbox_of(desk, q);
	if (i < 0)
		return dm_error_set(
			err, DM_EPERM,
			"quarantine entry %lld lies in mailbox %s%s%s, not a configured "
			"one",
			(long long)q->id, q->mailbox_username ? q->mailbox_username : "",
			q->mailbox_username && *q->mailbox_username ? "@" : "",
			q->mailbox_url ? q->mailbox_url : "(unknown)");
	const CfgMailbox *mb = &desk->cfg->mailboxes[i];
	if (q->mailbox_uidvalidity != q->uidvalidity)
		return dm_error_set(
			err, DM_EPERM,
			"quarantine entry %lld: the mailbox was renumbered (UIDVALIDITY "
			"%u, now %u); find the mail by hand",
			(long long)q->id, q->uidvalidity, q->mailbox_uidvalidity);
	int rc = imap_fetch(desk_imap(desk, (size_t)i), q->uidvalidity, q->uid,
			    (size_t)mb->max_message_bytes, raw_r, len_r, err);
	if (rc == DM_ENOTFOUND)
		return dm_error_set(err, rc,
				    "quarantine entry %lld: uid %u is gone from the mailbox",
				    (long long)q->id, q->uid);
	return rc;
}

/* For accept: the sender must be a named contact or staff, or be made a
 * contact of --contact's client. */
static int authorise(Desk *desk, const Mail *m, const char *contact, const char *by, DmError *err)
{
	if (m == NULL || m->from == NULL)
		return dm_error_set(err, DM_EPERM, "the mail has no readable From address");
	int64_t own = 0, target = 0;
	DmError e = {0};
	int rc = store_contact_client(desk->db, m->from->addr, &own, &e);
	if (rc && rc != DM_ENOTFOUND)
		return dm_error_set(err, rc, "%s", e.msg);
	if (contact) {
		rc = store_contact_client(desk->db, contact, &target, err);
		if (rc)
			return rc == DM_ENOTFOUND ? dm_error_set(err, DM_EPERM,
								 "--contact %s is not a named "
								 "contact",
								 contact)
						  : rc;
		if (own && own != target)
			return dm_error_set(err, DM_EPERM,
					    "%s is a named contact of another client than %s's",
					    m->from->addr, contact);
		if (own == 0)
			return desk_contact_add(desk->cfg, desk->db, target, m->from->addr,
						m->from->name, by, err);
		return 0;
	}
	if (own)
		return 0;
	StaffList staff = {0};
	rc = store_staff_load(desk->db, &staff, err);
	bool is_staff = false;
	for (size_t i = 0; rc == 0 && i < staff.n; i++)
		if (staff.v[i].active && strcmp(staff.v[i].email, m->from->addr) == 0)
			is_staff = true;
	staff_list_clear(&staff);
	if (rc == 0 && !is_staff)
		rc = dm_error_set(err, DM_EPERM,
				  "%s is not a named contact: name the client's contact it "
				  "belongs with, --contact EMAIL",
				  m->from->addr);
	return rc;
}

int desk_quarantine_redo(Desk *desk, int64_t id, bool accept, const char *contact, const char *by,
			 IngestResult *res, DmError *err)
{
	memset(res, 0, sizeof *res);
	int rc = store_ensure(desk->db, NULL, err);
	if (rc)
		return rc;
	QuarantineRow q;
	rc = store_quarantine_get(desk->db, id, &q, err);
	if (rc)
		return rc;
	if (strcmp(q.status, "held") != 0 && strcmp(q.status, "set-aside") != 0) {
		rc = dm_error_set(err, DM_EPERM, "quarantine entry %lld is %s already",
				  (long long)id, q.status);
		quarantine_row_clear(&q);
		return rc;
	}
	unsigned char *raw = NULL;
	size_t len = 0;
	rc = mail_of(desk, &q, &raw, &len, err);
	if (rc) {
		quarantine_row_clear(&q);
		return rc;
	}
	/* a mail set aside in a configured mailbox carries its brand */
	ssize_t mbi = mailbox_of(desk, &q);
	MailSource src = {.source = q.inbound_id ? "pipe" : "imap",
			  .brand = mbi >= 0 ? desk->cfg->mailboxes[mbi].name : NULL,
			  .mailbox_id = q.inbound_id ? 0 : q.mailbox_id,
			  .mailbox = "quarantine",
			  .uidvalidity = q.uidvalidity,
			  .uid = q.uid,
			  .redo_quarantine_id = id,
			  .redo_inbound_id = q.inbound_id,
			  .accepted = accept,
			  .redo_by = by};
	IngestTiming timing = {0};
	MailJob *j = job_new(raw, len, &src);
	job_parse(desk, j, &timing);
	if (j->mail && j->mail->message_id)
		g_strlcpy(res->message_id, j->mail->message_id, sizeof res->message_id);
	if (accept)
		rc = authorise(desk, j->mail, contact, by, err);
	if (rc) {
		job_free(j);
		quarantine_row_clear(&q);
		return rc;
	}
	/* no fallback: what fails is said to the person who asked */
	rc = desk_take_one(desk, j, false, &timing, res, err);
	/* a set-aside mail now stored (whatever came of it): marked on the
	 * server as any other */
	if (rc == 0 && !q.inbound_id) {
		ssize_t i = mailbox_of(desk, &q);
		const CfgMailbox *mb = &desk->cfg->mailboxes[i < 0 ? 0 : i];
		DmError me = {0};
		uint32_t uid = q.uid;
		if (i >= 0 && imap_mark_set(desk_imap(desk, (size_t)i), &uid, 1, mb->mark_flag,
					    mb->move_to, &me) != 0)
			log_warn("uid %u: taken in, but could not be marked on the server: %s", uid,
				 me.msg);
	}
	quarantine_row_clear(&q);
	return rc;
}
