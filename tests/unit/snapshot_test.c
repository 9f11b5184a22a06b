/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshot layout: VIP index (exact port, then wildcard), backends by id,
 * tables in the pool, effective weights, and refused inconsistent input. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "snapshot.h"
#include "sluice/flow.h"
#include "table_fixtures.h"

#define M 1009u

static struct sluice_snapshot *snap;

static struct sluice_addr v4(__u8 a, __u8 b, __u8 c, __u8 d)
{
	struct sluice_addr x = {.family = SLUICE_FAMILY_V4, .bytes = {a, b, c, d}};

	return x;
}

static struct sluice_backend backend(__u16 id, unsigned int n, __u8 state)
{
	struct sluice_backend b;

	memset(&b, 0, sizeof(b));
	b.addr = fx_backend(n, 0, 1).addr;
	b.id = id;
	b.weight = 1;
	b.state = state;
	return b;
}

static int setup(void **state)
{
	(void)state;
	snap = calloc(1, sizeof(*snap));
	return snap ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(snap);
	return 0;
}

static void test_layout_and_match(void **state)
{
	struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = M, .seed = 9};
	struct sluice_backend web[3] = {backend(7, 30, SLUICE_BACKEND_ACTIVE),
					backend(3, 10, SLUICE_BACKEND_DRAINING),
					backend(5, 20, SLUICE_BACKEND_ACTIVE)};
	struct sluice_backend dns[1] = {backend(1, 40, SLUICE_BACKEND_DOWN)};
	__u16 t_web[M], t_dns[M];
	struct sluice_vip_spec specs[2];
	struct sluice_global_cfg g = {.mtu = 1500};
	struct sluice_addr vip = v4(192, 0, 2, 1);
	const struct sluice_vip *v;
	__u32 m;
	(void)state;

	assert_int_equal(sluice_vip_compile(&p, web, 3, t_web, &m, NULL, 0), 0);
	assert_int_equal(m, M);
	/* Sorted by address: 10.0.0.10, .20, .30. */
	assert_int_equal(web[0].id, 3);
	assert_int_equal(web[2].id, 7);
	for (unsigned int s = 0; s < M; s++)
		assert_int_not_equal(t_web[s], 0); /* draining backend 3 takes no new flows */
	/* All down: no table, not an error. */
	assert_int_equal(sluice_vip_compile(&p, dns, 1, t_dns, &m, NULL, 0), 0);
	assert_int_equal(m, 0);

	memset(specs, 0, sizeof(specs));
	specs[0].vip = (struct sluice_vip){.addr = vip, .port = htons(80), .proto = IPPROTO_TCP,
					   .mode = SLUICE_FWD_IPIP, .id = 4, .hash_seed = 77};
	specs[0].backends = web;
	specs[0].n_backends = 3;
	specs[0].table = t_web;
	specs[0].m = M;
	specs[1].vip = (struct sluice_vip){.addr = vip, .port = 0, .proto = IPPROTO_UDP,
					   .mode = SLUICE_FWD_GUE, .id = 9};
	specs[1].backends = dns;
	specs[1].n_backends = 1;
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, NULL, 0), 0);

	assert_int_equal(snap->n_vips, 10);
	assert_int_equal(snap->n_backends, 4);
	assert_int_equal(snap->table_slots_used, M);
	assert_int_equal(snap->global.mtu, 1500);
	v = sluice_vip_match(snap, &vip, htons(80), IPPROTO_TCP);
	assert_non_null(v);
	assert_int_equal(v->id, 4);
	assert_int_equal(v->hash_seed, 77);
	assert_null(sluice_vip_match(snap, &vip, htons(81), IPPROTO_TCP));
	v = sluice_vip_match(snap, &vip, htons(53), IPPROTO_UDP); /* wildcard */
	assert_non_null(v);
	assert_int_equal(v->id, 9);
	assert_int_equal(v->table_size, 0);
	assert_null(sluice_snapshot_pick(snap, v, 12345));
	{
		struct sluice_addr other = v4(192, 0, 2, 2);

		assert_null(sluice_vip_match(snap, &other, htons(80), IPPROTO_TCP));
	}
	/* Backends by stable id, and pick = table[hash % M]. */
	assert_int_equal(snap->backends[snap->backend_pos_by_id[7]].id, 7);
	assert_int_equal(snap->backends[snap->backend_pos_by_id[1]].vip_id, 9);
	assert_int_equal(snap->backend_pos_by_id[2], SLUICE_NO_POS);
	v = &snap->vips[4];
	for (__u64 h = 0; h < 5000; h += 7)
		assert_int_equal(sluice_snapshot_pick(snap, v, h)->id, web[t_web[h % M]].id);
}

