/* SPDX-License-Identifier: BSD-3-Clause */
/* The state file's text without a JSON tree. See statetext.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"
#include "statetext.h"

struct sbuf {
	char *p;
	size_t n, cap;
	bool failed;
};

static bool room(struct sbuf *b, size_t more)
{
	char *p;
	size_t cap;

	if (b->failed)
		return false;
	if (b->n + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->n + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct sbuf *b, const char *s)
{
	size_t len = strlen(s);

	if (!room(b, len))
		return;
	memcpy(b->p + b->n, s, len + 1);
	b->n += len;
}

/* Only for the fixed keys and numbers below: nothing to escape. */
static void putf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[128];
	int len;

	va_start(ap, fmt);
	len = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (len > 0 && (size_t)len < sizeof(tmp))
		put(b, tmp);
	else
		b->failed = true;
}

static void put_u32(struct sbuf *b, __u32 v)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 10);
	if (!room(b, (size_t)n))
		return;
	while (n)
		b->p[b->n++] = tmp[--n];
	b->p[b->n] = '\0';
}

/* Addresses, VIP keys and MACs in their text forms: digits, hex, '.',
 * ':', '[', ']', '/' and letters only, so they need no escaping. IPv4, the
 * common case, is written digit by digit: printf was a fifth of a change at
 * 8,000 backends. */
static void put_addr(struct sbuf *b, const char *key, const struct sluice_addr *a)
{
	char s[SLUICE_ADDR_STRLEN];

	put(b, "\"");
	put(b, key);
	put(b, "\":\"");
	if (a->family == SLUICE_FAMILY_V4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				put(b, ".");
			put_u32(b, a->bytes[i]);
		}
	} else {
		sluice_addr_format(a, s, sizeof(s));
		put(b, s);
	}
	put(b, "\"");
}

/* A VIP key's text, remembered: entries of one VIP come in runs. */
struct vip_text {
	struct sluice_vip_key key;
	bool valid;
	char s[SLUICE_VIP_STRLEN];
};

static void put_vip(struct sbuf *b, struct vip_text *vt, const struct sluice_vip_key *k)
{
	if (!vt->valid || !sluice_vip_key_equal(&vt->key, k)) {
		vt->key = *k;
		vt->valid = true;
		sluice_vip_key_format(k, vt->s, sizeof(vt->s));
	}
	put(b, "\"vip\":\"");
	put(b, vt->s);
	put(b, "\"");
}

static void put_overlay(struct sbuf *b, const struct overlay *ov)
{
	struct vip_text vt = {.valid = false};

	put(b, "{\"vips\":[");
	for (size_t i = 0; i < ov->n_vips; i++) {
		const struct ov_vip *o = &ov->vips[i];

		put(b, i ? ",{" : "{");
		put_vip(b, &vt, &o->key);
		putf(b, ",\"op\":\"%s\"", o->op == OV_VIP_ADD ? "add" : "del");
		if (o->op == OV_VIP_ADD) {
			/* A VIP's settings hold strings (health path, host): the
			 * JSON library writes them, escaped. VIP entries are few. */
			json_t *j = conf_vip_settings_to_json(&o->spec);
			char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;

			if (t) {
				put(b, ",\"settings\":");
				put(b, t);
			} else {
				b->failed = true;
			}
			free(t);
			json_decref(j);
		}
		put(b, "}");
	}
	put(b, "],\"backends\":[");
	for (size_t i = 0; i < ov->n_backends; i++) {
		const struct ov_backend *o = &ov->backends[i];

		put(b, i ? ",{" : "{");
		put_vip(b, &vt, &o->vip);
		put(b, ",");
		put_addr(b, "address", &o->addr);
		if (o->added)
			put(b, ",\"added\":true");
		if (o->deleted)
			put(b, ",\"deleted\":true");
		if (o->has_weight) {
			put(b, ",\"weight\":");
			put_u32(b, o->weight);
		}
		if (o->has_state)
			putf(b, ",\"state\":\"%s\"", conf_backend_state_name(o->state));
		if (o->has_mac) {
			char mac[SLUICE_MAC_STRLEN];

			sluice_mac_format(o->mac, mac, sizeof(mac));
			putf(b, ",\"mac\":\"%s\"", mac);
		}
		put(b, "}");
	}
	put(b, "]}");
}

/* model_ids_to_json()'s document. */
static void put_ids(struct sbuf *b, const struct model *m)
{
	struct vip_text vt = {.valid = false};
	bool first = true;

	putf(b, "{\"next_vip\":%u,\"next_backend\":%u,\"vips\":[", m->next_vip_id,
	     m->next_backend_id);
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
		const struct model_vip *v = m->vips[i];

		if (!v)
			continue;
		put(b, first ? "{" : ",{");
		first = false;
		put_vip(b, &vt, &v->cfg.key);
		putf(b, ",\"id\":%u,\"backends\":[", v->id);
		for (size_t j = 0; j < v->n_backends; j++) {
			put(b, j ? ",{" : "{");
			put_addr(b, "address", &v->backends[j]->cfg.addr);
			put(b, ",\"id\":");
			put_u32(b, v->backends[j]->id);
			put(b, "}");
		}
		put(b, "]}");
	}
	put(b, "]}");
}

char *statetext_render(const struct overlay *ov, const struct model *m, const json_t *host)
{
	struct sbuf b = {0};

	putf(&b, "{\"version\":%d,\"overlay\":", PERSIST_VERSION);
	put_overlay(&b, ov);
	put(&b, ",\"ids\":");
	put_ids(&b, m);
	if (host) {
		/* A few keys (the drain): the JSON library's rendering is cheap. */
		char *h = json_dumps(host, JSON_COMPACT | JSON_SORT_KEYS);

		if (!h) {
			b.failed = true;
		} else {
			put(&b, ",\"host\":");
			put(&b, h);
			free(h);
		}
	}
	put(&b, "}");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
