/* command.h - the #commands at the top of a staff reply, and the role rules
 * that say who may use them.  Pure code: no database, no I/O.
 *
 * Command lines come first, one per line, before any other text (blank
 * lines between them are allowed).  The first line that is not a command
 * ends them; a "#word" further down is text.  "#note" ends the commands too:
 * everything after it (on its line and below) is an internal note.  A line
 * that starts with '#' and a letter is a command attempt: when it is not
 * understood it is reported, not relayed as text. */
#ifndef DESKMAIL_COMMAND_H
#define DESKMAIL_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	CMD_UNKNOWN = 0,
	CMD_STATUS,
	CMD_SEVERITY,
	CMD_ASSIGN,
	CMD_TAKE,
	CMD_LINE,
	CMD_CATEGORY,
	CMD_CHARGEABLE,
	CMD_NOTE,
	CMD_CLOSE,
	CMD_TIME, /* #time 1h30m: work recorded against the client's allowance */
} CommandKind;

#define CMD_TIME_MAX_MINUTES (24 * 60) /* one #time line records at most a day */

#define CMD_MAX 20       /* command lines looked at; more are reported */
#define CMD_LINE_MAX 200 /* bytes of one command line kept */

typedef struct {
	CommandKind kind;
	int line_no;             /* 1-based line in the text */
	char line[CMD_LINE_MAX]; /* the line as written (trimmed, cut at CMD_LINE_MAX) */
	char arg[CMD_LINE_MAX];  /* the argument, trimmed ("" if none) */
	char error[160];         /* non-empty: not understood, with why */
} Command;

typedef struct {
	Command cmds[CMD_MAX];
	size_t n;
	size_t n_dropped; /* command lines beyond CMD_MAX (not applied) */
	bool note;        /* #note seen: rest is internal */
	char *rest;       /* g_malloc'd text after the commands (after #note: the note) */
} CommandSet;

/* Split text (UTF-8, LF or CRLF) into its leading commands and the rest.
 * Arguments are checked for form (a known state, a severity, a line 1-3,
 * a category, an argument where one is needed, none where none is). */
void command_parse(const char *text, CommandSet *cs);
void command_set_clear(CommandSet *cs);

/* The minutes of a #time argument: "1h30m", "1h 30m", "1.5h", "90m", "90"
 * (minutes), "1:30".  0 and *minutes_r in 1 .. CMD_TIME_MAX_MINUTES, or -1. */
int command_duration(const char *s, int *minutes_r);

/* Whether a staff member of `role` may use the command.  `self_target` is
 * true when #assign names the sender.  Returns NULL if allowed, else a
 * static reason. */
const char *command_refusal(const char *role, const Command *c, bool self_target);

/* Valid values (NULL-terminated lists), shared with the schema's CHECKs. */
extern const char *const ticket_states[];
extern const char *const ticket_severities[];
extern const char *const ticket_categories[];
extern const char *const staff_roles[];

bool command_in_list(const char *const *list, const char *value);

#endif
