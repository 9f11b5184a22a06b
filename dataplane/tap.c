/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path, port side: a TAP interface per port (DPDK's net_tap,
 * created here as a virtual device) through which the host's kernel gets
 * the frames that are its own (exception.h says which) and sends its own
 * out of the port: BGP, BFD, ARP/ND for the host's addresses, ssh.
 *
 * net_tap rather than virtio_user: virtio_user's kernel side (vhost-net)
 * moves frames without a system call per frame, but needs /dev/vhost-net
 * and the vhost_net module, which many hosts (and this project's test
 * machines) lack; the exception path carries the host's control traffic,
 * thousands of frames a second, where a write per frame costs nothing
 * that matters.
 *
 * Queues: the TAP has a queue pair per worker, as every port has. Worker i
 * writes the frames it received for the kernel to TAP queue i and reads
 * TAP queue i (the kernel spreads what it sends over the queues by its
 * flow hash), sending those out of the port through its own TX queue: no
 * queue is shared, nothing is locked. net_tap's receive is cheap while
 * idle (a SIGIO-driven trigger: no system call until the kernel has
 * written something), and workers poll it on their TX-drain timer only,
 * every --tx-drain-us, never in the per-burst loop.
 *
 * The TAP's mbufs come from the pool of the worker that owns the queue:
 * the frames the kernel sends leave through that worker's TX queue, and
 * ports with MBUF_FAST_FREE want every mbuf of a TX queue from one pool.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "exception.h"
#include "dp.h"

#define TAP_DESC 64 /* net_tap takes this many mbufs per RX queue up front */

unsigned int dp_tap_mbufs(const struct dp_app *app)
{
	/* An upper bound (auto may leave some ports without a TAP): the RX
	 * queue's mbufs and a burst read from it. */
	return app->opt.exception == DP_EXCEPTION_OFF
		       ? 0
		       : app->n_ports * (TAP_DESC + SLUICE_DP_BURST_MAX);
}

/* Whether port gets a TAP: auto gives one to devices the kernel has no
 * interface of its own for (a NIC on vfio-pci); virtual devices are the
 * kernel's interfaces already (af_packet, af_xdp, tap) or have no host
 * network behind them (memif, ring, null, pcap). */
static bool wants_tap(const struct dp_app *app, uint16_t port, const struct rte_eth_dev_info *info)
{
	const struct rte_bus *bus;

	if (app->opt.exception == DP_EXCEPTION_ON)
		return true;
	if (app->opt.exception == DP_EXCEPTION_OFF)
		return false;
	bus = info->device ? rte_dev_bus(info->device) : NULL;
	if (bus && strcmp(rte_bus_name(bus), "vdev") == 0) {
		DP_LOG(INFO, "port %u (%s): a virtual device, no exception path (--exception on "
			     "gives it one)", port, info->driver_name);
		return false;
	}
	return true;
}

