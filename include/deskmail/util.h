/* util.h - small helpers with no third-party headers.
 *
 * The allocator convention of the whole program: every buffer or string a
 * deskmail function hands to its caller is allocated with GLib (g_malloc,
 * g_new, g_strdup, GString) and freed with g_free, or with the _free or
 * _clear function of its type when it has one.  Running out of memory
 * aborts, as g_malloc does; nothing checks for NULL after an allocation.
 * Memory that a library owns is given back to that library where it is
 * taken (PQclear, curl_slist_free_all, g_object_unref) and never escapes
 * its layer. */
#ifndef DESKMAIL_UTIL_H
#define DESKMAIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a whole decimal integer in [min,max].  Returns 0, or -1 (and leaves
 * *out_r untouched) on junk, trailing characters or range. */
int dm_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out_r);

/* Read a whole file into a NUL-terminated buffer (g_free).
 * Fails with -1 and errno if the file is larger than max_bytes. */
int dm_read_file(const char *path, size_t max_bytes, char **data_r, size_t *len_r);

/* Read all of a file descriptor, at most max_bytes (then -1, errno=EFBIG). */
int dm_read_fd(int fd, size_t max_bytes, char **data_r, size_t *len_r);

/* The desk's clock (src/util/clock.c): DESKMAIL_NOW, an ISO 8601 instant
 * ("2026-12-24T16:00:00Z"), when it is set, else the real time.  Read once
 * by dm_clock_init (-1 and a g_malloc'd message on a bad value); dm_now is
 * Unix seconds, dm_now_usec microseconds; dm_now_fixed is the fixed instant
 * as "YYYY-MM-DDTHH:MM:SSZ", or NULL when the clock is real. */
int dm_clock_init(char **err_r);
int64_t dm_now(void);
int64_t dm_now_usec(void);
const char *dm_now_fixed(void);

/* Lower-case an ASCII e-mail address in place and return it. */
char *dm_ascii_lower(char *s);

/* Copy s into a new string with every CR, LF and other C0 control replaced
 * by a space (for anything that ends up in an outgoing header).  g_free. */
char *dm_header_safe(const char *s);

/* CRLF and lone CR to LF, in place; returns s. */
char *dm_lf_newlines(char *s);

/* Hex SHA-256 of a buffer into out[65]. */
void dm_sha256_hex(const void *data, size_t len, char out[65]);

/* true if s is a plausible bare addr-spec (local@domain, no spaces/brackets). */
bool dm_addr_valid(const char *s);

/* True when `host` (a URL's host part, as a URL parser returns it) is this
 * machine's loopback by its address, not by its look: "localhost" exactly
 * (any case), a dotted-decimal IPv4 address in 127.0.0.0/8 (four decimal
 * parts, no leading zeros), or the IPv6 loopback "[::1]" (any spelling of
 * ::1, with or without brackets).  Everything else is false, and so are
 * forms that are loopback to some resolvers and not to others: a trailing
 * dot ("localhost." goes to DNS: glibc's files backend does not match it,
 * and curl 7.88 answers only "localhost" itself without a lookup), short or
 * hex IPv4 ("127.1", "0x7f.1": pass what curl's URL parser made of them,
 * which is dotted decimal), "127.0.0.1." and the IPv4-mapped
 * "[::ffff:127.0.0.1]".  NULL is false. */
bool dm_host_is_loopback(const char *host);

/* A named point where a crash test may stop the process: with
 * DESKMAIL_FAILPOINTS="name:N[,name:N...]" the Nth arrival kills it with
 * SIGKILL.  Costs one comparison when the variable is unset. */
void dm_failpoint(const char *name);

/* The folder of deskmail's own data (sql/ and templates/): $DESKMAIL_DATADIR
 * when it is set and not empty (a staged installation, tests), else the one
 * compiled in, <prefix>/share/deskmail.  Borrowed. */
const char *dm_datadir(void);

#endif
