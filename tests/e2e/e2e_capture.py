#!/usr/bin/env python3
"""Capturing a running sluice-dp with dpdk-dumpcap (a DPDK secondary
process of sluice-dp's --file-prefix): while HTTP requests go through the
load balancer, dpdk-dumpcap takes 20 packets of its port (a capture
filter leaves out the lb kernel's own health checks), both what it
receives (client -> VIP) and what it sends (IPIP from the load balancer's
source to a backend); the file holds them, and sluice-dp forwards as before
while and after the capture attached and detached."""
import os
import shutil
import subprocess
import time

import lab
from lab import st

PACKETS = 20


def main():
    dumpcap = shutil.which("dpdk-dumpcap")
    st.check(dumpcap, "dpdk-dumpcap not found (Debian's package dpdk; scripts/setup.sh)")
    L = lab.Lab("capt", "dpdk", backends=2, capture=True).create()
    out = os.path.join(L.sluiced.dir, "capture.pcapng")
    log = open(os.path.join(L.sluiced.dir, "dumpcap.log"), "w")
    # In the load balancer's namespace: the secondary probes the same
    # net_af_packet port, on that namespace's eth0.
    cap = st.spawn(L.nsenter("lb") + [dumpcap, f"--file-prefix={L.sluiced.instance}",
                                      "-i", "net_af_packet0", "-c", str(PACKETS), "-w", out,
                                      # What the load balancer handles, not
                                      # the health checks of the lb's kernel.
                                      "-f", f"dst host {lab.VIP4} or ip proto 4"],
                   stdout=log, stderr=subprocess.STDOUT)
    # Traffic until the capture has its packets (it attaches in a moment).
    deadline = time.monotonic() + 60
    ok = 0
    while cap.poll() is None and time.monotonic() < deadline:
        res = L.requests(20, parallel=4)
        ok += len(res) - len(lab.failures(res))
        time.sleep(0.1)
    if cap.poll() is None:
        cap.kill()
        cap.wait()
        log.close()
        with open(log.name) as f:
            raise AssertionError(f"dpdk-dumpcap did not take {PACKETS} packets in 60 s: "
                                 f"{f.read()[-2000:]}")
    log.close()
    with open(log.name) as f:
        text = f.read()
    st.check(cap.returncode == 0, f"dpdk-dumpcap exited {cap.returncode}: {text[-2000:]}")
    r = subprocess.run(["tcpdump", "-nr", out], capture_output=True, text=True, timeout=30)
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    # -c stops at the end of the burst that reaches it.
    st.check(r.returncode == 0 and len(lines) >= PACKETS,
             f"{len(lines)} packets in the capture: {r.stderr.strip()}\n{r.stdout[-2000:]}")
    # Received: client -> VIP. Sent: IPIP from the load balancer's source,
    # the client's packet inside.
    rx = [x for x in lines if f"> {lab.VIP4}.{lab.HTTP_PORT}:" in x and ": IP " not in x]
    tx = [x for x in lines if f"IP {lab.LB4} > " in x and ": IP " in x]
    st.check(rx and tx, f"received {len(rx)}, sent {len(tx)} of:\n" + "\n".join(lines))
    st.say(f"dpdk-dumpcap took {len(lines)} packets ({len(rx)} received, {len(tx)} sent) "
           f"during {ok} requests, e.g.:\n  {rx[0]}\n  {tx[0]}")
    # Still forwarding, with the capture gone.
    st.check(L.dp.poll() is None, f"sluice-dp exited: {L.logs()}")
    results = L.requests(200)
    st.check(len(results) == 200 and not lab.failures(results),
             f"after the capture: {lab.counts(results)} {lab.failures(results)[:3]}")
    st.check(L.forwarding() == "dpdk", "sluice-dp is not the forwarding path any more")
    st.say("sluice-dp forwarded all along; 200 requests after the capture, all answered")


lab.run(main)
