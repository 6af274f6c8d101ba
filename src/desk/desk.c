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

/* The operator's template, else deskmail's own; the names taken from there
 * are noted in `borrowed` for one notice. */
static int load_template(const Config *cfg, const char *name, Template **t, Borrowed *borrowed,
			 DmError *err)
{
	int rc = template_load(cfg->desk_templates, name, t, err);
	if (rc != DM_ENOTFOUND)
		return rc;
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

static int load_templates(const Config *cfg, Template *tpl[TPL_COUNT], DmError *err)
{
	Borrowed borrowed;
	borrowed_init(&borrowed);
	int rc = 0;
	for (int i = 0; i < TPL_COUNT && rc == 0; i++)
		rc = load_template(cfg, plan_template_names[i], &tpl[i], &borrowed, err);
	note_borrowed(cfg, &borrowed);
	borrowed_clear(&borrowed);
	return rc == DM_ENOTFOUND ? DM_ECONFIG : rc;
}

int desk_check_templates(const Config *cfg, DmError *err)
{
	Template *tpl[TPL_COUNT] = {0};
	int rc = load_templates(cfg, tpl, err);
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

int desk_open(const Config *cfg, Desk **desk_r, DmError *err)
{
	Desk *d = g_new0(Desk, 1);
	d->cfg = cfg;
	mime_limits_default(&d->limits);
	int rc = load_templates(cfg, d->tpl, err);
	if (rc == 0)
		rc = store_open(cfg->db_conninfo, &d->db, err);
	if (rc) {
		desk_close(d);
		return rc;
	}
	*desk_r = d;
	return 0;
}

void desk_close(Desk *desk)
{
	if (desk == NULL)
		return;
	store_close(desk->db);
	imap_session_free(desk->imap);
	for (int i = 0; i < TPL_COUNT; i++)
		template_free(desk->tpl[i]);
	g_free(desk);
}

void desk_set_stop(Desk *desk, volatile sig_atomic_t *stop)
{
	desk->stop = stop;
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
