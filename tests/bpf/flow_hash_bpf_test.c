/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BPF build of sluice_flow_hash() (bpf/flow_hash_test.bpf.c, run through
 * BPF_PROG_TEST_RUN) equals libxxhash's XXH64 over the same 40-byte key and
 * equals the user-space build of the same header.
 *
 * Needs root (or CAP_BPF + CAP_NET_ADMIN) and a kernel with BPF: if the
 * program cannot be loaded, the test fails; it never skips.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <xxhash.h>

#include "sluice/flow.h"
#include "flow_hash_test.skel.h"

#define KEYS_PER_FAMILY 100000
#define SEED_OFF	SLUICE_FLOW_KEY_SIZE /* 40 */
#define HASH_OFF	(SEED_OFF + 8)       /* 48 */
#define PKT_LEN		(HASH_OFF + 8)       /* 56 */
#define MAX_REPORTED	5                    /* mismatches printed in full */

/* xorshift64*, fixed seeds: every run checks the same keys. */
static uint64_t rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
	struct flow_hash_test *skel;

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	skel = flow_hash_test__open_and_load();
	if (!skel) {
		fprintf(stderr, "flow_hash_test__open_and_load: %s (errno %d); "
				"this test needs root and BPF, it does not skip\n",
			strerror(errno), errno);
		return -1;
	}
	*state = skel;
	return 0;
}

static int teardown(void **state)
{
	flow_hash_test__destroy(*state);
	return 0;
}

/* One BPF_PROG_TEST_RUN of the XDP program over pkt[0..len); returns the
 * program's return value, fills out (sizeof >= len) and *out_len. */
static uint32_t run_prog(struct flow_hash_test *skel, const void *pkt, uint32_t len,
			 void *out, uint32_t out_size, uint32_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = out_size,
		.repeat = 1,
	);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flow_hash_test), &opts);

	if (err)
		fail_msg("bpf_prog_test_run_opts: %s (err %d)", strerror(-err), err);
	*out_len = opts.data_size_out;
	return opts.retval;
}

static void print_key(const struct sluice_flow_key *key)
{
	const uint8_t *b = (const uint8_t *)key;

	for (int i = 0; i < SLUICE_FLOW_KEY_SIZE; i++)
		fprintf(stderr, "%02x%s", b[i], i % 8 == 7 ? " " : "");
}

/* Runs one key through BPF; returns 1 if all three hashes agree. */
static int check_key(struct flow_hash_test *skel, const struct sluice_flow_key *key, uint64_t seed,
		     unsigned long *mismatches)
{
	uint8_t pkt[PKT_LEN] = {0}, out[PKT_LEN + 8];
	uint64_t bpf_hash, xxh = XXH64(key, SLUICE_FLOW_KEY_SIZE, seed);
	uint64_t user = sluice_flow_hash(key, seed);
	uint32_t ret, out_len = 0;

	memcpy(pkt, key, SLUICE_FLOW_KEY_SIZE);
	memcpy(pkt + SEED_OFF, &seed, 8);
	memset(out, 0xee, sizeof(out));
	ret = run_prog(skel, pkt, sizeof(pkt), out, sizeof(out), &out_len);
	assert_int_equal(ret, XDP_PASS);
	assert_int_equal(out_len, PKT_LEN);
	/* the program only writes the hash */
	assert_memory_equal(out, pkt, HASH_OFF);
	memcpy(&bpf_hash, out + HASH_OFF, 8);

	if (bpf_hash == xxh && user == xxh)
		return 1;
	if (++*mismatches <= MAX_REPORTED) {
		fprintf(stderr, "MISMATCH key ");
		print_key(key);
		fprintf(stderr,
			"seed 0x%016" PRIx64 ": XXH64 0x%016" PRIx64 " bpf 0x%016" PRIx64
			" user 0x%016" PRIx64 "\n",
			seed, xxh, bpf_hash, user);
	}
	return 0;
}

/* The seed of a key: mostly random, a few fixed edge values. */
static uint64_t pick_seed(uint64_t *rng, int i)
{
	static const uint64_t edges[] = {0, 1, UINT64_MAX, 0x8000000000000000ULL};

	if (i < (int)(sizeof(edges) / sizeof(edges[0])))
		return edges[i];
	return rnd(rng);
}

