#!/usr/bin/env python3
"""The line-rate benchmark (bench/linerate.sh runs it): sluice-dp against the
ceiling of this machine, in one run, 64-byte frames, one worker lcore or
--workers N.

Every measurement is a closed loop over net_memif: sluice-pktgen (the memif
client, CPU 0) sends and counts what comes back; the forwarder (the memif
server, main and worker lcore on CPU 1) sends every packet back over the
same link, so its TX cost is measured too. (The forwarder is the server
because a memif server takes a new client, and the established-flow runs
connect twice: warm-up, then the measurement.) Forwarders:

  ceiling          dpdk-testpmd --forward-mode=5tswap --record-core-cycles
  new_flows        sluice-dp, every packet the SYN of a new flow
  established_v4   sluice-dp, 1,000,000 flows (warmed before the run), uniform
  nonvip_drop      sluice-dp, every packet to a non-VIP address (dropped)
  established_v6   sluice-dp, 1,000,000 IPv6 flows (78-byte frames: the
                   smallest that holds Ethernet, IPv6 and TCP)

sluice-dp's figures come from its telemetry socket, before and after the
run: packets received and forwarded, and busy cycles per packet (TSC cycles
spent in bursts that carried packets, over those packets). testpmd's
--record-core-cycles counts its busy cycles the same way, and divides them
by its port's received packets, which memif resets when the link drops: so
the generator keeps the link up (--linger) until testpmd has stopped. Scenarios are interleaved run by run (this host's speed drifts);
each figure is the median of --runs runs.

--workers N (for machines with more cores): sluice-dp runs N workers on
CPUs 1..N (its main lcore shares CPU 1), the ceiling's testpmd N forwarding
cores with N queue pairs, and the generator, still one lcore on CPU 0,
opens N queue pairs on the memif link and sends flow f on queue f mod N
(memif has no RSS: the queue is the sender's choice), so each worker sees
its own flows. The figures are the sums over workers (Mpps) and the
busy cycles per packet over all of them. It needs 1 + N CPUs: with fewer,
the generator and the workers would share CPUs and the figures would
measure the scheduler, so it refuses.

Two figures per scenario come from callgrind instead (bench/callgrind.py):
instructions per packet and simulated cache misses per packet of the same
packet path, counted on sluice-dp-microbench; and the flow table's bytes
per flow. They do not depend on the machine's load.
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import callgrind
from benchlib import eal_mem, hugepages_free

SCENARIOS = ["ceiling", "new_flows", "established_v4", "nonvip_drop", "established_v6"]
FLOWS = 1_000_000
DST_MAC = "02:00:00:00:00:02"


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.tmp = tempfile.mkdtemp(prefix="sluice-linerate-")
        self.tag = f"lr{os.getpid()}"
        self.procs = []
        n = a.workers
        cpus = self.cpus = len(os.sched_getaffinity(0))
        if n < 1 or n > 16:
            sys.exit(f"linerate: --workers {n}: 1..16")
        if 1 + n > cpus and not a.oversubscribe:
            sys.exit(f"linerate: --workers {n} needs {1 + n} CPUs (the generator's, and one per "
                     f"worker), this machine gives {cpus}: the processes would share CPUs and "
                     f"the figures measure the scheduler, not sluice-dp. Run --workers "
                     f"{max(cpus - 1, 1)} or fewer here.")
        # sluice-dp: a 1 M-flow table per worker (32 MiB) and its pool, with
        # the room the former 144 MiB table needed (the figures' baseline).
        self.dp_mb = 256 + 160 * n
        need = (self.dp_mb + 256) // 2
        huge = hugepages_free()
        if huge < need:
            sys.exit(f"linerate: {huge} free 2 MiB hugepages, {need} needed (scripts/setup.sh "
                     "reserves 512); figures without hugepages are not comparable")

    def eal(self, name, cpu, vdev):
        """EAL options of one process (MACHINE-NOTES: --no-pci, its own
        --file-prefix, --huge-unlink, an explicit memory budget)."""
        # The forwarder: main lcore and the first worker on CPU cpu, the
        # other workers on the CPUs after it (round again: --oversubscribe).
        lcores = f"0@{cpu}" if name == "gen" else ",".join(
            [f"0@{cpu}"] + [f"{i + 1}@{(cpu + i) % self.cpus}" for i in range(self.a.workers)])
        mem = "256" if name in ("gen", "testpmd") else str(self.dp_mb)
        return (["--no-pci", f"--file-prefix={self.tag}-{name}", "--lcores", lcores,
                 "--log-level=*:warning", f"--vdev={vdev}"] + eal_mem(mem, True))

    def memif(self, role):
        return f"net_memif0,role={role},socket={self.tmp}/memif.sock"

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGINT, timeout=20):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for inst in ("v4", "v6"):
            for kind in ("config", "status"):
                try:
                    os.unlink(f"/dev/shm/sluice-{self.tag}{inst}-{kind}")
                except FileNotFoundError:
                    pass
        subprocess.run(["rm", "-rf", self.tmp])

    # ---- the generator ----

    def pktgen(self, args, duration):
        """sluice-pktgen as the memif client, in the background."""
        argv = ([f"{self.build}/bench/sluice-pktgen"] + self.eal("gen", 0, self.memif("client")) +
                ["--", "--duration", str(duration), "--dst-mac", DST_MAC, "--json",
                 "--queues", str(self.a.workers)] + args)
        return self.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def parse_pktgen(self, out, p):
        try:
            r = json.loads(out)
        except ValueError:
            raise RuntimeError(f"sluice-pktgen printed no result: {p.stderr.read()[-500:]}")
        # The first second includes the forwarder's start (and the warm-up):
        # rates from the others.
        per = r["per_second"][1:] or r["per_second"]
        r["rx_mpps_steady"] = statistics.mean(s["rx_mpps"] for s in per)
        r["tx_mpps_steady"] = statistics.mean(s["tx_mpps"] for s in per)
        return r

    # ---- the ceiling ----

    def ceiling(self):
        # stdbuf: testpmd says "Press enter to exit" through stdio, which a
        # pipe would hold back.
        tp = self.spawn(["stdbuf", "-oL", "dpdk-testpmd"] + self.eal("testpmd", 1, self.memif("server")) +
                        ["--", "--forward-mode=5tswap", "--record-core-cycles",
                         f"--nb-cores={self.a.workers}", f"--rxq={self.a.workers}",
                         f"--txq={self.a.workers}",
                         f"--total-num-mbufs={16384 + 2048 * (self.a.workers - 1)}"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True)
        head = ""
        while "Press enter to exit" not in head:  # forwarding
            line = tp.stdout.readline()
            if not line:
                raise RuntimeError(f"testpmd did not start: {head[-800:]}")
            head += line
        # The generator lingers after its summary: testpmd's port counters,
        # from which it divides its cycles, are reset when the link drops.
        gen = self.pktgen(["--flows", "1000", "--linger", "30"], self.a.duration)
        line = gen.stdout.readline()
        out, _ = tp.communicate("\n", timeout=30)  # stops and prints its statistics
        self.stop(gen)
        r = self.parse_pktgen(line, gen)
        cycles = None
        for line in out.splitlines():
            if "total cycles=" in line:
                cycles = int(line.split("total cycles=")[1].split()[0])
        if cycles is None:
            raise RuntimeError(f"testpmd printed no cycles: {out[-800:]}")
        pkts = int(out.split("total 5tswap packets=")[1].split(")")[0])
        return {"mpps_rx": r["rx_mpps_steady"], "mpps_fwd": r["rx_mpps_steady"],
                "cycles_per_packet": cycles / max(pkts, 1)}

    # ---- sluice-dp ----

    def publish(self, family):
        inst = f"{self.tag}v{family}"
        vip = "10.99.0.1:80/tcp" if family == 4 else "[fd00:99::1]:80/tcp"
        r = subprocess.run([f"{self.build}/bench/sluice-dp-publish", "--instance", inst,
                            "--vip", vip, "--backends", "16"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sluice-dp-publish: {r.stderr.strip()}")
        return inst

    def sluice_dp(self, inst):
        log = open(os.path.join(self.tmp, f"dp-{inst}.log"), "a")
        argv = ([f"{self.build}/dataplane/sluice-dp"] + self.eal("dp", 1, self.memif("server")) +
                ["--", "--instance", inst, "--flows", "1048576", "--syn-rate", "0"])
        return self.spawn(argv, stdout=log, stderr=log)

    def telemetry(self):
        """sluice-dp's /sluice/stats; waits (20 s) until it answers, which
        it does once its ports and flow tables are up."""
        path = f"/var/run/dpdk/{self.tag}-dp/dpdk_telemetry.v2"
        deadline = time.monotonic() + 20
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(path)
                s.recv(4096)  # the greeting
                s.send(b"/sluice/stats")
                r = json.loads(s.recv(65536)).get("/sluice/stats")
                if isinstance(r, dict):
                    return r
            except (OSError, ValueError):
                pass
            finally:
                s.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"sluice-dp's telemetry ({path}) does not answer")
            time.sleep(0.1)

    def dp_run(self, scenario):
        family = 6 if scenario.endswith("v6") else 4
        args = {"new_flows": ["--syn"],
                "established_v4": ["--flows", str(FLOWS)],
                "nonvip_drop": ["--vip-ratio", "0"],
                "established_v6": ["--flows", str(FLOWS), "--family", "6"]}[scenario]
        inst = self.publish(family)
        dp = self.sluice_dp(inst)
        self.telemetry()  # up: its telemetry answers once its port is started
        # One connection for the whole measurement, and sluice-dp stops
        # before the generator lets go of the link: DPDK 22.11's memif
        # server can crash in its worker's rx/tx burst when the client
        # disconnects under it (seen twice here, in librte_net_memif).
        # The first second warms up (for established flows: every flow
        # seen); the figures come from the seconds after it.
        gen = self.pktgen(args + ["--linger", "30"], self.a.duration + 1)
        deadline = time.monotonic() + 20
        while self.telemetry()["rx_packets"] == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("no traffic reached sluice-dp")
            time.sleep(0.05)
        time.sleep(1)
        before, t0 = self.telemetry(), time.monotonic()
        line = gen.stdout.readline()  # the run is over; the link stays up
        after, t1 = self.telemetry(), time.monotonic()
        self.stop(dp)
        self.stop(gen)
        r = self.parse_pktgen(line, gen)
        d = {k: after[k] - before[k] for k in ("rx_packets", "tx_packets", "busy_cycles",
                                               "busy_packets", "flow_live")}
        secs = t1 - t0
        return {"mpps_rx": d["rx_packets"] / secs / 1e6,
                "mpps_fwd": r["rx_mpps_steady"] if scenario != "nonvip_drop" else 0.0,
                "cycles_per_packet": d["busy_cycles"] / max(d["busy_packets"], 1),
                "gen_tx_mpps": r["tx_mpps_steady"],
                "flow_live": after["flow_live"],
                "drops": {k: after["drops"][k] - before["drops"][k] for k in after["drops"]
                          if after["drops"][k] - before["drops"][k]}}

    def run(self):
        samples = {s: [] for s in SCENARIOS}
        for i in range(self.a.runs):
            for s in SCENARIOS:
                r = self.ceiling() if s == "ceiling" else self.dp_run(s)
                samples[s].append(r)
                if not self.a.json:
                    print(f"run {i + 1} {s:15s} rx {r['mpps_rx']:6.2f} Mpps  fwd "
                          f"{r['mpps_fwd']:6.2f} Mpps  {r['cycles_per_packet']:6.1f} cycles/pkt",
                          file=sys.stderr, flush=True)
        return samples


def median(samples, key):
    return statistics.median(r[key] for r in samples)


def report(samples, counted, a):
    ceil = samples["ceiling"]
    c_mpps, c_cyc = median(ceil, "mpps_fwd"), median(ceil, "cycles_per_packet")
    doc = {"ceiling": {"mpps": round(c_mpps, 3), "cycles_per_packet": round(c_cyc, 1),
                       "runs": len(ceil)},
           "runs": [], "frame_size": 64, "worker_lcores": a.workers,
           "method": "closed loop over net_memif, sluice-pktgen on CPU 0, forwarder on CPU "
                     + ("1" if a.workers == 1 else f"1-{a.workers}") +
                     "; medians of interleaved runs; see docs/benchmarks.md",
           "flow_table_bytes_per_flow": counted[1],
           "callgrind": "instructions and simulated data-cache misses (L1; LL of 32 MiB) per "
                        f"packet of sluice-dp-microbench, {a.callgrind_packets} packets per "
                        f"scenario, {a.callgrind_flows} flows; bench/callgrind.py"}
    for s in SCENARIOS[1:]:
        rs = samples[s]
        mpps_rx, mpps_fwd = median(rs, "mpps_rx"), median(rs, "mpps_fwd")
        cyc = median(rs, "cycles_per_packet")
        # A drop scenario forwards nothing: its rate is what it takes in.
        mpps = mpps_rx if s == "nonvip_drop" else mpps_fwd
        doc["runs"].append({
            "scenario": s, "mpps": round(mpps, 3), "mpps_rx": round(mpps_rx, 3),
            "mpps_fwd": round(mpps_fwd, 3), "cycles_per_packet": round(cyc, 1),
            "ratio_mpps": round(mpps / c_mpps, 3), "ratio_cycles": round(cyc / c_cyc, 3),
            "frame_size": 78 if s.endswith("v6") else 64, "runs": len(rs),
            "samples_mpps": [round(r["mpps_fwd"] if s != "nonvip_drop" else r["mpps_rx"], 3)
                             for r in rs]})
        doc["runs"][-1].update(counted[0][s])
    if a.json:
        print(json.dumps(doc))
        return
    print(f"{'scenario':16s} {'Mpps rx':>8s} {'Mpps fwd':>9s} {'cycles/pkt':>11s} "
          f"{'x ceiling Mpps':>15s} {'x ceiling cycles':>17s} {'instr/pkt':>10s}")
    print(f"{'ceiling (5tswap)':16s} {c_mpps:8.2f} {c_mpps:9.2f} {c_cyc:11.1f} {1:15.2f} {1:17.2f}")
    for r in doc["runs"]:
        print(f"{r['scenario']:16s} {r['mpps_rx']:8.2f} {r['mpps_fwd']:9.2f} "
              f"{r['cycles_per_packet']:11.1f} {r['ratio_mpps']:15.2f} {r['ratio_cycles']:17.2f} "
              f"{r['instructions_per_packet']:10.1f}")
    print(f"flow table: {doc['flow_table_bytes_per_flow']} bytes per flow")


def main():
    ap = argparse.ArgumentParser(description="sluice-dp against the memif ceiling")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4, help="seconds per measurement")
    ap.add_argument("--build", default="build")
    ap.add_argument("--workers", type=int, default=1,
                    help="sluice-dp worker lcores (and testpmd forwarding cores); needs 1 + N CPUs")
    ap.add_argument("--oversubscribe", action="store_true",
                    help="run --workers N on fewer than 1 + N CPUs anyway: checks that it "
                         "works, its figures mean nothing")
    ap.add_argument("--callgrind-flows", type=int, default=1_000_000,
                    help="flows of callgrind's established scenarios (fewer: no warm-up for new flows)")
    ap.add_argument("--callgrind-packets", type=int, default=100_000,
                    help="packets callgrind counts per scenario")
    a = ap.parse_args()
    b = Bench(a)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(1))
    try:
        samples = b.run()
        counted = callgrind.measure(b.build, a.callgrind_flows, a.callgrind_packets,
                                    cache_sim=True, tag=f"{b.tag}-cg")
        report(samples, counted, a)
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
