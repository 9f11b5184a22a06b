/* SPDX-License-Identifier: BSD-3-Clause */
/* The exception path's verdict on a frame (exception.h says which). Only
 * frames the data path drops get here: VIP traffic pays nothing for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_malloc.h>

#include "exception.h"

int sluice_dp_exc_init(struct sluice_dp_lcore *lc, int socket, uint64_t now)
{
	const struct sluice_dp_config *cfg = lc->cfg;
	struct sluice_dp_exc *x;

	if (!cfg->exception_ports)
		return 0;
	x = rte_zmalloc_socket("sluice_exc", sizeof(*x), RTE_CACHE_LINE_SIZE, socket);
	if (!x)
		x = rte_zmalloc("sluice_exc", sizeof(*x), RTE_CACHE_LINE_SIZE);
	if (!x)
		return -ENOMEM;
	sluice_dp_limit_init(&x->to_kernel, cfg->exception_rate, cfg->tsc_hz, now);
	sluice_dp_limit_init(&x->from_kernel, cfg->exception_rate, cfg->tsc_hz, now);
	lc->exc = x;
	return 0;
}

void sluice_dp_exc_fini(struct sluice_dp_lcore *lc)
{
	if (!lc->exc)
		return;
	rte_pktmbuf_free_bulk(lc->exc->m, lc->n_kernel);
	lc->n_kernel = 0;
	rte_free(lc->exc);
	lc->exc = NULL;
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sluice_dp_exc_addr));
}

static void addr_set(struct sluice_dp_exc_addr *a, uint8_t family, const uint8_t *bytes)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->bytes, bytes, family == SLUICE_FAMILY_V4 ? 4 : 16);
}

/* The sorted VIP addresses of snap: once per generation and lcore. */
static void build(struct sluice_dp_exc *x, const struct sluice_snapshot *snap)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < snap->n_vips && i < SLUICE_MAX_VIPS; i++) {
		const struct sluice_vip *v = &snap->vips[i];

		if (!v->in_use ||
		    (v->addr.family != SLUICE_FAMILY_V4 && v->addr.family != SLUICE_FAMILY_V6))
			continue;
		addr_set(&x->addrs[n++], v->addr.family, v->addr.bytes);
	}
	qsort(x->addrs, n, sizeof(x->addrs[0]), addr_cmp);
	x->n_addrs = n;
	x->gen = snap->generation;
	x->built = true;
}

bool sluice_dp_exc_is_vip_addr(struct sluice_dp_exc *x, const struct sluice_snapshot *snap,
			       uint8_t family, const uint8_t *bytes)
{
	struct sluice_dp_exc_addr key;
	unsigned int lo = 0, hi;

	if (!snap)
		return false;
	if (!x->built || x->gen != snap->generation)
		build(x, snap);
	addr_set(&key, family, bytes);
	hi = x->n_addrs;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&key, &x->addrs[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Reasons the host's own traffic is dropped for when there is no kernel to
 * give it to; every other reason is a bad packet or a VIP's. */
static bool kernel_reason(int r)
{
	return r == SLUICE_DROP_NOT_VIP || r == SLUICE_DROP_UNKNOWN_L3 ||
	       r == SLUICE_DROP_UNKNOWN_L4 || r == SLUICE_DROP_IP_OPTIONS ||
	       r == SLUICE_DROP_IPV6_EXT;
}

/* Addressed to this host at layer 2: a group address, the port's MAC, or
 * the MAC sluice-dp answers ARP with (made the port's, which the TAP has:
 * the kernel drops unicast frames to another MAC). */
static bool l2_ours(uint8_t *dst, const struct rte_ether_addr *port_mac, const uint8_t *lb_mac)
{
	if (dst[0] & 1)
		return true;
	if (memcmp(dst, port_mac, RTE_ETHER_ADDR_LEN) == 0)
		return true;
	if (memcmp(dst, lb_mac, RTE_ETHER_ADDR_LEN) == 0) {
		memcpy(dst, port_mac, RTE_ETHER_ADDR_LEN);
		return true;
	}
	return false;
}

/* The frame names a VIP: ARP / ND by their target, IP by its destination
 * (the outer one for ICMP errors, which the parser names by the quoted
 * packet). Non-IP frames name none. */
static bool names_vip(struct sluice_dp_exc *x, const struct sluice_snapshot *snap,
		      const uint8_t *data, const struct sluice_pkt *p)
{
	if (p->kind == SLUICE_PKT_ARP || p->kind == SLUICE_PKT_ND)
		return sluice_dp_exc_is_vip_addr(x, snap, p->vip.family, p->vip.bytes);
	if (p->family == SLUICE_FAMILY_V4)
		return sluice_dp_exc_is_vip_addr(x, snap, p->family,
						 data + p->l3_off +
							 offsetof(struct sluice_ipv4hdr, daddr));
	if (p->family == SLUICE_FAMILY_V6)
		return sluice_dp_exc_is_vip_addr(x, snap, p->family,
						 data + p->l3_off +
							 offsetof(struct sluice_ipv6hdr, daddr));
	return false;
}

int sluice_dp_exc_verdict(struct sluice_dp_lcore *lc, const struct sluice_snapshot *snap,
			  uint16_t port, struct rte_mbuf *m, const struct sluice_pkt *p,
			  const uint8_t *lb_mac, int reason, uint64_t now)
{
	struct sluice_dp_exc *x = lc->exc;
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);

	/* A handed-over ICMP error is the data path's; its worker sends
	 * nothing to the kernel for it. */
	if (lc->handed || port >= SLUICE_DP_MAX_PORTS ||
	    !(lc->cfg->exception_ports & (1u << port)))
		return reason;
	if (!kernel_reason(reason) || p->kind == SLUICE_PKT_DROP)
		return reason;
	if (rte_pktmbuf_data_len(m) < sizeof(struct sluice_ethhdr) ||
	    !l2_ours(data, &lc->cfg->port_mac[port], lb_mac))
		return reason;
	if (names_vip(x, snap, data, p))
		return reason;
	if (unlikely(!sluice_dp_limit_take(&x->to_kernel, lc->cfg->tsc_hz, now)))
		return SLUICE_DROP_TO_KERNEL_RATELIMIT;
	x->m[lc->n_kernel++] = m;
	return SLUICE_DP_TO_KERNEL;
}
