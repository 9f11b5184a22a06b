/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backend-side decapsulation (bpf/sluice_decap.bpf.c) through
 * BPF_PROG_TEST_RUN. Every encapsulation sluice sends (built byte by byte,
 * tests/common/xdp_fixture.h), from an allowed load balancer to this host and
 * for a VIP, comes out as the inner packet behind the same Ethernet header
 * (and VLAN tag) with the inner EtherType. Every reason to refuse one
 * (malformed, not from a load balancer, not to this host, inner length,
 * nested encapsulation, not a VIP) is tried on every combination of
 * IPIP / GUE and outer / inner family: dropped and counted by its reason,
 * or passed untouched when the configuration says so. Anything that is not
 * encapsulation passes untouched. Each test loads a fresh program. Needs
 * root and BPF; fails, never skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "decap_abi.h"
#include "sluice/packet.h"
#include "sluice_decap.skel.h"
#include "xdp_fixture.h"

static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {192, 0, 2, 10};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};
/* This backend's addresses: the outer destinations the load balancer uses. */
static const uint8_t host4[4] = {10, 0, 1, 5}, host6[16] = {0xfd, 0, [15] = 5};
/* Someone who can reach the backend but is no load balancer. */
static const uint8_t stranger4[4] = {203, 0, 113, 66};
static const uint8_t stranger6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 0x66};

/* Every way sluice encapsulates: IP-in-IP keeps the family, GUE carries
 * either. */
static const struct combo {
	uint8_t mode;
	int inner6, outer6;
	const char *name;
} combos[] = {
	{SLUICE_FWD_IPIP, 0, 0, "IPv4-in-IPv4"}, {SLUICE_FWD_IPIP, 1, 1, "IPv6-in-IPv6"},
	{SLUICE_FWD_GUE, 0, 0, "GUE IPv4 over IPv4"}, {SLUICE_FWD_GUE, 1, 1, "GUE IPv6 over IPv6"},
	{SLUICE_FWD_GUE, 1, 0, "GUE IPv6 over IPv4"}, {SLUICE_FWD_GUE, 0, 1, "GUE IPv4 over IPv6"},
};
#define NCOMBOS (sizeof(combos) / sizeof(combos[0]))

static void set_config(struct sluice_decap *skel, __u16 gue_port, __u16 flags)
{
	struct sluice_decap_config c = {.gue_port = gue_port, .flags = flags};
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.decap_config), &zero, &c, 0),
			 0);
}

static void set_put(struct bpf_map *set, struct sluice_addr a)
{
	__u8 one = 1;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(set), &a, &one, BPF_ANY), 0);
}

static void set_del(struct bpf_map *set, struct sluice_addr a)
{
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(set), &a), 0);
}

/* What `sluice-decap attach` would set up: the fixture's load balancer
 * (fx_src4/6) allowed, this host's two addresses, the two VIPs. */
static int setup(void **state)
{
	struct sluice_decap *skel = sluice_decap__open_and_load();

	if (!skel) {
		fprintf(stderr, "cannot load sluice_decap: this test needs root and BPF, it does "
				"not skip\n");
		return -1;
	}
	set_config(skel, FX_GUE_PORT, 0);
	set_put(skel->maps.allowed_sources, fx_addr4(fx_src4));
	set_put(skel->maps.allowed_sources, fx_addr6(fx_src6));
	set_put(skel->maps.local_addrs, fx_addr4(host4));
	set_put(skel->maps.local_addrs, fx_addr6(host6));
	set_put(skel->maps.vips, fx_addr4(vip4));
	set_put(skel->maps.vips, fx_addr6(vip6));
	*state = skel;
	return 0;
}

static int teardown(void **state)
{
	sluice_decap__destroy(*state);
	return 0;
}

static struct sluice_decap_stats stats(struct sluice_decap *skel)
{
	int n = libbpf_num_possible_cpus();
	struct sluice_decap_stats *cpu = calloc((size_t)n, sizeof(*cpu)), sum = {0};
	__u32 zero = 0;

	assert_non_null(cpu);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.decap_stats), &zero, cpu), 0);
	for (int c = 0; c < n; c++) {
#define SLUICE_X_SUM(name) sum.name += cpu[c].name;
		SLUICE_DECAP_COUNTERS(SLUICE_X_SUM)
#undef SLUICE_X_SUM
	}
	free(cpu);
	return sum;
}

