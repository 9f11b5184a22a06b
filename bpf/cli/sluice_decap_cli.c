/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-decap: put sluice's decapsulation program (sluice_decap.bpf.c) on
 * a backend's interface, take it off, change whom it trusts, show it.
 *
 *   sluice-decap attach IFACE (--from ADDR[,ADDR...] | --from-file FILE | --any-source)
 *                       [--vip ADDR[,ADDR...] | --vip local] [--vip-file FILE]
 *                       [--local ADDR[,ADDR...]] [--refused drop|pass]
 *                       [--gue-port N] [--generic]
 *   sluice-decap detach IFACE
 *   sluice-decap allow IFACE ADDR[,ADDR...]
 *   sluice-decap deny IFACE ADDR[,ADDR...]
 *   sluice-decap refresh IFACE
 *   sluice-decap status IFACE [--json]
 *
 * attach fills the maps, attaches in native mode (generic when the driver
 * refuses, or with --generic) and exits: the interface keeps the program
 * and the maps stay pinned under /sys/fs/bpf/sluice-decap/IFACE (in a
 * network namespace other than the initial one, under .../netns-INODE/IFACE:
 * every namespace may have its own eth0, and they share one bpffs). Run it
 * again to change anything: the pinned maps are updated in place, widening
 * before narrowing, and the program replaced atomically, so traffic that
 * stays allowed is never refused on the way.
 *
 * Exit codes: 0 done; 1 the operation failed (nothing attached, the kernel
 * refused, an address to deny was not allowed); 2 bad usage or input.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "decap_abi.h"
#include "decap_cli.h"
#include "sluice_decap.skel.h"

#define PROG_NAME "sluice_decap"
#define PIN_ROOT "/sys/fs/bpf/sluice-decap"

/* The pinned maps, by their names in the object. */
enum { M_CONFIG, M_STATS, M_SOURCES, M_LOCAL, M_VIPS, M_COUNT };
static const char *const map_names[M_COUNT] = {"decap_config", "decap_stats", "allowed_sources",
					       "local_addrs", "vips"};

static const char *const counter_names[] = {
#define SLUICE_X_NAME(name) #name,
	SLUICE_DECAP_COUNTERS(SLUICE_X_NAME)
#undef SLUICE_X_NAME
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))
_Static_assert(NCOUNTERS * sizeof(__u64) == sizeof(struct sluice_decap_stats),
	       "every counter has a name");

static int usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-decap attach IFACE (--from ADDR[,ADDR...] | --from-file FILE | "
		"--any-source)\n"
		"                           [--vip ADDR[,ADDR...] | --vip local] [--vip-file FILE]\n"
		"                           [--local ADDR[,ADDR...]] [--refused drop|pass]\n"
		"                           [--gue-port N] [--generic]\n"
		"       sluice-decap detach IFACE\n"
		"       sluice-decap allow IFACE ADDR[,ADDR...]\n"
		"       sluice-decap deny IFACE ADDR[,ADDR...]\n"
		"       sluice-decap refresh IFACE\n"
		"       sluice-decap status IFACE [--json]\n");
	return f == stderr ? EXIT_USAGE : 0;
}


/* libbpf's last warning, for error messages (a pinned map that does not
 * fit, the verifier's complaint). */
static char libbpf_last[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
	return 0;
}

/* ---- where the maps live ---- */

