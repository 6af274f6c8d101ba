/* test_auth.c - sender verification from Authentication-Results, table-driven:
 * real header shapes (from the corpus and from the big providers), forged
 * headers above and below ours, comments and quoted strings in odd places,
 * organizational-domain alignment, each requirement level; then garbage,
 * every prefix of every header, and the corpus's own headers. */
#include <glib.h>
#include <string.h>

#include "deskmail/auth.h"
#include "deskmail/config.h"

#define T "mx.agency.example"
#define MAXH 6

typedef struct {
	const char *name;
	const char *hdr[MAXH]; /* topmost first */
	const char *trusted;
	const char *from;
	AuthRequire req;
	bool verified, found;
	const char *summary; /* exact; NULL = not checked */
} Case;

/* Real shapes.  Gmail's, as in the corpus (djhelpdesk-pgp.eml; that mail
 * was anonymised: its From and mailfrom are example.com, header.from
 * gmail.com). */
#define GMAIL                                                                                      \
	"mx.google.com;\r\n"                                                                       \
	"       dkim=pass header.i=@gmail.com header.s=20161025 header.b=AArzbi/1;\r\n"            \
	"       arc=pass (i=1 spf=pass spfdomain=gmail.com dkim=pass dkdomain=gmail.com "          \
	"dmarc=pass fromdomain=gmail.com);\r\n"                                                    \
	"       spf=pass (google.com: domain of bugreporter@example.com designates "               \
	"209.85.220.41 as permitted sender) smtp.mailfrom=bugreporter@example.com;\r\n"            \
	"       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=gmail.com"

/* A mailing list through rspamd (rspamd-arcbad.eml) */
#define RSPAMD                                                                                     \
	"mail.highsecure.ru;\n"                                                                    \
	"\tdkim=pass header.d=freebsd.org header.s=dkim header.b=H7pb97c0;\n"                      \
	"\tdkim=fail (body hash did not verify) header.d=outlook.com header.s=selector1 "          \
	"header.b=LWxzK+W8;\n"                                                                     \
	"\tdmarc=fail reason=\"SPF not aligned (relaxed), DKIM not aligned (relaxed)\" "           \
	"header.from=outlook.com (policy=none);\n"                                                 \
	"\tspf=pass (mail.highsecure.ru: domain of owner-freebsd-test@freebsd.org designates "     \
	"96.47.72.81 as permitted sender) smtp.mailfrom=owner-freebsd-test@freebsd.org"

/* Microsoft 365 writes no authserv-id (mimekit-bounce.eml) */
#define MICROSOFT_NO_ID                                                                            \
	"spf=none (sender IP is 185.132.181.12)\n"                                                 \
	" smtp.helo=dispatchb-eu1.ppe-hosted.com; dkim=none (message not signed)\n"                \
	" header.d=none;dmarc=fail action=none\n"                                                  \
	" header.from=hmail.jitbit.com;compauth=softpass reason=202"

/* Microsoft's result shapes, behind an authserv-id of ours */
#define MICROSOFT_SHAPE                                                                            \
	T "; spf=pass (sender IP is 192.0.2.7)\r\n smtp.mailfrom=client.example; dkim=pass "       \
	  "(signature was verified)\r\n header.d=client.example;dmarc=pass action=none\r\n "       \
	  "header.from=client.example;compauth=pass reason=100"

/* Fastmail's, with its many x- methods and bare key=value words */
#define FASTMAIL                                                                                   \
	"mx3.messagingengine.com;\n"                                                               \
	"    dkim=pass (2048-bit rsa key sha256) header.d=client.example "                         \
	"header.i=@client.example header.b=\"Xy1+/AbC\" header.a=rsa-sha256 header.s=fm2 "         \
	"x-bits=2048;\n"                                                                           \
	"    dmarc=pass policy.published-domain-policy=none "                                      \
	"policy.applied-disposition=none policy.evaluated-disposition=none "                       \
	"(p=none,d=none,d.eval=none) policy.policy-from=p header.from=client.example;\n"           \
	"    iprev=pass smtp.remote-ip=192.0.2.8 (mail.client.example);\n"                         \
	"    spf=pass smtp.mailfrom=bounce@client.example smtp.helo=mail.client.example;\n"        \
	"    x-aligned-from=pass (Address match);\n"                                               \
	"    x-me-sender=none;\n"                                                                  \
	"    x-tls=pass smtp.version=TLSv1.3 smtp.cipher=TLS_AES_256_GCM_SHA384 "                  \
	"smtp.bits=256/256;\n"                                                                     \
	"    x-vs=clean score=-100 state=0"

