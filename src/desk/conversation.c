/* conversation.c - staff working a ticket by mail, and staff notifications.
 *
 * A staff member's mail on a ticket is stored as an internal message (the
 * whole mail kept, its clean text after the commands as the body).  Its
 * #commands are applied in order under the role rules (command.c); each
 * change is an audit event with who, what, before and after.  What is left
 * of the text, without quoted history and signature, is relayed to the
 * ticket's contact from the desk address, threaded with the client's latest
 * mail; the first relay is the ticket's first response.  A junior engineer's
 * text, and anything after #note, stays internal: for a junior the assignee
 * (or the line's staff) is told.  Refused or not understood commands are not
 * applied and the sender gets one mail listing them; the rest of the mail is
 * still handled.  #chargeable and #category project|consultancy hand the
 * ticket to the client's account manager.
 *
 * Everything happens inside the caller's transaction: a crash leaves no
 * half-applied command list, and the same mail seen again is recognised
 * before it gets here. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "desk-private.h"
#include "deskmail/clean.h"
#include "deskmail/command.h"
#include "deskmail/log.h"

#define MAX_OUT_ATTACHMENTS 50

/* The attachments of m that ingest kept (attachment_refusal, in the same
 * order), as borrowed OutAttachments. */
static size_t kept_attachments(const Config *cfg, const Mail *m, OutAttachment *out, size_t max)
{
	size_t n = 0;
	int64_t total = 0;
	for (size_t i = 0; i < m->n_attachments && n < max; i++) {
		const MailAttachment *a = &m->attachments[i];
		char why[160];
		if (attachment_refusal(cfg, a->size, &total, why))
			continue;
		out[n++] = (OutAttachment){.filename = a->filename,
					   .content_type = a->content_type,
					   .data = a->data,
					   .size = a->size,
					   .sha256 = a->sha256};
	}
	return n;
}

/* "  report.pdf (application/pdf, 1234 bytes)" lines, for notifications. */
static char *attachment_lines(const Mail *m)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; m && i < m->n_attachments; i++)
		g_string_append_printf(s, "  %s (%s, %zu bytes)\n", m->attachments[i].filename,
				       m->attachments[i].content_type, m->attachments[i].size);
	if (s->len == 0)
		g_string_append(s, "  none\n");
	return g_string_free(s, FALSE);
}

static const char recipients_sql[] =
	"SELECT s.id, s.email, s.name FROM staff s JOIN ticket t ON t.id = $1::bigint "
	"WHERE s.active AND s.id IS DISTINCT FROM $4::bigint AND CASE $2 "
	"WHEN 'one' THEN s.id = $5::bigint "
	"WHEN 'assignee' THEN CASE WHEN t.assignee_id IS NOT NULL AND t.assignee_id IS DISTINCT "
	"  FROM $4::bigint AND EXISTS (SELECT 1 FROM staff a WHERE a.id = t.assignee_id AND "
	"  a.active) THEN s.id = t.assignee_id ELSE s.line = t.line END "
	"ELSE s.line = t.line OR ($3::boolean AND s.id = (SELECT c.account_manager_id FROM "
	"  client c WHERE c.id = t.client_id)) END "
	"ORDER BY s.id";

/* Nobody on the line: the client's account manager, else every manager. */
static const char fallback_sql[] =
	"SELECT s.id, s.email, s.name FROM staff s JOIN ticket t ON t.id = $1::bigint "
	"JOIN client c ON c.id = t.client_id WHERE s.active AND s.id IS DISTINCT FROM $2::bigint "
	"AND (s.id = c.account_manager_id OR (c.account_manager_id IS NULL AND s.role IN "
	"('account-manager', 'project-manager'))) ORDER BY s.id";

