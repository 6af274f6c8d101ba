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
--oauth2 URL requires AUTH XOAUTH2 or OAUTHBEARER instead, and asks the
token-introspection service at URL (oauth2_introspect.py) whether the
bearer token is active for the user logging in; a refused token gets what
Gmail and Microsoft 365 answer: a 334 challenge holding a JSON error, then,
after the client's empty reply, 535.  AUTH is offered without TLS too (the
sink is on loopback) unless --tls-cert is given.  The session file then
also says "auth_mech=XOAUTH2" or "auth_mech=OAUTHBEARER".
"""
import asyncio
import argparse
import base64
import json
import os
import re
import signal
import ssl
import threading
import urllib.parse
import urllib.request
from typing import NamedTuple

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult


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
        mech = getattr(session.auth_data, "mechanism", None) if session.authenticated else None
        if mech:
            meta += "auth_mech=%s\n" % mech
        for suffix, data in ((".session", meta.encode()), (".env", env.encode()),
                             (".eml", envelope.original_content or envelope.content)):
            tmp = os.path.join(self.out, ".tmp.%d%s" % (n, suffix))
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, base + suffix)
        return "250 2.0.0 OK queued as %d" % n


class BearerLogin(NamedTuple):
    login: bytes
    mechanism: str


class OAuth2Sink(Sink):
    """A Sink whose AUTH takes bearer tokens only (the handler's auth_*
    methods are aiosmtpd's hook for mechanisms of its own)."""

    def __init__(self, introspect_url, *args, **kw):
        super().__init__(*args, **kw)
        self.url = introspect_url

    def active(self, user, token):
        data = urllib.parse.urlencode({"token": token}).encode()
        try:
            with urllib.request.urlopen(self.url, data=data, timeout=10) as r:
                info = json.loads(r.read(65536))
        except (OSError, ValueError):
            return False
        return info.get("active") is True and info.get("username") == user

    async def bearer(self, server, args, mechanism, parse):
        if len(args) == 2:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except ValueError:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        user, token = parse(blob.decode("utf-8", "replace"))
        loop = asyncio.get_running_loop()
        if user and token and await loop.run_in_executor(None, self.active, user, token):
            return AuthResult(success=True, auth_data=BearerLogin(user.encode(), mechanism))
        err = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
        if await server.challenge_auth(err) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not accepted "
                                  "(test sink: the bearer token is not active)")

    @staticmethod
    def kv(fields):
        """user=/a= and auth=Bearer from \x01-separated key=value fields"""
        user = token = None
        for f in fields:
            if f.startswith("user="):
                user = f[5:]
            elif f.startswith("auth=Bearer "):
                token = f[12:]
        return user, token

    async def auth_XOAUTH2(self, server, args):
        # user=U ^A auth=Bearer T ^A ^A
        return await self.bearer(server, args, "XOAUTH2", lambda b: self.kv(b.split("\x01")))

    async def auth_OAUTHBEARER(self, server, args):
        # RFC 7628: n,a=U, ^A host=H ^A port=P ^A auth=Bearer T ^A ^A
        def parse(b):
            gs2, _, rest = b.partition("\x01")
            user = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), None)
            return user, self.kv(rest.split("\x01"))[1]
        return await self.bearer(server, args, "OAUTHBEARER", parse)


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
    ap.add_argument("--oauth2", metavar="INTROSPECTION_URL")
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
    if a.oauth2:
        handler = OAuth2Sink(a.oauth2, a.out, a.reject_rcpt, a.tempfail_rcpt, a.delay)
        opts.update(auth_required=True, auth_require_tls=bool(a.tls_cert),
                    auth_exclude_mechanism=["PLAIN", "LOGIN"])
    else:
        handler = Sink(a.out, a.reject_rcpt, a.tempfail_rcpt, a.delay)
    ctl = Controller(handler, hostname="127.0.0.1",
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
