# shellcheck shell=bash
# A load-balancing topology in network namespaces, for the demo and the
# end-to-end tests. Source it, then call topo_create; topo_destroy undoes
# everything it made (call it from a trap).
#
#   client (10.100.0.2) --- router --- br0 (10.100.1.0/24) --- lb (10.100.1.2)
#                                        |--- backend 1..N (10.100.1.11..)
#
# (topo_create_ecmp: several load balancers lb1..lbN on br0 instead.)
#
# The VIP 10.100.200.1 (and fd00:100:200::1) is routed by the router to the
# load balancer; backends carry it on their loopback and answer the client
# directly (direct server return). IPv6 mirrors IPv4: fd00:100:0::/64,
# fd00:100:1::/64.
#
# Every name carries TOPO (default: sl<pid>), so parallel runs never meet.

TOPO=${TOPO:-sl$$}
TOPO_NBACKENDS=0
TOPO_PIDS=()
VIP4=10.100.200.1
VIP6=fd00:100:200::1
TOPO_ROUTER_MAC=02:00:5e:64:01:01
TOPO_LB_MAC=02:00:5e:64:01:02

topo_ns() { echo "${TOPO}-$1"; }
topo_exec() { local ns=$1; shift; ip netns exec "$(topo_ns "$ns")" "$@"; }

