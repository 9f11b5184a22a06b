#!/usr/bin/env bash
# The line-rate benchmark: sluice-dp on one worker lcore (or N), 64-byte frames,
# against the ceiling of this machine measured in the same run
# (dpdk-testpmd --forward-mode=5tswap), closed loops over net_memif with
# sluice-pktgen. Scenarios: new flows (every packet a SYN), 1,000,000
# established flows, non-VIP drops, 1,000,000 established IPv6 flows. The
# method is in bench/linerate.py and docs/benchmarks.md.
#
#   bench/linerate.sh [--json] [--runs N] [--duration S] [--workers N] [--build DIR]
#
# --workers N: sluice-dp with N workers (CPUs 1..N) and N queue pairs on
# its memif port, testpmd with N forwarding cores, the generator sending
# flow f on queue f mod N; needs 1 + N CPUs and refuses to run on fewer.
#
# Prints a table (Mpps received, Mpps forwarded, cycles per packet, ratios
# to the ceiling); --json one document:
#   {"ceiling":{"mpps":..,"cycles_per_packet":..},"runs":[{"scenario":
#    "established_v4","mpps":..,"cycles_per_packet":..,"ratio_mpps":..,
#    "ratio_cycles":..,"instructions_per_packet":..,"l1_misses_per_packet":..,
#    "ll_misses_per_packet":..}, ...],"flow_table_bytes_per_flow":..}
# (instructions and simulated misses per packet: callgrind on
# sluice-dp-microbench, bench/callgrind.py; needs valgrind).
# Each figure is the median of N (default 3) interleaved runs; ~80 s,
# and ~2 min of callgrind.
# Root, hugepages (scripts/setup.sh reserves them); DIR (default build, or
# $SLUICE_BUILD_DIR) is configured and built when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib.sh
source bench/lib.sh
bench_init "$@"
command -v dpdk-testpmd >/dev/null || { echo "linerate.sh: dpdk-testpmd missing (scripts/setup.sh installs it)" >&2; exit 1; }
bench_build bench/sluice-pktgen dataplane/sluice-dp bench/sluice-dp-publish bench/sluice-dp-microbench
command -v valgrind >/dev/null || { echo "linerate.sh: valgrind missing (scripts/setup.sh installs it)" >&2; exit 1; }
exec python3 bench/linerate.py --build "$build" "${args[@]}"
