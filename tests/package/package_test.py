"""sluice's Debian packages, end to end, on this machine (as root).

Installing into / and not into a throw-away root (dpkg --root): the
maintainer scripts run chrooted into that root, so it would need a whole
Debian system (adduser, systemd's helpers, the shared libraries) to be
debootstrapped first, minutes and hundreds of MB for each run. Installing
here is what an operator does; the test refuses to run where sluice's
packages or /etc/sluice already exist, and purges everything it installed,
however it ends (the group sluice too, when it created it).
"""
import atexit
import glob
import grp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("SLUICE_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGES = ["sluice", "sluice-dp", "sluice-xdp", "sluice-decap"]
PROGRAMS = {"sluice": ["sluiced", "sluicectl"], "sluice-dp": ["sluice-dp"],
            "sluice-xdp": ["sluice-xdp"], "sluice-decap": ["sluice-decap"]}
CONFFILES = {"/etc/sluice/sluice.json", "/etc/sluice/sluice-dp.env",
             "/etc/iproute2/rt_protos.d/sluice.conf"}
# systemd-analyze security --offline: the exposure docs/deploy.md states;
# a change that loosens a unit past it fails here.
MAX_EXPOSURE = {"sluiced.service": 2.4, "sluice-dp.service": 2.1}
# lintian warnings that are understood (docs/deploy.md, Install from
# packages): none.
KNOWN_WARNINGS = set()

failures = []
state = {"installed": False, "group_existed": None}


def say(msg):
    print(f"# {msg}", flush=True)


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)
    return cond


def run(argv, ok=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if ok and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def status(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg], ok=False)
    return r.stdout.strip() if r.returncode == 0 else ""


def cleanup():
    if state["installed"]:
        run(["dpkg", "--purge"] + PACKAGES, ok=False)
    if state["group_existed"] is False:
        try:
            grp.getgrnam("sluice")
            run(["groupdel", "sluice"], ok=False)
        except KeyError:
            pass


