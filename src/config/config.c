/* config.c - read the libconfig file once into an immutable Config.
 *
 * Every setting is a row in one static table per group (name, type, required,
 * default, bounds, where it lands in Config, an optional check), in the spirit
 * of Redis' static_configs[]; a single loader walks the tables, and cfg_dump
 * and cfg_free walk the same tables, so a new setting is one line.
 *
 * libconfig 1.5 is awkward in three ways that this file works around:
 *  - config_lookup_int() on an int64 value "succeeds" with 0 and a wrong type
 *    looks like a missing key, so we never use the lookup helpers: each member
 *    is fetched with config_setting_get_member() and its type checked;
 *  - a literal that does not fit in 32 bits is silently wrapped unless it has
 *    the L suffix; all our bounds fit in 32 bits, so such values are either
 *    out of range or (only if written as >= 4 GiB) unnoticeable - documented
 *    in conf/deskmail.conf;
 *  - @include resolves against the include dir or the process CWD, so the
 *    include dir is set to the config file's folder.
 *
 * It deliberately does not check that files and folders named by the
 * configuration exist (except password files, which are read here):
 * `deskmail check-config` loads the templates itself. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deskmail/config.h"
#include "deskmail/log.h"
#include "deskmail/util.h"
#include "deskmail/worktime.h"

#define KIB (INT64_C(1024))
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* A password file holds one line; anything bigger is a mistake. */
#define CFG_PASSWORD_FILE_MAX 4096

/* Mailboxes in the list at most (each is polled every pass). */
#define CFG_MAX_MAILBOXES 1000

typedef enum {
	T_STRING,
	T_INT,   /* stored as int */
	T_INT64, /* stored as int64_t */
	T_BOOL,
	T_WORD,  /* a string, one of .words, stored as its index (int) */
	T_HOURS, /* an int or a float of hours in [min,max], stored as int
		    minutes (rounded); def_int is minutes, -1 = set later */
	T_SKIP,  /* a known member read by its own code (a nested group) */
} SetType;

enum {
	F_REQUIRED = 1 << 0,
	F_SECRET = 1 << 1,      /* dumped as "(set)" */
	F_SECRET_FILE = 1 << 2, /* read the named file into the field of the
				 * preceding F_SECRET row (same offset) */
	F_RAW = 1 << 3,         /* string may hold any bytes but CR/LF */
	F_CONNINFO = 1 << 4,    /* may embed a password: masked when dumped */
};

/* A check on a string value; returns NULL if fine, else the complaint. */
typedef const char *(*StrCheck)(const char *value);

typedef struct {
	const char *name;
	SetType type;
	unsigned flags;
	const char *def_str; /* T_STRING default, NULL = unset */
	int64_t def_int;     /* T_INT/T_INT64 default; T_BOOL: 0 or 1 */
	int64_t min, max;    /* T_INT/T_INT64 bounds */
	size_t offset;       /* into Config (or CfgPlan for the plan table) */
	StrCheck check;
	const char *const *words; /* T_WORD: the choices, NULL-terminated;
				   * def_int is an index, or -1 (set later) */
} Setting;

typedef struct {
	const char *path; /* as given */
	char *path_dir;   /* dirname(path), for naming included files */
	char *dir;        /* absolute folder of path */
	DmError *err;
	GChecksum *sla; /* of the settings the service-level clocks read */
} LoadCtx;

/* ---------- checks on string values ---------- */

static const char *check_nonempty(const char *v)
{
	return *v == '\0' ? "must not be empty" : NULL;
}

/* scheme://host... with a non-empty host */
static bool url_has(const char *v, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncmp(v, scheme, n) == 0 && v[n] != '\0' && v[n] != '/';
}

/* The host of scheme://HOST[:PORT][/?#...] (IPv6 in brackets, kept), by
 * hand: config/ does not link curl.  This only refuses; where the host
 * decides something (loopback), imap/ and smtp/ decide again with curl's
 * own URL parser before they connect.  *host_r is g_free'd and *rest_r
 * points at what follows the authority.  False when the authority is not
 * host[:port] with a port of 1..65535. */
static bool url_host(const char *v, char **host_r, const char **rest_r)
{
	const char *p = strstr(v, "://");
	if (p == NULL)
		return false;
	p += 3;
	const char *end = p + strcspn(p, "/?#");
	const char *after;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));
		if (close == NULL)
			return false;
		after = close + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		after = colon ? colon : end;
	}
	if (after == p)
		return false;
	if (after < end) {
		int64_t port;
		g_autofree char *digits = g_strndup(after + 1, (gsize)(end - after - 1));
		if (*after != ':' || !g_ascii_isdigit(digits[0]) ||
		    dm_parse_i64(digits, 1, 65535, &port) < 0)
			return false;
	}
	*host_r = g_strndup(p, (gsize)(after - p));
	*rest_r = end;
	return true;
}

/* What imap.url and smtp.url have in common: no spaces, no user
 * information (a password there would be logged and stored with the URL;
 * any '@' is refused, so that a password holding '/' cannot hide it), and
 * host[:port].  The message names the settings the credentials belong in. */
static const char *check_url_common(const char *v, bool imap)
{
	if (strchr(v, ' ') != NULL)
		return "must not contain spaces";
	if (strchr(v, '@') != NULL)
		return imap ? "must not hold a user name or password: put the user name in "
			      "imap.username and the password in imap.password_file, not in the "
			      "URL (a '@' in a mailbox name is written %40)"
			    : "must not hold a user name or password: put the user name in "
			      "smtp.username and the password in smtp.password_file, not in the "
			      "URL";
	g_autofree char *host = NULL;
	const char *rest;
	if (!url_host(v, &host, &rest))
		return "must have a host and, if any, a port of 1 to 65535 (scheme://host[:port])";
	return NULL;
}

static const char *check_imap_url(const char *v)
{
	if (!url_has(v, "imap://") && !url_has(v, "imaps://"))
		return "must be imap://host[:port]/MAILBOX or imaps://host[:port]/MAILBOX";
	return check_url_common(v, true);
}

static const char *check_smtp_url(const char *v)
{
	if (!url_has(v, "smtp://") && !url_has(v, "smtps://"))
		return "must be smtp://host[:port] or smtps://host[:port]";
	const char *why = check_url_common(v, false);
	if (why != NULL)
		return why;
	g_autofree char *host = NULL;
	const char *rest = NULL;
	url_host(v, &host, &rest);
	if (*rest != '\0' && strcmp(rest, "/") != 0)
		return "must be smtp://host[:port] or smtps://host[:port], without a path or "
		       "query (the EHLO name is smtp.helo)";
	return NULL;
}

static const char *check_starttls(const char *v)
{
	if (strcmp(v, "try") == 0 || strcmp(v, "require") == 0 || strcmp(v, "never") == 0)
		return NULL;
	return "must be \"try\", \"require\" or \"never\"";
}

static const char *check_addr(const char *v)
{
	return dm_addr_valid(v) ? NULL : "must be a bare e-mail address (local@domain)";
}

static const char *check_domain(const char *v)
{
	if (*v == '\0' || strlen(v) > 253)
		return "must be a domain name";
	for (const char *p = v; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
			return "must be a domain name (letters, digits, '.', '-')";
	return NULL;
}

static const char *check_log_level(const char *v)
{
	return dm_log_level_parse(v) < 0 ? "must be debug, info, notice, warning or error" : NULL;
}

static const char *check_priority(const char *v)
{
	if (strcmp(v, "high") == 0 || strcmp(v, "normal") == 0 || strcmp(v, "low") == 0)
		return NULL;
	return "must be \"high\", \"normal\" or \"low\"";
}

/* An IMAP flag or keyword: an atom, optionally with a leading backslash.
 * '%' is refused too: curl percent-decodes custom IMAP requests. */
static const char *check_imap_flag(const char *v)
{
	const char *p = v;
	if (*p == '\\')
		p++;
	else if (*p == '\0')
		return NULL; /* "" = set no flag */
	if (*p == '\0')
		return "must be an IMAP flag or keyword";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return "must be an IMAP flag or keyword (no spaces or (){%*\"\\])";
	}
	return NULL;
}

