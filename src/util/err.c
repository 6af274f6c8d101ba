/* err.c - the caller-owned error record: first message wins, so the detail
 * recorded where a failure happens is never overwritten on the way up. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/err.h"

int dm_error_set(DmError *err, int kind, const char *fmt, ...)
{
	if (err == NULL || err->kind != 0)
		return kind;
	err->kind = kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	/* keep it one line */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return kind;
}

void dm_error_clear(DmError *err)
{
	if (err) {
		err->kind = 0;
		err->msg[0] = '\0';
	}
}

const char *dm_error_kind_name(int kind)
{
	switch (kind) {
	case DM_OK:
		return "ok";
	case DM_ETEMP:
		return "temporary";
	case DM_EPERM:
		return "permanent";
	case DM_ECONFIG:
		return "configuration";
	case DM_ENOTFOUND:
		return "not found";
	case DM_EAUTH:
		return "login refused";
	case DM_EUNMIGRATED:
		return "database not migrated";
	case DM_EUSAGE:
		return "usage";
	default:
		return "internal";
	}
}
