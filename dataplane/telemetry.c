/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /sluice/... commands on DPDK's telemetry socket (dpdk-telemetry.py, or
 * any client of /var/run/dpdk/<prefix>/dpdk_telemetry.v2):
 *   /sluice/stats[,LCORE]   counters summed over workers, or of one lcore
 *   /sluice/flows           flow-table occupancy per worker
 *   /sluice/generation      published generation and each worker's
 *   /sluice/flow,P,C,CP,V,VP  the flow-table entry of one flow (explain)
 *   /sluice/ports           queues, RSS and RETA, and the NIC's counters
 * The callbacks run on the telemetry thread and read what the workers
 * flushed to their status slots (at most a millisecond old): aligned
 * 64-bit words with one writer, read whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <pthread.h>

#include <rte_errno.h>
#include <rte_telemetry.h>

#include "dp.h"

/* The application the commands read, NULL once it is being torn down: the
 * callbacks run on DPDK's telemetry thread, which outlives the workers'
 * flow tables and the shared-memory mappings they read (DPDK cannot
 * unregister a command). tel_lock keeps a teardown from running under a
 * callback. */
static const struct dp_app *tel_app;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_counters(struct rte_tel_data *d, const struct sluice_lcore_counters *c)
{
	struct rte_tel_data *drops = rte_tel_data_alloc();

#define SLUICE_X_ADD(name) rte_tel_data_add_dict_u64(d, #name, c->name);
	SLUICE_LCORE_COUNTERS(SLUICE_X_ADD)
#undef SLUICE_X_ADD
	/* Integer hundredths: this telemetry version has no floating point. */
	rte_tel_data_add_dict_u64(d, "busy_cycles_per_packet_x100",
				  c->busy_packets ? c->busy_cycles * 100 / c->busy_packets : 0);
	if (!drops)
		return;
	rte_tel_data_start_dict(drops);
	for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(drops, sluice_drop_name(r), c->drops[r]);
	rte_tel_data_add_dict_container(d, "drops", drops, 0);
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sluice_lcore_counters sum;
	int only = -1;

	(void)cmd;
	if (params && *params) {
		char *end;
		long v = strtol(params, &end, 10);

		if (*end || v < 0 || v >= RTE_MAX_LCORE)
			return -EINVAL;
		only = (int)v;
	}
	memset(&sum, 0, sizeof(sum));
	for (unsigned int i = 0; i < tel_app->n_workers; i++) {
		const struct dp_worker *w = tel_app->workers[i];
		const struct sluice_lcore_counters *c = &w->status->counters;

		if (only >= 0 && w->lcore_id != (unsigned int)only)
			continue;
#define SLUICE_X_SUM(name) sum.name += c->name;
		SLUICE_LCORE_COUNTERS(SLUICE_X_SUM)
#undef SLUICE_X_SUM
		for (unsigned int r = 0; r < SLUICE_DROP_MAX; r++)
			sum.drops[r] += c->drops[r];
		if (only >= 0)
			break;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "lcores", only >= 0 ? 1 : (int)tel_app->n_workers);
	add_counters(d, &sum);
	return 0;
}

