/* SPDX-License-Identifier: BSD-3-Clause */
/* The daemon's parts wired together, and the one commit path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "commands.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "persist.h"
#include "routing.h"
#include "snapshot.h"
#include "statetext.h"

/* sluice-dp must stay alive this long before XDP hands the NIC back; an
 * XDP path that failed to come up is retried this often. */
#define XDP_HANDBACK_S 5
#define XDP_RETRY_S 5

const struct sluice_snapshot *daemon_current_snapshot(const struct sluiced *d, __u64 *gen)
{
	const struct sluice_snapshot *snap;

	*gen = 0;
	if (!d->cfg.hdr)
		return NULL;
	snap = sluice_config_current(&d->cfg, gen);
	/* A corrupt snapshot found at attach is read by nobody here (ids,
	 * health, XDP maps, explain) until the first publish replaces it. */
	return snap && *gen == d->distrusted_gen ? NULL : snap;
}

/* The snapshot in force when sluiced attaches was written by an earlier
 * process and may have been changed by anyone who can write the region:
 * check it whole before its ids seed the model. A bad one is ignored (the
 * ids are given out afresh and the first publish replaces it), so that a
 * corrupt region does not stop, or crash, the daemon that can repair it. */
static void check_inherited(struct sluiced *d)
{
	const struct sluice_snapshot *snap;
	char err[256];
	__u64 gen;

	snap = sluice_config_current(&d->cfg, &gen);
	if (!snap || sluice_snapshot_check(snap, err, sizeof(err)) == 0)
		return;
	d->distrusted_gen = gen;
	slog(SLOG_ERR,
	     "the snapshot in force in instance %s (generation %llu) is corrupt: %s; ignoring "
	     "it, the first publish replaces it",
	     d->base_conf.instance, (unsigned long long)gen, err);
}

/* ---- model callbacks ---- */

/* A backend that the snapshot in force has DOWN under the same id starts
 * down: a restart (or a rolled-back change) does not revive it unchecked. */
static bool initial_up(void *ctx, const struct model_backend *b)
{
	struct sluiced *d = ctx;
	const struct sluice_snapshot *snap;
	const struct sluice_backend *sb;
	char a[SLUICE_ADDR_STRLEN], k[SLUICE_VIP_STRLEN];
	__u64 gen;
	__u16 pos;

	snap = daemon_current_snapshot(d, &gen);
	if (!snap || b->cfg.health.type == CONF_HEALTH_NONE)
		return true;
	pos = snap->backend_pos_by_id[b->id];
	if (pos == SLUICE_NO_POS || pos >= snap->n_backends)
		return true;
	sb = &snap->backends[pos];
	if (!sluice_addr_equal(&sb->addr, &b->cfg.addr) || sb->vip_id != b->vip->id ||
	    sb->state != SLUICE_BACKEND_DOWN)
		return true;
	sluice_addr_format(&b->cfg.addr, a, sizeof(a));
	sluice_vip_key_format(&b->vip->cfg.key, k, sizeof(k));
	slog(SLOG_INFO, "backend %s of VIP %s starts down, as the data plane has it", a, k);
	return false;
}

static void backend_added(void *ctx, struct model_backend *b)
{
	struct sluiced *d = ctx;

	if (checker_start(&d->checkers, b) < 0)
		slog(SLOG_ERR, "out of memory starting a health check");
}

static void backend_removed(void *ctx, struct model_backend *b)
{
	struct sluiced *d = ctx;

	checker_stop(&d->checkers, b);
}

static void vip_changed(void *ctx, struct model_vip *v)
{
	struct sluiced *d = ctx;

	publisher_vip_changed(d->pub, v->id);
}

static void backend_check_changed(void *ctx, struct model_backend *b)
{
	struct sluiced *d = ctx;

	checker_stop(&d->checkers, b);
	health_sm_set_limits(&b->sm, b->cfg.health.rise, b->cfg.health.fall);
	if (b->cfg.health.type == CONF_HEALTH_NONE) {
		/* Not checked any more: up by definition. A state change like
		 * any other, so logged once with its reason and counted. */
		if (!b->sm.up) {
			char a[SLUICE_ADDR_STRLEN], k[SLUICE_VIP_STRLEN];

			health_sm_init(&b->sm, b->cfg.health.rise, b->cfg.health.fall, true,
				       sluice_now_ns());
			sluice_addr_format(&b->cfg.addr, a, sizeof(a));
			sluice_vip_key_format(&b->vip->cfg.key, k, sizeof(k));
			slog(SLOG_INFO, "backend %s of VIP %s is UP: no health check any more", a,
			     k);
			d->health_changes++;
			publisher_vip_changed(d->pub, b->vip->id);
		}
		return;
	}
	backend_added(ctx, b);
}

