/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp-publish: publish one VIP with N backends to a config region, as
 * sluiced would, for benchmarks and manual runs of sluice-dp without the
 * daemon (bench/dp_quick.sh). Not installed; sluiced is the real writer.
 *
 *   sluice-dp-publish --instance NAME [--vip 10.99.0.1:80/tcp]
 *                     [--backends 16] [--mode ipip|gue|l2dsr] [--mtu 1500]
 *                     [--m 65537] [--unlink]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sluice/packet.h"
#include "snapshot.h"

static int usage(void)
{
	fprintf(stderr, "usage: sluice-dp-publish --instance NAME [--vip ADDR:PORT/tcp|udp] "
			"[--backends N] [--mode ipip|gue|l2dsr] [--mtu N] [--m PRIME] [--unlink]\n");
	return 2;
}

static int parse_vip(const char *s, struct sluice_vip *v)
{
	char buf[64], *colon, *slash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strrchr(buf, '/');
	v->proto = SLUICE_IPPROTO_TCP;
	if (slash) {
		*slash = '\0';
		if (strcmp(slash + 1, "udp") == 0)
			v->proto = SLUICE_IPPROTO_UDP;
		else if (strcmp(slash + 1, "tcp") != 0)
			return -1;
	}
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	v->port = htons((uint16_t)atoi(colon + 1));
	if (buf[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		v->addr.family = SLUICE_FAMILY_V6;
		return inet_pton(AF_INET6, buf + 1, v->addr.bytes) == 1 ? 0 : -1;
	}
	v->addr.family = SLUICE_FAMILY_V4;
	return inet_pton(AF_INET, buf, v->addr.bytes) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"instance", 1, 0, 'i'}, {"vip", 1, 0, 'v'}, {"backends", 1, 0, 'b'},
		{"mode", 1, 0, 'M'},	 {"mtu", 1, 0, 't'}, {"m", 1, 0, 'm'},
		{"unlink", 0, 0, 'u'},	 {0, 0, 0, 0},
	};
	struct sluice_global_cfg g = {
		.src_v4 = {.family = SLUICE_FAMILY_V4, .bytes = {10, 0, 0, 1}},
		.src_v6 = {.family = SLUICE_FAMILY_V6, .bytes = {0xfd, 0, [15] = 1}},
		.nexthop_mac = {0x02, 0, 0, 0, 0, 0x01},
		.gue_port = htons(6080),
		.mtu = 1500,
	};
	struct sluice_vip_spec spec;
	struct sluice_table_params tp = {.algo = SLUICE_ALGO_MAGLEV, .m = 65537, .seed = 1};
	struct sluice_config_region cfg;
	struct sluice_status_region st;
	struct sluice_backend *be;
	const char *instance = NULL;
	unsigned int n = 16;
	__u16 *table;
	char err[256];
	int c, unlink_only = 0;
	__u32 m;

	memset(&spec, 0, sizeof(spec));
	parse_vip("10.99.0.1:80/tcp", &spec.vip);
	spec.vip.mode = SLUICE_FWD_IPIP;
	spec.vip.hash_seed = 0x5eed;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'i':
			instance = optarg;
			break;
		case 'v':
			if (parse_vip(optarg, &spec.vip) < 0)
				return usage();
			break;
		case 'b':
			n = (unsigned int)atoi(optarg);
			if (n < 1 || n > 4096)
				return usage();
			break;
		case 'M':
			spec.vip.mode = strcmp(optarg, "gue") == 0	 ? SLUICE_FWD_GUE
					: strcmp(optarg, "l2dsr") == 0 ? SLUICE_FWD_L2DSR
					: strcmp(optarg, "ipip") == 0  ? SLUICE_FWD_IPIP
								       : 0;
			if (!spec.vip.mode)
				return usage();
			break;
		case 't':
			g.mtu = (__u16)atoi(optarg);
			break;
		case 'm':
			tp.m = (__u32)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			unlink_only = 1;
			break;
		default:
			return usage();
		}
	}
	if (!instance)
		return usage();
	if (unlink_only) {
		char name[64];

		if (sluice_shm_name(instance, "config", name, sizeof(name)) == 0)
			shm_unlink(name);
		if (sluice_shm_name(instance, "status", name, sizeof(name)) == 0)
			shm_unlink(name);
		return 0;
	}
	be = calloc(n, sizeof(*be));
	table = calloc(tp.m, sizeof(*table));
	if (!be || !table)
		return 1;
	for (unsigned int i = 0; i < n; i++) {
		be[i].id = (__u16)(i + 1);
		be[i].state = SLUICE_BACKEND_ACTIVE;
		be[i].weight = 1;
		be[i].mac[0] = 0x02;
		be[i].mac[5] = (__u8)(i + 1);
		be[i].addr.family = spec.vip.addr.family;
		if (spec.vip.addr.family == SLUICE_FAMILY_V4) {
			be[i].addr.bytes[0] = 10;
			be[i].addr.bytes[1] = 200;
			be[i].addr.bytes[2] = (__u8)((i + 1) >> 8);
			be[i].addr.bytes[3] = (__u8)(i + 1);
		} else {
			be[i].addr.bytes[0] = 0xfd;
			be[i].addr.bytes[1] = 0x20;
			be[i].addr.bytes[14] = (__u8)((i + 1) >> 8);
			be[i].addr.bytes[15] = (__u8)(i + 1);
		}
	}
	if (sluice_vip_compile(&tp, be, n, table, &m, err, sizeof(err)) < 0 ||
	    sluice_config_create(instance, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-dp-publish: %s\n", err);
		return 1;
	}
	spec.backends = be;
	spec.n_backends = n;
	spec.table = table;
	spec.m = m;
	if (sluice_status_attach(instance, &st, err, sizeof(err)) < 0)
		memset(&st, 0, sizeof(st));
	if (sluice_config_wait_reclaim(&cfg, st.hdr ? &st : NULL, 1000000000ull,
				       5000000000ull) < 0) {
		fprintf(stderr, "sluice-dp-publish: the data plane holds the old snapshot\n");
		return 1;
	}
	if (sluice_snapshot_fill(sluice_config_next_slot(&cfg), &g, &spec, 1, err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "sluice-dp-publish: %s\n", err);
		return 1;
	}
	printf("generation %llu\n", (unsigned long long)sluice_config_publish(&cfg));
	sluice_status_close(&st);
	sluice_config_close(&cfg);
	free(be);
	free(table);
	return 0;
}
