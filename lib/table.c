/* SPDX-License-Identifier: BSD-3-Clause */
/* Lookup-table compilers: Maglev (weighted), consistent-hash ring, modulo.
 * See table.h for the contract and docs/tables.md for the measurements. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sluice/shm.h"
#include "table.h"
#include "errmsg.h"

/* Seeds of the two Maglev permutation hashes and of ring points, mixed with
 * the table seed so that different seeds give unrelated tables. */
#define MAGLEV_OFFSET_SEED 0x6d61676c65764f46ULL
#define MAGLEV_SKIP_SEED 0x6d61676c65765348ULL
#define RING_POINT_SEED 0x72696e67706f696eULL

int sluice_is_prime(__u32 m)
{
	if (m < 2)
		return 0;
	if (m % 2 == 0)
		return m == 2;
	for (__u32 d = 3; (__u64)d * d <= m; d += 2)
		if (m % d == 0)
			return 0;
	return 1;
}

static const char *const algo_names[] = {
	[SLUICE_ALGO_MAGLEV] = "maglev",
	[SLUICE_ALGO_RING] = "ring",
	[SLUICE_ALGO_MODULO] = "modulo",
};

const char *sluice_table_algo_name(enum sluice_table_algo algo)
{
	if ((unsigned int)algo >= sizeof(algo_names) / sizeof(algo_names[0]))
		return "unknown";
	return algo_names[algo];
}

int sluice_table_algo_parse(const char *name, enum sluice_table_algo *algo)
{
	for (unsigned int i = 0; i < sizeof(algo_names) / sizeof(algo_names[0]); i++)
		if (name && strcmp(name, algo_names[i]) == 0) {
			*algo = (enum sluice_table_algo)i;
			return 0;
		}
	return -EINVAL;
}

static int addr_valid(const struct sluice_addr *a)
{
	static const __u8 zero[12];

	if (a->pad[0] || a->pad[1] || a->pad[2])
		return 0;
	if (a->family == SLUICE_FAMILY_V4)
		return memcmp(a->bytes + 4, zero, 12) == 0;
	return a->family == SLUICE_FAMILY_V6;
}

static void addr_format(const struct sluice_addr *a, char *buf, size_t len)
{
	if (a->family == SLUICE_FAMILY_V4) {
		snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2],
			 a->bytes[3]);
		return;
	}
	/* Full hex groups: enough to name the backend in an error. */
	snprintf(buf, len, "%x:%x:%x:%x:%x:%x:%x:%x", a->bytes[0] << 8 | a->bytes[1],
		 a->bytes[2] << 8 | a->bytes[3], a->bytes[4] << 8 | a->bytes[5],
		 a->bytes[6] << 8 | a->bytes[7], a->bytes[8] << 8 | a->bytes[9],
		 a->bytes[10] << 8 | a->bytes[11], a->bytes[12] << 8 | a->bytes[13],
		 a->bytes[14] << 8 | a->bytes[15]);
}

static int addr_cmp(const struct sluice_table_backend *b, __u32 x, __u32 y)
{
	return memcmp(&b[x].addr, &b[y].addr, sizeof(b[0].addr));
}

/* Indexes of backends in address order. A bottom-up merge sort: reentrant
 * (qsort would need the array in a global) and O(n log n) for large sets. */
static int sort_indexes(const struct sluice_table_backend *b, __u32 *idx, size_t n)
{
	__u32 *tmp = malloc((n ? n : 1) * sizeof(*tmp));

	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		idx[i] = (__u32)i;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = addr_cmp(b, idx[i], idx[j]) <= 0 ? idx[i++] : idx[j++];
			while (i < mid)
				tmp[k++] = idx[i++];
			while (j < hi)
				tmp[k++] = idx[j++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
	}
	free(tmp);
	return 0;
}

/* x mod m for x < 2^64 with a precomputed reciprocal (Barrett): the tail
 * search below does one per empty slot per claim. */
struct barrett {
	__u64 m;
	unsigned __int128 mu; /* floor(2^64 / m) */
};

static inline __u64 barrett_mod(const struct barrett *b, __u64 x)
{
	__u64 q = (__u64)(((unsigned __int128)x * b->mu) >> 64);
	__u64 r = x - q * b->m;

	return r >= b->m ? r - b->m : r;
}

/* Inverse of a modulo the prime m (extended Euclid). */
static __u32 mod_inverse(__u32 a, __u32 m)
{
	__s64 t = 0, nt = 1, r = m, nr = a;

	while (nr) {
		__s64 q = r / nr, tmp;

		tmp = t - q * nt;
		t = nt;
		nt = tmp;
		tmp = r - q * nr;
		r = nr;
		nr = tmp;
	}
	return (__u32)(t < 0 ? t + m : t);
}

