/* clean.c - the new text of a reply: cut at the first boundary of quoted
 * history, drop ">" quotes, signature and device sign-off.
 *
 * The text is read line by line, top down, for the first boundary: an
 * attribution line ("On ... wrote:" and its translations, date-first and
 * "Name <addr>:" forms, also wrapped over up to three lines), an Outlook
 * header block (From/Sent/To/Subject/Date in many languages, in any order), a
 * separator ("-----Original Message-----" and kin), a "-- " signature or a
 * mailing-list footer.  Everything from there down is history.  Above it,
 * ">" lines are dropped and the rest is kept (inline answers).  See clean.h
 * for the decisions.
 *
 * Hostile input: every pattern runs on one line (or up to three joined
 * lines) of bounded length, spans are bounded and the span after the verb
 * cannot backtrack, so the cost is linear in the size of the text.  The
 * patterns are GLib regular expressions compiled once (thread-safe). */
#include <glib.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/util.h"

/* Lines longer than this are never attributions, headers or separators. */
#define MAX_MARKER_LINE 600
/* Lines joined to find a wrapped attribution: each at most this long. */
#define MAX_JOIN_LINE 300
/* Lines looked at below a header line for the rest of the block. */
#define HEADER_WINDOW 8

#define SPC "\\s\\x{a0}\\x{202f}\\x{3000}"
#define SP "[" SPC "]"
#define COLON "[:\\x{ff1a}]"

/* Words that start an attribution line, before the date. */
#define LEAD                                                                                               \
	"(?:On|Am|Le|El|Il|Op|Em|W" SP "+dniu|Den|D\\.|På|Dne|Dňa|Στις|Την|В|У|Vào|Lúc|Dana|" \
	"Kl\\.|Kello|Ngày)"

/* The verb, after which only a name, an address or a parenthesised date
 * comes before the final colon. */
#define VERB                                                                                       \
	"(?:wrote|writes|has\\s+written|schrieb|schreibt|a" SP "+[ée]crit|escribi[óo]|"          \
	"ha" SP "+escrito|ha" SP "+escrit|ha" SP "+scritto|\\bsent|(?:het" SP "+volgende" SP       \
	"+)?geschreven|scrisse|schreef|escreveu|napisa[łl]a?|napisana|skrev|"                     \
	"kirjoitti|naps[ae]la?|έγραψε|написал[аи]?|написав|пише|пишет|va" SP "+escriure|"          \
	"đã" SP "+viết|yazdı|írta|a" SP "+scris|rašė|rakstīja|kirjutas|napisao|napisala|"       \
	"написа|pisze|写道|寫道|書きました|のメール|のメッセージ|님이" SP "*작성|작성)"

/* After the verb: up to 200 characters that are not a colon, a colon
 * inside a time ("schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:"), or a
 * parenthesised part that may hold one ("ezt írta (időpont: ...):").  The
 * parts are disjoint from the colon that ends the line, so no
 * backtracking. */
#define AFTER_VERB "(?:[^:\\x{ff1a}()]|(?<=\\d):(?=\\d)|\\([^()]{0,150}\\)){0,200}" COLON SP "*$"

static const char attr_lead_re[] = "^" SP "*" LEAD SP ".{0,400}?" VERB AFTER_VERB;
static const char attr_tail_re[] = VERB AFTER_VERB;
/* "2014-03-20 8:48 GMT-07:00 Name <a@b>:" and "Name <a@b>:" alone. */
static const char attr_addr_re[] =
	"^.{0,300}?<[^<>\\s]{1,200}@[^<>\\s]{1,200}>" SP "*" COLON SP "*$"
	"|^" SP "*\\d.{0,200}" SP "[^\\s<>@]{1,100}@[^\\s<>@]{1,100}" SP "*" COLON SP "*$";
/* Where a reply and an attribution share one line: "Thanks! On ...",
 * "reply On ...", "reply--- On ...". */
static const char attr_split_re[] = "(?:" SP "+|-{2,}" SP "*)(?=" LEAD SP ")";
/* The first line of a wrapped attribution: its lead word, or a digit
 * (a date) early in the line ("tir. 18. apr. 2017 kl. 13:09 skrev"). */
static const char lead_start_re[] = "^" SP "*(?:" LEAD SP "|[^\\d@]{0,60}[\\d@])";
static const char lead_word_re[] = "^" SP "*" LEAD SP;
/* A line that starts an attribution of its own: its lead word or a date. */
static const char own_start_re[] = "^" SP "*(?:" LEAD SP "|\\d{1,4}(?:[-./年]|" SP "))";
/* An attribution without its colon: "On <date> Name <a@b> wrote", or a
 * date-first "2011/4/7 Name <a@b>" (the latter only right above a quote). */
static const char attr_nocolon_re[] = "^" SP "*" LEAD SP ".{0,300}?" VERB SP "*$";
/* The same with a name after the verb, only right above other history. */
static const char attr_loose_re[] = "^" SP "*" LEAD SP ".{0,300}?" VERB "[^:]{0,120}$";
static const char attr_nocolon_addr_re[] =
	"^" SP "*(?:" LEAD SP "|\\d).{0,250}<[^<>\\s]{1,200}@[^<>\\s]{1,200}>" SP "*$";
/* Gmail's date-first line with a name only: "2016-03-03 17:21 GMT+01:00
 * Name". */
static const char attr_gmail_date_re[] = "^" SP "*\\d{4}-\\d{2}-\\d{2}" SP "+\\d{1,2}:\\d{2}" SP
					 "+GMT[-+]\\d{1,2}:\\d{2}" SP "+[^:]{1,120}$";
/* "From: bob@example.com Date: ..." (HTML made into text) or "Temat: RE:
 * Subject: 2023-01-17 13:46Nadawca: a@b" on one line: a header word after
 * a blank or a digit, and its colon. */
