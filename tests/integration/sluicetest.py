"""Shared helpers of sluice's integration tests: a sluiced under test with
its own instance name, socket, state file and log; sluicectl and shm_dump
runs; loopback backends; waiting with deadlines. Every process started here
is killed by its pid at exit, and the instance's shared memory removed.
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SLUICED = os.environ["SLUICED"]
SLUICECTL = os.environ["SLUICECTL"]
SHM_DUMP = os.environ["SHM_DUMP"]
SHM_POKE = os.environ.get("SHM_POKE", "")
SOURCE_ROOT = os.environ.get("SLUICE_SOURCE_ROOT", ".")
BACKEND_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "backend.py")

_procs = []
_instances = []
_dirs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    for inst in _instances:
        for kind in ("config", "status"):
            try:
                os.unlink(f"/dev/shm/sluice-{inst}-{kind}")
            except FileNotFoundError:
                pass
        # The XDP path's pinned maps, when the test had it load them.
        shutil.rmtree(f"/sys/fs/bpf/sluice/{inst}", ignore_errors=True)
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda s, f: sys.exit(1))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def say(msg):
    print(f"# {msg}", flush=True)


def wait_until(fn, timeout, what, interval=0.02):
    """Poll fn() until it returns something true; return (value, seconds)."""
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def control_request(path, req, timeout=60):
    """One request over the control socket at path, straight (no sluicectl
    process in between): the decoded reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


class Backend:
    """backend.py on some loopback addresses."""

    def __init__(self, addrs, port, mode="http"):
        self.addrs, self.port, self.mode = addrs, port, mode
        self.proc = None
        self.start()

    def start(self):
        argv = [sys.executable, BACKEND_PY, "--port", str(self.port), "--mode", self.mode]
        path = None
        if len(self.addrs) > 20:
            fd, path = tempfile.mkstemp(prefix="sluice-addrs-")
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(self.addrs))
            argv += ["--addrs-from", path]
        else:
            for a in self.addrs:
                argv += ["--addr", a]
        self.proc = spawn(argv, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if path:
            os.unlink(path)  # read at start-up; not needed any more
        check(line.strip() == b"ready", f"backend on {self.addrs[:3]} did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def signal(self, sig):
        os.kill(self.proc.pid, sig)


class Sluiced:
    """wrap: argv prefix to start sluiced with (e.g. nsenter into a network
    namespace, for the end-to-end tests)."""

    def __init__(self, name, wrap=()):
        self.wrap = list(wrap)
        self.dir = tempfile.mkdtemp(prefix=f"sluice-it-{name}-")
        _dirs.append(self.dir)
        self.instance = f"it-{name}-{os.getpid()}"[:32]
        _instances.append(self.instance)
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.config_path = os.path.join(self.dir, "sluice.json")
        self.state_path = os.path.join(self.dir, "sluice.state.json")
        self.log_path = os.path.join(self.dir, "sluiced.log")
        self.metrics_port = free_port()
        self.proc = None

    def use_config(self, path):
        """Run with the configuration file at path as it is (its instance
        and control socket); the state file stays in this run's directory."""
        with open(path) as f:
            cfg = json.load(f)
        self.config_path = path
        self.instance = cfg.get("instance", "sluice")
        _instances.append(self.instance)
        self.sock = cfg.get("control", {}).get("socket", f"/run/sluice/{self.instance}.sock")

    def write_config(self, cfg):
        cfg = dict(cfg)
        cfg.setdefault("instance", self.instance)
        cfg.setdefault("control", {"socket": self.sock})
        cfg.setdefault("metrics", {"listen": f"127.0.0.1:{self.metrics_port}"})
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=1)

    def start(self, ready=True, preexec_fn=None):
        log = open(self.log_path, "a")
        self.proc = spawn(self.wrap + [SLUICED, "-c", self.config_path, "--state", self.state_path],
                          stderr=log, stdout=log, preexec_fn=preexec_fn)
        log.close()
        if not ready:
            return self.proc
        wait_until(lambda: self.proc.poll() is not None or self.ctl("status")[0] == 0, 10,
                   "sluiced to answer")
        check(self.proc.poll() is None,
              f"sluiced exited with status {self.proc.returncode}: {self.log()[-3000:]}")
        return self.proc

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=10)

    def ctl(self, *args, json_out=False):
        argv = [SLUICECTL, "-s", self.sock] + (["-j"] if json_out else []) + list(args)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if json_out and r.returncode in (0, 1) and r.stdout.strip():
            return r.returncode, json.loads(r.stdout), r.stderr
        return r.returncode, r.stdout, r.stderr

    def ctl_ok(self, *args):
        rc, out, err = self.ctl(*args, json_out=True)
        check(rc == 0, f"sluicectl {' '.join(args)}: rc {rc}: {err} {out}")
        return out

    def dump(self, tables=False):
        argv = [SHM_DUMP, self.instance] + (["--tables"] if tables else [])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"shm_dump: {r.stderr}")
        return json.loads(r.stdout)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as r:
            return r.read().decode()

    def metrics_raw(self, request):
        """Send request (bytes) to the metrics port; return the status line."""
        with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=5) as s:
            s.sendall(request)
            reply = b""
            while b"\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[0].decode()


def check_exposition(text):
    """The Prometheus text format as scrapers read it: every sample's family
    has one # TYPE line before its first sample, and each family's lines
    (HELP, TYPE, samples) are contiguous. Returns family -> type."""
    types, finished, current = {}, set(), None
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("#"):
            words = line.split(" ", 3)
            check(len(words) == 4 and words[1] in ("HELP", "TYPE"), f"line {n}: {line!r}")
            family = words[2]
            if words[1] == "TYPE":
                check(family not in types, f"line {n}: a second TYPE line for {family}")
                types[family] = words[3]
        else:
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
            check(m is not None, f"line {n}: not a sample: {line!r}")
            float(m.group(3))
            family = m.group(1)
            for suffix in ("_bucket", "_sum", "_count"):
                base = family[:-len(suffix)]
                if family.endswith(suffix) and types.get(base) == "histogram":
                    family = base
            check(family in types, f"line {n}: {m.group(1)} has no TYPE line before it")
        if family != current:
            check(family not in finished,
                  f"line {n}: {family} again after other families: {line!r}")
            if current:
                finished.add(current)
            current = family
    return types


def vip_of(dump, key):
    for v in dump["vips"]:
        if v["vip"] == key:
            return v
    raise AssertionError(f"no VIP {key} in generation {dump['generation']}")


def slots(dump, key):
    """backend address -> slot count for one VIP of a dump."""
    return {b["address"]: b["slots"] for b in vip_of(dump, key)["backends"]}


def states(dump, key):
    return {b["address"]: b["state"] for b in vip_of(dump, key)["backends"]}


def run(main, last_line=None):
    """Run a test's main(); on failure show sluiced's log and exit 1.
    last_line: a function whose string is printed last, pass or fail (a
    test's one-line summary for machines)."""
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", flush=True)
        for d in _dirs:
            for name in sorted(os.listdir(d)):
                if name.endswith(".log"):
                    print(f"--- {os.path.join(d, name)} ---")
                    with open(os.path.join(d, name)) as f:
                        print(f.read()[-6000:])
        if last_line:
            print(last_line(), flush=True)
        sys.exit(1)
    print("PASS", flush=True)
    if last_line:
        print(last_line(), flush=True)
