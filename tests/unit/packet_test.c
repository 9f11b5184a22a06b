/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared packet code (include/sluice/packet.h, encap.h) on frames built
 * byte by byte: classification, the flow key, truncation at every length,
 * the bytes of each encapsulation and of the ICMP too-big reply. The
 * frames live in exactly-sized heap buffers, so ASan catches any read past
 * the end. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xxhash.h>

#include "sluice/encap.h"
#include "sluice/packet.h"
#include "frames.h"

static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {192, 0, 2, 10};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};

/* Parse a copy of f in a buffer of exactly len bytes. */
static int parse_len(const struct frame *f, size_t len, struct sluice_pkt *p)
{
	uint8_t *buf = malloc(len ? len : 1);
	int kind;

	memcpy(buf, f->b, len);
	kind = sluice_parse(buf, buf + len, p);
	free(buf);
	return kind;
}

static void test_tcp4_flow(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	struct sluice_flow_key k;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 0, 0x4000);
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
	assert_int_equal(p.family, SLUICE_FAMILY_V4);
	assert_int_equal(p.l4_proto, 6);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l3_len, 40);
	assert_int_equal(p.tcp_flags, SLUICE_TCP_SYN);
	assert_int_equal(p.ip_df, 1);
	assert_int_equal(p.tos, 0x10);
	assert_memory_equal(p.vip.bytes, vip4, 4);
	assert_int_equal(p.vip_port, htons(80));
	assert_memory_equal(p.eth_src, fr_client_mac, 6);
	/* The key is exactly what the builder makes from the 5-tuple. */
	{
		uint32_t c, v;

		memcpy(&c, client4, 4);
		memcpy(&v, vip4, 4);
		sluice_flow_key_v4(&k, c, v, 6, htons(40000), htons(80));
	}
	assert_memory_equal(&p.key, &k, sizeof(k));
}

static void test_udp6_vlan_flow(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	struct sluice_flow_key k;
	(void)state;

	fr_ipv6(&f, 42, 17, client6, vip6, 5353, 53, 0, 100);
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
	assert_int_equal(p.has_vlan, 1);
	assert_int_equal(p.vlan_tci, htons(42));
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.l3_len, 40 + 8 + 100);
	assert_int_equal(p.family, SLUICE_FAMILY_V6);
	assert_int_equal(p.tos, 0x2a);
	assert_memory_equal(p.vip.bytes, vip6, 16);
	sluice_flow_key_v6(&k, client6, vip6, 17, htons(5353), htons(53));
	assert_memory_equal(&p.key, &k, sizeof(k));
}

/* Fragments, first and later, hash on the 3-tuple: ports 0 in the key. */
static void test_fragments_hash_on_three_tuple(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	(void)state;

	fr_ipv4(&f, 0, 17, client4, vip4, 1000, 53, 0, 64, 0x2000); /* first, MF */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.key.sport | p.key.dport, 0);
	assert_int_equal(p.vip_port, 0);
	fr_ipv4(&f, 0, 17, client4, vip4, 1000, 53, 0, 64, 0x0010); /* later */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
	assert_int_equal(p.fragment, 1);
	assert_int_equal(p.key.sport | p.key.dport, 0);
}

/* Every prefix of a valid frame is dropped as truncated or malformed (or,
 * for a bare Ethernet header, an unknown payload) and nothing reads past
 * the end (ASan). */
static void test_truncated_at_every_length(void **state)
{
	struct frame fs[4];
	(void)state;

	fr_ipv4(&fs[0], 0, 6, client4, vip4, 1, 2, SLUICE_TCP_SYN, 0, 0);
	fr_ipv6(&fs[1], 7, 17, client6, vip6, 1, 2, 0, 0);
	fr_ipv4(&fs[2], 9, 17, client4, vip4, 1, 2, 0, 0, 0);
	fr_ipv6(&fs[3], 0, 6, client6, vip6, 1, 2, SLUICE_TCP_ACK, 0);
	for (int i = 0; i < 4; i++) {
		struct sluice_pkt p;

		assert_int_equal(parse_len(&fs[i], fs[i].len, &p), SLUICE_PKT_FLOW);
		for (size_t len = 0; len < fs[i].len; len++) {
			int kind = parse_len(&fs[i], len, &p);

			if (kind != SLUICE_PKT_DROP)
				fail_msg("frame %d cut at %zu: kind %d", i, len, kind);
			assert_true(p.drop_reason == SLUICE_DROP_TRUNCATED ||
				    p.drop_reason == SLUICE_DROP_MALFORMED);
		}
	}
}

