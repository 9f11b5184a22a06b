/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed reads of JSON fields with errors that name the field by its path
 * ("vips[1].backends[0].weight: 20000 is out of range 0..10000"). Shared by
 * the configuration parser, the state file and the control commands, so a
 * value is refused with the same words wherever it comes from.
 *
 * Every getter returns 0 when the field was read or is absent (then *out
 * is left as the caller's default and *present, where offered, is false),
 * or -EINVAL with a message in err.
 */
#ifndef SLUICED_JSONUTIL_H
#define SLUICED_JSONUTIL_H

#include <jansson.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

/* Longest JSON path we print; deeper paths are cut, never overflowed. */
#define JU_PATH_MAX 128

/* Where errors go. */
struct ju_err {
	char *buf;
	size_t len;
};

/* path + "." + key (or path + "[i]") into out. */
void ju_path_key(char *out, const char *path, const char *key);
void ju_path_index(char *out, const char *path, size_t i);

/* Format "path: message" into err, control bytes as \xHH; returns -EINVAL. */
int ju_fail(struct ju_err *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Refuse keys of obj not in allowed (NULL-terminated): "unknown key". */
int ju_check_keys(struct ju_err *e, const json_t *obj, const char *path,
		  const char *const *allowed);
/* obj must be an object ("expected an object"). */
int ju_expect_object(struct ju_err *e, const json_t *v, const char *path);

int ju_get_uint(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		__u64 min, __u64 max, __u64 *out, bool *present);
int ju_get_u32(struct ju_err *e, const json_t *obj, const char *key, const char *path, __u32 min,
	       __u32 max, __u32 *out, bool *present);
int ju_get_bool(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		bool *out, bool *present);
/* A string of 1..maxlen-1 bytes copied into out[maxlen]. */
int ju_get_str(struct ju_err *e, const json_t *obj, const char *key, const char *path,
	       char *out, size_t maxlen, bool *present);
/* A string that must be one of names[] (NULL-terminated): *out = index. */
int ju_get_enum(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		const char *const *names, unsigned int *out, bool *present);
/* A 64-bit unsigned number: a JSON integer >= 0, or a string in decimal or
 * 0x-hex (JSON integers stop at 2^63 - 1). */
int ju_get_u64_wide(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		    __u64 *out, bool *present);
int ju_get_addr(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		struct sluice_addr *out, bool *present);
int ju_get_vip_key(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		   struct sluice_vip_key *out, bool *present);
int ju_get_mac(struct ju_err *e, const json_t *obj, const char *key, const char *path,
	       __u8 mac[6], bool *present);

/* JSON values from addresses and keys. */
json_t *ju_addr(const struct sluice_addr *a);
json_t *ju_vip_key(const struct sluice_vip_key *k);
json_t *ju_mac(const __u8 mac[6]);

#endif /* SLUICED_JSONUTIL_H */
