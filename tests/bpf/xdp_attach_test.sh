#!/usr/bin/env bash
# The XDP path on real interfaces: sluice_xdp attached (native mode) to the
# load balancer's veth in a network namespace, sluice_decap on the
# backends' veths. A client in another namespace talks to the VIP (TCP over
# IPv4 and IPv6, UDP over IPv4) in each forwarding mode; the frames the load
# balancer sends are captured (tcpdump on the router's port toward it) and
# must be the encapsulation the mode says; the backends' servers must
# answer (direct server return), which proves decapsulation. Counters of
# both programs are checked. Fails, never skips.
#
# Topology: tests/e2e/topology.sh (client - router - br0: lb, b1, b2).
# Needs: XDP_LB_CTL, SLUICE_XDP, SLUICE_DECAP, XDP_PASS_OBJ (paths, set by
# meson).
#
# Two things of veth, not of sluice (docs/xdp.md, "testing on veth"): a
# veth receives what its peer sends with XDP_TX only when it runs an XDP
# program itself (GRO is not enough on this kernel), so the router's side of
# the load balancer's veth gets `return XDP_PASS;`; and a veth sender with
# TX checksum offload leaves TCP/UDP checksums partial (finished later by
# metadata XDP cannot carry), so the client sends with offload off, as a
# host behind a real NIC effectively does.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${XDP_LB_CTL:?}" "${SLUICE_XDP:?}" "${SLUICE_DECAP:?}" "${XDP_PASS_OBJ:?}"
for tool in tcpdump curl python3 nsenter ethtool ip; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done

TOPO=xa$$
INSTANCE=xdpattach-$$
TMP=$(mktemp -d /tmp/sluice-xdp-attach.XXXXXX)
TOPO_LOGDIR=$TMP
# shellcheck source=../e2e/topology.sh
source "$here/../e2e/topology.sh"

CAP_PID=
cleanup() {
	# The backends' pinned maps outlive their namespaces unless detached.
	for i in 1 2; do
		in_ns "b$i" "$SLUICE_DECAP" detach eth0 >/dev/null 2>&1
	done
	if [ -n "$CAP_PID" ]; then
		kill "$CAP_PID" 2>/dev/null
		wait "$CAP_PID" 2>/dev/null
	fi
	# Deleting the namespaces deletes the veths and their XDP programs.
	topo_destroy
	"$SLUICE_XDP" -i "$INSTANCE" unpin >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# shellcheck source=checks.sh
source "$here/checks.sh"

# Run in a namespace's network only (ip netns exec would hide the bpffs).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$(topo_ns "$ns")" "$@"
}

topo_create 2 || { echo "FAIL: topology" >&2; exit 1; }
topo_backend_start 1 || exit 1
topo_backend_start 2 || exit 1

LB_MAC=$(topo_mac lb eth0)
ROUTER_MAC=$(topo_mac router br0)
B1_MAC=$(topo_mac b1 eth0)
B2_MAC=$(topo_mac b2 eth0)

# A UDP service on the VIP itself (replies come from the VIP).
for i in 1 2; do
	topo_exec "b$i" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'"$VIP4"'", 9001))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"b'"$i"':" + d, a)
' >"$TMP/udp-b$i.log" 2>&1 &
	topo_track $!
done

# Backends: decapsulation on eth0, trusting only the load balancer's
# source addresses (xdp_lb_ctl publish --src4/--src6 below).
LB_SRC=10.100.1.2,fd00:100:1::2
out=$(in_ns b1 "$SLUICE_DECAP" attach eth0 --from "$LB_SRC" --gue-port 6080) ||
	{ echo "FAIL: sluice-decap attach on b1" >&2; exit 1; }
echo "$out"
out=$(in_ns b2 "$SLUICE_DECAP" attach eth0 --from "$LB_SRC" --gue-port 6080 \
	--vip "$VIP4,$VIP6") || { echo "FAIL: sluice-decap attach on b2" >&2; exit 1; }
