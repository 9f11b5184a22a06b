/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Enumerations and defaults shared by every part: forwarding modes, backend
 * states, drop reasons, flow-timeout classes, default timeouts and MTU.
 * Compiles for user space and for BPF.
 */
#ifndef SLUICE_CONSTS_H
#define SLUICE_CONSTS_H

/* Forwarding mode of a VIP. */
enum sluice_fwd_mode {
	SLUICE_FWD_IPIP = 1,  /* IPv4-in-IPv4 or IPv6-in-IPv6 */
	SLUICE_FWD_GUE = 2,   /* outer UDP, source port from the flow hash */
	SLUICE_FWD_L2DSR = 3, /* rewrite the destination MAC only */
};

/* State of a backend inside a VIP's set. */
enum sluice_backend_state {
	SLUICE_BACKEND_ABSENT = 0,   /* unused entry */
	SLUICE_BACKEND_ACTIVE = 1,   /* new and established flows */
	SLUICE_BACKEND_DRAINING = 2, /* established flows only (no slots) */
	SLUICE_BACKEND_DISABLED = 3, /* operator took it out: flows re-picked */
	SLUICE_BACKEND_DOWN = 4,     /* health checks failed: flows re-picked */
};

/* New flows each lcore (DPDK) or CPU (XDP) records per second before its
 * flood guard forwards further ones by table without an entry. */
#define SLUICE_DEFAULT_SYN_RATE 1000000

/* Why packets were dropped: one counter each, named for metrics. */
#define SLUICE_DROP_REASONS(X)                                                   \
	X(NO_CONFIG, "no_config")	    /* nothing published yet */          \
	X(NOT_VIP, "not_vip")		    /* no VIP matches */                 \
	X(NO_BACKEND, "no_backend")	    /* VIP has no usable backend */      \
	X(MALFORMED, "malformed")	    /* header fields out of range */     \
	X(TRUNCATED, "truncated")	    /* packet shorter than its headers */ \
	X(IP_OPTIONS, "ip_options")	    /* IPv4 with options (IHL > 5) */    \
	X(IPV6_EXT, "ipv6_ext")		    /* IPv6 extension other than fragment */ \
	X(UNKNOWN_L3, "unknown_l3")	    /* EtherType not IPv4/IPv6/ARP */    \
	X(UNKNOWN_L4, "unknown_l4")	    /* VIP traffic not TCP/UDP/ICMP */   \
	X(TTL_EXPIRED, "ttl_expired")	    /* TTL or hop limit 0 */             \
	X(TOO_BIG, "too_big")		    /* over MTU after encapsulation */   \
	X(NO_MBUF, "no_mbuf")		    /* buffer pool empty */              \
	X(TX_FULL, "tx_full")		    /* TX queue refused the packet */   \
	X(TCP_HEADER, "tcp_header")	    /* TCP data offset < 5 or past the packet */ \
	X(MARTIAN, "martian_source")	    /* a source no client can have */      \
	X(TO_KERNEL_RATELIMIT, "to_kernel_ratelimit") /* exception path over its rate */ \
	X(TO_KERNEL_FULL, "to_kernel_full") /* the kernel's TAP queue refused it */ \
	X(FROM_KERNEL_INVALID, "from_kernel_invalid") /* a frame the port cannot send */

enum sluice_drop_reason {
#define SLUICE_X_ENUM(name, str) SLUICE_DROP_##name,
	SLUICE_DROP_REASONS(SLUICE_X_ENUM)
#undef SLUICE_X_ENUM
	SLUICE_DROP_MAX
};

/* Idle-timeout class of a tracked flow, the same on both paths (a packet
 * moves its flow between them: sluice_flow_class in packet.h). The XDP
 * flow table keeps it in 2 bits. */
enum sluice_flow_class {
	SLUICE_FLOW_TCP = 0,
	SLUICE_FLOW_UDP = 1,
	SLUICE_FLOW_CLOSING = 2, /* FIN or RST seen */
	SLUICE_FLOW_NCLASS
};

/* Idle timeouts by class, in seconds: sluice-dp's defaults (--tcp-timeout,
 * --udp-timeout, --fin-timeout) and the XDP path's fixed values. */
#define SLUICE_TIMEOUT_TCP_S 300u
#define SLUICE_TIMEOUT_UDP_S 30u
#define SLUICE_TIMEOUT_CLOSING_S 10u

/* The egress MTU (IP bytes) when nothing configures one. */
#define SLUICE_DEFAULT_MTU 1500

/* The name of a class in telemetry and `sluicectl explain`. */
static inline const char *sluice_flow_class_name(unsigned int cls)
{
	return cls == SLUICE_FLOW_TCP	   ? "tcp"
	       : cls == SLUICE_FLOW_UDP	   ? "udp"
	       : cls == SLUICE_FLOW_CLOSING ? "closing"
					    : "?";
}

#endif /* SLUICE_CONSTS_H */
