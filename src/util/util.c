/* util.c - number parsing, whole-file reads, header-safe strings, hashing,
 * whether a host is loopback (the one definition that imap/, smtp/ and
 * config/ share) and where deskmail's own data is installed.  Numbers from
 * input are parsed here only (no atoi anywhere). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deskmail/util.h"
#include "dm_build.h"

int dm_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out_r)
{
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out_r = v;
	return 0;
}

int dm_read_fd(int fd, size_t max_bytes, char **data_r, size_t *len_r)
{
	size_t cap = 8192, len = 0;
	char *buf = g_malloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap > max_bytes) {
				g_free(buf);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			buf = g_realloc(buf, cap + 1);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			g_free(buf);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_bytes) {
			g_free(buf);
			errno = EFBIG;
			return -1;
		}
	}
	buf[len] = '\0';
	*data_r = buf;
	*len_r = len;
	return 0;
}

int dm_read_file(const char *path, size_t max_bytes, char **data_r, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = dm_read_fd(fd, max_bytes, data_r, len_r);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

char *dm_ascii_lower(char *s)
{
	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

char *dm_header_safe(const char *s)
{
	if (s == NULL)
		return NULL;
	char *out = g_strdup(s);
	for (unsigned char *p = (unsigned char *)out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return out;
}

void dm_sha256_hex(const void *data, size_t len, char out[65])
{
	gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
	memcpy(out, hex, 64);
	out[64] = '\0';
	g_free(hex);
}

bool dm_addr_valid(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 320)
		return false;
	const char *at = strrchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '<' || *p == '>' || *p == '(' || *p == ')' || *p == ',' ||
		    *p == ';' || *p == '"' || *p == '\\' || *p == 0x7f)
			return false;
	return true;
}

bool dm_host_is_loopback(const char *host)
{
	if (host == NULL)
		return false;
	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return true;
	/* inet_pton takes only the strict forms: for AF_INET four decimal
	 * parts without leading zeros (never inet_aton's "127.1" or "0x7f.1",
	 * nor a trailing dot or text), for AF_INET6 no zone and no brackets */
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	struct in6_addr a6;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

char *dm_lf_newlines(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

const char *dm_datadir(void)
{
	const char *env = getenv("DESKMAIL_DATADIR");
	return env != NULL && *env != '\0' ? env : PKGDATADIR;
}