static int tap_queues(struct dp_app *app, uint16_t tap, const char *iface)
{
	struct rte_eth_conf conf;
	uint16_t n = (uint16_t)app->n_workers;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(tap, n, n, &conf);
	if (rc < 0) {
		DP_LOG(ERR, "TAP %s: cannot configure %u queue pairs: %s", iface, n,
		       rte_strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < n; q++) {
		const struct dp_worker *w = app->workers[q];

		rc = rte_eth_rx_queue_setup(tap, q, TAP_DESC, (unsigned int)w->socket, NULL,
					    app->pools[w->socket]);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(tap, q, TAP_DESC, (unsigned int)w->socket, NULL);
		if (rc < 0) {
			DP_LOG(ERR, "TAP %s: queue %u: %s", iface, q, rte_strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Create, configure and start the TAP of port: its MAC, its MTU. */
static int tap_create(struct dp_app *app, uint16_t port)
{
	char vdev[RTE_DEV_NAME_MAX_LEN], args[128], iface[IF_NAMESIZE], mac[RTE_ETHER_ADDR_FMT_SIZE];
	const struct rte_ether_addr *pm = &app->opt.dp.port_mac[port];
	struct rte_eth_dev_info info;
	uint16_t tap, mtu = RTE_ETHER_MTU;
	int rc;

	/* The prefix is at most 12 characters, the port id below 32. */
	if (snprintf(iface, sizeof(iface), "%.12s%u", app->opt.exception_prefix,
		     (unsigned int)(port % SLUICE_DP_MAX_PORTS)) >= (int)sizeof(iface))
		return -ENAMETOOLONG;
	/* TUNSETIFF on an existing multi-queue TAP would join it: another
	 * sluice-dp's, or one left by hand. */
	if (if_nametoindex(iface) != 0) {
		DP_LOG(ERR, "port %u: interface %s exists already (another sluice-dp in this "
			    "network namespace?): give --exception-prefix, or --exception off",
		       port, iface);
		return -EEXIST;
	}
	rte_ether_format_addr(mac, sizeof(mac), pm);
	snprintf(vdev, sizeof(vdev), "net_tap_sluice%u", port);
	snprintf(args, sizeof(args), "iface=%s,mac=%s", iface, mac);
	rc = rte_eal_hotplug_add("vdev", vdev, args);
	if (rc < 0) {
		DP_LOG(ERR, "port %u: cannot create the TAP %s (%s): needs /dev/net/tun and "
			    "CAP_NET_ADMIN; --exception off runs without it",
		       port, iface, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_get_port_by_name(vdev, &tap);
	if (rc < 0 || tap >= SLUICE_DP_MAX_PORTS) {
		DP_LOG(ERR, "TAP %s: no usable port id", iface);
		rte_eal_hotplug_remove("vdev", vdev);
		return rc < 0 ? rc : -E2BIG;
	}
	app->tap_port[port] = tap;
	rc = rte_eth_dev_info_get(tap, &info);
	if (rc == 0 && (info.max_rx_queues < app->n_workers || info.max_tx_queues < app->n_workers)) {
		DP_LOG(ERR, "TAP %s: %u workers need %u queue pairs, net_tap has %u: give EAL "
			    "fewer workers, or --exception off",
		       iface, app->n_workers, app->n_workers, info.max_rx_queues);
		return -EINVAL;
	}
	rc = tap_queues(app, tap, iface);
	if (rc < 0)
		return rc;
	/* The kernel must not send what the port cannot carry. */
	if (rte_eth_dev_get_mtu(port, &mtu) < 0)
		mtu = RTE_ETHER_MTU;
	/* Checked on every frame the kernel sends, too: setting the TAP's MTU
	 * may fail (a warning below), the port's limit stays. */
	app->tap_max_frame[port] = (uint16_t)RTE_MIN((uint32_t)mtu + RTE_ETHER_HDR_LEN + 4,
						    (uint32_t)UINT16_MAX);
	rc = rte_eth_dev_set_mtu(tap, mtu);
	if (rc < 0)
		DP_LOG(WARNING, "TAP %s: cannot set MTU %u: %s", iface, mtu, rte_strerror(-rc));
	rc = rte_eth_dev_start(tap);
	if (rc < 0) {
		DP_LOG(ERR, "TAP %s: cannot start: %s", iface, rte_strerror(-rc));
		return rc;
	}
	app->tap_started[port] = true;
	app->opt.dp.exception_ports |= 1u << port;
	DP_LOG(INFO, "port %u: exception path through TAP %s (DPDK port %u), MAC %s, MTU %u, "
		     "%u queue pair%s, at most %u frames/s per worker each way",
	       port, iface, tap, mac, mtu, app->n_workers, app->n_workers == 1 ? "" : "s",
	       app->opt.dp.exception_rate);
	return 0;
}

int dp_tap_init(struct dp_app *app)
{
	for (unsigned int p = 0; p < SLUICE_DP_MAX_PORTS; p++)
		app->tap_port[p] = DP_NO_QUEUE;
	for (unsigned int p = 0; p < app->n_ports; p++) {
		uint16_t port = app->ports[p];
		struct rte_eth_dev_info info;
		int rc = rte_eth_dev_info_get(port, &info);

		if (rc < 0 || !wants_tap(app, port, &info))
			continue;
		rc = tap_create(app, port);
		/* In auto mode a TAP that could not be made at all (no
		 * /dev/net/tun, no CAP_NET_ADMIN, the name taken) leaves the port
		 * without an exception path rather than refusing to forward: a
		 * sluice-dp that started before the exception path existed still
		 * starts. Asked for (on), or half made, it stops the start. */
		if (rc < 0 && app->opt.exception == DP_EXCEPTION_AUTO &&
		    app->tap_port[port] == DP_NO_QUEUE) {
			DP_LOG(WARNING, "port %u: no exception path (--exception auto): the host's own "
					"traffic on this port is dropped as not_vip",
			       port);
			continue;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

void dp_tap_fini(struct dp_app *app)
{
	for (unsigned int p = 0; p < SLUICE_DP_MAX_PORTS; p++) {
		uint16_t tap = app->tap_port[p];
		char name[RTE_ETH_NAME_MAX_LEN];

		if (tap == DP_NO_QUEUE)
			continue;
		if (app->tap_started[p] && rte_eth_dev_stop(tap) < 0)
			DP_LOG(WARNING, "TAP of port %u: cannot stop", p);
		app->tap_started[p] = false;
		/* Closing the queues' descriptors removes the interface. */
		if (rte_eth_dev_get_name_by_port(tap, name) == 0) {
			rte_eth_dev_close(tap);
			rte_eal_hotplug_remove("vdev", name);
		}
		app->tap_port[p] = DP_NO_QUEUE;
	}
	app->opt.dp.exception_ports = 0;
}

void dp_tap_send(struct dp_worker *w, uint16_t port)
{
	struct sluice_dp_lcore *lc = &w->dp;
	uint16_t n = lc->n_kernel, sent = 0;

	lc->n_kernel = 0;
	if (likely(port < SLUICE_DP_MAX_PORTS && w->app->tap_port[port] != DP_NO_QUEUE))
		sent = rte_eth_tx_burst(w->app->tap_port[port], (uint16_t)w->index, lc->exc->m, n);
	lc->ctr.to_kernel += sent;
	if (unlikely(sent < n)) {
		/* The TAP's queue to the kernel is full: the kernel does not
		 * keep up with what reaches it, or is not reading at all. */
		lc->ctr.drops[SLUICE_DROP_TO_KERNEL_FULL] += (uint64_t)(n - sent);
		rte_pktmbuf_free_bulk(&lc->exc->m[sent], n - sent);
	}
}

/* A frame the kernel sent that the port can carry: one segment (net_tap
 * reads a frame into one mbuf unless scatter is on, which it is not), an
 * Ethernet header, at most the port's MTU and a tag (max_frame). */
static bool from_kernel_ok(const struct rte_mbuf *m, uint16_t max_frame)
{
	return m->nb_segs == 1 && rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN &&
	       rte_pktmbuf_data_len(m) <= max_frame;
}

/* What the kernel wrote to this worker's TAP queues goes out of their
 * ports, at most --exception-rate frames a second: the rest wait in the
 * TAP's queue, and the kernel drops when that is full (its TCP slows
 * down), never this worker. */
void dp_tap_poll(struct dp_worker *w, uint64_t now)
{
	struct sluice_dp_lcore *lc = &w->dp;
	const uint64_t hz = lc->cfg->tsc_hz;
	const uint16_t burst = (uint16_t)w->app->opt.burst;

	for (unsigned int q = 0; q < w->n_rxq; q++) {
		const uint16_t port = w->rxq[q].port;
		const uint16_t tap = w->app->tap_port[port];
		struct dp_txbuf *b = &w->tx[port];
		struct rte_mbuf *in[SLUICE_DP_BURST_MAX];
		uint16_t want = 0, nb;

		if (tap == DP_NO_QUEUE)
			continue;
		while (want < burst && sluice_dp_limit_take(&lc->exc->from_kernel, hz, now))
			want++;
		if (want == 0)
			return;
		nb = rte_eth_rx_burst(tap, (uint16_t)w->index, in, want);
		/* Tokens not used go back: the bucket counts frames read. */
		lc->exc->from_kernel.level += (uint64_t)(want - nb) * hz;
		for (uint16_t i = 0; i < nb; i++) {
			if (unlikely(!from_kernel_ok(in[i], w->app->tap_max_frame[port]))) {
				lc->ctr.drops[SLUICE_DROP_FROM_KERNEL_INVALID]++;
				rte_pktmbuf_free(in[i]);
				continue;
			}
			lc->ctr.from_kernel++;
			b->m[b->n++] = in[i];
			if (b->n >= burst)
				dp_tx_flush(w, port);
		}
	}
}
