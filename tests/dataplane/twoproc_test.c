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
 * Generation g's backend set is ids g..g+3 (id g draining), backend id i at
 * 10.50.(i >> 8).(i & 255), so an output's outer address says which
 * generations could have sent it there. Everything is named with the PID;
 * teardown kills only the processes this test started. Each test starts
 * its own sluice-dp and passes alone (meson runs each one separately too).
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
#include <rte_thash.h>

#include "dp_test.h"
#include "rss.h"

#define FLOWS 512
#define BURST 32
#define GENERATIONS 400
#define STALE_NS (1000ull * 1000 * 1000)

static const char *dp_path;
static char instance[40], sock_name[64], sock2_name[64], dp_prefix[64], log_path[96];
/* The traffic side: memif port 0 of this process (one queue pair) for a
 * sluice-dp with one worker, port 1 (two) for one with two workers. */
static uint16_t t_port, t_nq = 1;
static const char *dp_sock = sock_name;
static pid_t dp_pid = -1, writer_pid = -1;
/* EAL's lcores for sluice-dp: main and one worker, or more. The host may
 * have two CPUs: extra workers share one (--lcores 2@1). */
#define ONE_WORKER "0@0,1@1"
#define TWO_WORKERS "0@0,1@1,2@1"
static const char *dp_lcores = ONE_WORKER;
static struct sluice_config_region cfg;
static struct sluice_status_region st;
static struct sluice_snapshot *oracle_snap;
static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {203, 0, 113, 10};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x33, [15] = 7},
		     vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [15] = 10};
/* Generation g also has an IPv6 VIP (id 4), vip6 port 80, whose backends
 * are ids 100 + g .. 103 + g at fd00:50::ID (100 + g draining): set by
 * the tests that use it, cleared by dp_down. */
static bool with_v6;
/* Set by the fragment tests: both VIPs on port 0 (fragments match only
 * port-0 VIPs), cleared by dp_down. */
static bool port0_vips;
#define V6_BE 100
#define MANY_FLOWS 10000
static uint16_t last_backend[MANY_FLOWS + 4096];

static uint64_t now_ms(void)
{
	return sluice_now_ns() / 1000000;
}

/* Generation g's configuration. */
static void build(struct sluice_snapshot *s, uint64_t g)
{
	static struct t_vip v[2];
	struct sluice_global_cfg gl = t_global_init;

	memset(v, 0, sizeof(v));
	v[0].vip = (struct sluice_vip){.addr = t_v4(vip4[0], vip4[1], vip4[2], vip4[3]),
				       .port = htons(80), .proto = 6, .mode = SLUICE_FWD_IPIP,
				       .id = 3, .hash_seed = 77};
	v[1].vip = (struct sluice_vip){.addr = t_v6(vip6), .port = htons(80), .proto = 6,
				       .mode = SLUICE_FWD_IPIP, .id = 4, .hash_seed = 66};
	for (unsigned int j = 0; j < 4; j++) {
		uint16_t id = (uint16_t)(g + j), id6 = (uint16_t)(V6_BE + g + j);
		uint8_t a6[16] = {0xfd, 0, 0, 0x50, [14] = (uint8_t)(id6 >> 8), (uint8_t)id6};
		uint8_t state = j == 0 && g > 1 ? SLUICE_BACKEND_DRAINING : SLUICE_BACKEND_ACTIVE;

		v[0].be[j] = t_backend(id, t_v4(10, 50, (uint8_t)(id >> 8), (uint8_t)id), state);
		v[1].be[j] = t_backend(id6, t_v6(a6), state);
	}
	if (port0_vips)
		v[0].vip.port = v[1].vip.port = 0;
	v[0].n = v[1].n = 4;
	t_fill(s, v, with_v6 ? 2 : 1, &gl);
}

