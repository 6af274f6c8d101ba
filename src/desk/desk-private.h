/* desk-private.h - shared by the files of src/desk only: the Desk, one job
 * per mail, the batch that commits jobs together, and rendering a plan's
 * mail. */
#ifndef DESKMAIL_DESK_PRIVATE_H
#define DESKMAIL_DESK_PRIVATE_H

#include <glib.h>

#include "deskmail/desk.h"
#include "deskmail/imap.h"
#include "deskmail/mime.h"
#include "deskmail/plan.h"
#include "deskmail/smtp.h"
#include "deskmail/store.h"
#include "deskmail/template.h"

/* A mailbox's brand: the configuration as the mail about its tickets sees
 * it (a shallow copy of the desk's with the mailbox's address and
 * templates folder) and its templates. */
typedef struct {
	const CfgMailbox *mb;     /* borrowed */
	Config view;              /* borrows every string from the desk's Config,
				     but desk_domain */
	char *domain;             /* owned: its address's, for Message-IDs */
	Template *tpl[TPL_COUNT]; /* owned; all NULL without templates of its
				     own (then the desk's are used) */
} Brand;

struct Desk {
	const Config *cfg; /* borrowed, or owned_cfg after a reload */
	Config *owned_cfg; /* loaded by a reload (desk_reload), or NULL */
	Db *db;            /* owned */
	MimeLimits limits;
	Template *tpl[TPL_COUNT];    /* owned, by TemplateKind */
	volatile sig_atomic_t *stop; /* set by a signal handler; may be NULL */
	ImapSession **imap;          /* owned, one per mailbox of cfg, each opened
					by its first poll */
	int64_t *polled_at;          /* per mailbox: when this process last polled
					it (monotonic us), 0 never */
	Brand *brands;               /* one per mailbox with an address or
					templates of its own */
	size_t n_brands;
	bool sla_settings_checked; /* this configuration's fingerprint is
				      recorded (desk/sla.c): once a process */

	/* the daemon (run.c): SIGHUP reloads the configuration (and the
	 * fingerprint above is checked again); may be NULL */
	volatile sig_atomic_t *reload;
	const char *schema_dir; /* borrowed: migrations checked at connect, or NULL */
};

/* The IMAP session of mailbox i of the configuration, opened on first use. */
ImapSession *desk_imap(Desk *desk, size_t i);

/* The brand of the mailbox named `mailbox`; NULL for the desk's own (name
 * NULL, a mailbox without address or templates of its own, or one no
 * longer configured). */
const Brand *desk_brand(const Desk *desk, const char *mailbox);

/* The configuration the planner reads for mail of brand b (NULL: the
 * desk's own). */
static inline const Config *brand_cfg(const Desk *d, const Brand *b)
{
	return b ? &b->view : d->cfg;
}

/* The SASL name of imap/smtp.oauth2_mechanism (CFG_OAUTH2_*), for
 * ImapParams and SmtpParams. */
static inline const char *desk_oauth2_mechanism(int m)
{
	return m == CFG_OAUTH2_OAUTHBEARER ? "OAUTHBEARER" : "XOAUTH2";
}

/* The IMAP session's parameters of a mailbox (quarantine.c). */
void desk_imap_params(const CfgMailbox *mb, ImapParams *p);
/* The SMTP client's parameters from the smtp group (send.c). */
void desk_smtp_params(const Config *cfg, SmtpParams *sp);

static inline bool desk_stopping(const Desk *d)
{
	return d->stop && *d->stop;
}

/* Microseconds of the monotonic clock. */
static inline int64_t now_us(void)
{
	return g_get_monotonic_time();
}

/* ---- one mail (job.c) ----
 * A job owns everything of one mail: its raw bytes, the parsed Mail, the
 * facts gathered about it, the plan and the plan's rendered mail; job_free
 * frees them all, once. */
typedef struct {
	unsigned char *raw; /* g_malloc'd */
	size_t len;
	MailSource src;         /* strings borrowed from the caller, except `why`;
				   src.brand is set with the facts (batch.c) */
	const char *in_mailbox; /* the configured mailbox it came in through
				   (borrowed), NULL: not through one */
	char *why;              /* owned: the reason it is quarantined whatever it is */
	char sha256[65];
	Mail *mail; /* NULL when the bytes are not a readable mail */
	DmError parse_err;
	MailFacts facts;
	Plan plan;
	bool fallback;     /* this is already the second try, as quarantine */
	int64_t set_aside; /* not stored even raw: its set-aside quarantine id */
} MailJob;

/* Takes raw (g_malloc'd).  Strings of src are borrowed. */
MailJob *job_new(unsigned char *raw, size_t len, const MailSource *src);
void job_free(MailJob *j);
/* Forget the facts and the plan (to try the job again). */
void job_reset(MailJob *j);
/* The bytes the job holds: raw, parsed and rendered. */
size_t job_bytes(const MailJob *j);
/* "INBOX uid 4" or "pipe", for log lines. */
void job_where(const MailJob *j, char *buf, size_t size);

