/* SPDX-License-Identifier: BSD-3-Clause */
/* Laying VIPs, backends and tables out in a snapshot. See snapshot.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The state on the stack: a digest per VIP per scrape needs no malloc. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "errmsg.h"
#include "snapshot.h"

static int backend_addr_cmp(const void *a, const void *b)
{
	const struct sluice_backend *x = a, *y = b;

	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

int sluice_vip_compile(const struct sluice_table_params *params, struct sluice_backend *backends,
		       size_t n, __u16 *table, __u32 *m_out, char *err, size_t errlen)
{
	return sluice_vip_compile_cached(params, backends, n, table, m_out, NULL, err, errlen);
}

int sluice_vip_compile_cached(const struct sluice_table_params *params,
			      struct sluice_backend *backends, size_t n, __u16 *table,
			      __u32 *m_out, struct sluice_maglev_cache *cache, char *err,
			      size_t errlen)
{
	struct sluice_table_backend *tb;
	int rc;

	*m_out = 0;
	/* The order tables index; qsort is fine: addresses are unique (the
	 * compiler below refuses duplicates). */
	qsort(backends, n, sizeof(*backends), backend_addr_cmp);
	tb = calloc(n ? n : 1, sizeof(*tb));
	if (!tb)
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		tb[i].addr = backends[i].addr;
		tb[i].weight = backends[i].state == SLUICE_BACKEND_ACTIVE ? backends[i].weight : 0;
	}
	rc = sluice_table_build_cached(params, tb, n, table, NULL, cache, err, errlen);
	free(tb);
	if (rc == -ENODATA)
		return 0; /* nobody takes new flows: m = 0, the VIP drops */
	if (rc == 0)
		*m_out = params->m;
	return rc;
}

static void vip_index_insert(struct sluice_snapshot *snap, const struct sluice_vip *v)
{
	__u32 i = sluice_vip_index_hash(&v->addr, v->port, v->proto);

	while (snap->vip_index[i].used)
		i = (i + 1) & (SLUICE_VIP_INDEX_SIZE - 1);
	snap->vip_index[i].addr = v->addr;
	snap->vip_index[i].port = v->port;
	snap->vip_index[i].proto = v->proto;
	snap->vip_index[i].vip_id = v->id;
	snap->vip_index[i].used = 1;
}

static int check_vips(const struct sluice_snapshot *snap, const struct sluice_vip_spec *vips,
		      size_t n, char *err, size_t errlen)
{
	size_t backends = 0, slots = 0;

	if (n > SLUICE_MAX_VIPS)
		return sluice_errf(err, errlen, -EINVAL, "%zu VIPs: at most %u", n,
				   SLUICE_MAX_VIPS);
	for (size_t i = 0; i < n; i++) {
		const struct sluice_vip *v = &vips[i].vip;

		if (v->id >= SLUICE_MAX_VIPS)
			return sluice_errf(err, errlen, -EINVAL, "VIP id %u out of range", v->id);
		if (v->mode < SLUICE_FWD_IPIP || v->mode > SLUICE_FWD_L2DSR)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: unknown mode %u", v->id,
					   v->mode);
		if (vips[i].n_backends > SLUICE_MAX_BACKENDS_PER_VIP)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: %zu backends, at most %u",
					   v->id, vips[i].n_backends, SLUICE_MAX_BACKENDS_PER_VIP);
		if (vips[i].m && !vips[i].table)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: table missing", v->id);
		for (size_t j = 0; j < i; j++) {
			const struct sluice_vip *o = &vips[j].vip;

			if (o->id == v->id)
				return sluice_errf(err, errlen, -EINVAL, "duplicate VIP id %u",
						   v->id);
			if (o->port == v->port && o->proto == v->proto &&
			    memcmp(&o->addr, &v->addr, sizeof(v->addr)) == 0)
				return sluice_errf(err, errlen, -EINVAL,
						   "VIPs %u and %u have the same address, port "
						   "and protocol",
						   o->id, v->id);
		}
		backends += vips[i].n_backends;
		slots += vips[i].m;
	}
	if (backends > SLUICE_MAX_BACKENDS)
		return sluice_errf(err, errlen, -EINVAL, "%zu backends in all: at most %u",
				   backends, SLUICE_MAX_BACKENDS);
	if (slots > SLUICE_TABLE_POOL_SLOTS)
		return sluice_errf(err, errlen, -EINVAL,
				   "tables need %zu slots in all: the snapshot holds %u", slots,
				   SLUICE_TABLE_POOL_SLOTS);
	(void)snap;
	return 0;
}

