/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * From a classified packet to a backend: the VIP match (the index: exact
 * port, then the port-0 wildcard), connection tracking in the host's
 * flow table (shared by every CPU: xdp_abi.h), and the VIP's lookup table (map-in-map) for new flows.
 *
 * Connection tracking follows sluice_flow_stays (include/sluice/model.h):
 * an established flow keeps its backend while that backend is still in the
 * VIP's set and its state keeps flows (active or draining); otherwise the
 * flow is re-picked from the table in force and its entry updated. Only
 * TCP/UDP packets (kind FLOW) create entries and refresh their age; an ICMP
 * error follows the entry of
 * the flow it quotes (re-picking it like a packet of the flow would), or
 * the table. The DPDK path does the same (dataplane/process.c).
 *
 * Every map on the path of an established flow is an ARRAY or PERCPU_ARRAY
 * whose lookups the verifier inlines; only a new flow reads its VIP's
 * table through map-in-map (docs/xdp.md, "performance"). A flow's two
 * candidate sets are one cache line each.
 */
#ifndef SLUICE_XDP_FLOW_H
#define SLUICE_XDP_FLOW_H

#include "sluice/packet.h"

#include "xdp_counters.h"
#include "xdp_maps.h"

/* What the VIP index says about the packet's VIP. */
struct vip_hit {
	__u64 hash_seed;
	__u32 id;
	__u8 mode;
	const struct sluice_xdp_cfg *cfg; /* the version it was found in */
	__u32 version;
};

/* The version in force (cfg_sel) and its settings, or NULL when nothing
 * was published. */
static SLUICE_INLINE const struct sluice_xdp_cfg *cfg_get(__u32 *version)
{
	const struct sluice_xdp_cfg_sel *sel;
	__u32 zero = 0, v;

	sel = bpf_map_lookup_elem(&cfg_sel, &zero);
	if (!sel || !sel->configured)
		return NULL;
	v = sel->slot & 1;
	*version = v;
	return bpf_map_lookup_elem(&cfg, &v);
}

/* Probe one version of the index for (address, port, protocol): the
 * address as the two words it has in a flow key. */
static SLUICE_INLINE const struct sluice_xdp_vip_entry *
vip_probe(__u64 lo, __u64 hi, __u8 family, __u8 proto, __u32 version, __be16 port,
	  __u64 index_seed)
{
	__u32 slot = sluice_xdp_vip_slot(lo, hi, family, port, proto, index_seed);

#pragma unroll
	for (int n = 0; n < SLUICE_XDP_VIP_PROBES; n++) {
		__u32 idx = version * SLUICE_XDP_VIP_INDEX_SIZE +
			    ((slot + n) & (SLUICE_XDP_VIP_INDEX_SIZE - 1));
		const struct sluice_xdp_vip_entry *e = bpf_map_lookup_elem(&vip_index, &idx);

		if (!e || !e->family)
			return NULL;
		if (e->addr_lo == lo && e->addr_hi == hi && e->family == family &&
		    e->port == port && e->proto == proto)
			return e;
	}
	return NULL;
}

/* The VIP of (address, port) in the packet's protocol: exact port first,
 * then the wildcard of its protocol. */
static SLUICE_INLINE const struct sluice_xdp_vip_entry *
vip_lookup(const struct sluice_pkt *p, const struct sluice_xdp_cfg *c, __u32 version, __u64 lo,
	   __u64 hi, __be16 port)
{
	const struct sluice_xdp_vip_entry *e;

	e = vip_probe(lo, hi, p->key.family, p->key.proto, version, port, c->index_seed);
	if (!e && port != 0 &&
	    (c->wildcards & sluice_xdp_wildcard_bit(p->key.family, p->key.proto)))
		e = vip_probe(lo, hi, p->key.family, p->key.proto, version, 0, c->index_seed);
	return e;
}

/* The VIP the packet is for (key.dst is the VIP address for FLOW and
 * ICMP_ERR alike). Returns 0 and fills *hit, or -1. */
static SLUICE_INLINE int vip_find(const struct sluice_pkt *p, const struct sluice_xdp_cfg *c,
				  __u32 version, struct vip_hit *hit)
{
	const struct sluice_xdp_vip_entry *e;

	e = vip_lookup(p, c, version, p->key.words[2], p->key.words[3], p->vip_port);
	if (!e)
		return -1;
	hit->hash_seed = e->hash_seed;
	hit->id = e->vip_id;
	hit->mode = e->mode;
	hit->cfg = c;
	hit->version = version;
	return 0;
}

