/* command.c - parse the #commands at the top of a staff reply and apply
 * the role rules of the agencies' process (seed 001):
 *
 *   account and project managers assign anyone (and may take);
 *   a senior engineer may take (self-assign) but not assign others;
 *   a junior engineer may do neither.
 *
 * Everything else (#status, #severity, #line, #category, #chargeable,
 * #note, #close) is open to all staff.  That a junior never writes to a
 * client is not a command rule: the caller turns a junior's text into an
 * internal note. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/command.h"

const char *const ticket_states[] = {
	"open",
	"pending-evaluation",
	"evaluated",
	"scheduled",
	"testing",
	"qa",
	"released",
	"monitoring",
	"closed",
	"awaiting-client",
	"awaiting-third-party",
	"awaiting-delivery",
	"awaiting-authorisation",
	"awaiting-file-restore",
	"awaiting-parts",
	"awaiting-quote",
	"awaiting-rebuild",
	NULL,
};
const char *const ticket_severities[] = {"severe", "high", "medium", "low", "enhancement", NULL};
const char *const ticket_categories[] = {"advice",  "error",       "change",
					 "project", "consultancy", NULL};
const char *const staff_roles[] = {"account-manager", "project-manager", "senior-engineer",
				   "junior-engineer", NULL};

bool command_in_list(const char *const *list, const char *value)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], value) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	CommandKind kind;
	int arg; /* 1 = required, 0 = none, 2 = rest of text (note) */
} command_table[] = {
	{"status", CMD_STATUS, 1},
	{"severity", CMD_SEVERITY, 1},
	{"assign", CMD_ASSIGN, 1},
	{"take", CMD_TAKE, 0},
	{"line", CMD_LINE, 1},
	{"category", CMD_CATEGORY, 1},
	{"chargeable", CMD_CHARGEABLE, 0},
	{"note", CMD_NOTE, 2},
	{"close", CMD_CLOSE, 0},
	{"time", CMD_TIME, 1},
};

int command_duration(const char *s, int *minutes_r)
{
	/* h:mm */
	int h = 0, m = 0;
	char tail;
	if (sscanf(s, "%3d:%2d%c", &h, &m, &tail) == 2 && h >= 0 && m >= 0 && m < 60 &&
	    strchr(s, ':') != NULL) {
		int v = h * 60 + m;
		if (v < 1 || v > CMD_TIME_MAX_MINUTES)
			return -1;
		*minutes_r = v;
		return 0;
	}
	double total = 0;
	bool any = false, hours_seen = false, minutes_seen = false;
	const char *p = s;
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (!g_ascii_isdigit(*p))
			return -1;
		char *end;
		double v = g_ascii_strtod(p, &end);
		if (end == p || end - p > 8 || v < 0)
			return -1;
		p = end;
		while (*p == ' ')
			p++;
		if (g_ascii_tolower(*p) == 'h') {
			if (hours_seen || minutes_seen)
				return -1;
			hours_seen = true;
			total += v * 60;
			p++;
			while (g_ascii_isalpha(*p)) /* "hours", "hrs" */
				p++;
		} else if (g_ascii_tolower(*p) == 'm') {
			if (minutes_seen)
				return -1;
			minutes_seen = true;
			total += v;
			p++;
			while (g_ascii_isalpha(*p)) /* "min", "minutes" */
				p++;
		} else if (*p == '\0' && !hours_seen && !minutes_seen) {
			total += v; /* a bare number is minutes */
			minutes_seen = true;
		} else {
			return -1;
		}
		any = true;
	}
	if (!any || total < 0.5 || total > CMD_TIME_MAX_MINUTES)
		return -1;
	*minutes_r = (int)(total + 0.5);
	return 0;
}

/* The length of the longest prefix of s of at most max bytes that ends
 * between two characters.  Every text of a Command goes on as UTF-8 (into
 * the ticket's audit, into mail to staff, to PostgreSQL, which refuses
 * invalid UTF-8), so the fixed buffers and the "%.Ns" quotes in the errors
 * must cut a long line of non-ASCII text between characters, never inside
 * one, as a byte count alone does (found by tests/fuzz/fuzz_command.c). */
static int utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n <= max)
		return (int)n;
	const char *end = g_utf8_find_prev_char(s, s + max + 1);
	return end ? (int)(end - s) : 0;
}