/* An interface name that is safe in a path even when no such interface
 * exists (detach after it is gone). */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < IF_NAMESIZE && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* The nsfs inode number of the initial network namespace
 * (PROC_NET_INIT_INO in the kernel's proc_ns.h, fixed since Linux 3.8):
 * PID 1's namespace cannot be relied on, a container's PID 1 may not even
 * be readable. */
#define INIT_NETNS_INO 0xEFFFFFF9ULL

/* The pin directory of ifname and, in *netns_dir, its parent when it is
 * per namespace ("" otherwise). */
static void pin_dir(const char *ifname, char *dir, size_t len, char *netns_dir, size_t nlen)
{
	struct stat self;

	netns_dir[0] = '\0';
	if (stat("/proc/self/ns/net", &self) == 0 &&
	    (unsigned long long)self.st_ino != INIT_NETNS_INO)
		snprintf(netns_dir, nlen, "%s/netns-%llu", PIN_ROOT, (unsigned long long)self.st_ino);
	snprintf(dir, len, "%s/%s", netns_dir[0] ? netns_dir : PIN_ROOT, ifname);
}

struct target {
	const char *ifname;
	int ifindex;
	char dir[160], netns_dir[128];
	/* the XDP program on the interface */
	__u32 prog_id;
	__u8 mode;
	bool ours;
};

/* The XDP program on t->ifindex: id, mode, whether it is sluice_decap. */
static int query(struct target *t)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, rc;

	t->prog_id = 0;
	t->ours = false;
	rc = bpf_xdp_query(t->ifindex, 0, &q);
	if (rc < 0)
		return fail(EXIT_FAIL, "cannot query XDP on %s: %s", t->ifname, strerror(-rc));
	t->prog_id = q.prog_id;
	t->mode = q.attach_mode;
	if (!q.prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		rc = errno;
		if (fd >= 0)
			close(fd);
		return fail(EXIT_FAIL, "cannot inspect XDP program %u on %s: %s", q.prog_id,
			    t->ifname, strerror(rc));
	}
	close(fd);
	t->ours = strcmp(info.name, PROG_NAME) == 0;
	return 0;
}

static int target_init(struct target *t, const char *ifname, bool need_iface)
{
	memset(t, 0, sizeof(*t));
	t->ifname = ifname;
	if (!ifname_ok(ifname))
		return fail(EXIT_USAGE, "\"%s\" is not an interface name", ifname);
	pin_dir(ifname, t->dir, sizeof(t->dir), t->netns_dir, sizeof(t->netns_dir));
	t->ifindex = (int)if_nametoindex(ifname);
	if (!t->ifindex)
		return need_iface ? fail(EXIT_FAIL, "no interface \"%s\"", ifname) : 0;
	return query(t);
}

static void unpin(const struct target *t)
{
	char path[256];

	for (int m = 0; m < M_COUNT; m++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, map_names[m]);
		unlink(path);
	}
	rmdir(t->dir);
	if (t->netns_dir[0])
		rmdir(t->netns_dir);
}

/* The running program's maps, from their pins. */
struct pinned {
	int fd[M_COUNT];
	struct sluice_decap_config cfg;
};

static void pinned_close(struct pinned *p)
{
	for (int m = 0; m < M_COUNT; m++)
		if (p->fd[m] >= 0)
			close(p->fd[m]);
}

/* Open them, and make sure they are the maps the attached program uses:
 * pins left behind by an earlier program would take updates that change
 * nothing. */
static int pinned_open(const struct target *t, struct pinned *p)
{
	__u32 ids[16], len, zero = 0;
	struct bpf_prog_info info;
	char path[256];
	int fd, rc = 0;

	for (int m = 0; m < M_COUNT; m++)
		p->fd[m] = -1;
	if (!t->ifindex || !t->ours)
		return fail(EXIT_FAIL, "sluice_decap is not attached to %s", t->ifname);
	for (int m = 0; m < M_COUNT; m++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, map_names[m]);
		p->fd[m] = bpf_obj_get(path);
		if (p->fd[m] < 0) {
			rc = fail(EXIT_FAIL, "cannot open %s: %s (re-run `sluice-decap attach %s`)",
				  path, strerror(errno), t->ifname);
			goto out;
		}
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	fd = bpf_prog_get_fd_by_id(t->prog_id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		rc = fail(EXIT_FAIL, "cannot inspect XDP program %u: %s", t->prog_id,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	for (int m = 0; m < M_COUNT; m++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		bool used = false;

		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(p->fd[m], &mi, &mlen) < 0)
			continue;
		for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
			used |= ids[i] == mi.id;
		if (!used) {
			rc = fail(EXIT_FAIL, "the maps pinned in %s are not those of the program "
				  "attached to %s; re-run `sluice-decap attach %s`", t->dir,
				  t->ifname, t->ifname);
			goto out;
		}
	}
	if (bpf_map_lookup_elem(p->fd[M_CONFIG], &zero, &p->cfg) < 0)
		rc = fail(EXIT_FAIL, "cannot read the configuration map: %s", strerror(errno));
out:
	if (rc)
		pinned_close(p);
	return rc;
}

/* ---- filling the maps ---- */

static int set_insert(int fd, const struct addr_set *want)
{
	__u8 one = 1;

	for (size_t i = 0; i < want->n; i++)
		if (bpf_map_update_elem(fd, &want->a[i], &one, BPF_ANY) < 0)
			return -errno;
	return 0;
}

/* Delete the map's keys that are not in want. */
static int set_prune(int fd, const struct addr_set *want)
{
	struct addr_set stale = {0};
	struct sluice_addr key, next;
	void *prev = NULL;
	int rc = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (!set_has(want, &next) && set_add(&stale, &next) < 0) {
			rc = -ENOMEM;
			break;
		}
		key = next;
		prev = &key;
	}
	for (size_t i = 0; rc == 0 && i < stale.n; i++)
		if (bpf_map_delete_elem(fd, &stale.a[i]) < 0 && errno != ENOENT)
			rc = -errno;
	free(stale.a);
	return rc;
}

