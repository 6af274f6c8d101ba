/* imap.h - the support mailbox over libcurl IMAP.  src/imap/ (and
 * src/smtp/) are the only includers of curl.h.
 *
 * Works around libcurl 7.88's IMAP limits (see TECH-NOTES): message bodies
 * only through URL fetches (never a custom FETCH), a 512 KiB buffer, UID
 * searches bounded by a UID window (never "n:*"), one retry on a stale
 * connection, no custom SELECT/EXAMINE.
 *
 * Memory: everything handed out (*uids_r, *data_r) is allocated with GLib
 * and freed with g_free(). */
#ifndef DESKMAIL_IMAP_H
#define DESKMAIL_IMAP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/err.h"

typedef struct {
	const char *url; /* imap[s]://host[:port]/MAILBOX  (mailbox required) */
	const char *username;
	const char *password;
	bool tls_verify;
	const char *ca_file; /* or NULL */
	long timeout;        /* seconds */
	/* OAuth2: NULL = log in with the password; "XOAUTH2" or "OAUTHBEARER" =
	 * SASL with a bearer token (password unused) from token_file or the
	 * output of token_command (exactly one; see deskmail/token.h), taken
	 * at login, at most `timeout` seconds for the command.  A refused
	 * token is fetched again once (file read again, command run again)
	 * and the login tried once more when it changed; a refusal after
	 * that is DM_EAUTH with the server's words. */
	const char *oauth2_mechanism;
	const char *token_file;
	const char *token_command;
} ImapParams;

typedef struct ImapSession ImapSession;

/* libcurl's global state, once per process before the first session and
 * before any thread starts; imap_global_cleanup() after the last session is
 * freed.  libcurl counts these calls, so smtp_global_init() may init it too.
 * Returns 0, or DM_EINTERNAL when libcurl cannot initialise (its TLS
 * library). */
int imap_global_init(void);
void imap_global_cleanup(void);

/* True when curl would connect to this machine's loopback for `url`: its
 * own URL parser takes the host out (so "imap://localhost@evil/" is
 * "evil" and "imap://0x7f.1/" is 127.0.0.1, as curl connects), and
 * dm_host_is_loopback() judges it.  False for NULL or a URL curl cannot
 * parse.  A session on an imap:// URL that is not loopback requires
 * STARTTLS; only loopback may be spoken to in clear. */
bool imap_url_is_loopback(const char *url);

/* No network traffic until the first call.  Strings are copied; a
 * user name, password or login options in the URL are dropped (the
 * credentials are username and password only). */
ImapSession *imap_session_new(const ImapParams *p);
void imap_session_free(ImapSession *s);

/* STATUS of the mailbox: UIDVALIDITY and UIDNEXT.  DM_ETEMP on network
 * trouble, DM_EPERM when the server refuses the STATUS (NO/BAD, e.g. no
 * such mailbox).
 *
 * For every call of this module that talks to the server: DM_EAUTH when
 * the server refused the login (a NO to LOGIN or AUTHENTICATE); with
 * OAuth2, also the errors of dm_token_get (DM_ECONFIG, DM_ETEMP).  A NO or
 * BAD from the server is quoted in err as the server wrote it, with the
 * command it answered ("IMAP SEARCH: SELECT refused: NO Mailbox doesn't
 * exist: X"), and a TLS certificate failure carries curl's text and the
 * verify result. */
int imap_status(ImapSession *s, uint32_t *uidvalidity_r, uint32_t *uidnext_r, DmError *err);

/* The UIDs in [first_uid, last_uid] that are in the mailbox, ascending, at
 * most `max` of them (the lowest).  last_uid must be a real UID bound, e.g.
 * UIDNEXT-1 from imap_status(); "*" is never sent (it always matches the
 * highest UID).  The range is walked in windows of at most `window` UIDs
 * (0 = IMAP_SEARCH_WINDOW; larger values are cut to it), so no reply grows
 * with the mailbox: "UID SEARCH RETURN (ALL) UID a:b" when the server
 * advertises ESEARCH, "UID SEARCH UID a:b" otherwise.  The first window
 * spans `max` UIDs (at most `window`); it grows while windows come back short, and with
 * ESEARCH an empty window is followed by one "RETURN (MIN)" search that
 * jumps over the rest of the gap, so runs of expunged UIDs cost a few
 * requests, not one per window (without ESEARCH, one per `window` UIDs of
 * the gap once the window is at its widest).  first_uid 0 counts as 1.
 * *uids_r is allocated with GLib (g_free()); NULL when *n_r == 0.
 * DM_ETEMP on network trouble or a reply that is not an answer to
 * the search, DM_EPERM when the server refuses it (NO/BAD); the message is
 * in err and the outputs are untouched on failure. */
