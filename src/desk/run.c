/* run.c - the daemon: a pass (poll, escalate, send), then a wait for new
 * mail, until the stop flag (SIGTERM/SIGINT, set by the command line) is
 * raised.
 *
 * The wait is IMAP IDLE on a connection of its own (imap_idle_*) when the
 * server offers it: a pass follows as soon as the server announces mail,
 * and at the latest after imap.poll_interval seconds (escalation and the
 * outbox need passes too).  A server without IDLE, or an IDLE connection
 * that fails, is polled every poll_interval; the connection is opened
 * again with backoff.
 *
 * Trouble is logged once per outage, not once per pass: a refused login
 * (DM_EAUTH: IMAP, SMTP or PostgreSQL) at error level with the server's
 * words, then tried again at growing intervals up to an hour, since the
 * same secret will not do better next time; a server that is down is
 * tried again at growing intervals up to poll_interval (a minute at most).  When it works
 * again that is logged once.  The database may be down when the daemon
 * starts (the desk comes from desk_new): every pass connects first.  Only
 * a configuration error or an unmigrated database ends the daemon.
 *
 * The reload flag (SIGHUP) makes it read the configuration file again
 * between passes; a file or templates that do not pass the checks are
 * logged and the running configuration is kept. */
#include <string.h>
#include <time.h>

#include "desk-private.h"
#include "deskmail/log.h"

/* The longest wait before trying a refused login again. */
#define RUN_AUTH_BACKOFF_MAX 3600
/* The first wait after a server was found down, then doubling up to
 * poll_interval but never more than RUN_TEMP_BACKOFF_MAX (with IDLE,
 * poll_interval may be long; a try costs a connection attempt). */
#define RUN_TEMP_BACKOFF_MIN 5
#define RUN_TEMP_BACKOFF_MAX 60
/* How long one IDLE wait lasts before the flags are looked at again. */
#define RUN_WAIT_SLICE_MS 1000

/* ---- once per outage, with backoff ---- */

typedef struct {
	const char *what; /* "database", "IMAP", "SMTP", "IMAP IDLE" */
	int kind;         /* DmErrKind of the outage under way; 0 = none */
	unsigned failures;
	int delay;       /* seconds before the next try */
	int64_t next_us; /* monotonic: no try before this */
} Backoff;

static bool backoff_due(const Backoff *b)
{
	return b->kind == 0 || now_us() >= b->next_us;
}

/* Seconds to wait after the failures so far: a refused login from
 * poll_interval doubling up to an hour, anything else from a few seconds
 * doubling up to poll_interval or a minute, whichever is shorter. */
static int backoff_delay(const Backoff *b, int interval)
{
	int lo = b->kind == DM_EAUTH ? interval : MIN(interval, RUN_TEMP_BACKOFF_MIN);
	int hi = b->kind == DM_EAUTH ? MAX(interval, RUN_AUTH_BACKOFF_MAX)
				     : MIN(interval, RUN_TEMP_BACKOFF_MAX);
	int64_t d = lo;
	for (unsigned i = 1; i < b->failures && d < hi; i++)
		d *= 2;
	return (int)MAX(MIN(d, (int64_t)hi), 1);
}

/* A try failed with kind rc: the first failure of an outage (or a change
 * of its kind) is logged, later ones only at debug level. */
static void backoff_failed(Backoff *b, int rc, const char *msg, int interval)
{
	bool news = b->kind != rc;
	b->failures = news ? 1 : b->failures + 1;
	b->kind = rc;
	b->delay = backoff_delay(b, interval);
	b->next_us = now_us() + (int64_t)b->delay * G_USEC_PER_SEC;
	if (!news)
		log_debug("%s: still failing (%u tries): %s; next try in %d s", b->what,
			  b->failures, msg, b->delay);
	else if (rc == DM_EAUTH)
		log_err("%s login refused: %s (trying again in %d s, then less and less often, "
			"up to every %d s; logged once until it is accepted)",
			b->what, msg, b->delay, MAX(interval, RUN_AUTH_BACKOFF_MAX));
	else /* "database: ...", not "database: database: ..." */
		log_warn("%s%s%s (%s; retrying in %d s; logged once until it works again)",
			 g_str_has_prefix(msg, b->what) ? "" : b->what,
			 g_str_has_prefix(msg, b->what) ? "" : ": ", msg, dm_error_kind_name(rc),
			 b->delay);
}

