/* clean.c - strip quoted history and signatures from reply text.
 *
 * Line-based and deliberately conservative: it only cuts at markers that
 * mail clients write themselves, so a client's own text is never lost (the
 * caller keeps the whole original anyway).  Patterns are GLib regular
 * expressions, compiled once. */
#include <glib.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/util.h"

/* "On <date>, <name> wrote:" and its translations.  The lead word starts the
 * line, the line ends with a colon after the verb (German and others put
 * the name after the verb: "Am ... schrieb Alice <a@x>:"). */
static const char attribution_re[] =
	"^\\s*(On|Am|Le|El|Il|Op|Em|W dniu|Den|På|Dne|Στις|В)\\s.{0,300}"
	"(wrote|writes|schrieb|a\\s+écrit|escribió|ha\\s+scritto|schreef|escreveu|"
	"napisał|skrev|kirjoitti|napsal|έγραψε|написал|написала)(\\s.{0,200})?\\s*:\\s*$";

/* A line that ends an attribution whose start is on an earlier line or in
 * another order ("02.04.2012 14:20 user <a@x> написал:"). */
static const char attribution_tail_re[] =
	"(wrote|writes|schrieb|a\\s+écrit|escribió|ha\\s+scritto|schreef|escreveu|napisał|skrev|"
	"kirjoitti|napsal|έγραψε|написал|написала)\\s*:\\s*$";

/* Whole-line separators that start quoted history. */
static const char separator_re[] =
	"^\\s*-{2,}\\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
	"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Forwarded message|"
	"Weitergeleitete Nachricht|Mensagem original|Původní zpráva|Oryginalna wiadomość)"
	"\\s*-{2,}\\s*$";

/* Outlook's header block: a From line followed closely by Sent/Date. */
static const char from_re[] = "^\\s*\\*?(From|Von|De|Van|Da|Från|Od|Fra)\\s*:\\*?\\s+\\S";
static const char sent_re[] =
	"^\\s*\\*?(Sent|Gesendet|Envoyé|Enviado|Verzonden|Inviato|Skickat|Wysłano|Sendt|"
	"Date|Datum|Fecha|Data)\\s*:\\*?\\s";
static const char rule_re[] = "^\\s*_{10,}\\s*$";

static GRegex *re_attr, *re_tail, *re_sep, *re_from, *re_sent, *re_rule;

static void compile_once(void)
{
	static gsize done;
	if (g_once_init_enter(&done)) {
		GRegexCompileFlags f = G_REGEX_CASELESS | G_REGEX_OPTIMIZE;
		re_attr = g_regex_new(attribution_re, f, 0, NULL);
		re_tail = g_regex_new(attribution_tail_re, f, 0, NULL);
		re_sep = g_regex_new(separator_re, f, 0, NULL);
		re_from = g_regex_new(from_re, f, 0, NULL);
		re_sent = g_regex_new(sent_re, f, 0, NULL);
		re_rule = g_regex_new(rule_re, 0, 0, NULL);
		g_assert(re_attr && re_tail && re_sep && re_from && re_sent && re_rule);
		g_once_init_leave(&done, 1);
	}
}

static gboolean is_quoted(const char *line)
{
	while (*line == ' ')
		line++;
	return *line == '>';
}

static gboolean is_blank(const char *line)
{
	for (; *line; line++)
		if (!g_ascii_isspace(*line))
			return FALSE;
	return TRUE;
}

/* Index of the first line where unquoted history starts (Outlook's header
 * block or separator, a signature), or n.  Attribution lines do not cut:
 * what follows them is ">"-quoted and dropped line by line, so answers
 * written between quotes (inline replies) are kept. */
static guint find_cut(char **lines, guint n)
{
	for (guint i = 0; i < n; i++) {
		const char *l = lines[i];
		if (strcmp(l, "-- ") == 0 || strcmp(l, "--") == 0)
			return i;
		if (g_regex_match(re_sep, l, 0, NULL))
			return i;
		if (g_regex_match(re_rule, l, 0, NULL)) {
			for (guint k = i + 1; k < n && k <= i + 3; k++)
				if (g_regex_match(re_from, lines[k], 0, NULL))
					return i;
		}
		if (g_regex_match(re_from, l, 0, NULL)) {
			for (guint k = i + 1; k < n && k <= i + 4; k++)
				if (g_regex_match(re_sent, lines[k], 0, NULL))
					return i;
		}
	}
	return n;
}

/* Mark lines to drop: attributions (also wrapped over two lines), quoted
 * lines, and a short unquoted line squeezed between quoted ones right after
 * a long quoted line (a quotation hard-wrapped by a mail client that forgot
 * the ">"; an inline answer follows a short question instead). */
static void mark_drops(char **lines, guint n, gboolean *drop)
{
	for (guint i = 0; i < n; i++) {
		const char *l = lines[i];
		if (is_quoted(l)) {
			drop[i] = TRUE;
			continue;
		}
		if (g_regex_match(re_attr, l, 0, NULL)) {
			drop[i] = TRUE;
			continue;
		}
		if (i + 1 < n && !is_blank(l) && strlen(l) < 400) {
			g_autofree char *two = g_strconcat(l, " ", lines[i + 1], NULL);
			if (g_regex_match(re_attr, two, 0, NULL)) {
				drop[i] = drop[i + 1] = TRUE;
				continue;
			}
		}
		if (strlen(l) < 300 && g_regex_match(re_tail, l, 0, NULL) && i + 1 < n) {
			/* only when quotation follows (after blank lines) */
			guint k = i + 1;
			while (k < n && is_blank(lines[k]))
				k++;
			if (k < n && is_quoted(lines[k])) {
				drop[i] = TRUE;
				if (i > 0 && !is_blank(lines[i - 1]) &&
				    strlen(lines[i - 1]) < 200 &&
				    (strchr(lines[i - 1], '@') || strchr(lines[i - 1], '<')))
					drop[i - 1] = TRUE;
			}
		}
	}
	for (guint i = 1; i + 1 < n; i++)
		if (!drop[i] && !is_blank(lines[i]) && is_quoted(lines[i - 1]) &&
		    is_quoted(lines[i + 1]) && strlen(lines[i]) < 60 && strlen(lines[i - 1]) >= 60)
			drop[i] = TRUE;
}

char *clean_reply_text(const char *text)
{
	compile_once();
	if (text == NULL)
		return g_strdup("");
	g_autofree char *norm = dm_lf_newlines(g_strdup(text));
	char **lines = g_strsplit(norm, "\n", -1);
	guint n = g_strv_length(lines);
	guint cut = find_cut(lines, n);
	gboolean *drop = g_new0(gboolean, n + 1);
	mark_drops(lines, cut, drop);
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < cut; i++) {
		if (drop[i])
			continue;
		g_string_append(out, lines[i]);
		g_string_append_c(out, '\n');
	}
	g_free(drop);
	g_strfreev(lines);
	/* trim blank lines at both ends and collapse runs of 3+ newlines */
	char *s = g_string_free(out, FALSE);
	g_strstrip(s);
	GString *res = g_string_new(NULL);
	int nl = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '\n') {
			if (++nl > 2)
				continue;
		} else {
			nl = 0;
		}
		g_string_append_c(res, *p);
	}
	g_free(s);
	return g_string_free(res, FALSE);
}
