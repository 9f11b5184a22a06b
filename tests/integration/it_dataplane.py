#!/usr/bin/env python3
"""sluiced with a (fake) data plane: fake_dp's lcores heartbeat, acknowledge
generations and count traffic through the published snapshot. sluiced
finds the status region, waits for the lcores' acknowledgements before it
answers a change, reports heartbeat age, counters and rates; when the
heartbeat goes stale in mode dpdk+xdp-fallback it hands over to the XDP
path (here an interface that does not exist: the failure is logged once per
reason and sluiced carries on), follows a restarted data plane to its new
region, and talks to systemd (READY, RELOADING, STOPPING).
"""
import os
import signal
import socket
import subprocess
import time

from sluicetest import Sluiced, check, check_exposition, run, say, spawn, wait_until

FAKE_DP = os.environ["FAKE_DP"]
VIP = "10.0.0.10:80/tcp"
IFNAME = "sluice-noif0"  # no such interface: the XDP hand-over must fail cleanly


def start_dp(d):
    p = spawn([FAKE_DP, d.instance, "2"], stdout=subprocess.PIPE)
    check(p.stdout.readline().strip() == b"ready", "fake_dp did not start")
    return p


def main():
    d = Sluiced("dp")
    d.write_config({
        "dataplane": {"mode": "dpdk+xdp-fallback", "interface": IFNAME,
                      "heartbeat_timeout_ms": 300},
        "vips": [{"address": "10.0.0.10", "port": 80, "forwarding": "l2dsr", "table_size": 1009,
                  "backends": [{"address": f"10.0.1.{i}", "mac": f"02:00:00:00:00:0{i}"}
                               for i in (1, 2, 3)]}]})
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = os.path.join(d.dir, "notify.sock")
    notify.bind(notify_path)
    notify.settimeout(10)
    os.environ["NOTIFY_SOCKET"] = notify_path
    d.start()
    del os.environ["NOTIFY_SOCKET"]
    msg = notify.recv(4096).decode()
    check("READY=1" in msg, f"systemd got {msg!r}")

    dp = start_dp(d)
    wait_until(lambda: d.ctl_ok("status")["dataplane"]["alive"], 3, "the data plane to be seen")
    st = d.ctl_ok("status")["dataplane"]
    check(st["live"] == 2 and st["pid"] == dp.pid and st["heartbeat_age_ms"] < 300, f"{st}")

    # A change is answered once both lcores use it.
    r = d.ctl_ok("backend", "drain", VIP, "10.0.1.3")
    stats = d.ctl_ok("stats")
    seen = [lc["seen_generation"] for lc in stats["lcores"]]
    check(all(g >= r["generation"] for g in seen), f"lcores on {seen}, reply said "
          f"{r['generation']}")
    m = d.metrics()
    count = int(next(line.split()[1] for line in m.splitlines()
                     if line.startswith("sluice_publish_latency_seconds_count")))
    check(count >= 1, "publish latency recorded")
    last = float(next(line.split()[1] for line in m.splitlines()
                      if line.startswith("sluice_publish_last_latency_seconds ")))
    say(f"publish acknowledged by 2 fake lcores: last latency {last * 1e6:.0f} us")
    check(0 < last < 0.1, f"last publish latency {last}")
    check("sluice_dataplane_up 1" in m, "metrics: data plane up")

    # The metrics port bounds what it reads: headers to 8 KiB, no body.
    get = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
    status = d.metrics_raw(get + b"X-Pad: " + b"a" * 10000 + b"\r\n\r\n")
    check(status.startswith("HTTP/1.1 4"), f"10 KB of headers: {status!r}")
    status = d.metrics_raw(get + b"Content-Length: 100000\r\n\r\n" + b"a" * 1000)
    check(status.startswith("HTTP/1.1 4"), f"a body: {status!r}")
    status = d.metrics_raw(b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(not status.startswith("HTTP/1.1 2"), f"POST: {status!r}")
    check(d.metrics_raw(get + b"\r\n").startswith("HTTP/1.1 200"), "a plain GET")

    # Traffic counted through the snapshot; rates from one-second samples.
    time.sleep(2.2)
    stats = d.ctl_ok("stats", VIP)
    v = stats["vips"][0]
    by = {b["address"]: b for b in v["backends"]}
    check(v["packets"] > 500 and v["pps"] > 100, f"VIP counters {v}")
    check(by["10.0.1.1"]["packets"] > 0 and by["10.0.1.2"]["packets"] > 0, "backend counters")
    check(by["10.0.1.3"]["pps"] == 0, "the drained backend gets no new packets")
    rc, out, _ = d.ctl("stats")
    check(rc == 0 and "data plane: alive" in out and "LCORE" in out, out)
    m = d.metrics()
    check(f'sluice_vip_packets_total{{vip="{VIP}"}}' in m, "metrics: VIP packets")
    check('sluice_lcore_rx_packets_total{lcore="1"}' in m, "metrics: per lcore")
    types = check_exposition(m)
    check(types.get("sluice_lcore_flow_live") == "gauge" and
          types.get("sluice_lcore_tx_bytes_total") == "counter", "per-lcore metric types")

    # The NIC's own counters, as sluice-dp's main lcore writes them into
    # the port section of the status region (fake_dp: one port, a queue
    # pair per lcore, imissed growing, rx_nombuf 3, ierrors 2, oerrors 1).
    ports = d.ctl_ok("stats")["ports"]
    check(len(ports) == 1, f"ports in stats: {ports}")
    p = ports[0]
    c = p["counters"]
    check(p["name"] == "net_fake0" and p["port"] == 0 and p["queues"] == 2 and p["link_up"],
          f"port {p}")
    check(c["imissed"] > 0 and c["rx_nombuf"] == 3 and c["ierrors"] == 2 and
          c["oerrors"] == 1 and c["ipackets"] > 0, f"port counters {c}")
    check([q["queue"] for q in p["per_queue"]] == [0, 1] and
          all(q["rx_packets"] > 0 for q in p["per_queue"]), f"per queue {p['per_queue']}")
    check(p["updated_age_ms"] < 1000, f"port counters not fresh: {p}")
    imissed = c["imissed"]
    wait_until(lambda: d.ctl_ok("stats")["ports"][0]["counters"]["imissed"] > imissed, 3,
               "imissed to grow")
    check("IMISSED" in out and "net_fake0" in out, f"sluicectl stats shows no ports: {out}")
    lab = 'port="0",name="net_fake0"'
    for fam, want in (("rx_nombuf", 3), ("ierrors", 2), ("oerrors", 1)):
        check(f"sluice_port_{fam}_total{{{lab}}} {want}\n" in m, f"metrics: {fam}")
    check(f"sluice_port_imissed_total{{{lab}}} " in m and
          f'sluice_port_queue_rx_packets_total{{{lab},queue="1"}} ' in m and
          f"sluice_port_link_up{{{lab}}} 1\n" in m, "metrics: port families")
    check(types.get("sluice_port_imissed_total") == "counter" and
          types.get("sluice_port_link_up") == "gauge", "port metric types")

    # The heartbeat stops: stale, hand-over to XDP attempted, failure logged.
    os.kill(dp.pid, signal.SIGSTOP)
    wait_until(lambda: "handing over to the XDP path on " + IFNAME in d.log(), 3, "hand-over")
    wait_until(lambda: f"XDP path on {IFNAME}:" in d.log(), 3, "the XDP failure in the log")
    check("data plane is down: heartbeat stale" in d.log(), "stale logged")
    check("sluice_dataplane_up 0" in d.metrics(), "metrics: data plane down")
    # Nothing waits for a stale data plane.
    t0 = time.monotonic()
    d.ctl_ok("backend", "enable", VIP, "10.0.1.3")
    check(time.monotonic() - t0 < 0.5, "a publish waited for stale lcores")
    os.kill(dp.pid, signal.SIGCONT)
    wait_until(lambda: d.log().count("data plane is alive") >= 2, 3, "alive again")
    os.kill(dp.pid, signal.SIGSTOP)
    wait_until(lambda: d.log().count("handing over to the XDP path") >= 2, 3, "second stale")
    time.sleep(0.2)
    check(d.log().count(f"XDP path on {IFNAME}:") == 1, "the same XDP failure logged twice")
    os.kill(dp.pid, signal.SIGKILL)
    dp.wait()

    # A restarted data plane makes a new region: sluiced follows it.
    dp = start_dp(d)
    wait_until(lambda: d.log().count("data plane status region found") >= 2, 3, "re-attach")
    wait_until(lambda: d.ctl_ok("status")["dataplane"]["pid"] == dp.pid, 3, "new pid")
    r = d.ctl_ok("backend", "weight", VIP, "10.0.1.1", "5")
    stats = d.ctl_ok("stats")
    check(all(lc["seen_generation"] >= r["generation"] for lc in stats["lcores"]),
          "the new lcores acknowledged the change")

    # sluiced killed and restarted while the data plane lives: the new
    # sluiced finds it alive at once (this path once crashed at start-up).
    d.stop(signal.SIGKILL)
    os.environ["NOTIFY_SOCKET"] = notify_path
    d.start()
    del os.environ["NOTIFY_SOCKET"]
    check("READY=1" in notify.recv(4096).decode(), "READY=1 after the restart")
    st = d.ctl_ok("status")["dataplane"]
    check(st["alive"] and st["pid"] == dp.pid, f"after the restart: {st}")

    # systemd: reload and stop.
    d.proc.send_signal(signal.SIGHUP)
    msgs = notify.recv(4096).decode() + notify.recv(4096).decode()
    check("RELOADING=1" in msgs and "READY=1" in msgs, f"reload notifications {msgs!r}")
    dp.send_signal(signal.SIGTERM)
    dp.wait()
    check(d.stop() == 0, "clean stop")
    check("STOPPING=1" in notify.recv(4096).decode(), "STOPPING=1")


run(main)
