/* clean.h - the new text of a reply, without quoted history and signature.
 *
 * Works on the plain text of a mail (text/plain, or HTML made into text by
 * mime_html_to_text, which writes the quote containers of mail clients as
 * ">"-quoted lines; see mime.h).  Pure code, no I/O; the full original is
 * kept by the caller.
 *
 * The text is cut at the FIRST boundary of quoted history, and everything
 * from there down is history:
 *  - an attribution line: "On <date>, <name> <addr> wrote:" (or without
 *    its colon when it holds an address) in English,
 *    German, French, Spanish, Catalan, Italian, Dutch, Portuguese, Polish,
 *    Czech, Slovak, Swedish, Danish, Norwegian, Finnish, Greek, Russian,
 *    Ukrainian, Vietnamese, Turkish, Hungarian, Romanian, Chinese, Japanese and
 *    Korean; date-first forms ("2014-03-20 8:48 GMT-07:00 Name <a@b>:",
 *    "ma 20.3.2014 klo 10.00 Name kirjoitti:"); "Name <addr>:" alone; any of
 *    these wrapped over two or three lines.  When a reply and an attribution
 *    share one line ("Thanks! On Mon, ... wrote:") the reply is kept.
 *  - Outlook's header block: From / Sent or Date / To / Cc / Subject in
 *    those languages, in any order, any of them first, "*bold*" or not; two
 *    lines of different kinds with From or Sent/Date among them (a value
 *    may wrap onto one more line), a lone "From: sender" line followed by
 *    a blank line, or "From: a@b Date: ..." on one line.  A rule ("____",
 *    "====") right above is history too, as is an attribution without its
 *    colon ("Am 04.03.26 um 10:15 schrieb Name") right above.
 *  - a separator line: "-----Original Message-----", "Reply Message",
 *    "Antwort Nachricht", "Oprindelig meddelelse", "原始邮件" and kin,
 *    "---- X wrote ----", a forwarded-message line ("---------- Forwarded
 *    message ---------", "Begin forwarded message:", ...).
 *  - a "-- " signature delimiter, a mailing-list footer (a rule, "__" or
 *    longer, with "mailing list", "listinfo" or "unsubscribe" below it),
 *    a device sign-off with more text below it (see Decisions).
 *
 * Decisions:
 *  - Inline replies: ">"-quoted lines are dropped and the text between
 *    them is kept ("> question\nanswer" keeps "answer").  An attribution
 *    followed by a ">" block and then unquoted text is bottom posting or
 *    inline answering: the attribution and the quote go, the text below is
 *    kept, and the scan for history goes on under it.  An attribution (or
 *    other boundary) followed by unquoted text is history: cut there.
 *    Under the sender's own text, a line right under the quote that looks
 *    like the rest of a quoted line whose ">" was lost (lower case, or
 *    after a long quoted line that stops mid-sentence) is history too.
 *  - Device sign-offs ("Sent from my iPhone", "Sent from Yahoo Mail for
 *    iPhone", "Von meinem iPhone gesendet", "iPhoneから送信", ..., with or
 *    without the app's link): removed when they are the last line of the
 *    reply, kept when they are all the reply has.  A sign-off with text of
 *    the sender's above and more text below is a boundary: what follows
 *    is the quoted mail.  A sentence ("Sent from my desk, which ...") or a
 *    motto ("Sent from a dusty laptop") is no sign-off.  A sign-off on
 *    top ("Sent from iPhone" above the text, as some programs put it)
 *    goes too.
 *  - A mail gateway's warning above the sender's text ("CAUTION: This
 *    email originated from outside the organisation. Do not click links or
 *    open attachments ...") goes: a first paragraph that starts with a
 *    warning word and speaks of the outside and of links or attachments.
 *  - All quote: when nothing of the sender's own is above the first
 *    boundary (the mail is all quotation, or starts with the boundary, or a
 *    forwarded mail with nothing above it), the result is the original text,
 *    trimmed, with newlines made LF.  So the result is never empty unless the
 *    input is blank.
 *
 * Cost is linear in the input: patterns run on single lines (or up to seven
 * joined lines) of bounded length, and each line is looked at a bounded
 * number of times. */
#ifndef DESKMAIL_CLEAN_H
#define DESKMAIL_CLEAN_H

/* A staff reply: a forwarded message ("---------- Forwarded message
 * ---------", an Outlook header block whose Subject starts "FW:", also
 * ">"-quoted as HTML-made text writes it) is content: it and everything
 * below it are kept as they are, instead of being cut as history. */
#define CLEAN_KEEP_FORWARDS 1u

/* A staff reply: when nothing of the sender's own is above the history,
 * the result is "" (the reply was commands only), never the quotation:
 * a quoted notification must not be relayed to a client. */
#define CLEAN_NO_FALLBACK 2u

/* Returns g_malloc'd valid UTF-8 (invalid input bytes are replaced),
 * newlines LF, trimmed.  Never NULL; "" only for NULL or blank input. */
char *clean_reply_text_opts(const char *text, unsigned flags);

/* clean_reply_text_opts(text, 0). */
char *clean_reply_text(const char *text);

#endif
