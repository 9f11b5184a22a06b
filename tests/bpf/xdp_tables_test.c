/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP program's flow table through BPF_PROG_TEST_RUN, loaded and
 * filled by the real loader: established flows across table swaps (on the
 * CPU that saw them and on the other one), re-picks after removals and
 * failures, VIPs removed and added, broken snapshots refused, a reopened
 * loader keeping its flows, ids that change meaning, idle timeouts by
 * class, and a torn way read as a miss.
 *
 * Needs root, BPF and two CPUs; fails, never skips.
 */
#include <sys/mman.h>

#include "xdp_runner.h"

/* ---- table changes ---- */

#define NFLOWS 300

/* Forget every flow (earlier fixtures left theirs): zero every set. */
static void flows_clear(struct fx *f)
{
	__u32 n = SLUICE_XDP_FLOW_SETS;
	__u32 *keys = calloc(n, sizeof(*keys));
	void *zero = calloc(n, sizeof(struct sluice_xdp_flow_set));
	char path[256];
	int fd;

	assert_non_null(keys);
	assert_non_null(zero);
	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	snprintf(path, sizeof(path), "%s/flows", sluice_xdp_path_pin_dir(f->xp));
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_batch(fd, keys, zero, &n, NULL), 0);
	close(fd);
	free(keys);
	free(zero);
}

/* NFLOWS TCP flows to VIP 0 (client ports 20000..), established. */
static void establish(struct fx *f, __u16 *backend_of)
{
	flows_clear(f);
	for (int i = 0; i < NFLOWS; i++) {
		struct frame in;
		struct result r;
		uint16_t port = (uint16_t)(20000 + i);

		fr_ipv4(&in, 0, 6, client4b, vip4a, port, 80, SLUICE_TCP_SYN, 0, 0x4000);
		run(f, in.b, in.len, &r);
		backend_of[i] = expect_forward(f, &in, &r, V_TCP4,
					       hash4(client4b, vip4a, 6, port, 80, 0x1111))->id;
	}
}

/* Send flow i again: returns its backend id; checks the bytes for it. */
static __u16 resend(struct fx *f, int i, const struct sluice_backend **be_out)
{
	struct frame in;
	struct result r;
	uint16_t port = (uint16_t)(20000 + i);
	uint64_t h = hash4(client4b, vip4a, 6, port, 80, 0x1111);

	fr_ipv4(&in, 0, 6, client4b, vip4a, port, 80, SLUICE_TCP_ACK, 20, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(r.verdict, XDP_TX);
	for (__u32 b = 0; b < f->snap->n_backends; b++) {
		const struct sluice_backend *be = &f->snap->backends[b];
		uint8_t want[4096];
		size_t n;

		if (memcmp(r.out + 30, be->addr.bytes, 4) != 0)
			continue;
		n = fx_expect_encap(in.b, in.len, 14, SLUICE_FWD_IPIP, be, h, want);
		assert_int_equal(r.len, n);
		assert_memory_equal(r.out, want, n);
		if (be_out)
			*be_out = be;
		return be->id;
	}
	fail_msg("flow %d sent to an address that is no backend", i);
	return 0;
}

/* The kernel's tick rate, as the program reads it (CONFIG_HZ through
 * libbpf's kconfig; 250 when the configuration cannot be read). */
static unsigned int kernel_hz(void)
{
	FILE *p = popen("(zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) "
			"2>/dev/null) | sed -n 's/^CONFIG_HZ=//p'",
			"r");
	unsigned int hz = 0;

	if (p) {
		if (fscanf(p, "%u", &hz) != 1)
			hz = 0;
		pclose(p);
	}
	return hz ? hz : SLUICE_XDP_DEFAULT_HZ;
}

/* The flow table, mapped (BPF_F_MMAPABLE), and the one live way in it. */
static struct sluice_xdp_flow_set *flows_map(struct fx *f)
{
	char path[256];
	void *m;
	int fd;

	snprintf(path, sizeof(path), "%s/flows", sluice_xdp_path_pin_dir(f->xp));
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	m = mmap(NULL, (size_t)SLUICE_XDP_FLOW_SETS * sizeof(struct sluice_xdp_flow_set),
		 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);
	return m;
}

static struct sluice_xdp_flow *only_way(struct sluice_xdp_flow_set *sets)
{
	struct sluice_xdp_flow *found = NULL;

	for (__u32 i = 0; i < SLUICE_XDP_FLOW_SETS; i++)
		for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++)
			if (sets[i].way[w].seen) {
				assert_null(found);
				found = &sets[i].way[w];
			}
	assert_non_null(found);
	return found;
}

static void flows_unmap(struct sluice_xdp_flow_set *sets)
{
	munmap(sets, (size_t)SLUICE_XDP_FLOW_SETS * sizeof(struct sluice_xdp_flow_set));
}

