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

/* Addresses, VIP keys and MACs in their text forms: digits, hex, '.',
 * ':', '[', ']', '/' and letters only, so they need no escaping. */
static void put_addr(struct sbuf *b, const char *key, const struct sluice_addr *a)
{
	char s[SLUICE_ADDR_STRLEN];

	sluice_addr_format(a, s, sizeof(s));
	putf(b, "\"%s\":\"%s\"", key, s);
}

static void put_vip(struct sbuf *b, const struct sluice_vip_key *k)
{
	char s[SLUICE_VIP_STRLEN];

	sluice_vip_key_format(k, s, sizeof(s));
	putf(b, "\"vip\":\"%s\"", s);
}

static void put_overlay(struct sbuf *b, const struct overlay *ov)
{
	put(b, "{\"vips\":[");
	for (size_t i = 0; i < ov->n_vips; i++) {
		const struct ov_vip *o = &ov->vips[i];

		put(b, i ? ",{" : "{");
		put_vip(b, &o->key);
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
		put_vip(b, &o->vip);
		put(b, ",");
		put_addr(b, "address", &o->addr);
		if (o->added)
			put(b, ",\"added\":true");
		if (o->deleted)
			put(b, ",\"deleted\":true");
		if (o->has_weight)
			putf(b, ",\"weight\":%u", o->weight);
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
	bool first = true;

	putf(b, "{\"next_vip\":%u,\"next_backend\":%u,\"vips\":[", m->next_vip_id,
	     m->next_backend_id);
	for (unsigned int i = 0; i < SLUICE_MAX_VIPS; i++) {
		const struct model_vip *v = m->vips[i];

		if (!v)
			continue;
		put(b, first ? "{" : ",{");
		first = false;
		put_vip(b, &v->cfg.key);
		putf(b, ",\"id\":%u,\"backends\":[", v->id);
		for (size_t j = 0; j < v->n_backends; j++) {
			put(b, j ? ",{" : "{");
			put_addr(b, "address", &v->backends[j]->cfg.addr);
			putf(b, ",\"id\":%u}", v->backends[j]->id);
		}
		put(b, "]}");
	}
	put(b, "]}");
}

char *statetext_render(const struct overlay *ov, const struct model *m)
{
	struct sbuf b = {0};

	putf(&b, "{\"version\":%d,\"overlay\":", PERSIST_VERSION);
	put_overlay(&b, ov);
	put(&b, ",\"ids\":");
	put_ids(&b, m);
	put(&b, "}");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
