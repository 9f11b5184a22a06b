/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness of the sluice-dp process tests (twoproc_harness.h): this
 * process's EAL with two memif server ports, sluice-dp started and stopped
 * per test, the configuration the tests publish and the oracle that
 * checks what comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "twoproc_harness.h"

const char *dp_path;
char instance[40], sock_name[64], sock2_name[64], dp_prefix[64], log_path[96];
/* The traffic side: memif port 0 of this process (one queue pair) for a
 * sluice-dp with one worker, port 1 (two) for one with two workers. */
uint16_t t_port, t_nq = 1;
const char *dp_sock = sock_name;
pid_t dp_pid = -1, writer_pid = -1;
const char *dp_lcores = ONE_WORKER;
struct sluice_config_region cfg;
struct sluice_status_region st;
struct sluice_snapshot *oracle_snap;
const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {203, 0, 113, 10};
const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x33, [15] = 7},
		     vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [15] = 10};
/* Generation g also has an IPv6 VIP (id 4), vip6 port 80, whose backends
 * are ids 100 + g .. 103 + g at fd00:50::ID (100 + g draining): set by
 * the tests that use it, cleared by dp_down. */
bool with_v6;
/* Set by the fragment tests: both VIPs on port 0 (fragments match only
 * port-0 VIPs), cleared by dp_down. */
bool port0_vips;
uint16_t last_backend[MANY_FLOWS + 4096];

uint64_t now_ms(void)
{
	return sluice_now_ns() / 1000000;
}

/* Generation g's configuration. */
void build(struct sluice_snapshot *s, uint64_t g)
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
int publish(uint64_t g)
{
	const struct sluice_status_region *s = st.hdr ? &st : NULL;

	if (sluice_config_wait_reclaim(&cfg, s, STALE_NS, 5000ull * 1000 * 1000) < 0)
		return -1;
	build(sluice_config_next_slot(&cfg), g);
	return sluice_config_publish(&cfg) == g ? 0 : -1;
}

/* The oldest generation a worker of sluice-dp has acknowledged. */
uint64_t lcore_seen(void)
{
	uint64_t min = UINT64_MAX;

	for (unsigned int i = 0; i < t_nq; i++)
		min = RTE_MIN(min, (uint64_t)__atomic_load_n(&st.lcores[i].seen_generation,
							     __ATOMIC_ACQUIRE));
	return min;
}

void wait_seen(uint64_t g)
{
	uint64_t t0 = now_ms();

	while (lcore_seen() < g)
		if (now_ms() - t0 > 5000)
			fail_msg("sluice-dp did not acknowledge generation %llu (at %llu)",
				 (unsigned long long)g, (unsigned long long)lcore_seen());
}

void dump_log(void)
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
pid_t spawn_dp(const char *vdev, const char *const *app)
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
int wait_exit(pid_t pid, uint64_t ms)
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

void stop(pid_t *pid)
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

void send_flow(unsigned int flow, uint8_t flags, uint16_t tag, struct rte_mbuf **m)
{
	struct frame f;

	fr_ipv4(&f, 0, 6, client4, vip4, (uint16_t)(1024 + flow), 80, flags, 0, 0x4000);
	fr_put16(f.b + 14 + 4, tag); /* IP ID: the generation before sending */
	fr_put16(f.b + 14 + 10, 0);
	fr_put16(f.b + 14 + 10, fr_csum(f.b + 14, 20, 0));
	*m = t_mbuf(&f);
}

void tx_all(uint16_t queue, struct rte_mbuf **m, uint16_t n)
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
uint16_t flow_queue(unsigned int flow)
{
	if (t_nq == 1)
		return 0;
	return sluice_dp_rss_queue(sluice_dp_rss_hash_v4(RTE_IPV4(client4[0], client4[1],
								  client4[2], client4[3]),
							 RTE_IPV4(vip4[0], vip4[1], vip4[2], vip4[3]),
							 (uint16_t)(1024 + flow), 80),
				   SLUICE_DP_RETA_SIZE, t_nq);
}

/* Receive n outputs (or fail after 2 s). */
void rx_n(struct out *o, unsigned int n)
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
void round_trip(unsigned int first, unsigned int n, uint64_t g, bool fresh)
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

uint64_t dp_counter_drops(unsigned int reason)
{
	return __atomic_load_n(&st.lcores[0].counters.drops[reason], __ATOMIC_RELAXED);
}

/* ---- fixtures ---- */

/*
 * Each test starts its own sluice-dp (dp_up) and leaves nothing behind
 * (dp_down): fresh regions, flow table and counters, so that any test passes
 * alone (`twoproc_test SLUICE-DP TEST-NAME`) as well as in the group. The
 * group keeps one EAL and the memif server port, which the next sluice-dp
 * connects to again.
 */
int twoproc_group_setup(void **state)
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

int twoproc_group_teardown(void **state)
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
int dp_up(void **state)
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
int dp_up_two(void **state)
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
int dp_down(void **state)
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

/* Until worker w's flushed counter at off (in struct sluice_lcore_counters)
 * is want, for at most 3 s: workers flush every millisecond. */
void wait_lcore_counter(unsigned int w, size_t off, uint64_t want, const char *what)
{
	const uint64_t *c = (const uint64_t *)((const char *)&st.lcores[w].counters + off);
	uint64_t t0 = now_ms();

	while (__atomic_load_n(c, __ATOMIC_RELAXED) != want)
		if (now_ms() - t0 > 3000)
			fail_msg("worker %u: %s %llu, expected %llu", w, what,
				 (unsigned long long)__atomic_load_n(c, __ATOMIC_RELAXED),
				 (unsigned long long)want);
}

static uint64_t lcore_counter(unsigned int w, size_t off)
{
	return __atomic_load_n((const uint64_t *)((const char *)&st.lcores[w].counters + off),
			       __ATOMIC_RELAXED);
}

/* sent[q]: errors sent to worker q's queue, each about the other's flow:
 * worker q handed sent[q] over and received the other's, and dropped none. */
void check_handoff_counters(const unsigned int sent[2])
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

/* The queue RSS gives the IPv6 flow of client port sport to vip6:80. */
uint16_t flow6_queue(uint16_t sport)
{
	return sluice_dp_rss_queue(sluice_dp_rss_hash_v6(client6, vip6, sport, 80),
				   SLUICE_DP_RETA_SIZE, t_nq);
}

/* The next output of sluice-dp on any queue, and the queue (or fail after
 * 2 s, saying what was expected). */
struct rte_mbuf *rx_one(uint16_t *queue, const char *what)
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
uint16_t rx_v6(uint16_t *queue, uint8_t *inner_nh, uint16_t *sport)
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
