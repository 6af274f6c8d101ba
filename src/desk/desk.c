/* desk.c - opening the desk: the database connection and the operator's
 * templates (each checked by rendering it with every placeholder, so a typo
 * is found when the daemon starts, not when a client's mail is answered). */
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/log.h"
#include "dm_build.h"

/* The operator's template, else (a folder kept from an older version that
 * lacks a newer template) the one installed with deskmail; the names taken
 * from there are added to `borrowed` for one notice. */
static int load_template(const Config *cfg, const char *name, Template **t, GString *borrowed,
			 DmError *err)
{
	int rc = template_load(cfg->desk_templates, name, t, err);
	if (rc != DM_ENOTFOUND)
		return rc;
	static const char *const fallbacks[] = {SYSCONF_TEMPLATEDIR, SOURCE_TEMPLATEDIR};
	for (size_t i = 0; i < G_N_ELEMENTS(fallbacks); i++) {
		if (strcmp(fallbacks[i], cfg->desk_templates) == 0)
			continue;
		DmError e2 = {0};
		if (template_load(fallbacks[i], name, t, &e2) == 0) {
			g_string_append_printf(borrowed, "%s%s", borrowed->len ? ", " : "", name);
			g_string_append_printf(borrowed, " (%s)", fallbacks[i]);
			dm_error_clear(err);
			return 0;
		}
	}
	return rc;
}

static void note_borrowed(const Config *cfg, const GString *borrowed)
{
	if (borrowed->len)
		log_notice("templates not in %s, taken from deskmail's own: %s",
			   cfg->desk_templates, borrowed->str);
}

static int load_templates(const Config *cfg, Template *tpl[TPL_COUNT], DmError *err)
{
	g_autoptr(GString) borrowed = g_string_new(NULL);
	int rc = 0;
	for (int i = 0; i < TPL_COUNT && rc == 0; i++)
		rc = load_template(cfg, plan_template_names[i], &tpl[i], borrowed, err);
	note_borrowed(cfg, borrowed);
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

int desk_new(const Config *cfg, Desk **desk_r, DmError *err)
{
	Desk *d = g_new0(Desk, 1);
	d->cfg = cfg;
	mime_limits_default(&d->limits);
	int rc = load_templates(cfg, d->tpl, err);
	if (rc) {
		desk_close(d);
		return rc;
	}
	*desk_r = d;
	return 0;
}

int desk_connect(Desk *desk, DmError *err)
{
	if (desk->db == NULL)
		return store_open(desk->cfg->db_conninfo, &desk->db, err);
	return store_ensure(desk->db, NULL, err);
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

/* Between passes nothing points into the configuration but desk->cfg: the
 * IMAP session copies its strings, and the fetcher, batches and staff
 * lists live within one pass.  So the swap is: check everything the new
 * configuration brings (templates, a new database) before touching the
 * desk, then replace, then free what the desk owned before. */
int desk_reload(Desk *desk, Config *cfg, DmError *err)
{
	Template *tpl[TPL_COUNT] = {0};
	Db *db = NULL;
	int rc = desk_check_templates(cfg, err);
	if (rc == 0)
		rc = load_templates(cfg, tpl, err);
	if (rc == 0 && strcmp(cfg->db_conninfo, desk->cfg->db_conninfo) != 0)
		rc = store_open(cfg->db_conninfo, &db, err);
	if (rc) {
		for (int i = 0; i < TPL_COUNT; i++)
			template_free(tpl[i]);
		return rc;
	}
	for (int i = 0; i < TPL_COUNT; i++) {
		template_free(desk->tpl[i]);
		desk->tpl[i] = tpl[i];
	}
	if (db) {
		store_close(desk->db);
		desk->db = db;
	}
	/* opened again from the new settings by the next poll */
	g_clear_pointer(&desk->imap, imap_session_free);
	/* the service-level settings may have changed: the next escalation
	 * pass compares their fingerprint again */
	desk->sla_settings_checked = false;
	Config *old = desk->owned_cfg;
	desk->cfg = desk->owned_cfg = cfg;
	cfg_free(old);
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
	cfg_free(desk->owned_cfg);
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
