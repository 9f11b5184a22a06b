/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-burst packet path. Three passes over a burst, so that the flow
 * table's cache misses overlap instead of adding up (the shape of
 * rte_hash's bulk lookup and VPP's lb node):
 *   1. parse, match the VIP, hash the flow, prefetch its bucket (one
 *      line: fingerprints, expiries and backends of its 4 ways);
 *   2. read the buckets, prefetch the alternate bucket of a flow that
 *      may live there (or whose insert will read it);
 *   3. in arrival order: look up / insert, pick, check the MTU,
 *      encapsulate or answer, count.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_errno.h>
#include <rte_prefetch.h>

#include "sluice/encap.h"
#include "exception.h"
#include "neigh.h"
#include "process.h"
#include "rss.h"

#define PREFETCH_AHEAD 4
#define SEND SLUICE_DROP_MAX /* "verdict: transmit" among the drop reasons */

int sluice_dp_lcore_init(struct sluice_dp_lcore *lc, const struct sluice_dp_config *cfg,
			 struct sluice_lcore_status *status, int socket)
{
	struct sluice_ft_params fp = {
		.flows = cfg->flows,
		.tsc_hz = cfg->tsc_hz,
		.socket = socket,
	};
	uint64_t now = rte_rdtsc();

	memset(lc, 0, sizeof(*lc));
	memcpy(fp.timeout_s, cfg->timeout_s, sizeof(fp.timeout_s));
	lc->cfg = cfg;
	lc->status = status;
	lc->ft = sluice_ft_create(&fp);
	if (!lc->ft)
		return -(rte_errno ? rte_errno : ENOMEM);
	sluice_dp_limit_init(&lc->syn_limit, cfg->syn_rate, cfg->tsc_hz, now);
	sluice_dp_limit_init(&lc->icmp_limit, cfg->icmp_rate, cfg->tsc_hz, now);
	if (sluice_dp_exc_init(lc, socket, now) < 0) {
		sluice_dp_lcore_fini(lc);
		return -ENOMEM;
	}
	return 0;
}

void sluice_dp_lcore_fini(struct sluice_dp_lcore *lc)
{
	sluice_dp_exc_fini(lc);
	sluice_ft_destroy(lc->ft);
	lc->ft = NULL;
}

/* Resize a single-segment frame to len bytes. */
static inline int set_len(struct rte_mbuf *m, uint16_t len)
{
	uint16_t have = rte_pktmbuf_data_len(m);

	if (have > len)
		return rte_pktmbuf_trim(m, (uint16_t)(have - len));
	if (have < len && !rte_pktmbuf_append(m, (uint16_t)(len - have)))
		return -1;
	return 0;
}

/* Over the MTU after encapsulation: tell the client (IPv4 with DF, IPv6),
 * never about an ICMP error, at most icmp_rate replies a second. The
 * request's mbuf becomes the reply. */
static int too_big(struct sluice_dp_lcore *lc, struct rte_mbuf *m, const struct sluice_pkt *p,
		   int room, uint64_t now)
{
	uint8_t quote[SLUICE_QUOTE_MAX];
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t len = (uint16_t)sluice_too_big_len(p);

	if (p->kind != SLUICE_PKT_FLOW || (p->family == SLUICE_FAMILY_V4 && !p->ip_df))
		return SLUICE_DROP_TOO_BIG;
	if (room < 0 || !sluice_dp_limit_take(&lc->icmp_limit, lc->cfg->tsc_hz, now))
		return SLUICE_DROP_TOO_BIG;
	if (sluice_too_big_quote(data, data + rte_pktmbuf_data_len(m), p, quote) < 0)
		return SLUICE_DROP_TOO_BIG;
	if (set_len(m, len) < 0)
		return SLUICE_DROP_TOO_BIG;
	if (sluice_too_big_write(data, data + len, p, quote, (uint16_t)room) < 0)
		return SLUICE_DROP_TOO_BIG;
	lc->ctr.drops[SLUICE_DROP_TOO_BIG]++;
	lc->ctr.icmp_too_big_sent++;
	return SEND;
}