int sluice_snapshot_fill(struct sluice_snapshot *snap, const struct sluice_global_cfg *global,
			 const struct sluice_vip_spec *vips, size_t n_vips, char *err,
			 size_t errlen)
{
	__u32 next_backend = 0, next_slot = 0, max_id = 0;
	int rc = check_vips(snap, vips, n_vips, err, errlen);

	if (rc < 0)
		return rc;
	/* Backend ids must be unique: mark each in the position map first. */
	memset(snap->backend_pos_by_id, 0xff, sizeof(snap->backend_pos_by_id));
	for (size_t i = 0; i < n_vips; i++)
		for (size_t j = 0; j < vips[i].n_backends; j++) {
			__u16 id = vips[i].backends[j].id;

			if (id >= SLUICE_MAX_BACKENDS)
				return sluice_errf(err, errlen, -EINVAL, "backend id %u out of range",
						   id);
			if (snap->backend_pos_by_id[id] != SLUICE_NO_POS)
				return sluice_errf(err, errlen, -EINVAL, "duplicate backend id %u",
						   id);
			snap->backend_pos_by_id[id] = 0;
		}

	snap->global = *global;
	memset(snap->vip_index, 0, sizeof(snap->vip_index));
	memset(snap->vips, 0, sizeof(snap->vips));
	for (size_t i = 0; i < n_vips; i++) {
		const struct sluice_vip_spec *spec = &vips[i];
		struct sluice_vip *v = &snap->vips[spec->vip.id];

		*v = spec->vip;
		v->in_use = 1;
		v->backend_first = next_backend;
		v->backend_count = (__u32)spec->n_backends;
		v->table_offset = next_slot;
		v->table_size = spec->m;
		for (size_t j = 0; j < spec->n_backends; j++) {
			struct sluice_backend *b = &snap->backends[next_backend + j];

			*b = spec->backends[j];
			b->vip_id = v->id;
			snap->backend_pos_by_id[b->id] = (__u16)(next_backend + j);
		}
		if (spec->m)
			memcpy(&snap->tables[next_slot], spec->table, spec->m * sizeof(__u16));
		next_backend += (__u32)spec->n_backends;
		next_slot += spec->m;
		vip_index_insert(snap, v);
		if (v->id + 1u > max_id)
			max_id = v->id + 1u;
	}
	snap->n_vips = max_id;
	snap->n_backends = next_backend;
	snap->table_slots_used = next_slot;
	return 0;
}

const struct sluice_backend *sluice_snapshot_pick(const struct sluice_snapshot *snap,
						  const struct sluice_vip *vip, __u64 flow_hash)
{
	return vip ? sluice_table_pick(snap, vip, flow_hash) : NULL;
}

__u64 sluice_vip_table_digest(const struct sluice_snapshot *snap, const struct sluice_vip *vip)
{
	XXH64_state_t st;
	__u32 m = vip->table_size;

	XXH64_reset(&st, 0);
	XXH64_update(&st, &m, sizeof(m));
	if (m)
		XXH64_update(&st, &snap->tables[vip->table_offset], m * sizeof(snap->tables[0]));
	for (__u32 i = 0; i < vip->backend_count; i++) {
		const struct sluice_addr *a = &snap->backends[vip->backend_first + i].addr;

		XXH64_update(&st, &a->family, 1);
		XXH64_update(&st, a->bytes, sizeof(a->bytes));
	}
	return XXH64_digest(&st);
}
