/* token.c - an OAuth2 access token from a file or a command.
 *
 * deskmail leaves the OAuth2 dance (consent, refresh tokens, client
 * secrets) to a refresher the operator already trusts, and takes only the
 * short-lived access token from it: a file the refresher rewrites, or a
 * command that prints a fresh token.  The file is read again whenever it
 * changes; a command's token is kept in memory until the server refuses it,
 * because a command may cost a round trip to the identity provider.
 *
 * The command runs without a shell (g_shell_parse_argv, then g_spawn: an
 * operator who wants one writes "sh -c '...'"), with standard input from
 * /dev/null, in a process group of its own, with a timeout (then SIGKILL to
 * the whole group) and caps on what it prints.  The token is taken when the
 * command exits, even if something it started still holds its output; what
 * it leaves running in its group is killed then.  Its
 * standard error is passed to the log, since it has nowhere else to go: this
 * is the one place below desk/ that logs above debug.  A token is a secret:
 * it appears in no message, and copies are wiped before they are freed.
 *
 * A token that cannot be had because of the file or the command (not a
 * regular file, readable by others, a command that cannot be run) is
 * DM_EAUTH, as a refused login: the configuration was good when it was
 * loaded, and the daemon backs off on that mailbox and says it once,
 * rather than ending and taking the other mailboxes with it. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deskmail/log.h"
#include "deskmail/token.h"
#include "deskmail/util.h"

/* What is read from the file or the command before the token is picked
 * out: the token and some white space around it. */
#define TOKEN_READ_MAX (DM_TOKEN_MAX + 1024)
G_STATIC_ASSERT(DM_TOKEN_MAX == 16384); /* as pick_token says */

struct DmToken {
	char *file;    /* or NULL */
	char *command; /* or NULL */
	char *source;  /* for messages */
	int timeout;   /* seconds */
	char *token;   /* the last one read, or NULL */
	bool have_stat;
	struct stat st; /* of the file when it was read */
	unsigned fetches;
};

static void wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	g_free(s);
}

DmToken *dm_token_new(const char *file, const char *command, int timeout)
{
	if ((file == NULL) == (command == NULL))
		return NULL;
	DmToken *t = g_new0(DmToken, 1);
	t->file = g_strdup(file);
	t->command = g_strdup(command);
	t->timeout = timeout > 0 ? timeout : 60;
	t->source = file ? g_strdup_printf("token file %s", file)
			 : g_strdup_printf("token command `%s`", command);
	return t;
}

void dm_token_free(DmToken *t)
{
	if (t == NULL)
		return;
	wipe_free(t->token);
	g_free(t->file);
	g_free(t->command);
	g_free(t->source);
	g_free(t);
}

const char *dm_token_source(const DmToken *t)
{
	return t ? t->source : "(no token source)";
}

unsigned dm_token_fetches(const DmToken *t)
{
	return t ? t->fetches : 0;
}

/* The token in data[0..len): surrounding white space removed, then one
 * word of visible ASCII (RFC 6750's b64token is a subset).  g_free'd by
 * the caller (wipe_free); NULL with a complaint in *why_r. */
