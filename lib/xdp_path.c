/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP data path as sluiced drives it (xdp_path.h): load
 * bpf/sluice_xdp.bpf.c through its skeleton with every map pinned under
 * /sys/fs/bpf/sluice/<instance>/ (reused when they exist, so a restarted
 * sluiced keeps its flows), attach it, turn snapshots into map contents,
 * read the counters.
 *
 * Publishing is in xdp_path_publish.c.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/membarrier.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errmsg.h"
#include "xdp_path_priv.h"

#define PIN_ROOT SLUICE_XDP_PIN_ROOT
#define PROG_NAME "sluice_xdp"

/* ---- libbpf messages ---- */

/* libbpf's last warning, for error messages (the verifier's log, a pinned
 * map that does not match); warnings also go to stderr. Process-wide, as
 * libbpf's print hook is. */
static char libbpf_last[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;
	size_t n;

	if (level != LIBBPF_WARN)
		return 0;
	va_copy(copy, ap);
	vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, copy);
	va_end(copy);
	n = strlen(libbpf_last);
	while (n && libbpf_last[n - 1] == '\n')
		libbpf_last[--n] = '\0';
	return vfprintf(stderr, fmt, ap);
}

/* ---- small helpers ---- */

/* Wait until no XDP program still runs with what it read before now: XDP
 * runs inside an RCU read-side section, and MEMBARRIER_CMD_GLOBAL is
 * synchronize_rcu(). Without membarrier (nohz_full), sleep well past a
 * grace period. */
void sluice_xdp_grace_period(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	usleep(100 * 1000);
}

static int mkdir_p(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* ---- reading back what the maps hold (reopen) ---- */

static int read_back(struct sluice_xdp_path *xp, char *err, size_t errlen)
{
	struct sluice_xdp *s = xp->skel;
	struct sluice_xdp_cfg_sel sel;
	__u32 zero = 0, count, i, next;
	int fd, rc;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.cfg_sel), &zero, &sel) == 0 &&
	    sel.configured) {
		xp->cur.configured = true;
		xp->cur.version = sel.slot & 1;
		/* The previous writer may have switched a moment ago. */
		xp->cur.other_in_use = true;
		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.cfg), &xp->cur.version,
					&xp->cur.cfg) < 0)
			return sluice_errf(err, errlen, -errno, "cannot read the XDP cfg map: %s",
					   strerror(errno));
		fd = bpf_map__fd(s->maps.vip_index);
		for (i = 0; i < SLUICE_XDP_VIP_INDEX_SIZE; i++) {
			__u32 k = xp->cur.version * SLUICE_XDP_VIP_INDEX_SIZE + i;

			if (bpf_map_lookup_elem(fd, &k, &xp->cur.index[i]) < 0)
				return sluice_errf(err, errlen, -errno,
						   "cannot read the XDP VIP index: %s",
						   strerror(errno));
		}
	}
	fd = bpf_map__fd(s->maps.tables);
	for (i = 0; i < SLUICE_MAX_VIPS; i++) {
		__u32 inner_id;

		xp->table[i].present = bpf_map_lookup_elem(fd, &i, &inner_id) == 0;
	}
	count = SLUICE_MAX_BACKENDS;
	rc = bpf_map_lookup_batch(bpf_map__fd(s->maps.backends), NULL, &next, xp->batch_keys,
				  xp->be, &count, NULL);
	if (rc < 0 && rc != -ENOENT)
		return sluice_errf(err, errlen, rc, "cannot read the XDP backends map: %s",
				   strerror(-rc));
	return 0;
}

/* ---- open / close ---- */

