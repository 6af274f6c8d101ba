/* compose_bench.c - the cost of one typical mime_compose() call.
 *
 * A typical outgoing mail of the ingest path: a staff notification with a
 * ~3 KB UTF-8 text body and an HTML alternative of similar size, 10 header
 * fields (non-ASCII display name and subject, Reply-To, In-Reply-To,
 * References, X-Deskmail-Ticket), no attachments.  Composes it N times
 * (default 2000) and prints the microseconds per mail, by the wall clock and
 * by the process's CPU time (the machine is shared: CPU time is steadier).
 * Not a test: it is built on request only.
 *
 *   meson compile -C build compose_bench
 *   build/tests/compose_bench [N]
 *
 * Instructions per call, with callgrind (only mime_compose and what it
 * calls are counted):
 *
 *   valgrind --tool=callgrind --toggle-collect=mime_compose \
 *       --callgrind-out-file=/tmp/cg.out build/tests/compose_bench 101
 *   callgrind_annotate /tmp/cg.out | head -30
 *
 * "PROGRAM TOTALS" is the count of the N calls.  Without the first call's
 * one-time set-up: (count with N=101 - count with N=1) / 100.
 *
 * Measured on the 2-core Debian 12 test machine (GMime 3.2.13,
 * debugoptimized build), instructions per call:
 *   GMimeMessage object tree (before):  1,160,000
 *   written directly (now):               91,200
 * and microseconds per mail, CPU time, old and new run alternately (the
 * machine is shared and busy, so both move by 2x from run to run):
 *   before: 95-230 us, after: 14-26 us (8-9x in the same minute).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deskmail/err.h"
#include "deskmail/mime.h"
#include "deskmail/util.h"

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ~3 KB of text as the notify template renders it, with some non-ASCII. */
static char *typical_text(void)
{
	GString *s = g_string_new("New ticket.\n\n"
				  "Ticket:    #1234 Drucker im 2. Stock druckt nicht\n"
				  "Client:    Müller & Söhne GmbH (plan gold)\n"
				  "Contact:   Jürgen Müller <j.mueller@client.example>\n"
				  "Severity:  high\n"
				  "Status:    open\n"
				  "Line:      1\n"
				  "Category:  error\n"
				  "Assignee:  (nobody)\n"
				  "From:      Jürgen Müller <j.mueller@client.example>\n\n");
	static const char *const para =
		"Guten Tag, seit heute früh druckt der Drucker im zweiten Stock keine "
		"Seiten mehr. Die Anzeige meldet „Papierstau“, aber es ist kein Papier "
		"im Gerät. Wir haben ihn schon zweimal aus- und eingeschaltet – ohne "
		"Erfolg. Können Sie bitte jemanden vorbeischicken?\n\n";
	while (s->len < 2600)
		g_string_append(s, para);
	g_string_append(s, "Attachments:\n(none)\n"
			   "--\n"
			   "Reply to this mail to answer the client: your text is relayed to "
			   "them from\nsupport@desk.example. Command lines at the very top of "
			   "your reply, one per line,\nact on the ticket: #status STATE, "
			   "#severity LEVEL, #assign STAFF, #take,\n#line 1|2|3, #category "
			   "CATEGORY, #chargeable, #note (the rest stays\ninternal), #close.\n");
	return g_string_free(s, FALSE);
}

static char *typical_html(void)
{
	GString *s = g_string_new(
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>[#1234] New ticket: Drucker im 2. Stock druckt nicht</title>\n</head>\n"
		"<body style=\"font-family: Arial, Helvetica, sans-serif; font-size: 15px; "
		"line-height: 1.5; color: #222222;\">\n<p><strong>New ticket.</strong></p>\n"
		"<table style=\"border-collapse: collapse; font-size: 14px;\">\n"
		"<tr><td style=\"padding: 2px 12px 2px 0; color: #555555;\">Ticket</td>"
		"<td>#1234 Drucker im 2. Stock druckt nicht</td></tr>\n"
		"<tr><td style=\"padding: 2px 12px 2px 0; color: #555555;\">Client</td>"
		"<td>Müller &amp; Söhne GmbH (plan gold)</td></tr>\n"
		"<tr><td style=\"padding: 2px 12px 2px 0; color: #555555;\">Severity</td>"
		"<td>high</td></tr>\n</table>\n"
		"<div style=\"white-space: pre-wrap; margin: 1em 0; padding: 0.5em 1em; "
		"border-left: 3px solid #cccccc;\">");
	static const char *const para =
		"Guten Tag, seit heute früh druckt der Drucker im zweiten Stock keine "
		"Seiten mehr. Die Anzeige meldet „Papierstau“, aber es ist kein Papier "
		"im Gerät. Wir haben ihn schon zweimal aus- und eingeschaltet – ohne "
		"Erfolg. Können Sie bitte jemanden vorbeischicken?\n\n";
	while (s->len < 2700)
		g_string_append(s, para);
	g_string_append(s, "</div>\n<p style=\"font-size: 12px; color: #777777;\">Reply to "
			   "this mail to answer the client.</p>\n</body>\n</html>\n");
	return g_string_free(s, FALSE);
}

int main(int argc, char **argv)
{
	int64_t n = 2000;
	if (argc > 1 && dm_parse_i64(argv[1], 1, 10000000, &n) != 0) {
		fprintf(stderr, "usage: %s [N]\n", argv[0]);
		return 64;
	}
	mime_global_init();
	g_autofree char *text = typical_text();
	g_autofree char *html = typical_html();
	const char *refs[] = {"CAFx1y2z3@mail.client.example",
			      "dm.1772534000.ab12cd34@desk.example",
			      "CAFx1y2z4@mail.client.example"};
	const char *extra[] = {"X-Deskmail-Ticket", "1234"};
	OutMail m = {
		.from_name = "Support Desk (Müller-Service)",
		.from_addr = "support@desk.example",
		.to_name = "Jürgen Müller",
		.to_addr = "j.mueller@client.example",
		.reply_to = "support@desk.example",
		.subject = "[#1234] New ticket: Drucker im 2. Stock druckt nicht – bitte dringend",
		.message_id = "dm.1772534096.0123456789abcdef0001@desk.example",
		.in_reply_to = "CAFx1y2z4@mail.client.example",
		.references = refs,
		.n_references = G_N_ELEMENTS(refs),
		.extra_headers = extra,
		.n_extra_headers = 1,
		.text = text,
		.html = html,
		.date = 1772534096,
	};

	size_t total = 0;
	gint64 t0 = g_get_monotonic_time();
	double c0 = cpu_seconds();
	for (int64_t i = 0; i < n; i++) {
		char *wire = NULL;
		size_t len = 0;
		DmError e = {0};
		if (mime_compose(&m, &wire, &len, &e) != 0) {
			fprintf(stderr, "mime_compose: %s\n", e.msg);
			return 1;
		}
		total += len;
		g_free(wire);
	}
	double cpu = cpu_seconds() - c0;
	gint64 wall = g_get_monotonic_time() - t0;
	printf("%lld mails, %zu bytes each (text %zu, html %zu bytes)\n", (long long)n,
	       total / (size_t)n, strlen(text), strlen(html));
	printf("%.2f us/mail wall, %.2f us/mail cpu\n", (double)wall / (double)n,
	       cpu * 1e6 / (double)n);
	mime_global_cleanup();
	return 0;
}
