"""What the benchmark harnesses (linerate.py, control.py, control_scale.py)
share: how much hugepage memory is free, the EAL memory options that
follow, and where the programs the control-plane harnesses drive are."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


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


def setup_env(build):
    """The programs of build DIR for tests/integration/sluicetest.py (which
    reads them from the environment), and that module on the path."""
    b = os.path.abspath(build)
    os.environ.setdefault("SLUICED", f"{b}/ctrl/sluiced/sluiced")
    os.environ.setdefault("SLUICECTL", f"{b}/ctrl/sluicectl/sluicectl")
    os.environ.setdefault("SHM_DUMP", f"{b}/tests/integration/shm_dump")
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