/* Send m to be: MTU check, strip padding, grow the head, write headers. */
static inline int forward(struct sluice_dp_lcore *lc, const struct sluice_global_cfg *g,
			  uint16_t mtu, struct rte_mbuf *m, struct sluice_dp_pkt *s,
			  const struct sluice_backend *be, uint64_t now)
{
	const struct sluice_pkt *p = &s->p;
	const struct sluice_vip *vip = s->vip;
	int ov = sluice_encap_overhead(vip->mode, be->addr.family);
	uint32_t bytes = rte_pktmbuf_pkt_len(m);
	uint16_t end = (uint16_t)(p->l3_off + p->l3_len);
	uint8_t *data;

	if (unlikely(!sluice_encap_fits(p, ov, mtu)))
		return too_big(lc, m, p, (int)mtu - ov, now);
	/* Ethernet padding (or trailing bytes) is not part of the packet. */
	if (unlikely(rte_pktmbuf_data_len(m) > end))
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - end));
	/* The flow hash is written into GUE's source port and an outer
	 * IPv6 flow label only: an established flow's is computed here, for
	 * those alone (the flow table keeps no copy). */
	if (!s->hash_known && vip->mode != SLUICE_FWD_L2DSR &&
	    (vip->mode == SLUICE_FWD_GUE || be->addr.family == SLUICE_FAMILY_V6))
		s->hash = sluice_flow_hash(&p->key, vip->hash_seed);
	if (ov) {
		data = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)ov);
		if (unlikely(!data))
			return SLUICE_DROP_NO_MBUF; /* no headroom */
	} else {
		data = rte_pktmbuf_mtod(m, uint8_t *);
	}
	if (unlikely(sluice_encap_write(data, data + rte_pktmbuf_data_len(m), p, vip->mode, be, g,
					s->hash) < 0))
		return SLUICE_DROP_MALFORMED;
	lc->status->vip[vip->id].packets++;
	lc->status->vip[vip->id].bytes += bytes;
	lc->status->backend[be->id].packets++;
	lc->status->backend[be->id].bytes += bytes;
	return SEND;
}

/* A packet of a VIP flow (or an ICMP error quoting one): connection
 * tracking, then forward. */
static inline int do_flow(struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
			  const struct sluice_global_cfg *g, uint16_t mtu, struct rte_mbuf *m,
			  struct sluice_dp_pkt *s, uint32_t tick, uint64_t now)
{
	const struct sluice_pkt *p = &s->p;
	const struct sluice_vip *vip = s->vip;
	const struct sluice_backend *be = NULL;
	struct sluice_ft *ft = lc->ft;
	/* Over the insert cap a bare SYN is a new flow by the table, without
	 * a look at the flow table, as in the XDP path (docs/dataplane.md): a
	 * SYN retransmitted for a flow that has an entry too. */
	bool over = unlikely(sluice_bare_syn(p)) &&
		    !sluice_dp_limit_has(&lc->syn_limit, lc->cfg->tsc_hz, now);
	uint32_t e = over ? SLUICE_FT_MISS : sluice_ft_lookup(ft, s->ft_hash, tick);

	s->hash_known = false;
	if (e != SLUICE_FT_MISS) {
		/* Stay by sluice_flow_stays. (A change of the VIP's seed changes
		 * the table hash: the flow misses and is picked anew.) */
		const struct sluice_backend *b = sluice_snapshot_backend(snap, sluice_ft_backend(ft, e));

		if (likely(sluice_flow_stays(b, sluice_ft_vip(ft, e), vip->id))) {
			if (unlikely(sluice_syn_reopens(p, sluice_ft_cls(ft, e), b->state, b->weight)))
				lc->ctr.flow_reopened++;
			else
				be = b;
		}
		if (unlikely(!be)) {
			s->hash = sluice_flow_hash(&p->key, vip->hash_seed);
			s->hash_known = true;
			be = sluice_table_pick(snap, vip, s->hash);
			if (!be)
				return SLUICE_DROP_NO_BACKEND;
			sluice_ft_set(ft, e, be->id, vip->id);
			lc->ctr.flow_repicks++;
		}
		/* An ICMP error says nothing about the flow being alive. */
		if (p->kind == SLUICE_PKT_FLOW)
			sluice_ft_touch(ft, e, p->tcp_flags, tick);
	} else {
		/* New flows only: an entry exists only for a flow that passed. */
		if (unlikely(sluice_martian_key(&p->key) || sluice_source_is_vip(snap, &p->key)))
			return SLUICE_DROP_MARTIAN;
		s->hash = sluice_flow_hash(&p->key, vip->hash_seed);
		s->hash_known = true;
		be = sluice_table_pick(snap, vip, s->hash);
		if (unlikely(!be))
			return SLUICE_DROP_NO_BACKEND;
		if (p->kind == SLUICE_PKT_FLOW) {
			if (likely(!over && sluice_dp_limit_take(&lc->syn_limit, lc->cfg->tsc_hz, now))) {
				e = sluice_ft_insert(ft, s->ft_hash,
						     sluice_flow_class(p->l4_proto, p->tcp_flags,
								       SLUICE_FLOW_TCP),
						     tick);
				sluice_ft_set(ft, e, be->id, vip->id);
			} else {
				/* Over the insert cap: still consistent, by table. */
				lc->ctr.flow_insert_capped++;
			}
		}
	}
	return forward(lc, g, mtu, m, s, be, now);
}

