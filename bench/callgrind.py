"""The noise-free figures of bench/linerate.py: instructions per packet of
sluice-dp's packet path, counted by callgrind on sluice-dp-microbench (the
same sluice_dp_process the worker runs, on mbufs in memory), and the flow
table's bytes per flow.

Each scenario runs the microbenchmark under valgrind --tool=callgrind
--toggle-collect=measured_process: only the measured bursts are counted,
not the warm-up that fills the flow table nor the building of the frames.
Instructions per packet = the collected total over the measured packets.
With cache_sim, callgrind also simulates the caches and reports data
misses per packet of L1 and of the last level: a simulation, not the
hardware's counters, but it counts the random lines the flow table reads.
The last level is set to 32 MiB, 16 ways (LL): this VM reports a 512 MiB
2-way one, which would hold the whole table.
"""
import os
import re
import shutil
import subprocess
import tempfile

LL = "33554432,16,64"
# EAL memory of the microbenchmark: its mbuf pool and a flow table sized
# for 1,048,576 flows (32 MiB; the 144 MiB of the former layout fit too).
MEM_MB = "320"

# linerate scenario -> (microbench scenario, warm-up flows)
# new_flows warms past the table's capacity (2,097,152 ways for the
# 1,048,576 flows sluice-dp is given), so that the measured SYNs meet a full
# table and insert by eviction, as in the line-rate run's steady state.
SCENARIOS = {
    "new_flows": ("new", 2_200_000),
    "established_v4": ("established", None),
    "nonvip_drop": ("nonvip", 0),
    "established_v6": ("established_v6", None),
}


def run_one(build, scenario, flows, packets, warm, cache_sim, tag):
    exe = os.path.join(build, "bench", "sluice-dp-microbench")
    with tempfile.TemporaryDirectory(prefix="sluice-cg-") as tmp:
        out = os.path.join(tmp, "cg.out")
        argv = ["valgrind", "--tool=callgrind", "--toggle-collect=measured_process",
                f"--callgrind-out-file={out}"]
        if cache_sim:
            argv += ["--cache-sim=yes", f"--LL={LL}"]
        argv += [exe, "--no-huge", "-m", MEM_MB, "--no-pci", f"--file-prefix={tag}",
                 "--log-level=*:warning", "--", "--scenario", scenario, "--flows", str(flows),
                 "--packets", str(packets)]
        if warm is not None:
            argv += ["--warm", str(warm)]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        finally:
            # EAL's runtime directory of the prefix (no hugepage files:
            # --no-huge).
            shutil.rmtree(f"/var/run/dpdk/{tag}", ignore_errors=True)
        if r.returncode != 0:
            raise RuntimeError(f"callgrind {scenario}: {r.stderr[-800:]}")
        events, totals = None, None
        with open(out) as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("summary:"):
                    totals = [int(x) for x in line.split()[1:]]
        if not events or not totals:
            raise RuntimeError(f"callgrind {scenario}: no totals in its output")
    ev = dict(zip(events, totals))
    m = re.search(r"flow table: (\d+) bytes for (\d+) flows", r.stdout)
    res = {"instructions_per_packet": round(ev["Ir"] / packets, 1)}
    if cache_sim:
        res["ll_misses_per_packet"] = round((ev.get("DLmr", 0) + ev.get("DLmw", 0)) / packets, 2)
        res["l1_misses_per_packet"] = round((ev.get("D1mr", 0) + ev.get("D1mw", 0)) / packets, 2)
    if m:
        res["flow_table_bytes"], res["flow_table_flows"] = int(m.group(1)), int(m.group(2))
    return res


def measure(build, flows=1_000_000, packets=100_000, cache_sim=False, tag="cg"):
    """{linerate scenario: {"instructions_per_packet": .., ...}} and the
    flow table's bytes per flow (its memory over the flows it is sized
    for)."""
    out, bpf = {}, None
    for name, (sc, warm) in SCENARIOS.items():
        if warm is not None and warm > 0:
            warm = warm if flows >= 1_000_000 else 0
        r = run_one(build, sc, flows, packets, warm, cache_sim, f"{tag}-{sc}")
        if "flow_table_bytes" in r:
            bpf = round(r.pop("flow_table_bytes") / r.pop("flow_table_flows"), 1)
        out[name] = r
    return out, bpf