static const char *check_mailbox(const char *v)
{
	if (*v == '\0')
		return "must not be empty (leave it unset to not move)";
	if (strchr(v, '%') != NULL || strchr(v, '"') != NULL)
		return "must not contain '%' or '\"'";
	return NULL;
}

/* A mailbox's name: it is recorded with each ticket that came in through
 * it (the brand of the mail about the ticket) and shown in logs. */
static const char *check_mailbox_name(const char *v)
{
	if (*v == '\0' || strlen(v) > 100)
		return "must be 1 to 100 characters";
	return NULL;
}

/* An authserv-id as RFC 8601 allows it unquoted (an RFC 2045 token), which
 * is what servers write: in practice a host name. */
static const char *check_authserv_id(const char *v)
{
	if (*v == '\0' || strlen(v) > 255)
		return "must be the authserv-id your border server writes in "
		       "Authentication-Results (e.g. \"mx.agency.example\")";
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return "must be an authserv-id: a host name or other word without "
			       "spaces or ()<>@,;:\\\"/[]?=";
	}
	return NULL;
}

/* ---------- the tables ---------- */

/* The rows of a table of settings of the struct SETTINGS_OF (Config, then
 * CfgMailbox for the imap group and the mailboxes list, then Config again). */
#define SETTINGS_OF Config
#define S_(n, fl, def, field, chk)                                                                 \
	{                                                                                          \
		.name = n, .type = T_STRING, .flags = fl, .def_str = def,                          \
		.offset = offsetof(SETTINGS_OF, field), .check = chk                               \
	}
#define I_(n, def, lo, hi, field)                                                                  \
	{                                                                                          \
		.name = n, .type = T_INT, .def_int = def, .min = lo, .max = hi,                    \
		.offset = offsetof(SETTINGS_OF, field)                                             \
	}
#define L_(n, def, lo, hi, field)                                                                  \
	{                                                                                          \
		.name = n, .type = T_INT64, .def_int = def, .min = lo, .max = hi,                  \
		.offset = offsetof(SETTINGS_OF, field)                                             \
	}
#define B_(n, def, field)                                                                          \
	{                                                                                          \
		.name = n, .type = T_BOOL, .def_int = def, .offset = offsetof(SETTINGS_OF, field)  \
	}

#define W_(n, def, words_, field)                                                                  \
	{                                                                                          \
		.name = n, .type = T_WORD, .def_int = def, .words = words_,                        \
		.offset = offsetof(SETTINGS_OF, field)                                             \
	}

/* imap.auth, smtp.auth and their oauth2_mechanism, at their CFG_LOGIN_*
 * and CFG_OAUTH2_* index */
static const char *const login_words[] = {"password", "oauth2", NULL};
static const char *const oauth2_words[] = {"xoauth2", "oauthbearer", NULL};
G_STATIC_ASSERT(CFG_LOGIN_PASSWORD == 0 && CFG_LOGIN_OAUTH2 == 1);
G_STATIC_ASSERT(CFG_OAUTH2_XOAUTH2 == 0 && CFG_OAUTH2_OAUTHBEARER == 1);

static const Setting database_settings[] = {
	S_("conninfo", F_REQUIRED | F_CONNINFO, NULL, db_conninfo, check_nonempty),
};

#undef SETTINGS_OF
#define SETTINGS_OF CfgMailbox
/* The imap group and each entry of the mailboxes list land in a
 * CfgMailbox.  The last N_BRAND_SETTINGS rows are the brand's and are
 * allowed in the list's entries only (the imap group's brand is the desk). */
static const Setting mailbox_settings[] = {
	S_("name", 0, NULL, name, check_mailbox_name),
	S_("url", F_REQUIRED, NULL, url, check_imap_url),
	S_("username", F_REQUIRED, NULL, username, check_nonempty),
	S_("password", F_SECRET | F_RAW, NULL, password, NULL),
	S_("password_file", F_SECRET_FILE, NULL, password, check_nonempty),
	I_("poll_interval", 30, 1, 86400, poll_interval),
	S_("mark_flag", 0, "$Ticketed", mark_flag, check_imap_flag),
	S_("move_to", 0, NULL, move_to, check_mailbox),
	L_("max_message_bytes", 25 * MIB, KIB, GIB, max_message_bytes),
	B_("tls_verify", 1, tls_verify),
	S_("ca_file", 0, NULL, ca_file, check_nonempty),
	I_("timeout", 60, 1, 3600, timeout),
	I_("batch", 500, 1, 100000, batch),
	W_("auth", CFG_LOGIN_PASSWORD, login_words, auth),
	W_("oauth2_mechanism", CFG_OAUTH2_XOAUTH2, oauth2_words, oauth2_mechanism),
	S_("oauth2_token_file", 0, NULL, oauth2_token_file, check_nonempty),
	S_("oauth2_token_command", 0, NULL, oauth2_token_command, check_nonempty),
	/* the brand's, entries only */
	S_("address", 0, NULL, address, check_addr),
	S_("templates", 0, NULL, templates, check_nonempty),
};
#define N_BRAND_SETTINGS 2
#define N_IMAP_SETTINGS (G_N_ELEMENTS(mailbox_settings) - N_BRAND_SETTINGS)
#undef SETTINGS_OF
#define SETTINGS_OF Config

static const Setting smtp_settings[] = {
	S_("url", F_REQUIRED, NULL, smtp_url, check_smtp_url),
	S_("username", 0, NULL, smtp_username, check_nonempty),
	S_("password", F_SECRET | F_RAW, NULL, smtp_password, NULL),
	S_("password_file", F_SECRET_FILE, NULL, smtp_password, check_nonempty),
	S_("helo", 0, NULL, smtp_helo, check_domain),
	S_("starttls", 0, "try", smtp_starttls, check_starttls),
	B_("tls_verify", 1, smtp_tls_verify),
	S_("ca_file", 0, NULL, smtp_ca_file, check_nonempty),
	I_("timeout", 60, 1, 3600, smtp_timeout),
	I_("max_attempts", 12, 1, 1000, smtp_max_attempts),
	I_("retry_base", 60, 1, 86400, smtp_retry_base),
	I_("retry_max", 3600, 1, 7 * 86400, smtp_retry_max),
	W_("auth", CFG_LOGIN_PASSWORD, login_words, smtp_auth),
	W_("oauth2_mechanism", CFG_OAUTH2_XOAUTH2, oauth2_words, smtp_oauth2_mechanism),
	S_("oauth2_token_file", 0, NULL, smtp_oauth2_token_file, check_nonempty),
	S_("oauth2_token_command", 0, NULL, smtp_oauth2_token_command, check_nonempty),
};

static const Setting desk_settings[] = {
	S_("name", F_REQUIRED, NULL, desk_name, check_nonempty),
	S_("address", F_REQUIRED, NULL, desk_address, check_addr),
	S_("templates", 0, "templates", desk_templates, check_nonempty),
	S_("domain", 0, NULL, desk_domain, check_domain),
	S_("calendar", 0, NULL, desk_calendar, check_nonempty),
	I_("max_auto_replies_per_hour", 3, 0, 1000, desk_max_auto_replies_per_hour),
	I_("max_acks_per_hour", 0, 0, 100000, desk_max_acks_per_hour),
	I_("max_automatic_per_hour", 20, 0, 100000, desk_max_automatic_per_hour),
	I_("max_notices_per_hour", 30, 0, 100000, desk_max_notices_per_hour),
	I_("max_automatic_per_ticket", 10, 0, 100000, desk_max_automatic_per_ticket),
	I_("repeat_window", 60, 0, 525600, desk_repeat_window),
	I_("reopen_days", 14, 0, 3650, desk_reopen_days),
	L_("attachment_max_bytes", 10 * MIB, 1, GIB, desk_attachment_max_bytes),
	L_("message_attachments_max_bytes", 25 * MIB, 1, GIB, desk_message_attachments_max_bytes),
	B_("notify_account_manager", 0, desk_notify_account_manager),
	B_("notify_attachments", 0, desk_notify_attachments),
};

static const Setting log_settings[] = {
	S_("level", 0, "info", log_level, check_log_level),
	B_("syslog", 0, log_syslog),
};

/* The words of auth.require and auth.staff_require, at their CFG_AUTH_*
 * index. */
