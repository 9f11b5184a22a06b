#!/usr/bin/env python3
"""Health-gated VIP announcement: a real sluiced in a network namespace of
this test's own keeps a host route per VIP address in routing.table, read
back with `ip -j route show table T` and watched with `ip monitor route`.
The data plane is fake_dp's heartbeat (mode dpdk, no fallback), then the
real XDP path on a veth (mode dpdk+xdp-fallback); backends are real HTTP
servers with real health checks.

(a) routes appear once the backends' first checks pass; a route of ours to
    an address no VIP has any more goes at start, others' routes stay;
(b) a VIP with fewer than min_up backends up is withdrawn and comes back;
    another VIP on the same address keeps the address announced; draining
    backends count, disabled ones do not;
(c) host drain withdraws every route at once, survives a restart, says
    when it is safe to stop; undrain restores;
(d) sluiced SIGKILLed: the routes stay; restarted: not one route deleted
    or added (ip monitor), the same routes;
(e) the data plane's heartbeat stops with no fallback: withdrawn; back:
    announced; with the XDP fallback the routes stay through the hand-over,
    and go when the XDP path's interface goes too;
(f) a VIP removed from the configuration: its route goes at the reload;
and a netlink failure (a foreign route in the way) is logged, counted and
retried until it succeeds.
"""
import ctypes
import json
import os
import signal
import subprocess
import time

from sluicetest import (Backend, Sluiced, check, check_exposition, free_port, run, say, spawn,
                        wait_until)

FAKE_DP = os.environ["FAKE_DP"]
TABLE = 4242
PROTO = 211
VETH = "rt-routing0"


def enter_own_netns():
    """Everything this test starts lives in a network namespace that goes
    away with it: routes, veths, loopback addresses."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    sh("ip link set lo up")
    sh("ip -6 addr add fd00::1/128 dev lo nodad")
    sh("ip -6 addr add fd00::2/128 dev lo nodad")


def sh(cmd):
    r = subprocess.run(cmd.split(), capture_output=True, text=True, timeout=10)
    check(r.returncode == 0, f"{cmd}: {r.stderr}")
    return r.stdout


def routes():
    """dst -> the route's fields, for every route in TABLE (both families)."""
    out = {}
    for fam in ("-4", "-6"):
        for r in json.loads(sh(f"ip -j {fam} route show table {TABLE}") or "[]"):
            out[r["dst"]] = r
    return out


def ours():
    return {dst for dst, r in routes().items() if str(r.get("protocol")) in (str(PROTO), "sluice")}


def start_dp(d):
    p = spawn([FAKE_DP, d.instance, "1"], stdout=subprocess.PIPE)
    check(p.stdout.readline().strip() == b"ready", "fake_dp did not start")
    return p


def addr_status(d):
    rt = d.ctl_ok("status")["routing"]
    return {a["address"]: a for a in rt["addresses"]}, rt


def metric(d, name):
    for line in d.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no metric {name}")