#define INLINE_HDR_WORDS FROM_WORDS "|" DATE_WORDS "|" SUBJ_WORDS "|To"

#define ORIG_PHRASES                                                                                    \
	"Original" SP "+Message|Reply" SP "+Message|Ursprüngliche" SP "+Nachricht|"                     \
	"Original-?Nachricht|Antwort" SP "+Nachricht|Message" SP "+d'origine|"                          \
	"Message" SP "+original|Mensaje" SP "+original|Messaggio" SP "+originale|"                      \
	"Oorspronkelijk" SP "+bericht|Origineel" SP "+bericht|Mensagem" SP "+original|"                 \
	"Původní" SP "+zpráva|Pôvodná" SP "+správa|Oryginalna" SP "+wiadomość|"                       \
	"Wiadomość" SP "+oryginalna|Oprindelig" SP "+meddelelse|Oprindelig" SP                          \
	"+besked|Original" SP "+besked|Opprinnelig" SP "+melding|"                                      \
	"Ursprungligt" SP "+meddelande|Alkuperäinen" SP "+viesti|Eredeti" SP "+üzenet|"                \
	"Исходное" SP "+сообщение|Оригинальное" SP "+сообщение|Вихідне" SP "+повідомлення|" \
	"Оригінальне" SP "+повідомлення|Orijinal" SP "+mesaj|Özgün" SP "+ileti|"                        \
	"Thư" SP "+gốc|Tin" SP "+nhắn" SP "+gốc|Αρχικό" SP "+μήνυμα|Missatge" SP "+original|"           \
	"原始邮件|原始郵件|原始信件|原始消息|回复的邮件|元のメッセージ|원본" SP "*메시지|"           \
	"Izvorna" SP "+poruka|Mesaj" SP "+original"

#define FWD_PHRASES                                                                                   \
	"Forwarded" SP "+message|Forwarded" SP "+e-?mail|Begin" SP "+forwarded" SP "+message|"        \
	"Weitergeleitete" SP "+Nachricht|Anfang" SP "+der" SP "+weitergeleiteten" SP                  \
	"+Nachricht|Message" SP "+transféré|Début" SP "+du" SP "+message" SP "+(?:réexpédié|"      \
	"transféré)|Mensaje" SP "+reenviado|Inicio" SP "+del" SP "+mensaje" SP "+reenviado|"          \
	"Messaggio" SP "+inoltrato|Inizio" SP "+messaggio" SP "+inoltrato|Doorgestuurd" SP            \
	"+bericht|Mensagem" SP "+encaminhada|Início" SP "+da" SP "+mensagem" SP                       \
	"+reencaminhada|Wiadomość" SP "+przekazana|Přeposlaná" SP "+zpráva|Vidarebefordrat" SP        \
	"+meddelande|Videresendt" SP "+(?:meddelelse|melding)|Välitetty" SP "+viesti|"                \
	"Továbbított" SP "+üzenet|Пересылаемое" SP "+сообщение|Пересланное" SP "+сообщение|" \
	"Переслане" SP "+повідомлення|İletilen" SP "+ileti|Tin" SP "+nhắn" SP "+đã" SP                \
	"+chuyển" SP "+tiếp|Προωθημένο" SP "+μήνυμα|Missatge" SP "+reenviat|"                         \
	"转发的邮件|已转发邮件|轉寄的郵件|転送されたメッセージ|전달된" SP "*메시지"

#define SEP_EDGE "[-=_*<>~" SPC "]*"
static const char sep_re[] = "^" SEP_EDGE "(?:" ORIG_PHRASES ")" SEP_EDGE COLON "?" SEP_EDGE "$";
static const char fwd_re[] = "^" SEP_EDGE "(?:" FWD_PHRASES ")" SEP_EDGE COLON "?" SEP_EDGE "$";
/* "---- Bob wrote ----", "---- On Thu, ... Bob wrote ----" */
static const char sep_wrote_re[] = "^" SP "*-{2,}" SP "*.{0,300}?" VERB SP "*-{2,}" SP "*$";

/* Outlook header lines, one pattern per kind; "*From:*" in bold too. */
/* From */
#define FROM_WORDS                                                                                        \
	"From|Von|De|Van|Da|Från|Fra|Od|Lähettäjä|Feladó|Kimden|Gönderen|Từ|От|Від|"         \
	"Від" SP "+кого|Αποστολέας|Από|Remitente|Mittente|Afzender|Avsändare|Afsender|" \
	"Avsender|Nadawca|Odesílatel|Remetente|De" SP "+la|Expéditeur|Absender|发件人|"               \
	"發件人|寄件者|寄件人|差出人|送信者|보낸" SP "*사람"
/* Sent or date */
#define DATE_WORDS                                                                                                        \
	"Sent|Sent" SP "+on|Date|Message" SP "+du|Dato|Gesendet|Datum|Envoyé|Envoyé" SP                                   \
	"+le|Date" SP "+d'envoi|Enviado|Enviado" SP "+el|Enviado" SP "+em|Enviada" SP "+em|Fecha|"                        \
	"Inviato|Data|Verzonden|Verzonden" SP "+op|Verstuurd|Skickat|Sendt|Wysłano|Wysłane|"                            \
	"Odesláno|Lähetetty|Päivämäärä|Отправлено|Дата|Надіслано|Küldve|Elküldve|Dátum|" \
	"Gönderildi|Gönderilme" SP "+Tarihi|Tarih|Đã" SP "+gửi|Ngày|Ngày" SP "+gửi|"                                    \
	"Thời" SP "+gian|发送时间|發送時間|时间|時間|日期|寄件日期|送信日時|日付|보낸" SP                                 \
	"*날짜|날짜|Στάλθηκε|Ημερομηνία|Enviat|Tramès"
/* To */
#define TO_WORDS                                                                                   \
	"To|An|À|A|Para|Aan|Till|Til|Do|Vastaanottaja|Кому|Komu|Címzett|Kime|Alıcı|"       \
	"Đến|Tới|收件人|收件者|宛先|받는" SP "*사람|Προς|Per"