/* OpenDKIM and OpenDMARC behind Postfix */
#define OPENDKIM                                                                                   \
	T ";\n\tdkim=pass (2048-bit key; unprotected) header.d=client.example "                    \
	  "header.i=@client.example header.a=rsa-sha256 header.s=s1 header.b=AbCd1234"
#define OPENDMARC T "; dmarc=pass (p=reject dis=none) header.from=client.example"

static const Case cases[] = {
	/* ---- real shapes ---- */
	{"gmail: dmarc for gmail.com is not for example.com",
	 {GMAIL},
	 "mx.google.com",
	 "bugreporter@example.com",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=pass header.from=gmail.com is not example.com, dkim=pass header.i=gmail.com not "
	 "aligned with example.com, spf=pass smtp.mailfrom=example.com aligned with example.com "
	 "(mx.google.com)"},
	{"gmail: but its spf pass is aligned",
	 {GMAIL},
	 "mx.google.com",
	 "bugreporter@example.com",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "spf=pass smtp.mailfrom=example.com aligned with example.com (mx.google.com)"},
	{"gmail: a gmail.com sender passes dmarc",
	 {GMAIL},
	 "mx.google.com",
	 "someone@gmail.com",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 "dmarc=pass (mx.google.com)"},
	{"rspamd: a list's mail fails dmarc",
	 {RSPAMD},
	 "mail.highsecure.ru",
	 "vstakhov@outlook.com",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=fail, dkim=pass header.d=freebsd.org not aligned with outlook.com, spf=pass "
	 "smtp.mailfrom=freebsd.org not aligned with outlook.com (mail.highsecure.ru)"},
	{"rspamd: and nothing of it is aligned",
	 {RSPAMD},
	 "mail.highsecure.ru",
	 "vstakhov@outlook.com",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"microsoft 365 writes no authserv-id: never ours",
	 {MICROSOFT_NO_ID},
	 T,
	 "x@hmail.jitbit.com",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 false,
	 "no Authentication-Results from " T},
	{"microsoft 365: its first method is no authserv-id",
	 {MICROSOFT_NO_ID},
	 "spf",
	 "x@hmail.jitbit.com",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 false,
	 NULL},
	{"microsoft's result shapes (no space after ';', action=none)",
	 {MICROSOFT_SHAPE},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 "dmarc=pass (" T ")"},
	{"microsoft's shapes: dkim aligned",
	 {T "; dkim=pass (signature was verified) header.d=client.example;dmarc=none "
	    "action=none header.from=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dkim=pass header.d=client.example aligned with client.example (" T ")"},
	{"fastmail: extra methods and bare words are skipped",
	 {FASTMAIL},
	 "mx3.messagingengine.com",
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 "dmarc=pass (mx3.messagingengine.com)"},
	{"fastmail: dkim with x-bits=2048 is still a readable pass",
	 {FASTMAIL},
	 "mx3.messagingengine.com",
	 "alice@mail.client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dkim=pass header.d=client.example aligned with mail.client.example "
	 "(mx3.messagingengine.com)"},
	{"opendmarc's header on top",
	 {OPENDMARC, OPENDKIM},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 "dmarc=pass (" T ")"},
	{"only the topmost of our headers is read",
	 {OPENDKIM, OPENDMARC},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "no dmarc result, dkim=pass header.d=client.example aligned with client.example (" T ")"},

	/* ---- forged headers ---- */
	{"forged pass below our fail",
	 {T "; dmarc=fail header.from=agency.example", T "; dmarc=pass header.from=agency.example"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=fail (" T ")"},
	{"forged pass with another authserv-id above ours",
	 {"evil.example; dmarc=pass header.from=agency.example; dkim=pass header.d=agency.example",
	  T "; dmarc=fail header.from=agency.example"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "dmarc=fail (" T ")"},
	{"forged pass with another authserv-id below ours",
	 {T "; spf=fail smtp.mailfrom=agency.example",
	  "mx.agency.example.evil.example; dmarc=pass header.from=agency.example"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, spf=fail (" T ")"},
	{"look-alike authserv-ids only",
	 {"mx.agency.example2; dmarc=pass", "\"mx.agency.example \"; dmarc=pass",
	  "(mx.agency.example) evil.example; dmarc=pass", "x.mx.agency.example; dmarc=pass",
	  "mx.agency.example.; dmarc=pass", "mx.agency.example=pass; dmarc=pass"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 false,
	 "no Authentication-Results from " T},
	{"our id inside a comment or a reason is no id",
	 {"evil.example (mx.agency.example; dmarc=pass); dkim=pass reason=\"mx.agency.example; "
	  "dmarc=pass\""},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 false,
	 NULL},
	{"forged ones below when ours is missing are ignored",
	 {"mx.client.example; dmarc=pass header.from=agency.example", "evil; dmarc=pass"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 false,
	 "no Authentication-Results from " T},
	{"authserv-id case-insensitive, with a version and comments",
	 {"(our border) MX.Agency.EXAMPLE (v) 1 (why not); dmarc=pass"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"authserv-id as a quoted string",
	 {"\"mx.agency.example\"; dmarc=pass header.from=agency.example"},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"NULL entries are skipped",
	 {NULL},
	 T,
	 "boss@agency.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 false,
	 NULL},

	/* ---- comments and quoted strings in odd places ---- */
	{"comments around every token",
	 {T "(a);(b)dmarc(c)/(d)1(e)=(f)pass(g)header(h).(i)from(j)=(k)client.example(l);(m)"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"a pass inside a nested comment is a comment",
	 {T "; dkim=fail (a (nested; dmarc=pass header.from=client.example) comment) "
	    "header.d=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "no dmarc result, dkim=fail (" T ")"},
	{"an inner comment's ) does not end the outer one",
	 {T "; dkim=fail (x (y) ; dmarc=pass; z) header.d=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "no dmarc result, dkim=fail (" T ")"},
	{"a quoted-pair ) does not end the comment",
	 {T "; spf=fail (a \\) ; dmarc=pass header.from=client.example) "
	    "smtp.mailfrom=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "no dmarc result, spf=fail (" T ")"},
	{"';' in a quoted reason starts no result",
	 {T "; dmarc=fail reason=\"x; dmarc=pass header.from=client.example\" "
	    "header.from=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=fail (" T ")"},
	{"';' in a quoted local-part starts no result",
	 {T "; spf=pass smtp.mailfrom=\"a;dmarc=pass\"@evil.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, spf=pass smtp.mailfrom=evil.example not aligned with client.example "
	 "(" T ")"},
	{"the domain is after the last '@', past a quoted one",
	 {T "; spf=pass smtp.mailfrom=\"x@client.example\"@evil.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, spf=pass smtp.mailfrom=evil.example not aligned with client.example "
	 "(" T ")"},
	{"an unterminated comment hides the rest",
	 {T "; dkim=fail (oops; dmarc=pass"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 NULL},
	{"no result: '; none'",
	 {T "; none"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "no dmarc result (" T ")"},
	{"'none' with comments and nothing after the id",
	 {T " (nothing checked) ; (really) none (at all)", T},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"garbage between results is skipped",
	 {T "; ,,, @@@ ; ===; dmarc ; spf=pass smtp.mailfrom=client.example ;;"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"garbage after a pass's properties makes it unreadable",
	 {T "; spf=pass smtp.mailfrom=client.example ]]] ; ===; dmarc"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"garbage after the result makes a pass unreadable",
	 {T "; spf=pass ]]] smtp.mailfrom=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, spf=pass (unreadable) (" T ")"},
	{"an unreadable aligned dkim pass is no pass",
	 {T "; dkim=pass header.d=client.example ]]]"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, dkim=pass (unreadable) (" T ")"},
	{"clean results after an unreadable one still count",
	 {T "; spf=pass ]]] smtp.mailfrom=client.example; dkim=pass header.d=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},

	/* ---- organizational domains ---- */
	{"subdomain signer aligned (co.uk)",
	 {T "; dkim=pass header.d=mail.example.co.uk"},
	 T,
	 "a@example.co.uk",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dkim=pass header.d=mail.example.co.uk aligned with example.co.uk (" T ")"},
	{"parent signer aligned with a subdomain From",
	 {T "; dkim=pass header.d=example.co.uk"},
	 T,
	 "a@support.mail.example.co.uk",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"two organizations under co.uk",
	 {T "; dkim=pass header.d=other.co.uk"},
	 T,
	 "a@example.co.uk",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, dkim=pass header.d=other.co.uk not aligned with example.co.uk (" T ")"},
	{"a public suffix signer aligns with nothing",
	 {T "; dkim=pass header.d=co.uk; spf=pass smtp.mailfrom=uk"},
	 T,
	 "a@example.co.uk",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"private suffixes count: two github.io sites",
	 {T "; dkim=pass header.d=evil.github.io"},
	 T,
	 "a@good.github.io",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"header.i's domain when there is no header.d",
	 {T "; dkim=pass header.i=@mail.client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dkim=pass header.i=mail.client.example aligned with client.example (" T ")"},
	{"header.d before header.i",
	 {T "; dkim=pass header.i=@client.example header.d=esp.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"case, a final dot and IDNA",
	 {T "; dkim=pass header.d=Mail.XN--BCHER-KVA.de."},
	 T,
	 "a@bücher.de",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dkim=pass header.d=mail.xn--bcher-kva.de aligned with xn--bcher-kva.de (" T ")"},
	{"dkim pass for another domain",
	 {T "; dkim=pass header.d=esp.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, dkim=pass header.d=esp.example not aligned with client.example (" T ")"},
	{"any aligned dkim pass counts",
	 {T "; dkim=pass header.d=esp.example; dkim=fail header.d=client.example; dkim=pass "
	    "header.d=client.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"a failed aligned signature is no pass",
	 {T "; dkim=fail header.d=client.example; dkim=pass header.d=esp.example"},
	 T,
	 "alice@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"spf pass for an ESP's bounce domain",
	 {T "; spf=pass smtp.mailfrom=bounces+123-abc=client.example@em123.sendgrid.net"},
	 T,
	 "news@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, spf=pass smtp.mailfrom=em123.sendgrid.net not aligned with "
	 "client.example (" T ")"},
	{"spf pass for an ESP, but its dkim signs for the client",
	 {T "; spf=pass smtp.mailfrom=bounces@em123.sendgrid.net; dkim=pass "
	    "header.d=client.example"},
	 T,
	 "news@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"spf pass for a custom return path",
	 {T "; spf=pass smtp.mailfrom=<b-1@bounce.client.example>"},
	 T,
	 "news@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "spf=pass smtp.mailfrom=bounce.client.example aligned with client.example (" T ")"},
	{"spf: the null sender is checked by its HELO name",
	 {T "; spf=pass smtp.mailfrom= smtp.helo=mail.client.example"},
	 T,
	 "postmaster@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "spf=pass smtp.helo=mail.client.example aligned with client.example (" T ")"},
	{"spf: an empty mailfrom at the end",
	 {T "; spf=pass smtp.helo=mail.client.example smtp.mailfrom=; dkim=none"},
	 T,
	 "postmaster@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"white space before a value is no empty value",
	 {T "; dkim=pass header.d= (c) client.example header.s=x"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dkim=pass header.d=client.example aligned with client.example (" T ")"},
	{"spf: <> is the null sender",
	 {T "; spf=pass smtp.helo=mail.client.example smtp.mailfrom=<>"},
	 T,
	 "postmaster@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"spf: HELO only",
	 {T "; spf=pass smtp.helo=mail.client.example"},
	 T,
	 "postmaster@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 NULL},
	{"spf: the mailfrom is used before the HELO",
	 {T "; spf=pass smtp.mailfrom=x@esp.example smtp.helo=mail.client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"spf: softfail is no pass",
	 {T "; spf=softfail smtp.mailfrom=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "no dmarc result, spf=softfail (" T ")"},
	{"spf: the pre-RFC smtp.mail property is not read",
	 {T "; spf=pass smtp.mail=a@client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},

	/* ---- dmarc ---- */
	{"dmarc pass without header.from",
	 {T "; dmarc=pass"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"dmarc pass for a subdomain is not for the From domain",
	 {T "; dmarc=pass header.from=mail.client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=pass header.from=mail.client.example is not client.example (" T ")"},
	{"names are case-insensitive",
	 {T "; DMARC=Pass Header.From=Client.Example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"a pass and a fail for the From domain contradict",
	 {T "; dmarc=pass header.from=client.example; dmarc=fail header.from=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=pass and dmarc=fail for client.example (" T ")"},
	{"... in either order, also with aligned",
	 {T "; dmarc=temperror; dmarc=pass header.from=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 "dmarc=pass and dmarc=temperror for client.example (" T ")"},
	{"a fail for another author's domain does not matter",
	 {T "; dmarc=fail header.from=other.example; dmarc=pass header.from=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"bestguesspass is not pass",
	 {T "; dmarc=bestguesspass header.from=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=bestguesspass (" T ")"},
	{"header.from as an address (as sender-id wrote it)",
	 {T "; dmarc=pass header.from=no-reply@client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
	{"an unreadable dmarc pass is no pass",
	 {T "; dmarc=pass header.from client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "dmarc=pass (unreadable) (" T ")"},
	{"a method version",
	 {T "; dmarc/1=pass header.from=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},

	/* ---- requirement levels ---- */
	{"level dmarc: an aligned dkim pass is not enough",
	 {T "; dkim=pass header.d=client.example; spf=pass smtp.mailfrom=client.example"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "no dmarc result, dkim=pass header.d=client.example aligned with client.example, "
	 "spf=pass smtp.mailfrom=client.example aligned with client.example (" T ")"},
	{"level aligned: dmarc pass is enough",
	 {T "; dmarc=pass header.from=client.example; dkim=fail; spf=fail"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 true,
	 true,
	 "dmarc=pass (" T ")"},
	{"level none: always verified",
	 {T "; dmarc=fail"},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_NONE,
	 true,
	 true,
	 "not required; dmarc=fail (" T ")"},
	{"level none: even without a trusted server or a From",
	 {T "; dmarc=fail"},
	 NULL,
	 NULL,
	 AUTH_REQUIRE_NONE,
	 true,
	 false,
	 NULL},
	{"no trusted server configured",
	 {T "; dmarc=pass"},
	 NULL,
	 "a@client.example",
	 AUTH_REQUIRE_DMARC,
	 false,
	 false,
	 "no trusted server is configured (auth.trusted_authserv_id)"},
	{"an empty trusted id is none",
	 {"; dmarc=pass"},
	 "",
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 false,
	 "no trusted server is configured (auth.trusted_authserv_id)"},
	{"no headers at all",
	 {NULL},
	 T,
	 "a@client.example",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 false,
	 "no Authentication-Results from " T},

	/* ---- From addresses ---- */
	{"no From address",
	 {T "; dmarc=pass"},
	 T,
	 NULL,
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 "the From address has no valid domain"},
	{"From without a domain",
	 {T "; dmarc=pass"},
	 T,
	 "alice",
	 AUTH_REQUIRE_ALIGNED,
	 false,
	 true,
	 NULL},
	{"From with an empty domain",
	 {T "; dmarc=pass"},
	 T,
	 "alice@",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 NULL},
	{"From with an address literal",
	 {T "; dmarc=pass"},
	 T,
	 "alice@[192.0.2.1]",
	 AUTH_REQUIRE_DMARC,
	 false,
	 true,
	 NULL},
	{"From's domain after its last '@'",
	 {T "; dmarc=pass header.from=client.example"},
	 T,
	 "\"x@evil.example\"@client.example",
	 AUTH_REQUIRE_DMARC,
	 true,
	 true,
	 NULL},
};

static size_t count_headers(const Case *c)
{
	size_t n = 0;
	while (n < MAXH && c->hdr[n] != NULL)
		n++;
	return n;
}

/* what every verdict must be, whatever went in */
static void assert_summary_clean(const AuthVerdict *v)
{
	g_assert_cmpuint(strlen(v->summary), >, 0);
	g_assert_cmpuint(strlen(v->summary), <, sizeof v->summary);
	g_assert_true(g_utf8_validate(v->summary, -1, NULL));
	for (const char *p = v->summary; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_assert_false(g_unichar_iscntrl(c));
	}
}

static void test_case(gconstpointer data)
{
	const Case *c = data;
	size_t n = count_headers(c);
	/* poison: auth_check must fill everything */
	AuthVerdict v;
	memset(&v, 0x55, sizeof v);
	auth_check(n ? c->hdr : NULL, n, c->trusted, c->from, c->req, &v);
	g_test_message("%s -> verified=%d found=%d \"%s\"", c->name, v.verified, v.found,
		       v.summary);
	g_assert_cmpint(v.verified, ==, c->verified);
	g_assert_cmpint(v.found, ==, c->found);
	if (c->summary != NULL)
		g_assert_cmpstr(v.summary, ==, c->summary);
	assert_summary_clean(&v);

	/* the header array is the one to read: an array with a NULL in front
	 * of the same headers gives the same verdict */
	const char *shifted[MAXH + 1] = {NULL};
	for (size_t i = 0; i < n; i++)
		shifted[i + 1] = c->hdr[i];
	AuthVerdict w;
	auth_check(shifted, n + 1, c->trusted, c->from, c->req, &w);
	g_assert_cmpint(w.verified, ==, v.verified);
	g_assert_cmpstr(w.summary, ==, v.summary);
}

static void test_require_words(void)
{
	static const struct {
		const char *word;
		int want; /* -1: refused */
	} words[] = {
		{"none", AUTH_REQUIRE_NONE},
		{"aligned", AUTH_REQUIRE_ALIGNED},
		{"dmarc", AUTH_REQUIRE_DMARC},
		{"DMARC", -1},
		{"", -1},
		{"dmarc ", -1},
		{"spf", -1},
		{NULL, -1},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		AuthRequire r = (AuthRequire)42;
		int rc = auth_require_parse(words[i].word, &r);
		if (words[i].want < 0) {
			g_assert_cmpint(rc, ==, -1);
			g_assert_cmpint(r, ==, 42); /* untouched */
		} else {
			g_assert_cmpint(rc, ==, 0);
			g_assert_cmpint(r, ==, words[i].want);
			g_assert_cmpstr(auth_require_name(r), ==, words[i].word);
		}
	}
	g_assert_cmpstr(auth_require_name((AuthRequire)42), ==, "?");
	/* config.h stores the requirement as ints: the same values, the same
	 * words (test_config reads "dmarc" as CFG_AUTH_DMARC) */
	g_assert_cmpint(AUTH_REQUIRE_NONE, ==, CFG_AUTH_NONE);
	g_assert_cmpint(AUTH_REQUIRE_ALIGNED, ==, CFG_AUTH_ALIGNED);
	g_assert_cmpint(AUTH_REQUIRE_DMARC, ==, CFG_AUTH_DMARC);
}

/* The summary is bounded and clean whatever the trusted id holds. */
static void test_summary_bounds(void)
{
	AuthVerdict v;
	g_autofree char *long_id = g_strnfill(400, 'm');
	auth_check(NULL, 0, long_id, "a@client.example", AUTH_REQUIRE_DMARC, &v);
	assert_summary_clean(&v);
	g_assert_cmpuint(strlen(v.summary), ==, sizeof v.summary - 1);
	g_assert_true(g_str_has_prefix(v.summary, "no Authentication-Results from mmm"));

	/* a two-byte character across the cut is left out whole */
	for (size_t pad = 0; pad < 4; pad++) {
		g_autofree char *fill = g_strnfill(220 + pad, 'x');
		g_autofree char *id = g_strdup_printf("%sä", fill);
		auth_check(NULL, 0, id, "a@client.example", AUTH_REQUIRE_DMARC, &v);
		assert_summary_clean(&v);
	}

	/* control characters (C0 and C1) and invalid UTF-8 never get through */
	auth_check(NULL, 0, "mx\r\nX-Evil: 1\x7f\xc2\x85", "a@client.example", AUTH_REQUIRE_DMARC,
		   &v);
	assert_summary_clean(&v);
	g_assert_cmpstr(v.summary, ==, "no Authentication-Results from mx??X-Evil: 1???");
	auth_check(NULL, 0, "mx\xff\xfe", "a@client.example", AUTH_REQUIRE_DMARC, &v);
	assert_summary_clean(&v);
	g_assert_cmpstr(v.summary, ==, "no Authentication-Results from mx");
}

/* Every prefix of every header of the table, and every header with each
 * byte replaced by each of the grammar's special characters: no crash, a
 * clean summary, and a verdict only if the trusted header was found. */
static void test_garbage(void)
{
	static const char specials[] = "();=./\"\\@ \n\t,";
	size_t runs = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const Case *c = &cases[i];
		for (size_t h = 0; h < count_headers(c); h++) {
			const char *hdr = c->hdr[h];
			size_t len = strlen(hdr);
			for (size_t cut = 0; cut <= len; cut++) {
				g_autofree char *pre = g_strndup(hdr, cut);
				const char *one[] = {pre};
				AuthVerdict v;
				auth_check(one, 1, T, "a@client.example", AUTH_REQUIRE_ALIGNED, &v);
				assert_summary_clean(&v);
				g_assert_true(!v.verified || v.found);
				runs++;
			}
			g_autofree char *mut = g_strdup(hdr);
			for (size_t k = 0; k < len; k++) {
				for (const char *s = specials; *s; s++) {
					char saved = mut[k];
					mut[k] = *s;
					const char *one[] = {mut};
					AuthVerdict v;
					auth_check(one, 1, T, "a@client.example",
						   AUTH_REQUIRE_ALIGNED, &v);
					assert_summary_clean(&v);
					mut[k] = saved;
					runs++;
				}
			}
		}
	}
	g_test_message("%zu runs", runs);
	g_assert_cmpuint(runs, >, 10000);
}

/* Huge and deeply nested input is read in linear time: a million open
 * parentheses, quotes or results take well under a second each. */
static void test_bounded(void)
{
	const size_t big = 1000000;
	g_autofree char *parens = g_strnfill(big, '(');
	g_autofree char *quotes = g_strnfill(big, '"');
	g_autoptr(GString) many = g_string_new(T);
	while (many->len < big)
		g_string_append(many, "; dkim=pass header.d=esp.example (x (y) z)");
	g_autofree char *after_id = g_strconcat(T "; spf=pass smtp.mailfrom=", parens, NULL);
	const char *inputs[] = {parens, quotes, many->str, after_id};
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		gint64 t0 = g_get_monotonic_time();
		const char *one[] = {inputs[i]};
		AuthVerdict v;
		auth_check(one, 1, T, "a@client.example", AUTH_REQUIRE_ALIGNED, &v);
		gint64 us = g_get_monotonic_time() - t0;
		g_test_message("input %zu: %" G_GINT64_FORMAT " us, \"%s\"", i, us, v.summary);
		assert_summary_clean(&v);
		g_assert_false(v.verified);
		g_assert_cmpint(us, <, 2 * G_USEC_PER_SEC);
	}
	/* the many results were all read: the last one decides */
	g_string_append(many, "; dkim=pass header.d=client.example");
	const char *one[] = {many->str};
	AuthVerdict v;
	auth_check(one, 1, T, "a@client.example", AUTH_REQUIRE_ALIGNED, &v);
	g_assert_true(v.verified);
}

/* ---------- the corpus's own headers ---------- */

/* The unfolded values of every Authentication-Results header of a raw mail,
 * top first (a small reader for the test: the real one is in src/mime). */
static GPtrArray *corpus_headers(const char *raw, size_t len, char **from_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	GString *cur = NULL;
	const char *p = raw, *end = raw + len;
	*from_r = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break; /* end of the header */
		if ((*p == ' ' || *p == '\t') && cur != NULL) {
			g_string_append_len(cur, p, (gssize)ll);
		} else {
			if (cur != NULL)
				g_ptr_array_add(out, g_string_free(cur, FALSE));
			cur = NULL;
			if (g_ascii_strncasecmp(p, "Authentication-Results:", 23) == 0)
				cur = g_string_new_len(p + 23, (gssize)(ll - 23));
			if (*from_r == NULL && g_ascii_strncasecmp(p, "From:", 5) == 0) {
				g_autofree char *f = g_strndup(p + 5, ll - 5);
				char *lt = strrchr(f, '<'), *gt = lt ? strchr(lt, '>') : NULL;
				if (lt && gt) /* Name <addr> */
					*from_r = g_ascii_strdown(lt + 1, gt - lt - 1);
				else /* addr (Comment) */
					*from_r = g_ascii_strdown(g_strstrip(f), -1);
				if (*from_r != NULL)
					(*from_r)[strcspn(*from_r, " (")] = '\0';
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (cur != NULL)
		g_ptr_array_add(out, g_string_free(cur, FALSE));
	return out;
}

static void test_corpus(void)
{
	const char *dir = g_getenv("DM_CORPUS");
	if (dir == NULL || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_test_skip("DM_CORPUS not set");
		return;
	}
	static const struct {
		const char *file, *trusted;
		AuthRequire req;
		bool verified;
		const char *summary_part;
	} known[] = {
		{"rspamd-arcbad.eml", "mail.highsecure.ru", AUTH_REQUIRE_ALIGNED, false,
		 "dkim=pass header.d=freebsd.org not aligned with outlook.com"},
		{"rspamd-arcallow.eml", "mx.google.com", AUTH_REQUIRE_DMARC, true, "dmarc=pass"},
		{"sisimai-rfc3464-57.eml", "mx.google.com", AUTH_REQUIRE_DMARC, true, "dmarc=pass"},
		{"spamscope-mail_test_6.eml", "mxs.test.it", AUTH_REQUIRE_ALIGNED, true,
		 "dkim=pass header.d=ggg.com aligned with ggg.com"},
		{"mimekit-bounce.eml", "spf", AUTH_REQUIRE_ALIGNED, false,
		 "no Authentication-Results from spf"},
	};
	size_t seen = 0, known_seen = 0;
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(name, ".eml"))
			continue;
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *raw = NULL;
		gsize len = 0;
		g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
		g_autofree char *from = NULL;
		g_autoptr(GPtrArray) h = corpus_headers(raw, len, &from);
		for (size_t r = 0; r < 3; r++) {
			AuthVerdict v;
			auth_check((const char *const *)h->pdata, h->len, "mx.google.com", from,
				   (AuthRequire)r, &v);
			assert_summary_clean(&v);
		}
		seen += h->len > 0;
		for (size_t k = 0; k < G_N_ELEMENTS(known); k++) {
			if (strcmp(name, known[k].file) != 0)
				continue;
			AuthVerdict v;
			auth_check((const char *const *)h->pdata, h->len, known[k].trusted, from,
				   known[k].req, &v);
			g_test_message("%s (%s): %s", name, from, v.summary);
			g_assert_cmpint(v.verified, ==, known[k].verified);
			g_assert_nonnull(strstr(v.summary, known[k].summary_part));
			known_seen++;
		}
	}
	g_test_message("%zu corpus mails with Authentication-Results", seen);
	g_assert_cmpuint(seen, >, 10);
	g_assert_cmpuint(known_seen, ==, G_N_ELEMENTS(known));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *name = g_strdup_printf("/auth/case/%zu", i);
		g_test_add_data_func(name, &cases[i], test_case);
	}
	g_test_add_func("/auth/require-words", test_require_words);
	g_test_add_func("/auth/summary-bounds", test_summary_bounds);
	g_test_add_func("/auth/garbage", test_garbage);
	g_test_add_func("/auth/bounded", test_bounded);
	g_test_add_func("/auth/corpus", test_corpus);
	return g_test_run();
}
