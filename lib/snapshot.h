/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building a snapshot (include/sluice/shm.h) from VIPs and their backends:
 * the one place that knows how VIPs, backends, tables and the VIP index are
 * laid out, used by sluiced's publisher, by the XDP map filler and by the
 * tests of both data paths.
 */
#ifndef SLUICE_SNAPSHOT_H
#define SLUICE_SNAPSHOT_H

#include <linux/types.h>
#include <stddef.h>

#include "sluice/shm.h"
#include "table.h"

/* A VIP ready to be laid out: its compiled table and its backends in the
 * order the table indexes (sorted by address, see sluice_vip_compile). */
struct sluice_vip_spec {
	/* addr, port, proto, mode, id, hash_seed are taken as they are; the
	 * table and backend fields are filled by sluice_snapshot_fill(). */
	struct sluice_vip vip;
	const struct sluice_backend *backends; /* sorted by address */
	size_t n_backends;
	const __u16 *table; /* m slots; NULL when no backend takes new flows */
	__u32 m;
};

/*
 * Compile one VIP's table. Sorts backends[] in place by address (the order
 * table values index), gives each backend its effective weight (its weight
 * when ACTIVE, 0 when draining, disabled or down) and builds table[0..m).
 * *m_out is params->m, or 0 when no backend may take new flows (the VIP's
 * packets are then dropped as no_backend). Returns 0 or -errno with err.
 */
int sluice_vip_compile(const struct sluice_table_params *params, struct sluice_backend *backends,
		       size_t n, __u16 *table, __u32 *m_out, char *err, size_t errlen);
/* The same, keeping the VIP's Maglev permutations in cache between calls
 * (sluice_table_build_cached(); the table is the same). */
int sluice_vip_compile_cached(const struct sluice_table_params *params,
			      struct sluice_backend *backends, size_t n, __u16 *table,
			      __u32 *m_out, struct sluice_maglev_cache *cache, char *err,
			      size_t errlen);

/*
 * Write a complete snapshot into snap (generation untouched): global
 * settings, VIPs by id, backends (each VIP's contiguous), backend_pos_by_id,
 * the VIP index and the tables. Refuses (-EINVAL, err says why) duplicate or
 * out-of-range VIP or backend ids, duplicate (addr, port, proto), and sets
 * that exceed the snapshot's capacities.
 */
int sluice_snapshot_fill(struct sluice_snapshot *snap, const struct sluice_global_cfg *global,
			 const struct sluice_vip_spec *vips, size_t n_vips, char *err,
			 size_t errlen);

/* Where a new flow of vip (NULL: no VIP) goes under snap: the data plane's
 * own sluice_table_pick (include/sluice/shm.h), for the tests' oracle and
 * `sluicectl explain`'s answer. */
const struct sluice_backend *sluice_snapshot_pick(const struct sluice_snapshot *snap,
						  const struct sluice_vip *vip, __u64 flow_hash);

/*
 * A VIP's table as one number, for comparing load balancers of a fleet:
 * XXH64 (seed 0) over M (4 bytes), the M slots (2 bytes each) and the
 * VIP's backend addresses in the order the slots index them (family byte,
 * 16 address bytes). Hosts with the same backends, weights, states and
 * table settings have the same digest whatever ids they gave; any
 * difference in where a new flow goes shows. Little-endian hosts.
 */
__u64 sluice_vip_table_digest(const struct sluice_snapshot *snap, const struct sluice_vip *vip);

/*
 * Checks of a snapshot read from shared memory (lib/snapshot_check.c).
 * _layout: every count, id and offset a reader indexes with is in range and
 * consistent (VIPs, backends, the position map, the VIP index), in time
 * linear in VIPs and backends: what sluice-dp checks before it adopts a
 * generation (table values are bounded where they are read). _check: that
 * and every table slot, for readers that can afford 16 Mi slots (sluiced at
 * restart, shm_dump). 0, or -EINVAL with err saying what is wrong.
 */
int sluice_snapshot_check_layout(const struct sluice_snapshot *snap, char *err, size_t errlen);
int sluice_snapshot_check(const struct sluice_snapshot *snap, char *err, size_t errlen);

#endif /* SLUICE_SNAPSHOT_H */
