/* SPDX-License-Identifier: BSD-3-Clause */
/* Driving the XDP path from sluiced. See xdp.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xdp.h"
#include "xdp_path.h"

struct xdpctl {
	char instance[33];
	char ifname[32];
	struct sluice_xdp_path *xp;	/* open program and maps, or NULL */
	bool active;			/* attached and publishing */
	char state[200];		/* what xdpctl_state() says */
	char last_error[160];		/* logged once until it changes */
	__u32 syn_rate;			/* the flood guard, at each load */
};

static void report(struct xdpctl *x, const char *what, const char *err)
{
	snprintf(x->state, sizeof(x->state), "unavailable: %s", err);
	if (strcmp(x->last_error, err) == 0)
		return;
	snprintf(x->last_error, sizeof(x->last_error), "%s", err);
	slog(SLOG_ERR, "XDP path on %s: %s: %s; staying without it", x->ifname, what, err);
}

struct xdpctl *xdpctl_create(const char *instance, const char *ifname, __u32 syn_rate)
{
	struct xdpctl *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->syn_rate = syn_rate;
	snprintf(x->instance, sizeof(x->instance), "%s", instance);
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname ? ifname : "");
	snprintf(x->state, sizeof(x->state), "inactive");
	return x;
}

void xdpctl_destroy(struct xdpctl *x)
{
	if (!x)
		return;
	xdpctl_deactivate(x);
	free(x);
}

int xdpctl_activate(struct xdpctl *x, const struct sluice_snapshot *snap)
{
	char err[160] = "";
	int rc;

	if (x->active)
		return 0;
	if (!x->xp) {
		rc = sluice_xdp_path_open(x->instance, &x->xp, err, sizeof(err));
		if (rc < 0) {
			x->xp = NULL;
			report(x, "cannot load", err[0] ? err : strerror(-rc));
			return rc;
		}
		sluice_xdp_path_set_syn_rate(x->xp, x->syn_rate);
	}
	rc = sluice_xdp_path_attach(x->xp, x->ifname, err, sizeof(err));
	if (rc < 0) {
		report(x, "cannot attach", err[0] ? err : strerror(-rc));
		return rc;
	}
	if (snap) {
		rc = sluice_xdp_path_publish(x->xp, snap, err, sizeof(err));
		if (rc < 0) {
			report(x, "cannot publish the configuration", err[0] ? err : strerror(-rc));
			sluice_xdp_path_close(x->xp, false);
			x->xp = NULL;
			return rc;
		}
	}
	x->active = true;
	x->last_error[0] = '\0';
	snprintf(x->state, sizeof(x->state), "%s",
		 sluice_xdp_mode_name(sluice_xdp_path_mode(x->xp)));
	slog(SLOG_WARN, "XDP path attached to %s, %s: it forwards now", x->ifname,
	     sluice_xdp_path_mode_reason(x->xp));
	return 0;
}

void xdpctl_release(struct xdpctl *x)
{
	if (!x)
		return;
	if (x->xp)
		sluice_xdp_path_close(x->xp, true);
	free(x);
}

int xdpctl_take_back(struct xdpctl *x)
{
	char err[160] = "";
	int rc;

	if (x->active)
		return 0;
	if (!x->xp) {
		rc = sluice_xdp_path_open(x->instance, &x->xp, err, sizeof(err));
		if (rc < 0) {
			x->xp = NULL;
			return rc;
		}
		sluice_xdp_path_set_syn_rate(x->xp, x->syn_rate);
	}
	if (!sluice_xdp_path_left_attached(x->xp, x->ifname)) {
		sluice_xdp_path_close(x->xp, true);
		x->xp = NULL;
		return 0;
	}
	/* Attaching replaces exactly that program; closing detaches it. */
	rc = sluice_xdp_path_attach(x->xp, x->ifname, err, sizeof(err));
	sluice_xdp_path_close(x->xp, rc < 0);
	x->xp = NULL;
	if (rc < 0) {
		report(x, "cannot take back the XDP program left attached", err);
		return rc;
	}
	slog(SLOG_INFO, "detached the XDP program an earlier sluiced left on %s: sluice-dp "
			"forwards", x->ifname);
	return 1;
}

void xdpctl_deactivate(struct xdpctl *x)
{
	if (!x->xp)
		return;
	sluice_xdp_path_close(x->xp, false);
	x->xp = NULL;
	if (x->active)
		slog(SLOG_INFO, "XDP path detached from %s", x->ifname);
	x->active = false;
	snprintf(x->state, sizeof(x->state), "inactive");
}

bool xdpctl_active(const struct xdpctl *x)
{
	return x && x->active;
}

bool xdpctl_forwarding(const struct xdpctl *x)
{
	return x && x->active && sluice_xdp_path_left_attached(x->xp, x->ifname);
}

void xdpctl_publish(struct xdpctl *x, const struct sluice_snapshot *snap)
{
	static struct slog_ratelimit rl = SLOG_RATELIMIT_INIT(10, 3);
	char err[160] = "";

	if (!xdpctl_active(x))
		return;
	if (sluice_xdp_path_publish(x->xp, snap, err, sizeof(err)) < 0)
		slog_rl(&rl, SLOG_ERR, "XDP path on %s: publish failed: %s", x->ifname, err);
}

const char *xdpctl_state(const struct xdpctl *x)
{
	return x ? x->state : "inactive";
}

int xdpctl_read_xdp_counters(struct xdpctl *x, struct sluice_xdp_counters *out)
{
	if (!xdpctl_active(x))
		return -ENODEV;
	return sluice_xdp_path_read_xdp_counters(x->xp, out, NULL, 0);
}

int xdpctl_find_flow(struct xdpctl *x, const struct sluice_flow_key *key, __u64 seed,
		     __u16 *backend_id, __u16 *vip_id, __u32 *cls)
{
	if (!xdpctl_active(x))
		return -ENODEV;
	return sluice_xdp_path_find_flow(x->xp, key, seed, backend_id, vip_id, cls);
}

int xdpctl_read_counters(struct xdpctl *x, struct sluice_lcore_status *out)
{
	if (!xdpctl_active(x))
		return -ENODEV;
	return sluice_xdp_path_read_counters(x->xp, out, NULL, 0);
}
