/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports, queues and mbuf pools. Every port EAL found is used, and worker i
 * owns RX and TX queue i of every port: a flow table is per worker, so a
 * flow must always arrive on the same worker's queue, and every port must
 * give each worker a queue pair. A port that cannot is refused at start
 * (running with fewer workers than asked for would only show up later as
 * a throughput ceiling nobody chose).
 *
 * RSS on the 5-tuple (IPv4/IPv6, TCP/UDP; IP addresses alone for other
 * protocols and fragments) with sluice's own key (sluice_dp_rss_key), and the
 * RETA spread over the workers round-robin where the device has one.
 * Pools are per NUMA socket, sized for the queues and TX buffers of the
 * workers on it; an RX queue takes its mbufs from the pool of its worker's
 * socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp.h"

#define POOL_CACHE 256
#define POOL_MIN 4095
#define FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN) /* one VLAN tag */

/* What the NIC hashes on: the 5-tuple of TCP and UDP over IPv4 and IPv6,
 * the addresses of everything else. Fragments hash on their addresses
 * only (the FRAG types in RTE_ETH_RSS_IP: a later fragment carries no
 * ports). A NIC that hashes a first fragment on its ports, or lacks the
 * FRAG types, spreads a datagram over workers: the workers hand every
 * fragment to the worker of its addresses (process.c), where its entry is. */
#define DP_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)
/* Without these a whole family of flows lands on one queue. The rest of
 * DP_RSS_HF (IPv6 extension-header variants, "other" protocols) only some
 * NICs have. */
#define DP_RSS_HF_NEEDED                                                          \
	(RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP | \
	 RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP)

/* Every worker gets a queue pair on every port, or the port is refused. */
static int check_queues(const struct dp_app *app, uint16_t port,
			const struct rte_eth_dev_info *info)
{
	unsigned int n = app->n_workers;

	if (info->max_rx_queues >= n && info->max_tx_queues >= n)
		return 0;
	DP_LOG(ERR, "port %u (%s): %u worker%s need %u RX and %u TX queues, the port supports "
		    "%u RX and %u TX: give EAL at most %u worker lcore%s (-l/--lcores), or a "
		    "device with more queues (net_af_packet: qpairs=%u)",
	       port, info->driver_name, n, n == 1 ? "" : "s", n, n, info->max_rx_queues,
	       info->max_tx_queues, RTE_MIN(info->max_rx_queues, info->max_tx_queues),
	       RTE_MIN(info->max_rx_queues, info->max_tx_queues) == 1 ? "" : "s", n);
	return -EINVAL;
}

/* The hash functions this port will use; says what it lacks. */
static uint64_t rss_functions(const struct dp_app *app, uint16_t port,
			      const struct rte_eth_dev_info *info)
{
	uint64_t hf = DP_RSS_HF & info->flow_type_rss_offloads;

	if (app->n_workers == 1)
		return 0;
	if (hf == 0)
		/* memif and af_packet: the peer, or the kernel's fanout hash,
		 * picks the queue. Correct as long as it keeps a flow on one
		 * queue: a memif peer decides; af_packet's fanout may roll a
		 * packet over to another socket when its ring is full. */
		DP_LOG(WARNING, "port %u (%s) has no RSS: which of its %u queues a packet "
				"arrives on is up to the device or its peer, and a flow must "
				"always use the same one",
		       port, info->driver_name, app->n_workers);
	else if ((hf & DP_RSS_HF_NEEDED) != DP_RSS_HF_NEEDED)
		DP_LOG(WARNING, "port %u (%s): RSS lacks flow types 0x%" PRIx64 " (rte_ethdev.h "
				"RTE_ETH_RSS_*): those flows are hashed on fewer fields or all "
				"go to queue 0",
		       port, info->driver_name, DP_RSS_HF_NEEDED & ~hf);
	return hf;
}

static uint32_t data_room(const struct dp_app *app)
{
	uint32_t frame = (app->opt.dp.mtu ? app->opt.dp.mtu : RTE_ETHER_MTU) + FRAME_OVERHEAD;

	return RTE_PKTMBUF_HEADROOM + RTE_MAX((uint32_t)2048, frame);
}

