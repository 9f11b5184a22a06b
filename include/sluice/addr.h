/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An IP address of either family in one fixed layout. It is a backend's
 * identity (what Maglev permutations and ring points are hashed from), and
 * the form in which shared memory and BPF maps carry VIPs and backends.
 * Compiles for user space and for BPF.
 */
#ifndef SLUICE_ADDR_H
#define SLUICE_ADDR_H

#include <linux/types.h>

#include "flow.h"

/*
 * family is SLUICE_FAMILY_V4 or SLUICE_FAMILY_V6; bytes are in network
 * order; an IPv4 address uses bytes 0..3 and leaves 4..15 zero; pad is 0.
 * Two equal addresses are equal byte for byte, so memcmp() orders them.
 */
struct sluice_addr {
	__u8 family;
	__u8 pad[3];
	__u8 bytes[16];
};

_Static_assert(sizeof(struct sluice_addr) == 20, "address layout is a contract");

#endif /* SLUICE_ADDR_H */
