/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp: the DPDK data plane.
 *
 *   sluice-dp [EAL options] -- [options]        (see --help, docs/dataplane.md)
 *
 * main() only runs the init steps in order, launches the workers, does the
 * main lcore's housekeeping until a signal, and undoes the steps:
 *   EAL -> packet capture -> options -> workers -> ports -> exception-path
 *   TAPs -> status/config ->
 *   flow tables -> telemetry -> launch -> housekeeping loop -> stop ->
 *   cleanup.
 * Exit status: 0 after SIGINT/SIGTERM, 2 for bad options, 1 for any other
 * start-up or runtime failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "dp.h"

RTE_LOG_REGISTER(sluice_dp_logtype, sluice.dp, INFO);

#define EXIT_USAGE 2
#define HOUSEKEEPING_MS 100
#define HANDOFF_RING 1024 /* ICMP errors in flight to one worker */

static void on_signal(int sig)
{
	(void)sig;
	dp_force_quit = true;
}

/*
 * DPDK's packet-capture framework: dpdk-dumpcap, a secondary process of
 * the same --file-prefix, asks (over EAL's multi-process channel) for
 * copies of what a port receives and sends, which the port's callbacks
 * then put on its ring. Without shared EAL files (--in-memory,
 * --no-shconf, --no-huge, --huge-unlink) dpdk-dumpcap cannot attach, and
 * says so itself. A failure here only costs the capture: said once, and
 * forwarding goes on without it.
 */
static bool pdump_start(void)
{
	if (rte_pdump_init() < 0) {
		DP_LOG(WARNING, "packet capture (dpdk-dumpcap) unavailable: %s",
		       rte_strerror(rte_errno));
		return false;
	}
	return true;
}