static const char *const auth_words[] = {"none", "aligned", "dmarc", NULL};
G_STATIC_ASSERT(CFG_AUTH_NONE == 0 && CFG_AUTH_ALIGNED == 1 && CFG_AUTH_DMARC == 2);

static const Setting auth_settings[] = {
	S_("trusted_authserv_id", 0, NULL, auth_trusted_id, check_authserv_id),
	W_("require", CFG_AUTH_NONE, auth_words, auth_require),
	W_("staff_require", -1, auth_words, auth_staff_require), /* -1: as require */
};

#undef S_
#undef I_
#undef L_
#undef B_
#undef W_
#undef SETTINGS_OF

/* Plan members land in a CfgPlan; hours are capped far above any contract so
 * that working-time arithmetic in seconds cannot overflow. */
#define PI_(n, field)                                                                              \
	{                                                                                          \
		.name = n, .type = T_INT, .def_int = 0, .min = 0, .max = 100000,                   \
		.offset = offsetof(CfgPlan, field)                                                 \
	}
#define PH_(n, def, field)                                                                         \
	{                                                                                          \
		.name = n, .type = T_HOURS, .def_int = def, .min = 0, .max = 100000,               \
		.offset = offsetof(CfgPlan, field)                                                 \
	}
static const Setting plan_settings[] = {
	{.name = "description",
	 .type = T_STRING,
	 .offset = offsetof(CfgPlan, description),
	 .check = check_nonempty},
	{.name = "priority",
	 .type = T_STRING,
	 .def_str = "normal",
	 .offset = offsetof(CfgPlan, priority),
	 .check = check_priority},
	{.name = "calendar",
	 .type = T_STRING,
	 .offset = offsetof(CfgPlan, calendar),
	 .check = check_nonempty},
	PH_("first_response_hours", 0, first_response_minutes),
	PH_("resolution_hours", 0, resolution_minutes),
	{.name = "severity_hours", .type = T_SKIP},
	PH_("line1_hours", 0, line1_minutes),
	PH_("line1_max_elapsed_hours", 0, line1_max_elapsed_minutes),
	PH_("line2_hours", 0, line2_minutes),
	PH_("line2_max_elapsed_hours", 0, line2_max_elapsed_minutes),
	PH_("follow_up_hours", 0, follow_up_minutes),
	{.name = "at_risk_percent",
	 .type = T_INT,
	 .def_int = 75,
	 .min = 1,
	 .max = 100,
	 .offset = offsetof(CfgPlan, at_risk_percent)},
	PI_("max_contacts", max_contacts),
	PI_("hours_per_month", hours_per_month),
};

/* plans.NAME.severity_hours: each defaults to the plan's resolution_hours,
 * enhancement to no target (filled in by load_plans) */
static const Setting severity_settings[] = {
	PH_("severe", -1, severity_minutes[CFG_SEV_SEVERE]),
	PH_("high", -1, severity_minutes[CFG_SEV_HIGH]),
	PH_("medium", -1, severity_minutes[CFG_SEV_MEDIUM]),
	PH_("low", -1, severity_minutes[CFG_SEV_LOW]),
	PH_("enhancement", 0, severity_minutes[CFG_SEV_ENHANCEMENT]),
};
#undef PI_
#undef PH_

typedef struct {
	const char *name;
	bool required;
	const Setting *settings;
	size_t n;
} Group;

#define G_(n, req, t)                                                                              \
	{                                                                                          \
		n, req, t, G_N_ELEMENTS(t)                                                         \
	}
static const Group groups[] = {
	G_("database", true, database_settings), G_("smtp", true, smtp_settings),
	G_("desk", true, desk_settings),         G_("log", false, log_settings),
	G_("auth", false, auth_settings),
};
#undef G_

/* ---------- errors ---------- */

/* The file a setting came from: the main path, or an included file, whose
 * name libconfig records as written in @include (relative to the include
 * dir, i.e. the config folder). */
static char *source_name(const LoadCtx *ctx, const char *file)
{
	if (file == NULL || strcmp(file, ctx->path) == 0)
		return g_strdup(ctx->path);
	if (g_path_is_absolute(file))
		return g_strdup(file);
	return g_build_filename(ctx->path_dir, file, NULL);
}

static int cfg_fail(const LoadCtx *ctx, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record "FILE:LINE: message" (or "FILE: message" without a setting). */
static int cfg_fail(const LoadCtx *ctx, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return dm_error_set(ctx->err, DM_ECONFIG, "%s: %s", ctx->path, msg);
	g_autofree char *file = source_name(ctx, config_setting_source_file(s));
	unsigned line = config_setting_source_line(s);
	if (line == 0)
		return dm_error_set(ctx->err, DM_ECONFIG, "%s: %s", file, msg);
	return dm_error_set(ctx->err, DM_ECONFIG, "%s:%u: %s", file, line, msg);
}

static const char *type_word(SetType t)
{
	switch (t) {
	case T_STRING:
		return "a string";
	case T_INT:
	case T_INT64:
		return "an integer";
	case T_BOOL:
		return "true or false";
	case T_WORD:
		return "a string";
	case T_HOURS:
		return "a number of hours";
	case T_SKIP:
		return "a group";
	}
	return "?";
}

/* "\"a\", \"b\" or \"c\"" */
static char *word_choices(const char *const *words)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; words[i] != NULL; i++) {
		if (i > 0)
			g_string_append(s, words[i + 1] != NULL ? ", " : " or ");
		g_string_append_printf(s, "\"%s\"", words[i]);
	}
	return g_string_free(s, FALSE);
}

/* ---------- the generic loader ---------- */

static int read_secret_file(const LoadCtx *ctx, const config_setting_t *s, const char *full,
			    const char *name, char **out_r)
{
	g_autofree char *path = g_canonicalize_filename(name, ctx->dir);
	char *data = NULL;
	size_t len = 0;
	/* One descriptor for the mode check and the read, so that the file
	 * checked is the file read (a path checked, then opened again, may
	 * have become another file in between).  Symlinks are followed: a
	 * secret mounted by Kubernetes or passed by systemd is often one, and
	 * it is the target's mode that fstat reports. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return cfg_fail(ctx, s, "setting '%s': cannot read %s: %s", full, path,
				g_strerror(errno));
	/* as fetchmail does: a secret others may read (or change) is no
	 * secret; the owner and its group (the daemon's) only */
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return cfg_fail(ctx, s, "setting '%s': cannot read %s: %s", full, path,
				g_strerror(e));
	}
	if ((st.st_mode & 007) != 0) {
		close(fd);
		return cfg_fail(ctx, s,
				"setting '%s': %s is readable or writable by others "
				"(mode %04o): chmod o-rwx %s",
				full, path, (unsigned)(st.st_mode & 07777), path);
	}
	int rc = dm_read_fd(fd, CFG_PASSWORD_FILE_MAX, &data, &len);
	int e = errno;
	close(fd);
	errno = e;
	if (rc < 0) {
		if (errno == EFBIG)
			return cfg_fail(ctx, s, "setting '%s': %s is larger than %d bytes", full,
					path, CFG_PASSWORD_FILE_MAX);
		return cfg_fail(ctx, s, "setting '%s': cannot read %s: %s", full, path,
				g_strerror(errno));
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	bool bad = strlen(data) != len || strchr(data, '\n') != NULL || strchr(data, '\r') != NULL;
	if (bad) {
		explicit_bzero(data, len);
		g_free(data);
		return cfg_fail(ctx, s, "setting '%s': %s must hold the password on one line", full,
				path);
	}
	*out_r = g_strndup(data, len);
	explicit_bzero(data, len);
	g_free(data);
	return 0;
}

static int load_string(const LoadCtx *ctx, const Setting *st, const config_setting_t *s,
		       const char *full, char **field)
{
	const char *v = config_setting_get_string(s);
	if (v == NULL)
		v = "";
	if (!g_utf8_validate(v, -1, NULL))
		return cfg_fail(ctx, s, "setting '%s': must be valid UTF-8", full);
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ctl = (st->flags & F_RAW) ? (c == '\r' || c == '\n') : (c < 0x20 || c == 0x7f);
		if (ctl)
			return cfg_fail(ctx, s, "setting '%s': must not contain control characters",
					full);
	}
	if (st->check != NULL) {
		const char *why = st->check(v);
		if (why != NULL)
			return cfg_fail(ctx, s, "setting '%s': %s", full, why);
	}
	if (st->flags & F_SECRET_FILE) {
		/* the password row comes first in the table */
		if (*field != NULL)
			return cfg_fail(ctx, s,
					"setting '%s': set either password or password_file, "
					"not both",
					full);
		return read_secret_file(ctx, s, full, v, field);
	}
	g_free(*field);
	*field = g_strdup(v);
	return 0;
}