/* Cc, Reply-To */
#define CC_WORDS                                                                                   \
	"Cc|Reply-To|Antwort" SP "+an|Répondre" SP "+à|Responder" SP "+a|Risposta|"                \
	"Kopie|Kopia|Kopie" SP "+an|Copie|Copie" SP                                                \
	"+à|Копия|Копія|抄送|副本|Kopio|Másolat|Bilgi|Kopi|"                       \
	"CC|Bcc|Cco|Kp|Κοιν"
/* Subject */
#define SUBJ_WORDS                                                                                           \
	"Subject|Betreff|Objet|Asunto|Oggetto|Onderwerp|Ämne|Emne|Temat|Předmět|Aihe|"                    \
	"Тема|Tárgy|Konu|Chủ" SP "+đề|Tiêu" SP "+đề|主题|主旨|標題|件名|제목|Θέμα|Assunto|" \
	"Assumpte|Tema|Sujet"
#define HDR(words) "^" SP "*\\*{0,2}" SP "*(?:" words ")" SP "*\\*{0,2}" SP "*" COLON
static const char *const hdr_res[] = {
	HDR(FROM_WORDS), HDR(DATE_WORDS), HDR(TO_WORDS), HDR(CC_WORDS), HDR(SUBJ_WORDS),
};
/* "-------- Original Message --------From: ..." on one line */
static const char sep_inline_re[] = "^" SP "*-{2,}" SP "*(?:" ORIG_PHRASES ")" SP "*-{2,}" SP
				    "*(?:" FROM_WORDS "|" DATE_WORDS ")" SP "*" COLON;
static const char inline_hdr_re[] =
	"(?<=[" SPC "\\d])\\*{0,2}(?:" INLINE_HDR_WORDS ")\\*{0,2}" SP "*" COLON;
enum { H_FROM, H_DATE, H_TO, H_CC, H_SUBJ, H_N };

/* A forwarded mail's subject: "FW:", "Fwd:", "WG:", "TR:", "RV:" ... */
static const char fwd_subject_re[] =
	"^" SP "*\\*{0,2}" SP "*(?:FW|FWD|WG|TR|RV|ENC|VS|VB|I|Doorst|PD|YNT|İLT|Πρθ|"
	"Továbbítás|Пересл|Переслано|转发|轉寄|転送|전달)" SP "*" COLON;

static const char rule_re[] = "^" SP "*(?:_{10,}|-{10,}|={10,}|\\*{10,})" SP "*$";
/* A short rule ("__", "====") above a list footer or right above history. */
static const char short_rule_re[] = "^" SP "*(?:_{2,}|-{2,}|={2,}|\\*{2,})" SP "*$";
static const char list_footer_re[] = "mailing" SP "+list|listinfo|/mailman/|unsubscribe";

/* Device sign-offs ("Sent from my iPhone" and its translations): a short
 * line, no comma, optionally with the app's link.  In English "Sent from"
 * is followed by "my" or an app's name (capitalised words: "Sent from
 * Yahoo Mail for iPhone", "Sent from TypeApp"), so that a sentence ("Sent
 * from my desk, is much easier") or a motto ("Sent from a magnificent torch
 * of pixels") is not one. */
#define SIGNOFF_URL "(?:" SP "*<https?://[^<>\\s]{1,200}>)?" SP "*$"
#define SIGNOFF_END "[^,;:]{1,60}?" SIGNOFF_URL
#define APP_WORD "(?:[A-Z0-9][\\w.+-]{0,30}|iPhone|iPad|iOS|for|on|de|para|per|für|with)"
static const char signoff_re[] =
	"^" SP "*(?:(?i:Sent" SP "+(?:from|via|with|using)" SP "+my" SP ")" SIGNOFF_END "|"
	"(?i:Sent" SP "+(?:from|via|with|using))" SP
	"+(?:[A-Z][\\w.+-]{0,30}|iPhone|iPad|iOS)(?:" SP "+" APP_WORD "){0,5}\\.?" SIGNOFF_URL "|"
	/* "Sent using the mobile mail app", "Sent via mobile": a few words */
	"(?i:Sent" SP "+(?:via|with|using))" SP "+[^,;:.!?]{1,50}" SIGNOFF_URL "|"
	/* "Az iPhone-omról küldve", "Trimis de pe iPhone-ul meu", "Lähetetty
	 * iPhonesta", "Στάλθηκε από το iPhone μου", "iPhone에서 보냄",
	 * "iPhone'umdan gönderildi" */
	"(?i:(?:Az" SP "+)?[^,;:]{1,40}?r[óő]l" SP "+küldve|Trimis" SP "+de" SP "+pe" SP
	"[^,;:]{1,40}|Lähetetty" SP "+[^,;:]{1,40}?st[aä]|Στάλθηκε" SP "+από" SP "[^,;:]{1,40}|"
	"[^,;:]{1,30}?에서" SP "*보냄|[^,;:]{1,30}?(?:dan|den|tan|ten)" SP
	"+gönderildi)" SIGNOFF_URL "|"
	"(?i:(?:Envoyé|Enviado|Enviada|Inviato|Verzonden|Verstuurd|Skickat|Sendt|Wysłane|Wysłano|"
	"Отправлено|Надіслано|Lähetetty|Odesláno|Gönderildi|Küldve|Gesendet)" SP
	"+(?:from|via|with|using|on|de|depuis|desde|do|da|dal|met|vanaf|vanuit|från|fra|z|ze|с|со|"
	"з|"
	"із|mit|von|à" SP "+partir" SP "+de|a" SP "+partir" SP "+de|dall'|dal" SP
	"+mio)" SP SIGNOFF_END "|Von" SP "+meine[mr]" SP SIGNOFF_END "|Get" SP "+Outlook" SP
	"+for" SP SIGNOFF_END "|(?:从|來自|来自|從)我的.{1,30}|.{1,30}から送信))" SP "*$";

