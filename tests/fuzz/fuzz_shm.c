/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the checks of a snapshot read from shared memory
 * (lib/snapshot_check.c), and what a reader does once they pass. A
 * snapshot is 33 MiB, too big to be an input: an input is a list of
 * patches (a 4-byte offset into the first 1 MiB of a sound snapshot, a
 * length byte, the bytes) over the snapshot of fuzz_snapshot.h. When the
 * checks accept the result, every VIP match and table pick a data path
 * would make must stay inside the snapshot: ASan reports any that does not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_snapshot.h"

#define PATCH_SPAN (1u << 20)

static struct sluice_snapshot *good, *snap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Exactly sized heap blocks: an index past the end is a report. */
	good = malloc(sizeof(*good));
	snap = malloc(sizeof(*snap));
	if (!good || !snap)
		abort();
	memset(good, 0, sizeof(*good));
	fz_fill(good);
	memcpy(snap, good, sizeof(*snap));
	return 0;
}

#define MAX_PATCHES 64

/* What a data path does with a snapshot: match each VIP the index holds,
 * pick backends by table. */
static void use(const struct sluice_snapshot *s)
{
	for (uint32_t i = 0; i < SLUICE_VIP_INDEX_SIZE; i++) {
		const struct sluice_vip_index_entry *e = &s->vip_index[i];
		const struct sluice_vip *v;

		if (!e->used)
			continue;
		v = sluice_vip_match(s, &e->addr, e->port, e->proto);
		if (!v)
			continue;
		for (uint64_t h = 0; h < 64; h++) {
			const struct sluice_backend *b = sluice_snapshot_pick(s, v, h * 0x9E3779B97F4A7C15ull);

			if (b && (b < s->backends || b >= s->backends + s->n_backends))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t at[MAX_PATCHES], len_of[MAX_PATCHES];
	uint8_t *raw = (uint8_t *)snap;
	unsigned int n = 0;

	while (size >= 5 && n < MAX_PATCHES) {
		uint32_t off = ((uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
				(uint32_t)data[3] << 24) %
			       PATCH_SPAN;
		size_t len = data[4];

		data += 5;
		size -= 5;
		if (len > size)
			len = size;
		if (off + len > PATCH_SPAN)
			len = PATCH_SPAN - off;
		memcpy(raw + off, data, len);
		at[n] = off;
		len_of[n++] = (uint32_t)len;
		data += len;
		size -= len;
	}
	if (sluice_snapshot_check(snap, NULL, 0) == 0)
		use(snap);
	/* Back to the sound snapshot for the next input. */
	while (n--)
		memcpy(raw + at[n], (const uint8_t *)good + at[n], len_of[n]);
	return 0;
}
