"""What the benchmark harnesses (linerate.py, control.py) share: how much
hugepage memory is free, and the EAL memory options that follow."""


def hugepages_free():
    """Free 2 MiB hugepages (HugePages_Free in /proc/meminfo)."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


def eal_mem(mb, huge):
    """EAL memory options: hugepages (files unlinked at once, so that a
    killed process leaks none), else plain memory."""
    return ["-m", str(mb), "--huge-unlink"] if huge else ["--no-huge", "-m", str(mb)]
