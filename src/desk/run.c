/* run.c - the daemon: a poll and a send every imap.poll_interval seconds
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

int desk_run(Desk *desk, DmError *err)
{
	log_notice("running: polling %s every %d s", desk->cfg->imap_url,
		   desk->cfg->imap_poll_interval);
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
		for (int i = 0; i < desk->cfg->imap_poll_interval * 10 && !desk_stopping(desk);
		     i++) {
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	log_notice("stopping on signal");
	return 0;
}
