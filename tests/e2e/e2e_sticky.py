#!/usr/bin/env python3
"""Connection stickiness: 24 long-lived TCP connections stream data both ways
(the client sends, the backend echoes, every byte compared) to the 4
backends the echo VIP starts with, while sluicectl changes the VIP 50 times:
backends b5 and b6 added, drained, re-weighted, removed; b1..b4 (which carry
the streams) drained, re-enabled and re-weighted, never removed. Every
connection must stay up without a reset or a lost byte, and new connections
made at the end must reach only backends of the final set. --path: dpdk or
xdp. --workers 2: sluice-dp with two workers on a two-queue af_packet port;
the streams' flow-table entries must be spread over both workers, each
stream staying on its worker and its backend."""
import time

import lab
from lab import st

CHANGES = 50


def plan(vip):
    """The 50 changes, as sluicectl argument lists, and the backends (by
    name) that take new flows after them."""
    b = lab.backend_ip
    cycle = [
        ("backend", "add", vip, b(5)),
        ("backend", "weight", vip, b(1), "300"),
        ("backend", "drain", vip, b(2)),
        ("backend", "add", vip, b(6), "weight", "50"),
        ("backend", "weight", vip, b(5), "1000"),
        ("backend", "enable", vip, b(2)),
        ("backend", "del", vip, b(5)),
        ("backend", "weight", vip, b(3), "0"),
        ("backend", "drain", vip, b(6)),
        ("backend", "weight", vip, b(1), "100"),
        ("backend", "weight", vip, b(3), "100"),
        ("backend", "del", vip, b(6)),
    ]
    changes = (cycle * (CHANGES // len(cycle) + 1))[:CHANGES]
    # What the changes leave: name -> [weight, draining].
    left = {f"b{i}": [100, False] for i in range(1, 5)}
    for c in changes:
        name = "b" + c[3].rsplit(".", 1)[1][1:]
        if c[1] == "add":
            left[name] = [int(c[5]) if len(c) > 4 else 100, False]
        elif c[1] == "del":
            del left[name]
        elif c[1] == "weight":
            left[name][0] = int(c[4])
        else:
            left[name][1] = c[1] == "drain"
    return changes, {n for n, (w, draining) in left.items() if w and not draining}


def main():
    a = lab.parse_args()
    path = a.path
    L = lab.Lab("stky", path, backends=6, in_vip=4, workers=a.workers).create()
    before = lab.lcore_counters(L) if a.workers > 1 else None
    vip = L.echo_vip
    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "24")
    hello = streams.wait_line()
    ready = hello["ready"]
    st.check(ready == 24, f"only {ready} of 24 streams connected")
    gen0 = L.status()["generation"]
    changes, takers = plan(vip)
    for args in changes:
        L.ctl_ok(*args)
        time.sleep(0.05)  # let data flow under every table
    gen1 = L.status()["generation"]
    st.check(gen1 - gen0 >= CHANGES, f"{CHANGES} changes made only {gen1 - gen0} generations")
    if before is not None:
        # Every stream's packets reached one worker: each flow was
        # inserted once, in one worker's table, and never again in the
        # other's (which would have picked by the changed table).
        ins = {i: c["flow_inserts"] - before[i]["flow_inserts"]
               for i, c in lab.lcore_counters(L).items()}
        st.say(f"{path}: flow-table inserts per worker lcore during the streams: {ins}")
        st.check(sum(ins.values()) == 24,
                 f"24 streams made {sum(ins.values())} flow-table inserts over the workers "
                 f"{ins}: some stream's packets reached two workers")
    # explain asks the data path's flow table: every stream is there, on
    # the backend it greeted from, though the tables now send some of
    # those flows elsewhere.
    moved, holder = 0, {}
    for name, port in zip(hello["backends"], hello["ports"]):
        x = L.ctl_ok("explain", vip, "tcp", f"10.100.0.2:{port}")
        want = lab.backend_ip(int(name[1:]))
        st.check(x["by"] == "flow table" and x["backend"]["address"] == want,
                 f"explain of the stream from port {port} (on {name}): {x}")
        moved += "table_backend" in x
        holder[port] = x["flow_table"].get("lcore")
    st.say(f"{path}: explain finds all 24 streams in the flow table; the lookup table "
           f"would send {moved} of them elsewhere now")
    st.check(moved > 0, "no change moved any stream's slot: stickiness was not tested")
    if before is not None:
        # Each stream's entry is on one worker (explain asks them all and
        # names the one that has it), and the streams are on every worker:
        # the port spread them and each worker kept its own.
        per = {lc: sum(1 for h in holder.values() if h == lc) for lc in set(holder.values())}
        st.say(f"{path}: streams' flow-table entries per worker lcore: {per}")
        st.check(len(per) == a.workers and None not in per,
                 f"the 24 streams' entries are on lcores {per}, want all {a.workers} workers")
        lab.check_workers_share(L, before, f"{path} with {a.workers} workers: streams",
                                least=0.1)
    res = streams.finish()["streams"]
    on = lab.counts([{"backend": s["backend"]} for s in res])
    st.say(f"{path}: streams per backend {on}, generations {gen0} -> {gen1}")
    st.check(set(on) <= {"b1", "b2", "b3", "b4"}, f"streams reached {on}")
    broken = [s for s in res if s["error"] or s["verified"] != s["sent"] or not s["sent"]]
    st.check(not broken, f"{len(broken)} of {len(res)} streams broke: {broken[:3]}")
    st.say(f"{path}: all 24 streams intact through {CHANGES} changes, "
           f"{sum(s['verified'] for s in res) >> 10} KiB echoed")
    # New connections go where the changes say, and nowhere else.
    new = L.client("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "40",
                   "--duration", "0.3")["streams"]
    c = lab.counts([{"backend": s["backend"]} for s in new])
    st.check(None not in c and set(c) <= takers, f"new connections: {c}, want only {takers}")


if __name__ == "__main__":
    lab.run(main)
