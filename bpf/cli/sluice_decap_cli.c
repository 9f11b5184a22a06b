/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-decap: put sluice's decapsulation program (sluice_decap.bpf.c) on
 * a backend's interface, take it off, or show its counters.
 *
 *   sluice-decap attach IFACE [--gue-port N] [--generic]
 *   sluice-decap detach IFACE
 *   sluice-decap status IFACE
 *
 * attach loads the program with the GUE port (default 6080, 0 = IPIP only),
 * attaches it in native mode (generic when the driver refuses, or with
 * --generic) and exits: the interface keeps the program. Run it again to
 * change the port: the running program is replaced atomically. detach and
 * attach refuse to touch an XDP program that is not sluice_decap.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sluice_decap.skel.h"

#define PROG_NAME "sluice_decap"

struct decap_stats {
	__u64 ipip, gue, malformed, other;
};

static int usage(FILE *f)
{
	fprintf(f, "usage: sluice-decap attach IFACE [--gue-port N] [--generic]\n"
		   "       sluice-decap detach IFACE\n"
		   "       sluice-decap status IFACE\n");
	return f == stderr ? 2 : 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* The XDP program on ifindex: its id, mode and name ("" when none). */
static int attached(int ifindex, __u32 *id, __u8 *mode, char *name, size_t namelen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, rc;

	name[0] = '\0';
	rc = bpf_xdp_query(ifindex, 0, &q);
	if (rc < 0)
		return rc;
	*id = q.prog_id;
	*mode = q.attach_mode;
	if (!q.prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (rc < 0)
		return rc;
	snprintf(name, namelen, "%s", info.name);
	return 0;
}

static int cmd_attach(const char *ifname, int ifindex, long port, int generic)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct sluice_decap *skel;
	__u32 id, flags = 0;
	__u8 mode;
	char name[64];
	int rc = attached(ifindex, &id, &mode, name, sizeof(name)), old_fd = -1;
	const char *how = "native";

	if (rc < 0) {
		fprintf(stderr, "sluice-decap: cannot query XDP on %s: %s\n", ifname, strerror(-rc));
		return 1;
	}
	if (id && strcmp(name, PROG_NAME) != 0) {
		fprintf(stderr, "sluice-decap: %s already runs XDP program \"%s\" (id %u)\n", ifname,
			name, id);
		return 1;
	}
	skel = sluice_decap__open();
	if (!skel) {
		fprintf(stderr, "sluice-decap: cannot open the program: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->gue_port = (__u16)port;
	rc = sluice_decap__load(skel);
	if (rc < 0) {
		fprintf(stderr, "sluice-decap: the kernel refused the program: %s\n",
			strerror(-rc));
		goto out;
	}
	if (id) {
		/* Replace exactly the running one, in its mode. */
		old_fd = bpf_prog_get_fd_by_id(id);
		opts.old_prog_fd = old_fd;
		flags = XDP_FLAGS_REPLACE;
		generic = generic || mode == XDP_ATTACHED_SKB;
	} else {
		flags = XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	rc = -EOPNOTSUPP;
	if (!generic)
		rc = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.sluice_decap),
				    flags | XDP_FLAGS_DRV_MODE, &opts);
	if (rc < 0) {
		int native = rc;

		how = "generic";
		rc = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.sluice_decap),
				    flags | XDP_FLAGS_SKB_MODE, &opts);
		if (rc < 0) {
			fprintf(stderr, "sluice-decap: cannot attach to %s: native: %s; generic: %s\n",
				ifname, generic ? "not tried" : strerror(-native), strerror(-rc));
			goto out;
		}
	}
	printf("sluice-decap: attached to %s (%s mode), IPIP%s", ifname, how,
	       port ? " and GUE on UDP port " : "");
	if (port)
		printf("%ld", port);
	printf("\n");
out:
	if (old_fd >= 0)
		close(old_fd);
	sluice_decap__destroy(skel);
	return rc < 0;
}

