/* fuzz.h - what the fuzz targets in tests/fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput (one input, any bytes: it must
 * neither crash nor break a promise of our headers, which it checks with
 * g_assert) and fuzz_cleanup (library clean-up at exit).  Built with
 * -Dfuzz=true (DM_FUZZING) libFuzzer supplies main(); otherwise replay.c
 * does, replaying files and folders (tests/meson.build). */
#ifndef DESKMAIL_FUZZ_H
#define DESKMAIL_FUZZ_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "deskmail/auth.h"
#include "deskmail/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_cleanup(void);

/* s is valid UTF-8 (a NUL ends it) with at most max bytes. */
static inline void fuzz_check_utf8(const char *s, size_t max)
{
	g_assert(s != NULL);
	g_assert(g_utf8_validate(s, -1, NULL));
	g_assert(strlen(s) <= max);
}

/* s, of at most max bytes, has no C0 or C1 control character (so no CR or
 * LF: a header line, a log line, a quarantine reason). */
static inline void fuzz_check_line(const char *s, size_t max)
{
	fuzz_check_utf8(s, max);
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_assert(c >= 0x20 && !(c >= 0x7f && c < 0xa0));
	}
}

/* A hex SHA-256: 64 lower-case hex digits. */
static inline void fuzz_check_sha256(const char *s)
{
	g_assert(strlen(s) == 64);
	for (int i = 0; i < 64; i++)
		g_assert(g_ascii_isdigit(s[i]) || (s[i] >= 'a' && s[i] <= 'f'));
}

/* A byte of the input chosen by k, 0 for an empty input: to derive the
 * facts that the database would give (who sent it, which ticket exists)
 * from the input itself, so that libFuzzer steers those too. */
static inline unsigned fuzz_byte(const uint8_t *data, size_t size, size_t k)
{
	return size ? data[size - 1 - k % size] : 0;
}

/* route_decide's promises (route.h, and the rules in route.c's comment):
 * one of the three kinds, a reason for quarantine, a reply only to the
 * ticket the facts name and only from staff or that ticket's client, a new
 * ticket only from a named contact, automatic mail never answered. */
static inline void fuzz_check_route(const RouteFacts *f, const RouteDecision *d)
{
	g_assert(d->kind == ROUTE_NEW_TICKET || d->kind == ROUTE_REPLY ||
		 d->kind == ROUTE_QUARANTINE);
	g_assert(memchr(d->reason, '\0', sizeof d->reason) != NULL);
	fuzz_check_line(d->reason, sizeof d->reason - 1);
	g_assert(!d->unverified && !d->unverified_staff && d->unverified_ticket == 0);
	if (!f->has_from)
		g_assert(d->kind == ROUTE_QUARANTINE);
	if (f->automatic)
		g_assert(!d->send_ack && !d->send_notice);
	int64_t ticket = f->token_ticket_id && f->token_ticket_exists ? f->token_ticket_id
								      : f->ref_ticket_id;
	switch (d->kind) {
	case ROUTE_REPLY:
		g_assert(d->ticket_id == ticket && ticket != 0);
		g_assert(f->sender_is_staff ||
			 (f->sender_client_id && f->sender_client_id == f->ticket_client_id));
		g_assert(!d->send_ack && !d->send_notice && d->reopened_from == 0);
		break;
	case ROUTE_NEW_TICKET:
		g_assert(f->sender_client_id != 0 && !f->automatic);
		g_assert(d->send_ack && d->ticket_id == 0);
		g_assert(d->reopened_from == 0 || d->reopened_from == ticket);
		break;
	case ROUTE_QUARANTINE:
		g_assert(d->reason[0] != '\0' && d->ticket_id == 0 && !d->send_ack);
		g_assert(d->refused_ticket == 0 || d->refused_ticket == ticket);
		break;
	}
}

/* auth_check at every requirement level, for one trusted id (may be NULL),
 * against auth.h's promises: a clean, non-empty summary; "none" always
 * verified; otherwise nothing verified without a trusted id, a From address
 * and a header of the trusted server; "dmarc" stricter than "aligned"; the
 * same answer twice. */
static inline void fuzz_check_auth(const char *const *results, size_t n, const char *trusted,
				   const char *from)
{
	AuthVerdict v[3];
	const AuthRequire levels[3] = {AUTH_REQUIRE_NONE, AUTH_REQUIRE_ALIGNED, AUTH_REQUIRE_DMARC};
	for (int i = 0; i < 3; i++) {
		memset(&v[i], 0x55, sizeof v[i]);
		auth_check(results, n, trusted, from, levels[i], &v[i]);
		g_assert(memchr(v[i].summary, '\0', sizeof v[i].summary) != NULL);
		fuzz_check_line(v[i].summary, sizeof v[i].summary - 1);
		g_assert(v[i].summary[0] != '\0');
		if (levels[i] != AUTH_REQUIRE_NONE && v[i].verified)
			g_assert(v[i].found && trusted != NULL && from != NULL);
		AuthVerdict again;
		auth_check(results, n, trusted, from, levels[i], &again);
		g_assert(again.verified == v[i].verified && again.found == v[i].found);
		g_assert(strcmp(again.summary, v[i].summary) == 0);
	}
	g_assert(v[0].verified);
	g_assert(!v[2].verified || v[1].verified);
}

#endif
