/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * The layout the XDP program (bpf/sluice_xdp.bpf.c) and its loader
 * (ctrl/lib/xdp_path.c) share: map keys and values, the VIP index hash,
 * the counters. Compiles for user space and for BPF. docs/xdp.md
 * describes the maps and the order in which the loader writes them.
 */
#ifndef SLUICE_XDP_ABI_H
#define SLUICE_XDP_ABI_H

#include <linux/types.h>

#include "sluice/addr.h"
#include "sluice/consts.h"
#include "sluice/flow.h"
#include "sluice/model.h"

/* Capacities (the shared-memory ones, so that every snapshot fits). */
#define SLUICE_XDP_MAX_VIPS 256	      /* = SLUICE_MAX_VIPS */
#define SLUICE_XDP_MAX_BACKENDS 16384 /* = SLUICE_MAX_BACKENDS */

/* ---- VIPs ---- */

/*
 * The VIP index: open addressing over SLUICE_XDP_VIP_INDEX_SIZE entries,
 * (address, port, protocol) -> the VIP's id, forwarding mode and flow-hash
 * seed. It is double-buffered with the global settings: the vip_index map
 * holds two halves, cfg_sel names the one in force (see below). A key is
 * always found within SLUICE_XDP_VIP_PROBES probes from its slot: the
 * loader picks the index seed (in the cfg slot) that makes it so.
 */
#define SLUICE_XDP_VIP_INDEX_SIZE 1024 /* per half, a power of two */
#define SLUICE_XDP_VIP_PROBES 8

struct sluice_xdp_vip_entry {
	__u64 addr_lo;	 /* address bytes 0..7 (as in a flow key) */
	__u64 addr_hi;	 /* address bytes 8..15 */
	__u64 hash_seed; /* the VIP's flow-hash seed */
	__be16 port;	 /* network order; 0 = every port of proto */
	__u8 proto;	 /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;	 /* SLUICE_FAMILY_V4 / _V6; 0: unused entry */
	__u16 vip_id;	 /* index of the VIP's table and counters */
	__u8 mode;	 /* enum sluice_fwd_mode */
	__u8 pad;
};

/* First slot of a key, from the address words of a flow key. */
static SLUICE_INLINE __u32 sluice_xdp_vip_slot(__u64 lo, __u64 hi, __u8 family, __be16 port,
					       __u8 proto, __u64 seed)
{
	__u64 x = lo ^ seed ^ (hi * 0x9E3779B97F4A7C15ULL) ^
		  (((__u64)port << 16 | (__u64)proto << 8 | family) * 0xC2B2AE3D27D4EB4FULL);

	x *= 0x94D049BB133111EBULL;
	return (__u32)(x >> 40) & (SLUICE_XDP_VIP_INDEX_SIZE - 1);
}

/* ---- lookup tables (map-in-map) ---- */

/*
 * One VIP's table is an ARRAY map of 16-byte entries, swapped whole into
 * the outer ARRAY_OF_MAPS at the VIP's id:
 *   entry 0:      the header: M and the VIP id, so that M always comes
 *                 with its slots;
 *   entries 1..:  the slots, SLUICE_XDP_SLOTS_PER_ENTRY backend ids each:
 *                 slot s is ids[s % 8] of entry 1 + s / 8.
 * M == 0: the VIP has no backend for new flows (they are dropped as
 * no_backend); established flows do not read the table.
 */
#define SLUICE_XDP_SLOTS_PER_ENTRY 8

struct sluice_xdp_table_hdr {
	__u32 m;	/* slots; 0 = no backend takes new flows */
	__u32 vip_id;	/* the id this table was built for */
	__u64 pad;
};

union sluice_xdp_table_entry {
	struct sluice_xdp_table_hdr hdr;
	__u16 ids[SLUICE_XDP_SLOTS_PER_ENTRY]; /* stable backend ids */
};

/* Entries of a table of m slots. */
static SLUICE_INLINE __u32 sluice_xdp_table_entries(__u32 m)
{
	return 1 + (m + SLUICE_XDP_SLOTS_PER_ENTRY - 1) / SLUICE_XDP_SLOTS_PER_ENTRY;
}

/* ---- global settings and VIP index (double-buffered) ---- */

/*
 * cfg (ARRAY of 2) and vip_index (ARRAY of 2 halves) hold two versions;
 * cfg_sel (ARRAY of 1) names the one in force. The loader writes the other
 * version, then switches cfg_sel, and waits for an RCU grace period before
 * it writes that version again, so no packet reads a half-written one.
 */
struct sluice_xdp_cfg {
	struct sluice_global_cfg g;
	__u32 wildcards;  /* bit sluice_xdp_wildcard_bit(): some port-0 VIP exists */
	__u32 pad;
	__u64 index_seed; /* seed of sluice_xdp_vip_slot for this version's index */
};

/* Which (family, protocol) has a port-0 VIP: without one, a packet that
 * misses its exact port needs no second probe. */
static SLUICE_INLINE __u32 sluice_xdp_wildcard_bit(__u8 family, __u8 proto)
{
	return 1u << ((family == SLUICE_FAMILY_V6) * 2 + (proto == 17));
}

struct sluice_xdp_cfg_sel {
	__u32 slot;	  /* 0 or 1: the version in force */
	__u32 configured; /* 0: nothing published, every packet passes */
	__u64 generation; /* snapshot generation last published (informational) */
};

/* ---- flow table ---- */