static int set_read(int fd, struct addr_set *out)
{
	struct sluice_addr key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (set_add(out, &next) < 0)
			return -ENOMEM;
		key = next;
		prev = &key;
	}
	return 0;
}

struct want {
	struct addr_set from, vips, local;
	struct sluice_decap_config cfg;
};

/*
 * Bring the maps to want: every set gains its new members, then the
 * configuration changes, then the sets lose what is no longer in them. A
 * running program therefore sees, at every moment, a state that allows
 * at least what both the old and the new state allow in common.
 */
static int fill(const int fd[M_COUNT], const struct want *w)
{
	static const int sets[] = {M_SOURCES, M_LOCAL, M_VIPS};
	const struct addr_set *want[M_COUNT] = {
		[M_SOURCES] = &w->from, [M_LOCAL] = &w->local, [M_VIPS] = &w->vips};
	__u32 zero = 0;
	int rc;

	for (int i = 0; i < 3; i++) {
		rc = set_insert(fd[sets[i]], want[sets[i]]);
		if (rc < 0)
			return fail(EXIT_FAIL, "cannot fill %s: %s", map_names[sets[i]],
				    rc == -E2BIG ? "too many addresses" : strerror(-rc));
	}
	if (bpf_map_update_elem(fd[M_CONFIG], &zero, &w->cfg, BPF_ANY) < 0)
		return fail(EXIT_FAIL, "cannot write the configuration: %s", strerror(errno));
	for (int i = 0; i < 3; i++) {
		rc = set_prune(fd[sets[i]], want[sets[i]]);
		if (rc < 0)
			return fail(EXIT_FAIL, "cannot update %s: %s", map_names[sets[i]],
				    strerror(-rc));
	}
	return 0;
}

/* ---- attach ---- */

static int load(struct target *t, bool reuse, struct sluice_decap **out)
{
	struct sluice_decap *skel = sluice_decap__open();
	struct bpf_map *maps[M_COUNT];
	char path[256];
	int rc;

	*out = NULL;
	if (!skel)
		return fail(EXIT_FAIL, "cannot open the program: %s", strerror(errno));
	maps[M_CONFIG] = skel->maps.decap_config;
	maps[M_STATS] = skel->maps.decap_stats;
	maps[M_SOURCES] = skel->maps.allowed_sources;
	maps[M_LOCAL] = skel->maps.local_addrs;
	maps[M_VIPS] = skel->maps.vips;
	for (int m = 0; m < M_COUNT; m++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, map_names[m]);
		bpf_map__set_pin_path(maps[m], path);
	}
	libbpf_last[0] = '\0';
	rc = sluice_decap__load(skel);
	if (rc < 0 && reuse && strstr(libbpf_last, "reuse")) {
		/* Pinned by an older build with another layout: start with
		 * new maps (the counters restart); the running program keeps
		 * its own until it is replaced below. */
		sluice_decap__destroy(skel);
		fprintf(stderr, "sluice-decap: the maps pinned in %s do not fit this build; "
			"replacing them (counters restart)\n", t->dir);
		unpin(t);
		mkdir(PIN_ROOT, 0755);
		if (t->netns_dir[0])
			mkdir(t->netns_dir, 0700);
		mkdir(t->dir, 0700);
		return load(t, false, out);
	}
	if (rc < 0) {
		sluice_decap__destroy(skel);
		return fail(EXIT_FAIL, "the kernel refused the program: %s%s%s", strerror(-rc),
			    libbpf_last[0] ? ": " : "", libbpf_last);
	}
	*out = skel;
	return 0;
}