/* A removed VIP is a changed one: the publisher drops it from snapshots. */
static const struct model_ops model_ops_template = {
	.initial_up = initial_up,
	.backend_added = backend_added,
	.backend_removed = backend_removed,
	.backend_check_changed = backend_check_changed,
	.vip_changed = vip_changed,
	.vip_removed = vip_changed,
};

/* ---- health, publisher and data-plane hooks ---- */

static void health_changed(void *ctx, struct model_backend *b)
{
	struct sluiced *d = ctx;
	char a[SLUICE_ADDR_STRLEN], k[SLUICE_VIP_STRLEN];

	sluice_addr_format(&b->cfg.addr, a, sizeof(a));
	sluice_vip_key_format(&b->vip->cfg.key, k, sizeof(k));
	if (b->sm.up)
		slog(SLOG_INFO, "backend %s of VIP %s is UP: %s (%u checks passed in a row)", a, k,
		     b->sm.detail, b->sm.ok_run);
	else
		slog(SLOG_WARN, "backend %s of VIP %s is DOWN: %s (%u checks failed in a row)", a,
		     k, b->sm.detail, b->sm.fail_run);
	d->health_changes++;
	publisher_vip_changed(d->pub, b->vip->id);
	routing_kick(d->routing);
}

static const struct sluice_status_region *pub_status(void *ctx)
{
	struct sluiced *d = ctx;

	return dpwatch_status(d->dw);
}

static void pub_published(void *ctx, const struct sluice_snapshot *snap, __u64 gen)
{
	struct sluiced *d = ctx;

	(void)gen;
	xdpctl_publish(d->xdp, snap);
}

/* Changes up to seq are in force: answer who waited for them. */
static void pub_done(void *ctx, __u64 seq)
{
	struct sluiced *d = ctx;
	struct settle_waiter *due = NULL, **pp = &d->waiters;

	/* Unlink the due ones first: a callback may add or cancel waiters. */
	while (*pp) {
		struct settle_waiter *w = *pp;

		if (w->seq <= seq) {
			*pp = w->next;
			w->next = due;
			due = w;
		} else {
			pp = &w->next;
		}
	}
	while (due) {
		struct settle_waiter *next = due->next;

		due->fn(due->arg);
		due = next;
	}
	if (!d->ready && seq >= d->ready_seq) {
		struct publisher_stats st;

		d->ready = true;
		publisher_get_stats(d->pub, &st);
		slog(SLOG_INFO, "ready: generation %llu in force, %zu VIPs, %zu backends",
		     (unsigned long long)st.generation, d->model.n_vips, d->model.n_backends);
		sd_notifyf(0, "READY=1\nSTATUS=generation %llu, %zu VIPs, %zu backends",
			   (unsigned long long)st.generation, d->model.n_vips, d->model.n_backends);
	}
}

/* Should the XDP path forward now? In mode xdp always; in fallback mode
 * while sluice-dp is down. */
static bool xdp_wanted(const struct sluiced *d)
{
	return d->eff.dp_mode == CONF_DP_XDP || (d->eff.dp_mode == CONF_DP_DPDK_XDP && d->dp_down);
}

static void xdp_arm(struct sluiced *d, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	event_add(d->xdp_timer, &tv);
}

/* One timer for both directions: bring XDP up while it is wanted and not
 * up (failures are logged once per reason by xdp.c), take it down once
 * sluice-dp has been back for XDP_HANDBACK_S. */
static void xdp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sluiced *d = arg;
	__u64 gen;

	(void)fd, (void)what;
	/* Whichever way it goes, the data path may have changed. */
	routing_kick(d->routing);
	if (xdp_wanted(d)) {
		if (!xdpctl_active(d->xdp) &&
		    xdpctl_activate(d->xdp, daemon_current_snapshot(d, &gen)) < 0)
			xdp_arm(d, XDP_RETRY_S);
		return;
	}
	if (xdpctl_active(d->xdp)) {
		slog(SLOG_INFO, "data plane alive for %d s: the XDP path hands back",
		     XDP_HANDBACK_S);
		xdpctl_deactivate(d->xdp);
	}
}