/* The client claims to be a VIP (sluice_source_is_vip in shm.h, the DPDK
 * path's rule): checked for new flows only. A BPF subprogram, not inlined:
 * its probe loop would otherwise be a second copy in the program, for a
 * path established flows never take. Taking the packet's address keeps
 * struct sluice_pkt in memory on every path; inlined (or given scalars),
 * the parser's results stay in registers and a non-VIP pass costs ~4 ns
 * less, but an established flow ~4-5 ns more (docs/xdp.md, "program
 * size"), so it stays as it is. */
static __attribute__((noinline)) int source_is_vip(const struct sluice_pkt *p,
						    const struct vip_hit *vip)
{
	return vip_lookup(p, vip->cfg, vip->version, p->key.words[0], p->key.words[1],
			  p->key.sport) != NULL;
}

/* The backend id that slot hash % M of the VIP's table names; -1 when the
 * VIP has no backend for new flows, -2 when its table is missing or built
 * for another id (a publish in progress). */
static SLUICE_INLINE int table_pick(__u32 vip_id, __u64 hash)
{
	const union sluice_xdp_table_entry *e;
	__u32 zero = 0, m, slot, idx;
	void *tbl;

	tbl = bpf_map_lookup_elem(&tables, &vip_id);
	if (!tbl)
		return -2;
	e = bpf_map_lookup_elem(tbl, &zero);
	if (!e || e->hdr.vip_id != vip_id)
		return -2;
	m = e->hdr.m;
	if (m == 0)
		return -1;
	slot = sluice_table_slot(hash, m);
	idx = 1 + slot / SLUICE_XDP_SLOTS_PER_ENTRY;
	e = bpf_map_lookup_elem(tbl, &idx);
	if (!e)
		return -2;
	return e->ids[slot % SLUICE_XDP_SLOTS_PER_ENTRY];
}

/* The kernel's tick rate, for the flow table's clock (libbpf reads it from
 * the kernel's configuration; Debian's when that cannot be read). */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* The flow table's clock: jiffies in units of 2^SLUICE_XDP_TIME_SHIFT, 30
 * bits, offset by half their range so that an empty way (seen 0) is as old
 * as anything can be in flow_left, without a test for it (a branch per way
 * there multiplies the verifier's paths through the victim choice; the
 * victim choice tests seen itself, for the span after each wrap). jiffies, not the coarse
 * nanosecond clock: bpf_jiffies64 is a load, bpf_ktime_get_coarse_ns a
 * sequence-counted read that cost ~18 ns a packet here. */
static SLUICE_INLINE __u32 flow_now(void)
{
	return (__u32)((bpf_jiffies64() >> SLUICE_XDP_TIME_SHIFT) + (1u << 29)) &
	       SLUICE_XDP_TIME_MASK;
}

/* Units of time way w has left before it expires; <= 0: empty or expired.
 * Branch-free, for the reason above. */
static SLUICE_INLINE int flow_left(const struct sluice_xdp_flow *w, __u32 now)
{
	__u32 seen = w->seen, age = (now - (seen >> 2)) & SLUICE_XDP_TIME_MASK;
	__u32 secs = (SLUICE_XDP_TIMEOUTS >> ((seen & 3) * 10)) & 0x3ff;
	__u32 hz = CONFIG_HZ ? CONFIG_HZ : SLUICE_XDP_DEFAULT_HZ;

	return (int)((secs * hz) >> SLUICE_XDP_TIME_SHIFT) - (int)age;
}

/* The live way of set that holds flow id, or NULL; *ref receives the
 * backend and VIP ids the tag was checked against, read once: the way may
 * be rewritten by another CPU after the check, and a second read of its
 * ids could name another flow's backend. */
static SLUICE_INLINE struct sluice_xdp_flow *flow_find(struct sluice_xdp_flow_set *set, __u64 id,
						       __u32 now, __u32 *ref)
{
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++) {
		struct sluice_xdp_flow *f = &set->way[w];
		__u32 r = *(volatile __u32 *)&f->ref;

		if (f->tag == sluice_xdp_flow_tag(id, r) && flow_left(f, now) > 0) {
			*ref = r;
			return f;
		}
	}
	return NULL;
}

/* A way of set was never used. Then no flow lives in its second set with
 * set as its first (it would have taken that way), and a new flow need not
 * read its second set's cache line. */
static SLUICE_INLINE int set_has_unused(const struct sluice_xdp_flow_set *set)
{
	return !(set->way[0].seen && set->way[1].seen && set->way[2].seen && set->way[3].seen);
}

