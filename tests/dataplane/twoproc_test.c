/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp as a real process. This test is the traffic side (a memif
 * server port in its own EAL) and the configuration writer (libsluice);
 * sluice-dp is the memif client.
 *
 *  - before any configuration exists, VIP traffic is dropped as no_config;
 *    the first snapshot is picked up as soon as it is published;
 *  - under each snapshot, new flows go where its table says (computed
 *    here independently), established ones stay while their backend is in
 *    the set and move when it leaves;
 *  - while a separate writer process publishes hundreds of snapshots with
 *    quiescent-state reclamation, no packet is ever sent to a backend that
 *    is absent from every snapshot current while it was in flight;
 *  - with two workers (a two-queue memif port, this process playing the
 *    NIC: each flow on the queue sluice's RSS key and RETA give it), each
 *    of 10,000 flows is handled by that worker only, across 50 table
 *    changes, and the workers' counters and the port's per-queue counters
 *    say so; a port with fewer queues than workers is refused; an ICMP
 *    frag-needed (IPv4) or packet-too-big (IPv6) about a flow, arriving on
 *    the other worker's queue, is handed to the flow's worker and reaches
 *    the backend in its entry, counted on both workers; IPv4 and IPv6
 *    fragments (first and later) on the other worker's queue are handed to
 *    the worker of their addresses, those on its own queue are not;
 *  - the port's own counters (the device's) reach the status region;
 *  - telemetry answers /sluice/... commands; SIGTERM stops it cleanly
 *    (exit 0, lcores marked offline); bad options, no ports and a config
 *    region of another ABI version are refused with a message and a
 *    non-zero exit.
 *
 * The harness (twoproc_harness.h, shared with twoproc_frag_test.c) says
 * what each generation holds. Each test starts its own sluice-dp and
 * passes alone (meson runs each one separately too).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "twoproc_harness.h"

/* BURST SYNs for the VIP before any configuration exists: all dropped as
 * no_config. */
static void expect_no_config_drops(void)
{
	struct rte_mbuf *m[BURST];
	uint64_t t0;

	for (unsigned int i = 0; i < BURST; i++)
		send_flow(i, SLUICE_TCP_SYN, 0, &m[i]);
	tx_all(0, m, BURST);
	t0 = now_ms();
	while (dp_counter_drops(SLUICE_DROP_NO_CONFIG) < BURST)
		if (now_ms() - t0 > 3000)
			fail_msg("no_config drops: %llu, expected %d",
				 (unsigned long long)dp_counter_drops(SLUICE_DROP_NO_CONFIG), BURST);
}

/* sluiced appears and publishes generation 1: picked up without a restart,
 * and FLOWS new flows follow its table. */
static void first_snapshot(void)
{
	char err[256];

	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(publish(1), 0);
	wait_seen(1);
	round_trip(0, FLOWS, 1, true);
}

/* Generation 2: backend 1 leaves, 2 drains, 5 joins. Flows of generation
 * 1 stay or move as they must; 256 new ones follow the new table. */
static void second_snapshot(void)
{
	assert_int_equal(publish(2), 0);
	wait_seen(2);
	round_trip(0, FLOWS, 2, false);
	round_trip(FLOWS, 256, 2, true);
}

static void test_no_config_then_first_snapshot(void **state)
{
	(void)state;
	expect_no_config_drops();
	first_snapshot();
}

static void test_follows_table_changes(void **state)
{
	(void)state;
	first_snapshot();
	second_snapshot();
}

/* A corrupt generation (a VIP's table offset past the pool) is refused:
 * sluice-dp keeps forwarding with the one it had, does not acknowledge the
 * bad one (so no writer can reclaim the slot it still reads), says so in
 * its log and counts it (snapshot_rejected). */