static void dp_stale(void *ctx, const char *why)
{
	struct sluiced *d = ctx;

	d->dp_down = true;
	routing_kick(d->routing);
	if (d->eff.dp_mode != CONF_DP_DPDK_XDP || xdpctl_active(d->xdp))
		return;
	slog(SLOG_WARN, "data plane down (%s): handing over to the XDP path on %s", why,
	     d->eff.interface);
	event_del(d->xdp_timer);
	xdp_tick(-1, 0, d);
}

static void dp_fresh(void *ctx)
{
	struct sluiced *d = ctx;

	d->dp_down = false;
	routing_kick(d->routing);
	event_del(d->xdp_timer);
	if (d->eff.dp_mode == CONF_DP_DPDK_XDP && xdpctl_active(d->xdp))
		xdp_arm(d, XDP_HANDBACK_S);
}

/* ---- settle waiters ---- */

void daemon_when_settled(struct sluiced *d, struct settle_waiter *w)
{
	w->seq = publisher_seq(d->pub);
	if (publisher_done_seq(d->pub) >= w->seq) {
		w->fn(w->arg);
		return;
	}
	w->next = d->waiters;
	d->waiters = w;
}

void daemon_cancel_settled(struct sluiced *d, struct settle_waiter *w)
{
	for (struct settle_waiter **pp = &d->waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			return;
		}
}

/* ---- the control socket's hooks ---- */

static json_t *ctl_dispatch(void *ctx, const char *buf, size_t len, bool read_only, bool *wait)
{
	return control_dispatch(ctx, buf, len, read_only, wait);
}

static void ctl_when_settled(void *ctx, struct settle_waiter *w)
{
	daemon_when_settled(ctx, w);
}

static void ctl_cancel_settled(void *ctx, struct settle_waiter *w)
{
	daemon_cancel_settled(ctx, w);
}

/* A change is in force: the reply says in which generation. One that is
 * not yet (the control socket gave up waiting) is still made; the reply
 * says what holds it back, by lcore, so the operator knows where to look. */
static void ctl_complete(void *ctx, const struct settle_waiter *w, json_t *resp, bool in_force)
{
	struct sluiced *d = ctx;
	__u32 ids[SLUICE_MAX_LCORES];
	char who[SLUICE_MAX_LCORES * 12] = "", msg[sizeof(who) + 128];
	unsigned int n;
	size_t len = 0;
	bool published;
	__u64 gen;

	if (in_force) {
		daemon_current_snapshot(d, &gen);
		json_object_set_new(resp, "generation", json_integer((json_int_t)gen));
		return;
	}
	published = publisher_pending(d->pub, w->seq, &gen, ids, SLUICE_MAX_LCORES, &n);
	for (unsigned int i = 0; i < n; i++)
		len += (size_t)snprintf(who + len, sizeof(who) - len, "%s%u", i ? ", " : "", ids[i]);
	if (published)
		snprintf(msg, sizeof(msg), "published, not yet acknowledged%s%s",
			 n ? (n > 1 ? " by lcores " : " by lcore ") : "", who);
	else
		snprintf(msg, sizeof(msg),
			 "not yet published: generation %llu before it is not yet acknowledged%s%s",
			 (unsigned long long)gen, n ? (n > 1 ? " by lcores " : " by lcore ") : "",
			 who);
	if (published)
		json_object_set_new(resp, "generation", json_integer((json_int_t)gen));
	json_object_set_new(resp, "acknowledged", json_false());
	json_object_set_new(resp, "message", json_string(msg));
}

/* ---- commit ---- */

static int save_state(struct sluiced *d, const struct overlay *ov, struct ju_err *e)
{
	/* Without routing (not configured, or not started yet) the drain
	 * read at start is written back as it was. */
	json_t *host = d->routing ? routing_host_json(d->routing) : json_incref(d->host_state);
	char *text = statetext_render(ov, &d->model, host);
	char err[512];
	int rc;

	json_decref(host);
	if (!text)
		return ju_fail(e, NULL, "out of memory");
	if (d->state_text && strcmp(text, d->state_text) == 0) {
		free(text);
		return 0;
	}
	rc = persist_write(d->state_path, text, err, sizeof(err));
	if (rc < 0) {
		free(text);
		return ju_fail(e, NULL, "cannot save the state: %s", err);
	}
	free(d->state_text);
	d->state_text = text;
	return 0;
}

