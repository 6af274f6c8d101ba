/* db.c - the libpq boundary: the connection, statements prepared once per
 * connection and cached by their SQL text, libpq's pipeline mode, and the
 * one translation of libpq errors into DmError kinds.
 *
 * It knows nothing of tickets or mail: the typed functions of the other
 * files in src/store hold the SQL.
 *
 * The pipeline is what makes ingest fast: the statements of one mail are
 * queued and sent together while the desk fetches the next mail, so a mail
 * costs PostgreSQL's time, not a round trip per statement.  PostgreSQL runs
 * queued statements in order and, after a failure, skips to the next sync
 * point (TECH-NOTES, pitfall 14); db_wait reads every result and reports the
 * first failure with its SQLSTATE and constraint, so the caller can roll
 * back to its savepoint and go on. */
#include <endian.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/log.h"
#include "deskmail/util.h"
#include "store-private.h"

typedef enum { PEND_RESULT, PEND_SYNC } PendKind;

typedef struct {
	PendKind kind;
	DbRes **dest;        /* where the result goes, or NULL */
	const char *prepare; /* SQL text of a PQsendPrepare, forgotten if it fails */
} Pending;

struct Db {
	PGconn *conn;
	GHashTable *prepared; /* SQL text -> statement name (both owned) */
	unsigned next_stmt;
	int in_tx;
	bool pipeline;
	GArray *pending; /* of Pending, in the order results come back */
};

struct DbRes {
	PGresult *res;
};

static void notice_quiet(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %s", message);
}