static void test_corrupt_snapshot_refused(void **state)
{
	char line[512];
	bool logged = false;
	uint64_t t0;
	FILE *f;
	(void)state;

	first_snapshot();
	assert_int_equal(sluice_config_wait_reclaim(&cfg, &st, STALE_NS, 5000ull * 1000 * 1000), 0);
	build(sluice_config_next_slot(&cfg), 2);
	sluice_config_next_slot(&cfg)->vips[3].table_offset = 0xfffffff0u;
	assert_int_equal(sluice_config_publish(&cfg), 2);
	t0 = now_ms();
	while (__atomic_load_n(&st.lcores[0].counters.snapshot_rejected, __ATOMIC_RELAXED) == 0)
		if (now_ms() - t0 > 3000)
			fail_msg("sluice-dp did not count the corrupt generation");
	assert_int_equal(lcore_seen(), 1);
	/* Still generation 1's backends, for old and new flows alike. */
	round_trip(0, FLOWS, 1, false);
	round_trip(FLOWS, 64, 1, true);
	f = fopen(log_path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		logged |= strstr(line, "generation 2 refused, keeping 1") != NULL;
	fclose(f);
	assert_true(logged);
}

/* A writer process publishes while traffic flows; every output's backend
 * must belong to a snapshot current while its packet was in flight:
 * generations [tag, generation after receipt], i.e. ids [tag, after + 3]. */
static void test_concurrent_writer(void **state)
{
	uint64_t bursts = 0, last_gen = 2;
	int status;
	(void)state;

	first_snapshot();
	second_snapshot();
	writer_pid = fork();
	if (writer_pid == 0) {
		for (uint64_t g = 3; g < 3 + GENERATIONS; g++) {
			if (publish(g) < 0)
				_exit(2);
			usleep(500);
		}
		_exit(0);
	}
	assert_true(writer_pid > 0);
	for (;;) {
		struct rte_mbuf *m[BURST];
		struct out o[BURST];
		uint64_t before = __atomic_load_n(&cfg.hdr->generation, __ATOMIC_ACQUIRE), after;
		bool writer_done = waitpid(writer_pid, &status, WNOHANG) == writer_pid;

		for (unsigned int i = 0; i < BURST; i++)
			send_flow((unsigned int)(rte_rand() % (FLOWS + 256)), SLUICE_TCP_ACK,
				  (uint16_t)before, &m[i]);
		tx_all(0, m, BURST);
		rx_n(o, BURST);
		after = __atomic_load_n(&cfg.hdr->generation, __ATOMIC_ACQUIRE);
		for (unsigned int i = 0; i < BURST; i++) {
			if (o[i].backend < o[i].tag || o[i].backend > after + 3)
				fail_msg("flow %u sent to backend %u, in no snapshot of generations "
					 "%u..%llu",
					 o[i].flow, o[i].backend, o[i].tag, (unsigned long long)after);
			/* In order and lossless (lockstep): this is the flow's entry. */
			last_backend[o[i].flow] = o[i].backend;
		}
		bursts++;
		last_gen = after;
		if (writer_done) {
			writer_pid = -1;
			break;
		}
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(last_gen, 2 + GENERATIONS);
	assert_true(bursts > 10);
	/* Settled: old flows stay where they are if their backend is still
	 * in the set, else follow the table; new flows follow the table. */
	wait_seen(last_gen);
	round_trip(0, FLOWS + 256, last_gen, false);
	round_trip(0, FLOWS + 256, last_gen, false);
	round_trip(FLOWS + 256, 1024, last_gen, true);
}

/*
 * Two workers, each with its own flow table and queue pair. MANY_FLOWS
 * flows arrive on the queue RSS with sluice's key and RETA gives them:
 * each comes back from that worker only, first under generation 1, then
 * under each of 50 table changes, and stays with its backend while that
 * backend is in the set (round_trip checks both). Each worker's table
 * holds exactly its own flows and its counters count exactly its packets,
 * and the port's per-queue counters agree: no flow was ever seen by the
 * other worker.
 */
#define CHANGES 50
static void test_two_workers_sticky(void **state)
{
	unsigned int per[2] = {0, 0};
	char err[256];
	(void)state;

	for (unsigned int f = 0; f < MANY_FLOWS; f++)
		per[flow_queue(f)]++;
	/* The key spreads: neither worker gets less than 40 %. */
	assert_true(per[0] > MANY_FLOWS * 2 / 5 && per[1] > MANY_FLOWS * 2 / 5);
	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(publish(1), 0);
	wait_seen(1);
	round_trip(0, MANY_FLOWS, 1, true);
	for (unsigned int w = 0; w < 2; w++) {
		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, flow_live), per[w],
				   "flow_live");
		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, flow_inserts), per[w],
				   "flow_inserts");
	}
	for (uint64_t g = 2; g <= 1 + CHANGES; g++) {
		assert_int_equal(publish(g), 0);
		wait_seen(g);
		round_trip(0, MANY_FLOWS, g, false);
	}
	for (unsigned int w = 0; w < 2; w++) {
		uint64_t t0 = now_ms();

		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, rx_packets),
				   (uint64_t)per[w] * (1 + CHANGES), "rx_packets");
		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, flow_live), per[w],
				   "flow_live");
		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, flow_inserts), per[w],
				   "flow_inserts");
		/* The device's view, from the main lcore, about once a second. */
		while (__atomic_load_n(&st.ports[0].queue[w].rx_packets, __ATOMIC_RELAXED) !=
		       (uint64_t)per[w] * (1 + CHANGES))
			if (now_ms() - t0 > 3000)
				fail_msg("port queue %u: %llu packets, expected %llu", w,
					 (unsigned long long)st.ports[0].queue[w].rx_packets,
					 (unsigned long long)per[w] * (1 + CHANGES));
	}
	assert_int_equal(st.ports[0].n_queues, 2);
}

