#!/usr/bin/env python3
"""Fleet consistency: two sluiced with the same configuration, as two load
balancers of a fleet, report the same table digest for each VIP through
`sluicectl table` and /metrics (sluice_table_digest{vip,digest}), although
they gave ids in another order; a change on one makes them differ, the same
change on the other makes them agree again.
"""
import re

from sluicetest import Sluiced, check, run, say

VIP = "10.0.0.10:80/tcp"


def config(order):
    backends = [{"address": f"10.0.1.{i}", "weight": 100 + i} for i in order]
    return {"source": {"ipv4": "10.0.0.1"}, "nexthop_mac": "02:00:00:00:00:01",
            "vips": [{"address": "10.0.0.10", "port": 80, "table_size": 65537,
                      "health": {"type": "none"}, "backends": backends},
                     {"address": "10.0.0.20", "port": 53, "protocol": "udp",
                      "forwarding": "gue", "table_size": 1009,
                      "health": {"type": "none"},
                      "backends": [{"address": "10.0.2.1"}, {"address": "10.0.2.2"}]}]}


def digests(d):
    """VIP -> digest, from /metrics; and VIP's from `sluicectl table`."""
    m = dict(re.findall(r'^sluice_table_digest\{vip="([^"]+)",digest="([0-9a-f]{16})"\} 1$',
                        d.metrics(), re.M))
    return m, d.ctl_ok("table", VIP)["digest"]


def main():
    a, b = Sluiced("digest-a"), Sluiced("digest-b")
    # The same backends, listed (and so given ids) in another order.
    a.write_config(config([1, 2, 3, 4, 5]))
    b.write_config(config([5, 3, 1, 4, 2]))
    a.start()
    b.start()
    ma, ta = digests(a)
    mb, tb = digests(b)
    check(len(ma) == 2 and ma == mb, f"/metrics digests differ: {ma} vs {mb}")
    check(ta == tb == ma[VIP], f"sluicectl table digests: {ta} {tb} {ma}")
    rc, out, _ = a.ctl("table", VIP)
    check(rc == 0 and f"digest {ta}" in out, f"human output: {out}")
    say(f"two hosts, same configuration: digests agree ({ta})")

    a.ctl_ok("backend", "weight", VIP, "10.0.1.3", "300")
    ma2, ta2 = digests(a)
    check(ta2 != tb and ma2[VIP] != mb[VIP], "a weight change did not change the digest")
    check(ma2["10.0.0.20:53/udp"] == mb["10.0.0.20:53/udp"], "the other VIP's digest changed")
    b.ctl_ok("backend", "weight", VIP, "10.0.1.3", "300")
    mb2, tb2 = digests(b)
    check(ta2 == tb2 and ma2 == mb2, f"the same change on both: {ta2} vs {tb2}")
    say("one host changed: they differ; the other followed: they agree again")
    check(a.stop() == 0 and b.stop() == 0, "clean stops")


run(main)
