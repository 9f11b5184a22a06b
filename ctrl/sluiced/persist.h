/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state file: what sluiced must remember across restarts beyond the
 * configuration file, namely the CLI's changes (the overlay) and the ids
 * given to VIPs and backends. One JSON document, next to the configuration
 * by default ("sluice.json" -> "sluice.state.json"):
 *
 *   {"version": 1, "overlay": {...}, "ids": {...}, "host": {...}}
 *
 * "host" holds the host's own state (a `sluicectl host drain`, routing.c)
 * and is written only while there is some, so that a file without it
 * stays readable by a sluiced that predates it.
 *
 * Written atomically: a temporary file in the same directory, fsync,
 * rename over the old one, fsync of the directory. A crash at any point
 * leaves the old file or the new one, never a mix. A file that cannot be
 * read is refused with its name and the reason; it is never dropped
 * silently, because dropping it would undo the operator's changes.
 */
#ifndef SLUICED_PERSIST_H
#define SLUICED_PERSIST_H

#include <jansson.h>
#include <stddef.h>

#include "overlay.h"

#define PERSIST_VERSION 1

/* "<dir>/<name>.state.json" for "<dir>/<name>.json" (or "<file>.state.json"). */
void persist_default_path(const char *config_path, char *out, size_t len);

/* Read the state file. A missing file is an empty state: ov empty and *ids
 * NULL. Otherwise *ids is the "ids" member (a new reference, or NULL).
 * Returns 0, or -errno with "FILE: reason" in err. */
int persist_load(const char *path, struct overlay *ov, json_t **ids, char *err, size_t errlen);
/* The same, with the "host" member in *host (a new reference, or NULL);
 * its contents are its reader's to check (routing_load_host). */
int persist_load_all(const char *path, struct overlay *ov, json_t **ids, json_t **host, char *err,
		     size_t errlen);

/* The document for ov and ids (compact, keys sorted): malloc'd text. */
char *persist_render(const struct overlay *ov, const json_t *ids);
/* With host (NULL: none). */
char *persist_render_all(const struct overlay *ov, const json_t *ids, const json_t *host);

/* Replace the file's contents with text, atomically and durably. Fails
 * (old contents in place) unless the new file took the name; a failed
 * sync of the directory after that is logged, not returned. */
int persist_write(const char *path, const char *text, char *err, size_t errlen);

#endif /* SLUICED_PERSIST_H */
