/* SPDX-License-Identifier: BSD-3-Clause */
/* Building test frames byte by byte (independently of include/sluice's
 * writers) and checking checksums the textbook way (RFC 1071, big-endian
 * byte pairs), for the packet tests of both data paths. */
#ifndef SLUICE_TEST_FRAMES_H
#define SLUICE_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

struct frame {
	uint8_t b[2048];
	size_t len;
};

static const uint8_t fr_client_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t fr_lb_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

static inline void fr_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t fr_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t fr_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071 over bytes; 0 when a buffer with its checksum in place is valid. */
static inline uint16_t fr_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t fr_csum6(const uint8_t *ip6, const uint8_t *l4, size_t len, uint8_t proto)
{
	uint32_t sum = 0;

	for (int i = 8; i < 40; i += 2)
		sum += (uint32_t)(ip6[i] << 8 | ip6[i + 1]);
	sum += (uint32_t)len + proto;
	return fr_csum(l4, len, sum);
}

/* Ethernet (+ optional VLAN tag) header; returns the L3 offset. */
static inline size_t fr_eth(struct frame *f, uint16_t proto, int vlan)
{
	memcpy(f->b, fr_lb_mac, 6);
	memcpy(f->b + 6, fr_client_mac, 6);
	if (vlan) {
		fr_put16(f->b + 12, 0x8100);
		fr_put16(f->b + 14, (uint16_t)vlan);
		fr_put16(f->b + 16, proto);
		return 18;
	}
	fr_put16(f->b + 12, proto);
	return 14;
}

/* An ARP packet for IPv4 over Ethernet (op 1 request, 2 reply) from the
 * client's MAC, sent to the load balancer's MAC. */
static inline void fr_arp(struct frame *f, int vlan, uint16_t op, const uint8_t sender[4],
			  const uint8_t target[4])
{
	size_t l3 = fr_eth(f, 0x0806, vlan);
	uint8_t *a = f->b + l3;

	memset(a, 0, 28);
	fr_put16(a, 1);
	fr_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	fr_put16(a + 6, op);
	memcpy(a + 8, fr_client_mac, 6);
	memcpy(a + 14, sender, 4);
	memcpy(a + 24, target, 4);
	f->len = l3 + 28;
}

/* IPv4 TCP/UDP frame with payload bytes of 0xab. */
static inline void fr_ipv4(struct frame *f, int vlan, uint8_t proto, const uint8_t src[4],
			   const uint8_t dst[4], uint16_t sport, uint16_t dport, uint8_t tcp_flags,
			   size_t payload, uint16_t frag)
{
	size_t l3 = fr_eth(f, 0x0800, vlan), l4len = proto == 6 ? 20 : 8;
	uint8_t *ip = f->b + l3, *l4 = ip + 20;

	memset(ip, 0, 20 + l4len + payload);
	ip[0] = 0x45;
	ip[1] = 0x10;
	fr_put16(ip + 2, (uint16_t)(20 + l4len + payload));
	fr_put16(ip + 4, 0x1234);
	fr_put16(ip + 6, frag);
	ip[8] = 61;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	fr_put16(ip + 10, fr_csum(ip, 20, 0));
	fr_put16(l4, sport);
	fr_put16(l4 + 2, dport);
	if (proto == 6) {
		l4[12] = 0x50;
		l4[13] = tcp_flags;
	} else {
		fr_put16(l4 + 4, (uint16_t)(8 + payload));
	}
	memset(l4 + l4len, 0xab, payload);
	f->len = l3 + 20 + l4len + payload;
}

/* Fragment at byte offset off (a multiple of 8; MF when more) of an IPv4
 * TCP/UDP datagram with IP ID id: the first carries the L4 header (ports
 * sport, dport, as fr_ipv4 writes it) and payload bytes after it, a later
 * one payload bytes only. */
static inline void fr_ipv4_frag(struct frame *f, uint8_t proto, const uint8_t src[4],
				const uint8_t dst[4], uint16_t sport, uint16_t dport, uint16_t id,
				uint16_t off, int more, size_t payload)
{
	uint8_t *ip = f->b + 14;

	if (off == 0) {
		fr_ipv4(f, 0, proto, src, dst, sport, dport, 0, payload, 0x2000);
	} else {
		fr_eth(f, 0x0800, 0);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		fr_put16(ip + 2, (uint16_t)(20 + payload));
		ip[8] = 61;
		ip[9] = proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		memset(ip + 20, 0xab, payload);
		f->len = 14 + 20 + payload;
	}
	fr_put16(ip + 4, id);
	fr_put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	fr_put16(ip + 10, 0);
	fr_put16(ip + 10, fr_csum(ip, 20, 0));
}

/* A router's ICMP frag-needed (advertising mtu) to vip about the packet
 * in quoted (a frame: its IP header and the first qlen - 20 bytes after). */
