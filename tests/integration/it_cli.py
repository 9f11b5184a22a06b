#!/usr/bin/env python3
"""sluicectl against a real sluiced: every command, read back through the
published snapshot (shm_dump), `table` and `explain`; exit codes 0 / 1 / 2;
human and --json output; stats --watch; SIGHUP with a bad file (nothing
changes) and a good one; --check-config.
"""
import json
import os
import signal
import subprocess
import time

from sluicetest import (SLUICECTL, SLUICED, Sluiced, check, run, say, slots, states,
                        vip_of, wait_until)

VIP = "10.0.0.10:80/tcp"
V6 = "[2001:db8::10]:443/udp"
M = 4099


def backend_conf(i):
    return {"address": f"10.0.1.{i}", "mac": f"02:00:00:00:01:{i:02x}"}


def config(extra_backends=0):
    return {"vips": [{"address": "10.0.0.10", "port": 80, "forwarding": "l2dsr",
                      "table_size": M,
                      "backends": [backend_conf(i) for i in range(1, 4 + extra_backends)]}]}


def main():
    d = Sluiced("cli")
    d.write_config(config())
    d.start()
    gen0 = d.dump()["generation"]

    # Reading.
    rc, out, _ = d.ctl("vip", "list")
    check(rc == 0 and out.startswith("VIP ") and VIP in out, f"vip list: {out}")
    lst = d.ctl_ok("vip", "list")
    check([v["vip"] for v in lst["vips"]] == [VIP], f"vip list -j: {lst}")
    show = d.ctl_ok("vip", "show", "10.0.0.10:80")
    check(len(show["vip"]["backends"]) == 3 and show["vip"]["forwarding"] == "l2dsr", "show")
    rc, out, _ = d.ctl("b", "l", VIP)  # unique prefixes, as in ip(8)
    check(rc == 0 and "10.0.1.2" in out, f"abbreviated backend list: {out}")

    # backend add -> in the published table.
    d.ctl_ok("backend", "add", VIP, "10.0.1.9", "weight", "300", "mac", "02:00:00:00:01:09")
    dump = d.dump()
    s = slots(dump, VIP)
    check(dump["generation"] == gen0 + 1, "one publish for one change")
    check(abs(s["10.0.1.9"] / M - 0.5) < 0.02, f"weight 300 of 600 -> half the slots: {s}")
    tbl = d.ctl_ok("table", VIP)
    row = next(b for b in tbl["backends"] if b["address"] == "10.0.1.9")
    check(row["slots"] == s["10.0.1.9"] and abs(row["weight_share"] - 0.5) < 1e-9, f"{row}")
    check(tbl["generation"] == dump["generation"], "table reads the generation in force")
    with open(d.state_path) as f:
        check("10.0.1.9" in f.read(), "the change is in the state file")

    # Refused: exit 1 and a reason.
    rc, _, err = d.ctl("backend", "add", VIP, "10.0.1.9", "mac", "02:00:00:00:01:09")
    check(rc == 1 and "exists" in err, f"second add: {rc} {err}")
    rc, _, err = d.ctl("backend", "weight", VIP, "10.0.1.9", "10001")
    check(rc == 1 and "out of range 0..10000" in err, f"weight range: {rc} {err}")
    rc, _, err = d.ctl("backend", "drain", VIP, "10.9.9.9")
    check(rc == 1 and "no backend 10.9.9.9" in err, f"drain unknown: {rc} {err}")
    rc, out, err = d.ctl("table", "10.0.0.99:80", json_out=True)
    check(rc == 1 and out["ok"] is False and "no VIP" in out["error"], "--json refusal")
    check(err == f"sluicectl: {out['error']}\n", f"--json refusal on stderr: {err!r}")
    # Usage: exit 2, nothing sent.
    for argv in (["frob"], ["vip", "add"], ["backend", "add", "10.0.0.10", "10.0.1.5"],
                 ["explain", VIP, "sctp", "1.2.3.4:5"], ["backend", "weight", VIP, "x", "1"]):
        rc, _, err = d.ctl(*argv)
        check(rc == 2 and "usage" in err, f"{argv}: rc {rc}, {err}")
    r = subprocess.run([SLUICECTL, "-s", "/nonexistent/sock", "status"], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "cannot connect" in r.stderr, "unreachable daemon")

    # explain agrees with the published table slot for slot.
    full = vip_of(d.dump(tables=True), VIP)
    ids = {b["id"]: b["address"] for b in full["backends"]}
    seen = set()
    for port in range(40000, 40040):
        e = d.ctl_ok("explain", "10.0.0.10:80", "tcp", f"192.0.2.7:{port}")
        check(int(e["hash"], 16) % M == e["slot"], "slot = hash mod M")
        check(ids[full["table"][e["slot"]]] == e["backend"]["address"], f"explain {e}")
        check(e["by"] == "lookup table", "explain says how")
        seen.add(e["backend"]["address"])
    check(len(seen) >= 3, f"40 flows all on {seen}")
    rc, out, _ = d.ctl("explain", VIP, "tcp", "192.0.2.7:40000")
    check(rc == 0 and "lookup table" in out and "backend 10.0.1." in out, out)
    rc, _, err = d.ctl("explain", VIP, "udp", "192.0.2.7:40000")
    check(rc == 2, "VIP /tcp with protocol udp is a usage error")

    # drain / disable / enable / weight / del, each read back.
    flow = d.ctl_ok("explain", VIP, "tcp", "192.0.2.7:40001")
    victim = flow["backend"]["address"]
    d.ctl_ok("backend", "drain", VIP, victim)
    dump = d.dump()
    check(states(dump, VIP)[victim] == "draining" and slots(dump, VIP)[victim] == 0, "drain")
    moved = d.ctl_ok("explain", VIP, "tcp", "192.0.2.7:40001")
    check(moved["backend"]["address"] != victim, "a new flow avoids a draining backend")
    d.ctl_ok("backend", "disable", VIP, victim)
    check(states(d.dump(), VIP)[victim] == "disabled", "disable")
    d.ctl_ok("backend", "enable", VIP, victim)
    dump = d.dump()
    check(states(dump, VIP)[victim] == "active" and slots(dump, VIP)[victim] > 0, "enable")
    check(d.ctl_ok("explain", VIP, "tcp", "192.0.2.7:40001")["backend"]["address"] == victim,
          "the flow's backend is back")
    d.ctl_ok("backend", "weight", VIP, "10.0.1.9", "100")
    s = slots(d.dump(), VIP)
    check(all(abs(n - M / 4) < M * 0.03 for n in s.values()), f"equal weights: {s}")
    d.ctl_ok("backend", "del", VIP, "10.0.1.9")
    check("10.0.1.9" not in slots(d.dump(), VIP), "backend del")

    # VIPs.
    # Numbers are decimal (a leading 0 is not octal) or 0x hex.
    d.ctl_ok("vip", "add", V6, "forwarding", "l2dsr", "algorithm", "ring", "table-size", "01009",
             "seed", "0x99")
    d.ctl_ok("backend", "add", V6, "2001:db8:1::1", "mac", "02:00:00:00:02:01")
    v6 = vip_of(d.dump(), V6)
    check(v6["table_size"] == 1009 and v6["hash_seed"] == 0x99 and
          v6["backends"][0]["slots"] == 1009, f"vip add: {v6}")
    rc, _, err = d.ctl("vip", "add", V6)
    check(rc == 1 and "exists" in err, "vip add twice")
    # A check without its own port goes to the VIP's; vip show says which.
    d.ctl_ok("vip", "add", "10.0.0.30:8080", "forwarding", "l2dsr", "check", "tcp")
    rc, out, _ = d.ctl("vip", "show", "10.0.0.30:8080")
    check(rc == 0 and "health check: tcp, port 8080," in out, f"vip show: {out}")
    d.ctl_ok("vip", "del", "10.0.0.30:8080")
    d.ctl_ok("vip", "del", V6)
    check([v["vip"] for v in d.dump()["vips"]] == [VIP], "vip del")

    # Status, health, stats without a data plane.
    rc, out, _ = d.ctl("stats")
    check(rc == 0 and "data plane: not running" in out and VIP in out, f"stats: {out}")
    st = d.ctl_ok("stats", VIP)
    check(not st["dataplane"]["attached"] and len(st["vips"]) == 1, "stats -j")
    check(set(st["totals"]["drops"]) >= {"no_backend", "not_vip", "tx_full"}, "drop names")
    rc, out, _ = d.ctl("health")
    check(rc == 0 and "unchecked" in out, f"health: {out}")
    rc, out, _ = d.ctl("status")
    check(rc == 0 and "generation" in out, f"status: {out}")

    # stats --watch refreshes until interrupted.
    w = subprocess.Popen([SLUICECTL, "-s", d.sock, "stats", "--watch", "--interval", "0.3"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(1.2)
    w.send_signal(signal.SIGINT)
    out, _ = w.communicate(timeout=5)
    check(w.returncode == 0 and out.count("VIP / BACKEND") >= 3, f"watch: {out[:200]}")

    # SIGHUP: a bad file changes nothing; a good one is applied.
    gen = d.dump()["generation"]
    with open(d.config_path) as f:
        good = json.load(f)
    bad = json.loads(json.dumps(good))
    bad["vips"][0]["table_size"] = 4096
    with open(d.config_path, "w") as f:
        json.dump(bad, f)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in d.log(), 3, "the reload refusal")
    check("vips[0].table_size: 4096 is not prime" in d.log(), "the reason is logged")
    check(d.dump()["generation"] == gen, "a refused reload publishes nothing")
    check(d.ctl("status")[0] == 0, "still serving")
    good["vips"][0]["backends"].append(backend_conf(7))
    with open(d.config_path, "w") as f:
        json.dump(good, f)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "10.0.1.7" in slots(d.dump(), VIP), 3, "the reload to apply")

    # --check-config.
    r = subprocess.run([SLUICED, "--check-config", d.config_path], capture_output=True,
                       text=True)
    check(r.returncode == 0 and "valid" in r.stdout, f"check-config: {r.stdout}{r.stderr}")
    with open(d.config_path, "w") as f:
        json.dump(bad, f)
    r = subprocess.run([SLUICED, "--check-config", d.config_path], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "4096 is not prime" in r.stderr, "check-config refuses")
    example = os.path.join(os.environ.get("SLUICE_SOURCE_ROOT", "."), "docs/examples/sluice.json")
    r = subprocess.run([SLUICED, "--check-config", example], capture_output=True, text=True)
    check(r.returncode == 0, f"the shipped example: {r.stderr}")
    say("every sluicectl command changed or reported the published table as expected")


run(main)
