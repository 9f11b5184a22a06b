/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An index from identities (a VIP, or a VIP and a backend address) to a
 * number, for the paths that meet every backend once per change (applying
 * the overlay): a lookup costs O(1), where a scan of a VIP's backends
 * would make such a path quadratic in the backends.
 *
 * Open addressing, sized once for the number of keys it will hold; no
 * removal. Not shared: one per use, freed after it.
 */
#ifndef SLUICED_KEYIDX_H
#define SLUICED_KEYIDX_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct keyidx_slot;

struct keyidx {
	struct keyidx_slot *slots;
	size_t mask;
};

/* Room for up to n keys. 0 or -ENOMEM. */
int keyidx_init(struct keyidx *ix, size_t n);
void keyidx_free(struct keyidx *ix);

/* addr NULL: the VIP itself. Adding a key already there replaces its value. */
void keyidx_put(struct keyidx *ix, const struct sluice_vip_key *vip,
		const struct sluice_addr *addr, __u32 value);
/* The value, or false when the key is absent. */
bool keyidx_get(const struct keyidx *ix, const struct sluice_vip_key *vip,
		const struct sluice_addr *addr, __u32 *value);

#endif /* SLUICED_KEYIDX_H */
