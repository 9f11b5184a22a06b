/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder for builds without the XDP path: every call says so. The
 * real implementation (xdp_path.c) replaces this file in the build. */
#include <errno.h>

#include "errmsg.h"
#include "xdp_path.h"

int sluice_xdp_path_open(const char *instance, struct sluice_xdp_path **out, char *err,
			 size_t errlen)
{
	(void)instance;
	*out = NULL;
	return sluice_errf(err, errlen, -ENOTSUP, "this build of sluice has no XDP path");
}

int sluice_xdp_path_attach(struct sluice_xdp_path *xp, const char *ifname, char *err,
			   size_t errlen)
{
	(void)xp, (void)ifname;
	return sluice_errf(err, errlen, -ENOTSUP, "this build of sluice has no XDP path");
}

enum sluice_xdp_mode sluice_xdp_path_mode(const struct sluice_xdp_path *xp)
{
	(void)xp;
	return SLUICE_XDP_DETACHED;
}

const char *sluice_xdp_mode_name(enum sluice_xdp_mode mode)
{
	return mode == SLUICE_XDP_NATIVE ? "native" : mode == SLUICE_XDP_GENERIC ? "generic"
										 : "detached";
}

int sluice_xdp_path_publish(struct sluice_xdp_path *xp, const struct sluice_snapshot *snap,
			    char *err, size_t errlen)
{
	(void)xp, (void)snap;
	return sluice_errf(err, errlen, -ENOTSUP, "this build of sluice has no XDP path");
}

int sluice_xdp_path_read_counters(struct sluice_xdp_path *xp, struct sluice_lcore_status *out,
				  char *err, size_t errlen)
{
	(void)xp, (void)out;
	return sluice_errf(err, errlen, -ENOTSUP, "this build of sluice has no XDP path");
}

void sluice_xdp_path_close(struct sluice_xdp_path *xp, bool keep_attached)
{
	(void)xp, (void)keep_attached;
}
