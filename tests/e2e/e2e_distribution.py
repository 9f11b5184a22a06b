#!/usr/bin/env python3
"""Distribution: 1,200 new TCP connections from the client to the VIP spread
over 4 equal backends within 20 % of even; after weights 1:1:2:4 are set
with sluicectl, 2,400 more spread by weight within 20 % of each share. Every
request must be answered (by a backend of the VIP's set). --path picks the
data path (dpdk or xdp); --workers 2 runs sluice-dp with two workers on a
two-queue af_packet port, and each worker must have taken a share of the
connections (its own counters in sluicectl stats), and sluice-dp, whose
workers the lab runs with --idle-sleep-us, must use under half a CPU when
idle."""
import time

import lab
from lab import st


def spread(results, shares, what):
    st.check(not lab.failures(results),
             f"{what}: {len(lab.failures(results))} requests failed: {lab.failures(results)[:3]}")
    c = lab.counts(results)
    total = len(results)
    st.say(f"{what}: {dict(sorted(c.items()))}")
    st.check(set(c) <= set(shares), f"{what}: answers from outside the VIP's set: {c}")
    wsum = sum(shares.values())
    for name, w in shares.items():
        want = total * w / wsum
        got = c.get(name, 0)
        st.check(abs(got - want) <= 0.2 * want,
                 f"{what}: {name} answered {got}, want {want:.0f} +- 20 %")


def main():
    a = lab.parse_args()
    path = a.path
    L = lab.Lab("dist", path, backends=4, workers=a.workers).create()
    what = path if a.workers == 1 else f"{path} with {a.workers} workers"
    before = lab.lcore_counters(L) if a.workers > 1 else None
    spread(L.requests(1200), {f"b{i}": 1 for i in range(1, 5)}, f"{what}: 4 equal backends")
    if before is not None:
        before = lab.check_workers_share(L, before, f"{what}: 4 equal backends")
    if path == "xdp":
        # sluicectl stats reads the XDP path's own counters: every
        # connection was a new flow once (a miss, or a SYN that reused the
        # 5-tuple of a closed one: flow_reopened), and its later packets hits.
        stats = L.ctl_ok("stats")
        x = stats.get("xdp_path", {})
        reopened = stats.get("xdp_counters", {}).get("flow_reopened", 0)
        st.check(x.get("flow_misses", 0) + reopened >= 1200 and
                 x.get("flow_hits", 0) >= 2 * 1200,
                 f"XDP counters in sluicectl stats: {x}, flow_reopened {reopened}")
    for i, w in ((1, 100), (2, 100), (3, 200), (4, 400)):
        L.ctl_ok("backend", "weight", L.vip, lab.backend_ip(i), str(w))
    spread(L.requests(2400), {"b1": 1, "b2": 1, "b3": 2, "b4": 4}, f"{what}: weights 1:1:2:4")
    if before is not None:
        lab.check_workers_share(L, before, f"{what}: weights 1:1:2:4")
        # The lab's workers sleep when idle (--idle-sleep-us): without
        # traffic sluice-dp takes a fraction of a CPU, not both.
        with open(f"/proc/{L.dp.pid}/comm") as f:
            st.check(f.read().strip() == "sluice-dp", "L.dp is not sluice-dp")
        c0, t0 = lab.cpu_seconds(L.dp.pid), time.monotonic()
        time.sleep(2)
        busy = (lab.cpu_seconds(L.dp.pid) - c0) / (time.monotonic() - t0)
        st.say(f"{what}: idle sluice-dp used {busy:.2f} CPUs")
        st.check(busy < 0.5, f"idle sluice-dp with --idle-sleep-us used {busy:.2f} CPUs")


if __name__ == "__main__":
    lab.run(main)
