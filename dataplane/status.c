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

#include <rte_malloc.h>

#include "dp.h"

#define STALL_NS (1000ull * 1000 * 1000)
#define U(x) ((unsigned long long)(x))

int dp_status_init(struct dp_app *app)
{
	char err[256];
	int rc;

	if (app->opt.no_shm) {
		app->private_status = rte_zmalloc("sluice_status",
						  app->n_workers * sizeof(*app->private_status),
						  RTE_CACHE_LINE_SIZE);
		if (!app->private_status) {
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
	}
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
}