static __u64 counter(struct sluice_decap *skel, size_t off)
{
	struct sluice_decap_stats s = stats(skel);

	return *(const __u64 *)((const char *)&s + off);
}
#define COUNTER(skel, name) counter(skel, offsetof(struct sluice_decap_stats, name))

/* The encapsulated frame for inner (mode, outer family): what the load
 * balancer sends to this host. */
static size_t encap(const struct frame *inner, uint8_t mode, int outer6, uint8_t *out)
{
	struct sluice_backend b;
	size_t l3 = fr_get16(inner->b + 12) == 0x8100 ? 18 : 14;

	memset(&b, 0, sizeof(b));
	b.addr = outer6 ? fx_addr6(host6) : fx_addr4(host4);
	b.state = SLUICE_BACKEND_ACTIVE;
	return fx_expect_encap(inner->b, inner->len, l3, mode, &b, 0x123456789abcdefull, out);
}

/* A small inner packet of the combination's family (TCP SYN to a VIP). */
static void inner_for(const struct combo *c, struct frame *f)
{
	if (c->inner6)
		fr_ipv6(f, 0, 6, client6, vip6, 40000, 80, SLUICE_TCP_SYN, 10);
	else
		fr_ipv4(f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
}

/* Where the headers of an encapsulated frame without VLAN are. */
static uint8_t *outer_src(uint8_t *b, int outer6)
{
	return b + 14 + (outer6 ? 8 : 12);
}

static uint8_t *outer_dst(uint8_t *b, int outer6)
{
	return b + 14 + (outer6 ? 24 : 16);
}

static uint8_t *inner_of(uint8_t *b, const struct combo *c)
{
	return b + 14 + (c->outer6 ? 40 : 20) + (c->mode == SLUICE_FWD_GUE ? 8 : 0);
}

/* After changing an outer IPv4 header: its checksum again, so that only
 * the change is wrong. */
static void outer_recsum(uint8_t *b, int outer6)
{
	if (outer6)
		return;
	fr_put16(b + 14 + 10, 0);
	fr_put16(b + 14 + 10, fr_csum(b + 14, 20, 0));
}

static int run(struct sluice_decap *skel, const uint8_t *buf, size_t len, uint8_t *out,
	       size_t *out_len)
{
	return fx_run(bpf_program__fd(skel->progs.sluice_decap), buf, len, out, out_len);
}

/* Decapsulated: XDP_PASS, the inner frame behind the encapsulation's MACs. */
static void expect_inner(struct sluice_decap *skel, const uint8_t *sent, size_t n,
			 const struct frame *inner)
{
	uint8_t got[4096];
	size_t m = 0;

	assert_int_equal(run(skel, sent, n, got, &m), XDP_PASS);
	assert_int_equal(m, inner->len);
	assert_memory_equal(got, sent, 12);			   /* the MACs it arrived with */
	assert_memory_equal(got + 12, inner->b + 12, inner->len - 12); /* tag, type, packet */
}

/* Untouched: XDP_PASS with the same bytes. */
static void expect_untouched(struct sluice_decap *skel, const uint8_t *sent, size_t n)
{
	uint8_t got[4096];
	size_t m = 0;

	assert_int_equal(run(skel, sent, n, got, &m), XDP_PASS);
	assert_int_equal(m, n);
	assert_memory_equal(got, sent, n);
}

/* Refused for the reason counted at off: dropped, or passed untouched when
 * the configuration passes refused frames. */
static void expect_refused_at(struct sluice_decap *skel, const uint8_t *sent, size_t n,
			      size_t off, bool passed, const char *what)
{
	__u64 before = counter(skel, off);
	uint8_t got[4096];
	size_t m = 0;

	if (passed) {
		expect_untouched(skel, sent, n);
	} else {
		int v = run(skel, sent, n, got, &m);

		if (v != XDP_DROP)
			fail_msg("%s: verdict %d, want XDP_DROP", what, v);
	}
	if (counter(skel, off) != before + 1)
		fail_msg("%s: not counted by its reason", what);
}
#define EXPECT_REFUSED(skel, sent, n, name, what)                                              \
	expect_refused_at(skel, sent, n, offsetof(struct sluice_decap_stats, name), false, what)

static void test_every_encapsulation(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame in[4];
	struct sluice_decap_stats s;
	int ipip = 0, gue = 0;

	fr_ipv4(&in[0], 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	fr_ipv6(&in[1], 0, 17, client6, vip6, 5353, 53, 0, 33);
	fr_ipv4(&in[2], 300, 17, client4, vip4, 1, 2, 0, 0, 0); /* VLAN */
	fr_ipv6(&in[3], 42, 6, client6, vip6, 1, 443, SLUICE_TCP_ACK, 100);
	for (int i = 0; i < 4; i++) {
		int inner6 = i == 1 || i == 3;

		for (int outer6 = 0; outer6 < 2; outer6++) {
			if (outer6 == inner6) {
				expect_inner(skel, sent, encap(&in[i], SLUICE_FWD_IPIP, outer6, sent),
					     &in[i]);
				ipip++;
			}
			expect_inner(skel, sent, encap(&in[i], SLUICE_FWD_GUE, outer6, sent), &in[i]);
			gue++;
		}
	}
	s = stats(skel);
	assert_int_equal(s.ipip, ipip);
	assert_int_equal(s.gue, gue);
	assert_int_equal(s.malformed + s.not_from_lb + s.not_to_host + s.bad_inner_len +
				 s.nested + s.not_vip + s.other,
			 0);
}

/* Ethernet padding behind a short outer packet is no length disagreement:
 * it stays behind the inner packet, for the kernel to trim. */
static void test_padding_accepted(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], got[4096];
	struct frame f;
	size_t n, m = 0;

	fr_ipv4(&f, 0, 17, client4, vip4, 1, 2, 0, 0, 0);
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);
	memset(sent + n, 0, 6);
	assert_int_equal(run(skel, sent, n + 6, got, &m), XDP_PASS);
	assert_int_equal(m, f.len + 6);
	assert_memory_equal(got + 12, f.b + 12, f.len - 12);
}