def main():
    enter_own_netns()
    port = free_port()
    # fall 2: one probe that a loaded machine makes late does not flap a
    # route (this test is about routes, not the probes' timing).
    health = {"type": "http", "path": "/", "interval_ms": 100, "timeout_ms": 90,
              "rise": 1, "fall": 2}

    def vip(addr, vport, backends):
        return {"address": addr, "port": vport, "forwarding": "l2dsr", "table_size": 1009,
                "health": dict(health, port=port),
                "backends": [{"address": b, "mac": "02:00:00:00:00:01"} for b in backends]}

    vips = [vip("10.0.0.10", 80, ["127.0.0.1", "127.0.0.2", "127.0.0.3"]),
            vip("10.0.0.10", 443, ["127.0.0.4", "127.0.0.5"]),
            vip("10.0.0.20", 80, ["127.0.0.6", "127.0.0.7"]),
            vip("2001:db8::30", 80, ["fd00::1", "fd00::2"])]
    cfg = {"dataplane": {"mode": "dpdk", "heartbeat_timeout_ms": 300},
           "routing": {"table": TABLE, "min_up": 2, "drain_grace_s": 2},
           "vips": vips}
    want = {"10.0.0.10", "10.0.0.20", "2001:db8::30"}

    # A route of ours left for an address no VIP has (an older
    # configuration), a foreign route sluiced must leave alone, and a
    # foreign route in the way of a VIP's (the netlink failure).
    sh(f"ip route add 10.0.0.99/32 dev lo table {TABLE} proto {PROTO}")
    # Ours by protocol but not host routes: go too (one on a VIP's address).
    sh(f"ip route add 10.0.0.0/24 dev lo table {TABLE} proto {PROTO}")
    sh(f"ip route add 10.0.0.10/31 dev lo table {TABLE} proto {PROTO}")
    sh(f"ip route add 10.0.0.98/32 dev lo table {TABLE} proto static")
    sh(f"ip -6 route add 2001:db8::30/128 dev lo table {TABLE} proto static")

    b80 = Backend(["127.0.0.1", "127.0.0.2", "127.0.0.3"], port)
    b443 = Backend(["127.0.0.4", "127.0.0.5"], port)
    b20a = Backend(["127.0.0.6"], port)
    b20b = Backend(["127.0.0.7"], port)
    b30 = Backend(["fd00::1", "fd00::2"], port)
    d = Sluiced("routing")
    d.write_config(cfg)
    dp = start_dp(d)
    t0 = time.monotonic()
    d.start()

    # (a) announced once checked; the stray of ours gone, others' stay.
    wait_until(lambda: {"10.0.0.10", "10.0.0.20"} <= ours(), 5, "the IPv4 routes")
    say(f"(a) routes in table {TABLE} {time.monotonic() - t0:.2f} s after the start")
    r = routes()
    check(not {"10.0.0.99", "10.0.0.0/24", "10.0.0.10/31"} & set(r),
          f"a stray route of ours stayed: {r}")
    check("10.0.0.98" in r and r["10.0.0.98"]["protocol"] == "static", "a foreign route went")
    for dst in ("10.0.0.10", "10.0.0.20"):
        check(r[dst]["dev"] == "lo" and r[dst].get("scope") == "link", f"route {r[dst]}")
    # The foreign IPv6 route is in the way: refused, counted, retried.
    wait_until(lambda: addr_status(d)[1]["netlink_errors"] >= 2, 3, "the add retried")
    st, rt = addr_status(d)
    check(not st["2001:db8::30"]["announced"] and st["2001:db8::30"].get("wanted") is True,
          f"status of the blocked address: {st['2001:db8::30']}")
    check("File exists" in rt["last_error"], f"last_error {rt.get('last_error')}")
    check("routing: adding the route to 2001:db8::30/128" in d.log(), "the failure logged")
    check(metric(d, "sluice_route_netlink_errors_total") >= 2, "netlink errors in /metrics")
    sh(f"ip -6 route del 2001:db8::30/128 dev lo table {TABLE} proto static")
    wait_until(lambda: ours() == want, 3, "the IPv6 route once the way is clear")
    check(routes()["2001:db8::30"]["dev"] == "lo", "IPv6 route on lo")
    m = d.metrics()
    for a in want:
        check(f'sluice_vip_announced{{vip="{a}"}} 1' in m, f"metrics: {a} announced")
    types = check_exposition(m)
    check(types.get("sluice_vip_announced") == "gauge" and
          types.get("sluice_route_changes_total") == "counter" and
          types.get("sluice_route_netlink_errors_total") == "counter", "metric types")
    rc, out, _ = d.ctl("status")
    check(rc == 0 and f"routing: table {TABLE}" in out and "a VIP can be served" in out, out)

    # (b) min_up: 10.0.0.20 with one backend of two is withdrawn, back
    # when it recovers. 10.0.0.10:443 losing both backends leaves the
    # address announced: its port 80 is served.
    b20a.signal(signal.SIGUSR1)
    _, secs = wait_until(lambda: "10.0.0.20" not in ours(), 3, "10.0.0.20 withdrawn")
    say(f"(b) a VIP below min_up withdrawn {secs:.2f} s after its backend failed")
    st, _ = addr_status(d)
    check(st["10.0.0.20"]["reason"] == "too_few_up" and not st["10.0.0.20"]["announced"],
          f"{st['10.0.0.20']}")
    check('sluice_vip_announced{vip="10.0.0.20"} 0' in d.metrics(), "metrics: withdrawn")
    rc, out, _ = d.ctl("status")
    check("too few backends up" in out, out)
    b443.signal(signal.SIGUSR1)
    wait_until(lambda: all(not b["health"]["up"] for b in d.ctl_ok("backend", "list",
               "10.0.0.10:443")["backends"]), 3, "port 443's backends down")
    time.sleep(0.6)
    check("10.0.0.10" in ours(), "an address withdrawn while another of its VIPs is served")
    b20a.signal(signal.SIGUSR2)
    b443.signal(signal.SIGUSR2)
    wait_until(lambda: ours() == want, 3, "10.0.0.20 back")
    # The operator's backend states: draining backends still serve their
    # flows and count; a disabled one is out of the set and does not.
    for b in ("127.0.0.6", "127.0.0.7"):
        d.ctl_ok("backend", "drain", "10.0.0.20:80", b)
    time.sleep(0.6)
    check("10.0.0.20" in ours(), "a VIP whose backends all drain was withdrawn")
    d.ctl_ok("backend", "disable", "10.0.0.20:80", "127.0.0.7")
    wait_until(lambda: "10.0.0.20" not in ours(), 3, "withdrawal with a backend disabled")
    for b in ("127.0.0.6", "127.0.0.7"):
        d.ctl_ok("backend", "enable", "10.0.0.20:80", b)
    wait_until(lambda: ours() == want, 3, "10.0.0.20 back once enabled")

    # (c) drain: every route at once, in the reply; kept over a restart.
    changes0 = metric(d, "sluice_route_changes_total")
    rc, out, err = d.ctl("host", "drain")
    check(rc == 0 and "withdrawn 10.0.0.10" in out, f"host drain: {rc} {out} {err}")
    check(ours() == set(), f"routes right after host drain: {ours()}")
    check(metric(d, "sluice_route_changes_total") == changes0 + 3, "3 changes counted")
    st, rt = addr_status(d)
    check(rt["host"]["drained"] and not rt["host"]["safe_to_stop"] and
          all(a["reason"] == "drained" for a in st.values()), f"{rt}")
    check("sluice_host_drained 1" in d.metrics(), "metrics: drained")
    check(d.stop() == 0, "clean stop")
    d.start()
    time.sleep(1.0)
    check(ours() == set(), f"a drained host announced after a restart: {ours()}")
    # --wait returns once drain_grace_s (2 s) from the drain is over,
    # counted across the restart.
    rc, out, err = d.ctl("host", "drain", "--wait")
    _, rt = addr_status(d)
    check(rc == 0 and "nothing to do" in out and "safe to stop the data path" in out and
          rt["host"]["safe_to_stop"] and rt["host"]["drained_for_s"] >= 2, f"{out} {err} {rt}")
    rc, out, _ = d.ctl("status")
    check("safe to stop the data path" in out, out)
    rc, out, _ = d.ctl("host", "undrain")
    check(rc == 0 and ours() == want, f"undrain: {out} {ours()}")
    say("(c) drain withdrew 3 routes at once, stayed drained over a restart; undrain restored")

    # (d) SIGKILL: the routes stay; the restarted sluiced changes nothing.
    before = routes()
    mon = spawn(["ip", "-o", "monitor", "route"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    d.stop(signal.SIGKILL)
    check(routes() == before, "the routes changed when sluiced was killed")
    d.start()
    wait_until(lambda: all(a["reason"] == "served" for a in addr_status(d)[0].values()), 3,
               "the restarted sluiced to judge every address")
    time.sleep(0.6)
    check(routes() == before, f"routes after the restart: {routes()} (before {before})")
    mon.terminate()
    seen = mon.communicate(timeout=5)[0]
    check(str(TABLE) not in seen and not any(a in seen for a in want),
          f"ip monitor saw route changes over the kill and restart: {seen!r}")
    check(d.ctl_ok("status")["routing"]["route_changes"] == 0, "changes after the restart")
    say("(d) SIGKILL and restart: routes untouched, no delete or add seen by ip monitor")

    # (e) the heartbeat stops, no fallback in mode dpdk: withdrawn.
    os.kill(dp.pid, signal.SIGSTOP)
    _, secs = wait_until(lambda: ours() == set(), 3, "withdrawal on a dead data plane")
    say(f"(e) data plane frozen: withdrawn {secs:.2f} s later (heartbeat timeout 0.3 s)")
    check(all(a["reason"] == "dataplane_down" for a in addr_status(d)[0].values()),
          "reason dataplane_down")
    os.kill(dp.pid, signal.SIGCONT)
    wait_until(lambda: ours() == want, 3, "announced again with the data plane back")

    # (f) a VIP removed from the file: its route goes at the reload.
    cfg["vips"] = [v for v in vips if v["address"] != "10.0.0.20"]
    d.write_config(cfg)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: ours() == want - {"10.0.0.20"}, 3, "10.0.0.20 gone at the reload")
    check("10.0.0.20 withdrawn: no VIP has it any more" in d.log(), "the removal logged")
    say("(f) a VIP removed from the configuration: its route went at the reload")

    # With the XDP path as fallback, on a real veth: sluice-dp's death is
    # no reason to withdraw, the hand-over keeps the address served.
    sh(f"ip link add {VETH} type veth peer name {VETH}p")
    sh(f"ip link set {VETH} up")
    sh(f"ip link set {VETH}p up")
    check(d.stop() == 0, "clean stop")
    check(ours() == want - {"10.0.0.20"}, "a clean stop keeps the routes")
    cfg["dataplane"] = {"mode": "dpdk+xdp-fallback", "interface": VETH,
                        "heartbeat_timeout_ms": 300}
    d.write_config(cfg)
    d.start()
    before = routes()
    mon = spawn(["ip", "-o", "monitor", "route"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    dp.kill()
    dp.wait()
    wait_until(lambda: d.ctl_ok("status")["dataplane"]["xdp"] in ("native", "generic"), 5,
               "the XDP path to take over")
    time.sleep(0.6)
    mon.terminate()
    seen = mon.communicate(timeout=5)[0]
    check(routes() == before and str(TABLE) not in seen,
          f"routes moved over the hand-over to XDP: {seen!r}")
    check(all(a["reason"] == "served" for a in addr_status(d)[0].values()), "served by XDP")
    say("(e) sluice-dp killed in mode dpdk+xdp-fallback: XDP took over, routes untouched")
    # And when the XDP path goes too (its interface deleted), nothing
    # forwards: withdrawn.
    sh(f"ip link del {VETH}")
    _, secs = wait_until(lambda: ours() == set(), 3, "withdrawal with the XDP path gone")
    check(all(a["reason"] == "dataplane_down" for a in addr_status(d)[0].values()),
          "reason dataplane_down without XDP")
    say(f"(e) the XDP path's interface deleted: withdrawn {secs:.2f} s later")
    for b in (b80, b443, b20a, b20b, b30):
        b.kill()
    say(f"done in {time.monotonic() - t0:.1f} s")


run(main)