/* Fill `base` from `grp` (may be NULL: all defaults) using `table`.  `prefix`
 * is the group's dotted name for messages.  On error some fields may be set;
 * the caller frees them with free_fields(). */
static int load_group(const LoadCtx *ctx, const config_setting_t *grp, const char *prefix,
		      const Setting *table, size_t n, void *base)
{
	char *b = base;

	/* unknown keys first: a typo is the likeliest mistake */
	for (int i = 0; grp != NULL && i < config_setting_length(grp); i++) {
		const config_setting_t *e = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(e);
		bool known = false;
		for (size_t k = 0; k < n && !known; k++)
			known = name != NULL && strcmp(name, table[k].name) == 0;
		if (!known)
			return cfg_fail(ctx, e, "setting '%s.%s': unknown setting", prefix,
					name ? name : "?");
	}

	for (size_t k = 0; k < n; k++) {
		const Setting *st = &table[k];
		g_autofree char *full = g_strdup_printf("%s.%s", prefix, st->name);
		config_setting_t *s = grp != NULL ? config_setting_get_member(grp, st->name) : NULL;
		void *field = b + st->offset;

		if (s == NULL) {
			if (st->flags & F_REQUIRED) {
				if (grp == NULL)
					return cfg_fail(ctx, NULL, "setting '%s': required", full);
				return cfg_fail(ctx, grp, "setting '%s': required in group '%s'",
						full, prefix);
			}
			switch (st->type) {
			case T_STRING:
				if (!(st->flags & F_SECRET_FILE)) {
					g_free(*(char **)field);
					*(char **)field = g_strdup(st->def_str);
				}
				break;
			case T_INT:
			case T_WORD:
			case T_HOURS:
				*(int *)field = (int)st->def_int;
				break;
			case T_SKIP:
				break;
			case T_INT64:
				*(int64_t *)field = st->def_int;
				break;
			case T_BOOL:
				*(bool *)field = st->def_int != 0;
				break;
			}
			continue;
		}

		int t = config_setting_type(s);
		bool ok = false;
		switch (st->type) {
		case T_STRING:
		case T_WORD:
			ok = t == CONFIG_TYPE_STRING;
			break;
		case T_INT:
		case T_INT64:
			ok = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
			break;
		case T_BOOL:
			ok = t == CONFIG_TYPE_BOOL;
			break;
		case T_HOURS:
			ok = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ||
			     t == CONFIG_TYPE_FLOAT;
			break;
		case T_SKIP:
			ok = true;
			break;
		}
		if (!ok)
			return cfg_fail(ctx, s, "setting '%s': must be %s", full,
					type_word(st->type));

		switch (st->type) {
		case T_STRING: {
			int rc = load_string(ctx, st, s, full, (char **)field);
			if (rc < 0)
				return rc;
			break;
		}
		case T_INT:
		case T_INT64: {
			/* get_int64 reads both INT and INT64; get_int would
			 * turn a large INT64 into 0 (pitfall 16) */
			long long v = config_setting_get_int64(s);
			if (v < st->min || v > st->max)
				return cfg_fail(ctx, s,
						"setting '%s': must be between %" PRId64
						" and %" PRId64,
						full, st->min, st->max);
			if (st->type == T_INT)
				*(int *)field = (int)v;
			else
				*(int64_t *)field = (int64_t)v;
			break;
		}
		case T_BOOL:
			*(bool *)field = config_setting_get_bool(s) != 0;
			break;
		case T_SKIP:
			break;
		case T_HOURS: {
			double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
							  : (double)config_setting_get_int64(s);
			if (!(v >= (double)st->min && v <= (double)st->max))
				return cfg_fail(ctx, s,
						"setting '%s': must be between %" PRId64
						" and %" PRId64 " hours",
						full, st->min, st->max);
			*(int *)field = (int)(v * 60.0 + 0.5);
			break;
		}
		case T_WORD: {
			const char *v = config_setting_get_string(s);
			int found = -1;
			for (int w = 0; v != NULL && st->words[w] != NULL && found < 0; w++)
				if (strcmp(v, st->words[w]) == 0)
					found = w;
			if (found < 0) {
				g_autofree char *choices = word_choices(st->words);
				return cfg_fail(ctx, s, "setting '%s': must be %s", full, choices);
			}
			*(int *)field = found;
			break;
		}
		}
	}
	return 0;
}

static void free_fields(const Setting *table, size_t n, void *base)
{
	char *b = base;
	for (size_t k = 0; k < n; k++) {
		if (table[k].type != T_STRING || (table[k].flags & F_SECRET_FILE))
			continue;
		char **field = (char **)(b + table[k].offset);
		if (*field != NULL && (table[k].flags & (F_SECRET | F_CONNINFO)))
			explicit_bzero(*field, strlen(*field));
		g_clear_pointer(field, g_free);
	}
}

static int load_plans(const LoadCtx *ctx, const config_setting_t *plans, Config *cfg)
{
	if (plans == NULL)
		return cfg_fail(ctx, NULL,
				"setting 'plans': required (a group of plans, may be "
				"empty: plans = { };)");
	if (config_setting_type(plans) != CONFIG_TYPE_GROUP)
		return cfg_fail(ctx, plans, "setting 'plans': must be a group { ... }");

	int n = config_setting_length(plans);
	cfg->plans = g_new0(CfgPlan, n > 0 ? (size_t)n : 1);
	for (int i = 0; i < n; i++) {
		const config_setting_t *p = config_setting_get_elem(plans, (unsigned)i);
		const char *name = config_setting_name(p);
		g_autofree char *prefix = g_strdup_printf("plans.%s", name ? name : "?");
		if (config_setting_type(p) != CONFIG_TYPE_GROUP)
			return cfg_fail(ctx, p, "setting '%s': a plan must be a group { ... }",
					prefix);
		CfgPlan *plan = &cfg->plans[cfg->n_plans++];
		plan->name = g_strdup(name);
		int rc = load_group(ctx, p, prefix, plan_settings, G_N_ELEMENTS(plan_settings),
				    plan);
		if (rc < 0)
			return rc;
		const config_setting_t *sev = config_setting_get_member(p, "severity_hours");
		g_autofree char *sprefix = g_strdup_printf("%s.severity_hours", prefix);
		if (sev != NULL && config_setting_type(sev) != CONFIG_TYPE_GROUP)
			return cfg_fail(ctx, sev, "setting '%s': must be a group { ... }", sprefix);
		rc = load_group(ctx, sev, sprefix, severity_settings,
				G_N_ELEMENTS(severity_settings), plan);
		if (rc < 0)
			return rc;
		for (int k = 0; k < CFG_N_SEV; k++)
			if (plan->severity_minutes[k] < 0)
				plan->severity_minutes[k] = plan->resolution_minutes;
	}
	return 0;
}

/* "username@host[:port]/MAILBOX" of a mailbox, its default name. */
static char *mailbox_default_name(const CfgMailbox *mb)
{
	const char *p = strstr(mb->url, "://");
	return g_strdup_printf("%s@%s", mb->username, p ? p + 3 : mb->url);
}

/* One mailbox from grp (the imap group, or an entry of the list, whose
 * brand settings are allowed too), its password required and its templates
 * folder made absolute. */
static int finish_login(const LoadCtx *ctx, config_setting_t *grp, const char *prefix, int auth,
			const char *username, char **token_file, const char *token_command,
			Config *cfg);

