/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory contract between sluiced (the control daemon) and
 * sluice-dp (the DPDK data plane). See docs/shared-memory.md.
 *
 * Two regions per instance, each with exactly one writer:
 *  - config ("/sluice-<instance>-config", written by sluiced): a header and
 *    two snapshot slots. The writer fills the inactive slot and publishes it
 *    with a release store of header.generation; slot = generation & 1.
 *  - status ("/sluice-<instance>-status", written by sluice-dp): per lcore a
 *    heartbeat, the generation it last loaded (its acknowledgement), and
 *    counters.
 *
 * The writer reuses a slot only after every live lcore has acknowledged a
 * newer generation (quiescent-state reclamation): an lcore loads the
 * generation once per burst, stores it as seen_generation (release) and
 * reads only that snapshot until its next load. An lcore whose heartbeat is
 * older than the writer's stale limit, or that is marked offline, does not
 * hold the writer back.
 *
 * User space only (the XDP path carries the same data in BPF maps).
 */
#ifndef SLUICE_SHM_H
#define SLUICE_SHM_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "consts.h"
#include "counters.h"
#include "model.h"

#define SLUICE_CONFIG_MAGIC 0x4746434543495553ULL /* "SUICECFG" little-endian */
#define SLUICE_STATUS_MAGIC 0x5453544543495553ULL /* "SUICETST" little-endian */
#define SLUICE_ABI_VERSION 4

/* Capacities: part of the ABI (a change bumps SLUICE_ABI_VERSION). The id
 * spaces, SLUICE_MAX_VIPS and SLUICE_MAX_BACKENDS, are in model.h: the XDP
 * maps are sized by them too. */
#define SLUICE_MAX_BACKENDS_PER_VIP 4096
#define SLUICE_TABLE_POOL_SLOTS (16u << 20) /* lookup-table slots per snapshot */
#define SLUICE_VIP_INDEX_SIZE 1024 /* open-addressing index, 4x SLUICE_MAX_VIPS */
#define SLUICE_MAX_LCORES 32
#define SLUICE_MAX_PORTS 32
#define SLUICE_MAX_PORT_QUEUES SLUICE_MAX_LCORES /* a queue pair per worker */
#define SLUICE_PORT_NAME_MAX 48
#define SLUICE_NO_POS 0xffffu /* backend_pos_by_id: id not in this snapshot */

#define SLUICE_CACHE_LINE 64
#define SLUICE_ALIGNED __attribute__((aligned(SLUICE_CACHE_LINE)))

/* Entry of the VIP index: (addr, port, proto) -> vip id. */
struct sluice_vip_index_entry {
	struct sluice_addr addr;
	__be16 port;
	__u8 proto;
	__u8 used;
	__u16 vip_id;
	__u16 pad;
};

/* A complete, self-contained configuration. Readers use only what
 * generation names; writers fill a slot no live reader uses. */
struct sluice_snapshot {
	__u64 generation;		/* equal to the header's when published */
	__u32 n_vips;			/* ids in use are < n_vips */
	__u32 n_backends;		/* backends[0 .. n_backends) are valid */
	__u32 table_slots_used;		/* tables[0 .. table_slots_used) are valid */
	__u32 pad;
	struct sluice_global_cfg global;
	struct sluice_vip_index_entry vip_index[SLUICE_VIP_INDEX_SIZE] SLUICE_ALIGNED;
	struct sluice_vip vips[SLUICE_MAX_VIPS] SLUICE_ALIGNED;
	__u16 backend_pos_by_id[SLUICE_MAX_BACKENDS] SLUICE_ALIGNED;
	struct sluice_backend backends[SLUICE_MAX_BACKENDS] SLUICE_ALIGNED;
	__u16 tables[SLUICE_TABLE_POOL_SLOTS] SLUICE_ALIGNED; /* values index a VIP's backends */
} SLUICE_ALIGNED;

/* Header of the config region; the snapshots follow at snapshot_offset[]. */
struct sluice_config_header {
	__u64 magic;			/* SLUICE_CONFIG_MAGIC */
	__u32 abi_version;		/* SLUICE_ABI_VERSION */
	__u32 header_size;		/* sizeof(struct sluice_config_header) */
	__u64 region_size;		/* bytes mapped */
	__u64 snapshot_size;		/* sizeof(struct sluice_snapshot) */
	__u64 snapshot_offset[2];	/* from the start of the region */
	__u32 max_vips;			/* capacities the writer was built with */
	__u32 max_backends;
	__u32 table_pool_slots;
	__u32 vip_index_size;
	__u32 writer_pid;		/* informational: last sluiced to write */
	__u32 pad;
	__u64 generation SLUICE_ALIGNED; /* 0: nothing published; slot = gen & 1 */
	__u64 writer_heartbeat_ns;	/* CLOCK_MONOTONIC of the writer's last tick */
} SLUICE_ALIGNED;

