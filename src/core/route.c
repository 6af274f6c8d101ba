/* route.c - the routing and authorisation rules for one incoming mail.
 *
 * A ticket reference (a [#N] token, else a known Message-ID in
 * In-Reply-To/References) makes the mail a reply, accepted only from that
 * ticket's client's contacts or from staff.  Otherwise a named contact's
 * mail opens a ticket.  Everything else is quarantined with its reason.
 * Automatic mail (RFC 3834) is never answered, and it never opens a ticket
 * on its own: an out-of-office or bounce that refers to no ticket goes to
 * quarantine, so autoresponders cannot fill the desk.  A client's reply to a
 * ticket closed longer ago than the reopen window opens a new ticket that
 * refers to the old one. */
#include <stdio.h>
#include <string.h>

#include "deskmail/route.h"

int64_t route_subject_token(const char *subject)
{
	if (subject == NULL)
		return 0;
	for (const char *p = strstr(subject, "[#"); p; p = strstr(p + 1, "[#")) {
		const char *q = p + 2;
		int64_t n = 0;
		int digits = 0;
		while (*q >= '0' && *q <= '9' && digits < 16) {
			n = n * 10 + (*q - '0');
			q++;
			digits++;
		}
		if (digits > 0 && digits < 16 && *q == ']' && n > 0)
			return n;
	}
	return 0;
}

void route_decide(const RouteFacts *f, RouteDecision *d)
{
	memset(d, 0, sizeof *d);
	if (!f->has_from) {
		d->kind = ROUTE_QUARANTINE;
		snprintf(d->reason, sizeof d->reason, "no readable From address");
		return;
	}
	int64_t ticket = 0;
	if (f->token_ticket_id && f->token_ticket_exists)
		ticket = f->token_ticket_id;
	else if (f->ref_ticket_id)
		ticket = f->ref_ticket_id;

	if (ticket) {
		bool client = !f->sender_is_staff && f->sender_client_id &&
			      f->sender_client_id == f->ticket_client_id;
		if (client && f->ticket_closed_expired && !f->automatic) {
			d->kind = ROUTE_NEW_TICKET;
			d->send_ack = true;
			d->reopened_from = ticket;
			snprintf(d->reason, sizeof d->reason,
				 "reply to ticket #%lld, closed before the reopen window",
				 (long long)ticket);
			return;
		}
		if (f->sender_is_staff || client) {
			d->kind = ROUTE_REPLY;
			d->ticket_id = ticket;
			return;
		}
		d->kind = ROUTE_QUARANTINE;
		d->send_notice = !f->automatic;
		d->refused_ticket = ticket;
		snprintf(d->reason, sizeof d->reason,
			 f->sender_client_id
				 ? "sender is a contact of another client, not of ticket #%lld's"
				 : "sender is not a contact of ticket #%lld's client",
			 (long long)ticket);
		return;
	}
	if (f->sender_client_id && !f->automatic) {
		d->kind = ROUTE_NEW_TICKET;
		d->send_ack = true;
		if (f->token_ticket_id && !f->token_ticket_exists)
			snprintf(d->reason, sizeof d->reason, "subject names unknown ticket #%lld",
				 (long long)f->token_ticket_id);
		return;
	}
	d->kind = ROUTE_QUARANTINE;
	if (f->automatic) {
		snprintf(d->reason, sizeof d->reason, "automatic mail that refers to no ticket");
	} else if (f->sender_is_staff) {
		snprintf(d->reason, sizeof d->reason, "staff mail that refers to no ticket");
	} else {
		d->send_notice = true;
		snprintf(d->reason, sizeof d->reason,
			 "sender is not a named contact of any client");
	}
}
