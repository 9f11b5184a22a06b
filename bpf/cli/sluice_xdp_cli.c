/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-xdp: an instance's XDP path by hand, through the same loader
 * sluiced uses (lib/xdp_path.h). sluiced does all of this by itself;
 * this tool is for inspection, the demo and emergencies.
 *
 *   sluice-xdp [-i INSTANCE] attach IFACE   load (reusing the pinned maps),
 *                                           publish the snapshot in force in
 *                                           shared memory if there is one,
 *                                           attach, leave it attached
 *   sluice-xdp detach IFACE                 detach a sluice_xdp program
 *   sluice-xdp [-i INSTANCE] status [--json]  counters from the pinned maps
 *   sluice-xdp [-i INSTANCE] unpin          remove the pinned maps
 *
 * INSTANCE defaults to "sluice", as in sluiced's configuration.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice/shm.h"
#include "xdp_path.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: sluice-xdp [-i INSTANCE] attach IFACE\n"
		   "       sluice-xdp detach IFACE\n"
		   "       sluice-xdp [-i INSTANCE] status [--json]\n"
		   "       sluice-xdp [-i INSTANCE] unpin\n");
	return f == stderr ? 2 : 0;
}

static int cmd_attach(const char *instance, const char *ifname)
{
	struct sluice_config_region cfg;
	struct sluice_xdp_path *xp;
	char err[512];
	int rc;

	rc = sluice_xdp_path_open(instance, &xp, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-xdp: %s\n", err);
		return 1;
	}
	if (sluice_config_attach(instance, &cfg, err, sizeof(err)) == 0) {
		__u64 gen;
		const struct sluice_snapshot *snap = sluice_config_current(&cfg, &gen);

		if (snap && sluice_xdp_path_publish(xp, snap, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice-xdp: cannot publish generation %llu: %s\n",
				(unsigned long long)gen, err);
			sluice_config_close(&cfg);
			sluice_xdp_path_close(xp, false);
			return 1;
		}
		if (snap)
			printf("sluice-xdp: published generation %llu from shared memory\n",
			       (unsigned long long)gen);
		sluice_config_close(&cfg);
	} else {
		printf("sluice-xdp: no shared-memory configuration for \"%s\" (%s): the maps "
		       "keep what they hold\n", instance, err);
	}
	rc = sluice_xdp_path_attach(xp, ifname, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-xdp: %s\n", err);
		sluice_xdp_path_close(xp, false);
		return 1;
	}
	printf("sluice-xdp: attached to %s: %s\n", ifname, sluice_xdp_path_mode_reason(xp));
	sluice_xdp_path_close(xp, true);
	return 0;
}

static int cmd_detach(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int ifindex = (int)if_nametoindex(ifname), fd, rc;

	if (!ifindex || bpf_xdp_query(ifindex, 0, &q) < 0 || !q.prog_id) {
		fprintf(stderr, "sluice-xdp: no XDP program on \"%s\"\n", ifname);
		return 1;
	}
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
	    strcmp(info.name, "sluice_xdp") != 0) {
		fprintf(stderr, "sluice-xdp: %s runs \"%s\", not sluice_xdp\n", ifname, info.name);
		return 1;
	}
	opts.old_prog_fd = fd;
	rc = bpf_xdp_detach(ifindex,
			    q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE,
			    &opts);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "sluice-xdp: cannot detach from %s: %s\n", ifname, strerror(-rc));
		return 1;
	}
	printf("sluice-xdp: detached from %s\n", ifname);
	return 0;
}

static void print_u64(int json, int *first, const char *name, __u64 v)
{
	if (json)
		printf("%s\"%s\":%" PRIu64, *first ? "" : ",", name, (uint64_t)v);
	else
		printf("  %-20s %" PRIu64 "\n", name, (uint64_t)v);
	*first = 0;
}

static int cmd_status(const char *instance, int json)
{
	struct sluice_lcore_status *st = calloc(1, sizeof(*st));
	struct sluice_xdp_counters x;
	struct sluice_xdp_path *xp;
	char err[512], name[64];
	int first = 1;

	if (!st)
		return 1;
	if (sluice_xdp_path_open(instance, &xp, err, sizeof(err)) < 0 ||
	    sluice_xdp_path_read_counters(xp, st, err, sizeof(err)) < 0 ||
	    sluice_xdp_path_read_xdp_counters(xp, &x, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-xdp: %s\n", err);
		free(st);
		return 1;
	}
	if (json)
		printf("{\"instance\":\"%s\",\"generation\":%llu,\"counters\":{", instance,
		       (unsigned long long)st->seen_generation);
	else
		printf("instance %s, maps in %s, generation %llu\n", instance,
		       sluice_xdp_path_pin_dir(xp), (unsigned long long)st->seen_generation);
#define SLUICE_X_PRINT(n) print_u64(json, &first, #n, st->counters.n);
	SLUICE_LCORE_COUNTERS(SLUICE_X_PRINT)
#undef SLUICE_X_PRINT
#define SLUICE_X_PRINT(n) print_u64(json, &first, #n, x.n);
	SLUICE_XDP_COUNTERS(SLUICE_X_PRINT)
#undef SLUICE_X_PRINT
	for (int r = 0; r < SLUICE_DROP_MAX; r++) {
		snprintf(name, sizeof(name), "drop_%s", sluice_drop_name(r));
		print_u64(json, &first, name, st->counters.drops[r]);
	}
	for (int r = 0; r < SLUICE_DROP_MAX; r++) {
		snprintf(name, sizeof(name), "pass_%s", sluice_drop_name(r));
		print_u64(json, &first, name, x.pass[r]);
	}
	if (json)
		printf("}}\n");
	sluice_xdp_path_close(xp, true);
	free(st);
	return 0;
}

int main(int argc, char **argv)
{
	const char *instance = "sluice";
	char err[256];
	int i = 1;

	if (argc >= 3 && !strcmp(argv[1], "-i")) {
		instance = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage(stderr);
	if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
		return usage(stdout);
	if (!strcmp(argv[i], "attach") && i + 2 == argc)
		return cmd_attach(instance, argv[i + 1]);
	if (!strcmp(argv[i], "detach") && i + 2 == argc)
		return cmd_detach(argv[i + 1]);
	if (!strcmp(argv[i], "status") && (i + 1 == argc || (i + 2 == argc &&
							    !strcmp(argv[i + 1], "--json"))))
		return cmd_status(instance, i + 2 == argc);
	if (!strcmp(argv[i], "unpin") && i + 1 == argc) {
		if (sluice_xdp_path_unpin(instance, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice-xdp: %s\n", err);
			return 1;
		}
		printf("sluice-xdp: removed the pinned maps of \"%s\"\n", instance);
		return 0;
	}
	return usage(stderr);
}