enum sluice_lcore_state {
	SLUICE_LCORE_UNUSED = 0,
	SLUICE_LCORE_ONLINE = 1,  /* forwarding; its acknowledgements count */
	SLUICE_LCORE_OFFLINE = 2, /* stopped cleanly; holds no snapshot */
};

/* Everything one lcore writes. */
struct sluice_lcore_status {
	__u64 heartbeat_ns;		/* CLOCK_MONOTONIC of its last loop */
	__u64 seen_generation;		/* generation it uses (acknowledgement) */
	__u32 state;			/* enum sluice_lcore_state */
	__u32 lcore_id;			/* DPDK lcore id */
	struct sluice_lcore_counters counters SLUICE_ALIGNED;
	struct sluice_counter_pair vip[SLUICE_MAX_VIPS] SLUICE_ALIGNED;	    /* by vip id */
	struct sluice_counter_pair backend[SLUICE_MAX_BACKENDS] SLUICE_ALIGNED; /* by backend id */
} SLUICE_ALIGNED;

/* One port, written by sluice-dp's main lcore (not the workers: reading
 * a device's counters may take a lock or a mailbox round trip to the NIC's
 * firmware), about once a second. name and port_id are set before n_ports
 * counts the slot and do not change. */
struct sluice_port_status {
	__u64 updated_ns;		/* CLOCK_MONOTONIC of the last reading; 0: none yet */
	__u16 port_id;			/* DPDK port id */
	__u16 n_queues;			/* RX = TX queues, one pair per worker */
	__u32 link_up;			/* 1: up at the last reading */
	__u32 link_speed_mbps;
	__u32 pad;
	char name[SLUICE_PORT_NAME_MAX]; /* DPDK device name, NUL-terminated */
	struct sluice_port_counters counters SLUICE_ALIGNED;
	/* Queues past RTE_ETHDEV_QUEUE_STAT_CNTRS (16 in Debian's DPDK) read 0. */
	struct sluice_queue_counters queue[SLUICE_MAX_PORT_QUEUES] SLUICE_ALIGNED;
} SLUICE_ALIGNED;

struct sluice_status_header {
	__u64 magic;			/* SLUICE_STATUS_MAGIC */
	__u32 abi_version;		/* SLUICE_ABI_VERSION */
	__u32 header_size;		/* sizeof(struct sluice_status_header) */
	__u64 region_size;		/* bytes mapped */
	__u64 lcore_status_size;	/* sizeof(struct sluice_lcore_status) */
	__u64 lcores_offset;		/* from the start of the region */
	__u32 max_lcores;		/* SLUICE_MAX_LCORES */
	__u32 n_lcores;			/* lcores[0 .. n_lcores) may be in use */
	__u32 writer_pid;		/* the sluice-dp process */
	__u32 max_ports;		/* SLUICE_MAX_PORTS */
	__u64 port_status_size;		/* sizeof(struct sluice_port_status) */
	__u64 ports_offset;		/* from the start of the region */
	/* ports[0 .. n_ports) are in use: stored (release) once their name
	 * and id are, after the region is created. */
	__u32 n_ports;
	__u32 pad;
} SLUICE_ALIGNED;

_Static_assert(sizeof(struct sluice_vip_index_entry) == 28, "ABI: VIP index entry");
_Static_assert(sizeof(struct sluice_config_header) == 192, "ABI: config header");
_Static_assert(sizeof(struct sluice_status_header) == 128, "ABI: status header");
_Static_assert(sizeof(struct sluice_port_status) % SLUICE_CACHE_LINE == 0, "ABI: port status");
_Static_assert(__builtin_offsetof(struct sluice_config_header, generation) == 128,
	       "ABI: generation sits alone in its cache line");
_Static_assert(sizeof(struct sluice_snapshot) % SLUICE_CACHE_LINE == 0, "ABI: snapshot");
_Static_assert(sizeof(struct sluice_lcore_status) % SLUICE_CACHE_LINE == 0, "ABI: lcore status");
_Static_assert(SLUICE_MAX_BACKENDS <= SLUICE_NO_POS, "backend positions fit in 16 bits");
_Static_assert(SLUICE_MAX_BACKENDS_PER_VIP <= 0xffff, "table values fit in 16 bits");
_Static_assert((SLUICE_VIP_INDEX_SIZE & (SLUICE_VIP_INDEX_SIZE - 1)) == 0, "power of two");

/* ---- VIP index: the same probe sequence for writer and readers ---- */

