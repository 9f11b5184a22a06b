/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-pktgen: a DPDK packet generator for benchmarking sluice.
 *
 * Sends IPv4/IPv6 TCP/UDP packets of a set size for a set of flows (uniform
 * or Zipf), to a VIP or (a share of them) to a non-VIP address, as SYNs of
 * new flows or as packets of established ones, at full speed or a set rate;
 * counts what comes back on the same port (a closed loop: the forwarder's
 * TX is measured too). Prints Mpps and Gbit/s every second and a summary;
 * --json prints one JSON document. L4 checksums are left 0: sluice does not
 * verify them, and filling them would make the generator the bottleneck
 * sooner.
 *
 *   sluice-pktgen [EAL options] -- [options]     (see --help)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "sluice/encap.h"
#include "sluice/packet.h"

#define POOL_SIZE 16383
#define RING_SIZE 1024
#define MAX_BURST 64
#define MAX_SECONDS 3600
#define ZIPF_SAMPLES (1u << 22)
#define LINK_WAIT_S 30
#define MAX_QUEUES 16

struct opts {
	uint32_t flows;
	int zipf;
	double zipf_s;
	double vip_ratio;
	int family;
	uint8_t proto;
	int syn;
	int random_sports;
	uint32_t size; /* frame size with FCS, like 64 */
	uint64_t rate;  /* packets per second, 0 = as fast as possible */
	uint32_t duration;
	uint16_t port;
	uint32_t burst;
	int json;
	uint32_t linger; /* seconds the link stays up after the summary */
	uint16_t queues; /* queue pairs; flow f on queue f mod queues */
	uint8_t vip[16], nonvip[16];
	uint16_t vip_port;
	uint8_t dst_mac[6], src_mac[6];
};

static volatile int force_quit;

