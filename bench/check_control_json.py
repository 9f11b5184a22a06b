#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke check of bench/control.py --json (20 changes; 5 per backend count
for change_ms, 200 backends for the fill): the contract's keys, positive
figures, and a health detection within interval x fall + 1 s.

usage: check_control_json.py BUILD_DIR
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print("check_control_json: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


r = subprocess.run([sys.executable, os.path.join(HERE, "control.py"), "--json", "--changes", "20",
                    "--scale-changes", "5", "--fill", "200", "--build", sys.argv[1]],
                   capture_output=True, text=True, timeout=300)
if r.returncode != 0:
    fail(f"control.py exited {r.returncode}: {r.stderr[-1500:]}")
d = json.loads(r.stdout)
t, p = d.get("table_build_ms", {}), d.get("publish_latency_us", {})
if not (t.get("n1000_m65537", 0) > 0 and t.get("n1000_m655373", 0) > t["n1000_m65537"]):
    fail(f"table_build_ms: {t}")
if not (0 < p.get("p50", 0) <= p.get("p99", 0)):
    fail(f"publish_latency_us: {p}")
bound = d["health_check"]["interval_ms"] * d["health_check"]["fall"] + 1000
if not 0 < d.get("health_detect_ms", 0) <= bound:
    fail(f"health_detect_ms {d.get('health_detect_ms')} not within {bound} ms")
if not d.get("load_mpps", 0) > 0:
    fail("no load reached sluice-dp")
for key in ("change_ms", "health_flip_ms"):
    for n in ("n100", "n1000", "n4096"):
        c = d.get(key, {}).get(n, {})
        if not 0 < c.get("p50", 0) <= c.get("p99", 0):
            fail(f"{key}.{n}: {c}")
for key in ("change_loop_cpu_ms", "status_during_change_ms"):
    if sorted(d.get(key, {})) != ["n100", "n1000", "n4096"]:
        fail(f"{key}: {d.get(key)}")
sc = d.get("status_during_compile_ms", {})
if not (0 < sc.get("p50", 0) <= sc.get("p99", 0) <= sc.get("max", 0)) or \
        d.get("compiles_during_status", 0) < 5:
    fail(f"status_during_compile_ms {sc}, {d.get('compiles_during_status')} compiles")
if not (d.get("fill_10k_s", 0) > 0 and d.get("fill_backends") == 200):
    fail(f"fill_10k_s {d.get('fill_10k_s')} for {d.get('fill_backends')} backends")
if not d.get("sluiced_rss_bytes", 0) > 16384 * 100:
    fail(f"sluiced_rss_bytes {d.get('sluiced_rss_bytes')}")
print(json.dumps(d))