static void test_refuses_inconsistent_input(void **state)
{
	struct sluice_backend a[1] = {backend(1, 1, SLUICE_BACKEND_ACTIVE)};
	struct sluice_backend b[1] = {backend(1, 2, SLUICE_BACKEND_ACTIVE)};
	struct sluice_vip_spec specs[2];
	struct sluice_global_cfg g = {0};
	char err[128];
	(void)state;

	memset(specs, 0, sizeof(specs));
	specs[0].vip = (struct sluice_vip){.addr = v4(1, 1, 1, 1), .port = htons(80),
					   .proto = IPPROTO_TCP, .mode = SLUICE_FWD_IPIP, .id = 1};
	specs[0].backends = a;
	specs[0].n_backends = 1;
	specs[1] = specs[0];
	specs[1].backends = b;
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "duplicate VIP id 1");
	specs[1].vip.id = 2;
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "same address, port and protocol"));
	specs[1].vip.port = htons(443);
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "duplicate backend id 1");
	b[0].id = 2;
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, err, sizeof(err)), 0);
	specs[1].vip.id = SLUICE_MAX_VIPS;
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, err, sizeof(err)), -EINVAL);
	specs[1].vip.id = 2;
	specs[1].vip.mode = 0;
	assert_int_equal(sluice_snapshot_fill(snap, &g, specs, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown mode"));
}

/* One VIP (id 2) with three backends (ids 4, 5, 6) and a table of M. */
static void fill_one(struct sluice_snapshot *sn)
{
	struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = M, .seed = 1};
	struct sluice_backend be[3] = {backend(4, 1, SLUICE_BACKEND_ACTIVE),
				       backend(5, 2, SLUICE_BACKEND_ACTIVE),
				       backend(6, 3, SLUICE_BACKEND_DRAINING)};
	struct sluice_global_cfg g = {.mtu = 1500};
	struct sluice_vip_spec spec;
	__u16 t[M];
	__u32 m;

	memset(&spec, 0, sizeof(spec));
	assert_int_equal(sluice_vip_compile(&p, be, 3, t, &m, NULL, 0), 0);
	spec.vip = (struct sluice_vip){.addr = v4(192, 0, 2, 9), .port = htons(80),
				       .proto = IPPROTO_TCP, .mode = SLUICE_FWD_GUE, .id = 2};
	spec.backends = be;
	spec.n_backends = 3;
	spec.table = t;
	spec.m = m;
	assert_int_equal(sluice_snapshot_fill(sn, &g, &spec, 1, NULL, 0), 0);
}

/* A snapshot read from shared memory is input: every count, id and offset
 * a reader would index with is refused when out of range, with a message;
 * a table slot past the VIP's backends only by the full check. */
static void test_check_refuses_corrupt_snapshots(void **state)
{
	static const char *const want[] = {
		"counts out of range", "counts out of range", "counts out of range",
		"carries id", "unknown mode", "address family", "outside the 3 of",
		"outside the 3 of", "outside the 1009 slots", "outside the 1009 slots",
		"is not indexed as its own", "is not indexed as its own",
		"is not indexed as its own", "state 9", "VIP index entry",
	};
	char err[256];
	(void)state;

	fill_one(snap);
	assert_int_equal(sluice_snapshot_check(snap, err, sizeof(err)), 0);
	for (unsigned int c = 0; c < sizeof(want) / sizeof(want[0]); c++) {
		struct sluice_vip *v = &snap->vips[2];
		struct sluice_backend *b = &snap->backends[1];

		fill_one(snap);
		switch (c) {
		case 0: snap->n_vips = SLUICE_MAX_VIPS + 1; break;
		case 1: snap->n_backends = SLUICE_MAX_BACKENDS + 1; break;
		case 2: snap->table_slots_used = SLUICE_TABLE_POOL_SLOTS + 1; break;
		case 3: v->id = 65535; break;
		case 4: v->mode = 7; break;
		case 5: v->addr.family = 0; break;
		case 6: v->backend_first = 0xfffffff0u; break;
		case 7: v->backend_count = 4; break;
		case 8: v->table_offset = 0xffffff00u; break;
		case 9: v->table_size = M + 1; break;
		case 10: b->id = 65535; break;
		case 11: b->vip_id = 3; break;
		case 12: snap->backend_pos_by_id[b->id] = 0; break;
		case 13: b->state = 9; break;
		default: {
			for (unsigned int i = 0; i < SLUICE_VIP_INDEX_SIZE; i++)
				if (snap->vip_index[i].used)
					snap->vip_index[i].vip_id = 200;
		}
		}
		assert_int_equal(sluice_snapshot_check_layout(snap, err, sizeof(err)), -EINVAL);
		if (!strstr(err, want[c]))
			fail_msg("case %u: \"%s\", expected \"%s\"", c, err, want[c]);
	}
	fill_one(snap);
	snap->tables[snap->vips[2].table_offset + 17] = 3;
	assert_int_equal(sluice_snapshot_check_layout(snap, err, sizeof(err)), 0);
	assert_int_equal(sluice_snapshot_check(snap, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "VIP 2: table slot 17 names backend 3 of 3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_inconsistent_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_refuses_corrupt_snapshots, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
