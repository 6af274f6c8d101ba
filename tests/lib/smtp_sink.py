#!/usr/bin/python3
"""smtp_sink.py - a real SMTP server (aiosmtpd) for deskmail's tests.

Stores each message it accepts as OUT/N.eml (the DATA bytes as received,
after dot-unstuffing), OUT/N.env (first line MAIL FROM, then one line per
RCPT) and OUT/N.session (what the session was: "tls=yes" or "tls=no",
"tls_version=TLSv1.3" or "-", "ehlo=NAME" as the client said EHLO/HELO,
"auth=LOGIN" or "-"), written atomically (tmp + rename), .eml last, so a
test that sees N.eml can read the other two.  Numbering continues after a
restart with the same OUT.
--reject-rcpt REGEX answers 550 to matching recipients, --tempfail-rcpt
REGEX answers 451, --delay SECONDS waits that long before answering DATA
(a slow server).
--tls-cert PEM --tls-key PEM offer STARTTLS with that certificate.
--auth USER:PASSWORD requires AUTH (PLAIN or LOGIN) with these before MAIL;
aiosmtpd offers AUTH only after STARTTLS, so it needs --tls-cert too.
"""
import asyncio
import argparse
import os
import re
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, out, reject, tempfail, delay=0.0):
        self.out = out
        self.delay = delay
        self.reject = re.compile(reject) if reject else None
        self.tempfail = re.compile(tempfail) if tempfail else None
        self.lock = threading.Lock()
        existing = [int(f[:-4]) for f in os.listdir(out) if f.endswith(".eml") and f[:-4].isdigit()]
        self.n = max(existing, default=0)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject.search(address):
            return "550 5.1.1 <%s>: recipient rejected by the test sink" % address
        if self.tempfail and self.tempfail.search(address):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.out, str(n))
        env = envelope.mail_from + "\n" + "".join(r + "\n" for r in envelope.rcpt_tos)
        tls = session.ssl is not None  # set by aiosmtpd once STARTTLS has succeeded
        sslobj = server.transport.get_extra_info("ssl_object") if tls else None
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        meta = "tls=%s\ntls_version=%s\nehlo=%s\nauth=%s\n" % (
            "yes" if tls else "no", sslobj.version() if sslobj is not None else "-",
            session.host_name, login.decode() if login else "-")
        for suffix, data in ((".session", meta.encode()), (".env", env.encode()),
                             (".eml", envelope.original_content or envelope.content)):
            tmp = os.path.join(self.out, ".tmp.%d%s" % (n, suffix))
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, base + suffix)
        return "250 2.0.0 OK queued as %d" % n


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--reject-rcpt")
    ap.add_argument("--tempfail-rcpt")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--auth", metavar="USER:PASSWORD")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    opts = {}
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        opts["tls_context"] = ctx
    if a.auth:
        user, _, password = a.auth.partition(":")
        opts.update(authenticator=authenticator(user, password), auth_required=True)
    ctl = Controller(Sink(a.out, a.reject_rcpt, a.tempfail_rcpt, a.delay), hostname="127.0.0.1",
                     port=a.port, data_size_limit=64 * 1024 * 1024, **opts)
    ctl.start()
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    ctl.stop()


if __name__ == "__main__":
    main()
