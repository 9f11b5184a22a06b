/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backend-side decapsulation (bpf/sluice_decap.bpf.c) through
 * BPF_PROG_TEST_RUN: every encapsulation sluice sends (built byte by byte,
 * tests/common/xdp_fixture.h) comes out as the inner packet behind the same
 * Ethernet header (and VLAN tag) with the inner EtherType; anything else,
 * or anything malformed, passes untouched. Needs root and BPF; fails,
 * never skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sluice/packet.h"
#include "sluice_decap.skel.h"
#include "xdp_fixture.h"

static const uint8_t client4[4] = {198, 51, 100, 7}, vip4[4] = {192, 0, 2, 10};
static const uint8_t client6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7};
static const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10};

struct decap_stats {
	__u64 ipip, gue, malformed, other;
};

static struct sluice_decap *load(__u16 gue_port)
{
	struct sluice_decap *skel = sluice_decap__open();

	if (!skel)
		return NULL;
	skel->rodata->gue_port = gue_port;
	if (sluice_decap__load(skel) < 0) {
		sluice_decap__destroy(skel);
		return NULL;
	}
	return skel;
}

static int setup(void **state)
{
	*state = load(FX_GUE_PORT);
	if (!*state)
		fprintf(stderr, "cannot load sluice_decap: this test needs root and BPF, it does "
				"not skip\n");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	sluice_decap__destroy(*state);
	return 0;
}

static struct decap_stats stats(struct sluice_decap *skel)
{
	int n = libbpf_num_possible_cpus();
	struct decap_stats *cpu = calloc((size_t)n, sizeof(*cpu)), sum = {0};
	__u32 zero = 0;

	assert_non_null(cpu);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.decap_stats), &zero, cpu), 0);
	for (int c = 0; c < n; c++) {
		sum.ipip += cpu[c].ipip;
		sum.gue += cpu[c].gue;
		sum.malformed += cpu[c].malformed;
		sum.other += cpu[c].other;
	}
	free(cpu);
	return sum;
}

static struct sluice_backend backend(int v6)
{
	struct sluice_backend b;

	memset(&b, 0, sizeof(b));
	b.addr = v6 ? fx_addr6((uint8_t[]){0xfd, 0, [15] = 5}) : fx_addr4((uint8_t[]){10, 0, 1, 5});
	b.state = SLUICE_BACKEND_ACTIVE;
	return b;
}

/* The encapsulated frame for inner (mode, outer family): what the load
 * balancer sends. */
static size_t encap(const struct frame *inner, uint8_t mode, int outer6, uint8_t *out)
{
	struct sluice_backend be = backend(outer6);
	size_t l3 = fr_get16(inner->b + 12) == 0x8100 ? 18 : 14;

	return fx_expect_encap(inner->b, inner->len, l3, mode, &be, 0x123456789abcdefull, out);
}

/* Run buf; the verdict must be XDP_PASS; output in out. */
static size_t run(struct sluice_decap *skel, const uint8_t *buf, size_t len, uint8_t *out)
{
	size_t out_len = 0;

	assert_int_equal(fx_run(bpf_program__fd(skel->progs.sluice_decap), buf, len, out, &out_len),
			 XDP_PASS);
	return out_len;
}

/* Decapsulated: the inner frame behind the encapsulation's MACs. */
static void expect_inner(const uint8_t *got, size_t got_len, const struct frame *inner,
			 const uint8_t *sent)
{
	assert_int_equal(got_len, inner->len);
	assert_memory_equal(got, sent, 12);		   /* the MACs it arrived with */
	assert_memory_equal(got + 12, inner->b + 12, inner->len - 12); /* tag, type, packet */
}

static void test_every_encapsulation(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], got[4096];
	struct frame in[4];
	struct decap_stats s0 = stats(skel), s1;
	int ipip = 0, gue = 0;

	fr_ipv4(&in[0], 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	fr_ipv6(&in[1], 0, 17, client6, vip6, 5353, 53, 0, 33);
	fr_ipv4(&in[2], 300, 17, client4, vip4, 1, 2, 0, 0, 0); /* VLAN */
	fr_ipv6(&in[3], 42, 6, client6, vip6, 1, 443, SLUICE_TCP_ACK, 100);
	for (int i = 0; i < 4; i++) {
		int inner6 = i == 1 || i == 3;

		for (int outer6 = 0; outer6 < 2; outer6++) {
			size_t n, m;

			/* IP-in-IP keeps the family; GUE carries either. */
			if (outer6 == inner6) {
				n = encap(&in[i], SLUICE_FWD_IPIP, outer6, sent);
				m = run(skel, sent, n, got);
				expect_inner(got, m, &in[i], sent);
				ipip++;
			}
			n = encap(&in[i], SLUICE_FWD_GUE, outer6, sent);
			m = run(skel, sent, n, got);
			expect_inner(got, m, &in[i], sent);
			gue++;
		}
	}
	s1 = stats(skel);
	assert_int_equal(s1.ipip - s0.ipip, ipip);
	assert_int_equal(s1.gue - s0.gue, gue);
	assert_int_equal(s1.malformed - s0.malformed, 0);
}