static void session_setup(PGconn *c)
{
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	/* jit: PostgreSQL compiles the expressions of a statement it thinks
	 * costly with LLVM, which costs far more than it saves on the short
	 * statements of a desk (0.8 s on the digest's 700 tickets of 1,000,000:
	 * tests/bench/sla_bench.sh) */
	PGresult *r = PQexec(c, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET jit = off");
	PQclear(r);
	/* the desk's clock: dm_now() in SQL is this instant (DESKMAIL_NOW) */
	const char *fixed = dm_now_fixed();
	if (fixed != NULL) {
		const char *v[1] = {fixed};
		r = PQexecParams(c, "SELECT set_config('deskmail.now', $1, false)", 1, NULL, v,
				 NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			log_err("database: DESKMAIL_NOW not set in the session: %s",
				PQerrorMessage(c));
		PQclear(r);
	}
}

/* Why a connection failed, from libpq's text: a failed connection has no
 * result and so no SQLSTATE.  The server refused our login (28P01
 * "password authentication failed", 28000 "role ... does not exist", "no
 * pg_hba.conf entry", or it asked for a password we have not got):
 * DM_EAUTH, retrying with the same secret will not help; a database that
 * does not exist (3D000): DM_ECONFIG; anything else (refused, no such
 * host, timeout, the server starting or stopping): DM_ETEMP.  The
 * message is the server's, on one line. */
static int connect_failure(PGconn *c, DmError *err)
{
	char one[768];
	g_strlcpy(one, PQerrorMessage(c), sizeof one);
	g_strchomp(one);
	for (char *p = one; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	static const char *const refused[] = {
		"password authentication failed", "authentication failed",
		"no pg_hba.conf entry",           "no password supplied",
		"permission denied for database", NULL};
	bool auth = PQconnectionNeedsPassword(c) ||
		    (strstr(one, "role \"") != NULL && strstr(one, "does not exist") != NULL);
	for (int i = 0; !auth && refused[i]; i++)
		auth = strstr(one, refused[i]) != NULL;
	if (auth)
		return dm_error_set(err, DM_EAUTH, "database: login refused: %s", one);
	if (strstr(one, "database \"") && strstr(one, "does not exist"))
		return dm_error_set(err, DM_ECONFIG, "database: %s (database.conninfo)", one);
	return dm_error_set(err, DM_ETEMP, "database: %s", one);
}

const char *store_server_version(Db *db)
{
	const char *v = PQparameterStatus(db->conn, "server_version");
	return v ? v : "?";
}

int store_open(const char *conninfo, Db **db_r, DmError *err)
{
	/* a connection string libpq cannot read is the configuration's fault */
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &why);
	if (opts == NULL) {
		char one[512];
		g_strlcpy(one, why ? why : "out of memory", sizeof one);
		g_strchomp(one);
		PQfreemem(why);
		return dm_error_set(err, DM_ECONFIG, "database.conninfo: %s", one);
	}
	PQconninfoFree(opts);
	/* Later entries override earlier ones: the operator's conninfo (expanded
	 * from "dbname") comes last so it wins over our defaults. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {"10", "deskmail", conninfo, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL)
		abort();
	if (PQstatus(c) != CONNECTION_OK) {
		int kind = connect_failure(c, err);
		PQfinish(c);
		return kind;
	}
	session_setup(c);
	Db *db = g_new0(Db, 1);
	db->conn = c;
	db->prepared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	db->pending = g_array_new(FALSE, FALSE, sizeof(Pending));
	*db_r = db;
	return 0;
}

void store_close(Db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	g_hash_table_destroy(db->prepared);
	g_array_free(db->pending, TRUE);
	g_free(db);
}

/* Forget everything the lost session had: prepared statements, the
 * pipeline, the transaction. */
static void forget_session(Db *db)
{
	g_hash_table_remove_all(db->prepared);
	g_array_set_size(db->pending, 0);
	db->pipeline = false;
	db->in_tx = 0;
}

int store_ensure(Db *db, bool *reconnected_r, DmError *err)
{
	if (reconnected_r)
		*reconnected_r = false;
	if (PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	PQreset(db->conn);
	forget_session(db);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return connect_failure(db->conn, err);
	session_setup(db->conn);
	if (reconnected_r)
		*reconnected_r = true;
	log_notice("database connection re-established");
	return 0;
}

/* The DmError kind of a failed result (r may be NULL). */
static int kind_of(Db *db, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(db->conn) != CONNECTION_OK || state == NULL)
		return DM_ETEMP; /* connection loss carries no SQLSTATE */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
		return DM_ETEMP;
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return DM_EPERM;
	return DM_EINTERNAL;
}

/* Record a failure (r may be NULL) in err; returns its kind.  r is not
 * freed. */
static int describe(Db *db, const PGresult *r, const char *what, DmError *err)
{
	int kind = kind_of(db, r);
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);
	char one[768];
	g_strlcpy(one, msg && *msg ? msg : "unknown error", sizeof one);
	g_strchomp(one);
	dm_error_set(err, kind, "database %s: %s%s%s%s", what, one, state ? " (SQLSTATE " : "",
		     state ? state : "", state ? ")" : "");
	return kind;
}

static int fail(Db *db, PGresult *r, const char *what, DmError *err)
{
	int kind = describe(db, r, what, err);
	if (r)
		PQclear(r);
	return kind;
}

/* The cached statement name of sql; prepares it when new (queued in
 * pipeline mode). */
static const char *stmt_name(Db *db, const char *sql, DmError *err, int *rc)
{
	const char *name = g_hash_table_lookup(db->prepared, sql);
	*rc = 0;
	if (name)
		return name;
	char buf[32];
	snprintf(buf, sizeof buf, "dm%u", db->next_stmt++);
	if (db->pipeline) {
		if (!PQsendPrepare(db->conn, buf, sql, 0, NULL)) {
			*rc = fail(db, NULL, "prepare", err);
			return NULL;
		}
		Pending p = {.kind = PEND_RESULT, .dest = NULL, .prepare = sql};
		g_array_append_val(db->pending, p);
	} else {
		PGresult *r = PQprepare(db->conn, buf, sql, 0, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			*rc = fail(db, r, "prepare", err);
			return NULL;
		}
		PQclear(r);
	}
	char *key = g_strdup(sql), *val = g_strdup(buf);
	g_hash_table_insert(db->prepared, key, val);
	return val;
}

static DbRes *wrap(PGresult *r)
{
	DbRes *res = g_new(DbRes, 1);
	res->res = r;
	return res;
}

/* ---- the pipeline ---------------------------------------------------------- */

void db_pipeline_enter(Db *db)
{
	if (db->pipeline)
		return;
	if (PQenterPipelineMode(db->conn))
		db->pipeline = true;
}

void db_pipeline_leave(Db *db)
{
	if (!db->pipeline)
		return;
	if (db->pending->len)
		db_wait(db, NULL, NULL);
	PQexitPipelineMode(db->conn);
	db->pipeline = false;
}

bool db_in_pipeline(const Db *db)
{
	return db->pipeline;
}

bool db_pending(const Db *db)
{
	return db->pending->len > 0;
}

int db_send(Db *db, const char *sql, int n, const char *const *params, const int *lengths,
	    const int *formats, bool result_binary, DbRes **res_r, DmError *err)
{
	g_assert(db->pipeline);
	int rc;
	const char *name = stmt_name(db, sql, err, &rc);
	if (name == NULL)
		return rc;
	if (res_r)
		*res_r = NULL;
	if (!PQsendQueryPrepared(db->conn, name, n, params, lengths, formats,
				 result_binary ? 1 : 0))
		return fail(db, NULL, "query", err);
	Pending p = {.kind = PEND_RESULT, .dest = res_r};
	g_array_append_val(db->pending, p);
	return 0;
}

int db_send_simple(Db *db, const char *sql, DmError *err)
{
	g_assert(db->pipeline);
	if (!PQsendQueryParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		return fail(db, NULL, sql, err);
	Pending p = {.kind = PEND_RESULT};
	g_array_append_val(db->pending, p);
	return 0;
}

int db_sync(Db *db, DmError *err)
{
	g_assert(db->pipeline);
	if (!PQpipelineSync(db->conn))
		return fail(db, NULL, "sync", err);
	Pending p = {.kind = PEND_SYNC};
	g_array_append_val(db->pending, p);
	return 0;
}

int db_wait(Db *db, char constraint_r[64], DmError *err)
{
	int first = 0;
	if (constraint_r)
		constraint_r[0] = '\0';
	/* the server sends nothing back before a sync: make sure one follows
	 * the last statement (a send may have failed before its own) */
	guint len = db->pending->len;
	if (len && g_array_index(db->pending, Pending, len - 1).kind != PEND_SYNC &&
	    db_sync(db, NULL) != 0) {
		forget_session(db);
		return dm_error_set(err, DM_ETEMP, "database: %s", PQerrorMessage(db->conn));
	}
	for (guint i = 0; i < db->pending->len; i++) {
		Pending *p = &g_array_index(db->pending, Pending, i);
		PGresult *r = PQgetResult(db->conn);
		if (r == NULL) {
			/* nothing more will come: the connection is gone */
			if (first == 0)
				first = describe(db, NULL, "pipeline", err);
			forget_session(db);
			return first ? first : DM_ETEMP;
		}
		ExecStatusType st = PQresultStatus(r);
		if (p->kind == PEND_SYNC) {
			if (st != PGRES_PIPELINE_SYNC && first == 0)
				first = describe(db, r, "pipeline sync", err);
			PQclear(r);
			continue;
		}
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (p->dest && first == 0)
				*p->dest = wrap(r);
			else
				PQclear(r);
		} else {
			if (p->prepare)
				g_hash_table_remove(db->prepared, p->prepare);
			if (st != PGRES_PIPELINE_ABORTED && first == 0) {
				first = describe(db, r, "query", err);
				const char *c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
				if (constraint_r && c)
					g_strlcpy(constraint_r, c, 64);
			}
			PQclear(r);
		}
		/* each statement's results end with a NULL */
		while ((r = PQgetResult(db->conn)) != NULL)
			PQclear(r);
	}
	g_array_set_size(db->pending, 0);
	if (first && PQstatus(db->conn) != CONNECTION_OK)
		forget_session(db);
	return first;
}

/* ---- one statement at a time ----------------------------------------------- */

int db_exec_bin(Db *db, const char *sql, int n, const char *const *params, const int *lengths,
		const int *formats, DbRes **res_r, DmError *err)
{
	if (db->pipeline) {
		int rc = db_send(db, sql, n, params, lengths, formats, false, res_r, err);
		if (rc == 0)
			rc = db_sync(db, err);
		if (rc == 0)
			rc = db_wait(db, NULL, err);
		if (rc && res_r) {
			dbres_free(*res_r);
			*res_r = NULL;
		}
		return rc;
	}
	int rc;
	const char *name = stmt_name(db, sql, err, &rc);
	if (name == NULL)
		return rc;
	PGresult *r = PQexecPrepared(db->conn, name, n, params, lengths, formats, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(db, r, "query", err);
	if (res_r)
		*res_r = wrap(r);
	else
		PQclear(r);
	return 0;
}

int db_exec(Db *db, const char *sql, int n, const char *const *params, DbRes **res_r, DmError *err)
{
	return db_exec_bin(db, sql, n, params, NULL, NULL, res_r, err);
}

int db_exec_script(Db *db, const char *sql, DmError *err)
{
	g_assert(!db->pipeline);
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(db, r, "script", err);
	PQclear(r);
	return 0;
}

static int simple(Db *db, const char *sql, DmError *err)
{
	if (db->pipeline) {
		int rc = db_send_simple(db, sql, err);
		if (rc == 0)
			rc = db_sync(db, err);
		return rc ? rc : db_wait(db, NULL, err);
	}
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
	if (db->pipeline) {
		if (db->pending->len)
			db_wait(db, NULL, NULL);
		simple(db, "ROLLBACK", NULL);
		return;
	}
	if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	PGresult *r = PQexec(db->conn, "ROLLBACK");
	PQclear(r);
}

/* ---- results ------------------------------------------------------------------ */

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

char *dbres_dup(const DbRes *r, int row, int col)
{
	return g_strdup(dbres_get(r, row, col));
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

int64_t dbres_bin_i64(const DbRes *r, int row, int col)
{
	const char *s = dbres_get(r, row, col);
	if (s == NULL)
		return 0;
	int len = PQgetlength(r->res, row, col);
	if (len == 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		return (int64_t)be64toh(v);
	}
	if (len == 4) {
		uint32_t v;
		memcpy(&v, s, 4);
		return (int32_t)be32toh(v);
	}
	if (len == 2) {
		uint16_t v;
		memcpy(&v, s, 2);
		return (int16_t)be16toh(v);
	}
	return 0;
}

const unsigned char *dbres_bin(const DbRes *r, int row, int col, size_t *len_r)
{
	const char *s = dbres_get(r, row, col);
	*len_r = s ? (size_t)PQgetlength(r->res, row, col) : 0;
	return (const unsigned char *)s;
}

void dbres_free(DbRes *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	g_free(r);
}

/* ---- parameters ---------------------------------------------------------------- */

const char *i64s(char buf[24], int64_t v)
{
	snprintf(buf, 24, "%lld", (long long)v);
	return buf;
}

const char *i64n(char buf[24], int64_t v)
{
	return v ? i64s(buf, v) : NULL;
}

char *pg_array(const char *const *items, size_t n)
{
	GString *s = g_string_new("{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			g_string_append_c(s, ',');
		if (items[i] == NULL) {
			g_string_append(s, "NULL");
			continue;
		}
		g_string_append_c(s, '"');
		for (const char *c = items[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				g_string_append_c(s, '\\');
			g_string_append_c(s, *c);
		}
		g_string_append_c(s, '"');
	}
	g_string_append_c(s, '}');
	return g_string_free(s, FALSE);
}
