#!/usr/bin/env python3
"""How sluiced's cost of one change grows with the backends (bench/control.py
runs it; it also runs alone, without DPDK: sluiced publishes with no data
plane, so what is timed is sluiced's own work):

  change_ms         p50 / p99 of one change made over the control socket
                    (request to reply, the reply coming once the change is
                    published) in a VIP of 100, 1000 and 4096 backends at
                    M = 655373; the changes cycle through weight, drain,
                    enable, delete and add of one backend
  change_loop_cpu_ms  mean CPU time of sluiced's event loop (its main
                    thread) per change: what a change blocks the daemon for
                    (table compiles run on the publisher's worker thread)
  status_during_change_ms  the worst `status` answer seen while those
                    changes were being made (a second client asks in a loop)
  status_during_compile_ms  p50 / p99 / max of `status` answers, and how
                    many took over 10 ms, while one health-checked backend
                    of a VIP of 4096 (M = 655373) goes down and up, 10
                    times: each flip a compile with no CLI and no state file
                    behind it (one client asks in turn: a compile that
                    blocks the loop delays one answer)
  health_flip_ms    p50 / p99 of a backend going down or up (no CLI, no
                    state file: compile, fill, publish), sluice-ctrlbench
                    with the same VIPs
  fill_10k_s        10,000 backends added one by one with `sluicectl backend
                    add` to 3 VIPs (M = 65537) that start empty
  sluiced_rss_bytes sluiced's resident memory with 16,384 backends (4 VIPs
                    of 4096, M = 65537), once it is ready

usage: control_scale.py [--build DIR] [--json] [--changes N] [--fill N]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

from benchlib import setup_env

M_BIG = 655373


def addr(i):
    return f"10.{100 + i // 62500}.{(i // 250) % 250}.{1 + i % 250}"


class Client:
    """One request, one reply, over the control socket (no process spawn:
    what is timed is sluiced)."""

    def __init__(self, path):
        self.path = path

    def call(self, req):
        from sluicetest import control_request  # on the path once setup_env ran

        r = control_request(self.path, req)
        if not r.get("ok"):
            raise RuntimeError(f"{req}: {r}")
        return r


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def daemon(st, name, vips):
    d = st.Sluiced(name)
    d.write_config({"dataplane": {"mode": "dpdk", "heartbeat_timeout_ms": 1000},
                    "source": {"ipv4": "192.0.2.1"}, "nexthop_mac": "02:00:00:00:00:01",
                    "vips": vips})
    d.start()
    st.wait_until(lambda: d.ctl_ok("status")["vips"] == len(vips), 60, "sluiced ready")
    return d


def change_series(st, n, changes):
    vip = "10.98.0.1:80/tcp"
    d = daemon(st, f"chg{n}", [{"address": "10.98.0.1", "port": 80, "table_size": M_BIG,
                                "backends": [{"address": addr(i)} for i in range(n)]}])
    c = Client(d.sock)
    lat, status_worst, stop = [], [0.0], threading.Event()

    def poll_status():
        sc = Client(d.sock)
        while not stop.is_set():
            t = time.monotonic()
            sc.call({"cmd": "status"})
            status_worst[0] = max(status_worst[0], time.monotonic() - t)
            time.sleep(0.001)

    th = threading.Thread(target=poll_status, daemon=True)
    th.start()
    kinds = [("backend.weight", {"weight": 200}), ("backend.drain", {}),
             ("backend.enable", {}), ("backend.del", {}), ("backend.add", {})]
    for i in range(changes):
        b = addr((i // len(kinds) * 7919) % n)
        cmd, extra = kinds[i % len(kinds)]
        req = dict({"cmd": cmd, "vip": vip, "address": b}, **extra)
        t = time.monotonic()
        c.call(req)
        lat.append((time.monotonic() - t) * 1000)
        if i == 0:
            cpu0 = loop_cpu_s(d.proc.pid)
    stop.set()
    th.join()
    loop_ms = (loop_cpu_s(d.proc.pid) - cpu0) / max(1, changes - 1) * 1000
    d.stop()
    return ({"p50": round(percentile(lat, 50), 2), "p99": round(percentile(lat, 99), 2),
             "changes": len(lat)}, status_worst[0] * 1000, loop_ms)


class Listener:
    """A TCP backend on loopback that can go away and come back. It accepts
    and closes every connection (a full accept queue would drop the checks'
    SYNs and take it down by itself)."""

    def __init__(self, port):
        self.port, self.s = port, None

    def up(self):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", self.port))
        self.s.listen(64)
        threading.Thread(target=self._serve, args=(self.s,), daemon=True).start()

    def _serve(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.close()

    def down(self):
        self.s.shutdown(socket.SHUT_RDWR)
        self.s.close()
        self.s = None


def status_during_compiles(st, flips):
    """Worst status answer while health flips make sluiced compile a VIP of
    4096 backends at M = 655373 again and again."""
    port = st.free_port()
    health = {"type": "tcp", "port": port, "interval_ms": 50, "timeout_ms": 40, "rise": 1,
              "fall": 1}
    backends = [{"address": addr(i)} for i in range(4095)] + [
        {"address": "127.0.0.1", "health": health}]
    lis = Listener(port)
    lis.up()
    d = daemon(st, "compile", [{"address": "10.95.0.1", "port": 80, "table_size": M_BIG,
                                "backends": backends}])
    c = Client(d.sock)
    gen0 = c.call({"cmd": "status"})["generation"]
    lat = []
    for i in range(flips):
        lis.down() if i % 2 == 0 else lis.up()
        t_end = time.monotonic() + 0.4
        while time.monotonic() < t_end:
            t = time.monotonic()
            c.call({"cmd": "status"})
            lat.append((time.monotonic() - t) * 1000)
            time.sleep(0.001)
    gens = c.call({"cmd": "status"})["generation"] - gen0
    d.stop()
    if gens < flips // 2:
        raise RuntimeError(f"only {gens} publishes in {flips} health flips")
    # One client asks in turn, so a compile that blocked the loop delays
    # one answer (the next is asked after it): count the slow ones.
    return {"p50": round(percentile(lat, 50), 2), "p99": round(percentile(lat, 99), 2),
            "max": round(max(lat), 2), "over_10ms": sum(x > 10 for x in lat),
            "requests": len(lat)}, gens


def loop_cpu_s(pid):
    """CPU seconds of a process's main thread (its event loop)."""
    with open(f"/proc/{pid}/task/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health_flips(build, n, rounds):
    r = subprocess.run([f"{build}/bench/sluice-ctrlbench", "--backends", str(n), "--m",
                        str(M_BIG), "--rounds", str(rounds), "--json"],
                       capture_output=True, text=True, timeout=600, check=True)
    lat = json.loads(r.stdout)["latency_us"]
    return {"p50": round(lat["p50"] / 1000, 2), "p99": round(lat["p99"] / 1000, 2),
            "changes": rounds}


def fill(st, n):
    """Seconds to add n backends one by one with sluicectl, and ms per add
    over the last 1000 (or all, when fewer): the cost once the VIPs are big."""
    vips = [{"address": f"10.97.0.{j + 1}", "port": 80, "table_size": 65537, "backends": []}
            for j in range(3)]
    d = daemon(st, "fill", vips)
    t = time.monotonic()
    stamps = []
    for i in range(n):
        rc, out, err = d.ctl("backend", "add", f"10.97.0.{i % 3 + 1}:80/tcp", addr(i))
        if rc != 0:
            raise RuntimeError(f"backend add {i}: {err}")
        stamps.append(time.monotonic())
        if (i + 1) % 1000 == 0:
            print(f"# {i + 1} backends added after {stamps[-1] - t:.1f} s", file=sys.stderr,
                  flush=True)
    took = stamps[-1] - t
    k = min(1000, n)
    last_ms = (stamps[-1] - (stamps[-k - 1] if n > k else t)) / k * 1000
    n_now = d.ctl_ok("status")["backends"]
    d.stop()
    if n_now != n:
        raise RuntimeError(f"{n_now} backends after adding {n}")
    return took, last_ms


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def rss_16k(st):
    vips = [{"address": f"10.96.0.{j + 1}", "port": 80, "table_size": 65537,
             "backends": [{"address": addr(j * 4096 + i)} for i in range(4096)]}
            for j in range(4)]
    d = daemon(st, "rss", vips)
    time.sleep(0.5)
    rss = rss_of(d.proc.pid)
    d.stop()
    return rss


def measure(build, changes=100, fill_n=10000):
    setup_env(build)
    import sluicetest as st

    out = {"change_ms": {}, "change_loop_cpu_ms": {}, "status_during_change_ms": {},
           "health_flip_ms": {}}
    for n in (100, 1000, 4096):
        s, worst, loop_ms = change_series(st, n, changes)
        out["change_ms"][f"n{n}"] = s
        out["change_loop_cpu_ms"][f"n{n}"] = round(loop_ms, 2)
        out["status_during_change_ms"][f"n{n}"] = round(worst, 2)
        out["health_flip_ms"][f"n{n}"] = health_flips(build, n, max(4, changes))
    out["change_m"] = M_BIG
    sc, gens = status_during_compiles(st, 10)
    out["status_during_compile_ms"] = sc
    out["compiles_during_status"] = gens
    took, last_ms = fill(st, fill_n)
    out["fill_10k_s"] = round(took, 2)
    out["fill_backends"] = fill_n
    out["fill_last_1000_ms"] = round(last_ms, 2)
    out["sluiced_rss_bytes"] = rss_16k(st)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--fill", type=int, default=10000)
    a = ap.parse_args()
    out = measure(os.path.abspath(a.build), a.changes, a.fill)
    if a.json:
        print(json.dumps(out))
        return
    print_human(out)


def print_human(out):
    for k, v in out["change_ms"].items():
        h = out["health_flip_ms"][k]
        print(f"one CLI change, {k[1:]} backends, M={M_BIG}: p50 {v['p50']:.2f} ms, "
              f"p99 {v['p99']:.2f} ms (event loop busy {out['change_loop_cpu_ms'][k]:.2f} ms "
              f"of it); status answered within {out['status_during_change_ms'][k]:.1f} ms "
              f"meanwhile; a health flip p50 {h['p50']:.2f} ms, p99 {h['p99']:.2f} ms")
    sc = out["status_during_compile_ms"]
    print(f"status while health flips made sluiced compile a 4096-backend VIP at M={M_BIG} "
          f"{out['compiles_during_status']} times: p50 {sc['p50']:.2f} ms, p99 {sc['p99']:.2f} "
          f"ms, max {sc['max']:.1f} ms; {sc['over_10ms']} of {sc['requests']} over 10 ms")
    print(f"{out['fill_backends']} backends added one by one with sluicectl: "
          f"{out['fill_10k_s']:.1f} s ({out['fill_last_1000_ms']:.1f} ms per add over the "
          f"last 1000)")
    print(f"sluiced RSS with 16384 backends: {out['sluiced_rss_bytes'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