static int cmd_flows(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t entries = 0, capacity = 0;
	struct rte_tel_data *per = rte_tel_data_alloc();
	char key[24];

	(void)cmd;
	(void)params;
	if (!per)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	/* A dict by "lcoreN", not an array: DPDK 22.11 refuses dicts in
	 * arrays (rte_tel_data_add_array_container takes arrays only), and
	 * the per-worker list used to vanish from the answer. */
	rte_tel_data_start_dict(per);
	for (unsigned int i = 0; i < tel_app->n_workers; i++) {
		const struct dp_worker *w = tel_app->workers[i];
		const struct sluice_lcore_counters *c = &w->status->counters;
		struct rte_tel_data *l = rte_tel_data_alloc();
		uint64_t cap = sluice_ft_capacity(w->dp.ft);

		entries += c->flow_live;
		capacity += cap;
		if (!l)
			continue;
		rte_tel_data_start_dict(l);
		rte_tel_data_add_dict_int(l, "lcore", (int)w->lcore_id);
		rte_tel_data_add_dict_u64(l, "entries", c->flow_live);
		rte_tel_data_add_dict_u64(l, "capacity", cap);
		rte_tel_data_add_dict_u64(l, "sized_for", w->dp.cfg->flows);
		rte_tel_data_add_dict_u64(l, "inserts", c->flow_inserts);
		rte_tel_data_add_dict_u64(l, "evictions", c->flow_evictions);
		rte_tel_data_add_dict_u64(l, "expired", c->flow_expired);
		rte_tel_data_add_dict_u64(l, "repicks", c->flow_repicks);
		rte_tel_data_add_dict_u64(l, "insert_capped", c->flow_insert_capped);
		snprintf(key, sizeof(key), "lcore%u", w->lcore_id);
		if (rte_tel_data_add_dict_container(per, key, l, 0) < 0)
			rte_tel_data_free(l);
	}
	rte_tel_data_add_dict_u64(d, "entries", entries);
	rte_tel_data_add_dict_u64(d, "capacity", capacity);
	rte_tel_data_add_dict_container(d, "lcores", per, 0);
	return 0;
}

static int cmd_generation(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sluice_config_region *cfg = __atomic_load_n(&tel_app->cfg, __ATOMIC_ACQUIRE);
	struct rte_tel_data *per = rte_tel_data_alloc();

	(void)cmd;
	(void)params;
	if (!per)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "instance", tel_app->opt.instance);
	rte_tel_data_add_dict_int(d, "attached", cfg != NULL);
	rte_tel_data_add_dict_u64(d, "generation",
				  cfg ? __atomic_load_n(&cfg->hdr->generation, __ATOMIC_ACQUIRE) : 0);
	rte_tel_data_start_array(per, RTE_TEL_U64_VAL);
	for (unsigned int i = 0; i < tel_app->n_workers; i++)
		rte_tel_data_add_array_u64(per, __atomic_load_n(
						&tel_app->workers[i]->status->seen_generation,
						__ATOMIC_ACQUIRE));
	rte_tel_data_add_dict_container(d, "lcore_generations", per, 0);
	return 0;
}

/* The flow key of "PROTO,CLIENT,CPORT,VIP,VPORT" (client -> VIP). */
static int parse_flow(const char *params, struct sluice_flow_key *key, struct sluice_addr *vip,
		      __be16 *vport, uint8_t *proto)
{
	char buf[160], *f[5], *save = NULL;
	unsigned char src[16], dst[16];
	unsigned long cport, dport;
	int family, n = 0;
	char *end;

	if (!params || strlen(params) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, params);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 5)
			return -EINVAL; /* a sixth field */
		f[n++] = t;
	}
	if (n != 5)
		return -EINVAL;
	if (!strcmp(f[0], "tcp"))
		*proto = SLUICE_IPPROTO_TCP;
	else if (!strcmp(f[0], "udp"))
		*proto = SLUICE_IPPROTO_UDP;
	else
		return -EINVAL;
	family = strchr(f[1], ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, f[1], src) != 1 || inet_pton(family, f[3], dst) != 1)
		return -EINVAL;
	cport = strtoul(f[2], &end, 10);
	if (*end || cport > 65535)
		return -EINVAL;
	dport = strtoul(f[4], &end, 10);
	if (*end || dport > 65535)
		return -EINVAL;
	*vport = htons((uint16_t)dport);
	memset(vip, 0, sizeof(*vip));
	if (family == AF_INET) {
		__be32 s, d;

		memcpy(&s, src, 4);
		memcpy(&d, dst, 4);
		sluice_flow_key_v4(key, s, d, *proto, htons((uint16_t)cport), *vport);
		vip->family = SLUICE_FAMILY_V4;
		memcpy(vip->bytes, dst, 4);
	} else {
		sluice_flow_key_v6(key, src, dst, *proto, htons((uint16_t)cport), *vport);
		vip->family = SLUICE_FAMILY_V6;
		memcpy(vip->bytes, dst, 16);
	}
	return 0;
}