int daemon_commit(struct sluiced *d, struct conf *base, struct overlay *ov, struct ju_err *e)
{
	struct conf eff;
	json_t *old_ids;
	int rc;

	rc = overlay_apply(ov, base, &eff);
	if (rc < 0)
		return ju_fail(e, NULL, "out of memory");
	rc = conf_validate(&eff, e);
	if (rc < 0) {
		conf_free(&eff);
		return rc;
	}
	/* The ids to go back to if this fails: those of the state saved last
	 * (read back from its text only then), or, before the first, the
	 * model's own (few: nothing runs yet). */
	old_ids = d->state_text ? NULL : model_ids_to_json(&d->model);
	rc = model_sync(&d->model, &eff, &d->model_ops);
	if (rc < 0)
		ju_fail(e, NULL, "cannot apply: %s", strerror(-rc));
	else
		rc = save_state(d, ov, e);
	if (rc < 0) {
		/* Back to what ran, with the same ids: nothing moves. */
		struct ju_err ignore = {NULL, 0};
		json_t *saved = old_ids ? NULL : json_loads(d->state_text, 0, NULL);

		model_ids_load(&d->model, old_ids ? old_ids : json_object_get(saved, "ids"), "ids",
			       &ignore);
		json_decref(saved);
		model_sync(&d->model, &d->eff, &d->model_ops);
		json_decref(old_ids);
		conf_free(&eff);
		return rc;
	}
	json_decref(old_ids);
	if (base != &d->base_conf) {
		conf_free(&d->base_conf);
		d->base_conf = *base;
	}
	if (ov != &d->overlay) {
		overlay_free(&d->overlay);
		d->overlay = *ov;
	}
	conf_free(&d->eff);
	d->eff = eff;
	routing_kick(d->routing);
	publisher_set_global(d->pub, &d->eff.global);
	publisher_set_stale_ns(d->pub, (__u64)d->eff.heartbeat_timeout_ms * 1000000u);
	dpwatch_set_stale_ns(d->dw, (__u64)d->eff.heartbeat_timeout_ms * 1000000u);
	return 0;
}

int daemon_save_state(struct sluiced *d, struct ju_err *e)
{
	return save_state(d, &d->overlay, e);
}

/* Settings that only a restart changes: keep the running ones. */
static void keep_restart_settings(const struct conf *run, struct conf *n)
{
	static const char *what = "needs a restart; keeping the running value";

	if (strcmp(run->instance, n->instance))
		slog(SLOG_WARN, "reload: instance %s", what);
	if (run->dp_mode != n->dp_mode || strcmp(run->interface, n->interface))
		slog(SLOG_WARN, "reload: dataplane.mode/interface %s", what);
	if (strcmp(run->control_socket, n->control_socket) ||
	    strcmp(run->control_group, n->control_group))
		slog(SLOG_WARN, "reload: control %s", what);
	if (run->metrics_enabled != n->metrics_enabled ||
	    strcmp(run->metrics_listen, n->metrics_listen))
		slog(SLOG_WARN, "reload: metrics %s", what);
	memcpy(n->instance, run->instance, sizeof(n->instance));
	n->dp_mode = run->dp_mode;
	memcpy(n->interface, run->interface, sizeof(n->interface));
	memcpy(n->control_socket, run->control_socket, sizeof(n->control_socket));
	memcpy(n->control_group, run->control_group, sizeof(n->control_group));
	n->metrics_enabled = run->metrics_enabled;
	memcpy(n->metrics_listen, run->metrics_listen, sizeof(n->metrics_listen));
	/* The table's routes would stay behind in the old one. */
	if (run->routing.enabled != n->routing.enabled || run->routing.table != n->routing.table)
		slog(SLOG_WARN, "reload: routing.table %s", what);
	n->routing.enabled = run->routing.enabled;
	n->routing.table = run->routing.table;
}

void daemon_reload(struct sluiced *d)
{
	char err[768], msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	struct conf n;

	sd_notify(0, "RELOADING=1");
	if (conf_load(d->config_path, &n, err, sizeof(err)) < 0) {
		slog(SLOG_ERR, "reload refused, the running configuration stays: %s", err);
		sd_notify(0, "READY=1");
		return;
	}
	keep_restart_settings(&d->base_conf, &n);
	if (daemon_commit(d, &n, &d->overlay, &e) < 0) {
		slog(SLOG_ERR, "reload refused, the running configuration stays: %s: %s",
		     d->config_path, msg);
		conf_free(&n);
	} else {
		slog(SLOG_INFO, "configuration reloaded from %s: %zu VIPs, %zu backends",
		     d->config_path, d->model.n_vips, d->model.n_backends);
	}
	sd_notify(0, "READY=1");
}

