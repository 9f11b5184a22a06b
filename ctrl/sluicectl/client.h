/* SPDX-License-Identifier: BSD-3-Clause */
/* sluicectl's side of the control socket: one request, one response. */
#ifndef SLUICECTL_CLIENT_H
#define SLUICECTL_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define CLIENT_DEFAULT_SOCKET "/run/sluice/sluice.sock"
#define CLIENT_MAX_RESPONSE (64u << 20)
#define CLIENT_TIMEOUT_S 30

/* Send req to the daemon at path; *resp gets its answer. Returns 0, or
 * -errno with a sentence in err (cannot connect, timeout, garbage). */
int client_call(const char *path, const json_t *req, json_t **resp, char *err, size_t errlen);

#endif /* SLUICECTL_CLIENT_H */