static void test_bad_headers(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 1, 2, 0, 0, 0);
	f.b[14] = 0x44; /* IHL 4 */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	assert_int_equal(p.drop_reason, SLUICE_DROP_MALFORMED);
	f.b[14] = 0x46; /* options */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
	assert_int_equal(p.drop_reason, SLUICE_DROP_IP_OPTIONS);
	f.b[14] = 0x65; /* version 6 in an IPv4 frame */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	f.b[14] = 0x45;
	fr_put16(f.b + 16, 200); /* total length beyond the frame */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	assert_int_equal(p.drop_reason, SLUICE_DROP_TRUNCATED);
	fr_put16(f.b + 16, 12); /* shorter than its own header */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	assert_int_equal(p.drop_reason, SLUICE_DROP_MALFORMED);
	fr_put16(f.b + 16, 24); /* too short for the ports */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	fr_put16(f.b + 16, 40);
	f.b[22] = 0; /* TTL 0 */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	assert_int_equal(p.drop_reason, SLUICE_DROP_TTL_EXPIRED);
	f.b[22] = 64;
	f.b[23] = 47; /* GRE */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
	assert_int_equal(p.drop_reason, SLUICE_DROP_UNKNOWN_L4);
	fr_put16(f.b + 12, 0x88cc); /* LLDP */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
	assert_int_equal(p.drop_reason, SLUICE_DROP_UNKNOWN_L3);

	/* Two VLAN tags. */
	fr_ipv4(&f, 5, 6, client4, vip4, 1, 2, 0, 0, 0);
	fr_put16(f.b + 16, 0x8100);
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
	assert_int_equal(p.drop_reason, SLUICE_DROP_UNKNOWN_L3);

	/* IPv6: hop-by-hop header, hop limit 0, payload beyond the frame. */
	fr_ipv6(&f, 0, 6, client6, vip6, 1, 2, 0, 0);
	f.b[14 + 6] = 0;
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
	assert_int_equal(p.drop_reason, SLUICE_DROP_IPV6_EXT);
	f.b[14 + 6] = 6;
	f.b[14 + 7] = 0;
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	assert_int_equal(p.drop_reason, SLUICE_DROP_TTL_EXPIRED);
	f.b[14 + 7] = 9;
	fr_put16(f.b + 14 + 4, 1000);
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_DROP);
	assert_int_equal(p.drop_reason, SLUICE_DROP_TRUNCATED);
}

/* A router's frag-needed about a packet a backend sent from the VIP is
 * classified with the client's flow, so it reaches the same backend. */
static void test_icmp_frag_needed_maps_to_flow(void **state)
{
	struct frame f, quoted;
	struct sluice_pkt p, flow;
	uint8_t router[4] = {203, 0, 113, 1};
	uint8_t *ip, *ic;
	(void)state;

	fr_ipv4(&quoted, 0, 6, vip4, client4, 80, 40000, SLUICE_TCP_ACK, 1400, 0x4000);
	fr_eth(&f, 0x0800, 0);
	ip = f.b + 14;
	ic = ip + 20;
	memset(ip, 0, 20 + 8);
	ip[0] = 0x45;
	fr_put16(ip + 2, 20 + 8 + 28);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, router, 4);
	memcpy(ip + 16, vip4, 4);
	ic[0] = 3;
	ic[1] = 4;
	fr_put16(ic + 6, 1400);
	memcpy(ic + 8, quoted.b + 14, 28);
	f.len = 14 + 20 + 8 + 28;
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_ICMP_ERR);
	fr_ipv4(&quoted, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_ACK, 0, 0x4000);
	assert_int_equal(parse_len(&quoted, quoted.len, &flow), SLUICE_PKT_FLOW);
	assert_memory_equal(&p.key, &flow.key, sizeof(p.key));
	assert_memory_equal(&p.vip, &flow.vip, sizeof(p.vip));
	assert_int_equal(p.vip_port, htons(80));
	assert_int_equal(p.l3_len, 56);
	/* Cut inside the quote: truncated, not misread. */
	assert_int_equal(parse_len(&f, f.len - 1, &p), SLUICE_PKT_DROP);
	/* Other ICMP (echo): not load-balanced. */
	ic[0] = 8;
	ic[1] = 0;
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
}

