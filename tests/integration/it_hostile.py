#!/usr/bin/env python3
"""Hostile clients on the metrics port (issue 12) against a real sluiced
with 16,384 backends (a scrape of ~5 MB), one of them real and checked.
sluiced runs with 1,024 descriptors, so that without caps the attack runs
it out of them. Meanwhile:

- a HEAD /metrics gets the headers with Content-Length, and no body;
- a connection that sends a byte every 2 s is closed by the whole-request
  deadline, however long it keeps sending;
- 1,000 such connections (reopened as they are closed) plus clients that
  send GET /metrics and never read do not starve anything: sluicectl
  status answers within 1 s every time, the checked backend stays UP, no
  accept-error flood reaches the log, and sluiced's RSS stays bounded.

And on the control socket, 100 clients (more than its 64 slots) each
trickle a request: the oldest unfinished one is closed to admit a new
client, so sluicectl status still answers within 1 s.
"""
import os
import resource
import select
import socket
import threading
import time

from sluicetest import Backend, Sluiced, check, free_port, run, say, wait_until

VIPS, PER_VIP = 4, 4096
SLOW, NON_READERS, CTL_SLOW = 1000, 100, 100
ATTACK_S = 12
NOFILE = 1024
DEADLINE_S = 10  # METRICS_DEADLINE_S in metrics.c
RSS_GROWTH_MB = 96  # pages budget 32 MB + rendering; unbounded was ~5 MB per client
REAL = "127.0.0.2"
REQUEST = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_nonblocking(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s


def closed_by_peer(s):
    """True once the server has closed s (EOF or reset)."""
    try:
        return s.recv(65536, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


class SlowClients:
    """n connections (made by opener()) that each send one byte of a
    never-ending request (request) every 2 s; one the server closes is
    replaced by a new one."""

    def __init__(self, opener, n, request=None):
        self.opener, self.stop = opener, threading.Event()
        self.request = request or REQUEST
        self.socks = [[opener(), 0] for _ in range(n)]
        self.closed = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(2.0):
            for entry in self.socks:
                s, sent = entry
                if closed_by_peer(s):
                    s.close()
                    self.closed += 1
                    entry[:] = [self.opener(), 0]
                    continue
                byte = self.request[sent:sent + 1] or b"a"
                try:
                    if s.send(byte) == 1:
                        entry[1] = sent + 1
                except (BlockingIOError, InterruptedError, OSError):
                    pass

    def close(self):
        self.stop.set()
        self.thread.join()
        for s, _ in self.socks:
            s.close()


def control_attackers(d):
    """100 slow clients on the control socket (more than its 64 slots), each
    trickling a request, reopened when the server closes it."""
    def opener():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.sock)
        s.setblocking(False)
        return s
    return SlowClients(opener, CTL_SLOW, b'{"cmd": "status", "pad": "' + b"x" * 1000)


def head_request(port):
    """HEAD /metrics: (headers, bytes after them until the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break  # a keep-alive answer: judged by what came
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode(errors="replace"), rest


def main():
    port = free_port()
    backend = Backend([REAL], port, mode="tcp")
    d = Sluiced("hostile")
    vips = []
    for v in range(VIPS):
        backends = [{"address": f"10.{100 + v}.{i // 250}.{i % 250 + 1}",
                     "mac": "02:00:00:00:00:01"} for i in range(PER_VIP - (v == 0))]
        if v == 0:
            backends.append({"address": REAL, "mac": "02:00:00:00:00:02",
                             "health": {"type": "tcp", "port": port, "interval_ms": 200,
                                        "timeout_ms": 100, "rise": 1, "fall": 2}})
        vips.append({"address": f"10.0.0.{10 + v}", "port": 80, "forwarding": "l2dsr",
                     "table_size": 65537, "backends": backends})
    d.write_config({"vips": vips})
    d.start(preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE)))
    mport = d.metrics_port

    def real_up():
        return any(b["address"] == REAL and b["up"] for b in d.ctl_ok("health")["backends"])

    wait_until(real_up, 10, "the real backend UP", 0.1)
    page = len(d.metrics())
    base_kb = rss_kb(d.proc.pid)
    say(f"{VIPS * PER_VIP} backends: one scrape is {page / 1e6:.1f} MB; "
        f"sluiced RSS {base_kb / 1024:.0f} MB before the attack")

    head, rest = head_request(mport)
    check(head.startswith("HTTP/1.1 200"), f"HEAD: {head!r}")
    lengths = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith("content-length:")]
    check(lengths and int(lengths[0]) >= page * 0.9,
          f"HEAD: Content-Length of the page expected: {head!r}")
    check(rest == b"", f"HEAD: {len(rest)} bytes of body")

    # Accepted at once (nothing else is connected): the deadline runs from here.
    probe = socket.create_connection(("127.0.0.1", mport), timeout=5)
    probe_t0 = time.monotonic()
    probe_closed = None

    readers = []
    for _ in range(NON_READERS):
        s = open_nonblocking(mport, rcvbuf=4096)
        readers.append(s)
    select.select([], readers, [], 2)
    for s in readers:
        try:
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            pass
    slow = SlowClients(lambda: open_nonblocking(mport), SLOW)
    ctl_slow = control_attackers(d)
    worst, peak_kb, polls, sent = 0.0, base_kb, 0, 0
    t_end = time.monotonic() + ATTACK_S
    try:
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            rc = d.ctl("status")[0]
            took = time.monotonic() - t0
            worst = max(worst, took)
            check(rc == 0 and took < 1.0, f"sluicectl status: rc {rc} after {took:.2f} s")
            check(real_up(), "the healthy backend went down during the attack")
            peak_kb = max(peak_kb, rss_kb(d.proc.pid))
            polls += 1
            if probe_closed is None:
                if closed_by_peer_blocking(probe):
                    probe_closed = time.monotonic() - probe_t0
                elif time.monotonic() - probe_t0 >= 2 * sent:
                    probe.send(REQUEST[sent:sent + 1] or b"a")
                    sent += 1
            time.sleep(0.3)
    finally:
        slow.close()
        ctl_slow.close()
        for s in readers:
            s.close()
        probe.close()
    say(f"attack: {SLOW} slow connections ({slow.closed} closed by the deadline and "
        f"reopened), {NON_READERS} non-readers, {CTL_SLOW} slow control clients "
        f"({ctl_slow.closed} closed and reopened), {ATTACK_S} s; sluicectl status worst "
        f"{worst * 1000:.0f} ms over {polls} calls")
    say(f"sluiced RSS: {base_kb / 1024:.0f} MB before, peak {peak_kb / 1024:.0f} MB "
        f"(+{(peak_kb - base_kb) / 1024:.0f} MB, bound +{RSS_GROWTH_MB} MB)")
    check(probe_closed is not None and probe_closed <= DEADLINE_S + 1.5,
          f"a byte every 2 s kept a connection open {probe_closed or ATTACK_S} s "
          f"(deadline {DEADLINE_S} s)")
    say(f"a byte every 2 s: closed after {probe_closed:.1f} s")
    check(peak_kb - base_kb <= RSS_GROWTH_MB * 1024, "RSS grew past the bound")
    check(d.log().count(" is DOWN") == 0, "a backend went DOWN")
    floods = d.log().count("cannot accept") + d.log().count("Too many open files")
    check(floods <= 5, f"{floods} accept-error lines in the log")
    def scrape_ok():
        try:
            return len(d.metrics()) > page * 0.9
        except OSError:
            return False

    wait_until(scrape_ok, 2 * DEADLINE_S, "a scrape after the attack", 0.5)
    after_kb = rss_kb(d.proc.pid)
    say(f"sluiced RSS after the clients left: {after_kb / 1024:.0f} MB")
    check(after_kb - base_kb <= RSS_GROWTH_MB * 1024, "RSS stayed up after the clients left")
    check(d.stop() == 0, "clean stop")
    backend.kill()


def closed_by_peer_blocking(s):
    s.setblocking(False)
    try:
        return closed_by_peer(s)
    finally:
        s.settimeout(5)


run(main)