int notify_staff(Desk *desk, int64_t ticket_id, const TplVars *view, const Notice *n, DmError *err)
{
	const Config *cfg = desk->cfg;
	char tb[24], xb[24], ob[24];
	static const char *const who_names[] = {"line", "assignee", "one"};
	const char *p[] = {i64s(tb, ticket_id), who_names[n->who],
			   cfg->desk_notify_account_manager ? "t" : "f",
			   n->exclude_staff_id ? i64s(xb, n->exclude_staff_id) : NULL,
			   n->one_staff_id ? i64s(ob, n->one_staff_id) : NULL};
	DbRes *rcpts = NULL;
	int rc = db_exec(desk->db, recipients_sql, 5, p, &rcpts, err);
	if (rc)
		return rc;
	if (dbres_rows(rcpts) == 0 && n->who != NOTIFY_ONE) {
		dbres_free(rcpts);
		rcpts = NULL;
		const char *fp[] = {tb, p[3]};
		rc = db_exec(desk->db, fallback_sql, 2, fp, &rcpts, err);
		if (rc)
			return rc;
	}
	if (dbres_rows(rcpts) == 0) {
		log_notice("ticket #%lld: nobody to send %s to", (long long)ticket_id, n->kind);
		dbres_free(rcpts);
		return 0;
	}

	TplVars v = *view;
	g_autofree char *att = attachment_lines(n->m);
	tplvars_set(&v, "notice.title", n->title);
	tplvars_set(&v, "notice.text", n->text && *n->text ? n->text : "(no text)");
	tplvars_set(&v, "actor.name", n->actor_name ? n->actor_name : n->actor_email);
	tplvars_set(&v, "actor.email", n->actor_email);
	tplvars_set(&v, "attachments", att);

	const char *refs[21];
	size_t nrefs = n->m ? reply_refs(n->m, refs, 20) : 0;
	OutAttachment files[MAX_OUT_ATTACHMENTS];
	size_t nfiles = n->m && cfg->desk_notify_attachments
				? kept_attachments(cfg, n->m, files, MAX_OUT_ATTACHMENTS)
				: 0;
	for (int i = 0; i < dbres_rows(rcpts) && rc == 0; i++) {
		g_autofree char *key =
			g_strdup_printf("%s:staff:%s", n->key, dbres_get(rcpts, i, 0));
		tplvars_set(&v, "recipient.name", dbres_get(rcpts, i, 2));
		OutSpec spec = {.kind = n->kind,
				.event_key = key,
				.ticket_id = ticket_id,
				.to_name = dbres_get(rcpts, i, 2),
				.to_addr = dbres_get(rcpts, i, 1),
				.in_reply_to = n->m ? n->m->message_id : NULL,
				.refs = refs,
				.n_refs = nrefs,
				.auto_header = "auto-generated",
				.internal = true,
				.reply_to = cfg->desk_address,
				.attachments = files,
				.n_attachments = nfiles};
		QueueResult qr;
		rc = outbox_queue(desk, desk->tpl_notify, &v, &spec, &qr, err);
	}
	dbres_free(rcpts);
	return rc;
}

/* ---- staff replies ---- */

typedef struct {
	Desk *desk;
	const Mail *m;
	int64_t ticket_id;
	int64_t message_row;
	const StaffRef *who;
	GString *errors; /* for the command-error mail */
	bool handover;   /* #chargeable or a project/consultancy category */
	const char *handover_why;
	int64_t handed_to;   /* the account manager it was handed to */
	int64_t assigned_to; /* #assign gave the ticket to someone else */
	const TplVars *view; /* the ticket after the changes, for every mail */
} Work;

static int refuse(Work *w, const Command *c, const char *why, DmError *err)
{
	g_string_append_printf(w->errors, "  line %d: %s\n    not applied: %s\n", c->line_no,
			       c->line, why);
	g_autofree char *detail = g_strdup_printf("%s: %s", c->line, why);
	return desk_event(w->desk, w->ticket_id, "command-refused", w->who->email, NULL, NULL, NULL,
			  detail, err);
}

/* One field update: the SQL (fixed text, chosen by field) returns the old
 * and the new value; an event is recorded when they differ. */