static void test_arp_and_nd(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	uint8_t *a;
	(void)state;

	fr_arp(&f, 0, 1, client4, vip4);
	a = f.b + 14;
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_ARP);
	assert_memory_equal(p.vip.bytes, vip4, 4);
	fr_put16(a + 6, 2); /* a reply */
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_OTHER);
	assert_int_equal(parse_len(&f, f.len - 1, &p), SLUICE_PKT_DROP);

	fr_ipv6(&f, 0, 58, client6, vip6, 0, 0, 0, 16);
	f.b[14 + 40] = 135; /* NS; target follows the 8-byte header */
	memcpy(f.b + 14 + 48, vip6, 16);
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_ND);
	assert_memory_equal(p.vip.bytes, vip6, 16);
}

/* ---- encapsulation ---- */

static struct sluice_global_cfg global(void)
{
	struct sluice_global_cfg g;

	memset(&g, 0, sizeof(g));
	g.src_v4.family = SLUICE_FAMILY_V4;
	memcpy(g.src_v4.bytes, (uint8_t[]){10, 0, 0, 1}, 4);
	g.src_v6.family = SLUICE_FAMILY_V6;
	memcpy(g.src_v6.bytes, (uint8_t[]){0xfd, 0, [15] = 1}, 16);
	memcpy(g.nexthop_mac, (uint8_t[]){0x02, 0, 0, 0, 0, 0x99}, 6);
	memcpy(g.lb_mac, fr_lb_mac, 6);
	g.gue_port = htons(6080);
	g.mtu = 1500;
	return g;
}

static struct sluice_backend backend(int v6)
{
	struct sluice_backend b;

	memset(&b, 0, sizeof(b));
	b.addr.family = v6 ? SLUICE_FAMILY_V6 : SLUICE_FAMILY_V4;
	if (v6)
		memcpy(b.addr.bytes, (uint8_t[]){0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5},
		       16);
	else
		memcpy(b.addr.bytes, (uint8_t[]){10, 0, 1, 5}, 4);
	memcpy(b.mac, (uint8_t[]){0x02, 0, 0, 0, 0, 0x55}, 6);
	b.state = SLUICE_BACKEND_ACTIVE;
	return b;
}

/* Encapsulate f as a data path would: grow at the head, write. */
static size_t encap(const struct frame *f, uint8_t mode, const struct sluice_backend *be,
		    uint64_t hash, uint8_t *out)
{
	struct sluice_global_cfg g = global();
	struct sluice_pkt p;
	int over;

	assert_int_equal(sluice_parse(f->b, f->b + f->len, &p), SLUICE_PKT_FLOW);
	over = sluice_encap_overhead(mode, be->addr.family);
	assert_true(sluice_encap_fits(&p, over, g.mtu));
	memcpy(out + over, f->b, f->len);
	assert_int_equal(sluice_encap_write(out, out + over + f->len, &p, mode, be, &g, hash), 0);
	return f->len + (size_t)over;
}

static void test_encap_ipip4_and_gue4(void **state)
{
	struct frame f;
	struct sluice_backend be = backend(0);
	uint8_t out[2100];
	size_t n;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	n = encap(&f, SLUICE_FWD_IPIP, &be, 0x1122334455667788ull, out);
	assert_int_equal(n, f.len + 20);
	assert_memory_equal(out, ((uint8_t[]){0x02, 0, 0, 0, 0, 0x99}), 6); /* next hop */
	assert_memory_equal(out + 6, fr_lb_mac, 6);
	assert_int_equal(fr_get16(out + 12), 0x0800);
	assert_int_equal(out[14], 0x45);
	assert_int_equal(out[15], 0x10); /* inner TOS copied */
	assert_int_equal(fr_get16(out + 16), f.len - 14 + 20);
	assert_int_equal(fr_get16(out + 20), 0x4000); /* DF, ID 0 */
	assert_int_equal(out[22], 64);
	assert_int_equal(out[23], 4); /* IP-in-IP */
	assert_memory_equal(out + 26, ((uint8_t[]){10, 0, 0, 1}), 4);
	assert_memory_equal(out + 30, ((uint8_t[]){10, 0, 1, 5}), 4);
	assert_int_equal(fr_csum(out + 14, 20, 0), 0);
	assert_memory_equal(out + 34, f.b + 14, f.len - 14); /* inner untouched */

	n = encap(&f, SLUICE_FWD_GUE, &be, 0x1122334455667788ull, out);
	assert_int_equal(n, f.len + 28);
	assert_int_equal(out[23], 17);
	assert_int_equal(fr_get16(out + 16), f.len - 14 + 28);
	assert_int_equal(fr_csum(out + 14, 20, 0), 0);
	assert_int_equal(fr_get16(out + 34), 0xC000 | (0x11223344 & 0x3FFF));
	assert_int_equal(fr_get16(out + 36), 6080);
	assert_int_equal(fr_get16(out + 38), f.len - 14 + 8);
	assert_memory_equal(out + 42, f.b + 14, f.len - 14);
}

