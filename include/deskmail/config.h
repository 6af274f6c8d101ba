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
#include "deskmail/worktime.h"

/* DM_DEFAULT_CONFIG: <sysconfdir>/deskmail/deskmail.conf, /etc/deskmail/deskmail.conf
 * for a /usr or /usr/local prefix (meson.build). */
#include "dm_build.h"

/* The severities, in the order of CfgPlan.severity_minutes. */
enum { CFG_SEV_SEVERE, CFG_SEV_HIGH, CFG_SEV_MEDIUM, CFG_SEV_LOW, CFG_SEV_ENHANCEMENT, CFG_N_SEV };

/* Targets are kept in minutes (the file says hours, fractions allowed:
 * line1_hours = 7.5).  Working minutes of the plan's calendar unless the
 * name says elapsed; 0 = no target. */
typedef struct {
	char *name;        /* the group name, e.g. "silver" */
	char *description; /* may be NULL */
	char *priority;    /* "high", "normal", "low"; default "normal" */
	char *calendar;    /* a calendars member; NULL = desk.calendar */
	int first_response_minutes;
	int resolution_minutes;          /* when no severity is set */
	int severity_minutes[CFG_N_SEV]; /* severity_hours; each defaults to
					    resolution_hours, enhancement to 0 */
	int line1_minutes;               /* working time on the 1st line */
	int line1_max_elapsed_minutes;   /* and never more than this, elapsed */
	int line2_minutes;
	int line2_max_elapsed_minutes;
	int follow_up_minutes; /* since the last response to the client */
	int at_risk_percent;   /* default 75 */
	int max_contacts;      /* 0 = unlimited */
	int hours_per_month;   /* 0 = none */
} CfgPlan;

/* auth.require and auth.staff_require: the values of AuthRequire
 * (deskmail/auth.h, which src/core/auth.c checks at compile time), kept
 * here as ints because the config layer may not include core headers. */
enum {
	CFG_AUTH_NONE = 0,    /* "none": every From address is believed */
	CFG_AUTH_ALIGNED = 1, /* "aligned": dmarc, or a dkim/spf pass aligned with From */
	CFG_AUTH_DMARC = 2,   /* "dmarc": dmarc=pass for the From domain */
};

/* imap.auth and smtp.auth: how deskmail logs in.  With "oauth2" the
 * password is an OAuth2 access token (SASL XOAUTH2 or OAUTHBEARER, as
 * oauth2_mechanism says) taken at login from oauth2_token_file or the
 * output of oauth2_token_command (exactly one), for Microsoft 365 and
 * Gmail; password and password_file are then refused. */
enum { CFG_LOGIN_PASSWORD = 0, CFG_LOGIN_OAUTH2 = 1 };
enum { CFG_OAUTH2_XOAUTH2 = 0, CFG_OAUTH2_OAUTHBEARER = 1 };

/* One mailbox polled (the `imap` group, or an entry of `mailboxes`), and
 * its brand: the address and templates of the mail about the tickets that
 * came in through it. */
typedef struct {
	char *name;        /* unique; default: username@host[:port]/MAILBOX */
	bool name_derived; /* the default, not set in the file */
	char *address;     /* the brand's desk address; NULL = desk.address */
	char *templates;   /* absolute; NULL = desk.templates (per file: a template
			      missing here is taken from desk.templates) */
	char *url;         /* imap[s]://host[:port]/MAILBOX, never user information */
	char *username;
	char *password;    /* from password or password_file; may be "" */
	int poll_interval; /* seconds, default 30 */
	char *mark_flag;   /* keyword/flag set after commit, default "$Ticketed"; "" = none */
	char *move_to;     /* folder to move to after commit; NULL = don't move */
	int64_t max_message_bytes; /* default 25 MiB */
	bool tls_verify;           /* default true */
	char *ca_file;             /* NULL = system store */
	int timeout;               /* seconds, default 60 */
	int batch;                 /* max messages per poll pass, default 500 */

	/* login: password (above) or OAuth2 */
	int auth;                   /* CFG_LOGIN_*: "password" (default) or "oauth2" */
	int oauth2_mechanism;       /* CFG_OAUTH2_*: "xoauth2" (default) or "oauthbearer" */
	char *oauth2_token_file;    /* absolute; read at login (deskmail/token.h) */
	char *oauth2_token_command; /* run at login, never at load; NULL = none */
} CfgMailbox;

typedef struct {
	char *path; /* the file read (as given) */
	char *dir;  /* its folder, for relative paths */

	/* database */
	char *db_conninfo;

	/* the mailboxes polled: the single `imap` group (then n_mailboxes is 1)
	 * or the `mailboxes` list, never both; at least one */
	CfgMailbox *mailboxes;
	size_t n_mailboxes;
	bool mailbox_list; /* they come from the `mailboxes` list */
	/* every address that is ours: desk.address and each mailbox's address,
	 * lower-case, unique, NULL-terminated (mail From: one of them or with
	 * one in X-Loop is our own coming back) */
	char **own_addresses;

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

	/* smtp login: password (above) or OAuth2, as for imap; "oauth2"
	 * needs smtp_username */
	int smtp_auth;
	int smtp_oauth2_mechanism;
	char *smtp_oauth2_token_file;
	char *smtp_oauth2_token_command;

	/* desk */
	char *desk_name;
	char *desk_address;
	char *desk_templates;               /* absolute, resolved against dir */
	char *desk_domain;                  /* for Message-IDs; default: domain of address */
	char *desk_calendar;                /* the desk's calendar (staff hours, plans
					       without one); NULL = the only one */
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

	/* calendars: at least one (a built-in Mon-Fri 09:00-17:00 UTC
	 * "default" when none is configured) */
	WtCalendar **calendars;
	size_t n_calendars;
	bool default_calendar;      /* the built-in one */
	const WtCalendar *desk_cal; /* desk.calendar, or the only one */
	/* SHA-256 (hex) of every setting the service-level clocks read (plans'
	 * targets, calendars): when it changes, the escalation pass derives
	 * every open ticket's clocks again */
	char sla_fingerprint[65];

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

/* Borrowed; NULL if there is no such calendar (or name is NULL). */
const WtCalendar *cfg_calendar(const Config *cfg, const char *name);

/* A ticket's calendar: the client's own (client.calendar, may be NULL or
 * gone from the file), else the plan's, else the desk's.  Never NULL. */
const WtCalendar *cfg_ticket_calendar(const Config *cfg, const char *client_calendar,
				      const CfgPlan *plan);

/* Borrowed; NULL if the plan is not configured. */
const CfgPlan *cfg_plan(const Config *cfg, const char *name);

/* Borrowed; NULL if no mailbox has that name (or name is NULL). */
const CfgMailbox *cfg_mailbox(const Config *cfg, const char *name);

/* Print the effective settings (passwords masked) to stdout. */
void cfg_dump(const Config *cfg);
/* The same, only the settings whose value differs from its default (as
 * `postconf -n`); a plan with every setting at its default is "{ }". */
void cfg_dump_changed(const Config *cfg);
/* DM_ECONFIG when a password is still the example's placeholder
 * ("change-me"), for `deskmail check-config`; 0 otherwise. */
int cfg_check_placeholders(const Config *cfg, DmError *err);

#endif
