/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory side of sluice-dp, on the main lcore: create the
 * status region (a slot per worker: heartbeat, acknowledged generation,
 * counters), attach to sluiced's config region as soon as it exists, watch
 * the workers' heartbeats, and log the counters.
 *
 * The workers write their own slots (worker.c): a heartbeat written by the
 * main lcore on their behalf would hide a stuck worker from sluiced.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_string_fns.h>

#include "dp.h"

#define STALL_NS (1000ull * 1000 * 1000)
#define U(x) ((unsigned long long)(x))

/* Name and id of every port in its slot, then n_ports: a reader that sees
 * a slot counted sees its name. */
static void ports_describe(struct dp_app *app)
{
	for (unsigned int p = 0; p < app->n_ports; p++) {
		struct sluice_port_status *ps = &app->port_status[p];
		char name[RTE_ETH_NAME_MAX_LEN];

		ps->port_id = app->ports[p];
		ps->n_queues = app->n_queues[app->ports[p]];
		if (rte_eth_dev_get_name_by_port(app->ports[p], name) < 0)
			snprintf(name, sizeof(name), "port%u", app->ports[p]);
		rte_strscpy(ps->name, name, sizeof(ps->name)); /* truncated if need be */
	}
	if (!app->opt.no_shm)
		__atomic_store_n(&app->status.hdr->n_ports, app->n_ports, __ATOMIC_RELEASE);
}

int dp_status_init(struct dp_app *app)
{
	char err[256];
	int rc;

	if (app->n_ports > SLUICE_MAX_PORTS) {
		DP_LOG(ERR, "%u ports: the status region has room for %d", app->n_ports,
		       SLUICE_MAX_PORTS);
		return -E2BIG;
	}
	if (app->opt.no_shm) {
		app->private_status = rte_zmalloc("sluice_status",
						  app->n_workers * sizeof(*app->private_status),
						  RTE_CACHE_LINE_SIZE);
		app->port_status = rte_zmalloc("sluice_port_status",
					       SLUICE_MAX_PORTS * sizeof(*app->port_status),
					       RTE_CACHE_LINE_SIZE);
		if (!app->private_status || !app->port_status) {
			DP_LOG(ERR, "cannot allocate status memory");
			return -ENOMEM;
		}
	} else {
		rc = sluice_status_create(app->opt.instance, app->n_workers, &app->status, err,
					  sizeof(err));
		if (rc < 0) {
			DP_LOG(ERR, "%s", err);
			return rc;
		}
		app->port_status = app->status.ports;
	}
	ports_describe(app);
	dp_status_ports(app);
	for (unsigned int i = 0; i < app->n_workers; i++) {
		struct dp_worker *w = app->workers[i];

		w->status = app->opt.no_shm ? &app->private_status[i] : &app->status.lcores[i];
		w->status->lcore_id = w->lcore_id;
	}
	return dp_config_poll(app);
}

int dp_config_poll(struct dp_app *app)
{
	static bool said_waiting;
	char err[256];
	int rc;

	if (app->opt.no_shm || app->cfg)
		return 0;
	rc = sluice_config_attach(app->opt.instance, &app->cfg_region, err, sizeof(err));
	if (rc == -ENOENT || rc == -EAGAIN) {
		if (!said_waiting)
			DP_LOG(INFO, "no configuration from sluiced yet (instance %s): dropping VIP "
				     "traffic until it publishes", app->opt.instance);
		said_waiting = true;
		return 0;
	}
	if (rc < 0) {
		DP_LOG(ERR, "%s", err);
		return rc;
	}
	app->cfg_attach_ns = sluice_now_ns();
	DP_LOG(INFO, "attached to sluiced's configuration (instance %s, generation %" PRIu64 ")",
	       app->opt.instance,
	       (uint64_t)__atomic_load_n(&app->cfg_region.hdr->generation, __ATOMIC_ACQUIRE));
	/* The workers may use the mapping from now on. */
	__atomic_store_n(&app->cfg, &app->cfg_region, __ATOMIC_RELEASE);
	return 0;
}

void dp_status_watch(const struct dp_app *app)
{
	static bool stalled[SLUICE_MAX_LCORES];
	uint64_t now = sluice_now_ns();

	for (unsigned int i = 0; i < app->n_workers; i++) {
		const struct sluice_lcore_status *st = app->workers[i]->status;
		uint64_t hb = __atomic_load_n(&st->heartbeat_ns, __ATOMIC_RELAXED);
		bool late = __atomic_load_n(&st->state, __ATOMIC_ACQUIRE) == SLUICE_LCORE_ONLINE &&
			    hb < now && now - hb > STALL_NS;

		if (late && !stalled[i])
			DP_LOG(WARNING, "worker lcore %u has not looped for %" PRIu64 " ms",
			       app->workers[i]->lcore_id, (now - hb) / 1000000);
		else if (!late && stalled[i])
			DP_LOG(INFO, "worker lcore %u is looping again", app->workers[i]->lcore_id);
		stalled[i] = late;
	}
}

