#!/usr/bin/env bash
# The XDP path's per-packet cost (sluice-xdpbench, bench/xdp_bench.c):
# SYN of a new flow, established flow, non-VIP pass, net of the floor of a
# `return XDP_TX;` program, through BPF_PROG_TEST_RUN. The method and the
# figures are in docs/xdp.md. Runs as root (it loads BPF programs).
#
#   bench/xdp.sh [--json] [--build DIR] [--rounds N] [--repeat N] [--calls N]
#
# --json prints one document:
#   {"floor_ns":..,"runs":[{"scenario":"syn_new_flow","ns":..,"net_ns":..},
#                          {"scenario":"established",..},{"scenario":"non_vip_pass",..}],...}
# DIR (default: build, or $SLUICE_BUILD_DIR) is configured and the
# benchmark built in it when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${SLUICE_BUILD_DIR:-build}
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--build)
		[ $# -ge 2 ] || { echo "xdp.sh: --build needs a directory" >&2; exit 2; }
		build=$2
		shift 2
		;;
	-h | --help)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "xdp.sh: must run as root (BPF_PROG_TEST_RUN)" >&2
	exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null
fi
ninja -C "$build" bench/sluice-xdpbench >/dev/null
exec "$build/bench/sluice-xdpbench" "${args[@]}"
