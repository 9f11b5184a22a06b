#!/usr/bin/env bash
# The demo: installs what is missing, builds, then shows sluice load-
# balancing real HTTP connections in network namespaces (client, router,
# load balancer, four backends): the DPDK path, a backend failing and coming
# back, a drain, and the XDP path taking over when sluice-dp stops
# (tests/e2e/demo.py; its configuration is docs/examples/demo.json). Exits
# non-zero if anything it shows did not happen; removes what it made, also
# on Ctrl-C. Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh >/dev/null
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null

export SLUICED=$PWD/build/ctrl/sluiced/sluiced
export SLUICECTL=$PWD/build/ctrl/sluicectl/sluicectl
export SHM_DUMP=$PWD/build/tests/integration/shm_dump
export SLUICE_DP=$PWD/build/dataplane/sluice-dp
export SLUICE_DECAP=$PWD/build/bpf/cli/sluice-decap
export SLUICE_XDP=$PWD/build/bpf/cli/sluice-xdp
export XDP_PASS_OBJ=$PWD/build/bpf/xdp_pass.bpf.o
for f in "$SLUICED" "$SLUICECTL" "$SHM_DUMP" "$SLUICE_DP" "$SLUICE_DECAP" "$SLUICE_XDP" \
	"$XDP_PASS_OBJ"; do
	[ -e "$f" ] || { echo "demo.sh: $f was not built" >&2; exit 1; }
done
exec python3 tests/e2e/demo.py
