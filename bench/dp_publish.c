/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp-publish: publish one VIP with N backends to a config region, as
 * sluiced would, for benchmarks and manual runs of sluice-dp without the
 * daemon (bench/linerate.py runs it). Not installed; sluiced is the real writer.
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
#include "addr.h"
#include "snapshot.h"

static int usage(void)
{
	fprintf(stderr, "usage: sluice-dp-publish --instance NAME [--vip ADDR:PORT/tcp|udp] "
			"[--backends N] [--mode ipip|gue|l2dsr] [--mtu N] [--m PRIME] [--unlink]\n");
	return 2;
}

/* The library's VIP form ("ADDR:PORT[/tcp|udp]"), as sluicectl reads it. */
static int parse_vip(const char *s, struct sluice_vip *v)
{
	struct sluice_vip_key k;

	if (sluice_vip_key_parse(s, &k) < 0)
		return -1;
	v->addr = k.addr;
	v->port = htons(k.port);
	v->proto = k.proto;
	return 0;
}

/* A whole decimal or 0x number within [lo, hi]. */
static int parse_num(const char *s, __u64 lo, __u64 hi, __u64 *out)
{
	return sluice_u64_parse(s, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
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
	__u64 num;
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
			if (parse_num(optarg, 1, 4096, &num) < 0)
				return usage();
			n = (unsigned int)num;
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
			if (parse_num(optarg, 576, 9702, &num) < 0)
				return usage();
			g.mtu = (__u16)num;
			break;
		case 'm':
			if (parse_num(optarg, 2, SLUICE_TABLE_MAX_M, &num) < 0)
				return usage();
			tp.m = (__u32)num;
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
