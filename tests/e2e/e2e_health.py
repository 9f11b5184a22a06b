#!/usr/bin/env python3
"""Health: with new connections flowing and long-lived streams open to every
backend, one backend's server is killed (SIGKILL). sluiced must mark it down
within interval x fall + 1 s; no request that starts after that may fail or
reach it; the streams to the other backends must see no reset and lose no
byte. Then the server comes back and the backend is up again after `rise`
checks and takes new connections. --path: dpdk or xdp."""
import time

import lab
from lab import st

INTERVAL_MS, FALL, RISE = 200, 2, 2
VICTIM = 2


def main():
    path = lab.parse_path()
    L = lab.Lab("hlth", path, backends=4,
                health={"type": "http", "interval_ms": INTERVAL_MS, "timeout_ms": 150,
                        "rise": RISE, "fall": FALL}).create()
    streams = L.client_bg("streams", lab.VIP4, str(lab.ECHO_PORT), "--conns", "24")
    ready = streams.wait_line()["ready"]
    st.check(ready == 24, f"only {ready} of 24 streams connected")
    traffic = L.client_bg("requests", lab.VIP4, str(lab.HTTP_PORT), "--duration", "6",
                          "--parallel", "4", "--interval", "0.01", "--timeout", "1")
    time.sleep(1.0)
    victim = lab.backend_ip(VICTIM)
    t_kill = time.monotonic()
    L.kill_backend(VICTIM)
    _, took = st.wait_until(lambda: not L.backend_up(L.vip, victim), 10, f"{victim} down",
                            interval=0.01)
    t_down = time.monotonic()
    bound = INTERVAL_MS * FALL / 1000 + 1
    st.say(f"{path}: {victim} marked down {took:.2f} s after its server was killed "
           f"(bound {bound:.1f} s)")
    st.check(took <= bound, f"down after {took:.2f} s, bound {bound:.1f} s")

    results = traffic.finish(stop=False)["requests"]
    after = [r for r in results if r["start"] > t_down]
    st.check(len(after) > 50, f"only {len(after)} requests after the backend went down")
    bad = [r for r in after if r["error"] or r["backend"] == f"b{VICTIM}"]
    st.check(not bad, f"{len(bad)} of {len(after)} requests after the removal failed or "
             f"reached b{VICTIM}: {bad[:3]}")
    before = [r for r in results if r["start"] < t_kill]
    st.check(lab.counts(before).get(f"b{VICTIM}"), "the victim took no request before")
    st.say(f"{path}: after removal {lab.counts(after)}, before {lab.counts(before)}")

    # Streams: those on the victim broke with it; none other may have.
    res = streams.finish()["streams"]
    others = [s for s in res if s["backend"] != f"b{VICTIM}"]
    broken = [s for s in others if s["error"] or s["verified"] != s["sent"]]
    st.check(len(others) >= 12, f"only {len(others)} streams on other backends")
    st.check(not broken, f"{len(broken)} streams on other backends broke: {broken[:3]}")
    st.say(f"{path}: {len(others)} streams on the other backends intact, "
           f"{sum(s['verified'] for s in others) >> 10} KiB echoed")

    # Back: up after `rise` checks, and new connections reach it again.
    t_start = time.monotonic()
    L.start_backend(VICTIM)
    _, took = st.wait_until(lambda: L.backend_up(L.vip, victim), 10, f"{victim} up",
                            interval=0.01)
    st.say(f"{path}: {victim} up {took:.2f} s after its server came back")
    st.check(took >= (RISE - 1) * INTERVAL_MS / 1000 * 0.5,
             f"up after {took:.2f} s: sooner than {RISE} checks allow")
    st.check(time.monotonic() - t_start < 5, "not up within 5 s")
    c = lab.counts(L.requests(400))
    st.check(c.get(f"b{VICTIM}", 0) > 40 and None not in c, f"after recovery: {c}")


if __name__ == "__main__":
    lab.run(main)
