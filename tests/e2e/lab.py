"""The end-to-end laboratory: the namespace topology of topology.sh with real
backends (backend_server.py, decapsulating with sluice-decap), a real
sluiced and either a real sluice-dp on the load balancer's veth
(net_af_packet) or sluiced's XDP path on it, and the client (client.py) in
its own namespace. Used by the e2e tests and by the demo.

Everything a Lab makes carries its own prefix (namespaces, instance, files)
and is removed at exit, also on failure or a signal: processes by PID first,
then the namespaces (and with them the veths and XDP programs), the
instance's shared memory and its pinned BPF maps.

Paths come from the environment (meson sets them; scripts/demo.sh too):
SLUICED, SLUICECTL, SHM_DUMP, SLUICE_DP, SLUICE_DECAP, SLUICE_XDP,
XDP_PASS_OBJ.
"""
import atexit
import json
import os
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import sluicetest as st  # noqa: E402  (check, say, wait_until, spawn, Sluiced)

TOPOLOGY = os.path.join(HERE, "topology.sh")
CLIENT_PY = os.path.join(HERE, "client.py")
BACKEND_PY = os.path.join(HERE, "backend_server.py")
SLUICE_DP = os.environ.get("SLUICE_DP", "")
SLUICE_DECAP = os.environ["SLUICE_DECAP"]
SLUICE_XDP = os.environ["SLUICE_XDP"]
XDP_PASS_OBJ = os.environ["XDP_PASS_OBJ"]

VIP4 = "10.100.200.1"
VIP6 = "fd00:100:200::1"
LB4, LB6 = "10.100.1.2", "fd00:100:1::2"
HTTP_PORT, ECHO_PORT = 80, 9000
PATHS = ("dpdk", "xdp", "fallback")


def backend_ip(i):
    return f"10.100.1.{10 + i}"


def backend_ip6(i):
    return f"fd00:100:1::{10 + i}"


def hugepages_free():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


