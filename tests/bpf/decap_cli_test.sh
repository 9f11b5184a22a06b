#!/usr/bin/env bash
# sluice-decap's command line on a veth in a network namespace of its own:
# bad input fails with exit 2 and a message naming the problem, failed
# operations with exit 1; attach without --from refuses, --any-source warns;
# --from-file; status (text and JSON) shows what attach set; re-attach keeps
# the pinned maps (counters survive) while changing the options; refresh
# picks up a new address; allow/deny on the running program; detach removes
# the pins. Needs SLUICE_DECAP (set by meson); root. Fails, never skips.
set -uo pipefail
: "${SLUICE_DECAP:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NS=sdcli$$
TMP=$(mktemp -d /tmp/sluice-decap-cli.XXXXXX)
cleanup() {
	in_ns "$SLUICE_DECAP" detach veth0 >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-peer" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# shellcheck source=checks.sh
source "$here/checks.sh"
# Only the network namespace: the bpffs stays the host's.
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

ip netns add "$NS" || exit 1
ip netns add "$NS-peer" || exit 1
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$NS-peer" || exit 1
ip -n "$NS" link set veth0 up && ip -n "$NS-peer" link set veth1 up
ip -n "$NS" addr add 10.77.0.2/24 dev veth0
ip -n "$NS-peer" addr add 10.77.0.1/24 dev veth1
ip -n "$NS" addr add 10.77.200.1/32 dev lo

# expect RC WORD ARGS...: exit code RC, WORD in what it printed.
expect() {
	local want=$1 word=$2 out rc
	shift 2
	out=$(in_ns "$SLUICE_DECAP" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "sluice-decap $*: exit $rc, want $want: $out"
	elif ! grep -qi -- "$word" <<<"$out"; then
		fail "sluice-decap $*: does not say \"$word\": $out"
	else
		ok "sluice-decap $* -> $rc: $(head -1 <<<"$out")"
	fi
}

printf '# the load balancers\n10.77.0.1   # lb1\n10.77.0.3, fd00:77::1\n' >"$TMP/lbs"
printf '# nothing\n' >"$TMP/empty"
printf '10.77.0.1\nnot-an-address\n' >"$TMP/bad"

# Bad input: exit 2, the message names it.
expect 2 "--from" attach veth0
expect 2 "10.77.0.300" attach veth0 --from 10.77.0.1,10.77.0.300
expect 2 "contradict" attach veth0 --from 10.77.0.1 --any-source
expect 2 "--bogus" attach veth0 --from 10.77.0.1 --bogus 1
expect 2 "70000" attach veth0 --from 10.77.0.1 --gue-port 70000
expect 2 "maybe" attach veth0 --from 10.77.0.1 --refused maybe
expect 2 "holds no address" attach veth0 --from-file "$TMP/empty"
expect 2 "not-an-address" attach veth0 --from-file "$TMP/bad"
expect 2 "/nonexistent" attach veth0 --from-file /nonexistent
expect 2 "--vip" attach veth0 --from 10.77.0.1 --vip
expect 2 "usage" frobnicate veth0
expect 2 "usage" status
expect 2 "bad/name" status bad/name
# Operations that cannot be done: exit 1.
expect 1 "no interface" attach nosuch0 --from 10.77.0.1
expect 1 "not attached" status veth0
expect 1 "not attached" allow veth0 10.77.0.9
expect 1 "does not run" detach veth0

# --any-source: attaches, with a warning.
expect 0 "warning" attach veth0 --any-source
expect 0 "any (--any-source)" status veth0
expect 0 "detached" detach veth0

# --from-file, default VIPs (any local address).
expect 0 "from 3 load balancer addresses" attach veth0 --from-file "$TMP/lbs"
in_ns "$SLUICE_DECAP" status veth0 --json >"$TMP/s1.json" || fail "status --json"
python3 - "$TMP/s1.json" <<'PY' || fail "status --json after attach"
import json, sys
s = json.load(open(sys.argv[1]))
want = {"attached": True, "gue_port": 6080, "refused": "drop", "any_source": False,
        "vips": "local", "local_from": "host",
        "allowed_sources": ["10.77.0.1", "10.77.0.3", "fd00:77::1"]}
bad = {k: s.get(k) for k, v in want.items() if s.get(k) != v}
bad.update({"local_addresses": s["local_addresses"]} if not
           {"10.77.0.2", "10.77.200.1"} <= set(s["local_addresses"]) else {})
bad.update({"127.0.0.1 in local_addresses": True} if "127.0.0.1" in s["local_addresses"] else {})
counters = ["ipip", "gue", "malformed", "not_from_lb", "not_to_host", "bad_inner_len",
            "nested", "not_vip", "other"]
if list(s["counters"]) != counters:
    bad["counters"] = list(s["counters"])
if bad:
    print("bad:", bad, "in", s)
    sys.exit(1)
PY
pin=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pin_dir"])' "$TMP/s1.json")
if [ -e "$pin/allowed_sources" ]; then ok "maps pinned in $pin"; else fail "no pinned maps in $pin"; fi

# Traffic through the program, so that its counters are not zero: the
# peer pings (counted other).
ip netns exec "$NS-peer" ping -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null || fail "ping through veth0"
other=$(in_ns "$SLUICE_DECAP" status veth0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["other"])')
if [ "$other" -gt 0 ]; then ok "counted $other frames as other"; else fail "no frame counted"; fi

# Re-attach with other options: the same maps (counters kept), new settings.
expect 0 "for 1 VIP" attach veth0 --from 10.77.0.1 --vip 10.77.200.1 --refused pass --gue-port 0
in_ns "$SLUICE_DECAP" status veth0 --json >"$TMP/s2.json" || fail "status --json"
python3 - "$TMP/s2.json" "$other" <<'PY' || fail "status --json after re-attach"
import json, sys
s = json.load(open(sys.argv[1]))
want = {"gue_port": 0, "refused": "pass", "vips": ["10.77.200.1"],
        "allowed_sources": ["10.77.0.1"]}
bad = {k: s.get(k) for k, v in want.items() if s.get(k) != v}
if s["counters"]["other"] < int(sys.argv[2]):
    bad["counters kept"] = s["counters"]
if bad:
    print("bad:", bad)
    sys.exit(1)
PY

# The allowed set at run time.
expect 0 "allowed 10.77.0.5" allow veth0 10.77.0.5
expect 0 "10.77.0.5" status veth0
expect 1 "10.77.0.6" deny veth0 10.77.0.6
expect 2 "10.77.0.x" deny veth0 10.77.0.x
expect 0 "denied 10.77.0.5" deny veth0 10.77.0.5
expect 0 "every encapsulated frame is refused" deny veth0 10.77.0.1

# refresh picks up an address added after attach.
ip -n "$NS" addr add 10.77.1.2/24 dev veth0
expect 0 "local addresses" refresh veth0
expect 0 "10.77.1.2" status veth0
expect 0 "attached" attach veth0 --from 10.77.0.1 --local 10.77.0.2
expect 1 "--local" refresh veth0

expect 0 "detached" detach veth0
if [ ! -e "$pin" ]; then ok "detach removed $pin"; else fail "detach left $pin"; fi

finish decap_cli_test