static const struct {
	const char *field;
	const char *sql;
} field_sql[] = {
	{"status",
	 "UPDATE ticket t SET status = $2, updated_at = now(), closed_at = CASE WHEN $2 = "
	 "'closed' THEN COALESCE(old.closed_at, now()) ELSE NULL END FROM ticket old WHERE "
	 "t.id = $1::bigint AND old.id = t.id RETURNING old.status, t.status"},
	{"severity",
	 "UPDATE ticket t SET severity = $2, updated_at = now() FROM ticket old WHERE t.id = "
	 "$1::bigint AND old.id = t.id RETURNING old.severity, t.severity"},
	{"category",
	 "UPDATE ticket t SET category = $2, updated_at = now() FROM ticket old WHERE t.id = "
	 "$1::bigint AND old.id = t.id RETURNING old.category, t.category"},
	{"line",
	 "UPDATE ticket t SET line = $2::smallint, updated_at = now(), line_since = CASE WHEN "
	 "old.line <> $2::smallint THEN now() ELSE old.line_since END FROM ticket old WHERE t.id "
	 "= $1::bigint AND old.id = t.id RETURNING old.line::text, t.line::text"},
	{"chargeable",
	 "UPDATE ticket t SET chargeable = $2::boolean, updated_at = now() FROM ticket old WHERE "
	 "t.id = $1::bigint AND old.id = t.id RETURNING old.chargeable::text, t.chargeable::text"},
	{"assignee",
	 "UPDATE ticket t SET assignee_id = $2::bigint, updated_at = now() FROM ticket old LEFT "
	 "JOIN staff os ON os.id = old.assignee_id WHERE t.id = $1::bigint AND old.id = t.id "
	 "RETURNING os.email, (SELECT email FROM staff WHERE id = $2::bigint)"},
};

static int set_field(Work *w, const char *field, const char *value, const char *detail,
		     bool *changed, DmError *err)
{
	const char *sql = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(field_sql); i++)
		if (strcmp(field_sql[i].field, field) == 0)
			sql = field_sql[i].sql;
	g_assert(sql != NULL);
	char tb[24];
	const char *p[] = {i64s(tb, w->ticket_id), value};
	DbRes *r = NULL;
	int rc = db_exec(w->desk->db, sql, 2, p, &r, err);
	if (rc)
		return rc;
	const char *before = dbres_rows(r) ? dbres_get(r, 0, 0) : NULL;
	const char *after = dbres_rows(r) ? dbres_get(r, 0, 1) : NULL;
	bool differs = dbres_rows(r) && g_strcmp0(before, after) != 0;
	if (changed)
		*changed = differs;
	if (differs) {
		g_autofree char *kind = g_strdup_printf("%s-changed", field);
		rc = desk_event(w->desk, w->ticket_id, kind, w->who->email, field, before, after,
				detail, err);
	}
	dbres_free(r);
	return rc;
}

/* The staff member #assign names: address, local part, full name or first
 * name, in that order of preference; *why set when none or several match. */
static int find_staff(Work *w, const char *name, int64_t *id_r, const char **why, DmError *err)
{
	const char *p[] = {name};
	DbRes *r = NULL;
	int rc = db_exec(
		w->desk->db,
		"SELECT id, rank FROM (SELECT id, CASE WHEN email = lower($1) THEN 1 WHEN "
		"split_part(email, '@', 1) = lower($1) THEN 2 WHEN lower(name) = lower($1) THEN "
		"3 WHEN lower(split_part(name, ' ', 1)) = lower($1) THEN 4 END AS rank FROM "
		"staff WHERE active) s WHERE rank IS NOT NULL ORDER BY rank, id LIMIT 2",
		1, p, &r, err);
	if (rc)
		return rc;
	*id_r = 0;
	if (dbres_rows(r) == 0)
		*why = "no active staff member has that address or short name";
	else if (dbres_rows(r) == 2 && dbres_i64(r, 0, 1, 0) == dbres_i64(r, 1, 1, 0))
		*why = "more than one staff member goes by that name: use the address";
	else
		*id_r = dbres_i64(r, 0, 0, 0);
	dbres_free(r);
	return 0;
}

