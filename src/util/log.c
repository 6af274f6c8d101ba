/* log.c - levels, one line per call, stderr (journal-friendly) or syslog.
 * The macros in log.h check the level before any formatting happens.
 *
 * Under systemd (stderr is the journal's stream: $JOURNAL_STREAM names its
 * device and inode) each line starts with the sd-daemon priority prefix
 * ("<3>" error ... "<7>" debug, as sd-daemon.h defines them), so that
 * `journalctl -p` can filter, and carries no timestamp: the journal has
 * its own.  Elsewhere a line is "TIME deskmail LEVEL: text". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "deskmail/log.h"

int dm_log_level = DM_LOG_INFO;
bool dm_log_level_fixed;
static int use_syslog;

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error"};

int dm_log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "warn") == 0)
		return DM_LOG_WARN;
	if (strcmp(name, "err") == 0)
		return DM_LOG_ERR;
	return -1;
}

/* sd-daemon.h's SD_ERR .. SD_DEBUG are syslog's LOG_ERR .. LOG_DEBUG */
static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR};

bool dm_log_journald(void)
{
	static int known = -1;
	if (known >= 0)
		return known;
	known = 0;
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char tail;
	struct stat st;
	if (js && sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0)
		known = (unsigned long long)st.st_dev == dev &&
			(unsigned long long)st.st_ino == ino;
	return known;
}

void dm_log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_MAIL);
	use_syslog = 1;
}

void dm_log_write(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (level < 0)
		level = 0;
	if (level > DM_LOG_ERR)
		level = DM_LOG_ERR;
	if (use_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	if (dm_log_journald()) {
		fprintf(stderr, "<%d>%s: %s\n", prio[level], level_names[level], line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s deskmail %s: %s\n", stamp, level_names[level], line);
}

void dm_log_fatal(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (use_syslog)
		syslog(LOG_ERR, "%s", line);
	if (dm_log_journald())
		fprintf(stderr, "<%d>deskmail: %s\n", LOG_ERR, line);
	else
		fprintf(stderr, "deskmail: %s\n", line);
}