echo "$out"

# The peer of the load balancer's veth must run XDP to receive XDP_TX.
topo_exec router ip link set dev tolb xdpdrv obj "$XDP_PASS_OBJ" sec xdp ||
	{ echo "FAIL: xdp_pass on the router's tolb" >&2; exit 1; }
# Complete checksums from the client (see above).
topo_exec client ethtool -K eth0 tx off >/dev/null

publish() { # MODE
	in_ns lb "$XDP_LB_CTL" "$INSTANCE" publish \
		--src4 10.100.1.2 --src6 fd00:100:1::2 --nexthop-mac "$ROUTER_MAC" --lb-mac "$LB_MAC" \
		--vip "$VIP4" 80 tcp "$1" \
		--backend "$(topo_backend_ip 1)" "$B1_MAC" --backend "$(topo_backend_ip 2)" "$B2_MAC" \
		--vip "$VIP6" 80 tcp "$1" \
		--backend "$(topo_backend_ip6 1)" "$B1_MAC" --backend "$(topo_backend_ip6 2)" "$B2_MAC" \
		--vip "$VIP4" 9001 udp "$1" \
		--backend "$(topo_backend_ip 1)" "$B1_MAC" --backend "$(topo_backend_ip 2)" "$B2_MAC"
}

capture_start() { # FILE
	topo_exec router tcpdump -i tolb -nn -e -U -w "$1" >"$1.log" 2>&1 &
	CAP_PID=$!
	for _ in $(seq 50); do
		grep -q "listening on" "$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "tcpdump did not start"
}

capture_stop() {
	sleep 0.3
	kill "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
}

# N HTTP requests to URL from the client: the backends' names, one a line
# (it gives up after 3 failures in a row).
http_names() { # URL N
	local failed=0
	for _ in $(seq "$2"); do
		if topo_exec client curl -s -g --max-time 3 "$1"; then
			failed=0
		else
			echo "curl-failed"
			failed=$((failed + 1))
			[ "$failed" -lt 3 ] || return 0
		fi
	done
}

# Both backends answered, and nothing else.
check_names() { # WHAT NAMES
	local bad
	bad=$(echo "$2" | grep -cv '^b[12]$')
	if [ "$bad" -ne 0 ]; then
		fail "$1: $bad requests failed or got another answer: $(echo "$2" | sort | uniq -c | tr '\n' ' ')"
	elif ! echo "$2" | grep -q '^b1$' || ! echo "$2" | grep -q '^b2$'; then
		fail "$1: only one backend answered: $(echo "$2" | sort | uniq -c | tr '\n' ' ')"
	else
		ok "$1: $(echo "$2" | sort | uniq -c | tr '\n' ' ')"
	fi
}