void sluice_maglev_perm_of(const struct sluice_table_params *p, const struct sluice_addr *a,
			   struct sluice_maglev_perm *out)
{
	out->addr = *a;
	out->offset = (__u32)(XXH64(a, sizeof(*a), p->seed ^ MAGLEV_OFFSET_SEED) % p->m);
	out->skip = (__u32)(XXH64(a, sizeof(*a), p->seed ^ MAGLEV_SKIP_SEED) % (p->m - 1)) + 1;
	out->inv = mod_inverse(out->skip, p->m);
}

void sluice_maglev_cache_free(struct sluice_maglev_cache *c)
{
	free(c->perm);
	memset(c, 0, sizeof(*c));
}

/* State of one backend while Maglev fills the table. */
struct maglev_walker {
	__u32 offset;  /* first slot of its permutation */
	__u32 skip;    /* step of its permutation, 1..M-1 */
	__u32 inv;     /* skip^-1 mod M, for the tail */
	__u32 next;    /* next slot of its permutation to try */
	__u32 weight;
	__u32 credit;
	__u16 value;   /* what it writes into the table */
};

/*
 * Weighted Maglev. Each backend walks its own permutation of the slots
 * (offset + j * skip) mod M and claims the first free slot on it. Weights
 * are honoured with credits: every round a backend earns its weight, and
 * claims one slot per wmax of credit, so after R rounds it has claimed
 * R*w/wmax slots, within one. Equal weights give the classic algorithm.
 *
 * The walk costs about M/E probes per claim when E slots are still empty,
 * which makes the last few hundred claims most of the work. Once fewer than
 * tail_at slots are empty, a claim instead looks at every empty slot e and
 * computes its position on the backend's permutation, j = (e - offset) *
 * skip^-1 mod M: the empty slot with the smallest j is exactly the one the
 * walk would have found (every slot before it on the permutation was full
 * when walked past, and stays full). Same table, about half the time.
 */
static int build_maglev(const struct sluice_table_params *p, const struct sluice_table_backend *b,
			const __u32 *order, const struct sluice_maglev_perm *perm, size_t n,
			__u16 *table)
{
	const __u32 m = p->m;
	size_t words = (m + 63) / 64, active = 0, resume = 0;
	__u64 *used = calloc(words, sizeof(*used));
	struct maglev_walker *w = calloc(n, sizeof(*w));
	__u32 *empty = NULL;
	__u32 wmax = 0, filled = 0, n_empty = 0, tail_at;
	struct barrett br = {.m = m, .mu = (((unsigned __int128)1) << 64) / m};
	int rc = -ENOMEM;

	/* Measured on M = 65537 and 655373: the walk and the scan cost the same
	 * near E = sqrt(M) / 2. */
	tail_at = 16;
	while ((__u64)tail_at * tail_at * 4 < m)
		tail_at++;
	if (!used || !w)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct sluice_table_backend *be = &b[order[i]];

		if (be->weight == 0)
			continue;
		w[active].offset = perm[i].offset;
		w[active].skip = perm[i].skip;
		w[active].inv = perm[i].inv;
		w[active].next = w[active].offset;
		w[active].weight = be->weight;
		w[active].value = (__u16)i;
		if (be->weight > wmax)
			wmax = be->weight;
		active++;
	}
	/* Phase 1: walk the permutations while free slots are plentiful. */
	for (;;) {
		for (size_t i = 0; i < active; i++) {
			struct maglev_walker *wk = &w[i];
			__u32 c = wk->next, s = wk->skip;

			wk->credit += wk->weight;
			if (wk->credit < wmax)
				continue;
			if (m - filled <= tail_at) {
				wk->credit -= wk->weight; /* phase 2 redoes this turn */
				resume = i;
				goto tail;
			}
			wk->credit -= wmax;
			while (used[c / 64] & (1ull << (c % 64))) {
				c += s;
				if (c >= m)
					c -= m;
			}
			used[c / 64] |= 1ull << (c % 64);
			table[c] = wk->value;
			c += s;
			wk->next = c >= m ? c - m : c;
			if (++filled == m)
				goto done;
		}
	}
