/* array.c - PostgreSQL arrays as binary parameters.
 *
 * A plan writes several rows of one table at once through unnest() over
 * array parameters.  Sent in PostgreSQL's binary array format they need no
 * quoting here and no parsing there, and bytea elements (raw mail) travel
 * as they are, not as text.  The format is array_recv's: dimensions, a
 * has-null flag, the element type, then each element as a 4-byte length
 * (-1 for NULL) and its bytes, all integers big-endian. */
#include <endian.h>
#include <string.h>

#include "store-private.h"

/* The header: ndim, flags, element type, dimension, lower bound. */
#define HEADER_BYTES 20

void bin_array_init(BinArray *a, unsigned elem_oid)
{
	a->buf = g_byte_array_new();
	/* room for the header, written by bin_array_finish, so that the
	 * elements (raw mail, megabytes) are never copied again */
	g_byte_array_set_size(a->buf, HEADER_BYTES);
	a->elem_oid = elem_oid;
	a->n = 0;
	a->has_null = false;
}

static void put32(GByteArray *b, uint32_t v)
{
	v = htobe32(v);
	g_byte_array_append(b, (const guint8 *)&v, 4);
}

void bin_array_add(BinArray *a, const void *data, int len)
{
	if (data == NULL) {
		put32(a->buf, (uint32_t)-1);
		a->has_null = true;
	} else {
		put32(a->buf, (uint32_t)len);
		g_byte_array_append(a->buf, data, (guint)len);
	}
	a->n++;
}

void bin_array_text(BinArray *a, const char *s)
{
	bin_array_add(a, s, s ? (int)strlen(s) : 0);
}

void bin_array_i64(BinArray *a, int64_t v, bool null_if_zero)
{
	if (null_if_zero && v == 0) {
		bin_array_add(a, NULL, 0);
		return;
	}
	uint64_t be = htobe64((uint64_t)v);
	bin_array_add(a, &be, 8);
}

void bin_array_i32(BinArray *a, int32_t v)
{
	uint32_t be = htobe32((uint32_t)v);
	bin_array_add(a, &be, 4);
}

void bin_array_bool(BinArray *a, bool v)
{
	guint8 b = v ? 1 : 0;
	bin_array_add(a, &b, 1);
}

static void set32(guint8 *at, uint32_t v)
{
	v = htobe32(v);
	memcpy(at, &v, 4);
}

char *bin_array_finish(BinArray *a, int *len_r)
{
	GByteArray *b = a->buf;
	a->buf = NULL;
	if (a->n == 0) {
		/* no dimensions: the empty array, 12 bytes */
		set32(b->data, 0);
		set32(b->data + 4, 0);
		set32(b->data + 8, a->elem_oid);
		g_byte_array_set_size(b, 12);
	} else {
		set32(b->data, 1);
		set32(b->data + 4, a->has_null ? 1 : 0);
		set32(b->data + 8, a->elem_oid);
		set32(b->data + 12, (uint32_t)a->n);
		set32(b->data + 16, 1); /* lower bound */
	}
	*len_r = (int)b->len;
	return (char *)g_byte_array_free(b, FALSE);
}
