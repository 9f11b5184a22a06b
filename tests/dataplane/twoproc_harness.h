/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness of the tests that run sluice-dp as a real process
 * (twoproc_test.c, twoproc_frag_test.c). This process is the traffic side
 * (memif server ports in its own EAL) and the configuration writer
 * (libsluice); sluice-dp is the memif client.
 *
 * Generation g's backend set is ids g..g+3 (id g draining), backend id i at
 * 10.50.(i >> 8).(i & 255), so an output's outer address says which
 * generations could have sent it there. Everything is named with the PID;
 * teardown kills only the processes the test started. Each test starts
 * its own sluice-dp (dp_up, dp_up_two) and leaves nothing behind (dp_down).
 */
#ifndef SLUICE_TWOPROC_HARNESS_H
#define SLUICE_TWOPROC_HARNESS_H

#include <sys/types.h>

#include "dp_test.h"
#include "rss.h"

#define FLOWS 512
#define BURST 32
#define GENERATIONS 400
#define STALE_NS (1000ull * 1000 * 1000)
/* EAL's lcores for sluice-dp: main and one worker, or more. The host may
 * have two CPUs: extra workers share one (--lcores 2@1). */
#define ONE_WORKER "0@0,1@1"
#define TWO_WORKERS "0@0,1@1,2@1"
#define V6_BE 100
#define MANY_FLOWS 10000

extern const char *dp_path;
extern char instance[40], sock_name[64], sock2_name[64], dp_prefix[64], log_path[96];
/* The traffic side: memif port 0 of this process (one queue pair) for a
 * sluice-dp with one worker, port 1 (two) for one with two workers. */
extern uint16_t t_port, t_nq;
extern const char *dp_sock;
extern pid_t dp_pid, writer_pid;
extern const char *dp_lcores;
extern struct sluice_config_region cfg;
extern struct sluice_status_region st;
extern struct sluice_snapshot *oracle_snap; /* the tests' own build() of a generation */
extern const uint8_t client4[4], vip4[4], client6[16], vip6[16];
/* Generation g also has an IPv6 VIP (id 4), vip6 port 80, whose backends
 * are ids 100 + g .. 103 + g at fd00:50::ID (100 + g draining): set by
 * the tests that use it, cleared by dp_down. */
extern bool with_v6;
/* Both VIPs on port 0 (fragments match only port-0 VIPs); cleared by dp_down. */
extern bool port0_vips;
extern uint16_t last_backend[MANY_FLOWS + 4096]; /* per flow, set by round_trip */

struct out {
	unsigned int flow;
	uint16_t backend;
	uint16_t tag;
	uint16_t queue; /* it came back on: sluice-dp's worker N sends on queue N */
};

uint64_t now_ms(void);
/* Generation g's configuration; publish it as the next one (with reclamation). */
void build(struct sluice_snapshot *s, uint64_t g);
int publish(uint64_t g);
uint64_t lcore_seen(void);  /* the oldest generation a worker acknowledged */
void wait_seen(uint64_t g); /* until every worker acknowledged g */
void dump_log(void);
/* Start sluice-dp with extra EAL and app arguments, output to log_path;
 * wait for (at most ms) and stop a process. */
pid_t spawn_dp(const char *vdev, const char *const *app);
int wait_exit(pid_t pid, uint64_t ms);
void stop(pid_t *pid);

/* Traffic: a flow's packet (IP ID tag); send on a queue; the queue RSS
 * gives flow (IPv4) or client port sport (IPv6); receive outputs. */
void send_flow(unsigned int flow, uint8_t flags, uint16_t tag, struct rte_mbuf **m);
void tx_all(uint16_t queue, struct rte_mbuf **m, uint16_t n);
uint16_t flow_queue(unsigned int flow);
uint16_t flow6_queue(uint16_t sport);
void rx_n(struct out *o, unsigned int n);
struct rte_mbuf *rx_one(uint16_t *queue, const char *what);
uint16_t rx_v6(uint16_t *queue, uint8_t *inner_nh, uint16_t *sport);
/* Flows [first, first + n) sent and checked against generation g. */
void round_trip(unsigned int first, unsigned int n, uint64_t g, bool fresh);
uint64_t dp_counter_drops(unsigned int reason);
void wait_lcore_counter(unsigned int w, size_t off, uint64_t want, const char *what);
void check_handoff_counters(const unsigned int sent[2]);

/* Fixtures: the group's EAL and memif ports; a sluice-dp with one worker
 * or two; its end. */
int twoproc_group_setup(void **state);
int twoproc_group_teardown(void **state);
int dp_up(void **state);
int dp_up_two(void **state);
int dp_down(void **state);

/* The mbuf pool is dp_test.h's t_pool, one per translation unit: the
 * test's is the harness's, looked up by name. */
static inline int twoproc_setup(void **state)
{
	if (twoproc_group_setup(state) < 0)
		return -1;
	t_pool = rte_mempool_lookup("t_pool");
	return t_pool ? 0 : -1;
}

/* A test binary's main: PATH-TO-SLUICE-DP [TEST-NAME]. */
static inline int twoproc_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s PATH-TO-SLUICE-DP [TEST-NAME]\n", argv[0]);
		return 2;
	}
	dp_path = argv[1];
	if (argc == 3)
		cmocka_set_test_filter(argv[2]);
	return _cmocka_run_group_tests("twoproc", tests, n, twoproc_setup,
				       twoproc_group_teardown);
}

#endif /* SLUICE_TWOPROC_HARNESS_H */
