#!/usr/bin/env python3
"""Bad commands during traffic: while new connections flow and streams are
open, sluicectl is given invalid addresses, unknown VIPs and backends,
absurd weights and malformed commands. Each must fail with its exit code (1:
the daemon refused, 2: usage) and a message that names the problem, change
nothing (the generation stays), and leave the traffic untouched: no
request fails, no stream breaks. --path: dpdk or xdp."""
import time

import lab
from lab import st


def cases(vip):
    """(arguments, exit code, a word the message must contain)."""
    b1 = lab.backend_ip(1)
    return [
        (["backend", "add", vip, "10.100.1.300"], 2, "10.100.1.300"),
        (["backend", "add", vip, "not-an-address"], 2, "not-an-address"),
        (["backend", "add", "10.100.200.1:99999", b1], 2, "99999"),
        (["backend", "weight", vip, b1, "-5"], 2, "-5"),
        (["backend", "weight", vip, b1, "1000000"], 1, "1000000"),
        (["backend", "weight", vip, b1, "lots"], 2, "lots"),
        (["backend", "drain", "10.9.9.9:80", b1], 1, "10.9.9.9:80"),
        (["backend", "del", vip, "10.100.1.99"], 1, "10.100.1.99"),
        (["backend", "add", vip, b1], 1, b1),
        (["vip", "del", "10.9.9.9:80/udp"], 1, "10.9.9.9:80/udp"),
        (["vip", "add", vip], 1, "10.100.200.1:80"),
        (["vip", "add", "10.100.200.2:80", "table-size", "65536"], 1, "65536"),
        (["explain", vip, "tcp", "10.100.0.2"], 2, "10.100.0.2"),
        (["backend", "frobnicate", vip, b1], 2, "frobnicate"),
        (["backend", "weight", vip, b1], 2, "weight"),
        ([], 2, "usage"),
    ]


def main():
    path = lab.parse_path()
    L = lab.Lab("badc", path, backends=3).create()
    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "20")
    st.check(streams.wait_line()["ready"] == 20, "streams did not all connect")
    traffic = L.client_bg("requests", lab.VIP4, str(lab.HTTP_PORT), "--duration", "3",
                          "--parallel", "2", "--interval", "0.01", "--timeout", "1")
    gen = L.status()["generation"]
    time.sleep(0.3)
    for args, want_rc, word in cases(L.vip):
        rc, out, err = L.ctl(*args)
        msg = (err + out).strip()
        st.check(rc == want_rc, f"sluicectl {' '.join(args)}: exit {rc}, want {want_rc}: {msg}")
        st.check(word.lower() in msg.lower(),
                 f"sluicectl {' '.join(args)}: message does not name {word!r}: {msg}")
        st.say(f"{' '.join(args) or '(nothing)'} -> {rc}: {msg.splitlines()[0]}")
    st.check(L.status()["generation"] == gen, "a refused command published something")
    results = traffic.finish(stop=False)["requests"]
    bad = lab.failures(results)
    st.check(len(results) > 100 and not bad,
             f"{len(bad)} of {len(results)} requests failed: {bad[:3]}")
    res = streams.finish()["streams"]
    broken = [s for s in res if s["error"] or s["verified"] != s["sent"]]
    st.check(not broken, f"{len(broken)} streams broke: {broken[:3]}")
    st.say(f"{path}: {len(results)} requests and 20 streams unaffected")


if __name__ == "__main__":
    lab.run(main)
