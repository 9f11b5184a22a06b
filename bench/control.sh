#!/usr/bin/env bash
# The control-plane benchmark (bench/control.py): Maglev build time for
# 1,000 backends (M = 65537, 655373), sluiced's publish latency (a change to
# every lcore acknowledging it) p50/p99 for a VIP of 100 backends while
# sluice-dp forwards at full load (and idle, for comparison), and the time
# health checks take to see a backend go; then how one change's cost grows
# with the backends (100, 1000, 4096 at M = 655373), 10,000 backends added
# one by one with sluicectl, and sluiced's RSS with 16,384 backends
# (bench/control_scale.py). A few minutes, most of it the fill.
#
#   bench/control.sh [--json] [--changes N] [--scale-changes N] [--fill N] [--build DIR]
#
# --json prints one document:
#   {"table_build_ms":{"n1000_m65537":..,"n1000_m655373":..},
#    "publish_latency_us":{"p50":..,"p99":..},"health_detect_ms":..,
#    "change_ms":{"n100":{"p50":..,"p99":..},"n1000":..,"n4096":..},
#    "fill_10k_s":..,"sluiced_rss_bytes":..}
# Root (DPDK, hugepages); DIR (default build, or $SLUICE_BUILD_DIR) is
# configured and built when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib.sh
source bench/lib.sh
bench_init "$@"
bench_build bench/sluice-tablebench bench/sluice-ctrlbench bench/sluice-pktgen dataplane/sluice-dp \
	ctrl/sluiced/sluiced ctrl/sluicectl/sluicectl
exec python3 bench/control.py --build "$build" "${args[@]}"