/* First probe position for a VIP key; linear probing from there. */
static inline __u32 sluice_vip_index_hash(const struct sluice_addr *addr, __be16 port, __u8 proto)
{
	__u64 a, b;

	__builtin_memcpy(&a, addr->bytes, 8);
	__builtin_memcpy(&b, addr->bytes + 8, 8);
	a ^= b * 0x9E3779B97F4A7C15ULL;
	a ^= ((__u64)port << 8 | proto | (__u64)addr->family << 24) * 0xC2B2AE3D27D4EB4FULL;
	a ^= a >> 29;
	a *= 0x165667B19E3779F9ULL;
	return (__u32)(a >> 40) & (SLUICE_VIP_INDEX_SIZE - 1);
}

/* The VIP id for an exact (addr, port, proto), or -1. Probes end at an
 * unused entry; the writer keeps the index at most 1/4 full. */
static inline int sluice_vip_index_find(const struct sluice_snapshot *snap,
					const struct sluice_addr *addr, __be16 port, __u8 proto)
{
	__u32 i = sluice_vip_index_hash(addr, port, proto);
	__u32 n;

	for (n = 0; n < SLUICE_VIP_INDEX_SIZE; n++) {
		const struct sluice_vip_index_entry *e = &snap->vip_index[i];

		if (!e->used)
			return -1;
		if (e->port == port && e->proto == proto && e->addr.family == addr->family &&
		    __builtin_memcmp(e->addr.bytes, addr->bytes, 16) == 0)
			return e->vip_id;
		i = (i + 1) & (SLUICE_VIP_INDEX_SIZE - 1);
	}
	return -1;
}

/* The VIP for a packet: exact port first, then the port-0 wildcard. */
static inline const struct sluice_vip *sluice_vip_match(const struct sluice_snapshot *snap,
							const struct sluice_addr *daddr,
							__be16 dport, __u8 proto)
{
	int id = sluice_vip_index_find(snap, daddr, dport, proto);

	if (id < 0 && dport != 0)
		id = sluice_vip_index_find(snap, daddr, 0, proto);
	return id < 0 ? NULL : &snap->vips[id];
}

/* ---- backends and tables: the same reads for both readers ---- */

/* The backend of stable id under snap, or NULL when no VIP's set holds it.
 * id < SLUICE_MAX_BACKENDS (every id a data path records is). */
static inline const struct sluice_backend *
sluice_snapshot_backend(const struct sluice_snapshot *snap, __u16 id)
{
	__u16 pos = snap->backend_pos_by_id[id];

	return __builtin_expect(pos != SLUICE_NO_POS, 1) ? &snap->backends[pos] : NULL;
}

/* The backend slot hash % M of vip's table names, or NULL when the VIP has
 * no backend for new flows. A table value is an index into the VIP's own
 * backends: one out of range (a torn or corrupt snapshot) names none,
 * rather than some other VIP's backend. */
static inline const struct sluice_backend *
sluice_table_pick(const struct sluice_snapshot *snap, const struct sluice_vip *vip, __u64 hash)
{
	__u16 v;

	if (__builtin_expect(vip->table_size == 0, 0))
		return NULL;
	v = snap->tables[vip->table_offset + sluice_table_slot(hash, vip->table_size)];
	if (__builtin_expect(v >= vip->backend_count, 0))
		return NULL;
	return &snap->backends[vip->backend_first + v];
}

/*
 * The client claims to be a VIP: its endpoint (source address and port, in
 * the packet's protocol) is a VIP's, or its address has a port-0 VIP.
 * Forwarded, the backend would answer into the load balancer as VIP
 * traffic: a loop one spoofed packet can start. Both data paths drop such a
 * packet as martian_source, for new flows only (an entry exists only for a
 * flow that passed), so established flows pay nothing for it.
 */
static inline int sluice_source_is_vip(const struct sluice_snapshot *snap,
				       const struct sluice_flow_key *k)
{
	struct sluice_addr a;

	__builtin_memset(&a, 0, sizeof(a));
	a.family = k->family;
	__builtin_memcpy(a.bytes, k->src, 16);
	return sluice_vip_match(snap, &a, k->sport, k->proto) != NULL;
}

/* ---- region handles (lib/shm.c) ---- */

struct sluice_config_region {
	struct sluice_config_header *hdr;
	struct sluice_snapshot *slot[2];
	size_t size;
	bool writable;
};

struct sluice_status_region {
	struct sluice_status_header *hdr;
	struct sluice_lcore_status *lcores;
	struct sluice_port_status *ports;
	size_t size;
	bool writable;
};

/* Reader side, hot path: the snapshot to use for this burst, or NULL when
 * nothing has been published. Loads the generation once (acquire). */
static inline const struct sluice_snapshot *
sluice_config_current(const struct sluice_config_region *cfg, __u64 *gen_out)
{
	__u64 gen = __atomic_load_n(&cfg->hdr->generation, __ATOMIC_ACQUIRE);

	*gen_out = gen;
	return gen == 0 ? NULL : cfg->slot[gen & 1];
}

