/* SPDX-License-Identifier: BSD-3-Clause */
/* Attach to sluice-dp's status region and judge its heartbeat. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dpwatch.h"
#include "log.h"

#define DPWATCH_TICK_US 100000
#define DPWATCH_MIN_GRACE_NS 5000000000ull

struct dpwatch {
	struct event_base *base;
	struct event *timer;
	char instance[33];
	char shm_path[96];		/* /dev/shm/sluice-<instance>-status */
	struct dpwatch_hooks hooks;
	__u64 stale_ns;
	__u64 start_ns;
	struct sluice_status_region st;
	ino_t ino;			/* of the mapped region's object */
	bool alive;
	bool ever_alive;
	bool absent_reported;		/* "never came" said once */
	__u64 since_ns;
	struct slog_ratelimit rl;
};

static ino_t shm_inode(const struct dpwatch *dw)
{
	struct stat sb;

	return stat(dw->shm_path, &sb) == 0 ? sb.st_ino : 0;
}

static void detach(struct dpwatch *dw)
{
	sluice_status_close(&dw->st);
	dw->ino = 0;
}

static void try_attach(struct dpwatch *dw)
{
	char err[256];
	ino_t ino = shm_inode(dw);
	int rc;

	if (!ino)
		return;
	rc = sluice_status_attach(dw->instance, &dw->st, err, sizeof(err));
	if (rc == -ENOENT || rc == -EAGAIN)
		return;
	if (rc < 0) {
		slog_rl(&dw->rl, SLOG_ERR, "data plane status: %s", err);
		return;
	}
	dw->ino = ino;
	slog(SLOG_INFO, "data plane status region found: sluice-dp pid %u, %u lcores",
	     dw->st.hdr->writer_pid, dw->st.hdr->n_lcores);
}

/* Live lcores and the age of the freshest heartbeat; *online counts the
 * lcores that say they forward (fresh or not). */
static unsigned int scan(const struct dpwatch *dw, __u64 now, __u64 *age, bool *has_age,
			 unsigned int *online)
{
	unsigned int n, live = 0;
	__u64 best = 0;

	*has_age = false;
	*age = 0;
	*online = 0;
	if (!dw->st.hdr)
		return 0;
	n = __atomic_load_n(&dw->st.hdr->n_lcores, __ATOMIC_RELAXED);
	if (n > SLUICE_MAX_LCORES)
		n = SLUICE_MAX_LCORES;
	for (unsigned int i = 0; i < n; i++) {
		const struct sluice_lcore_status *l = &dw->st.lcores[i];
		__u64 hb = __atomic_load_n(&l->heartbeat_ns, __ATOMIC_RELAXED);

		if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == SLUICE_LCORE_UNUSED)
			continue;
		if (hb > best)
			best = hb;
		*has_age = true;
		if (__atomic_load_n(&l->state, __ATOMIC_RELAXED) == SLUICE_LCORE_ONLINE)
			(*online)++;
		if (sluice_lcore_is_live(l, now, dw->stale_ns))
			live++;
	}
	if (*has_age)
		*age = best >= now ? 0 : now - best;
	return live;
}

void dpwatch_poll(struct dpwatch *dw)
{
	__u64 now = sluice_now_ns(), age;
	unsigned int online;
	bool has_age, alive;

	if (!dw->st.hdr)
		try_attach(dw);
	alive = scan(dw, now, &age, &has_age, &online) > 0;
	/* Not alive: a restarted sluice-dp has made a new region (the old
	 * one was unlinked); follow it. */
	if (!alive && dw->st.hdr && shm_inode(dw) != dw->ino) {
		detach(dw);
		try_attach(dw);
		alive = scan(dw, now, &age, &has_age, &online) > 0;
	}
	if (alive && !dw->alive) {
		dw->alive = true;
		dw->ever_alive = true;
		dw->since_ns = now;
		slog(SLOG_INFO, "data plane is alive (sluice-dp pid %u)", dw->st.hdr->writer_pid);
		if (dw->hooks.fresh)
			dw->hooks.fresh(dw->hooks.ctx);
	} else if (!alive && dw->alive) {
		char why[128];

		dw->alive = false;
		dw->since_ns = now;
		if (!dw->st.hdr)
			snprintf(why, sizeof(why), "its status region is gone");
		else if (!online)
			snprintf(why, sizeof(why), "every lcore has stopped");
		else
			snprintf(why, sizeof(why), "heartbeat stale for %llu ms",
				 (unsigned long long)(has_age ? age / 1000000 : 0));
		slog(SLOG_WARN, "data plane is down: %s", why);
		if (dw->hooks.stale)
			dw->hooks.stale(dw->hooks.ctx, why);
	} else if (!alive && !dw->ever_alive && !dw->absent_reported) {
		__u64 grace = 2 * dw->stale_ns > DPWATCH_MIN_GRACE_NS ? 2 * dw->stale_ns
								      : DPWATCH_MIN_GRACE_NS;

		if (now - dw->start_ns >= grace) {
			dw->absent_reported = true;
			slog(SLOG_WARN, "no data plane has come up in %llu s",
			     (unsigned long long)(grace / 1000000000u));
			if (dw->hooks.stale)
				dw->hooks.stale(dw->hooks.ctx, "no data plane has come up");
		}
	}
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	dpwatch_poll(arg);
}

struct dpwatch *dpwatch_create(struct event_base *base, const char *instance, __u64 stale_ns,
			       const struct dpwatch_hooks *hooks)
{
	struct dpwatch *dw = calloc(1, sizeof(*dw));
	struct timeval tv = {.tv_sec = 0, .tv_usec = DPWATCH_TICK_US};
	char name[64];

	if (!dw)
		return NULL;
	dw->base = base;
	snprintf(dw->instance, sizeof(dw->instance), "%s", instance);
	sluice_shm_name(instance, "status", name, sizeof(name));
	snprintf(dw->shm_path, sizeof(dw->shm_path), "/dev/shm%s", name);
	if (hooks)
		dw->hooks = *hooks;
	dw->stale_ns = stale_ns;
	dw->start_ns = sluice_now_ns();
	dw->since_ns = dw->start_ns;
	dw->rl = (struct slog_ratelimit)SLOG_RATELIMIT_INIT(60, 1);
	if (base) {
		dw->timer = event_new(base, -1, EV_PERSIST, tick, dw);
		if (!dw->timer || event_add(dw->timer, &tv) < 0) {
			dpwatch_destroy(dw);
			return NULL;
		}
	}
	dpwatch_poll(dw);
	return dw;
}

void dpwatch_destroy(struct dpwatch *dw)
{
	if (!dw)
		return;
	if (dw->timer)
		event_free(dw->timer);
	detach(dw);
	free(dw);
}

void dpwatch_set_stale_ns(struct dpwatch *dw, __u64 stale_ns)
{
	dw->stale_ns = stale_ns;
}

const struct sluice_status_region *dpwatch_status(const struct dpwatch *dw)
{
	return dw && dw->st.hdr ? &dw->st : NULL;
}

void dpwatch_get_info(const struct dpwatch *dw, struct dpwatch_info *out)
{
	__u64 now = sluice_now_ns();

	unsigned int online;

	memset(out, 0, sizeof(*out));
	out->attached = dw->st.hdr != NULL;
	out->live = scan(dw, now, &out->age_ns, &out->has_age, &online);
	out->alive = out->live > 0;
	out->since_ns = dw->since_ns;
	if (out->attached) {
		out->writer_pid = dw->st.hdr->writer_pid;
		out->n_lcores = dw->st.hdr->n_lcores;
	}
}
