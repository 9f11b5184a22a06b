/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ctrlbench: publish latency of sluiced's publisher, measured on the
 * code the daemon runs (ctrl/sluiced/publisher.c). One VIP with N backends
 * at table size M; each round a backend goes down (or comes back), the
 * publisher recompiles that VIP, fills the inactive slot, publishes, and
 * the round ends when every live lcore has acknowledged the new generation.
 * The lcores are reader processes that do what sluice-dp's lcores do once
 * per burst: heartbeat, load the generation, acknowledge it, read the
 * snapshot.
 *
 *   sluice-ctrlbench [--backends N] [--m M] [--rounds R] [--readers K] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "publisher.h"

static char instance[40];
static struct sluice_status_region status;

static void cleanup(void)
{
	char name[64];

	sluice_shm_name(instance, "config", name, sizeof(name));
	shm_unlink(name);
	sluice_shm_name(instance, "status", name, sizeof(name));
	shm_unlink(name);
}

/* An lcore: per "burst" a heartbeat, the current generation, its
 * acknowledgement, and a read of the VIP's table through the snapshot. */
static void reader(struct sluice_lcore_status *me, volatile int *stop)
{
	struct sluice_config_region cfg;
	volatile __u64 sink = 0;

	if (sluice_config_attach(instance, &cfg, NULL, 0) < 0)
		_exit(1);
	while (!*stop) {
		const struct sluice_snapshot *snap;
		__u64 gen;

		sluice_lcore_heartbeat(me, sluice_now_ns());
		snap = sluice_config_current(&cfg, &gen);
		sluice_lcore_ack(me, gen);
		if (snap && snap->vips[0].table_size)
			for (unsigned int i = 0; i < 32; i++)
				sink += snap->tables[snap->vips[0].table_offset +
						     (gen * 7919u + i * 131u) % snap->vips[0].table_size];
	}
	__atomic_store_n(&me->state, SLUICE_LCORE_OFFLINE, __ATOMIC_RELEASE);
	(void)sink;
	_exit(0);
}

static const struct sluice_status_region *status_hook(void *ctx)
{
	(void)ctx;
	return &status;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const __u64 *sorted, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);

	return (double)sorted[i < n ? i : n - 1] / 1e3;
}