/*
 * The devices' own counters into the port slots: drops that happen before
 * a worker reads a packet (imissed above all: the worker did not empty its
 * queue in time) show nowhere else. Here on the main lcore, not in the
 * workers: rte_eth_stats_get may be a firmware round trip. Each word has
 * this one writer and is stored whole, so a reader sees each counter as
 * of one reading or the next, never torn.
 */
void dp_status_ports(struct dp_app *app)
{
	for (unsigned int p = 0; p < app->n_ports; p++) {
		struct sluice_port_status *ps = &app->port_status[p];
		uint16_t port = app->ports[p], nq = RTE_MIN(ps->n_queues, SLUICE_MAX_PORT_QUEUES);
		struct rte_eth_stats s;
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(port, &link) == 0) {
			__atomic_store_n(&ps->link_up, link.link_status, __ATOMIC_RELAXED);
			__atomic_store_n(&ps->link_speed_mbps, link.link_speed, __ATOMIC_RELAXED);
		}
		if (rte_eth_stats_get(port, &s) < 0)
			continue;
#define SLUICE_X_STORE(name) __atomic_store_n(&ps->counters.name, s.name, __ATOMIC_RELAXED);
		SLUICE_PORT_COUNTERS(SLUICE_X_STORE)
#undef SLUICE_X_STORE
		for (uint16_t q = 0; q < nq && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; q++) {
			struct sluice_queue_counters *qc = &ps->queue[q];

			__atomic_store_n(&qc->rx_packets, s.q_ipackets[q], __ATOMIC_RELAXED);
			__atomic_store_n(&qc->rx_bytes, s.q_ibytes[q], __ATOMIC_RELAXED);
			__atomic_store_n(&qc->tx_packets, s.q_opackets[q], __ATOMIC_RELAXED);
			__atomic_store_n(&qc->tx_bytes, s.q_obytes[q], __ATOMIC_RELAXED);
			__atomic_store_n(&qc->errors, s.q_errors[q], __ATOMIC_RELAXED);
		}
		__atomic_store_n(&ps->updated_ns, sluice_now_ns(), __ATOMIC_RELEASE);
	}
}

static void log_counters(const char *who, const struct sluice_lcore_counters *c)
{
	char drops[512];
	size_t off = 0;

	drops[0] = '\0';
	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		if (c->drops[r] && off < sizeof(drops))
			off += (size_t)snprintf(drops + off, sizeof(drops) - off, " %s=%llu",
						sluice_drop_name(r), U(c->drops[r]));
	DP_LOG(INFO,
	       "%s: rx %llu pkts %llu bytes, tx %llu pkts %llu bytes, flows %llu (inserts %llu, "
	       "evictions %llu, expired %llu, repicks %llu, capped %llu), busy %.1f cycles/pkt, "
	       "drops:%s",
	       who, U(c->rx_packets), U(c->rx_bytes), U(c->tx_packets), U(c->tx_bytes),
	       U(c->flow_live), U(c->flow_inserts), U(c->flow_evictions), U(c->flow_expired),
	       U(c->flow_repicks), U(c->flow_insert_capped),
	       c->busy_packets ? (double)c->busy_cycles / (double)c->busy_packets : 0.0,
	       off ? drops : " none");
}

void dp_status_log(const struct dp_app *app, bool final)
{
	struct sluice_lcore_counters sum;

	memset(&sum, 0, sizeof(sum));
	for (unsigned int i = 0; i < app->n_workers; i++) {
		const struct sluice_lcore_counters *c = &app->workers[i]->status->counters;
		char who[32];

		if (final) {
			snprintf(who, sizeof(who), "lcore %u", app->workers[i]->lcore_id);
			log_counters(who, c);
		}
#define SLUICE_X_SUM(name) sum.name += c->name;
		SLUICE_LCORE_COUNTERS(SLUICE_X_SUM)
#undef SLUICE_X_SUM
		for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
			sum.drops[r] += c->drops[r];
	}
	if (!final || app->n_workers > 1)
		log_counters("all lcores", &sum);
	for (unsigned int p = 0; p < app->n_ports; p++) {
		const struct sluice_port_counters *c = &app->port_status[p].counters;

		DP_LOG(INFO, "port %u (%s): rx %llu tx %llu pkts, imissed %llu, rx_nombuf %llu, "
			     "ierrors %llu, oerrors %llu",
		       app->ports[p], app->port_status[p].name, U(c->ipackets), U(c->opackets),
		       U(c->imissed), U(c->rx_nombuf), U(c->ierrors), U(c->oerrors));
	}
}

void dp_status_fini(struct dp_app *app)
{
	if (app->cfg) {
		__atomic_store_n(&app->cfg, NULL, __ATOMIC_RELEASE);
		sluice_config_close(&app->cfg_region);
	}
	/* The status region stays: sluiced reads "offline" from it, and the
	 * next sluice-dp replaces it. */
	sluice_status_close(&app->status);
	rte_free(app->private_status);
	app->private_status = NULL;
	if (app->opt.no_shm)
		rte_free(app->port_status);
	app->port_status = NULL;
}
