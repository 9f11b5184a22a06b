/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing sluice-dp's options. Every value is checked; a bad one is named
 * in the message. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>

#include "exception.h"
#include "options.h"

enum {
	OPT_INSTANCE = 256,
	OPT_NO_SHM,
	OPT_FLOWS,
	OPT_TCP_TIMEOUT,
	OPT_UDP_TIMEOUT,
	OPT_FIN_TIMEOUT,
	OPT_SYN_RATE,
	OPT_ICMP_RATE,
	OPT_BURST,
	OPT_TX_DRAIN_US,
	OPT_RX_DESC,
	OPT_TX_DESC,
	OPT_MTU,
	OPT_OWN_ADDR,
	OPT_LB_MAC,
	OPT_STATS_INTERVAL,
	OPT_ASSUME_RETA,
	OPT_IDLE_SLEEP_US,
	OPT_EXCEPTION,
	OPT_EXCEPTION_RATE,
	OPT_EXCEPTION_PREFIX,
	OPT_HELP,
};

static const struct option longopts[] = {
	{"instance", required_argument, NULL, OPT_INSTANCE},
	{"no-shm", no_argument, NULL, OPT_NO_SHM},
	{"flows", required_argument, NULL, OPT_FLOWS},
	{"tcp-timeout", required_argument, NULL, OPT_TCP_TIMEOUT},
	{"udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT},
	{"fin-timeout", required_argument, NULL, OPT_FIN_TIMEOUT},
	{"syn-rate", required_argument, NULL, OPT_SYN_RATE},
	{"icmp-rate", required_argument, NULL, OPT_ICMP_RATE},
	{"burst", required_argument, NULL, OPT_BURST},
	{"tx-drain-us", required_argument, NULL, OPT_TX_DRAIN_US},
	{"rx-desc", required_argument, NULL, OPT_RX_DESC},
	{"tx-desc", required_argument, NULL, OPT_TX_DESC},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"own-addr", required_argument, NULL, OPT_OWN_ADDR},
	{"lb-mac", required_argument, NULL, OPT_LB_MAC},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"assume-reta", required_argument, NULL, OPT_ASSUME_RETA},
	{"idle-sleep-us", required_argument, NULL, OPT_IDLE_SLEEP_US},
	{"exception", required_argument, NULL, OPT_EXCEPTION},
	{"exception-rate", required_argument, NULL, OPT_EXCEPTION_RATE},
	{"exception-prefix", required_argument, NULL, OPT_EXCEPTION_PREFIX},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

void dp_options_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- [options]\n"
		"  --instance NAME      shared-memory instance of sluiced (default %s)\n"
		"  --no-shm             run without sluiced: no VIPs, answer --own-addr only\n"
		"  --flows N            flow-table size per worker lcore (default 1048576)\n"
		"  --tcp-timeout S      idle timeout of TCP flows, seconds (default %u)\n"
		"  --udp-timeout S      idle timeout of UDP flows and fragments (default %u)\n"
		"  --fin-timeout S      idle timeout after FIN or RST (default %u)\n"
		"  --syn-rate N         new flows inserted per second per lcore; above it,\n"
		"                       forward by table without inserting (default 1000000;\n"
		"                       0: no cap)\n"
		"  --icmp-rate N        ICMP too-big replies per second per lcore (default 1000;\n"
		"                       0: no cap)\n"
		"  --burst N            RX burst size, 1..%d (default 32)\n"
		"  --tx-drain-us N      send partial TX bursts after N microseconds (default 100)\n"
		"  --rx-desc N          RX descriptors per queue (default 1024)\n"
		"  --tx-desc N          TX descriptors per queue (default 1024)\n"
		"  --mtu N              egress MTU in IP bytes, overriding sluiced's (576..9000)\n"
		"  --own-addr ADDR      answer ARP / neighbour solicitations for ADDR too\n"
		"                       (repeatable, up to %d)\n"
		"  --lb-mac MAC         source MAC of what sluice-dp sends (default: sluiced's,\n"
		"                       else the port's)\n"
		"  --stats-interval S   log a counters line every S seconds (default 0: never)\n"
		"  --assume-reta N      ports without RSS (memif): the peer spreads flows over\n"
		"                       the queues by sluice's RSS key and a round-robin RETA\n"
		"                       of N entries, so ICMP errors can go to their flow's\n"
		"                       worker (default 0: not known)\n"
		"  --idle-sleep-us N    a worker that found no packet for N microseconds sleeps\n"
		"                       N microseconds at a time, 1..1000 (default 0: busy-poll\n"
		"                       always; for hosts that share the workers' CPUs)\n"
		"  --exception MODE     a TAP per port for the host's own traffic: auto (ports\n"
		"                       the kernel does not see, i.e. not virtual devices),\n"
		"                       on (every port), off (default auto)\n"
		"  --exception-rate N   frames per second per worker lcore to the kernel, and\n"
		"                       read from it (default %d)\n"
		"  --exception-prefix P the TAP of port N is named PN (default %s)\n"
		"  --help               this text\n",
		prog, DP_DEFAULT_INSTANCE, SLUICE_TIMEOUT_TCP_S, SLUICE_TIMEOUT_UDP_S,
		SLUICE_TIMEOUT_CLOSING_S, SLUICE_DP_BURST_MAX, SLUICE_DP_MAX_OWN,
		SLUICE_DP_DEFAULT_EXCEPTION_RATE, DP_DEFAULT_EXCEPTION_PREFIX);
}

