/* SPDX-License-Identifier: BSD-3-Clause */
/* For the fuzzers of file loaders: the input written to a file of this
 * process's own in /dev/shm (memory, not disk), rewritten for each input. */
#ifndef SLUICE_FUZZ_FILE_H
#define SLUICE_FUZZ_FILE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fz_path[64];

static void fz_unlink(void)
{
	unlink(fz_path);
}

static inline int fz_write_file(const uint8_t *data, size_t size)
{
	int fd;
	ssize_t w;

	if (!fz_path[0]) {
		snprintf(fz_path, sizeof(fz_path), "/dev/shm/sluice-fuzz-%d", (int)getpid());
		atexit(fz_unlink);
	}
	fd = open(fz_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	w = size ? write(fd, data, size) : 0;
	close(fd);
	return w == (ssize_t)size ? 0 : -1;
}

#endif
