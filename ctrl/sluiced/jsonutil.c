/* SPDX-License-Identifier: BSD-3-Clause */
/* Typed JSON field reads with path-qualified errors. See jsonutil.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "jsonutil.h"

void ju_path_key(char *out, const char *path, const char *key)
{
	if (path && *path)
		snprintf(out, JU_PATH_MAX, "%s.%s", path, key);
	else
		snprintf(out, JU_PATH_MAX, "%s", key);
}

void ju_path_index(char *out, const char *path, size_t i)
{
	snprintf(out, JU_PATH_MAX, "%s[%zu]", path ? path : "", i);
}

int ju_fail(struct ju_err *e, const char *path, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	if (!e || !e->buf || !e->len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* sluice_errf escapes what the message quotes (lib/errmsg.h). */
	if (path && *path)
		return sluice_errf(e->buf, e->len, -EINVAL, "%s: %s", path, what);
	return sluice_errf(e->buf, e->len, -EINVAL, "%s", what);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

int ju_expect_object(struct ju_err *e, const json_t *v, const char *path)
{
	if (!json_is_object(v))
		return ju_fail(e, path, "expected an object, found %s", type_name(v));
	return 0;
}

int ju_check_keys(struct ju_err *e, const json_t *obj, const char *path,
		  const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				ok = true;
		if (!ok)
			return ju_fail(e, path, "unknown key \"%s\"", key);
	}
	return 0;
}

/* The field's value, or NULL when absent. */
static const json_t *field(const json_t *obj, const char *key, bool *present)
{
	const json_t *v = json_object_get(obj, key);

	if (present)
		*present = v != NULL;
	return v;
}

int ju_get_uint(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		__u64 min, __u64 max, __u64 *out, bool *present)
{
	const json_t *v = field(obj, key, present);
	char p[JU_PATH_MAX];
	json_int_t x;

	if (!v)
		return 0;
	ju_path_key(p, path, key);
	if (!json_is_integer(v))
		return ju_fail(e, p, "expected an integer, found %s", type_name(v));
	x = json_integer_value(v);
	if (x < 0 || (__u64)x < min || (__u64)x > max)
		return ju_fail(e, p, "%lld is out of range %llu..%llu", (long long)x,
			       (unsigned long long)min, (unsigned long long)max);
	*out = (__u64)x;
	return 0;
}

int ju_get_u32(struct ju_err *e, const json_t *obj, const char *key, const char *path, __u32 min,
	       __u32 max, __u32 *out, bool *present)
{
	__u64 v = *out;
	int rc = ju_get_uint(e, obj, key, path, min, max, &v, present);

	if (rc == 0)
		*out = (__u32)v;
	return rc;
}

int ju_get_bool(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		bool *out, bool *present)
{
	const json_t *v = field(obj, key, present);
	char p[JU_PATH_MAX];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		ju_path_key(p, path, key);
		return ju_fail(e, p, "expected true or false, found %s", type_name(v));
	}
	*out = json_is_true(v);
	return 0;
}

