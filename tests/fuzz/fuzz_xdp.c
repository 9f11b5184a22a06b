/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the XDP program's C compiled for the host. sluice_xdp_process
 * (bpf/xdp_lb.h, the whole body of bpf/sluice_xdp.bpf.c) runs on frames in
 * an XDP-like buffer, its maps host arrays behind the helpers of
 * xdp_host/ (whose bpf/bpf_helpers.h this executable includes instead of
 * libbpf's), filled from the snapshot of fuzz_snapshot.h by the loader's
 * own computations (lib/xdp_layout.c) as a publish writes them.
 *
 * An input is up to 4 frames as for fuzz_dp: each a length byte pair and
 * its bytes; they run in turn, 1/16 s of jiffies apart, and the flow
 * table and counters are kept across inputs (so later inputs meet, expire
 * and evict flows earlier ones made: the table is small for that, and the
 * flow clock wraps within a run). Every REPUBLISH inputs a snapshot with
 * the backend states moved on is published, in the other version, so
 * flows on a backend gone down are re-picked.
 *
 * Checked for each frame: ASan sees only [data, data_end) (xdp_host.h),
 * the verdict is one the program gives (TX, DROP, PASS), the frame stays
 * within its buffer, exactly the verdict's counter moved, and a passed
 * frame reaches the kernel as it came.
 */

/* 16 sets of 4 ways instead of 2^18 sets: full within a few hundred inputs. */
#define SLUICE_XDP_FLOW_SETS_LOG2 4

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h> /* xdp_host/bpf/bpf_helpers.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_lb.h"

#include "fuzz_snapshot.h"
#include "xdp_host.h"
#include "xdp_layout.h"

#define BURST 4
/* Inputs between snapshots: backend states move on (fz_fill_turn). */
#define REPUBLISH 16384
#define HZ 250
#define FRAME_JIFFIES 16 /* a UDP flow lives 480 frames, a TCP flow 4800 */
/* The flow clock (jiffies / 64, 30 bits) wraps 100000 frames into a run. */
#define JIFFIES_START ((1ull << 35) - 100000ull * FRAME_JIFFIES)

/* What libbpf would fill in from the kernel's configuration. */
unsigned int CONFIG_HZ = HZ;

static struct xdp_host_map *m_cfg, *m_sel, *m_index, *m_tables, *m_backends, *m_stats;
static struct xdp_host_frame frame;
static struct sluice_snapshot *snap;
static unsigned int turn, inputs;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_xdp: %s\n", what);
	abort();
}

/* What the loader's publish of snap leaves in the maps
 * (sluice_xdp_path_publish): the backends, each VIP's table, version
 * generation & 1 of the settings and the index (the loader alternates),
 * cfg_sel naming it. The values are the loader's (xdp_layout.c); only the
 * writes are the harness's, straight into the host maps, because the
 * loader's go through map fds (one thread here: no order to keep). The
 * snapshots this harness publishes have the same VIPs and backend ids. */
