#!/usr/bin/env python3
"""The demo (scripts/demo.sh runs it after setup and the build): a client,
a router, the load balancer and four backends in network namespaces; sluiced
with docs/examples/demo.json; sluice-dp on the load balancer's veth; then
real HTTP requests, a backend failing and coming back, a drain, and the same
again on the XDP path after sluice-dp is stopped; then three load balancers
behind a BGP router (tests/e2e/scaleout_lab.py), one of them killed while
30 connections stream. Every claim it prints is
checked; any that fails makes it exit 1. Everything it made is removed at
exit, also on Ctrl-C."""
import collections
import os
import sys
import time

import lab
import scaleout_lab as sl
from lab import st

CONFIG = os.path.join(lab.HERE, "..", "..", "docs", "examples", "demo.json")
T0 = time.monotonic()
failed = []


def heading(n, text):
    print(f"\n\033[1m{n}. {text}\033[0m" if sys.stdout.isatty() else f"\n{n}. {text}",
          flush=True)


def claim(ok, text):
    """Print a checked statement; remember it if it is false."""
    print(f"   {'ok  ' if ok else 'FAIL'} {text}", flush=True)
    if not ok:
        failed.append(text)
    return ok


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    numeric = [all(isinstance(r[i], int) or str(r[i]).endswith(" %") for r in rows)
               for i in range(len(header))]
    fmt = "   " + "  ".join(f"{{:>{w}}}" if numeric[i] else f"{{:<{w}}}"
                            for i, w in enumerate(widths))
    print(fmt.format(*header))
    for r in rows:
        print(fmt.format(*r))


def answered(L, n, what):
    """n new connections; a table of who answered; the counts."""
    res = L.requests(n)
    c = collections.Counter(r["backend"] or "failed" for r in res)
    rows = [(name, c[name], f"{100 * c[name] / n:.0f} %") for name in sorted(c)]
    table(rows, ("backend", "answered", "share"))
    claim(not c.get("failed"), f"{what}: {n - c.get('failed', 0)} of {n} requests answered")
    return c


def stats(L):
    rc, out, err = L.ctl("stats", L.vip)
    print("   $ sluicectl stats " + L.vip)
    for line in (out or err).rstrip().splitlines():
        print("   " + line)


def fail_and_recover(L, victim, path):
    heading("4" if path == "DPDK" else "6b", f"Backend b{victim} fails and comes back ({path})")
    addr = lab.backend_ip(victim)
    t = time.monotonic()
    L.kill_backend(victim)
    st.wait_until(lambda: not L.backend_up(L.vip, addr), 10, f"{addr} down", interval=0.01)
    took = time.monotonic() - t
    claim(took <= 0.2 * 2 + 1, f"b{victim}'s server killed; sluiced marked it DOWN after "
          f"{took:.2f} s (checks every 200 ms, fall 2: bound 1.4 s)")
    c = answered(L, 200, f"with b{victim} down")
    claim(f"b{victim}" not in c, f"none went to b{victim}")
    L.start_backend(victim)
    _, took = st.wait_until(lambda: L.backend_up(L.vip, addr), 10, f"{addr} up", interval=0.01)
    claim(took < 2, f"b{victim}'s server restarted; UP again after {took:.2f} s (rise 2)")
    c = answered(L, 200, f"with b{victim} back")
    claim(c.get(f"b{victim}", 0) > 0, f"b{victim} takes new connections again")


