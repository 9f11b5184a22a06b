#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke check of sluice-dp-microbench --workers 2 --json, briefly (no
hugepages, 20,000 flows): the JSON contract of a run and of --compare, one
entry per worker on two distinct lcores, and every packet processed and
forwarded. Not the figures: they are measured by hand (docs/benchmarks.md).

usage: check_microbench_json.py MICROBENCH
"""
import json
import subprocess
import sys

FLOWS, PACKETS = 20000, 200000


def fail(msg):
    print("check_microbench_json: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(prefix, *args):
    eal = ["--no-pci", "--no-huge", "-m", "600", "-l", "0-1", f"--file-prefix=sluice-mb-{prefix}",
           "--log-level=*:warning"]
    r = subprocess.run([sys.argv[1]] + eal + ["--", "--workers", "2", "--json", "--flows",
                                               str(FLOWS), "--packets", str(PACKETS)] + list(args),
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"{' '.join(args)} exited {r.returncode}: {r.stderr[-1500:]}")
    try:
        return json.loads(r.stdout)
    except ValueError:
        fail(f"not JSON: {r.stdout[-500:]!r}")


def check_run(d, scenario, workers):
    if d.get("workers") != workers or d.get("scenario") != scenario:
        fail(f"workers/scenario: {d.get('workers')}, {d.get('scenario')}")
    pw = d.get("per_worker")
    if not isinstance(pw, list) or len(pw) != workers:
        fail(f"per_worker: {pw}")
    if len({w.get("lcore") for w in pw}) != workers:
        fail(f"workers share an lcore: {pw}")
    for w in pw:
        for k in ("lcore", "mpps", "cycles_per_packet", "cycles_per_packet_median",
                  "cycles_per_packet_unpreempted", "slow_bursts", "slow_cycles_share"):
            if not isinstance(w.get(k), (int, float)) or w[k] < 0:
                fail(f"{k} of {w}")
        if not (w["mpps"] > 0 and w["cycles_per_packet"] > 0):
            fail(f"no figures: {w}")
        if w.get("packets") != PACKETS or w.get("forwarded") != PACKETS:
            fail(f"not every packet forwarded: {w}")
        if scenario == "established" and w.get("flow_live") != FLOWS:
            fail(f"each worker's own table should hold the {FLOWS} flows: {w}")


check_run(run("new", "--scenario", "new_flows"), "new_flows", 2)
# established: --compare's runs have the shape of plain ones

c = run("compare", "--compare", "--rounds", "1")
if c.get("workers") != 2 or len(c.get("rounds", [])) != 1:
    fail(f"compare: {c.get('workers')}, {len(c.get('rounds', []))} rounds")
rnd = c["rounds"][0]
for alone in rnd["alone"]:
    check_run(alone, "established", 1)
check_run(rnd["together"], "established", 2)
for k in ("ratio_per_worker", "ratio_median_burst_per_worker", "ratio_unpreempted_per_worker",
          "cycles_per_packet_one", "cycles_per_packet_many"):
    if len(c.get(k, [])) != 2 or not all(x > 0 for x in c[k]):
        fail(f"compare {k}: {c.get(k)}")
if not (c.get("ratio", 0) > 0 and c.get("ratio_median_burst", 0) > 0):
    fail(f"compare ratio: {c.get('ratio')}, {c.get('ratio_median_burst')}")
print("check_microbench_json: ok")
