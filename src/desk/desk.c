/* desk.c - opening the desk: the database connection and the operator's
 * templates (each checked by rendering it with every placeholder, so a typo
 * is found when the daemon starts, not when a client's mail is answered). */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "deskmail/util.h"
#include "dm_build.h"

/* deskmail's own templates: the installed ones (<prefix>/share/deskmail/
 * templates, or under $DESKMAIL_DATADIR), else the source tree's (tests and
 * the demo, run from a build folder).  The operator's folder (desk.templates,
 * /etc/deskmail/templates when installed) holds only the ones changed. */
enum { N_FALLBACKS = 2 };

typedef struct {
	char *dir[N_FALLBACKS];
	GString *names[N_FALLBACKS]; /* the templates taken from dir[i] */
	int n;                       /* how many in all */
} Borrowed;

static void borrowed_init(Borrowed *b)
{
	b->dir[0] = g_build_filename(dm_datadir(), "templates", NULL);
	b->dir[1] = g_strdup(SOURCE_TEMPLATEDIR);
	for (int i = 0; i < N_FALLBACKS; i++)
		b->names[i] = g_string_new(NULL);
	b->n = 0;
}

static void borrowed_clear(Borrowed *b)
{
	for (int i = 0; i < N_FALLBACKS; i++) {
		g_free(b->dir[i]);
		g_string_free(b->names[i], TRUE);
	}
}

/* The operator's template from dir, else (a brand's folder holding only
 * the templates that differ) from desk.templates, else deskmail's own; the
 * names taken from there are noted in `borrowed` for one notice. */
static int load_template(const Config *cfg, const char *dir, const char *name, Template **t,
			 Borrowed *borrowed, DmError *err)
{
	int rc = template_load(dir, name, t, err);
	if (rc != DM_ENOTFOUND)
		return rc;
	if (strcmp(dir, cfg->desk_templates) != 0) {
		DmError e2 = {0};
		rc = template_load(cfg->desk_templates, name, t, &e2);
		if (rc != DM_ENOTFOUND) {
			if (rc == 0)
				dm_error_clear(err);
			else
				*err = e2;
			return rc;
		}
	}
	for (int i = 0; i < N_FALLBACKS; i++) {
		if (strcmp(borrowed->dir[i], cfg->desk_templates) == 0)
			continue;
		DmError e2 = {0};
		if (template_load(borrowed->dir[i], name, t, &e2) == 0) {
			GString *names = borrowed->names[i];
			g_string_append_printf(names, "%s%s", names->len ? ", " : "", name);
			borrowed->n++;
			dm_error_clear(err);
			return 0;
		}
	}
	return rc;
}

/* One line: at info when the operator's folder holds none of the templates
 * (the usual installation, where it holds only those changed, if any), at
 * notice when it holds some but not all (a folder kept from an older
 * version), naming those taken from deskmail's own. */
static void note_borrowed(const Config *cfg, const Borrowed *borrowed)
{
	g_autoptr(GString) s = g_string_new(NULL);
	for (int i = 0; i < N_FALLBACKS; i++)
		if (borrowed->names[i]->len)
			g_string_append_printf(s, "%s%s (%s)", s->len ? "; " : "",
					       borrowed->names[i]->str, borrowed->dir[i]);
	if (borrowed->n == 0)
		return;
	if (borrowed->n < TPL_COUNT)
		log_notice("templates not in %s, taken from deskmail's own: %s",
			   cfg->desk_templates, s->str);
	else
		log_info("templates: deskmail's own, none in %s: %s", cfg->desk_templates, s->str);
}

/* The templates of folder dir (desk.templates, or a mailbox's). */
static int load_templates(const Config *cfg, const char *dir, Template *tpl[TPL_COUNT],
			  DmError *err)
{
	Borrowed borrowed;
	borrowed_init(&borrowed);
	int rc = 0;
	for (int i = 0; i < TPL_COUNT && rc == 0; i++)
		rc = load_template(cfg, dir, plan_template_names[i], &tpl[i], &borrowed, err);
	note_borrowed(cfg, &borrowed);
	borrowed_clear(&borrowed);
	return rc == DM_ENOTFOUND ? DM_ECONFIG : rc;
}

static int check_templates(const Config *cfg, const char *dir, DmError *err)
{
	Template *tpl[TPL_COUNT] = {0};
	int rc = load_templates(cfg, dir, tpl, err);
	PlanVars v = {0};
	for (int i = 0; plan_placeholders[i]; i++)
		plan_vars_set(&v, plan_placeholders[i], "x");
	for (int i = 0; i < TPL_COUNT && rc == 0; i++) {
		char *s = NULL, *txt = NULL, *html = NULL;
		rc = template_render(tpl[i], plan_vars_lookup, &v, &s, &txt, &html, err);
		g_free(s);
		g_free(txt);
		g_free(html);
	}
	for (int i = 0; i < TPL_COUNT; i++)
		template_free(tpl[i]);
	return rc;
}

int desk_check_templates(const Config *cfg, DmError *err)
{
	int rc = check_templates(cfg, cfg->desk_templates, err);
	for (size_t i = 0; rc == 0 && i < cfg->n_mailboxes; i++) {
		const CfgMailbox *mb = &cfg->mailboxes[i];
		DmError e = {0};
		if (mb->templates != NULL && (rc = check_templates(cfg, mb->templates, &e)) != 0)
			rc = dm_error_set(err, rc, "mailbox %s: %s", mb->name, e.msg);
	}
	return rc;
}