/*
 * A router's frag-needed about a packet a backend sent for a flow arrives
 * on the other worker's queue (a NIC hashes it on its own addresses,
 * router to VIP): that worker hands it to the flow's, which sends it to
 * the backend in the flow's entry. The flows chosen are on a draining
 * backend, which the table no longer gives them: the worker without the
 * entry would send the error elsewhere.
 */
static void test_icmp_error_handed_to_flow_worker(void **state)
{
	static const uint8_t router[4] = {192, 0, 2, 254};
	unsigned int sent[2] = {0, 0}, n = 0;
	char err[256];
	(void)state;

	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(publish(1), 0);
	wait_seen(1);
	round_trip(0, FLOWS, 1, true);
	assert_int_equal(publish(2), 0); /* backend 2 drains: kept by entries only */
	wait_seen(2);
	build(oracle_snap, 2);
	for (unsigned int f = 0; f < FLOWS && n < 64; f++) {
		const struct sluice_backend *by_table = sluice_snapshot_pick(
			oracle_snap, &oracle_snap->vips[3],
			t_hash4(6, client4, vip4, (uint16_t)(1024 + f), 80, 77));
		uint16_t owner = flow_queue(f), q = (uint16_t)(1 - owner);
		struct frame quoted, fr;
		struct rte_mbuf *m;
		struct out o;
		const uint8_t *b;
		uint64_t t0 = now_ms();

		if (last_backend[f] != 2 || by_table->id == 2)
			continue;
		fr_ipv4(&quoted, 0, 6, vip4, client4, 80, (uint16_t)(1024 + f), SLUICE_TCP_ACK,
			1400, 0x4000);
		fr_icmp4_frag_needed(&fr, router, vip4, &quoted, 28, 1400);
		m = t_mbuf(&fr);
		tx_all(q, &m, 1);
		sent[q]++;
		n++;
		for (o.queue = 0;; o.queue = (uint16_t)((o.queue + 1) % 2)) {
			if (rte_eth_rx_burst(t_port, o.queue, &m, 1) == 1)
				break;
			if (now_ms() - t0 > 2000)
				fail_msg("flow %u: the ICMP error did not come back", f);
		}
		b = rte_pktmbuf_mtod(m, const uint8_t *);
		o.backend = fr_get16(b + 32);
		if (b[14 + 9] != 4 || b[34 + 9] != 1 || o.queue != owner || o.backend != 2)
			fail_msg("flow %u: ICMP error sent by worker %u to backend %u, expected "
				 "worker %u, backend 2", f, o.queue, o.backend, owner);
		rte_pktmbuf_free(m);
	}
	assert_true(n >= 8 && sent[0] > 0 && sent[1] > 0);
	check_handoff_counters(sent);
}

