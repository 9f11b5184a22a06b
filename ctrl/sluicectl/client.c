/* SPDX-License-Identifier: BSD-3-Clause */
/* One request, one response over the control socket. See client.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "client.h"

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int client_call(const char *path, const json_t *req, json_t **resp, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S, .tv_usec = 0};
	size_t len = 0, cap = 4096;
	char *text, *buf = NULL;
	json_error_t jerr;
	int fd, rc;

	*resp = NULL;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		return sluice_errf(err, errlen, -ENAMETOOLONG, "socket path too long: %s", path);
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		return sluice_errf(err, errlen, rc, "socket: %s", strerror(-rc));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		sluice_errf(err, errlen, 0, "cannot connect to sluiced at %s: %s", path,
			    strerror(-rc));
		close(fd);
		return rc;
	}
	text = json_dumps(req, JSON_COMPACT);
	rc = text ? send_all(fd, text, strlen(text)) : -ENOMEM;
	if (rc == 0)
		rc = send_all(fd, "\n", 1);
	free(text);
	if (rc < 0) {
		sluice_errf(err, errlen, 0, "cannot send the request: %s", strerror(-rc));
		close(fd);
		return rc;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n;

		if (!buf || len == cap) {
			char *nb;

			cap = buf ? cap * 2 : cap;
			nb = cap > CLIENT_MAX_RESPONSE + 1 ? NULL : realloc(buf, cap);
			if (!nb) {
				rc = sluice_errf(err, errlen, -E2BIG, "response larger than %u bytes",
						 CLIENT_MAX_RESPONSE);
				goto out;
			}
			buf = nb;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			sluice_errf(err, errlen, 0, "%s",
				    rc == -EAGAIN ? "no answer from sluiced within the timeout"
						  : strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*resp = json_loadb(buf, len, 0, &jerr);
	if (!*resp || !json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		sluice_errf(err, errlen, 0, "sluiced sent %s",
			 len ? "something that is not a JSON object" : "nothing back");
		rc = -EPROTO;
		goto out;
	}
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}
