/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * The layout the XDP program (bpf/sluice_xdp.bpf.c) and its loader
 * (lib/xdp_path.c) share: map keys and values, the VIP index hash,
 * the counters. Compiles for user space and for BPF. docs/xdp.md
 * describes the maps and the order in which the loader writes them.
 */
#ifndef SLUICE_XDP_ABI_H
#define SLUICE_XDP_ABI_H

#include <linux/types.h>

#include "sluice/addr.h"
#include "sluice/consts.h"
#include "sluice/counters.h"
#include "sluice/flow.h"
#include "sluice/model.h"

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
	__u32 syn_rate;	  /* new flows recorded per second per CPU; 0: every one */
	__u64 index_seed; /* seed of sluice_xdp_vip_slot for this version's index */
};

/*
 * The flood guard's token bucket, one per CPU (map syn_budget), with the
 * DPDK path's semantics (--syn-rate, dataplane/process.c): syn_rate tokens
 * a second, a tenth of a second's worth (at least one) at once; a new flow
 * takes one to get an entry. Without one it is still forwarded by the
 * table, counted as flow_insert_capped: under a SYN flood the program does
 * not spend its time writing entries nobody will use. level is in tokens
 * times HZ (jiffies of one token at rate 1), as the DPDK path keeps it in
 * TSC units.
 */
struct sluice_xdp_syn_budget {
	__u64 level;
	__u64 last_jiffies; /* of the last refill; 0: never */
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
 * Connection tracking, one table for the host, set-associative: the flows
 * map is an ARRAY of SLUICE_XDP_FLOW_SETS sets that every CPU reads and
 * writes. Not one table per CPU (as Katran has, and as this path had at
 * first): that relies on the NIC's RSS bringing every packet of a flow to
 * one CPU, and where nothing does (veth, generic XDP behind a NIC without
 * RSS, a NAPI instance polled from another CPU) a flow met on a new CPU
 * after a table change was re-picked, moved, and reset. A shared table
 * costs nothing on the established path when flows do stay on one CPU; when
 * they do not, their sets' cache line moves between CPUs, and that is all.
 *
 * A set is one cache line of 4 ways (BPF_F_MMAPABLE keeps the values page-
 * aligned). A flow is identified by sluice_xdp_flow_id(), a 64-bit mix of
 * its key and its VIP's seed (cheaper than the XXH64 flow hash, which only
 * picks table slots and so is computed for new flows only). Two sets are
 * the flow's candidates: it lives in its first set when that has room,
 * else in its second.
 *
 * Writers do not lock: a way is written by whichever CPU inserts or
 * re-picks the flow, as two plain 8-byte stores (tag, then the rest), and
 * may be read by another CPU in between. So a way's tag is the flow id
 * sealed with its backend and VIP (sluice_xdp_flow_tag): a reader that gets
 * the tag of one write and the backend of another finds no match and
 * treats the flow as new (a re-pick by the current table), it never sends
 * a packet to the backend of another flow. The time and class word (seen)
 * is outside the seal: touching a flow is one 4-byte store.
 *
 * Ages: seen holds the time of the flow's last TCP/UDP packet in units of
 * 64 jiffies (a quarter of a second at 250 Hz) in its upper 30 bits and
 * its timeout class in the lower 2 (the DPDK path's classes: TCP, UDP,
 * closing after FIN/RST; dataplane/flowtable.h). An entry older than its class's timeout is
 * absent; a new flow takes an empty or expired way first, else the way of
 * its 8 candidates that expires soonest. seen == 0 marks an empty way.
 */
#ifndef SLUICE_XDP_FLOW_SETS_LOG2
#define SLUICE_XDP_FLOW_SETS_LOG2 18 /* 262144 sets x 4 ways: 1 Mi flows, 16 MiB */
#endif
#define SLUICE_XDP_FLOW_SETS (1u << SLUICE_XDP_FLOW_SETS_LOG2)
#define SLUICE_XDP_FLOW_WAYS 4

