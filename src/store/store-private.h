/* store-private.h - shared by the files of src/store only: the libpq
 * boundary of db.c (statements, results, the pipeline, transactions) that
 * the typed store functions are written with.  Nothing outside src/store
 * sees a statement or a result. */
#ifndef DESKMAIL_STORE_PRIVATE_H
#define DESKMAIL_STORE_PRIVATE_H

#include <glib.h>

#include "deskmail/store.h"

typedef struct DbRes DbRes;

/* ---- one statement at a time ----
 * Every statement is a constant string with $n parameters, prepared once per
 * connection and cached (re-prepared after a reconnect).  Parameters are
 * text (NULL entries are SQL NULL), except where db_exec_bin gives lengths
 * and formats (format 1 = binary, for bytea).  If res_r is not NULL the
 * result is returned there (free with dbres_free).  In pipeline mode these
 * queue the statement, send a sync and wait for its result. */
int db_exec(Db *db, const char *sql, int n, const char *const *params, DbRes **res_r, DmError *err);
int db_exec_bin(Db *db, const char *sql, int n, const char *const *params, const int *lengths,
		const int *formats, DbRes **res_r, DmError *err);
/* A script of several statements without parameters (migrations only). */
int db_exec_script(Db *db, const char *sql, DmError *err);

/* ---- the pipeline ----
 * In pipeline mode statements are queued without waiting for their
 * results; db_sync marks the end of a unit (inside BEGIN it does not
 * commit), db_wait reads every result up to the last sync.  A failed
 * statement makes the rest of its unit fail unrun (PostgreSQL skips to the
 * sync), and db_wait reports the first failure of all it read. */
void db_pipeline_enter(Db *db);
void db_pipeline_leave(Db *db); /* waits for what is queued first */
bool db_in_pipeline(const Db *db);
/* Queue a statement; its result goes to *res_r when read (NULL: dropped).
 * result_binary: ask for binary results (bytea as bytes, int8 big-endian). */
int db_send(Db *db, const char *sql, int n, const char *const *params, const int *lengths,
	    const int *formats, bool result_binary, DbRes **res_r, DmError *err);
/* Queue a statement that is not worth preparing (BEGIN, SAVEPOINT, ...). */
int db_send_simple(Db *db, const char *sql, DmError *err);
int db_sync(Db *db, DmError *err);
/* Read everything queued.  0, or the kind of the first failure (its text in
 * err); *constraint_r (may be NULL) gets the violated constraint's name of
 * that failure, or "" (at most 64 bytes). */
int db_wait(Db *db, char constraint_r[64], DmError *err);
/* Statements queued and not read yet. */
bool db_pending(const Db *db);

/* ---- transactions (outside pipeline mode) ---- */
int db_begin(Db *db, DmError *err);
int db_commit(Db *db, DmError *err);
/* Never fails from the caller's view; safe when no transaction is open. */
void db_rollback(Db *db);

/* ---- results ---- */
int dbres_rows(const DbRes *r);
/* Borrowed text of a field; NULL for SQL NULL. */
const char *dbres_get(const DbRes *r, int row, int col);
/* A copy (g_strdup) of a field, NULL for SQL NULL. */
char *dbres_dup(const DbRes *r, int row, int col);
/* Field as integer; def for NULL or junk (text results). */
int64_t dbres_i64(const DbRes *r, int row, int col, int64_t def);
bool dbres_bool(const DbRes *r, int row, int col);
/* Binary results: an int8/int4 field, and a bytea's bytes (borrowed). */
int64_t dbres_bin_i64(const DbRes *r, int row, int col);
const unsigned char *dbres_bin(const DbRes *r, int row, int col, size_t *len_r);
void dbres_free(DbRes *r);

/* ---- parameters ---- */
typedef char NumBuf[24]; /* room for the text of an int64 */
/* "%lld" of an int64 into a caller buffer (NULL when v is 0 and zero_null). */
const char *i64s(char buf[24], int64_t v);
const char *i64n(char buf[24], int64_t v); /* NULL for 0 */
/* A PostgreSQL array literal of n strings (NULL items are SQL NULL);
 * g_free. */
char *pg_array(const char *const *items, size_t n);

/* ---- binary array parameters (array.c) ----
 * Build one array, add its elements, finish it into a g_malloc'd buffer to
 * pass with format 1 (binary). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT4 23
#define OID_TEXT 25
typedef struct {
	GByteArray *buf;
	unsigned elem_oid;
	int n;
	bool has_null;
} BinArray;
void bin_array_init(BinArray *a, unsigned elem_oid);
void bin_array_add(BinArray *a, const void *data, int len); /* data NULL: SQL NULL */
void bin_array_text(BinArray *a, const char *s);            /* NULL: SQL NULL */
void bin_array_i64(BinArray *a, int64_t v, bool null_if_zero);
void bin_array_i32(BinArray *a, int32_t v);
void bin_array_bool(BinArray *a, bool v);
char *bin_array_finish(BinArray *a, int *len_r);

/* ---- a ticket's facts (ticket.c) ----
 * TICKET_FACT_COLUMNS over FROM ticket t TICKET_FACT_JOINS: everything the
 * planner needs of a ticket; read back with read_ticket_fact from its first
 * column (TICKET_FACT_NCOLS columns). */
#define TICKET_FACT_COLUMNS                                                                        \
	"t.id, t.client_id, t.contact_id, t.subject, t.status, t.severity, t.category, t.line, "   \
	"t.assignee_id, t.chargeable, t.first_response_at IS NOT NULL, t.closed_at IS NOT NULL, "  \
	"(extract(epoch FROM t.closed_at) * 1000000)::bigint, "                                    \
	"to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), tc.name, "        \
	"tc.plan, tc.account_manager_id, tco.email, tco.name, lm.message_id, "                     \
	"array_to_string(lm.refs[greatest(1, cardinality(lm.refs) - 18):], ' '), lb.body, "        \
	"tc.calendar, t.mailbox"
#define TICKET_FACT_NCOLS 24
/* the client's latest mail with a Message-ID (threading a relay), and the
 * latest client text (for a handover) */
#define TICKET_FACT_JOINS                                                                          \
	" LEFT JOIN client tc ON tc.id = t.client_id LEFT JOIN contact tco ON tco.id = "           \
	"t.contact_id LEFT JOIN LATERAL (SELECT m.message_id, m.refs FROM message m WHERE "        \
	"m.ticket_id = t.id AND m.direction = 'in' AND m.author_kind = 'contact' AND "             \
	"m.message_id IS NOT NULL ORDER BY m.id DESC LIMIT 1) lm ON true LEFT JOIN LATERAL "       \
	"(SELECT m.body FROM message m WHERE m.ticket_id = t.id AND m.author_kind = 'contact' "    \
	"ORDER BY m.id DESC LIMIT 1) lb ON true "

void read_ticket_fact(const DbRes *r, int row, int col, TicketFact *t);

/* A plan of events and mail only (no incoming mail), inside the caller's
 * transaction, waited for (ingest.c). */
int store_apply_plan_now(Db *db, const Plan *p, DmError *err);
/* The same, with more rows of the caller's queued after the plan's in the
 * same pipeline (more may be NULL). */
typedef int (*StoreMoreRows)(Db *db, const void *ctx, DmError *err);
int store_apply_plan_with(Db *db, const Plan *p, StoreMoreRows more, const void *ctx, DmError *err);

#endif
