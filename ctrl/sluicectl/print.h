/* SPDX-License-Identifier: BSD-3-Clause */
/* sluicectl's human output: one printer per command, reading the same
 * JSON that --json prints as it is. */
#ifndef SLUICECTL_PRINT_H
#define SLUICECTL_PRINT_H

#include <jansson.h>
#include <stdio.h>

/* Print a successful response to cmd ("vip.list", "stats", ...). */
void print_response(FILE *f, const char *cmd, const json_t *resp);

/* status's "routing" object; the answer to host drain|undrain
 * (print_routing.c). */
void print_routing(FILE *f, const json_t *routing);
void print_host(FILE *f, const json_t *resp);

/* "3m12s", "2h05m", "4d03h". */
void print_duration(char *buf, size_t len, double seconds);
/* "12.3k", "4.56M" (SI). */
void print_si(char *buf, size_t len, double v);

#endif /* SLUICECTL_PRINT_H */
