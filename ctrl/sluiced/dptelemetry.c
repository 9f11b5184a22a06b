/* SPDX-License-Identifier: BSD-3-Clause */
/* A client of DPDK's telemetry socket. See dptelemetry.h. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "dptelemetry.h"

#define TELEMETRY_GLOB "/var/run/dpdk/*/dpdk_telemetry.v2"
#define TIMEOUT_MS 300
#define REPLY_MAX (64 * 1024)

static int open_socket(const char *path)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = TIMEOUT_MS * 1000};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One message from fd as JSON, or NULL. */
static json_t *recv_json(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, 0);

	if (n <= 0)
		return NULL;
	return json_loadb(buf, (size_t)n, 0, NULL);
}

json_t *dptelemetry_query(pid_t pid, const char *cmd, char *err, size_t errlen)
{
	static char buf[REPLY_MAX];
	json_t *answer = NULL;
	glob_t g;
	char name[128];
	const char *comma = strchr(cmd, ',');

	snprintf(name, sizeof(name), "%.*s", comma ? (int)(comma - cmd) : (int)strlen(cmd), cmd);
	sluice_errf(err, errlen, 0, "no telemetry socket of sluice-dp (pid %d) under /var/run/dpdk",
		 (int)pid);
	if (glob(TELEMETRY_GLOB, 0, NULL, &g) != 0)
		return NULL;
	for (size_t i = 0; i < g.gl_pathc && !answer; i++) {
		int fd = open_socket(g.gl_pathv[i]);
		json_t *hello, *reply;

		if (fd < 0)
			continue;
		hello = recv_json(fd, buf, sizeof(buf));
		if (!hello || json_integer_value(json_object_get(hello, "pid")) != pid) {
			json_decref(hello);
			close(fd);
			continue;
		}
		json_decref(hello);
		errno = 0;
		if (send(fd, cmd, strlen(cmd), 0) < 0 || !(reply = recv_json(fd, buf, sizeof(buf)))) {
			sluice_errf(err, errlen, 0, "sluice-dp's telemetry did not answer %s: %s",
				    name, errno ? strerror(errno) : "no JSON reply");
			close(fd);
			break;
		}
		answer = json_incref(json_object_get(reply, name));
		if (!answer || json_is_null(answer)) {
			json_decref(answer);
			answer = NULL;
			sluice_errf(err, errlen, 0, "sluice-dp refused %s (an older sluice-dp?)",
				    name);
		}
		json_decref(reply);
		close(fd);
		break;
	}
	globfree(&g);
	return answer;
}