static int make_dirs(const struct target *t)
{
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) < 0 || fs.f_type != BPF_FS_MAGIC)
		return fail(EXIT_FAIL, "no bpffs on /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf): "
			    "the maps must be pinned for allow, deny and status");
	if ((mkdir(PIN_ROOT, 0755) < 0 && errno != EEXIST) ||
	    (t->netns_dir[0] && mkdir(t->netns_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(t->dir, 0700) < 0 && errno != EEXIST))
		return fail(EXIT_FAIL, "cannot create %s: %s", t->dir, strerror(errno));
	return 0;
}

static int cmd_attach(struct target *t, struct want *w, bool generic)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct sluice_decap *skel = NULL;
	const char *how = "native";
	int fd[M_COUNT], rc, prog_fd, old_fd = -1;
	__u32 flags;

	if (t->prog_id && !t->ours)
		return fail(EXIT_FAIL, "%s already runs another XDP program (id %u)", t->ifname,
			    t->prog_id);
	/* Pins without a program are left from an interface or a namespace
	 * that is gone: never inherit its allowed sources. */
	if (!t->ours)
		unpin(t);
	rc = make_dirs(t);
	if (rc)
		return rc;
	rc = load(t, t->ours, &skel);
	if (rc)
		goto out;
	fd[M_CONFIG] = bpf_map__fd(skel->maps.decap_config);
	fd[M_STATS] = bpf_map__fd(skel->maps.decap_stats);
	fd[M_SOURCES] = bpf_map__fd(skel->maps.allowed_sources);
	fd[M_LOCAL] = bpf_map__fd(skel->maps.local_addrs);
	fd[M_VIPS] = bpf_map__fd(skel->maps.vips);
	rc = fill(fd, w);
	if (rc)
		goto out;

	prog_fd = bpf_program__fd(skel->progs.sluice_decap);
	if (t->ours) {
		/* Replace exactly the running one, in its mode. */
		old_fd = bpf_prog_get_fd_by_id(t->prog_id);
		opts.old_prog_fd = old_fd;
		flags = XDP_FLAGS_REPLACE;
		generic = generic || t->mode == XDP_ATTACHED_SKB;
	} else {
		flags = XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	rc = -EOPNOTSUPP;
	if (!generic)
		rc = bpf_xdp_attach(t->ifindex, prog_fd, flags | XDP_FLAGS_DRV_MODE, &opts);
	if (rc < 0) {
		int native = rc;

		how = "generic";
		rc = bpf_xdp_attach(t->ifindex, prog_fd, flags | XDP_FLAGS_SKB_MODE, &opts);
		if (rc < 0) {
			rc = fail(EXIT_FAIL, "cannot attach to %s: native: %s; generic: %s",
				  t->ifname, generic ? "not tried" : strerror(-native),
				  strerror(-rc));
			goto out;
		}
	}
	printf("sluice-decap: attached to %s (%s mode): IPIP", t->ifname, how);
	if (w->cfg.gue_port)
		printf(" and GUE on UDP port %u", w->cfg.gue_port);
	if (w->cfg.flags & SLUICE_DECAP_ANY_SOURCE)
		printf(" from any source");
	else
		printf(" from %zu load balancer address%s", w->from.n, w->from.n == 1 ? "" : "es");
	printf(" to %zu local address%s, for ", w->local.n, w->local.n == 1 ? "" : "es");
	if (w->cfg.flags & SLUICE_DECAP_VIP_ANY_LOCAL)
		printf("any local address");
	else
		printf("%zu VIP%s", w->vips.n, w->vips.n == 1 ? "" : "s");
	printf("; refused frames %s; maps in %s\n",
	       w->cfg.flags & SLUICE_DECAP_PASS_REFUSED ? "passed" : "dropped", t->dir);
	rc = 0;
out:
	if (old_fd >= 0)
		close(old_fd);
	sluice_decap__destroy(skel);
	/* A first attach that failed leaves nothing behind. */
	if (rc && !t->ours)
		unpin(t);
	return rc;
}

/* ---- detach, allow, deny, refresh ---- */

static int cmd_detach(struct target *t)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int rc;

	if (!t->ifindex || !t->ours) {
		unpin(t);
		return fail(EXIT_FAIL, "%s does not run sluice_decap", t->ifname);
	}
	opts.old_prog_fd = bpf_prog_get_fd_by_id(t->prog_id);
	rc = bpf_xdp_detach(t->ifindex, t->mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
								   : XDP_FLAGS_DRV_MODE,
			    &opts);
	if (opts.old_prog_fd >= 0)
		close(opts.old_prog_fd);
	if (rc < 0)
		return fail(EXIT_FAIL, "cannot detach from %s: %s", t->ifname, strerror(-rc));
	unpin(t);
	printf("sluice-decap: detached from %s\n", t->ifname);
	return 0;
}