# MAC address of IFACE in namespace NS.
topo_mac() { ip -n "$(topo_ns "$1")" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

topo_backend_ip() { echo "10.100.1.$((10 + $1))"; }
topo_backend_ip6() { echo "fd00:100:1::$((10 + $1))"; }

topo_create() { # NBACKENDS
	local n=$1 i
	TOPO_NBACKENDS=$n
	_topo_namespaces client router lb $(seq -f 'b%g' 1 "$n")
	_topo_router
	_topo_client
	_topo_lb lb tolb 10.100.1.2 fd00:100:1::2 "$TOPO_LB_MAC"
	ip -n "$(topo_ns router)" route add "$VIP4/32" via 10.100.1.2
	ip -n "$(topo_ns router)" -6 route add "$VIP6/128" via fd00:100:1::2
	for i in $(seq 1 "$n"); do
		_topo_backend "$i"
	done
}

# Scale-out: NLB load balancers lb1..lbNLB (10.100.1.2.., MACs
# 02:00:5e:64:01:02..) on br0 beside the backends, and no route to the VIP:
# the router learns it from them by BGP (tests/e2e/scaleout_lab.py) and
# spreads flows over them by ECMP, hashing on the L4 ports too.
topo_create_ecmp() { # NBACKENDS NLB
	local n=$1 nlb=$2 i
	TOPO_NBACKENDS=$n
	_topo_namespaces client router $(seq -f 'lb%g' 1 "$nlb") $(seq -f 'b%g' 1 "$n")
	_topo_router
	ip netns exec "$(topo_ns router)" sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1
	_topo_client
	for i in $(seq 1 "$nlb"); do
		_topo_lb "lb$i" "tolb$i" "$(topo_lb_ip "$i")" "$(topo_lb_ip6 "$i")" \
			"$(printf '02:00:5e:64:01:%02x' $((1 + i)))"
		# When a host dies the bridge forgets its MAC and would flood the
		# frames still sent to it to every port, and the XDP path of the
		# others would take them: a NIC filters other hosts' MACs; a veth
		# does not, so the bridge must not flood unknown unicast to them.
		bridge -n "$(topo_ns router)" link set dev "tolb$i" flood off
	done
	for i in $(seq 1 "$n"); do
		_topo_backend "$i"
	done
}

topo_lb_ip() { echo "10.100.1.$((1 + $1))"; }
topo_lb_ip6() { echo "fd00:100:1::$((1 + $1))"; }

_topo_namespaces() {
	local ns
	for ns in "$@"; do
		ip netns add "$(topo_ns "$ns")"
		ip -n "$(topo_ns "$ns")" link set lo up
	done
}

_topo_router() {
	local r
	r=$(topo_ns router)
	# Router: forwards, no redirects (the LB sends to backends through it).
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
	ip -n "$r" link add br0 type bridge
	# Fixed MACs for the router and the load balancer: a configuration
	# file can name the next hop (docs/examples/demo.json).
	ip -n "$r" link set br0 address "$TOPO_ROUTER_MAC"
	ip -n "$r" link set br0 up
	ip -n "$r" addr add 10.100.1.1/24 dev br0
	ip -n "$r" addr add fd00:100:1::1/64 dev br0 nodad
}

_topo_client() {
	local r c
	r=$(topo_ns router)
	c=$(topo_ns client)
	ip -n "$c" link add eth0 type veth peer name toclient netns "$r"
	ip -n "$c" addr add 10.100.0.2/24 dev eth0
	ip -n "$c" addr add fd00:100:0::2/64 dev eth0 nodad
	ip -n "$c" link set eth0 up
	ip -n "$c" route add default via 10.100.0.1
	ip -n "$c" -6 route add default via fd00:100:0::1
	ip -n "$r" addr add 10.100.0.1/24 dev toclient
	ip -n "$r" addr add fd00:100:0::1/64 dev toclient nodad
	ip -n "$r" link set toclient up
}

# A load balancer on the server segment (br0): namespace NS, eth0 there,
# its peer PEER on the router's bridge.
_topo_lb() { # NS PEER ADDR4 ADDR6 MAC
	local r l
	r=$(topo_ns router)
	l=$(topo_ns "$1")
	ip -n "$l" link add eth0 address "$5" type veth peer name "$2" netns "$r"
	ip -n "$r" link set "$2" master br0 up
	ip -n "$l" addr add "$3/24" dev eth0
	ip -n "$l" addr add "$4/64" dev eth0 nodad
	ip -n "$l" link set eth0 up
	ip -n "$l" route add default via 10.100.1.1
	ip -n "$l" -6 route add default via fd00:100:1::1
}

_topo_backend() { # I
	local i=$1 r b
	r=$(topo_ns router)
	b=$(topo_ns "b$i")
	ip -n "$b" link add eth0 type veth peer name "tob$i" netns "$r"
	ip -n "$r" link set "tob$i" master br0 up
	ip -n "$b" addr add "$(topo_backend_ip "$i")/24" dev eth0
	ip -n "$b" addr add "$(topo_backend_ip6 "$i")/64" dev eth0 nodad
	ip -n "$b" link set eth0 up
	ip -n "$b" route add default via 10.100.1.1
	ip -n "$b" -6 route add default via fd00:100:1::1
	# The VIP on loopback; never answer ARP/ND for it on eth0 (L2 DSR),
	# and accept decapsulated packets whatever their source.
	ip -n "$b" addr add "$VIP4/32" dev lo
	ip -n "$b" addr add "$VIP6/128" dev lo nodad
	ip netns exec "$b" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# Start backend I's server (HTTP :80 answering "bI", echo :9000).
topo_backend_start() { # I
	local i=$1 dir
	dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	topo_exec "b$i" python3 "$dir/backend_server.py" --name "b$i" --ipv6 \
		>"${TOPO_LOGDIR:-/tmp}/${TOPO}-b$i.log" 2>&1 &
	eval "TOPO_SERVER_$i=$!"
	TOPO_PIDS+=($!)
	# Ready when it listens.
	for _ in $(seq 50); do
		topo_exec "b$i" ss -ltn 2>/dev/null | grep -q ':80 ' && return 0
		sleep 0.1
	done
	echo "backend b$i did not start" >&2
	return 1
}

topo_backend_stop() { # I
	local var="TOPO_SERVER_$1"
	[ -n "${!var:-}" ] || return 0
	kill "${!var}" 2>/dev/null
	wait "${!var}" 2>/dev/null
	eval "TOPO_SERVER_$1="
}

# Remember a PID started by the caller, for topo_destroy.
topo_track() { TOPO_PIDS+=("$@"); }

topo_destroy() {
	local pid ns
	for pid in "${TOPO_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${TOPO_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	TOPO_PIDS=()
	for ns in $(ip netns list | awk '{print $1}' | grep "^${TOPO}-"); do
		# Processes left in the namespace are ours (named by TOPO).
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns delete "$ns"
	done
}