static int apply_command(Work *w, const Command *c, DmError *err)
{
	if (c->error[0])
		return refuse(w, c, c->error, err);
	char idb[24];
	int64_t target = 0;
	if (c->kind == CMD_ASSIGN) {
		const char *why = NULL;
		int rc = find_staff(w, c->arg, &target, &why, err);
		if (rc)
			return rc;
		if (why)
			return refuse(w, c, why, err);
	}
	const char *no =
		command_refusal(w->who->role, c, c->kind == CMD_ASSIGN && target == w->who->id);
	if (no)
		return refuse(w, c, no, err);

	bool changed = false;
	int rc = 0;
	switch (c->kind) {
	case CMD_STATUS:
		return set_field(w, "status", c->arg, c->line, NULL, err);
	case CMD_CLOSE:
		return set_field(w, "status", "closed", c->line, NULL, err);
	case CMD_SEVERITY:
		return set_field(w, "severity", c->arg, c->line, NULL, err);
	case CMD_LINE:
		return set_field(w, "line", c->arg, c->line, NULL, err);
	case CMD_CATEGORY:
		rc = set_field(w, "category", c->arg, c->line, NULL, err);
		if (rc == 0 &&
		    (strcmp(c->arg, "project") == 0 || strcmp(c->arg, "consultancy") == 0)) {
			w->handover = true;
			w->handover_why = strcmp(c->arg, "project") == 0
						  ? "categorised as a project"
						  : "categorised as consultancy";
		}
		return rc;
	case CMD_CHARGEABLE:
		rc = set_field(w, "chargeable", "t", c->line, NULL, err);
		w->handover = true;
		w->handover_why = "marked chargeable";
		return rc;
	case CMD_TAKE:
		return set_field(w, "assignee", i64s(idb, w->who->id), c->line, NULL, err);
	case CMD_ASSIGN:
		rc = set_field(w, "assignee", i64s(idb, target), c->line, &changed, err);
		if (rc == 0 && changed && target != w->who->id)
			w->assigned_to = target;
		return rc;
	case CMD_NOTE:
	case CMD_UNKNOWN:
		return 0;
	}
	return 0;
}

/* Hand the ticket to the client's account manager (the change only; the
 * notice goes with the other mail, once the ticket is read back). */
static int hand_over(Work *w, DmError *err)
{
	char tb[24];
	const char *p[] = {i64s(tb, w->ticket_id)};
	DbRes *r = NULL;
	int rc = db_exec(
		w->desk->db,
		"SELECT s.id, c.name FROM ticket t JOIN client c ON c.id = t.client_id LEFT "
		"JOIN staff s ON s.id = c.account_manager_id AND s.active WHERE t.id = "
		"$1::bigint",
		1, p, &r, err);
	if (rc)
		return rc;
	int64_t am = dbres_i64(r, 0, 0, 0);
	g_autofree char *client = g_strdup(dbres_get(r, 0, 1));
	dbres_free(r);
	if (am == 0) {
		g_string_append_printf(
			w->errors,
			"  the ticket was %s, but client %s has no account manager to "
			"hand it to; an operator sets one with: deskmail client set "
			"\"%s\" --account-manager EMAIL\n",
			w->handover_why, client, client);
		return desk_event(w->desk, w->ticket_id, "handover-failed", w->who->email, NULL,
				  NULL, NULL, "the client has no account manager", err);
	}
	char ab[24];
	g_autofree char *detail =
		g_strdup_printf("handed to the account manager: %s", w->handover_why);
	rc = set_field(w, "assignee", i64s(ab, am), detail, NULL, err);
	w->handed_to = am;
	w->assigned_to = 0; /* an #assign in the same mail was overtaken */
	return rc;
}

/* The account manager's notice, with the latest client text so they see
 * the request. */
static int handover_notice(Work *w, DmError *err)
{
	char tb[24];
	const char *p[] = {i64s(tb, w->ticket_id)};
	DbRes *t = NULL;
	int rc = db_exec(w->desk->db,
			 "SELECT body FROM message WHERE ticket_id = $1::bigint AND author_kind = "
			 "'contact' ORDER BY id DESC LIMIT 1",
			 1, p, &t, err);
	if (rc)
		return rc;
	char key[64];
	snprintf(key, sizeof key, "notify-handover:message:%lld", (long long)w->message_row);
	g_autofree char *title = g_strdup_printf(
		"Handed to you as account manager: %s by %s; please schedule and cost it",
		w->handover_why, w->who->name);
	Notice n = {.kind = "notify-handover",
		    .key = key,
		    .title = title,
		    .text = dbres_rows(t) ? dbres_get(t, 0, 0) : NULL,
		    .who = NOTIFY_ONE,
		    .one_staff_id = w->handed_to,
		    .exclude_staff_id = w->who->id, /* not to an account manager who did it */
		    .m = NULL,
		    .actor_name = w->who->name,
		    .actor_email = w->who->email};
	rc = notify_staff(w->desk, w->ticket_id, w->view, &n, err);
	dbres_free(t);
	return rc;
}