static int cmd_allow_deny(struct target *t, const char *list, bool allow)
{
	struct addr_set s = {0}, now = {0};
	struct pinned p;
	char buf[SLUICE_ADDR_STRLEN];
	__u8 one = 1;
	int rc = parse_addrs(list, allow ? "allow" : "deny", &s);

	if (rc)
		goto out;
	rc = pinned_open(t, &p);
	if (rc)
		goto out;
	for (size_t i = 0; i < s.n; i++) {
		sluice_addr_format(&s.a[i], buf, sizeof(buf));
		if (allow) {
			if (bpf_map_update_elem(p.fd[M_SOURCES], &s.a[i], &one, BPF_ANY) < 0) {
				rc = fail(EXIT_FAIL, "cannot allow %s: %s", buf,
					  errno == E2BIG ? "the allowed set is full"
							 : strerror(errno));
				break;
			}
			printf("sluice-decap: %s: allowed %s\n", t->ifname, buf);
		} else if (bpf_map_delete_elem(p.fd[M_SOURCES], &s.a[i]) < 0) {
			/* Report it: a mistyped deny would leave the real
			 * address trusted. */
			rc = fail(EXIT_FAIL, "%s: %s is not an allowed source", t->ifname, buf);
		} else {
			printf("sluice-decap: %s: denied %s\n", t->ifname, buf);
		}
	}
	if (p.cfg.flags & SLUICE_DECAP_ANY_SOURCE)
		fprintf(stderr, "sluice-decap: warning: %s was attached with --any-source: the "
			"allowed set is kept but not checked\n", t->ifname);
	else if (set_read(p.fd[M_SOURCES], &now) == 0 && now.n == 0)
		fprintf(stderr, "sluice-decap: warning: no source is allowed on %s: every "
			"encapsulated frame is refused\n", t->ifname);
	pinned_close(&p);
out:
	free(s.a);
	free(now.a);
	return rc;
}

static int cmd_refresh(struct target *t)
{
	struct addr_set host = {0};
	struct pinned p;
	int rc = pinned_open(t, &p);

	if (rc)
		return rc;
	if (p.cfg.flags & SLUICE_DECAP_LOCAL_GIVEN) {
		rc = fail(EXIT_FAIL, "%s's local addresses were given with --local: re-run attach "
			  "to change them", t->ifname);
		goto out;
	}
	rc = host_addrs(&host);
	if (rc)
		goto out;
	rc = set_insert(p.fd[M_LOCAL], &host);
	if (rc == 0)
		rc = set_prune(p.fd[M_LOCAL], &host);
	if (rc < 0) {
		rc = fail(EXIT_FAIL, "cannot update local_addrs: %s", strerror(-rc));
		goto out;
	}
	printf("sluice-decap: %s: %zu local addresses\n", t->ifname, host.n);
out:
	free(host.a);
	pinned_close(&p);
	return rc;
}

