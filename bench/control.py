#!/usr/bin/env python3
"""The control-plane benchmark (bench/control.sh runs it):

  table_build_ms      Maglev build time, 1,000 backends, M = 65537 and
                      655373 (sluice-tablebench's medians)
  publish_latency_us  p50 / p99 of sluiced's publish latency (a change to
                      every live lcore on the new generation, as sluiced
                      measures it) over --changes backend weight changes of
                      a VIP of 100 backends at M = 65537, while sluice-dp
                      forwards at full load: sluice-pktgen (CPU 0) into
                      sluice-dp (CPU 1) over net_memif, so sluiced gets
                      only what the two busy cores leave
  publish_latency_idle_us  the same with sluice-dp idle, for comparison
  health_detect_ms    median time from a backend's listener closing to
                      sluiced reporting it down (TCP checks every 100 ms,
                      fall 2), over 5 rounds, during the same load
  change_ms, change_loop_cpu_ms, status_during_change_ms, health_flip_ms,
  fill_10k_s, sluiced_rss_bytes
                      how one change's cost grows with the backends, the
                      CLI filling VIPs with 10,000 backends, and sluiced's
                      memory at 16,384 backends (bench/control_scale.py,
                      with no data plane; before the load above)

--json prints {"table_build_ms":{"n1000_m65537":..,"n1000_m655373":..},
"publish_latency_us":{"p50":..,"p99":..},"health_detect_ms":..,
"change_ms":{"n100":{"p50":..,"p99":..},"n1000":..,"n4096":..},"fill_10k_s":..,
"sluiced_rss_bytes":..} and more.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import time

from benchlib import eal_mem, hugepages_free, setup_env
import control_scale
from control_scale import Listener

VIP = "10.99.0.1:80/tcp"      # sluice-pktgen's default VIP
CHECKED = "10.99.0.2:80/tcp"  # one backend on loopback, health-checked
HEALTH = {"type": "tcp", "interval_ms": 100, "timeout_ms": 80, "rise": 1, "fall": 2}


def table_build(build):
    r = subprocess.run([f"{build}/bench/sluice-tablebench", "--json", "--quick", "--flows",
                        "100000"], capture_output=True, text=True, timeout=600, check=True)
    m = json.loads(r.stdout)["maglev_build_ms"]
    return {"n1000_m65537": m["n1000_m65537"], "n1000_m655373": m["n1000_m655373"]}


def changes(d, n):
    """n weight changes of the big VIP's backends, each answered once every
    live lcore has it; sluiced's measured latency of each."""
    lat = []
    for i in range(n):
        addr = f"10.200.{(i % 100) // 250}.{1 + (i % 100) % 250}"
        d.ctl_ok("backend", "weight", VIP, addr, "200" if (i // 100) % 2 == 0 else "100")
        lat.append(d.ctl_ok("status")["publish_latency_us"])
    # Leave every weight at 100 for the next series.
    for i in range(100):
        d.ctl_ok("backend", "weight", VIP, f"10.200.0.{1 + i}", "100")
    return lat


def summary(lat):
    return {"p50": round(percentile(lat, 50), 1), "p99": round(percentile(lat, 99), 1),
            "max": round(max(lat), 1), "changes": len(lat)}


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--build", default="build")
    ap.add_argument("--scale-changes", type=int, default=100,
                    help="changes per backend count for change_ms")
    ap.add_argument("--fill", type=int, default=10000,
                    help="backends the CLI adds for fill_10k_s")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    setup_env(build)
    import sluicetest as st

    out = {"table_build_ms": table_build(build)}
    out.update(control_scale.measure(build, a.scale_changes, a.fill))

    port = st.free_port()
    d = st.Sluiced("ctrlbench")
    d.write_config({
        "dataplane": {"mode": "dpdk", "heartbeat_timeout_ms": 1000},
        "source": {"ipv4": "192.0.2.1"},
        "nexthop_mac": "02:00:00:00:00:01",
        "vips": [
            {"address": "10.99.0.1", "port": 80, "table_size": 65537,
             "backends": [{"address": f"10.200.{i // 250}.{1 + i % 250}"} for i in range(100)]},
            {"address": "10.99.0.2", "port": 80, "table_size": 251,
             "health": dict(HEALTH, port=port), "backends": [{"address": "127.0.0.1"}]},
        ]})
    backend = Listener(port)
    backend.up()
    d.start()
    huge = hugepages_free() >= 400
    sock = os.path.join(d.dir, "memif.sock")
    dp = st.spawn([f"{build}/dataplane/sluice-dp", "--no-pci", f"--file-prefix={d.instance}-dp",
                   "--lcores", "0@1,1@1", "--log-level=*:warning",
                   f"--vdev=net_memif0,role=server,socket={sock}"] + eal_mem(400, huge) +
                  ["--", "--instance", d.instance, "--flows", "65536"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    st.wait_until(lambda: d.ctl_ok("status")["dataplane"]["alive"], 20, "sluice-dp")
    # For comparison, the same changes with sluice-dp idle (its worker
    # still polls: one core busy, sluiced has the other).
    idle = changes(d, a.changes)
    gen = st.spawn([f"{build}/bench/sluice-pktgen", "--no-pci", f"--file-prefix={d.instance}-gen",
                    "--lcores", "0@0", "--log-level=*:warning",
                    f"--vdev=net_memif0,role=client,socket={sock}"] + eal_mem(256, huge) +
                   ["--", "--flows", "1000", "--duration", "600"],
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(d.dir, "pktgen.log"), "w"))
    st.wait_until(lambda: d.ctl_ok("stats")["totals"]["rx_packets"] > 1000000, 20,
                  "sluice-pktgen's load to reach sluice-dp")
    rx0 = d.ctl_ok("stats")["totals"]["rx_packets"]
    t0 = time.monotonic()

    lat = changes(d, a.changes)

    detect = []
    for _ in range(5):
        st.wait_until(lambda: all(b["up"] for b in d.ctl_ok("health", CHECKED)["backends"]), 10,
                      "the checked backend up")
        t = time.monotonic()
        backend.down()
        st.wait_until(lambda: not d.ctl_ok("health", CHECKED)["backends"][0]["up"], 10,
                      "the checked backend down", interval=0.005)
        detect.append((time.monotonic() - t) * 1000)
        backend.up()
    load_mpps = (d.ctl_ok("stats")["totals"]["rx_packets"] - rx0) / (time.monotonic() - t0) / 1e6
    gen.send_signal(signal.SIGINT)
    gen.wait(10)
    dp.terminate()
    dp.wait(10)
    d.stop()

    out["publish_latency_us"] = summary(lat)
    out["publish_latency_idle_us"] = summary(idle)
    out["health_detect_ms"] = round(statistics.median(detect), 1)
    out["health_detect_samples_ms"] = [round(x, 1) for x in detect]
    out["health_check"] = {"interval_ms": HEALTH["interval_ms"], "fall": HEALTH["fall"]}
    out["load_mpps"] = round(load_mpps, 2)
    if a.json:
        print(json.dumps(out))
        return
    t = out["table_build_ms"]
    p = out["publish_latency_us"]
    print(f"Maglev build, 1000 backends: M=65537 {t['n1000_m65537']:.2f} ms, "
          f"M=655373 {t['n1000_m655373']:.2f} ms")
    print(f"publish latency, 100 backends, M=65537, {p['changes']} changes, sluice-dp at "
          f"{out['load_mpps']:.1f} Mpps: p50 {p['p50']:.0f} us, p99 {p['p99']:.0f} us, "
          f"max {p['max']:.0f} us")
    p = out["publish_latency_idle_us"]
    print(f"  the same with sluice-dp idle: p50 {p['p50']:.0f} us, p99 {p['p99']:.0f} us, "
          f"max {p['max']:.0f} us")
    print(f"health-check detection (every {HEALTH['interval_ms']} ms, fall {HEALTH['fall']}): "
          f"median {out['health_detect_ms']:.0f} ms of {out['health_detect_samples_ms']}")
    control_scale.print_human(out)


if __name__ == "__main__":
    main()