/* ---- init steps ---- */

int daemon_load(struct sluiced *d, const char *config_path, const char *state_path)
{
	char err[768];
	json_t *ids = NULL;
	int rc;

	snprintf(d->config_path, sizeof(d->config_path), "%s", config_path);
	if (state_path)
		snprintf(d->state_path, sizeof(d->state_path), "%s", state_path);
	else
		persist_default_path(config_path, d->state_path, sizeof(d->state_path));
	model_init(&d->model);
	rc = conf_load(config_path, &d->base_conf, err, sizeof(err));
	if (rc < 0) {
		slog(SLOG_ERR, "%s", err);
		return rc;
	}
	rc = persist_load_all(d->state_path, &d->overlay, &ids, &d->host_state, err,
			      sizeof(err));
	if (rc < 0) {
		slog(SLOG_ERR, "%s; sluiced does not start over a state file it cannot read: "
			       "repair it or move it away",
		     err);
		return rc;
	}
	{
		char msg[512];
		struct ju_err e = {msg, sizeof(msg)};

		rc = routing_check_host(d->host_state, &e);
		if (rc < 0) {
			slog(SLOG_ERR, "state file %s: %s; repair it or move it away",
			     d->state_path, msg);
			json_decref(ids);
			return rc;
		}
	}
	if (ids) {
		char msg[512];
		struct ju_err e = {msg, sizeof(msg)};

		rc = model_ids_load(&d->model, ids, "ids", &e);
		json_decref(ids);
		if (rc < 0) {
			slog(SLOG_ERR, "state file %s: %s; repair it or move it away",
			     d->state_path, msg);
			return rc;
		}
	}
	if (!overlay_is_empty(&d->overlay))
		slog(SLOG_INFO, "state file %s: %zu VIP and %zu backend changes made by the CLI",
		     d->state_path, d->overlay.n_vips, d->overlay.n_backends);
	return 0;
}

/* Two writers of one config region would corrupt it: sluiced holds an
 * exclusive flock(2) on the region's object for as long as it runs (the
 * kernel drops it when the process dies, SIGKILL included). */
static int lock_instance(struct sluiced *d)
{
	char name[64];
	int fd, rc;

	sluice_shm_name(d->base_conf.instance, "config", name, sizeof(name));
	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	d->lock_fd = fd;
	return 0;
}

int daemon_attach_shm(struct sluiced *d)
{
	char err[512] = "";
	__u64 gen;
	int rc;

	d->lock_fd = -1;
	/* Before touching an existing region, and again once it exists. */
	rc = lock_instance(d);
	if (rc == 0 || rc == -ENOENT)
		rc = sluice_config_create(d->base_conf.instance, &d->cfg, err, sizeof(err));
	if (rc == 0 && d->lock_fd < 0)
		rc = lock_instance(d);
	if (rc == -EWOULDBLOCK) {
		slog(SLOG_ERR, "another sluiced runs instance %s; refusing to start",
		     d->base_conf.instance);
		return rc;
	}
	if (rc < 0) {
		slog(SLOG_ERR, "shared memory of instance %s: %s", d->base_conf.instance,
		     err[0] ? err : strerror(-rc));
		return rc;
	}
	check_inherited(d);
	if (daemon_current_snapshot(d, &gen))
		slog(SLOG_INFO, "attached to instance %s at generation %llu", d->base_conf.instance,
		     (unsigned long long)gen);
	else
		slog(SLOG_INFO, "created instance %s", d->base_conf.instance);
	return 0;
}