static int load_mailbox(const LoadCtx *ctx, config_setting_t *grp, const char *prefix, bool entry,
			Config *cfg, CfgMailbox *mb)
{
	int rc = load_group(ctx, grp, prefix, mailbox_settings,
			    entry ? G_N_ELEMENTS(mailbox_settings) : N_IMAP_SETTINGS, mb);
	if (rc == 0)
		rc = finish_login(ctx, grp, prefix, mb->auth, mb->username, &mb->oauth2_token_file,
				  mb->oauth2_token_command, cfg);
	if (rc < 0)
		return rc;
	if (mb->password == NULL && mb->auth != CFG_LOGIN_OAUTH2)
		return cfg_fail(ctx, grp,
				"setting '%s.password': required (or %s.password_file), or "
				"%s.auth = \"oauth2\"",
				prefix, prefix, prefix);
	if (mb->name == NULL) {
		mb->name = mailbox_default_name(mb);
		mb->name_derived = true;
	}
	if (mb->templates != NULL) {
		char *abs = g_canonicalize_filename(mb->templates, ctx->dir);
		g_free(mb->templates);
		mb->templates = abs;
	}
	if (mb->address != NULL) {
		char *low = g_ascii_strdown(mb->address, -1);
		g_free(mb->address);
		mb->address = low;
	}
	return 0;
}

/* The single imap group or the mailboxes list (not both): names unique, no
 * account's folder twice. */
static int load_mailboxes(const LoadCtx *ctx, config_setting_t *root, Config *cfg)
{
	config_setting_t *imap = config_setting_get_member(root, "imap");
	config_setting_t *list = config_setting_get_member(root, "mailboxes");
	if (imap != NULL && list != NULL)
		return cfg_fail(ctx, list,
				"setting 'mailboxes': set either the imap group (one mailbox) or "
				"the mailboxes list, not both");
	if (imap == NULL && list == NULL)
		return cfg_fail(ctx, NULL,
				"setting 'imap': required group is missing (or a mailboxes list)");
	if (imap != NULL) {
		if (config_setting_type(imap) != CONFIG_TYPE_GROUP)
			return cfg_fail(ctx, imap, "setting 'imap': must be a group { ... }");
		cfg->mailboxes = g_new0(CfgMailbox, 1);
		cfg->n_mailboxes = 1;
		return load_mailbox(ctx, imap, "imap", false, cfg, &cfg->mailboxes[0]);
	}
	int n = config_setting_type(list) == CONFIG_TYPE_LIST ? config_setting_length(list) : 0;
	if (n < 1 || n > CFG_MAX_MAILBOXES)
		return cfg_fail(ctx, list,
				"setting 'mailboxes': must be a list of 1 to %d groups: "
				"( { url = ...; username = ...; ... }, ... )",
				CFG_MAX_MAILBOXES);
	cfg->mailbox_list = true;
	cfg->mailboxes = g_new0(CfgMailbox, (size_t)n);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		g_autofree char *prefix = g_strdup_printf("mailboxes.[%d]", i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return cfg_fail(ctx, e, "setting '%s': must be a group { ... }", prefix);
		CfgMailbox *mb = &cfg->mailboxes[cfg->n_mailboxes++];
		int rc = load_mailbox(ctx, e, prefix, true, cfg, mb);
		if (rc < 0)
			return rc;
		for (size_t k = 0; k + 1 < cfg->n_mailboxes; k++) {
			const CfgMailbox *o = &cfg->mailboxes[k];
			if (strcmp(o->name, mb->name) == 0)
				return cfg_fail(ctx, e,
						"setting '%s.name': \"%s\" is the name of "
						"mailboxes.[%zu] too (names must be unique)",
						prefix, mb->name, k);
			if (strcmp(o->url, mb->url) == 0 && strcmp(o->username, mb->username) == 0)
				return cfg_fail(ctx, e,
						"setting '%s': the same url and username as "
						"mailboxes.[%zu] (a mailbox is polled once)",
						prefix, k);
		}
	}
	return 0;
}

/* desk.address and every mailbox's, lower-case, each once. */
static void own_addresses(Config *cfg)
{
	GPtrArray *a = g_ptr_array_new();
	g_ptr_array_add(a, g_ascii_strdown(cfg->desk_address, -1));
	for (size_t i = 0; i < cfg->n_mailboxes; i++) {
		const char *addr = cfg->mailboxes[i].address;
		bool seen = addr == NULL;
		for (guint k = 0; k < a->len && !seen; k++)
			seen = strcmp(a->pdata[k], addr) == 0;
		if (!seen)
			g_ptr_array_add(a, g_strdup(addr));
	}
	g_ptr_array_add(a, NULL);
	cfg->own_addresses = (char **)g_ptr_array_free(a, FALSE);
}

static void cfg_warn(Config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *const weekday_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* calendars = { NAME = { timezone; mon..sun; holidays = [...]; }; ... } */
static int load_calendars(const LoadCtx *ctx, const config_setting_t *cals, Config *cfg)
{
	if (cals != NULL && config_setting_type(cals) != CONFIG_TYPE_GROUP)
		return cfg_fail(ctx, cals, "setting 'calendars': must be a group { ... }");
	int n = cals != NULL ? config_setting_length(cals) : 0;
	cfg->calendars = g_new0(WtCalendar *, (size_t)n + 2);
	for (int i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(cals, (unsigned)i);
		const char *name = config_setting_name(c);
		g_autofree char *prefix = g_strdup_printf("calendars.%s", name ? name : "?");
		if (config_setting_type(c) != CONFIG_TYPE_GROUP)
			return cfg_fail(ctx, c, "setting '%s': a calendar must be a group { ... }",
					prefix);
		const char *tz = NULL;
		const char *week[7] = {0};
		const char **hol = NULL;
		size_t n_hol = 0;
		for (int k = 0; k < config_setting_length(c); k++) {
			const config_setting_t *m = config_setting_get_elem(c, (unsigned)k);
			const char *key = config_setting_name(m);
			int day = -1;
			for (int d = 0; d < 7 && key != NULL; d++)
				if (strcmp(key, weekday_keys[d]) == 0)
					day = d;
			if (key != NULL && strcmp(key, "holidays") == 0) {
				int t = config_setting_type(m);
				if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
					g_free(hol);
					return cfg_fail(ctx, m,
							"setting '%s.holidays': must be a list of "
							"\"YYYY-MM-DD\" dates [ ... ]",
							prefix);
				}
				int nh = config_setting_length(m);
				g_free(hol);
				hol = g_new0(const char *, (size_t)nh + 1);
				for (int h = 0; h < nh; h++) {
					const config_setting_t *e =
						config_setting_get_elem(m, (unsigned)h);
					if (config_setting_type(e) != CONFIG_TYPE_STRING) {
						g_free(hol);
						return cfg_fail(ctx, e,
								"setting '%s.holidays': must be "
								"\"YYYY-MM-DD\" strings",
								prefix);
					}
					hol[n_hol++] = config_setting_get_string(e);
				}
				continue;
			}
			if ((key == NULL || (day < 0 && strcmp(key, "timezone") != 0)) ||
			    config_setting_type(m) != CONFIG_TYPE_STRING) {
				g_free(hol);
				if (key != NULL && (day >= 0 || strcmp(key, "timezone") == 0))
					return cfg_fail(ctx, m, "setting '%s.%s': must be a string",
							prefix, key);
				return cfg_fail(ctx, m,
						"setting '%s.%s': unknown setting (a calendar has "
						"timezone, mon .. sun and holidays)",
						prefix, key ? key : "?");
			}
			if (day >= 0)
				week[day] = config_setting_get_string(m);
			else
				tz = config_setting_get_string(m);
		}
		if (tz == NULL) {
			g_free(hol);
			return cfg_fail(ctx, c,
					"setting '%s.timezone': required, e.g. \"Europe/London\"",
					prefix);
		}
		g_autofree char *why = NULL;
		WtCalendar *cal = wt_calendar_new(name, tz, week, hol, n_hol, &why);
		if (cal != NULL) {
			/* what the clocks depend on, for cfg->sla_fingerprint */
			g_checksum_update(ctx->sla, (const guchar *)name, (gssize)strlen(name) + 1);
			g_checksum_update(ctx->sla, (const guchar *)tz, (gssize)strlen(tz) + 1);
			for (int d = 0; d < 7; d++)
				if (week[d])
					g_checksum_update(ctx->sla, (const guchar *)week[d],
							  (gssize)strlen(week[d]) + 1);
			for (size_t h = 0; h < n_hol; h++)
				g_checksum_update(ctx->sla, (const guchar *)hol[h],
						  (gssize)strlen(hol[h]) + 1);
		}
		g_free(hol);
		if (cal == NULL)
			return cfg_fail(ctx, c, "setting '%s': %s", prefix, why);
		cfg->calendars[cfg->n_calendars++] = cal;
	}
	return 0;
}