static void backoff_ok(Backoff *b)
{
	if (b->kind == DM_EAUTH)
		log_notice("%s: login accepted again", b->what);
	else if (b->kind)
		log_notice("%s: working again after %u failed tr%s", b->what, b->failures,
			   b->failures == 1 ? "y" : "ies");
	b->kind = 0;
	b->failures = 0;
	b->next_us = 0;
}

/* Try again at the next chance (after a reload: the settings may have been
 * mended), still logging the recovery when it comes. */
static void backoff_retry_now(Backoff *b)
{
	b->next_us = 0;
}

/* ---- the state of the daemon between passes ---- */

typedef struct {
	Backoff db, imap, smtp;
	/* waiting for mail */
	ImapIdle *idle;      /* open and idling, or NULL */
	bool idle_unoffered; /* the server has no IDLE: poll at the interval */
	Backoff idle_b;      /* the IDLE connection's own trouble */
} RunState;

static bool fatal(int rc)
{
	return rc == DM_ECONFIG || rc == DM_EUNMIGRATED;
}

static void log_poll(const PollStats *st)
{
	if (st->fetched || st->failed)
		log_info("poll: %zu fetched: %zu new ticket(s), %zu repl(ies), %zu quarantined, "
			 "%zu duplicate(s), %zu failed",
			 st->fetched, st->tickets, st->replies, st->quarantined, st->duplicates,
			 st->failed);
}

/* A step failed with rc: whose fault?  If the database is gone now, the
 * database's (one outage for all steps); else the step's server's, when it
 * has a Backoff (a missing mailbox is as much an outage as a server that
 * is down); a bug or an SQL error (DM_EINTERNAL) is no server's: a plain
 * warning every pass, as it may be a mail's. */
static void step_failed(Desk *desk, RunState *st, Backoff *server, const char *step, int rc,
			const DmError *e)
{
	int interval = desk->cfg->imap_poll_interval;
	DmError dbe = {0};
	int dbrc = desk_connect(desk, &dbe);
	if (dbrc) {
		backoff_failed(&st->db, dbrc, dbe.msg, interval);
		return;
	}
	if (server && rc != DM_EINTERNAL) {
		backoff_failed(server, rc, e->msg, interval);
		return;
	}
	log_warn("%s: %s (%s; retrying next pass)", step, e->msg, dm_error_kind_name(rc));
}

/* One pass: poll, escalate, send, each skipped while its server is in a
 * backoff.  Returns 0, or a fatal kind with err set. */
static int run_pass(Desk *desk, RunState *st, DmError *err)
{
	int interval = desk->cfg->imap_poll_interval;
	DmError e = {0};
	if (!backoff_due(&st->db))
		return 0;
	int rc = desk_connect(desk, &e);
	if (fatal(rc))
		return dm_error_set(err, rc, "%s", e.msg);
	if (rc) {
		backoff_failed(&st->db, rc, e.msg, interval);
		return 0;
	}
	backoff_ok(&st->db);

	if (backoff_due(&st->imap)) {
		PollStats ps;
		dm_error_clear(&e);
		rc = desk_poll(desk, &ps, &e);
		log_poll(&ps);
		if (fatal(rc))
			return dm_error_set(err, rc, "%s", e.msg);
		if (rc)
			step_failed(desk, st, &st->imap, "poll", rc, &e);
		else
			backoff_ok(&st->imap);
	}
	if (!backoff_due(&st->db))
		return 0;

	EscalateStats es;
	dm_error_clear(&e);
	rc = desk_escalate(desk, &es, &e);
	if (fatal(rc))
		return dm_error_set(err, rc, "%s", e.msg);
	if (rc)
		step_failed(desk, st, NULL, "escalate", rc, &e);
	else if (es.tickets)
		log_info("escalate: %zu ticket(s): %zu escalated, %zu notice(s), %zu mail(s)",
			 es.tickets, es.escalated, es.notices, es.mails);
	if (!backoff_due(&st->db) || !backoff_due(&st->smtp))
		return 0;

	SendStats ss;
	dm_error_clear(&e);
	rc = desk_send(desk, &ss, &e);
	if (fatal(rc))
		return dm_error_set(err, rc, "%s", e.msg);
	if (rc)
		step_failed(desk, st, &st->smtp, "send", rc, &e);
	else
		backoff_ok(&st->smtp);
	return 0;
}

