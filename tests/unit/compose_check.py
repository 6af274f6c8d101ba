#!/usr/bin/python3
"""compose_check.py - how Python's email package reads mails from mime_compose.

Used by tests/unit/test_compose.c.  Reads mails from the file named by its
argument (else standard input), each as
"<length>\\n" followed by that many bytes, and writes for each one a record
of "key<TAB>hex of the UTF-8 value" lines ended by "end<TAB>" and a blank
line, so that the C side compares Python's reading with its own and with
what it put in.  Python parses with policy.default (the strict, modern
parser): its defects are reported too, and a correct mail has none.
"""
import email
import email.policy
import hashlib
import sys


def main():
    inp = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
    out = sys.stdout
    while True:
        head = inp.readline()
        if not head:
            break
        raw = inp.read(int(head))
        for k, v in read_mail(raw):
            out.write("%s\t%s\n" % (k, v.encode("utf-8", "surrogateescape").hex()))
        out.write("end\t\n\n")
    out.flush()


def ids(value):
    return " ".join(w.strip("<>") for w in str(value).split())


def read_mail(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    rec = []
    defects = []
    for name in ("From", "To", "Reply-To"):
        h = msg[name]
        if h is None:
            continue
        defects += ["%s: %s" % (name, type(d).__name__) for d in h.defects]
        addrs = h.addresses
        rec.append((name + ".count", str(len(addrs))))
        if addrs:
            rec.append((name + ".name", addrs[0].display_name))
            rec.append((name + ".addr", addrs[0].addr_spec))
    for name in ("Cc", "Bcc", "X-Evil", "Message-ID", "In-Reply-To", "References"):
        h = msg[name]
        if h is not None:
            rec.append((name, ids(h)))
    for name in ("Subject", "Auto-Submitted", "X-Auto-Response-Suppress", "MIME-Version"):
        h = msg[name]
        if h is not None:
            defects += ["%s: %s" % (name, type(d).__name__) for d in h.defects]
            rec.append((name, str(h)))
    for name, value in msg.items():
        if name.lower().startswith("x-") and name.lower() not in (
            "x-auto-response-suppress",
            "x-evil",
        ):
            rec.append(("extra." + name, str(value)))
    if msg["Date"] is not None:
        rec.append(("Date", str(int(msg["Date"].datetime.timestamp()))))
    rec.append(("headers", str(len(msg.keys()))))
    rec.append(("type", msg.get_content_type()))
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects]
    for kind in ("plain", "html"):
        body = msg.get_body(preferencelist=(kind,))
        if body is not None and body.get_content_type() == "text/" + kind:
            text = body.get_content().replace("\r\n", "\n")
            rec.append((kind, text))
    atts = list(msg.iter_attachments()) if msg.is_multipart() else []
    rec.append(("attachments", str(len(atts))))
    for i, a in enumerate(atts):
        data = a.get_payload(decode=True)
        # the parsed parameters, not get_filename(): that strips quotes
        # and angle brackets around the decoded name
        cd, ct = a["Content-Disposition"], a["Content-Type"]
        rec.append(("att%d.filename" % i, cd.params.get("filename", "") if cd else ""))
        rec.append(("att%d.name" % i, ct.params.get("name", "") if ct else ""))
        defects += ["%s: %s" % (h, type(d).__name__) for h in (cd, ct) if h for d in h.defects]
        rec.append(("att%d.type" % i, a.get_content_type()))
        rec.append(("att%d.sha256" % i, hashlib.sha256(data).hexdigest()))
        rec.append(("att%d.size" % i, str(len(data))))
    rec.append(("defects", " ".join(defects)))
    return rec


if __name__ == "__main__":
    main()
