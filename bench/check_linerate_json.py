#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke check of bench/linerate.py --json: runs it (short: one run of one
second per scenario) and checks the contract's keys and that every path
really carried traffic: the ceiling and every forwarding scenario forwarded
packets, the drop scenario took packets in and sent none back, cycles per
packet are positive, and so are the callgrind figures (instructions per
packet of every scenario, the flow table's bytes per flow).

usage: check_linerate_json.py BUILD_DIR
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WANT = {"new_flows", "established_v4", "nonvip_drop", "established_v6"}


def fail(msg):
    print("check_linerate_json: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    r = subprocess.run([sys.executable, os.path.join(HERE, "linerate.py"), "--json", "--runs",
                        "1", "--duration", "2", "--build", sys.argv[1],
                        "--callgrind-flows", "10000", "--callgrind-packets", "2000"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        fail(f"linerate.py exited {r.returncode}: {r.stderr[-1500:]}")
    d = json.loads(r.stdout)
    c = d.get("ceiling", {})
    if not (c.get("mpps", 0) > 0 and c.get("cycles_per_packet", 0) > 0):
        fail(f"ceiling: {c}")
    got = {x["scenario"]: x for x in d.get("runs", [])}
    if set(got) != WANT:
        fail(f"scenarios {sorted(got)}, want {sorted(WANT)}")
    for name, x in got.items():
        for k in ("mpps", "cycles_per_packet", "ratio_mpps", "ratio_cycles",
                  "instructions_per_packet", "l1_misses_per_packet"):
            if not isinstance(x.get(k), (int, float)) or x[k] <= 0:
                fail(f"{name}.{k} = {x.get(k)!r}")
        if name == "nonvip_drop":
            if x["mpps_fwd"] != 0 or x["mpps_rx"] <= 0:
                fail(f"nonvip_drop forwarded or took nothing: {x}")
        elif x["mpps_fwd"] <= 0:
            fail(f"{name} forwarded nothing: {x}")
    if not isinstance(d.get("flow_table_bytes_per_flow"), (int, float)) or \
            d["flow_table_bytes_per_flow"] <= 0:
        fail(f"flow_table_bytes_per_flow = {d.get('flow_table_bytes_per_flow')!r}")
    print(json.dumps(d))


if __name__ == "__main__":
    main()
