/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshot -> the XDP program's map values (xdp_layout.h): pure
 * computations, shared by the loader (xdp_path_publish.c) and the host
 * build of the program in the fuzzer (tests/fuzz/fuzz_xdp.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "errmsg.h"
#include "xdp_layout.h"

/* Everything publish checks before it writes anything: the snapshot must
 * describe tables and backends the program can follow. */
int sluice_xdp_snapshot_check(const struct sluice_snapshot *snap, char *err, size_t errlen)
{
	if (snap->n_vips > SLUICE_MAX_VIPS || snap->n_backends > SLUICE_MAX_BACKENDS ||
	    snap->table_slots_used > SLUICE_TABLE_POOL_SLOTS)
		return sluice_errf(err, errlen, -EINVAL, "snapshot counts out of range");
	for (__u32 i = 0; i < snap->n_vips; i++) {
		const struct sluice_vip *v = &snap->vips[i];

		if (!v->in_use)
			continue;
		if (v->id != i)
			return sluice_errf(err, errlen, -EINVAL, "VIP slot %u holds id %u", i, v->id);
		if (v->mode < SLUICE_FWD_IPIP || v->mode > SLUICE_FWD_L2DSR)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: unknown mode %u", i,
					   v->mode);
		if (v->addr.family != SLUICE_FAMILY_V4 && v->addr.family != SLUICE_FAMILY_V6)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: bad address family", i);
		if ((__u64)v->backend_first + v->backend_count > snap->n_backends)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: backends out of range", i);
		if ((__u64)v->table_offset + v->table_size > snap->table_slots_used)
			return sluice_errf(err, errlen, -EINVAL, "VIP %u: table out of range", i);
		for (__u32 s = 0; s < v->table_size; s++)
			if (snap->tables[v->table_offset + s] >= v->backend_count)
				return sluice_errf(err, errlen, -EINVAL,
						   "VIP %u: table slot %u names backend %u of %u", i,
						   s, snap->tables[v->table_offset + s],
						   v->backend_count);
		for (__u32 b = 0; b < v->backend_count; b++) {
			const struct sluice_backend *be = &snap->backends[v->backend_first + b];

			if (be->id >= SLUICE_MAX_BACKENDS)
				return sluice_errf(err, errlen, -EINVAL, "backend id %u out of range",
						   be->id);
			if (be->addr.family != SLUICE_FAMILY_V4 &&
			    be->addr.family != SLUICE_FAMILY_V6)
				return sluice_errf(err, errlen, -EINVAL,
						   "backend %u: bad address family", be->id);
		}
	}
	return 0;
}

/* ---- backends ---- */

/* A backend as the program sees it (pads zero). */
void sluice_xdp_backend_norm(const struct sluice_backend *in, struct sluice_backend *out)
{
	memset(out, 0, sizeof(*out));
	out->addr.family = in->addr.family;
	memcpy(out->addr.bytes, in->addr.bytes, in->addr.family == SLUICE_FAMILY_V4 ? 4 : 16);
	memcpy(out->mac, in->mac, 6);
	out->state = in->state;
	out->id = in->id;
	out->vip_id = in->vip_id;
	out->weight = in->weight;
}

/* Same backend (address, MAC, VIP): only its state or weight may differ. */
bool sluice_xdp_backend_same_identity(const struct sluice_backend *a,
				      const struct sluice_backend *b)
{
	return memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0 &&
	       memcmp(a->mac, b->mac, 6) == 0 && a->vip_id == b->vip_id && a->id == b->id;
}

int sluice_xdp_wants(const struct sluice_snapshot *snap, struct sluice_xdp_vip_entry *entries,
		     size_t *n, bool *present, struct sluice_backend *be, char *err,
		     size_t errlen)
{
	*n = 0;
	memset(present, 0, SLUICE_MAX_VIPS * sizeof(*present));
	memset(be, 0, SLUICE_MAX_BACKENDS * sizeof(*be));
	for (__u32 i = 0; i < snap->n_vips; i++) {
		const struct sluice_vip *v = &snap->vips[i];

		if (!v->in_use)
			continue;
		present[i] = true;
		sluice_xdp_index_entry(v, &entries[(*n)++]);
		for (__u32 b = 0; b < v->backend_count; b++) {
			const struct sluice_backend *sb = &snap->backends[v->backend_first + b];
			struct sluice_backend *nb = &be[sb->id];

			if (nb->state != SLUICE_BACKEND_ABSENT)
				return sluice_errf(err, errlen, -EINVAL, "duplicate backend id %u",
						   sb->id);
			sluice_xdp_backend_norm(sb, nb);
			nb->vip_id = (__u16)i;
			if (nb->state == SLUICE_BACKEND_ABSENT)
				nb->state = SLUICE_BACKEND_DISABLED; /* in the set, no flows */
		}
	}
	return 0;
}