/* The desk's calendar and each plan's must exist; without any calendar the
 * desk works Monday to Friday, 09:00-17:00 UTC. */
static int finish_calendars(const LoadCtx *ctx, config_setting_t *root, Config *cfg)
{
	if (cfg->n_calendars == 0) {
		static const char *const week[7] = {"09:00-17:00",
						    "09:00-17:00",
						    "09:00-17:00",
						    "09:00-17:00",
						    "09:00-17:00",
						    "",
						    ""};
		g_autofree char *why = NULL;
		WtCalendar *cal = wt_calendar_new("default", "UTC", week, NULL, 0, &why);
		if (cal == NULL)
			return cfg_fail(ctx, NULL, "the default calendar: %s", why);
		cfg->calendars[cfg->n_calendars++] = cal;
		cfg->default_calendar = true;
	}
	config_setting_t *desk = config_setting_get_member(root, "desk");
	if (cfg->desk_calendar != NULL) {
		cfg->desk_cal = cfg_calendar(cfg, cfg->desk_calendar);
		if (cfg->desk_cal == NULL || cfg->default_calendar)
			return cfg_fail(ctx, config_setting_get_member(desk, "calendar"),
					"setting 'desk.calendar': no calendar \"%s\" in calendars",
					cfg->desk_calendar);
	} else if (cfg->n_calendars == 1) {
		cfg->desk_cal = cfg->calendars[0];
	} else {
		return cfg_fail(ctx, config_setting_get_member(root, "calendars"),
				"setting 'desk.calendar': required when there are several "
				"calendars (the desk's own, for plans without one and for staff)");
	}
	config_setting_t *plans = config_setting_get_member(root, "plans");
	for (size_t i = 0; i < cfg->n_plans; i++) {
		const CfgPlan *p = &cfg->plans[i];
		if (p->calendar != NULL &&
		    (cfg_calendar(cfg, p->calendar) == NULL || cfg->default_calendar)) {
			config_setting_t *g = config_setting_get_member(plans, p->name);
			return cfg_fail(ctx, config_setting_get_member(g, "calendar"),
					"setting 'plans.%s.calendar': no calendar \"%s\" in "
					"calendars",
					p->name, p->calendar);
		}
	}
	if (cfg->default_calendar)
		cfg_warn(cfg, "no calendars: working time is Monday to Friday, 09:00-17:00 UTC "
			      "(set calendars and desk.calendar)");
	/* the plans' targets and calendars, and the desk's calendar */
	for (size_t i = 0; i < cfg->n_plans; i++) {
		const CfgPlan *p = &cfg->plans[i];
		g_autofree char *line = g_strdup_printf(
			"%s|%s|%d|%d|%d,%d,%d,%d,%d|%d|%d|%d|%d|%d|%d|%d", p->name,
			p->calendar ? p->calendar : "", p->first_response_minutes,
			p->resolution_minutes, p->severity_minutes[0], p->severity_minutes[1],
			p->severity_minutes[2], p->severity_minutes[3], p->severity_minutes[4],
			p->line1_minutes, p->line1_max_elapsed_minutes, p->line2_minutes,
			p->line2_max_elapsed_minutes, p->follow_up_minutes, p->at_risk_percent,
			p->hours_per_month);
		g_checksum_update(ctx->sla, (const guchar *)line, (gssize)strlen(line) + 1);
	}
	const char *dc = wt_calendar_name(cfg->desk_cal);
	g_checksum_update(ctx->sla, (const guchar *)dc, (gssize)strlen(dc) + 1);
	g_strlcpy(cfg->sla_fingerprint, g_checksum_get_string(ctx->sla),
		  sizeof cfg->sla_fingerprint);
	return 0;
}