static void test_encap_ipv6_outer_and_vlan(void **state)
{
	struct frame f;
	struct sluice_backend be = backend(1);
	uint8_t out[2100];
	size_t n;
	(void)state;

	fr_ipv6(&f, 300, 17, client6, vip6, 5000, 53, 0, 33);
	n = encap(&f, SLUICE_FWD_IPIP, &be, 0xabcdef12345ull, out);
	assert_int_equal(n, f.len + 40);
	assert_int_equal(fr_get16(out + 12), 0x8100);
	assert_int_equal(fr_get16(out + 14), 300); /* VLAN kept */
	assert_int_equal(fr_get16(out + 16), 0x86DD);
	assert_int_equal(fr_get32(out + 18), 6u << 28 | 0x2au << 20 | (0x12345 & 0xFFFFF));
	assert_int_equal(fr_get16(out + 22), f.len - 18);
	assert_int_equal(out[24], 41);
	assert_int_equal(out[25], 64);
	assert_memory_equal(out + 26, ((uint8_t[]){0xfd, 0, [15] = 1}), 16);
	assert_memory_equal(out + 42, be.addr.bytes, 16);
	assert_memory_equal(out + 58, f.b + 18, f.len - 18);

	n = encap(&f, SLUICE_FWD_GUE, &be, 0xabcdef12345ull, out);
	assert_int_equal(out[24], 17);
	assert_int_equal(fr_get16(out + 22), f.len - 18 + 8);
	assert_int_equal(fr_get16(out + 60), 6080);
	assert_int_equal(fr_get16(out + 62), f.len - 18 + 8);
	assert_int_equal(fr_get16(out + 64), 0);
	assert_int_equal(n, f.len + 48);
}

static void test_encap_l2dsr(void **state)
{
	struct frame f;
	struct sluice_backend be = backend(0);
	uint8_t out[2100];
	size_t n;
	(void)state;

	fr_ipv4(&f, 12, 6, client4, vip4, 40000, 80, SLUICE_TCP_ACK, 5, 0x4000);
	n = encap(&f, SLUICE_FWD_L2DSR, &be, 1, out);
	assert_int_equal(n, f.len);
	assert_memory_equal(out, be.mac, 6);
	assert_memory_equal(out + 6, fr_lb_mac, 6);
	assert_memory_equal(out + 12, f.b + 12, f.len - 12); /* tag and IP untouched */
}

static void test_mtu_check(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 1, 2, 0, 1500 - 40, 0x4000); /* 1500-byte IP */
	assert_int_equal(sluice_parse(f.b, f.b + f.len, &p), SLUICE_PKT_FLOW);
	assert_true(sluice_encap_fits(&p, 0, 1500));
	assert_false(sluice_encap_fits(&p, 20, 1500));
	assert_true(sluice_encap_fits(&p, 20, 1520));
}

static void test_too_big_replies(void **state)
{
	struct frame f;
	struct sluice_pkt p;
	uint8_t quote[SLUICE_QUOTE_MAX], out[256];
	int len;
	(void)state;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_ACK, 1460, 0x4000);
	assert_int_equal(sluice_parse(f.b, f.b + f.len, &p), SLUICE_PKT_FLOW);
	assert_int_equal(sluice_too_big_quote(f.b, f.b + f.len, &p, quote), 0);
	len = sluice_too_big_len(&p);
	assert_int_equal(len, 14 + 20 + 8 + 28);
	assert_int_equal(sluice_too_big_write(out, out + len, &p, quote, 1480), 0);
	assert_memory_equal(out, fr_client_mac, 6); /* back to the sender */
	assert_memory_equal(out + 6, fr_lb_mac, 6);
	assert_int_equal(fr_csum(out + 14, 20, 0), 0);
	assert_int_equal(out[23], 1);
	assert_memory_equal(out + 26, vip4, 4);
	assert_memory_equal(out + 30, client4, 4);
	assert_int_equal(out[34], 3);
	assert_int_equal(out[35], 4);
	assert_int_equal(fr_get16(out + 40), 1480);
	assert_int_equal(fr_csum(out + 34, 8 + 28, 0), 0);
	assert_memory_equal(out + 42, f.b + 14, 28);
	assert_int_equal(sluice_too_big_write(out, out + len - 1, &p, quote, 1480), -1);

	fr_ipv6(&f, 0, 6, client6, vip6, 40000, 443, SLUICE_TCP_ACK, 1440);
	assert_int_equal(sluice_parse(f.b, f.b + f.len, &p), SLUICE_PKT_FLOW);
	assert_int_equal(sluice_too_big_quote(f.b, f.b + f.len, &p, quote), 0);
	len = sluice_too_big_len(&p);
	assert_int_equal(len, 14 + 40 + 8 + 48);
	assert_int_equal(sluice_too_big_write(out, out + len, &p, quote, 1000), 0);
	assert_int_equal(out[20], 58);
	assert_memory_equal(out + 22, vip6, 16);
	assert_memory_equal(out + 38, client6, 16);
	assert_int_equal(out[54], 2);
	assert_int_equal(fr_get32(out + 58), 1280); /* never below the IPv6 minimum */
	assert_int_equal(fr_csum6(out + 14, out + 54, 8 + 48, 58), 0);
	assert_memory_equal(out + 62, f.b + 14, 48);
}