/* A protocol number: mostly TCP/UDP/SCTP with ports, sometimes any byte
 * (ports 0 then, as the key layout says for port-less protocols), sometimes
 * a port-carrying protocol with random ports anyway. */
static void pick_l4(uint64_t r, uint8_t *proto, uint16_t *sport, uint16_t *dport)
{
	static const uint8_t with_ports[] = {6, 17, 132};

	*sport = (uint16_t)(r >> 16);
	*dport = (uint16_t)(r >> 32);
	switch (r & 3) {
	case 0:
		*proto = (uint8_t)(r >> 48);
		*sport = 0;
		*dport = 0;
		break;
	case 1:
		*proto = (uint8_t)(r >> 48);
		break;
	default:
		*proto = with_ports[(r >> 8) % 3];
		break;
	}
}

static void report(const char *family, unsigned long checked, unsigned long mismatches, double t)
{
	printf("%s: %lu keys checked through BPF_PROG_TEST_RUN, %lu mismatches, %.3f s "
	       "(%.2f us/key)\n",
	       family, checked, mismatches, t, t * 1e6 / (double)checked);
	fflush(stdout);
}

static void test_v4_keys(void **state)
{
	struct flow_hash_test *skel = *state;
	uint64_t rng = 0x5eed0000000004ULL;
	unsigned long checked = 0, mismatches = 0;
	double t0 = now_sec();

	for (int i = 0; i < KEYS_PER_FAMILY; i++) {
		struct sluice_flow_key key;
		uint64_t r = rnd(&rng), a = rnd(&rng), seed = pick_seed(&rng, i);
		uint16_t sport, dport;
		uint8_t proto;

		pick_l4(r, &proto, &sport, &dport);
		memset(&key, (int)(a >> 56), sizeof(key)); /* the builder must overwrite */
		sluice_flow_key_v4(&key, (__be32)a, (__be32)(a >> 32), proto, sport, dport);
		checked += check_key(skel, &key, seed, &mismatches);
	}
	report("IPv4", checked + mismatches, mismatches, now_sec() - t0);
	assert_int_equal(mismatches, 0);
	assert_int_equal(checked, KEYS_PER_FAMILY);
}

static void test_v6_keys(void **state)
{
	struct flow_hash_test *skel = *state;
	uint64_t rng = 0x5eed0000000006ULL;
	unsigned long checked = 0, mismatches = 0;
	double t0 = now_sec();

	for (int i = 0; i < KEYS_PER_FAMILY; i++) {
		struct sluice_flow_key key;
		uint8_t src[16], dst[16];
		uint64_t r = rnd(&rng), seed = pick_seed(&rng, i);
		uint16_t sport, dport;
		uint8_t proto;

		for (int j = 0; j < 16; j += 8) {
			uint64_t a = rnd(&rng), b = rnd(&rng);

			memcpy(src + j, &a, 8);
			memcpy(dst + j, &b, 8);
		}
		pick_l4(r, &proto, &sport, &dport);
		memset(&key, (int)(r >> 56), sizeof(key)); /* the builder must overwrite */
		sluice_flow_key_v6(&key, src, dst, proto, sport, dport);
		checked += check_key(skel, &key, seed, &mismatches);
	}
	report("IPv6", checked + mismatches, mismatches, now_sec() - t0);
	assert_int_equal(mismatches, 0);
	assert_int_equal(checked, KEYS_PER_FAMILY);
}

/* Too short for key + seed (20 bytes), or for the result (48 bytes):
 * XDP_ABORTED, packet untouched. 56 bytes: XDP_PASS. */
static void test_short_packets(void **state)
{
	struct flow_hash_test *skel = *state;
	static const uint32_t lens[] = {20, HASH_OFF, PKT_LEN - 1};
	uint8_t pkt[PKT_LEN], out[PKT_LEN + 8];
	uint32_t out_len;

	for (unsigned int i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 1);

	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(out, 0xee, sizeof(out));
		out_len = 0;
		assert_int_equal(run_prog(skel, pkt, lens[i], out, sizeof(out), &out_len),
				 XDP_ABORTED);
		assert_int_equal(out_len, lens[i]);
		assert_memory_equal(out, pkt, lens[i]);
	}
	assert_int_equal(run_prog(skel, pkt, PKT_LEN, out, sizeof(out), &out_len), XDP_PASS);
	assert_int_equal(out_len, PKT_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_short_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v4_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
