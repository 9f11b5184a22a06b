/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_dp: a stand-in for sluice-dp's lcores in the integration tests.
 * Creates the instance's status region and, per lcore, every millisecond:
 * heartbeat, load the generation in force, acknowledge it, and "forward"
 * one packet of 100 bytes per VIP through the snapshot (sluice_snapshot_pick
 * on a running hash), counting it for the VIP and the backend picked, or as
 * a no_backend drop. SIGTERM marks the lcores offline and exits; SIGSTOP
 * freezes the heartbeats, as a hung data plane would.
 *
 * One port, "net_fake0", with a queue pair per lcore, as sluice-dp's main
 * lcore would fill it from the NIC: per loop each queue receives and sends
 * a packet of 100 bytes, and every 10th loop the NIC misses one (imissed);
 * rx_nombuf, ierrors and oerrors stay at 3, 2 and 1, so that a test can
 * tell the counters apart where they arrive.
 *
 *   fake_dp INSTANCE [LCORES]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "snapshot.h"
#include "sluice/shm.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void forward(struct sluice_lcore_status *l, const struct sluice_snapshot *s, __u64 *h)
{
	for (__u32 i = 0; i < s->n_vips; i++) {
		const struct sluice_vip *v = &s->vips[i];
		const struct sluice_backend *b;

		if (!v->in_use)
			continue;
		*h = *h * 6364136223846793005ull + 1442695040888963407ull;
		l->counters.rx_packets++;
		l->counters.rx_bytes += 100;
		l->vip[v->id].packets++;
		l->vip[v->id].bytes += 100;
		b = sluice_snapshot_pick(s, v, *h >> 11);
		if (!b) {
			l->counters.drops[SLUICE_DROP_NO_BACKEND]++;
			continue;
		}
		l->counters.tx_packets++;
		l->counters.tx_bytes += 120;
		l->backend[b->id].packets++;
		l->backend[b->id].bytes += 100;
	}
}

static void port_describe(struct sluice_status_region *st, unsigned int n_queues)
{
	struct sluice_port_status *p = &st->ports[0];

	snprintf(p->name, sizeof(p->name), "net_fake0");
	p->port_id = 0;
	p->n_queues = (__u16)n_queues;
	p->link_up = 1;
	p->link_speed_mbps = 10000;
	p->counters.rx_nombuf = 3;
	p->counters.ierrors = 2;
	p->counters.oerrors = 1;
	__atomic_store_n(&st->hdr->n_ports, 1, __ATOMIC_RELEASE);
}

static void port_tick(struct sluice_port_status *p, unsigned int n_queues, __u64 loop)
{
	for (unsigned int q = 0; q < n_queues && q < SLUICE_MAX_PORT_QUEUES; q++) {
		p->queue[q].rx_packets++;
		p->queue[q].rx_bytes += 100;
		p->queue[q].tx_packets++;
		p->queue[q].tx_bytes += 100;
		p->counters.ipackets++;
		p->counters.ibytes += 100;
		p->counters.opackets++;
		p->counters.obytes += 100;
	}
	if (loop % 10 == 0)
		p->counters.imissed++;
	__atomic_store_n(&p->updated_ns, sluice_now_ns(), __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
	struct sluice_config_region cfg = {0};
	struct sluice_status_region st;
	unsigned int n = argc > 2 ? (unsigned int)atoi(argv[2]) : 2;
	char err[256];
	__u64 h = 1, loops = 0;

	if (argc < 2 || sluice_status_create(argv[1], n, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "usage: fake_dp INSTANCE [LCORES] (%s)\n", argc < 2 ? "" : err);
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (unsigned int i = 0; i < n; i++) {
		st.lcores[i].lcore_id = i + 1;
		sluice_lcore_heartbeat(&st.lcores[i], sluice_now_ns());
		__atomic_store_n(&st.lcores[i].state, SLUICE_LCORE_ONLINE, __ATOMIC_RELEASE);
	}
	port_describe(&st, n);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if (!cfg.hdr && sluice_config_attach(argv[1], &cfg, NULL, 0) < 0)
			cfg.hdr = NULL;
		for (unsigned int i = 0; i < n; i++) {
			struct sluice_lcore_status *l = &st.lcores[i];
			const struct sluice_snapshot *s = NULL;
			__u64 gen = 0;

			sluice_lcore_heartbeat(l, sluice_now_ns());
			if (cfg.hdr)
				s = sluice_config_current(&cfg, &gen);
			sluice_lcore_ack(l, gen);
			if (s)
				forward(l, s, &h);
			else
				l->counters.drops[SLUICE_DROP_NO_CONFIG]++;
		}
		port_tick(&st.ports[0], n, ++loops);
		nanosleep(&ms, NULL);
	}
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&st.lcores[i].state, SLUICE_LCORE_OFFLINE, __ATOMIC_RELEASE);
	sluice_config_close(&cfg);
	sluice_status_close(&st);
	return 0;
}