/*
 * The same hand-off for IPv6: a router's packet-too-big about a packet a
 * backend sent for an IPv6 flow arrives on the other worker's queue; that
 * worker computes the flow's worker from the IPv6 Toeplitz hash of the
 * quoted tuple (rte_softrss over 36 bytes) and hands it over; the owner
 * sends it to the backend in the flow's entry: a draining one, which the
 * table no longer gives the flow.
 */
static void test_icmp6_too_big_handed_to_flow_worker(void **state)
{
	static const uint8_t router6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xfe, [15] = 1};
	static uint16_t be6[FLOWS];
	unsigned int sent[2] = {0, 0}, n = 0, on[2] = {0, 0};
	char err[256];
	uint8_t nh;
	(void)state;

	with_v6 = true;
	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(publish(1), 0);
	wait_seen(1);
	for (unsigned int f = 0; f < FLOWS; f++) { /* a SYN each, on its queue */
		uint16_t sport = (uint16_t)(1024 + f), owner = flow6_queue(sport);
		struct rte_mbuf *m;
		struct frame fr;

		fr_ipv6(&fr, 0, 6, client6, vip6, sport, 80, SLUICE_TCP_SYN, 0);
		m = t_mbuf(&fr);
		tx_all(owner, &m, 1);
		on[owner]++;
	}
	for (unsigned int i = 0; i < FLOWS; i++) {
		uint16_t q, sport, id = rx_v6(&q, &nh, &sport);
		unsigned int f = (unsigned int)sport - 1024;

		if (f >= FLOWS || q != flow6_queue(sport) || nh != 6 || id < V6_BE + 1 ||
		    id > V6_BE + 4)
			fail_msg("IPv6 flow %u: answered by worker %u (its own is %u), to backend "
				 "%u", f, q, flow6_queue(sport), id);
		be6[f] = id;
	}
	assert_true(on[0] > 0 && on[1] > 0);
	assert_int_equal(publish(2), 0); /* backend V6_BE + 2 drains: kept by entries only */
	wait_seen(2);
	build(oracle_snap, 2);
	for (unsigned int f = 0; f < FLOWS && n < 64; f++) {
		uint16_t sport = (uint16_t)(1024 + f), owner = flow6_queue(sport),
			 q = (uint16_t)(1 - owner), out_q, id;
		const struct sluice_backend *by_table = sluice_snapshot_pick(
			oracle_snap, &oracle_snap->vips[4], t_hash6(6, client6, vip6, sport, 80, 66));
		struct frame quoted, fr;
		struct rte_mbuf *m;
		uint16_t in_sport;

		if (be6[f] != V6_BE + 2 || by_table->id == V6_BE + 2)
			continue;
		/* What the backend sent: vip6:80 -> client, 1400 bytes of IPv6. */
		fr_ipv6(&quoted, 0, 6, vip6, client6, 80, sport, SLUICE_TCP_ACK, 1400 - 60);
		fr_icmp6_too_big(&fr, router6, vip6, &quoted, 40 + 20, 1280);
		m = t_mbuf(&fr);
		tx_all(q, &m, 1);
		sent[q]++;
		n++;
		id = rx_v6(&out_q, &nh, &in_sport);
		if (nh != 58 || out_q != owner || id != V6_BE + 2)
			fail_msg("IPv6 flow %u: packet-too-big sent by worker %u to backend %u "
				 "(inner next header %u), expected worker %u, backend %u", f, out_q,
				 id, nh, owner, V6_BE + 2);
	}
	assert_true(n >= 8 && sent[0] > 0 && sent[1] > 0);
	check_handoff_counters(sent);
}