/* ---- status ---- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sluice_addr));
}

static void print_set(bool json, const char *label, int fd)
{
	struct addr_set s = {0};
	char buf[SLUICE_ADDR_STRLEN];

	set_read(fd, &s);
	qsort(s.a, s.n, sizeof(*s.a), addr_cmp);
	if (json)
		printf("[");
	else
		printf("  %-17s", label);
	for (size_t i = 0; i < s.n; i++) {
		sluice_addr_format(&s.a[i], buf, sizeof(buf));
		if (json)
			printf("%s\"%s\"", i ? "," : "", buf);
		else
			printf(" %s", buf);
	}
	if (json)
		printf("]");
	else
		printf("%s\n", s.n ? "" : " (none)");
	free(s.a);
}

static int cmd_status(struct target *t, bool json)
{
	int ncpus = libbpf_num_possible_cpus();
	struct sluice_decap_stats sum = {0}, *cpu;
	const char *mode = t->mode == XDP_ATTACHED_SKB ? "generic" : "native";
	__u64 *sv = (__u64 *)&sum;
	struct pinned p;
	__u32 zero = 0;
	__u16 f;
	int rc;

	if (!t->ours) {
		if (json) {
			printf("{\"interface\":");
			json_str(t->ifname);
			printf(",\"attached\":false}\n");
		} else {
			printf("%s: sluice_decap not attached\n", t->ifname);
		}
		return EXIT_FAIL;
	}
	rc = pinned_open(t, &p);
	if (rc)
		return rc;
	cpu = calloc(ncpus > 0 ? ncpus : 1, sizeof(*cpu));
	if (!cpu || bpf_map_lookup_elem(p.fd[M_STATS], &zero, cpu) < 0) {
		free(cpu);
		pinned_close(&p);
		return fail(EXIT_FAIL, "cannot read the counters: %s", strerror(errno));
	}
	for (int c = 0; c < ncpus; c++)
		for (size_t i = 0; i < NCOUNTERS; i++)
			sv[i] += ((const __u64 *)&cpu[c])[i];
	free(cpu);
	f = p.cfg.flags;
	if (json) {
		printf("{\"interface\":");
		json_str(t->ifname);
		printf(",\"attached\":true,\"prog_id\":%u,\"mode\":\"%s\",\"pin_dir\":", t->prog_id,
		       mode);
		json_str(t->dir);
		printf(",\"gue_port\":%u,\"refused\":\"%s\",\"any_source\":%s,\"allowed_sources\":",
		       p.cfg.gue_port, f & SLUICE_DECAP_PASS_REFUSED ? "pass" : "drop",
		       f & SLUICE_DECAP_ANY_SOURCE ? "true" : "false");
		print_set(true, NULL, p.fd[M_SOURCES]);
		printf(",\"vips\":");
		if (f & SLUICE_DECAP_VIP_ANY_LOCAL)
			printf("\"local\"");
		else
			print_set(true, NULL, p.fd[M_VIPS]);
		printf(",\"local_from\":\"%s\",\"local_addresses\":",
		       f & SLUICE_DECAP_LOCAL_GIVEN ? "option" : "host");
		print_set(true, NULL, p.fd[M_LOCAL]);
		printf(",\"counters\":{");
		for (size_t i = 0; i < NCOUNTERS; i++)
			printf("%s\"%s\":%llu", i ? "," : "", counter_names[i],
			       (unsigned long long)sv[i]);
		printf("}}\n");
	} else {
		printf("%s: sluice_decap (id %u, %s mode), maps in %s\n", t->ifname, t->prog_id,
		       mode, t->dir);
		printf("  %-17s IPIP%s", "decapsulates", p.cfg.gue_port ? ", GUE on UDP port " : "");
		if (p.cfg.gue_port)
			printf("%u", p.cfg.gue_port);
		printf("; refused frames %s\n", f & SLUICE_DECAP_PASS_REFUSED ? "passed" : "dropped");
		if (f & SLUICE_DECAP_ANY_SOURCE)
			printf("  %-17s any (--any-source)\n", "allowed sources");
		else
			print_set(false, "allowed sources", p.fd[M_SOURCES]);
		if (f & SLUICE_DECAP_VIP_ANY_LOCAL)
			printf("  %-17s any local address\n", "VIPs");
		else
			print_set(false, "VIPs", p.fd[M_VIPS]);
		print_set(false, f & SLUICE_DECAP_LOCAL_GIVEN ? "local (--local)" : "local (host)",
			  p.fd[M_LOCAL]);
		printf("  %-17s", "counters");
		for (size_t i = 0; i < NCOUNTERS; i++)
			printf(" %s %llu", counter_names[i], (unsigned long long)sv[i]);
		printf("\n");
	}
	pinned_close(&p);
	return 0;
}

/* ---- arguments ---- */

