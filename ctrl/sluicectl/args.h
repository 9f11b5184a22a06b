/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl's grammar, in the style of ip(8): OBJECT COMMAND ARGUMENTS,
 * objects and commands abbreviable to any unique prefix, optional
 * arguments as KEYWORD VALUE pairs. From argv to the request object the
 * daemon reads (docs/cli.md lists them all).
 */
#ifndef SLUICECTL_ARGS_H
#define SLUICECTL_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What the command line asked for. */
struct invocation {
	json_t *req;		/* the request */
	const char *cmd;	/* its "cmd", for choosing the printer */
	bool watch;		/* stats --watch */
	double interval_s;	/* refresh interval of --watch */
	bool dry_run;		/* --dry-run: the request has "dry_run" */
	bool json;		/* --json given after the object */
	bool wait_safe;		/* host drain --wait: until safe to stop */
};

/* Parse OBJECT COMMAND ... (argv after the global options). --dry-run and
 * --json may follow anywhere after the object. dry_run: --dry-run was
 * given before the object. Returns 0, or -EINVAL with a usage message in
 * err. */
int args_parse(int argc, char **argv, bool dry_run, struct invocation *inv, char *err,
	       size_t errlen);

/* The usage text. */
extern const char args_usage[];

#endif /* SLUICECTL_ARGS_H */