/* One request on DPDK's telemetry socket; the reply in buf. */
static void telemetry(const char *cmd, char *buf, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/var/run/dpdk/%s/dpdk_telemetry.v2",
		 dp_prefix);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("cannot connect to %s: %s", sa.sun_path, strerror(errno));
	n = read(fd, buf, len - 1); /* the greeting */
	assert_true(n > 0);
	assert_int_equal(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	n = read(fd, buf, len - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fd);
}

static void test_telemetry(void **state)
{
	char buf[16384], want[64];
	(void)state;

	expect_no_config_drops();
	first_snapshot();
	telemetry("/sluice/stats", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"rx_packets\""));
	assert_non_null(strstr(buf, "\"no_config\":32"));
	telemetry("/sluice/flows", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"capacity\""));
	if (!strstr(buf, "\"lcores\":{\"lcore1\":{\"lcore\":1,\"entries\":"))
		fail_msg("telemetry /sluice/flows has no worker: %s", buf);
	telemetry("/sluice/generation", buf, sizeof(buf));
	snprintf(want, sizeof(want), "\"generation\":%d", 1);
	if (!strstr(buf, want))
		fail_msg("telemetry: %s", buf);
	telemetry("/sluice/ports", buf, sizeof(buf));
	if (!strstr(buf, "\"name\":\"net_memif0\"") || !strstr(buf, "\"imissed\":") ||
	    !strstr(buf, "\"rx_nombuf\":") || !strstr(buf, "\"per_queue\":{\"q0\":{\"rx_packets\":"))
		fail_msg("telemetry /sluice/ports: %s", buf);
}

/* The port's own counters reach the status region: written by sluice-dp's
 * main lcore about once a second, the port named, every packet this test
 * sent counted by the device (memif counts what its queues received). */
static void test_port_counters(void **state)
{
	const uint64_t sent = BURST + FLOWS;
	uint64_t t0;
	(void)state;

	expect_no_config_drops();
	first_snapshot();
	assert_int_equal(__atomic_load_n(&st.hdr->n_ports, __ATOMIC_ACQUIRE), 1);
	assert_string_equal(st.ports[0].name, "net_memif0");
	assert_int_equal(st.ports[0].n_queues, 1);
	t0 = now_ms();
	while (__atomic_load_n(&st.ports[0].counters.ipackets, __ATOMIC_RELAXED) < sent ||
	       __atomic_load_n(&st.ports[0].counters.opackets, __ATOMIC_RELAXED) < FLOWS)
		if (now_ms() - t0 > 3000)
			fail_msg("port counters: ipackets %llu, opackets %llu, expected %llu, %u",
				 (unsigned long long)st.ports[0].counters.ipackets,
				 (unsigned long long)st.ports[0].counters.opackets,
				 (unsigned long long)sent, FLOWS);
	assert_int_equal(st.ports[0].counters.ipackets, sent);
	assert_int_equal(st.ports[0].queue[0].rx_packets, sent);
	assert_int_equal(st.ports[0].counters.imissed, 0);
	assert_int_equal(st.ports[0].counters.rx_nombuf, 0);
	assert_true(st.ports[0].link_up);
	assert_true(st.ports[0].updated_ns > 0);
}

static void test_sigterm_stops_cleanly(void **state)
{
	int status;
	(void)state;

	kill(dp_pid, SIGTERM);
	status = wait_exit(dp_pid, 10000);
	dp_pid = -1;
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dump_log();
		fail_msg("sluice-dp did not exit 0 after SIGTERM (status %d)", status);
	}
	assert_int_equal(__atomic_load_n(&st.lcores[0].state, __ATOMIC_ACQUIRE),
			 SLUICE_LCORE_OFFLINE);
}