static int do_neigh(struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
		    const struct rte_ether_addr *mac, struct rte_mbuf *m, const struct sluice_pkt *p)
{
	int r;

	if (!sluice_neigh_is_own(snap, lc->cfg, &p->vip))
		return SLUICE_DROP_NOT_VIP;
	if (p->kind == SLUICE_PKT_ARP) {
		r = sluice_neigh_arp_reply(m, p, mac);
		if (r == 0)
			lc->ctr.arp_replies++;
	} else {
		r = sluice_neigh_nd_reply(m, p, mac);
		if (r == 0)
			lc->ctr.nd_replies++;
	}
	return r == 0 ? SEND : r;
}

/* The worker whose queue the NIC gives the packets of flow k (RSS with
 * sluice's key and a round-robin RETA, as ports.c sets up), or lc->self
 * when that is unknown or this one. Asked for an ICMP error, which the NIC
 * hashed on its outer addresses (router to VIP), and for an IP fragment,
 * which it may have hashed on ports that only a first fragment carries.
 * A fragment's key has ports 0, and the NIC hashes fragments on their
 * addresses alone (RTE_ETH_RSS_FRAG_IPV4/6 in DP_RSS_HF): the Toeplitz
 * hash is an XOR of key windows over the input's set bits, so the 5-tuple
 * hash with zero ports is exactly that address-only hash. */
static uint16_t flow_owner(const struct sluice_dp_lcore *lc, uint16_t port,
			   const struct sluice_flow_key *k)
{
	uint16_t reta = port < SLUICE_DP_MAX_PORTS ? lc->cfg->reta_size[port] : 0;
	uint32_t h;

	if (lc->handed || lc->cfg->n_workers < 2 || reta == 0)
		return lc->self;
	if (k->family == SLUICE_FAMILY_V4) {
		uint32_t s, d;

		memcpy(&s, k->src, 4);
		memcpy(&d, k->dst, 4);
		h = sluice_dp_rss_hash_v4(rte_be_to_cpu_32(s), rte_be_to_cpu_32(d),
					  rte_be_to_cpu_16(k->sport), rte_be_to_cpu_16(k->dport));
	} else {
		h = sluice_dp_rss_hash_v6(k->src, k->dst, rte_be_to_cpu_16(k->sport),
					  rte_be_to_cpu_16(k->dport));
	}
	return sluice_dp_rss_queue(h, reta, lc->cfg->n_workers);
}

/* Leave m for the worker that owns flow k, if that is another: true when
 * it was left (the caller passes it on, see handoff_m). */
static bool hand_off(struct sluice_dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
		     const struct sluice_flow_key *k)
{
	uint16_t owner = flow_owner(lc, port, k);

	if (owner == lc->self)
		return false;
	lc->handoff_m[lc->n_handoff] = m;
	lc->handoff_to[lc->n_handoff++] = owner;
	return true;
}

/* Global settings for this burst: the snapshot's, with our source MAC
 * (override, else the snapshot's, else the port's). */
static void burst_global(const struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
			 uint16_t port, struct sluice_global_cfg *g, uint16_t *mtu)
{
	static const uint8_t zero[6];
	const struct sluice_dp_config *cfg = lc->cfg;

	if (snap)
		*g = snap->global;
	else
		memset(g, 0, sizeof(*g));
	if (cfg->lb_mac_set)
		memcpy(g->lb_mac, &cfg->lb_mac, 6);
	else if (memcmp(g->lb_mac, zero, 6) == 0 && port < SLUICE_DP_MAX_PORTS)
		memcpy(g->lb_mac, &cfg->port_mac[port], 6);
	*mtu = cfg->mtu ? cfg->mtu : g->mtu ? g->mtu : SLUICE_DEFAULT_MTU;
}

