/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the shared packet parser (include/sluice/packet.h), which both
 * data paths run on every frame from the wire, and what the paths do next
 * with a flow it accepts: the flow hash, the outer headers of every
 * encapsulation toward an IPv4 and an IPv6 backend, and the too-big quote,
 * into buffers sized exactly as the paths size them. ASan and UBSan report
 * every read or write past a frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/encap.h"
#include "sluice/flow.h"
#include "sluice/packet.h"

static void encapsulate(const uint8_t *frame, size_t size, const struct sluice_pkt *p,
			uint8_t mode, uint8_t family, uint64_t hash)
{
	const struct sluice_global_cfg g = {
		.src_v4 = {.family = SLUICE_FAMILY_V4, .bytes = {10, 0, 0, 1}},
		.src_v6 = {.family = SLUICE_FAMILY_V6, .bytes = {0xfd, [15] = 1}},
		.gue_port = 0xc017,
		.mtu = 1500,
	};
	struct sluice_backend be = {.addr = {.family = family, .bytes = {10, 1, 2, 3}}};
	int room = mode == SLUICE_FWD_L2DSR ? 0 : sluice_encap_overhead(mode, family);
	uint8_t *buf;

	if (room < 0)
		return;
	/* As the paths do: grow the frame at its head, then write. */
	buf = malloc((size_t)room + size);
	if (!buf)
		return;
	memcpy(buf + room, frame, size);
	(void)sluice_encap_write(buf, buf + room + size, p, mode, &be, &g, hash);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_pkt p;
	uint8_t *frame;
	int kind;

	/* An exact-size copy: a read one byte past the frame is a report. */
	frame = malloc(size ? size : 1);
	if (!frame)
		return 0;
	memcpy(frame, data, size);
	kind = sluice_parse(frame, frame + size, &p);
	if (kind == SLUICE_PKT_FLOW || kind == SLUICE_PKT_ICMP_ERR) {
		uint64_t hash = sluice_flow_hash(&p.key, 0x5eed);

		for (uint8_t mode = SLUICE_FWD_IPIP; mode <= SLUICE_FWD_L2DSR; mode++) {
			encapsulate(frame, size, &p, mode, SLUICE_FAMILY_V4, hash);
			encapsulate(frame, size, &p, mode, SLUICE_FAMILY_V6, hash);
		}
	}
	if (kind == SLUICE_PKT_FLOW) {
		uint8_t quote[SLUICE_QUOTE_MAX];

		(void)sluice_too_big_quote(frame, frame + size, &p, quote);
	}
	free(frame);
	return 0;
}