/* Not sluice's encapsulation: untouched, counted as other. */
static void test_other_traffic_untouched(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame f;
	size_t n;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	expect_untouched(skel, f.b, f.len);
	/* GUE to another port: a UDP packet like any other. */
	n = encap(&f, SLUICE_FWD_GUE, 0, sent);
	fr_put16(sent + 14 + 20 + 2, 6081);
	expect_untouched(skel, sent, n);
	assert_int_equal(COUNTER(skel, other), 2);
	assert_int_equal(COUNTER(skel, malformed), 0);
}

/* Looks like ours, outer headers wrong: refused, counted malformed. An
 * outer fragment is refused too: sluice never fragments, and the kernel
 * would reassemble and decapsulate it behind this program's back. */
static void test_malformed_refused(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], bad[4096];
	struct frame f, f6;
	size_t n;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	fr_ipv6(&f6, 0, 6, client6, vip6, 40000, 80, SLUICE_TCP_SYN, 10);
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);

	memcpy(bad, sent, n);
	bad[14 + 10] ^= 1;
	EXPECT_REFUSED(skel, bad, n, malformed, "outer IPv4 checksum");

	memcpy(bad, sent, n);
	fr_put16(bad + 14 + 6, 0x2000);
	outer_recsum(bad, 0);
	EXPECT_REFUSED(skel, bad, n, malformed, "outer first fragment");

	memcpy(bad, sent, n);
	fr_put16(bad + 14 + 2, (uint16_t)(n - 14 + 1));
	outer_recsum(bad, 0);
	EXPECT_REFUSED(skel, bad, n, malformed, "outer length past the frame");

	memcpy(bad, sent, n);
	bad[14 + 9] = 41;
	outer_recsum(bad, 0);
	EXPECT_REFUSED(skel, bad, n, malformed, "says IPv6 inside, carries IPv4");

	n = encap(&f6, SLUICE_FWD_GUE, 1, sent);
	memcpy(bad, sent, n);
	bad[14 + 48] = 0x55;
	EXPECT_REFUSED(skel, bad, n, malformed, "GUE payload is no IP packet");

	n = encap(&f6, SLUICE_FWD_IPIP, 1, sent);
	memcpy(bad, sent, n);
	fr_put16(bad + 14 + 4, (uint16_t)(n - 14 - 40 + 1));
	EXPECT_REFUSED(skel, bad, n, malformed, "outer IPv6 length past the frame");

	assert_int_equal(COUNTER(skel, malformed), 6);
	assert_int_equal(COUNTER(skel, ipip) + COUNTER(skel, gue), 0);
}

