#!/usr/bin/env bash
# The control-plane benchmark (bench/control.py): Maglev build time for
# 1,000 backends (M = 65537, 655373), sluiced's publish latency (a change to
# every lcore acknowledging it) p50/p99 for a VIP of 100 backends while
# sluice-dp forwards at full load (and idle, for comparison), and the time
# health checks take to see a backend go. ~10 s.
#
#   bench/control.sh [--json] [--changes N] [--build DIR]
#
# --json prints one document:
#   {"table_build_ms":{"n1000_m65537":..,"n1000_m655373":..},
#    "publish_latency_us":{"p50":..,"p99":..},"health_detect_ms":..}
# Root (DPDK, hugepages); DIR (default build, or $SLUICE_BUILD_DIR) is
# configured and built when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${SLUICE_BUILD_DIR:-build}
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--build)
		[ $# -ge 2 ] || { echo "control.sh: --build needs a directory" >&2; exit 2; }
		build=$2
		shift 2
		;;
	-h | --help)
		sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "control.sh: must run as root (DPDK, hugepages)" >&2
	exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null
fi
ninja -C "$build" bench/sluice-tablebench bench/sluice-pktgen dataplane/sluice-dp \
	ctrl/sluiced/sluiced ctrl/sluicectl/sluicectl >/dev/null
exec python3 bench/control.py --build "$build" "${args[@]}"
