"""The scale-out laboratory: lab.py's topology with several load-balancer
hosts instead of one (topology.sh, topo_create_ecmp), each running sluiced
with the XDP path on its link to the router and BIRD with
docs/examples/bird-lb.conf; the router runs BIRD with
docs/examples/bird-router.conf and spreads the VIP over the hosts that
announce it (ECMP, L4 hash). Both BIRD files are used as shipped.

Hosts use the XDP path, except dpdk_host (when given and sluice-dp is
built): sluice-dp on net_af_packet, with its exception path (a TAP, sl-0)
carrying the host's own address, so its BGP and BFD cross sluice-dp as on
a NIC that DPDK owns. Only one: the machine this runs on has 2 cores and
sluice-dp busy-polls one; the XDP path runs in the kernel's receive path
and costs nothing while idle.

Everything it starts is killed by PID at exit (BIRD included), then the
namespaces go (lab.Lab.destroy), and each host's pinned maps.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import lab
from lab import st

EXAMPLES = os.path.join(lab.HERE, "..", "..", "docs", "examples")
BIRD_LB_CONF = os.path.join(EXAMPLES, "bird-lb.conf")
BIRD_ROUTER_CONF = os.path.join(EXAMPLES, "bird-router.conf")
BIRD = shutil.which("bird") or "/usr/sbin/bird"
BIRDC = shutil.which("birdc") or "/usr/sbin/birdc"
CLIENT = "10.100.0.2"  # the client namespace's address (topology.sh)
# sluiced's routing.table: the kernel table bird-lb.conf learns.
ROUTE_TABLE = 100


def lb_ip(k):
    return f"10.100.1.{1 + k}"


def lb_ip6(k):
    return f"fd00:100:1::{1 + k}"


class Host:
    """LB host k: namespace lbK, sluiced and BIRD; path "xdp" (sluiced's
    mode xdp on eth0) or "dpdk" (sluice-dp on eth0, the host's addresses
    on its TAP)."""

    def __init__(self, L, k, path):
        self.L, self.k, self.path = L, k, path
        self.name = f"lb{k}"
        self.addr = lb_ip(k)
        self.sluiced = None
        self.bird = None
        self.dp = None
        self.alive = False

    def config(self):
        cfg = self.L.config()
        cfg["source"] = {"ipv4": lb_ip(self.k), "ipv6": lb_ip6(self.k)}
        cfg["lb_mac"] = self.L.mac(self.name, "eth0")
        if self.path == "dpdk":
            cfg["dataplane"] = {"mode": "dpdk", "heartbeat_timeout_ms": self.L.heartbeat_ms}
        # sluiced keeps a host route per VIP address in this table while
        # its data path forwards and the VIP has a backend up; drained, the
        # route goes and the data path forwards on for the grace time.
        cfg["routing"] = {"table": ROUTE_TABLE, "min_up": 1, "drain_grace_s": 5}
        return cfg

    def announced(self):
        """Whether sluiced says it announces the VIP (sluicectl status)."""
        for a in self.ctl_ok("status")["routing"]["addresses"]:
            if a["address"] == lab.VIP4:
                return a["announced"]
        return False

    def drain(self):
        """sluicectl host drain: the routes go, the data path forwards on."""
        self.ctl_ok("host", "drain")

    def start(self):
        self.sluiced = st.Sluiced(f"{self.L.topo}{self.name}", wrap=self.L.nsenter(self.name))
        self.sluiced.write_config(self.config())
        self.sluiced.start()
        if self.path == "dpdk":
            self.start_dp()
        self.bird = self.L.start_bird(self.name, BIRD_LB_CONF)
        self.alive = True

    def shut_kernel_out(self):
        """On a NIC that DPDK owns the kernel sees nothing; af_packet on a
        veth leaves the kernel its copy of every frame: no address on eth0,
        no ARP answers, no IPv4 or IPv6 taken in there (the host's
        addresses go on the TAP, and strict reverse-path filtering drops
        what arrives on eth0 for them)."""
        ns = self.name
        self.L.run_in(ns, ["ip", "addr", "flush", "dev", "eth0"])
        self.L.run_in(ns, ["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1",
                           "net.ipv4.conf.eth0.rp_filter=1", "net.ipv4.conf.eth0.arp_ignore=8",
                           "net.ipv6.conf.eth0.disable_ipv6=1"])
        # The router's frames to af_packet must carry whole checksums (a
        # veth leaves them to offload metadata that af_packet drops).
        self.L.run_in("router", ["ethtool", "-K", f"tolb{self.k}", "tx", "off"])

    def start_dp(self):
        inst = self.sluiced.instance
        self.dp_log = os.path.join(self.sluiced.dir, "sluice-dp.log")
        with open(self.dp_log, "a") as log:
            self.dp = st.spawn(self.L.nsenter(self.name) + [
                lab.SLUICE_DP, "--no-pci", f"--file-prefix={inst}", "-l", "0,1", "--no-huge",
                "-m", "256", "--log-level=*:warning", "--vdev=net_af_packet0,iface=eth0", "--",
                "--instance", inst, "--flows", "16384", "--exception", "on"],
                stdout=log, stderr=log)
        tap = ["ip", "-n", self.L.ns(self.name), "link", "show", "sl-0"]
        st.wait_until(lambda: self.dp.poll() is not None or
                      subprocess.run(tap, capture_output=True).returncode == 0, 15,
                      f"sluice-dp on {self.name} to create sl-0")
        st.check(self.dp.poll() is None, f"sluice-dp on {self.name} exited at start")
        # What networkd would do when sl-0 appears (docs/deploy.md).
        for argv in (["ip", "addr", "add", f"{self.addr}/24", "dev", "sl-0"],
                     ["ip", "addr", "add", f"{lb_ip6(self.k)}/64", "dev", "sl-0", "nodad"],
                     ["ip", "link", "set", "sl-0", "up"],
                     ["ip", "route", "add", "default", "via", "10.100.1.1"],
                     ["ip", "-6", "route", "add", "default", "via", "fd00:100:1::1"]):
            self.L.run_in(self.name, argv)

    def ctl_ok(self, *args):
        return self.sluiced.ctl_ok(*args)

    def forwarding(self):
        d = self.ctl_ok("status")["dataplane"]
        if self.path == "dpdk":
            return d.get("alive") and d.get("live", 0) > 0
        return d.get("xdp") in ("native", "generic")

    def digest(self, vip):
        return self.ctl_ok("table", vip)["digest"]

    def forwarded(self):
        """Packets the data path has forwarded: the XDP path's read from
        its maps now; sluice-dp's to the VIPs' backends as sluiced sampled
        them (every second; its port also sends what the kernel sends)."""
        if self.path == "dpdk":
            return sum(v["packets"] for v in self.ctl_ok("stats")["vips"])
        r = subprocess.run([lab.SLUICE_XDP, "-i", self.sluiced.instance, "status", "--json"],
                           capture_output=True, text=True, timeout=10)
        st.check(r.returncode == 0, f"sluice-xdp status on {self.name}: {r.stderr.strip()}")
        return json.loads(r.stdout)["counters"]["tx_packets"]

    def explain(self, vip, client):
        return self.ctl_ok("explain", vip, "tcp", client)

    def kill(self):
        """The host dies: its link goes down first, so that nothing it
        would say as it dies (a TCP FIN closing BGP) reaches the router,
        then every process in its namespace is SIGKILLed. When it died."""
        t = time.monotonic()
        self.L.run_in(self.name, ["ip", "link", "set", "dev", "eth0", "down"])
        pids = subprocess.run(["ip", "netns", "pids", self.L.ns(self.name)],
                              capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in (self.bird, self.sluiced.proc, self.dp):
            if p is not None:
                p.wait(timeout=10)
        self.alive = False
        return t


class RouteWatch:
    """`ip monitor route` in the router's namespace, each change to the
    VIP's route stamped as it arrives; the moment a next hop left it."""

    def __init__(self, L, vip):
        self.L, self.vip = L, vip
        self.events = []  # (monotonic time, next hops after the change)
        self.cond = threading.Condition()
        self.proc = st.spawn(L.nsenter("router") + ["ip", "-o", "monitor", "route"],
                             stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            t = time.monotonic()
            words = line.split()
            if self.vip not in words[:2]:  # "VIP proto bird ..." or "Deleted VIP ..."
                continue
            hops = self.L.nexthops()
            with self.cond:
                self.events.append((t, hops))
                self.cond.notify_all()

    def gone(self, hop, since, timeout=5):
        """Seconds from since to the first change after it that left the
        route without hop."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, hops in self.events:
                    if t >= since and hop not in hops:
                        return t - since
                left = deadline - time.monotonic()
                st.check(left > 0, f"{hop} still a next hop of {self.vip} "
                         f"{timeout} s later: {self.L.nexthops()}")
                self.cond.wait(left)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class ScaleLab(lab.Lab):
    """nlb LB hosts, all on the XDP path, behind a BIRD router."""

    def __init__(self, name, nlb=3, backends=4, dpdk_host=None):
        super().__init__(name, "xdp", backends=backends)
        self.nlb = nlb
        self.dpdk_host = dpdk_host if lab.SLUICE_DP else None
        self.hosts = []
        self.birds = []
        self.lb_mac = None  # each host has its own: Host.config
        self.dir = tempfile.mkdtemp(prefix=f"sluice-e2e-{name}-")
        st._dirs.append(self.dir)  # removed at exit; its logs shown on failure

    def lb_sources(self):
        return ",".join([lb_ip(k) for k in range(1, self.nlb + 1)] +
                        [lb_ip6(k) for k in range(1, self.nlb + 1)])

    def start_bird(self, ns, conf):
        """BIRD in the foreground (its PID is ours to kill), control socket
        and log in this lab's directory."""
        st.check(os.access(BIRD, os.X_OK), f"no {BIRD}: scripts/setup.sh installs bird2")
        sock = os.path.join(self.dir, f"bird-{ns}.ctl")
        log = open(os.path.join(self.dir, f"bird-{ns}.log"), "a")
        p = st.spawn(self.nsenter(ns) + [BIRD, "-f", "-c", conf, "-s", sock,
                                         "-P", os.path.join(self.dir, f"bird-{ns}.pid")],
                     stdout=log, stderr=log)
        log.close()
        self.birds.append(p)
        st.wait_until(lambda: p.poll() is not None or os.path.exists(sock), 10,
                      f"BIRD in {ns} to listen")
        st.check(p.poll() is None, f"BIRD in {ns} exited with status {p.returncode}")
        return p

    def birdc(self, ns, *args):
        return subprocess.run([BIRDC, "-s", os.path.join(self.dir, f"bird-{ns}.ctl")] +
                              list(args), capture_output=True, text=True, timeout=10).stdout

    def create(self):
        self.sh(f"topo_create_ecmp {self.nbackends} {self.nlb}")
        self.hosts = [Host(self, k, "dpdk" if k == self.dpdk_host else "xdp")
                      for k in range(1, self.nlb + 1)]
        for h in self.hosts:
            if h.path == "xdp":
                self.receive_xdp_tx(f"tolb{h.k}")
            else:
                h.shut_kernel_out()
        self.start_backends()
        self.router_mac = self.mac("router", "br0")
        self.start_bird("router", BIRD_ROUTER_CONF)
        for h in self.hosts:
            h.start()
        self.wait_ready()
        return self

    def live(self):
        return [h for h in self.hosts if h.alive]

    def nexthops(self):
        """The router's next hops for the VIP, as its kernel has them."""
        r = self.run_in("router", ["ip", "-j", "route", "show", f"{lab.VIP4}/32"], check=False)
        hops = set()
        for route in json.loads(r.stdout or "[]"):
            if "gateway" in route:
                hops.add(route["gateway"])
            for nh in route.get("nexthops", []):
                hops.add(nh["gateway"])
        return hops

    def owners(self, ports, greeted, what):
        """For each stream (client port, the backend name that greeted it):
        the live hosts whose flow table holds it. Checks that every live
        host sends it to the backend that greeted it."""
        by_port = {}
        for port, name in zip(ports, greeted):
            want = lab.backend_ip(int(name[1:]))
            holders = []
            for h in self.live():
                e = h.explain(self.echo_vip, f"{CLIENT}:{port}")
                got = e["backend"]["address"] if e.get("backend") else None
                st.check(got == want, f"{what}: {h.name} sends stream :{port} to {got}, "
                         f"it was greeted by {name} ({want}): {e}")
                if e["by"] == "flow table":
                    holders.append(h.name)
            by_port[port] = holders
        return by_port

    def per_host(self, by_port):
        return {h.name: sum(h.name in hs for hs in by_port.values()) for h in self.live()}

    def digests(self):
        """VIP -> {host: its table's digest} for the live hosts; whether
        they agree on every VIP."""
        d = {vip: {h.name: h.digest(vip) for h in self.live()}
             for vip in (self.vip, self.echo_vip)}
        return d, all(len(set(x.values())) == 1 for x in d.values())

    def wait_ready(self, timeout=30):
        for h in self.hosts:
            st.wait_until(h.forwarding, timeout, f"the {h.path} path of {h.name} to forward")
            st.wait_until(lambda: all(b["up"] for b in h.ctl_ok("health", self.vip)["backends"]),
                          timeout, f"every backend to be up on {h.name}")
        want = {h.addr for h in self.hosts}
        st.wait_until(lambda: self.nexthops() == want, timeout,
                      f"the router to reach the VIP through {sorted(want)} "
                      f"(BGP: {self.birdc('router', 'show', 'protocols')})")

    def destroy(self):
        for p in self.birds + [h.dp for h in self.hosts if h.dp]:
            if p.poll() is None:
                p.kill()
                p.wait()
        for h in self.hosts:
            if h.sluiced is not None:
                if h.sluiced.proc is not None and h.sluiced.proc.poll() is None:
                    h.sluiced.proc.kill()
                    h.sluiced.proc.wait()
                subprocess.run([lab.SLUICE_XDP, "-i", h.sluiced.instance, "unpin"],
                               capture_output=True, timeout=30)
                if h.dp is not None:  # killed, sluice-dp leaves its EAL runtime directory
                    shutil.rmtree(f"/var/run/dpdk/{h.sluiced.instance}", ignore_errors=True)
        super().destroy()