/* g_strlcpy into dst[size], cut between characters. */
static void utf8_copy(char *dst, const char *src, size_t size)
{
	int n = utf8_prefix(src, size - 1);
	memcpy(dst, src, (size_t)n);
	dst[n] = '\0';
}

static void list_values(GString *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", list[i]);
}

/* Check the argument of a recognised command; sets c->error. */
static void check_arg(Command *c)
{
	const char *a = c->arg;
	const char *const *list = NULL;
	const char *what = NULL;
	switch (c->kind) {
	case CMD_STATUS:
		list = ticket_states, what = "status";
		break;
	case CMD_SEVERITY:
		list = ticket_severities, what = "severity";
		break;
	case CMD_CATEGORY:
		list = ticket_categories, what = "category";
		break;
	case CMD_ASSIGN: {
		/* "Jo <jo@x>", "jo@x <mailto:jo@x>" (a link in HTML mail made
		 * into text), "@jo": the address or name inside */
		char *lt = strchr(c->arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		char buf[CMD_LINE_MAX];
		const char *v = c->arg;
		if (lt && gt && gt > lt + 1) {
			g_strlcpy(buf, lt + 1, MIN((size_t)(gt - lt), sizeof buf));
			v = buf;
		}
		if (g_ascii_strncasecmp(v, "mailto:", 7) == 0)
			v += 7;
		if (*v == '@')
			v++;
		if (v != c->arg)
			memmove(c->arg, v, strlen(v) + 1);
		g_strstrip(c->arg);
		if (c->arg[0] == '\0')
			g_snprintf(c->error, sizeof c->error, "#assign needs a staff member");
		return;
	}
	case CMD_TIME: {
		int minutes;
		if (command_duration(a, &minutes) != 0)
			g_snprintf(c->error, sizeof c->error,
				   "cannot read the time '%.*s': write e.g. 1h30m, 45m or 1:30 "
				   "(at most 24h a line)",
				   utf8_prefix(a, 40), a);
		return;
	}
	case CMD_LINE:
		if (!(a[0] >= '1' && a[0] <= '3' && a[1] == '\0'))
			g_snprintf(c->error, sizeof c->error,
				   "unknown support line '%.*s': use 1, 2 or 3", utf8_prefix(a, 60),
				   a);
		return;
	default:
		return;
	}
	/* values are lower-case words joined by '-': accept any case, and
	 * "awaiting client" or "awaiting_client" as written in haste */
	char *low = g_ascii_strdown(a, -1);
	char *w = c->arg;
	for (const char *r = low; *r && w < c->arg + sizeof c->arg - 1; r++) {
		char ch = (*r == ' ' || *r == '_' || *r == '\t') ? '-' : *r;
		if (ch == '-' && w > c->arg && w[-1] == '-')
			continue;
		*w++ = ch;
	}
	*w = '\0';
	g_free(low);
	if (!command_in_list(list, c->arg)) {
		GString *s = g_string_new(NULL);
		g_string_append_printf(s, "unknown %s '%.*s': use one of ", what,
				       utf8_prefix(a, 40), a);
		list_values(s, list);
		g_strlcpy(c->error, s->str, sizeof c->error);
		g_string_free(s, TRUE);
	}
}

/* Parse one "#word args" line (without the '#').  Returns the table entry's
 * arg mode, or -1 for an unknown word. */
static int parse_line(const char *body, Command *c, const char **note_rest)
{
	size_t wl = 0;
	while (g_ascii_isalpha(body[wl]) || body[wl] == '-' || body[wl] == '_')
		wl++;
	char word[32];
	g_strlcpy(word, body, MIN(wl + 1, sizeof word));
	char *lw = g_ascii_strdown(word, -1);
	const char *after = body + wl;
	int mode = -1;
	for (size_t i = 0; i < G_N_ELEMENTS(command_table); i++)
		if (strcmp(command_table[i].name, lw) == 0) {
			c->kind = command_table[i].kind;
			mode = command_table[i].arg;
		}
	g_free(lw);
	if (mode < 0) {
		c->kind = CMD_UNKNOWN;
		g_snprintf(c->error, sizeof c->error,
			   "unknown command '#%.40s': commands are #status, #severity, #assign, "
			   "#take, #line, #category, #chargeable, #note, #close",
			   word);
		return -1;
	}
	/* the word must end there: "#closed" is not "#close" */
	if (*after && *after != ' ' && *after != '\t' && *after != ':') {
		c->kind = CMD_UNKNOWN;
		g_snprintf(c->error, sizeof c->error, "unknown command '#%.40s%.*s'", word,
			   utf8_prefix(after, 20), after);
		return -1;
	}
	if (*after == ':')
		after++;
	while (*after == ' ' || *after == '\t')
		after++;
	if (mode == 2) {
		*note_rest = after;
		return mode;
	}
	utf8_copy(c->arg, after, sizeof c->arg);
	g_strstrip(c->arg);
	if (mode == 1 && c->arg[0] == '\0')
		g_snprintf(c->error, sizeof c->error, "#%s needs a value", word);
	else if (mode == 0 && c->arg[0] != '\0')
		g_snprintf(c->error, sizeof c->error, "#%s takes no value", word);
	else if (mode == 1)
		check_arg(c);
	return mode;
}

/* A copy of one line with no-break spaces (U+00A0, U+202F) as spaces,
 * zero-width characters (U+200B, U+FEFF) dropped, trimmed. */
static char *normalise_line(const char *p, size_t len)
{
	GString *s = g_string_sized_new(len);
	for (size_t i = 0; i < len; i++) {
		const unsigned char *u = (const unsigned char *)p + i;
		if (u[0] == 0xc2 && i + 1 < len && u[1] == 0xa0) {
			g_string_append_c(s, ' ');
			i += 1;
		} else if (u[0] == 0xe2 && i + 2 < len && u[1] == 0x80 && u[2] == 0xaf) {
			g_string_append_c(s, ' ');
			i += 2;
		} else if ((u[0] == 0xe2 && i + 2 < len && u[1] == 0x80 && u[2] == 0x8b) ||
			   (u[0] == 0xef && i + 2 < len && u[1] == 0xbb && u[2] == 0xbf)) {
			i += 2;
		} else {
			g_string_append_c(s, (char)(u[0] == '\t' || u[0] == '\r' ? ' ' : u[0]));
		}
	}
	g_strstrip(s->str);
	return g_string_free(s, FALSE);
}

void command_parse(const char *text, CommandSet *cs)
{
	memset(cs, 0, sizeof *cs);
	if (text == NULL)
		text = "";
	const char *p = text;
	int line_no = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *next = eol ? eol + 1 : p + len;
		line_no++;
		/* HTML mail made into text brings no-break and zero-width spaces */
		g_autofree char *ln = normalise_line(p, len);
		if (*ln == '\0') { /* blank line between commands */
			p = next;
			continue;
		}
		if (ln[0] != '#' || !g_ascii_isalpha(ln[1]))
			break; /* the text begins here */
		Command tmp = {0};
		tmp.line_no = line_no;
		utf8_copy(tmp.line, ln, sizeof tmp.line);
		const char *note_rest = NULL;
		int mode = parse_line(ln + 1, &tmp, &note_rest);
		if (mode == 2) {
			cs->note = true;
			/* the note: what follows #note on its line, then the lines below */
			GString *r = g_string_new(note_rest);
			if (*next) {
				if (r->len)
					g_string_append_c(r, '\n');
				g_string_append(r, next);
			}
			cs->rest = g_string_free(r, FALSE);
			if (cs->n < CMD_MAX)
				cs->cmds[cs->n++] = tmp;
			return;
		}
		if (cs->n < CMD_MAX)
			cs->cmds[cs->n++] = tmp;
		else
			cs->n_dropped++;
		p = next;
	}
	cs->rest = g_strdup(p);
}

void command_set_clear(CommandSet *cs)
{
	g_free(cs->rest);
	memset(cs, 0, sizeof *cs);
}

const char *command_refusal(const char *role, const Command *c, bool self_target)
{
	bool manager = strcmp(role, "account-manager") == 0 || strcmp(role, "project-manager") == 0;
	bool senior = strcmp(role, "senior-engineer") == 0;
	switch (c->kind) {
	case CMD_ASSIGN:
		if (manager)
			return NULL;
		if (senior && self_target)
			return NULL;
		if (senior)
			return "only account and project managers assign tickets to others; a "
			       "senior "
			       "engineer may use #take to take a ticket";
		return "only account and project managers assign tickets";
	case CMD_TAKE:
		if (manager || senior)
			return NULL;
		return "a junior engineer cannot take tickets; ask a project or account manager to "
		       "assign it";
	default:
		return NULL;
	}
}
