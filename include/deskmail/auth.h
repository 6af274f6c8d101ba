/* auth.h - is the From address of a mail really the sender's?  Decided from
 * the Authentication-Results headers (RFC 8601) that our own border server
 * wrote, and from nothing else.
 *
 * Only a header whose authserv-id is the configured trusted one counts: any
 * other was written by someone we do not know, possibly by the sender.  Our
 * border server must therefore remove (or rename) Authentication-Results
 * headers carrying its own authserv-id from incoming mail, as RFC 8601
 * section 5 asks; if several carry the trusted id, the topmost (the last
 * one added, by the server nearest to us) is used.
 *
 * Alignment is relaxed alignment as in DMARC (RFC 7489 section 3.1): two
 * domains are aligned when they have the same organizational domain, from
 * the Public Suffix List compiled into libpsl (psl_builtin(): no file is
 * read, so this stays pure code).
 *
 * Pure code, no I/O. */
#ifndef DESKMAIL_AUTH_H
#define DESKMAIL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	AUTH_REQUIRE_NONE,    /* anything goes: always verified */
	AUTH_REQUIRE_ALIGNED, /* dmarc=pass, or a dkim=pass or spf=pass aligned with From */
	AUTH_REQUIRE_DMARC,   /* dmarc=pass for the From domain */
} AuthRequire;

typedef struct {
	bool verified;     /* meets the requirement for this From domain */
	bool found;        /* a header from the trusted authserv-id was there */
	char summary[256]; /* why, for logs and quarantine reasons, e.g.
			      "dmarc=fail (mx.agency.example)"; valid UTF-8 (in
			      practice ASCII), no CR, LF or other control
			      characters, never empty */
} AuthVerdict;

/* "none", "aligned" or "dmarc" (exactly, lower-case) into *out; returns 0,
 * or -1 for anything else (NULL too), leaving *out untouched. */
int auth_require_parse(const char *word, AuthRequire *out);

/* The word auth_require_parse reads; static, "?" for a value out of range. */
const char *auth_require_name(AuthRequire r);

/* Decide whether `from_addr` (an addr-spec, local@domain; may be NULL) is
 * authenticated well enough for `req`, from the n Authentication-Results
 * values `results` (topmost first, as Mail.auth_results; NULL entries are
 * skipped) written by the server whose authserv-id is `trusted_authserv_id`
 * (compared ASCII case-insensitively; may be NULL: no trusted server).
 *
 *  - AUTH_REQUIRE_NONE is always verified.
 *  - Otherwise a NULL trusted id, a From address without a valid domain, or
 *    no header from the trusted server is not verified.
 *  - AUTH_REQUIRE_DMARC: a dmarc=pass whose header.from, if given, is the
 *    From domain, and no other dmarc result for that domain (a pass and a
 *    fail for the same domain contradict each other: not verified).
 *  - AUTH_REQUIRE_ALIGNED: the above, or any dkim=pass whose header.d (else
 *    the domain of header.i) is aligned with the From domain, or any
 *    spf=pass whose smtp.mailfrom domain (else smtp.helo, when the mailfrom
 *    is missing or empty) is aligned with it.
 *
 * Method, result and property names are case-insensitive.  Malformed parts
 * are skipped (a result whose properties could not be read never counts as
 * a pass); work is linear in the input.  Always fills *out. */
void auth_check(const char *const *results, size_t n, const char *trusted_authserv_id,
		const char *from_addr, AuthRequire req, AuthVerdict *out);

#endif
