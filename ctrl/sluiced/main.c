/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced: the control daemon. This file only parses the command line,
 * calls the init steps in order, runs the event loop and handles signals;
 * the parts are in daemon.c and the files it names.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "persist.h"
#include "routing.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluiced [--config FILE] [--state FILE] [--log-level LEVEL]\n"
		"       sluiced --check-config [FILE] [--state FILE]\n"
		"\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"  -S, --state FILE      state file (default: next to the configuration,\n"
		"                        NAME.json -> NAME.state.json)\n"
		"  -n, --check-config    validate the configuration (and the state file,\n"
		"                        if there is one) and exit: 0 valid, 1 not\n"
		"  -l, --log-level L     error, warning, info (default) or debug\n"
		"  -h, --help\n",
		CONF_DEFAULT_PATH);
}

/* --check-config: parse, validate, apply the state file; run nothing.
 * What daemon_load() refuses is refused here too, the state file's ids
 * included (loaded into a scratch model, as the daemon loads them). */
static int check_config(const char *file, const char *state)
{
	static struct model scratch;
	char err[768], msg[512], path[PATH_MAX];
	struct ju_err e = {msg, sizeof(msg)};
	struct overlay ov;
	struct conf c, eff;
	size_t nb = 0;
	json_t *ids, *host;
	int rc = 0;

	if (conf_load(file, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (!state) {
		persist_default_path(file, path, sizeof(path));
		state = path;
	}
	if (persist_load_all(state, &ov, &ids, &host, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		conf_free(&c);
		return 1;
	}
	rc = routing_check_host(host, &e);
	json_decref(host);
	if (rc == 0 && ids) {
		model_init(&scratch);
		rc = model_ids_load(&scratch, ids, "ids", &e);
		model_destroy(&scratch, NULL);
	}
	json_decref(ids);
	if (rc < 0) {
		fprintf(stderr, "state file %s: %s\n", state, msg);
		overlay_free(&ov);
		conf_free(&c);
		return 1;
	}
	if (overlay_apply(&ov, &c, &eff) < 0 || conf_validate(&eff, &e) < 0) {
		fprintf(stderr, "%s with the CLI changes of %s: %s\n", file, state, msg);
		overlay_free(&ov);
		conf_free(&c);
		return 1;
	}
	for (size_t i = 0; i < eff.n_vips; i++)
		nb += eff.vips[i].n_backends;
	printf("%s: valid: instance %s, %zu VIPs, %zu backends", file, eff.instance, eff.n_vips,
	       nb);
	if (!overlay_is_empty(&ov))
		printf(" (with %zu CLI changes from %s)", ov.n_vips + ov.n_backends, state);
	printf("\n");
	overlay_free(&ov);
	conf_free(&eff);
	conf_free(&c);
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sluiced *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		slog(SLOG_INFO, "SIGHUP: reloading %s", d->config_path);
		daemon_reload(d);
		return;
	}
	slog(SLOG_INFO, "%s: stopping; the data plane keeps the configuration in force",
	     strsignal((int)sig));
	event_base_loopbreak(d->base);
}

/* A thousand health checks in flight need a thousand sockets. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int parse_level(const char *s)
{
	if (!strcmp(s, "error"))
		return SLOG_ERR;
	if (!strcmp(s, "warning"))
		return SLOG_WARN;
	if (!strcmp(s, "info"))
		return SLOG_INFO;
	if (!strcmp(s, "debug"))
		return SLOG_DEBUG;
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"state", required_argument, NULL, 'S'},
		{"check-config", no_argument, NULL, 'n'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = CONF_DEFAULT_PATH, *state = NULL;
	static struct sluiced d;
	struct event *sigs[3] = {NULL, NULL, NULL};
	const int signums[3] = {SIGHUP, SIGTERM, SIGINT};
	struct event_config *ec;
	bool check = false;
	int c, level, rc = 1;

	while ((c = getopt_long(argc, argv, "c:S:nl:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'S': state = optarg; break;
		case 'n': check = true; break;
		case 'l':
			level = parse_level(optarg);
			if (level < 0) {
				fprintf(stderr, "sluiced: unknown log level \"%s\"\n", optarg);
				return 2;
			}
			slog_set_level((enum slog_level)level);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* `--check-config FILE` as well as `--config FILE --check-config`. */
	if (check && optind == argc - 1)
		config = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return check_config(config, state);

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	d.base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec)
		event_config_free(ec);
	if (!d.base) {
		slog(SLOG_ERR, "cannot create the event loop");
		return 1;
	}
	if (daemon_load(&d, config, state) < 0 || daemon_attach_shm(&d) < 0)
		goto out;
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
		if (!sigs[i] || evsignal_add(sigs[i], NULL) < 0) {
			slog(SLOG_ERR, "cannot handle signal %d", signums[i]);
			goto out;
		}
	}
	if (daemon_start(&d) < 0)
		goto stop;
	slog(SLOG_INFO, "sluiced %d running: instance %s, mode %s", (int)getpid(),
	     d.eff.instance, conf_dp_mode_name(d.eff.dp_mode));
	event_base_dispatch(d.base);
	rc = 0;
stop:
	daemon_stop(&d);
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
out:
	event_base_free(d.base);
	return rc;
}
