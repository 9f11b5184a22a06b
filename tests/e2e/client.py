#!/usr/bin/env python3
"""The client side of sluice's end-to-end tests and demo. Runs inside the
client's network namespace and talks to the VIP with real TCP; prints one
JSON document on stdout when done.

  client.py requests VIP PORT --n N [--parallel P] [--interval S] [--timeout S]
      N new connections, each one HTTP GET with "Connection: close"; the
      backend's name comes back in the body. With --duration S instead of
      --n, it goes on for S seconds (or until SIGTERM). Per request: start
      and end (CLOCK_MONOTONIC, shared by every process of the machine),
      the backend's name or the error.

  client.py streams VIP PORT --conns N [--chunk BYTES] [--period S]
      N long-lived connections to the backends' echo service (which greets
      with the backend's name). Each sends a deterministic byte stream, reads
      every byte back and compares, until SIGTERM or --duration; then per
      connection: backend, bytes sent, bytes echoed and verified, error.
"""
import argparse
import json
import random
import signal
import socket
import sys
import threading
import time

stop = threading.Event()


def one_request(vip, port, timeout):
    """One new connection, one GET: (backend name, None) or (None, error)."""
    fam = socket.AF_INET6 if ":" in vip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((vip, port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: sluice\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0] + b" ":
            return None, "bad response: " + head[:40].decode(errors="replace")
        name = body.decode(errors="replace").strip()
        return (name, None) if name else (None, "empty body")
    except OSError as e:
        return None, type(e).__name__ + (f" ({e.errno})" if e.errno else "")
    finally:
        s.close()


def cmd_requests(a):
    results, lock = [], threading.Lock()
    todo = iter(range(a.n)) if a.n else None
    deadline = time.monotonic() + a.duration if a.duration else None

    def worker():
        while not stop.is_set():
            if todo is not None:
                with lock:
                    if next(todo, None) is None:
                        return
            elif time.monotonic() >= deadline:
                return
            t0 = time.monotonic()
            name, err = one_request(a.vip, a.port, a.timeout)
            with lock:
                results.append({"start": t0, "end": time.monotonic(), "backend": name,
                                "error": err})
            if a.interval:
                stop.wait(a.interval)

    threads = [threading.Thread(target=worker) for _ in range(a.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.sort(key=lambda r: r["start"])
    json.dump({"requests": results}, sys.stdout)
    print()


def stream_bytes(seed, offset, n):
    """Bytes offset..offset+n of connection seed's stream (repeatable)."""
    block = random.Random(seed).randbytes(65536)
    out = bytearray()
    while n:
        i = offset % len(block)
        take = min(n, len(block) - i)
        out += block[i:i + take]
        offset += take
        n -= take
    return bytes(out)


class Stream(threading.Thread):
    def __init__(self, a, index):
        super().__init__(daemon=True)
        self.a, self.index = a, index
        self.sent = self.verified = 0
        self.backend = self.error = self.port = None

    def run(self):
        a = self.a
        fam = socket.AF_INET6 if ":" in a.vip else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            s.connect((a.vip, a.port))
            self.port = s.getsockname()[1]
            hello = b""
            while not hello.endswith(b"\n"):
                c = s.recv(1)
                if not c:
                    raise ConnectionError("closed before the greeting")
                hello += c
            self.backend = hello.decode().strip()
            seed = self.index * 7919 + 1
            while not stop.is_set():
                data = stream_bytes(seed, self.sent, a.chunk)
                s.sendall(data)
                self.sent += len(data)
                got = b""
                while len(got) < len(data):
                    c = s.recv(len(data) - len(got))
                    if not c:
                        raise ConnectionError("closed by the peer")
                    got += c
                if got != data:
                    raise ValueError(f"echo differs at byte {self.verified}")
                self.verified += len(got)
                stop.wait(a.period)
        except (OSError, ValueError) as e:
            self.error = f"{type(e).__name__}: {e}"
        finally:
            s.close()


def cmd_streams(a):
    streams = [Stream(a, i) for i in range(a.conns)]
    for st in streams:
        st.start()
    # Connected and greeted, all of them: say so, so that the caller knows
    # when the flows exist.
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.timeout and any(
            st.backend is None and st.error is None for st in streams):
        time.sleep(0.01)
    print(json.dumps({"ready": sum(st.backend is not None for st in streams),
                      "backends": [st.backend for st in streams],
                      "ports": [st.port for st in streams]}), flush=True)
    stop.wait(a.duration or None)
    stop.set()
    for st in streams:
        st.join(a.timeout + 1)
    json.dump({"streams": [{"backend": st.backend, "sent": st.sent, "verified": st.verified,
                            "error": st.error} for st in streams]}, sys.stdout)
    print()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("requests")
    r.add_argument("vip")
    r.add_argument("port", type=int)
    r.add_argument("--n", type=int, default=0)
    r.add_argument("--duration", type=float, default=0)
    r.add_argument("--parallel", type=int, default=4)
    r.add_argument("--interval", type=float, default=0)
    r.add_argument("--timeout", type=float, default=2.0)
    s = sub.add_parser("streams")
    s.add_argument("vip")
    s.add_argument("port", type=int)
    s.add_argument("--conns", type=int, default=20)
    s.add_argument("--chunk", type=int, default=8192)
    s.add_argument("--period", type=float, default=0.02)
    s.add_argument("--duration", type=float, default=0)
    s.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()
    if a.cmd == "requests" and bool(a.n) == bool(a.duration):
        ap.error("requests: give --n or --duration")
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    (cmd_requests if a.cmd == "requests" else cmd_streams)(a)


if __name__ == "__main__":
    main()
