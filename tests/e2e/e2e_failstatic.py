#!/usr/bin/env python3
"""Fail static: sluiced is SIGKILLed while 20 streams flow and new
connections keep coming; the data path goes on with the snapshot in force
(no stream breaks, every new connection is answered, by the set the CLI
left). sluiced restarted: it takes the CLI's changes back from its state
file, publishes nothing (the generation stays: no established flow can
move), and the streams are still intact at the end. A clean stop of sluiced
leaves the data path forwarding too. --path: dpdk or xdp."""
import signal
import time

import lab
from lab import st


def backends(L):
    return {b["address"]: b for b in L.ctl_ok("backend", "list", L.vip)["backends"]}


def main():
    path = lab.parse_path()
    L = lab.Lab("fsta", path, backends=4).create()
    # CLI changes that must survive: b4 drained, b1 heavier.
    L.ctl_ok("backend", "drain", L.vip, lab.backend_ip(4))
    L.ctl_ok("backend", "weight", L.vip, lab.backend_ip(1), "200")
    before = backends(L)
    gen = L.status()["generation"]

    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "20")
    st.check(streams.wait_line()["ready"] == 20, "streams did not all connect")
    traffic = L.client_bg("requests", lab.VIP4, str(lab.HTTP_PORT), "--duration", "4",
                          "--parallel", "2", "--interval", "0.01", "--timeout", "1")
    time.sleep(0.5)
    L.sluiced.stop(signal.SIGKILL)
    t_kill = time.monotonic()
    time.sleep(1.5)
    st.say(f"{path}: sluiced killed; the data path forwards alone for 1.5 s")

    L.sluiced.start()
    st.check(L.status()["generation"] == gen,
             f"restart published: generation {gen} -> {L.status()['generation']}")
    after = backends(L)
    for addr in (lab.backend_ip(1), lab.backend_ip(4)):
        for k in ("weight", "state"):
            st.check(after[addr][k] == before[addr][k],
                     f"{addr} {k}: {before[addr][k]} before, {after[addr][k]} after restart")
    st.say(f"{path}: restarted: generation {gen} kept, CLI changes restored "
           f"(b1 weight {after[lab.backend_ip(1)]['weight']}, b4 {after[lab.backend_ip(4)]['state']})")

    results = traffic.finish(stop=False)["requests"]
    alone = [r for r in results if r["start"] > t_kill]
    st.check(len(alone) > 50, f"only {len(alone)} requests while sluiced was down")
    bad = lab.failures(results)
    st.check(not bad, f"{len(bad)} of {len(results)} requests failed: {bad[:3]}")
    c = lab.counts(results)
    st.check("b4" not in c, f"the drained b4 took new connections: {c}")
    st.say(f"{path}: {len(results)} requests, none failed: {c}")
    time.sleep(0.5)
    res = streams.finish()["streams"]
    broken = [s for s in res if s["error"] or s["verified"] != s["sent"]]
    st.check(not broken, f"{len(broken)} of 20 streams broke: {broken[:3]}")
    st.say(f"{path}: 20 streams intact, {sum(s['verified'] for s in res) >> 10} KiB echoed")

    # A clean stop too (systemctl stop or restart): sluice-dp keeps the
    # snapshot, and in mode xdp the program stays attached (xdp_on_stop
    # defaults to keep there).
    st.check(L.sluiced.stop() == 0, "sluiced did not stop cleanly")
    res = L.requests(200)
    st.check(not lab.failures(res), f"after a clean stop of sluiced: "
             f"{len(lab.failures(res))} of 200 requests failed: {lab.failures(res)[:3]}")
    st.say(f"{path}: sluiced stopped cleanly; 200 requests answered: {lab.counts(res)}")


if __name__ == "__main__":
    lab.run(main)
