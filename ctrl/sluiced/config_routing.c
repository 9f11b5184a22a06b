/* SPDX-License-Identifier: BSD-3-Clause */
/* The "routing" section of the configuration. See config.h and
 * docs/config.md. */
#include <linux/rtnetlink.h>

#include "config.h"
#include "sluice/shm.h"

int conf_routing_from_json(const json_t *root, struct conf_routing *r, struct ju_err *e)
{
	static const char *const keys[] = {"table", "min_up", "drain_grace_s", NULL};
	const json_t *o = json_object_get(root, "routing");
	bool present;
	int rc;

	r->enabled = false;
	r->table = 0;
	r->min_up = CONF_DEFAULT_MIN_UP;
	r->drain_grace_s = CONF_DEFAULT_DRAIN_GRACE_S;
	if (!o)
		return 0;
	if ((rc = ju_expect_object(e, o, "routing")) < 0 ||
	    (rc = ju_check_keys(e, o, "routing", keys)) < 0 ||
	    (rc = ju_get_u32(e, o, "table", "routing", 1, 0xffffffffu, &r->table, &present)) < 0 ||
	    (rc = ju_get_u32(e, o, "min_up", "routing", 1, SLUICE_MAX_BACKENDS_PER_VIP, &r->min_up,
			     NULL)) < 0 ||
	    (rc = ju_get_u32(e, o, "drain_grace_s", "routing", 0, 86400, &r->drain_grace_s,
			     NULL)) < 0)
		return rc;
	if (!present)
		return ju_fail(e, "routing.table", "required: the kernel routing table sluiced "
						   "keeps the VIPs' routes in (1 to 4294967295)");
	/* The kernel's own tables: routes there would be used for this host's
	 * forwarding (and local ones would make it take VIP packets itself),
	 * and sluiced removes what is of its protocol there at start. */
	if (r->table == RT_TABLE_LOCAL || r->table == RT_TABLE_MAIN ||
	    r->table == RT_TABLE_DEFAULT)
		return ju_fail(e, "routing.table",
			       "%u is the kernel's %s table: give sluiced a table of its own, "
			       "which only BIRD or FRR read",
			       r->table,
			       r->table == RT_TABLE_LOCAL  ? "local"
			       : r->table == RT_TABLE_MAIN ? "main"
							   : "default");
	r->enabled = true;
	return 0;
}
