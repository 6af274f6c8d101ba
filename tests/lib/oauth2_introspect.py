#!/usr/bin/python3
"""oauth2_introspect.py - a small OAuth2 token-introspection service
(RFC 7662) for deskmail's tests, on loopback, that Dovecot's oauth2 passdb
and smtp_sink.py ask whether a bearer token is good.

    oauth2_introspect.py --port N --tokens FILE [--log FILE] [--pidfile FILE]

FILE is read at every request, so a test can revoke or add a token while
the service runs.  One token a line:

    valid TOKEN USER     -> {"active": true, "username": USER, ...}
    revoked TOKEN        -> {"active": false}

and any token not listed is answered {"active": false} too.  The token
comes as the form field "token" of a POST (Dovecot's introspection_mode =
post, and RFC 7662) or as the query parameter "token" of a GET
(introspection_mode = get with an introspection_url ending in "?token=").
--log appends one line per request: "METHOD VERDICT TOKEN" (these tokens are
test values, not secrets), so that a test can tell the server really asked.
--refuse-delay SECONDS answers a refused token that much later, after its
log line is written: a slow identity provider, and a window in which a
test can play a refresher that replaces a token file after a refusal.
"""
import argparse
import json
import os
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024


def load(path):
    valid, revoked = {}, set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "valid":
                valid[w[1]] = w[2]
            elif len(w) == 2 and w[0] == "revoked":
                revoked.add(w[1])
    return valid, revoked


class Handler(BaseHTTPRequestHandler):
    server_version = "dm-introspect/1"

    def log_message(self, fmt, *args):  # quiet: the --log file says what matters
        pass

    def answer(self, method, token):
        valid, _ = load(self.server.tokens)
        if token in valid:
            verdict = "valid"
            body = {"active": True, "username": valid[token], "scope": "mail",
                    "client_id": "deskmail-test", "token_type": "Bearer"}
        else:
            verdict = "refused"
            body = {"active": False}
        if self.server.log:
            with self.server.lock, open(self.server.log, "a", encoding="utf-8") as f:
                f.write("%s %s %s\n" % (method, verdict, token))
        if verdict == "refused" and self.server.refuse_delay:
            time.sleep(self.server.refuse_delay)
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        self.answer("GET", q.get("token", [""])[0])

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            self.send_error(413)
            return
        form = urllib.parse.parse_qs(self.rfile.read(n).decode("ascii", "replace"))
        self.answer("POST", form.get("token", [""])[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--log")
    ap.add_argument("--pidfile")
    ap.add_argument("--refuse-delay", type=float, default=0.0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.tokens, srv.log, srv.lock = a.tokens, a.log, threading.Lock()
    srv.refuse_delay = a.refuse_delay
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever()


if __name__ == "__main__":
    main()
