/* test_token.c - OAuth2 tokens from files and commands (src/util/token.c):
 * what counts as a token, when a file is read again, the command's cache,
 * its exit status, timeout and output cap, and the modes a token file may
 * not have.  Commands are real programs (sh, printf, sleep), run without a
 * shell unless the test names one. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deskmail/log.h"
#include "deskmail/token.h"

static char *tmpdir;

static void tmp_setup(void)
{
	GError *gerr = NULL;
	tmpdir = g_dir_make_tmp("dmtok-XXXXXX", &gerr);
	g_assert_no_error(gerr);
}

static void tmp_teardown(void)
{
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	const char *n;
	while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(tmpdir, n, NULL);
		g_unlink(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
}

/* Write tmpdir/name with `mode`, replacing it (a new inode, as a refresher
 * that renames its new file into place).  g_free the path. */
static char *put(const char *name, const char *text, int mode)
{
	char *path = g_build_filename(tmpdir, name, NULL);
	GError *gerr = NULL;
	g_file_set_contents(path, text, -1, &gerr);
	g_assert_no_error(gerr);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
	return path;
}

static void test_file(void)
{
	static const struct {
		const char *content;
		const char *want; /* NULL = DM_ETEMP */
	} cases[] = {
		{"ya29.a0AfH6SMB\n", "ya29.a0AfH6SMB"},
		{"  eyJ0eXAi.eyJhdWQi.c2ln==\r\n\n", "eyJ0eXAi.eyJhdWQi.c2ln=="},
		{"tok", "tok"},
		{"", NULL},
		{" \n\t\n", NULL},
		{"two\nlines\n", NULL},
		{"with space\n", NULL},
		{"caf\xc3\xa9\n", NULL},
	};
	tmp_setup();
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = put("token", cases[i].content, 0600);
		DmToken *t = dm_token_new(path, NULL, 5);
		const char *tok = NULL;
		DmError err = {0};
		int rc = dm_token_get(t, &tok, &err);
		g_test_message("%zu: %d %s", i, rc, err.msg);
		if (cases[i].want == NULL) {
			g_assert_cmpint(rc, ==, DM_ETEMP);
			g_assert_nonnull(strstr(err.msg, path));
		} else {
			g_assert_cmpint(rc, ==, 0);
			g_assert_cmpstr(tok, ==, cases[i].want);
		}
		dm_token_free(t);
	}

	/* read again only when the file changed */
	g_autofree char *path = put("token", "first\n", 0600);
	DmToken *t = dm_token_new(path, NULL, 5);
	const char *tok = NULL;
	DmError err = {0};
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpstr(tok, ==, "first");
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpuint(dm_token_fetches(t), ==, 1);
	g_free(put("token", "second\n", 0640)); /* group may read */
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpstr(tok, ==, "second");
	g_assert_cmpuint(dm_token_fetches(t), ==, 2);
	/* a refresh reads it even when unchanged, and says so */
	bool changed = true;
	g_assert_cmpint(dm_token_refresh(t, &changed, &err), ==, 0);
	g_assert_false(changed);
	g_assert_cmpuint(dm_token_fetches(t), ==, 3);

	/* others may neither read nor write it */
	g_assert_cmpint(g_chmod(path, 0604), ==, 0);
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, DM_EAUTH);
	g_assert_nonnull(strstr(err.msg, "readable by others (mode 0604)"));
	dm_error_clear(&err);
	g_assert_cmpint(g_chmod(path, 0602), ==, 0);
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, DM_EAUTH);
	g_assert_nonnull(strstr(err.msg, "writable by others"));
	dm_error_clear(&err);
	/* gone: temporary (the refresher may be about to write it) */
	g_unlink(path);
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, DM_ETEMP);
	g_assert_nonnull(strstr(err.msg, "No such file"));
	dm_error_clear(&err);
	/* not a regular file */
	g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, DM_EAUTH);
	g_rmdir(path);
	dm_error_clear(&err);
	/* too big */
	g_autofree char *big = g_strnfill(DM_TOKEN_MAX + 1, 'x');
	g_free(put("token", big, 0600));
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, DM_ETEMP);
	g_test_message("%s", err.msg);
	dm_token_free(t);

	g_assert_null(dm_token_new(NULL, NULL, 5));
	g_assert_null(dm_token_new("/a", "b", 5));
	tmp_teardown();
}