tail: {
	/* Phase 2: scan the few empty slots, from the turn phase 1 left. */
	empty = malloc((m - filled) * sizeof(*empty));
	if (!empty)
		goto out;
	for (__u32 c = 0; c < m; c++)
		if (!(used[c / 64] & (1ull << (c % 64))))
			empty[n_empty++] = c;
	for (size_t i = resume;; i = i + 1 == active ? 0 : i + 1) {
		struct maglev_walker *wk = &w[i];
		__u64 best_j = ~0ull;
		__u32 best = 0;

		wk->credit += wk->weight;
		if (wk->credit < wmax)
			continue;
		wk->credit -= wmax;
		for (__u32 e = 0; e < n_empty; e++) {
			__u64 j = barrett_mod(&br, (__u64)(empty[e] + m - wk->offset) * wk->inv);

			if (j < best_j) {
				best_j = j;
				best = e;
			}
		}
		table[empty[best]] = wk->value;
		empty[best] = empty[--n_empty];
		if (n_empty == 0)
			goto done;
	}
}
done:
	rc = 0;
out:
	free(used);
	free(w);
	free(empty);
	return rc;
}

struct ring_point {
	__u64 pos;    /* on the 64-bit ring */
	__u32 value;  /* backend index in address order */
};

static int cmp_ring_point(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* Consistent-hash ring: each backend places round(k * w / wmax) points (at
 * least one) at XXH64(address, vnode number); slot s, at position s/M of the
 * way round, goes to the first point at or after it, wrapping at the end. */
static int build_ring(const struct sluice_table_params *p, const struct sluice_table_backend *b,
		      const __u32 *order, size_t n, __u16 *table)
{
	struct ring_point *pts;
	size_t npts = 0, cap = 0, j = 0;
	__u32 wmax = 0;

	for (size_t i = 0; i < n; i++)
		if (b[i].weight > wmax)
			wmax = b[i].weight;
	for (size_t i = 0; i < n; i++)
		if (b[i].weight)
			cap += ((__u64)p->ring_k * b[i].weight + wmax / 2) / wmax + 1;
	pts = malloc(cap * sizeof(*pts));
	if (!pts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct sluice_table_backend *be = &b[order[i]];
		struct {
			struct sluice_addr addr;
			__u32 vnode;
		} id;
		__u64 k;

		if (be->weight == 0)
			continue;
		k = ((__u64)p->ring_k * be->weight + wmax / 2) / wmax;
		if (k == 0)
			k = 1;
		memset(&id, 0, sizeof(id));
		id.addr = be->addr;
		for (__u32 v = 0; v < k; v++) {
			id.vnode = v;
			pts[npts].pos = XXH64(&id, sizeof(id), p->seed ^ RING_POINT_SEED);
			pts[npts].value = (__u32)i;
			npts++;
		}
	}
	qsort(pts, npts, sizeof(*pts), cmp_ring_point);
	for (__u32 s = 0; s < p->m; s++) {
		/* ceil(s * 2^64 / M): the ring position of slot s. */
		unsigned __int128 t = ((unsigned __int128)s << 64) + p->m - 1;
		__u64 at = (__u64)(t / p->m);

		while (j < npts && pts[j].pos < at)
			j++;
		table[s] = (__u16)pts[j < npts ? j : 0].value;
	}
	free(pts);
	return 0;
}

/* Modulo: slot s -> the (s mod N)-th backend of weight > 0. Weights beyond
 * zero / non-zero are ignored: this is only a baseline. */
static int build_modulo(const struct sluice_table_params *p, const struct sluice_table_backend *b,
			const __u32 *order, size_t n, __u16 *table)
{
	__u16 *value = malloc(n * sizeof(*value));
	__u32 active = 0;

	if (!value)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (b[order[i]].weight)
			value[active++] = (__u16)i;
	for (__u32 s = 0; s < p->m; s++)
		table[s] = value[s % active];
	free(value);
	return 0;
}

static int validate(const struct sluice_table_params *p, const struct sluice_table_backend *b,
		    size_t n, const __u16 *table, char *err, size_t errlen)
{
	if (!p || !table || (n && !b))
		return sluice_errf(err, errlen, -EINVAL, "missing parameters, backends or table");
	if ((unsigned int)p->algo > SLUICE_ALGO_MODULO)
		return sluice_errf(err, errlen, -EINVAL, "unknown table algorithm %d", (int)p->algo);
	if (p->m > SLUICE_TABLE_MAX_M)
		return sluice_errf(err, errlen, -EINVAL, "table size M=%u is larger than the maximum %u",
			    p->m, SLUICE_TABLE_MAX_M);
	if (!sluice_is_prime(p->m))
		return sluice_errf(err, errlen, -EINVAL, "table size M=%u is not prime", p->m);
	if (n == 0)
		return sluice_errf(err, errlen, -EINVAL, "empty backend set");
	if (n > SLUICE_MAX_BACKENDS_PER_VIP)
		return sluice_errf(err, errlen, -EINVAL, "%zu backends: at most %u per VIP", n,
			    SLUICE_MAX_BACKENDS_PER_VIP);
	if ((__u64)p->m < (__u64)SLUICE_TABLE_MIN_SLOTS_PER_BACKEND * n)
		return sluice_errf(err, errlen, -EINVAL,
			    "table size M=%u is too small for %zu backends (need M >= %u * N)",
			    p->m, n, SLUICE_TABLE_MIN_SLOTS_PER_BACKEND);
	if (p->algo == SLUICE_ALGO_RING && (p->ring_k == 0 || p->ring_k > SLUICE_RING_MAX_K))
		return sluice_errf(err, errlen, -EINVAL, "ring k=%u out of range 1..%u", p->ring_k,
			    SLUICE_RING_MAX_K);
	for (size_t i = 0; i < n; i++) {
		if (!addr_valid(&b[i].addr))
			return sluice_errf(err, errlen, -EINVAL, "backend %zu has an invalid address", i);
		if (b[i].weight > SLUICE_WEIGHT_MAX) {
			char a[48];

			addr_format(&b[i].addr, a, sizeof(a));
			return sluice_errf(err, errlen, -EINVAL, "backend %s has weight %u, range 0..%u",
				    a, b[i].weight, SLUICE_WEIGHT_MAX);
		}
	}
	return 0;
}

/* perm[i]: the permutation of the i-th backend in address order, taken
 * from the cache where it has the address (both are sorted: one merge),
 * computed otherwise. The cache then holds exactly these. */
static int maglev_perms(const struct sluice_table_params *p, const struct sluice_table_backend *b,
			const __u32 *order, size_t n, struct sluice_maglev_cache *cache,
			struct sluice_maglev_perm **out)
{
	struct sluice_maglev_perm *perm = malloc((n ? n : 1) * sizeof(*perm));
	bool reuse = cache && cache->m == p->m && cache->seed == p->seed;
	size_t j = 0;

	if (!perm)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct sluice_addr *a = &b[order[i]].addr;
		int c = 1;

		while (reuse && j < cache->n &&
		       (c = memcmp(&cache->perm[j].addr, a, sizeof(*a))) < 0)
			j++;
		if (reuse && j < cache->n && c == 0)
			perm[i] = cache->perm[j];
		else
			sluice_maglev_perm_of(p, a, &perm[i]);
	}
	if (cache) {
		free(cache->perm);
		cache->perm = perm;
		cache->n = n;
		cache->m = p->m;
		cache->seed = p->seed;
	}
	*out = perm;
	return 0;
}