uint16_t sluice_dp_process(struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
			   uint16_t port, struct rte_mbuf **pkts, uint16_t n, struct rte_mbuf **out,
			   uint64_t now)
{
	struct sluice_dp_pkt *sc = lc->scratch;
	struct rte_mbuf *drop[SLUICE_DP_BURST_MAX];
	uint8_t flow_idx[SLUICE_DP_BURST_MAX];
	unsigned int n_flow = 0, n_out = 0, n_drop = 0;
	uint32_t tick = sluice_ft_now(lc->ft, now);
	struct sluice_global_cfg g;
	uint64_t rx_bytes = 0;
	uint16_t mtu;

	if (n > SLUICE_DP_BURST_MAX)
		n = SLUICE_DP_BURST_MAX; /* callers respect the limit; never overrun */
	lc->n_handoff = 0;
	lc->n_kernel = 0;
	burst_global(lc, snap, port, &g, &mtu);

	/* Pass 1: classify, match, hash, prefetch the bucket. */
	for (unsigned int i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sluice_dp_pkt *s = &sc[i];
		const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
		int kind;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += rte_pktmbuf_pkt_len(m);
		/* Headers are in the first segment (no scatter RX); a packet
		 * longer than it parses as truncated. */
		kind = sluice_parse(data, data + rte_pktmbuf_data_len(m), &s->p);
		if (kind != SLUICE_PKT_FLOW && kind != SLUICE_PKT_ICMP_ERR)
			continue;
		if (unlikely(!snap)) {
			sluice_pkt_drop(&s->p, SLUICE_DROP_NO_CONFIG);
			continue;
		}
		s->vip = sluice_vip_match(snap, &s->p.vip, s->p.vip_port, s->p.l4_proto);
		if (!s->vip) {
			sluice_pkt_other(&s->p, SLUICE_DROP_NOT_VIP);
			continue;
		}
		s->ft_hash = sluice_ft_hash(&s->p.key, s->vip->hash_seed);
		sluice_ft_prefetch_bucket(lc->ft, s->ft_hash);
		/* The outer headers go in front of the frame, in headroom the
		 * NIC (or memif's copy) did not touch: a cold line, written in
		 * pass 3. Profiling (perf, cpu-clock) put ~6 % of the
		 * processing on that miss. */
		__builtin_prefetch(data - RTE_CACHE_LINE_SIZE / 2, 1, 3);
		flow_idx[n_flow++] = (uint8_t)i;
	}

	/* Pass 2: the headers are (mostly) here; fetch what pass 3 reads. */
	for (unsigned int j = 0; j < n_flow; j++)
		sluice_ft_prefetch_entry(lc->ft, sc[flow_idx[j]].ft_hash);

	/* Pass 3: act, in arrival order. */
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct sluice_dp_pkt *s = &sc[i];
		int r;

		switch (s->p.kind) {
		case SLUICE_PKT_FLOW:
			/* A fragment's entry (3-tuple) is in the table of the
			 * worker its addresses hash to, which need not be the
			 * one the NIC chose for this fragment. */
			if (unlikely(s->p.fragment) && hand_off(lc, port, m, &s->p.key))
				continue;
			r = do_flow(lc, snap, &g, mtu, m, s, tick, now);
			break;
		case SLUICE_PKT_ICMP_ERR:
			if (hand_off(lc, port, m, &s->p.key))
				continue;
			r = do_flow(lc, snap, &g, mtu, m, s, tick, now);
			break;
		case SLUICE_PKT_ARP:
		case SLUICE_PKT_ND:
			r = do_neigh(lc, snap, (const struct rte_ether_addr *)g.lb_mac, m, &s->p);
			break;
		default:
			r = s->p.drop_reason;
			break;
		}
		if (likely(r == SEND)) {
			out[n_out++] = m;
		} else if (unlikely(lc->exc != NULL) &&
			   (r = sluice_dp_exc_verdict(lc, snap, port, m, &s->p, g.lb_mac, r, now)) ==
				   SLUICE_DP_TO_KERNEL) {
			/* the host's: the caller writes it to the port's TAP */
		} else {
			lc->ctr.drops[r < SLUICE_DROP_MAX ? r : SLUICE_DROP_MALFORMED]++;
			drop[n_drop++] = m;
		}
	}
	if (n_drop)
		rte_pktmbuf_free_bulk(drop, n_drop);
	if (lc->handed)
		return (uint16_t)n_out; /* counted by the worker that received them */
	lc->ctr.rx_packets += n;
	lc->ctr.rx_bytes += rx_bytes;
	return (uint16_t)n_out;
}

void sluice_dp_sweep(struct sluice_dp_lcore *lc, uint64_t now, uint32_t n)
{
	sluice_ft_sweep(lc->ft, sluice_ft_now(lc->ft, now), n);
}

void sluice_dp_flush(struct sluice_dp_lcore *lc)
{
	const struct sluice_ft_stats *fs = &lc->ft->stats;

	lc->ctr.flow_live = fs->entries;
	lc->ctr.flow_inserts = fs->inserts;
	lc->ctr.flow_evictions = fs->evictions;
	lc->ctr.flow_expired = fs->expired;
	/* Word by word, each store whole (a struct copy may be done in any
	 * width): readers (sluiced, telemetry) see every counter whole. One
	 * writer, so relaxed stores suffice. */
	{
		const __u64 *src = (const __u64 *)&lc->ctr;
		__u64 *dst = (__u64 *)&lc->status->counters;

		_Static_assert(sizeof(lc->ctr) % sizeof(__u64) == 0, "counters are 64-bit words");
		for (size_t i = 0; i < sizeof(lc->ctr) / sizeof(__u64); i++)
			__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	}
}
