/* mail.h - one parsed incoming e-mail, as plain C types: what mime_parse
 * (src/mime/) makes and the planner (src/core/) and the store (src/store/)
 * read.  No library types, so a layer may read mail without GMime.
 *
 * Every string in a Mail is valid UTF-8 without NUL bytes, so it can go to
 * PostgreSQL as it is.  One Mail owns everything taken from one e-mail
 * (g_malloc'd) and is freed once with mail_free (mime.h). */
#ifndef DESKMAIL_MAIL_H
#define DESKMAIL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	char *name; /* display name, may be NULL */
	char *addr; /* addr-spec, lower-cased (Unicode rules); never NULL */
} MailAddr;

typedef struct {
	char *filename;      /* decoded (RFC 2231/2047); "attachment-N" if none */
	char *content_type;  /* "type/subtype", lower-case */
	char *content_id;    /* without <>, may be NULL */
	bool is_inline;      /* Content-Disposition: inline (e.g. images in HTML) */
	unsigned char *data; /* decoded bytes */
	size_t size;
	char sha256[65]; /* of data, hex: the attachment's identity in the store */
} MailAttachment;

typedef struct {
	MailAddr *from; /* first From mailbox, NULL if none parsable */
	MailAddr *to;
	size_t n_to;
	MailAddr *cc;
	size_t n_cc;
	char *subject;     /* RFC 2047 decoded, may be "" but never NULL */
	char *message_id;  /* without <>, NULL if missing */
	char *in_reply_to; /* first id, without <>, NULL if missing */
	char **references; /* ids without <>, oldest first */
	size_t n_references;
	int64_t date; /* Date: as Unix time, 0 if missing/bad */

	/* RFC 3834 and bounce markers */
	bool is_automatic;      /* never answer automatically */
	char *automatic_reason; /* e.g. "Auto-Submitted: auto-replied"; NULL if not */

	/* delivery status notification (a bounce): set when the mail reports
	 * that a mail could not be delivered (Action: failed, or a
	 * non-standard failure notice); a delay warning is not a bounce.  A
	 * bounce is also is_automatic.  The strings are NULL when it is not a
	 * bounce, and any of them may be NULL in one.  The recipient is the
	 * address as the bounced mail named it (Original-Recipient), else the
	 * Final-Recipient; the diagnostic is the Diagnostic-Code or the
	 * server's text, one line of at most 500 bytes.  src/mime/bounce.c
	 * says where each comes from. */
	bool is_bounce;
	char *bounce_message_id; /* Message-ID of the returned mail, without <>, or NULL */
	char *bounce_recipient;  /* recipient that failed, lower-case addr-spec, or NULL */
	char *bounce_status;     /* e.g. "5.1.1", or NULL */
	char *bounce_diagnostic; /* e.g. "550 5.1.1 <a@b>: User unknown", or NULL */

	/* Authentication-Results values, topmost (added last, by the nearest
	 * server) first; at most MimeLimits.max_auth_results, each cut at
	 * 2000 bytes.  Who wrote each is for src/core/auth.c to decide. */
	char **auth_results;
	size_t n_auth_results;

	char *text;          /* best text body: text/plain, else HTML as text; never NULL */
	char *html;          /* first text/html body as UTF-8, NULL if none */
	bool text_from_html; /* text was made from html */

	MailAttachment *attachments;
	size_t n_attachments;

	size_t n_parse_warnings; /* GMime warnings seen (malformed input) */

	/* hex SHA-256 of the bytes after the header: the same mail delivered
	 * twice has the same, whatever headers the servers on its way added;
	 * a different mail reusing a Message-ID has another */
	char content_sha256[65];

	/* X-Loop header values, lower-cased, joined by ", " (at most 1000
	 * bytes), NULL if none: our own address there means the mail is ours
	 * coming back */
	char *x_loop;

	/* hex SHA-256 of the subject and the text, with white space collapsed,
	 * and the files: the same words again from the same sender (an
	 * autoresponder without headers answering every mail) have the same */
	char repeat_key[65];
} Mail;

#endif