/* /sluice/flow,PROTO,CLIENT,CPORT,VIP,VPORT: the flow-table entry of that
 * flow on the worker that holds it (sluiced's `explain` asks this). */
static int cmd_flow(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sluice_config_region *cfg = __atomic_load_n(&tel_app->cfg, __ATOMIC_ACQUIRE);
	const struct sluice_snapshot *snap;
	const struct sluice_vip *vip;
	struct sluice_flow_key key;
	struct sluice_addr vaddr;
	uint8_t proto;
	__be16 vport;
	__u64 gen, seed;

	(void)cmd;
	if (parse_flow(params, &key, &vaddr, &vport, &proto) < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	/* This thread acknowledges no generation, so sluiced may refill the
	 * slot it reads: take the VIP's seed, then check that the generation
	 * has not moved on by two (the slot's next reuse) meanwhile. */
	for (int tries = 0;; tries++) {
		__u64 again;

		snap = cfg ? sluice_config_current(cfg, &gen) : NULL;
		vip = snap ? sluice_vip_match(snap, &vaddr, vport, proto) : NULL;
		seed = vip ? vip->hash_seed : 0;
		if (!snap || (sluice_config_current(cfg, &again), again < gen + 2) || tries == 3)
			break;
	}
	if (!vip) {
		rte_tel_data_add_dict_int(d, "vip", 0);
		rte_tel_data_add_dict_int(d, "found", 0);
		return 0;
	}
	rte_tel_data_add_dict_int(d, "vip", 1);
	for (unsigned int i = 0; i < tel_app->n_workers; i++) {
		const struct dp_worker *w = tel_app->workers[i];
		const struct sluice_ft *ft = w->dp.ft;
		uint32_t expire, now = sluice_ft_now(ft, rte_rdtsc());
		uint32_t e = sluice_ft_peek(ft, sluice_ft_hash(&key, seed), &expire);

		if (e == SLUICE_FT_MISS)
			continue;
		rte_tel_data_add_dict_int(d, "found", 1);
		rte_tel_data_add_dict_int(d, "lcore", (int)w->lcore_id);
		rte_tel_data_add_dict_u64(d, "backend_id", sluice_ft_backend(ft, e));
		rte_tel_data_add_dict_u64(d, "vip_id", sluice_ft_vip(ft, e));
		rte_tel_data_add_dict_string(d, "class", sluice_flow_class_name(sluice_ft_cls(ft, e)));
		/* Ticks are ~1 ms (tick_shift); negative: expired, not yet
		 * reused or swept. */
		rte_tel_data_add_dict_int(d, "expires_in_ms",
					  (int)((int64_t)(int32_t)(expire - now) *
						(int64_t)(1ull << ft->tick_shift) * 1000 /
						(int64_t)w->dp.cfg->tsc_hz));
		return 0;
	}
	rte_tel_data_add_dict_int(d, "found", 0);
	return 0;
}

/* One port: how its queues are spread (RSS, RETA) and the device's own
 * counters, as the main lcore last read them (at most a second old). */
static struct rte_tel_data *port_data(const struct sluice_port_status *ps)
{
	struct rte_tel_data *o = rte_tel_data_alloc(), *qs = rte_tel_data_alloc();
	uint16_t port = ps->port_id;

	if (!o || !qs) {
		rte_tel_data_free(o);
		rte_tel_data_free(qs);
		return NULL;
	}
	rte_tel_data_start_dict(o);
	rte_tel_data_add_dict_int(o, "port", port);
	rte_tel_data_add_dict_string(o, "name", ps->name);
	rte_tel_data_add_dict_int(o, "link_up", (int)__atomic_load_n(&ps->link_up,
								       __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(o, "queues", ps->n_queues);
	rte_tel_data_add_dict_u64(o, "rss_hf", tel_app->rss_hf[port]);
	rte_tel_data_add_dict_string(o, "rss_key", !tel_app->rss_hf[port] ? "none"
						   : tel_app->rss_key_len[port] ? "sluice"
										: "device");
	rte_tel_data_add_dict_u64(o, "reta_size", tel_app->reta_size[port]);
#define SLUICE_X_ADD(name) \
	rte_tel_data_add_dict_u64(o, #name, __atomic_load_n(&ps->counters.name, __ATOMIC_RELAXED));
	SLUICE_PORT_COUNTERS(SLUICE_X_ADD)
#undef SLUICE_X_ADD
	/* Dicts by "qN" and "portN": 22.11 takes no dict into an array. */
	rte_tel_data_start_dict(qs);
	for (unsigned int q = 0; q < ps->n_queues && q < SLUICE_MAX_PORT_QUEUES; q++) {
		struct rte_tel_data *qd = rte_tel_data_alloc();
		char key[16];

		if (!qd)
			continue;
		rte_tel_data_start_dict(qd);
#define SLUICE_X_ADD(name) \
	rte_tel_data_add_dict_u64(qd, #name, __atomic_load_n(&ps->queue[q].name, __ATOMIC_RELAXED));
		SLUICE_QUEUE_COUNTERS(SLUICE_X_ADD)
#undef SLUICE_X_ADD
		snprintf(key, sizeof(key), "q%u", q);
		if (rte_tel_data_add_dict_container(qs, key, qd, 0) < 0)
			rte_tel_data_free(qd);
	}
	rte_tel_data_add_dict_container(o, "per_queue", qs, 0);
	return o;
}

static int cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned int p = 0; p < tel_app->n_ports; p++) {
		struct rte_tel_data *o = port_data(&tel_app->port_status[p]);
		char key[16];

		snprintf(key, sizeof(key), "port%u", tel_app->port_status[p].port_id);
		if (o && rte_tel_data_add_dict_container(d, key, o, 0) < 0)
			rte_tel_data_free(o);
	}
	return 0;
}

typedef int (*tel_cmd)(const char *cmd, const char *params, struct rte_tel_data *d);

static int guarded(tel_cmd fn, const char *cmd, const char *params, struct rte_tel_data *d)
{
	int rc = -ENODEV;

	pthread_mutex_lock(&tel_lock);
	if (tel_app)
		rc = fn(cmd, params, d);
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return guarded(cmd_stats, cmd, params, d);
}

static int tel_flows(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return guarded(cmd_flows, cmd, params, d);
}

static int tel_generation(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return guarded(cmd_generation, cmd, params, d);
}

static int tel_flow(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return guarded(cmd_flow, cmd, params, d);
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return guarded(cmd_ports, cmd, params, d);
}

void dp_telemetry_fini(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_app = NULL;
	pthread_mutex_unlock(&tel_lock);
}

int dp_telemetry_init(const struct dp_app *app)
{
	int rc;

	tel_app = app;
	rc = rte_telemetry_register_cmd("/sluice/stats", tel_stats,
					"sluice-dp counters summed over workers. Parameters: "
					"int lcore_id (optional)");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/sluice/flows", tel_flows,
						"Flow-table occupancy per worker lcore");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/sluice/generation", tel_generation,
						"Published configuration generation and each "
						"worker's");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/sluice/flow", tel_flow,
						"The flow-table entry of a flow. Parameters: "
						"tcp|udp,CLIENT,CPORT,VIP,VPORT");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/sluice/ports", tel_ports,
						"Per port: queues, RSS, RETA and the device's "
						"counters (imissed, rx_nombuf, per queue)");
	if (rc < 0)
		DP_LOG(WARNING, "telemetry commands not registered: %s", rte_strerror(-rc));
	return rc;
}