/* The trust boundary, for every combination: an outer source that is no
 * load balancer, an outer destination that is not this host. */
static void test_not_from_lb_not_to_host(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], bad[4096];
	char what[96];
	struct frame f;

	for (size_t i = 0; i < NCOMBOS; i++) {
		const struct combo *c = &combos[i];
		size_t n;

		inner_for(c, &f);
		n = encap(&f, c->mode, c->outer6, sent);
		expect_inner(skel, sent, n, &f);

		memcpy(bad, sent, n);
		memcpy(outer_src(bad, c->outer6), c->outer6 ? stranger6 : stranger4,
		       c->outer6 ? 16 : 4);
		outer_recsum(bad, c->outer6);
		snprintf(what, sizeof(what), "%s from a stranger", c->name);
		EXPECT_REFUSED(skel, bad, n, not_from_lb, what);

		/* The load balancer's own address as the outer destination:
		 * another host's traffic, or a reflection. */
		memcpy(bad, sent, n);
		memcpy(outer_dst(bad, c->outer6), c->outer6 ? fx_src6 : fx_src4,
		       c->outer6 ? 16 : 4);
		outer_recsum(bad, c->outer6);
		snprintf(what, sizeof(what), "%s to another host", c->name);
		EXPECT_REFUSED(skel, bad, n, not_to_host, what);
	}
	assert_int_equal(COUNTER(skel, not_from_lb), NCOMBOS);
	assert_int_equal(COUNTER(skel, not_to_host), NCOMBOS);
	assert_int_equal(COUNTER(skel, ipip) + COUNTER(skel, gue), NCOMBOS);
}

/* The allowed set changes under a running program: a map update, no
 * reload. */
static void test_allowed_set_changes_at_run_time(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame f;
	size_t n;

	fr_ipv4(&f, 0, 17, client4, vip4, 1000, 53, 0, 20, 0);
	n = encap(&f, SLUICE_FWD_GUE, 0, sent);
	memcpy(outer_src(sent, 0), stranger4, 4);
	outer_recsum(sent, 0);
	EXPECT_REFUSED(skel, sent, n, not_from_lb, "before allow");
	set_put(skel->maps.allowed_sources, fx_addr4(stranger4));
	expect_inner(skel, sent, n, &f);
	set_del(skel->maps.allowed_sources, fx_addr4(stranger4));
	EXPECT_REFUSED(skel, sent, n, not_from_lb, "after deny");
	/* Denying the last load balancer refuses even its traffic. */
	n = encap(&f, SLUICE_FWD_GUE, 0, sent);
	expect_inner(skel, sent, n, &f);
	set_del(skel->maps.allowed_sources, fx_addr4(fx_src4));
	EXPECT_REFUSED(skel, sent, n, not_from_lb, "the load balancer denied");
}

/* --any-source: no allowed set; the outer destination still must be this
 * host and the inner checks still hold. */
static void test_any_source(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame f;
	size_t n;

	set_config(skel, FX_GUE_PORT, SLUICE_DECAP_ANY_SOURCE);
	for (size_t i = 0; i < NCOMBOS; i++) {
		const struct combo *c = &combos[i];

		inner_for(c, &f);
		n = encap(&f, c->mode, c->outer6, sent);
		memcpy(outer_src(sent, c->outer6), c->outer6 ? stranger6 : stranger4,
		       c->outer6 ? 16 : 4);
		outer_recsum(sent, c->outer6);
		expect_inner(skel, sent, n, &f);
		memcpy(outer_dst(sent, c->outer6), c->outer6 ? stranger6 : stranger4,
		       c->outer6 ? 16 : 4);
		outer_recsum(sent, c->outer6);
		EXPECT_REFUSED(skel, sent, n, not_to_host, c->name);
	}
	assert_int_equal(COUNTER(skel, not_from_lb), 0);
}