static int relay(Work *w, const char *text, DmError *err)
{
	Desk *desk = w->desk;
	char tb[24];
	const char *p[] = {i64s(tb, w->ticket_id)};
	DbRes *r = NULL;
	int rc = db_exec(
		desk->db,
		/* the client's latest mail: its id and its newest 19 references */
		"SELECT co.email, co.name, lm.message_id, array_to_string(lm.refs[greatest(1, "
		"cardinality(lm.refs) - 18):], ' ') "
		"FROM ticket t LEFT JOIN contact co ON co.id = t.contact_id "
		"LEFT JOIN LATERAL (SELECT m.message_id, m.refs FROM message m WHERE m.ticket_id = "
		"t.id AND m.direction = 'in' AND m.author_kind = 'contact' AND m.message_id IS NOT "
		"NULL ORDER BY m.id DESC LIMIT 1) lm ON true WHERE t.id = $1::bigint",
		1, p, &r, err);
	if (rc)
		return rc;
	const char *to = dbres_get(r, 0, 0);
	if (to == NULL) {
		dbres_free(r);
		g_string_append(w->errors, "  your text was not sent: the ticket has no contact\n");
		return 0;
	}
	const char *irt = dbres_get(r, 0, 2);
	/* References: the client mail's own, then its id */
	g_auto(GStrv) old = g_strsplit(dbres_get(r, 0, 3) ? dbres_get(r, 0, 3) : "", " ", 20);
	const char *refs[21];
	size_t nrefs = 0;
	for (size_t i = 0; old[i] && nrefs < 19; i++)
		if (*old[i])
			refs[nrefs++] = old[i];
	if (irt)
		refs[nrefs++] = irt;

	TplVars v = *w->view;
	tplvars_set(&v, "message.text", text);
	tplvars_set(&v, "actor.name", w->who->name);
	tplvars_set(&v, "actor.email", w->who->email);
	tplvars_set(&v, "recipient.name", dbres_get(r, 0, 1) ? dbres_get(r, 0, 1) : to);
	OutAttachment files[MAX_OUT_ATTACHMENTS];
	size_t nfiles = kept_attachments(desk->cfg, w->m, files, MAX_OUT_ATTACHMENTS);
	char key[64];
	snprintf(key, sizeof key, "relay:message:%lld", (long long)w->message_row);
	/* the client sees who answered, at the desk's address */
	g_autofree char *from_name = g_strdup_printf("%s (%s)", w->who->name, desk->cfg->desk_name);
	OutSpec spec = {.kind = "relay",
			.event_key = key,
			.ticket_id = w->ticket_id,
			.to_name = dbres_get(r, 0, 1),
			.to_addr = to,
			.in_reply_to = irt,
			.refs = refs,
			.n_refs = nrefs,
			.staff_id = w->who->id,
			.from_name = from_name,
			.attachments = files,
			.n_attachments = nfiles};
	QueueResult qr;
	rc = outbox_queue(desk, desk->tpl_relay, &v, &spec, &qr, err);
	dbres_free(r);
	if (rc)
		return rc;
	DbRes *fr = NULL;
	rc = db_exec(desk->db,
		     "UPDATE ticket SET first_response_at = now() WHERE id = $1::bigint AND "
		     "first_response_at IS NULL RETURNING first_response_at",
		     1, p, &fr, err);
	if (rc)
		return rc;
	if (dbres_rows(fr))
		rc = desk_event(desk, w->ticket_id, "first-response", w->who->email,
				"first_response_at", NULL, dbres_get(fr, 0, 0), NULL, err);
	dbres_free(fr);
	return rc;
}

static int command_error_mail(Work *w, DmError *err)
{
	Desk *desk = w->desk;
	TplVars v = *w->view;
	tplvars_set(&v, "errors", w->errors->str);
	tplvars_set(&v, "recipient.name", w->who->name);
	char key[64];
	snprintf(key, sizeof key, "command-error:message:%lld", (long long)w->message_row);
	const char *refs[21];
	size_t nrefs = reply_refs(w->m, refs, 20);
	OutSpec spec = {.kind = "command-error",
			.event_key = key,
			.ticket_id = w->ticket_id,
			.to_name = w->who->name,
			.to_addr = w->who->email,
			.in_reply_to = w->m->message_id,
			.refs = refs,
			.n_refs = nrefs,
			.auto_header = "auto-replied",
			.internal = true,
			.reply_to = desk->cfg->desk_address};
	QueueResult qr;
	return outbox_queue(desk, desk->tpl_command_error, &v, &spec, &qr, err);
}