static int cmd_detach(const char *ifname, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	char name[64];
	__u32 id;
	__u8 mode;
	int rc = attached(ifindex, &id, &mode, name, sizeof(name));

	if (rc < 0 || !id || strcmp(name, PROG_NAME) != 0) {
		fprintf(stderr, "sluice-decap: %s does not run sluice_decap\n", ifname);
		return 1;
	}
	opts.old_prog_fd = bpf_prog_get_fd_by_id(id);
	rc = bpf_xdp_detach(ifindex, mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
							       : XDP_FLAGS_DRV_MODE,
			    &opts);
	close(opts.old_prog_fd);
	if (rc < 0) {
		fprintf(stderr, "sluice-decap: cannot detach from %s: %s\n", ifname, strerror(-rc));
		return 1;
	}
	printf("sluice-decap: detached from %s\n", ifname);
	return 0;
}

/* Sum the running program's counters: its stats map found by name. */
static int cmd_status(const char *ifname, int ifindex)
{
	struct bpf_prog_info info;
	struct bpf_map_info minfo;
	__u32 len = sizeof(info), map_ids[8], id, zero = 0;
	struct decap_stats sum = {0}, *cpu;
	int ncpus = libbpf_num_possible_cpus(), fd, rc = 1;
	char name[64];
	__u8 mode;

	if (attached(ifindex, &id, &mode, name, sizeof(name)) < 0 || !id ||
	    strcmp(name, PROG_NAME) != 0) {
		printf("%s: sluice_decap not attached\n", ifname);
		return 1;
	}
	fd = bpf_prog_get_fd_by_id(id);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 8;
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 1;
	close(fd);
	cpu = calloc(ncpus > 0 ? ncpus : 1, sizeof(*cpu));
	for (__u32 i = 0; cpu && i < info.nr_map_ids && i < 8; i++) {
		__u32 mlen = sizeof(minfo);

		fd = bpf_map_get_fd_by_id(map_ids[i]);
		memset(&minfo, 0, sizeof(minfo));
		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &minfo, &mlen) == 0 &&
		    strcmp(minfo.name, "decap_stats") == 0 &&
		    bpf_map_lookup_elem(fd, &zero, cpu) == 0) {
			for (int c = 0; c < ncpus; c++) {
				sum.ipip += cpu[c].ipip;
				sum.gue += cpu[c].gue;
				sum.malformed += cpu[c].malformed;
				sum.other += cpu[c].other;
			}
			rc = 0;
		}
		if (fd >= 0)
			close(fd);
	}
	free(cpu);
	printf("%s: sluice_decap (id %u, %s mode) ipip %llu gue %llu malformed %llu other %llu\n",
	       ifname, id, mode == XDP_ATTACHED_SKB ? "generic" : "native",
	       (unsigned long long)sum.ipip, (unsigned long long)sum.gue,
	       (unsigned long long)sum.malformed, (unsigned long long)sum.other);
	return rc;
}

int main(int argc, char **argv)
{
	long port = 6080;
	int generic = 0, ifindex;
	char *end;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout);
	if (argc < 3)
		return usage(stderr);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--generic")) {
			generic = 1;
		} else if (!strcmp(argv[i], "--gue-port") && i + 1 < argc) {
			errno = 0;
			port = strtol(argv[++i], &end, 10);
			if (errno || *end || port < 0 || port > 65535) {
				fprintf(stderr, "sluice-decap: bad port \"%s\"\n", argv[i]);
				return 2;
			}
		} else {
			return usage(stderr);
		}
	}
	libbpf_set_print(libbpf_print);
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "sluice-decap: no interface \"%s\"\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], ifindex, port, generic);
	if (!strcmp(argv[1], "detach"))
		return cmd_detach(argv[2], ifindex);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argv[2], ifindex);
	return usage(stderr);
}