/* The inner packet's length must be what the outer header says it is
 * (and, for GUE, what the UDP header says). */
static void test_inner_length(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], bad[4096];
	char what[96];
	struct frame f;
	int cases = 0;

	for (size_t i = 0; i < NCOMBOS; i++) {
		const struct combo *c = &combos[i];
		size_t n, lo = c->inner6 ? 4 : 2; /* payload_len / tot_len */

		inner_for(c, &f);
		n = encap(&f, c->mode, c->outer6, sent);
		for (int d = -1; d <= 1; d += 2) {
			uint8_t *in;

			memcpy(bad, sent, n);
			in = inner_of(bad, c);
			fr_put16(in + lo, (uint16_t)(fr_get16(in + lo) + d));
			snprintf(what, sizeof(what), "%s, inner length %+d", c->name, d);
			EXPECT_REFUSED(skel, bad, n, bad_inner_len, what);
			cases++;
		}
		if (c->mode == SLUICE_FWD_GUE) {
			uint8_t *udp = bad + 14 + (c->outer6 ? 40 : 20);

			memcpy(bad, sent, n);
			fr_put16(udp + 4, (uint16_t)(fr_get16(udp + 4) - 1));
			snprintf(what, sizeof(what), "%s, UDP length -1", c->name);
			EXPECT_REFUSED(skel, bad, n, bad_inner_len, what);
			cases++;
		}
	}
	assert_int_equal(COUNTER(skel, bad_inner_len), cases);
	assert_int_equal(COUNTER(skel, ipip) + COUNTER(skel, gue), 0);
}

/* An inner packet that is itself IPIP, IPv6-in-IP or GUE is refused: it is
 * never decapsulated twice, here or by the kernel's own tunnels. */
static void test_nested(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	char what[96];
	struct frame f;
	int cases = 0;

	for (size_t i = 0; i < NCOMBOS; i++) {
		const struct combo *c = &combos[i];
		size_t proto_at = 14 + (c->inner6 ? 6 : 9);

		for (int k = 0; k < 3; k++) {
			/* k: 0 IPv4 inside, 1 IPv6 inside, 2 UDP to the GUE port */
			if (c->inner6)
				fr_ipv6(&f, 0, 17, client6, vip6, 1234, FX_GUE_PORT, 0, 40);
			else
				fr_ipv4(&f, 0, 17, client4, vip4, 1234, FX_GUE_PORT, 0, 40, 0);
			if (k < 2)
				f.b[proto_at] = k == 0 ? 4 : 41;
			snprintf(what, sizeof(what), "%s carrying %s", c->name,
				 k == 0 ? "IPv4-in-IP" : k == 1 ? "IPv6-in-IP" : "GUE");
			EXPECT_REFUSED(skel, sent, encap(&f, c->mode, c->outer6, sent), nested,
				       what);
			cases++;
		}
	}
	/* Behind an IPv6 fragment header. */
	fr_ipv6(&f, 0, 17, client6, vip6, 0, 0, 0, 40);
	f.b[14 + 6] = 44;
	memset(f.b + 14 + 40, 0, 8);
	f.b[14 + 40] = 4;
	EXPECT_REFUSED(skel, sent, encap(&f, SLUICE_FWD_IPIP, 1, sent), nested,
		       "IPv4-in-IP behind a fragment header");
	cases++;
	assert_int_equal(COUNTER(skel, nested), cases);

	/* Without GUE, UDP to that port is just UDP. */
	set_config(skel, 0, 0);
	fr_ipv4(&f, 0, 17, client4, vip4, 1234, FX_GUE_PORT, 0, 40, 0);
	expect_inner(skel, sent, encap(&f, SLUICE_FWD_IPIP, 0, sent), &f);
}

/* The inner destination must be a VIP: from the set, or with
 * SLUICE_DECAP_VIP_ANY_LOCAL any address of this host. */