/* Forget every flow, send in, the first packet of a flow: the way it took
 * (r and the counter deltas are that run's). */
static struct sluice_xdp_flow *one_flow(struct fx *f, struct sluice_xdp_flow_set *sets,
					const struct frame *in, struct result *r)
{
	flows_clear(f);
	run(f, in->b, in->len, r);
	return only_way(sets);
}

/* Move way f's last packet back by secs seconds (clock units of 64
 * jiffies). */
static void age_way(struct sluice_xdp_flow *w, unsigned int secs)
{
	__u32 units = (__u32)(((unsigned long long)secs * kernel_hz()) >> SLUICE_XDP_TIME_SHIFT);

	w->seen = (((w->seen >> 2) - units) & SLUICE_XDP_TIME_MASK) << 2 | (w->seen & 3);
}

/* Idle timeouts by class, as the DPDK path's: a TCP flow lives 300 s after
 * its last packet, a closing one (FIN or RST seen) 10 s, a UDP one 30 s;
 * an expired entry is a new flow again (its way reused, counted as
 * expired). Ages are made by moving the entry's time back. */
static void test_idle_timeouts(void **state)
{
	struct fx *f = *state;
	struct sluice_xdp_flow_set *sets;
	struct sluice_xdp_flow *w;
	struct frame in;
	struct result r;

	sets = flows_map(f);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	w = one_flow(f, sets, &in, &r);
	assert_int_equal(w->seen & 3, SLUICE_FLOW_TCP);
	/* 20 s idle: a TCP flow is still there; after a FIN, 20 s is too long. */
	age_way(w, 20);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_FIN | SLUICE_TCP_ACK, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_hits), 1);
	assert_int_equal(w->seen & 3, SLUICE_FLOW_CLOSING);
	age_way(w, 8);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41000, 80, SLUICE_TCP_ACK, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_hits), 1); /* 8 s < 10 s */
	age_way(w, 12);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_misses), 1); /* 12 s > 10 s: gone */
	assert_int_equal(D_LCORE(f, flow_expired), 1);
	assert_int_equal(D_LCORE(f, flow_inserts), 1);
	assert_true(only_way(sets) == w); /* its own way, reused */
	assert_int_equal(w->seen & 3, SLUICE_FLOW_TCP);
	/* A TCP flow idle for 290 s lives, for 310 s it does not. */
	age_way(w, 290);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_hits), 1);
	age_way(w, 310);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_misses), 1);

	/* UDP: 30 s. */
	fr_ipv4(&in, 0, 17, client4, vip4a, 5353, 9999, 0, 20, 0);
	w = one_flow(f, sets, &in, &r);
	assert_int_equal(w->seen & 3, SLUICE_FLOW_UDP);
	age_way(w, 25);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_hits), 1);
	age_way(w, 35);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_misses), 1);
	flows_unmap(sets);
}

/* The flow table is shared by the CPUs without locks: a way read while
 * another CPU rewrites it may hold the tag of one write and the backend of
 * another. Such a way must match no flow: the packet is a miss (the table
 * picks), never sent to the backend the torn way names. */
static void test_torn_way_is_a_miss(void **state)
{
	struct fx *f = *state;
	uint64_t h = hash4(client4, vip4a, 6, 41001, 80, 0x1111);
	const struct sluice_backend *be;
	struct sluice_xdp_flow_set *sets;
	struct sluice_xdp_flow *w;
	struct frame in;
	struct result r;

	sets = flows_map(f);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41001, 80, SLUICE_TCP_SYN, 0, 0x4000);
	w = one_flow(f, sets, &in, &r);
	be = expect_forward(f, &in, &r, V_TCP4, h);
	/* Another backend of the VIP in the way, the tag left as it was. */
	for (__u32 b = 0; b < f->snap->n_backends; b++)
		if (f->snap->backends[b].vip_id == V_TCP4 && f->snap->backends[b].id != be->id) {
			w->backend_id = f->snap->backends[b].id;
			break;
		}
	assert_int_not_equal(w->backend_id, be->id);
	fr_ipv4(&in, 0, 6, client4, vip4a, 41001, 80, SLUICE_TCP_ACK, 0, 0x4000);
	run(f, in.b, in.len, &r);
	assert_int_equal(D_XDP(f, flow_misses), 1);
	assert_int_equal(expect_forward(f, &in, &r, V_TCP4, h)->id, be->id);
	flows_unmap(sets);
}

/* Adding a backend swaps in a new table: established flows keep their
 * backends, new flows follow the new table. */
