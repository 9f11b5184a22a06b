/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters both data paths keep, by name: the DPDK lcores in shared
 * memory (shm.h), the XDP program per CPU in its stats map (bpf/xdp_abi.h).
 * One list and one struct, so that sluiced sums XDP CPUs like lcores and a
 * name cannot mean one thing on one path and another on the other. A few
 * of them only the DPDK path can keep (flow_live,
 * arp_replies, nd_replies, busy_*): the XDP path leaves them 0 rather than
 * fill them with something else; so are handoff_* (ICMP errors and IP
 * fragments passed between DPDK workers, which XDP does not have) and to_kernel /
 * from_kernel (sluice-dp's exception path through a TAP; the XDP path
 * passes the host's traffic with XDP_PASS, counted in its own list).
 * Counters only XDP keeps are its own list
 * (SLUICE_XDP_COUNTERS, bpf/xdp_abi.h). Compiles for user space and BPF.
 */
#ifndef SLUICE_COUNTERS_H
#define SLUICE_COUNTERS_H

#include <linux/types.h>

#include "consts.h"

/* Per-lcore (per-CPU for XDP) counters, one writer each, in metric units;
 * all count up but flow_live, the flow table's live entries (a gauge).
 * The order is the shared-memory layout (a change is an ABI change). */
#define SLUICE_LCORE_COUNTERS(X)                                                 \
	X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes)                       \
	X(flow_live) X(flow_inserts) X(flow_evictions) X(flow_expired)         \
	X(flow_repicks) X(flow_insert_capped) X(flow_reopened)                    \
	X(icmp_too_big_sent) X(arp_replies) X(nd_replies)                         \
	X(busy_cycles) X(busy_packets) X(snapshot_rejected)                       \
	X(handoff_sent) X(handoff_received) X(handoff_dropped)                    \
	X(to_kernel) X(from_kernel)

struct sluice_lcore_counters {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_LCORE_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
	__u64 drops[SLUICE_DROP_MAX];
};

/* A port's own counters (DPDK's rte_eth_stats, named as there), written by
 * sluice-dp's main lcore from the device: what the NIC saw, dropped or
 * could not deliver before any worker read a packet. imissed: no free RX
 * descriptor (the queue's worker did not keep up); rx_nombuf: no mbuf to
 * refill a descriptor with; ierrors / oerrors: bad frames in, frames the
 * device failed to send. The order is the shared-memory layout. */
#define SLUICE_PORT_COUNTERS(X)                                                  \
	X(ipackets) X(ibytes) X(opackets) X(obytes) X(imissed) X(ierrors)         \
	X(oerrors) X(rx_nombuf)

struct sluice_port_counters {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_PORT_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
};

/* One queue pair of a port (rte_eth_stats' q_* arrays, which are also
 * DPDK's rx_qN_* / tx_qN_* xstats); errors: packets the queue dropped, for
 * the devices that say. */
#define SLUICE_QUEUE_COUNTERS(X) X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes) X(errors)

struct sluice_queue_counters {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_QUEUE_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
};

/* Packets and bytes of one VIP or backend. */
struct sluice_counter_pair {
	__u64 packets;
	__u64 bytes;
};

/* The metric name of a drop reason (the same names label the XDP path's
 * passes). Never called from BPF: the array costs it nothing. */
static inline const char *sluice_drop_name(unsigned int reason)
{
	static const char *const names[SLUICE_DROP_MAX] = {
#define SLUICE_X_NAME(name, str) str,
		SLUICE_DROP_REASONS(SLUICE_X_NAME)
#undef SLUICE_X_NAME
	};

	return reason < SLUICE_DROP_MAX ? names[reason] : "unknown";
}

#endif /* SLUICE_COUNTERS_H */
