#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Smoke check of sluice-tablebench --json.

usage: check_tablebench_json.py BINARY [ARGS...]
Runs BINARY with ARGS (default: --json --quick --flows 100000), parses its
stdout as one JSON document and checks the contract keys and types, plus two
sanity properties: Maglev remove1 moves at least the ideal fraction (up to
sampling noise), and modulo add1 at N=100 moves more than half of the flows.
"""
import json
import math
import subprocess
import sys

DEFAULT_ARGS = ["--json", "--quick", "--flows", "100000"]
ALGORITHMS = {"maglev", "ring", "modulo"}
CHANGES = {"add1", "remove1", "fail10"}


def fail(msg):
    print("check_tablebench_json: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def check_row(i, r):
    where = "results[%d]" % i
    if not isinstance(r, dict):
        fail(where + " is not an object")
    want = {
        "algorithm": str, "m": "int", "k": "int_or_null", "n_before": "int",
        "n_after": "int", "change": str, "moved_fraction": "num",
        "ideal_fraction": "num", "max_over_mean": "num", "build_ms": "num",
    }
    for key, t in want.items():
        if key not in r:
            fail("%s has no key %r" % (where, key))
        v = r[key]
        ok = {
            str: lambda: isinstance(v, str),
            "int": lambda: is_int(v),
            "int_or_null": lambda: v is None or is_int(v),
            "num": lambda: is_num(v),
        }[t]()
        if not ok:
            fail("%s.%s has the wrong type: %r" % (where, key, v))
    if r["algorithm"] not in ALGORITHMS:
        fail("%s: unknown algorithm %r" % (where, r["algorithm"]))
    if r["change"] not in CHANGES:
        fail("%s: unknown change %r" % (where, r["change"]))
    if (r["k"] is None) != (r["algorithm"] != "ring"):
        fail("%s: k must be an integer for ring and null otherwise: %r" % (where, r))
    if not 0.0 <= r["moved_fraction"] <= 1.0 or not 0.0 < r["ideal_fraction"] <= 1.0:
        fail("%s: fractions out of range: %r" % (where, r))
    if r["max_over_mean"] < 1.0 or r["build_ms"] < 0:
        fail("%s: max_over_mean < 1 or negative build_ms: %r" % (where, r))
    expect_after = {"add1": r["n_before"] + 1, "remove1": r["n_before"] - 1}
    if r["change"] in expect_after and r["n_after"] != expect_after[r["change"]]:
        fail("%s: n_after %d does not fit change %s" % (where, r["n_after"], r["change"]))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = [sys.argv[1]] + (sys.argv[2:] or DEFAULT_ARGS)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        fail("%s exited with %d" % (" ".join(cmd), proc.returncode))
    try:
        doc = json.loads(proc.stdout)
    except ValueError as e:
        fail("stdout is not one JSON document: %s" % e)
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        fail("no results array")
    results = doc["results"]
    if not results:
        fail("results is empty")
    for i, r in enumerate(results):
        check_row(i, r)
    goals = doc.get("maglev_build_ms")
    if not isinstance(goals, dict) or not all(
            is_num(goals.get(k)) for k in ("n1000_m65537", "n1000_m655373")):
        fail("maglev_build_ms must hold numbers n1000_m65537 and n1000_m655373")

    maglev_remove = [r for r in results
                     if r["algorithm"] == "maglev" and r["change"] == "remove1"]
    if not maglev_remove:
        fail("no maglev remove1 rows")
    # The flows of the removed backend must all move, so moved >= ideal up to
    # sampling noise: moved_fraction is measured on a finite flow sample, and
    # for small N Maglev is nearly minimal (N=4 remove1 moves ~1/4 exactly,
    # and 100k flows may land at 0.2494). Allow 4 standard deviations.
    flows = doc.get("flows")
    if not is_int(flows) or flows <= 0:
        fail("flows must be a positive integer")
    for r in maglev_remove:
        p = r["ideal_fraction"]
        tol = 4.0 * math.sqrt(p * (1.0 - p) / flows)
        if r["moved_fraction"] < p - tol:
            fail("maglev remove1 moved less than ideal (impossible, beyond noise %g): %r"
                 % (tol, r))
    modulo_add = [r for r in results if r["algorithm"] == "modulo"
                  and r["change"] == "add1" and r["n_before"] == 100]
    if not modulo_add:
        fail("no modulo add1 row for N=100")
    for r in modulo_add:
        if not r["moved_fraction"] > 0.5:
            fail("modulo add1 N=100 moved only %g (want > 0.5)" % r["moved_fraction"])
    print("check_tablebench_json: OK, %d results" % len(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
