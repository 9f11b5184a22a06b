/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Publishing a snapshot into the XDP program's maps (xdp_path.h,
 * sluice_xdp_path_publish), so that every packet sees a consistent
 * configuration (docs/xdp.md, "swap protocol"):
 *   - each VIP's table is a new frozen map swapped whole into the outer
 *     map (map-in-map);
 *   - the VIP index and the global settings are double-buffered: the other
 *     version is written, then cfg_sel switches, and it is written again
 *     only after an RCU grace period;
 *   - a backend is written before any table names it; while tables name
 *     it, only its state byte changes;
 *   - an id that changes meaning waits for a grace period first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xxhash.h>

#include "errmsg.h"
#include "xdp_path_priv.h"

/* ---- the VIP index ---- */

static bool same_vip_key(const struct sluice_xdp_vip_entry *a, const struct sluice_xdp_vip_entry *b)
{
	return a->addr_lo == b->addr_lo && a->addr_hi == b->addr_hi && a->port == b->port &&
	       a->proto == b->proto && a->family == b->family;
}

/* The next version: settings g and the index of entries[0..n), with the
 * seed in force if it lays them out (xdp_layout.c). */
static int version_build(struct sluice_xdp_path *xp, const struct sluice_global_cfg *g,
			 const struct sluice_xdp_vip_entry *entries, size_t n, char *err,
			 size_t errlen)
{
	__u64 seed = xp->cur.configured ? xp->cur.cfg.index_seed : 0;
	int rc = sluice_xdp_version_build(g, entries, n, seed, &xp->next.cfg, xp->next.index, err,
					  errlen);

	xp->next.cfg.syn_rate = xp->syn_rate;
	return rc;
}

void sluice_xdp_path_set_syn_rate(struct sluice_xdp_path *xp, __u32 rate)
{
	xp->syn_rate = rate;
}

/* Make xp->next the version in force: write it where packets do not look,
 * then switch cfg_sel. */
static int version_switch(struct sluice_xdp_path *xp, __u64 generation, char *err, size_t errlen)
{
	struct sluice_xdp_cfg_sel sel = {.configured = 1, .generation = generation};
	__u32 other = xp->cur.configured ? xp->cur.version ^ 1 : 0, zero = 0,
	      count = SLUICE_XDP_VIP_INDEX_SIZE;
	int rc;

	if (xp->cur.other_in_use) {
		sluice_xdp_grace_period();
		xp->cur.other_in_use = false;
	}
	for (__u32 i = 0; i < SLUICE_XDP_VIP_INDEX_SIZE; i++)
		xp->batch_keys[i] = other * SLUICE_XDP_VIP_INDEX_SIZE + i;
	rc = bpf_map_update_batch(bpf_map__fd(xp->skel->maps.vip_index), xp->batch_keys,
				  xp->next.index, &count, NULL);
	if (rc == 0)
		rc = bpf_map_update_elem(bpf_map__fd(xp->skel->maps.cfg), &other, &xp->next.cfg,
					 BPF_ANY);
	if (rc < 0)
		return sluice_errf(err, errlen, rc, "cannot write the XDP VIP index: %s",
				   strerror(-rc));
	sel.slot = other;
	rc = bpf_map_update_elem(bpf_map__fd(xp->skel->maps.cfg_sel), &zero, &sel, BPF_ANY);
	if (rc < 0)
		return sluice_errf(err, errlen, rc, "cannot switch the XDP configuration: %s",
				   strerror(-rc));
	xp->cur.other_in_use = xp->cur.configured;
	xp->cur.configured = true;
	xp->cur.version = other;
	xp->cur.cfg = xp->next.cfg;
	memcpy(xp->cur.index, xp->next.index, sizeof(xp->cur.index));
	return 0;
}

/* The entries of the index in force by VIP id. */
static void index_by_id(const struct version_state *v,
			const struct sluice_xdp_vip_entry *by_id[SLUICE_MAX_VIPS])
{
	memset(by_id, 0, SLUICE_MAX_VIPS * sizeof(by_id[0]));
	if (!v->configured)
		return;
	for (__u32 i = 0; i < SLUICE_XDP_VIP_INDEX_SIZE; i++)
		if (v->index[i].family && v->index[i].vip_id < SLUICE_MAX_VIPS)
			by_id[v->index[i].vip_id] = &v->index[i];
}

/* ---- tables ---- */

