/* SPDX-License-Identifier: BSD-3-Clause */
/* Backend sets for the table tests. */
#ifndef SLUICE_TEST_TABLE_FIXTURES_H
#define SLUICE_TEST_TABLE_FIXTURES_H

#include <stdlib.h>
#include <string.h>

#include "table.h"

/* Backend i: 10.(i>>16).(i>>8).i, or 2001:db8::i for v6. */
static inline struct sluice_table_backend fx_backend(unsigned int i, int v6, __u32 weight)
{
	struct sluice_table_backend b;

	memset(&b, 0, sizeof(b));
	if (v6) {
		b.addr.family = SLUICE_FAMILY_V6;
		b.addr.bytes[0] = 0x20;
		b.addr.bytes[1] = 0x01;
		b.addr.bytes[2] = 0x0d;
		b.addr.bytes[3] = 0xb8;
		b.addr.bytes[13] = (__u8)(i >> 16);
		b.addr.bytes[14] = (__u8)(i >> 8);
		b.addr.bytes[15] = (__u8)i;
	} else {
		b.addr.family = SLUICE_FAMILY_V4;
		b.addr.bytes[0] = 10;
		b.addr.bytes[1] = (__u8)(i >> 16);
		b.addr.bytes[2] = (__u8)(i >> 8);
		b.addr.bytes[3] = (__u8)i;
	}
	b.weight = weight;
	return b;
}

static inline struct sluice_table_backend *fx_backends(unsigned int n)
{
	struct sluice_table_backend *b = calloc(n, sizeof(*b));

	for (unsigned int i = 0; i < n; i++)
		b[i] = fx_backend(i, 0, 1);
	return b;
}

/* Owner identity of every slot: table values index the sorted backends, so
 * map them back through `sorted` to the caller's array, then to the backend
 * number stored in the address. */
static inline unsigned int fx_backend_number(const struct sluice_table_backend *b)
{
	return (unsigned int)b->addr.bytes[1] << 16 | b->addr.bytes[2] << 8 | b->addr.bytes[3];
}

static inline void fx_owners(const struct sluice_table_backend *b, const __u32 *sorted,
			     const __u16 *table, __u32 m, unsigned int *owner)
{
	for (__u32 s = 0; s < m; s++)
		owner[s] = fx_backend_number(&b[sorted[table[s]]]);
}

#endif