class Lab:
    """path: "dpdk" (sluice-dp), "xdp" (the XDP path, sluiced's mode xdp)
    or "fallback" (sluice-dp, with the XDP path taking over when it stops).
    backends: how many backend namespaces (all start serving); in_vip: how
    many of them the VIP starts with (default all). capture: run sluice-dp
    so that DPDK secondary processes (dpdk-dumpcap) can attach: hugepage
    files kept, which needs free hugepages. workers: sluice-dp's worker
    lcores, each with a queue pair of the af_packet port (qpairs=N: the
    kernel's fanout spreads flows over them by its own flow hash)."""

    def __init__(self, name, path, backends=4, in_vip=None, health=None, heartbeat_ms=300,
                 config_file=None, capture=False, workers=1):
        st.check(path in PATHS, f"unknown data path {path}")
        self.path = path
        self.topo = f"{name}{os.getpid()}"
        self.nbackends = backends
        self.in_vip = backends if in_vip is None else in_vip
        self.health = health or {"type": "http", "interval_ms": 200, "timeout_ms": 150,
                                 "rise": 2, "fall": 2}
        self.heartbeat_ms = heartbeat_ms
        self.config_file = config_file  # a shipped file instead of config()
        self.capture = capture
        self.workers = workers
        st.check(workers == 1 or path != "xdp", "the XDP path has no workers")
        self.servers = {}
        self.dp = None
        self.sluiced = None
        self.vip = f"{VIP4}:{HTTP_PORT}"
        self.echo_vip = f"{VIP4}:{ECHO_PORT}"
        atexit.register(self.destroy)

    # ---- namespaces ----

    def ns(self, name):
        return f"{self.topo}-{name}"

    def nsenter(self, name):
        """Enter only the network namespace: `ip netns exec` would remount
        /sys and hide the bpffs that the XDP path pins to."""
        return ["nsenter", f"--net=/run/netns/{self.ns(name)}"]

    def sh(self, script):
        r = subprocess.run(["bash", "-c", f"source {TOPOLOGY}; {script}"], capture_output=True,
                           text=True, env=dict(os.environ, TOPO=self.topo), timeout=120)
        st.check(r.returncode == 0, f"topology: {script}: {r.stderr.strip()}")
        return r.stdout.strip()

    def run_in(self, name, argv, check=True):
        r = subprocess.run(self.nsenter(name) + argv, capture_output=True, text=True, timeout=60)
        if check:
            st.check(r.returncode == 0, f"{' '.join(argv)} in {name}: {r.stderr.strip()}")
        return r

    def mac(self, name, iface):
        return self.sh(f"topo_mac {name} {iface}")

    # ---- building it ----

    def create(self):
        self.sh(f"topo_create {self.nbackends}")
        self.receive_xdp_tx("tolb")
        self.start_backends()
        self.router_mac = self.mac("router", "br0")
        self.lb_mac = self.mac("lb", "eth0")
        self.start_sluiced()
        if self.path in ("dpdk", "fallback"):
            self.start_dp()
        self.wait_ready()
        return self

    def receive_xdp_tx(self, peer):
        """A veth receives what its peer sends with XDP_TX only when it runs
        an XDP program itself (docs/xdp.md, "testing on veth")."""
        self.run_in("router", ["ip", "link", "set", "dev", peer, "xdpdrv", "obj", XDP_PASS_OBJ,
                               "sec", "xdp"])

    def start_backends(self):
        # A veth sender with TX checksum offload leaves TCP checksums to be
        # finished by metadata that encapsulation does not carry; a host
        # behind a real NIC sends complete ones.
        self.run_in("client", ["ethtool", "-K", "eth0", "tx", "off"])
        if self.workers > 1:
            # af_packet's fanout picks a worker by the skb's flow hash; a
            # packet from a local TCP socket carries the socket's random
            # hash across the veths and the router, and the kernel draws a
            # new one on a retransmission timeout (net.core.txrehash):
            # the flow would move to the other worker mid-connection, which
            # RSS on a NIC never does. Keep the client's hash per connection.
            self.run_in("client", ["sysctl", "-qw", "net.core.txrehash=0"])
        # Backends decapsulate only what comes from the load balancer's
        # source addresses, so every test exercises the allowlist.
        sources = self.lb_sources()
        for i in range(1, self.nbackends + 1):
            self.run_in(f"b{i}", [SLUICE_DECAP, "attach", "eth0", "--from", sources,
                                  "--gue-port", "6080"])
            self.start_backend(i)

    def source(self):
        return {"ipv4": LB4, "ipv6": LB6}

    def lb_sources(self):
        """The outer source addresses sluiced is configured with ("source"),
        as sluice-decap's --from takes them."""
        if self.config_file:
            with open(self.config_file) as f:
                src = json.load(f)["source"]
        else:
            src = self.source()
        return ",".join(src[k] for k in ("ipv4", "ipv6") if src.get(k))

    def config(self):
        mode = {"dpdk": "dpdk", "xdp": "xdp", "fallback": "dpdk+xdp-fallback"}[self.path]
        backends = [{"address": backend_ip(i)} for i in range(1, self.in_vip + 1)]
        dataplane = {"mode": mode, "heartbeat_timeout_ms": self.heartbeat_ms}
        if mode != "dpdk":
            dataplane["interface"] = "eth0"
        return {
            "dataplane": dataplane,
            "source": self.source(),
            "nexthop_mac": self.router_mac,
            "lb_mac": self.lb_mac,
            "vips": [
                {"address": VIP4, "port": HTTP_PORT, "forwarding": "ipip", "health": self.health,
                 "backends": backends},
                # The echo service of the same backends, for long-lived
                # streams; its checks test the HTTP port (the service that
                # matters for "is this backend up").
                {"address": VIP4, "port": ECHO_PORT, "forwarding": "ipip",
                 "health": dict(self.health, port=HTTP_PORT), "backends": backends},
            ],
        }

    def start_backend(self, i):
        p = st.spawn(self.nsenter(f"b{i}") + [sys.executable, BACKEND_PY, "--name",
                                                          f"b{i}", "--ipv6"],
                     stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        st.check("serving" in line, f"backend b{i} did not start")
        self.servers[i] = p

    def kill_backend(self, i, sig=signal.SIGKILL):
        p = self.servers.pop(i)
        p.send_signal(sig)
        p.wait()

    def start_sluiced(self):
        self.sluiced = st.Sluiced(self.topo, wrap=self.nsenter("lb"))
        if self.config_file:
            self.sluiced.use_config(self.config_file)
        else:
            self.sluiced.write_config(self.config())
        self.sluiced.start()

    def dp_argv(self):
        prefix = f"--file-prefix={self.sluiced.instance}"
        if self.capture:
            # A secondary process maps the primary's hugepage files.
            st.check(hugepages_free() >= 192, "capturing needs 192 free hugepages "
                     f"(scripts/setup.sh reserves them); {hugepages_free()} are free")
            mem = ["-m", "256"]
        elif hugepages_free() >= 128:
            mem = ["-m", "256", "--huge-unlink"]
        else:
            mem = ["--no-huge", "-m", "512"]
        if self.workers == 1:
            lcores, vdev = ["-l", "0,1"], "net_af_packet0,iface=eth0"
        else:
            # Worker i on CPU i mod 2 (this host may have two), the main
            # lcore (asleep but once a second) beside worker 1.
            lcores = ["--lcores", ",".join(["0@0"] + [f"{i}@{(i - 1) % 2}"
                                                     for i in range(1, self.workers + 1)])]
            # A deep ring per queue: fanout rolls a packet over to another
            # queue (worker) when its own ring is full.
            vdev = f"net_af_packet0,iface=eth0,qpairs={self.workers},framecnt=4096"
        # Two workers busy-polling both CPUs of a small host would take them
        # from the clients and backends: idle workers sleep.
        idle = ["--idle-sleep-us", "100"] if self.workers > 1 else []
        return ([SLUICE_DP, "--no-pci", prefix] + lcores + ["--log-level=*:warning",
                 f"--vdev={vdev}"] + mem +
                ["--", "--instance", self.sluiced.instance, "--flows", "131072",
                 "--own-addr", LB4, "--own-addr", LB6] + idle)

    def start_dp(self):
        st.check(SLUICE_DP, "SLUICE_DP is not set (built without DPDK?)")
        self.dp_log = os.path.join(self.sluiced.dir, "sluice-dp.log")
        with open(self.dp_log, "a") as log:
            self.dp = st.spawn(self.nsenter("lb") + self.dp_argv(), stdout=log, stderr=log)

    def kill_dp(self):
        self.dp.kill()
        self.dp.wait()

    def status(self):
        return self.sluiced.ctl_ok("status")

    def forwarding(self):
        """Which data path forwards now: "dpdk", "xdp" or None."""
        d = self.status()["dataplane"]
        if d.get("xdp") in ("native", "generic"):
            return "xdp"
        if d.get("alive") and d.get("live", 0) > 0:
            return "dpdk"
        return None

    def wait_ready(self, timeout=20):
        want = "xdp" if self.path == "xdp" else "dpdk"
        st.wait_until(lambda: self.forwarding() == want, timeout, f"the {want} path to forward")
        st.wait_until(lambda: all(b["up"] for b in self.health_of(self.vip)), timeout,
                      "every backend to be up")

    def health_of(self, vip):
        return [b for b in self.sluiced.ctl_ok("health", vip)["backends"]]

    def backend_up(self, vip, address):
        for b in self.health_of(vip):
            if b["address"] == address:
                return b["up"]
        raise AssertionError(f"no backend {address} in VIP {vip}")

    def ctl(self, *args):
        return self.sluiced.ctl(*args)

    def ctl_ok(self, *args):
        return self.sluiced.ctl_ok(*args)

    # ---- the client ----

    def client(self, *args, timeout=120):
        """Run client.py in the client namespace; its JSON result."""
        r = subprocess.run(self.nsenter("client") + [sys.executable, CLIENT_PY] +
                           list(args),
                           capture_output=True, text=True, timeout=timeout)
        st.check(r.returncode == 0, f"client {' '.join(args)}: {r.stderr.strip()[-800:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    def client_bg(self, *args):
        """client.py in the background; stop it with finish()."""
        return Background(st.spawn(self.nsenter("client") +
                                   [sys.executable, CLIENT_PY] + list(args),
                                   stdout=subprocess.PIPE, text=True))

    def requests(self, n, parallel=8, vip=VIP4, **kw):
        extra = [f"--{k}={v}" for k, v in kw.items()]
        return self.client("requests", vip, str(HTTP_PORT), "--n", str(n), "--parallel",
                           str(parallel), *extra)["requests"]

    # ---- taking it down ----

    def destroy(self):
        for p in list(self.servers.values()) + [self.dp, self.sluiced and self.sluiced.proc]:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        self.servers = {}
        # Detached, the backends' pinned maps go too; deleting a namespace
        # would only take the programs.
        for i in range(1, self.nbackends + 1):
            try:
                subprocess.run(self.nsenter(f"b{i}") + [SLUICE_DECAP, "detach", "eth0"],
                               capture_output=True, timeout=30)
            except (OSError, subprocess.SubprocessError):
                pass
        subprocess.run(["bash", "-c", f"source {TOPOLOGY}; topo_destroy"],
                       env=dict(os.environ, TOPO=self.topo), capture_output=True, timeout=120)
        if self.sluiced is not None:
            subprocess.run([SLUICE_XDP, "-i", self.sluiced.instance, "unpin"],
                           capture_output=True, timeout=30)
            # A sluice-dp that kept its hugepage files for capture leaves
            # them when it is killed: they hold pages until removed.
            prefix = self.sluiced.instance + "map_"
            try:
                names = os.listdir("/dev/hugepages")
            except OSError:
                names = []
            for n in names:
                if n.startswith(prefix):
                    try:
                        os.unlink(os.path.join("/dev/hugepages", n))
                    except OSError:
                        pass

    def logs(self):
        out = []
        if self.sluiced is not None:
            out.append(self.sluiced.log()[-4000:])
        if self.dp is not None and os.path.exists(self.dp_log):
            with open(self.dp_log) as f:
                out.append("--- sluice-dp ---\n" + f.read()[-3000:])
        return "\n".join(out)


class Background:
    """A client.py running in the background."""

    def __init__(self, proc):
        self.proc = proc

    def wait_line(self, timeout=15):
        """The first line it prints (streams print {"ready": N}), within
        timeout seconds."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        st.check(ready, f"the client printed nothing in {timeout} s")
        line = self.proc.stdout.readline()
        st.check(line, "the client exited without a line")
        return json.loads(line)

    def finish(self, timeout=30, stop=True):
        """Its JSON result; stop: SIGTERM it first (else wait for its
        --duration to end)."""
        if stop and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=timeout)
        st.check(self.proc.returncode == 0, f"client exited {self.proc.returncode}")
        return json.loads(out.strip().splitlines()[-1])


def counts(results):
    """backend name -> successful requests; plus the failed ones as None."""
    c = {}
    for r in results:
        c[r["backend"]] = c.get(r["backend"], 0) + 1
    return c


def failures(results):
    return [r for r in results if r["error"]]


def parse_args(argv=None):
    """--path (dpdk, xdp, fallback) and --workers (sluice-dp's)."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", choices=PATHS, default="dpdk")
    ap.add_argument("--workers", type=int, default=1, choices=(1, 2, 3, 4))
    return ap.parse_args(argv)


def parse_path(argv=None):
    return parse_args(argv).path


def cpu_seconds(pid):
    """CPU time (user + system, all threads) of process pid so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lcore_counters(lab):
    """sluice-dp's workers' counters from sluicectl stats: lcore id ->
    counters."""
    return {l["lcore_id"]: l["counters"] for l in lab.ctl_ok("stats")["lcores"]}


def check_workers_share(lab, before, what, least=0.2):
    """Each of the lab's workers forwarded some of what went through since
    before (lcore_counters), at least `least` of an even share of the new
    flows: the port spread them."""
    after = lcore_counters(lab)
    st.check(len(after) == lab.workers, f"{what}: {len(after)} lcores in sluicectl stats, "
             f"want {lab.workers}")
    new = {i: after[i]["flow_inserts"] - before.get(i, {}).get("flow_inserts", 0)
           for i in after}
    fwd = {i: after[i]["tx_packets"] - before.get(i, {}).get("tx_packets", 0) for i in after}
    total = sum(new.values())
    st.say(f"{what}: per worker lcore new flows {new}, forwarded packets {fwd}")
    for i in after:
        st.check(new[i] >= least * total / lab.workers and fwd[i] > 0,
                 f"{what}: worker lcore {i} got {new[i]} of {total} new flows, forwarded "
                 f"{fwd[i]}: the queues do not spread")
    return after


run = st.run  # a test's main(); on failure the logs of sluiced and sluice-dp