/*
 * Connection tracking, per CPU, set-associative: the flows map is an ARRAY
 * of SLUICE_XDP_FLOW_SETS sets per possible CPU (CPU c owns entries
 * [c * SETS, (c + 1) * SETS); the loader sizes the map). A set is one
 * cache line of 4 ways (BPF_F_MMAPABLE keeps the values page-aligned).
 * A flow is identified by sluice_xdp_flow_id(), a 64-bit mix of its key
 * and its VIP's seed (cheaper than the XXH64 flow hash, which only picks
 * table slots and so is computed for new flows only). Two sets are the
 * flow's candidates (two choices keep sets from overflowing long before
 * the table is full): it lives in its first set when that has room, else
 * in its second; ways match on all 64 bits of the id. When all 8 candidate
 * ways are taken, the least recently used is replaced (per-CPU packet
 * clock); stamp 0 marks an empty way.
 */
#ifndef SLUICE_XDP_FLOW_SETS_LOG2
#define SLUICE_XDP_FLOW_SETS_LOG2 16 /* 65536 sets x 4 ways: 262144 flows per CPU */
#endif
#define SLUICE_XDP_FLOW_SETS (1u << SLUICE_XDP_FLOW_SETS_LOG2)
#define SLUICE_XDP_FLOW_WAYS 4

struct sluice_xdp_flow {
	__u64 id;	  /* sluice_xdp_flow_id() of the flow */
	__u16 backend_id; /* stable backend id */
	__u16 vip_id;	  /* the VIP it was picked for */
	__u32 stamp;	  /* clock of its last packet; 0: empty way */
};

struct sluice_xdp_flow_set {
	struct sluice_xdp_flow way[SLUICE_XDP_FLOW_WAYS];
};

_Static_assert(sizeof(struct sluice_xdp_flow_set) == 64, "a set is one cache line");

/* The flow table's name for a flow: the five key words multiplied by
 * distinct odd constants (independent multiplies, unlike XXH64's chain),
 * then mixed. */
static SLUICE_INLINE __u64 sluice_xdp_flow_id(const struct sluice_flow_key *k, __u64 seed)
{
	__u64 x = ((k->words[0] ^ seed) * 0x9E3779B97F4A7C15ULL) ^
		  (k->words[1] * 0xC2B2AE3D27D4EB4FULL) ^ (k->words[2] * 0x165667B19E3779F9ULL) ^
		  (k->words[3] * 0x85EBCA77C2B2AE63ULL) ^ (k->words[4] * 0x27D4EB2F165667C5ULL);

	x ^= x >> 31;
	x *= 0x94D049BB133111EBULL;
	return x ^ (x >> 29);
}

/* The flow's candidate sets on cpu: which = 0 (first) or 1 (second). */
static SLUICE_INLINE __u32 sluice_xdp_flow_set_of(__u32 cpu, __u64 id, int which)
{
	__u32 bits = which ? (__u32)(id >> 40) : (__u32)(id >> 8);

	return cpu * SLUICE_XDP_FLOW_SETS + (bits & (SLUICE_XDP_FLOW_SETS - 1));
}

/* ---- counters ---- */

/*
 * Counters only the XDP path has (the others are the lcores' names, in
 * struct sluice_lcore_counters, so that sluiced sums XDP CPUs like lcores).
 *   lru_hits        packets whose flow was in this CPU's flow table
 *   lru_misses      packets whose flow was not (new flow, or first packet
 *                   of the flow on this CPU)
 * (flow_entries and flow_evictions, in the lcore names, count ways filled
 * for the first time and ways taken from another flow.)
 *   pass_arp        ARP requests handed to the kernel
 *   pass_nd         IPv6 neighbour solicitations handed to the kernel
 *   xdp_pass        all packets handed to the kernel (XDP_PASS)
 *   xdp_drop        all packets dropped (XDP_DROP)
 *   table_mismatch  VIP found but its table missing or built for another
 *                   id (a publish in progress); dropped as no_backend
 *   adjust_failed   the frame could not be grown or shrunk; dropped as
 *                   no_mbuf
 */
#define SLUICE_XDP_COUNTERS(X)                                                   \
	X(lru_hits) X(lru_misses) X(pass_arp) X(pass_nd) X(xdp_pass) X(xdp_drop) \
	X(table_mismatch) X(adjust_failed)

struct sluice_xdp_counters {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_XDP_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
	__u64 pass[SLUICE_DROP_MAX]; /* XDP_PASS by reason (drop-reason names) */
};

/* Packets and bytes (same layout as struct sluice_counter_pair). */
struct sluice_xdp_pair {
	__u64 packets;
	__u64 bytes;
};

/* The lcore counters of include/sluice/shm.h, field for field (that header
 * is user space only); the loader copies them across by name. */
#define SLUICE_XDP_LCORE_COUNTERS(X)                                             \
	X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes)                       \
	X(flow_entries) X(flow_inserts) X(flow_evictions) X(flow_expired)         \
	X(flow_repicks) X(flow_insert_capped)                                     \
	X(icmp_too_big_sent) X(arp_replies) X(nd_replies)                         \
	X(busy_cycles) X(busy_packets)

struct sluice_xdp_lcore_counters {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_XDP_LCORE_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
	__u64 drops[SLUICE_DROP_MAX];
};

/* Value of the stats map (PERCPU_ARRAY of 1): everything but the
 * per-backend pairs, which have their own map (backend_stats). */
struct sluice_xdp_stats {
	struct sluice_xdp_lcore_counters lcore;
	struct sluice_xdp_counters xdp;
	struct sluice_xdp_pair vip[SLUICE_XDP_MAX_VIPS]; /* by VIP id: packets forwarded, bytes received */
};

#endif /* SLUICE_XDP_ABI_H */