/* A new frozen map holding table t, swapped into tables[id]. */
static int table_swap(struct sluice_xdp_path *xp, __u32 id, const union sluice_xdp_table_entry *t,
		      __u32 n, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, copts, .map_flags = BPF_F_INNER_MAP);
	__u32 *keys = malloc(n * sizeof(*keys)), count = n;
	int fd, rc;

	if (!keys)
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sluice_table", sizeof(__u32), sizeof(*t), n,
			    &copts);
	if (fd < 0) {
		free(keys);
		return sluice_errf(err, errlen, fd, "cannot create a table map of %u entries: %s",
				   n, strerror(-fd));
	}
	rc = bpf_map_update_batch(fd, keys, t, &count, NULL);
	free(keys);
	if (rc == 0)
		rc = bpf_map_freeze(fd);
	if (rc == 0)
		rc = bpf_map_update_elem(bpf_map__fd(xp->skel->maps.tables), &id, &fd, BPF_ANY);
	close(fd);
	if (rc < 0)
		return sluice_errf(err, errlen, rc, "cannot install the table of VIP %u: %s", id,
				   strerror(-rc));
	xp->table[id].present = true;
	return 0;
}

/* Swap in every table of snap that differs from the one in place. */
static int tables_publish(struct sluice_xdp_path *xp, const struct sluice_snapshot *snap,
			  char *err, size_t errlen)
{
	for (__u32 i = 0; i < snap->n_vips; i++) {
		union sluice_xdp_table_entry *t;
		__u64 digest;
		__u32 n;
		int rc;

		if (!snap->vips[i].in_use)
			continue;
		n = sluice_xdp_table_build(snap, &snap->vips[i], &t);
		if (!n)
			return sluice_errf(err, errlen, -ENOMEM, "out of memory");
		digest = XXH64(t, n * sizeof(*t), 0);
		if (!xp->table[i].present || !xp->table[i].known ||
		    xp->table[i].digest != digest) {
			xp->table[i].known = false;
			rc = table_swap(xp, i, t, n, err, errlen);
			if (rc < 0) {
				free(t);
				return rc;
			}
			xp->table[i].known = true;
			xp->table[i].digest = digest;
		}
		free(t);
	}
	return 0;
}

/* ---- backends ---- */

static int write_backend(struct sluice_xdp_path *xp, const struct sluice_backend *b, __u32 id,
			 char *err, size_t errlen)
{
	int rc = bpf_map_update_elem(bpf_map__fd(xp->skel->maps.backends), &id, b, BPF_ANY);

	if (rc < 0)
		return sluice_errf(err, errlen, rc, "cannot write backend %u: %s", id,
				   strerror(-rc));
	xp->be[id] = *b;
	return 0;
}

/* Backends no table names yet (new ids), before any table names them. An
 * id that held another backend is first marked absent with the new bytes,
 * then given its state: a packet holding a stale flow entry reads either
 * "absent" or the whole new backend. *later: ids that still hold a
 * different backend (not something sluiced does), for backends_after. */
