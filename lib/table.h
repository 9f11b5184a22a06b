/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lookup-table compilers: a VIP's backend set -> a flat table of M slots in
 * which slot (flow_hash % M) names the backend. The data planes never know
 * which algorithm made a table.
 *
 * Tables are deterministic: the same backends (in any order), M, seed and k
 * give a byte-identical table. Table values index the backends sorted by
 * address (memcmp of struct sluice_addr), which is also the order in which
 * sluiced lays a VIP's backends out in shared memory.
 *
 * Thread safety: every function is reentrant; nothing is shared.
 */
#ifndef SLUICE_TABLE_H
#define SLUICE_TABLE_H

#include <linux/types.h>
#include <stddef.h>

#include "sluice/addr.h"

enum sluice_table_algo {
	SLUICE_ALGO_MAGLEV = 0, /* weighted Maglev: the default */
	SLUICE_ALGO_RING = 1,	/* consistent-hash ring, k virtual nodes per backend */
	SLUICE_ALGO_MODULO = 2, /* slot % N: a baseline for comparisons only */
};

#define SLUICE_TABLE_DEFAULT_M 65537u
#define SLUICE_TABLE_MAX_M (16u << 20)	   /* one VIP may take the whole pool */
#define SLUICE_TABLE_MIN_SLOTS_PER_BACKEND 16u /* M >= 16 * N */
#define SLUICE_WEIGHT_MAX 10000u
#define SLUICE_RING_DEFAULT_K 100u
#define SLUICE_RING_MAX_K 10000u

struct sluice_table_params {
	enum sluice_table_algo algo;
	__u32 m;	/* table size, prime */
	__u64 seed;	/* seeds the permutations (Maglev) or ring points (ring) */
	__u32 ring_k;	/* ring: virtual nodes of a backend of the largest weight */
};

/* A backend as the compilers see it: its identity and its weight. A weight
 * of 0 gives it no slots (draining, down or disabled backends). */
struct sluice_table_backend {
	struct sluice_addr addr;
	__u32 weight;
};

/*
 * Compile backends[0..n) into table[0..params->m).
 * table[s] is an index into the backends sorted by address. If sorted is not
 * NULL, sorted[i] receives the index in backends[] of the i-th of them.
 * Returns 0; -EINVAL for bad input (M not prime, M < 16 * n, duplicate
 * backend, weight or k out of range, empty set, bad address); -ENODATA when
 * no backend has a weight above 0 (table left untouched); -ENOMEM. err
 * receives a message naming the problem.
 */
int sluice_table_build(const struct sluice_table_params *params,
		       const struct sluice_table_backend *backends, size_t n, __u16 *table,
		       __u32 *sorted, char *err, size_t errlen);

/*
 * What a Maglev build of one VIP can keep for the next: each backend's
 * permutation of the slots (offset and skip, and skip's inverse mod M for
 * the tail), which depends on its address, M and the seed only. A caller
 * that compiles the same VIP again and again (sluiced, on every change)
 * keeps one cache per VIP and passes it to sluice_table_build_cached():
 * only newcomers are hashed, and the table is byte-identical to what
 * sluice_table_build() makes of the same backends. Zero-initialise it;
 * free it with sluice_maglev_cache_free(). Other algorithms ignore it.
 */
struct sluice_maglev_perm {
	struct sluice_addr addr;
	__u32 offset;	/* first slot of its permutation */
	__u32 skip;	/* step, 1..M-1 */
	__u32 inv;	/* skip^-1 mod M */
};

struct sluice_maglev_cache {
	__u32 m;
	__u64 seed;
	struct sluice_maglev_perm *perm; /* sorted by address */
	size_t n;
};

/* As sluice_table_build(); cache may be NULL. An entry of the cache is a
 * function of its address, M and seed alone, so the cache is never wrong,
 * only more or less useful: after a Maglev build it holds that build's
 * backends. */
int sluice_table_build_cached(const struct sluice_table_params *params,
			      const struct sluice_table_backend *backends, size_t n, __u16 *table,
			      __u32 *sorted, struct sluice_maglev_cache *cache, char *err,
			      size_t errlen);
void sluice_maglev_cache_free(struct sluice_maglev_cache *c);

/* The permutation of the backend at a under p (p->m prime). */
void sluice_maglev_perm_of(const struct sluice_table_params *p, const struct sluice_addr *a,
			   struct sluice_maglev_perm *out);

/* True when m is prime. */
int sluice_is_prime(__u32 m);

/* The name of an algorithm ("maglev", "ring", "modulo"), and back: returns
 * 0 or -EINVAL. */
const char *sluice_table_algo_name(enum sluice_table_algo algo);
int sluice_table_algo_parse(const char *name, enum sluice_table_algo *algo);

#endif /* SLUICE_TABLE_H */
