#!/usr/bin/env python3
"""Scale-out: three LB hosts behind a BIRD router (BGP + BFD, ECMP with an
L4 hash; two hosts on the XDP path, one on sluice-dp with BGP over its
exception path when sluice-dp is built), four backends, 30 long-lived streams and new connections all the
time (tests/e2e/scaleout_lab.py). The claim: any host picks the same
backend for a flow, so hosts can come and go without breaking one.

1. Every host gets flows; for each stream every host names the same
   backend (`sluicectl explain`), the one that greeted it; the tables'
   digests agree.
2. An XDP host dies (link down, every process SIGKILLed): BFD takes its next hop
   out of the router's kernel within 1 s; no stream breaks (its flows land
   on the others, which pick the same backends); new connections fail only
   within the withdrawal.
3. `sluicectl host drain` on another: its next hop goes, its flows move to
   the last host, nothing breaks.
4. A backend fails: only its flows move, to the same backend on every host
   that is still running; streams on the other backends go on.

The last line is one JSON object: withdraw_ms, streams, broken (streams
broken other than those on the failed backend), digests_agree, and the
rest of what was measured.
"""
import json
import time

import lab
import scaleout_lab as sl
from lab import st

STREAMS = 30
CLIENT = sl.CLIENT
SLOW = 0.2  # a new connection slower than this lost a packet (no loss: ~10 ms)
result = {"withdraw_ms": None, "streams": STREAMS, "broken": None, "digests_agree": None}


def digests_agree(L, what):
    d, agree = L.digests()
    st.say(f"{what}: table digests {'agree' if agree else 'DIFFER'}: {d}")
    return agree


def wait_backend_down(L, address):
    for h in L.live():
        st.wait_until(lambda: not any(b["up"] for b in h.ctl_ok("health", L.vip)["backends"]
                                      if b["address"] == address), 5,
                      f"{h.name} to see {address} down")