/* ---- waiting for mail ---- */

typedef enum { WAKE_STOP, WAKE_TIME, WAKE_MAIL, WAKE_RELOAD } Wake; /* why the wait ended */

static bool reload_requested(const Desk *desk)
{
	return desk->reload && *desk->reload;
}

static void idle_close(RunState *st)
{
	imap_idle_close(st->idle);
	st->idle = NULL;
}

static void imap_params(const Config *cfg, ImapParams *p)
{
	*p = (ImapParams){.url = cfg->imap_url,
			  .username = cfg->imap_username,
			  .password = cfg->imap_password,
			  .tls_verify = cfg->imap_tls_verify,
			  .ca_file = cfg->imap_ca_file,
			  .timeout = cfg->imap_timeout};
}

/* Open the IDLE connection if it is wanted and may be tried now.  True
 * when it was just opened: mail may have come since the last pass, before
 * the server was watching for us, so a pass is due at once. */
static bool idle_open(Desk *desk, RunState *st)
{
	if (st->idle || st->idle_unoffered || !backoff_due(&st->idle_b) ||
	    st->imap.kind == DM_EAUTH)
		return false;
	const Config *cfg = desk->cfg;
	ImapParams p;
	imap_params(cfg, &p);
	DmError e = {0};
	int rc = imap_idle_open(&p, &st->idle, &e);
	if (rc == 0) {
		if (st->idle_b.kind == 0)
			log_info("IMAP IDLE: waiting for mail on %s (and a pass every %d s)",
				 cfg->imap_url, cfg->imap_poll_interval);
		backoff_ok(&st->idle_b);
		/* the server answers again: the poll need not wait its turn */
		backoff_retry_now(&st->imap);
		return true;
	}
	if (rc == DM_ENOTFOUND || rc == DM_ECONFIG) {
		st->idle_unoffered = true;
		log_notice("%s; polling %s every %d s", e.msg, cfg->imap_url,
			   cfg->imap_poll_interval);
		return false;
	}
	/* a refused login is the poll's to report (once); the rest is the
	 * IDLE connection's own outage, polled through meanwhile */
	if (rc == DM_EAUTH)
		backoff_failed(&st->imap, rc, e.msg, cfg->imap_poll_interval);
	else
		backoff_failed(&st->idle_b, rc, e.msg, cfg->imap_poll_interval);
	return false;
}

/* When the next pass is due: poll_interval from now, or sooner when a
 * server in an outage may be tried again (the database after 5 s, ...). */
static int64_t next_pass_at(const Desk *desk, const RunState *st)
{
	int64_t now = now_us();
	int64_t at = now + (int64_t)desk->cfg->imap_poll_interval * G_USEC_PER_SEC;
	const Backoff *outages[] = {&st->db, &st->imap, &st->smtp};
	for (size_t i = 0; i < G_N_ELEMENTS(outages); i++)
		if (outages[i]->kind && outages[i]->next_us > now)
			at = MIN(at, outages[i]->next_us);
	return at;
}

/* Wait until the next pass is due: the server announced mail (IDLE), or
 * its time came (next_pass_at), or a flag was raised (looked at within a
 * second, or 100 ms when polling). */