static void test_table_swap_keeps_flows(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS];
	int moved_by_table = 0;

	establish(f, before);
	fx_add_backend(&f->vips[V_TCP4], 104, a4(10, 0, 1, 5), SLUICE_BACKEND_ACTIVE);
	publish(f, N_VIPS);
	for (int i = 0; i < NFLOWS; i++) {
		uint64_t h = hash4(client4b, vip4a, 6, (uint16_t)(20000 + i), 80, 0x1111);

		if (sluice_snapshot_pick(f->snap, snap_vip(f, V_TCP4), h)->id != before[i])
			moved_by_table++;
		assert_int_equal(resend(f, i, NULL), before[i]);
		assert_int_equal(D_XDP(f, flow_hits), 1);
	}
	printf("table swap: %d of %d flows would move by the new table; none did\n",
	       moved_by_table, NFLOWS);
	assert_true(moved_by_table > 0);

	/* New flows: the new table. */
	for (int i = 0; i < 50; i++) {
		struct frame in;
		struct result r;
		uint16_t port = (uint16_t)(30000 + i);

		fr_ipv4(&in, 0, 6, client4b, vip4a, port, 80, SLUICE_TCP_SYN, 0, 0x4000);
		run(f, in.b, in.len, &r);
		expect_forward(f, &in, &r, V_TCP4, hash4(client4b, vip4a, 6, port, 80, 0x1111));
	}
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* One flow table for the host: flows established on CPU 0 keep their
 * backends when their packets arrive on CPU 1 after the table changed (no
 * RSS on veth; a NAPI instance polled from another CPU). With a table per
 * CPU, CPU 1 would re-pick them from the new table and move some. */
static void test_flows_follow_across_cpus(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS];
	int moved_by_table = 0;

	assert_true(libbpf_num_possible_cpus() >= 2); /* this machine has 2 */
	establish(f, before);
	fx_add_backend(&f->vips[V_TCP4], 104, a4(10, 0, 1, 5), SLUICE_BACKEND_ACTIVE);
	publish(f, N_VIPS);
	assert_int_equal(fx_pin_cpu(1), 0);
	for (int i = 0; i < NFLOWS; i++) {
		uint64_t h = hash4(client4b, vip4a, 6, (uint16_t)(20000 + i), 80, 0x1111);

		if (sluice_snapshot_pick(f->snap, snap_vip(f, V_TCP4), h)->id != before[i])
			moved_by_table++;
		assert_int_equal(resend(f, i, NULL), before[i]);
		assert_int_equal(D_XDP(f, flow_hits), 1);
	}
	assert_int_equal(fx_pin_cpu(0), 0);
	printf("on the other CPU: %d of %d flows would move by the new table; none did\n",
	       moved_by_table, NFLOWS);
	assert_true(moved_by_table > 0);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* A removed or failed backend's flows are re-picked from the new table;
 * a draining backend keeps its flows and gets no new ones. */
static void test_repick_after_removal(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS], removed = 101, down = 102, draining = 103;
	int n_removed = 0, n_down = 0, n_draining = 0;
	struct fx_vip *v = &f->vips[V_TCP4];

	establish(f, before);
	/* Remove 101 (swap the last backend into its place), 102 down, 103
	 * draining. */
	for (size_t i = 0; i < v->n; i++) {
		if (v->be[i].id == removed)
			v->be[i--] = v->be[--v->n];
		else if (v->be[i].id == down)
			v->be[i].state = SLUICE_BACKEND_DOWN;
		else if (v->be[i].id == draining)
			v->be[i].state = SLUICE_BACKEND_DRAINING;
	}
	publish(f, N_VIPS);
	for (int i = 0; i < NFLOWS; i++) {
		uint64_t h = hash4(client4b, vip4a, 6, (uint16_t)(20000 + i), 80, 0x1111);
		const struct sluice_backend *pick = sluice_snapshot_pick(f->snap,
									  snap_vip(f, V_TCP4), h);
		__u16 now = resend(f, i, NULL);

		assert_true(pick->id != removed && pick->id != down && pick->id != draining);
		if (before[i] == removed || before[i] == down) {
			assert_int_equal(now, pick->id);
			assert_int_equal(D_LCORE(f, flow_repicks), 1);
			n_removed += before[i] == removed;
			n_down += before[i] == down;
		} else {
			assert_int_equal(now, before[i]);
			assert_int_equal(D_LCORE(f, flow_repicks), 0);
			n_draining += before[i] == draining;
		}
	}
	printf("re-picked %d flows of a removed backend and %d of a failed one; %d stayed on "
	       "a draining one\n", n_removed, n_down, n_draining);
	assert_true(n_removed > 0 && n_down > 0 && n_draining > 0);
	/* Once re-picked, they stay. */
	for (int i = 0; i < NFLOWS; i++)
		if (before[i] == removed)
			assert_int_not_equal(resend(f, i, NULL), removed);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* VIPs come and go: a removed VIP's traffic passes, an added one is
 * served, and the removed backend ids are gone from the maps. */