static void on_signal(int sig)
{
	(void)sig;
	force_quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-pktgen [EAL options] -- [options]\n"
		"  --flows N          flows to draw from (default 1000)\n"
		"  --dist uniform|zipf[:S]  flow popularity (default uniform; zipf exponent S=1.0)\n"
		"  --vip-ratio F      share of packets sent to the VIP, rest to --nonvip (default 1)\n"
		"  --family 4|6       IP version (default 4)\n"
		"  --proto tcp|udp    (default tcp)\n"
		"  --syn              every packet a SYN of a new flow (default: established flows)\n"
		"  --sports fixed|random  a flow's source port, or a random one per packet\n"
		"  --size B           frame size including the 4-byte FCS, 64..1518 (default: the\n"
		"                     smallest that holds the headers, at least 64: IPv6/TCP 78)\n"
		"  --rate PPS         packets per second (default 0: as fast as possible)\n"
		"  --duration S       seconds (default 5)\n"
		"  --port N           DPDK port (default 0)\n"
		"  --burst N          packets per TX burst, 1..64 (default 32)\n"
		"  --vip ADDR         VIP address (default 10.99.0.1 / fd00:99::1)\n"
		"  --vip-port N       VIP port (default 80)\n"
		"  --nonvip ADDR      non-VIP destination (default 10.98.0.1 / fd00:98::1)\n"
		"  --dst-mac MAC      destination MAC (default 02:00:00:00:00:02)\n"
		"  --json             print one JSON document on stdout\n"
		"  --linger S         after the summary, keep the link up S more seconds (or\n"
		"                     until SIGINT/SIGTERM), discarding what arrives: a peer\n"
		"                     can read its counters before the link goes down\n"
		"  --queues N         N queue pairs, 1..16 (default 1): flow f is sent on queue\n"
		"                     f mod N, bursts round-robin, so a forwarder with a worker\n"
		"                     per queue sees each flow on one worker (no RSS on memif)\n");
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"flows", 1, 0, 'f'},	 {"dist", 1, 0, 'd'},	 {"vip-ratio", 1, 0, 'r'},
		{"family", 1, 0, '4'},	 {"proto", 1, 0, 'p'},	 {"syn", 0, 0, 's'},
		{"sports", 1, 0, 'S'},	 {"size", 1, 0, 'z'},	 {"rate", 1, 0, 'R'},
		{"duration", 1, 0, 't'}, {"port", 1, 0, 'P'},	 {"burst", 1, 0, 'b'},
		{"vip", 1, 0, 'v'},	 {"vip-port", 1, 0, 'V'}, {"nonvip", 1, 0, 'n'},
		{"dst-mac", 1, 0, 'm'},	 {"json", 0, 0, 'j'},	 {"help", 0, 0, 'h'},
		{"linger", 1, 0, 'L'},	 {"queues", 1, 0, 'Q'},
		{0, 0, 0, 0},
	};
	const char *vip = NULL, *nonvip = NULL;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->flows = 1000;
	o->zipf_s = 1.0;
	o->vip_ratio = 1.0;
	o->family = 4;
	o->proto = SLUICE_IPPROTO_TCP;
	o->size = 0; /* the smallest frame of at least 64 bytes for family/proto */
	o->duration = 5;
	o->burst = 32;
	o->queues = 1;
	o->vip_port = 80;
	parse_mac("02:00:00:00:00:02", o->dst_mac);
	parse_mac("02:00:00:00:00:01", o->src_mac);
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_u64(optarg, 1, 1u << 30, &v) < 0)
				goto bad;
			o->flows = (uint32_t)v;
			break;
		case 'd':
			if (strcmp(optarg, "uniform") == 0)
				o->zipf = 0;
			else if (strncmp(optarg, "zipf", 4) == 0) {
				o->zipf = 1;
				if (optarg[4] == ':' && (o->zipf_s = atof(optarg + 5)) <= 0)
					goto bad;
				else if (optarg[4] && optarg[4] != ':')
					goto bad;
			} else
				goto bad;
			break;
		case 'r':
			o->vip_ratio = atof(optarg);
			if (o->vip_ratio < 0 || o->vip_ratio > 1)
				goto bad;
			break;
		case '4':
			if (strcmp(optarg, "4") && strcmp(optarg, "6"))
				goto bad;
			o->family = atoi(optarg);
			break;
		case 'p':
			if (strcmp(optarg, "tcp") == 0)
				o->proto = SLUICE_IPPROTO_TCP;
			else if (strcmp(optarg, "udp") == 0)
				o->proto = SLUICE_IPPROTO_UDP;
			else
				goto bad;
			break;
		case 's':
			o->syn = 1;
			break;
		case 'S':
			if (strcmp(optarg, "fixed") && strcmp(optarg, "random"))
				goto bad;
			o->random_sports = strcmp(optarg, "random") == 0;
			break;
		case 'z':
			if (parse_u64(optarg, 64, 1518, &v) < 0)
				goto bad;
			o->size = (uint32_t)v;
			break;
		case 'R':
			if (parse_u64(optarg, 0, 1000000000ull, &o->rate) < 0)
				goto bad;
			break;
		case 't':
			if (parse_u64(optarg, 1, MAX_SECONDS, &v) < 0)
				goto bad;
			o->duration = (uint32_t)v;
			break;
		case 'P':
			if (parse_u64(optarg, 0, RTE_MAX_ETHPORTS - 1, &v) < 0)
				goto bad;
			o->port = (uint16_t)v;
			break;
		case 'b':
			if (parse_u64(optarg, 1, MAX_BURST, &v) < 0)
				goto bad;
			o->burst = (uint32_t)v;
			break;
		case 'Q':
			if (parse_u64(optarg, 1, MAX_QUEUES, &v) < 0)
				goto bad;
			o->queues = (uint16_t)v;
			break;
		case 'v':
			vip = optarg;
			break;
		case 'V':
			if (parse_u64(optarg, 1, 65535, &v) < 0)
				goto bad;
			o->vip_port = (uint16_t)v;
			break;
		case 'n':
			nonvip = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, o->dst_mac) < 0)
				goto bad;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'L':
			if (parse_u64(optarg, 0, MAX_SECONDS, &v) < 0)
				goto bad;
			o->linger = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sluice-pktgen: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!vip)
		vip = o->family == 4 ? "10.99.0.1" : "fd00:99::1";
	if (!nonvip)
		nonvip = o->family == 4 ? "10.98.0.1" : "fd00:98::1";
	if (inet_pton(o->family == 4 ? AF_INET : AF_INET6, vip, o->vip) != 1 ||
	    inet_pton(o->family == 4 ? AF_INET : AF_INET6, nonvip, o->nonvip) != 1) {
		fprintf(stderr, "sluice-pktgen: --vip/--nonvip must be IPv%d addresses\n",
			o->family);
		return -1;
	}
	{
		uint32_t least = 14 + (o->family == 6 ? 40u : 20u) +
				 (o->proto == SLUICE_IPPROTO_TCP ? 20u : 8u) + 4;

		if (o->size == 0)
			o->size = least < 64 ? 64 : least;
		if (o->size < least)
			goto small;
	}
	if (o->flows < o->queues) {
		fprintf(stderr, "sluice-pktgen: --flows %u is fewer than --queues %u\n", o->flows,
			o->queues);
		return -1;
	}
	return 0;