def main():
    if os.geteuid() != 0:
        print("package_test: needs root (dpkg -i)", file=sys.stderr)
        return 1
    for tool in ("dpkg-buildpackage", "dh", "lintian", "systemd-analyze", "man"):
        if not shutil.which(tool):
            print(f"package_test: {tool} missing: run scripts/setup.sh", file=sys.stderr)
            return 1
    present = [p for p in PACKAGES if status(p)]
    if present or os.path.exists("/etc/sluice"):
        print(f"package_test: refusing to touch an existing install ({present or '/etc/sluice'});"
              " purge it first (dpkg --purge " + " ".join(PACKAGES) + ")", file=sys.stderr)
        return 1
    try:
        grp.getgrnam("sluice")
        state["group_existed"] = True
    except KeyError:
        state["group_existed"] = False
    atexit.register(cleanup)

    out = tempfile.mkdtemp(prefix="sluice-debs-")
    atexit.register(shutil.rmtree, out, True)
    t0 = time.monotonic()
    run(["bash", os.path.join(ROOT, "scripts/package.sh"), "--out", out])
    say(f"packages built in {time.monotonic() - t0:.0f} s")
    debs = {p: os.path.join(out, f"{p}_" + ver(out, p) + "_" + arch() + ".deb") for p in PACKAGES}

    # lintian: no error, no warning that is not understood.
    t0 = time.monotonic()
    r = run(["lintian", "--no-tag-display-limit"] + list(debs.values()), ok=False)
    tags = re.findall(r"^([EW]): (\S+?)(?: \w+)?: (\S+)", r.stdout, re.M)
    for level, pkg, tag in tags:
        if level == "E":
            check(False, f"lintian error: {pkg}: {tag}")
        elif (pkg, tag) not in KNOWN_WARNINGS:
            check(False, f"lintian warning not accounted for: {pkg}: {tag}")
    check(r.returncode in (0, 2) or not tags, f"lintian failed: {r.stderr}")
    say(f"lintian in {time.monotonic() - t0:.0f} s: "
        f"{', '.join(f'{l}: {p}: {t}' for l, p, t in tags) or 'clean'}")

    state["installed"] = True
    run(["dpkg", "-i"] + list(debs.values()))
    for p in PACKAGES:
        check(status(p) == "install ok installed", f"{p}: {status(p)!r} after dpkg -i")
    files = {}
    for p in PACKAGES:
        files[p] = [f for f in run(["dpkg", "-L", p]).stdout.split("\n") if f]

    # What an operator gets.
    check(grp.getgrnam("sluice").gr_name == "sluice", "no group sluice")
    r = run(["/usr/sbin/sluiced", "--check-config", "/etc/sluice/sluice.json"], ok=False)
    check(r.returncode == 0, f"installed sluiced --check-config: {r.stdout}{r.stderr}")
    say(r.stdout.strip())
    for pkg, progs in PROGRAMS.items():
        for prog in progs:
            check(f"/usr/sbin/{prog}" in files[pkg], f"{pkg} lacks /usr/sbin/{prog}")
            page = f"/usr/share/man/man8/{prog}.8.gz"
            check(page in files[pkg], f"{pkg} lacks {page}")
            check(run(["man", "-w", prog], ok=False).returncode == 0, f"man {prog}: not found")
    check("/usr/share/bash-completion/completions/sluicectl" in files["sluice"],
          "sluice lacks sluicectl's bash completion")
    check("/etc/iproute2/rt_protos.d/sluice.conf" in files["sluice"],
          "sluice lacks the route protocol's name")
    # dh_compress gzips the larger documents.
    for doc in ("deploy.md", "examples/sluice.json", "examples/grafana-sluice.json",
                "examples/bird-lb.conf", "examples/bird-router.conf"):
        check({f"/usr/share/doc/sluice/{doc}", f"/usr/share/doc/sluice/{doc}.gz"}
              & set(files["sluice"]), f"sluice lacks doc {doc}")
    units = [f for p in PACKAGES for f in files[p]
             if f.startswith("/lib/systemd/system/") and f.endswith(".service")]
    check({"/lib/systemd/system/sluiced.service", "/lib/systemd/system/sluice-dp.service"}
          <= set(units), f"units: {units}")
    verify_units(units)
    for unit, limit in MAX_EXPOSURE.items():
        r = run(["systemd-analyze", "security", "--offline=true", f"/lib/systemd/system/{unit}"],
                ok=False)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        check(m is not None, f"systemd-analyze security {unit}: {r.stdout[-500:]}{r.stderr}")
        if m:
            say(f"{unit}: exposure {m.group(1)}")
            check(float(m.group(1)) <= limit, f"{unit}: exposure {m.group(1)} > {limit}")
    check(not glob.glob("/etc/systemd/system/*/sluice*"), "a unit was enabled at install")

    # An edited configuration survives a reinstall and a remove/install;
    # the maintainer scripts never write it.
    with open("/etc/sluice/sluice.json") as f:
        shipped = f.read()
    edited = shipped.replace("127.0.0.1:9470", "127.0.0.1:9471")
    check(edited != shipped, "the shipped configuration has no metrics.listen to edit")
    with open("/etc/sluice/sluice.json", "w") as f:
        f.write(edited)
    run(["dpkg", "-i", debs["sluice"]])
    check(read("/etc/sluice/sluice.json") == edited, "reinstall replaced the edited config")
    # What sluiced writes at run time: the CLI's changes (none here).
    with open("/etc/sluice/sluice.state.json", "w") as f:
        f.write('{"version": 1, "overlay": {}}\n')
    check(run(["/usr/sbin/sluiced", "--check-config", "/etc/sluice/sluice.json"],
              ok=False).returncode == 0, "the edited configuration and its state do not check")

    run(["dpkg", "-r"] + PACKAGES)
    for p in PACKAGES:
        # Packages with conffiles keep them; the others are gone.
        want = "deinstall ok config-files" if p in ("sluice", "sluice-dp") else "unknown ok not-installed"
        check(status(p) in ("", want), f"{p}: {status(p)!r} after dpkg -r")
    left = sorted(f for p in PACKAGES for f in files[p]
                  if os.path.lexists(f) and not os.path.isdir(f))
    check(set(left) == CONFFILES, f"dpkg -r left {left}, not just the configuration")
    check(sorted(os.listdir("/etc/sluice")) ==
          ["sluice-dp.env", "sluice.json", "sluice.state.json"],
          f"/etc/sluice after remove: {os.listdir('/etc/sluice')}")
    check(read("/etc/sluice/sluice.json") == edited, "dpkg -r changed the edited config")
    run(["dpkg", "-i", debs["sluice"]])
    check(read("/etc/sluice/sluice.json") == edited, "install after remove replaced the config")
    check(run(["/usr/sbin/sluiced", "--check-config", "/etc/sluice/sluice.json"],
              ok=False).returncode == 0, "the kept configuration no longer checks")

    run(["dpkg", "--purge"] + PACKAGES)
    state["installed"] = False
    for p in PACKAGES:
        check(status(p) in ("", "unknown ok not-installed"), f"{p}: {status(p)!r} after purge")
    check(not os.path.exists("/etc/sluice"), "/etc/sluice survives the purge")
    stray = [f for f in glob.glob("/var/lib/systemd/deb-systemd-*/**", recursive=True)
             + glob.glob("/etc/systemd/system/**", recursive=True) if "sluice" in f]
    check(not stray, f"systemd state left after purge: {stray}")

    if failures:
        print(f"{len(failures)} failed checks", flush=True)
        return 1
    say("packages build, lint, install, verify, keep the config and purge cleanly")
    return 0


def verify_units(units):
    """systemd-analyze verify each unit, its man pages and programs
    included; a template through an instance of it."""
    with tempfile.TemporaryDirectory() as d:
        for u in units:
            path = u
            if os.path.basename(u).endswith("@.service"):
                path = os.path.join(d, os.path.basename(u).replace("@.", "@lo."))
                shutil.copy(u, path)
            r = run(["systemd-analyze", "verify", path], ok=False)
            check(r.returncode == 0 and not r.stderr.strip(),
                  f"systemd-analyze verify {u}: {r.stdout}{r.stderr}")


def read(path):
    with open(path) as f:
        return f.read()


def ver(out, pkg):
    debs = glob.glob(os.path.join(out, f"{pkg}_*.deb"))
    if len(debs) != 1:
        raise AssertionError(f"{pkg}: expected one .deb in {out}, found {debs}")
    return os.path.basename(debs[0]).split("_")[1]


def arch():
    return run(["dpkg", "--print-architecture"]).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
