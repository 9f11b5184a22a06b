/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0) */
/*
 * The maps of bpf/sluice_decap.bpf.c, as its loader (sluice-decap) and its
 * tests read and write them. The loader pins them per interface, so a later
 * `sluice-decap allow|deny|status` finds the running program's maps.
 *
 * Address sets are hash maps keyed by struct sluice_addr (family, zero pad,
 * bytes; an IPv4 address leaves bytes 4..15 zero), value 1: the key is
 * built the same way from a packet and from text, and compares byte for
 * byte.
 */
#ifndef SLUICE_DECAP_ABI_H
#define SLUICE_DECAP_ABI_H

#include <linux/types.h>

#include "sluice/addr.h"

/*
 * Every counter, in the order of the checks. A frame counts exactly one of
 * them. Decapsulated: ipip, gue. Refused (dropped, or passed untouched
 * with SLUICE_DECAP_PASS_REFUSED): malformed through nested. other: not
 * sluice's encapsulation, passed untouched.
 */
#define SLUICE_DECAP_COUNTERS(X)                                                              \
	X(ipip)	       /* IPv4/IPv6-in-IP decapsulated */                                      \
	X(gue)	       /* GUE decapsulated */                                                  \
	X(malformed)   /* outer headers wrong: checksum, fragment, lengths, inner version */  \
	X(not_from_lb) /* outer source is no load balancer's */                               \
	X(not_to_host) /* outer destination is not an address of this host */                 \
	X(bad_inner_len) /* inner length is not what the outer header says */                 \
	X(nested)      /* the inner packet is itself encapsulated */                          \
	X(not_vip)     /* inner destination is not a VIP this host serves */                  \
	X(other)       /* not encapsulated (or not to the GUE port): passed as is */

struct sluice_decap_stats {
#define SLUICE_X_FIELD(name) __u64 name;
	SLUICE_DECAP_COUNTERS(SLUICE_X_FIELD)
#undef SLUICE_X_FIELD
};

/* config flags */
/* Decapsulate from any outer source: no allowed set (--any-source). */
#define SLUICE_DECAP_ANY_SOURCE 0x1
/* Refused frames go to the kernel untouched instead of being dropped. */
#define SLUICE_DECAP_PASS_REFUSED 0x2
/* The inner destination may be any address in local_addrs, not only vips. */
#define SLUICE_DECAP_VIP_ANY_LOCAL 0x4
/* local_addrs was given (--local), not read from the host: only the loader
 * reads this, so that `refresh` leaves it alone. */
#define SLUICE_DECAP_LOCAL_GIVEN 0x8

struct sluice_decap_config {
	__u16 gue_port; /* host order; 0: no GUE */
	__u16 flags;
	__u32 pad;
};

#define SLUICE_DECAP_MAX_SOURCES 1024
#define SLUICE_DECAP_MAX_LOCAL 4096
#define SLUICE_DECAP_MAX_VIPS 16384

/* A program whose config element was never written has gue_port 0 and no
 * flags, so it refuses every encapsulated frame: nothing is decapsulated
 * until a loader has said from whom. */

#endif /* SLUICE_DECAP_ABI_H */