small:
	{
		fprintf(stderr, "sluice-pktgen: --size %u is too small for IPv%d/%s\n", o->size,
			o->family, o->proto == SLUICE_IPPROTO_TCP ? "TCP" : "UDP");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "sluice-pktgen: bad value \"%s\"\n", optarg ? optarg : "");
	usage(stderr);
	return -1;
}

/* ---- what to send ---- */

struct gen {
	struct opts o;
	uint8_t tmpl[1518];	/* the frame, filled in per packet */
	uint16_t len;		/* bytes in the mbuf (size - FCS) */
	uint16_t l3;		/* IP header offset */
	uint32_t *zipf;		/* pre-drawn flow indexes (Zipf) */
	uint32_t zipf_next;
	uint64_t vip_threshold; /* rte_rand() below it -> VIP */
	uint64_t seq;		/* new-flow counter (--syn) */
	uint16_t q;		/* the queue of this burst: its flows are q mod queues */
};

/* Flow i: source 198.18.0.0/15 (benchmark range) or 2001:db8:ffff::/64,
 * source port from 1024 up. */
static void flow_source(uint64_t i, int family, uint8_t *addr, uint16_t *port)
{
	uint64_t host = i / 64000;

	*port = (uint16_t)(1024 + i % 64000);
	if (family == 4) {
		uint32_t a = 0xC6120000u + (uint32_t)(host & 0x1FFFF); /* 198.18.0.0/15 */

		a = htonl(a);
		memcpy(addr, &a, 4);
	} else {
		static const uint8_t base[8] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0};

		memcpy(addr, base, 8);
		for (int b = 0; b < 8; b++)
			addr[15 - b] = (uint8_t)(host >> (8 * b));
	}
}

