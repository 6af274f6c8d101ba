/* ticket.c - a ticket's facts as the planner reads them, shared by the
 * facts of an incoming mail (ingest.c) and of a failed delivery
 * (outbox.c), so both queries select the same columns. */
#include <string.h>

#include "store-private.h"

void read_ticket_fact(const DbRes *r, int row, int c, TicketFact *t)
{
	memset(t, 0, sizeof *t);
	t->id = dbres_i64(r, row, c + 0, 0);
	if (t->id == 0)
		return;
	t->client_id = dbres_i64(r, row, c + 1, 0);
	t->contact_id = dbres_i64(r, row, c + 2, 0);
	t->subject = dbres_dup(r, row, c + 3);
	t->status = dbres_dup(r, row, c + 4);
	t->severity = dbres_dup(r, row, c + 5);
	t->category = dbres_dup(r, row, c + 6);
	t->line = (int)dbres_i64(r, row, c + 7, 1);
	t->assignee_id = dbres_i64(r, row, c + 8, 0);
	t->chargeable = dbres_bool(r, row, c + 9);
	t->first_response_done = dbres_bool(r, row, c + 10);
	t->closed = dbres_bool(r, row, c + 11);
	t->closed_at = dbres_i64(r, row, c + 12, 0);
	t->created = dbres_dup(r, row, c + 13);
	t->client.id = t->client_id;
	t->client.name = dbres_dup(r, row, c + 14);
	t->client.plan = dbres_dup(r, row, c + 15);
	t->client.account_manager_id = dbres_i64(r, row, c + 16, 0);
	t->contact_email = dbres_dup(r, row, c + 17);
	t->contact_name = dbres_dup(r, row, c + 18);
	t->last_in_msgid = dbres_dup(r, row, c + 19);
	t->last_in_refs = dbres_dup(r, row, c + 20);
	t->last_in_body = dbres_dup(r, row, c + 21);
	t->client.calendar = dbres_dup(r, row, c + 22);
}