static inline void fr_icmp4_frag_needed(struct frame *f, const uint8_t router[4],
					const uint8_t vip[4], const struct frame *quoted,
					size_t qlen, uint16_t mtu)
{
	uint8_t *ip = f->b + 14, *ic = ip + 20;

	fr_eth(f, 0x0800, 0);
	memset(ip, 0, 20 + 8 + qlen);
	ip[0] = 0x45;
	fr_put16(ip + 2, (uint16_t)(20 + 8 + qlen));
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, router, 4);
	memcpy(ip + 16, vip, 4);
	fr_put16(ip + 10, fr_csum(ip, 20, 0));
	ic[0] = 3;
	ic[1] = 4;
	fr_put16(ic + 6, mtu);
	memcpy(ic + 8, quoted->b + 14, qlen);
	fr_put16(ic + 2, fr_csum(ic, 8 + qlen, 0));
	f->len = 14 + 20 + 8 + qlen;
}

static inline void fr_ipv6(struct frame *f, int vlan, uint8_t proto, const uint8_t src[16],
			   const uint8_t dst[16], uint16_t sport, uint16_t dport, uint8_t tcp_flags,
			   size_t payload)
{
	size_t l3 = fr_eth(f, 0x86DD, vlan), l4len = proto == 6 ? 20 : 8;
	uint8_t *ip = f->b + l3, *l4 = ip + 40;

	memset(ip, 0, 40 + l4len + payload);
	ip[0] = 0x60 | 0x2;   /* traffic class 0x2a */
	ip[1] = 0xa0 | 0x1;   /* flow label 0x1beef */
	fr_put16(ip + 2, 0xbeef);
	fr_put16(ip + 4, (uint16_t)(l4len + payload));
	ip[6] = proto;
	ip[7] = 60;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	fr_put16(l4, sport);
	fr_put16(l4 + 2, dport);
	if (proto == 6) {
		l4[12] = 0x50;
		l4[13] = tcp_flags;
	} else {
		fr_put16(l4 + 4, (uint16_t)(8 + payload));
	}
	memset(l4 + l4len, 0xab, payload);
	f->len = l3 + 40 + l4len + payload;
}

/* The same for IPv6: a fragment header (RFC 8200 4.5) after the fixed
 * header, then (first fragment) the L4 header and payload bytes, or
 * (later) payload bytes only. */
static inline void fr_ipv6_frag(struct frame *f, uint8_t proto, const uint8_t src[16],
				const uint8_t dst[16], uint16_t sport, uint16_t dport, uint32_t id,
				uint16_t off, int more, size_t payload)
{
	uint8_t *ip = f->b + 14, *fh = ip + 40;
	size_t rest;

	fr_ipv6(f, 0, proto, src, dst, sport, dport, 0, payload);
	rest = f->len - 14 - 40; /* the L4 header and payload fr_ipv6 wrote */
	if (off != 0) {
		rest = payload;
		memset(fh, 0xab, rest);
	}
	memmove(fh + 8, fh, rest);
	fh[0] = proto;
	fh[1] = 0;
	fr_put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	fr_put16(fh + 4, (uint16_t)(id >> 16));
	fr_put16(fh + 6, (uint16_t)id);
	ip[6] = 44;
	fr_put16(ip + 4, (uint16_t)(8 + rest));
	f->len = 14 + 40 + 8 + rest;
}

/* A router's ICMPv6 packet-too-big (advertising mtu) to vip about the
 * packet in quoted (a frame: its IPv6 header and the first qlen - 40 bytes
 * after). */
static inline void fr_icmp6_too_big(struct frame *f, const uint8_t router[16],
				    const uint8_t vip[16], const struct frame *quoted, size_t qlen,
				    uint32_t mtu)
{
	uint8_t *ip = f->b + 14, *ic = ip + 40;

	fr_eth(f, 0x86DD, 0);
	memset(ip, 0, 40 + 8 + qlen);
	ip[0] = 0x60;
	fr_put16(ip + 4, (uint16_t)(8 + qlen));
	ip[6] = 58;
	ip[7] = 64;
	memcpy(ip + 8, router, 16);
	memcpy(ip + 24, vip, 16);
	ic[0] = 2;
	fr_put16(ic + 4, (uint16_t)(mtu >> 16));
	fr_put16(ic + 6, (uint16_t)mtu);
	memcpy(ic + 8, quoted->b + 14, qlen);
	fr_put16(ic + 2, fr_csum6(ip, ic, 8 + qlen, 58));
	f->len = 14 + 40 + 8 + qlen;
}

/* An IPv6 neighbour solicitation from src (the client's MAC) for target,
 * to its solicited-node group, with a source link-layer address option. */
static inline void fr_ns(struct frame *f, const uint8_t src[16], const uint8_t target[16],
			 uint8_t hop)
{
	static const uint8_t group[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 0x10};
	uint8_t *ip = f->b + 14, *ic = ip + 40;

	fr_eth(f, 0x86DD, 0);
	memset(ip, 0, 40 + 32);
	ip[0] = 0x60;
	fr_put16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, group, 16);
	ic[0] = 135;
	memcpy(ic + 8, target, 16);
	ic[24] = 1;
	ic[25] = 1;
	memcpy(ic + 26, fr_client_mac, 6);
	fr_put16(ic + 2, fr_csum6(ip, ic, 32, 58));
	f->len = 14 + 40 + 32;
}

#endif
