/* SPDX-License-Identifier: BSD-3-Clause */
/* The flow hash equals libxxhash's XXH64 over the 40-byte key, and the key
 * builders fill the layout the contract describes. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <xxhash.h>

#include "sluice/flow.h"
#include "test_rand.h"

#define KEYS_PER_FAMILY 200000

static void test_hash_equals_xxh64_v4(void **state)
{
	uint64_t rng = 0x1234;
	(void)state;

	for (int i = 0; i < KEYS_PER_FAMILY; i++) {
		struct sluice_flow_key key;
		uint64_t r = test_rand(&rng), seed = test_rand(&rng);

		sluice_flow_key_v4(&key, (uint32_t)r, (uint32_t)(r >> 32), (uint8_t)(r >> 5),
				   (uint16_t)(r >> 17), (uint16_t)(r >> 40));
		assert_int_equal(sluice_flow_hash(&key, seed), XXH64(&key, sizeof(key), seed));
	}
}

static void test_hash_equals_xxh64_v6(void **state)
{
	uint64_t rng = 0x5678;
	(void)state;

	for (int i = 0; i < KEYS_PER_FAMILY; i++) {
		struct sluice_flow_key key;
		uint8_t src[16], dst[16];
		uint64_t r = test_rand(&rng), seed = test_rand(&rng);

		for (int j = 0; j < 16; j += 8) {
			uint64_t a = test_rand(&rng), b = test_rand(&rng);

			memcpy(src + j, &a, 8);
			memcpy(dst + j, &b, 8);
		}
		sluice_flow_key_v6(&key, src, dst, (uint8_t)r, (uint16_t)(r >> 8),
				   (uint16_t)(r >> 24));
		assert_int_equal(sluice_flow_hash(&key, seed), XXH64(&key, sizeof(key), seed));
	}
}

/* The builders leave no stale bytes: a key built over garbage equals one
 * built over zeros, so two paths that saw the same packet hash the same. */
static void test_builders_zero_unused_bytes(void **state)
{
	struct sluice_flow_key a, b;
	uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, d6[16] = {0x20, 0x01, [15] = 2};
	(void)state;

	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0, sizeof(b));
	sluice_flow_key_v4(&a, 0x0100000a, 0x0a00000a, 6, 0x3412, 0x5000);
	sluice_flow_key_v4(&b, 0x0100000a, 0x0a00000a, 6, 0x3412, 0x5000);
	assert_memory_equal(&a, &b, sizeof(a));
	for (int i = 4; i < 16; i++) {
		assert_int_equal(a.src[i], 0);
		assert_int_equal(a.dst[i], 0);
	}
	assert_int_equal(a.family, SLUICE_FAMILY_V4);
	assert_int_equal(a.pad[0] | a.pad[1], 0);

	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0, sizeof(b));
	sluice_flow_key_v6(&a, s6, d6, 17, 1, 2);
	sluice_flow_key_v6(&b, s6, d6, 17, 1, 2);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.family, SLUICE_FAMILY_V6);
}

/* Byte layout of the contract: field offsets and byte order as stored. */
static void test_key_layout(void **state)
{
	struct sluice_flow_key k;
	const uint8_t *p = (const uint8_t *)&k;
	(void)state;

	sluice_flow_key_v4(&k, 0x04030201, 0x08070605, 17, 0x0b0a, 0x0d0c);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[3], 4);
	assert_int_equal(p[16], 5);
	assert_int_equal(p[32], 0x0a);
	assert_int_equal(p[34], 0x0c);
	assert_int_equal(p[36], 17);
	assert_int_equal(p[37], SLUICE_FAMILY_V4);
}

/*
 * The hash of one flow, pinned: 192.0.2.7:51000 -> 10.0.0.10:80/tcp under
 * seeds 0 and 0x5eed. The values were computed once with libxxhash's XXH64
 * over the key's 40 bytes and written here as literals, so that a change to
 * the key layout, the byte order or the hash function (which would send
 * every established flow of a fleet with mixed versions to other backends)
 * fails this test instead of agreeing with itself.
 */
static void test_seed_changes_hash(void **state)
{
	struct sluice_flow_key k;
	(void)state;

	sluice_flow_key_v4(&k, htonl(0xC0000207), htonl(0x0A00000A), 6, htons(51000), htons(80));
	assert_int_equal(sluice_flow_hash(&k, 0), 0xd6ecb988a7424cc9ULL);
	assert_int_equal(sluice_flow_hash(&k, 0x5eed), 0x8620c55fe06f27b5ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_equals_xxh64_v4),
		cmocka_unit_test(test_hash_equals_xxh64_v6),
		cmocka_unit_test(test_builders_zero_unused_bytes),
		cmocka_unit_test(test_key_layout),
		cmocka_unit_test(test_seed_changes_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
