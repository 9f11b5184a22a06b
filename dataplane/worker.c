/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore loop (the shape of l3fwd's main_loop): poll every RX
 * queue the worker owns, process each burst under the snapshot loaded
 * (and acknowledged) right after it arrived, send the results back out of
 * the port they came from through per-port TX buffers that a TSC timer drains.
 * Frames for the host's kernel go to the port's TAP right after their
 * burst; what the kernel sent is read on the drain timer (tap.c).
 * A second, slower timer writes the heartbeat, flushes the counters to the
 * status region and advances the flow table's clock hand. Never blocks,
 * never takes a lock.
 *
 * Busy cycles: from before an RX burst that returns packets to after they
 * were handed to TX, the same span testpmd's --record-core-cycles counts.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "snapshot.h"
#include "dp.h"

#define HOUSEKEEPING_US 1000
#define SWEEP_PERIOD_MS 10000 /* the clock hand goes round in about this long */

volatile bool dp_force_quit;

/* Send everything buffered for port. Bytes are summed before the driver
 * may free the mbufs. */
void dp_tx_flush(struct dp_worker *w, uint16_t port)
{
	struct dp_txbuf *b = &w->tx[port];
	struct sluice_lcore_counters *c = &w->dp.ctr;
	uint64_t bytes = 0;
	uint16_t sent;

	for (uint16_t i = 0; i < b->n; i++)
		bytes += rte_pktmbuf_pkt_len(b->m[i]);
	sent = rte_eth_tx_burst(port, w->txq[port], b->m, b->n);
	if (unlikely(sent < b->n)) {
		for (uint16_t i = sent; i < b->n; i++)
			bytes -= rte_pktmbuf_pkt_len(b->m[i]);
		c->drops[SLUICE_DROP_TX_FULL] += (uint64_t)(b->n - sent);
		rte_pktmbuf_free_bulk(&b->m[sent], b->n - sent);
	}
	c->tx_packets += sent;
	c->tx_bytes += bytes;
	b->n = 0;
}

/* Pass the ICMP errors and fragments this burst left for other workers to their rings.
 * A full ring drops (counted): the hand-off must never make a worker wait
 * for another. */
static void handoff_send(struct dp_worker *w)
{
	struct sluice_dp_lcore *lc = &w->dp;

	for (uint16_t i = 0; i < lc->n_handoff; i++) {
		struct rte_ring *r = w->app->handoff[lc->handoff_to[i]];

		if (likely(r && rte_ring_mp_enqueue(r, lc->handoff_m[i]) == 0)) {
			lc->ctr.handoff_sent++;
		} else {
			lc->ctr.handoff_dropped++;
			rte_pktmbuf_free(lc->handoff_m[i]);
		}
	}
	lc->n_handoff = 0;
}

/* What other workers passed on: one at a time (they are rare, and each
 * goes back out of the port it came in on, in m->port), never passed on
 * again. */
static void handoff_receive(struct dp_worker *w, const struct sluice_snapshot *snap,
			    uint64_t now)
{
	struct rte_ring *r = w->app->handoff[w->index];
	struct rte_mbuf *in[SLUICE_DP_BURST_MAX], *out;
	unsigned int n;

	if (likely(!r || rte_ring_empty(r)))
		return;
	n = rte_ring_sc_dequeue_burst(r, (void **)in, SLUICE_DP_BURST_MAX, NULL);
	w->dp.handed = true;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t port = in[i]->port;

		w->dp.ctr.handoff_received++;
		if (unlikely(port >= SLUICE_DP_MAX_PORTS || w->txq[port] == DP_NO_QUEUE)) {
			rte_pktmbuf_free(in[i]);
			continue;
		}
		if (sluice_dp_process(&w->dp, snap, port, &in[i], 1, &out, now) == 1) {
			w->tx[port].m[w->tx[port].n++] = out;
			if (w->tx[port].n >= w->app->opt.burst)
				dp_tx_flush(w, port);
		}
	}
	w->dp.handed = false;
}

static void tx_flush_all(struct dp_worker *w)
{
	for (unsigned int q = 0; q < w->n_rxq; q++)
		if (w->tx[w->rxq[q].port].n)
			dp_tx_flush(w, w->rxq[q].port);
}

/* Nothing arrived for a while: send what waits, then give the CPU away. */
static void idle_sleep(struct dp_worker *w, unsigned int us)
{
	tx_flush_all(w);
	rte_delay_us_sleep(us);
}

static void housekeeping(struct dp_worker *w, uint64_t tsc, uint32_t sweep_n)
{
	sluice_lcore_heartbeat(w->status, sluice_now_ns());
	sluice_dp_sweep(&w->dp, tsc, sweep_n);
	sluice_dp_flush(&w->dp);
}

/* A new generation: check its layout before anything indexes with it
 * (lib/snapshot_check.c; table values are bounded where they are read). A
 * bad one is refused and not acknowledged, so the writer cannot reclaim
 * the slot this lcore still reads: it keeps forwarding with the snapshot it
 * had (fail static), says so once and counts it, and sluiced sees the
 * generation unacknowledged. */