/* ---- fetching ahead (fetch.c) ---- */

typedef struct Fetcher Fetcher;

typedef struct {
	uint32_t uid;
	int rc; /* of imap_fetch: 0, DM_ENOTFOUND (gone), DM_EPERM (over the cap), ... */
	DmError err;
	unsigned char *raw; /* the message (rc 0) */
	size_t len;
	unsigned char *head; /* its header, when it is over the cap (may be NULL) */
	size_t head_len;
	/* rc 0: the message parsed by the fetcher (mail NULL: not a mail,
	 * parse_err says why) and its SHA-256 */
	Mail *mail;
	DmError parse_err;
	char sha256[65];
	double fetch_seconds, parse_seconds; /* what they took in the fetcher */
} Fetched;

/* A thread fetching on imap (which the desk then uses only between
 * fetcher_pause and fetcher_resume) the UIDs given by fetcher_add, in
 * order, a few ahead, and parsing them with limits (borrowed).
 * max_bytes: imap.max_message_bytes. */
Fetcher *fetcher_start(ImapSession *imap, uint32_t uidvalidity, size_t max_bytes,
		       const MimeLimits *limits);
void fetcher_add(Fetcher *fe, const uint32_t *uids, size_t n);
/* The next UID fetched, in the order added (blocks until it is); NULL when
 * none is left.  Free with fetched_free. */
Fetched *fetcher_next(Fetcher *fe);
void fetched_free(Fetched *f);
/* Let the desk use the session: waits for the fetch under way. */
void fetcher_pause(Fetcher *fe);
void fetcher_resume(Fetcher *fe);
/* Stop and join the thread; what it fetched and nobody took is dropped. */
void fetcher_stop(Fetcher *fe);

/* ---- the digest's chart (chart.c) ---- */

/* The weekly shares as a PNG (appended to out).  0, or -1. */
int chart_compliance_png(const DigestChart *c, GByteArray *out);

/* ---- rendering (render.c) ---- */

/* Render and compose every mail of the plan (fills the PlanMail output
 * fields) with brand b's templates and address (NULL: the desk's own; the
 * plan must have been made with brand_cfg(desk, b)).  DM_ECONFIG for a
 * template problem, DM_EPERM for mail that cannot be composed (a bad
 * address). */
int render_plan(Desk *desk, const Brand *b, Plan *p, DmError *err);

/* ---- a batch of jobs in one transaction (batch.c) ---- */

typedef struct {
	double fetch, parse, facts, plan, compose, apply, commit, mark; /* seconds */
} IngestTiming;

typedef struct {
	Desk *desk;
	bool fallback; /* a mail that cannot be stored is quarantined with why */
	bool defer;    /* the rows no later mail reads are written at the commit */
	bool open;     /* the transaction is open */
	int64_t opened_at;
	StaffList staff;
	MailJob *applied;   /* the job whose rows are queued, not yet waited for */
	GPtrArray *jobs;    /* of MailJob: written, waiting for the commit */
	size_t bytes;       /* of their raw mail */
	GHashTable *sent;   /* "kind\nrcpt" -> automatic replies queued by the batch */
	int64_t mailbox_id; /* where the mails of the batch came from */
	uint32_t uidvalidity;
	GArray *seen;   /* of SeenUid: the mailbox's UIDs done in this batch */
	size_t failed;  /* mails given up for good (the caller counts and resets) */
	size_t dropped; /* mails taken but not kept, to be taken again (likewise) */
	IngestTiming *timing;
} Batch;

typedef struct {
	IngestResult res;
	uint32_t uid;
	char where[160];
	char from[256];
} BatchDone;

void batch_init(Batch *b, Desk *desk, bool fallback, IngestTiming *timing);
void batch_clear(Batch *b);
/* Take one parsed job in (the batch takes ownership of j); on failure the
 * batch is rolled back entirely and the error returned. */
int batch_add(Batch *b, MailJob *j, DmError *err);
/* A batch of one: take j in and commit (ingest.c).  With fallback, a mail
 * whose effects cannot be stored is kept raw in quarantine. */
int desk_take_one(Desk *desk, MailJob *j, bool fallback, IngestTiming *timing, IngestResult *res,
		  DmError *err);
/* Whether the batch has worked long enough to be committed. */
bool batch_full(const Batch *b);
/* Commit what was added; the jobs' results are appended to done (a GArray
 * of BatchDone, may be NULL) and logged. */
int batch_commit(Batch *b, GArray *done, DmError *err);
void batch_rollback(Batch *b);

/* Parse a job (timed). */
void job_parse(Desk *desk, MailJob *j, IngestTiming *t);

#endif