/* The way a new flow takes: an empty or expired way of its first set, else
 * of its second, else the one of the 8 that expires soonest. *live: it
 * holds a live flow (an eviction). */
static SLUICE_INLINE struct sluice_xdp_flow *flow_victim(struct sluice_xdp_flow_set *a,
							 struct sluice_xdp_flow_set *b, __u32 now,
							 int *live)
{
	struct sluice_xdp_flow *victim = &a->way[0];
	int soonest = 0x7fffffff;

	*live = 0;
	/* Empty ways by their seen word too: the clock's offset makes them
	 * look old, except for one timeout's span each time the 30-bit clock
	 * wraps (every ~2 years at 1000 Hz). */
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
		if (!a->way[w].seen || flow_left(&a->way[w], now) <= 0)
			return &a->way[w];
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
		if (!b->way[w].seen || flow_left(&b->way[w], now) <= 0)
			return &b->way[w];
	*live = 1;
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++) {
		int la = flow_left(&a->way[w], now), lb = flow_left(&b->way[w], now);

		if (la < soonest) {
			soonest = la;
			victim = &a->way[w];
		}
		if (lb < soonest) {
			soonest = lb;
			victim = &b->way[w];
		}
	}
	return victim;
}

/* The class a flow's packet puts it in: the DPDK path's rule. */
static SLUICE_INLINE __u32 flow_class(const struct sluice_pkt *p, __u32 cls)
{
	return sluice_flow_class(p->key.proto, p->tcp_flags, (__u8)cls);
}

/* A TCP/UDP packet of the flow in way f was seen now: one 4-byte store,
 * and none while the time unit and the class stay (most packets), so that
 * established flows leave their set's cache line clean. */
static SLUICE_INLINE void flow_touch(struct sluice_xdp_flow *f, const struct sluice_pkt *p,
				     __u32 now)
{
	__u32 seen = now << 2 | flow_class(p, f->seen & 3);

	if (f->seen != seen)
		f->seen = seen;
}

/* Name backend id of vip_id in way f, for flow id. */
static SLUICE_INLINE void flow_set_backend(struct sluice_xdp_flow *f, __u64 id, __u32 be_id,
					   __u32 vip_id)
{
	struct sluice_xdp_flow w = {.backend_id = (__u16)be_id, .vip_id = (__u16)vip_id};

	f->tag = sluice_xdp_flow_tag(id, w.ref);
	f->ref = w.ref;
}

/* The flood guard (xdp_abi.h): 1 when the CPU has a token left for a new
 * flow's entry (taken if take), 0 when it is over its budget. The refill
 * is lazy, only when the level is short: exact for a token bucket, and
 * the clock is read only then. The clock is jiffies, a load
 * (bpf_ktime_get_ns cost ~20 ns a packet here, on exactly the packets a
 * flood is made of). */
static SLUICE_INLINE int syn_take(__u32 rate, int take)
{
	__u64 hz = CONFIG_HZ ? CONFIG_HZ : SLUICE_XDP_DEFAULT_HZ, now, dt, level, burst;
	struct sluice_xdp_syn_budget *b;
	__u32 zero = 0;

	if (!rate)
		return 1;
	b = bpf_map_lookup_elem(&syn_budget, &zero);
	if (!b)
		return 1;
	if (b->level < hz) {
		now = bpf_jiffies64();
		dt = now - b->last_jiffies;
		if (dt > hz)
			dt = hz;
		burst = rate / 10 ? rate / 10 : 1;
		level = b->level + dt * rate;
		if (level > burst * hz)
			level = burst * hz;
		b->last_jiffies = now;
		b->level = level;
		if (level < hz)
			return 0;
	}
	if (take)
		b->level -= hz;
	return 1;
}

/* The table's pick for a flow of vip, with its flow hash (*hash, *hashed
 * = 1); NULL when the VIP has none (table_mismatch counted when its table
 * is missing). */
static SLUICE_INLINE const struct sluice_backend *
table_backend(struct sluice_xdp_stats *st, const struct sluice_pkt *p, const struct vip_hit *vip,
	      __u32 *be_id, __u64 *hash, int *hashed)
{
	const struct sluice_backend *be;
	__u32 id;
	int pick;

	*hash = sluice_flow_hash(&p->key, vip->hash_seed);
	*hashed = 1;
	pick = table_pick(vip->id, *hash);
	if (pick < 0) {
		if (pick == -2)
			st->xdp.table_mismatch++;
		return NULL;
	}
	id = (__u32)pick;
	be = bpf_map_lookup_elem(&backends, &id);
	/* The loader writes a backend before any table names it; this only
	 * guards against a broken loader. */
	if (!be || be->state == SLUICE_BACKEND_ABSENT || be->vip_id != vip->id)
		return NULL;
	*be_id = id;
	return be;
}

