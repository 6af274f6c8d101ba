#!/bin/bash
# replysuites.sh FIXTURES [BUILD_DIR] - measure deskmail's clean text
# against the public test suites of other reply parsers.
#
# Not a test and not run by meson: the suites' fixtures are third-party
# and are never committed.  FIXTURES holds one directory per suite, named
# owner+repo, each a tree of that repository, e.g.
#   git -C /work/.mirror/mailgun+talon/repo archive HEAD | tar -x -C FIXTURES/mailgun+talon
# for crisp-oss/email-reply-parser, willdurand/EmailReplyParser,
# github/email_reply_parser, zapier/email-reply-parser, mailgun/talon,
# closeio/quotequail, discourse/email_reply_trimmer,
# EdgeTier/email-reply-parser and alfonsrv/mail-parser-reply (missing
# ones are skipped).
#
# Each case (a fixture file, or a string in the suite's test source, with
# the expected visible text the suite's test asserts) is made into a mail
# (text/plain, text/html, or the .eml as it is), parsed by src/mime and
# cleaned the way ingest does for a client's reply (plan_above_marker,
# clean_reply_text, the whole text when that is empty) by a small driver
# linked against BUILD_DIR's static libraries (default: build).  The
# result is compared after whitespace is collapsed (HTML expectations:
# with all whitespace removed, as talon's and quotequail's tests do).
# Prints the pass rate per suite and overall, and the cases cut to empty
# (INGEST=1: then again for the bodies `deskmail ingest` stored, on real
# servers started by tests/lib/servers.sh);
# the failures, with what was wanted and got, are in $WORK/cases/failures.txt
# (WORK: a new temporary directory unless set; VERBOSE=1 lists them).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 FIXTURES [BUILD_DIR]" >&2; exit 2; }
fix=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$src/build}
case $build in /*) ;; *) build=$src/$build ;; esac
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
cat >"$WORK/driver.c" <<'C_EOF'
/* driver.c - run each case through deskmail's parse + clean the way ingest
 * does (plan_mail.c client_reply / plan_staff.c plan_staff_reply).
 * stdin: lines "role\tkind\tinput\toutput" (role client|staff, kind text|html|eml). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "deskmail/clean.h"
#include "deskmail/command.h"
#include "deskmail/mime.h"
#include "deskmail/plan.h"

static char *run(const char *role, const char *kind, const char *body, gsize blen)
{
	GString *raw = g_string_new(NULL);
	if (strcmp(kind, "eml") == 0) {
		g_string_append_len(raw, body, (gssize)blen);
	} else {
		g_string_append_printf(raw,
				       "From: Sender <sender@example.org>\r\nTo: desk@example.com\r\n"
				       "Subject: Re: [#1] Help\r\nMessage-ID: <x1@example.org>\r\n"
				       "MIME-Version: 1.0\r\nContent-Type: text/%s; charset=utf-8\r\n"
				       "Content-Transfer-Encoding: 8bit\r\n\r\n",
				       strcmp(kind, "html") == 0 ? "html" : "plain");
		g_string_append_len(raw, body, (gssize)blen);
	}
	MimeLimits lim;
	mime_limits_default(&lim);
	Mail *m = NULL;
	if (mime_parse((const unsigned char *)raw->str, raw->len, &lim, &m, NULL) != 0) {
		g_string_free(raw, TRUE);
		return g_strdup("<<PARSE ERROR>>");
	}
	g_string_free(raw, TRUE);
	if (strcmp(role, "render") == 0) {
		char *r = g_strdup(m->text);
		mail_free(m);
		return r;
	}
	char *above = plan_above_marker(m->text);
	char *res;
	if (strcmp(role, "staff") == 0) {
		CommandSet cs;
		command_parse(above, &cs);
		res = clean_reply_text_opts(cs.rest ? cs.rest : "",
					    CLEAN_KEEP_FORWARDS | CLEAN_NO_FALLBACK);
		command_set_clear(&cs);
	} else {
		char *clean = clean_reply_text(above);
		res = *clean ? g_strdup(clean) : g_strdup(m->text);
		g_free(clean);
	}
	g_free(above);
	mail_free(m);
	return res;
}

int main(void)
{
	mime_global_init();
	char line[8192];
	while (fgets(line, sizeof line, stdin)) {
		g_strchomp(line);
		char **f = g_strsplit(line, "\t", 4);
		if (g_strv_length(f) == 4) {
			char *body = NULL;
			gsize len = 0;
			if (g_file_get_contents(f[2], &body, &len, NULL)) {
				char *out = run(f[0], f[1], body, len);
				g_file_set_contents(f[3], out, -1, NULL);
				g_free(out);
				g_free(body);
			}
		}
		g_strfreev(f);
	}
	return 0;
}
C_EOF
cat >"$WORK/cases.py" <<'PY_EOF'
#!/usr/bin/env python3
"""cases.py FIXTURES OUTDIR - the cases of other reply parsers' public test
suites, as deskmail inputs and expected visible text.

FIXTURES holds one directory per suite, named owner+repo, each the
repository's tree (as /work/.mirror/owner+repo, git archive).  Writes
OUTDIR/cases.tsv: suite, name, role, kind (text|html|eml), input file,
check (exact|contains|html-nows), expected file.  Expectations are the
suites' own: an exact string from the test, COMMON (the suites' lorem
fragment), 'upto REGEX' (the fixture's text above the first line matching
REGEX: the test asserts the next fragment starts there), 'same' (the
text unchanged: one fragment), or contains/absent checks where the test
only asserts those."""
import ast, json, os, re, sys

FIX, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT + "/in", exist_ok=True)
rows = []

def rd(path):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        return f.read()

def add(suite, name, body, want, kind="text", role="client", check="exact"):
    base = f"{suite}__{name}"
    base = re.sub(r"[^A-Za-z0-9_.+-]", "_", base)
    ip = f"{OUT}/in/{base}.{kind}"
    with open(ip, "w", encoding="utf-8", newline="") as f:
        f.write(body)
    wp = f"{OUT}/in/{base}.want"
    with open(wp, "w", encoding="utf-8") as f:
        f.write(json.dumps(want) if check == "contains" else want)
    rows.append((suite, name, role, kind, ip, check, wp))

def upto(text, rx):
    lines = text.replace("\r\n", "\n").split("\n")
    r = re.compile(rx)
    for i, l in enumerate(lines):
        if r.search(l):
            return "\n".join(lines[:i])
    raise SystemExit(f"upto {rx}: no line")

def fixture_cases(suite, d, table, common):
    for name, exp in table:
        p = f"{FIX}/{suite}/{d}/{name}"
        if not os.path.exists(p):
            print("missing", p, file=sys.stderr)
            continue
        body = rd(p)
        if exp == "COMMON":
            add(suite, name, body, common)
        elif exp == "same":
            add(suite, name, body, body)
        elif isinstance(exp, tuple) and exp[0] == "upto":
            add(suite, name, body, upto(body, exp[1]))
        elif isinstance(exp, dict):
            add(suite, name, body, exp, check="contains")
        else:
            add(suite, name, body, exp)

def js_common(path):
    s = rd(path)
    m = re.search(r"COMMON_FIRST_FRAGMENT = '(.*?)';", s, re.S)
    return m.group(1).replace("\\n\\\n", "\n").replace("\\\n", "")

# ---- crisp-oss/email-reply-parser (JS; fixtures test/fixtures) ----
S = "crisp-oss+email-reply-parser"
if os.path.isdir(f"{FIX}/{S}"):
    C = js_common(f"{FIX}/{S}/test/test.js")
    ON = ("upto", r"^On ")
    t = [("email_1.txt", ("upto", r"^__\s*$")),  # the test's text: all above the footer
         ("email_3.txt", ON),
         ("email_4.txt", ON), ("email_5.txt", "same"), ("email_6.txt", ON)]
    for n in ["email_7", "email_8", "email_9", "email_10", "email_11", "email_12", "email_13",
              "email_14", "email_15", "email_16", "email_17", "email_18", "email_22", "email_23",
              "email_24", "email_25", "email_26", "email_portuguese", "email_german",
              "email_german_2", "email_german_3", "email_german_outlook", "email_norwegian_gmail",
              "email_finnish", "email_italian", "email_russian", "email_outlook_split_line_from",
              "email_gmail_split_line_from", "email_ios_outlook_fr", "email_ios_outlook",
              "email_msn", "email_fr_multiline", "email_french_2", "email_en_multiline_2",
              "email_original_message", "email_original_message_2", "email_danish_dash_separator",
              "email_french_dash_separator", "email_tricky_5_mixed_languages",
              "email_tricky_10_special_chars_in_name", "email_tricky_12_no_space_after_header",
              "email_tricky_14_long_quote_header", "email_tricky_15_original_message_variations"]:
        t.append((n + ".txt", "COMMON"))
    t += [("correct_sig.txt", ("upto", r"^--\s*$")), ("sig_no_empty_line.txt", ("upto", r"^--\s*$")),
          ("email_one_is_not_on.txt", ("upto", r"^On Oct 1, 2012")),
          ("email_sent_from.txt", ("upto", r"^Sent from")),
          ("email_emoji.txt", "same"),
          ("email_not_a_signature.txt", "same"), ("email_not_a_signature_2.txt", "same"),
          ("email_reply_header.txt", ("upto", r"^On Wed, Dec 9")),
          ("email_zoho.txt", ("upto", r"^---- On ")),
          ("email_with_regards.txt", ("upto", r"^Regards,")),
          ("email_tricky_1_on_false_positive.txt", "same"),
          ("email_tricky_2_url_with_wrote.txt", {"has": ["Check out this article", "https://example.com"]}),
          ("email_tricky_3_code_block.txt", {"has": ["function sendEmail"]}),
          ("email_tricky_6_regards_in_sentence.txt", {"has": ["with regards to the payment"]}),
          ("email_tricky_7_multiple_dashes.txt", {"has": ["Key Points"]}),
          ("email_tricky_8_sent_from_in_content.txt", {"has": ["sent from my iPhone app"]}),
          ("email_tricky_9_nested_quotes.txt", {"has": ["I agree with the points"]}),
          ("email_tricky_11_double_signature.txt", {"has": ["Thanks for your help"]}),
          ("email_tricky_13_timestamp_variations.txt", "same"),
          ("email_tricky_16_unicode_signatures.txt", {"has": ["Thanks for the update"]}),
          ("email_tricky_17_forward_header.txt", {"has": ["See the forwarded message"]}),
          ("email_tricky_19_quote_without_header.txt", {"has": ["I wanted to respond"]}),
          ("email_tricky_20_html_entities.txt", {"has": ["&gt; 100 and &lt; 200"]})]
    fixture_cases(S, "test/fixtures", t, C)

WD2 = None
# ---- willdurand/EmailReplyParser (PHP; tests/Fixtures) ----
S = "willdurand+EmailReplyParser"
if os.path.isdir(f"{FIX}/{S}"):
    php = rd(f"{FIX}/{S}/tests/EmailReplyParser/Tests/Parser/EmailParserTest.php")
    C = re.search(r"COMMON_FIRST_FRAGMENT = '(.*?)';", php, re.S).group(1)
    top = rd(f"{FIX}/{S}/tests/EmailReplyParser/Tests/EmailReplyParserTest.php")
    WD2 = re.search(r"testParseReply\(\).*?<<<EMAIL\n(.*?)\nEMAIL", top, re.S).group(1)
    u231 = re.search(r"email_23_1.txt.*?<<<EMAIL\n(.*?)\nEMAIL", php, re.S).group(1)
    ON = ("upto", r"^On ")
    t = [("email_1.txt", ("upto", r"^-Abhishek")),  # the signature is hidden
         ("email_3.txt", ("upto", r"^-Abhishek")), ("email_2.txt", WD2),
         ("email_4.txt", ON), ("email_5.txt", "same"), ("email_6.txt", ON)]
    for n in ["email_7", "email_8", "email_9", "email_10", "email_11", "email_12", "email_13",
              "email_14", "email_15", "email_16", "email_17", "email_18", "email_22", "email_23",
              "email_norwegian_gmail"]:
        t.append((n + ".txt", "COMMON"))
    t += [("email_23_1.txt", u231),
          ("email_zimbra_free_fr.txt", {"has": ["Michael Scott"], "not": ["Toby Flenderson"]}),
          ("email_zimbra_free_en.txt", {"has": ["Michael Scott"], "not": ["Toby Flenderson"]}),
          ("correct_sig.txt", ("upto", r"^--\s*$")), ("sig_no_empty_line.txt", ("upto", r"^--\s*$")),
          ("email_one_is_not_on.txt", ("upto", r"^On Oct 1, 2012")),
          ("email_custom_quote_header.txt", "Thank you!"),
          ("email_customer_quote_header_2.txt", "Thank you very much."),
          ("email_customer_quote_header_3.txt", "bonjour,\nje n'ai pas eu de retour sur ma précision..\nmerci d'avance"),
          ("email_19.txt", ("upto", r"^On Dec 16")), ("email_20.txt", ("upto", r"^> On May 17")),
          ("email_iphone.txt", "Here is another email"), ("email_blackberry.txt", "Here is another email"),
          ("email_w10_mail.txt", "Great thanks Bort, going for a test now.\nBraxton"),
          ("email_multi_word_sent_from_my_mobile_device.txt", "Here is another email"),
          ("email_sent_from_my_not_signature.txt", "Here is another email\n\nSent from my desk, is much easier then my mobile phone."),
          ("email_2_1.txt", "Outlook with a reply"),
          ("email_bullets.txt", "test 2 this should list second\n\nand have spaces\n\nand retain this formatting\n\n\n   - how about bullets\n   - and another"),
          ("email_unquoted_reply.txt", "This is my reply."),
          ("email_thread.txt", ("upto", r"^On Nov 21, 2014"))]
    fixture_cases(S, "tests/Fixtures", t, C)
    tpl = rd(f"{FIX}/{S}/tests/Fixtures/email_with_date_headers.txt")
    dates = re.findall(r"array\(['\"](.*?)['\"]\),", php[php.index("getDateFormats"):php.index("getFromHeaders")])
    for i, dt in enumerate(dates):
        add(S, f"date_header_{i+1}", tpl.replace("[DATE]", dt), "Thank you very much.")

# ---- github/email_reply_parser (Ruby; test/emails) and zapier's Python port ----
for S, d in [("github+email_reply_parser", "test/emails"), ("zapier+email-reply-parser", "test/emails")]:
    if not os.path.isdir(f"{FIX}/{S}"):
        continue
    ON = ("upto", r"^On ")
    z = S.startswith("zapier")
    t = [("email_1_1.txt", {"has": ["folks"], "not": ["riak-users"]} if z else ("upto", r"^-Abhishek")),
         ("email_1_3.txt", ("upto", r"^-Abhishek")),
         ("email_1_2.txt", {"has": ["You can list the keys for the bucket"]} if z else ("upto", r"^>")),
         ("email_1_8.txt", {"has": ["I will reply", "and under this."]}),
         ("email_1_4.txt", ON), ("email_1_5.txt", "same"), ("correct_sig.txt", ("upto", r"^--\s*$")),
         ("email_1_6.txt", ON), ("email_1_7.txt", ON),
         ("email_2_1.txt", "Outlook with a reply"), ("email_2_2.txt", "Outlook with a reply directly above line"),
         ("email_2_3.txt", "Outlook with a reply above headers using unusual format" if z else "Outlook with a reply directly above line"),
         ("email_iPhone.txt", "Here is another email"), ("email_BlackBerry.txt", "Here is another email"),
         ("email_multi_word_sent_from_my_mobile_device.txt", "Here is another email"),
         ("email_sent_from_my_not_signature.txt", "Here is another email\n\nSent from my desk, is much easier then my mobile phone."),
         ("email_bullets.txt", "test 2 this should list second\n\nand have spaces\n\nand retain this formatting\n\n\n   - how about bullets\n   - and another"),
         ("email_one_is_not_on.txt", ("upto", r"^On Oct 1, 2012")),
         ("greedy_on.txt", ("upto", r"^On 9 Jan 2014")),
         ("email_sig_delimiter_in_middle_of_line.txt", "same")]
    if z:
        t = [x for x in t if x[0] not in ("email_BlackBerry.txt", "email_multi_word_sent_from_my_mobile_device.txt",
                                          "email_sent_from_my_not_signature.txt", "email_bullets.txt", "email_1_8.txt", "email_1_3.txt")]
        t += [("email_gmail.txt", "This is a test for inbox replying to a github message."),
              ("email_partial_quote_header.txt", {"has": ["On your remote host you can run:", "telnet 127.0.0.1 52698", "This should connect to TextMate"]}),
              ("email_headers_no_delimiter.txt", "And another reply!")]
    fixture_cases(S, d, t, None)
    if not z:
        add(S, "non_ascii", "Here\u2019s a test.", "Here\u2019s a test.")

# ---- mailgun/talon (Python): text_quotations_test.py, standard replies, HTML ----
def py_strings(tree_src):
    """For each test function: its eq_(A, quotations.extract_from_X(B)) pairs,
    names bound to string literals resolved."""
    tree = ast.parse(tree_src)
    out = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        env = {}
        k = 0
        for node in ast.walk(fn):
            pass
        for st in fn.body:
            for node in ast.walk(st):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    try:
                        env[node.targets[0].id] = ast.literal_eval(node.value)
                    except Exception:
                        pass
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "eq_" and len(node.args) >= 2:
                    a, b = node.args[0], node.args[1]
                    def val(x):
                        if isinstance(x, ast.Name):
                            return env.get(x.id)
                        if isinstance(x, ast.Call) and getattr(x.func, "attr", "") == "sub" and len(x.args) == 2:
                            return val(x.args[1])
                        try:
                            return ast.literal_eval(x)
                        except Exception:
                            return None
                    call = b
                    if isinstance(b, ast.Call) and getattr(b.func, "attr", "") == "sub":
                        call = b.args[1]
                    if not (isinstance(call, ast.Call) and getattr(call.func, "attr", "").startswith("extract_from_")):
                        continue
                    want, msg = val(a), val(call.args[0]) if call.args else None
                    if isinstance(want, str) and isinstance(msg, str):
                        k += 1
                        out.append((fn.name + ("" if k == 1 else f"_{k}"), call.func.attr, msg, want))
    return out

S = "mailgun+talon"
if os.path.isdir(f"{FIX}/{S}"):
    src = rd(f"{FIX}/{S}/tests/text_quotations_test.py")
    skip = {"test_too_many_lines"}  # patched MAX_LINES_COUNT=1: a limit of talon's own
    for name, how, msg, want in py_strings(src):
        if name.split("_2")[0] in skip or name in skip:
            continue
        add(S, name, msg, want)
    for ind in ["Original Message", "Reply Message", "Ursprüngliche Nachricht", "Antwort Nachricht", "Oprindelig meddelelse"]:
        add(S, "original_message_" + ind.replace(" ", "_"), f"Test reply\n\n-----{ind}-----\n\nTest", "Test reply")
    sr = f"{FIX}/{S}/tests/fixtures/standard_replies"
    for fn in sorted(os.listdir(sr)):
        if fn.endswith(".eml"):
            rt = f"{sr}/{fn[:-4]}_reply_text"
            want = rd(rt).strip() if os.path.exists(rt) else "Hello"
            add(S, "standard_" + fn[:-4], rd(f"{sr}/{fn}"), want, kind="eml")
    hsrc = rd(f"{FIX}/{S}/tests/html_quotations_test.py")
    for name, how, msg, want in py_strings(hsrc):
        if how != "extract_from_html" or not msg.strip():
            continue
        add(S, "html_" + name, msg, want, kind="html", check="html-nows")
    for fn in sorted(os.listdir(f"{FIX}/{S}/tests/fixtures/html_replies")):
        add(S, "html_reply_" + fn, rd(f"{FIX}/{S}/tests/fixtures/html_replies/{fn}"),
            "Hi. I am fine.\n\nThanks,\nAlex", kind="html")
    add(S, "html_OLK_SRC_BODY_SECTION", rd(f"{FIX}/{S}/tests/fixtures/OLK_SRC_BODY_SECTION.html"), "Reply", kind="html")
    add(S, "html_reply_separated_by_hr", rd(f"{FIX}/{S}/tests/fixtures/reply-separated-by-hr.html"), "Hi\nthere", kind="html")

# ---- closeio/quotequail (Python): quote() and quote_html() ----
def qq_cases(path):
    tree = ast.parse(rd(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize":
            try:
                params = ast.literal_eval(node.args[1])
            except Exception:
                continue
            yield from params

S = "closeio+quotequail"
if os.path.isdir(f"{FIX}/{S}"):
    for i, (text, _, intro) in enumerate(qq_cases(f"{FIX}/{S}/tests/test_quote.py")):
        if intro and intro[0][0] and intro[0][1].strip():
            add(S, f"quote_{i+1}", text, intro[0][1])
    for i, (html, _, intro) in enumerate(qq_cases(f"{FIX}/{S}/tests/test_quote_html.py")):
        if intro and intro[0][0]:
            add(S, f"quote_html_{i+1}", html, intro[0][1], kind="html", check="html-nows")

# ---- discourse/email_reply_trimmer (Ruby): test/emails/X -> test/trimmed/X ----
S = "discourse+email_reply_trimmer"
if os.path.isdir(f"{FIX}/{S}"):
    for fn in sorted(os.listdir(f"{FIX}/{S}/test/emails")):
        tp = f"{FIX}/{S}/test/trimmed/{fn}"
        if fn.endswith(".txt") and os.path.exists(tp):
            add(S, fn, rd(f"{FIX}/{S}/test/emails/{fn}"), rd(tp))

# ---- EdgeTier/email-reply-parser (Python): cut_off_at_signature(include=True
# unless noted) and parse_reply expectations: exact, or its start/end ----
S = "EdgeTier+email-reply-parser"
if os.path.isdir(f"{FIX}/{S}"):
    P = "Ten tekst powinien pojawi\u0107 si\u0119 w tre\u015bci"
    yes = "Yes that would be fine"
    t = [("email_polish_1.txt", P), ("email_polish_2.txt", P), ("email_polish_3.txt", P),
         ("email_polish_4.txt", P), ("email_with_two_headers.txt", "This is the main content"),
         ("email_portuguese_1.txt", "This is the main body"), ("email_portuguese_2.txt", "Here is the actual email"),
         ("email_romanian_1.txt", "This is the actual email"), ("email_german_2.txt", "This is a german email"),
         ("email_greek_1.txt", {"ends": "\u0391\u03c0\u03cc \u03c4\u03bf\u03bd \u0386\u03b4\u03b7"}),
         ("email_malformed_thread_header.txt", {"ends": "que cet e-mail est analys\u00e9 correctement"}),
         ("email_portuguese_3.txt", {"starts": "This is a test", "ends": "This should be included"}),
         ("sent_from_device_in_thread.txt", yes), ("sent_from_device_in_thread_english.txt", yes),
         ("sent_from_device_in_thread_hungarian.txt", yes), ("sent_from_device_in_thread_dutch.txt", yes),
         ("sent_from_device_in_thread_romanian.txt", yes),
         ("sent_from_device_in_thread_portuguese.txt", "Yes o Would like the price ajustament of 26\u20ac and i Will keep the boots"),
         ("sent_from_device_in_thread_german.txt", "Hallo.Bis heute weis ich nicht ob diese Creolie welche ich habe nicht bekommen sind mir gut geschrieben LgElisabeth"),
         ("email_iphone_french.txt", {"ends": "Au revoir,\n\nKelsier"}),
         ("email_iphone_portuguese.txt", {"ends": "Adeus,\n\nOtis"}),
         ("email_iphone_polish.txt", {"ends": "Do widzenia,\n\nTriss"}),
         ("email_iphone_finnish.txt", {"ends": "Hyv\u00e4sti,\n\nTorin"}),
         ("email_iphone_start.txt", {"starts": "Hi,\n\nCase where the"}),
         ("email_iphone_start_german.txt", {"starts": "Hallo,\n\nFall, in dem das"}),
         ("email_with_stars_signoff.txt", {"ends": "Jim"}),
         ("email_with_quoted_text.txt", {"ends": "Tony"}),
         ("spanish_signoff.txt", {"ends": "Salud"}),
         ("email_with_header_warning.txt", {"starts": "Hi,", "ends": "Thanks"}),
         ("george_best.txt", {"starts": "Dear George Best,", "ends": "Phil"}),
         ("dutch_beste_example.txt", {"starts": "Beste,", "ends": "Timmy"}),
         ("french_signoff.txt", {"ends": "Il est signal\u00e9 site innaxecible"}),
         ("german_signoff.txt", {"ends": "Mit freundlichen Gr\u00fc\u00dfen"}),
         ("german_signoff_2.txt", {"ends": "Freundliche Gr\u00fc\u00dfe"}),
         ("original_message_german.txt", {"ends": "Mit freundlichen Gr\u00fc\u00dfen"}),
         ("original_message_german_2.txt", {"ends": "Mit freundlichen Gr\u00fc\u00dfen"}),
         ("forwarded_message_french.txt", {"ends": "Bonne fin de journ\u00e9e"}),
         ("sincerely_message.txt", {"ends": "Paul"}), ("best_example.txt", {"ends": "Paul"}),
         ("bet_at_home_bottom_posting.txt", {"has": ["Guten Tag,", "Ich werde keine Fotos meiner Kreditkarte machen"]}),
         ("vielen_dank_mid_message.txt", {"has": ["vielen Dank f\u00fcr Ihre Anfrage!", "W\u00e4re sch\u00f6n, wenn wir Ihnen damit eine kleine Freude machen.", "Sollten Sie Fragen haben, stehen wir selbstverst\u00e4ndlich gerne zur Verf\u00fcgung."]}),
         ("bet_at_home_footer_separator.txt", {"has": ["Ich werde keine Fotos"], "not": ["bet-at-home.com Internet Ltd.", "**. . . . . . . . . .**", "4Y5JPX"]}),
         ("swiss_german_signoff_with_quoted_thread.txt", {"has": ["K\u00f6nnten Sie bitte"], "not": ["schrieb am", "Gerne best\u00e4tigen"]}),
         ("email_gmail.txt", "This is a test for inbox replying to a github message."),
         ("email_2_1.txt", "Outlook with a reply"), ("email_2_2.txt", "Outlook with a reply directly above line"),
         ("email_2_3.txt", "Outlook with a reply above headers using unusual format"),
         ("email_headers_no_delimiter.txt", "And another reply!")]
    fixture_cases(S, "test/emails", t, None)

# ---- alfonsrv/mail-parser-reply (Python): what the latest reply holds and
# what only the quoted ones hold ----
S = "alfonsrv+mail-parser-reply"
if os.path.isdir(f"{FIX}/{S}"):
    t = [("email_ja_1_2.txt", {"has": ["\u304a\u4e16\u8a71\u306b\u306a\u3063\u3066\u304a\u308a\u307e\u3059\u3002\u7e54\u7530\u3067\u3059\u3002", "\u305d\u308c\u3067\u306f 11:00 \u306b\u304a\u5f85\u3061\u3057\u3066\u304a\u308a\u307e\u3059\u3002"], "not": ["\u304b\u3057\u3053\u307e\u308a\u307e\u3057\u305f", "\u660e\u65e5\u306e 11:00 \u3067\u304a\u9858\u3044\u3044\u305f\u3057\u307e\u3059"]}),
         ("email_ja_1_1.txt", {"has": ["\u3053\u3093\u306b\u3061\u306f"]}),
         ("email_pl_1_2.txt", {"not": ["Dnia 28 lutego 2023 14:00 Anna Nowak"]}),
         ("email_pl_1_1.txt", {"has": ["Czesc Anno"]}),
         ("email_swedish_1.txt", {"has": ["Urs\u00e4kta mitt sena svar!"], "not": ["Hej Person B,"]}),
         ("email_swedish_2.txt", {"has": ["Hello Anna,"]}),
         ("email_sv_anon_1.txt", {"has": ["Ber\u00e4ttar g\u00e4rna."], "not": ["Kan inte se att det st\u00e5r n\u00e5got", "Jag har f\u00f6rs\u00f6kt f\u00e5 tag"]}),
         ("email_danish_1.txt", {"has": ["Hej Peter,"], "not": ["Hej Anders,"]}),
         ("email_danish_2.txt", {"has": ["Jeg har modtaget filerne."], "not": ["Her er filerne du bad om."]}),
         ("email_danish_3.txt", {"has": ["Svar."], "not": ["Oprindelig besked."]}),
         ("email_danish_4.txt", {"has": ["Svar."], "not": ["-----Oprindelig meddelelse-----", "Fra: Peter"]}),
         ("email_danish_5.txt", {"has": ["Svar."]}),
         ("email_2_3.txt", {"has": ["Outlook with a reply above headers using unusual format"], "not": ["Ei tale aliquam"]}),
         ("email_nl_1_2.txt", {"has": ["Outlook met een antwoord"], "not": ["Google Apps Sync Team"]}),
         ("email_2_1.txt", {"has": ["Outlook with a reply"], "not": ["Google Apps Sync Team"]}),
         ("email_headers_no_delimiter.txt", {"has": ["And another reply!"], "not": ["A reply", "This is a message."]}),
         ("email_sent_from_not_signature.txt", "Here is another email\n\nSent from my desk, is much easier than my mobile phone."),
         ("email_sent_from_iPhone.txt", "Here is another email"),
         ("email_sent_from_multi_word_mobile_device.txt", "Here is another email"),
         ("email_sent_from_BlackBerry.txt", "Here is another email")]
    fixture_cases(S, "test/emails", t, None)

with open(f"{OUT}/cases.tsv", "w") as f:
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows), "cases", file=sys.stderr)
PY_EOF
cat >"$WORK/run.py" <<'PY_EOF'
#!/usr/bin/env python3
"""run.py WORKDIR DRIVER - run cases.tsv through the driver, compare, report."""
import json, os, re, subprocess, sys, collections
W, DRV = sys.argv[1], sys.argv[2]
verbose = "-v" in sys.argv
rows = [l.rstrip("\n").split("\t") for l in open(f"{W}/cases.tsv", encoding="utf-8")]
os.makedirs(f"{W}/out", exist_ok=True)
jobs = []
for suite, name, role, kind, ip, check, wp in rows:
    op = f"{W}/out/" + os.path.basename(ip) + ".got"
    jobs.append(f"{role}\t{kind}\t{ip}\t{op}")
    if check == "html-nows":
        jobs.append(f"render\thtml\t{wp}\t{wp}.txt")
ingest = "--ingest" in sys.argv  # compare the bodies `deskmail ingest` stored
if ingest:
    jobs = [j for j in jobs if j.startswith("render\t")]
subprocess.run([DRV], input="\n".join(jobs) + "\n", text=True, check=True)
outdir = f"{W}/ingest" if ingest else f"{W}/out"

def norm(s):
    return " ".join(s.split())
def nows(s):
    s = "\n".join(re.sub(r"^[>\s]+", "", l) for l in s.split("\n"))
    return re.sub(r"\s+", "", s)

stats = collections.OrderedDict()
empty = []
fails = []
for suite, name, role, kind, ip, check, wp in rows:
    got = open(f"{outdir}/" + os.path.basename(ip) + ".got", encoding="utf-8").read()
    st = stats.setdefault(suite, [0, 0, 0])
    inp = open(ip, encoding="utf-8", errors="replace").read()
    if check == "contains":
        w = json.load(open(wp))
        ok = (all(norm(h) in norm(got) for h in w.get("has", []))
              and not any(norm(n) in norm(got) for n in w.get("not", []))
              and norm(got).startswith(norm(w.get("starts", "")))
              and norm(got).endswith(norm(w.get("ends", ""))) and bool(norm(got)))
        want = json.dumps(w)
    elif check == "html-nows":
        want = open(wp + ".txt", encoding="utf-8").read()
        if not nows(want):
            continue  # the suite expects nothing kept: not a reply case (see README)
        ok = nows(got) == nows(want)
    else:
        want = open(wp, encoding="utf-8").read()
        if not norm(want):
            continue
        ok = norm(got) == norm(want)
    st[1] += 1
    if ok:
        st[0] += 1
    else:
        fails.append((suite, name, want, got))
    if not got.strip() and inp.strip():
        st[2] += 1
        empty.append(f"{suite}/{name}")
tp = tt = te = 0
for s, (p, t, e) in stats.items():
    print(f"{s:32s} {p:4d}/{t:<4d} {100.0*p/t:5.1f} %  empty {e}")
    tp += p; tt += t; te += e
print(f"{'overall':32s} {tp:4d}/{tt:<4d} {100.0*tp/tt:5.1f} %  empty {te}")
with open(f"{W}/failures.txt", "w") as f:
    for s, n, w, g in fails:
        f.write(f"=== {s}/{n}\n--- want:\n{w}\n--- got:\n{g}\n\n")
if verbose:
    for s, n, w, g in fails:
        print(f"FAIL {s}/{n}")
PY_EOF
cc -O1 -g -I"$src/include" -I"$build" $(pkg-config --cflags glib-2.0) "$WORK/driver.c" -o "$WORK/driver" \
	-Wl,--start-group "$build/libdmcore.a" "$build/libdmutil.a" "$build/libdmmime.a" -Wl,--end-group \
	$(pkg-config --libs glib-2.0 gmime-3.0 libxml-2.0 libpsl)
rm -rf "$WORK/cases"
python3 "$WORK/cases.py" "$fix" "$WORK/cases"
python3 "$WORK/run.py" "$WORK/cases" "$WORK/driver" ${VERBOSE:+-v}
echo "failures: $WORK/cases/failures.txt"
[ "${INGEST:-0}" = 1 ] || exit 0

# INGEST=1: the same cases through `deskmail ingest` on real servers
# (tests/lib/servers.sh), each as a client's reply to one ticket, compared
# on the message body stored; this is what the figures above must match.
cat >"$WORK/mkmails.py" <<'PY_EOF'
#!/usr/bin/env python3
"""mkmails.py CASEDIR OUTDIR: each case as a client's reply to ticket @@T@@
(from alice@acme.example), for `deskmail ingest`."""
import os, re, sys
W, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)
drop = re.compile(rb"^(from|to|cc|bcc|subject|message-id|in-reply-to|references|reply-to|sender|return-path|delivered-to|auto-submitted|precedence|list-[a-z-]+|x-[a-z0-9-]+|received|date|dkim-signature|thread-[a-z-]+):", re.I)
n = 0
for line in open(f"{W}/cases.tsv", encoding="utf-8"):
    suite, name, role, kind, ip, check, wp = line.rstrip("\n").split("\t")
    body = open(ip, "rb").read()
    n += 1
    head = (b"From: Alice Archer <alice@acme.example>\r\nTo: support@agency.example\r\n"
            b"Subject: Re: [#@@T@@] Suite ticket\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            b"Message-ID: <suite%d@acme.example>\r\n" % n)
    if kind == "eml":
        sep = re.search(rb"\r?\n\r?\n", body)
        hdr, rest = body[:sep.start()], body[sep.start():]
        keep, skipping = [], False
        for h in re.split(rb"\r?\n", hdr):
            if h[:1] in (b" ", b"\t"):
                if not skipping:
                    keep.append(h)
                continue
            skipping = bool(drop.match(h))
            if not skipping:
                keep.append(h)
        mail = head + b"\r\n".join(keep) + rest
    else:
        ct = b"text/html" if kind == "html" else b"text/plain"
        mail = head + b"MIME-Version: 1.0\r\nContent-Type: " + ct + b"; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    open(f"{OUT}/{os.path.basename(ip)}.eml", "wb").write(mail)
PY_EOF
(
	set +e # the server helpers are not written for errexit
	export DESKMAIL=$build/deskmail DM_SRCDIR=$src
	. "$src/tests/lib/servers.sh"
	. "$src/tests/lib/mail.sh"
	. "$src/tests/lib/convo.sh"
	dm_servers_start >/dev/null
	dm_write_conf
	dm_fixture
	W=$DM_TEST_DIR/work
	mkdir -p "$W" "$WORK/cases/ingest"
	dm_mail "$W/a" 'alice@acme.example' 'Suite ticket' 'The first mail of the ticket.'
	dm ingest "$W/a" >/dev/null 2>&1
	T=$(dm_psql -c "select id from ticket where subject = 'Suite ticket'")
	python3 "$WORK/mkmails.py" "$WORK/cases" "$W/mails"
	for f in "$W"/mails/*.eml; do
		sed -i "s/@@T@@/$T/" "$f"
		b=$(basename "$f" .eml)
		if dm ingest "$f" >/dev/null 2>&1; then
			dm_psql -c "select body from message where ticket_id = $T and direction = 'in' order by id desc limit 1" >"$WORK/cases/ingest/$b.got"
		else
			echo "INGEST FAILED" >"$WORK/cases/ingest/$b.got"
		fi
	done
	dm_servers_stop
) || true
echo "through deskmail ingest:"
python3 "$WORK/run.py" "$WORK/cases" "$WORK/driver" --ingest ${VERBOSE:+-v}
