/* fuzz_mail.c - a fuzz target for the pure part of the ingest path, from
 * the raw bytes of one mail: parse (GMime, bounces, HTML to text), then
 * everything the planner does with a parsed mail without a database: clean
 * the reply text, parse #commands, find the ticket token, route
 * (route_decide, with the facts the database would give derived from the
 * input's last bytes) and verify the sender (auth_check over the mail's
 * Authentication-Results and its From address, at each requirement level).
 *
 * Every promise of mail.h is checked: every string valid UTF-8, the caps of
 * MimeLimits, clean bounce strings, hex digests.  A crash, a sanitizer
 * report or a failed g_assert is a finding.  Built with -Dfuzz=true it is a
 * libFuzzer target; built normally tests/fuzz/replay.c replays files
 * through it (the meson test 'fuzz-replay'). */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/command.h"
#include "deskmail/mime.h"
#include "deskmail/route.h"
#include "fuzz.h"

/* The authserv-id of "our" border server, as in the seeds and the
 * dictionary (tests/fuzz/mail.dict). */
#define TRUSTED_ID "mx.agency.example"

/* A bounce string: NULL, or non-empty valid UTF-8 without control
 * characters (mail.h). */
static void check_bounce_string(const char *s, size_t max)
{
	if (s == NULL)
		return;
	g_assert(*s != '\0');
	fuzz_check_line(s, max);
}

static void check_addr(const MailAddr *a, const MimeLimits *lim)
{
	g_assert(a->addr != NULL);
	fuzz_check_utf8(a->addr, lim->max_address_bytes);
	if (a->name)
		fuzz_check_utf8(a->name, lim->max_name_bytes);
}

/* Every field of a parsed Mail against mail.h and mime.h. */
static void check_mail(const Mail *m, const MimeLimits *lim)
{
	if (m->from)
		check_addr(m->from, lim);
	g_assert(m->n_to + m->n_cc <= lim->max_addresses);
	for (size_t i = 0; i < m->n_to; i++)
		check_addr(&m->to[i], lim);
	for (size_t i = 0; i < m->n_cc; i++)
		check_addr(&m->cc[i], lim);
	/* cut subjects end in "…" (3 bytes) within the cap */
	fuzz_check_utf8(m->subject, lim->max_subject_bytes);
	if (m->message_id)
		fuzz_check_utf8(m->message_id, lim->max_id_bytes);
	if (m->in_reply_to)
		fuzz_check_utf8(m->in_reply_to, lim->max_id_bytes);
	g_assert(m->n_references <= lim->max_references);
	for (size_t i = 0; i < m->n_references; i++)
		fuzz_check_utf8(m->references[i], lim->max_id_bytes);
	if (m->automatic_reason)
		fuzz_check_utf8(m->automatic_reason, G_MAXSIZE);
	g_assert(!m->automatic_reason || m->is_automatic);

	check_bounce_string(m->bounce_message_id, lim->max_id_bytes);
	check_bounce_string(m->bounce_recipient, lim->max_address_bytes);
	check_bounce_string(m->bounce_status, 16);
	check_bounce_string(m->bounce_diagnostic, 500);
	g_assert(m->is_bounce || (m->bounce_message_id == NULL && m->bounce_recipient == NULL &&
				  m->bounce_status == NULL && m->bounce_diagnostic == NULL));
	g_assert(!m->is_bounce || m->is_automatic);

	g_assert(m->n_auth_results <= lim->max_auth_results);
	for (size_t i = 0; i < m->n_auth_results; i++)
		fuzz_check_utf8(m->auth_results[i], 2000);

	fuzz_check_utf8(m->text, lim->max_text_bytes);
	if (m->html)
		fuzz_check_utf8(m->html, lim->max_text_bytes);
	g_assert(!m->text_from_html || m->html != NULL);
	for (size_t i = 0; i < m->n_attachments; i++) {
		const MailAttachment *a = &m->attachments[i];
		g_assert(a->filename && a->filename[0] != '\0');
		fuzz_check_utf8(a->filename, G_MAXSIZE);
		fuzz_check_utf8(a->content_type, G_MAXSIZE);
		if (a->content_id)
			fuzz_check_utf8(a->content_id, G_MAXSIZE);
		g_assert(a->size == 0 || a->data != NULL);
		fuzz_check_sha256(a->sha256);
	}
	fuzz_check_sha256(m->content_sha256);
	fuzz_check_sha256(m->repeat_key);
	if (m->x_loop)
		fuzz_check_utf8(m->x_loop, 1000);
}

/* The facts the database would give about this mail, from the input's
 * last bytes (small ids, so that they match each other often). */
static void route_mail(const Mail *m, const uint8_t *data, size_t size)
{
	unsigned b0 = fuzz_byte(data, size, 0), b1 = fuzz_byte(data, size, 1);
	int64_t token = route_subject_token(m->subject);
	g_assert(token >= 0 && token < 1000000000000000);
	RouteFacts f = {
		.has_from = m->from != NULL,
		.sender_is_staff = b0 & 1,
		.sender_client_id = (b0 >> 1) & 3,
		.token_ticket_id = token,
		.token_ticket_exists = token && (b0 & 8),
		.ref_ticket_id = (b0 >> 4) & 3,
		.ticket_client_id = (b0 >> 6) & 3,
		.automatic = m->is_automatic || (b1 & 1),
		.ticket_closed_expired = b1 & 2,
	};
	RouteDecision d;
	route_decide(&f, &d);
	fuzz_check_route(&f, &d);
}

static void commands(const char *text)
{
	CommandSet cs;
	command_parse(text, &cs);
	g_assert(cs.n <= CMD_MAX);
	g_assert(cs.rest != NULL);
	fuzz_check_utf8(cs.rest, G_MAXSIZE);
	for (size_t i = 0; i < cs.n; i++) {
		fuzz_check_utf8(cs.cmds[i].line, CMD_LINE_MAX - 1);
		fuzz_check_utf8(cs.cmds[i].arg, CMD_LINE_MAX - 1);
		fuzz_check_utf8(cs.cmds[i].error, sizeof cs.cmds[i].error - 1);
		g_assert(cs.cmds[i].line_no >= 1);
	}
	command_set_clear(&cs);
}

static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		mime_global_init();
		ready = true;
	}
	MimeLimits lim;
	mime_limits_default(&lim);
	Mail *m = NULL;
	DmError err = {0};
	if (mime_parse(data, size, &lim, &m, &err) != 0) {
		g_assert(m == NULL);
		return 0;
	}
	check_mail(m, &lim);

	char *clean = clean_reply_text(m->text);
	fuzz_check_utf8(clean, G_MAXSIZE);
	g_free(clean);
	commands(m->text);
	route_mail(m, data, size);
	const char *from = m->from ? m->from->addr : NULL;
	fuzz_check_auth((const char *const *)m->auth_results, m->n_auth_results, TRUSTED_ID, from);
	fuzz_check_auth((const char *const *)m->auth_results, m->n_auth_results, NULL, from);
	if (m->html) {
		char *t = mime_html_to_text(m->html, strlen(m->html));
		fuzz_check_utf8(t, G_MAXSIZE);
		g_free(t);
	}
	mail_free(m);
	return 0;
}

void fuzz_cleanup(void)
{
	if (ready)
		mime_global_cleanup();
}