static int parse_u32(const char *name, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "sluice-dp: --%s %s: expected an integer from %" PRIu32 " to %" PRIu32
			"\n", name, s, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_addr(const char *s, struct sluice_addr *a)
{
	char buf[64];
	size_t n = strlen(s);

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = SLUICE_FAMILY_V4;
		return 0;
	}
	if (n >= 2 && n < sizeof(buf) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = SLUICE_FAMILY_V6;
		return 0;
	}
	return -1;
}

static void set_defaults(struct dp_options *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->instance, DP_DEFAULT_INSTANCE);
	o->burst = 32;
	o->tx_drain_us = 100;
	o->rx_desc = 1024;
	o->tx_desc = 1024;
	o->dp.flows = 1u << 20;
	o->dp.timeout_s[SLUICE_FLOW_TCP] = SLUICE_TIMEOUT_TCP_S;
	o->dp.timeout_s[SLUICE_FLOW_UDP] = SLUICE_TIMEOUT_UDP_S;
	o->dp.timeout_s[SLUICE_FLOW_CLOSING] = SLUICE_TIMEOUT_CLOSING_S;
	o->dp.syn_rate = SLUICE_DEFAULT_SYN_RATE;
	o->dp.icmp_rate = 1000;
	o->dp.exception_rate = SLUICE_DP_DEFAULT_EXCEPTION_RATE;
	strcpy(o->exception_prefix, DP_DEFAULT_EXCEPTION_PREFIX);
}

/* A prefix of a Linux interface name: the kernel refuses '/', ':' and
 * white space, and the port number must still fit in IFNAMSIZ. */
static bool prefix_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DP_EXCEPTION_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

