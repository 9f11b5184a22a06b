#!/usr/bin/env python3
"""Fail static and persistence: SIGKILL of sluiced leaves the published
snapshot as it was; a restart re-attaches, restores the CLI's changes from
the state file, keeps every id and health state, and publishes nothing
(same generation, same bytes). A corrupt state file is refused with a clear
message and nothing is published over it.
"""
import json
import signal
import subprocess
import time

from sluicetest import (SHM_DUMP, SHM_POKE, SLUICED, Backend, Sluiced, check, free_port, run, say, states, vip_of,
                        wait_until)

VIP = "10.0.0.10:80/tcp"
VIP2 = "10.0.0.20:53/udp"


def main():
    port = free_port()
    live = Backend(["127.0.0.2", "127.0.0.3", "127.0.0.6"], port, mode="tcp")
    d = Sluiced("restart")
    d.write_config({"vips": [{
        "address": "10.0.0.10", "port": 80, "forwarding": "l2dsr", "table_size": 4099,
        "health": {"type": "tcp", "port": port, "interval_ms": 200, "timeout_ms": 100,
                   "rise": 2, "fall": 2},
        "backends": [{"address": a, "mac": "02:00:00:00:00:0%d" % i}
                     for i, a in enumerate(["127.0.0.2", "127.0.0.3", "127.0.0.5"], 1)]}]})
    d.start()
    # 127.0.0.5 has nobody listening: it goes down.
    wait_until(lambda: states(d.dump(), VIP)["127.0.0.5"] == "down", 3, ".5 down")

    # Changes through the CLI.
    d.ctl_ok("backend", "add", VIP, "127.0.0.6", "mac", "02:00:00:00:00:06")
    d.ctl_ok("backend", "drain", VIP, "127.0.0.3")
    d.ctl_ok("backend", "weight", VIP, "127.0.0.2", "200")
    d.ctl_ok("vip", "add", VIP2, "forwarding", "l2dsr", "table-size", "1009")
    d.ctl_ok("backend", "add", VIP2, "127.0.0.7", "mac", "02:00:00:00:00:07")
    time.sleep(0.6)  # let health settle: .6 is checked and stays up
    d1 = d.dump(tables=True)
    say(f"before SIGKILL: generation {d1['generation']}, digest {d1['digest']}")

    # SIGKILL: the snapshot stays, byte for byte.
    d.stop(signal.SIGKILL)
    time.sleep(0.3)
    d2 = d.dump(tables=True)
    check(d2 == d1, "the snapshot changed after sluiced was killed")

    # Restart: re-attach, restore, publish nothing.
    d.start()
    time.sleep(1.0)  # several check intervals: nothing may flap
    d3 = d.dump(tables=True)
    check(d3["generation"] == d1["generation"],
          f"restart published: generation {d1['generation']} -> {d3['generation']}")
    check(d3["digest"] == d1["digest"] and d3["vips"] == d1["vips"], "snapshot differs")
    log = d.log()
    check(f"attached to instance {d.instance} at generation {d1['generation']}" in log,
          "re-attach logged")
    check("backend 127.0.0.5 of VIP 10.0.0.10:80/tcp starts down, as the data plane has it"
          in log, "the down backend starts down")
    check(" is UP: " not in log.split("attached to instance")[-1], "a backend flapped up")
    bl = {b["address"]: b for b in d.ctl_ok("backend", "list", VIP)["backends"]}
    check(bl["127.0.0.2"]["weight"] == 200 and bl["127.0.0.3"]["state"] == "draining" and
          "127.0.0.6" in bl, f"CLI changes lost: {bl}")
    check(vip_of(d3, VIP2)["backends"][0]["address"] == "127.0.0.7", "CLI VIP lost")
    # A second sluiced for the same instance refuses to start.
    other = Sluiced("restart2")
    other.instance = d.instance
    other.write_config({})
    rc = other.start(ready=False).wait(timeout=10)
    check(rc != 0 and f"another sluiced runs instance {d.instance}" in other.log(),
          f"a second sluiced started: rc {rc}: {other.log()}")
    check(d.dump(tables=True) == d3 and d.ctl("status")[0] == 0, "the first one is undisturbed")
    st = d.ctl_ok("status")
    check(st["publishes"] == 0 and st["unchanged_rebuilds"] >= 1, f"status: {st}")
    say(f"restart: generation {d3['generation']} kept, 0 publishes, CLI changes restored")

    # What the file says while sluiced is away: a value the CLI overrides
    # changes nothing; a real change is published once on restart.
    d.stop(signal.SIGKILL)
    with open(d.config_path) as f:
        cfg = json.load(f)
    cfg["vips"][0]["backends"][0]["weight"] = 50
    with open(d.config_path, "w") as f:
        json.dump(cfg, f)
    d.start()  # 127.0.0.2's weight stays the CLI's 200
    time.sleep(0.3)
    check(d.dump()["generation"] == d1["generation"],
          "a file change the CLI overrides must not publish")
    cfg["vips"][0]["table_size"] = 4093
    with open(d.config_path, "w") as f:
        json.dump(cfg, f)
    d.stop(signal.SIGKILL)
    d.start()
    wait_until(lambda: d.dump()["generation"] == d1["generation"] + 1, 3, "one publish")
    check(vip_of(d.dump(), VIP)["table_size"] == 4093, "the new table size is published")

    # A corrupt state file: refused, named, nothing published.
    d.stop(signal.SIGTERM)
    before = d.dump()
    with open(d.state_path) as f:
        saved = f.read()
    with open(d.state_path, "w") as f:
        f.write(saved[: len(saved) // 2])
    p = d.start(ready=False)
    rc = p.wait(timeout=10)
    check(rc != 0, "sluiced started over a corrupt state file")
    check(f"state file {d.state_path}:" in d.log() and "does not start over a state file" in
          d.log(), "the refusal names the file and says why")
    check(d.dump() == before, "something was published over a corrupt state file")
    with open(d.state_path, "w") as f:
        f.write(saved)
    d.start()
    check(d.dump()["generation"] == before["generation"], "restored state publishes nothing")
    check(d.stop() == 0, "clean stop")

    # Ids that sluiced refuses (two VIPs with one id): --check-config
    # refuses them as well, with the same reason.
    state = json.loads(saved)
    vip_ids = state["ids"]["vips"]
    vip_ids[1]["id"] = vip_ids[0]["id"]
    with open(d.state_path, "w") as f:
        json.dump(state, f)
    r = subprocess.run([SLUICED, "--check-config", d.config_path, "--state", d.state_path],
                       capture_output=True, text=True)
    check(r.returncode == 1 and f"state file {d.state_path}: ids.vips[1].id: VIP id "
          f"{vip_ids[0]['id']} given twice" in r.stderr,
          f"--check-config passed ids sluiced refuses: {r.returncode} {r.stdout}{r.stderr}")
    rc = d.start(ready=False).wait(timeout=10)
    check(rc != 0 and "given twice" in d.log(), "sluiced started over duplicate ids")
    with open(d.state_path, "w") as f:
        f.write(saved)

    # A corrupt snapshot in force (a VIP id out of range, then random
    # bytes): shm_dump refuses it with a message, and a restarted sluiced
    # ignores it, says so, and publishes a sound one over it.
    d.start()
    good = d.dump()
    for poke in (["vip-id", str(vip_of(good, VIP)["id"]), "65535"], ["random", "7"]):
        d.stop(signal.SIGKILL)
        gen = d.dump()["generation"]
        r = subprocess.run([SHM_POKE, d.instance] + poke, capture_output=True, text=True)
        check(r.returncode == 0, f"shm_poke {poke}: {r.stderr}")
        r = subprocess.run([SHM_DUMP, d.instance], capture_output=True, text=True)
        check(r.returncode == 1 and f"generation {gen}: " in r.stderr,
              f"shm_dump over a corrupt snapshot ({poke}): rc {r.returncode}: {r.stderr}")
        d.start()
        wait_until(lambda: d.dump()["generation"] == gen + 1, 3, f"a publish over {poke}")
        after = d.dump()
        check(f"(generation {gen}) is corrupt: " in d.log(), f"no word of the corruption: {poke}")
        check({v["vip"] for v in after["vips"]} == {v["vip"] for v in good["vips"]} and
              d.ctl_ok("status")["vips"] == 2 and len(d.ctl_ok("vip", "list")["vips"]) == 2,
              f"after {poke}: {after}")
        say(f"corrupt snapshot ({poke[0]}): refused by shm_dump, replaced by generation {gen + 1}")
    check(d.stop() == 0, "clean stop")
    live.kill()


run(main)
