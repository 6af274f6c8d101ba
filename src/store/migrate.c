/* migrate.c - numbered schema migrations from sql/: NNN_name.sql applied in
 * order, each in its own transaction together with its schema_migrations
 * row, under an advisory lock so two `deskmail migrate` runs never race.
 * Running it again applies nothing.  Files are capped in size and their
 * names are checked; an unparseable name is an error, not skipped. */
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskmail/log.h"
#include "deskmail/util.h"
#include "store-private.h"

#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)
#define MIGRATE_LOCK_KEY "7291004"

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				       " version integer PRIMARY KEY, name text NOT NULL,"
				       " applied_at timestamptz NOT NULL DEFAULT now())";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_schema_version(Db *db, int *version_r, DmError *err)
{
	/* two statements: one naming a table that is not there fails to
	 * parse, whatever its WHERE says */
	DbRes *r = NULL;
	int rc = db_exec(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &r,
			 err);
	if (rc)
		return rc;
	bool exists = dbres_rows(r) && dbres_bool(r, 0, 0);
	dbres_free(r);
	if (!exists) {
		*version_r = 0;
		return 0;
	}
	rc = db_exec(db, "SELECT COALESCE(max(version), 0) FROM schema_migrations", 0, NULL, &r,
		     err);
	if (rc)
		return rc;
	*version_r = dbres_rows(r) ? (int)dbres_i64(r, 0, 0, 0) : 0;
	dbres_free(r);
	return 0;
}

static int apply_one(Db *db, const char *dir, const char *file, int version, DmError *err)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	char *sql = NULL;
	size_t len = 0;
	if (dm_read_file(path, MIGRATION_MAX_BYTES, &sql, &len) != 0)
		return dm_error_set(err, DM_ECONFIG, "%s: cannot read: %s", path, strerror(errno));
	char vbuf[16];
	snprintf(vbuf, sizeof vbuf, "%d", version);
	const char *p[] = {vbuf, file};
	DbRes *r = NULL;
	int rc = db_begin(db, err);
	if (rc == 0)
		rc = db_exec(db, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, p,
			     &r, err);
	if (rc == 0 && dbres_rows(r) == 0) {
		rc = db_exec_script(db, sql, err);
		if (rc == 0)
			rc = db_exec(db,
				     "INSERT INTO schema_migrations (version, name) VALUES "
				     "($1::int, $2)",
				     2, p, NULL, err);
		if (rc == 0)
			log_info("migration %s applied", file);
	} else if (rc == 0) {
		version = 0; /* someone else applied it meanwhile */
	}
	dbres_free(r);
	g_free(sql);
	if (rc) {
		db_rollback(db);
		dm_error_set(err, rc, "migration %s failed", file);
		return rc;
	}
	rc = db_commit(db, err);
	return rc ? rc : (version ? 1 : 0);
}

int store_migrate(Db *db, const char *dir, int *applied_r, DmError *err)
{
	*applied_r = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return dm_error_set(err, DM_ECONFIG, "%s: cannot open migrations folder: %s", dir,
				    strerror(errno));
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (g_str_has_suffix(de->d_name, ".sql"))
			g_ptr_array_add(files, g_strdup(de->d_name));
	closedir(d);
	qsort(files->pdata, files->len, sizeof(char *), cmp_str);

	const char *lock[] = {MIGRATE_LOCK_KEY};
	int rc = db_exec(db, create_table_sql, 0, NULL, NULL, err);
	if (rc == 0)
		rc = db_exec(db, "SELECT pg_advisory_lock($1::bigint)", 1, lock, NULL, err);
	for (guint i = 0; rc == 0 && i < files->len; i++) {
		const char *f = files->pdata[i];
		char num[8] = {0};
		size_t k = strspn(f, "0123456789");
		int64_t v;
		if (k == 0 || k >= sizeof num || f[k] != '_') {
			rc = dm_error_set(err, DM_ECONFIG,
					  "%s/%s: migration names are NNN_name.sql", dir, f);
			break;
		}
		memcpy(num, f, k);
		if (dm_parse_i64(num, 1, 99999, &v) != 0) {
			rc = dm_error_set(err, DM_ECONFIG, "%s/%s: bad migration number", dir, f);
			break;
		}
		int n = apply_one(db, dir, f, (int)v, err);
		if (n < 0)
			rc = n;
		else
			*applied_r += n;
	}
	db_exec(db, "SELECT pg_advisory_unlock($1::bigint)", 1, lock, NULL, NULL);
	g_ptr_array_free(files, TRUE);
	return rc;
}

int store_check_migrated(Db *db, const char *dir, DmError *err)
{
	int version = 0;
	int rc = store_schema_version(db, &version, err);
	if (rc)
		return rc;
	if (version == 0)
		return dm_error_set(err, DM_EUNMIGRATED,
				    "database not migrated: run `deskmail migrate`");
	/* every migration file must have its row; a folder that cannot be
	 * read (a test binary elsewhere) leaves the check at the above */
	DIR *d = dir ? opendir(dir) : NULL;
	if (d == NULL)
		return 0;
	DbRes *r = NULL;
	rc = db_exec(db, "SELECT version FROM schema_migrations", 0, NULL, &r, err);
	if (rc) {
		closedir(d);
		return rc;
	}
	GHashTable *applied = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (int i = 0; i < dbres_rows(r); i++)
		g_hash_table_add(applied, GINT_TO_POINTER((int)dbres_i64(r, i, 0, 0)));
	dbres_free(r);
	struct dirent *de;
	char missing[256] = "";
	while ((de = readdir(d)) != NULL) {
		if (!g_str_has_suffix(de->d_name, ".sql"))
			continue;
		char num[8] = {0};
		size_t k = strspn(de->d_name, "0123456789");
		int64_t v;
		if (k == 0 || k >= sizeof num)
			continue; /* `deskmail migrate` names it */
		memcpy(num, de->d_name, k);
		if (dm_parse_i64(num, 1, 99999, &v) == 0 &&
		    !g_hash_table_contains(applied, GINT_TO_POINTER((int)v)) &&
		    (missing[0] == '\0' || strcmp(de->d_name, missing) < 0))
			g_strlcpy(missing, de->d_name, sizeof missing);
	}
	closedir(d);
	g_hash_table_destroy(applied);
	if (missing[0])
		return dm_error_set(err, DM_EUNMIGRATED,
				    "database not migrated: %s is not applied: run `deskmail "
				    "migrate`",
				    missing);
	return 0;
}
