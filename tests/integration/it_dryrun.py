#!/usr/bin/env python3
"""--dry-run against a real sluiced: what it predicts (slots per backend
before and after, the fraction of the table that moves, who gains and who
loses) is what the real change then does, slot for slot; a dry run changes
neither the generation, nor the snapshot, nor the state file; an invalid
change is refused in the same words with and without --dry-run; the
--json document's shape and the human output.
"""
import os

from sluicetest import Sluiced, check, control_request, run, say, vip_of

VIP = "10.0.0.10:80/tcp"
M = 4099
ADDRS = [f"10.0.1.{i}" for i in range(1, 5)]


def config():
    return {"vips": [{"address": "10.0.0.10", "port": 80, "forwarding": "l2dsr",
                      "table_size": M,
                      "backends": [{"address": a, "mac": f"02:00:00:00:01:{i + 1:02x}"}
                                   for i, a in enumerate(ADDRS)]}]}


def table(d):
    """slot -> backend address of VIP in the snapshot in force."""
    v = vip_of(d.dump(tables=True), VIP)
    ids = {b["id"]: b["address"] for b in v["backends"]}
    return [ids[i] for i in v["table"]]


def state(d):
    """Everything a dry run must leave alone."""
    with open(d.state_path, "rb") as f:
        text = f.read()
    st = os.stat(d.state_path)
    return d.dump(tables=True), text, st.st_mtime_ns, d.ctl_ok("status")["generation"]


def check_unchanged(d, before, what):
    after = state(d)
    check(after[3] == before[3], f"{what}: generation {before[3]} -> {after[3]}")
    check(after[0] == before[0], f"{what}: the snapshot changed")
    check(after[1] == before[1] and after[2] == before[2], f"{what}: the state file changed")


def check_prediction(d, dry, before_table, what):
    """The real change did what the dry run said, slot for slot."""
    after_table = table(d)
    moved = sum(1 for a, b in zip(before_table, after_table) if a != b)
    check(dry["moved_slots"] == moved, f"{what}: predicted {dry['moved_slots']} moved, {moved}")
    for b in dry["backends"]:
        n = after_table.count(b["address"])
        check(b["slots_after"] == n, f"{what}: {b['address']} predicted {b['slots_after']}, {n}")
        check(b["slots_before"] == before_table.count(b["address"]), f"{what}: before {b}")
        lost = sum(1 for x, y in zip(before_table, after_table) if x == b["address"] != y)
        gained = sum(1 for x, y in zip(before_table, after_table) if y == b["address"] != x)
        check((b["lost"], b["gained"]) == (lost, gained), f"{what}: {b} vs {lost}/{gained}")


def raw(d, req):
    return control_request(d.sock, req)