static const struct sluice_snapshot *adopt(struct dp_worker *w, const struct sluice_snapshot *snap,
					   __u64 gen, __u64 *acked)
{
	char err[256];

	w->seen_gen = gen;
	if (snap && sluice_snapshot_check_layout(snap, err, sizeof(err)) < 0) {
		w->dp.ctr.snapshot_rejected++;
		DP_LOG(ERR, "worker lcore %u: generation %llu refused, keeping %llu: %s",
		       w->lcore_id, (unsigned long long)gen, (unsigned long long)*acked, err);
		return w->snap;
	}
	sluice_lcore_ack(w->status, gen);
	*acked = gen;
	w->snap = snap;
	return snap;
}

/* Load the current snapshot (NULL before sluiced published one) and
 * acknowledge its generation when it changed: from now on this lcore reads
 * no older one. */
static inline const struct sluice_snapshot *load_snapshot(struct dp_worker *w,
							  const struct dp_app *app, __u64 *acked)
{
	const struct sluice_config_region *cfg = __atomic_load_n(&app->cfg, __ATOMIC_ACQUIRE);
	const struct sluice_snapshot *snap;
	__u64 gen;

	if (unlikely(cfg == NULL))
		return NULL;
	snap = sluice_config_current(cfg, &gen);
	if (unlikely(gen != w->seen_gen))
		return adopt(w, snap, gen, acked);
	return w->snap;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	const struct dp_app *app = w->app;
	const uint64_t hz = rte_get_tsc_hz();
	const uint64_t drain_tsc = (hz + 999999) / 1000000 * app->opt.tx_drain_us;
	const uint64_t house_tsc = (hz + 999999) / 1000000 * HOUSEKEEPING_US;
	const uint16_t burst = (uint16_t)app->opt.burst;
	const uint32_t sweep_n =
		(uint32_t)(sluice_ft_capacity(w->dp.ft) / SLUICE_FT_WAYS /
			   (SWEEP_PERIOD_MS * 1000 / HOUSEKEEPING_US)) + 1;
	struct rte_mbuf *pkts[SLUICE_DP_BURST_MAX], *out[SLUICE_DP_BURST_MAX];
	const uint64_t idle_tsc = (hz + 999999) / 1000000 * app->opt.idle_sleep_us;
	uint64_t prev_drain = rte_rdtsc(), prev_house = prev_drain, last_busy = prev_drain;
	__u64 acked = 0;

	sluice_lcore_heartbeat(w->status, sluice_now_ns());
	__atomic_store_n(&w->status->state, SLUICE_LCORE_ONLINE, __ATOMIC_RELEASE);
	/* Before the first load of the generation: the other half of the
	 * fence in sluice_config_publish (a store may pass a later load). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	DP_LOG(INFO, "worker lcore %u (socket %d): %u RX queue%s", w->lcore_id, w->socket,
	       w->n_rxq, w->n_rxq == 1 ? "" : "s");

	while (!dp_force_quit) {
		const struct sluice_snapshot *snap;
		uint64_t cur = rte_rdtsc();
		bool busy = false;

		if (unlikely(cur - prev_drain >= drain_tsc)) {
			/* The kernel's frames wait at most this long. */
			if (w->dp.exc)
				dp_tap_poll(w, cur);
			tx_flush_all(w);
			prev_drain = cur;
			if (cur - prev_house >= house_tsc) {
				housekeeping(w, cur, sweep_n);
				prev_house = cur;
			}
		}

		for (unsigned int q = 0; q < w->n_rxq; q++) {
			const uint16_t port = w->rxq[q].port;
			struct dp_txbuf *b = &w->tx[port];
			uint64_t start = rte_rdtsc();
			uint16_t nb, nout;

			nb = rte_eth_rx_burst(port, w->rxq[q].queue, pkts, burst);
			if (nb == 0)
				continue;
			/* The snapshot for this burst, loaded after the packets
			 * arrived (so it is at least as new as any published
			 * before they were sent), acknowledged, and used for
			 * the whole burst. */
			snap = load_snapshot(w, app, &acked);
			nout = sluice_dp_process(&w->dp, snap, port, pkts, nb, out, start);
			if (unlikely(w->dp.n_handoff))
				handoff_send(w);
			if (unlikely(w->dp.n_kernel))
				dp_tap_send(w, port);
			for (uint16_t i = 0; i < nout; i++)
				b->m[b->n++] = out[i];
			if (b->n >= burst)
				dp_tx_flush(w, port);
			w->dp.ctr.busy_cycles += rte_rdtsc() - start;
			w->dp.ctr.busy_packets += nb;
			busy = true;
		}
		/* Idle: still acknowledge new generations, or the writer
		 * would wait for this lcore until it counts as stale. */
		snap = busy ? w->snap : load_snapshot(w, app, &acked);
		handoff_receive(w, snap, cur);
		/* --idle-sleep-us: off the packet path (only after a round
		 * that found nothing, for that long), so that a host whose
		 * workers share CPUs with other work gives them the CPU. */
		if (busy)
			last_busy = cur;
		else if (unlikely(idle_tsc && cur - last_busy >= idle_tsc))
			idle_sleep(w, app->opt.idle_sleep_us);
	}

	tx_flush_all(w);
	housekeeping(w, rte_rdtsc(), 0);
	/* Holds no snapshot any more: sluiced need not wait for it. */
	__atomic_store_n(&w->status->state, SLUICE_LCORE_OFFLINE, __ATOMIC_RELEASE);
	return 0;
}