static int parse_attach(int argc, char **argv, struct want *w, bool *generic)
{
	bool any_source = false, vip_local = false, pass = false, local_given = false;
	long port = 6080;
	char *end;
	int rc;

	for (int i = 3; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--generic")) {
			*generic = true;
			continue;
		}
		if (!strcmp(opt, "--any-source")) {
			any_source = true;
			continue;
		}
		if (!val)
			return fail(EXIT_USAGE, "attach: %s needs a value (see --help)", opt);
		i++;
		if (!strcmp(opt, "--from")) {
			rc = parse_addrs(val, "--from", &w->from);
		} else if (!strcmp(opt, "--from-file")) {
			rc = parse_addr_file(val, &w->from);
		} else if (!strcmp(opt, "--vip")) {
			if (!strcmp(val, "local")) {
				vip_local = true;
				rc = 0;
			} else {
				rc = parse_addrs(val, "--vip", &w->vips);
			}
		} else if (!strcmp(opt, "--vip-file")) {
			rc = parse_addr_file(val, &w->vips);
		} else if (!strcmp(opt, "--local")) {
			local_given = true;
			rc = parse_addrs(val, "--local", &w->local);
		} else if (!strcmp(opt, "--refused")) {
			if (strcmp(val, "drop") && strcmp(val, "pass"))
				return fail(EXIT_USAGE, "--refused: \"%s\" is neither drop nor pass",
					    val);
			pass = !strcmp(val, "pass");
			rc = 0;
		} else if (!strcmp(opt, "--gue-port")) {
			errno = 0;
			port = strtol(val, &end, 10);
			if (errno || *end || end == val || port < 0 || port > 65535)
				return fail(EXIT_USAGE, "--gue-port: bad port \"%s\" (0 to 65535, 0: "
					    "no GUE)", val);
			rc = 0;
		} else {
			return fail(EXIT_USAGE, "attach: unknown option \"%s\" (see --help)", opt);
		}
		if (rc)
			return rc;
	}
	if (any_source && w->from.n)
		return fail(EXIT_USAGE, "attach: --any-source and --from contradict each other");
	if (!any_source && !w->from.n)
		return fail(EXIT_USAGE, "attach: say which load balancers may send encapsulated "
			    "traffic (--from ADDR[,ADDR...] or --from-file FILE); --any-source "
			    "decapsulates from anyone, which lets anyone who reaches this host "
			    "spoof a client");
	if (vip_local && w->vips.n)
		return fail(EXIT_USAGE, "attach: --vip local and a list of VIPs contradict each "
			    "other");
	if (local_given && !w->local.n)
		return fail(EXIT_USAGE, "attach: --local names no address");
	if (!local_given) {
		rc = host_addrs(&w->local);
		if (rc)
			return rc;
		if (!w->local.n)
			return fail(EXIT_FAIL, "this host has no address but loopback ones: no "
				    "frame could be for it");
	}
	w->cfg.gue_port = (__u16)port;
	w->cfg.flags = (any_source ? SLUICE_DECAP_ANY_SOURCE : 0) |
		       (pass ? SLUICE_DECAP_PASS_REFUSED : 0) |
		       (w->vips.n ? 0 : SLUICE_DECAP_VIP_ANY_LOCAL) |
		       (local_given ? SLUICE_DECAP_LOCAL_GIVEN : 0);
	if (any_source)
		fprintf(stderr, "sluice-decap: warning: --any-source: %s decapsulates from any "
			"sender; whoever reaches it can hand its kernel packets from any client "
			"address\n", argv[2]);
	return 0;
}

int main(int argc, char **argv)
{
	struct want w;
	struct target t;
	bool generic = false;
	const char *cmd;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout);
	if (argc < 3)
		return usage(stderr);
	cmd = argv[1];
	libbpf_set_print(libbpf_print);
	if (!strcmp(cmd, "attach")) {
		memset(&w, 0, sizeof(w));
		rc = parse_attach(argc, argv, &w, &generic);
		if (rc == 0)
			rc = target_init(&t, argv[2], true);
		if (rc == 0)
			rc = cmd_attach(&t, &w, generic);
		free(w.from.a);
		free(w.vips.a);
		free(w.local.a);
		return rc;
	}
	if (!strcmp(cmd, "detach") && argc == 3)
		return target_init(&t, argv[2], false) ?: cmd_detach(&t);
	if ((!strcmp(cmd, "allow") || !strcmp(cmd, "deny")) && argc == 4)
		return target_init(&t, argv[2], true) ?: cmd_allow_deny(&t, argv[3],
									 !strcmp(cmd, "allow"));
	if (!strcmp(cmd, "refresh") && argc == 3)
		return target_init(&t, argv[2], true) ?: cmd_refresh(&t);
	if (!strcmp(cmd, "status") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "--json"))))
		return target_init(&t, argv[2], true) ?: cmd_status(&t, argc == 4);
	if (strcmp(cmd, "attach") && strcmp(cmd, "detach") && strcmp(cmd, "allow") &&
	    strcmp(cmd, "deny") && strcmp(cmd, "refresh") && strcmp(cmd, "status"))
		fprintf(stderr, "sluice-decap: unknown command \"%s\"\n", cmd);
	return usage(stderr);
}
