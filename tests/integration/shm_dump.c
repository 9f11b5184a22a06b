/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shm_dump: what the data plane would read, for the integration tests.
 * Attaches read-only to an instance's config region and prints the
 * snapshot in force as one JSON document: generation, a digest of every
 * part a reader uses, and per VIP its backends with their slot counts
 * (with --tables, also every slot's backend id).
 *
 *   shm_dump INSTANCE [--tables]
 *
 * Exit status: 0, 1 when the region cannot be attached or its snapshot
 * is corrupt (a message on stderr), 2 usage.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "addr.h"
#include "snapshot.h"

static const char *state_name(__u8 s)
{
	static const char *const names[] = {"absent", "active", "draining", "disabled", "down"};

	return s < 5 ? names[s] : "?";
}

static const char *mode_name(__u8 m)
{
	return m == SLUICE_FWD_IPIP ? "ipip" : m == SLUICE_FWD_GUE ? "gue" : "l2dsr";
}

/* XXH64 over the used parts, generation excluded. */
static unsigned long long digest(const struct sluice_snapshot *s)
{
	XXH64_state_t *st = XXH64_createState();
	unsigned long long d;

	XXH64_reset(st, 0);
	XXH64_update(st, &s->n_vips, sizeof(s->n_vips));
	XXH64_update(st, &s->n_backends, sizeof(s->n_backends));
	XXH64_update(st, &s->table_slots_used, sizeof(s->table_slots_used));
	XXH64_update(st, &s->global, sizeof(s->global));
	XXH64_update(st, s->vip_index, sizeof(s->vip_index));
	XXH64_update(st, s->vips, s->n_vips * sizeof(s->vips[0]));
	XXH64_update(st, s->backend_pos_by_id, sizeof(s->backend_pos_by_id));
	XXH64_update(st, s->backends, s->n_backends * sizeof(s->backends[0]));
	XXH64_update(st, s->tables, s->table_slots_used * sizeof(s->tables[0]));
	d = XXH64_digest(st);
	XXH64_freeState(st);
	return d;
}

int main(int argc, char **argv)
{
	struct sluice_config_region cfg;
	const struct sluice_snapshot *s;
	char err[256], a[SLUICE_VIP_STRLEN];
	bool tables = argc == 3 && !strcmp(argv[2], "--tables");
	unsigned int *slots;
	__u64 gen;

	if (argc < 2 || argc > 3 || (argc == 3 && !tables)) {
		fprintf(stderr, "usage: shm_dump INSTANCE [--tables]\n");
		return 2;
	}
	if (sluice_config_attach(argv[1], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "shm_dump: %s\n", err);
		return 1;
	}
	s = sluice_config_current(&cfg, &gen);
	printf("{\"generation\": %llu, \"writer_pid\": %u", (unsigned long long)gen,
	       cfg.hdr->writer_pid);
	if (!s) {
		printf(", \"vips\": []}\n");
		return 0;
	}
	/* Another process's memory: check it before indexing with it. */
	if (sluice_snapshot_check(s, err, sizeof(err)) < 0) {
		printf("}\n");
		fprintf(stderr, "shm_dump: generation %llu: %s\n", (unsigned long long)gen, err);
		sluice_config_close(&cfg);
		return 1;
	}
	printf(", \"digest\": \"%016llx\", \"vips\": [", digest(s));
	slots = calloc(SLUICE_MAX_BACKENDS_PER_VIP, sizeof(*slots));
	for (__u32 i = 0, first = 1; i < s->n_vips; i++) {
		const struct sluice_vip *v = &s->vips[i];
		struct sluice_vip_key k;

		if (!v->in_use)
			continue;
		memset(&k, 0, sizeof(k));
		k.addr = v->addr;
		k.port = ntohs(v->port);
		k.proto = v->proto;
		sluice_vip_key_format(&k, a, sizeof(a));
		memset(slots, 0, SLUICE_MAX_BACKENDS_PER_VIP * sizeof(*slots));
		for (__u32 t = 0; t < v->table_size; t++)
			slots[s->tables[v->table_offset + t]]++;
		printf("%s{\"vip\": \"%s\", \"id\": %u, \"mode\": \"%s\", \"table_size\": %u, "
		       "\"hash_seed\": %llu, \"backends\": [",
		       first ? "" : ", ", a, v->id, mode_name(v->mode), v->table_size,
		       (unsigned long long)v->hash_seed);
		first = 0;
		for (__u32 j = 0; j < v->backend_count; j++) {
			const struct sluice_backend *b = &s->backends[v->backend_first + j];

			sluice_addr_format(&b->addr, a, sizeof(a));
			printf("%s{\"address\": \"%s\", \"id\": %u, \"state\": \"%s\", \"weight\": %u, "
			       "\"slots\": %u}",
			       j ? ", " : "", a, b->id, state_name(b->state), b->weight, slots[j]);
		}
		printf("]");
		if (tables) {
			printf(", \"table\": [");
			for (__u32 t = 0; t < v->table_size; t++)
				printf("%s%u", t ? "," : "",
				       s->backends[v->backend_first + s->tables[v->table_offset + t]].id);
			printf("]");
		}
		printf("}");
	}
	printf("]}\n");
	free(slots);
	sluice_config_close(&cfg);
	return 0;
}