int daemon_start(struct sluiced *d)
{
	struct publisher_hooks ph = {.ctx = d, .status = pub_status, .published = pub_published,
				     .done = pub_done};
	struct dpwatch_hooks dh = {.ctx = d, .stale = dp_stale, .fresh = dp_fresh};
	__u64 stale = (__u64)d->base_conf.heartbeat_timeout_ms * 1000000u, gen;
	char msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	int rc;

	d->start_ns = sluice_now_ns();
	d->model_ops = model_ops_template;
	d->model_ops.ctx = d;
	d->checkers.base = d->base;
	d->checkers.ctx = d;
	d->checkers.changed = health_changed;
	d->pub = publisher_create(d->base, &d->cfg, &d->model, &ph);
	if (d->base_conf.dp_mode != CONF_DP_DPDK)
		d->xdp = xdpctl_create(d->base_conf.instance, d->base_conf.interface,
				       d->base_conf.syn_rate);
	/* Before the watch: its first poll, right here, may call dp_fresh
	 * (a data plane that outlived the previous sluiced), which uses both. */
	d->xdp_timer = evtimer_new(d->base, xdp_tick, d);
	d->dw = d->xdp_timer ? dpwatch_create(d->base, d->base_conf.instance, stale, &dh) : NULL;
	d->counters = counters_create(d->base, d->dw, d->xdp);
	if (!d->pub || !d->dw || !d->counters || !d->xdp_timer ||
	    (d->base_conf.dp_mode != CONF_DP_DPDK && !d->xdp)) {
		slog(SLOG_ERR, "out of memory");
		return -ENOMEM;
	}
	model_ids_add_snapshot(&d->model, daemon_current_snapshot(d, &gen));
	/* The first commit: d's own configuration and overlay. */
	memset(&d->eff, 0, sizeof(d->eff));
	rc = daemon_commit(d, &d->base_conf, &d->overlay, &e);
	if (rc < 0) {
		slog(SLOG_ERR, "%s with the state of %s: %s", d->config_path, d->state_path, msg);
		return rc;
	}
	/* Publish (or find the snapshot in force identical) before READY. */
	publisher_touch(d->pub);
	d->ready_seq = publisher_seq(d->pub);
	if (d->base_conf.dp_mode == CONF_DP_XDP)
		xdp_tick(-1, 0, d);
	if (d->base_conf.dp_mode == CONF_DP_DPDK_XDP && !d->dp_down) {
		struct dpwatch_info di;

		dpwatch_get_info(d->dw, &di);
		if (di.alive)
			xdpctl_take_back(d->xdp);
	}
	/* Once the data path is what it will be: the first pass takes the
	 * table over. */
	if (d->eff.routing.enabled) {
		d->routing = routing_create(d, d->host_state);
		if (!d->routing) {
			slog(SLOG_ERR, "out of memory");
			return -ENOMEM;
		}
		routing_kick(d->routing);
	}
	rc = control_start(&(struct control_params){
				   .base = d->base,
				   .path = d->base_conf.control_socket,
				   .group = d->base_conf.control_group,
				   .hooks = {.ctx = d,
					     .dispatch = ctl_dispatch,
					     .when_settled = ctl_when_settled,
					     .cancel_settled = ctl_cancel_settled,
					     .complete = ctl_complete},
			   },
			   &d->ctl);
	if (rc < 0)
		return rc;
	if (d->base_conf.metrics_enabled) {
		rc = metrics_start(d, &d->metrics);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void daemon_stop(struct sluiced *d)
{
	struct model_ops stop_ops = {.ctx = d, .backend_removed = backend_removed};

	sd_notify(0, "STOPPING=1");
	control_stop(d->ctl);
	metrics_stop(d->metrics);
	/* The routes stay: fail static, and a restart does not flap them. */
	routing_destroy(d->routing);
	json_decref(d->host_state);
	/* Health checks stop with the model; the snapshot in shared memory
	 * stays, so the data plane forwards on without sluiced. */
	model_destroy(&d->model, &stop_ops);
	counters_destroy(d->counters);
	/* dataplane.xdp_on_stop: keep (mode xdp's default) leaves the program
	 * forwarding with its maps, as sluice-dp does with the snapshot. */
	if (d->xdp) {
		if (d->base_conf.xdp_keep_on_stop) {
			if (xdpctl_active(d->xdp))
				slog(SLOG_INFO, "the XDP path stays attached to %s (xdp_on_stop "
						"keep)", d->base_conf.interface);
			xdpctl_release(d->xdp);
		} else {
			xdpctl_destroy(d->xdp);
		}
	}
	dpwatch_destroy(d->dw);
	publisher_destroy(d->pub);
	if (d->xdp_timer)
		event_free(d->xdp_timer);
	sluice_config_close(&d->cfg);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	conf_free(&d->eff);
	conf_free(&d->base_conf);
	overlay_free(&d->overlay);
	free(d->state_text);
}
