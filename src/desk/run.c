/* run.c - the daemon: a poll and a send every poll_interval seconds (the
 * shortest of the mailboxes'; each mailbox is polled at its own)
 * until the stop flag (SIGTERM/SIGINT, set by the command line) is raised.
 * Temporary trouble (the database, the IMAP or SMTP server) is logged and
 * tried again at the next interval; only a configuration error ends it. */
#include <time.h>

#include "desk-private.h"
#include "deskmail/log.h"

static void log_poll(const PollStats *st)
{
	if (st->fetched || st->failed)
		log_info("poll: %zu fetched: %zu new ticket(s), %zu repl(ies), %zu quarantined, "
			 "%zu duplicate(s), %zu failed",
			 st->fetched, st->tickets, st->replies, st->quarantined, st->duplicates,
			 st->failed);
}

/* What is polled how often, once at the start. */
static void log_running(const Desk *desk)
{
	const Config *cfg = desk->cfg;
	for (size_t i = 0; i < cfg->n_mailboxes; i++)
		log_notice("running: polling %s%s%s every %d s", cfg->mailboxes[i].url,
			   cfg->mailbox_list ? " as mailbox " : "",
			   cfg->mailbox_list ? cfg->mailboxes[i].name : "",
			   cfg->mailboxes[i].poll_interval);
}

int desk_run(Desk *desk, DmError *err)
{
	log_running(desk);
	while (!desk_stopping(desk)) {
		DmError e = {0};
		PollStats ps;
		int rc = desk_poll(desk, &ps, &e);
		log_poll(&ps);
		if (rc == DM_ECONFIG) {
			*err = e;
			return rc;
		}
		if (rc)
			log_warn("poll: %s (%s; retrying next interval)", e.msg,
				 dm_error_kind_name(rc));
		EscalateStats es;
		dm_error_clear(&e);
		rc = desk_escalate(desk, &es, &e);
		if (rc)
			log_warn("escalate: %s (retrying next interval)", e.msg);
		else if (es.tickets)
			log_info("escalate: %zu ticket(s): %zu escalated, %zu notice(s), %zu "
				 "mail(s)",
				 es.tickets, es.escalated, es.notices, es.mails);
		SendStats ss;
		dm_error_clear(&e);
		rc = desk_send(desk, &ss, &e);
		if (rc)
			log_warn("send: %s (retrying next interval)", e.msg);
		for (int i = 0; i < desk_poll_interval(desk) * 10 && !desk_stopping(desk); i++) {
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	log_notice("stopping on signal");
	return 0;
}