/* The parser leaves martian sources to the data paths (they drop a new
 * flow whose client sluice_martian_key refuses); ND from :: is still ND. A
 * TCP data offset below 5 words or past the packet is dropped as
 * tcp_header. */
static void test_martians_and_tcp_offset(void **state)
{
	static const uint8_t m4[][4] = {{0, 0, 0, 0}, {127, 1, 2, 3}, {224, 0, 0, 1},
					{255, 255, 255, 255}};
	static const uint8_t ok4[][4] = {{1, 0, 0, 1}, {126, 255, 255, 255}, {223, 1, 1, 1},
					 {255, 255, 255, 254}};
	static const uint8_t m6[][16] = {{0}, {[15] = 1}, {0xff, 0x05, [15] = 2},
					 {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1}};
	static const uint8_t ok6[][16] = {{[15] = 2}, {0xfe, 0x80, [15] = 1},
					  {[11] = 0xff, [15] = 1}};
	struct frame f;
	struct sluice_pkt p;
	(void)state;

	for (size_t i = 0; i < 4; i++) {
		fr_ipv4(&f, 0, 17, m4[i], vip4, 1, 53, 0, 8, 0);
		assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
		assert_true(sluice_martian_key(&p.key));
		fr_ipv4(&f, 0, 17, ok4[i], vip4, 1, 53, 0, 8, 0);
		assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
		assert_false(sluice_martian_key(&p.key));
	}
	for (size_t i = 0; i < 4; i++) {
		fr_ipv6(&f, 0, 6, m6[i], vip6, 1, 80, SLUICE_TCP_SYN, 0);
		assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
		assert_true(sluice_martian_key(&p.key));
	}
	for (size_t i = 0; i < 3; i++) {
		fr_ipv6(&f, 0, 6, ok6[i], vip6, 1, 80, SLUICE_TCP_SYN, 0);
		assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_FLOW);
		assert_false(sluice_martian_key(&p.key));
	}
	fr_ipv6(&f, 0, 58, m6[0], vip6, 0, 0, 0, 16);
	f.b[14 + 40] = 135;
	memcpy(f.b + 14 + 48, vip6, 16);
	assert_int_equal(parse_len(&f, f.len, &p), SLUICE_PKT_ND);

	fr_ipv4(&f, 0, 6, client4, vip4, 1, 80, SLUICE_TCP_ACK, 4, 0x4000);
	for (uint8_t doff = 0; doff < 16; doff++) {
		f.b[14 + 20 + 12] = (uint8_t)(doff << 4);
		assert_int_equal(parse_len(&f, f.len, &p),
				 doff >= 5 && doff * 4 <= 24 ? SLUICE_PKT_FLOW : SLUICE_PKT_DROP);
		if (p.kind == SLUICE_PKT_DROP)
			assert_int_equal(p.drop_reason, SLUICE_DROP_TCP_HEADER);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_flow),
		cmocka_unit_test(test_martians_and_tcp_offset),
		cmocka_unit_test(test_udp6_vlan_flow),
		cmocka_unit_test(test_fragments_hash_on_three_tuple),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_icmp_frag_needed_maps_to_flow),
		cmocka_unit_test(test_arp_and_nd),
		cmocka_unit_test(test_encap_ipip4_and_gue4),
		cmocka_unit_test(test_encap_ipv6_outer_and_vlan),
		cmocka_unit_test(test_encap_l2dsr),
		cmocka_unit_test(test_mtu_check),
		cmocka_unit_test(test_too_big_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