static char *pick_token(const char *data, size_t len, const char **why_r)
{
	if (strlen(data) != len) {
		*why_r = "holds a NUL byte";
		return NULL;
	}
	const char *b = data, *e = data + len;
	while (b < e && g_ascii_isspace(*b))
		b++;
	while (e > b && g_ascii_isspace(e[-1]))
		e--;
	if (b == e) {
		*why_r = "holds no token";
		return NULL;
	}
	if ((size_t)(e - b) > DM_TOKEN_MAX) {
		*why_r = "holds a token longer than 16384 bytes";
		return NULL;
	}
	for (const char *p = b; p < e; p++) {
		if (*p <= ' ' || *p >= 0x7f) {
			*why_r = "must hold the token alone, on one line (visible ASCII, no "
				 "spaces)";
			return NULL;
		}
	}
	return g_strndup(b, (gsize)(e - b));
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Read the file when it changed (or always, with force): *token_r is the
 * new token, or NULL when the file is unchanged. */
static int read_file(DmToken *t, bool force, char **token_r, DmError *err)
{
	int fd = open(t->file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return dm_error_set(err, DM_ETEMP, "cannot read the OAuth2 %s: %s", t->source,
				    g_strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return dm_error_set(err, DM_ETEMP, "cannot read the OAuth2 %s: %s", t->source,
				    g_strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dm_error_set(err, DM_EAUTH, "the OAuth2 %s is not a regular file",
				    t->source);
	}
	/* as for password files: a secret others can read is no secret, and
	 * one others can write lets them log us in as someone else */
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		return dm_error_set(err, DM_EAUTH,
				    "the OAuth2 %s is %s by others (mode %04o): chmod o-rw it",
				    t->source, (st.st_mode & S_IROTH) ? "readable" : "writable",
				    (unsigned)(st.st_mode & 07777));
	}
	if (!force && t->token != NULL && t->have_stat && same_file(&st, &t->st)) {
		close(fd);
		*token_r = NULL; /* unchanged */
		return 0;
	}
	char *data = NULL;
	size_t len = 0;
	int rc = dm_read_fd(fd, TOKEN_READ_MAX, &data, &len);
	int e = errno;
	close(fd);
	if (rc < 0) {
		if (e == EFBIG)
			return dm_error_set(err, DM_ETEMP, "the OAuth2 %s is larger than %d bytes",
					    t->source, TOKEN_READ_MAX);
		return dm_error_set(err, DM_ETEMP, "cannot read the OAuth2 %s: %s", t->source,
				    g_strerror(e));
	}
	t->fetches++;
	const char *why = NULL;
	char *tok = pick_token(data, len, &why);
	explicit_bzero(data, len);
	g_free(data);
	if (tok == NULL)
		return dm_error_set(err, DM_ETEMP, "the OAuth2 %s %s", t->source, why);
	t->st = st;
	t->have_stat = true;
	*token_r = tok;
	return 0;
}

/* The command's standard error to the log, a line at a time, with
 * control characters made spaces. */
static void log_stderr(const DmToken *t, const GString *errs, int level)
{
	g_auto(GStrv) lines = g_strsplit(errs->str, "\n", -1);
	for (size_t i = 0; lines[i] != NULL; i++) {
		g_autofree char *safe = dm_header_safe(lines[i]);
		g_strstrip(safe);
		if (*safe != '\0')
			dm_log(level, "%s: %s", t->source, safe);
	}
}

/* The last non-empty line of the command's standard error, for the error
 * message (g_free; "" when there is none). */
static char *last_line(const GString *errs)
{
	g_auto(GStrv) lines = g_strsplit(errs->str, "\n", -1);
	for (size_t i = g_strv_length(lines); i > 0; i--) {
		g_autofree char *safe = dm_header_safe(lines[i - 1]);
		g_strstrip(safe);
		if (*safe != '\0')
			return g_strdup_printf(": %.200s", safe);
	}
	return g_strdup("");
}

/* Whether the child has exited, without reaping it: while it is an
 * unreaped zombie its pid, which is also its process group's id, cannot be
 * taken by another process, so killing the group stays safe. */
static bool child_exited(GPid pid)
{
	siginfo_t si = {0};
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		if (errno != EINTR)
			return true; /* nothing to wait for: do not wait */
	}
	return si.si_pid == pid;
}

/* How often the collect loop looks whether the command has exited while
 * something it started still holds its output open. */
#define EXIT_CHECK_MS 50

/* Read what the child writes on out_fd and err_fd until the child has
 * exited and what it wrote is read, the deadline passes (*timed_out_r) or
 * standard output grows past its cap (*too_much_r).  Standard error past
 * its cap is read and dropped, so that the child does not block on it.
 *
 * The end of the output alone is not the end: a command may close its
 * output and go on running (then the deadline ends it), and a command that
 * exits may leave a background process holding the pipes open.  So reading
 * stops once the child has exited and the pipes have nothing more to read
 * at once (or at the deadline); whatever its leftovers write later is not
 * waited for.  Closes both descriptors. */
static void collect(GPid pid, int out_fd, int err_fd, int timeout, GString *out, GString *errs,
		    bool *timed_out_r, bool *too_much_r)
{
	struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
	int64_t deadline = g_get_monotonic_time() + (int64_t)timeout * G_USEC_PER_SEC;
	bool exited = false;
	for (;;) {
		if (!exited)
			exited = child_exited(pid);
		if (fds[0].fd < 0 && fds[1].fd < 0) {
			if (exited)
				break;
			/* output closed, still running: wait for the exit */
		}
		/* the deadline ends the draining too: something the command left
		 * behind may write without end */
		int64_t left_ms = (deadline - g_get_monotonic_time()) / 1000;
		if (left_ms <= 0) {
			*timed_out_r = !exited;
			break;
		}
		/* once exited, only drain what is there already */
		int wait_ms = exited ? 0 : (int)MIN(left_ms, (int64_t)EXIT_CHECK_MS);
		int n = poll(fds, 2, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 && exited)
			break;
		if (n < 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			char buf[4096];
			ssize_t r = read(fds[i].fd, buf, sizeof buf);
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				continue;
			}
			GString *g = i == 0 ? out : errs;
			size_t cap = i == 0 ? TOKEN_READ_MAX : DM_TOKEN_STDERR_MAX;
			size_t room = g->len < cap ? cap - g->len : 0;
			g_string_append_len(g, buf, (gssize)MIN((size_t)r, room));
			if (i == 0 && (size_t)r > room)
				*too_much_r = true;
		}
		if (*too_much_r)
			break;
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
}

/* In the child, before exec: a process group of its own, so that what it
 * starts can be killed with it. */
static void new_group(gpointer unused)
{
	(void)unused;
	setpgid(0, 0);
}

static int run_command(DmToken *t, char **token_r, DmError *err)
{
	g_auto(GStrv) argv = NULL;
	g_autoptr(GError) ge = NULL;
	if (!g_shell_parse_argv(t->command, NULL, &argv, &ge))
		return dm_error_set(err, DM_EAUTH, "the OAuth2 %s cannot be split into words: %s",
				    t->source, ge->message);
	GPid pid;
	int out_fd = -1, err_fd = -1;
	/* standard input is /dev/null, and descriptors other than 0-2 are
	 * closed in the child (GLib's default) */
	if (!g_spawn_async_with_pipes(NULL, argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, new_group,
				      NULL, &pid, NULL, &out_fd, &err_fd, &ge))
		return dm_error_set(err, DM_EAUTH, "the OAuth2 %s cannot be run: %s", t->source,
				    ge->message);
	/* GLib returns once the child has exec'd, so new_group has run; this
	 * is a harmless no-op then (EACCES), and a safety net otherwise */
	(void)setpgid(pid, pid);
	t->fetches++;
	GString *out = g_string_new(NULL);
	g_autoptr(GString) errs = g_string_new(NULL);
	bool timed_out = false, too_much = false;
	collect(pid, out_fd, err_fd, t->timeout, out, errs, &timed_out, &too_much);
	/* The whole group, always: the command when it ran too long or printed
	 * too much, and in every case what it left behind (a background child
	 * holding the pipe, a helper it forgot).  The child is not reaped yet,
	 * so the group's id is still ours.  A process that left the group
	 * (setsid, a daemon) is beyond reach, as it means to be. */
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
	/* the child has exited or was killed just now: this does not wait long */
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(pid);
	bool ok = !timed_out && !too_much && w == pid && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0;
	log_stderr(t, errs, ok ? DM_LOG_NOTICE : DM_LOG_WARN);

	int rc = 0;
	if (timed_out) {
		rc = dm_error_set(err, DM_ETEMP,
				  "the OAuth2 %s ran longer than %d s and was killed", t->source,
				  t->timeout);
	} else if (too_much) {
		rc = dm_error_set(err, DM_ETEMP,
				  "the OAuth2 %s printed more than %d bytes and was killed",
				  t->source, TOKEN_READ_MAX);
	} else if (!ok) {
		g_autofree char *tail = last_line(errs);
		if (w == pid && WIFSIGNALED(status))
			rc = dm_error_set(err, DM_ETEMP, "the OAuth2 %s was killed by signal %d%s",
					  t->source, WTERMSIG(status), tail);
		else if (w == pid)
			rc = dm_error_set(err, DM_ETEMP, "the OAuth2 %s exited with status %d%s",
					  t->source, WEXITSTATUS(status), tail);
		else
			rc = dm_error_set(err, DM_ETEMP, "the OAuth2 %s: cannot wait for it: %s",
					  t->source, g_strerror(errno));
	} else {
		const char *why = NULL;
		char *tok = pick_token(out->str, out->len, &why);
		if (tok == NULL)
			rc = dm_error_set(err, DM_ETEMP,
					  "the OAuth2 %s printed no usable token: %s", t->source,
					  why);
		else
			*token_r = tok;
	}
	explicit_bzero(out->str, out->len);
	g_string_free(out, TRUE);
	return rc;
}

/* Fetch from the source: the file when it changed (always, with force),
 * the command when there is no token yet (always, with force). */
static int fetch(DmToken *t, bool force, bool *changed_r, DmError *err)
{
	char *tok = NULL;
	int rc = 0;
	*changed_r = false;
	if (t->file)
		rc = read_file(t, force, &tok, err);
	else if (force || t->token == NULL)
		rc = run_command(t, &tok, err);
	if (rc < 0 || tok == NULL)
		return rc;
	*changed_r = t->token == NULL || strcmp(tok, t->token) != 0;
	wipe_free(t->token);
	t->token = tok;
	return 0;
}

int dm_token_get(DmToken *t, const char **token_r, DmError *err)
{
	bool changed;
	int rc = fetch(t, false, &changed, err);
	if (rc < 0)
		return rc;
	*token_r = t->token;
	return 0;
}

int dm_token_refresh(DmToken *t, bool *changed_r, DmError *err)
{
	return fetch(t, true, changed_r, err);
}
