/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: a control request as sluiced runs it (control_dispatch:
 * framing's JSON, the command table, every command's fields and its effect)
 * against a real daemon: configuration, state file and config region in
 * /dev/shm under an instance of this process's own, health checks off, no
 * data plane. Changes accumulate across inputs, as they would over a
 * daemon's life; each is published, with the event loop run after it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/event.h>

#include "commands.h"
#include "daemon.h"
#include "fuzz_file.h"
#include "log.h"

static struct sluiced d;
static char state_path[96], sock_path[96], instance[32];

static void cleanup(void)
{
	char name[64];

	daemon_stop(&d);
	unlink(state_path);
	unlink(sock_path);
	if (sluice_shm_name(instance, "config", name, sizeof(name)) == 0)
		shm_unlink(name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char text[2048];
	int n;

	(void)argc;
	(void)argv;
	snprintf(instance, sizeof(instance), "fuzzctl-%d", (int)getpid());
	snprintf(state_path, sizeof(state_path), "/dev/shm/sluice-fuzzctl-%d.state", (int)getpid());
	snprintf(sock_path, sizeof(sock_path), "/tmp/sluice-fuzzctl-%d.sock", (int)getpid());
	n = snprintf(text, sizeof(text),
		     "{\"instance\": \"%s\", \"dataplane\": {\"mode\": \"dpdk\"},"
		     "\"source\": {\"ipv4\": \"10.0.0.1\", \"ipv6\": \"fd00::ff\"},"
		     "\"nexthop_mac\": \"02:00:00:00:00:01\","
		     "\"control\": {\"socket\": \"%s\"}, \"metrics\": {\"enabled\": false},"
		     "\"vips\": [{\"address\": \"10.0.0.10\", \"port\": 80, \"table_size\": 1009,"
		     "\"health\": {\"type\": \"none\"}, \"backends\": [{\"address\": \"10.0.1.1\"},"
		     "{\"address\": \"10.0.1.2\", \"weight\": 3}]},"
		     "{\"address\": \"2001:db8::1\", \"port\": 53, \"protocol\": \"udp\","
		     "\"forwarding\": \"gue\", \"table_size\": 251, \"health\": {\"type\": \"none\"},"
		     "\"backends\": [{\"address\": \"fd00::1\"}]}]}",
		     instance, sock_path);
	slog_set_level(SLOG_ERR);
	d.base = event_base_new();
	if (!d.base || fz_write_file((const uint8_t *)text, (size_t)n) < 0 ||
	    daemon_load(&d, fz_path, state_path) < 0 || daemon_attach_shm(&d) < 0 ||
	    daemon_start(&d) < 0) {
		fprintf(stderr, "fuzz_control: the daemon did not start\n");
		abort();
	}
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool wait;
	json_t *resp;

	/* Framing hands the dispatcher one line without its newline. */
	if (size > 64 * 1024 || memchr(data, '\n', size))
		return 0;
	resp = control_dispatch(&d, (const char *)data, size, false, &wait);
	if (!resp || !json_is_object(resp) || !json_is_boolean(json_object_get(resp, "ok")))
		abort(); /* every request gets {"ok": ...} */
	json_decref(resp);
	event_base_loop(d.base, EVLOOP_NONBLOCK);
	return 0;
}
