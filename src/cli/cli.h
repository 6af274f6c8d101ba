/* cli.h - shared by the files of src/cli only: argument conventions of the
 * administration and report commands, and printing lines. */
#ifndef DESKMAIL_CLI_H
#define DESKMAIL_CLI_H

#include <glib.h>
#include <stdbool.h>

#include "deskmail/config.h"
#include "deskmail/err.h"
#include "deskmail/store.h"

/* The value of option NAME ("--name VALUE" or "--name=VALUE"); "" when it
 * ends the line; NULL when absent.  Borrowed from argv. */
const char *cli_opt(int argc, char **argv, const char *name);
/* Who acts, for audit records: --by, else the (sudo) login, else "operator". */
const char *cli_who(int argc, char **argv);
bool cli_flag(int argc, char **argv, const char *name);
/* Positional argument k, skipping --options and their values. */
const char *cli_pos(int argc, char **argv, int k);
/* Print the builder's value as one line of JSON and free the builder. */
typedef struct _JsonBuilder JsonBuilder;
void cli_print_json(JsonBuilder *b);
/* Print every line (for the reports) and free the array. */
void cli_print_lines(GPtrArray *lines);

/* The command line's grammar (usage.c).  cli_check_args() checks argv
 * (argv[0] is the command) before anything is read: CLI_ARGS_OK;
 * CLI_ARGS_HELP with the usage asked for in *text_r; CLI_ARGS_USAGE with
 * the complaint in *why_r and the usage in *text_r (NULL for an unknown
 * command).  Both strings are the caller's to g_free. */
enum { CLI_ARGS_OK = 0, CLI_ARGS_HELP = 1, CLI_ARGS_USAGE = 2 };
int cli_check_args(int argc, char **argv, char **text_r, char **why_r);
bool cli_known_command(const char *cmd);

/* `deskmail check-config [-n] [--connect]` (check.c); sql_dir is the
 * migrations folder, for the schema check. */
int check_config_main(const Config *cfg, const char *sql_dir, bool quiet, int argc, char **argv,
		      DmError *err);

/* `deskmail client|contact|staff ...` (admin.c) */
int admin_main(const Config *cfg, Db *db, int argc, char **argv, DmError *err);
/* `deskmail ticket|quarantine|attachment ...` (report.c) */
int report_main(Db *db, int argc, char **argv, DmError *err);
/* `deskmail ticket sla N` and `deskmail ticket list --due` (sla.c) */
int sla_cli_main(const Config *cfg, Db *db, int argc, char **argv, DmError *err);
/* `deskmail quarantine show|accept|drop|retry ID ...` (quarantine.c);
 * argv[0] is "quarantine" */
typedef struct Desk Desk;
int quarantine_main(Desk *desk, int argc, char **argv, DmError *err);
/* `deskmail outbox|stats|purge ...` (ops.c); argv[0] is the command.
 * ops_check checks the arguments alone (no configuration, no database):
 * DM_EPERM with the usage in err when they are wrong.  ops_usage: the
 * usage line of command cmd. */
int ops_main(const Config *cfg, Db *db, int argc, char **argv, DmError *err);
int ops_check(int argc, char **argv, DmError *err);
const char *ops_usage(const char *cmd);

#endif
