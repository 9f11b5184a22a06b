#!/usr/bin/env python3
"""Health checks end to end: real HTTP backends on 127.0.0.2-4, a real
sluiced. A killed backend is marked down within interval x fall (+ the
timeout and some slack) with the reason logged once, and its slots move
(only its slots, on the ring VIP); restarted, it comes back after `rise`
checks and the table is as before. A backend answering 503 goes down as
bad_status, a frozen one as timeout. The metrics page says so too. A down
backend whose check a reload removes comes up, and the log says why.
"""
import signal
import time

from sluicetest import (Backend, Sluiced, check, check_exposition, free_port, run, say, slots,
                        states, vip_of, wait_until)

INTERVAL, TIMEOUT, RISE, FALL = 200, 100, 2, 3
SLACK = 0.6
ADDRS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
MAGLEV, RING = "10.0.0.10:80/tcp", "10.0.0.11:80/tcp"


def health(d):
    rc, out, _ = d.ctl("health", json_out=True)
    check(rc == 0, "health failed")
    return {(b["vip"], b["address"]): b for b in out["backends"]}


def main():
    port = free_port()
    backends = {a: Backend([a], port) for a in ADDRS}
    check_cfg = {"type": "http", "path": "/healthz", "port": port, "interval_ms": INTERVAL,
                 "timeout_ms": TIMEOUT, "rise": RISE, "fall": FALL}
    d = Sluiced("health")
    cfg = {
        "source": {"ipv4": "127.0.0.1"},
        "nexthop_mac": "02:00:00:00:00:01",
        "vips": [
            {"address": "10.0.0.10", "port": 80, "table_size": 4099, "health": check_cfg,
             "backends": [{"address": a} for a in ADDRS]},
            {"address": "10.0.0.11", "port": 80, "algorithm": "ring", "table_size": 4099,
             "health": check_cfg, "backends": [{"address": a} for a in ADDRS]},
        ],
    }
    d.write_config(cfg)
    d.start()
    # Every backend passes its checks.
    wait_until(lambda: all(b["checks"] >= 2 and b["up"] and b["last"] == "ok"
                           for b in health(d).values()), 5, "all backends checked up")
    before = d.dump(tables=True)
    for key in (MAGLEV, RING):
        s = slots(before, key)
        check(all(abs(n - 4099 / 3) < 4099 * 0.05 for n in s.values()), f"{key} unbalanced: {s}")

    # Kill one: down within interval x fall + timeout (+ slack).
    victim = "127.0.0.3"
    victim_id = next(b["id"] for b in vip_of(before, RING)["backends"]
                     if b["address"] == victim)
    backends[victim].kill()
    t0 = time.monotonic()
    limit = INTERVAL * FALL / 1000 + TIMEOUT / 1000 + SLACK
    _, took = wait_until(lambda: states(d.dump(), MAGLEV)[victim] == "down"
                         and states(d.dump(), RING)[victim] == "down", limit + 2,
                         "the killed backend to be down")
    took = time.monotonic() - t0
    say(f"killed backend marked down and published after {took * 1000:.0f} ms "
        f"(interval {INTERVAL} ms x fall {FALL} + timeout {TIMEOUT} ms = "
        f"{INTERVAL * FALL + TIMEOUT} ms)")
    check(took <= limit, f"down after {took:.2f} s, more than {limit:.2f} s")
    h = health(d)[(MAGLEV, victim)]
    check(not h["up"] and h["last"] == "refused", f"health says {h}")
    down = d.dump(tables=True)
    for key in (MAGLEV, RING):
        s = slots(down, key)
        check(s[victim] == 0, f"{key}: the down backend still has {s[victim]} slots")
        check(sum(s.values()) == 4099, f"{key}: slots lost: {s}")
    # On the ring, only the victim's slots moved: everyone else keeps flows.
    t_before, t_down = vip_of(before, RING)["table"], vip_of(down, RING)["table"]
    moved = sum(1 for a, b in zip(t_before, t_down) if a != b and a != victim_id)
    check(moved == 0, f"ring: {moved} slots of live backends moved")
    log = d.log()
    line = (f"backend {victim} of VIP {MAGLEV} is DOWN: connection refused "
            f"({FALL} checks failed in a row)")
    check(log.count(line) == 1, f"expected one log line \"{line}\"")

    m = d.metrics()
    check_exposition(m)
    check(f'sluice_backend_up{{vip="{MAGLEV}",backend="{victim}"}} 0' in m, "metrics: up 0")
    check(f'sluice_backend_up{{vip="{MAGLEV}",backend="127.0.0.2"}} 1' in m, "metrics: up 1")
    check(f'sluice_generation {down["generation"]}' in m, "metrics: generation")
    check("sluice_publish_latency_seconds_count" in m, "metrics: publish latency")
    check(f'sluice_backend_health_check_latency_seconds{{vip="{MAGLEV}",backend="127.0.0.2"}}'
          in m, "metrics: check latency")

    # Restart it: up after `rise` checks; the ring table is the one before.
    backends[victim].start()
    t0 = time.monotonic()
    wait_until(lambda: states(d.dump(), MAGLEV)[victim] == "active"
               and states(d.dump(), RING)[victim] == "active", 5, "the backend to be back")
    took = time.monotonic() - t0
    limit = INTERVAL * RISE / 1000 + TIMEOUT / 1000 + SLACK
    say(f"restarted backend up again after {took * 1000:.0f} ms (rise {RISE})")
    check(took <= limit, f"up after {took:.2f} s, more than {limit:.2f} s")
    back = d.dump(tables=True)
    check(vip_of(back, RING)["table"] == t_before, "ring table differs after recovery")
    check(vip_of(back, MAGLEV)["table"] == vip_of(before, MAGLEV)["table"],
          "maglev table differs after recovery")

    # A backend answering 503 goes down as bad_status.
    backends["127.0.0.2"].signal(signal.SIGUSR1)
    wait_until(lambda: all(states(d.dump(), k)["127.0.0.2"] == "down" for k in (MAGLEV, RING)),
               3, "503 -> down")
    h = health(d)[(MAGLEV, "127.0.0.2")]
    check(h["last"] == "bad_status" and h["detail"] == "status 503, expected 200",
          f"health says {h}")
    check(f"backend 127.0.0.2 of VIP {MAGLEV} is DOWN: status 503, expected 200" in d.log(),
          "log of the 503")
    backends["127.0.0.2"].signal(signal.SIGUSR2)
    wait_until(lambda: all(states(d.dump(), k)["127.0.0.2"] == "active" for k in (MAGLEV, RING)),
               3, "200 -> up")

    # A frozen backend (the kernel still accepts) goes down as a timeout.
    backends["127.0.0.4"].signal(signal.SIGSTOP)
    try:
        wait_until(lambda: all(states(d.dump(), k)["127.0.0.4"] == "down"
                               for k in (MAGLEV, RING)), 3, "freeze -> down")
        h = health(d)[(MAGLEV, "127.0.0.4")]
        check(h["last"] == "timeout", f"health says {h}")
        check(f"backend 127.0.0.4 of VIP {MAGLEV} is DOWN: timeout: no HTTP status within "
              f"{TIMEOUT} ms" in d.log(), "log of the timeout")
    finally:
        backends["127.0.0.4"].signal(signal.SIGCONT)
    wait_until(lambda: all(states(d.dump(), k)["127.0.0.4"] == "active" for k in (MAGLEV, RING)),
               3, "thaw -> up")
    # Each transition was logged once: 3 backends went down once each.
    check(d.log().count(" is DOWN: ") == 2 * 3, "one DOWN line per backend per VIP")

    # A down backend whose check is taken away (reload) is up, and says so.
    backends[victim].kill()
    wait_until(lambda: all(states(d.dump(), k)[victim] == "down" for k in (MAGLEV, RING)), 3,
               "down again")
    cfg["vips"][0]["backends"][1]["health"] = {"type": "none"}
    d.write_config(cfg)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: states(d.dump(), MAGLEV)[victim] == "active", 3, "unchecked -> up")
    line = f"backend {victim} of VIP {MAGLEV} is UP: no health check any more"
    check(d.log().count(line) == 1, f"expected one log line \"{line}\"")
    check(states(d.dump(), RING)[victim] == "down", "the ring VIP still checks it")
    check(d.stop() == 0, "sluiced did not stop cleanly on SIGTERM")


run(main)