def main():
    heading(1, "Topology")
    L = lab.Lab("sldemo", "fallback", backends=4, config_file=CONFIG)
    L.create()
    table([("client", "10.100.0.2", "curl-like HTTP client"),
           ("router", "10.100.0.1, 10.100.1.1", "routes the VIP 10.100.200.1 to the LB"),
           ("lb", "10.100.1.2", "sluiced + sluice-dp (net_af_packet on eth0)"),
           ("b1..b4", "10.100.1.11-14", "HTTP servers, VIP on lo, sluice-decap")],
          ("namespace", "addresses", "role"))
    s = L.status()
    claim(L.forwarding() == "dpdk", f"sluiced ({CONFIG.split('/../../')[-1]}) is up at generation "
          f"{s['generation']}; sluice-dp forwards with {s['dataplane']['live']} worker lcore")

    heading(2, "300 requests through the DPDK path")
    c = answered(L, 300, "DPDK path")
    claim(len(c) == 4 and min(c.values()) > 30, "all four backends answered")
    stats(L)

    fail_and_recover(L, 2, "DPDK")

    heading(5, "Drain a backend; its open connection keeps working")
    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "12")
    ready = streams.wait_line()
    victim = collections.Counter(ready["backends"]).most_common(1)[0][0]
    addr = lab.backend_ip(int(victim[1:]))
    print(f"   12 long-lived connections open; {victim} has "
          f"{ready['backends'].count(victim)} of them")
    print(f"   $ sluicectl backend drain {L.echo_vip} {addr}")
    L.ctl_ok("backend", "drain", L.echo_vip, addr)
    L.ctl_ok("backend", "drain", L.vip, addr)
    c = answered(L, 200, f"{victim} draining")
    claim(victim not in c, f"no new connection went to the draining {victim}")
    time.sleep(0.5)
    res = streams.finish()["streams"]
    on = [x for x in res if x["backend"] == victim]
    ok = all(not x["error"] and x["verified"] == x["sent"] for x in on)
    claim(ok and on, f"its {len(on)} open connections kept streaming: "
          f"{sum(x['verified'] for x in on) >> 10} KiB echoed, no reset")
    L.ctl_ok("backend", "enable", L.echo_vip, addr)
    L.ctl_ok("backend", "enable", L.vip, addr)

    heading(6, "The XDP path: sluice-dp stops, XDP takes over")
    t = time.monotonic()
    L.kill_dp()
    st.wait_until(lambda: L.forwarding() == "xdp", 10, "the XDP path", interval=0.01)
    took = time.monotonic() - t
    claim(took < 2, f"sluice-dp killed; sluiced attached the XDP path after {took:.2f} s "
          f"(heartbeat timeout 300 ms)")
    c = answered(L, 300, "XDP path")
    claim(len(c) == 4, "all four backends answered")
    stats(L)
    fail_and_recover(L, 3, "XDP")
    L.destroy()
    scale_out()


def scale_out():
    heading(7, "Scale-out: three LB hosts behind a BGP router; one dies")
    L = sl.ScaleLab("sldemox", nlb=3, backends=4).create()
    table([("router", "10.100.1.1", "BIRD: BGP + BFD from each host, ECMP (L4 hash)"),
           ("lb1..lb3", "10.100.1.2-4", "sluiced + the XDP path + BIRD, each announcing the VIP"),
           ("b1..b4", "10.100.1.11-14", "the same backends for all three")],
          ("namespace", "addresses", "role"))
    print(f"   router: {lab.VIP4} via {', '.join(sorted(L.nexthops()))}")
    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "30")
    ready = streams.wait_line()
    time.sleep(0.3)
    by_port = L.owners(ready["ports"], ready["backends"], "all hosts up")
    per = L.per_host(by_port)
    claim(all(per.values()), f"30 long-lived connections spread over the hosts: {per}; for each, "
          f"every host names the same backend (sluicectl explain)")
    d, agree = L.digests()
    claim(agree, f"the hosts' tables agree: digest {d[L.vip]['lb1']} on each "
          f"(sluicectl table {L.vip})" if agree else f"the hosts' tables differ: {d}")
    dead = max(L.hosts, key=lambda h: per[h.name])
    watch = sl.RouteWatch(L, lab.VIP4)
    t = dead.kill()
    took = watch.gone(dead.addr, t)
    claim(took <= 1, f"{dead.name} killed (link down, every process SIGKILLed): BFD took it out "
          f"of the router's routes after {took * 1000:.0f} ms")
    print(f"   router: {lab.VIP4} via {', '.join(sorted(L.nexthops()))}")
    time.sleep(1.5)
    res = streams.finish()["streams"]
    broken = [x for x in res if x["error"] or x["verified"] != x["sent"]]
    claim(not broken, f"its {per[dead.name]} connections moved to the other hosts, which picked "
          f"the same backends: {len(res) - len(broken)} of {len(res)} streams intact, "
          f"{sum(x['verified'] for x in res) >> 10} KiB echoed")
    watch.stop()
    L.destroy()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        failed.append(str(e))
        print(f"   FAIL {e}")
    took = time.monotonic() - T0
    if failed:
        print(f"\ndemo: {len(failed)} claims failed ({took:.0f} s):")
        for f in failed:
            print(f"  - {f}")
        sys.exit(1)
    print(f"\ndemo: every claim held; {took:.0f} s; cleaning up")
