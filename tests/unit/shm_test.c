/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared-memory contract: validation of foreign regions, reclamation
 * rules, and a writer with reader processes over real shared memory in
 * which no reader may ever see a mixed snapshot. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sluice/shm.h"

#define STAMPED_SLOTS 4096
#define PUBLISHES 10000
#define READERS 2
#define SEC 1000000000ull

/* Set by the writer to end the readers early (control run only). */
static volatile int *stop_readers;

static char instance[40];

static void unlink_instance(void)
{
	char name[64];

	sluice_shm_name(instance, "config", name, sizeof(name));
	shm_unlink(name);
	sluice_shm_name(instance, "status", name, sizeof(name));
	shm_unlink(name);
}

static int setup(void **state)
{
	static int n;
	(void)state;

	snprintf(instance, sizeof(instance), "test-%d-%d", (int)getpid(), n++);
	unlink_instance();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink_instance();
	return 0;
}

static void expect_invalid(const void *mem, size_t size, const char *msg)
{
	char err[256] = "";

	assert_int_equal(sluice_config_validate(mem, size, err, sizeof(err)), -EPROTO);
	if (!strstr(err, msg))
		fail_msg("\"%s\" does not mention \"%s\"", err, msg);
}

static void test_validate_refuses_foreign_headers(void **state)
{
	struct sluice_config_header h;
	struct sluice_config_region cfg;
	char err[256];
	(void)state;

	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(sluice_config_validate(cfg.hdr, cfg.size, err, sizeof(err)), 0);

	memcpy(&h, cfg.hdr, sizeof(h));
	expect_invalid(&h, 16, "smaller than its header");
	h.magic = 0; /* a creator that has not finished */
	assert_int_equal(sluice_config_validate(&h, sizeof(h), err, sizeof(err)), -EAGAIN);
	assert_non_null(strstr(err, "being created"));
	h.magic = 0x1122334455667788ULL;
	expect_invalid(&h, sizeof(h), "magic 0x1122334455667788");
	memcpy(&h, cfg.hdr, sizeof(h));
	h.abi_version = SLUICE_ABI_VERSION + 1;
	{
		char want[64];

		snprintf(want, sizeof(want), "ABI version %d, this build speaks %d",
			 SLUICE_ABI_VERSION + 1, SLUICE_ABI_VERSION);
		expect_invalid(&h, sizeof(h), want);
	}
	memcpy(&h, cfg.hdr, sizeof(h));
	h.snapshot_size -= 64;
	expect_invalid(&h, sizeof(h), "sizes differ");
	memcpy(&h, cfg.hdr, sizeof(h));
	expect_invalid(&h, sizeof(h), "config region is 192 bytes");
	sluice_config_close(&cfg);
}

/* A region of another ABI version is refused by readers and never
 * overwritten by a writer. */