int sluice_xdp_path_open(const char *instance, struct sluice_xdp_path **out, char *err,
			 size_t errlen)
{
	struct sluice_xdp_path *xp;
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	int rc;

	*out = NULL;
	rc = sluice_instance_check(instance, err, errlen);
	if (rc < 0)
		return rc;
	libbpf_set_print(libbpf_print);
	xp = calloc(1, sizeof(*xp));
	if (!xp)
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	snprintf(xp->instance, sizeof(xp->instance), "%s", instance);
	snprintf(xp->pin_dir, sizeof(xp->pin_dir), "%s/%s", PIN_ROOT, instance);
	xp->ncpus = libbpf_num_possible_cpus();
	if (xp->ncpus <= 0) {
		rc = sluice_errf(err, errlen, xp->ncpus ? xp->ncpus : -EINVAL,
				 "cannot count the possible CPUs");
		goto fail;
	}
	xp->be = calloc(SLUICE_MAX_BACKENDS, sizeof(*xp->be));
	xp->new_be = calloc(SLUICE_MAX_BACKENDS, sizeof(*xp->new_be));
	xp->batch_keys = calloc(SLUICE_MAX_BACKENDS, sizeof(*xp->batch_keys));
	xp->batch_pairs = calloc((size_t)SLUICE_MAX_BACKENDS * xp->ncpus,
				 sizeof(*xp->batch_pairs));
	xp->percpu_buf = calloc((size_t)xp->ncpus, sizeof(struct sluice_xdp_stats));
	if (!xp->be || !xp->new_be || !xp->batch_keys || !xp->batch_pairs || !xp->percpu_buf) {
		rc = sluice_errf(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}

	rc = mkdir_p(PIN_ROOT, 0755);
	if (rc == 0)
		rc = mkdir_p(xp->pin_dir, 0700);
	if (rc < 0) {
		rc = sluice_errf(err, errlen, rc, "cannot create %s: %s (is bpffs mounted on "
				 "/sys/fs/bpf?)", xp->pin_dir, strerror(-rc));
		goto fail;
	}
	{
		LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = xp->pin_dir);

		xp->skel = sluice_xdp__open_opts(&opts);
	}
	if (!xp->skel) {
		rc = sluice_errf(err, errlen, -errno, "cannot open the XDP program: %s",
				 strerror(errno));
		goto fail;
	}
	libbpf_last[0] = '\0';
	rc = sluice_xdp__load(xp->skel);
	if (rc < 0) {
		if (strstr(libbpf_last, "reuse pinned map") || strstr(libbpf_last, "pinned"))
			rc = sluice_errf(err, errlen, rc,
					 "the maps pinned under %s do not fit this build (%s); "
					 "remove them with `sluice-xdp unpin %s` (this forgets the "
					 "flows)", xp->pin_dir, libbpf_last, instance);
		else
			rc = sluice_errf(err, errlen, rc, "the kernel refused the XDP program: %s%s%s",
					 strerror(-rc), libbpf_last[0] ? ": " : "", libbpf_last);
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	rc = bpf_obj_get_info_by_fd(bpf_map__fd(xp->skel->maps.stats), &info, &info_len);
	if (rc < 0) {
		rc = sluice_errf(err, errlen, -errno, "cannot identify the XDP maps: %s",
				 strerror(errno));
		goto fail;
	}
	xp->stats_map_id = info.id;
	rc = read_back(xp, err, errlen);
	if (rc < 0)
		goto fail;
	*out = xp;
	return 0;
fail:
	sluice_xdp_path_close(xp, false);
	return rc;
}

void sluice_xdp_path_close(struct sluice_xdp_path *xp, bool keep_attached)
{
	if (!xp)
		return;
	if (xp->ifindex && !keep_attached) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts,
			    .old_prog_fd = bpf_program__fd(xp->skel->progs.sluice_xdp));
		__u32 flags = xp->mode == SLUICE_XDP_NATIVE ? XDP_FLAGS_DRV_MODE
							       : XDP_FLAGS_SKB_MODE;

		/* Only if it is still this program (XDP_FLAGS_REPLACE). */
		bpf_xdp_detach(xp->ifindex, flags, &opts);
	}
	sluice_xdp__destroy(xp->skel);
	free(xp->be);
	free(xp->new_be);
	free(xp->batch_keys);
	free(xp->batch_pairs);
	free(xp->percpu_buf);
	free(xp);
}

/* ---- attach ---- */

enum prog_owner { OWNER_NONE, OWNER_US, OWNER_OTHER_INSTANCE, OWNER_FOREIGN };

/* Whose program is prog_id: this instance's (a sluice_xdp that uses our
 * stats map), another instance's, or something else. */
static enum prog_owner prog_owner(const struct sluice_xdp_path *xp, __u32 prog_id, char *name,
				  size_t namelen)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), map_ids[16], n;
	enum prog_owner owner = OWNER_FOREIGN;
	int fd;

	snprintf(name, namelen, "id %u", prog_id);
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return OWNER_FOREIGN;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		snprintf(name, namelen, "\"%s\" (id %u)", info.name, prog_id);
		if (strcmp(info.name, PROG_NAME) == 0) {
			owner = OWNER_OTHER_INSTANCE;
			n = info.nr_map_ids < 16 ? info.nr_map_ids : 16;
			for (__u32 i = 0; i < n; i++)
				if (map_ids[i] == xp->stats_map_id)
					owner = OWNER_US;
		}
	}
	close(fd);
	return owner;
}

