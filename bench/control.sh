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

# shellcheck source=lib.sh
source bench/lib.sh
bench_init "$@"
bench_build bench/sluice-tablebench bench/sluice-pktgen dataplane/sluice-dp \
	ctrl/sluiced/sluiced ctrl/sluicectl/sluicectl
exec python3 bench/control.py --build "$build" "${args[@]}"