def main():
    d = Sluiced("dryrun")
    d.write_config(config())
    d.start()
    before = state(d)
    t0 = table(d)

    # Draining 1 of 4 equal backends: a quarter of the table moves, and
    # only that backend loses.
    dry = d.ctl_ok("backend", "drain", VIP, ADDRS[0], "--dry-run")
    check_unchanged(d, before, "drain --dry-run")
    check(dry["ok"] is True and dry["dry_run"] is True and dry["vip"] == VIP, f"{dry}")
    for key in ("change", "generation", "vip_before", "vip_after", "algorithm",
                "table_size_before", "table_size_after", "moved_slots", "moved_fraction",
                "backends", "gaining", "losing"):
        check(key in dry, f"--json has no {key}: {dry}")
    for b in dry["backends"]:
        check(set(b) == {"address", "state_before", "state_after", "weight_before",
                         "weight_after", "slots_before", "slots_after", "gained", "lost"},
              f"backend row {b}")
    check(dry["generation"] == before[3], "compared with the generation in force")
    check(dry["table_size_before"] == dry["table_size_after"] == M, f"{dry}")
    check(sum(b["slots_before"] for b in dry["backends"]) == M, "slots before sum to M")
    check(sum(b["slots_after"] for b in dry["backends"]) == M, "slots after sum to M")
    row = {b["address"]: b for b in dry["backends"]}
    check(row[ADDRS[0]]["state_before"] == "active" and
          row[ADDRS[0]]["state_after"] == "draining", f"{row[ADDRS[0]]}")
    check(row[ADDRS[0]]["slots_after"] == 0, "a draining backend gets no slots")
    check(abs(dry["moved_fraction"] - 0.25) < 0.02, f"moved {dry['moved_fraction']}")
    # Its slots move, and (Maglev not being minimal) a few others trade
    # places among the rest: each gains far more than it loses.
    check(row[ADDRS[0]]["lost"] == row[ADDRS[0]]["slots_before"], "all its slots move")
    check(0 <= dry["moved_slots"] - row[ADDRS[0]]["slots_before"] < M * 0.01,
          f"moved {dry['moved_slots']}, it had {row[ADDRS[0]]['slots_before']}")
    for a in ADDRS[1:]:
        check(row[a]["gained"] > 50 * row[a]["lost"], f"{row[a]}")
    check(dry["losing"] == [ADDRS[0]] and sorted(dry["gaining"]) == ADDRS[1:], f"{dry}")
    check(abs(dry["moved_fraction"] - dry["moved_slots"] / M) < 1e-9, "fraction of M")

    # Human output, and --dry-run before the object.
    rc, out, err = d.ctl("--dry-run", "backend", "drain", VIP, ADDRS[0])
    check(rc == 0 and out.startswith("dry run, nothing changed:"), f"{rc} {out} {err}")
    check("active -> draining" in out and f"moves {dry['moved_slots']} of {M} slots" in out,
          out)
    check(f"losing: {ADDRS[0]}\n" in out, out)
    say("human output:\n" + out)
    check_unchanged(d, before, "human drain --dry-run")

    # The real change does what was predicted.
    d.ctl_ok("backend", "drain", VIP, ADDRS[0])
    check_prediction(d, dry, t0, "drain")
    d.ctl_ok("backend", "enable", VIP, ADDRS[0])

    # add, weight, del, disable: prediction = outcome, each.
    for argv in (["backend", "add", VIP, "10.0.1.9", "mac", "02:00:00:00:01:09"],
                 ["backend", "weight", VIP, ADDRS[1], "300"],
                 ["backend", "disable", VIP, ADDRS[2]],
                 ["backend", "enable", VIP, ADDRS[2]],
                 ["backend", "del", VIP, "10.0.1.9"]):
        snap = state(d)
        t = table(d)
        dry = d.ctl_ok(*argv, "--dry-run")
        check_unchanged(d, snap, " ".join(argv) + " --dry-run")
        check(dry["generation"] == snap[3], f"{argv}: {dry['generation']}")
        d.ctl_ok(*argv)
        check_prediction(d, dry, t, " ".join(argv))
        if argv[1] == "add":
            n = {b["address"]: b for b in dry["backends"]}["10.0.1.9"]
            check(n["state_before"] is None and n["state_after"] == "active", f"{n}")
            check(dry["losing"] and dry["gaining"] == ["10.0.1.9"], f"add: {dry}")
            check(abs(dry["moved_fraction"] - 0.2) < 0.03, f"add: {dry['moved_fraction']}")
        if argv[1] == "weight":
            check(ADDRS[1] in dry["gaining"] and ADDRS[1] not in dry["losing"], f"{dry}")

    # A new VIP: nothing before, no table after (no backend yet).
    snap = state(d)
    dry = d.ctl_ok("vip", "add", "10.0.0.20:443", "forwarding", "l2dsr", "--dry-run")
    check_unchanged(d, snap, "vip add --dry-run")
    check(dry["vip"] == "10.0.0.20:443/tcp" and not dry["vip_before"] and dry["vip_after"] and
          dry["moved_slots"] == 0 and dry["backends"] == [], f"vip add: {dry}")
    check([v["vip"] for v in d.ctl_ok("vip", "list")["vips"]] == [VIP], "no VIP was added")
    dry = d.ctl_ok("vip", "del", VIP, "--dry-run")
    check(dry["vip_before"] and not dry["vip_after"] and dry["moved_fraction"] == 1.0 and
          sorted(dry["losing"]) == sorted(b["address"] for b in dry["backends"]), f"{dry}")
    check_unchanged(d, snap, "vip del --dry-run")

    # Refused in the same words, with exit status 1, either way.
    for argv in (["backend", "weight", VIP, ADDRS[1], "10001"],
                 ["backend", "drain", VIP, "10.9.9.9"],
                 ["backend", "add", VIP, ADDRS[1], "mac", "02:00:00:00:01:02"],
                 ["backend", "add", "10.0.0.99:80", "10.0.1.5"],
                 ["vip", "add", "10.0.0.21:80", "table-size", "4096"],
                 ["vip", "add", VIP],
                 ["vip", "del", "10.0.0.99:80"]):
        rc1, out1, err1 = d.ctl(*argv, "--dry-run", json_out=True)
        check_unchanged(d, snap, " ".join(argv) + " --dry-run (refused)")
        rc2, out2, err2 = d.ctl(*argv, json_out=True)
        check(rc1 == rc2 == 1 and out1 == out2 and err1 == err2, f"{argv}: {out1} / {out2}")
        check_unchanged(d, snap, " ".join(argv) + " (refused)")

    # Only changes have a dry run; a malformed one is refused.
    rc, _, err = d.ctl("table", VIP, "--dry-run")
    check(rc == 2 and "--dry-run" in err, f"table --dry-run: {rc} {err}")
    r = raw(d, {"cmd": "backend.drain", "vip": VIP, "address": ADDRS[1], "dry_run": 1})
    check(not r["ok"] and "dry_run: expected true or false" in r["error"], f"{r}")
    r = raw(d, {"cmd": "table", "vip": VIP, "dry_run": True})
    check(not r["ok"] and "unknown field \"dry_run\"" in r["error"], f"{r}")
    r = raw(d, {"cmd": "backend.drain", "vip": VIP, "address": ADDRS[1], "dry_run": False})
    check(r["ok"] and "dry_run" not in r and r["generation"] > snap[3], f"dry_run false: {r}")
    say("dry runs predicted every change exactly and changed nothing themselves")


run(main)