int dp_options_parse(int argc, char **argv, struct dp_options *o)
{
	const char *prog = argc > 0 ? argv[0] : "sluice-dp";
	uint32_t v;
	int c;

	set_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_INSTANCE:
			if (!sluice_instance_valid(optarg)) {
				fprintf(stderr, "sluice-dp: --instance %s: " SLUICE_INSTANCE_RULE "\n",
					optarg);
				return -1;
			}
			strcpy(o->instance, optarg);
			break;
		case OPT_NO_SHM:
			o->no_shm = true;
			break;
		case OPT_FLOWS:
			if (parse_u32("flows", optarg, SLUICE_FT_MIN_FLOWS, SLUICE_FT_MAX_FLOWS,
				      &o->dp.flows) < 0)
				return -1;
			break;
		case OPT_TCP_TIMEOUT:
		case OPT_UDP_TIMEOUT:
		case OPT_FIN_TIMEOUT: {
			static const char *const names[] = {"tcp-timeout", "udp-timeout",
							    "fin-timeout"};
			unsigned int cls = c == OPT_TCP_TIMEOUT	  ? SLUICE_FLOW_TCP
					   : c == OPT_UDP_TIMEOUT ? SLUICE_FLOW_UDP
								  : SLUICE_FLOW_CLOSING;

			if (parse_u32(names[cls], optarg, 1, SLUICE_FT_MAX_TIMEOUT_S,
				      &o->dp.timeout_s[cls]) < 0)
				return -1;
			break;
		}
		case OPT_SYN_RATE:
			if (parse_u32("syn-rate", optarg, 0, 1000000000, &o->dp.syn_rate) < 0)
				return -1;
			break;
		case OPT_ICMP_RATE:
			if (parse_u32("icmp-rate", optarg, 0, 1000000000, &o->dp.icmp_rate) < 0)
				return -1;
			break;
		case OPT_BURST:
			if (parse_u32("burst", optarg, 1, SLUICE_DP_BURST_MAX, &v) < 0)
				return -1;
			o->burst = v;
			break;
		case OPT_TX_DRAIN_US:
			if (parse_u32("tx-drain-us", optarg, 1, 1000000, &v) < 0)
				return -1;
			o->tx_drain_us = v;
			break;
		case OPT_RX_DESC:
		case OPT_TX_DESC:
			if (parse_u32(c == OPT_RX_DESC ? "rx-desc" : "tx-desc", optarg, 32, 16384,
				      &v) < 0)
				return -1;
			*(c == OPT_RX_DESC ? &o->rx_desc : &o->tx_desc) = v;
			break;
		case OPT_MTU:
			if (parse_u32("mtu", optarg, 576, 9000, &v) < 0)
				return -1;
			o->dp.mtu = (uint16_t)v;
			break;
		case OPT_OWN_ADDR:
			if (o->dp.n_own >= SLUICE_DP_MAX_OWN) {
				fprintf(stderr, "sluice-dp: at most %d --own-addr\n",
					SLUICE_DP_MAX_OWN);
				return -1;
			}
			if (parse_addr(optarg, &o->dp.own[o->dp.n_own]) < 0) {
				fprintf(stderr, "sluice-dp: --own-addr %s: not an IPv4 or IPv6 "
						"address\n", optarg);
				return -1;
			}
			o->dp.n_own++;
			break;
		case OPT_LB_MAC:
			if (rte_ether_unformat_addr(optarg, &o->dp.lb_mac) < 0 ||
			    !rte_is_valid_assigned_ether_addr(&o->dp.lb_mac)) {
				fprintf(stderr, "sluice-dp: --lb-mac %s: not a unicast MAC address "
						"(like 02:00:5e:10:00:01)\n", optarg);
				return -1;
			}
			o->dp.lb_mac_set = true;
			break;
		case OPT_ASSUME_RETA:
			if (parse_u32("assume-reta", optarg, 1, 65535, &v) < 0)
				return -1;
			o->assume_reta = v;
			break;
		case OPT_IDLE_SLEEP_US:
			if (parse_u32("idle-sleep-us", optarg, 1, 1000, &v) < 0)
				return -1;
			o->idle_sleep_us = v;
			break;
		case OPT_STATS_INTERVAL:
			if (parse_u32("stats-interval", optarg, 0, 86400, &v) < 0)
				return -1;
			o->stats_interval_s = v;
			break;
		case OPT_EXCEPTION:
			if (strcmp(optarg, "auto") == 0) {
				o->exception = DP_EXCEPTION_AUTO;
			} else if (strcmp(optarg, "on") == 0) {
				o->exception = DP_EXCEPTION_ON;
			} else if (strcmp(optarg, "off") == 0) {
				o->exception = DP_EXCEPTION_OFF;
			} else {
				fprintf(stderr, "sluice-dp: --exception %s: expected auto, on or off\n",
					optarg);
				return -1;
			}
			break;
		case OPT_EXCEPTION_RATE:
			if (parse_u32("exception-rate", optarg, 1, 10000000,
				      &o->dp.exception_rate) < 0)
				return -1;
			break;
		case OPT_EXCEPTION_PREFIX:
			if (!prefix_valid(optarg)) {
				fprintf(stderr, "sluice-dp: --exception-prefix %s: 1 to %d characters "
						"of an interface name (no '/', ':' or spaces)\n",
					optarg, DP_EXCEPTION_PREFIX_MAX);
				return -1;
			}
			strcpy(o->exception_prefix, optarg);
			break;
		case OPT_HELP:
			dp_options_usage(stdout, prog);
			return 1;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "sluice-dp: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "sluice-dp: unknown option or missing value: %s\n",
					argv[optind - 1]);
			dp_options_usage(stderr, prog);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-dp: unexpected argument: %s\n", argv[optind]);
		dp_options_usage(stderr, prog);
		return -1;
	}
	return 0;
}