static int backends_before(struct sluice_xdp_path *xp, bool *later, char *err, size_t errlen)
{
	*later = false;
	for (__u32 id = 0; id < SLUICE_MAX_BACKENDS; id++) {
		struct sluice_backend *nb = &xp->new_be[id], *ob = &xp->be[id], tmp;
		int rc = 0;

		if (nb->state == SLUICE_BACKEND_ABSENT)
			continue;
		if (ob->state == SLUICE_BACKEND_ABSENT) {
			if (ob->addr.family && !sluice_xdp_backend_same_identity(ob, nb)) {
				tmp = *nb;
				tmp.state = SLUICE_BACKEND_ABSENT;
				rc = write_backend(xp, &tmp, id, err, errlen);
			}
			if (rc == 0)
				rc = write_backend(xp, nb, id, err, errlen);
		} else if (!sluice_xdp_backend_same_identity(ob, nb)) {
			tmp = *ob;
			tmp.state = SLUICE_BACKEND_ABSENT;
			rc = write_backend(xp, &tmp, id, err, errlen);
			*later = true;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* After the new tables are in: state changes (so that flows re-picked
 * because of them see the new tables), removals (state absent: only that
 * byte changes), and the ids of backends_before's *later. */
static int backends_after(struct sluice_xdp_path *xp, bool later, char *err, size_t errlen)
{
	for (__u32 id = 0; id < SLUICE_MAX_BACKENDS; id++) {
		struct sluice_backend *nb = &xp->new_be[id], *ob = &xp->be[id], gone;
		int rc;

		if (ob->state == SLUICE_BACKEND_ABSENT)
			continue;
		if (nb->state == SLUICE_BACKEND_ABSENT) {
			gone = *ob;
			gone.state = SLUICE_BACKEND_ABSENT;
			rc = write_backend(xp, &gone, id, err, errlen);
		} else if (sluice_xdp_backend_same_identity(ob, nb) && memcmp(ob, nb, sizeof(*nb)) != 0) {
			rc = write_backend(xp, nb, id, err, errlen);
		} else {
			continue;
		}
		if (rc < 0)
			return rc;
	}
	if (!later)
		return 0;
	/* Nothing reads the old backends of those ids after a grace period. */
	sluice_xdp_grace_period();
	for (__u32 id = 0; id < SLUICE_MAX_BACKENDS; id++) {
		int rc;

		if (xp->new_be[id].state == SLUICE_BACKEND_ABSENT ||
		    xp->be[id].state != SLUICE_BACKEND_ABSENT)
			continue;
		rc = write_backend(xp, &xp->new_be[id], id, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- publish ---- */

int sluice_xdp_path_publish(struct sluice_xdp_path *xp, const struct sluice_snapshot *snap,
			    char *err, size_t errlen)
{
	const struct sluice_xdp_vip_entry *old[SLUICE_MAX_VIPS];
	struct sluice_xdp_vip_entry entries[SLUICE_MAX_VIPS];
	bool present[SLUICE_MAX_VIPS] = {false}, rebound = false, later;
	size_t n = 0;
	int rc;

	rc = sluice_xdp_snapshot_check(snap, err, errlen);
	if (rc < 0)
		return rc;

	/* What the snapshot asks for: index entries, backends by id. */
	rc = sluice_xdp_wants(snap, entries, &n, present, xp->new_be, err, errlen);
	if (rc < 0)
		return rc;

	/* 1. An id that now names another VIP: first a version without the
	 * old VIP, and a grace period, so that no packet of the old VIP uses
	 * the new VIP's table swapped in below. */
	index_by_id(&xp->cur, old);
	for (__u32 i = 0; i < SLUICE_MAX_VIPS; i++)
		if (old[i] && present[i]) {
			struct sluice_xdp_vip_entry e;

			sluice_xdp_index_entry(&snap->vips[i], &e);
			rebound |= !same_vip_key(old[i], &e);
		}
	if (rebound) {
		struct sluice_xdp_vip_entry keep[SLUICE_MAX_VIPS];
		size_t k = 0;

		for (__u32 i = 0; i < SLUICE_MAX_VIPS; i++) {
			struct sluice_xdp_vip_entry e;

			if (!old[i])
				continue;
			if (present[i]) {
				sluice_xdp_index_entry(&snap->vips[i], &e);
				if (!same_vip_key(old[i], &e))
					continue;
			}
			keep[k++] = *old[i];
		}
		rc = version_build(xp, &xp->cur.cfg.g, keep, k, err, errlen);
		if (rc == 0)
			rc = version_switch(xp, snap->generation, err, errlen);
		if (rc < 0)
			return rc;
		sluice_xdp_grace_period();
		xp->cur.other_in_use = false;
	}

	/* 2. New backends, 3. tables, before the index names new VIPs. */
	rc = backends_before(xp, &later, err, errlen);
	if (rc == 0)
		rc = tables_publish(xp, snap, err, errlen);
	if (rc < 0)
		return rc;

	/* 4. The new index and settings, switched in whole. */
	rc = version_build(xp, &snap->global, entries, n, err, errlen);
	if (rc < 0)
		return rc;
	if (!xp->cur.configured || memcmp(&xp->next.cfg, &xp->cur.cfg, sizeof(xp->cur.cfg)) != 0 ||
	    memcmp(xp->next.index, xp->cur.index, sizeof(xp->cur.index)) != 0) {
		rc = version_switch(xp, snap->generation, err, errlen);
	} else {
		struct sluice_xdp_cfg_sel sel = {.slot = xp->cur.version, .configured = 1,
						 .generation = snap->generation};
		__u32 zero = 0;

		rc = bpf_map_update_elem(bpf_map__fd(xp->skel->maps.cfg_sel), &zero, &sel, BPF_ANY);
		if (rc < 0)
			rc = sluice_errf(err, errlen, rc, "cannot write cfg_sel: %s", strerror(-rc));
	}
	if (rc < 0)
		return rc;

	/* 5. Tables of VIPs that are gone (a packet still on the old index
	 * finds no table and is dropped, counted as table_mismatch). */
	for (__u32 i = 0; i < SLUICE_MAX_VIPS; i++) {
		if (present[i] || !xp->table[i].present)
			continue;
		rc = bpf_map_delete_elem(bpf_map__fd(xp->skel->maps.tables), &i);
		if (rc < 0 && rc != -ENOENT)
			return sluice_errf(err, errlen, rc, "cannot delete the table of VIP %u: %s",
					   i, strerror(-rc));
		xp->table[i].present = false;
		xp->table[i].known = false;
	}

	/* 6. Backend states and removals. */
	return backends_after(xp, later, err, errlen);
}
