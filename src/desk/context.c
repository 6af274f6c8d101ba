/* context.c - opening the desk (database + templates), template variables,
 * audit events, and where the migrations live. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/imap.h"
#include "deskmail/log.h"
#include "dm_build.h"

const char *const desk_placeholders[] = {
	"ticket.id",
	"ticket.subject",
	"ticket.status",
	"ticket.severity",
	"ticket.line",
	"client.name",
	"client.plan",
	"contact.name",
	"contact.email",
	"desk.name",
	"desk.address",
	"sender.name",
	"sender.email",
	"message.subject",
	"reason",
	"ticket.category",
	"ticket.assignee",
	"ticket.chargeable",
	"ticket.created",
	"message.text",
	"recipient.name",
	"actor.name",
	"actor.email",
	"notice.title",
	"notice.text",
	"attachments",
	"errors",
	"refused",
	NULL,
};

static const char *const template_names[] = {
	"ack", "quarantine", "notify", "relay", "command-error", "attachment-refused", NULL};

/* The Desk member holding template_names[i]. */
static Template **template_slot(Desk *d, int i)
{
	Template **slots[] = {&d->tpl_ack,   &d->tpl_quarantine,    &d->tpl_notify,
			      &d->tpl_relay, &d->tpl_command_error, &d->tpl_refused};
	return slots[i];
}

void tplvars_set(TplVars *v, const char *name, const char *value)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->name[i], name) == 0) {
			v->value[i] = value ? value : "";
			return;
		}
	g_assert(v->n < TPL_MAX_VARS);
	v->name[v->n] = name;
	v->value[v->n] = value ? value : "";
	v->n++;
}

const char *tplvars_lookup(void *ctx, const char *name)
{
	TplVars *v = ctx;
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->name[i], name) == 0)
			return v->value[i];
	return NULL;
}

const char *i64s(char buf[24], int64_t v)
{
	snprintf(buf, 24, "%lld", (long long)v);
	return buf;
}

const char *desk_sql_dir(void)
{
	const char *env = getenv("DESKMAIL_SQLDIR");
	if (env && *env)
		return env;
	if (g_file_test(PKGDATADIR "/sql/001_init.sql", G_FILE_TEST_EXISTS))
		return PKGDATADIR "/sql";
	return SOURCE_SQLDIR;
}

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

int desk_check_templates(const Config *cfg, DmError *err)
{
	TplVars v = {0};
	for (int i = 0; desk_placeholders[i]; i++)
		tplvars_set(&v, desk_placeholders[i], "x");
	g_autoptr(GString) borrowed = g_string_new(NULL);
	for (int i = 0; template_names[i]; i++) {
		Template *t = NULL;
		int rc = load_template(cfg, template_names[i], &t, borrowed, err);
		if (rc)
			return rc;
		char *s = NULL, *txt = NULL, *html = NULL;
		rc = template_render(t, tplvars_lookup, &v, &s, &txt, &html, err);
		g_free(s);
		g_free(txt);
		g_free(html);
		template_free(t);
		if (rc)
			return rc;
	}
	note_borrowed(cfg, borrowed);
	return 0;
}

int desk_open(const Config *cfg, Desk **desk_r, DmError *err)
{
	Desk *d = g_new0(Desk, 1);
	d->cfg = cfg;
	mime_limits_default(&d->limits);
	int rc = 0;
	g_autoptr(GString) borrowed = g_string_new(NULL);
	for (int i = 0; template_names[i] && rc == 0; i++)
		rc = load_template(cfg, template_names[i], template_slot(d, i), borrowed, err);
	note_borrowed(cfg, borrowed);
	if (rc == 0)
		rc = db_connect(cfg->db_conninfo, &d->db, err);
	if (rc) {
		desk_close(d);
		return rc == DM_ENOTFOUND ? DM_ECONFIG : rc;
	}
	*desk_r = d;
	return 0;
}

void desk_close(Desk *desk)
{
	if (desk == NULL)
		return;
	db_close(desk->db);
	imap_session_free(desk->imap);
	for (int i = 0; template_names[i]; i++)
		template_free(*template_slot(desk, i));
	g_free(desk);
}

int desk_event(Desk *desk, int64_t ticket_id, const char *kind, const char *actor,
	       const char *field, const char *before, const char *after, const char *detail,
	       DmError *err)
{
	char tb[24];
	const char *p[] = {
		ticket_id ? i64s(tb, ticket_id) : NULL, kind, actor, field, before, after, detail};
	return db_exec(
		desk->db,
		"INSERT INTO event (ticket_id, kind, actor, staff_id, field, before, after, "
		"detail) "
		"VALUES ($1::bigint, $2, $3, (SELECT id FROM staff WHERE email = lower($3)), "
		"$4, $5, $6, $7)",
		7, p, NULL, err);
}

char *pg_text_array(const char *const *items, size_t n)
{
	GString *s = g_string_new("{");
	for (size_t i = 0; i < n; i++) {
		g_string_append(s, i ? ",\"" : "\"");
		for (const char *c = items[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				g_string_append_c(s, '\\');
			g_string_append_c(s, *c);
		}
		g_string_append_c(s, '"');
	}
	g_string_append_c(s, '}');
	return g_string_free(s, FALSE);
}