/*
 * The backend of the packet's flow: the one its flow entry names if that
 * backend still belongs to the VIP and keeps flows, else the table's pick
 * (recorded for TCP/UDP). *be_id receives its id; *hash the XXH64 flow
 * hash when it was computed for the pick (*hashed = 1). NULL: no backend
 * (*why says why: no_backend, or martian_source for a new flow whose client
 * is a VIP).
 */
static SLUICE_INLINE const struct sluice_backend *
flow_backend(struct sluice_xdp_stats *st, const struct sluice_pkt *p, const struct vip_hit *vip,
	     __u32 *be_id, __u64 *hash, int *hashed, __u8 *why)
{
	struct sluice_xdp_flow_set *a = NULL, *b = NULL;
	struct sluice_xdp_flow *f = NULL, ids;
	const struct sluice_backend *be;
	__u32 ia, ib, now = 0, id;
	__u64 fid = 0;
	int live, over;

	/* The flood path: over the budget a bare SYN is a new connection,
	 * forwarded by the table without a look at the flow table (whose
	 * random lines are most of a new flow's cost), as Katran does. A SYN
	 * retransmitted for a flow that has an entry goes by the table too:
	 * the same backend unless the table changed since the entry was
	 * made. The DPDK path does the same (docs/xdp.md, "flood guard"). */
	over = sluice_bare_syn(p) && !syn_take(vip->cfg->syn_rate, 0);
	if (!over) {
		fid = sluice_xdp_flow_id(&p->key, vip->hash_seed);
		ia = sluice_xdp_flow_set_of(fid, 0);
		ib = sluice_xdp_flow_set_of(fid, 1);
		now = flow_now();
		a = bpf_map_lookup_elem(&flows, &ia);
		b = bpf_map_lookup_elem(&flows, &ib);
		if (!a || !b)
			return NULL;
		f = flow_find(a, fid, now, &ids.ref);
		if (!f && !set_has_unused(a))
			f = flow_find(b, fid, now, &ids.ref);
	}
	if (f) {
		st->xdp.flow_hits++;
		id = ids.backend_id;
		be = bpf_map_lookup_elem(&backends, &id);
		if (sluice_flow_stays(be, ids.vip_id, vip->id)) {
			if (!sluice_syn_reopens(p, f->seen & 3, be->state, be->weight)) {
				if (p->kind == SLUICE_PKT_FLOW)
					flow_touch(f, p, now);
				*be_id = id;
				return be;
			}
			st->lcore.flow_reopened++;
		}
	} else {
		if (!over)
			st->xdp.flow_misses++;
		/* New flows only, as the DPDK path: packet.h, shm.h. */
		if (sluice_martian_key(&p->key) || source_is_vip(p, vip)) {
			*why = SLUICE_DROP_MARTIAN;
			return NULL;
		}
	}

	be = table_backend(st, p, vip, be_id, hash, hashed);
	if (!be)
		return NULL;
	id = *be_id;

	if (f) {
		/* Re-picked: the entry follows, also for an ICMP error (whose
		 * flow keeps its age: an error says nothing about it being
		 * alive). */
		st->lcore.flow_repicks++;
		flow_set_backend(f, fid, id, vip->id);
		if (p->kind == SLUICE_PKT_FLOW)
			flow_touch(f, p, now);
		return be;
	}
	if (p->kind != SLUICE_PKT_FLOW)
		return be; /* no entry for a flow known only from an ICMP error */
	if (over || !syn_take(vip->cfg->syn_rate, 1) || !a || !b) {
		/* Over the budget: still consistent, by table. */
		st->lcore.flow_insert_capped++;
		return be;
	}
	f = flow_victim(a, b, now, &live);
	if (live)
		st->lcore.flow_evictions++;
	else if (f->seen)
		st->lcore.flow_expired++;
	else
		st->xdp.flow_ways_used++;
	st->lcore.flow_inserts++;
	flow_set_backend(f, fid, id, vip->id);
	f->seen = now << 2 | flow_class(p, SLUICE_FLOW_TCP);
	return be;
}

#endif /* SLUICE_XDP_FLOW_H */