static void cfg_warn(Config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cfg_warn(Config *cfg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cfg->warnings = g_renew(char *, cfg->warnings, cfg->n_warnings + 2);
	cfg->warnings[cfg->n_warnings++] = g_strdup_vprintf(fmt, ap);
	cfg->warnings[cfg->n_warnings] = NULL;
	va_end(ap);
}

/* The auth group: staff_require defaults to require, and a requirement
 * needs a trusted server, whose results alone count. */
static int finish_auth(const LoadCtx *ctx, config_setting_t *root, Config *cfg)
{
	config_setting_t *auth = config_setting_get_member(root, "auth");
	cfg->auth_configured = auth != NULL;
	if (cfg->auth_staff_require < 0)
		cfg->auth_staff_require = cfg->auth_require;
	static const char *const names[] = {"require", "staff_require"};
	const int values[] = {cfg->auth_require, cfg->auth_staff_require};
	for (size_t i = 0; i < G_N_ELEMENTS(names) && cfg->auth_trusted_id == NULL; i++) {
		if (values[i] == CFG_AUTH_NONE)
			continue;
		/* require comes first: a staff_require taken from it is not
		 * reached */
		config_setting_t *s = config_setting_get_member(auth, names[i]);
		return cfg_fail(ctx, s,
				"setting 'auth.%s': \"%s\" needs auth.trusted_authserv_id, the "
				"authserv-id of your border server's Authentication-Results "
				"(only its results count)",
				names[i], auth_words[values[i]]);
	}
	if (!cfg->auth_configured)
		cfg_warn(cfg, "no auth group: anyone can write as staff or as a client contact "
			      "(set auth.require and auth.staff_require)");
	else if (cfg->auth_staff_require == CFG_AUTH_NONE)
		cfg_warn(cfg, "auth.staff_require is \"none\": anyone can write as staff");
	return 0;
}

/* imap.auth or smtp.auth (`prefix`): "oauth2" needs a user name and
 * exactly one token source, and refuses a password; "password" refuses
 * the oauth2_* settings, so that none is silently unused.  The token file
 * is made absolute (against the configuration's folder) and checked if it
 * is there; it is read, and the command run, only at login. */
static int finish_login(const LoadCtx *ctx, config_setting_t *grp, const char *prefix, int auth,
			const char *username, char **token_file, const char *token_command,
			Config *cfg)
{
	static const char *const oauth2_keys[] = {"oauth2_mechanism", "oauth2_token_file",
						  "oauth2_token_command"};
	static const char *const password_keys[] = {"password", "password_file"};
	if (auth != CFG_LOGIN_OAUTH2) {
		for (size_t i = 0; i < G_N_ELEMENTS(oauth2_keys); i++) {
			config_setting_t *s = config_setting_get_member(grp, oauth2_keys[i]);
			if (s != NULL)
				return cfg_fail(ctx, s,
						"setting '%s.%s': needs %s.auth = \"oauth2\"",
						prefix, oauth2_keys[i], prefix);
		}
		return 0;
	}
	config_setting_t *a = config_setting_get_member(grp, "auth");
	if (username == NULL)
		return cfg_fail(ctx, a,
				"setting '%s.auth': \"oauth2\" needs %s.username (the account "
				"the token was issued for)",
				prefix, prefix);
	for (size_t i = 0; i < G_N_ELEMENTS(password_keys); i++) {
		config_setting_t *s = config_setting_get_member(grp, password_keys[i]);
		if (s != NULL)
			return cfg_fail(ctx, s,
					"setting '%s.%s': not used with %s.auth = \"oauth2\" (the "
					"token comes from %s.oauth2_token_file or "
					"%s.oauth2_token_command); remove it",
					prefix, password_keys[i], prefix, prefix, prefix);
	}
	if ((*token_file == NULL) == (token_command == NULL))
		return cfg_fail(ctx, a,
				"setting '%s.auth': \"oauth2\" needs exactly one of "
				"%s.oauth2_token_file and %s.oauth2_token_command",
				prefix, prefix, prefix);
	if (*token_file != NULL) {
		char *abs = g_canonicalize_filename(*token_file, ctx->dir);
		g_free(*token_file);
		*token_file = abs;
		struct stat st;
		config_setting_t *s = config_setting_get_member(grp, "oauth2_token_file");
		if (stat(abs, &st) < 0)
			cfg_warn(cfg, "%s.oauth2_token_file: %s: %s (it is read at each login)",
				 prefix, abs, g_strerror(errno));
		else if (st.st_mode & (S_IROTH | S_IWOTH))
			return cfg_fail(
				ctx, s,
				"setting '%s.oauth2_token_file': %s is readable or writable "
				"by others (mode %04o): chmod o-rw it",
				prefix, abs, (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

/* Cross-setting checks and derived values. */
static int finish(const LoadCtx *ctx, config_setting_t *root, Config *cfg)
{
	config_setting_t *smtp = config_setting_get_member(root, "smtp");

	int lrc = finish_login(ctx, smtp, "smtp", cfg->smtp_auth, cfg->smtp_username,
			       &cfg->smtp_oauth2_token_file, cfg->smtp_oauth2_token_command, cfg);
	if (lrc < 0)
		return lrc;
	if (cfg->smtp_password != NULL && cfg->smtp_username == NULL) {
		config_setting_t *s = config_setting_get_member(smtp, "password");
		if (s == NULL)
			s = config_setting_get_member(smtp, "password_file");
		return cfg_fail(ctx, s, "setting 'smtp.password': needs smtp.username");
	}
	if (strcmp(cfg->smtp_starttls, "never") == 0) {
		config_setting_t *s = config_setting_get_member(smtp, "starttls");
		g_autofree char *host = NULL;
		const char *rest;
		if (g_str_has_prefix(cfg->smtp_url, "smtps://"))
			return cfg_fail(ctx, s,
					"setting 'smtp.starttls': \"never\" contradicts smtps:// "
					"(TLS from the first byte); use smtp:// or leave it unset");
		/* an early, conservative refusal: smtp/ checks again with curl's
		 * URL parser and will not log in in clear to a host that is not
		 * loopback, whatever this says */
		if (cfg->smtp_username != NULL &&
		    !(url_host(cfg->smtp_url, &host, &rest) && dm_host_is_loopback(host)))
			return cfg_fail(
				ctx, s,
				"setting 'smtp.starttls': \"never\" would send smtp.username "
				"and its password in clear to a host that is not loopback; use "
				"\"try\" or \"require\", or smtps://");
	}
	if (cfg->smtp_retry_max < cfg->smtp_retry_base) {
		config_setting_t *s = config_setting_get_member(smtp, "retry_max");
		return cfg_fail(ctx, s ? s : smtp,
				"setting 'smtp.retry_max': must not be below smtp.retry_base (%d)",
				cfg->smtp_retry_base);
	}

	int rc = finish_auth(ctx, root, cfg);
	if (rc < 0)
		return rc;

	char *abs = g_canonicalize_filename(cfg->desk_templates, ctx->dir);
	g_free(cfg->desk_templates);
	cfg->desk_templates = abs;

	if (cfg->desk_domain == NULL) {
		const char *at = strrchr(cfg->desk_address, '@');
		cfg->desk_domain = g_ascii_strdown(at + 1, -1);
	}
	own_addresses(cfg);
	return 0;
}

const char *cfg_default_path(const char *opt)
{
	if (opt != NULL && *opt != '\0')
		return opt;
	const char *env = getenv("DESKMAIL_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return DM_DEFAULT_CONFIG;
}

/* Check the file can be opened and is a regular file, so the error says why
 * (libconfig only says "file I/O error"). */
static int check_readable(const LoadCtx *ctx)
{
	int fd = open(ctx->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cfg_fail(ctx, NULL, "cannot read: %s", g_strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st);
	int e = errno;
	close(fd);
	if (rc < 0)
		return cfg_fail(ctx, NULL, "cannot read: %s", g_strerror(e));
	if (S_ISDIR(st.st_mode))
		return cfg_fail(ctx, NULL, "cannot read: %s", g_strerror(EISDIR));
	return 0;
}

int cfg_load(const char *path, Config **cfg_r, DmError *err)
{
	g_autofree char *path_dir = g_path_get_dirname(path);
	g_autofree char *dir = g_canonicalize_filename(path_dir, NULL);
	g_autoptr(GChecksum) sla = g_checksum_new(G_CHECKSUM_SHA256);
	LoadCtx ctx = {.path = path, .path_dir = path_dir, .dir = dir, .err = err, .sla = sla};

	int rc = check_readable(&ctx);
	if (rc < 0)
		return rc;

	config_t lc;
	config_init(&lc);
	config_set_include_dir(&lc, dir);
	Config *cfg = g_new0(Config, 1);

	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO ||
		    config_error_file(&lc) == NULL) {
			rc = cfg_fail(&ctx, NULL, "cannot read: %s", config_error_text(&lc));
		} else {
			g_autofree char *file = source_name(&ctx, config_error_file(&lc));
			rc = dm_error_set(err, DM_ECONFIG, "%s:%d: %s", file,
					  config_error_line(&lc), config_error_text(&lc));
		}
		goto out;
	}

	config_setting_t *root = config_root_setting(&lc);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *e = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(e);
		bool known = name != NULL &&
			     (strcmp(name, "plans") == 0 || strcmp(name, "calendars") == 0 ||
			      strcmp(name, "imap") == 0 || strcmp(name, "mailboxes") == 0);
		for (size_t g = 0; g < G_N_ELEMENTS(groups) && !known; g++)
			known = name != NULL && strcmp(name, groups[g].name) == 0;
		if (!known) {
			rc = cfg_fail(&ctx, e,
				      "setting '%s': unknown (groups are database, imap or "
				      "mailboxes, smtp, desk, log, auth, calendars, plans)",
				      name ? name : "?");
			goto out;
		}
	}

	for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
		const Group *gr = &groups[g];
		config_setting_t *s = config_setting_get_member(root, gr->name);
		if (s == NULL && gr->required) {
			rc = cfg_fail(&ctx, NULL, "setting '%s': required group is missing",
				      gr->name);
			goto out;
		}
		if (s != NULL && config_setting_type(s) != CONFIG_TYPE_GROUP) {
			rc = cfg_fail(&ctx, s, "setting '%s': must be a group { ... }", gr->name);
			goto out;
		}
		rc = load_group(&ctx, s, gr->name, gr->settings, gr->n, cfg);
		if (rc < 0)
			goto out;
	}
	rc = load_plans(&ctx, config_setting_get_member(root, "plans"), cfg);
	if (rc < 0)
		goto out;
	rc = load_mailboxes(&ctx, root, cfg);
	if (rc < 0)
		goto out;
	rc = finish(&ctx, root, cfg);
	if (rc < 0)
		goto out;
	rc = load_calendars(&ctx, config_setting_get_member(root, "calendars"), cfg);
	if (rc < 0)
		goto out;
	rc = finish_calendars(&ctx, root, cfg);
	if (rc < 0)
		goto out;

	cfg->path = g_strdup(path);
	cfg->dir = g_strdup(dir);
	*cfg_r = cfg;
	cfg = NULL;
	rc = 0;
out:
	config_destroy(&lc);
	cfg_free(cfg);
	return rc;
}

void cfg_free(Config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t g = 0; g < G_N_ELEMENTS(groups); g++)
		free_fields(groups[g].settings, groups[g].n, cfg);
	for (size_t i = 0; cfg->plans != NULL && i < cfg->n_plans; i++) {
		g_free(cfg->plans[i].name);
		free_fields(plan_settings, G_N_ELEMENTS(plan_settings), &cfg->plans[i]);
	}
	g_free(cfg->plans);
	for (size_t i = 0; cfg->mailboxes != NULL && i < cfg->n_mailboxes; i++) {
		free_fields(mailbox_settings, G_N_ELEMENTS(mailbox_settings), &cfg->mailboxes[i]);
	}
	g_free(cfg->mailboxes);
	g_strfreev(cfg->own_addresses);
	for (size_t i = 0; cfg->calendars != NULL && i < cfg->n_calendars; i++)
		wt_calendar_free(cfg->calendars[i]);
	g_free(cfg->calendars);
	g_strfreev(cfg->warnings);
	g_free(cfg->path);
	g_free(cfg->dir);
	g_free(cfg);
}

const WtCalendar *cfg_calendar(const Config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_calendars; i++)
		if (strcmp(wt_calendar_name(cfg->calendars[i]), name) == 0)
			return cfg->calendars[i];
	return NULL;
}

const WtCalendar *cfg_ticket_calendar(const Config *cfg, const char *client_calendar,
				      const CfgPlan *plan)
{
	const WtCalendar *c = cfg_calendar(cfg, client_calendar);
	if (c == NULL && plan != NULL)
		c = cfg_calendar(cfg, plan->calendar);
	return c != NULL ? c : cfg->desk_cal;
}

const CfgMailbox *cfg_mailbox(const Config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_mailboxes; i++)
		if (strcmp(cfg->mailboxes[i].name, name) == 0)
			return &cfg->mailboxes[i];
	return NULL;
}

