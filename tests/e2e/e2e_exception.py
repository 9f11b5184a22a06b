#!/usr/bin/env python3
"""sluice-dp's exception path (docs/dataplane.md): a real sluice-dp on a
net_af_packet port (lb0, in the namespace "lb") with its TAP sl-0, the host's
address 10.77.0.2 on the TAP, a real sluiced with the VIP 10.77.0.100:80,
and a peer namespace on the other end of lb0 standing for the router:

  peer (peer0 10.77.0.1) ---- lb0 [sluice-dp] -- sl-0 (10.77.0.2, the lb kernel)

The lb kernel must not see lb0 itself (on a NIC that DPDK owns it cannot):
lb0 has no address, answers no ARP (arp_ignore=8) and takes no IP
(rp_filter=1: the peer is reachable through sl-0 only), and IPv6 is off
(on lb0 for good, elsewhere until the last step) so that nothing talks
unasked. Then:

 (a) the peer pings 10.77.0.2: every reply, none duplicated, through
     sluice-dp (to_kernel and from_kernel count them);
 (b) a TCP connection to a listener on 10.77.0.2:179 (BGP's port)
     completes and carries data both ways;
 (c) ARP for 10.77.0.2 is answered by the kernel (through the TAP:
     to_kernel, not arp_replies), ARP for the VIP by sluice-dp
     (arp_replies), both with lb0's MAC; ARP for an address nobody has
     gets no answer;
 (d) TCP SYNs to the VIP are forwarded (IPIP to the backend, seen by the
     peer) and never reach the kernel: to_kernel unchanged, sl-0's kernel
     receive counter unchanged;
 (e) a flood of UDP to 10.77.0.2, far over --exception-rate, is cut to the
     rate and the rest counted as to_kernel_ratelimit;
 (f) with IPv6 on, neighbour solicitations for the host's address are
     answered by the kernel and pings to it cross the TAP; for the VIP's
     address sluice-dp answers;
and a second sluice-dp in the namespace is refused (sl-0 is taken), and
sl-0 goes with the first.

Run as a peer helper (raw frames in the peer namespace) with
`e2e_exception.py peer COMMAND ...`."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

PEER4, HOST4, SRC4, VIP4, NOBODY4 = "10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.100", \
    "10.77.0.99"
PEER6, HOST6, SRC6, VIP6 = "fd00:77::1", "fd00:77::2", "fd00:77::3", "fd00:77::100"
LB_MAC, PEER_MAC = "02:00:5e:77:00:02", "02:00:5e:77:00:01"
RATE = 1000  # --exception-rate: a bucket of RATE / 10 frames
FLOOD = 4000


# ---- the peer side: raw frames on peer0 ----

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip_csum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, src, dst, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", ip_csum(hdr)) + hdr[12:]
    return hdr + payload


def eth(dst, proto, payload):
    frame = mac_bytes(dst) + mac_bytes(PEER_MAC) + struct.pack("!H", proto) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def raw_socket():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind(("peer0", 0))
    return s


def peer_arp(target):
    """Ask who has target; print the answering MACs (JSON) within 0.5 s."""
    s = raw_socket()
    req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac_bytes(PEER_MAC),
                      socket.inet_aton(PEER4), b"\0" * 6, socket.inet_aton(target))
    s.send(eth("ff:ff:ff:ff:ff:ff", 0x0806, req))
    macs, deadline = [], time.monotonic() + 0.5
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            f = s.recv(2048)
        except socket.timeout:
            break
        if len(f) < 42 or f[12:14] != b"\x08\x06":
            continue
        op, sha, spa = struct.unpack("!H6s4s", f[20:32])
        if op == 2 and socket.inet_ntoa(spa) == target:
            macs.append(":".join(f"{b:02x}" for b in sha))
    print(json.dumps({"macs": macs}))


def peer_syn(n):
    """n TCP SYNs to the VIP from distinct ports; print how many IPIP
    packets to the backend (the peer) came back within 2 s."""
    s = raw_socket()
    # Taken by a raw socket, IPIP is not answered by the peer's kernel with
    # "protocol unreachable" to the LB's source address (which would be
    # the host's traffic, rightly handed to its kernel).
    sink = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
    for i in range(n):
        tcp = struct.pack("!HHIIBBHHH", 20000 + i, 80, i, 0, 5 << 4, 0x02, 65535, 0, 0)
        s.send(eth(LB_MAC, 0x0800, ipv4(6, PEER4, VIP4, tcp)))
    seen, deadline = set(), time.monotonic() + 2.0
    while time.monotonic() < deadline and len(seen) < n:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            f, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        # Outer IPv4, protocol 4 (IPIP), from the LB's source to the backend;
        # the inner packet is the client's SYN.
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 54 or f[12:14] != b"\x08\x00":
            continue
        if f[23] == 4 and f[26:30] == socket.inet_aton(SRC4) and \
                f[30:34] == socket.inet_aton(PEER4) and f[14 + 20 + 16:14 + 20 + 20] == \
                socket.inet_aton(VIP4):
            seen.add(struct.unpack("!H", f[54:56])[0])
    sink.close()
    print(json.dumps({"ipip": len(seen)}))


def peer_flood(n):
    """n UDP datagrams to the host's port 9 at about 20,000 a second (20
    times the limit; faster would only overflow af_packet's ring)."""
    s = raw_socket()
    udp = struct.pack("!HHHH", 40000, 9, 8 + 18, 0) + b"x" * 18
    frame = eth(LB_MAC, 0x0800, ipv4(17, PEER4, HOST4, udp))
    t0 = time.monotonic()
    for i in range(n):
        s.send(frame)
        if i % 20 == 19:
            time.sleep(max(0.0, t0 + (i + 1) / 20000 - time.monotonic()))
    print(json.dumps({"seconds": time.monotonic() - t0}))


