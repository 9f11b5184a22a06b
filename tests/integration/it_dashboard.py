#!/usr/bin/env python3
"""The Grafana dashboard (docs/examples/grafana-sluice.json) asks only for
metrics that sluiced exports: every metric name in every query of every
panel and variable is a family of a live sluiced's /metrics (with backends
and a fake data plane, so that every family is there), a histogram's
_bucket, _sum and _count resolving to their family. And it covers what an
operator watches: traffic per VIP and backend, drops by reason, health,
publish latency, the data plane's heartbeat, the XDP fallback."""
import json
import os
import re

from it_prometheus import start_sluiced
from sluicetest import SOURCE_ROOT, check, check_exposition, run, say

DASHBOARD = os.path.join(SOURCE_ROOT, "docs/examples/grafana-sluice.json")
# PromQL words that are not metric names: functions (followed by "(" and
# dropped by the pattern), keywords, and aggregation modifiers.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
            "and", "or", "unless", "inf", "nan"}
MUST_SHOW = ["sluice_vip_packets_total", "sluice_backend_packets_total", "sluice_drops_total",
             "sluice_backend_up", "sluice_publish_latency_seconds",
             "sluice_dataplane_heartbeat_age_seconds", "sluice_xdp_active"]


def queries(dash):
    """(where, expr) for every panel target and every query variable."""
    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            yield f"panel {p.get('title')!r} {t.get('refId')}", t.get("expr", "")
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            yield f"variable {v['name']!r}", q.get("query") if isinstance(q, dict) else q


def metric_names(expr):
    """The metric names an expression reads."""
    m = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)\s*", expr)
    if m:
        return {m.group(1)}
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # strings: label values
    e = re.sub(r"\{[^}]*\}", "", e)                        # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                       # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                      # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", e):
        if not m.group(2) and m.group(1).lower() not in KEYWORDS:
            names.add(m.group(1))
    return names


def family(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name


def main():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    d, _, _ = start_sluiced("dash")
    types = check_exposition(d.metrics())
    used, n = set(), 0
    for where, expr in queries(dash):
        n += 1
        names = metric_names(expr or "")
        check(names, f"{where}: no metric in {expr!r}")
        for name in names:
            check(family(name, types) in types,
                  f"{where}: {name} is not exported by sluiced ({expr!r})")
            used.add(family(name, types))
    for name in MUST_SHOW:
        check(name in used, f"the dashboard shows nothing of {name}")
    say(f"{n} queries over {len(used)} of sluiced's {len(types)} families, all exported")

    # The checker itself: a misspelt or unknown name is caught.
    check(metric_names('sum by (vip) (rate(sluice_vip_packtes_total{vip="a"}[1m]))')
          == {"sluice_vip_packtes_total"}, "the expression parser")
    check(family("sluice_publish_latency_seconds_bucket", types) in types and
          family("sluice_backend_up_bucket", types) not in types, "histogram suffixes")
    check(d.stop() == 0, "clean stop")


if __name__ == "__main__":
    run(main)