static void test_attach_refuses_wrong_version(void **state)
{
	struct sluice_config_region cfg, other;
	char err[256] = "";
	(void)state;

	assert_int_equal(sluice_config_attach(instance, &other, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open shared memory /sluice-"));
	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	cfg.hdr->abi_version = 99;
	assert_int_equal(sluice_config_attach(instance, &other, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "ABI version 99"));
	assert_int_equal(sluice_config_create(instance, &other, err, sizeof(err)), -EPROTO);
	assert_int_equal(cfg.hdr->abi_version, 99);
	sluice_config_close(&cfg);
}

static void test_instance_names(void **state)
{
	struct sluice_config_region cfg;
	struct sluice_status_region st;
	char name[64], err[128];
	(void)state;

	assert_int_equal(sluice_shm_name("lb-1.a_b", "config", name, sizeof(name)), 0);
	assert_string_equal(name, "/sluice-lb-1.a_b-config");
	assert_int_equal(sluice_shm_name("", "config", name, sizeof(name)), -EINVAL);
	assert_int_equal(sluice_shm_name("../etc", "config", name, sizeof(name)), -EINVAL);
	assert_int_equal(sluice_shm_name("a/b", "config", name, sizeof(name)), -EINVAL);
	assert_int_equal(sluice_shm_name("012345678901234567890123456789012", "config", name,
					 sizeof(name)), -EINVAL);
	assert_int_equal(sluice_config_create("bad name", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid instance name"));
	assert_int_equal(sluice_status_create(instance, 0, &st, err, sizeof(err)), -EINVAL);
	assert_int_equal(sluice_status_create(instance, SLUICE_MAX_LCORES + 1, &st, err,
					      sizeof(err)), -EINVAL);
}

/* The port section of the status region is checked like the lcores': a
 * reader built with another port layout, or a header claiming more ports
 * than there are slots, is refused; a fresh region has no ports yet. */
static void test_status_ports_validated(void **state)
{
	struct sluice_status_region st, ro;
	char err[256];
	void *copy;
	(void)state;

	assert_int_equal(sluice_status_create(instance, 1, &st, NULL, 0), 0);
	assert_int_equal(st.hdr->n_ports, 0);
	assert_int_equal(st.hdr->max_ports, SLUICE_MAX_PORTS);
	assert_int_equal((char *)st.ports - (char *)st.hdr, st.hdr->ports_offset);
	assert_true(st.hdr->ports_offset + SLUICE_MAX_PORTS * sizeof(struct sluice_port_status) ==
		    st.size);
	st.ports[0].counters.imissed = 7;
	__atomic_store_n(&st.hdr->n_ports, 1, __ATOMIC_RELEASE);
	assert_int_equal(sluice_status_attach(instance, &ro, err, sizeof(err)), 0);
	assert_int_equal(ro.ports[0].counters.imissed, 7);
	sluice_status_close(&ro);

	copy = malloc(st.size);
	assert_non_null(copy);
	memcpy(copy, st.hdr, st.size);
	((struct sluice_status_header *)copy)->port_status_size -= 64;
	assert_int_equal(sluice_status_validate(copy, st.size, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "sizes differ"));
	memcpy(copy, st.hdr, st.size);
	((struct sluice_status_header *)copy)->n_ports = SLUICE_MAX_PORTS + 1;
	assert_int_equal(sluice_status_validate(copy, st.size, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "ports, at most"));
	free(copy);
	sluice_status_close(&st);
}

/* A restarted writer re-attaches and keeps generation and contents. */
static void test_writer_reattaches(void **state)
{
	struct sluice_config_region cfg, reader;
	const struct sluice_snapshot *snap;
	__u64 gen;
	(void)state;

	assert_int_equal(sluice_config_create(instance, &cfg, NULL, 0), 0);
	assert_int_equal(sluice_config_attach(instance, &reader, NULL, 0), 0);
	assert_null(sluice_config_current(&reader, &gen));
	assert_int_equal(gen, 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sluice_config_wait_reclaim(&cfg, NULL, SEC, SEC), 0);
		sluice_config_next_slot(&cfg)->n_vips = (__u32)i + 10;
		sluice_config_publish(&cfg);
	}
	sluice_config_close(&cfg);
	assert_int_equal(sluice_config_create(instance, &cfg, NULL, 0), 0);
	assert_int_equal(cfg.hdr->generation, 5);
	snap = sluice_config_current(&reader, &gen);
	assert_int_equal(gen, 5);
	assert_int_equal(snap->generation, 5);
	assert_int_equal(snap->n_vips, 14);
	sluice_config_close(&cfg);
	sluice_config_close(&reader);
}

/* Reclamation waits for live lcores only: online with a fresh heartbeat. */
static void test_reclaim_rules(void **state)
{
	struct sluice_config_region cfg;
	struct sluice_status_region st, ro;
	struct sluice_lcore_status *l0, *l1;
	unsigned int live;
	__u64 now;
	(void)state;

	assert_int_equal(sluice_config_create(instance, &cfg, NULL, 0), 0);
	assert_int_equal(sluice_status_create(instance, 2, &st, NULL, 0), 0);
	assert_int_equal(sluice_status_attach(instance, &ro, NULL, 0), 0);
	l0 = &st.lcores[0];
	l1 = &st.lcores[1];
	now = sluice_now_ns();
	l0->state = SLUICE_LCORE_ONLINE;
	l1->state = SLUICE_LCORE_ONLINE;
	sluice_lcore_heartbeat(l0, now);
	sluice_lcore_heartbeat(l1, now);

	sluice_config_publish(&cfg); /* gen 1 */
	sluice_config_publish(&cfg); /* gen 2: the next slot holds gen 1 */
	sluice_lcore_ack(l0, 2);
	sluice_lcore_ack(l1, 1);
	/* lcore 1 may still read gen 1: the writer must wait. */
	assert_false(sluice_status_all_seen(&ro, 2, sluice_now_ns(), SEC, &live));
	assert_int_equal(live, 2);
	assert_int_equal(sluice_config_wait_reclaim(&cfg, &ro, 10 * SEC, SEC / 100), -ETIMEDOUT);
	sluice_lcore_ack(l1, 2);
	assert_int_equal(sluice_config_wait_reclaim(&cfg, &ro, 10 * SEC, SEC / 100), 0);

	/* A stale lcore does not hold the writer back forever... */
	sluice_config_publish(&cfg); /* gen 3 */
	sluice_lcore_ack(l0, 3);
	sluice_lcore_heartbeat(l1, sluice_now_ns() - 2 * SEC);
	assert_int_equal(sluice_config_wait_reclaim(&cfg, &ro, SEC, SEC / 100), 0);
	assert_true(sluice_status_all_seen(&ro, 3, sluice_now_ns(), SEC, &live));
	assert_int_equal(live, 1);
	/* ...nor does one that went offline. */
	sluice_lcore_heartbeat(l1, sluice_now_ns());
	l1->state = SLUICE_LCORE_OFFLINE;
	assert_true(sluice_status_all_seen(&ro, 3, sluice_now_ns(), SEC, &live));
	assert_int_equal(live, 1);
	/* Without a data plane nobody is waited for. */
	assert_true(sluice_status_all_seen(NULL, 3, sluice_now_ns(), SEC, &live));
	assert_int_equal(live, 0);

	sluice_status_close(&ro);
	sluice_status_close(&st);
	sluice_config_close(&cfg);
}

/* ---- writer and reader processes ---- */

static __u16 stamp(__u64 gen, unsigned int slot)
{
	return (__u16)(gen * 40503u + slot);
}

/* A reader process: an lcore of a pretend data plane. Verifies every
 * snapshot it is handed, counts good ones in rx_packets and mixed ones in
 * drops[MALFORMED], and stops at the final generation. The status region
 * (writable) comes from the parent by fork, as sluice-dp's lcores share
 * their process's mapping; the config region it maps itself, read-only. */
static void reader_main(struct sluice_lcore_status *me, __u64 last_gen)
{
	struct sluice_config_region cfg;
	__u64 prev = 0, spins = 0;

	if (sluice_config_attach(instance, &cfg, NULL, 0) < 0)
		_exit(10);
	for (;;) {
		const struct sluice_snapshot *snap;
		__u64 gen;
		int mixed = 0;

		sluice_lcore_heartbeat(me, sluice_now_ns());
		snap = sluice_config_current(&cfg, &gen); /* once per "burst" */
		sluice_lcore_ack(me, gen);
		if (!snap)
			continue;
		if (gen < prev)
			_exit(13); /* generations never go back */
		if (gen == prev)
			sched_yield(); /* 3 processes share 2 CPUs here: let the writer run */
		prev = gen;
		/* The burst: every field of the snapshot names one generation. */
		if (snap->generation != gen || snap->n_vips != (__u32)gen ||
		    snap->vips[0].hash_seed != gen)
			mixed = 1;
		for (unsigned int s = 0; s < STAMPED_SLOTS && !mixed; s++)
			if (snap->tables[s] != stamp(gen, s))
				mixed = 1;
		if (snap->generation != gen)
			mixed = 1;
		if (mixed)
			__atomic_fetch_add(&me->counters.drops[SLUICE_DROP_MALFORMED], 1,
					   __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&me->counters.rx_packets, 1, __ATOMIC_RELAXED);
		if (gen >= last_gen || *stop_readers || ++spins > 100000000ull)
			break;
	}
	sluice_config_close(&cfg);
	__atomic_store_n(&me->state, SLUICE_LCORE_OFFLINE, __ATOMIC_RELEASE);
	_exit(0);
}

/* Publish until `publishes` generations have gone out (or, for the control
 * run, until some reader saw a mixed snapshot). With reclaim false the
 * writer skips the wait: the control proving the readers can detect a
 * torn snapshot at all. Returns mixed snapshots seen by the readers. */
static __u64 run_writer_and_readers(int reclaim, __u64 publishes, __u64 *checked)
{
	struct sluice_config_region cfg;
	struct sluice_status_region st;
	pid_t pids[READERS];
	__u64 mixed = 0, start;
	int status;

	stop_readers = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
	assert_true(stop_readers != MAP_FAILED);
	*stop_readers = 0;
	assert_int_equal(sluice_config_create(instance, &cfg, NULL, 0), 0);
	assert_int_equal(sluice_status_create(instance, READERS, &st, NULL, 0), 0);
	for (unsigned int i = 0; i < READERS; i++) {
		st.lcores[i].lcore_id = i + 1;
		sluice_lcore_heartbeat(&st.lcores[i], sluice_now_ns());
		__atomic_store_n(&st.lcores[i].state, SLUICE_LCORE_ONLINE, __ATOMIC_RELEASE);
	}
	for (unsigned int i = 0; i < READERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			reader_main(&st.lcores[i], publishes);
	}
	start = sluice_now_ns();
	for (__u64 g = 1; g <= publishes; g++) {
		struct sluice_snapshot *snap;

		if (reclaim)
			assert_int_equal(sluice_config_wait_reclaim(&cfg, &st, 5 * SEC, 20 * SEC), 0);
		snap = sluice_config_next_slot(&cfg);
		snap->n_vips = (__u32)g;
		snap->vips[0].hash_seed = g;
		for (unsigned int s = 0; s < STAMPED_SLOTS; s++)
			snap->tables[s] = stamp(g, s);
		assert_int_equal(sluice_config_publish(&cfg), g);
		if (!reclaim) {
			for (unsigned int i = 0; i < READERS; i++)
				mixed += st.lcores[i].counters.drops[SLUICE_DROP_MALFORMED];
			if (mixed || sluice_now_ns() - start > 10 * SEC) {
				*stop_readers = 1;
				break;
			}
		}
	}
	for (unsigned int i = 0; i < READERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	mixed = 0;
	*checked = 0;
	for (unsigned int i = 0; i < READERS; i++) {
		mixed += st.lcores[i].counters.drops[SLUICE_DROP_MALFORMED];
		*checked += st.lcores[i].counters.rx_packets;
	}
	sluice_status_close(&st);
	sluice_config_close(&cfg);
	munmap((void *)stop_readers, sizeof(int));
	return mixed;
}

static void test_no_reader_sees_a_mixed_snapshot(void **state)
{
	__u64 checked, mixed;
	(void)state;

	mixed = run_writer_and_readers(1, PUBLISHES, &checked);
	printf("# %d publishes, %llu snapshots verified by %d readers, %llu mixed\n", PUBLISHES,
	       (unsigned long long)checked, READERS, (unsigned long long)mixed);
	assert_int_equal(mixed, 0);
	/* The readers really followed the writer, not just the last snapshot. */
	assert_true(checked >= PUBLISHES);
}

/* Control: the same readers do catch torn snapshots when the writer does
 * not wait for them, so the test above is not passing by accident. */
static void test_control_detects_mixed_without_reclaim(void **state)
{
	__u64 checked, mixed;
	(void)state;

	mixed = run_writer_and_readers(0, 50000000ull, &checked);
	printf("# without reclamation: %llu mixed snapshots detected\n", (unsigned long long)mixed);
	assert_true(mixed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_validate_refuses_foreign_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_refuses_wrong_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_reattaches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_ports_validated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reader_sees_a_mixed_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_detects_mixed_without_reclaim, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
