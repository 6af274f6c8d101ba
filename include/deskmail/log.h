/* log.h - the one logging module.  stderr by default, syslog by option.
 * The level is checked before formatting.  Never log passwords or bodies. */
#ifndef DESKMAIL_LOG_H
#define DESKMAIL_LOG_H

#include <stdbool.h>

typedef enum {
	DM_LOG_DEBUG = 0,
	DM_LOG_INFO = 1,
	DM_LOG_NOTICE = 2,
	DM_LOG_WARN = 3,
	DM_LOG_ERR = 4,
} DmLogLevel;

extern int dm_log_level;
/* Set when the command line chose the level (-v, -q): a reload of the
 * configuration (SIGHUP) leaves it alone. */
extern bool dm_log_level_fixed;

/* Parse "debug", "info", "notice", "warning", "error"; -1 if unknown. */
int dm_log_level_parse(const char *name);
void dm_log_use_syslog(const char *ident);

void dm_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message a command ends with when it fails: "deskmail: text" on
 * stderr always (cron mails it, a shell shows it), and to syslog too when
 * it is on; under journald with the error priority prefix. */
void dm_log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when stderr is systemd's journal stream ($JOURNAL_STREAM names its
 * device and inode): lines then carry "<N>" priorities, no timestamp. */
bool dm_log_journald(void);

#define dm_log(level, ...)                                                                         \
	do {                                                                                       \
		if ((level) >= dm_log_level)                                                       \
			dm_log_write((level), __VA_ARGS__);                                        \
	} while (0)
#define log_debug(...) dm_log(DM_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) dm_log(DM_LOG_INFO, __VA_ARGS__)
#define log_notice(...) dm_log(DM_LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) dm_log(DM_LOG_WARN, __VA_ARGS__)
#define log_err(...) dm_log(DM_LOG_ERR, __VA_ARGS__)

#endif