/* Publish generation g (the next one) with reclamation. */
static int publish(uint64_t g)
{
	const struct sluice_status_region *s = st.hdr ? &st : NULL;

	if (sluice_config_wait_reclaim(&cfg, s, STALE_NS, 5000ull * 1000 * 1000) < 0)
		return -1;
	build(sluice_config_next_slot(&cfg), g);
	return sluice_config_publish(&cfg) == g ? 0 : -1;
}

/* The oldest generation a worker of sluice-dp has acknowledged. */
static uint64_t lcore_seen(void)
{
	uint64_t min = UINT64_MAX;

	for (unsigned int i = 0; i < t_nq; i++)
		min = RTE_MIN(min, (uint64_t)__atomic_load_n(&st.lcores[i].seen_generation,
							     __ATOMIC_ACQUIRE));
	return min;
}

static void wait_seen(uint64_t g)
{
	uint64_t t0 = now_ms();

	while (lcore_seen() < g)
		if (now_ms() - t0 > 5000)
			fail_msg("sluice-dp did not acknowledge generation %llu (at %llu)",
				 (unsigned long long)g, (unsigned long long)lcore_seen());
}

static void dump_log(void)
{
	char line[512];
	FILE *f = fopen(log_path, "r");

	if (!f)
		return;
	fprintf(stderr, "---- sluice-dp output ----\n");
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

/* Start sluice-dp with extra EAL and app arguments; stdout and stderr go
 * to log_path. */
static pid_t spawn_dp(const char *vdev, const char *const *app)
{
	char fp[96];
	const char *argv[40];
	int n = 0;
	pid_t pid;

	snprintf(fp, sizeof(fp), "--file-prefix=%s", dp_prefix);
	argv[n++] = dp_path;
	argv[n++] = "--lcores";
	argv[n++] = dp_lcores;
	argv[n++] = "--no-huge";
	argv[n++] = "-m";
	argv[n++] = "256";
	argv[n++] = "--no-pci";
	argv[n++] = fp;
	argv[n++] = "--log-level=*:warning";
	argv[n++] = "--log-level=sluice.dp:info";
	if (vdev)
		argv[n++] = vdev;
	argv[n++] = "--";
	while (app && *app && n < 38)
		argv[n++] = *app++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(dp_path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait for pid's exit (at most ms); its status, or -1 on timeout. */
static int wait_exit(pid_t pid, uint64_t ms)
{
	uint64_t t0 = now_ms();
	int status;

	while (now_ms() - t0 < ms) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		usleep(10000);
	}
	return -1;
}

static void stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	if (wait_exit(*pid, 5000) < 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void unlink_regions(void)
{
	char name[64];

	if (sluice_shm_name(instance, "config", name, sizeof(name)) == 0)
		shm_unlink(name);
	if (sluice_shm_name(instance, "status", name, sizeof(name)) == 0)
		shm_unlink(name);
}

/* ---- traffic ---- */

static void send_flow(unsigned int flow, uint8_t flags, uint16_t tag, struct rte_mbuf **m)
{
	struct frame f;

	fr_ipv4(&f, 0, 6, client4, vip4, (uint16_t)(1024 + flow), 80, flags, 0, 0x4000);
	fr_put16(f.b + 14 + 4, tag); /* IP ID: the generation before sending */
	fr_put16(f.b + 14 + 10, 0);
	fr_put16(f.b + 14 + 10, fr_csum(f.b + 14, 20, 0));
	*m = t_mbuf(&f);
}

static void tx_all(uint16_t queue, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = 0;
	uint64_t t0 = now_ms();

	while (sent < n) {
		sent += rte_eth_tx_burst(t_port, queue, m + sent, n - sent);
		if (now_ms() - t0 > 2000)
			fail_msg("memif TX stuck");
	}
}

/* The queue a NIC set up as sluice-dp sets one up (its key, a RETA spread
 * round-robin over the workers) would deliver a flow to. memif has no RSS:
 * this process plays the NIC. */
static uint16_t flow_queue(unsigned int flow)
{
	if (t_nq == 1)
		return 0;
	return sluice_dp_rss_queue(sluice_dp_rss_hash_v4(RTE_IPV4(client4[0], client4[1],
								  client4[2], client4[3]),
							 RTE_IPV4(vip4[0], vip4[1], vip4[2], vip4[3]),
							 (uint16_t)(1024 + flow), 80),
				   SLUICE_DP_RETA_SIZE, t_nq);
}

struct out {
	unsigned int flow;
	uint16_t backend;
	uint16_t tag;
	uint16_t queue; /* it came back on: sluice-dp's worker N sends on queue N */
};

/* Receive n outputs (or fail after 2 s). */
static void rx_n(struct out *o, unsigned int n)
{
	unsigned int got = 0;
	uint64_t t0 = now_ms();

	for (uint16_t q = 0; got < n; q = (uint16_t)((q + 1) % t_nq)) {
		struct rte_mbuf *m[BURST];
		uint16_t k = rte_eth_rx_burst(t_port, q, m, BURST);

		for (uint16_t i = 0; i < k; i++) {
			const uint8_t *b = rte_pktmbuf_mtod(m[i], const uint8_t *);

			if (got >= n || rte_pktmbuf_data_len(m[i]) < 14 + 20 + 40 ||
			    fr_get16(b + 12) != 0x0800 || b[14 + 9] != 4 || b[30] != 10 ||
			    b[31] != 50)
				fail_msg("unexpected output from sluice-dp");
			o[got].backend = fr_get16(b + 32);
			o[got].flow = fr_get16(b + 34 + 20) - 1024u;
			o[got].tag = fr_get16(b + 34 + 4);
			o[got].queue = q;
			got++;
			rte_pktmbuf_free(m[i]);
		}
		if (now_ms() - t0 > 2000)
			fail_msg("%u of %u packets came back", got, n);
	}
}

/* Send flows [first, first + n) and check each against generation g's
 * table (new flows) or stickiness (flows seen before), and that it came
 * back from the worker whose queue it was sent to. Up to RT_CHUNK packets
 * in flight: with more workers than CPUs a worker runs only every few
 * milliseconds, and a burst at a time would take minutes. */
#define RT_CHUNK 1024
static void round_trip(unsigned int first, unsigned int n, uint64_t g, bool fresh)
{
	struct rte_mbuf *m[2][RT_CHUNK];
	struct out o[RT_CHUNK];

	build(oracle_snap, g);
	for (unsigned int at = first; at < first + n; at += RT_CHUNK) {
		unsigned int k = RTE_MIN((unsigned int)RT_CHUNK, first + n - at);
		uint16_t nq[2] = {0, 0};

		for (unsigned int i = 0; i < k; i++) {
			uint16_t q = flow_queue(at + i);

			send_flow(at + i, fresh ? SLUICE_TCP_SYN : SLUICE_TCP_ACK, (uint16_t)g,
				  &m[q][nq[q]++]);
		}
		for (uint16_t q = 0; q < t_nq; q++)
			tx_all(q, m[q], nq[q]);
		rx_n(o, k);
		for (unsigned int i = 0; i < k; i++) {
			const struct sluice_backend *want = NULL;
			uint16_t prev = last_backend[o[i].flow];
			uint16_t pos = prev && prev < SLUICE_MAX_BACKENDS
					       ? oracle_snap->backend_pos_by_id[prev]
					       : SLUICE_NO_POS;

			if (o[i].queue != flow_queue(o[i].flow))
				fail_msg("generation %llu, flow %u: sent to worker %u, answered by "
					 "worker %u",
					 (unsigned long long)g, o[i].flow, flow_queue(o[i].flow),
					 o[i].queue);
			if (!fresh && pos != SLUICE_NO_POS)
				want = &oracle_snap->backends[pos]; /* still in the set: stays */
			if (!want)
				want = sluice_snapshot_pick(
					oracle_snap, &oracle_snap->vips[3],
					t_hash4(6, client4, vip4, (uint16_t)(1024 + o[i].flow), 80, 77));
			if (o[i].backend != want->id)
				fail_msg("generation %llu, flow %u: sent to backend %u, expected %u "
					 "(before: %u)",
					 (unsigned long long)g, o[i].flow, o[i].backend, want->id, prev);
			last_backend[o[i].flow] = o[i].backend;
		}
	}
}

static uint64_t dp_counter_drops(unsigned int reason)
{
	return __atomic_load_n(&st.lcores[0].counters.drops[reason], __ATOMIC_RELAXED);
}

/* ---- tests ---- */

/*
 * Each test starts its own sluice-dp (dp_up) and leaves nothing behind
 * (dp_down): fresh regions, flow table and counters, so that any test passes
 * alone (`twoproc_test SLUICE-DP TEST-NAME`) as well as in the group. The
 * group keeps one EAL and the memif server port, which the next sluice-dp
 * connects to again.
 */
static int group_setup(void **state)
{
	char *eal[] = {"twoproc_test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		       NULL, "--log-level=*:warning", "-l", "0", "--no-telemetry", NULL, NULL, NULL};
	char prefix[64], vdev[128], vdev2[128];
	struct rte_eth_conf conf;
	(void)state;

	snprintf(instance, sizeof(instance), "dptest-%d", (int)getpid());
	snprintf(sock_name, sizeof(sock_name), "sluice-dptest-%d.sock", (int)getpid());
	snprintf(dp_prefix, sizeof(dp_prefix), "sluice-dptest-%d-dp", (int)getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/sluice-dptest-%d.log", (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=sluice-test-%d", (int)getpid());
	snprintf(sock2_name, sizeof(sock2_name), "sluice-dptest-%d-2.sock", (int)getpid());
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=server,socket=%s", sock_name);
	snprintf(vdev2, sizeof(vdev2), "--vdev=net_memif1,role=server,socket=%s", sock2_name);
	eal[6] = prefix;
	eal[11] = vdev;
	eal[12] = vdev2;
	oracle_snap = calloc(1, sizeof(*oracle_snap));
	if (!oracle_snap || rte_eal_init(13, eal) < 0)
		return -1;
	t_pool = rte_pktmbuf_pool_create("t_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 SOCKET_ID_ANY);
	memset(&conf, 0, sizeof(conf));
	if (!t_pool || rte_eth_dev_configure(0, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(0, 0, 1024, SOCKET_ID_ANY, NULL, t_pool) < 0 ||
	    rte_eth_tx_queue_setup(0, 0, 1024, SOCKET_ID_ANY, NULL) < 0 ||
	    rte_eth_dev_start(0) < 0)
		return -1;
	/* memif: the server needs at least as many queues as its client. */
	if (rte_eth_dev_configure(1, 2, 2, &conf) < 0)
		return -1;
	for (uint16_t q = 0; q < 2; q++)
		if (rte_eth_rx_queue_setup(1, q, 1024, SOCKET_ID_ANY, NULL, t_pool) < 0 ||
		    rte_eth_tx_queue_setup(1, q, 1024, SOCKET_ID_ANY, NULL) < 0)
			return -1;
	return rte_eth_dev_start(1) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	t_eal_fini();
	unlink(log_path);
	free(oracle_snap);
	return 0;
}

static bool link_up(void)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(t_port, &link) == 0 && link.link_status;
}

/* Whatever an earlier sluice-dp sent and nobody read. */
static void drain_rx(void)
{
	struct rte_mbuf *m[BURST];
	uint16_t k;

	for (uint16_t q = 0; q < t_nq; q++)
		while ((k = rte_eth_rx_burst(t_port, q, m, BURST)) > 0)
			rte_pktmbuf_free_bulk(m, k);
}

/* A new sluice-dp, before sluiced has published anything: wait until its
 * memif link is up and its lcore online. */
static int dp_up(void **state)
{
	char sockarg[128];
	const char *app[] = {"--instance", instance, "--flows", "65536", NULL, NULL, NULL};

	if (t_nq > 1) { /* this process spreads flows as sluice's RSS would */
		app[4] = "--assume-reta";
		app[5] = RTE_STR(SLUICE_DP_RETA_SIZE);
	}
	uint64_t t0;
	(void)state;

	memset(last_backend, 0, sizeof(last_backend));
	unlink_regions();
	snprintf(sockarg, sizeof(sockarg), "--vdev=net_memif0,role=client,socket=%s", dp_sock);
	dp_pid = spawn_dp(sockarg, app);
	t0 = now_ms();
	for (;;) {
		char err[256];

		if (!st.hdr && sluice_status_attach(instance, &st, err, sizeof(err)) < 0)
			memset(&st, 0, sizeof(st));
		if (link_up() && st.hdr && st.hdr->n_lcores == t_nq &&
		    __atomic_load_n(&st.lcores[0].state, __ATOMIC_ACQUIRE) == SLUICE_LCORE_ONLINE &&
		    __atomic_load_n(&st.lcores[t_nq - 1].state, __ATOMIC_ACQUIRE) ==
			    SLUICE_LCORE_ONLINE)
			break;
		if (now_ms() - t0 > 15000 || waitpid(dp_pid, NULL, WNOHANG) == dp_pid) {
			dump_log();
			return -1;
		}
		usleep(10000);
	}
	drain_rx();
	return 0;
}

/* The same with two workers, on this process's two-queue memif port. */
static int dp_up_two(void **state)
{
	dp_lcores = TWO_WORKERS;
	t_port = 1;
	t_nq = 2;
	dp_sock = sock2_name;
	return dp_up(state);
}

/* Stop what the test started, remove its regions and sluice-dp's runtime
 * directory, and wait for the memif link to go down so that the next
 * dp_up sees its own sluice-dp come up. */
static int dp_down(void **state)
{
	char dir[128];
	uint64_t t0;
	(void)state;

	stop(&writer_pid);
	stop(&dp_pid);
	sluice_status_close(&st);
	memset(&st, 0, sizeof(st));
	sluice_config_close(&cfg);
	memset(&cfg, 0, sizeof(cfg));
	unlink_regions();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", dp_prefix);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	t0 = now_ms();
	while (link_up() && now_ms() - t0 < 3000)
		usleep(10000);
	drain_rx();
	dp_lcores = ONE_WORKER;
	with_v6 = false;
	port0_vips = false;
	t_port = 0;
	t_nq = 1;
	dp_sock = sock_name;
	return 0;
}

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

/* Until worker w's flushed counter at off (in struct sluice_lcore_counters)
 * is want, for at most 3 s: workers flush every millisecond. */
static void wait_lcore_counter(unsigned int w, size_t off, uint64_t want, const char *what)
{
	const uint64_t *c = (const uint64_t *)((const char *)&st.lcores[w].counters + off);
	uint64_t t0 = now_ms();

	while (__atomic_load_n(c, __ATOMIC_RELAXED) != want)
		if (now_ms() - t0 > 3000)
			fail_msg("worker %u: %s %llu, expected %llu", w, what,
				 (unsigned long long)__atomic_load_n(c, __ATOMIC_RELAXED),
				 (unsigned long long)want);
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

static uint64_t lcore_counter(unsigned int w, size_t off)
{
	return __atomic_load_n((const uint64_t *)((const char *)&st.lcores[w].counters + off),
			       __ATOMIC_RELAXED);
}

/* sent[q]: errors sent to worker q's queue, each about the other's flow:
 * worker q handed sent[q] over and received the other's, and dropped none. */
static void check_handoff_counters(const unsigned int sent[2])
{
	for (unsigned int w = 0; w < 2; w++) {
		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, handoff_sent), sent[w],
				   "handoff_sent");
		wait_lcore_counter(w, offsetof(struct sluice_lcore_counters, handoff_received),
				   sent[1 - w], "handoff_received");
		assert_int_equal(lcore_counter(w, offsetof(struct sluice_lcore_counters,
							   handoff_dropped)), 0);
	}
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

/* The queue RSS gives the IPv6 flow of client port sport to vip6:80. */
static uint16_t flow6_queue(uint16_t sport)
{
	return sluice_dp_rss_queue(sluice_dp_rss_hash_v6(client6, vip6, sport, 80),
				   SLUICE_DP_RETA_SIZE, t_nq);
}

/* The next output of sluice-dp on any queue, and the queue (or fail after
 * 2 s, saying what was expected). */
static struct rte_mbuf *rx_one(uint16_t *queue, const char *what)
{
	uint64_t t0 = now_ms();
	struct rte_mbuf *m;

	for (uint16_t q = 0;; q = (uint16_t)((q + 1) % t_nq)) {
		if (rte_eth_rx_burst(t_port, q, &m, 1) == 1) {
			*queue = q;
			return m;
		}
		if (now_ms() - t0 > 2000)
			fail_msg("no %s output from sluice-dp", what);
	}
}

/* The next output of sluice-dp on any queue (or fail after 2 s): an
 * IPv6-in-IPv6 packet, whose backend id (the outer destination's last two
 * bytes) and queue are returned; inner_nh: its inner next header; sport:
 * the inner packet's TCP source port. */
static uint16_t rx_v6(uint16_t *queue, uint8_t *inner_nh, uint16_t *sport)
{
	struct rte_mbuf *m = rx_one(queue, "IPv6");
	const uint8_t *b;
	uint16_t id;

	b = rte_pktmbuf_mtod(m, const uint8_t *);
	if (rte_pktmbuf_data_len(m) < 14 + 40 + 40 || fr_get16(b + 12) != 0x86DD || b[14 + 6] != 41)
		fail_msg("unexpected output from sluice-dp (not IPv6-in-IPv6)");
	id = fr_get16(b + 14 + 24 + 14);
	*inner_nh = b[54 + 6];
	*sport = fr_get16(b + 54 + 40);
	rte_pktmbuf_free(m);
	return id;
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

/* The queue a NIC with the FRAG hash types gives a fragment of src -> dst:
 * Toeplitz over the addresses alone (8 or 32 bytes), whatever the ports. */
static uint16_t addr_queue(bool v6, const uint8_t *src, const uint8_t *dst)
{
	union rte_thash_tuple t;
	struct rte_ipv6_hdr ip;
	uint32_t h;

	memset(&t, 0, sizeof(t));
	if (v6) {
		memcpy(&ip.src_addr, src, 16);
		memcpy(&ip.dst_addr, dst, 16);
		rte_thash_load_v6_addrs(&ip, &t);
		h = rte_softrss((uint32_t *)&t, RTE_THASH_V6_L3_LEN, sluice_dp_rss_key);
	} else {
		t.v4.src_addr = RTE_IPV4(src[0], src[1], src[2], src[3]);
		t.v4.dst_addr = RTE_IPV4(dst[0], dst[1], dst[2], dst[3]);
		h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L3_LEN, sluice_dp_rss_key);
	}
	return sluice_dp_rss_queue(h, SLUICE_DP_RETA_SIZE, t_nq);
}

/* The next IPv4-in-IPv4 output on any queue: its backend id, the queue, the
 * last byte of the inner source address. */
static uint16_t rx_v4(uint16_t *queue, uint8_t *src_last)
{
	struct rte_mbuf *m = rx_one(queue, "IPv4");
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t id;

	if (rte_pktmbuf_data_len(m) < 14 + 20 + 20 || fr_get16(b + 12) != 0x0800 || b[14 + 9] != 4)
		fail_msg("unexpected output from sluice-dp (not IPv4-in-IPv4)");
	id = fr_get16(b + 32);
	*src_last = b[34 + 15];
	rte_pktmbuf_free(m);
	return id;
}

/*
 * Datagrams of clients whose addresses RSS gives to either worker, each
 * cut in three fragments (the first with the TCP ports, a middle and a last
 * one without). Those of every other datagram are sent on the queue that
 * is not their worker's, as a NIC that hashed the first on its ports or
 * lacks the FRAG types would; the rest on their own. Every fragment must
 * come out of the worker of the datagram's addresses, to the backend the
 * table gives the 3-tuple, and only the ones on the wrong queue are handed
 * over (counted on both workers).
 */
#define FRAG_DGRAMS 16
static void fragments_to_addr_worker(bool v6)
{
	unsigned int sent[2] = {0, 0}, on[2] = {0, 0};
	char err[256];

	with_v6 = v6;
	port0_vips = true;
	assert_int_equal(sluice_config_create(instance, &cfg, err, sizeof(err)), 0);
	assert_int_equal(publish(1), 0);
	wait_seen(1);
	build(oracle_snap, 1);
	for (unsigned int d = 0; d < FRAG_DGRAMS; d++) {
		uint8_t c4[4] = {198, 51, 100, (uint8_t)(20 + d)}, c6[16];
		const uint8_t *client = v6 ? c6 : c4, *vip = v6 ? vip6 : vip4;
		uint16_t owner, q, want, sport = (uint16_t)(2000 + d);
		const struct sluice_backend *be;

		memcpy(c6, client6, 16);
		c6[15] = (uint8_t)(20 + d);
		owner = addr_queue(v6, client, vip);
		q = d % 2 ? owner : (uint16_t)(1 - owner);
		be = sluice_snapshot_pick(oracle_snap, &oracle_snap->vips[v6 ? 4 : 3],
					  v6 ? t_hash6(6, c6, vip6, 0, 0, 66)
					     : t_hash4(6, c4, vip4, 0, 0, 77));
		want = be->id;
		on[owner]++;
		for (uint16_t off = 0; off <= 2 * 64; off += 64) {
			struct rte_mbuf *m;
			struct frame f;
			uint16_t out_q, id;
			uint8_t x;

			if (v6)
				fr_ipv6_frag(&f, 6, c6, vip6, sport, 80, 0x10000u + d, off,
					     off < 2 * 64, off ? 64 : 64 - 20);
			else
				fr_ipv4_frag(&f, 6, c4, vip4, sport, 80, (uint16_t)(100 + d), off,
					     off < 2 * 64, off ? 64 : 64 - 20);
			m = t_mbuf(&f);
			tx_all(q, &m, 1);
			if (q != owner)
				sent[q]++;
			id = v6 ? rx_v6(&out_q, &x, &sport) : rx_v4(&out_q, &x);
			sport = (uint16_t)(2000 + d);
			/* x: the inner next header (IPv6), source (IPv4) */
			if (out_q != owner || id != want || x != (v6 ? 44 : 20 + d))
				fail_msg("datagram %u, fragment at %u, sent on queue %u: out of "
					 "worker %u to backend %u, expected worker %u, backend %u",
					 d, off, q, out_q, id, owner, want);
		}
	}
	assert_true(on[0] > 0 && on[1] > 0 && sent[0] > 0 && sent[1] > 0);
	check_handoff_counters(sent);
}

static void test_fragments_handed_to_addr_worker(void **state)
{
	(void)state;
	fragments_to_addr_worker(false);
}

static void test_fragments6_handed_to_addr_worker(void **state)
{
	(void)state;
	fragments_to_addr_worker(true);
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
		cmocka_unit_test_setup_teardown(test_fragments_handed_to_addr_worker, dp_up_two,
						dp_down),
		cmocka_unit_test_setup_teardown(test_fragments6_handed_to_addr_worker, dp_up_two,
						dp_down),
	};

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s PATH-TO-SLUICE-DP [TEST-NAME]\n", argv[0]);
		return 2;
	}
	dp_path = argv[1];
	if (argc == 3)
		cmocka_set_test_filter(argv[2]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}