static void build_template(struct gen *g)
{
	const struct opts *o = &g->o;
	uint8_t *f = g->tmpl, *l4;
	uint16_t l4len = o->proto == SLUICE_IPPROTO_TCP ? 20 : 8;

	g->len = (uint16_t)(o->size - 4);
	g->l3 = 14;
	memset(f, 0, sizeof(g->tmpl));
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, o->src_mac, 6);
	if (o->family == 4) {
		struct sluice_ipv4hdr *ip = (struct sluice_ipv4hdr *)(f + 14);

		f[12] = 0x08;
		sluice_write_ipv4(ip, 0, (uint16_t)(g->len - 14), SLUICE_IP_DF, o->proto, o->vip,
				  o->vip);
		l4 = f + 14 + 20;
	} else {
		struct sluice_ipv6hdr *ip = (struct sluice_ipv6hdr *)(f + 14);

		f[12] = 0x86;
		f[13] = 0xdd;
		sluice_write_ipv6(ip, 0, 0, (uint16_t)(g->len - 14 - 40), o->proto, o->vip, o->vip);
		l4 = f + 14 + 40;
	}
	l4[2] = (uint8_t)(o->vip_port >> 8);
	l4[3] = (uint8_t)o->vip_port;
	if (o->proto == SLUICE_IPPROTO_TCP) {
		l4[12] = 0x50;
		l4[13] = o->syn ? SLUICE_TCP_SYN : SLUICE_TCP_ACK;
	} else {
		uint16_t ulen = (uint16_t)(g->len - (l4 - f));

		l4[4] = (uint8_t)(ulen >> 8);
		l4[5] = (uint8_t)ulen;
	}
	(void)l4len;
}

/* Zipf(s) over the flows: draw indexes up front (a CDF search per packet
 * would cost more than the rest of the generator). */
static int build_zipf(struct gen *g)
{
	uint32_t n = g->o.flows;
	double *cdf = malloc(n * sizeof(*cdf)), sum = 0;

	g->zipf = malloc(ZIPF_SAMPLES * sizeof(*g->zipf));
	if (!cdf || !g->zipf) {
		free(cdf);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		sum += 1.0 / pow((double)i + 1, g->o.zipf_s);
		cdf[i] = sum;
	}
	for (uint32_t k = 0; k < ZIPF_SAMPLES; k++) {
		double u = (double)rte_rand() / 18446744073709551616.0 * sum;
		uint32_t lo = 0, hi = n - 1;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Spread the popular flows over the index space. */
		g->zipf[k] = (uint32_t)(((uint64_t)lo * 2654435761u) % n);
	}
	free(cdf);
	return 0;
}

static uint64_t draw_flow(struct gen *g)
{
	if (g->o.syn)
		return g->seq++;
	if (g->zipf) {
		uint32_t i = g->zipf[g->zipf_next];

		g->zipf_next = (g->zipf_next + 1) & (ZIPF_SAMPLES - 1);
		return i;
	}
	return rte_rand_max(g->o.flows);
}

/* The next flow, one of this burst's queue's (f mod queues == q): the
 * drawn one moved within its group of `queues` neighbours. */
static uint64_t next_flow(struct gen *g)
{
	uint64_t n = g->o.queues, f = draw_flow(g);

	if (n == 1)
		return f;
	if (g->o.syn)
		return f * n + g->q;
	f = f - f % n + g->q;
	return f < g->o.flows ? f : f - n;
}

/* Write packet number k into buf. */
static void fill_packet(struct gen *g, uint8_t *buf)
{
	const struct opts *o = &g->o;
	uint8_t src[16];
	uint16_t sport;
	uint8_t *l4;

	rte_memcpy(buf, g->tmpl, g->len);
	flow_source(next_flow(g), o->family, src, &sport);
	if (o->random_sports)
		sport = (uint16_t)(1024 + rte_rand_max(64512));
	if (o->family == 4) {
		struct sluice_ipv4hdr *ip = (struct sluice_ipv4hdr *)(buf + 14);

		memcpy(ip->saddr, src, 4);
		if (o->vip_ratio < 1.0 && rte_rand() >= g->vip_threshold)
			memcpy(ip->daddr, o->nonvip, 4);
		ip->check = 0;
		ip->check = sluice_csum_fold(sluice_csum_add(ip, 20, 0));
		l4 = buf + 34;
	} else {
		struct sluice_ipv6hdr *ip = (struct sluice_ipv6hdr *)(buf + 14);

		memcpy(ip->saddr, src, 16);
		if (o->vip_ratio < 1.0 && rte_rand() >= g->vip_threshold)
			memcpy(ip->daddr, o->nonvip, 16);
		l4 = buf + 54;
	}
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
}

