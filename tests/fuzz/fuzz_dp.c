/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: sluice-dp's whole per-packet path (sluice_dp_process) on real
 * mbufs, under a snapshot with every forwarding mode, with its flow table
 * kept across inputs (so later inputs meet entries earlier ones made). An
 * input is up to 4 frames: each a length byte pair and its bytes; the
 * frames go through as one burst, as from a NIC queue.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "process.h"
#include "fuzz_snapshot.h"

#define BURST 4

static struct rte_mempool *pool;
static struct sluice_snapshot *snap;
static struct sluice_dp_config cfg;
static struct sluice_dp_lcore lc;
static struct sluice_lcore_status status;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = {"fuzz_dp", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", prefix,
		       "--log-level=*:error", "-l", "0", "--no-telemetry", NULL};

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sluice-fuzz-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	snap = calloc(1, sizeof(*snap));
	if (!pool || !snap)
		abort();
	fz_fill(snap);
	cfg.tsc_hz = rte_get_tsc_hz();
	cfg.flows = 4096;
	cfg.timeout_s[0] = 300;
	cfg.timeout_s[1] = 30;
	cfg.timeout_s[2] = 10;
	cfg.syn_rate = 0;
	cfg.icmp_rate = 1000000;
	if (sluice_dp_lcore_init(&lc, &cfg, &status, SOCKET_ID_ANY) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *in[BURST], *out[BURST];
	uint16_t n = 0, nout;

	while (n < BURST && size >= 2) {
		size_t len = (size_t)(data[0] | data[1] << 8) % 1600;
		char *p;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		in[n] = rte_pktmbuf_alloc(pool);
		if (!in[n])
			abort();
		p = rte_pktmbuf_append(in[n], (uint16_t)len);
		if (!p && len)
			abort();
		memcpy(p, data, len);
		data += len;
		size -= len;
		n++;
	}
	if (!n)
		return 0;
	nout = sluice_dp_process(&lc, snap, 0, in, n, out, rte_rdtsc());
	if (nout > n)
		abort();
	for (uint16_t i = 0; i < nout; i++) {
		/* What leaves must fit the frame it is in. */
		if (rte_pktmbuf_data_len(out[i]) > rte_pktmbuf_data_room_size(pool))
			abort();
		rte_pktmbuf_free(out[i]);
	}
	sluice_dp_sweep(&lc, rte_rdtsc(), 4);
	sluice_dp_flush(&lc);
	/* Every mbuf came back: none leaked, none freed twice. */
	if (rte_mempool_in_use_count(pool) != 0)
		abort();
	return 0;
}
