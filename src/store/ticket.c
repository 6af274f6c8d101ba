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
	t->mailbox = dbres_dup(r, row, c + 23);
}

int store_ticket_texts(Db *db, int64_t ticket_id, int64_t author_id, char ***internal_r,
		       char ***public_r, DmError *err)
{
	char tb[24], ab[24];
	const char *v[] = {i64s(tb, ticket_id), i64s(ab, author_id)};
	DbRes *r = NULL;
	/* internal: the newest 500 internal messages of the ticket (64 KiB of
	 * each), but the author's own replies and notes (a withheld reply sent
	 * again holds its own words) and the notices that gave a withheld
	 * reply back; client-visible: the newest 500 others, and the author's
	 * own last 20 replies on other tickets (their signature and
	 * disclaimer are not internal text) */
	int rc = db_exec(
		db,
		"(SELECT true, left(m.body, 65536) FROM message m WHERE m.ticket_id = $1::bigint "
		"AND "
		"m.internal AND NOT (m.direction = 'in' AND m.staff_id IS NOT DISTINCT FROM "
		"$2::bigint) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = "
		"m.message_id AND o.kind = 'notify-withheld') ORDER BY m.id DESC LIMIT 500) "
		"UNION ALL (SELECT false, left(m.body, 65536) FROM message m WHERE m.ticket_id = "
		"$1::bigint AND NOT m.internal ORDER BY m.id DESC LIMIT 500) "
		"UNION ALL (SELECT false, left(m.body, 65536) FROM message m WHERE m.staff_id = "
		"$2::bigint AND m.direction = 'in' AND m.ticket_id <> $1::bigint ORDER BY m.id "
		"DESC "
		"LIMIT 20)",
		2, v, &r, err);
	if (rc)
		return rc;
	GPtrArray *in = g_ptr_array_new(), *pub = g_ptr_array_new();
	for (int i = 0; i < dbres_rows(r); i++)
		g_ptr_array_add(dbres_bool(r, i, 0) ? in : pub, dbres_dup(r, i, 1));
	g_ptr_array_add(in, NULL);
	g_ptr_array_add(pub, NULL);
	*internal_r = (char **)g_ptr_array_free(in, FALSE);
	*public_r = (char **)g_ptr_array_free(pub, FALSE);
	dbres_free(r);
	return 0;
}