/* ---- the port ---- */

/* Counting starts when the link is up: a memif server waits for its
 * client here (up to LINK_WAIT_S), and a run without a peer fails instead
 * of measuring nothing. */
static int wait_link(uint16_t port)
{
	for (int i = 0; i < LINK_WAIT_S * 100 && !force_quit; i++) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status)
			return 0;
		rte_delay_ms(10);
	}
	fprintf(stderr, "sluice-pktgen: port %u: link still down after %d s (no peer?)\n", port,
		LINK_WAIT_S);
	return -ENOTCONN;
}

static int port_init(uint16_t port, uint16_t queues, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	uint16_t nrx = RING_SIZE, ntx = RING_SIZE;
	int rc;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "sluice-pktgen: no port %u (give EAL a --vdev)\n", port);
		return -ENODEV;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, queues, queues, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	for (uint16_t q = 0; rc == 0 && q < queues; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nrx, rte_eth_dev_socket_id(port), NULL, pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, ntx, rte_eth_dev_socket_id(port), NULL);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc < 0) {
		fprintf(stderr, "sluice-pktgen: port %u: %s\n", port, rte_strerror(-rc));
		return rc;
	}
	return wait_link(port);
}

/* ---- the loop ---- */

struct second {
	uint64_t tx, rx, tx_bytes, rx_bytes;
};

static double gbps(uint64_t packets, uint64_t bytes, double secs)
{
	/* On the wire: frame + FCS + preamble and inter-frame gap. */
	return (double)(bytes + packets * (4 + 20)) * 8 / secs / 1e9;
}

