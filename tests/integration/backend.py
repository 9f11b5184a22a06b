#!/usr/bin/env python3
"""A backend for sluice's integration tests: listens on one port of one or
more loopback addresses and answers health checks.

  backend.py --port P --addr 127.0.0.2 [--addr ...] [--addrs-from FILE] [--mode http|tcp]

http: every request gets "HTTP/1.0 <status>" with status 200; SIGUSR1 makes
it 503, SIGUSR2 200 again. tcp: connections are accepted and closed. Writes
"ready" on stdout once every socket listens. Stops on SIGTERM.
"""
import argparse
import selectors
import signal
import socket
import sys

status = 200


def main():
    global status
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addr", action="append", default=[])
    ap.add_argument("--addrs-from")
    ap.add_argument("--mode", choices=["http", "tcp"], default="http")
    a = ap.parse_args()
    addrs = list(a.addr)
    if a.addrs_from:
        with open(a.addrs_from) as f:
            addrs += [line.strip() for line in f if line.strip()]

    def set_status(code):
        def handler(signum, frame):
            global status
            status = code
        return handler

    signal.signal(signal.SIGUSR1, set_status(503))
    signal.signal(signal.SIGUSR2, set_status(200))
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
    sel = selectors.DefaultSelector()
    for addr in addrs:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, a.port))
        s.listen(128)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "listen")
    print("ready", flush=True)
    pending = {}
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if key.data == "listen":
                try:
                    c, _ = sock.accept()
                except OSError:
                    continue
                if a.mode == "tcp":
                    c.close()
                    continue
                c.setblocking(False)
                pending[c] = b""
                sel.register(c, selectors.EVENT_READ, "conn")
                continue
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            pending[sock] = pending.get(sock, b"") + data
            if data and b"\r\n\r\n" not in pending[sock]:
                continue
            if data:
                try:
                    sock.sendall(b"HTTP/1.0 %d X\r\nContent-Length: 2\r\n\r\nok" % status)
                except OSError:
                    pass
            sel.unregister(sock)
            pending.pop(sock, None)
            sock.close()


if __name__ == "__main__":
    main()