static int create_pools(struct dp_app *app)
{
	uint32_t need[RTE_MAX_NUMA_NODES] = {0};

	for (unsigned int i = 0; i < app->n_workers; i++) {
		const struct dp_worker *w = app->workers[i];
		uint32_t n = POOL_CACHE + 2 * SLUICE_DP_BURST_MAX;

		for (unsigned int p = 0; p < app->n_ports; p++)
			if (i < app->n_queues[app->ports[p]])
				n += app->opt.rx_desc + app->opt.tx_desc + DP_TXBUF_MAX;
		need[w->socket] += n + dp_tap_mbufs(app);
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		uint32_t n = POOL_MIN;

		if (!need[s])
			continue;
		while (n < need[s] + need[s] / 2)
			n = n * 2 + 1; /* 2^k - 1: the ring's best size */
		snprintf(name, sizeof(name), "sluice_mbuf_%u", s);
		app->pools[s] = rte_pktmbuf_pool_create(name, n, POOL_CACHE, 0,
							(uint16_t)data_room(app), (int)s);
		if (!app->pools[s]) {
			DP_LOG(ERR, "cannot create a pool of %u mbufs on socket %u: %s", n, s,
			       rte_strerror(rte_errno));
			return -rte_errno;
		}
		DP_LOG(INFO, "pool %s: %u mbufs of %u bytes", name, n, data_room(app));
	}
	return 0;
}

/* Spread the RETA over the workers round-robin: entry i -> queue i % n.
 * Many PMDs start that way, but not all (some fill it for the maximum
 * number of queues, some keep a table from the previous run), and the
 * spread decides what share of the flows each worker gets. */
static void reta_spread(struct dp_app *app, uint16_t port, const struct rte_eth_dev_info *info)
{
	struct rte_eth_rss_reta_entry64 reta[DP_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t size = info->reta_size, nq = app->n_queues[port];
	int rc;

	if (size == 0) {
		DP_LOG(INFO, "port %u (%s): no RETA to program: the device spreads flows over "
			     "its %u queues itself", port, info->driver_name, nq);
		return;
	}
	if (size > DP_RETA_MAX || size % RTE_ETH_RETA_GROUP_SIZE) {
		DP_LOG(WARNING, "port %u (%s): RETA of %u entries, sluice programs multiples of "
				"%d up to %d: keeping the device's spread over %u queues",
		       port, info->driver_name, size, RTE_ETH_RETA_GROUP_SIZE, DP_RETA_MAX, nq);
		return;
	}
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % nq;
	}
	rc = rte_eth_dev_rss_reta_update(port, reta, size);
	if (rc == -ENOTSUP) {
		DP_LOG(INFO, "port %u (%s): the RETA cannot be programmed: the device spreads "
			     "flows over its %u queues itself", port, info->driver_name, nq);
		return;
	}
	if (rc < 0) {
		/* The device's own spread still keeps each flow on one queue. */
		DP_LOG(WARNING, "port %u: RETA update refused (%s): keeping the device's",
		       port, rte_strerror(-rc));
		return;
	}
	app->reta_size[port] = size;
	DP_LOG(INFO, "port %u: RETA of %u entries spread over %u queues", port, size, nq);
}