udp_names() { # N
	local failed=0 out
	for n in $(seq "$1"); do
		out=$(topo_exec client python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.bind(("10.100.0.2", 20000 + '"$n"'))
s.sendto(b"hello", ("'"$VIP4"'", 9001))
d, a = s.recvfrom(2048)
print(d.decode().split(":")[0] if a[0] == "'"$VIP4"'" else "wrong-source")
' 2>/dev/null) || out=udp-failed
		echo "$out"
		if [ "$out" = udp-failed ]; then
			failed=$((failed + 1))
			[ "$failed" -lt 3 ] || return 0
		else
			failed=0
		fi
	done
}

# Count capture lines (tcpdump -e text) that match a regular expression.
cap_count() { # FILE REGEX
	tcpdump -r "$1" -nn -e 2>/dev/null | grep -cE "$2"
}

expect_cap() { # WHAT FILE REGEX
	local n
	n=$(cap_count "$2" "$3")
	if [ "$n" -gt 0 ]; then
		ok "$1: $n frames"
	else
		fail "$1: no frame matches /$3/ in the capture"
		tcpdump -r "$2" -nn -e 2>/dev/null | head -20 >&2
	fi
}

publish ipip || { echo "FAIL: publish" >&2; exit 1; }
out=$(in_ns lb "$XDP_LB_CTL" "$INSTANCE" attach eth0) || { echo "FAIL: attach" >&2; exit 1; }
echo "$out"
echo "$out" | grep -q "native" || fail "not attached in native mode: $out"

B='10\.100\.1\.1[12]'
B6='fd00:100:1::1[12]'
for mode in ipip gue l2dsr; do
	publish "$mode" >/dev/null || fail "publish $mode"
	cap="$TMP/cap-$mode.pcap"
	capture_start "$cap"
	check_names "$mode: TCP over IPv4" "$(http_names "http://$VIP4/" 24)"
	check_names "$mode: TCP over IPv6" "$(http_names "http://[$VIP6]/" 24)"
	check_names "$mode: UDP over IPv4" "$(udp_names 24)"
	capture_stop
	case $mode in
	ipip)
		expect_cap "$mode: IPv4-in-IPv4 toward a backend" "$cap" \
			"> $ROUTER_MAC, ethertype IPv4.* 10\.100\.1\.2 > $B: (IP )?10\.100\.0\.2\.[0-9]+ > 10\.100\.200\.1\.80:"
		expect_cap "$mode: IPv6-in-IPv6 toward a backend" "$cap" \
			"> $ROUTER_MAC, ethertype IPv6.* fd00:100:1::2 > $B6: (IP6 )?fd00:100::2\.[0-9]+ > fd00:100:200::1\.80:"
		;;
	gue)
		expect_cap "$mode: GUE over IPv4 toward a backend" "$cap" \
			"> $ROUTER_MAC, ethertype IPv4.* 10\.100\.1\.2\.(49|5|6)[0-9]+ > $B\.6080: UDP"
		expect_cap "$mode: GUE over IPv6 toward a backend" "$cap" \
			"> $ROUTER_MAC, ethertype IPv6.* fd00:100:1::2\.(49|5|6)[0-9]+ > $B6\.6080: UDP"
		;;
	l2dsr)
		expect_cap "$mode: the client's frame, to a backend's MAC" "$cap" \
			"> ($B1_MAC|$B2_MAC), ethertype IPv4.* 10\.100\.0\.2\.[0-9]+ > 10\.100\.200\.1\.80:"
		expect_cap "$mode: the client's IPv6 frame, to a backend's MAC" "$cap" \
			"> ($B1_MAC|$B2_MAC), ethertype IPv6.* fd00:100::2\.[0-9]+ > fd00:100:200::1\.80:"
		;;
	esac
done

# The host behind the XDP program stays reachable.
if topo_exec client ping -c 2 -W 2 10.100.1.2 >/dev/null; then
	ok "non-VIP traffic reaches the load balancer's own stack"
else
	fail "the load balancer does not answer ping"
fi

# Counters: the XDP path's and the decapsulation's.
"$SLUICE_XDP" -i "$INSTANCE" status --json >"$TMP/status.json" || fail "sluice-xdp status"
python3 - "$TMP/status.json" <<'PY' || fail "XDP counters"
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
need = {"tx_packets": 200, "flow_hits": 100, "flow_misses": 100, "flow_inserts": 100,
        "pass_not_vip": 1, "pass_arp": 1}
bad = [f"{k}={c.get(k)} (want >= {v})" for k, v in need.items() if c.get(k, 0) < v]
for k in ("drop_malformed", "drop_truncated", "drop_no_backend", "table_mismatch", "adjust_failed"):
    if c.get(k, 0) != 0:
        bad.append(f"{k}={c[k]} (want 0)")
print("XDP counters:", {k: c[k] for k in sorted(need) + ["drop_too_big", "icmp_too_big_sent"]})
if bad:
    print("bad:", bad)
    sys.exit(1)