const CfgPlan *cfg_plan(const Config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_plans; i++)
		if (strcmp(cfg->plans[i].name, name) == 0)
			return &cfg->plans[i];
	return NULL;
}

/* "password=..." or a URI with user:password@ */
static bool conninfo_has_password(const char *v)
{
	if (strstr(v, "password") != NULL)
		return true;
	const char *scheme = strstr(v, "://");
	if (scheme == NULL)
		return false;
	const char *at = strchr(scheme, '@');
	const char *colon = strchr(scheme + 3, ':');
	return at != NULL && colon != NULL && colon < at;
}

/* Does the setting's value differ from its default?  `derived` stands for
 * a default of -1 ("set later": auth.staff_require is auth.require, a
 * severity's hours are the plan's resolution_hours). */
static bool changed(const Setting *st, const void *field, int derived)
{
	switch (st->type) {
	case T_STRING: {
		const char *v = *(char *const *)field;
		if (v == NULL || st->def_str == NULL)
			return v != st->def_str;
		return strcmp(v, st->def_str) != 0;
	}
	case T_INT:
	case T_WORD:
	case T_HOURS:
		return *(const int *)field != (st->def_int == -1 ? derived : (int)st->def_int);
	case T_INT64:
		return *(const int64_t *)field != st->def_int;
	case T_BOOL:
		return *(const bool *)field != (st->def_int != 0);
	case T_SKIP:
		return false;
	}
	return true;
}

/* Print the settings of one group; only those that differ from their
 * defaults when only_changed.  Returns how many lines it printed. */
static size_t dump_group_with(const char *prefix, const Setting *table, size_t n, const void *base,
			      bool only_changed, int derived)
{
	const char *b = base;
	size_t shown = 0;
	for (size_t k = 0; k < n; k++) {
		const Setting *st = &table[k];
		const void *field = b + st->offset;
		if (st->flags & F_SECRET_FILE)
			continue; /* shown with its password row */
		if (only_changed && !changed(st, field, derived))
			continue;
		shown++;
		printf("%s.%s = ", prefix, st->name);
		switch (st->type) {
		case T_STRING: {
			const char *v = *(char *const *)field;
			if (v == NULL)
				puts("(unset)");
			else if (st->flags & F_SECRET)
				puts("(set)");
			else if ((st->flags & F_CONNINFO) && conninfo_has_password(v))
				puts("(set; holds a password, not shown)");
			else
				printf("\"%s\"\n", v);
			break;
		}
		case T_INT:
			printf("%d\n", *(const int *)field);
			break;
		case T_INT64:
			printf("%" PRId64 "\n", *(const int64_t *)field);
			break;
		case T_BOOL:
			puts(*(const bool *)field ? "true" : "false");
			break;
		case T_HOURS: {
			int m = *(const int *)field;
			if (m % 60 == 0)
				printf("%d\n", m / 60);
			else
				printf("%.2f\n", m / 60.0);
			break;
		}
		case T_SKIP:
			puts("{ ... }");
			break;
		case T_WORD: {
			int v = *(const int *)field;
			printf("\"%s\"\n", v >= 0 ? st->words[v] : "?");
			break;
		}
		}
	}
	return shown;
}

/* The imap group, or each entry of the list with its brand (an unset
 * address or templates folder shown as the desk's it falls back to); with
 * only_changed, a name derived from the account is not shown, nor an
 * unset address or templates. */
static void dump_mailboxes(const Config *cfg, bool only_changed)
{
	for (size_t i = 0; i < cfg->n_mailboxes; i++) {
		const CfgMailbox *mb = &cfg->mailboxes[i];
		g_autofree char *prefix = cfg->mailbox_list ? g_strdup_printf("mailboxes.[%zu]", i)
							    : g_strdup("imap");
		if (!(only_changed && mb->name_derived))
			printf("%s.name = \"%s\"\n", prefix, mb->name);
		/* the name is row 0 */
		dump_group_with(prefix, mailbox_settings + 1, N_IMAP_SETTINGS - 1, mb, only_changed,
				0);
		if (!cfg->mailbox_list)
			continue;
		if (mb->address || !only_changed)
			printf("%s.address = \"%s\"%s\n", prefix,
			       mb->address ? mb->address : cfg->desk_address,
			       mb->address ? "" : " (desk.address)");
		if (mb->templates || !only_changed)
			printf("%s.templates = \"%s\"%s\n", prefix,
			       mb->templates ? mb->templates : cfg->desk_templates,
			       mb->templates ? " (then desk.templates for a file not there)"
					     : " (desk.templates)");
	}
}

static void dump(const Config *cfg, bool only_changed)
{
	printf("# %s%s\n", cfg->path,
	       only_changed ? " (settings that differ from the defaults)" : "");
	for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
		dump_group_with(groups[g].name, groups[g].settings, groups[g].n, cfg, only_changed,
				cfg->auth_require);
		if (g == 0)
			dump_mailboxes(cfg, only_changed);
	}
	if (cfg->n_plans == 0 && !only_changed)
		puts("# no plans");
	for (size_t i = 0; i < cfg->n_plans; i++) {
		const CfgPlan *pl = &cfg->plans[i];
		g_autofree char *prefix = g_strdup_printf("plans.%s", pl->name);
		size_t shown = dump_group_with(prefix, plan_settings, G_N_ELEMENTS(plan_settings),
					       pl, only_changed, 0);
		g_autofree char *sprefix = g_strdup_printf("%s.severity_hours", prefix);
		shown +=
			dump_group_with(sprefix, severity_settings, G_N_ELEMENTS(severity_settings),
					pl, only_changed, pl->resolution_minutes);
		if (shown == 0)
			printf("%s = { }\n", prefix); /* the plan itself is not a default */
	}
	for (size_t i = 0; i < cfg->n_calendars && !(only_changed && cfg->default_calendar); i++)
		printf("calendars.%s = { timezone = \"%s\"; %.1f working hours a week }%s\n",
		       wt_calendar_name(cfg->calendars[i]), wt_calendar_timezone(cfg->calendars[i]),
		       (double)wt_calendar_week_seconds(cfg->calendars[i]) / 3600.0,
		       cfg->default_calendar ? " (built in: no calendars set)" : "");
	fflush(stdout);
}

void cfg_dump(const Config *cfg)
{
	dump(cfg, false);
}

void cfg_dump_changed(const Config *cfg)
{
	dump(cfg, true);
}

/* The placeholder the example configuration (conf/deskmail.conf) ships. */
#define CFG_PLACEHOLDER_PASSWORD "change-me"

int cfg_check_placeholders(const Config *cfg, DmError *err)
{
	const char *which = NULL;
	g_autofree char *mbw = NULL;
	for (size_t i = 0; i < cfg->n_mailboxes && which == NULL; i++) {
		const char *pw = cfg->mailboxes[i].password;
		if (pw && strcmp(pw, CFG_PLACEHOLDER_PASSWORD) == 0)
			which = mbw = cfg->mailbox_list
					      ? g_strdup_printf("mailboxes.[%zu].password", i)
					      : g_strdup("imap.password");
	}
	if (which == NULL && cfg->smtp_password &&
	    strcmp(cfg->smtp_password, CFG_PLACEHOLDER_PASSWORD) == 0)
		which = "smtp.password";
	if (which == NULL && cfg->db_conninfo && strstr(cfg->db_conninfo, CFG_PLACEHOLDER_PASSWORD))
		which = "database.conninfo";
	if (which == NULL)
		return 0;
	return dm_error_set(err, DM_ECONFIG,
			    "%s: setting '%s' is still the example's placeholder \"%s\": "
			    "put the real password in a password_file",
			    cfg->path, which, CFG_PLACEHOLDER_PASSWORD);
}