int sluice_xdp_path_attach(struct sluice_xdp_path *xp, const char *ifname, char *err,
			   size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int prog_fd = bpf_program__fd(xp->skel->progs.sluice_xdp), old_fd = -1, rc, native_rc;
	__u32 replace = 0;
	char name[64];
	int ifindex;

	ifindex = (int)if_nametoindex(ifname ? ifname : "");
	if (!ifindex)
		return sluice_errf(err, errlen, -ENODEV, "no interface \"%s\"", ifname ? ifname : "");
	if (xp->ifindex && xp->ifindex != ifindex)
		return sluice_errf(err, errlen, -EBUSY, "already attached to interface index %d",
				   xp->ifindex);
	if (xp->ifindex == ifindex)
		return 0;

	rc = bpf_xdp_query(ifindex, 0, &q);
	if (rc < 0)
		return sluice_errf(err, errlen, rc, "cannot query XDP on %s: %s", ifname,
				   strerror(-rc));
	if (q.prog_id) {
		switch (prog_owner(xp, q.prog_id, name, sizeof(name))) {
		case OWNER_US:
			/* An earlier sluiced of this instance left it attached:
			 * replace exactly that program, in the mode it runs in. */
			old_fd = bpf_prog_get_fd_by_id(q.prog_id);
			if (old_fd < 0)
				return sluice_errf(err, errlen, -errno, "cannot replace XDP program %s "
						   "on %s: %s", name, ifname, strerror(errno));
			replace = XDP_FLAGS_REPLACE;
			opts.old_prog_fd = old_fd;
			break;
		case OWNER_OTHER_INSTANCE:
			return sluice_errf(err, errlen, -EBUSY,
					   "%s runs another sluice instance's XDP program %s", ifname,
					   name);
		default:
			return sluice_errf(err, errlen, -EBUSY,
					   "%s already runs XDP program %s: detach it first", ifname,
					   name);
		}
	}

	if (replace && q.attach_mode == XDP_ATTACHED_SKB) {
		native_rc = -EEXIST;
	} else {
		native_rc = bpf_xdp_attach(ifindex, prog_fd,
					   XDP_FLAGS_DRV_MODE | (replace ?: XDP_FLAGS_UPDATE_IF_NOEXIST),
					   &opts);
	}
	if (native_rc == 0) {
		xp->mode = SLUICE_XDP_NATIVE;
		snprintf(xp->mode_reason, sizeof(xp->mode_reason), "native mode (driver)");
	} else {
		rc = bpf_xdp_attach(ifindex, prog_fd,
				    XDP_FLAGS_SKB_MODE | (replace ?: XDP_FLAGS_UPDATE_IF_NOEXIST),
				    &opts);
		if (rc < 0) {
			if (old_fd >= 0)
				close(old_fd);
			return sluice_errf(err, errlen, rc,
					   "cannot attach XDP to %s: native mode: %s; generic mode: %s",
					   ifname, strerror(-native_rc), strerror(-rc));
		}
		xp->mode = SLUICE_XDP_GENERIC;
		if (native_rc == -EEXIST)
			snprintf(xp->mode_reason, sizeof(xp->mode_reason),
				 "generic mode: kept from the program it replaced");
		else
			snprintf(xp->mode_reason, sizeof(xp->mode_reason),
				 "generic mode: the driver refused native mode (%s)",
				 strerror(-native_rc));
	}
	if (old_fd >= 0)
		close(old_fd);
	xp->ifindex = ifindex;
	return 0;
}

bool sluice_xdp_path_left_attached(struct sluice_xdp_path *xp, const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex(ifname ? ifname : "");
	char name[64];

	if (!ifindex || bpf_xdp_query(ifindex, 0, &q) < 0 || !q.prog_id)
		return false;
	return prog_owner(xp, q.prog_id, name, sizeof(name)) == OWNER_US;
}

enum sluice_xdp_mode sluice_xdp_path_mode(const struct sluice_xdp_path *xp)
{
	return xp && xp->ifindex ? xp->mode : SLUICE_XDP_DETACHED;
}

const char *sluice_xdp_mode_name(enum sluice_xdp_mode mode)
{
	return mode == SLUICE_XDP_NATIVE ? "native" : mode == SLUICE_XDP_GENERIC ? "generic"
										 : "detached";
}

const char *sluice_xdp_path_mode_reason(const struct sluice_xdp_path *xp)
{
	return xp && xp->ifindex ? xp->mode_reason : "not attached";
}

int sluice_xdp_path_prog_fd(const struct sluice_xdp_path *xp)
{
	return bpf_program__fd(xp->skel->progs.sluice_xdp);
}

const char *sluice_xdp_path_pin_dir(const struct sluice_xdp_path *xp)
{
	return xp->pin_dir;
}

int sluice_xdp_path_unpin(const char *instance, char *err, size_t errlen)
{
	static const char *const maps[] = {"cfg",      "cfg_sel", "vip_index", "tables",
					   "backends", "flows",	  "stats",     "backend_stats"};
	char dir[sizeof(PIN_ROOT) + 40], path[sizeof(dir) + 32];
	int rc = sluice_instance_check(instance, err, errlen);

	if (rc < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s/%s", PIN_ROOT, instance);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, maps[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			return sluice_errf(err, errlen, -errno, "cannot remove %s: %s", path,
					   strerror(errno));
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return sluice_errf(err, errlen, -errno, "cannot remove %s: %s", dir,
				   strerror(errno));
	return 0;
}