static Wake wait_for_mail(Desk *desk, RunState *st)
{
	if (idle_open(desk, st))
		return WAKE_MAIL;
	int64_t deadline = next_pass_at(desk, st);
	while (st->idle) {
		if (desk_stopping(desk))
			return WAKE_STOP;
		if (reload_requested(desk))
			return WAKE_RELOAD;
		int64_t left_ms = (deadline - now_us()) / 1000;
		if (left_ms <= 0)
			return WAKE_TIME;
		bool changed = false;
		DmError e = {0};
		int rc = imap_idle_wait(st->idle, (int)MIN(left_ms, RUN_WAIT_SLICE_MS), desk->stop,
					&changed, &e);
		if (rc) {
			idle_close(st);
			backoff_failed(&st->idle_b, rc, e.msg, desk->cfg->imap_poll_interval);
			break;
		}
		if (changed) {
			log_debug("IMAP IDLE: the server announced mail");
			return WAKE_MAIL;
		}
	}
	/* polling: sleep out the interval, trying the IDLE connection again
	 * when its backoff allows */
	for (;;) {
		if (desk_stopping(desk))
			return WAKE_STOP;
		if (reload_requested(desk))
			return WAKE_RELOAD;
		if (now_us() >= deadline)
			return WAKE_TIME;
		if (idle_open(desk, st))
			return WAKE_MAIL;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* ---- reloading (SIGHUP) ---- */

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool imap_settings_equal(const Config *a, const Config *b)
{
	return same_str(a->imap_url, b->imap_url) && same_str(a->imap_username, b->imap_username) &&
	       same_str(a->imap_password, b->imap_password) &&
	       a->imap_tls_verify == b->imap_tls_verify &&
	       same_str(a->imap_ca_file, b->imap_ca_file) && a->imap_timeout == b->imap_timeout;
}

/* Read the configuration file again; keep the one in use when the new one
 * (or its templates) does not pass the checks.  log.syslog is not switched
 * on or off by a reload (the syslog connection is the command line's). */
static void reload(Desk *desk, RunState *st)
{
	*desk->reload = 0;
	g_autofree char *path = g_strdup(desk->cfg->path);
	Config *cfg = NULL;
	DmError e = {0};
	int rc = cfg_load(path, &cfg, &e);
	bool imap_same = rc == 0 && imap_settings_equal(desk->cfg, cfg);
	int level_was = dm_log_level_parse(desk->cfg->log_level);
	int level = rc == 0 ? dm_log_level_parse(cfg->log_level) : -1;
	if (rc == 0)
		rc = desk_reload(desk, cfg, &e);
	if (rc) {
		cfg_free(cfg);
		log_err("reload of %s refused, keeping the configuration in use: %s", path, e.msg);
		return;
	}
	/* log.level too, unless the command line set it (-v) */
	if (level >= 0 && dm_log_level == level_was)
		dm_log_level = level;
	log_notice("configuration and templates reloaded from %s", path);
	if (!imap_same) {
		idle_close(st);
		st->idle_unoffered = false;
		backoff_retry_now(&st->idle_b);
	}
	backoff_retry_now(&st->db);
	backoff_retry_now(&st->imap);
	backoff_retry_now(&st->smtp);
}

int desk_run(Desk *desk, DmError *err)
{
	log_notice("running: polling %s at least every %d s", desk->cfg->imap_url,
		   desk->cfg->imap_poll_interval);
	RunState st = {.db = {.what = "database"},
		       .imap = {.what = "IMAP"},
		       .smtp = {.what = "SMTP"},
		       .idle_b = {.what = "IMAP IDLE"}};
	int rc = 0;
	idle_open(desk, &st); /* watching before the first pass: nothing slips between */
	while (!desk_stopping(desk)) {
		if ((rc = run_pass(desk, &st, err)) != 0)
			break;
		/* after a reload, a pass at once with the new settings */
		if (wait_for_mail(desk, &st) == WAKE_RELOAD)
			reload(desk, &st);
	}
	idle_close(&st);
	if (rc == 0)
		log_notice("stopping on signal");
	return rc;
}
