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
#                          {"scenario":"established",..},{"scenario":"non_vip_pass",..},
#                          {"scenario":"syn_over_budget",..}],...,
#    "flow_table":{"flows":..,"bytes":..,"bytes_per_flow":..},
#    "program":{"xlated_insns":..,"jited_bytes":..,"verified_insns":..}}
# DIR (default: build, or $SLUICE_BUILD_DIR) is configured and the
# benchmark built in it when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib.sh
source bench/lib.sh
bench_init "$@"
bench_build bench/sluice-xdpbench
exec "$build/bench/sluice-xdpbench" "${args[@]}"