/* Reader side, hot path: this lcore is done with every generation older
 * than gen. Release: its reads of older snapshots happen before. */
static inline void sluice_lcore_ack(struct sluice_lcore_status *st, __u64 gen)
{
	__atomic_store_n(&st->seen_generation, gen, __ATOMIC_RELEASE);
}

/* Reader side: how many port slots are in use (acquire: their names and
 * ids are set), never more than there are. */
static inline unsigned int sluice_status_n_ports(const struct sluice_status_region *st)
{
	unsigned int n = st && st->hdr ? __atomic_load_n(&st->hdr->n_ports, __ATOMIC_ACQUIRE) : 0;

	return n > SLUICE_MAX_PORTS ? SLUICE_MAX_PORTS : n;
}

static inline void sluice_lcore_heartbeat(struct sluice_lcore_status *st, __u64 now_ns)
{
	__atomic_store_n(&st->heartbeat_ns, now_ns, __ATOMIC_RELAXED);
}

/* The instance-name rule, for every program that takes a name (sluiced's
 * configuration, sluice-dp --instance, the XDP loader): the name becomes
 * part of shared-memory, pin and socket paths. Every message about a bad
 * name states SLUICE_INSTANCE_RULE, so that they cannot drift apart. */
#define SLUICE_INSTANCE_MAX 32
#define SLUICE_INSTANCE_RULE "1-32 characters of A-Z a-z 0-9 _ . -"
bool sluice_instance_valid(const char *instance);
/* 0, or -EINVAL with "invalid instance name "<instance>": <rule>" in err. */
int sluice_instance_check(const char *instance, char *err, size_t errlen);

/* Names of regions: "/sluice-<instance>-config" and "-status". Returns 0 or
 * -EINVAL (an invalid instance, or outlen too small). */
int sluice_shm_name(const char *instance, const char *kind, char *out, size_t outlen);

/* Validate a mapped config or status region: magic, ABI version, sizes,
 * offsets. Returns 0; -EAGAIN while its creator has not finished it (magic
 * still 0: try again); or -EPROTO with a message in err. */
int sluice_config_validate(const void *mem, size_t size, char *err, size_t errlen);
int sluice_status_validate(const void *mem, size_t size, char *err, size_t errlen);

/* Writer (sluiced): attach to the instance's config region, creating it when
 * absent. An existing region with a wrong magic, version or size is refused
 * (-EPROTO), never overwritten. */
int sluice_config_create(const char *instance, struct sluice_config_region *cfg, char *err,
			 size_t errlen);
/* Reader (sluice-dp): attach read-only to an existing config region.
 * -ENOENT when it does not exist yet, -EAGAIN while it is being created. */
int sluice_config_attach(const char *instance, struct sluice_config_region *cfg, char *err,
			 size_t errlen);
void sluice_config_close(struct sluice_config_region *cfg);

/* Writer: the slot the next publish will use (the inactive one). Fill it only
 * after sluice_config_wait_reclaim() returned 0. */
struct sluice_snapshot *sluice_config_next_slot(struct sluice_config_region *cfg);
/* Writer: make the next slot current. Stamps its generation and release-
 * stores the header's. Returns the new generation. */
__u64 sluice_config_publish(struct sluice_config_region *cfg);

/* Writer (sluice-dp): create the status region for n_lcores lcores, replacing
 * any previous one of this instance (a restarted data plane starts afresh). */
int sluice_status_create(const char *instance, unsigned int n_lcores,
			 struct sluice_status_region *st, char *err, size_t errlen);
/* Reader (sluiced): attach read-only. -ENOENT when it does not exist yet. */
int sluice_status_attach(const char *instance, struct sluice_status_region *st, char *err,
			 size_t errlen);
void sluice_status_close(struct sluice_status_region *st);

/* An lcore is live when it is online and its heartbeat is at most stale_ns
 * old at now_ns. */
bool sluice_lcore_is_live(const struct sluice_lcore_status *l, __u64 now_ns, __u64 stale_ns);

/* True when every live lcore has acknowledged gen or newer. st may be NULL
 * (no data plane: nobody to wait for). *n_live, if not NULL, gets the number
 * of live lcores. */
bool sluice_status_all_seen(const struct sluice_status_region *st, __u64 gen, __u64 now_ns,
			    __u64 stale_ns, unsigned int *n_live);

/* Writer: wait until the next slot may be overwritten, i.e. every live lcore
 * has seen the current generation. Polls until timeout_ns; returns 0 or
 * -ETIMEDOUT. */
int sluice_config_wait_reclaim(const struct sluice_config_region *cfg,
			       const struct sluice_status_region *st, __u64 stale_ns,
			       __u64 timeout_ns);

/* CLOCK_MONOTONIC in nanoseconds: the clock of every heartbeat. */
__u64 sluice_now_ns(void);

#endif /* SLUICE_SHM_H */
