/* err.h - error kinds and the caller-owned error record.
 *
 * Fallible functions return 0 on success or a negative DmErrKind.  The kind
 * decides policy: TEMP = retry later (network, database, server), PERM = this
 * input is bad (quarantine it and go on), CONFIG = refuse to start,
 * NOTFOUND = the thing asked for does not exist, AUTH = a server refused our
 * login (IMAP, SMTP, PostgreSQL: retrying with the same secret will not help,
 * so the daemon backs off and the command exits 77), UNMIGRATED = the
 * database has not been migrated (exit 78, "run `deskmail migrate`").  The detail goes into a
 * DmError filled once where the failure happens; callers up the stack must
 * not overwrite it (dm_error_set keeps the first message).
 */
#ifndef DESKMAIL_ERR_H
#define DESKMAIL_ERR_H

#include <stddef.h>

typedef enum {
	DM_OK = 0,
	DM_ETEMP = -1,       /* temporary: retry later */
	DM_EPERM = -2,       /* permanent: bad input, do not retry */
	DM_ECONFIG = -3,     /* configuration error */
	DM_ENOTFOUND = -4,   /* no such object */
	DM_EINTERNAL = -5,   /* bug or impossible state */
	DM_EAUTH = -6,       /* a server refused our credentials */
	DM_EUNMIGRATED = -7, /* the database schema is missing or old */
	DM_EUSAGE = -8,      /* the command line is wrong (exit 64) */
} DmErrKind;

typedef struct {
	int kind;       /* DmErrKind, 0 while unset */
	char msg[1024]; /* NUL-terminated, single line */
} DmError;

/* Record an error unless one is already recorded.  Returns `kind`, so it can
 * be used as `return dm_error_set(err, DM_ETEMP, "...")`.  err may be NULL. */
int dm_error_set(DmError *err, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget a recorded error (for retry loops). */
void dm_error_clear(DmError *err);

/* "temporary", "permanent", ... for logs. */
const char *dm_error_kind_name(int kind);

#endif
