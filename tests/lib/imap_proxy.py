#!/usr/bin/env python3
"""imap_proxy.py PORT TARGET_PORT REGEX [no] - a TCP proxy in front of the
test Dovecot that cuts the connection whenever a client command matches
REGEX (e.g. "UID FETCH 4 " for a message the server can never deliver, or
"UID STORE" for marks that always fail), so tests can show what deskmail
does when the IMAP server fails in the middle of a pass.  With "no", a
matching command is answered "TAG NO [UNAVAILABLE] ..." in the server's
place instead, as Dovecot answers when its storage fails.  Loopback only."""
import re
import socket
import sys
import threading

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
pattern = re.compile(sys.argv[3].encode())
answer_no = len(sys.argv) > 4 and sys.argv[4] == "no"


def pipe(src, dst, check):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if check and pattern.search(data) and answer_no:
                tag = data.split(b" ", 1)[0]
                sys.stderr.write("imap_proxy: NO to %r\n" % data[:60])
                sys.stderr.flush()
                src.sendall(tag + b" NO [UNAVAILABLE] Internal error occurred. "
                            b"Refer to server log for more information.\r\n")
                continue
            if check and pattern.search(data):
                sys.stderr.write("imap_proxy: cut on %r\n" % data[:60])
                sys.stderr.flush()
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(50)
while True:
    client, _ = server.accept()
    upstream = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pipe, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client, False), daemon=True).start()
