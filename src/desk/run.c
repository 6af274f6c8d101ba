/* run.c - the daemon: a pass (poll, escalate, send), then a wait for new
 * mail, until the stop flag (SIGTERM/SIGINT, set by the command line) is
 * raised.  Each mailbox is polled at its own poll_interval, a pass comes
 * at the shortest.
 *
 * The wait is IMAP IDLE on a connection of its own per mailbox
 * (imap_idle_*) when the server offers it: the mailbox is polled as soon
 * as its server announces mail, and at the latest after its poll_interval
 * (escalation and the outbox need passes too).  A server without IDLE, or
 * an IDLE connection that fails, is polled every poll_interval; the
 * connection is opened again with backoff.  With several mailboxes the
 * connections are watched in turn, a share of a second each.
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
#include <stdio.h>
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
/* How long a reopened IDLE connection must last before its outage is
 * over (its backoff reset): one that the server drops again at once is
 * tried less and less often, and its loss and return not logged each time. */
#define RUN_IDLE_STABLE_S 120
/* How long one IDLE wait lasts before the flags are looked at again. */
#define RUN_WAIT_SLICE_MS 1000

/* ---- once per outage, with backoff ---- */

typedef struct {
	char what[160]; /* "database", "IMAP", "SMTP", "IMAP IDLE", or with the
			   mailbox's name when there are several */
	int kind;       /* DmErrKind of the outage under way; 0 = none */
	unsigned failures;
	int delay;       /* seconds before the next try */
	int64_t next_us; /* monotonic: no try before this */
	bool quiet;      /* an outage other logs report too: at info level */
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
		dm_log(b->quiet ? DM_LOG_INFO : DM_LOG_WARN,
		       "%s%s%s (%s; retrying in %d s; logged once until it works again)",
		       g_str_has_prefix(msg, b->what) ? "" : b->what,
		       g_str_has_prefix(msg, b->what) ? "" : ": ", msg, dm_error_kind_name(rc),
		       b->delay);
}