int staff_reply(Desk *desk, const Mail *m, int64_t ticket_id, int64_t inbound_id,
		const StaffRef *who, DmError *err)
{
	bool junior = strcmp(who->role, "junior-engineer") == 0;
	char tb[24];
	const char *tp[] = {i64s(tb, ticket_id)};
	int64_t mid;
	int rc;

	if (m->is_automatic) {
		/* an out-of-office from staff: kept, never relayed, no commands */
		rc = insert_message(desk, m, ticket_id, inbound_id, 0, who->id, true, NULL, &mid,
				    NULL, err);
		if (rc == 0)
			rc = desk_event(
				desk, ticket_id, "staff-reply", who->email, NULL, NULL, NULL,
				"automatic mail: kept as a note, commands not applied", err);
		return rc;
	}

	CommandSet cs;
	command_parse(m->text, &cs);
	g_autofree char *text = clean_reply_text(cs.rest ? cs.rest : ""); /* trimmed */
	g_autoptr(GString) refused = g_string_new(NULL);
	rc = insert_message(desk, m, ticket_id, inbound_id, 0, who->id, true, text, &mid, refused,
			    err);
	if (rc) {
		command_set_clear(&cs);
		return rc;
	}
	g_autoptr(GString) errors = g_string_new(NULL);
	if (refused->len) /* told with the command errors, and not relayed */
		g_string_append_printf(errors, "  attachments not kept (over the size limits):\n%s",
				       refused->str);
	Work w = {.desk = desk,
		  .m = m,
		  .ticket_id = ticket_id,
		  .message_row = mid,
		  .who = who,
		  .errors = errors};
	for (size_t i = 0; i < cs.n && rc == 0; i++)
		rc = apply_command(&w, &cs.cmds[i], err);
	if (rc == 0 && cs.n_dropped)
		g_string_append_printf(errors,
				       "  %zu more command line(s) were not applied: at most %d "
				       "commands in one mail\n",
				       cs.n_dropped, CMD_MAX);
	if (rc == 0 && w.handover)
		rc = hand_over(&w, err);
	if (rc) {
		command_set_clear(&cs);
		return rc;
	}

	/* The changes are made: read the ticket once for every mail below. */
	TplVars view;
	DbRes *keep = NULL;
	rc = ticket_view(desk, m, ticket_id, &view, &keep, err);
	w.view = &view;
	if (rc == 0 && w.handed_to)
		rc = handover_notice(&w, err);
	if (rc == 0 && w.assigned_to) {
		char key[64];
		snprintf(key, sizeof key, "notify-assign:message:%lld", (long long)mid);
		g_autofree char *title = g_strdup_printf("Assigned to you by %s", who->name);
		Notice n = {.kind = "notify-assign",
			    .key = key,
			    .title = title,
			    .text = text,
			    .who = NOTIFY_ONE,
			    .one_staff_id = w.assigned_to,
			    .m = m,
			    .actor_name = who->name,
			    .actor_email = who->email};
		rc = notify_staff(desk, ticket_id, &view, &n, err);
	}

	const char *outcome = "commands only";
	if (rc == 0 && *text) {
		if (junior) {
			/* a junior never writes to a client: an internal note, told to the
			 * assignee or the line */
			outcome = "junior engineer: kept as an internal note";
			char key[64];
			snprintf(key, sizeof key, "notify-note:message:%lld", (long long)mid);
			g_autofree char *title = g_strdup_printf(
				"Internal note from %s (junior engineer; not sent to the client)",
				who->name);
			Notice n = {.kind = "notify-note",
				    .key = key,
				    .title = title,
				    .text = text,
				    .who = NOTIFY_ASSIGNEE,
				    .exclude_staff_id = who->id,
				    .m = m,
				    .actor_name = who->name,
				    .actor_email = who->email};
			rc = notify_staff(desk, ticket_id, &view, &n, err);
		} else if (cs.note) {
			outcome = "internal note";
		} else {
			outcome = "relayed to the client";
			rc = relay(&w, text, err);
		}
	}
	if (rc == 0 && errors->len)
		rc = command_error_mail(&w, err);
	dbres_free(keep);
	if (rc == 0)
		rc = db_exec(
			desk->db,
			"UPDATE ticket SET last_staff_at = now(), updated_at = now() WHERE id = "
			"$1::bigint",
			1, tp, NULL, err);
	if (rc == 0)
		rc = desk_event(desk, ticket_id, "staff-reply", who->email, NULL, NULL, NULL,
				outcome, err);
	command_set_clear(&cs);
	return rc;
}