/* A sign-off that cuts what follows it (below) must name a device or a
 * mail app, or be the sender's own ("my", "mon", "meinem"): "Sent with DHL
 * Express" or "Sent via our ticket portal" above more text is the sender's
 * text, not the end of it. */
static const char signoff_device_re[] =
	"(?i)\\b(?:(?:my|mon|ma|mein\\w*|mi|mio|mia|meu|min|mitt|mijn|moje\\w*)\\b|iphone|ipad|"
	"android|samsung|galaxy|blackberry|outlook|g?mail\\b|yahoo|aol\\b|mobil|phone|handy|móvil|"
	"cellulare|tablet|smartphone|fairphone|pixel|huawei|xiaomi|typeapp|bluemail|spark\\b|"
	"airmail|proton)|мо(?:[её]м|его|ей|ю)|手机|手機|携帯|スマートフォン|휴대폰";

static GRegex *re_lead, *re_tail, *re_addr, *re_split, *re_lead_start, *re_lead_word, *re_own_start,
	*re_sep, *re_fwd, *re_sep_wrote, *re_hdr[H_N], *re_fwd_subject, *re_rule, *re_short_rule,
	*re_list, *re_signoff, *re_nocolon, *re_nocolon_addr, *re_attr_loose, *re_gmail_date,
	*re_inline_hdr, *re_sep_inline, *re_signoff_device;

static GRegex *compile(const char *pattern, GRegexCompileFlags extra)
{
	GError *e = NULL;
	GRegex *r = g_regex_new(pattern, G_REGEX_OPTIMIZE | extra, 0, &e);
	if (r == NULL)
		g_error("clean: bad pattern: %s", e->message);
	return r;
}

static void compile_once(void)
{
	static gsize done;
	if (g_once_init_enter(&done)) {
		GRegexCompileFlags ci = G_REGEX_CASELESS;
		re_lead = compile(attr_lead_re, ci);
		re_tail = compile(attr_tail_re, ci);
		re_addr = compile(attr_addr_re, ci);
		re_split = compile(attr_split_re, ci);
		re_lead_start = compile(lead_start_re, ci);
		re_own_start = compile(own_start_re, ci);
		re_lead_word = compile(lead_word_re, ci);
		re_sep = compile(sep_re, ci);
		re_fwd = compile(fwd_re, ci);
		re_sep_wrote = compile(sep_wrote_re, ci);
		for (int k = 0; k < H_N; k++)
			re_hdr[k] = compile(hdr_res[k], k == H_TO ? 0 : ci);
		re_fwd_subject = compile(fwd_subject_re, ci);
		re_rule = compile(rule_re, 0);
		re_short_rule = compile(short_rule_re, 0);
		re_nocolon = compile(attr_nocolon_re, ci);
		re_nocolon_addr = compile(attr_nocolon_addr_re, ci);
		re_attr_loose = compile(attr_loose_re, ci);
		re_gmail_date = compile(attr_gmail_date_re, 0);
		re_inline_hdr = compile(inline_hdr_re, ci);
		re_sep_inline = compile(sep_inline_re, ci);
		re_list = compile(list_footer_re, ci);
		re_signoff = compile(signoff_re, 0);
		re_signoff_device = compile(signoff_device_re, 0);
		g_once_init_leave(&done, 1);
	}
}

static gboolean match(const GRegex *re, const char *s)
{
	return g_regex_match(re, s, 0, NULL);
}

static gboolean is_quoted(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '>';
}

static const char *unquote(const char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '>')
		line++;
	return line;
}

static gboolean is_blank(const char *line)
{
	for (; *line; line++)
		if (!g_ascii_isspace(*line))
			return FALSE;
	return TRUE;
}

/* Does the line end with a colon (ASCII or full-width), blanks aside? */
static gboolean ends_with_colon(const char *s, size_t len)
{
	while (len > 0 && g_ascii_isspace(s[len - 1]))
		len--;
	if (len >= 1 && s[len - 1] == ':')
		return TRUE;
	return len >= 3 && memcmp(s + len - 3, "\xef\xbc\x9a", 3) == 0;
}

static gboolean is_rule_char(char c)
{
	return c == '_' || c == '-' || c == '=' || c == '*';
}

static gboolean has_digit_or_at(const char *s)
{
	for (; *s; s++)
		if (g_ascii_isdigit(*s) || *s == '@')
			return TRUE;
	return FALSE;
}

/* Is s (one line or lines joined by blanks) a whole attribution? */
static gboolean is_attribution(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 3 * MAX_JOIN_LINE + 2 || !ends_with_colon(s, len))
		return FALSE;
	if (match(re_lead, s) || match(re_addr, s))
		return TRUE;
	return has_digit_or_at(s) && match(re_tail, s);
}

static gboolean has_digit_before(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (g_ascii_isdigit(s[i]))
			return TRUE;
	return FALSE;
}

