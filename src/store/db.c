/* db.c - the libpq boundary: connection, parameterised statements (prepared
 * once per connection and cached by SQL text), transactions, and the one
 * translation of libpq errors into DmError kinds.
 *
 * It deliberately knows nothing of tickets or mail: the domain's SQL lives in
 * src/desk as constant strings with $n parameters. */
#include <glib.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/log.h"
#include "deskmail/store.h"

struct Db {
	PGconn *conn;
	GHashTable *prepared; /* SQL text -> statement name (both owned) */
	unsigned next_stmt;
	int in_tx;
};

struct DbRes {
	PGresult *res;
};

static void notice_quiet(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %s", message);
}

int db_connect(const char *conninfo, Db **db_r, DmError *err)
{
	/* Later entries override earlier ones: the operator's conninfo (expanded
	 * from "dbname") comes last so it wins over our defaults. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {"10", "deskmail", conninfo, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL)
		abort();
	if (PQstatus(c) != CONNECTION_OK) {
		dm_error_set(err, DM_ETEMP, "database: %s", PQerrorMessage(c));
		PQfinish(c);
		return DM_ETEMP;
	}
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	PGresult *r = PQexec(c, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
	PQclear(r);
	Db *db = g_new0(Db, 1);
	db->conn = c;
	db->prepared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	*db_r = db;
	return 0;
}

void db_close(Db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	g_hash_table_destroy(db->prepared);
	g_free(db);
}

int db_ensure(Db *db, bool *reconnected_r, DmError *err)
{
	if (reconnected_r)
		*reconnected_r = false;
	if (PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	PQreset(db->conn);
	g_hash_table_remove_all(db->prepared);
	db->in_tx = 0;
	if (PQstatus(db->conn) != CONNECTION_OK)
		return dm_error_set(err, DM_ETEMP, "database: %s", PQerrorMessage(db->conn));
	PGresult *r = PQexec(db->conn, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
	PQclear(r);
	if (reconnected_r)
		*reconnected_r = true;
	log_notice("database connection re-established");
	return 0;
}

/* Translate a failed result (or a NULL one) into a DmError kind. */
static int fail(Db *db, PGresult *r, const char *what, DmError *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);
	int kind;
	if (PQstatus(db->conn) != CONNECTION_OK || state == NULL)
		kind = DM_ETEMP; /* connection loss carries no SQLSTATE */
	else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
		 strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
		 strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
		kind = DM_ETEMP;
	else if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		kind = DM_EPERM;
	else
		kind = DM_EINTERNAL;
	char one[768];
	g_strlcpy(one, msg ? msg : "unknown error", sizeof one);
	g_strchomp(one);
	dm_error_set(err, kind, "database %s: %s%s%s%s", what, one, state ? " (SQLSTATE " : "",
		     state ? state : "", state ? ")" : "");
	if (r)
		PQclear(r);
	return kind;
}

static const char *stmt_name(Db *db, const char *sql, DmError *err, int *rc)
{
	const char *name = g_hash_table_lookup(db->prepared, sql);
	*rc = 0;
	if (name)
		return name;
	char buf[32];
	snprintf(buf, sizeof buf, "dm%u", db->next_stmt++);
	PGresult *r = PQprepare(db->conn, buf, sql, 0, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		*rc = fail(db, r, "prepare", err);
		return NULL;
	}
	PQclear(r);
	char *key = g_strdup(sql), *val = g_strdup(buf);
	g_hash_table_insert(db->prepared, key, val);
	return val;
}

int db_exec_bin(Db *db, const char *sql, int n, const char *const *params, const int *lengths,
		const int *formats, DbRes **res_r, DmError *err)
{
	int rc;
	const char *name = stmt_name(db, sql, err, &rc);
	if (name == NULL)
		return rc;
	PGresult *r = PQexecPrepared(db->conn, name, n, params, lengths, formats, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(db, r, "query", err);
	if (res_r) {
		DbRes *res = g_new(DbRes, 1);
		res->res = r;
		*res_r = res;
	} else {
		PQclear(r);
	}
	return 0;
}

int db_exec(Db *db, const char *sql, int n, const char *const *params, DbRes **res_r, DmError *err)
{
	return db_exec_bin(db, sql, n, params, NULL, NULL, res_r, err);
}

int db_exec_script(Db *db, const char *sql, DmError *err)
{
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(db, r, "script", err);
	PQclear(r);
	return 0;
}

static int simple(Db *db, const char *sql, DmError *err)
{
	PGresult *r = PQexec(db->conn, sql);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		return fail(db, r, sql, err);
	PQclear(r);
	return 0;
}

int db_begin(Db *db, DmError *err)
{
	int rc = simple(db, "BEGIN", err);
	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int db_commit(Db *db, DmError *err)
{
	db->in_tx = 0;
	return simple(db, "COMMIT", err);
}

void db_rollback(Db *db)
{
	db->in_tx = 0;
	if (PQstatus(db->conn) != CONNECTION_OK)
		return;
	if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	PGresult *r = PQexec(db->conn, "ROLLBACK");
	PQclear(r);
}

int dbres_rows(const DbRes *r)
{
	return r ? PQntuples(r->res) : 0;
}

const char *dbres_get(const DbRes *r, int row, int col)
{
	if (r == NULL || row >= PQntuples(r->res) || col >= PQnfields(r->res) ||
	    PQgetisnull(r->res, row, col))
		return NULL;
	return PQgetvalue(r->res, row, col);
}

int64_t dbres_i64(const DbRes *r, int row, int col, int64_t def)
{
	const char *s = dbres_get(r, row, col);
	if (s == NULL || *s == '\0')
		return def;
	char *end;
	long long v = strtoll(s, &end, 10);
	return *end == '\0' ? v : def;
}

bool dbres_bool(const DbRes *r, int row, int col)
{
	const char *s = dbres_get(r, row, col);
	return s && (s[0] == 't' || s[0] == '1');
}

unsigned char *dbres_bytea(const DbRes *r, int row, int col, size_t *len_r)
{
	const char *s = dbres_get(r, row, col);
	if (s == NULL)
		return NULL;
	size_t n = 0;
	unsigned char *tmp = PQunescapeBytea((const unsigned char *)s, &n);
	if (tmp == NULL)
		abort();
	unsigned char *out = malloc(n + 1);
	if (out == NULL)
		abort();
	memcpy(out, tmp, n);
	out[n] = '\0';
	PQfreemem(tmp);
	*len_r = n;
	return out;
}

void dbres_free(DbRes *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	g_free(r);
}
