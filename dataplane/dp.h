/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp's application state, shared by its init steps (main.c,
 * ports.c, status.c, telemetry.c) and its lcore loop (worker.c). The
 * packet path itself (process.c, flowtable.c, neigh.c) does not see it.
 */
#ifndef SLUICE_DP_DP_H
#define SLUICE_DP_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "sluice/shm.h"
#include "options.h"
#include "process.h"
#include "rss.h"

extern int sluice_dp_logtype;
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, sluice_dp_logtype, "sluice-dp: " fmt "\n", ##__VA_ARGS__)

#define DP_TXBUF_MAX (2 * SLUICE_DP_BURST_MAX)
#define DP_NO_QUEUE 0xffff

/* Packets waiting for a TX burst on one port. */
struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *m[DP_TXBUF_MAX];
};

/* An RX queue a worker polls. */
struct dp_rxq {
	uint16_t port;
	uint16_t queue;
};

struct dp_app;

/* One worker lcore: its processing state, its queues, its status slot. */
struct dp_worker {
	struct sluice_dp_lcore dp;		/* flow table, counters, scratch */
	struct dp_app *app;			/* options, the config pointer */
	unsigned int lcore_id;			/* DPDK lcore id */
	unsigned int index;			/* slot in the status region; queue number */
	int socket;				/* NUMA socket of the lcore */
	struct sluice_lcore_status *status;	/* its slot in the status region */
	unsigned int n_rxq;
	struct dp_rxq rxq[SLUICE_DP_MAX_PORTS];
	uint16_t txq[SLUICE_DP_MAX_PORTS];	/* its TX queue per port, or DP_NO_QUEUE */
	struct dp_txbuf tx[SLUICE_DP_MAX_PORTS];
	const struct sluice_snapshot *snap;	/* in use: the last one adopted */
	__u64 seen_gen;				/* the last generation looked at */
} __rte_cache_aligned;

struct dp_app {
	struct dp_options opt;
	unsigned int n_workers;
	struct dp_worker *workers[SLUICE_MAX_LCORES];
	uint16_t n_ports;
	uint16_t ports[SLUICE_DP_MAX_PORTS];		/* DPDK port ids in use */
	uint16_t n_queues[SLUICE_DP_MAX_PORTS];		/* RX = TX queues, by port id */
	bool started[SLUICE_DP_MAX_PORTS];		/* by port id */
	uint64_t rss_hf[SLUICE_DP_MAX_PORTS];		/* hash functions in use; 0: no RSS */
	uint8_t rss_key_len[SLUICE_DP_MAX_PORTS];	/* of sluice_dp_rss_key; 0: the device's key */
	uint16_t reta_size[SLUICE_DP_MAX_PORTS];	/* programmed by sluice; 0: not */
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];	/* one per socket in use */
	struct sluice_status_region status;		/* created at start */
	struct sluice_lcore_status *private_status;	/* --no-shm: not shared */
	/* Per port, in ports[] order: the status region's, or private with
	 * --no-shm. Written by the main lcore only. */
	struct sluice_port_status *port_status;
	struct sluice_config_region cfg_region;		/* mapped once sluiced made it */
	/* Workers read the config through this pointer: NULL until the
	 * region is attached (release store by main, acquire loads). */
	struct sluice_config_region *cfg;
	uint64_t cfg_attach_ns;				/* when it was attached */
	/* Per worker: mbufs other workers hand it (ICMP errors about its
	 * flows); NULL with one worker. */
	struct rte_ring *handoff[SLUICE_MAX_LCORES];
	/* By data port id: the DPDK port of its TAP to the kernel, or
	 * DP_NO_QUEUE (tap.c). */
	uint16_t tap_port[SLUICE_DP_MAX_PORTS];
	bool tap_started[SLUICE_DP_MAX_PORTS];
	/* the largest frame the kernel may send out of the port: its MTU, an
	 * Ethernet header and a VLAN tag */
	uint16_t tap_max_frame[SLUICE_DP_MAX_PORTS];
};

/* Set by the signal handlers; every loop checks it. */
extern volatile bool dp_force_quit;

/* ports.c */
#define DP_RETA_MAX 2048 /* ice */
int dp_ports_init(struct dp_app *app);
void dp_ports_check_links(struct dp_app *app, bool log_all);
void dp_ports_fini(struct dp_app *app);

/* status.c */
int dp_status_init(struct dp_app *app);
int dp_config_poll(struct dp_app *app);
void dp_status_log(const struct dp_app *app, bool final);
void dp_status_watch(const struct dp_app *app);
void dp_status_ports(struct dp_app *app);
void dp_status_fini(struct dp_app *app);

/* worker.c */
int dp_worker_main(void *arg);
/* Send what w buffered for port. */
void dp_tx_flush(struct dp_worker *w, uint16_t port);

/* tap.c: the exception path's TAPs (after dp_ports_init; dp_tap_mbufs
 * sizes the pools before). */
unsigned int dp_tap_mbufs(const struct dp_app *app);
int dp_tap_init(struct dp_app *app);
void dp_tap_fini(struct dp_app *app);
/* The frames of the last burst for the kernel (w->dp.n_kernel), to the
 * TAP of port. */
void dp_tap_send(struct dp_worker *w, uint16_t port);
/* What the kernel sent on w's TAP queues, into w's TX buffers. */
void dp_tap_poll(struct dp_worker *w, uint64_t now);

/* telemetry.c */
int dp_telemetry_init(const struct dp_app *app);
/* Before the application's state goes: commands answer -ENODEV from now. */
void dp_telemetry_fini(void);

#endif /* SLUICE_DP_DP_H */