static void backoff_ok(Backoff *b)
{
	if (b->kind == DM_EAUTH)
		log_notice("%s: login accepted again", b->what);
	else if (b->kind)
		dm_log(b->quiet ? DM_LOG_INFO : DM_LOG_NOTICE,
		       "%s: working again after %u failed tr%s", b->what, b->failures,
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

/* One mailbox: its outage and its IDLE connection. */
typedef struct {
	Backoff imap;        /* polling it */
	ImapIdle *idle;      /* open and idling, or NULL */
	bool idle_unoffered; /* its server has no IDLE: polled at its interval */
	Backoff idle_b;      /* the IDLE connection's own trouble */
	int64_t idle_opened; /* monotonic, when idle was opened */
	bool announced;      /* its server announced mail: poll it at once */
} RunMailbox;

typedef struct {
	Backoff db, smtp;
	RunMailbox *mb; /* one per mailbox of desk->cfg */
	size_t n_mb;
} RunState;

static void run_mailboxes_init(RunState *st, const Config *cfg)
{
	st->n_mb = cfg->n_mailboxes;
	st->mb = g_new0(RunMailbox, st->n_mb);
	for (size_t i = 0; i < st->n_mb; i++) {
		RunMailbox *m = &st->mb[i];
		if (cfg->mailbox_list) {
			snprintf(m->imap.what, sizeof m->imap.what, "IMAP mailbox %s",
				 cfg->mailboxes[i].name);
			snprintf(m->idle_b.what, sizeof m->idle_b.what, "IMAP IDLE mailbox %s",
				 cfg->mailboxes[i].name);
		} else {
			g_strlcpy(m->imap.what, "IMAP", sizeof m->imap.what);
			g_strlcpy(m->idle_b.what, "IMAP IDLE", sizeof m->idle_b.what);
		}
		/* a server that is down is the poll's warning; the IDLE
		 * connection (polled through meanwhile) says so at info */
		m->idle_b.quiet = true;
	}
}

static void run_mailboxes_clear(RunState *st)
{
	for (size_t i = 0; i < st->n_mb; i++)
		imap_idle_close(st->mb[i].idle);
	g_free(st->mb);
	st->mb = NULL;
	st->n_mb = 0;
}

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

/* What is polled how often, once at the start. */
static void log_running(const Desk *desk)
{
	const Config *cfg = desk->cfg;
	for (size_t i = 0; i < cfg->n_mailboxes; i++)
		log_notice("running: polling %s%s%s at least every %d s", cfg->mailboxes[i].url,
			   cfg->mailbox_list ? " as mailbox " : "",
			   cfg->mailbox_list ? cfg->mailboxes[i].name : "",
			   cfg->mailboxes[i].poll_interval);
}

/* A step failed with rc: whose fault?  If the database is gone now, or
 * was lost and had to be reconnected, the database's (one outage for all
 * steps); else the step's server's, when it
 * has a Backoff (a missing mailbox is as much an outage as a server that
 * is down); a bug or an SQL error (DM_EINTERNAL) is no server's: a plain
 * warning every pass, as it may be a mail's. */
static void step_failed(Desk *desk, RunState *st, Backoff *server, const char *step, int rc,
			const DmError *e)
{
	int interval = desk_poll_interval(desk);
	DmError dbe = {0};
	bool reconnected = false;
	int dbrc = desk->db ? store_ensure(desk->db, &reconnected, &dbe) : desk_connect(desk, &dbe);
	if (dbrc) {
		backoff_failed(&st->db, dbrc, dbe.msg, interval);
		return;
	}
	/* the connection was lost during the step and is back: the step's
	 * trouble was the database's, not its server's */
	if (reconnected) {
		backoff_failed(&st->db, rc == DM_EINTERNAL ? DM_ETEMP : rc, e->msg, interval);
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
	int interval = desk_poll_interval(desk);
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

	for (size_t i = 0; i < st->n_mb && !desk_stopping(desk); i++) {
		RunMailbox *m = &st->mb[i];
		if (!backoff_due(&m->imap))
			continue;
		PollStats ps;
		bool polled = false;
		dm_error_clear(&e);
		/* announced mail, or the retry of an outage: polled now */
		rc = desk_poll_mailbox(desk, i, m->announced || m->imap.kind != 0, &polled, &ps,
				       &e);
		if (rc == 0) /* else the mail announced is still to be taken in */
			m->announced = false;
		log_poll(&ps);
		if (fatal(rc))
			return dm_error_set(err, rc, "%s", e.msg);
		if (rc)
			step_failed(desk, st, &m->imap, "poll", rc, &e);
		else if (polled)
			backoff_ok(&m->imap);
		if (!backoff_due(&st->db))
			return 0;
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

/* Open mailbox i's IDLE connection if it is wanted and may be tried now.
 * True when it was just opened: mail may have come since its last poll,
 * before the server was watching for us, so it is polled at once. */
static bool idle_open(Desk *desk, RunState *st, size_t i)
{
	RunMailbox *m = &st->mb[i];
	if (m->idle || m->idle_unoffered || !backoff_due(&m->idle_b) || m->imap.kind == DM_EAUTH)
		return false;
	const CfgMailbox *mb = &desk->cfg->mailboxes[i];
	ImapParams p;
	desk_imap_params(mb, &p);
	DmError e = {0};
	int rc = imap_idle_open(&p, desk->stop, &m->idle, &e);
	if (rc && desk_stopping(desk))
		return false; /* given up on the stop signal: no outage */
	if (rc == 0) {
		if (m->idle_b.kind == 0)
			log_info("IMAP IDLE: waiting for mail on %s (and a pass every %d s)",
				 mb->url, mb->poll_interval);
		else /* the outage is over once it lasts (idle_stable) */
			log_info("%s: connected again, waiting for mail on %s", m->idle_b.what,
				 mb->url);
		m->idle_opened = now_us();
		/* the server answers again: the poll need not wait its turn */
		backoff_retry_now(&m->imap);
		m->announced = true;
		return true;
	}
	if (rc == DM_ENOTFOUND || rc == DM_ECONFIG) {
		m->idle_unoffered = true;
		log_notice("%s; polling %s every %d s", e.msg, mb->url, mb->poll_interval);
		return false;
	}
	/* a refused login is the poll's to report (once); the rest is the
	 * IDLE connection's own outage, polled through meanwhile */
	if (rc == DM_EAUTH)
		backoff_failed(&m->imap, rc, e.msg, mb->poll_interval);
	else
		backoff_failed(&m->idle_b, rc, e.msg, mb->poll_interval);
	return false;
}

/* Every mailbox's IDLE connection that may be opened now; true when one
 * was. */
static bool idle_open_all(Desk *desk, RunState *st)
{
	bool opened = false;
	for (size_t i = 0; i < st->n_mb && !desk_stopping(desk); i++)
		opened |= idle_open(desk, st, i);
	return opened;
}

/* When the next pass is due: the shortest poll_interval from now, or
 * sooner when a server in an outage may be tried again (the database
 * after 5 s, ...). */
static int64_t next_pass_at(const Desk *desk, const RunState *st)
{
	int64_t now = now_us();
	int64_t at = now + (int64_t)desk_poll_interval(desk) * G_USEC_PER_SEC;
	/* while the database is out a pass does nothing before its next try */
	if (st->db.kind)
		return MIN(at, MAX(st->db.next_us, now));
	/* a try that came due during the pass (or a moment ago) is the next
	 * pass's, at once: not after the interval.  A pass always tries an
	 * outage that is due (run_pass polls a mailbox in an outage even
	 * within its interval), so this is no busy loop. */
	if (st->smtp.kind)
		at = MIN(at, MAX(st->smtp.next_us, now));
	for (size_t i = 0; i < st->n_mb; i++)
		if (st->mb[i].imap.kind)
			at = MIN(at, MAX(st->mb[i].imap.next_us, now));
	return at;
}

/* The IDLE connections open now. */
static size_t idle_count(const RunState *st)
{
	size_t n = 0;
	for (size_t i = 0; i < st->n_mb; i++)
		n += st->mb[i].idle != NULL;
	return n;
}

/* Milliseconds until a closed IDLE connection may be opened again (its
 * backoff's next try), at least 50; a second when none is waiting. */
static int64_t idle_retry_ms(const RunState *st)
{
	int64_t now = now_us(), ms = RUN_WAIT_SLICE_MS;
	for (size_t i = 0; i < st->n_mb; i++) {
		const RunMailbox *m = &st->mb[i];
		if (m->idle == NULL && !m->idle_unoffered && m->idle_b.kind)
			ms = MIN(ms, (m->idle_b.next_us - now) / 1000);
	}
	return MAX(ms, 50);
}

/* Wait until the next pass is due: a server announced mail (IDLE), or
 * its time came (next_pass_at), or a flag was raised (looked at within a
 * second, or 100 ms when polling). */
static Wake wait_for_mail(Desk *desk, RunState *st)
{
	if (idle_open_all(desk, st))
		return WAKE_MAIL;
	int64_t deadline = next_pass_at(desk, st);
	size_t n;
	while ((n = idle_count(st)) > 0) {
		/* a connection that failed while another stays open is opened
		 * again when its backoff allows (at once when nothing is due) */
		if (idle_open_all(desk, st))
			return WAKE_MAIL;
		n = idle_count(st);
		for (size_t i = 0; i < st->n_mb; i++) {
			RunMailbox *m = &st->mb[i];
			if (desk_stopping(desk))
				return WAKE_STOP;
			if (reload_requested(desk))
				return WAKE_RELOAD;
			int64_t left_ms = (deadline - now_us()) / 1000;
			if (left_ms <= 0)
				return WAKE_TIME;
			if (m->idle == NULL)
				continue;
			left_ms = MIN(left_ms, idle_retry_ms(st));
			bool changed = false;
			DmError e = {0};
			int slice = (int)MAX(RUN_WAIT_SLICE_MS / (int64_t)n, 50);
			int rc = imap_idle_wait(m->idle, (int)MIN(left_ms, slice), desk->stop,
						&changed, &e);
			if (rc) {
				imap_idle_close(m->idle);
				m->idle = NULL;
				backoff_failed(&m->idle_b, rc, e.msg,
					       desk->cfg->mailboxes[i].poll_interval);
				break;
			}
			if (m->idle_b.kind &&
			    now_us() - m->idle_opened >= RUN_IDLE_STABLE_S * G_USEC_PER_SEC)
				backoff_ok(&m->idle_b);
			if (changed) {
				log_debug("IMAP IDLE: the server announced mail in %s",
					  desk->cfg->mailboxes[i].url);
				m->announced = true;
				return WAKE_MAIL;
			}
		}
	}
	/* polling: sleep out the interval, trying the IDLE connections again
	 * when their backoff allows */
	for (;;) {
		if (desk_stopping(desk))
			return WAKE_STOP;
		if (reload_requested(desk))
			return WAKE_RELOAD;
		if (now_us() >= deadline)
			return WAKE_TIME;
		if (idle_open_all(desk, st))
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

static bool imap_settings_equal(const CfgMailbox *a, const CfgMailbox *b)
{
	return same_str(a->url, b->url) && same_str(a->username, b->username) &&
	       same_str(a->password, b->password) && a->tls_verify == b->tls_verify &&
	       same_str(a->ca_file, b->ca_file) && a->timeout == b->timeout && a->auth == b->auth &&
	       a->oauth2_mechanism == b->oauth2_mechanism &&
	       same_str(a->oauth2_token_file, b->oauth2_token_file) &&
	       same_str(a->oauth2_token_command, b->oauth2_token_command) &&
	       same_str(a->name, b->name);
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
	/* the mailboxes' states are kept when the list is the same length;
	 * a mailbox whose settings changed gets a new IDLE connection */
	bool same_list = rc == 0 && cfg->n_mailboxes == st->n_mb;
	bool *changed = g_new0(bool, st->n_mb);
	for (size_t i = 0; same_list && i < st->n_mb; i++)
		changed[i] = !imap_settings_equal(&desk->cfg->mailboxes[i], &cfg->mailboxes[i]);
	int level = rc == 0 ? dm_log_level_parse(cfg->log_level) : -1;
	if (rc == 0)
		rc = desk_reload(desk, cfg, &e);
	if (rc) {
		g_free(changed);
		cfg_free(cfg);
		log_err("reload of %s refused, keeping the configuration in use: %s", path, e.msg);
		return;
	}
	/* log.level too, unless the command line set it (-v, -q) */
	if (level >= 0 && !dm_log_level_fixed)
		dm_log_level = level;
	log_notice("configuration and templates reloaded from %s", path);
	if (!same_list) {
		run_mailboxes_clear(st);
		run_mailboxes_init(st, desk->cfg);
	}
	for (size_t i = 0; i < st->n_mb; i++) {
		RunMailbox *m = &st->mb[i];
		if (same_list && changed[i]) {
			imap_idle_close(m->idle);
			m->idle = NULL;
			backoff_retry_now(&m->idle_b);
		}
		/* the server may offer IDLE now: asked again at the next open */
		m->idle_unoffered = false;
		backoff_retry_now(&m->imap);
	}
	g_free(changed);
	backoff_retry_now(&st->db);
	backoff_retry_now(&st->smtp);
}

int desk_run(Desk *desk, DmError *err)
{
	log_running(desk);
	RunState st = {.db = {.what = "database"}, .smtp = {.what = "SMTP"}};
	run_mailboxes_init(&st, desk->cfg);
	int rc = 0;
	idle_open_all(desk, &st); /* watching before the first pass: nothing slips between */
	while (!desk_stopping(desk)) {
		if ((rc = run_pass(desk, &st, err)) != 0)
			break;
		/* after a reload, a pass at once with the new settings */
		if (wait_for_mail(desk, &st) == WAKE_RELOAD)
			reload(desk, &st);
	}
	run_mailboxes_clear(&st);
	if (rc == 0)
		log_notice("stopping on signal");
	return rc;
}
