#!/usr/bin/env bash
# Installs everything sluice needs on Debian 12 and prepares hugepages.
# Idempotent: safe to run again; skips work that is already done.
set -euo pipefail

PACKAGES=(
	build-essential meson ninja-build pkg-config git
	clang llvm lld libclang-rt-14-dev libbpf-dev bpftool linux-libc-dev
	libdpdk-dev dpdk dpdk-dev
	libxxhash-dev libcmocka-dev libjansson-dev libevent-dev
	libsystemd-dev libmnl-dev libpcap-dev libnuma-dev
	iproute2 iputils-ping ethtool tcpdump curl python3 gnuplot-nox scdoc valgrind
	# where sluicectl's completion installs, and its test under it
	bash-completion
	# the Debian packages and their test (scripts/package.sh, tests/package):
	# building, linting, the group the package adds, verifying its units
	debhelper dpkg-dev lintian adduser systemd man-db
	# promtool and a real server for the metrics tests
	prometheus
	# BGP and BFD in the scale-out test (tests/e2e/e2e_scaleout.py)
	bird2
)

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root (installs packages, reserves hugepages)" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# bird2 and prometheus come with system services that Debian starts on
	# installation; the tests start their own, by PID, in namespaces, so
	# keep the system's from starting (Debian's policy-rc.d convention),
	# unless the host already has a policy of its own.
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	if [ -n "$policy" ]; then
		rm -f "$policy"
		trap - EXIT
	fi
fi

# Hugepages: DPDK runs faster with them, but every test also runs with
# --no-huge, so failure here is reported and not fatal.
want_pages=${SLUICE_HUGEPAGES:-512}
if [ -w /proc/sys/vm/nr_hugepages ]; then
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$want_pages" ]; then
		echo "$want_pages" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	fi
	echo "setup.sh: hugepages reserved: $(cat /proc/sys/vm/nr_hugepages) (wanted $want_pages)"
else
	echo "setup.sh: cannot reserve hugepages here; tests use --no-huge"
fi
if ! mountpoint -q /dev/hugepages 2>/dev/null; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null ||
		echo "setup.sh: cannot mount hugetlbfs; tests use --no-huge"
fi

# bpffs for pinned maps (XDP path).
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "setup.sh: cannot mount bpffs"
fi
exit 0
