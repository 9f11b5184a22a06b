/* SPDX-License-Identifier: BSD-3-Clause */
/* A fixed-seed PRNG for tests: repeatable runs, no libc rand() state. */
#ifndef SLUICE_TEST_RAND_H
#define SLUICE_TEST_RAND_H

#include <stdint.h>

static inline uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif
