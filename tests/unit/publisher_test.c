/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The publisher over real shared memory: a change recompiles only the VIPs
 * it touches; a down backend stays in the snapshot under its id (the data
 * plane keeps everyone else's flows) and only its slots move; a publisher
 * restarted over the same configuration publishes nothing; the next slot is
 * not rewritten before every live lcore has acknowledged; latencies are
 * recorded; from the event loop, changes settle.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "publisher.h"
#include "snapshot.h"

#define SEC 1000000000ull

static char instance[40];
static struct sluice_config_region cfg;
static struct sluice_status_region *status_now; /* what the hook returns */
static struct conf conf;
static struct model model;
static int settled_calls;
static __u64 done_seq;

static const struct sluice_status_region *status_hook(void *ctx)
{
	(void)ctx;
	return status_now;
}

static void done_hook(void *ctx, __u64 seq)
{
	(void)ctx;
	settled_calls++;
	done_seq = seq;
}

static const struct publisher_hooks hooks = {.status = status_hook, .done = done_hook};

static void unlink_instance(void)
{
	char name[64];

	sluice_shm_name(instance, "config", name, sizeof(name));
	shm_unlink(name);
	sluice_shm_name(instance, "status", name, sizeof(name));
	shm_unlink(name);
}

/* VIP 0: 10 backends, Maglev; VIP 1: 5 backends, ring (moves exactly the
 * slots of a backend that goes). L2 DSR: no encapsulation settings needed. */
static void make_conf(void)
{
	char text[4096];
	size_t n = 0;
	char msg[256];
	struct ju_err e = {msg, sizeof(msg)};
	json_t *root;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "{\"vips\": [{\"address\": \"10.0.0.1\", \"port\": 80, \"forwarding\": "
			      "\"l2dsr\", \"table_size\": 1009, \"backends\": [");
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "%s{\"address\": \"10.0.1.%d\", \"mac\": \"02:00:00:00:01:%02d\"}",
				      i ? "," : "", i + 1, i + 1);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "]}, {\"address\": \"10.0.0.2\", \"port\": 53, \"protocol\": \"udp\", "
			      "\"forwarding\": \"l2dsr\", \"algorithm\": \"ring\", \"table_size\": "
			      "4099, \"hash_seed\": 7, \"backends\": [");
	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "%s{\"address\": \"10.0.2.%d\", \"mac\": \"02:00:00:00:02:%02d\"}",
				      i ? "," : "", i + 1, i + 1);
	snprintf(text + n, sizeof(text) - n, "]}]}");
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	if (conf_from_json(root, &conf, &e) < 0)
		fail_msg("%s", msg);
	json_decref(root);
}

static int setup(void **state)
{
	static int n;
	(void)state;

	snprintf(instance, sizeof(instance), "pubtest-%d-%d", (int)getpid(), n++);
	unlink_instance();
	if (sluice_config_create(instance, &cfg, NULL, 0) < 0)
		return -1;
	make_conf();
	model_init(&model);
	status_now = NULL;
	settled_calls = 0;
	done_seq = 0;
	return model_sync(&model, &conf, NULL);
}

static int teardown(void **state)
{
	(void)state;
	model_destroy(&model, NULL);
	conf_free(&conf);
	sluice_config_close(&cfg);
	unlink_instance();
	return 0;
}

static const struct sluice_snapshot *current(__u64 *gen)
{
	return sluice_config_current(&cfg, gen);
}

/* Slots per backend id of VIP vid in the snapshot in force. */
static void slot_owners(__u16 vid, __u16 *owner_ids, __u32 *m)
{
	__u64 gen;
	const struct sluice_snapshot *s = current(&gen);
	const struct sluice_vip *v = &s->vips[vid];

	*m = v->table_size;
	for (__u32 i = 0; i < v->table_size; i++)
		owner_ids[i] = s->backends[v->backend_first + s->tables[v->table_offset + i]].id;
}

static void publish_all(struct publisher *p)
{
	publisher_vip_changed(p, 0);
	publisher_vip_changed(p, 1);
	assert_int_equal(publisher_flush(p), 1);
	assert_true(publisher_poll_ack(p));
}

static void test_only_affected_vips(void **state)
{
	struct publisher *p = publisher_create(NULL, &cfg, &model, &hooks);
	struct publisher_stats st;
	static __u16 before[4099], after[4099];
	struct model_backend *victim;
	__u32 m, moved = 0, lost = 0;
	__u64 gen;
	(void)state;

	publish_all(p);
	publisher_get_stats(p, &st);
	assert_int_equal(st.generation, 1);
	assert_int_equal(st.compiles, 2);
	/* No data plane: nothing acknowledged, no latency to record. */
	assert_int_equal(st.no_dataplane, 1);
	assert_int_equal(st.hist_count, 0);
	assert_int_equal(st.last_latency_ns, 0);
	slot_owners(1, before, &m);

	/* A backend of the ring VIP goes down. */
	victim = model.vips[1]->backends[2];
	victim->sm.up = false;
	publisher_vip_changed(p, 1);
	assert_int_equal(publisher_flush(p), 1);
	publisher_get_stats(p, &st);
	assert_int_equal(st.compiles, 3); /* VIP 1 only */
	assert_int_equal(st.generation, 2);
	slot_owners(1, after, &m);
	for (__u32 i = 0; i < m; i++) {
		if (before[i] == victim->id) {
			lost++;
			assert_int_not_equal(after[i], victim->id);
		} else if (after[i] != before[i]) {
			moved++;
		}
	}
	assert_true(lost > 0);
	assert_int_equal(moved, 0); /* every other slot keeps its backend */
	/* The victim stays in the set, DOWN, under its id: the data plane
	 * re-picks its flows and keeps everyone else's. */
	{
		const struct sluice_snapshot *s = current(&gen);
		__u16 pos = s->backend_pos_by_id[victim->id];

		assert_int_not_equal(pos, SLUICE_NO_POS);
		assert_int_equal(s->backends[pos].state, SLUICE_BACKEND_DOWN);
		assert_int_equal(s->vips[1].backend_count, 5);
	}
	publisher_destroy(p);
}

/* Maglev moves a little more than the victim's slots; bounded. */
static void test_maglev_down_moves_little(void **state)
{
	struct publisher *p = publisher_create(NULL, &cfg, &model, &hooks);
	static __u16 before[1009], after[1009];
	struct model_backend *victim = model.vips[0]->backends[4];
	__u32 m, moved = 0;
	(void)state;

	publish_all(p);
	slot_owners(0, before, &m);
	victim->sm.up = false;
	publisher_vip_changed(p, 0);
	assert_int_equal(publisher_flush(p), 1);
	slot_owners(0, after, &m);
	for (__u32 i = 0; i < m; i++) {
		if (before[i] == victim->id)
			assert_int_not_equal(after[i], victim->id);
		else if (after[i] != before[i])
			moved++;
	}
	printf("# maglev, 10 backends, M=1009: one down moved %u other slots (%.2f%%)\n", moved,
	       100.0 * moved / m);
	assert_true(moved < m / 20);
	publisher_destroy(p);
}

/* sluiced restarted over the same configuration and ids: the snapshot it
 * builds equals the one in force, so nothing is published. */
static void test_restart_publishes_nothing(void **state)
{
	struct publisher *p = publisher_create(NULL, &cfg, &model, &hooks), *p2;
	struct publisher_stats st;
	struct model m2;
	json_t *ids;
	char msg[256];
	struct ju_err e = {msg, sizeof(msg)};
	__u64 gen;
	(void)state;

	publish_all(p);
	ids = model_ids_to_json(&model);
	publisher_destroy(p);

	model_init(&m2);
	assert_int_equal(model_ids_load(&m2, ids, "ids", &e), 0);
	assert_int_equal(model_sync(&m2, &conf, NULL), 0);
	p2 = publisher_create(NULL, &cfg, &m2, &hooks);
	publisher_vip_changed(p2, 0);
	publisher_vip_changed(p2, 1);
	assert_int_equal(publisher_flush(p2), 0);
	publisher_get_stats(p2, &st);
	assert_int_equal(st.generation, 1);
	assert_int_equal(st.unchanged, 1);
	assert_int_equal(st.publishes, 0);
	/* A real change still goes out. */
	m2.vips[0]->backends[0]->cfg.weight = 50;
	publisher_vip_changed(p2, 0);
	assert_int_equal(publisher_flush(p2), 1);
	current(&gen);
	assert_int_equal(gen, 2);
	publisher_destroy(p2);
	model_destroy(&m2, NULL);
	json_decref(ids);
}

