/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's side of the XDP path (lib/xdp_path.h): bring it up on the
 * configured interface, keep its maps on the snapshot in force, read its
 * counters, take it down. In mode "xdp" it is the data path from the start;
 * in mode "dpdk+xdp-fallback" dpwatch brings it up when sluice-dp's
 * heartbeat goes stale and down again when sluice-dp is back.
 *
 * A failure to load or attach (no such interface, the kernel refusing the
 * program) is logged once per distinct reason, and sluiced carries on with
 * shared memory alone.
 */
#ifndef SLUICED_XDP_H
#define SLUICED_XDP_H

#include <stdbool.h>

#include "sluice/shm.h"
#include "xdp_abi.h" /* bpf/: struct sluice_xdp_counters */

struct xdpctl;

struct xdpctl *xdpctl_create(const char *instance, const char *ifname, __u32 syn_rate);
/* Detaches when active. Accepts NULL. */
void xdpctl_destroy(struct xdpctl *x);
/* Frees x but leaves its program attached, forwarding with its pinned
 * maps (dataplane.xdp_on_stop keep). Accepts NULL. */
void xdpctl_release(struct xdpctl *x);

/* Open, attach and publish snap (may be NULL: nothing published yet).
 * Returns 0 or -errno; the reason is logged (once per reason). */
int xdpctl_activate(struct xdpctl *x, const struct sluice_snapshot *snap);
void xdpctl_deactivate(struct xdpctl *x);
/* Fallback mode with sluice-dp alive at start: detach this instance's
 * program if an earlier sluiced left it attached (killed while XDP
 * forwarded, or xdp_on_stop keep). 1 when it did, 0 when there was none,
 * -errno. */
int xdpctl_take_back(struct xdpctl *x);
bool xdpctl_active(const struct xdpctl *x);
/* Active and its program still attached to the interface (an interface
 * deleted or a program detached by hand takes the XDP path away without
 * sluiced doing anything): asks the kernel, for the announcements. */
bool xdpctl_forwarding(const struct xdpctl *x);

/* Publish snap to the XDP maps when active. */
void xdpctl_publish(struct xdpctl *x, const struct sluice_snapshot *snap);

/* "inactive", "native", "generic", or "unavailable: <reason>". */
const char *xdpctl_state(const struct xdpctl *x);

/* The counters only the XDP path has (flow-table hits and misses, what it
 * handed to the kernel and why, ...), summed over CPUs; -ENODEV when it is
 * not active. */
int xdpctl_read_xdp_counters(struct xdpctl *x, struct sluice_xdp_counters *out);

/* The XDP flow table's entry of key (sluice_xdp_path_find_flow): 1, 0, or
 * -errno (-ENODEV when the path is not active). */
int xdpctl_find_flow(struct xdpctl *x, const struct sluice_flow_key *key, __u64 seed,
		     __u16 *backend_id, __u16 *vip_id, __u32 *cls);

/* Counters of the XDP path summed over CPUs; -ENODEV when not active. */
int xdpctl_read_counters(struct xdpctl *x, struct sluice_lcore_status *out);

#endif /* SLUICED_XDP_H */
