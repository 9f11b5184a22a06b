/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: sluiced's state file (the CLI's changes and the stable ids)
 * as the daemon loads it at start: persist_load_all, the host's drain
 * checked, then the ids into a model and the changes over a
 * configuration, validated (daemon.c's order).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_file.h"
#include "model.h"
#include "overlay.h"
#include "persist.h"
#include "routing.h"

static struct conf base;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] =
		"{\"vips\": [{\"address\": \"10.0.0.10\", \"port\": 80, \"backends\": ["
		"{\"address\": \"10.0.1.1\"}, {\"address\": \"10.0.1.2\", \"weight\": 3}]},"
		"{\"address\": \"2001:db8::1\", \"port\": 53, \"protocol\": \"udp\","
		"\"forwarding\": \"gue\", \"backends\": [{\"address\": \"fd00::1\"}]}],"
		"\"source\": {\"ipv4\": \"10.0.0.1\", \"ipv6\": \"fd00::ff\"},"
		"\"nexthop_mac\": \"02:00:00:00:00:01\"}";
	char err[512];

	(void)argc;
	(void)argv;
	if (fz_write_file((const uint8_t *)text, sizeof(text) - 1) < 0 ||
	    conf_load(fz_path, &base, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_state: the base configuration: %s\n", err);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	struct overlay ov;
	struct model m;
	struct conf eff;
	json_t *ids = NULL, *host = NULL;

	if (fz_write_file(data, size) < 0)
		return 0;
	memset(&ov, 0, sizeof(ov));
	if (persist_load_all(fz_path, &ov, &ids, &host, err, sizeof(err)) < 0)
		return 0;
	(void)routing_check_host(host, &e);
	json_decref(host);
	model_init(&m);
	if (ids)
		(void)model_ids_load(&m, ids, "ids", &e);
	json_decref(ids);
	if (overlay_apply(&ov, &base, &eff) == 0) {
		if (conf_validate(&eff, &e) == 0)
			(void)model_sync(&m, &eff, NULL);
		conf_free(&eff);
	}
	model_destroy(&m, NULL);
	overlay_free(&ov);
	return 0;
}