/* A reply and an attribution on one line: the length of the reply, or 0. */
static size_t split_attribution(const char *line)
{
	GMatchInfo *mi = NULL;
	size_t at = 0;
	/* a line that starts as an attribution is one whole ("On Thursday,
	 * ..., life is short. on Bob wrote:") */
	if (match(re_lead, line))
		return 0;
	g_regex_match(re_split, line, 0, &mi);
	for (int tries = 0; tries < 4 && g_match_info_matches(mi); tries++) {
		int start, end;
		g_match_info_fetch_pos(mi, 0, &start, &end);
		/* the reply ends a sentence or holds no number: "tir. 18. apr.
		 * 2017 kl. 13:09 skrev" is one attribution */
		if (start > 0 && match(re_lead, line + end) &&
		    (strchr(".!?", line[start - 1]) || !has_digit_before(line, (size_t)start))) {
			at = (size_t)start;
			break;
		}
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	return at;
}

static int header_kind(const char *line)
{
	/* the colon comes within the first few words */
	size_t len = strlen(line);
	if (len > MAX_MARKER_LINE)
		return -1;
	size_t head = len < 48 ? len : 48;
	gboolean colon = memchr(line, ':', head) != NULL;
	for (size_t i = 0; !colon && i + 2 < head; i++) /* full-width colon */
		colon = memcmp(line + i, "\xef\xbc\x9a", 3) == 0;
	if (!colon)
		return -1;
	for (int k = 0; k < H_N; k++)
		if (match(re_hdr[k], line))
			return k;
	return -1;
}

/* The value of a header line, after its colon. */
static const char *header_value(const char *line)
{
	const char *c = strchr(line, ':');
	const char *w = strstr(line, "\xef\xbc\x9a");
	if (c == NULL || (w && w < c))
		c = w ? w + 2 : NULL;
	if (c == NULL)
		return "";
	c++;
	while (*c == ' ' || *c == '*' || *c == '\t')
		c++;
	return c;
}

/* A lone "From:" line: its value looks like a sender, not a sentence. */
static gboolean looks_like_sender(const char *value)
{
	if (strchr(value, '@'))
		return TRUE;
	size_t len = strlen(value);
	if (len == 0 || len > 60 || strchr(".!?,;", value[len - 1]))
		return FALSE;
	int words = 1;
	for (const char *p = value; *p; p++)
		if (*p == ' ')
			words++;
	return words <= 5;
}

/* Outlook's header block at line i: 1 if history, 2 if a forwarded mail's
 * block (subject "FW:"), 0 if none.  A block is two header lines of
 * different kinds, one of them From or Sent/Date, with at most blank lines
 * between; or a lone "From: sender" line followed by a blank line. */
/* header_kind of line j, computed once: kinds[] starts as KIND_UNKNOWN. */
#define KIND_UNKNOWN 100
static int kind_at(char **lines, gint8 *kinds, guint j)
{
	if (kinds[j] == KIND_UNKNOWN)
		kinds[j] = (gint8)header_kind(lines[j]);
	return kinds[j];
}

static int header_block(char **lines, gint8 *kinds, guint n, guint i)
{
	int k0 = kind_at(lines, kinds, i);
	if (k0 < 0)
		return 0;
	unsigned mask = 1u << k0;
	int count = 1;
	gboolean fwd = k0 == H_SUBJ && match(re_fwd_subject, header_value(lines[i]));
	for (guint j = i + 1; j < n && j <= i + HEADER_WINDOW; j++) {
		if (is_blank(lines[j]))
			continue;
		int k = kind_at(lines, kinds, j);
		/* a header's value wrapped onto the next line ("From: Name\n<a@b>",
		 * "[mailto:\n a@b]"): one such line between two header lines */
		if (k < 0 && j + 1 < n && strlen(lines[j]) <= 120 &&
		    kind_at(lines, kinds, j - 1) >= 0 && (k = kind_at(lines, kinds, j + 1)) >= 0)
			j++;
		if (k < 0)
			break;
		mask |= 1u << k;
		count++;
		if (k == H_SUBJ && match(re_fwd_subject, header_value(lines[j])))
			fwd = TRUE;
	}
	gboolean block = count >= 2 && (mask & (mask - 1)) != 0 &&
			 (mask & ((1u << H_FROM) | (1u << H_DATE))) != 0;
	if (!block && count == 1 && k0 == H_FROM && (i + 1 >= n || is_blank(lines[i + 1])) &&
	    looks_like_sender(header_value(lines[i])))
		block = TRUE;
	/* "From: a@b Date: ..." written on one line */
	if (!block && count == 1 && strchr(lines[i], '@') && strlen(lines[i]) <= MAX_MARKER_LINE &&
	    match(re_inline_hdr, header_value(lines[i])))
		block = TRUE;
	if (!block)
		return 0;
	return fwd ? 2 : 1;
}

/* A wrapped attribution starting at line i, joined with the next one or
 * two lines: the number of lines it takes, or 0. */
static guint wrapped_attribution(char **lines, guint n, guint i)
{
	gboolean colon = FALSE;
	for (guint j = i + 1; j < n && j <= i + 2 && !colon; j++)
		colon = ends_with_colon(lines[j], strlen(lines[j]));
	if (!colon || strlen(lines[i]) > MAX_JOIN_LINE || !match(re_lead_start, lines[i]))
		return 0;
	GString *s = g_string_new(lines[i]);
	guint found = 0;
	for (guint j = i + 1; j < n && j <= i + 2 && !found; j++) {
		const char *l = lines[j];
		/* a quoted line only as the end of an address: ">:" */
		if (is_blank(l) || strlen(l) > MAX_JOIN_LINE ||
		    (is_quoted(l) && !(strlen(l) <= 4 && ends_with_colon(l, strlen(l)))))
			break;
		/* an attribution that starts with its lead word on a later line
		 * is found there */
		if (match(re_lead_word, l))
			break;
		/* "Name <\naddr>:" and "<addr\n>:" join without a blank */
		if (s->len == 0 || (s->str[s->len - 1] != '<' && *l != '>'))
			g_string_append_c(s, ' ');
		g_string_append(s, l);
		/* an attribution that starts on the last line is found there */
		if (is_attribution(s->str) && !(match(re_own_start, l) && is_attribution(l)))
			found = j - i + 1;
	}
	g_string_free(s, TRUE);
	return found;
}

/* Polymail's attribution, spread over lines with blank ones between:
 * "On <date> Name\n\n<\nmailto:Name <a@b>\n> wrote:".  The first line
 * has the lead word and a number; the lines are joined (blank ones
 * skipped) up to the first one ending with a colon, at most 6 lines down.
 * Returns the number of lines it takes, or 0. */
static guint spread_attribution(char **lines, guint n, guint i)
{
	const char *l = lines[i];
	if (strlen(l) > MAX_JOIN_LINE || !has_digit_or_at(l) || !match(re_own_start, l) ||
	    g_ascii_isdigit(*unquote(l)))
		return 0;
	guint end = 0;
	for (guint j = i + 1; j < n && j <= i + 6 && end == 0; j++)
		if (strlen(lines[j]) <= MAX_JOIN_LINE &&
		    ends_with_colon(lines[j], strlen(lines[j])))
			end = j;
	if (end == 0)
		return 0;
	GString *s = g_string_new(l);
	for (guint j = i + 1; j <= end; j++)
		if (!is_blank(lines[j])) {
			g_string_append_c(s, ' ');
			g_string_append(s, lines[j]);
		}
	gboolean ok = strchr(s->str, '@') != NULL && match(re_lead, s->str);
	g_string_free(s, TRUE);
	return ok ? end - i + 1 : 0;
}

static gboolean is_wrap_fragment(char **lines, guint n, guint i);

/* Bottom posting and inline answers: an attribution, a ">" block under it
 * (with the pieces of its wrapped lines), then text of the sender's own
 * (careful: not what looks like the rest of a quoted line).  Returns the
 * line after the block if so, or 0. */
/* Does unquoted line l, right under quoted line q, look like the rest of
 * q: it starts in lower case or with a bracket or quote mark, or q is long
 * and stops without ending its sentence? */
static gboolean continues_quote(const char *q, const char *l)
{
	while (*l == ' ' || *l == '\t')
		l++;
	if (g_ascii_islower(*l) || strchr("<'\"([", *l) != NULL)
		return TRUE;
	size_t len = strlen(q);
	while (len > 0 && g_ascii_isspace(q[len - 1]))
		len--;
	return len >= 50 && strchr(".!?:", q[len - 1]) == NULL;
}

static guint quote_then_text(char **lines, guint n, guint after, gboolean careful)
{
	guint j = after;
	while (j < n && is_blank(lines[j]))
		j++;
	if (j >= n || !is_quoted(lines[j]))
		return 0;
	while (j < n &&
	       (is_quoted(lines[j]) || is_blank(lines[j]) || is_wrap_fragment(lines, n, j)))
		j++;
	/* below the sender's text, a line right under the quote may be the
	 * rest of a quoted line whose ">" a mail program lost: history, unless
	 * it stands apart or starts as an answer does */
	if (careful && j < n && is_quoted(lines[j - 1]) && continues_quote(lines[j - 1], lines[j]))
		return 0;
	return j < n ? j : 0;
}

typedef struct {
	guint cut;       /* first line of history (n if none) */
	size_t keep_len; /* bytes of line `cut` that are reply ("Thanks! On ...") */
	guint fwd;       /* with CLEAN_KEEP_FORWARDS: first line of a forwarded mail, or n */
} Bounds;

/* Words of the separator phrases (lowercase): a line without one of them
 * is no separator, and needs no regular expression.  Matching is cheap,
 * but not free, and most lines are plain text. */
static gboolean may_be_separator(const char *l)
{
	static const char *const stems[] = {
		"messag", "nachricht", "bericht", "meddel", "melding",    "wiadomo", "zpráv",
		"správ",  "viesti",    "üzenet",  "сообщ",  "повідом",    "besked",  "mesaj",
		"ileti",  "gốc",       "nhắn",    "μήνυμα", "missatge",   "mensa",   "mail",
		"邮件",   "郵件",      "信件",    "消息",   "メッセージ", "메시지",  "poruka",
		"thư",    "wrote",     NULL};
	size_t len = strlen(l);
	if (len > 200)
		return FALSE;
	/* most lines are ASCII: lower them on the stack */
	char buf[201];
	gboolean ascii = TRUE;
	for (size_t i = 0; i < len; i++) {
		ascii = ascii && (unsigned char)l[i] < 0x80;
		buf[i] = g_ascii_tolower(l[i]);
	}
	buf[len] = '\0';
	g_autofree char *wide = ascii ? NULL : g_utf8_strdown(l, (gssize)len);
	const char *low = ascii ? buf : wide;
	for (int i = 0; stems[i]; i++)
		if (strstr(low, stems[i]))
			return TRUE;
	/* "---- X wrote ----" in other languages */
	while (len > 0 && g_ascii_isspace(l[len - 1]))
		len--;
	return len > 2 && l[len - 1] == '-' && l[len - 2] == '-';
}

static gboolean is_forward_line(const char *l)
{
	return may_be_separator(l) && match(re_fwd, l);
}

static gboolean is_signoff(const char *l)
{
	return strlen(l) <= 100 && match(re_signoff, l);
}

static gboolean has_text_below(char **lines, guint n, guint from)
{
	for (guint j = from; j < n; j++)
		if (!is_blank(lines[j]))
			return TRUE;
	return FALSE;
}

/* An attribution without its colon: "On <date>, Name <a@b> wrote" alone
 * on its line, or a date-first "2011/4/7 Name <a@b>" right above a ">"
 * quote. */
static gboolean is_colonless_attribution(char **lines, guint n, guint i)
{
	const char *l = lines[i];
	if (strlen(l) > MAX_JOIN_LINE)
		return FALSE;
	if (g_ascii_isdigit(*unquote(l)) && match(re_gmail_date, l))
		return TRUE;
	if (strchr(l, '@') == NULL)
		return FALSE;
	if (match(re_nocolon, l))
		return TRUE;
	guint j = i + 1;
	while (j < n && is_blank(lines[j]))
		j++;
	/* quoted with ">" or, as some programs do, "|" */
	return j < n && (is_quoted(lines[j]) || *unquote(lines[j]) == '|') &&
	       match(re_nocolon_addr, l);
}

/* Scan top down for the first boundary.  Attributions of bottom-posted
 * quotes are marked in drop[]. */
static Bounds scan(char **lines, gint8 *kinds, guint n, unsigned flags, gboolean *drop)
{
	gboolean keep_fwd = (flags & CLEAN_KEEP_FORWARDS) != 0;
	gboolean seen_text = FALSE;
	Bounds b = {n, 0, n};
	for (guint i = 0; i < n; i++) {
		const char *l = lines[i];
		if (is_quoted(l)) {
			/* an HTML forward container comes ">"-quoted */
			if (keep_fwd && (i == 0 || !is_quoted(lines[i - 1])) &&
			    is_forward_line(unquote(l))) {
				b.fwd = i;
				return b;
			}
			continue;
		}
		if (is_blank(l))
			continue;
		gboolean text_above = seen_text;
		seen_text = TRUE;
		size_t len = strlen(l);
		if (strcmp(l, "-- ") == 0 || strcmp(l, "--") == 0) {
			b.cut = i;
			return b;
		}
		if (len > MAX_MARKER_LINE)
			continue;
		if (is_forward_line(l)) {
			if (keep_fwd)
				b.fwd = i;
			else
				b.cut = i;
			return b;
		}
		if (may_be_separator(l) &&
		    (match(re_sep, l) || match(re_sep_wrote, l) || match(re_sep_inline, l))) {
			/* Outlook forwards under "Original Message" too */
			guint j = i + 1;
			while (j < n && is_blank(lines[j]))
				j++;
			if (keep_fwd && j < n && header_block(lines, kinds, n, j) == 2)
				b.fwd = i;
			else
				b.cut = i;
			return b;
		}
		int hb = header_block(lines, kinds, n, i);
		if (hb) {
			if (hb == 2 && keep_fwd)
				b.fwd = i;
			else
				b.cut = i;
			return b;
		}
		if (is_rule_char(*unquote(l)) && match(re_short_rule, l)) {
			for (guint j = i + 1; j < n && j <= i + 3; j++)
				if (strlen(lines[j]) < MAX_MARKER_LINE &&
				    match(re_list, lines[j])) {
					b.cut = i;
					return b;
				}
			continue;
		}
		/* a device sign-off with the sender's text above, a blank line and
		 * more below: what follows is the quoted mail, whatever its form */
		if (text_above && i + 1 < n && is_blank(lines[i + 1]) && is_signoff(l) &&
		    match(re_signoff_device, l) && has_text_below(lines, n, i + 1)) {
			b.cut = i;
			return b;
		}
		guint span = is_attribution(l) || is_colonless_attribution(lines, n, i)
				     ? 1
				     : wrapped_attribution(lines, n, i);
		if (span == 0)
			span = spread_attribution(lines, n, i);
		if (span > 0) {
			size_t keep_len = span == 1 ? split_attribution(l) : 0;
			guint next = keep_len ? 0 : quote_then_text(lines, n, i + span, text_above);
			if (next == 0) {
				b.cut = i;
				b.keep_len = keep_len;
				return b;
			}
			/* an attribution, a ">" block, then text: the text is the
			 * sender's (bottom posting, inline answers); go on below */
			for (guint k = i; k < i + span; k++)
				drop[k] = TRUE;
			i = next - 1;
		}
	}
	return b;
}

static Bounds find_bounds(char **lines, guint n, unsigned flags, gboolean *drop)
{
	gint8 *kinds = g_new(gint8, n + 1);
	memset(kinds, KIND_UNKNOWN, n + 1);
	Bounds b = scan(lines, kinds, n, flags, drop);
	g_free(kinds);
	return b;
}

/* A rule ("____", "----") or a device sign-off right above the cut belongs
 * to the history. */
static guint rule_above(char **lines, guint cut)
{
	guint i = cut;
	while (i > 0 && is_blank(lines[i - 1]))
		i--;
	if (i > 0 && strlen(lines[i - 1]) < MAX_MARKER_LINE &&
	    is_rule_char(*unquote(lines[i - 1])) && match(re_short_rule, lines[i - 1]))
		return i - 1;
	/* "Am 20.06.24 um 16:20 schrieb Name" without its colon, right above
	 * the header block it introduces */
	if (i > 0 && strlen(lines[i - 1]) <= MAX_JOIN_LINE && has_digit_or_at(lines[i - 1]) &&
	    match(re_attr_loose, lines[i - 1]))
		return i - 1;
	return cut;
}

/* A quoted line wrapped by a client that forgot the ">": one or two short
 * unquoted lines right between quoted ones, after a long quoted line or
 * starting the way a sentence does not (lowercase, "<", quote marks).  An
 * inline answer starts like a sentence. */
static gboolean is_wrap_fragment(char **lines, guint n, guint i)
{
	guint a = i, z = i;
	if (is_blank(lines[i]) || is_quoted(lines[i]))
		return FALSE;
	if (a > 0 && !is_quoted(lines[a - 1]) && !is_blank(lines[a - 1]))
		a--;
	else if (z + 1 < n && !is_quoted(lines[z + 1]) && !is_blank(lines[z + 1]))
		z++;
	if (a == 0 || z + 1 >= n || !is_quoted(lines[a - 1]) || !is_quoted(lines[z + 1]))
		return FALSE;
	for (guint k = a; k <= z; k++) {
		const char *l = lines[k];
		if (is_blank(l) || strlen(l) >= 80)
			return FALSE;
		while (*l == ' ' || *l == '\t')
			l++;
		/* a piece of a link: one word holding "=", "/" or ")" */
		gboolean link_piece = strpbrk(l, " \t") == NULL && strpbrk(l, "=/)") != NULL;
		gboolean odd_start =
			g_ascii_islower(l[0]) || strchr("<'\"([", l[0]) != NULL || link_piece;
		if (!odd_start && !(strlen(lines[a - 1]) >= 60 && strlen(l) < 60))
			return FALSE;
	}
	return TRUE;
}

/* Does the lowercased text hold one of the words? */
static gboolean has_any(const char *low, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return TRUE;
	return FALSE;
}

/* A mail gateway's warning put above the sender's text ("CAUTION: This
 * email originated from outside the organization. Do not click links or
 * open attachments ..."): it starts with a warning word and speaks of the
 * outside and of links or attachments. */
static gboolean is_banner(const char *para)
{
	static const char *const start[] = {"caution", "warning",   "external", "[external",
					    "[ext]",   "attention", "achtung",  "vorsicht",
					    "extern",  "*external", NULL};
	static const char *const outside[] = {"outside",   "extern", "origin",  "extérieur",
					      "außerhalb", "fuera",  "esterno", NULL};
	static const char *const act[] = {"link",  "attachment", "click",   "anhäng", "anhang",
					  "pièce", "adjunto",    "allegat", NULL};
	if (strlen(para) > MAX_MARKER_LINE)
		return FALSE;
	g_autofree char *low = g_utf8_strdown(para, -1);
	const char *p = low;
	while (*p == ' ' || *p == '\t')
		p++;
	gboolean starts = FALSE;
	for (int i = 0; start[i] && !starts; i++)
		starts = g_str_has_prefix(p, start[i]);
	return starts && has_any(p, outside) && has_any(p, act);
}

/* Before the sender's own text: a gateway's warning paragraph, and a
 * device sign-off some programs put on top ("Sent from iPhone\n\nHi, ..."),
 * go when more text follows. */
static void drop_leading(char **lines, gboolean *keep, guint end)
{
	guint f = 0;
	while (f < end && (!keep[f] || is_blank(lines[f])))
		f++;
	if (f >= end)
		return;
	guint z = f; /* the paragraph: up to 4 lines */
	GString *para = g_string_new(lines[f]);
	while (z + 1 < end && z < f + 3 && keep[z + 1] && !is_blank(lines[z + 1])) {
		z++;
		g_string_append_c(para, ' ');
		g_string_append(para, lines[z]);
	}
	gboolean banner = is_banner(para->str);
	g_string_free(para, TRUE);
	if (!banner && !(z == f && is_signoff(lines[f])))
		return;
	for (guint j = z + 1; j < end; j++)
		if (keep[j] && !is_blank(lines[j])) {
			for (guint k = f; k <= z; k++)
				keep[k] = FALSE;
			return;
		}
}

/* Blank runs of 3+ newlines collapsed to one blank line, ends trimmed. */
static char *tidy(GString *out)
{
	char *s = g_string_free(out, FALSE);
	g_strstrip(s);
	GString *res = g_string_sized_new(strlen(s) + 1);
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

/* The lines of s, split in place (s keeps the text).  Not g_strsplit: it
 * calls strstr on the rest of the text for each line, which a sanitizer's
 * strstr makes quadratic. */
static char **split_lines(char *s, guint *n_r)
{
	GPtrArray *a = g_ptr_array_new();
	g_ptr_array_add(a, s);
	for (char *p = s; *p; p++)
		if (*p == '\n') {
			*p = '\0';
			g_ptr_array_add(a, p + 1);
		}
	*n_r = a->len;
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

char *clean_reply_text_opts(const char *text, unsigned flags)
{
	compile_once();
	if (text == NULL)
		return g_strdup("");
	char *valid = g_utf8_make_valid(text, -1);
	char *norm = dm_lf_newlines(valid);
	size_t norm_len = strlen(norm);
	guint n;
	char **lines = split_lines(norm, &n);
	gboolean *drop = g_new0(gboolean, n + 1);
	Bounds b = find_bounds(lines, n, flags, drop);
	guint end = b.fwd < n ? n : b.cut;
	guint top = b.cut < n && b.keep_len == 0 ? rule_above(lines, b.cut) : b.cut;
	if (top < end)
		end = top;

	/* Which lines above the cut are kept: not ">" quotes, not a quotation
	 * hard-wrapped by a client that forgot the ">" (a short unquoted line
	 * between quoted ones right after a long one).  A forwarded mail is kept
	 * whole. */
	gboolean *keep = g_new0(gboolean, n + 1);
	guint last = n; /* last kept non-blank line */
	for (guint i = 0; i < end; i++) {
		const char *l = lines[i];
		if (i >= b.fwd) {
			keep[i] = TRUE;
		} else if (is_quoted(l) || drop[i]) {
			keep[i] = FALSE;
		} else if (is_wrap_fragment(lines, n, i)) {
			keep[i] = FALSE;
		} else {
			keep[i] = TRUE;
		}
		if (keep[i] && !is_blank(l))
			last = i;
	}
	drop_leading(lines, keep, end);
	gboolean partial = b.cut < n && b.keep_len > 0 && end == b.cut;
	/* a device sign-off as the last line goes, unless it is all there is */
	if (last < n && !partial && last < b.fwd && is_signoff(lines[last])) {
		for (guint i = 0; i < last; i++)
			if (keep[i] && !is_blank(lines[i])) {
				keep[last] = FALSE;
				break;
			}
	}
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < end; i++) {
		if (!keep[i])
			continue;
		g_string_append(out, lines[i]);
		g_string_append_c(out, '\n');
	}
	if (partial)
		g_string_append_len(out, lines[b.cut], (gssize)b.keep_len);
	g_free(keep);
	g_free(drop);
	g_free(lines);
	char *res = tidy(out);
	if (*res == '\0' && !(flags & CLEAN_NO_FALLBACK)) {
		/* nothing of the sender's own above the history: the text as it is */
		g_free(res);
		for (char *p = norm; p < norm + norm_len; p++)
			if (*p == '\0')
				*p = '\n';
		res = g_strstrip(norm);
		return res;
	}
	g_free(norm);
	return res;
}

char *clean_reply_text(const char *text)
{
	return clean_reply_text_opts(text, 0);
}
