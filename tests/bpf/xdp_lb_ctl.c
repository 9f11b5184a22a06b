/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_lb_ctl: drive the XDP loader (lib/xdp_path.h) from a shell test
 * without sluiced: build a snapshot from the command line (as sluiced
 * would: sluice_vip_compile + sluice_snapshot_fill) and publish it, or
 * attach the program to an interface and leave it attached.
 *
 *   xdp_lb_ctl INSTANCE publish GLOBAL... VIP...
 *     GLOBAL: --src4 A --src6 A --nexthop-mac M --lb-mac M [--gue-port N] [--mtu N]
 *     VIP:    --vip ADDR PORT tcp|udp ipip|gue|l2dsr [--backend ADDR MAC]...
 *   xdp_lb_ctl INSTANCE attach IFACE
 *
 * Run it in the interface's network namespace with `nsenter --net=...`
 * (not `ip netns exec`, which hides the bpffs under a fresh /sys).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "xdp_path.h"

#define MAX_VIPS 8
#define MAX_BE 16

struct vip_arg {
	struct sluice_vip vip;
	struct sluice_backend be[MAX_BE];
	size_t n;
	__u16 table[1009];
};

static int parse_addr(const char *s, struct sluice_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = SLUICE_FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = SLUICE_FAMILY_V6;
		return 0;
	}
	fprintf(stderr, "xdp_lb_ctl: bad address \"%s\"\n", s);
	return -1;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
		fprintf(stderr, "xdp_lb_ctl: bad MAC \"%s\"\n", s);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

static int parse_mode(const char *s, __u8 *mode)
{
	*mode = !strcmp(s, "ipip") ? SLUICE_FWD_IPIP : !strcmp(s, "gue") ? SLUICE_FWD_GUE
						 : !strcmp(s, "l2dsr") ? SLUICE_FWD_L2DSR : 0;
	if (!*mode)
		fprintf(stderr, "xdp_lb_ctl: bad mode \"%s\"\n", s);
	return *mode ? 0 : -1;
}

static int cmd_publish(const char *instance, int argc, char **argv)
{
	static struct vip_arg vips[MAX_VIPS];
	struct sluice_vip_spec specs[MAX_VIPS];
	struct sluice_global_cfg g;
	struct sluice_snapshot *snap;
	struct sluice_xdp_path *xp;
	size_t nv = 0;
	__u16 next_be = 1;
	char err[512];
	int rc;

	memset(&g, 0, sizeof(g));
	g.gue_port = htons(6080);
	g.mtu = 1500;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		int more = argc - i - 1;

		if (!strcmp(o, "--src4") && more >= 1) {
			if (parse_addr(argv[++i], &g.src_v4) < 0)
				return 2;
		} else if (!strcmp(o, "--src6") && more >= 1) {
			if (parse_addr(argv[++i], &g.src_v6) < 0)
				return 2;
		} else if (!strcmp(o, "--nexthop-mac") && more >= 1) {
			if (parse_mac(argv[++i], g.nexthop_mac) < 0)
				return 2;
		} else if (!strcmp(o, "--lb-mac") && more >= 1) {
			if (parse_mac(argv[++i], g.lb_mac) < 0)
				return 2;
		} else if (!strcmp(o, "--gue-port") && more >= 1) {
			g.gue_port = htons((__u16)atoi(argv[++i]));
		} else if (!strcmp(o, "--mtu") && more >= 1) {
			g.mtu = (__u16)atoi(argv[++i]);
		} else if (!strcmp(o, "--vip") && more >= 4 && nv < MAX_VIPS) {
			struct vip_arg *v = &vips[nv];

			memset(v, 0, sizeof(*v));
			if (parse_addr(argv[i + 1], &v->vip.addr) < 0 ||
			    parse_mode(argv[i + 4], &v->vip.mode) < 0)
				return 2;
			v->vip.port = htons((__u16)atoi(argv[i + 2]));
			v->vip.proto = !strcmp(argv[i + 3], "udp") ? 17 : 6;
			v->vip.id = (__u16)nv;
			v->vip.hash_seed = 0x5eed + nv;
			nv++;
			i += 4;
		} else if (!strcmp(o, "--backend") && more >= 2 && nv && vips[nv - 1].n < MAX_BE) {
			struct vip_arg *v = &vips[nv - 1];
			struct sluice_backend *b = &v->be[v->n++];

			memset(b, 0, sizeof(*b));
			if (parse_addr(argv[i + 1], &b->addr) < 0 || parse_mac(argv[i + 2], b->mac) < 0)
				return 2;
			b->id = next_be++;
			b->state = SLUICE_BACKEND_ACTIVE;
			b->weight = 1;
			i += 2;
		} else {
			fprintf(stderr, "xdp_lb_ctl: bad argument \"%s\"\n", o);
			return 2;
		}
	}
	for (size_t i = 0; i < nv; i++) {
		struct sluice_table_params p = {.algo = SLUICE_ALGO_MAGLEV, .m = 1009, .seed = 1};
		__u32 m = 0;

		if (sluice_vip_compile(&p, vips[i].be, vips[i].n, vips[i].table, &m, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "xdp_lb_ctl: %s\n", err);
			return 1;
		}
		memset(&specs[i], 0, sizeof(specs[i]));
		specs[i].vip = vips[i].vip;
		specs[i].backends = vips[i].be;
		specs[i].n_backends = vips[i].n;
		specs[i].table = m ? vips[i].table : NULL;
		specs[i].m = m;
	}
	snap = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*snap));
	if (!snap)
		return 1;
	memset(snap, 0, sizeof(*snap));
	rc = sluice_snapshot_fill(snap, &g, specs, nv, err, sizeof(err));
	if (rc == 0)
		rc = sluice_xdp_path_open(instance, &xp, err, sizeof(err));
	if (rc == 0) {
		snap->generation = 1;
		rc = sluice_xdp_path_publish(xp, snap, err, sizeof(err));
		sluice_xdp_path_close(xp, true);
	}
	free(snap);
	if (rc < 0) {
		fprintf(stderr, "xdp_lb_ctl: %s\n", err);
		return 1;
	}
	printf("xdp_lb_ctl: published %zu VIPs to %s\n", nv, instance);
	return 0;
}

static int cmd_attach(const char *instance, const char *ifname)
{
	struct sluice_xdp_path *xp;
	char err[512];

	if (sluice_xdp_path_open(instance, &xp, err, sizeof(err)) < 0 ||
	    sluice_xdp_path_attach(xp, ifname, err, sizeof(err)) < 0) {
		fprintf(stderr, "xdp_lb_ctl: %s\n", err);
		return 1;
	}
	printf("xdp_lb_ctl: attached to %s: %s (%s)\n", ifname,
	       sluice_xdp_mode_name(sluice_xdp_path_mode(xp)), sluice_xdp_path_mode_reason(xp));
	sluice_xdp_path_close(xp, true);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[2], "publish"))
		return cmd_publish(argv[1], argc - 3, argv + 3);
	if (argc == 4 && !strcmp(argv[2], "attach"))
		return cmd_attach(argv[1], argv[3]);
	fprintf(stderr, "usage: xdp_lb_ctl INSTANCE publish ... | attach IFACE\n");
	return 2;
}