static void publish(const struct sluice_snapshot *snap)
{
	static struct sluice_xdp_vip_entry entries[SLUICE_MAX_VIPS],
		index[SLUICE_XDP_VIP_INDEX_SIZE];
	static struct sluice_backend be[SLUICE_MAX_BACKENDS];
	struct sluice_xdp_cfg_sel sel = {.slot = snap->generation & 1, .configured = 1,
					 .generation = snap->generation};
	bool present[SLUICE_MAX_VIPS];
	struct sluice_xdp_cfg c;
	char err[256];
	size_t n;

	if (sluice_xdp_snapshot_check(snap, err, sizeof(err)) < 0 ||
	    sluice_xdp_wants(snap, entries, &n, present, be, err, sizeof(err)) < 0 ||
	    sluice_xdp_version_build(&snap->global, entries, n, 0, &c, index, err,
				     sizeof(err)) < 0)
		fail(err);
	/* Every other version with the flood guard on, a few flows a second,
	 * so that both the recorded and the capped new flow are run. */
	c.syn_rate = snap->generation & 1 ? 0 : 20;
	for (__u32 id = 0; id < SLUICE_MAX_BACKENDS; id++)
		memcpy(xdp_host_map_elem(m_backends, id), &be[id], sizeof(be[id]));
	for (__u32 i = 0; i < snap->n_vips; i++) {
		struct xdp_host_map **inner = xdp_host_map_elem(m_tables, i);
		union sluice_xdp_table_entry *t;
		__u32 entries_n;

		if (!present[i])
			continue;
		entries_n = sluice_xdp_table_build(snap, &snap->vips[i], &t);
		if (!entries_n)
			fail("out of memory");
		/* A frozen map swapped in, for the loader; the same one
		 * rewritten here while its size fits. */
		if (!*inner || (*inner)->max_entries != entries_n)
			xdp_host_map_set_inner(m_tables, i, XDP_HOST_INNER(tables, entries_n));
		for (__u32 e = 0; e < entries_n; e++)
			memcpy(xdp_host_map_elem(*inner, e), &t[e], sizeof(t[e]));
		free(t);
	}
	for (__u32 i = 0; i < SLUICE_XDP_VIP_INDEX_SIZE; i++)
		memcpy(xdp_host_map_elem(m_index, sel.slot * SLUICE_XDP_VIP_INDEX_SIZE + i),
		       &index[i], sizeof(index[i]));
	memcpy(xdp_host_map_elem(m_cfg, sel.slot), &c, sizeof(c));
	memcpy(xdp_host_map_elem(m_sel, 0), &sel, sizeof(sel));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	m_cfg = XDP_HOST_MAP(cfg);
	m_sel = XDP_HOST_MAP(cfg_sel);
	m_index = XDP_HOST_MAP(vip_index);
	m_tables = XDP_HOST_MAP_OF_MAPS(tables);
	m_backends = XDP_HOST_MAP(backends);
	m_stats = XDP_HOST_MAP(stats);
	XDP_HOST_MAP(flows);
	XDP_HOST_MAP(syn_budget);
	XDP_HOST_MAP(backend_stats);
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		fail("out of memory");
	fz_fill_turn(snap, turn);
	publish(snap);
	xdp_host_frame_init(&frame);
	xdp_host_jiffies = JIFFIES_START;
	return 0;
}

/* One frame through the program, and the checks. */
static void run(const uint8_t *bytes, size_t len)
{
	const struct sluice_xdp_stats *st = xdp_host_map_elem(m_stats, 0);
	__u64 pass = st->xdp.xdp_pass, drop = st->xdp.xdp_drop, tx = st->lcore.tx_packets;
	unsigned char *data, *data_end;
	int verdict;

	xdp_host_frame_load(&frame, bytes, len);
	verdict = sluice_xdp_process(&frame.md);
	data = xdp_host_data(&frame);
	data_end = xdp_host_data_end(&frame);

	if (data < frame.hard_start + XDP_HOST_FRAME_HDR || data > data_end ||
	    data_end > frame.hard_end)
		fail("the frame left its buffer");
	pass = st->xdp.xdp_pass - pass;
	drop = st->xdp.xdp_drop - drop;
	tx = st->lcore.tx_packets - tx;
	switch (verdict) {
	case XDP_PASS:
		if (pass != 1 || drop || tx)
			fail("XDP_PASS not counted as xdp_pass alone");
		if (data != frame.hard_start + XDP_HOST_HEADROOM || (size_t)(data_end - data) != len ||
		    memcmp(data, bytes, len) != 0)
			fail("XDP_PASS of a frame the program changed");
		break;
	case XDP_DROP:
		if (drop != 1 || pass || tx)
			fail("XDP_DROP not counted as xdp_drop alone");
		break;
	case XDP_TX:
		if (tx != 1 || pass || drop)
			fail("XDP_TX not counted as tx_packets alone");
		break;
	default:
		fail("a verdict the program does not give");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int n = 0;

	if (++inputs % REPUBLISH == 0) {
		fz_fill_turn(snap, ++turn);
		publish(snap);
	}
	while (n < BURST && size >= 2) {
		size_t len = (size_t)(data[0] | data[1] << 8) % 1600;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		xdp_host_jiffies += FRAME_JIFFIES;
		run(data, len);
		data += len;
		size -= len;
		n++;
	}
	return 0;
}