/* Run sluice-dp to completion; its exit code, its output in out. */
static int run_dp(const char *vdev, const char *const *app, char *out, size_t len)
{
	pid_t pid = spawn_dp(vdev, app);
	int status = wait_exit(pid, 20000);
	FILE *f;
	size_t n = 0;

	if (status < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("sluice-dp did not exit");
	}
	f = fopen(log_path, "r");
	if (f) {
		n = fread(out, 1, len - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_startup_errors(void **state)
{
	char out[8192], err[256], vdev[128];
	const char *bad[] = {"--flows", "12x", NULL};
	const char *plain[] = {"--instance", instance, NULL};
	(void)state;

	snprintf(vdev, sizeof(vdev), "--vdev=net_null0");
	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(run_dp(vdev, bad, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--flows 12x"));
	bad[0] = "--idle-sleep-us"; /* at most 1000: a sleep is a wake-up delay */
	bad[1] = "5000";
	assert_int_equal(run_dp(vdev, bad, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--idle-sleep-us 5000"));
	assert_int_equal(run_dp(NULL, plain, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no ports"));
	/* A config region from another release. */
	cfg.hdr->abi_version = SLUICE_ABI_VERSION + 1;
	assert_int_equal(run_dp(vdev, plain, out, sizeof(out)), 1);
	if (!strstr(out, "ABI version"))
		fail_msg("no ABI message in: %s", out);
	cfg.hdr->abi_version = SLUICE_ABI_VERSION;
}

/* Two workers: a port that cannot give each a queue pair is refused with a
 * message naming it and what it supports, rather than run with fewer
 * workers; one that can (net_null has RSS and a RETA) gets RSS on sluice's
 * key and its RETA spread over both. */
static void test_queues_per_worker(void **state)
{
	char out[8192];
	const char *app[] = {"--no-shm", "--flows", "4096", NULL};
	(void)state;

	dp_lcores = TWO_WORKERS;
	assert_int_equal(run_dp("--vdev=net_af_packet0,iface=lo", app, out, sizeof(out)), 1);
	if (!strstr(out, "port 0 (net_af_packet): 2 workers need 2 RX and 2 TX queues, the port "
			 "supports 1 RX and 1 TX"))
		fail_msg("no refusal in: %s", out);
	dp_pid = spawn_dp("--vdev=net_null0", app);
	for (uint64_t t0 = now_ms(); !strstr(out, "forwarding with 2 worker lcores");) {
		FILE *f = fopen(log_path, "r");
		size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;

		if (f)
			fclose(f);
		out[n] = '\0';
		if (now_ms() - t0 > 10000)
			fail_msg("sluice-dp on net_null did not start: %s", out);
		usleep(20000);
	}
	assert_non_null(strstr(out, "port 0 (net_null): 2 queue pairs with RSS on sluice's key"));
	assert_non_null(strstr(out, "port 0: RETA of 128 entries spread over 2 queues"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_config_then_first_snapshot, dp_up, dp_down),
		cmocka_unit_test_setup_teardown(test_follows_table_changes, dp_up, dp_down),
		cmocka_unit_test_setup_teardown(test_concurrent_writer, dp_up, dp_down),
		cmocka_unit_test_setup_teardown(test_corrupt_snapshot_refused, dp_up, dp_down),
		cmocka_unit_test_setup_teardown(test_telemetry, dp_up, dp_down),
		cmocka_unit_test_setup_teardown(test_port_counters, dp_up, dp_down),
		cmocka_unit_test_setup_teardown(test_sigterm_stops_cleanly, dp_up, dp_down),
		/* Runs sluice-dp processes of its own, with the same file prefix. */
		cmocka_unit_test_setup_teardown(test_startup_errors, NULL, dp_down),
		cmocka_unit_test_setup_teardown(test_queues_per_worker, NULL, dp_down),
		cmocka_unit_test_setup_teardown(test_two_workers_sticky, dp_up_two, dp_down),
		cmocka_unit_test_setup_teardown(test_icmp_error_handed_to_flow_worker, dp_up_two,
						dp_down),
		cmocka_unit_test_setup_teardown(test_icmp6_too_big_handed_to_flow_worker,
						dp_up_two, dp_down),
	};

	return twoproc_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}