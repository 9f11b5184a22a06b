/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shm_poke: corrupt the snapshot in force of an instance's config region,
 * as a buggy or hostile writer could, for the tests of its readers.
 *
 *   shm_poke INSTANCE vip-id ID VALUE   the in-use VIP with id ID now says VALUE
 *   shm_poke INSTANCE random SEED       every byte of the snapshot (generation
 *                                       kept) from a PRNG seeded with SEED
 *
 * Exit status: 0, 1 when the region or the VIP is not there, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "sluice/shm.h"

static int usage(void)
{
	fprintf(stderr, "usage: shm_poke INSTANCE vip-id ID VALUE | shm_poke INSTANCE random SEED\n");
	return 2;
}

static int num(const char *s, __u64 max, __u64 *out)
{
	return sluice_u64_parse(s, out) == 0 && *out <= max ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sluice_config_region cfg;
	struct sluice_snapshot *s;
	char err[256];
	__u64 gen, a, b = 0;

	if (argc < 4 || (strcmp(argv[2], "vip-id") == 0 ? argc != 5 : argc != 4) ||
	    num(argv[3], 0xffffffffu, &a) < 0 || (argc == 5 && num(argv[4], 0xffff, &b) < 0))
		return usage();
	/* Only an existing region: attach first, which never creates one. */
	if (sluice_config_attach(argv[1], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "shm_poke: %s\n", err);
		return 1;
	}
	sluice_config_close(&cfg);
	if (sluice_config_create(argv[1], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "shm_poke: %s\n", err);
		return 1;
	}
	s = (struct sluice_snapshot *)sluice_config_current(&cfg, &gen);
	if (!s) {
		fprintf(stderr, "shm_poke: nothing published\n");
		return 1;
	}
	if (strcmp(argv[2], "vip-id") == 0) {
		if (a >= SLUICE_MAX_VIPS || !s->vips[a].in_use) {
			fprintf(stderr, "shm_poke: no VIP with id %llu\n", (unsigned long long)a);
			return 1;
		}
		s->vips[a].id = (__u16)b;
	} else if (strcmp(argv[2], "random") == 0) {
		unsigned char *p = (unsigned char *)s;

		srandom((unsigned int)a);
		for (size_t i = 0; i < sizeof(*s); i++)
			p[i] = (unsigned char)random();
		s->generation = gen;
	} else {
		return usage();
	}
	sluice_config_close(&cfg);
	return 0;
}
