/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration model as both data paths read it: global settings, a
 * VIP, a backend. Shared memory carries arrays of these (shm.h) and the XDP
 * program's maps carry the same structs. Compiles for user space and BPF.
 */
#ifndef SLUICE_MODEL_H
#define SLUICE_MODEL_H

#include <linux/types.h>

#include "addr.h"
#include "consts.h"

/* Settings that are not per VIP. */
struct sluice_global_cfg {
	struct sluice_addr src_v4;	/* outer source address of IPv4 encapsulation */
	struct sluice_addr src_v6;	/* outer source address of IPv6 encapsulation */
	__u8 nexthop_mac[6];		/* destination MAC of encapsulated packets */
	__be16 gue_port;		/* outer UDP destination port of GUE */
	__u16 mtu;			/* egress MTU (IP bytes, host order) */
	__u8 lb_mac[6];			/* source MAC of what sluice sends */
};

/* One VIP; vips[id] in a snapshot, id stable while the VIP exists. */
struct sluice_vip {
	struct sluice_addr addr;	/* the virtual address */
	__be16 port;			/* 0 = every port of proto (wildcard) */
	__u8 proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 mode;			/* enum sluice_fwd_mode */
	__u16 id;			/* index in vips[] and in the status counters */
	__u8 in_use;			/* 0: this id is free */
	__u8 pad0;
	__u32 table_size;		/* M (prime); 0: no usable backend, drop */
	__u32 table_offset;		/* first slot of the table in tables[] */
	__u32 backend_first;		/* backends[first .. first+count) are this VIP's */
	__u32 backend_count;		/* sorted by address: table values index them */
	__u32 pad1;
	__u64 hash_seed;		/* seed of the flow hash for this VIP */
	__u64 reserved;
};

/* One backend of one VIP. */
struct sluice_backend {
	struct sluice_addr addr;	/* where packets go (outer destination) */
	__u8 mac[6];			/* destination MAC for L2 DSR */
	__u8 state;			/* enum sluice_backend_state */
	__u8 pad0;
	__u16 id;			/* stable across snapshots; < SLUICE_MAX_BACKENDS */
	__u16 vip_id;			/* the VIP whose set holds it */
	__u32 weight;			/* configured weight (0 = no new flows) */
	__u32 pad1;
};

/* The id spaces, for shared memory (shm.h) and the XDP maps alike. */
#define SLUICE_MAX_VIPS 256
#define SLUICE_MAX_BACKENDS 16384 /* per snapshot, over all VIPs; also the id space */

/* True when an established flow may stay on a backend in this state. */
static inline int sluice_backend_keeps_flows(__u8 state)
{
	return state == SLUICE_BACKEND_ACTIVE || state == SLUICE_BACKEND_DRAINING;
}

/*
 * Connection tracking's one rule, for both data paths and for `sluicectl
 * explain`: an established flow stays on the backend its entry names while
 * the entry was made for this VIP (entry_vip_id), the backend is still in
 * the VIP's set (b: the backend of that id in the configuration in force,
 * NULL when no set holds it) and its state keeps flows. Otherwise the flow
 * is re-picked from the VIP's table. docs/dataplane.md, docs/xdp.md.
 */
static inline int sluice_flow_stays(const struct sluice_backend *b, __u16 entry_vip_id,
				    __u16 vip_id)
{
	return entry_vip_id == vip_id && b && b->vip_id == vip_id &&
	       sluice_backend_keeps_flows(b->state);
}

/* The slot of a table of m slots (m > 0) a flow hash names: the same in
 * the snapshot's tables and in the XDP program's table maps. */
static inline __u32 sluice_table_slot(__u64 hash, __u32 m)
{
	return (__u32)(hash % m);
}

_Static_assert(sizeof(struct sluice_global_cfg) == 56, "ABI: global cfg");
_Static_assert(sizeof(struct sluice_vip) == 64, "ABI: one VIP is one cache line");
_Static_assert(sizeof(struct sluice_backend) == 40, "ABI: backend");

#endif /* SLUICE_MODEL_H */