static void build_conf(struct conf *c, unsigned int n, __u32 m)
{
	struct conf_vip *v;

	memset(c, 0, sizeof(*c));
	c->vips = calloc(1, sizeof(*c->vips));
	c->n_vips = 1;
	v = &c->vips[0];
	v->key.addr.family = SLUICE_FAMILY_V4;
	v->key.addr.bytes[0] = 10;
	v->key.addr.bytes[3] = 10;
	v->key.port = 80;
	v->key.proto = 6;
	v->mode = SLUICE_FWD_L2DSR;
	v->algo = SLUICE_ALGO_MAGLEV;
	v->table_size = m;
	v->ring_k = SLUICE_RING_DEFAULT_K;
	v->backends = calloc(n, sizeof(*v->backends));
	v->n_backends = n;
	for (unsigned int i = 0; i < n; i++) {
		struct conf_backend *b = &v->backends[i];

		b->addr.family = SLUICE_FAMILY_V4;
		b->addr.bytes[0] = 10;
		b->addr.bytes[1] = 1;
		b->addr.bytes[2] = (__u8)(i >> 8);
		b->addr.bytes[3] = (__u8)i;
		b->weight = 100;
		b->state = SLUICE_BACKEND_ACTIVE;
		b->has_mac = true;
		conf_health_defaults(&b->health);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"backends", required_argument, NULL, 'n'}, {"m", required_argument, NULL, 'm'},
		{"rounds", required_argument, NULL, 'r'},   {"readers", required_argument, NULL, 'k'},
		{"json", no_argument, NULL, 'j'},	    {NULL, 0, NULL, 0},
	};
	unsigned int n = 100, rounds = 2000, readers = 1;
	__u32 m = SLUICE_TABLE_DEFAULT_M;
	struct publisher_hooks hooks = {.status = status_hook};
	struct sluice_config_region cfg;
	__u64 *lat, *comp, *fill, *rest, sum = 0;
	struct publisher *pub;
	volatile int *stop;
	struct model model;
	struct conf conf;
	pid_t pids[SLUICE_MAX_LCORES];
	bool json = false;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "n:m:r:k:j", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = (unsigned int)atoi(optarg); break;
		case 'm': m = (__u32)strtoul(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned int)atoi(optarg); break;
		case 'k': readers = (unsigned int)atoi(optarg); break;
		case 'j': json = true; break;
		default:
			fprintf(stderr, "usage: sluice-ctrlbench [--backends N] [--m M] "
					"[--rounds R] [--readers K] [--json]\n");
			return 2;
		}
	}
	if (n < 1 || n > SLUICE_MAX_BACKENDS_PER_VIP || !sluice_is_prime(m) || m < 16 * n ||
	    rounds < 2 || readers < 1 || readers > SLUICE_MAX_LCORES) {
		fprintf(stderr, "sluice-ctrlbench: bad parameters\n");
		return 2;
	}
	snprintf(instance, sizeof(instance), "ctrlbench-%d", (int)getpid());
	cleanup();
	if (sluice_config_create(instance, &cfg, NULL, 0) < 0 ||
	    sluice_status_create(instance, readers, &status, NULL, 0) < 0) {
		fprintf(stderr, "sluice-ctrlbench: cannot create shared memory\n");
		cleanup();
		return 1;
	}
	stop = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*stop = 0;
	for (unsigned int i = 0; i < readers; i++) {
		status.lcores[i].lcore_id = i + 1;
		sluice_lcore_heartbeat(&status.lcores[i], sluice_now_ns());
		__atomic_store_n(&status.lcores[i].state, SLUICE_LCORE_ONLINE, __ATOMIC_RELEASE);
		pids[i] = fork();
		if (pids[i] == 0)
			reader(&status.lcores[i], stop);
	}

	build_conf(&conf, n, m);
	model_init(&model);
	model_sync(&model, &conf, NULL);
	pub = publisher_create(NULL, &cfg, &model, &hooks);
	publisher_set_stale_ns(pub, 1000000000ull);
	publisher_vip_changed(pub, 0);
	publisher_flush(pub); /* the first table: not measured */
	while (!publisher_poll_ack(pub))
		;
	lat = calloc(rounds, sizeof(*lat));
	comp = calloc(rounds, sizeof(*comp));
	fill = calloc(rounds, sizeof(*fill));
	rest = calloc(rounds, sizeof(*rest));
	for (unsigned int r = 0; r < rounds; r++) {
		/* Backend k fails, then comes back; then the next one. */
		struct model_backend *b = model.vips[0]->backends[(r / 2) % n];
		struct publisher_stats st;

		b->sm.up = r % 2 == 1;
		publisher_vip_changed(pub, 0);
		if (publisher_flush(pub) != 1) {
			fprintf(stderr, "sluice-ctrlbench: round %u published nothing\n", r);
			rc = 1;
			break;
		}
		while (!publisher_poll_ack(pub))
			;
		publisher_get_stats(pub, &st);
		lat[r] = st.last_latency_ns;
		comp[r] = st.last_compile_ns;
		fill[r] = st.last_fill_ns;
		/* publish, and wait for every lcore to acknowledge */
		rest[r] = lat[r] - comp[r] - fill[r];
		sum += lat[r];
	}
	*stop = 1;
	for (unsigned int i = 0; i < readers; i++)
		waitpid(pids[i], NULL, 0);
	if (rc == 0) {
		qsort(lat, rounds, sizeof(*lat), cmp_u64);
		qsort(comp, rounds, sizeof(*comp), cmp_u64);
		qsort(fill, rounds, sizeof(*fill), cmp_u64);
		qsort(rest, rounds, sizeof(*rest), cmp_u64);
		if (json)
			printf("{\"backends\": %u, \"m\": %u, \"rounds\": %u, \"readers\": %u, "
			       "\"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
			       "\"max\": %.1f, \"mean\": %.1f}, \"compile_us_p50\": %.1f, "
			       "\"fill_us_p50\": %.1f, \"publish_ack_us_p50\": %.1f, "
			       "\"publish_ack_us_p99\": %.1f}\n",
			       n, m, rounds, readers, pct_us(lat, rounds, 50), pct_us(lat, rounds, 90),
			       pct_us(lat, rounds, 99), pct_us(lat, rounds, 100),
			       (double)sum / rounds / 1e3, pct_us(comp, rounds, 50),
			       pct_us(fill, rounds, 50), pct_us(rest, rounds, 50),
			       pct_us(rest, rounds, 99));
		else
			printf("publish latency, 1 VIP, %u backends, M=%u, %u rounds, %u reader "
			       "lcore(s)\n"
			       "  change -> all lcores on it: p50 %.1f us, p90 %.1f us, p99 %.1f us, "
			       "max %.1f us, mean %.1f us\n"
			       "  of which compile p50 %.1f us, fill p50 %.1f us, publish + "
			       "acknowledgements p50 %.1f us (p99 %.1f us)\n",
			       n, m, rounds, readers, pct_us(lat, rounds, 50), pct_us(lat, rounds, 90),
			       pct_us(lat, rounds, 99), pct_us(lat, rounds, 100),
			       (double)sum / rounds / 1e3, pct_us(comp, rounds, 50),
			       pct_us(fill, rounds, 50), pct_us(rest, rounds, 50),
			       pct_us(rest, rounds, 99));
	}
	publisher_destroy(pub);
	model_destroy(&model, NULL);
	conf_free(&conf);
	free(lat);
	free(comp);
	free(fill);
	free(rest);
	sluice_status_close(&status);
	sluice_config_close(&cfg);
	cleanup();
	return rc;
}