PY
for i in 1 2; do
	st=$(in_ns "b$i" "$SLUICE_DECAP" status eth0) || fail "sluice-decap status on b$i"
	echo "$st"
	echo "$st" | grep -qE "ipip [1-9]" || fail "b$i decapsulated no IPIP"
	echo "$st" | grep -qE "gue [1-9]" || fail "b$i decapsulated no GUE"
done

# ---- The trust boundary on real interfaces ----
# A UDP listener on b1's VIPs logs every datagram that reaches it; frames
# carrying a marker are sent encapsulated to b1 from the client (a host
# that can reach the backend, no load balancer) and from the load balancer
# itself. The inner source is a client address b1 would trust.
SPOOF_LOG=$TMP/spoof-b1.log
topo_exec b1 python3 -u -c '
import select, socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
         socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]
socks[0].bind(("'"$VIP4"'", 9002))
socks[1].bind(("'"$VIP6"'", 9002))
print("listening", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        d, a = s.recvfrom(2048)
        print(a[0], d.decode(errors="replace"), flush=True)
' >"$SPOOF_LOG" 2>&1 &
topo_track $!
for _ in $(seq 50); do
	grep -q listening "$SPOOF_LOG" && break
	sleep 0.1
done

send_encap() { # NS MARKER-PREFIX: each of 4 modes 3 times (12 frames)
	in_ns "$1" python3 "$here/encap_send.py" "$2" "$(topo_backend_ip 1)" \
		"$(topo_backend_ip6 1)" "$VIP4" "$VIP6" 9002 3 || fail "encap_send.py from $1"
	sleep 0.5
}
b1_counter() { # NAME
	in_ns b1 "$SLUICE_DECAP" status eth0 --json |
		python3 -c "import json, sys; print(json.load(sys.stdin)['counters']['$1'])"
}
reached() { grep -c -- " $1-" "$SPOOF_LOG"; }

expect_n() { # WHAT GOT WANT
	if [ "$2" -eq "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: $2, want $3"
	fi
}

before=$(b1_counter not_from_lb)
send_encap client spoof
send_encap lb fromlb
expect_n "spoofed IPIP/GUE frames from the client that reached b1's socket" \
	"$(reached spoof)" 0
expect_n "IPIP/GUE frames from the load balancer that reached b1's socket" \
	"$(reached fromlb)" 12
expect_n "frames b1 counted not_from_lb" $(($(b1_counter not_from_lb) - before)) 12

# Trust changes while attached: allow the client, then deny it again.
in_ns b1 "$SLUICE_DECAP" allow eth0 10.100.0.2,fd00:100::2 >/dev/null ||
	fail "sluice-decap allow"
send_encap client allowed
expect_n "after allow, the client's frames that reached b1" "$(reached allowed)" 12
in_ns b1 "$SLUICE_DECAP" deny eth0 10.100.0.2,fd00:100::2 >/dev/null ||
	fail "sluice-decap deny"
send_encap client denied
expect_n "after deny, the client's frames that reached b1" "$(reached denied)" 0
# Denying what is not allowed fails, naming the address.
if out=$(in_ns b1 "$SLUICE_DECAP" deny eth0 10.100.0.99 2>&1); then
	fail "deny of an address never allowed succeeded"
elif ! echo "$out" | grep -q 10.100.0.99; then
	fail "deny of an address never allowed: message does not name it: $out"
fi
in_ns b1 "$SLUICE_DECAP" status eth0

# Detach cleanly (the namespaces would take the programs with them anyway).
in_ns lb "$SLUICE_XDP" detach eth0 || fail "sluice-xdp detach"
for i in 1 2; do
	in_ns "b$i" "$SLUICE_DECAP" detach eth0 >/dev/null || fail "sluice-decap detach on b$i"
	[ ! -e "/sys/fs/bpf/sluice-decap/netns-$(in_ns "b$i" stat -L -c %i /proc/self/ns/net)" ] ||
		fail "detach left b$i's pinned maps behind"
done

finish xdp_attach_test