static void test_command(void)
{
	tmp_setup();
	/* prints the number of times it ran: a token that changes per run */
	g_autofree char *count = g_build_filename(tmpdir, "count", NULL);
	g_autofree char *cmd = g_strdup_printf(
		"sh -c 'n=$(cat \"$1\" 2>/dev/null || echo 0); n=$((n+1)); echo $n >\"$1\"; "
		"echo \"  tok-$n\"; echo \"run $n\" >&2' sh '%s'",
		count);
	DmToken *t = dm_token_new(NULL, cmd, 5);
	const char *tok = NULL;
	DmError err = {0};
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpstr(tok, ==, "tok-1");
	/* kept in memory: not run again for the next login */
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpstr(tok, ==, "tok-1");
	g_assert_cmpuint(dm_token_fetches(t), ==, 1);
	/* refused: run again */
	bool changed = false;
	g_assert_cmpint(dm_token_refresh(t, &changed, &err), ==, 0);
	g_assert_true(changed);
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpstr(tok, ==, "tok-2");
	g_assert_cmpuint(dm_token_fetches(t), ==, 2);
	g_assert_nonnull(strstr(dm_token_source(t), "token command `sh -c"));
	dm_token_free(t);

	/* no shell unless written: the words are the program's arguments */
	t = dm_token_new(NULL, "printf '%s\\n' 'a;b'", 5);
	g_assert_cmpint(dm_token_get(t, &tok, &err), ==, 0);
	g_assert_cmpstr(tok, ==, "a;b");
	dm_token_free(t);

	static const struct {
		const char *cmd;
		int kind;
		const char *msg;
	} bad[] = {
		{"sh -c 'echo \"invalid_grant: token revoked\" >&2; exit 3'", DM_ETEMP,
		 "exited with status 3: invalid_grant: token revoked"},
		{"sh -c 'kill -TERM $$'", DM_ETEMP, "was killed by signal 15"},
		{"true", DM_ETEMP, "printed no usable token: holds no token"},
		{"printf 'a b\\n'", DM_ETEMP, "must hold the token alone"},
		{"printf 'a\\nb\\n'", DM_ETEMP, "must hold the token alone"},
		{"sh -c 'exec 2>&-; sleep 30'", DM_ETEMP, "ran longer than 1 s and was killed"},
		{"sh -c 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'", DM_ETEMP,
		 "printed more than 17408 bytes and was killed"},
		{"'unterminated", DM_EAUTH, "cannot be split into words"},
		{"/nonexistent/refresh-token", DM_EAUTH, "cannot be run"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		t = dm_token_new(NULL, bad[i].cmd, 1);
		DmError e = {0};
		gint64 t0 = g_get_monotonic_time();
		int rc = dm_token_get(t, &tok, &e);
		gint64 took = g_get_monotonic_time() - t0;
		g_test_message("%s -> %d %s (%.2f s)", bad[i].cmd, rc, e.msg, took / 1e6);
		g_assert_cmpint(rc, ==, bad[i].kind);
		g_assert_nonnull(strstr(e.msg, bad[i].msg));
		g_assert_cmpint(took, <, 5 * G_USEC_PER_SEC);
		dm_token_free(t);
	}
	tmp_teardown();
}

/* Whether a live (not zombie) process is in process group pgid, from
 * /proc/PID/stat: "pid (comm) state ppid pgrp ...". */
static bool group_alive(long pgid)
{
	GDir *d = g_dir_open("/proc", 0, NULL);
	g_assert_nonnull(d);
	const char *n;
	bool alive = false;
	while (!alive && (n = g_dir_read_name(d)) != NULL) {
		if (!g_ascii_isdigit(n[0]))
			continue;
		g_autofree char *p = g_build_filename("/proc", n, "stat", NULL);
		g_autofree char *stat = NULL;
		if (!g_file_get_contents(p, &stat, NULL, NULL))
			continue; /* gone meanwhile */
		const char *r = strrchr(stat, ')');
		char state = 0;
		long ppid = 0, pgrp = 0;
		if (r != NULL && sscanf(r + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 &&
		    pgrp == pgid && state != 'Z' && state != 'X')
			alive = true;
	}
	g_dir_close(d);
	return alive;
}

/* The pid a command wrote to `file`, which is its process group. */
static long read_pid(const char *file)
{
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
	long pid = strtol(text, NULL, 10);
	g_assert_cmpint(pid, >, 1);
	return pid;
}

/* Commands that leave processes behind: the call returns by the timeout
 * whatever they do with their output, and nothing of the command's process
 * group is left running afterwards. */
static void test_command_lingering(void)
{
	tmp_setup();
	g_autofree char *pidfile = g_build_filename(tmpdir, "pid", NULL);
	static const struct {
		const char *script;
		int timeout;
		const char *token; /* or NULL: this error */
		const char *msg;
	} cases[] = {
		/* prints the token, closes its output and goes on running: the
		 * direct child never exits, so it is a timeout */
		{"echo $$ >\"$1\"; echo tok; exec >&- 2>&-; sleep 30", 1, NULL,
		 "ran longer than 1 s and was killed"},
		/* exits at once, but a background child keeps standard output
		 * open: the token is taken when the command exits, and the child
		 * is killed */
		{"echo $$ >\"$1\"; (sleep 30 &); echo tok", 5, "tok", NULL},
		/* the same, with the child's output elsewhere */
		{"echo $$ >\"$1\"; (sleep 30 >/dev/null 2>&1 &); echo tok", 5, "tok", NULL},
		/* exits, leaving a child that never stops writing: the deadline
		 * still ends the reading */
		{"echo $$ >\"$1\"; (yes noise >&2 &); echo tok", 1, "tok", NULL},
		/* fails, leaving a child behind */
		{"echo $$ >\"$1\"; (sleep 30 &); echo tok; exit 4", 5, NULL,
		 "exited with status 4"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_unlink(pidfile);
		g_autofree char *cmd =
			g_strdup_printf("sh -c '%s' sh '%s'", cases[i].script, pidfile);
		DmToken *t = dm_token_new(NULL, cmd, cases[i].timeout);
		const char *tok = NULL;
		DmError e = {0};
		gint64 t0 = g_get_monotonic_time();
		int rc = dm_token_get(t, &tok, &e);
		gint64 took = g_get_monotonic_time() - t0;
		g_test_message("%s -> %d %s (%.2f s)", cmd, rc, e.msg, took / 1e6);
		g_assert_cmpint(took, <, (cases[i].timeout + 1) * G_USEC_PER_SEC);
		if (cases[i].token != NULL) {
			g_assert_cmpint(rc, ==, 0);
			g_assert_cmpstr(tok, ==, cases[i].token);
			/* not held up until the timeout by the child */
			g_assert_cmpint(took, <, 3 * G_USEC_PER_SEC);
		} else {
			g_assert_cmpint(rc, ==, DM_ETEMP);
			g_assert_nonnull(strstr(e.msg, cases[i].msg));
		}
		long pgid = read_pid(pidfile);
		/* SIGKILL'd processes may take a moment to be gone */
		for (int k = 0; k < 100 && group_alive(pgid); k++)
			g_usleep(10000);
		g_assert_false(group_alive(pgid));
		dm_token_free(t);
	}
	tmp_teardown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	dm_log_level = DM_LOG_ERR; /* the commands' stderr lines */
	g_test_add_func("/token/file", test_file);
	g_test_add_func("/token/command", test_command);
	g_test_add_func("/token/command-lingering", test_command_lingering);
	return g_test_run();
}
