/* ops.c - the operator's commands, as Postfix's mailq and postsuper and a
 * metrics exporter would have them:
 *
 *   deskmail outbox list [--json] [--failed]
 *   deskmail outbox retry ID|--all-failed [--by WHO]
 *   deskmail outbox drop ID [--by WHO]
 *   deskmail stats [--json] [--prometheus FILE]
 *   deskmail purge --older-than SPAN [--dry-run] [--json] [--by WHO]
 *
 * The queries and the changes are the store's (src/store/ops.c); this file
 * reads the arguments and writes text, JSON (json-glib) or the Prometheus
 * text format.  A retry, a drop and a purge are recorded as audit events
 * naming who did them: --by, else the login running the command. */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deskmail/command.h"
#include "deskmail/util.h"

static const char outbox_usage[] = "usage: deskmail outbox list [--json] [--failed] | retry "
				   "ID|--all-failed [--by WHO] | drop ID [--by WHO]";
static const char stats_usage[] = "usage: deskmail stats [--json] [--prometheus FILE]";
static const char purge_usage[] =
	"usage: deskmail purge --older-than SPAN [--dry-run] [--json] [--by WHO] (SPAN: a number "
	"and h, d, w, m or y, as 90d, 6m, 2y)";

/* A command line of these commands, checked. */
typedef struct {
	const char *sub;        /* outbox: list, retry, drop */
	bool json, failed, all; /* --json, --failed, --all-failed */
	int64_t id;             /* outbox retry|drop ID (0 with --all-failed) */
	const char *prometheus; /* stats --prometheus FILE */
	PurgeSpan span;         /* purge --older-than */
	bool dry_run;
} OpsArgs;

/* Only the options a command knows, so that a typo is an error and not
 * ignored; flags take no value, with_value options take one.  The other
 * arguments from argv[first] on are positional: at most max_pos of them,
 * into pos (the rest NULL). */