static int port_setup(struct dp_app *app, uint16_t port, uint64_t rss_hf,
		      const struct rte_eth_dev_info *info)
{
	uint16_t nq = app->n_queues[port];
	struct rte_eth_conf conf;
	struct rte_eth_txconf txconf = info->default_txconf;
	struct rte_eth_rxconf rxconf = info->default_rxconf;
	uint16_t nb_rxd = (uint16_t)app->opt.rx_desc, nb_txd = (uint16_t)app->opt.tx_desc;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	memset(&conf, 0, sizeof(conf));
	if (nq > 1 && rss_hf) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
		/* ethdev wants the device's own key length; a device with a
		 * longer key than ours keeps its default one (and says so). */
		if (info->hash_key_size <= SLUICE_DP_RSS_KEY_LEN) {
			app->rss_key_len[port] = info->hash_key_size ? info->hash_key_size : 40;
			conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)sluice_dp_rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = app->rss_key_len[port];
		} else {
			DP_LOG(WARNING, "port %u: RSS key of %u bytes, sluice has %d: keeping the "
					"device's key", port, info->hash_key_size, SLUICE_DP_RSS_KEY_LEN);
		}
	}
	app->rss_hf[port] = conf.rx_adv_conf.rss_conf.rss_hf;
	/* Every mbuf a queue sends comes from one pool, with refcnt 1. */
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc < 0) {
		DP_LOG(ERR, "port %u: cannot configure %u queues: %s", port, nq, rte_strerror(-rc));
		return rc;
	}
	if (app->opt.dp.mtu) {
		rc = rte_eth_dev_set_mtu(port, app->opt.dp.mtu);
		if (rc < 0)
			DP_LOG(WARNING, "port %u: cannot set MTU %u (%s): keeping the device's",
			       port, app->opt.dp.mtu, rte_strerror(-rc));
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc < 0) {
		DP_LOG(ERR, "port %u: descriptor counts refused: %s", port, rte_strerror(-rc));
		return rc;
	}
	rxconf.offloads = conf.rxmode.offloads;
	txconf.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < nq; q++) {
		struct dp_worker *w = app->workers[q];

		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, socket < 0 ? (unsigned)w->socket
									 : (unsigned)socket,
					    &rxconf, app->pools[w->socket]);
		if (rc < 0) {
			DP_LOG(ERR, "port %u: RX queue %u: %s", port, q, rte_strerror(-rc));
			return rc;
		}
		rc = rte_eth_tx_queue_setup(port, q, nb_txd, socket < 0 ? (unsigned)w->socket
									 : (unsigned)socket,
					    &txconf);
		if (rc < 0) {
			DP_LOG(ERR, "port %u: TX queue %u: %s", port, q, rte_strerror(-rc));
			return rc;
		}
		w->rxq[w->n_rxq].port = port;
		w->rxq[w->n_rxq].queue = q;
		w->n_rxq++;
		w->txq[port] = q;
	}
	rc = rte_eth_dev_start(port);
	if (rc < 0) {
		DP_LOG(ERR, "port %u: cannot start: %s", port, rte_strerror(-rc));
		return rc;
	}
	app->started[port] = true;
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS)
		reta_spread(app, port, info);
	/* Neighbour solicitations go to solicited-node multicast groups; a
	 * NIC filters those out unless told otherwise. Virtual devices that
	 * see everything anyway may not implement the call. */
	rc = rte_eth_allmulticast_enable(port);
	if (rc < 0 && rc != -ENOTSUP)
		DP_LOG(WARNING, "port %u: cannot receive all multicast (%s): IPv6 neighbour "
			       "solicitations may not arrive", port, rte_strerror(-rc));
	/* Frames to --lb-mac, when it is not the port's own. */
	if (app->opt.dp.lb_mac_set) {
		rc = rte_eth_dev_mac_addr_add(port, &app->opt.dp.lb_mac, 0);
		if (rc < 0 && rc != -ENOTSUP)
			DP_LOG(WARNING, "port %u: cannot add the --lb-mac address (%s)", port,
			       rte_strerror(-rc));
	}
	rc = rte_eth_macaddr_get(port, &app->opt.dp.port_mac[port]);
	if (rc < 0)
		memset(&app->opt.dp.port_mac[port], 0, sizeof(app->opt.dp.port_mac[port]));
	{
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &app->opt.dp.port_mac[port]);
		DP_LOG(INFO, "port %u (%s): %u queue pair%s%s, MAC %s", port, info->driver_name, nq,
		       nq > 1 ? "s" : "", app->rss_hf[port] ? " with RSS on sluice's key" : "",
		       mac);
	}
	return 0;
}

/* Where the workers may hand an ICMP error or an IP fragment to the flow's
 * worker: ports
 * whose spread they know, i.e. sluice's key and the RETA it programmed,
 * or (--assume-reta) a peer without RSS that spreads flows the same way. */
