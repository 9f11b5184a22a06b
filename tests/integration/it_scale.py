#!/usr/bin/env python3
"""A thousand backends checked concurrently by one sluiced: all pass; the
control socket answers promptly meanwhile; when their listener dies all
thousand go down within interval x fall (+ timeout and slack) and the VIP
has no backend left; when it returns they all come back after `rise`.
Backends are 127.1.0.1 - 127.1.3.250 (loopback), one listener process.
"""
import time

from sluicetest import Backend, Sluiced, check, free_port, run, say, vip_of, wait_until

N = 1000
INTERVAL, TIMEOUT, RISE, FALL = 1000, 500, 2, 3
SLACK = 1.5
VIP = "10.0.0.10:80/tcp"


def main():
    addrs = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(N)]
    port = free_port()
    listener = Backend(addrs, port, mode="tcp")
    d = Sluiced("scale")
    d.write_config({"vips": [{
        "address": "10.0.0.10", "port": 80, "forwarding": "l2dsr", "table_size": 65537,
        "health": {"type": "tcp", "port": port, "interval_ms": INTERVAL, "timeout_ms": TIMEOUT,
                   "rise": RISE, "fall": FALL},
        "backends": [{"address": a, "mac": "02:00:00:00:00:01"} for a in addrs]}]})
    d.start()

    def checked_ok():
        bs = d.ctl_ok("health")["backends"]
        return len(bs) == N and all(b["checks"] >= 2 and b["failures"] == 0 for b in bs)

    wait_until(checked_ok, 2 * INTERVAL / 1000 + 3, "1000 backends checked twice", 0.2)
    # The control socket is not blocked by a thousand checks per second.
    worst = 0.0
    for _ in range(20):
        t0 = time.monotonic()
        check(d.ctl("status")[0] == 0, "status failed")
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.05)
    say(f"sluicectl status while 1000 backends are checked: worst {worst * 1000:.0f} ms")
    check(worst < 0.5, f"control socket slow: {worst:.2f} s")
    st = d.ctl_ok("status")
    check(st["backends"] == N, f"status: {st}")

    # The listener dies: every backend goes down.
    listener.kill()
    t0 = time.monotonic()

    def all_down():
        v = vip_of(d.dump(), VIP)
        return all(b["state"] == "down" for b in v["backends"]) and v["table_size"] == 0

    limit = INTERVAL * FALL / 1000 + TIMEOUT / 1000 + SLACK
    wait_until(all_down, limit + 3, "1000 backends down", 0.05)
    took = time.monotonic() - t0
    say(f"1000 backends marked down and published {took * 1000:.0f} ms after their "
        f"listener died (interval {INTERVAL} ms x fall {FALL})")
    check(took <= limit, f"all down after {took:.2f} s, more than {limit:.2f} s")
    m = d.metrics()
    check(m.count("sluice_backend_up{") == N and "} 1\n" not in
          "".join(line + "\n" for line in m.splitlines() if line.startswith("sluice_backend_up{")),
          "metrics: every backend_up is 0")
    check(d.log().count(" is DOWN: ") == N, "one DOWN line per backend")

    listener.start()
    t0 = time.monotonic()
    wait_until(lambda: all(b["state"] == "active" for b in vip_of(d.dump(), VIP)["backends"]),
               INTERVAL * RISE / 1000 + TIMEOUT / 1000 + SLACK + 3, "1000 backends up", 0.05)
    took = time.monotonic() - t0
    say(f"1000 backends up again {took * 1000:.0f} ms after the listener returned (rise {RISE})")
    check(took <= INTERVAL * RISE / 1000 + TIMEOUT / 1000 + SLACK, f"up after {took:.2f} s")
    check(vip_of(d.dump(), VIP)["table_size"] == 65537, "the table is back")
    check(d.stop() == 0, "clean stop")


run(main)
