/* route.h - what one incoming mail is: a new ticket, a reply to a ticket, or
 * quarantine; and whether it may be answered automatically.  Pure code: the
 * facts are looked up by the caller, the decision is made here, so the rules
 * can be tested without servers. */
#ifndef DESKMAIL_ROUTE_H
#define DESKMAIL_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	bool has_from; /* a parsable From address */
	bool sender_is_staff;
	int64_t sender_client_id;   /* client whose named contact sent it; 0 if none */
	int64_t token_ticket_id;    /* [#N] in the subject, 0 if none */
	bool token_ticket_exists;   /* ... and that ticket exists */
	int64_t ref_ticket_id;      /* ticket found by In-Reply-To/References, 0 if none */
	int64_t ticket_client_id;   /* client of the referenced ticket (token first) */
	bool automatic;             /* RFC 3834 automatic mail */
	bool ticket_closed_expired; /* that ticket was closed longer ago than the
				       reopen window */
} RouteFacts;

typedef enum {
	ROUTE_NEW_TICKET = 1,
	ROUTE_REPLY = 2,
	ROUTE_QUARANTINE = 3,
} RouteKind;

typedef struct {
	RouteKind kind;
	int64_t ticket_id;      /* for ROUTE_REPLY */
	int64_t reopened_from;  /* ROUTE_NEW_TICKET: a client's reply to a ticket
				   closed too long ago to reopen */
	bool send_ack;          /* acknowledgement of a new ticket */
	bool send_notice;       /* polite quarantine notice to the sender */
	int64_t refused_ticket; /* quarantine: the ticket the sender may not write to */
	char reason[320];       /* why (always set for quarantine) */

	/* quarantine: the mail claims to be from a contact or from staff and
	 * did not meet auth.require / auth.staff_require (set by the planner,
	 * src/core/plan_mail.c, which decides sender verification) */
	bool unverified;
	bool unverified_staff;     /* it claimed to be staff */
	int64_t unverified_ticket; /* the ticket it would have gone to, or 0 */
} RouteDecision;

void route_decide(const RouteFacts *f, RouteDecision *d);

/* The N of the first "[#N]" in a subject (1 <= N < 10^15), or 0. */
int64_t route_subject_token(const char *subject);

#endif
