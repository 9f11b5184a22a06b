#!/usr/bin/env python3
"""sluicectl's bash completion against a real sluiced: bash sources
ctrl/sluicectl/sluicectl.bash-completion, COMP_WORDS is set as bash would
set it, and _sluicectl must offer the objects, the commands (also after an
abbreviation), keywords and their values, --dry-run for changes, and the
VIPs and backends the daemon has; with no daemon, nothing and no noise.
Run twice: the script alone, and under bash-completion (which splits words
at colons, as in VIPs and IPv6 addresses) when it is installed.
"""
import os
import re
import subprocess

from sluicetest import SLUICECTL, SOURCE_ROOT, Sluiced, check, run, say

SCRIPT = os.path.join(SOURCE_ROOT, "ctrl/sluicectl/sluicectl.bash-completion")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
VIP = "10.0.0.10:80/tcp"
V6 = "[2001:db8::10]:443/tcp"


def complete(sock, line, framework):
    """The completions bash would offer for line (the cursor at its end)."""
    words = line.split(" ")
    if framework:
        # bash splits COMP_WORDS at COMP_WORDBREAKS, ':' among them (a run of
        # them is one word).
        words = [p for w in words for p in ([x for x in re.split(r"(:+)", w) if x] or [""])]
    argv = [SLUICECTL] + (["-s", sock] if sock else [])
    full = " ".join(argv) + " " + line
    words = argv + words
    src = (f"source {BASH_COMPLETION}; " if framework else "") + f"source {SCRIPT}; "
    arr = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (src + f"COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}; "
              f"COMP_LINE='{full}'; COMP_POINT={len(full)}; "
              "_sluicectl; printf '%s\\n' \"${COMPREPLY[@]}\"")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stderr == "", f"{line!r}: rc {r.returncode}: {r.stderr}")
    return sorted(w for w in r.stdout.split("\n") if w)


def main():
    d = Sluiced("completion")
    d.write_config({"vips": [
        {"address": "10.0.0.10", "port": 80, "forwarding": "l2dsr",
         "backends": [{"address": f"10.0.1.{i}", "mac": f"02:00:00:00:01:0{i}"}
                      for i in (1, 2, 3)]},
        {"address": "2001:db8::10", "port": 443, "forwarding": "l2dsr",
         "backends": [{"address": "2001:db8:1::1", "mac": "02:00:00:00:02:01"}]}]})
    d.start()
    modes = [False] + ([True] if os.path.exists(BASH_COMPLETION) else [])
    for fw in modes:
        c = lambda line: complete(d.sock, line, fw)  # noqa: E731
        what = "under bash-completion" if fw else "alone"
        check(c("") == sorted("vip backend health stats table explain status host".split()),
              f"{what}: objects: {c('')}")
        check(c("host ") == ["drain", "undrain"], f"{what}: host commands: {c('host ')}")
        check(c("host drain ") == ["--wait"], f"{what}: host drain: {c('host drain ')}")
        check(c("b") == ["backend"], f"{what}: b: {c('b')}")
        check(c("backend d") == ["del", "disable", "drain"], f"{what}: backend d")
        check(c("vip ") == ["add", "del", "list", "show"], f"{what}: vip commands")
        check(c("vip show ") == sorted([VIP, V6]), f"{what}: VIPs: {c('vip show ')}")
        check(c("t ") == sorted([VIP, V6]), f"{what}: table VIPs after an abbreviation")
        check(c(f"b dr {VIP} ") == ["10.0.1.1", "10.0.1.2", "10.0.1.3"],
              f"{what}: backends: {c(f'b dr {VIP} ')}")
        check(c(f"backend drain {V6} ") == ["2001:db8:1::1"], f"{what}: IPv6 backends: {c(f'backend drain {V6} ')}")
        check(c(f"backend drain {VIP} 10.0.1.1 ") == ["--dry-run"], f"{what}: dry run")
        check("--dry-run" in c(f"backend weight {VIP} 10.0.1.1 7 --"), f"{what}: --dry-run")
        check("--dry-run" not in c(f"table {VIP} --"), f"{what}: table has no dry run")
        check(c(f"vip add {VIP} forwarding ") == ["gue", "ipip", "l2dsr"], f"{what}: values")
        check("table-size" in c(f"vip add {VIP} "), f"{what}: vip add keywords")
        check(c(f"explain {VIP} ") == ["tcp", "udp"], f"{what}: explain protocol")
        # A VIP typed in part, its colon included.
        got = c("vip show 10.0.0.10:8")
        want = ["80/tcp"] if fw else [VIP]  # bash-completion trims what precedes the ':'
        check(got == want, f"{what}: a VIP in part: {got}")
        # No daemon: no VIPs, no error, no wait.
        check(complete("/nonexistent/ctl.sock", "vip show ", fw) == [], f"{what}: no daemon")
        check(complete("/nonexistent/ctl.sock", "", fw)[0] == "backend", f"{what}: offline")
        say(f"completion {what}: objects, commands, keywords, VIPs and backends")


run(main)