/* ---- the VIP index ---- */

void sluice_xdp_index_entry(const struct sluice_vip *v, struct sluice_xdp_vip_entry *e)
{
	__u8 bytes[16] = {0};

	memcpy(bytes, v->addr.bytes, v->addr.family == SLUICE_FAMILY_V4 ? 4 : 16);
	memset(e, 0, sizeof(*e));
	memcpy(&e->addr_lo, bytes, 8);
	memcpy(&e->addr_hi, bytes + 8, 8);
	e->hash_seed = v->hash_seed;
	e->port = v->port;
	e->proto = v->proto;
	e->family = v->addr.family;
	e->vip_id = v->id;
	e->mode = v->mode;
}

/* Lay entries[0..n) out as an index with seed: false when some key would
 * sit SLUICE_XDP_VIP_PROBES or more slots past its own. */
static bool index_layout(const struct sluice_xdp_vip_entry *entries, size_t n, __u64 seed,
			 struct sluice_xdp_vip_entry *index)
{
	memset(index, 0, SLUICE_XDP_VIP_INDEX_SIZE * sizeof(*index));
	for (size_t i = 0; i < n; i++) {
		const struct sluice_xdp_vip_entry *e = &entries[i];
		__u32 slot = sluice_xdp_vip_slot(e->addr_lo, e->addr_hi, e->family, e->port,
						 e->proto, seed);
		int d;

		for (d = 0; d < SLUICE_XDP_VIP_PROBES; d++) {
			struct sluice_xdp_vip_entry *x =
				&index[(slot + d) & (SLUICE_XDP_VIP_INDEX_SIZE - 1)];

			if (!x->family) {
				*x = *e;
				break;
			}
		}
		if (d == SLUICE_XDP_VIP_PROBES)
			return false;
	}
	return true;
}

int sluice_xdp_version_build(const struct sluice_global_cfg *g,
			     const struct sluice_xdp_vip_entry *entries, size_t n, __u64 seed,
			     struct sluice_xdp_cfg *cfg, struct sluice_xdp_vip_entry *index,
			     char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->g = *g;
	for (size_t i = 0; i < n; i++)
		if (entries[i].port == 0)
			cfg->wildcards |= sluice_xdp_wildcard_bit(entries[i].family, entries[i].proto);
	for (__u32 attempt = 0; attempt < 256; attempt++) {
		if (index_layout(entries, n, seed, index)) {
			cfg->index_seed = seed;
			return 0;
		}
		seed = XXH64(&attempt, sizeof(attempt), 0x5eed);
	}
	return sluice_errf(err, errlen, -EOVERFLOW, "cannot lay out the index of %zu VIPs", n);
}

/* ---- tables ---- */

/* The table of VIP v in the program's layout: entry 0 the header, then
 * backend ids 8 to an entry. Returns the number of entries, or 0 (ENOMEM). */
__u32 sluice_xdp_table_build(const struct sluice_snapshot *snap, const struct sluice_vip *v,
			     union sluice_xdp_table_entry **out)
{
	__u32 n = sluice_xdp_table_entries(v->table_size);
	union sluice_xdp_table_entry *t = calloc(n, sizeof(*t));

	*out = t;
	if (!t)
		return 0;
	t[0].hdr.m = v->table_size;
	t[0].hdr.vip_id = v->id;
	for (__u32 s = 0; s < v->table_size; s++) {
		__u16 local = snap->tables[v->table_offset + s];

		t[1 + s / SLUICE_XDP_SLOTS_PER_ENTRY].ids[s % SLUICE_XDP_SLOTS_PER_ENTRY] =
			snap->backends[v->backend_first + local].id;
	}
	return n;
}