def peer_tcp(addr, port):
    """Connect, send, read the listener's answer."""
    c = socket.create_connection((addr, port), timeout=5)
    c.sendall(b"OPEN\n")
    data = c.recv(100)
    c.close()
    print(json.dumps({"reply": data.decode()}))


def host_listen(addr, port):
    """On the lb host: accept one connection, answer what it sent."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(20)
    print("ready", flush=True)
    c, _ = srv.accept()
    c.settimeout(5)
    data = c.recv(100)
    c.sendall(b"KEEPALIVE after " + data)
    c.close()


if len(sys.argv) > 2 and sys.argv[1] == "peer":
    cmds = {"arp": peer_arp, "syn": lambda n: peer_syn(int(n)),
            "flood": lambda n: peer_flood(int(n)), "tcp": lambda a, p: peer_tcp(a, int(p)),
            "listen": lambda a, p: host_listen(a, int(p))}
    cmds[sys.argv[2]](*sys.argv[3:])
    sys.exit(0)

# ---- the test ----

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import sluicetest as st  # noqa: E402

SLUICE_DP = os.environ.get("SLUICE_DP", "")
TOPO = f"exctap{os.getpid()}"
NS = {"lb": f"{TOPO}-lb", "peer": f"{TOPO}-peer"}


def nsenter(name):
    return ["nsenter", f"--net=/run/netns/{NS[name]}"]


def sh(*argv, ns=None):
    r = subprocess.run((["ip", "netns", "exec", NS[ns]] if ns else []) + list(argv),
                       capture_output=True, text=True, timeout=30)
    st.check(r.returncode == 0, f"{' '.join(argv)}: {r.stderr.strip()}")
    return r.stdout.strip()


def peer(*args, ns="peer", timeout=30):
    r = subprocess.run(nsenter(ns) + [sys.executable, __file__, "peer"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    st.check(r.returncode == 0, f"peer {' '.join(args)}: {r.stderr.strip()[-800:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


PREFIXES = []  # sluice-dp's --file-prefix: EAL leaves /var/run/dpdk/PREFIX


def destroy():
    for prefix in PREFIXES:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    for ns in NS.values():
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in pids.stdout.split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def topology():
    for key, ns in NS.items():
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1", ns=key)
    sh("ip", "-n", NS["lb"], "link", "add", "lb0", "address", LB_MAC, "type", "veth", "peer",
       "name", "peer0", "netns", NS["peer"])
    sh("ip", "-n", NS["peer"], "link", "set", "peer0", "address", PEER_MAC)
    sh("ip", "-n", NS["peer"], "addr", "add", f"{PEER4}/24", "dev", "peer0")
    sh("ip", "-n", NS["peer"], "link", "set", "peer0", "up")
    # A veth sender leaves TCP checksums to offload metadata that af_packet
    # does not carry over; a host behind a real NIC sends complete ones.
    sh("ethtool", "-K", "peer0", "tx", "off", ns="peer")
    # lb0 is sluice-dp's alone: no address, no ARP answers, no IP taken in
    # (the route back to the peer is through the TAP, so strict reverse-
    # path filtering drops what arrives on lb0 for the host's address).
    sh("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.lb0.rp_filter=1",
       "net.ipv4.conf.lb0.arp_ignore=8", ns="lb")
    sh("ip", "-n", NS["lb"], "link", "set", "lb0", "up")


def sluiced_config():
    return {
        "dataplane": {"mode": "dpdk", "heartbeat_timeout_ms": 300},
        "source": {"ipv4": SRC4, "ipv6": SRC6},
        "nexthop_mac": PEER_MAC,
        "lb_mac": LB_MAC,
        "vips": [{"address": VIP4, "port": 80, "forwarding": "ipip",
                  "backends": [{"address": PEER4}]},
                 {"address": VIP6, "port": 80, "forwarding": "ipip",
                  "backends": [{"address": PEER6}]}],
    }


T0 = time.monotonic()


def say(msg):
    st.say(f"[{time.monotonic() - T0:4.1f} s] {msg}")


def totals(d):
    return d.ctl_ok("stats")["totals"]


def delta(after, before, name):
    if name in after:
        return after[name] - before[name]
    return after["drops"][name] - before["drops"][name]


def sl0_rx():
    return int(sh("cat", "/sys/class/net/sl-0/statistics/rx_packets", ns="lb"))


def main():
    st.check(SLUICE_DP, "SLUICE_DP is not set (built without DPDK?)")
    t_start = time.monotonic()
    import atexit
    atexit.register(destroy)
    topology()
    d = st.Sluiced("exctap", wrap=nsenter("lb"))
    d.write_config(sluiced_config())
    d.start()
    PREFIXES.extend([d.instance, f"{d.instance}-2"])
    log = open(os.path.join(d.dir, "sluice-dp.log"), "w")
    dp = st.spawn(nsenter("lb") + [
        SLUICE_DP, "--no-pci", f"--file-prefix={d.instance}", "-l", "0,1", "--no-huge",
        "-m", "256", "--log-level=*:warning", "--log-level=sluice.dp:info",
        "--vdev=net_af_packet0,iface=lb0,framecnt=2048", "--",
        "--instance", d.instance, "--flows", "4096", "--exception", "on",
        "--exception-rate", str(RATE)], stdout=log, stderr=log)
    st.wait_until(lambda: dp.poll() is not None or subprocess.run(
        ["ip", "-n", NS["lb"], "link", "show", "sl-0"], capture_output=True).returncode == 0,
        15, "sluice-dp to create sl-0")
    st.check(dp.poll() is None, "sluice-dp exited at start")
    mac = sh("cat", "/sys/class/net/sl-0/address", ns="lb")
    st.check(mac == LB_MAC, f"sl-0 has MAC {mac}, the port {LB_MAC}")
    sh("ip", "-n", NS["lb"], "addr", "add", f"{HOST4}/24", "dev", "sl-0")
    st.wait_until(lambda: d.ctl_ok("status")["dataplane"].get("live", 0) > 0, 15,
                  "sluice-dp to take the configuration")
    say(f"sluice-dp up with sl-0 ({mac}) carrying {HOST4} in "
           f"{time.monotonic() - t_start:.1f} s")

    # (c) ARP: the host's address by the kernel, the VIP by sluice-dp.
    t0 = totals(d)
    host = peer("arp", HOST4)["macs"]
    t1 = totals(d)
    st.check(host == [LB_MAC], f"ARP for {HOST4}: answers {host}, expected one from {LB_MAC}")
    st.check(delta(t1, t0, "arp_replies") == 0 and delta(t1, t0, "to_kernel") >= 1 and
             delta(t1, t0, "from_kernel") >= 1,
             f"ARP for {HOST4} not through the kernel: {t0} -> {t1}")
    vip = peer("arp", VIP4)["macs"]
    t2 = totals(d)
    st.check(vip == [LB_MAC], f"ARP for {VIP4}: answers {vip}")
    st.check(delta(t2, t1, "arp_replies") == 1 and delta(t2, t1, "to_kernel") == 0,
             f"ARP for the VIP not answered by sluice-dp alone: {t1} -> {t2}")
    nobody = peer("arp", NOBODY4)["macs"]
    st.check(nobody == [], f"ARP for {NOBODY4}, which nobody has, answered by {nobody}")
    say(f"(c) ARP for {HOST4} answered by the kernel through sl-0, for the VIP by "
           f"sluice-dp (arp_replies +1), for {NOBODY4} by nobody")

    # (a) ping through the TAP.
    t0 = totals(d)
    r = subprocess.run(nsenter("peer") + ["ping", "-c", "5", "-i", "0.2", "-W", "2", HOST4],
                       capture_output=True, text=True, timeout=30)
    t1 = totals(d)
    st.check(r.returncode == 0 and " 5 received" in r.stdout and "DUP!" not in r.stdout,
             f"ping {HOST4}: {r.stdout[-600:]} {r.stderr}")
    st.check(delta(t1, t0, "to_kernel") >= 5 and delta(t1, t0, "from_kernel") >= 5,
             f"the pings did not cross the TAP: {t0} -> {t1}")
    say(f"(a) 5 of 5 pings answered through sl-0 (to_kernel +{delta(t1, t0, 'to_kernel')}, "
           f"from_kernel +{delta(t1, t0, 'from_kernel')})")

    # (b) a TCP connection to the host's port 179.
    srv = st.spawn(nsenter("lb") + [sys.executable, __file__, "peer", "listen", HOST4, "179"],
                   stdout=subprocess.PIPE, text=True)
    st.check(srv.stdout.readline().strip() == "ready", "the listener did not start")
    reply = peer("tcp", HOST4, "179")["reply"]
    st.check(reply == "KEEPALIVE after OPEN\n", f"TCP {HOST4}:179 answered {reply!r}")
    srv.wait(timeout=10)
    say(f"(b) TCP to {HOST4}:179 connected and carried data both ways")

    # (d) VIP traffic: forwarded, never the kernel's.
    rx0, t0 = sl0_rx(), totals(d)
    seen = peer("syn", "200")["ipip"]
    rx1, t1 = sl0_rx(), totals(d)
    st.check(seen == 200, f"{seen} of 200 SYNs to the VIP came back encapsulated to the backend")
    st.check(delta(t1, t0, "to_kernel") == 0 and rx1 == rx0,
             f"VIP traffic reached the kernel: to_kernel +{delta(t1, t0, 'to_kernel')}, "
             f"sl-0 received {rx1 - rx0}")
    say(f"(d) 200 SYNs to {VIP4}:80 forwarded to the backend; to_kernel +0, sl-0 rx +0")

    # (e) a flood over the rate limit.
    t0 = totals(d)
    took = peer("flood", str(FLOOD))["seconds"]
    time.sleep(0.5)  # what af_packet's ring still holds
    t1 = totals(d)
    passed, limited = delta(t1, t0, "to_kernel"), delta(t1, t0, "to_kernel_ratelimit")
    got = passed + limited + delta(t1, t0, "to_kernel_full")
    # The bucket's burst, the rate over the flood and while sluice-dp
    # catches up with af_packet's ring, and a little for the peer's ARP.
    allowed = RATE // 10 + RATE * (took + 0.3) + 20
    # allowed grows with the flood's duration: a flood slower than the rate
    # would prove nothing, so the limiter must have dropped some.
    st.check(allowed < got, f"the flood of {FLOOD} took {took:.2f} s: too slow to exceed "
             f"the rate, the limit is not tested")
    st.check(got >= FLOOD // 2 and passed <= allowed and limited >= got - allowed,
             f"flood of {FLOOD} in {took:.2f} s: {got} reached sluice-dp, {passed} to the kernel "
             f"(at most {allowed:.0f} allowed), {limited} dropped as to_kernel_ratelimit")
    st.check(dp.poll() is None, "sluice-dp exited")
    say(f"(e) {FLOOD} datagrams in {took:.2f} s, {got} reached sluice-dp: {passed} to the "
           f"kernel, {limited} dropped "
           f"as to_kernel_ratelimit (rate {RATE}/s, burst {RATE // 10})")
    # (f) IPv6, last: turned on, it talks unasked (MLD). Neighbour
    # solicitations for the host's address are the kernel's, for the VIP
    # sluice-dp's; pings to the host cross the TAP.
    sh("sysctl", "-qw", "net.ipv6.conf.peer0.disable_ipv6=0", ns="peer")
    sh("sysctl", "-qw", "net.ipv6.conf.sl-0.disable_ipv6=0", ns="lb")
    sh("ip", "-n", NS["peer"], "addr", "add", f"{PEER6}/64", "dev", "peer0", "nodad")
    sh("ip", "-n", NS["lb"], "addr", "add", f"{HOST6}/64", "dev", "sl-0", "nodad")
    t0 = totals(d)
    r = subprocess.run(nsenter("peer") + ["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", HOST6],
                       capture_output=True, text=True, timeout=30)
    t1 = totals(d)
    st.check(r.returncode == 0 and " 3 received" in r.stdout and "DUP!" not in r.stdout,
             f"ping {HOST6}: {r.stdout[-600:]} {r.stderr}")
    st.check(delta(t1, t0, "nd_replies") == 0 and delta(t1, t0, "to_kernel") >= 4,
             f"ND and pings for {HOST6} not through the kernel: {t0} -> {t1}")
    subprocess.run(nsenter("peer") + ["ping", "-6", "-c", "1", "-W", "1", VIP6],
                   capture_output=True, timeout=30)
    t2 = totals(d)
    neigh = sh("ip", "-n", NS["peer"], "-6", "neigh", "show", VIP6)
    st.check(LB_MAC in neigh and delta(t2, t1, "nd_replies") >= 1,
             f"ND for {VIP6} not answered by sluice-dp: {neigh!r}, {t1} -> {t2}")
    say(f"(f) ND for {HOST6} answered by the kernel, 3 of 3 pings through sl-0; "
           f"ND for {VIP6} by sluice-dp (nd_replies +{delta(t2, t1, 'nd_replies')})")

    # A second sluice-dp in the namespace must not join sl-0 (a multi-queue
    # TAP takes any process that opens it by name): refused at start.
    r = subprocess.run(nsenter("lb") + [
        SLUICE_DP, "--no-pci", f"--file-prefix={d.instance}-2", "-l", "0,1", "--no-huge",
        "-m", "256", "--log-level=*:warning", "--log-level=sluice.dp:info",
        "--vdev=net_af_packet0,iface=lb0", "--", "--no-shm", "--flows", "4096",
        "--exception", "on"], capture_output=True, text=True, timeout=60)
    st.check(r.returncode == 1 and "interface sl-0 exists already" in r.stderr + r.stdout,
             f"a second sluice-dp with sl-0 taken: exit {r.returncode}: {r.stderr[-600:]}")
    st.check(peer("arp", HOST4)["macs"] == [LB_MAC], "the first sluice-dp's TAP broke")
    say("a second sluice-dp is refused: interface sl-0 exists already")
    dp.terminate()
    st.check(dp.wait(timeout=10) == 0, "sluice-dp did not stop cleanly")
    st.check(subprocess.run(["ip", "-n", NS["lb"], "link", "show", "sl-0"],
                            capture_output=True).returncode != 0, "sl-0 outlived sluice-dp")
    st.say(f"sl-0 went with sluice-dp; {time.monotonic() - t_start:.1f} s in all")


st.run(main)