static void test_vip_removed_and_added(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;

	publish(f, 2); /* only VIPs 0 and 1 */
	fr_ipv4(&in, 0, 6, client4, vip4b, 40013, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	fr_ipv6(&in, 0, 6, client6, vip6a, 50004, 443, SLUICE_TCP_SYN, 0);
	run(f, in.b, in.len, &r);
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	publish(f, N_VIPS);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP6, hash6(client6, vip6a, 6, 50004, 443, 0x3333));
}

/* A broken snapshot is refused before anything is written. */
static void test_publish_refuses_bad_snapshot(void **state)
{
	struct fx *f = *state;
	struct frame in;
	struct result r;
	char err[256];
	__u16 saved = f->snap->tables[f->snap->vips[0].table_offset];

	f->snap->tables[f->snap->vips[0].table_offset] = 999;
	assert_int_equal(sluice_xdp_path_publish(f->xp, f->snap, err, sizeof(err)), -EINVAL);
	printf("refused: %s\n", err);
	f->snap->tables[f->snap->vips[0].table_offset] = saved;
	fr_ipv4(&in, 0, 6, client4, vip4a, 40014, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_TCP4, hash4(client4, vip4a, 6, 40014, 80, 0x1111));
}

/* A new loader on the pinned maps (a restarted sluiced) keeps the flows. */
static void test_reopen_keeps_flows(void **state)
{
	struct fx *f = *state;
	__u16 before[NFLOWS];
	char err[512];

	establish(f, before);
	sluice_xdp_path_close(f->xp, false);
	assert_int_equal(sluice_xdp_path_open(f->instance, &f->xp, err, sizeof(err)), 0);
	f->prog_fd = sluice_xdp_path_prog_fd(f->xp);
	fx_add_backend(&f->vips[V_TCP4], 104, a4(10, 0, 1, 5), SLUICE_BACKEND_ACTIVE);
	publish(f, N_VIPS);
	for (int i = 0; i < NFLOWS; i++)
		assert_int_equal(resend(f, i, NULL), before[i]);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* Ids that change meaning in one publish (sluiced does not do this, the
 * loader still must not mix them up): VIP 3 moves to another address, its
 * backend ids to other addresses. */
static void test_ids_change_meaning(void **state)
{
	struct fx *f = *state;
	static const uint8_t vip4d[4] = {192, 0, 2, 21};
	struct frame in;
	struct result r;
	const struct sluice_backend *be;

	fr_ipv4(&in, 0, 6, client4, vip4b, 40015, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	expect_forward(f, &in, &r, V_DSR4, hash4(client4, vip4b, 6, 40015, 80, 0x4444));

	fx_vip_init(&f->vips[V_DSR4], 3, fx_addr4(vip4d), 80, 6, SLUICE_FWD_L2DSR, 0x4444, M);
	fx_add_backend(&f->vips[V_DSR4], 400, a4(10, 0, 7, 1), SLUICE_BACKEND_ACTIVE);
	fx_add_backend(&f->vips[V_DSR4], 401, a4(10, 0, 7, 2), SLUICE_BACKEND_ACTIVE);
	f->vips[V_DSR4].be[0].mac[0] = 0x06; /* other MACs too */
	f->vips[V_DSR4].be[1].mac[0] = 0x06;
	publish(f, N_VIPS);

	run(f, in.b, in.len, &r); /* the old address: no VIP any more */
	expect_pass(f, &in, &r, SLUICE_DROP_NOT_VIP);
	fr_ipv4(&in, 0, 6, client4, vip4d, 40015, 80, SLUICE_TCP_SYN, 0, 0x4000);
	run(f, in.b, in.len, &r);
	be = expect_forward(f, &in, &r, V_DSR4, hash4(client4, vip4d, 6, 40015, 80, 0x4444));
	assert_int_equal(be->mac[0], 0x06);
	default_vips(f->vips);
	publish(f, N_VIPS);
}

/* Without a configured source MAC the interface's (the frame's
 * destination) is used; MTU 0 means 1500, as in the DPDK path. */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_timeouts),
		cmocka_unit_test(test_torn_way_is_a_miss),
		cmocka_unit_test(test_table_swap_keeps_flows),
		cmocka_unit_test(test_flows_follow_across_cpus),
		cmocka_unit_test(test_repick_after_removal),
		cmocka_unit_test(test_vip_removed_and_added),
		cmocka_unit_test(test_publish_refuses_bad_snapshot),
		cmocka_unit_test(test_reopen_keeps_flows),
		cmocka_unit_test(test_ids_change_meaning),
	};

	if (fx_pin_cpu(0) < 0) {
		perror("sched_setaffinity");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