int main(int argc, char **argv)
{
	struct rte_mbuf *tx[MAX_BURST], *rx[MAX_BURST];
	struct second *per = calloc(MAX_SECONDS + 1, sizeof(*per));
	uint64_t hz, start, next_tick, end, tx_total = 0, rx_total = 0, txb = 0, rxb = 0;
	uint64_t tokens = 0, last_refill, tx_failed = 0;
	struct rte_mempool *pool;
	struct gen *g = calloc(1, sizeof(*g));
	unsigned int sec = 0;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "sluice-pktgen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (!per || !g || parse_opts(argc, argv, &g->o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	g->vip_threshold = (uint64_t)(g->o.vip_ratio * 18446744073709551615.0);
	build_template(g);
	if (g->o.zipf && build_zipf(g) < 0) {
		fprintf(stderr, "sluice-pktgen: out of memory for the Zipf draw\n");
		return 1;
	}
	/* Room for every queue's RX ring besides what is in flight. */
	pool = rte_pktmbuf_pool_create("pktgen", POOL_SIZE + (g->o.queues - 1) * 2u * RING_SIZE, 256,
				       0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!pool) {
		fprintf(stderr, "sluice-pktgen: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (port_init(g->o.port, g->o.queues, pool) < 0)
		return 1;

	hz = rte_get_tsc_hz();
	start = rte_rdtsc();
	last_refill = start;
	next_tick = start + hz;
	end = start + hz * g->o.duration;
	while (!force_quit) {
		uint64_t now = rte_rdtsc();
		uint16_t n = (uint16_t)g->o.burst, sent, got;

		if (now >= next_tick) {
			struct second *s = &per[sec];

			if (!g->o.json)
				fprintf(stderr, "%3us  tx %7.3f Mpps %6.2f Gbit/s   rx %7.3f Mpps %6.2f Gbit/s\n",
					sec + 1, s->tx / 1e6, gbps(s->tx, s->tx_bytes, 1),
					s->rx / 1e6, gbps(s->rx, s->rx_bytes, 1));
			sec++;
			next_tick += hz;
			if (now >= end)
				break;
		}
		if (g->o.rate) { /* token bucket, refilled from the TSC */
			uint64_t add = (now - last_refill) * g->o.rate / hz;

			/* Advance the refill time by what was credited only,
			 * so fractions of a packet are not lost. */
			if (add) {
				tokens += add;
				last_refill += add * hz / g->o.rate;
			}
			if (tokens > g->o.burst * 4ull)
				tokens = g->o.burst * 4ull;
			n = tokens < n ? (uint16_t)tokens : n;
		}
		if (n && rte_pktmbuf_alloc_bulk(pool, tx, n) == 0) {
			for (uint16_t i = 0; i < n; i++) {
				tx[i]->data_len = g->len;
				tx[i]->pkt_len = g->len;
				fill_packet(g, rte_pktmbuf_mtod(tx[i], uint8_t *));
			}
			sent = rte_eth_tx_burst(g->o.port, g->q, tx, n);
			if (sent < n) {
				rte_pktmbuf_free_bulk(tx + sent, n - sent);
				tx_failed += n - sent;
			}
			if (g->o.rate)
				tokens -= sent;
			per[sec].tx += sent;
			per[sec].tx_bytes += (uint64_t)sent * g->len;
		}
		got = rte_eth_rx_burst(g->o.port, g->q, rx, MAX_BURST);
		for (uint16_t i = 0; i < got; i++)
			per[sec].rx_bytes += rx[i]->pkt_len;
		per[sec].rx += got;
		if (got)
			rte_pktmbuf_free_bulk(rx, got);
		if (++g->q == g->o.queues)
			g->q = 0;
	}
	for (unsigned int i = 0; i < sec; i++) {
		tx_total += per[i].tx;
		rx_total += per[i].rx;
		txb += per[i].tx_bytes;
		rxb += per[i].rx_bytes;
	}
	if (sec == 0)
		sec = 1;
	if (g->o.json) {
		printf("{\"duration_s\":%u,\"frame_size\":%u,\"family\":%d,\"flows\":%u,"
		       "\"tx_packets\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ",\"tx_failed\":%" PRIu64
		       ",\"tx_mpps\":%.4f,\"rx_mpps\":%.4f,\"tx_gbps\":%.4f,\"rx_gbps\":%.4f,"
		       "\"per_second\":[",
		       sec, g->o.size, g->o.family, g->o.flows, tx_total, rx_total, tx_failed,
		       tx_total / 1e6 / sec, rx_total / 1e6 / sec, gbps(tx_total, txb, sec),
		       gbps(rx_total, rxb, sec));
		for (unsigned int i = 0; i < sec; i++)
			printf("%s{\"t\":%u,\"tx_mpps\":%.4f,\"rx_mpps\":%.4f}", i ? "," : "", i + 1,
			       per[i].tx / 1e6, per[i].rx / 1e6);
		printf("]}\n");
	} else {
		fprintf(stderr, "total %us: tx %.3f Mpps (%" PRIu64 " packets, %" PRIu64
				" refused), rx %.3f Mpps (%" PRIu64 " packets)\n",
			sec, tx_total / 1e6 / sec, tx_total, tx_failed, rx_total / 1e6 / sec,
			rx_total);
	}
	fflush(stdout);
	/* Lingering: a memif peer resets its port counters when the link goes
	 * down, so one that reads them after the run (testpmd) needs it up. */
	for (uint64_t until = rte_rdtsc() + hz * g->o.linger; !force_quit && rte_rdtsc() < until;) {
		uint16_t got = rte_eth_rx_burst(g->o.port, g->q, rx, MAX_BURST);

		if (got)
			rte_pktmbuf_free_bulk(rx, got);
		if (++g->q == g->o.queues)
			g->q = 0;
	}
	rte_eth_dev_stop(g->o.port);
	rte_eth_dev_close(g->o.port);
	rte_eal_cleanup();
	free(g->zipf);
	free(g);
	free(per);
	return 0;
}