static int workers_create(struct dp_app *app)
{
	unsigned int lcore;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct dp_worker *w;
		int socket = (int)rte_lcore_to_socket_id(lcore);

		if (app->n_workers >= SLUICE_MAX_LCORES) {
			DP_LOG(ERR, "more than %d worker lcores: give EAL fewer cores",
			       SLUICE_MAX_LCORES);
			return -EXIT_USAGE;
		}
		if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
			socket = 0;
		w = rte_zmalloc_socket("sluice_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
		if (!w)
			w = rte_zmalloc("sluice_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
		if (!w) {
			DP_LOG(ERR, "cannot allocate worker state");
			return -1;
		}
		w->app = app;
		w->lcore_id = lcore;
		w->socket = socket;
		w->index = app->n_workers;
		app->workers[app->n_workers++] = w;
	}
	if (app->n_workers == 0) {
		DP_LOG(ERR, "no worker lcore: give EAL a main lcore and at least one worker "
			    "(e.g. -l 0,1)");
		return -EXIT_USAGE;
	}
	return 0;
}

/* A ring per worker for the ICMP errors other workers hand it: multi-
 * producer, single consumer, on the worker's socket. */
static int handoff_rings_create(struct dp_app *app)
{
	if (app->n_workers < 2)
		return 0;
	for (unsigned int i = 0; i < app->n_workers; i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "sluice_handoff_%u", i);
		app->handoff[i] = rte_ring_create(name, HANDOFF_RING, app->workers[i]->socket,
						  RING_F_SC_DEQ);
		if (!app->handoff[i]) {
			DP_LOG(ERR, "cannot create the hand-off ring of worker %u: %s", i,
			       rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

static int flow_tables_create(struct dp_app *app)
{
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct dp_worker *w = app->workers[i];
		int rc = sluice_dp_lcore_init(&w->dp, &app->opt.dp, w->status, w->socket);

		w->dp.self = (uint16_t)w->index;

		if (rc < 0) {
			DP_LOG(ERR, "lcore %u: cannot allocate a flow table for %u flows: %s "
				    "(reserve more hugepages or lower --flows)",
			       w->lcore_id, app->opt.dp.flows, strerror(-rc));
			return rc;
		}
	}
	DP_LOG(INFO, "flow tables: %" PRIu64 " ways per lcore, sized for %u flows",
	       sluice_ft_capacity(app->workers[0]->dp.ft), app->opt.dp.flows);
	return 0;
}

/* The main lcore between launch and stop: attach to the config when it
 * appears, watch links and workers, log counters. Returns the exit code. */
static int housekeeping(struct dp_app *app)
{
	uint64_t ticks = 0, per_s = 1000 / HOUSEKEEPING_MS;
	int rc;

	while (!dp_force_quit) {
		rte_delay_us_sleep(HOUSEKEEPING_MS * 1000);
		ticks++;
		rc = dp_config_poll(app);
		if (rc < 0)
			return 1; /* e.g. sluiced from another release: said why */
		if (ticks % per_s == 0) {
			dp_ports_check_links(app, false);
			dp_status_watch(app);
			dp_status_ports(app);
		}
		if (app->opt.stats_interval_s && ticks % (per_s * app->opt.stats_interval_s) == 0)
			dp_status_log(app, false);
	}
	return 0;
}

static void cleanup(struct dp_app *app)
{
	/* What a worker handed and the other never took, before the pools
	 * its mbufs belong to go. */
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct rte_mbuf *m = NULL;

		while (app->handoff[i] && rte_ring_dequeue(app->handoff[i], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(app->handoff[i]);
		app->handoff[i] = NULL;
	}
	/* The TAPs' queues hold mbufs of the ports' pools. */
	dp_tap_fini(app);
	dp_ports_fini(app);
	for (unsigned int i = 0; i < app->n_workers; i++) {
		sluice_dp_lcore_fini(&app->workers[i]->dp);
	}
	dp_status_fini(app);
	for (unsigned int i = 0; i < app->n_workers; i++)
		rte_free(app->workers[i]);
	app->n_workers = 0;
}

int main(int argc, char **argv)
{
	static struct dp_app app;
	bool launched = true, pdump;
	int rc, status = 1;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "sluice-dp: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return rte_errno == EINVAL ? EXIT_USAGE : 1;
	}
	argc -= rc;
	argv += rc;
	pdump = pdump_start();

	rc = dp_options_parse(argc, argv, &app.opt);
	if (rc != 0) {
		if (pdump)
			rte_pdump_uninit();
		rte_eal_cleanup();
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	app.opt.dp.tsc_hz = rte_get_tsc_hz();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	rc = workers_create(&app);
	if (rc < 0) {
		status = rc == -EXIT_USAGE ? EXIT_USAGE : 1;
		goto out;
	}
	if (dp_ports_init(&app) < 0 || dp_tap_init(&app) < 0 || dp_status_init(&app) < 0 ||
	    flow_tables_create(&app) < 0 || handoff_rings_create(&app) < 0)
		goto out;
	dp_telemetry_init(&app);

	for (unsigned int i = 0; i < app.n_workers; i++) {
		rc = rte_eal_remote_launch(dp_worker_main, app.workers[i],
					   app.workers[i]->lcore_id);
		if (rc < 0) {
			DP_LOG(ERR, "cannot launch lcore %u: %s", app.workers[i]->lcore_id,
			       rte_strerror(-rc));
			launched = false;
			break;
		}
	}
	DP_LOG(INFO, "forwarding with %u worker lcore%s (pid %d)", app.n_workers,
	       app.n_workers == 1 ? "" : "s", (int)getpid());
	status = launched ? housekeeping(&app) : 1;
	dp_force_quit = true;
	rte_eal_mp_wait_lcore();
	dp_status_ports(&app);
	dp_status_log(&app, true);
	DP_LOG(INFO, "stopped");
out:
	dp_telemetry_fini();
	cleanup(&app);
	if (pdump)
		rte_pdump_uninit();
	rte_eal_cleanup();
	return status;
}