/* The slot of generation G-1 is rewritten only after every live lcore has
 * acknowledged G; a stale lcore does not hold the publisher back. */
static void test_waits_for_live_lcores(void **state)
{
	struct sluice_status_region st;
	struct publisher *p;
	struct publisher_stats ps;
	unsigned int n;
	__u32 ids[4];
	__u64 gen;
	(void)state;

	assert_int_equal(sluice_status_create(instance, 2, &st, NULL, 0), 0);
	status_now = &st;
	for (int i = 0; i < 2; i++) {
		st.lcores[i].state = SLUICE_LCORE_ONLINE;
		st.lcores[i].lcore_id = 10 + (__u32)i;
		sluice_lcore_heartbeat(&st.lcores[i], sluice_now_ns());
	}
	p = publisher_create(NULL, &cfg, &model, &hooks);
	publisher_set_stale_ns(p, 10 * SEC);
	publisher_vip_changed(p, 0);
	assert_int_equal(publisher_flush(p), 1); /* gen 1 */
	assert_false(publisher_poll_ack(p));
	/* Who holds change 1 back: both lcores, on generation 1. */
	assert_true(publisher_pending(p, 1, &gen, ids, 4, &n));
	assert_int_equal(gen, 1);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 10);
	assert_int_equal(ids[1], 11);
	sluice_lcore_ack(&st.lcores[0], 1);
	assert_false(publisher_poll_ack(p));
	/* Another change waits: lcore 1 may still read the slot it would fill. */
	model.vips[0]->backends[0]->cfg.weight = 7;
	publisher_vip_changed(p, 0);
	assert_int_equal(publisher_flush(p), -EAGAIN);
	/* Change 2 is not published yet: it waits behind lcore 11. */
	assert_false(publisher_pending(p, 2, &gen, ids, 4, &n));
	assert_int_equal(gen, 1);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 11);
	assert_true(publisher_pending(p, 1, &gen, ids, 1, &n));
	sluice_lcore_ack(&st.lcores[1], 1);
	assert_true(publisher_poll_ack(p));
	publisher_get_stats(p, &ps);
	assert_int_equal(ps.hist_count, 1);
	assert_int_equal(ps.no_dataplane, 0);
	assert_int_equal(ps.last_live_lcores, 2);
	assert_true(ps.busy); /* the second change is still pending */
	assert_int_equal(done_seq, 1); /* the first is in force, the second not */
	assert_int_equal(publisher_seq(p), 2);
	assert_int_equal(publisher_flush(p), 1); /* gen 2 */
	/* lcore 1 hangs: its heartbeat goes stale, it stops counting. */
	sluice_lcore_ack(&st.lcores[0], 2);
	sluice_lcore_heartbeat(&st.lcores[1], sluice_now_ns() - 20 * SEC);
	assert_true(publisher_poll_ack(p));
	publisher_get_stats(p, &ps);
	assert_int_equal(ps.hist_count, 2);
	assert_int_equal(ps.last_live_lcores, 1);
	assert_false(ps.busy);
	assert_int_equal(done_seq, 2);
	publisher_destroy(p);
	status_now = NULL;
	sluice_status_close(&st);
}

/* From the event loop: changes made in one loop turn go out together and
 * the owner hears when they are in force, by change number. */
static void test_event_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct publisher *p = publisher_create(base, &cfg, &model, &hooks);
	struct publisher_stats ps;
	(void)state;

	publisher_vip_changed(p, 0);
	publisher_vip_changed(p, 1);
	model.vips[1]->backends[0]->cfg.weight = 3;
	publisher_vip_changed(p, 1);
	for (int i = 0; i < 100 && settled_calls == 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(settled_calls, 1);
	assert_int_equal(done_seq, 3);
	assert_int_equal(publisher_done_seq(p), publisher_seq(p));
	publisher_get_stats(p, &ps);
	assert_int_equal(ps.publishes, 1);
	assert_int_equal(ps.compiles, 2);
	assert_int_equal(ps.generation, 1);
	publisher_destroy(p);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_affected_vips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maglev_down_moves_little, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_publishes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_live_lcores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_loop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
