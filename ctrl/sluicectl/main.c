/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl: the operator's CLI for sluiced. Global options, one request
 * to the control socket, the answer in words (or as one JSON document
 * with --json). Exit status: 0 success, 1 the daemon refused or cannot be
 * reached, 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "client.h"
#include "print.h"

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

/* One call; prints the outcome. Returns the exit status. */
static int run(const char *sock, const struct invocation *inv, bool json)
{
	char err[512];
	json_t *resp;
	int rc;

	if (client_call(sock, inv->req, &resp, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluicectl: %s\n", err);
		return 1;
	}
	rc = json_is_true(json_object_get(resp, "ok")) ? 0 : 1;
	if (json) {
		json_dumpf(resp, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else if (!rc) {
		const char *m = json_string_value(json_object_get(resp, "message"));

		print_response(stdout, inv->cmd, resp);
		/* Made, but sluiced gave up waiting for the data plane: say so,
		 * even though changes otherwise print nothing. */
		if (json_is_false(json_object_get(resp, "acknowledged")))
			fprintf(stderr, "sluicectl: the change is made but not in force yet: %s\n",
				m ? m : "not acknowledged");
	}
	/* With --json too: a script that keeps stdout for the document still
	 * shows the operator why it failed. */
	if (rc) {
		const char *e = json_string_value(json_object_get(resp, "error"));

		fprintf(stderr, "sluicectl: %s\n", e ? e : "refused (no reason given)");
	}
	json_decref(resp);
	return rc;
}

/* stats --watch: redraw in place until interrupted. */
static int watch(const char *sock, const struct invocation *inv, bool json)
{
	struct timespec ts = {.tv_sec = (time_t)inv->interval_s,
			      .tv_nsec = (long)((inv->interval_s - (double)(time_t)inv->interval_s) *
						1e9)};
	int rc = 0;

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	while (!stop) {
		if (!json && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout); /* home, clear */
		rc = run(sock, inv, json);
		fflush(stdout);
		if (rc)
			break;
		nanosleep(&ts, NULL);
	}
	return rc;
}

/* host drain --wait: until routing.drain_grace_s is over, so that a
 * script can stop the data path next. Asks sluiced (its clock, and the
 * drain's start from before a restart). 1 when the host is undrained
 * meanwhile or sluiced cannot be asked. */
static int wait_safe(const char *sock, bool json)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
	json_t *req = json_pack("{s:s}", "cmd", "status"), *resp = NULL;
	char err[512];
	int rc = 1;

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	while (!stop) {
		const json_t *h;

		json_decref(resp);
		resp = NULL;
		if (client_call(sock, req, &resp, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluicectl: %s\n", err);
			break;
		}
		h = json_object_get(json_object_get(resp, "routing"), "host");
		if (!json_is_true(json_object_get(h, "drained"))) {
			fprintf(stderr, "sluicectl: the host is not drained any more\n");
			break;
		}
		if (json_is_true(json_object_get(h, "safe_to_stop"))) {
			if (!json)
				printf("grace over: safe to stop the data path\n");
			rc = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	json_decref(resp);
	json_decref(req);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = getenv("SLUICE_SOCKET");
	struct invocation inv;
	char err[512];
	bool json = false, dry_run = false;
	int c, rc;

	if (!sock || !*sock)
		sock = CLIENT_DEFAULT_SOCKET;
	/* Options end at the object: what follows belongs to the command
	 * (stats --watch). */
	while ((c = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'h': fputs(args_usage, stdout); return 0;
		case 'n': dry_run = true; break;
		default: fputs(args_usage, stderr); return 2;
		}
	}
	if (args_parse(argc - optind, argv + optind, dry_run, &inv, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluicectl: %s\n(sluicectl --help for usage)\n", err);
		return 2;
	}
	json = json || inv.json;
	rc = inv.watch ? watch(sock, &inv, json) : run(sock, &inv, json);
	if (rc == 0 && inv.wait_safe) {
		fflush(stdout);
		rc = wait_safe(sock, json);
	}
	json_decref(inv.req);
	return rc;
}
