/* test_route.c - the routing and authorisation rules, table-driven. */
#include <glib.h>
#include <string.h>

#include "deskmail/route.h"

static void test_token(void)
{
	static const struct {
		const char *subject;
		int64_t want;
	} cases[] = {
		{"[#12] printer on fire", 12},
		{"Re: [#12] printer on fire", 12},
		{"RE: AW: Fwd: [#4711] x", 4711},
		{"no token here", 0},
		{"[#] empty", 0},
		{"[#0] zero", 0},
		{"[#12 unterminated", 0},
		{"[#abc] letters", 0},
		{"[#9999999999999999999] too long", 0},
		{"first [#x] then [#77]", 77},
		{"[#1][#2]", 1},
		{"", 0},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(route_subject_token(cases[i].subject), ==, cases[i].want);
	g_assert_cmpint(route_subject_token(NULL), ==, 0);
}

typedef struct {
	const char *name;
	RouteFacts f;
	RouteKind kind;
	int64_t ticket;
	gboolean ack, notice;
	const char *reason_part;
} Case;

static void test_decide(void)
{
	static const Case cases[] = {
		{"contact, new",
		 {.has_from = 1, .sender_client_id = 5},
		 ROUTE_NEW_TICKET,
		 0,
		 1,
		 0,
		 NULL},
		{"stranger", {.has_from = 1}, ROUTE_QUARANTINE, 0, 0, 1, "not a named contact"},
		{"stranger automatic",
		 {.has_from = 1, .automatic = 1},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 0,
		 "automatic"},
		{"no from",
		 {.has_from = 0, .sender_client_id = 5},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 0,
		 "From"},
		{"reply by token",
		 {.has_from = 1,
		  .sender_client_id = 5,
		  .token_ticket_id = 9,
		  .token_ticket_exists = 1,
		  .ticket_client_id = 5},
		 ROUTE_REPLY,
		 9,
		 0,
		 0,
		 NULL},
		{"reply by reference",
		 {.has_from = 1, .sender_client_id = 5, .ref_ticket_id = 3, .ticket_client_id = 5},
		 ROUTE_REPLY,
		 3,
		 0,
		 0,
		 NULL},
		{"token wins over reference",
		 {.has_from = 1,
		  .sender_client_id = 5,
		  .token_ticket_id = 9,
		  .token_ticket_exists = 1,
		  .ref_ticket_id = 3,
		  .ticket_client_id = 5},
		 ROUTE_REPLY,
		 9,
		 0,
		 0,
		 NULL},
		{"other client's contact",
		 {.has_from = 1,
		  .sender_client_id = 6,
		  .token_ticket_id = 9,
		  .token_ticket_exists = 1,
		  .ticket_client_id = 5},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 1,
		 "another client"},
		{"stranger replies to ticket",
		 {.has_from = 1, .ref_ticket_id = 3, .ticket_client_id = 5},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 1,
		 "not a contact of ticket #3"},
		{"staff reply",
		 {.has_from = 1, .sender_is_staff = 1, .ref_ticket_id = 3, .ticket_client_id = 5},
		 ROUTE_REPLY,
		 3,
		 0,
		 0,
		 NULL},
		{"staff without ticket",
		 {.has_from = 1, .sender_is_staff = 1},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 0,
		 "staff"},
		{"unknown token from contact opens a ticket",
		 {.has_from = 1, .sender_client_id = 5, .token_ticket_id = 999},
		 ROUTE_NEW_TICKET,
		 0,
		 1,
		 0,
		 "unknown ticket #999"},
		{"automatic reply joins its ticket, no answer",
		 {.has_from = 1,
		  .sender_client_id = 5,
		  .ref_ticket_id = 3,
		  .ticket_client_id = 5,
		  .automatic = 1},
		 ROUTE_REPLY,
		 3,
		 0,
		 0,
		 NULL},
		{"automatic from contact without reference",
		 {.has_from = 1, .sender_client_id = 5, .automatic = 1},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 0,
		 "automatic"},
		{"client reply to a ticket closed long ago opens a new one",
		 {.has_from = 1,
		  .sender_client_id = 5,
		  .token_ticket_id = 9,
		  .token_ticket_exists = 1,
		  .ticket_client_id = 5,
		  .ticket_closed_expired = 1},
		 ROUTE_NEW_TICKET,
		 0,
		 1,
		 0,
		 "closed before the reopen window"},
		{"staff mail on a ticket closed long ago stays on it",
		 {.has_from = 1,
		  .sender_is_staff = 1,
		  .ref_ticket_id = 3,
		  .ticket_client_id = 5,
		  .ticket_closed_expired = 1},
		 ROUTE_REPLY,
		 3,
		 0,
		 0,
		 NULL},
		{"automatic mail on a ticket closed long ago opens nothing",
		 {.has_from = 1,
		  .sender_client_id = 5,
		  .ref_ticket_id = 3,
		  .ticket_client_id = 5,
		  .ticket_closed_expired = 1,
		  .automatic = 1},
		 ROUTE_REPLY,
		 3,
		 0,
		 0,
		 NULL},
		{"bounce about a ticket from a stranger",
		 {.has_from = 1, .ref_ticket_id = 3, .ticket_client_id = 5, .automatic = 1},
		 ROUTE_QUARANTINE,
		 0,
		 0,
		 0,
		 NULL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const Case *c = &cases[i];
		RouteDecision d;
		route_decide(&c->f, &d);
		g_test_message("case: %s -> %d (%s)", c->name, d.kind, d.reason);
		g_assert_cmpint(d.kind, ==, c->kind);
		g_assert_cmpint(d.ticket_id, ==, c->ticket);
		g_assert_cmpint(d.send_ack, ==, c->ack);
		g_assert_cmpint(d.send_notice, ==, c->notice);
		if (c->kind == ROUTE_QUARANTINE)
			g_assert_true(d.reason[0] != '\0');
		if (c->reason_part)
			g_assert_nonnull(strstr(d.reason, c->reason_part));
		g_assert_cmpint(
			d.reopened_from, ==,
			c->f.ticket_closed_expired && c->kind == ROUTE_NEW_TICKET
				? (c->f.token_ticket_id ? c->f.token_ticket_id : c->f.ref_ticket_id)
				: 0);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/route/token", test_token);
	g_test_add_func("/route/decide", test_decide);
	return g_test_run();
}
