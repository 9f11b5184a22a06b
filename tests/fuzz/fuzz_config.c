/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: sluiced's configuration file through the entry point the
 * daemon and --check-config use (conf_load: parse, every field checked,
 * then conf_validate), from a file, as an operator's would be.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], msg[512];
	struct ju_err e = {msg, sizeof(msg)};
	struct conf c;

	if (fz_write_file(data, size) < 0)
		return 0;
	if (conf_load(fz_path, &c, err, sizeof(err)) == 0) {
		(void)conf_validate(&c, &e);
		conf_free(&c);
	}
	return 0;
}
