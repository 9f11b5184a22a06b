#!/usr/bin/env python3
"""A backend for sluice's end-to-end tests and demo.

HTTP on --http-port answers every GET with the backend's name (keep-alive,
so one connection can ask many times); a TCP echo service on --echo-port
greets with the name, then sends back every byte it gets, for long-lived
streaming connections. Both listen on all addresses, so they answer for
the VIP the backend carries on its loopback. Stops on SIGTERM.
"""
import argparse
import http.server
import signal
import socket
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = (self.server.backend_name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Quiet:
    """Clients that hang up early (health checks do) are not errors here."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class HTTPServer(Quiet, socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # tests open a thousand connections at once


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # The greeting tells a long-lived client which backend it reached.
        self.request.sendall((self.server.backend_name + "\n").encode())
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class EchoServer(Quiet, socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


class HTTPServer6(HTTPServer):
    address_family = socket.AF_INET6


class EchoServer6(EchoServer):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--http-port", type=int, default=80)
    ap.add_argument("--echo-port", type=int, default=9000)
    ap.add_argument("--ipv6", action="store_true", help="also listen on IPv6")
    a = ap.parse_args()

    # With --ipv6, one dual-stack socket per service serves both families.
    http_cls, echo_cls, any_addr = HTTPServer, EchoServer, "0.0.0.0"
    if a.ipv6:
        http_cls, echo_cls, any_addr = HTTPServer6, EchoServer6, "::"
    h = http_cls((any_addr, a.http_port), Handler)
    e = echo_cls((any_addr, a.echo_port), EchoHandler)
    h.backend_name = e.backend_name = a.name
    servers = [h, e]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"{a.name}: serving http :{a.http_port} echo :{a.echo_port}", flush=True)
    stop.wait()
    for s in servers:
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