def main():
    t_start = time.monotonic()
    L = sl.ScaleLab("scaleout", nlb=3, backends=4, dpdk_host=3).create()
    st.say(f"ready in {time.monotonic() - t_start:.1f} s: router ECMP over "
           f"{sorted(L.nexthops())}; data paths: "
           f"{ {h.name: h.path for h in L.hosts} }")
    for h in L.hosts:
        if h.path == "dpdk":
            t = h.ctl_ok("stats")["totals"]
            st.check(t["to_kernel"] > 0 and t["from_kernel"] > 0,
                     f"{h.name}'s BGP and BFD do not cross sluice-dp's exception path: {t}")
            st.say(f"{h.name}: BGP, BFD and health checks through sluice-dp's TAP: "
                   f"{t['to_kernel']} frames to the kernel, {t['from_kernel']} from it")
    watch = sl.RouteWatch(L, lab.VIP4)
    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", str(STREAMS),
                          "--chunk", "2048", "--period", "0.05")
    hello = streams.wait_line()
    st.check(hello["ready"] == STREAMS, f"only {hello['ready']} of {STREAMS} streams connected")
    ports, greeted = hello["ports"], hello["backends"]
    traffic = L.client_bg("requests", lab.VIP4, str(lab.HTTP_PORT), "--duration", "120",
                          "--parallel", "4", "--interval", "0.02", "--timeout", "1")
    time.sleep(0.5)

    # 1. Every host carries flows and agrees on every stream's backend.
    st.check(all(h.announced() for h in L.hosts), "a host's sluicectl status does not say "
             "it announces the VIP")
    by_port = L.owners(ports, greeted, "all hosts up")
    counts = L.per_host(by_port)
    st.say(f"1. streams per host (flow tables): {counts}; every host names each stream's backend")
    st.check(all(counts.values()), f"a host got no stream: {counts}")
    result["digests_agree"] = digests_agree(L, "1.")
    st.check(result["digests_agree"], "the hosts' tables differ")

    # 2. An XDP host dies, the one with the most streams: sluice-dp's host,
    # if any, stays for the drain or to carry everything in the end.
    dead = max([h for h in L.hosts if h.path == "xdp"], key=lambda h: counts[h.name])
    t_kill = dead.kill()
    withdraw = watch.gone(dead.addr, t_kill)
    result["withdraw_ms"] = round(withdraw * 1000)
    st.say(f"2. {dead.name} killed (link down, every process SIGKILLed): its next hop left the "
           f"router's kernel after {result['withdraw_ms']} ms; next hops now {sorted(L.nexthops())}")
    time.sleep(1.5)  # TCP retransmits what went to the dead host
    by_port = L.owners(ports, greeted, f"after {dead.name} died")
    moved = [p for p, hs in by_port.items() if not hs]
    st.check(not moved, f"streams :{moved} are in no live host's flow table: not moving?")
    st.say(f"   streams per host: {L.per_host(by_port)} (flow-table entries: a stream that "
           f"ECMP moved between the live hosts has one on both); the same backends")

    # 3. Drain the live host with the most streams.
    counts = L.per_host(by_port)
    drained = max(L.live(), key=lambda h: counts[h.name])
    t_drain = time.monotonic()
    drained.drain()
    drain_ms = round(watch.gone(drained.addr, t_drain) * 1000)
    st.check(not drained.announced(), f"{drained.name} drained still says it announces")
    result["drain_withdraw_ms"] = drain_ms
    # sluiced samples sluice-dp's counters every second: wait for a sample
    # after the move, and count over more than a second.
    time.sleep(1.1)
    last = [h for h in L.live() if h is not drained][0]
    # Moved: the drained host forwards nothing more, the last one all.
    before = {h.name: h.forwarded() for h in L.live()}
    time.sleep(1.1)
    delta = {h.name: h.forwarded() - before[h.name] for h in L.live()}
    st.check(delta[drained.name] == 0 and delta[last.name] > 0,
             f"after the drain, packets forwarded per host in 1 s: {delta}")
    by_port = L.owners(ports, greeted, f"after draining {drained.name}")
    not_moved = [p for p, hs in by_port.items() if last.name not in hs]
    st.check(not not_moved, f"streams :{not_moved} are not in {last.name}'s flow table")
    st.say(f"3. {drained.name} drained: its next hop left after {drain_ms} ms; in the next "
           f"second packets forwarded per host: {delta}; {last.name} names the same backends")

    # 4. The backend with the most streams fails.
    load = {n: greeted.count(n) for n in set(greeted)}
    failed = max(sorted(load), key=lambda n: load[n])
    failed_ip = lab.backend_ip(int(failed[1:]))
    t_fail = time.monotonic()
    L.kill_backend(int(failed[1:]))
    wait_backend_down(L, failed_ip)
    t_detected = time.monotonic()
    others = [(p, n) for p, n in zip(ports, greeted) if n != failed]
    L.owners([p for p, _ in others], [n for _, n in others], f"after {failed} failed")
    # Its flows: re-picked, the same new backend on every host still running.
    picks = set()
    for p, n in zip(ports, greeted):
        if n == failed:
            picks.add(tuple(h.explain(L.echo_vip, f"{CLIENT}:{p}")["backend"]["address"]
                            for h in L.live()))
    st.check(all(len(set(x)) == 1 and failed_ip not in x for x in picks),
             f"the hosts re-pick {failed}'s flows differently: {picks}")
    agree = digests_agree(L, "4.")
    result["digests_agree"] = result["digests_agree"] and agree
    st.check(agree, f"the hosts' tables differ after {failed} failed")
    st.say(f"4. {failed} failed ({load[failed]} streams), seen down by every host in "
           f"{(t_detected - t_fail) * 1000:.0f} ms; its flows re-picked alike on "
           f"{[h.name for h in L.live()]}; the other {len(others)} streams keep their backends")
    time.sleep(0.5)

    # The streams and the new connections, all of it.
    res = streams.finish()["streams"]
    reqs = traffic.finish()["requests"]
    bad = [s for s in res if s["error"] or s["verified"] != s["sent"]]
    on_failed = [s for s in bad if s["backend"] == failed]
    broken = [s for s in bad if s["backend"] != failed]
    result["broken"] = len(broken)
    result["broken_on_failed_backend"] = len(on_failed)
    failures = lab.failures(reqs)
    # A new connection may fail, or wait for its SYN's retransmission, when
    # it went to the dead host before its route was withdrawn; or fail when
    # it went to the failed backend before the hosts saw it down. Never
    # otherwise.
    hit = [r for r in reqs if r["error"] or r["end"] - r["start"] > SLOW]
    in_kill = [r for r in hit if t_kill - 0.1 <= r["start"] <= t_kill + withdraw + 0.1]
    in_fail = [r for r in failures if t_fail - 0.1 <= r["start"] <= t_detected + 0.1]
    other = [r for r in hit if r not in in_kill and r not in in_fail]
    outage = max((r["start"] - t_kill for r in in_kill), default=0)
    result.update(requests=len(reqs), requests_failed=len(failures),
                  requests_hit_by_host_death=len(in_kill),
                  requests_failed_backend_failure=len(in_fail),
                  new_conn_outage_ms=round(outage * 1000))
    st.say(f"streams: {STREAMS}, broken {len(broken)} (and {len(on_failed)} of the "
           f"{load[failed]} on the failed {failed}); "
           f"{sum(s['verified'] for s in res) >> 10} KiB echoed")
    st.say(f"new connections: {len(reqs)}, {len(failures)} failed; hit by the host's death "
           f"(failed, or slower than {SLOW * 1000:.0f} ms: a lost SYN): {len(in_kill)}, the last "
           f"started {outage * 1000:.0f} ms after the kill; failed on {failed} before it was "
           f"seen down: {len(in_fail)}; otherwise failed or slow: {len(other)}")
    watch.stop()
    st.check(not broken, f"{len(broken)} streams broke: {broken[:3]}")
    st.check(len(on_failed) == load[failed],
             f"{len(on_failed)} of {failed}'s {load[failed]} streams broke: should be all")
    st.check(withdraw <= 1.0, f"withdrawal took {withdraw * 1000:.0f} ms (> 1 s)")
    st.check(not other, f"{len(other)} new connections failed outside the windows: {other[:3]}")
    st.say(f"total {time.monotonic() - t_start:.1f} s")


if __name__ == "__main__":
    st.run(main, last_line=lambda: json.dumps(result))
