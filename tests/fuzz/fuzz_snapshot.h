/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The snapshot the packet-path fuzzers run under, built the way sluiced
 * builds one (sluice_vip_compile + sluice_snapshot_fill): every forwarding
 * mode, both families, an exact port and a wildcard, a draining and a down
 * backend. The addresses are the seed corpora's (tests/fuzz/corpus/).
 */
#ifndef SLUICE_FUZZ_SNAPSHOT_H
#define SLUICE_FUZZ_SNAPSHOT_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

#define FZ_M 257u
#define FZ_BACKENDS 4

/* 203.0.113.10:80/tcp ipip, [2001:db8::10]:0/udp gue, 203.0.113.11:443/tcp
 * l2dsr; backends 10.1.V.B (or fd00::V:B), B = 1..4, 2 draining, 3 down;
 * turn t moves those states t backends on (B = 2 + t draining, ...), for
 * a fuzzer that republishes: flows on a backend gone down are re-picked. */
static inline void fz_fill_turn(struct sluice_snapshot *snap, unsigned int turn)
{
	static const struct {
		__u8 family, proto, mode;
		__u16 port;
		__u8 last;
	} vips[] = {
		{SLUICE_FAMILY_V4, 6, SLUICE_FWD_IPIP, 80, 10},
		{SLUICE_FAMILY_V6, 17, SLUICE_FWD_GUE, 0, 0x10},
		{SLUICE_FAMILY_V4, 6, SLUICE_FWD_L2DSR, 443, 11},
	};
	struct sluice_table_params tp = {.algo = SLUICE_ALGO_MAGLEV, .m = FZ_M, .seed = 3};
	struct sluice_global_cfg g = {
		.src_v4 = {.family = SLUICE_FAMILY_V4, .bytes = {10, 0, 0, 1}},
		.src_v6 = {.family = SLUICE_FAMILY_V6, .bytes = {0xfd, [15] = 1}},
		.nexthop_mac = {0x02, 0, 0, 0, 0, 0x99},
		.gue_port = htons(6080),
		.mtu = 1500,
		.lb_mac = {0x02, 0, 0, 0, 0, 0x02},
	};
	static struct sluice_backend be[3][FZ_BACKENDS];
	static __u16 tables[3][FZ_M];
	struct sluice_vip_spec spec[3];

	memset(spec, 0, sizeof(spec));
	for (unsigned int v = 0; v < 3; v++) {
		struct sluice_vip *vip = &spec[v].vip;

		vip->addr.family = vips[v].family;
		if (vips[v].family == SLUICE_FAMILY_V4) {
			__u8 a[4] = {203, 0, 113, vips[v].last};

			memcpy(vip->addr.bytes, a, 4);
		} else {
			__u8 a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = vips[v].last};

			memcpy(vip->addr.bytes, a, 16);
		}
		vip->port = htons(vips[v].port);
		vip->proto = vips[v].proto;
		vip->mode = vips[v].mode;
		vip->id = (__u16)(v + 1);
		vip->hash_seed = 0x5eed + v;
		for (unsigned int b = 0; b < FZ_BACKENDS; b++) {
			struct sluice_backend *x = &be[v][b];
			unsigned int r = (b + FZ_BACKENDS - turn % FZ_BACKENDS) % FZ_BACKENDS;

			memset(x, 0, sizeof(*x));
			x->id = (__u16)(10 * (v + 1) + b);
			x->weight = 1;
			x->state = r == 1 ? SLUICE_BACKEND_DRAINING
				   : r == 2 ? SLUICE_BACKEND_DOWN
					    : SLUICE_BACKEND_ACTIVE;
			x->mac[0] = 0x02;
			x->mac[5] = (__u8)x->id;
			x->addr.family = vips[v].family;
			if (vips[v].family == SLUICE_FAMILY_V4) {
				__u8 a[4] = {10, 1, (__u8)v, (__u8)(b + 1)};

				memcpy(x->addr.bytes, a, 4);
			} else {
				__u8 a[16] = {0xfd, [13] = (__u8)v, [15] = (__u8)(b + 1)};

				memcpy(x->addr.bytes, a, 16);
			}
		}
		if (sluice_vip_compile(&tp, be[v], FZ_BACKENDS, tables[v], &spec[v].m, NULL, 0) < 0)
			abort();
		spec[v].backends = be[v];
		spec[v].n_backends = FZ_BACKENDS;
		spec[v].table = tables[v];
	}
	if (sluice_snapshot_fill(snap, &g, spec, 3, NULL, 0) < 0)
		abort();
	snap->generation = 1 + turn;
}

static inline void fz_fill(struct sluice_snapshot *snap)
{
	fz_fill_turn(snap, 0);
}

#endif