/* A brand for each mailbox with an address or templates of its own. */
static int open_brands(Desk *d, DmError *err)
{
	const Config *cfg = d->cfg;
	d->brands = g_new0(Brand, cfg->n_mailboxes);
	for (size_t i = 0; i < cfg->n_mailboxes; i++) {
		const CfgMailbox *mb = &cfg->mailboxes[i];
		if (mb->address == NULL && mb->templates == NULL)
			continue;
		Brand *b = &d->brands[d->n_brands++];
		b->mb = mb;
		b->view = *cfg;
		if (mb->address != NULL) {
			/* its mail's Message-IDs in its own domain */
			b->view.desk_address = mb->address;
			b->domain = g_strdup(strrchr(mb->address, '@') + 1);
			b->view.desk_domain = b->domain;
		}
		if (mb->templates != NULL) {
			b->view.desk_templates = mb->templates;
			int rc = load_templates(cfg, mb->templates, b->tpl, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

const Brand *desk_brand(const Desk *desk, const char *mailbox)
{
	for (size_t i = 0; mailbox != NULL && i < desk->n_brands; i++)
		if (strcmp(desk->brands[i].mb->name, mailbox) == 0)
			return &desk->brands[i];
	return NULL;
}

int desk_new(const Config *cfg, Desk **desk_r, DmError *err)
{
	Desk *d = g_new0(Desk, 1);
	d->cfg = cfg;
	mime_limits_default(&d->limits);
	d->imap = g_new0(ImapSession *, cfg->n_mailboxes);
	d->polled_at = g_new0(int64_t, cfg->n_mailboxes);
	int rc = load_templates(cfg, cfg->desk_templates, d->tpl, err);
	if (rc == 0)
		rc = open_brands(d, err);
	if (rc) {
		desk_close(d);
		return rc;
	}
	*desk_r = d;
	return 0;
}

int desk_connect(Desk *desk, DmError *err)
{
	if (desk->db != NULL)
		return store_ensure(desk->db, NULL, err);
	Db *db = NULL;
	int rc = store_open(desk->cfg->db_conninfo, &db, err);
	if (rc == 0 && desk->schema_dir != NULL)
		rc = store_check_migrated(db, desk->schema_dir, err);
	if (rc) {
		store_close(db);
		return rc;
	}
	desk->db = db;
	return 0;
}

void desk_set_schema_dir(Desk *desk, const char *dir)
{
	desk->schema_dir = dir;
}

int desk_open(const Config *cfg, Desk **desk_r, DmError *err)
{
	Desk *d = NULL;
	int rc = desk_new(cfg, &d, err);
	if (rc == 0)
		rc = desk_connect(d, err);
	if (rc) {
		desk_close(d);
		return rc;
	}
	*desk_r = d;
	return 0;
}

/* Between passes nothing points into the configuration but the desk: its
 * brands (shallow copies of it), its IMAP sessions and poll times (one per
 * mailbox); the fetcher, batches and staff lists live within one pass.  So
 * a new desk is built from the new configuration (templates loaded and
 * test-rendered, brands) before anything changes, then the two swap
 * everything but the database connection (kept when the conninfo is the
 * same, else left for the next desk_connect) and the signal flags, and
 * the old parts are freed with the old desk. */
int desk_reload(Desk *desk, Config *cfg, DmError *err)
{
	Desk *n = NULL;
	int rc = desk_check_templates(cfg, err);
	if (rc == 0)
		rc = desk_new(cfg, &n, err);
	if (rc) {
		desk_close(n); /* cfg is still the caller's: owned_cfg is NULL */
		return rc;
	}
	Desk old = *desk;
	*desk = *n;
	desk->stop = old.stop;
	desk->reload = old.reload;
	desk->schema_dir = old.schema_dir;
	desk->owned_cfg = cfg;
	/* a changed conninfo: the old connection is closed with the old
	 * desk, and the next pass's desk_connect connects to the new database
	 * (checking its migrations; when it is down, that is an outage like
	 * any other, not a refused reload) */
	if (strcmp(cfg->db_conninfo, old.cfg->db_conninfo) == 0) {
		desk->db = old.db;
		old.db = NULL;
	}
	/* the new desk starts with sla_settings_checked false: the next
	 * escalation pass compares the service-level fingerprint again */
	*n = old;
	desk_close(n); /* the old templates, brands, sessions and owned Config */
	return 0;
}

void desk_close(Desk *desk)
{
	if (desk == NULL)
		return;
	store_close(desk->db);
	for (size_t i = 0; desk->imap != NULL && i < desk->cfg->n_mailboxes; i++)
		imap_session_free(desk->imap[i]);
	g_free(desk->imap);
	g_free(desk->polled_at);
	for (size_t i = 0; i < desk->n_brands; i++)
		for (int k = 0; k < TPL_COUNT; k++)
			template_free(desk->brands[i].tpl[k]);
	for (size_t i = 0; i < desk->n_brands; i++)
		g_free(desk->brands[i].domain);
	g_free(desk->brands);
	for (int i = 0; i < TPL_COUNT; i++)
		template_free(desk->tpl[i]);
	cfg_free(desk->owned_cfg); /* last: the lines above read desk->cfg */
	g_free(desk);
}

void desk_set_stop(Desk *desk, volatile sig_atomic_t *stop)
{
	desk->stop = stop;
}

void desk_set_reload(Desk *desk, volatile sig_atomic_t *reload)
{
	desk->reload = reload;
}

Db *desk_db(Desk *desk)
{
	return desk->db;
}

const char *ingest_outcome_name(IngestOutcome o)
{
	switch (o) {
	case INGEST_TICKET:
		return "new ticket";
	case INGEST_REPLY:
		return "reply";
	case INGEST_QUARANTINE:
		return "quarantined";
	case INGEST_DUPLICATE:
		return "duplicate";
	case INGEST_SET_ASIDE:
		return "set aside";
	}
	return "?";
}