static void test_not_vip(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame f;
	size_t n;

	for (size_t i = 0; i < NCOMBOS; i++) {
		const struct combo *c = &combos[i];

		if (c->inner6)
			fr_ipv6(&f, 0, 6, client6, stranger6, 40000, 22, SLUICE_TCP_SYN, 0);
		else
			fr_ipv4(&f, 0, 6, client4, stranger4, 40000, 22, SLUICE_TCP_SYN, 0, 0);
		EXPECT_REFUSED(skel, sent, encap(&f, c->mode, c->outer6, sent), not_vip, c->name);
	}
	assert_int_equal(COUNTER(skel, not_vip), NCOMBOS);

	set_config(skel, FX_GUE_PORT, SLUICE_DECAP_VIP_ANY_LOCAL);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 0, 0);
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);
	EXPECT_REFUSED(skel, sent, n, not_vip, "a VIP that is no local address");
	set_put(skel->maps.local_addrs, fx_addr4(vip4));
	expect_inner(skel, sent, n, &f);
	fr_ipv6(&f, 0, 6, client6, host6, 40000, 22, SLUICE_TCP_SYN, 0);
	expect_inner(skel, sent, encap(&f, SLUICE_FWD_GUE, 1, sent), &f);
}

/* --refused pass: every refusal hands the frame to the kernel untouched,
 * still counted by its reason. */
static void test_refused_passed(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame f;
	size_t n;

	set_config(skel, FX_GUE_PORT, SLUICE_DECAP_PASS_REFUSED);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);
	memcpy(outer_src(sent, 0), stranger4, 4);
	outer_recsum(sent, 0);
	expect_refused_at(skel, sent, n, offsetof(struct sluice_decap_stats, not_from_lb), true,
			  "passed: not from a load balancer");
	n = encap(&f, SLUICE_FWD_GUE, 0, sent);
	fr_put16(sent + 14 + 28 + 2, (uint16_t)(fr_get16(sent + 14 + 28 + 2) + 1)); /* inner */
	expect_refused_at(skel, sent, n, offsetof(struct sluice_decap_stats, bad_inner_len), true,
			  "passed: inner length");
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);
	expect_inner(skel, sent, n, &f);
}

/* A program whose configuration was never written refuses everything
 * encapsulated (fail closed). */
static void test_unconfigured_refuses(void **state)
{
	struct sluice_decap *skel = sluice_decap__open_and_load();
	uint8_t sent[4096];
	struct frame f;
	(void)state;

	assert_non_null(skel);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	EXPECT_REFUSED(skel, sent, encap(&f, SLUICE_FWD_IPIP, 0, sent), not_from_lb,
		       "unconfigured");
	sluice_decap__destroy(skel);
}

/* Every prefix of an encapsulated frame: refused or passed untouched,
 * never decapsulated in part (the kernel refuses test frames shorter than
 * Ethernet). */
static void test_truncated_never_decapsulated(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], got[4096];
	struct frame f;

	fr_ipv6(&f, 7, 17, client6, vip6, 1, 53, 0, 20);
	for (int mode = SLUICE_FWD_IPIP; mode <= SLUICE_FWD_GUE; mode++) {
		size_t n = encap(&f, (uint8_t)mode, 1, sent);

		for (size_t len = 14; len < n; len++) {
			size_t m = 0;
			int v = run(skel, sent, len, got, &m);

			/* Cut inside the inner packet, the outer length gives it
			 * away; before that, it is too short to be ours. */
			assert_true(v == XDP_DROP || v == XDP_PASS);
			if (v == XDP_PASS) {
				assert_int_equal(m, len);
				assert_memory_equal(got, sent, len);
			}
		}
	}
	assert_int_equal(COUNTER(skel, ipip) + COUNTER(skel, gue), 0);
}

/* GUE port 0: IP-in-IP only. */
static void test_no_gue(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096];
	struct frame f;

	set_config(skel, 0, 0);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	expect_untouched(skel, sent, encap(&f, SLUICE_FWD_GUE, 0, sent));
	expect_inner(skel, sent, encap(&f, SLUICE_FWD_IPIP, 0, sent), &f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_every_encapsulation),
		T(test_padding_accepted),
		T(test_other_traffic_untouched),
		T(test_malformed_refused),
		T(test_not_from_lb_not_to_host),
		T(test_allowed_set_changes_at_run_time),
		T(test_any_source),
		T(test_inner_length),
		T(test_nested),
		T(test_not_vip),
		T(test_refused_passed),
		T(test_unconfigured_refuses),
		T(test_truncated_never_decapsulated),
		T(test_no_gue),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
