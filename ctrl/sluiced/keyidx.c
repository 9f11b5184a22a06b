/* SPDX-License-Identifier: BSD-3-Clause */
/* Identity -> number. See keyidx.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "keyidx.h"

/* Every byte set, padding included, so that keys compare with memcmp. */
struct keyidx_key {
	struct sluice_addr vip;
	__u16 port;
	__u8 proto;
	__u8 pad;
	struct sluice_addr addr; /* family 0: the VIP */
};

struct keyidx_slot {
	struct keyidx_key key;
	__u32 value;
	bool used;
};

int keyidx_init(struct keyidx *ix, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	ix->slots = calloc(cap, sizeof(*ix->slots));
	ix->mask = cap - 1;
	return ix->slots ? 0 : -ENOMEM;
}

void keyidx_free(struct keyidx *ix)
{
	free(ix->slots);
	ix->slots = NULL;
}

static void make_key(struct keyidx_key *k, const struct sluice_vip_key *vip,
		     const struct sluice_addr *addr)
{
	memset(k, 0, sizeof(*k));
	k->vip = vip->addr;
	k->port = vip->port;
	k->proto = vip->proto;
	if (addr)
		k->addr = *addr;
}

/* The slot holding k, or the free slot where it would go. */
static struct keyidx_slot *find(const struct keyidx *ix, const struct keyidx_key *k)
{
	size_t i = (size_t)XXH64(k, sizeof(*k), 0) & ix->mask;

	while (ix->slots[i].used && memcmp(&ix->slots[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & ix->mask;
	return &ix->slots[i];
}

void keyidx_put(struct keyidx *ix, const struct sluice_vip_key *vip,
		const struct sluice_addr *addr, __u32 value)
{
	struct keyidx_key k;
	struct keyidx_slot *s;

	make_key(&k, vip, addr);
	s = find(ix, &k);
	s->key = k;
	s->value = value;
	s->used = true;
}

bool keyidx_get(const struct keyidx *ix, const struct sluice_vip_key *vip,
		const struct sluice_addr *addr, __u32 *value)
{
	struct keyidx_key k;
	const struct keyidx_slot *s;

	make_key(&k, vip, addr);
	s = find(ix, &k);
	if (!s->used)
		return false;
	*value = s->value;
	return true;
}
