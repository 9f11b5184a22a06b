/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * From a classified packet to a backend: the VIP match (the index: exact
 * port, then the port-0 wildcard), connection tracking in the per-CPU
 * flow table, and the VIP's lookup table (map-in-map) for new flows.
 *
 * Connection tracking follows DESIGN.md: an established flow keeps its
 * backend while that backend is still in the VIP's set and its state keeps
 * flows (active or draining); otherwise the flow is re-picked from the
 * table in force and its entry updated. Only TCP/UDP packets (kind FLOW)
 * create entries and refresh their age; an ICMP error follows the entry of
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

/* Probe one version of the index for (packet's address, port, protocol). */
static SLUICE_INLINE const struct sluice_xdp_vip_entry *
vip_probe(const struct sluice_pkt *p, __u32 version, __be16 port, __u64 index_seed)
{
	__u32 slot = sluice_xdp_vip_slot(p->key.words[2], p->key.words[3], p->key.family, port,
					 p->key.proto, index_seed);

#pragma unroll
	for (int n = 0; n < SLUICE_XDP_VIP_PROBES; n++) {
		__u32 idx = version * SLUICE_XDP_VIP_INDEX_SIZE +
			    ((slot + n) & (SLUICE_XDP_VIP_INDEX_SIZE - 1));
		const struct sluice_xdp_vip_entry *e = bpf_map_lookup_elem(&vip_index, &idx);

		if (!e || !e->family)
			return NULL;
		/* key.dst is the VIP address for FLOW and ICMP_ERR alike. */
		if (e->addr_lo == p->key.words[2] && e->addr_hi == p->key.words[3] &&
		    e->family == p->key.family && e->port == port && e->proto == p->key.proto)
			return e;
	}
	return NULL;
}

/* The VIP the packet is for: exact port first, then the wildcard of its
 * protocol. Returns 0 and fills *hit, or -1. */
static SLUICE_INLINE int vip_find(const struct sluice_pkt *p, const struct sluice_xdp_cfg *c,
				  __u32 version, struct vip_hit *hit)
{
	const struct sluice_xdp_vip_entry *e;

	e = vip_probe(p, version, p->vip_port, c->index_seed);
	if (!e && p->vip_port != 0 &&
	    (c->wildcards & sluice_xdp_wildcard_bit(p->key.family, p->key.proto)))
		e = vip_probe(p, version, 0, c->index_seed);
	if (!e)
		return -1;
	hit->hash_seed = e->hash_seed;
	hit->id = e->vip_id;
	hit->mode = e->mode;
	return 0;
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
	slot = (__u32)(hash % m);
	idx = 1 + slot / SLUICE_XDP_SLOTS_PER_ENTRY;
	e = bpf_map_lookup_elem(tbl, &idx);
	if (!e)
		return -2;
	return e->ids[slot % SLUICE_XDP_SLOTS_PER_ENTRY];
}

/* The way of set that holds flow id, or NULL. */
static SLUICE_INLINE struct sluice_xdp_flow *flow_find(struct sluice_xdp_flow_set *set, __u64 id)
{
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
		if (set->way[w].id == id && set->way[w].stamp)
			return &set->way[w];
	return NULL;
}

/* The way a new flow takes: an empty way of its first set, else of its
 * second, else the least recently used of the two sets. */
static SLUICE_INLINE struct sluice_xdp_flow *flow_victim(struct sluice_xdp_flow_set *a,
							 struct sluice_xdp_flow_set *b, __u32 clock)
{
	struct sluice_xdp_flow *victim = &a->way[0];
	__u32 oldest = 0;

#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
		if (!a->way[w].stamp)
			return &a->way[w];
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
		if (!b->way[w].stamp)
			return &b->way[w];
#pragma unroll
	for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++) {
		if (clock - a->way[w].stamp > oldest) {
			oldest = clock - a->way[w].stamp;
			victim = &a->way[w];
		}
		if (clock - b->way[w].stamp > oldest) {
			oldest = clock - b->way[w].stamp;
			victim = &b->way[w];
		}
	}
	return victim;
}

/*
 * The backend of the packet's flow: the one its flow entry names if that
 * backend still belongs to the VIP and keeps flows, else the table's pick
 * (recorded for TCP/UDP). *be_id receives its id; *hash the XXH64 flow
 * hash when it was computed for the pick (*hashed = 1). NULL: no backend.
 */
static SLUICE_INLINE const struct sluice_backend *
flow_backend(struct sluice_xdp_stats *st, const struct sluice_pkt *p, const struct vip_hit *vip,
	     __u32 *be_id, __u64 *hash, int *hashed)
{
	__u64 fid = sluice_xdp_flow_id(&p->key, vip->hash_seed);
	__u32 cpu = bpf_get_smp_processor_id(), clock, id;
	__u32 ia = sluice_xdp_flow_set_of(cpu, fid, 0), ib = sluice_xdp_flow_set_of(cpu, fid, 1);
	struct sluice_xdp_flow_set *a, *b;
	const struct sluice_backend *be;
	struct sluice_xdp_flow *f;
	int pick;

	a = bpf_map_lookup_elem(&flows, &ia);
	b = bpf_map_lookup_elem(&flows, &ib);
	if (!a || !b)
		return NULL;
	/* The per-CPU packet clock, never 0 (0 marks an empty way). */
	clock = (__u32)st->lcore.rx_packets | 1;

	f = flow_find(a, fid);
	if (!f)
		f = flow_find(b, fid);
	if (f) {
		st->xdp.lru_hits++;
		id = f->backend_id;
		be = bpf_map_lookup_elem(&backends, &id);
		if (f->vip_id == vip->id && be && be->vip_id == vip->id &&
		    sluice_backend_keeps_flows(be->state)) {
			if (p->kind == SLUICE_PKT_FLOW)
				f->stamp = clock;
			*be_id = id;
			return be;
		}
	} else {
		st->xdp.lru_misses++;
	}

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

	if (f) {
		/* Re-picked: the entry follows, also for an ICMP error (whose
		 * flow keeps its age: an error says nothing about it being
		 * alive). */
		st->lcore.flow_repicks++;
		f->backend_id = (__u16)id;
		f->vip_id = (__u16)vip->id;
		if (p->kind == SLUICE_PKT_FLOW)
			f->stamp = clock;
		return be;
	}
	if (p->kind != SLUICE_PKT_FLOW)
		return be; /* no entry for a flow known only from an ICMP error */
	f = flow_victim(a, b, clock);
	if (f->stamp)
		st->lcore.flow_evictions++;
	else
		st->lcore.flow_entries++;
	st->lcore.flow_inserts++;
	f->id = fid;
	f->backend_id = (__u16)id;
	f->vip_id = (__u16)vip->id;
	f->stamp = clock;
	return be;
}

#endif /* SLUICE_XDP_FLOW_H */