#define SLUICE_XDP_TIME_SHIFT 6 /* clock unit: 64 jiffies */
#define SLUICE_XDP_TIME_MASK 0x3fffffffu
#define SLUICE_XDP_DEFAULT_HZ 250
/* The idle timeouts of include/sluice/consts.h, 10 bits each, by class
 * (class 3 is not used: timeout 0), so that a way's age test is a shift. */
#define SLUICE_XDP_TIMEOUTS                                                   \
	(SLUICE_TIMEOUT_TCP_S << (SLUICE_FLOW_TCP * 10) |                      \
	 SLUICE_TIMEOUT_UDP_S << (SLUICE_FLOW_UDP * 10) |                      \
	 SLUICE_TIMEOUT_CLOSING_S << (SLUICE_FLOW_CLOSING * 10))
_Static_assert(SLUICE_FLOW_NCLASS <= 4, "a way keeps its class in 2 bits");
_Static_assert(SLUICE_TIMEOUT_TCP_S < 1024 && SLUICE_TIMEOUT_UDP_S < 1024 &&
		       SLUICE_TIMEOUT_CLOSING_S < 1024,
	       "XDP timeouts fit in 10 bits");

struct sluice_xdp_flow {
	__u64 tag; /* sluice_xdp_flow_tag(flow id, ref) */
	union {
		struct {
			__u16 backend_id; /* stable backend id */
			__u16 vip_id;	  /* the VIP it was picked for */
		};
		__u32 ref; /* both, as the tag seals them */
	};
	__u32 seen; /* time of its last packet << 2 | class; 0: empty way */
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

/* The tag a way holds for flow id with ref (its backend and VIP ids). A
 * way whose tag and ref come from two different writes matches no flow
 * unless both writes named the same backend of the same flow (harmless),
 * or the two flows' ids differ by exactly the spread of their refs'
 * difference (1 in 2^64 for hashes). */
static SLUICE_INLINE __u64 sluice_xdp_flow_tag(__u64 id, __u32 ref)
{
	return id ^ ((__u64)ref | (__u64)ref << 32);
}

/* The flow's candidate sets: which = 0 (first) or 1 (second). */
static SLUICE_INLINE __u32 sluice_xdp_flow_set_of(__u64 id, int which)
{
	__u32 bits = which ? (__u32)(id >> 40) : (__u32)(id >> 8);

	return bits & (SLUICE_XDP_FLOW_SETS - 1);
}

/* ---- counters ---- */

/*
 * Counters only the XDP path has (the others are the lcores' names, in
 * include/sluice/counters.h, so that sluiced sums XDP CPUs like lcores).
 *   flow_hits       packets whose flow was in the flow table
 *   flow_misses     packets whose flow was not (a new flow, one that
 *                   expired or was evicted)
 *   flow_ways_used  ways filled for the first time; summed over CPUs, the
 *                   ways ever used. Not the DPDK path's flow_live (live
 *                   entries): ways expire lazily here, unseen, so live
 *                   entries are not known; flow_live stays 0.
 * (In the lcore names: flow_evictions counts ways taken from a live flow,
 * flow_expired ways taken from an expired one.)
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
	X(flow_hits) X(flow_misses) X(flow_ways_used) X(pass_arp) X(pass_nd)      \
	X(xdp_pass) X(xdp_drop) X(table_mismatch) X(adjust_failed)

struct sluice_xdp_counters {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_XDP_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
	__u64 pass[SLUICE_DROP_MAX]; /* XDP_PASS by reason (drop-reason names) */
};

/* Value of the stats map (PERCPU_ARRAY of 1): everything but the
 * per-backend pairs, which have their own map (backend_stats). */
struct sluice_xdp_stats {
	struct sluice_lcore_counters lcore; /* the names both paths keep */
	struct sluice_xdp_counters xdp;
	/* by VIP id: packets forwarded, bytes received */
	struct sluice_counter_pair vip[SLUICE_MAX_VIPS];
};

#endif /* SLUICE_XDP_ABI_H */