#define IMAP_SEARCH_WINDOW 16384
int imap_search_range(ImapSession *s, uint32_t first_uid, uint32_t last_uid, size_t max,
		      uint32_t window, uint32_t **uids_r, size_t *n_r, DmError *err);

/* Requests made on this session so far (searches, fetches, marks, ...):
 * for tests and diagnostics. */
size_t imap_request_count(const ImapSession *s);

/* Fetch one whole message by UID, checking UIDVALIDITY.  *data_r is
 * allocated with GLib (g_free()) and NUL-terminated after *len_r bytes.
 * DM_ENOTFOUND if the UID is gone, DM_EPERM if it is larger than max_bytes
 * (the message is not downloaded past the cap), DM_ETEMP for network trouble
 * or a UIDVALIDITY change ("UIDVALIDITY has changed" in err). */
int imap_fetch(ImapSession *s, uint32_t uidvalidity, uint32_t uid, size_t max_bytes,
	       unsigned char **data_r, size_t *len_r, DmError *err);

/* The same for the header only (BODY[HEADER]), e.g. of a message over the
 * size cap, so that it can be recorded by sender and subject. */
int imap_fetch_header(ImapSession *s, uint32_t uidvalidity, uint32_t uid, size_t max_bytes,
		      unsigned char **data_r, size_t *len_r, DmError *err);

/* After the commit: add `flag` (e.g. "$Ticketed" or "\Seen"; NULL/"" =
 * none) to the UIDs (ascending), then if move_to is set move them there
 * (UID MOVE, or COPY+STORE \Deleted+UID EXPUNGE without MOVE): one command
 * each for all of them.  A server ignores UIDs that are gone (moved by an
 * earlier run), so success means every one still there is marked. */
int imap_mark_set(ImapSession *s, const uint32_t *uids, size_t n, const char *flag,
		  const char *move_to, DmError *err);

/* Append a message to the mailbox (for tests and the demo). */
int imap_append(ImapSession *s, const char *data, size_t len, DmError *err);

/* ---- waiting for new mail: IMAP IDLE (idle.c) ----
 * A connection of its own (never the polling session's): curl connects,
 * does TLS and logs in as for the session, then EXAMINE and IDLE keep it
 * waiting on the mailbox of p->url.  It stays in IDLE between waits, so a
 * change announced while the caller polls wakes the next wait at once. */
typedef struct ImapIdle ImapIdle;

/* Log in and start idling.  Strings of p are not kept.  *idle_r is the
 * caller's (imap_idle_close).  DM_ENOTFOUND when the server does not offer
 * IDLE (poll at an interval instead), DM_EAUTH when it refuses the login,
 * DM_EPERM when it refuses EXAMINE (its words in err: no such mailbox),
 * DM_ECONFIG for a mailbox name that cannot be sent, DM_ETEMP otherwise
 * (also when *stop, if given, is raised while it connects or waits for a
 * reply: the open is given up within a fraction of a second). */
int imap_idle_open(const ImapParams *p, volatile sig_atomic_t *stop, ImapIdle **idle_r,
		   DmError *err);

/* Wait up to timeout_ms for the server to announce a change to the mailbox
 * ("* n EXISTS"): *changed_r true when it did (returned at once, without
 * waiting out the time).  Returns 0 within about 200 ms once *stop (may be
 * NULL) is non-zero.  IDLE is renewed under the hood before RFC 2177's 29
 * minutes (every 25; DESKMAIL_IDLE_RENEW_SECONDS shortens it for tests).
 * DM_ETEMP when the connection fails or the server ends it (BYE): close
 * it and open another. */
int imap_idle_wait(ImapIdle *i, int timeout_ms, volatile sig_atomic_t *stop, bool *changed_r,
		   DmError *err);

/* End IDLE, log out and free; NULL is allowed. */
void imap_idle_close(ImapIdle *i);

#endif
