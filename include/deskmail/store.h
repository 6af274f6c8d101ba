/* store.h - PostgreSQL access.  src/store/ is the only includer of
 * libpq-fe.h: the rest of the program sees Db, DbRes and DmError kinds.
 *
 * SQL is never built from input: every statement is a constant string with
 * $n parameters, prepared once per connection and cached (re-prepared after
 * a reconnect).  Parameters are text, except through db_exec_bin for bytea.
 *
 * Error kinds: DM_ETEMP for connection loss, server shutdown, serialization
 * failures and deadlocks (retry later: an MTA gets EX_TEMPFAIL); DM_EPERM for
 * constraint and data errors (the input is at fault); DM_EINTERNAL else. */
#ifndef DESKMAIL_STORE_H
#define DESKMAIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deskmail/err.h"

typedef struct Db Db;
typedef struct DbRes DbRes;

/* Connect (connect_timeout 10 s unless the conninfo says otherwise).
 * DM_ETEMP if the server cannot be reached. */
int db_connect(const char *conninfo, Db **db_r, DmError *err);
void db_close(Db *db);

/* If the connection was lost, reset it (prepared statements are dropped).
 * Returns DM_ETEMP if it is still down.  *reconnected_r (may be NULL) is set
 * true when a reset happened, so callers re-take session state (locks). */
int db_ensure(Db *db, bool *reconnected_r, DmError *err);

/* Run a statement with n text parameters (NULL entries are SQL NULL).  If
 * res_r is not NULL the result is returned there (free with dbres_free). */
int db_exec(Db *db, const char *sql, int n, const char *const *params, DbRes **res_r, DmError *err);

/* As db_exec, with lengths and formats per parameter (format 1 = binary,
 * for bytea). */
int db_exec_bin(Db *db, const char *sql, int n, const char *const *params, const int *lengths,
		const int *formats, DbRes **res_r, DmError *err);

/* Run a script of several statements (migrations only; no parameters). */
int db_exec_script(Db *db, const char *sql, DmError *err);

int db_begin(Db *db, DmError *err);
int db_commit(Db *db, DmError *err);
/* Never fails from the caller's view; safe when no transaction is open. */
void db_rollback(Db *db);

int dbres_rows(const DbRes *r);
/* Borrowed text of a field; NULL for SQL NULL. */
const char *dbres_get(const DbRes *r, int row, int col);
/* Field as integer; def for NULL or junk. */
int64_t dbres_i64(const DbRes *r, int row, int col, int64_t def);
bool dbres_bool(const DbRes *r, int row, int col);
/* Binary field (bytea in binary result format is not used: this decodes the
 * text form).  Returns a malloc'd buffer the caller frees, or NULL. */
unsigned char *dbres_bytea(const DbRes *r, int row, int col, size_t *len_r);
void dbres_free(DbRes *r);

/* Apply the missing migrations from dir (files NNN_name.sql, in order), each
 * in its own transaction, recorded in schema_migrations.  Serialised by an
 * advisory lock, so concurrent runs are harmless.  *applied_r counts them. */
int db_migrate(Db *db, const char *dir, int *applied_r, DmError *err);

/* The highest applied migration number, 0 if none. */
int db_schema_version(Db *db, int *version_r, DmError *err);

#endif
