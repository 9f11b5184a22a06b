/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet processing of one burst on one lcore: parse (include/sluice/
 * packet.h), match the VIP, look the flow up in this lcore's flow table,
 * pick a backend on a miss, check the MTU, encapsulate (include/sluice/
 * encap.h), answer ARP / neighbour solicitations and send ICMP too-big
 * replies, and count everything.
 *
 * No port, queue or lcore-launch code here: the caller hands in received
 * mbufs and the snapshot it loaded for this burst, and gets back the mbufs
 * to transmit on the port they came from. The packet tests and the
 * benchmarks call it directly.
 *
 * Thread safety: a struct sluice_dp_lcore belongs to one thread.
 */
#ifndef SLUICE_DP_PROCESS_H
#define SLUICE_DP_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "sluice/packet.h"
#include "sluice/shm.h"
#include "flowtable.h"
#include "limit.h"

#define SLUICE_DP_BURST_MAX 64
#define SLUICE_DP_MAX_OWN 16
#define SLUICE_DP_MAX_PORTS 32 /* ports the processing keeps a MAC for */

/* Settings of the processing, shared read-only by every lcore. */
struct sluice_dp_config {
	uint64_t tsc_hz;			/* rte_get_tsc_hz() */
	uint32_t flows;				/* flow table size per lcore (flows) */
	uint32_t timeout_s[SLUICE_FT_NCLASS];	/* idle timeouts: TCP, UDP, after FIN/RST */
	uint32_t syn_rate;			/* new-flow inserts per second per lcore; 0: no cap */
	uint32_t icmp_rate;			/* too-big replies per second per lcore; 0: no cap */
	uint16_t mtu;				/* egress MTU override (IP bytes); 0: the snapshot's */
	bool lb_mac_set;			/* lb_mac overrides the snapshot's and the port's */
	struct rte_ether_addr lb_mac;
	unsigned int n_own;			/* extra own addresses (ARP/ND), --own-addr */
	struct sluice_addr own[SLUICE_DP_MAX_OWN];
	struct rte_ether_addr port_mac[SLUICE_DP_MAX_PORTS]; /* fallback source MAC per port */
	/* Which worker a flow's packets reach (rss.h): the workers' number,
	 * and per port the RETA size its queues are spread with, 0 when the
	 * spread is not known (no hand-off on that port). */
	uint16_t n_workers;
	uint16_t reta_size[SLUICE_DP_MAX_PORTS];
	/* The exception path (exception.h): bit p set when port p has a TAP
	 * to the kernel; frames per second per lcore, each way. */
	uint32_t exception_ports;
	uint32_t exception_rate;
};

/* Per-packet scratch of a burst. */
struct sluice_dp_pkt {
	struct sluice_pkt p;
	const struct sluice_vip *vip;
	uint64_t ft_hash; /* where the flow lives in the flow table (sluice_ft_hash) */
	uint64_t hash;	  /* the flow hash (XXH64), when hash_known */
	bool hash_known;  /* computed for this packet (new or re-picked flow) */
};

struct sluice_dp_exc;

/* Everything one lcore's processing owns. */
struct sluice_dp_lcore {
	const struct sluice_dp_config *cfg;
	struct sluice_ft *ft;
	/* Per-lcore counters, flushed to the status region by the owner
	 * (sluice_dp_flush); per VIP and per backend pairs are written in
	 * place (plain stores: one writer). */
	struct sluice_lcore_counters ctr;
	struct sluice_lcore_status *status;
	struct sluice_dp_limit syn_limit;
	struct sluice_dp_limit icmp_limit;
	struct sluice_dp_pkt scratch[SLUICE_DP_BURST_MAX];
	/* Hand-off: an ICMP error about a flow whose packets RSS gives to
	 * another worker, or an IP fragment whose addresses RSS gives to
	 * another worker, is left here for the caller to pass on (its flow
	 * entry, the backend the flow really uses, is in that worker's
	 * table). self: this lcore's queue (= worker) index; handed: the
	 * burst was handed over already, never pass it on again. */
	uint16_t self;
	bool handed;
	uint16_t n_handoff;
	/* Frames of this burst for the kernel, in exc->m: the caller writes
	 * them to the port's TAP. exc: NULL when no port has one. */
	uint16_t n_kernel;
	struct rte_mbuf *handoff_m[SLUICE_DP_BURST_MAX];
	uint16_t handoff_to[SLUICE_DP_BURST_MAX];
	struct sluice_dp_exc *exc;
} __rte_cache_aligned;

/* Set up lc for one lcore: its flow table on socket, counters into status
 * (which must outlive lc; any zeroed struct sluice_lcore_status will do in
 * tests). Returns 0 or -errno. */
int sluice_dp_lcore_init(struct sluice_dp_lcore *lc, const struct sluice_dp_config *cfg,
			 struct sluice_lcore_status *status, int socket);
void sluice_dp_lcore_fini(struct sluice_dp_lcore *lc);

/*
 * Process n (<= SLUICE_DP_BURST_MAX) mbufs received on port under snap
 * (NULL: nothing published yet), at TSC now. Packets to send back out of
 * port are stored in out (room for n); the ones for another worker (see
 * handoff_m) are left in lc->handoff_m, the ones for the kernel in
 * lc->exc->m (lc->n_kernel of them); the others are freed and counted.
 * Returns the number of packets in out.
 */
uint16_t sluice_dp_process(struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
			   uint16_t port, struct rte_mbuf **pkts, uint16_t n, struct rte_mbuf **out,
			   uint64_t now);

/* Housekeeping the lcore does between bursts: advance the flow table's
 * clock hand by n buckets. */
void sluice_dp_sweep(struct sluice_dp_lcore *lc, uint64_t now, uint32_t n);

/* Copy the lcore counters (and the flow table's) to the status region. */
void sluice_dp_flush(struct sluice_dp_lcore *lc);

#endif /* SLUICE_DP_PROCESS_H */