int sluice_table_build(const struct sluice_table_params *params,
		       const struct sluice_table_backend *backends, size_t n, __u16 *table,
		       __u32 *sorted, char *err, size_t errlen)
{
	return sluice_table_build_cached(params, backends, n, table, sorted, NULL, err, errlen);
}

int sluice_table_build_cached(const struct sluice_table_params *params,
			      const struct sluice_table_backend *backends, size_t n, __u16 *table,
			      __u32 *sorted, struct sluice_maglev_cache *cache, char *err,
			      size_t errlen)
{
	struct sluice_maglev_perm *perm = NULL;
	__u32 *order;
	int rc, any = 0;

	rc = validate(params, backends, n, table, err, errlen);
	if (rc < 0)
		return rc;
	order = malloc(n * sizeof(*order));
	if (!order || sort_indexes(backends, order, n) < 0) {
		free(order);
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && addr_cmp(backends, order[i - 1], order[i]) == 0) {
			char a[48];

			addr_format(&backends[order[i]].addr, a, sizeof(a));
			rc = sluice_errf(err, errlen, -EINVAL, "duplicate backend %s", a);
			goto out;
		}
		any |= backends[i].weight != 0;
	}
	if (!any) {
		rc = sluice_errf(err, errlen, -ENODATA, "no backend has a weight above 0");
		goto out;
	}
	switch (params->algo) {
	case SLUICE_ALGO_MAGLEV:
		rc = maglev_perms(params, backends, order, n, cache, &perm);
		if (rc == 0)
			rc = build_maglev(params, backends, order, perm, n, table);
		if (!cache)
			free(perm);
		break;
	case SLUICE_ALGO_RING:
		rc = build_ring(params, backends, order, n, table);
		break;
	case SLUICE_ALGO_MODULO:
		rc = build_modulo(params, backends, order, n, table);
		break;
	}
	if (rc < 0) {
		sluice_errf(err, errlen, rc, "out of memory");
		goto out;
	}
	if (sorted)
		memcpy(sorted, order, n * sizeof(*order));
out:
	free(order);
	return rc;
}
