/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checking a snapshot read from shared memory before anything indexes with
 * it. A region outlives its writer and can be written by anyone with the
 * file's permissions, so a reader (sluice-dp adopting a generation, sluiced
 * attaching to the snapshot in force at restart, shm_dump) treats every
 * count, id and offset in it as input: a bad one is refused with a
 * sentence, never followed.
 */
#include <errno.h>
#include <stdbool.h>

#include "errmsg.h"
#include "snapshot.h"

static bool family_ok(__u8 f)
{
	return f == SLUICE_FAMILY_V4 || f == SLUICE_FAMILY_V6;
}

static int check_vip(const struct sluice_snapshot *s, __u32 i, char *err, size_t errlen)
{
	const struct sluice_vip *v = &s->vips[i];

	if (v->id != i)
		return sluice_errf(err, errlen, -EINVAL, "VIP %u carries id %u", i, v->id);
	if (!family_ok(v->addr.family))
		return sluice_errf(err, errlen, -EINVAL, "VIP %u: address family %u", i,
				   v->addr.family);
	if (v->mode < SLUICE_FWD_IPIP || v->mode > SLUICE_FWD_L2DSR)
		return sluice_errf(err, errlen, -EINVAL, "VIP %u: unknown mode %u", i, v->mode);
	if (v->backend_count > SLUICE_MAX_BACKENDS_PER_VIP ||
	    (__u64)v->backend_first + v->backend_count > s->n_backends)
		return sluice_errf(err, errlen, -EINVAL,
				   "VIP %u: backends %u..+%u outside the %u of the snapshot", i,
				   v->backend_first, v->backend_count, s->n_backends);
	if ((__u64)v->table_offset + v->table_size > s->table_slots_used)
		return sluice_errf(err, errlen, -EINVAL,
				   "VIP %u: table %u..+%u outside the %u slots in use", i,
				   v->table_offset, v->table_size, s->table_slots_used);
	if (v->table_size && !v->backend_count)
		return sluice_errf(err, errlen, -EINVAL, "VIP %u: a table but no backends", i);
	for (__u32 j = 0; j < v->backend_count; j++) {
		const struct sluice_backend *b = &s->backends[v->backend_first + j];

		if (b->vip_id != i || b->id >= SLUICE_MAX_BACKENDS ||
		    s->backend_pos_by_id[b->id] != v->backend_first + j)
			return sluice_errf(err, errlen, -EINVAL,
					   "VIP %u: backend at %u (id %u, VIP %u) is not indexed "
					   "as its own",
					   i, v->backend_first + j, b->id, b->vip_id);
		if (!family_ok(b->addr.family) || b->state > SLUICE_BACKEND_DOWN)
			return sluice_errf(err, errlen, -EINVAL,
					   "VIP %u: backend id %u: family %u, state %u", i, b->id,
					   b->addr.family, b->state);
	}
	return 0;
}

int sluice_snapshot_check_layout(const struct sluice_snapshot *s, char *err, size_t errlen)
{
	int rc;

	if (s->n_vips > SLUICE_MAX_VIPS || s->n_backends > SLUICE_MAX_BACKENDS ||
	    s->table_slots_used > SLUICE_TABLE_POOL_SLOTS)
		return sluice_errf(err, errlen, -EINVAL,
				   "counts out of range: %u VIPs (at most %u), %u backends (%u), "
				   "%u table slots (%u)",
				   s->n_vips, SLUICE_MAX_VIPS, s->n_backends, SLUICE_MAX_BACKENDS,
				   s->table_slots_used, SLUICE_TABLE_POOL_SLOTS);
	for (__u32 i = 0; i < s->n_vips; i++)
		if (s->vips[i].in_use && (rc = check_vip(s, i, err, errlen)) < 0)
			return rc;
	/* Ids past n_vips are never matched by a reader; the index must not
	 * name them either. */
	for (__u32 i = 0; i < SLUICE_VIP_INDEX_SIZE; i++) {
		const struct sluice_vip_index_entry *e = &s->vip_index[i];

		if (e->used && (e->vip_id >= s->n_vips || !s->vips[e->vip_id].in_use))
			return sluice_errf(err, errlen, -EINVAL,
					   "VIP index entry %u names VIP %u, which is not in use", i,
					   e->vip_id);
	}
	return 0;
}

int sluice_snapshot_check(const struct sluice_snapshot *s, char *err, size_t errlen)
{
	int rc = sluice_snapshot_check_layout(s, err, errlen);

	if (rc < 0)
		return rc;
	for (__u32 i = 0; i < s->n_vips; i++) {
		const struct sluice_vip *v = &s->vips[i];

		if (!v->in_use)
			continue;
		for (__u32 k = 0; k < v->table_size; k++)
			if (s->tables[v->table_offset + k] >= v->backend_count)
				return sluice_errf(err, errlen, -EINVAL,
						   "VIP %u: table slot %u names backend %u of %u", i,
						   k, s->tables[v->table_offset + k],
						   v->backend_count);
	}
	return 0;
}
