/* token.h - an OAuth2 access token handed over by an external refresher,
 * for the bearer logins of src/imap/ and src/smtp/ (XOAUTH2, OAUTHBEARER).
 *
 * deskmail does not speak to Microsoft's or Google's token endpoints: a
 * refresher does (a cron job writing a file, or a command printing a fresh
 * token), and this module takes the token from there.  Nothing is read or
 * run when the source is made (so not at configuration load): only when a
 * login needs a token.  No third-party headers; allocates with GLib. */
#ifndef DESKMAIL_TOKEN_H
#define DESKMAIL_TOKEN_H

#include <stdbool.h>

#include "deskmail/err.h"

/* Caps: the token (Microsoft's access tokens are JWTs of a few KiB,
 * Google's a few hundred bytes), and what is kept of the command's
 * standard error. */
#define DM_TOKEN_MAX 16384
#define DM_TOKEN_STDERR_MAX 4096

typedef struct DmToken DmToken;

/* A token source: exactly one of `file` (an absolute path) and `command`
 * (split into argv with g_shell_parse_argv and run without a shell unless
 * the command names one; a program without '/' is looked up in PATH), and
 * `timeout`, the seconds the command may take (<= 0: 60).  Strings are
 * copied.  NULL when both or neither are given. */
DmToken *dm_token_new(const char *file, const char *command, int timeout);
void dm_token_free(DmToken *t);

/* The token for the next login, borrowed until the next call or
 * dm_token_free.  A file is read again whenever it changed since the last
 * read (its inode, size or modification time: a refresher that renames a
 * new file into place, or rewrites it); a command's output is kept in
 * memory and the command runs only when there is none yet (or after
 * dm_token_refresh).  The token is the file's content or the command's
 * standard output, surrounding white space removed: one word of visible
 * ASCII, at most DM_TOKEN_MAX bytes.  The command's standard error goes to
 * the log, line by line (notice level; warning when the command failed).
 * Returns 0; DM_ECONFIG when the file is not a regular file or is readable
 * or writable by others, or when the command cannot be parsed or started;
 * DM_ETEMP when the file cannot be read or holds no token, or the command
 * fails, runs past its timeout (it is then killed) or prints no token or
 * too much.  The message names the source, never the token. */
int dm_token_get(DmToken *t, const char **token_r, DmError *err);

/* After the server refused the token: read the file again, or run the
 * command again, whatever the cache says.  *changed_r tells whether the
 * token differs from the one given out last (when it does not, logging in
 * again with it is pointless).  Returns as dm_token_get. */
int dm_token_refresh(DmToken *t, bool *changed_r, DmError *err);

/* "token file /path" or "token command `cmd`", for messages.  Borrowed. */
const char *dm_token_source(const DmToken *t);

/* How often the file was read or the command run: for tests. */
unsigned dm_token_fetches(const DmToken *t);

#endif
