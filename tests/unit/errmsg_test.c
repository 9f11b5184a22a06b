/* SPDX-License-Identifier: BSD-3-Clause */
/* Error messages (lib/errmsg.c): the return code passes through, control
 * bytes are escaped, a short buffer is cut before an escape, never in one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errmsg.h"

static void test_message_and_code(void **state)
{
	char err[64];
	(void)state;

	assert_int_equal(sluice_errf(err, sizeof(err), -ENOENT, "no %s %d", "VIP", 7), -ENOENT);
	assert_string_equal(err, "no VIP 7");
	assert_int_equal(sluice_errf(NULL, 0, -EINVAL, "ignored"), -EINVAL);
	assert_int_equal(sluice_errf(err, 0, -EINVAL, "ignored"), -EINVAL);
}

static void test_control_bytes_escaped(void **state)
{
	char err[64];
	(void)state;

	sluice_errf(err, sizeof(err), -EINVAL, "path \"%s\"", "/a\r\nINFO forged\x1b[2J\x7f");
	assert_string_equal(err, "path \"/a\\x0d\\x0aINFO forged\\x1b[2J\\x7f\"");
	/* UTF-8 is text, not control bytes. */
	sluice_errf(err, sizeof(err), -EINVAL, "host %s", "b\xc3\xa4" "ckend");
	assert_string_equal(err, "host b\xc3\xa4" "ckend");
}

static void test_cut_before_an_escape(void **state)
{
	char err[8];
	(void)state;

	sluice_errf(err, sizeof(err), -EINVAL, "abcde\nfg");
	assert_string_equal(err, "abcde"); /* "\x0a" does not fit whole */
	sluice_errf(err, sizeof(err), -EINVAL, "abcdefghij");
	assert_string_equal(err, "abcdefg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_and_code),
		cmocka_unit_test(test_control_bytes_escaped),
		cmocka_unit_test(test_cut_before_an_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
