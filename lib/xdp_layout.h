/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a snapshot puts into the XDP program's maps, computed without the
 * maps: the checks, the VIP index and its settings, each VIP's table, the
 * backends by id. The loader (xdp_path_publish.c) writes these values in
 * the order of its swap protocol; the host build of the program
 * (tests/fuzz/fuzz_xdp.c) writes them straight into its host maps. No
 * libbpf here: only the layout of bpf/xdp_abi.h.
 */
#ifndef SLUICE_XDP_LAYOUT_H
#define SLUICE_XDP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/shm.h"
#include "xdp_abi.h"

/* 0 when the program can follow snap's tables and backends, else -EINVAL
 * with err. */
int sluice_xdp_snapshot_check(const struct sluice_snapshot *snap, char *err, size_t errlen);

/* VIP v's entry of the VIP index. */
void sluice_xdp_index_entry(const struct sluice_vip *v, struct sluice_xdp_vip_entry *e);

/*
 * What snap asks for, but the tables: the index entries of its VIPs
 * (entries[0..*n), SLUICE_MAX_VIPS room), present[id] for each VIP in use,
 * and be[SLUICE_MAX_BACKENDS] by backend id as the program sees them (pads
 * zero, their VIP's id; in a VIP's set but absent reads disabled). 0, or
 * -EINVAL with err for a backend id named twice. snap passed
 * sluice_xdp_snapshot_check.
 */
int sluice_xdp_wants(const struct sluice_snapshot *snap, struct sluice_xdp_vip_entry *entries,
		     size_t *n, bool *present, struct sluice_backend *be, char *err,
		     size_t errlen);

/*
 * One version of the settings and the index: g, the wildcard bits, and
 * entries[0..n) laid out in index[SLUICE_XDP_VIP_INDEX_SIZE] with seed if
 * that keeps every key within SLUICE_XDP_VIP_PROBES of its slot, else with
 * the first of a fixed sequence of seeds that does. 0, or -EOVERFLOW.
 */
int sluice_xdp_version_build(const struct sluice_global_cfg *g,
			     const struct sluice_xdp_vip_entry *entries, size_t n, __u64 seed,
			     struct sluice_xdp_cfg *cfg, struct sluice_xdp_vip_entry *index,
			     char *err, size_t errlen);

/* The table of VIP v in the program's layout (entry 0 the header, then
 * backend ids 8 to an entry), in *out, to free(). Returns the number of
 * entries, or 0 (ENOMEM). */
__u32 sluice_xdp_table_build(const struct sluice_snapshot *snap, const struct sluice_vip *v,
			     union sluice_xdp_table_entry **out);

/* A backend as the program sees it (pads zero); two backends that differ
 * at most in state and weight. */
void sluice_xdp_backend_norm(const struct sluice_backend *in, struct sluice_backend *out);
bool sluice_xdp_backend_same_identity(const struct sluice_backend *a,
				      const struct sluice_backend *b);

#endif /* SLUICE_XDP_LAYOUT_H */