/* ---- counters ---- */

/* Sum of the per-CPU stats element. */
static int read_stats(struct sluice_xdp_path *xp, struct sluice_xdp_stats *sum, char *err,
		      size_t errlen)
{
	const struct sluice_xdp_stats *cpu = xp->percpu_buf;
	__u32 zero = 0;
	int rc;

	rc = bpf_map_lookup_elem(bpf_map__fd(xp->skel->maps.stats), &zero, xp->percpu_buf);
	if (rc < 0)
		return sluice_errf(err, errlen, rc, "cannot read the XDP counters: %s",
				   strerror(-rc));
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < xp->ncpus; c++) {
		const __u64 *src = (const __u64 *)&cpu[c];
		__u64 *dst = (__u64 *)sum;

		for (size_t w = 0; w < sizeof(*sum) / sizeof(__u64); w++)
			dst[w] += src[w];
	}
	return 0;
}

int sluice_xdp_path_read_counters(struct sluice_xdp_path *xp, struct sluice_lcore_status *out,
				  char *err, size_t errlen)
{
	struct sluice_xdp_stats *sum = malloc(sizeof(*sum));
	struct sluice_xdp_cfg_sel sel = {0};
	__u32 zero = 0, count = SLUICE_MAX_BACKENDS, next;
	int rc;

	if (!sum)
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	rc = read_stats(xp, sum, err, errlen);
	if (rc < 0)
		goto out;
	rc = bpf_map_lookup_batch(bpf_map__fd(xp->skel->maps.backend_stats), NULL, &next,
				  xp->batch_keys, xp->batch_pairs, &count, NULL);
	if (rc < 0 && rc != -ENOENT) {
		rc = sluice_errf(err, errlen, rc, "cannot read the XDP backend counters: %s",
				 strerror(-rc));
		goto out;
	}
	rc = 0;
	memset(out, 0, sizeof(*out));
	out->counters = sum->lcore;
	for (int i = 0; i < SLUICE_MAX_VIPS; i++) {
		out->vip[i].packets = sum->vip[i].packets;
		out->vip[i].bytes = sum->vip[i].bytes;
	}
	for (__u32 k = 0; k < count; k++) {
		__u32 id = xp->batch_keys[k];

		if (id >= SLUICE_MAX_BACKENDS)
			continue;
		for (int c = 0; c < xp->ncpus; c++) {
			const struct sluice_counter_pair *p = &xp->batch_pairs[(size_t)k * xp->ncpus + c];

			out->backend[id].packets += p->packets;
			out->backend[id].bytes += p->bytes;
		}
	}
	bpf_map_lookup_elem(bpf_map__fd(xp->skel->maps.cfg_sel), &zero, &sel);
	out->seen_generation = sel.generation;
	out->heartbeat_ns = sluice_now_ns();
	out->state = xp->ifindex ? SLUICE_LCORE_ONLINE : SLUICE_LCORE_OFFLINE;
out:
	free(sum);
	return rc;
}

int sluice_xdp_path_read_xdp_counters(struct sluice_xdp_path *xp, struct sluice_xdp_counters *out,
				      char *err, size_t errlen)
{
	struct sluice_xdp_stats *sum = malloc(sizeof(*sum));
	int rc;

	if (!sum)
		return sluice_errf(err, errlen, -ENOMEM, "out of memory");
	rc = read_stats(xp, sum, err, errlen);
	if (rc == 0)
		*out = sum->xdp;
	free(sum);
	return rc;
}

int sluice_xdp_path_find_flow(struct sluice_xdp_path *xp, const struct sluice_flow_key *key,
			      __u64 seed, __u16 *backend_id, __u16 *vip_id, __u32 *cls)
{
	__u64 id = sluice_xdp_flow_id(key, seed);
	int fd = bpf_map__fd(xp->skel->maps.flows);

	for (int which = 0; which < 2; which++) {
		__u32 set_key = sluice_xdp_flow_set_of(id, which);
		struct sluice_xdp_flow_set set;

		if (bpf_map_lookup_elem(fd, &set_key, &set) < 0)
			return -errno;
		for (int w = 0; w < SLUICE_XDP_FLOW_WAYS; w++) {
			const struct sluice_xdp_flow *f = &set.way[w];

			if (f->seen && f->tag == sluice_xdp_flow_tag(id, f->ref)) {
				*backend_id = f->backend_id;
				*vip_id = f->vip_id;
				*cls = f->seen & 3;
				return 1;
			}
		}
	}
	return 0;
}
