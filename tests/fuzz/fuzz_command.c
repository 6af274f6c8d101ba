/* fuzz_command.c - a fuzz target for the planner's pure text rules over
 * any text, not only what mime_parse makes of a mail: #command parsing and
 * the role rules (command_parse, command_refusal), clean_reply_text, the
 * ticket token (route_subject_token) and routing (route_decide, with facts
 * derived from the input's last bytes).
 *
 * The input is made valid UTF-8 first (g_utf8_make_valid), as every text in
 * a Mail is (mail.h); the functions promise valid UTF-8 back.  Built with
 * -Dfuzz=true it is a libFuzzer target; built normally tests/fuzz/replay.c
 * replays files through it (the meson test 'fuzz-command-replay'). */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/command.h"
#include "deskmail/route.h"
#include "fuzz.h"

static void check_commands(const CommandSet *cs, bool self_target)
{
	g_assert(cs->n <= CMD_MAX);
	g_assert(cs->rest != NULL);
	fuzz_check_utf8(cs->rest, G_MAXSIZE);
	g_assert(cs->n_dropped == 0 || cs->n == CMD_MAX);
	for (size_t i = 0; i < cs->n; i++) {
		const Command *c = &cs->cmds[i];
		g_assert(c->line_no >= 1 && (i == 0 || c->line_no > cs->cmds[i - 1].line_no));
		g_assert(c->line[0] == '#');
		fuzz_check_utf8(c->line, CMD_LINE_MAX - 1);
		fuzz_check_utf8(c->arg, CMD_LINE_MAX - 1);
		fuzz_check_utf8(c->error, sizeof c->error - 1);
		g_assert(c->kind != CMD_UNKNOWN || c->error[0] != '\0');
		/* a recognised value is one of the lists the schema checks */
		if (c->error[0] == '\0' && c->kind == CMD_STATUS)
			g_assert(command_in_list(ticket_states, c->arg));
		if (c->error[0] == '\0' && c->kind == CMD_SEVERITY)
			g_assert(command_in_list(ticket_severities, c->arg));
		if (c->error[0] == '\0' && c->kind == CMD_CATEGORY)
			g_assert(command_in_list(ticket_categories, c->arg));
		for (int r = 0; staff_roles[r]; r++) {
			const char *why = command_refusal(staff_roles[r], c, self_target);
			if (why)
				fuzz_check_line(why, 500);
			/* managers may do everything; juniors never assign or take */
			if (r < 2)
				g_assert(why == NULL);
			if (r == 3 && (c->kind == CMD_ASSIGN || c->kind == CMD_TAKE))
				g_assert(why != NULL);
		}
	}
}

static void route_text(const char *text, const uint8_t *data, size_t size)
{
	unsigned b0 = fuzz_byte(data, size, 0), b1 = fuzz_byte(data, size, 1);
	int64_t token = route_subject_token(text);
	g_assert(token >= 0 && token < 1000000000000000);
	RouteFacts f = {
		.has_from = !(b1 & 4),
		.sender_is_staff = b0 & 1,
		.sender_client_id = (b0 >> 1) & 3,
		.token_ticket_id = token,
		.token_ticket_exists = token && (b0 & 8),
		.ref_ticket_id = (b0 >> 4) & 3,
		.ticket_client_id = (b0 >> 6) & 3,
		.automatic = b1 & 1,
		.ticket_closed_expired = b1 & 2,
	};
	RouteDecision d;
	route_decide(&f, &d);
	fuzz_check_route(&f, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_utf8_make_valid((const char *)data, (gssize)size);
	CommandSet cs;
	command_parse(text, &cs);
	check_commands(&cs, fuzz_byte(data, size, 2) & 1);
	command_set_clear(&cs);
	g_assert(cs.rest == NULL && cs.n == 0);

	char *clean = clean_reply_text(text);
	fuzz_check_utf8(clean, G_MAXSIZE);
	g_free(clean);

	route_text(text, data, size);
	g_free(text);
	return 0;
}

void fuzz_cleanup(void)
{
}