int ju_get_str(struct ju_err *e, const json_t *obj, const char *key, const char *path,
	       char *out, size_t maxlen, bool *present)
{
	const json_t *v = field(obj, key, present);
	char p[JU_PATH_MAX];
	size_t n;

	if (!v)
		return 0;
	ju_path_key(p, path, key);
	if (!json_is_string(v))
		return ju_fail(e, p, "expected a string, found %s", type_name(v));
	n = json_string_length(v);
	if (n == 0)
		return ju_fail(e, p, "must not be empty");
	if (n >= maxlen)
		return ju_fail(e, p, "longer than %zu bytes", maxlen - 1);
	if (strlen(json_string_value(v)) != n)
		return ju_fail(e, p, "contains a NUL byte");
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

int ju_get_enum(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		const char *const *names, unsigned int *out, bool *present)
{
	const json_t *v = field(obj, key, present);
	char p[JU_PATH_MAX], list[256] = "";
	size_t used = 0;

	if (!v)
		return 0;
	ju_path_key(p, path, key);
	if (json_is_string(v))
		for (unsigned int i = 0; names[i]; i++)
			if (strcmp(names[i], json_string_value(v)) == 0) {
				*out = i;
				return 0;
			}
	for (unsigned int i = 0; names[i] && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
					 i ? names[i + 1] ? ", " : " or " : "", names[i]);
	if (!json_is_string(v))
		return ju_fail(e, p, "expected %s, found %s", list, type_name(v));
	return ju_fail(e, p, "\"%s\" is not one of %s", json_string_value(v), list);
}

int ju_get_u64_wide(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		    __u64 *out, bool *present)
{
	const json_t *v = field(obj, key, present);
	char p[JU_PATH_MAX];
	const char *s;

	if (!v)
		return 0;
	ju_path_key(p, path, key);
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return ju_fail(e, p, "must not be negative");
		*out = (__u64)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return ju_fail(e, p, "expected an integer or a string, found %s", type_name(v));
	s = json_string_value(v);
	if (sluice_u64_parse(s, out) < 0)
		return ju_fail(e, p, "\"%s\" is not an unsigned 64-bit number", s);
	return 0;
}

/* A string field run through a text parser. */
static int get_parsed(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		      const char *what, bool *present, const json_t **vout)
{
	const json_t *v = field(obj, key, present);
	char p[JU_PATH_MAX];

	*vout = v;
	if (v && !json_is_string(v)) {
		ju_path_key(p, path, key);
		return ju_fail(e, p, "expected %s as a string, found %s", what, type_name(v));
	}
	return 0;
}

int ju_get_addr(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		struct sluice_addr *out, bool *present)
{
	char p[JU_PATH_MAX];
	const json_t *v;
	int rc = get_parsed(e, obj, key, path, "an IP address", present, &v);

	if (rc < 0 || !v)
		return rc;
	if (sluice_addr_parse(json_string_value(v), out) < 0) {
		ju_path_key(p, path, key);
		return ju_fail(e, p, "\"%s\" is not an IPv4 or IPv6 address", json_string_value(v));
	}
	return 0;
}

int ju_get_vip_key(struct ju_err *e, const json_t *obj, const char *key, const char *path,
		   struct sluice_vip_key *out, bool *present)
{
	char p[JU_PATH_MAX];
	const json_t *v;
	int rc = get_parsed(e, obj, key, path, "a VIP", present, &v);

	if (rc < 0 || !v)
		return rc;
	if (sluice_vip_key_parse(json_string_value(v), out) < 0) {
		ju_path_key(p, path, key);
		return ju_fail(e, p,
			       "\"%s\" is not a VIP (ADDRESS:PORT[/tcp|/udp], IPv6 in brackets)",
			       json_string_value(v));
	}
	return 0;
}

int ju_get_mac(struct ju_err *e, const json_t *obj, const char *key, const char *path,
	       __u8 mac[6], bool *present)
{
	char p[JU_PATH_MAX];
	const json_t *v;
	int rc = get_parsed(e, obj, key, path, "a MAC address", present, &v);

	if (rc < 0 || !v)
		return rc;
	if (sluice_mac_parse(json_string_value(v), mac) < 0) {
		ju_path_key(p, path, key);
		return ju_fail(e, p, "\"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)",
			       json_string_value(v));
	}
	return 0;
}

json_t *ju_addr(const struct sluice_addr *a)
{
	char buf[SLUICE_ADDR_STRLEN];

	sluice_addr_format(a, buf, sizeof(buf));
	return json_string(buf);
}

json_t *ju_vip_key(const struct sluice_vip_key *k)
{
	char buf[SLUICE_VIP_STRLEN];

	sluice_vip_key_format(k, buf, sizeof(buf));
	return json_string(buf);
}

json_t *ju_mac(const __u8 mac[6])
{
	char buf[SLUICE_MAC_STRLEN];

	sluice_mac_format(mac, buf, sizeof(buf));
	return json_string(buf);
}