static int parse_args(int argc, char **argv, int first, const char *const *flags,
		      const char *const *with_value, const char **pos, int max_pos,
		      const char *usage, DmError *err)
{
	int n_pos = 0;
	for (int k = 0; k < max_pos; k++)
		pos[k] = NULL;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		/* main.c's: before or after the command, as for every command */
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			continue;
		if (strncmp(a, "--", 2) != 0) {
			if (n_pos == max_pos)
				return dm_error_set(err, DM_EPERM, "unexpected argument '%s'; %s",
						    a, usage);
			pos[n_pos++] = a;
			continue;
		}
		bool known = false;
		for (int k = 0; flags[k] && !known; k++)
			known = strcmp(a, flags[k]) == 0;
		for (int k = 0; with_value[k] && !known; k++) {
			size_t n = strlen(with_value[k]);
			if (strncmp(a, with_value[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
				known = true;
				if (a[n] == '\0' && ++i >= argc)
					return dm_error_set(err, DM_EPERM, "%s needs a value; %s",
							    a, usage);
			}
		}
		if (!known)
			return dm_error_set(err, DM_EPERM, "unknown option %s; %s", a, usage);
	}
	return 0;
}

/* Text of input (subjects, server replies) on one terminal line. */
static char *one_line(const char *s)
{
	char *t = g_strdup(s ? s : "");
	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

static char *utc_text(int64_t t)
{
	g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
	return d ? g_date_time_format(d, "%Y-%m-%d %H:%M:%S") : g_strdup("-");
}

static char *utc_iso(int64_t t)
{
	g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
	return d ? g_date_time_format(d, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
}

static void member_int(JsonBuilder *b, const char *name, int64_t v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, v);
}

static void member_str(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	if (v)
		json_builder_add_string_value(b, v);
	else
		json_builder_add_null_value(b);
}

/* ---- outbox ---- */

static void queue_json(const GArray *rows)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_array(b);
	for (guint i = 0; i < rows->len; i++) {
		const QueueRow *q = &g_array_index(rows, QueueRow, i);
		g_autofree char *next = utc_iso(q->next_attempt);
		g_autofree char *created = utc_iso(q->created);
		json_builder_begin_object(b);
		member_int(b, "id", q->id);
		member_str(b, "status", q->state);
		member_int(b, "attempts", q->attempts);
		member_str(b, "next_attempt", next);
		member_str(b, "created", created);
		member_str(b, "kind", q->kind);
		json_builder_set_member_name(b, "recipients");
		json_builder_begin_array(b);
		json_builder_add_string_value(b, q->rcpt);
		json_builder_end_array(b);
		member_str(b, "subject", q->subject);
		json_builder_set_member_name(b, "ticket");
		if (q->ticket_id)
			json_builder_add_int_value(b, q->ticket_id);
		else
			json_builder_add_null_value(b);
		member_int(b, "size", q->size);
		member_str(b, "last_error", q->last_error);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	cli_print_json(b);
}

/* As mailq: one line per mail, its last error on the next, a summary. */
static void queue_text(const GArray *rows, bool failed_only)
{
	int64_t n[4] = {0}; /* queued, deferred, sending, failed */
	static const char *const states[] = {"queued", "deferred", "sending", "failed"};
	if (rows->len == 0) {
		printf(failed_only ? "no failed mail in the outbox\n" : "outbox is empty\n");
		return;
	}
	printf("%-8s %-9s %-8s %-19s %-7s %-14s %s\n", "ID", "STATUS", "ATTEMPTS",
	       "NEXT ATTEMPT (UTC)", "TICKET", "KIND", "RECIPIENT  SUBJECT");
	for (guint i = 0; i < rows->len; i++) {
		const QueueRow *q = &g_array_index(rows, QueueRow, i);
		for (int k = 0; k < 4; k++)
			if (strcmp(q->state, states[k]) == 0)
				n[k]++;
		g_autofree char *next =
			strcmp(q->state, "failed") == 0 ? g_strdup("-") : utc_text(q->next_attempt);
		g_autofree char *ticket =
			q->ticket_id ? g_strdup_printf("#%lld", (long long)q->ticket_id)
				     : g_strdup("-");
		g_autofree char *rcpt = one_line(q->rcpt);
		g_autofree char *subject = one_line(q->subject);
		printf("%-8lld %-9s %-8d %-19s %-7s %-14s %s  %s\n", (long long)q->id, q->state,
		       q->attempts, next, ticket, q->kind, rcpt, subject);
		if (q->last_error) {
			g_autofree char *e = one_line(q->last_error);
			printf("         (%s)\n", e);
		}
	}
	printf("-- %u mail(s): %lld queued, %lld deferred, %lld sending, %lld failed\n", rows->len,
	       (long long)n[0], (long long)n[1], (long long)n[2], (long long)n[3]);
}

static int outbox_main(Db *db, const OpsArgs *a, const char *by, DmError *err)
{
	if (strcmp(a->sub, "list") == 0) {
		GArray *rows = g_array_new(FALSE, TRUE, sizeof(QueueRow));
		int rc = store_queue_list(db, a->failed, rows, err);
		if (rc == 0 && a->json)
			queue_json(rows);
		else if (rc == 0)
			queue_text(rows, a->failed);
		queue_rows_clear(rows);
		g_array_free(rows, TRUE);
		return rc;
	}
	if (strcmp(a->sub, "retry") == 0) {
		int64_t n = 0;
		int rc = store_queue_retry(db, a->id, by, &n, err);
		if (rc == 0 && a->all)
			printf("%lld failed mail(s) queued again by %s\n", (long long)n, by);
		else if (rc == 0)
			printf("outbox #%lld queued again by %s\n", (long long)a->id, by);
		return rc;
	}
	int rc = store_queue_drop(db, a->id, by, err);
	if (rc == 0)
		printf("outbox #%lld dropped by %s\n", (long long)a->id, by);
	return rc;
}

/* ---- stats ---- */

/* The count of each status an open ticket can have, 0 for the absent. */
static int64_t open_count(const DeskStats *st, const char *status)
{
	for (guint i = 0; i < st->open_status->len; i++)
		if (strcmp(st->open_status->pdata[i], status) == 0)
			return g_array_index(st->open_status_n, int64_t, i);
	return 0;
}

/* Every status but closed from the list of the core, then any other the
 * database has (none, while the two agree). */
static GPtrArray *open_statuses(const DeskStats *st)
{
	GPtrArray *names = g_ptr_array_new();
	for (int i = 0; ticket_states[i]; i++)
		if (strcmp(ticket_states[i], "closed") != 0)
			g_ptr_array_add(names, (gpointer)ticket_states[i]);
	for (guint i = 0; i < st->open_status->len; i++)
		if (!command_in_list(ticket_states, st->open_status->pdata[i]))
			g_ptr_array_add(names, st->open_status->pdata[i]);
	return names;
}

static const struct {
	const char *name, *help;
	size_t offset;
} flows[] = {
	{"received", "Mails taken in (IMAP or pipe), each stored once; duplicates not counted.",
	 offsetof(DeskStats, received)},
	{"quarantined", "Mails put in quarantine (unknown or unverified senders, unreadable mail).",
	 offsetof(DeskStats, quarantined)},
	{"sent", "Outgoing mails accepted by the SMTP server.", offsetof(DeskStats, sent)},
	{"deferred",
	 "Deferrals of outgoing mail: a temporary SMTP refusal (4xx) or the server unreachable.",
	 offsetof(DeskStats, deferred)},
	{"failed", "Outgoing mails given up on (a permanent refusal, or retries used up).",
	 offsetof(DeskStats, failed)},
};

static const StatCount *flow(const DeskStats *st, size_t k)
{
	return (const StatCount *)((const char *)st + flows[k].offset);
}

static void stats_json(const DeskStats *st)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	g_autofree char *now = utc_iso(st->now);
	member_str(b, "now", now);
	json_builder_set_member_name(b, "mail");
	json_builder_begin_object(b);
	for (size_t k = 0; k < G_N_ELEMENTS(flows); k++) {
		const StatCount *c = flow(st, k);
		json_builder_set_member_name(b, flows[k].name);
		json_builder_begin_object(b);
		member_int(b, "total", c->total);
		member_int(b, "last_hour", c->hour);
		member_int(b, "last_24h", c->day);
		json_builder_end_object(b);
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "outbox");
	json_builder_begin_object(b);
	member_int(b, "queued", st->queued);
	member_int(b, "deferred", st->deferred_now);
	member_int(b, "sending", st->sending);
	member_int(b, "failed", st->failed_now);
	json_builder_end_object(b);
	member_int(b, "quarantine_held", st->quarantine_held);
	json_builder_set_member_name(b, "tickets_open");
	json_builder_begin_object(b);
	member_int(b, "total", st->open_total);
	json_builder_set_member_name(b, "by_status");
	json_builder_begin_object(b);
	GPtrArray *names = open_statuses(st);
	for (guint i = 0; i < names->len; i++)
		member_int(b, names->pdata[i], open_count(st, names->pdata[i]));
	g_ptr_array_free(names, TRUE);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "by_line");
	json_builder_begin_object(b);
	for (int l = 1; l <= 3; l++) {
		char key[2] = {(char)('0' + l), '\0'};
		member_int(b, key, st->open_line[l]);
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
	json_builder_end_object(b);
	cli_print_json(b);
}

static void stats_text(const DeskStats *st)
{
	g_autofree char *now = utc_text(st->now);
	printf("deskmail at %s UTC\n", now);
	printf("%-12s %10s %10s %10s\n", "mail", "total", "last hour", "last 24 h");
	for (size_t k = 0; k < G_N_ELEMENTS(flows); k++) {
		const StatCount *c = flow(st, k);
		printf("%-12s %10lld %10lld %10lld\n", flows[k].name, (long long)c->total,
		       (long long)c->hour, (long long)c->day);
	}
	printf("outbox now: %lld queued, %lld deferred, %lld sending, %lld failed\n",
	       (long long)st->queued, (long long)st->deferred_now, (long long)st->sending,
	       (long long)st->failed_now);
	printf("quarantine: %lld held\n", (long long)st->quarantine_held);
	printf("open tickets: %lld\n", (long long)st->open_total);
	if (st->open_total) {
		printf("  by status:");
		const char *sep = " ";
		for (guint i = 0; i < st->open_status->len; i++) {
			printf("%s%s %lld", sep, (const char *)st->open_status->pdata[i],
			       (long long)g_array_index(st->open_status_n, int64_t, i));
			sep = ", ";
		}
		printf("\n  by line: 1st %lld, 2nd %lld, 3rd %lld\n", (long long)st->open_line[1],
		       (long long)st->open_line[2], (long long)st->open_line[3]);
	}
}

static void prom_metric(GString *s, const char *name, const char *type, const char *help)
{
	g_string_append_printf(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* node_exporter's textfile format; label values are ticket statuses and
 * line numbers (no quote or backslash to escape). */
static char *stats_prometheus(const DeskStats *st)
{
	GString *s = g_string_new(NULL);
	for (size_t k = 0; k < G_N_ELEMENTS(flows); k++) {
		g_autofree char *name = g_strdup_printf("deskmail_mail_%s_total", flows[k].name);
		prom_metric(s, name, "counter", flows[k].help);
		g_string_append_printf(s, "%s %lld\n", name, (long long)flow(st, k)->total);
	}
	prom_metric(s, "deskmail_outbox_mails", "gauge",
		    "Outgoing mails not sent yet, by state (queued, deferred, sending, failed).");
	const int64_t q[] = {st->queued, st->deferred_now, st->sending, st->failed_now};
	static const char *const qn[] = {"queued", "deferred", "sending", "failed"};
	for (size_t k = 0; k < G_N_ELEMENTS(q); k++)
		g_string_append_printf(s, "deskmail_outbox_mails{state=\"%s\"} %lld\n", qn[k],
				       (long long)q[k]);
	prom_metric(s, "deskmail_quarantine_held", "gauge",
		    "Quarantined mails waiting for a decision.");
	g_string_append_printf(s, "deskmail_quarantine_held %lld\n",
			       (long long)st->quarantine_held);
	prom_metric(s, "deskmail_tickets_open", "gauge", "Tickets not closed, by status.");
	GPtrArray *names = open_statuses(st);
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(s, "deskmail_tickets_open{status=\"%s\"} %lld\n",
				       (const char *)names->pdata[i],
				       (long long)open_count(st, names->pdata[i]));
	g_ptr_array_free(names, TRUE);
	prom_metric(s, "deskmail_tickets_open_line", "gauge",
		    "Tickets not closed, by support line.");
	for (int l = 1; l <= 3; l++)
		g_string_append_printf(s, "deskmail_tickets_open_line{line=\"%d\"} %lld\n", l,
				       (long long)st->open_line[l]);
	prom_metric(s, "deskmail_stats_timestamp_seconds", "gauge",
		    "When these numbers were taken (Unix time, the desk's clock).");
	g_string_append_printf(s, "deskmail_stats_timestamp_seconds %lld\n", (long long)st->now);
	return g_string_free(s, FALSE);
}

static int stats_main(Db *db, const OpsArgs *a, DmError *err)
{
	const char *prom = a->prometheus;
	DeskStats st;
	int rc = store_stats(db, &st, err);
	if (rc)
		return rc;
	if (prom) {
		/* a temporary file beside it, then renamed over it: the collector
		 * reads the old file or the new one, never half of one (and only
		 * *.prom files, which the temporary name is not) */
		g_autofree char *text = stats_prometheus(&st);
		GError *ge = NULL;
		if (!g_file_set_contents_full(prom, text, -1,
					      G_FILE_SET_CONTENTS_CONSISTENT |
						      G_FILE_SET_CONTENTS_DURABLE,
					      0644, &ge)) {
			/* a folder that is not there or not ours will not be
			 * by the next run: the configuration (of cron, of the
			 * collector) is at fault; a full disk may pass */
			bool lasting =
				ge->domain == G_FILE_ERROR &&
				(ge->code == G_FILE_ERROR_NOENT || ge->code == G_FILE_ERROR_ACCES ||
				 ge->code == G_FILE_ERROR_PERM || ge->code == G_FILE_ERROR_NOTDIR ||
				 ge->code == G_FILE_ERROR_ROFS || ge->code == G_FILE_ERROR_ISDIR);
			rc = dm_error_set(err, lasting ? DM_ECONFIG : DM_ETEMP, "%s", ge->message);
			g_error_free(ge);
		}
	} else if (a->json) {
		stats_json(&st);
	} else {
		stats_text(&st);
	}
	desk_stats_clear(&st);
	return rc;
}

/* ---- purge ---- */

/* "90d", "6m", "2y", "12h", "4w": one number and its unit. */
static int parse_span(const char *s, PurgeSpan *span)
{
	memset(span, 0, sizeof *span);
	size_t n = s ? strlen(s) : 0;
	if (n < 2 || n > 12)
		return -1;
	char num[16];
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	int64_t v;
	switch (s[n - 1]) {
	case 'h':
		if (dm_parse_i64(num, 1, 1000000, &v) != 0)
			return -1;
		span->hours = (int)v;
		return 0;
	case 'd':
		if (dm_parse_i64(num, 1, 100000, &v) != 0)
			return -1;
		span->days = (int)v;
		return 0;
	case 'w':
		if (dm_parse_i64(num, 1, 10000, &v) != 0)
			return -1;
		span->days = (int)v * 7;
		return 0;
	case 'm':
		if (dm_parse_i64(num, 1, 10000, &v) != 0)
			return -1;
		span->months = (int)v;
		return 0;
	case 'y':
		if (dm_parse_i64(num, 1, 1000, &v) != 0)
			return -1;
		span->years = (int)v;
		return 0;
	default:
		return -1;
	}
}

static void purge_json(const PurgeStats *p, bool dry)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "dry_run");
	json_builder_add_boolean_value(b, dry);
	member_str(b, "cutoff", p->cutoff);
	member_int(b, "tickets", p->tickets);
	member_int(b, "message_texts", p->messages);
	member_int(b, "message_text_bytes", p->text_bytes);
	member_int(b, "attachments", p->attachments);
	member_int(b, "blobs", p->blobs);
	member_int(b, "blob_bytes", p->blob_bytes);
	member_int(b, "raw_in", p->raw_in);
	member_int(b, "raw_in_bytes", p->raw_in_bytes);
	member_int(b, "raw_out", p->raw_out);
	member_int(b, "raw_out_bytes", p->raw_out_bytes);
	member_int(b, "quarantined", p->quarantined);
	member_int(b, "quarantined_bytes", p->quarantined_bytes);
	member_int(b, "quarantine_dropped", p->quarantine_dropped);
	json_builder_end_object(b);
	cli_print_json(b);
}

static void purge_text(const PurgeStats *p, bool dry)
{
	const char *verb = dry ? "would remove" : "removed";
	printf("purge: the contents of tickets closed and of mail quarantined before %s\n",
	       p->cutoff);
	printf("%s from %lld closed ticket(s): %lld message text(s) (%lld bytes), %lld "
	       "attachment(s) (%lld stored file(s) freed, %lld bytes), %lld raw mail(s) in (%lld "
	       "bytes), %lld raw mail(s) out (%lld bytes)\n",
	       verb, (long long)p->tickets, (long long)p->messages, (long long)p->text_bytes,
	       (long long)p->attachments, (long long)p->blobs, (long long)p->blob_bytes,
	       (long long)p->raw_in, (long long)p->raw_in_bytes, (long long)p->raw_out,
	       (long long)p->raw_out_bytes);
	printf("%s from the quarantine: %lld raw mail(s) (%lld bytes); %lld held entr%s %s\n", verb,
	       (long long)p->quarantined, (long long)p->quarantined_bytes,
	       (long long)p->quarantine_dropped, p->quarantine_dropped == 1 ? "y" : "ies",
	       dry ? "would be dropped" : "dropped");
}

/* tickets (or mails) per transaction: short enough not to hold locks on
 * many rows for long, long enough not to cost a round trip per ticket */
#define PURGE_BATCH 200

static int purge_main(const Config *cfg, Db *db, const OpsArgs *a, const char *by, DmError *err)
{
	const PurgeSpan span = a->span;
	bool dry = a->dry_run;
	/* a reply to a ticket closed less than reopen_days ago reopens it:
	 * said, not refused (the operator may mean it) */
	int64_t days =
		(int64_t)span.years * 365 + (int64_t)span.months * 28 + span.days + span.hours / 24;
	if (days < cfg->desk_reopen_days)
		fprintf(stderr,
			"deskmail: warning: tickets closed less than desk.reopen_days (%d) ago "
			"can still be reopened by a reply; their earlier contents will be gone\n",
			cfg->desk_reopen_days);
	PurgeStats st;
	int rc = store_purge(db, &span, dry, PURGE_BATCH, by, &st, err);
	if (rc == 0 && a->json)
		purge_json(&st, dry);
	else if (rc == 0)
		purge_text(&st, dry);
	else if (st.tickets || st.quarantined)
		fprintf(stderr,
			"deskmail: purge stopped after %lld ticket(s) and %lld quarantined "
			"mail(s); run it again to go on\n",
			(long long)st.tickets, (long long)st.quarantined);
	return rc;
}

/* Every argument of the command checked, nothing run. */
static int ops_parse(int argc, char **argv, OpsArgs *a, DmError *err)
{
	static const char *const none[] = {NULL};
	memset(a, 0, sizeof *a);
	const char *cmd = argc > 0 ? argv[0] : "";
	const char *usage = ops_usage(cmd);
	const char *pos[1];
	/* the name goes into the audit events: an address at most */
	const char *by = cli_opt(argc, argv, "--by");
	if (by && strlen(by) > 254)
		return dm_error_set(err, DM_EPERM, "--by: at most 254 characters");
	if (strcmp(cmd, "stats") == 0) {
		static const char *const flags[] = {"--json", NULL};
		static const char *const values[] = {"--prometheus", NULL};
		int rc = parse_args(argc, argv, 1, flags, values, pos, 0, usage, err);
		if (rc)
			return rc;
		a->json = cli_flag(argc, argv, "--json");
		a->prometheus = cli_opt(argc, argv, "--prometheus");
		if (a->prometheus && !*a->prometheus)
			return dm_error_set(err, DM_EPERM, "%s", usage);
		return 0;
	}
	if (strcmp(cmd, "purge") == 0) {
		static const char *const flags[] = {"--dry-run", "--json", NULL};
		static const char *const values[] = {"--older-than", "--by", NULL};
		int rc = parse_args(argc, argv, 1, flags, values, pos, 0, usage, err);
		if (rc)
			return rc;
		if (parse_span(cli_opt(argc, argv, "--older-than"), &a->span) != 0)
			return dm_error_set(err, DM_EPERM, "%s", usage);
		a->dry_run = cli_flag(argc, argv, "--dry-run");
		a->json = cli_flag(argc, argv, "--json");
		return 0;
	}
	if (strcmp(cmd, "outbox") != 0)
		return dm_error_set(err, DM_EPERM, "%s", usage);
	a->sub = argc > 1 ? argv[1] : "";
	if (strcmp(a->sub, "list") == 0) {
		static const char *const flags[] = {"--json", "--failed", NULL};
		int rc = parse_args(argc, argv, 2, flags, none, pos, 0, usage, err);
		a->json = cli_flag(argc, argv, "--json");
		a->failed = cli_flag(argc, argv, "--failed");
		return rc;
	}
	bool retry = strcmp(a->sub, "retry") == 0;
	if (!retry && strcmp(a->sub, "drop") != 0)
		return dm_error_set(err, DM_EPERM, "%s", usage);
	static const char *const retry_flags[] = {"--all-failed", NULL};
	static const char *const values[] = {"--by", NULL};
	int rc = parse_args(argc, argv, 2, retry ? retry_flags : none, values, pos, 1, usage, err);
	if (rc)
		return rc;
	a->all = retry && cli_flag(argc, argv, "--all-failed");
	const char *arg = pos[0];
	if (arg && arg[0] == '#')
		arg++;
	if (a->all == (arg != NULL) || (arg && dm_parse_i64(arg, 1, INT64_MAX, &a->id) != 0))
		return dm_error_set(err, DM_EPERM, "%s", usage);
	return 0;
}

const char *ops_usage(const char *cmd)
{
	if (strcmp(cmd, "stats") == 0)
		return stats_usage;
	if (strcmp(cmd, "purge") == 0)
		return purge_usage;
	return outbox_usage;
}

int ops_check(int argc, char **argv, DmError *err)
{
	OpsArgs a;
	return ops_parse(argc, argv, &a, err);
}

int ops_main(const Config *cfg, Db *db, int argc, char **argv, DmError *err)
{
	OpsArgs a;
	int rc = ops_parse(argc, argv, &a, err);
	if (rc)
		return rc;
	if (strcmp(argv[0], "outbox") == 0)
		return outbox_main(db, &a, cli_who(argc, argv), err);
	if (strcmp(argv[0], "stats") == 0)
		return stats_main(db, &a, err);
	return purge_main(cfg, db, &a, cli_who(argc, argv), err);
}