static void handoff_setup(struct dp_app *app)
{
	app->opt.dp.n_workers = (uint16_t)app->n_workers;
	for (unsigned int p = 0; p < app->n_ports && app->n_workers > 1; p++) {
		uint16_t port = app->ports[p];

		if (app->rss_hf[port] && app->rss_key_len[port] && app->reta_size[port])
			app->opt.dp.reta_size[port] = app->reta_size[port];
		else if (!app->rss_hf[port] && app->opt.assume_reta)
			app->opt.dp.reta_size[port] = (uint16_t)app->opt.assume_reta;
		if (app->opt.dp.reta_size[port])
			DP_LOG(INFO, "port %u: ICMP errors and IP fragments go to the worker of "
				     "their flow", port);
		else
			DP_LOG(INFO, "port %u: the spread of flows over workers is not known: ICMP "
				     "errors and IP fragments are handled by the worker that "
				     "receives them", port);
	}
}

int dp_ports_init(struct dp_app *app)
{
	struct rte_eth_dev_info info[SLUICE_DP_MAX_PORTS];
	uint64_t rss_hf[SLUICE_DP_MAX_PORTS];
	uint16_t port;
	int rc;

	for (unsigned int i = 0; i < app->n_workers; i++)
		for (unsigned int p = 0; p < SLUICE_DP_MAX_PORTS; p++)
			app->workers[i]->txq[p] = DP_NO_QUEUE;
	RTE_ETH_FOREACH_DEV(port) {
		if (port >= SLUICE_DP_MAX_PORTS) {
			DP_LOG(ERR, "port id %u: this build handles port ids below %d", port,
			       SLUICE_DP_MAX_PORTS);
			return -E2BIG;
		}
		rc = rte_eth_dev_info_get(port, &info[port]);
		if (rc < 0) {
			DP_LOG(ERR, "port %u: no device information: %s", port, rte_strerror(-rc));
			return rc;
		}
		rc = check_queues(app, port, &info[port]);
		if (rc < 0)
			return rc;
		app->n_queues[port] = (uint16_t)app->n_workers;
		rss_hf[port] = rss_functions(app, port, &info[port]);
		app->ports[app->n_ports++] = port;
	}
	if (app->n_ports == 0) {
		DP_LOG(ERR, "no ports: give EAL a device (a NIC bound to vfio-pci, or a virtual "
			    "device such as --vdev net_memif0,role=client,socket=/run/x.sock, "
			    "--vdev net_af_packet0,iface=eth0, --vdev net_tap0)");
		return -ENODEV;
	}
	rc = create_pools(app);
	if (rc < 0)
		return rc;
	for (unsigned int p = 0; p < app->n_ports; p++) {
		port = app->ports[p];
		rc = port_setup(app, port, rss_hf[port], &info[port]);
		if (rc < 0)
			return rc;
	}
	dp_ports_check_links(app, true);
	handoff_setup(app);
	return 0;
}

void dp_ports_check_links(struct dp_app *app, bool log_all)
{
	static int8_t last_up[SLUICE_DP_MAX_PORTS] = {[0 ... SLUICE_DP_MAX_PORTS - 1] = -1};

	for (unsigned int p = 0; p < app->n_ports; p++) {
		uint16_t port = app->ports[p];
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(port, &link) < 0)
			continue;
		if (!log_all && last_up[port] == (int8_t)link.link_status)
			continue;
		last_up[port] = (int8_t)link.link_status;
		if (link.link_status)
			DP_LOG(INFO, "port %u: link up, %u Mbit/s, %s duplex", port,
			       link.link_speed, link.link_duplex ? "full" : "half");
		else
			DP_LOG(INFO, "port %u: link down", port);
	}
}

void dp_ports_fini(struct dp_app *app)
{
	for (unsigned int p = 0; p < app->n_ports; p++) {
		uint16_t port = app->ports[p];

		if (app->started[port]) {
			int rc = rte_eth_dev_stop(port);

			if (rc < 0)
				DP_LOG(WARNING, "port %u: stop: %s", port, rte_strerror(-rc));
			app->started[port] = false;
		}
		rte_eth_dev_close(port);
	}
	app->n_ports = 0;
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(app->pools[s]);
		app->pools[s] = NULL;
	}
}
