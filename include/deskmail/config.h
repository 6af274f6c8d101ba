/* config.h - the configuration, read once from a libconfig file into an
 * immutable Config.  src/config/ is the only includer of libconfig.h.
 *
 * Every setting comes from one table (name, type, default, bounds); unknown
 * keys, wrong types and out-of-range values are errors that name the file and
 * line.  Secrets may come from files (password_file). */
#ifndef DESKMAIL_CONFIG_H
#define DESKMAIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/err.h"

#define DM_DEFAULT_CONFIG "/etc/deskmail/deskmail.conf"

typedef struct {
	char *name;               /* the group name, e.g. "silver" */
	char *description;        /* may be NULL */
	char *priority;           /* "high", "normal", "low"; default "normal" */
	int first_response_hours; /* working hours; 0 = no target */
	int resolution_hours;     /* working hours; 0 = no target */
	int max_contacts;         /* 0 = unlimited */
	int hours_per_month;      /* 0 = none */
} CfgPlan;

/* auth.require and auth.staff_require: the values of AuthRequire
 * (deskmail/auth.h, which src/core/auth.c checks at compile time), kept
 * here as ints because the config layer may not include core headers. */
enum {
	CFG_AUTH_NONE = 0,    /* "none": every From address is believed */
	CFG_AUTH_ALIGNED = 1, /* "aligned": dmarc, or a dkim/spf pass aligned with From */
	CFG_AUTH_DMARC = 2,   /* "dmarc": dmarc=pass for the From domain */
};

typedef struct {
	char *path; /* the file read (as given) */
	char *dir;  /* its folder, for relative paths */

	/* database */
	char *db_conninfo;

	/* imap */
	char *imap_url; /* imap[s]://host[:port]/MAILBOX, never user information */
	char *imap_username;
	char *imap_password;    /* from password or password_file; may be "" */
	int imap_poll_interval; /* seconds, default 30 */
	char *imap_mark_flag;   /* keyword/flag set after commit, default "$Ticketed"; "" = none */
	char *imap_move_to;     /* folder to move to after commit; NULL = don't move */
	int64_t imap_max_message_bytes; /* default 25 MiB */
	bool imap_tls_verify;           /* default true */
	char *imap_ca_file;             /* NULL = system store */
	int imap_timeout;               /* seconds, default 60 */
	int imap_batch;                 /* max messages per poll pass, default 500 */

	/* smtp */
	char *smtp_url;      /* smtp[s]://host[:port], no path, never user information */
	char *smtp_username; /* NULL = no AUTH */
	char *smtp_password;
	char *smtp_helo;     /* EHLO name; NULL = the host name, gethostname() */
	char *smtp_starttls; /* smtp:// only: "try" (default), "require", "never" */
	bool smtp_tls_verify;
	char *smtp_ca_file;
	int smtp_timeout;      /* seconds, default 60 */
	int smtp_max_attempts; /* default 12, then the row is marked failed */
	int smtp_retry_base;   /* seconds, first backoff, default 60 (doubles) */
	int smtp_retry_max;    /* seconds, backoff ceiling, default 3600 */

	/* desk */
	char *desk_name;
	char *desk_address;
	char *desk_templates;               /* absolute, resolved against dir */
	char *desk_domain;                  /* for Message-IDs; default: domain of address */
	int desk_max_auto_replies_per_hour; /* notices per recipient, default 3 */
	int desk_max_acks_per_hour;         /* acknowledgements per contact, 0 = no limit */
	int desk_max_automatic_per_hour;    /* automatic mail of all kinds to one address
					       an hour, staff notifications excepted
					       (default 20, 0 = no limit) */
	int desk_max_notices_per_hour;      /* quarantine notices to anyone an hour
					       (default 30, 0 = no limit); each
					       address gets one a day at most */
	int desk_max_automatic_per_ticket;  /* automatic mail to one address about one
					       ticket an hour, notifications included
					       (default 10, 0 = no limit) */
	int desk_repeat_window;             /* minutes: the same subject and text again
					       from one sender is automatic (default 60, 0 = off) */
	int desk_reopen_days;               /* default 14 */
	int64_t desk_attachment_max_bytes;  /* per attachment, default 10 MiB */
	int64_t desk_message_attachments_max_bytes; /* per message, default 25 MiB */
	bool desk_notify_account_manager;           /* default false */
	bool desk_notify_attachments;               /* default false */

	/* log */
	char *log_level; /* default "info" */
	bool log_syslog; /* default false */

	/* auth: which From addresses to believe (src/core/auth.c) */
	bool auth_configured;   /* the auth group is present */
	char *auth_trusted_id;  /* trusted_authserv_id: our border server's
				   authserv-id; NULL = none (then both
				   requirements are CFG_AUTH_NONE) */
	int auth_require;       /* CFG_AUTH_*: for client contacts; default none */
	int auth_staff_require; /* CFG_AUTH_*: for staff; default auth_require */

	/* plans */
	CfgPlan *plans;
	size_t n_plans;

	/* What is allowed but unwise (no auth group, ...): one line each, for
	 * `deskmail check-config` to print; they do not make cfg_load fail.
	 * NULL-terminated; NULL when there are none. */
	char **warnings;
	size_t n_warnings;
} Config;

/* Read and validate `path`.  On failure returns DM_ECONFIG with "file:line:
 * message" in err and leaves *cfg_r untouched.  Caller frees with cfg_free. */
int cfg_load(const char *path, Config **cfg_r, DmError *err);
void cfg_free(Config *cfg);

/* The config path to use: `opt` (from -c) if set, else $DESKMAIL_CONFIG,
 * else DM_DEFAULT_CONFIG.  Borrowed. */
const char *cfg_default_path(const char *opt);

/* Borrowed; NULL if the plan is not configured. */
const CfgPlan *cfg_plan(const Config *cfg, const char *name);

/* Print the effective settings (passwords masked) to stdout. */
void cfg_dump(const Config *cfg);

#endif