/* Not sluice's encapsulation: untouched, counted as other. */
static void test_other_traffic_untouched(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], got[4096];
	struct frame f;
	struct decap_stats s0 = stats(skel);
	size_t n;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	n = run(skel, f.b, f.len, got);
	assert_int_equal(n, f.len);
	assert_memory_equal(got, f.b, f.len);
	/* GUE to another port: a UDP packet like any other. */
	n = encap(&f, SLUICE_FWD_GUE, 0, sent);
	fr_put16(sent + 14 + 20 + 2, 6081);
	assert_int_equal(run(skel, sent, n, got), n);
	assert_memory_equal(got, sent, n);
	assert_int_equal(stats(skel).other - s0.other, 2);
	assert_int_equal(stats(skel).malformed - s0.malformed, 0);
}

/* Looks like ours, outer headers wrong: untouched, counted malformed; the
 * kernel drops it as it would without the program. */
static void test_malformed_untouched(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], bad[4096], got[4096];
	struct frame f, f6;
	struct decap_stats s0 = stats(skel);
	size_t n;

	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	fr_ipv6(&f6, 0, 6, client6, vip6, 40000, 80, SLUICE_TCP_SYN, 10);
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);

	memcpy(bad, sent, n);
	bad[14 + 10] ^= 1; /* outer IPv4 checksum */
	assert_int_equal(run(skel, bad, n, got), n);
	assert_memory_equal(got, bad, n);

	memcpy(bad, sent, n);
	fr_put16(bad + 14 + 6, 0x2000); /* outer first fragment */
	fr_put16(bad + 14 + 10, 0);
	fr_put16(bad + 14 + 10, fr_csum(bad + 14, 20, 0));
	assert_int_equal(run(skel, bad, n, got), n);
	assert_memory_equal(got, bad, n);

	memcpy(bad, sent, n);
	fr_put16(bad + 14 + 2, (uint16_t)(n - 14 + 1)); /* outer length past the frame */
	fr_put16(bad + 14 + 10, 0);
	fr_put16(bad + 14 + 10, fr_csum(bad + 14, 20, 0));
	assert_int_equal(run(skel, bad, n, got), n);
	assert_memory_equal(got, bad, n);

	memcpy(bad, sent, n);
	bad[14 + 9] = 41; /* says IPv6 inside, carries IPv4 */
	fr_put16(bad + 14 + 10, 0);
	fr_put16(bad + 14 + 10, fr_csum(bad + 14, 20, 0));
	assert_int_equal(run(skel, bad, n, got), n);
	assert_memory_equal(got, bad, n);

	n = encap(&f6, SLUICE_FWD_GUE, 1, sent);
	memcpy(bad, sent, n);
	bad[14 + 48] = 0x55; /* GUE payload is no IP packet */
	assert_int_equal(run(skel, bad, n, got), n);
	assert_memory_equal(got, bad, n);

	assert_int_equal(stats(skel).malformed - s0.malformed, 5);
}

/* Every prefix of an encapsulated frame: passed, never decapsulated in
 * part (the kernel refuses test frames shorter than Ethernet). */
static void test_truncated_untouched(void **state)
{
	struct sluice_decap *skel = *state;
	uint8_t sent[4096], got[4096];
	struct frame f;

	fr_ipv6(&f, 7, 17, client6, vip6, 1, 53, 0, 20);
	for (int mode = SLUICE_FWD_IPIP; mode <= SLUICE_FWD_GUE; mode++) {
		size_t n = encap(&f, (uint8_t)mode, 1, sent);

		for (size_t len = 14; len < n; len++) {
			size_t m = run(skel, sent, len, got);

			/* Cut inside the inner packet, the outer length gives it
			 * away; before that, it is too short to be ours. */
			assert_int_equal(m, len);
			assert_memory_equal(got, sent, len);
		}
	}
}

/* GUE port 0: IP-in-IP only. */
static void test_no_gue(void **state)
{
	struct sluice_decap *skel = load(0);
	uint8_t sent[4096], got[4096];
	struct frame f;
	size_t n;
	(void)state;

	assert_non_null(skel);
	fr_ipv4(&f, 0, 6, client4, vip4, 40000, 80, SLUICE_TCP_SYN, 10, 0x4000);
	n = encap(&f, SLUICE_FWD_GUE, 0, sent);
	assert_int_equal(run(skel, sent, n, got), n);
	assert_memory_equal(got, sent, n);
	n = encap(&f, SLUICE_FWD_IPIP, 0, sent);
	expect_inner(got, run(skel, sent, n, got), &f, sent);
	sluice_decap__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_encapsulation),
		cmocka_unit_test(test_other_traffic_untouched),
		cmocka_unit_test(test_malformed_untouched),
		cmocka_unit_test(test_truncated_untouched),
		cmocka_unit_test(test_no_gue),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
