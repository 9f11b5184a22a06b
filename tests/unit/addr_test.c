/* SPDX-License-Identifier: BSD-3-Clause */
/* Text forms of addresses, endpoints, VIPs and MACs (lib/addr.c):
 * what parses, what does not, and that formatting gives it back. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

static void test_addresses(void **state)
{
	struct sluice_addr a, b;
	char buf[SLUICE_ADDR_STRLEN];
	(void)state;

	assert_int_equal(sluice_addr_parse("10.0.0.10", &a), 0);
	assert_int_equal(a.family, SLUICE_FAMILY_V4);
	assert_memory_equal(a.bytes, ((__u8[]){10, 0, 0, 10}), 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(a.bytes[i], 0);
	sluice_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.10");

	assert_int_equal(sluice_addr_parse("2001:DB8::10", &a), 0);
	assert_int_equal(a.family, SLUICE_FAMILY_V6);
	sluice_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::10");
	/* Brackets are optional around IPv6: the same address. */
	assert_int_equal(sluice_addr_parse("[2001:db8::10]", &b), 0);
	assert_true(sluice_addr_equal(&a, &b));
}

static void test_bad_addresses(void **state)
{
	static const char *const bad[] = {"",	       "10.0.0",      "10.0.0.256", "10.0.0.1 ",
					  "[10.0.0.1]", "2001:db8::g", "[::1",	     "::1]",
					  "example.com", "1.2.3.4/24", NULL};
	struct sluice_addr a, keep;
	(void)state;

	memset(&a, 0x5a, sizeof(a));
	keep = a;
	for (const char *const *s = bad; *s; s++) {
		if (sluice_addr_parse(*s, &a) == 0)
			fail_msg("\"%s\" parsed as an address", *s);
		assert_memory_equal(&a, &keep, sizeof(a)); /* untouched on error */
	}
	assert_int_equal(sluice_addr_parse(NULL, &a), -EINVAL);
}

static void test_endpoints(void **state)
{
	static const char *const bad[] = {"10.0.0.1",	     "10.0.0.1:",	 "10.0.0.1:65536",
					  "10.0.0.1:-1",     "10.0.0.1:+80",	 "2001:db8::1:80",
					  "[2001:db8::1]80", "[2001:db8::1]:",	 "[10.0.0.1]:80",
					  ":80",	     "10.0.0.1:80:90",	 NULL};
	char buf[SLUICE_ENDPOINT_STRLEN];
	struct sluice_addr a;
	__u16 port;
	(void)state;

	assert_int_equal(sluice_endpoint_parse("10.0.0.10:80", &a, &port), 0);
	assert_int_equal(port, 80);
	sluice_endpoint_format(&a, port, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.10:80");
	assert_int_equal(sluice_endpoint_parse("[2001:db8::10]:443", &a, &port), 0);
	assert_int_equal(a.family, SLUICE_FAMILY_V6);
	assert_int_equal(port, 443);
	sluice_endpoint_format(&a, port, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::10]:443");
	assert_int_equal(sluice_endpoint_parse("0.0.0.0:0", &a, &port), 0);
	assert_int_equal(port, 0);
	for (const char *const *s = bad; *s; s++)
		if (sluice_endpoint_parse(*s, &a, &port) == 0)
			fail_msg("\"%s\" parsed as an endpoint", *s);
}

static void test_vip_keys(void **state)
{
	struct sluice_vip_key k, k2;
	char buf[SLUICE_VIP_STRLEN];
	(void)state;

	assert_int_equal(sluice_vip_key_parse("10.0.0.10:80", &k), 0);
	assert_int_equal(k.proto, IPPROTO_TCP); /* tcp by default */
	sluice_vip_key_format(&k, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.10:80/tcp");
	assert_int_equal(sluice_vip_key_parse("10.0.0.10:80/tcp", &k2), 0);
	assert_true(sluice_vip_key_equal(&k, &k2));
	assert_int_equal(sluice_vip_key_parse("[2001:db8::10]:53/udp", &k), 0);
	assert_int_equal(k.proto, IPPROTO_UDP);
	assert_int_equal(k.port, 53);
	sluice_vip_key_format(&k, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::10]:53/udp");
	assert_false(sluice_vip_key_equal(&k, &k2));
	assert_int_equal(sluice_vip_key_parse("10.0.0.10:80/sctp", &k), -EINVAL);
	assert_int_equal(sluice_vip_key_parse("10.0.0.10:80/", &k), -EINVAL);
	assert_int_equal(sluice_vip_key_parse("10.0.0.10/tcp", &k), -EINVAL);
	assert_int_equal(sluice_vip_key_parse("2001:db8::10:53/udp", &k), -EINVAL);
}

static void test_macs_and_protocols(void **state)
{
	__u8 mac[6], keep[6] = {1, 2, 3, 4, 5, 6};
	char buf[SLUICE_MAC_STRLEN];
	__u8 proto = 0;
	(void)state;

	assert_int_equal(sluice_mac_parse("02:00:5E:10:00:0a", mac), 0);
	assert_memory_equal(mac, ((__u8[]){2, 0, 0x5e, 0x10, 0, 10}), 6);
	sluice_mac_format(mac, buf, sizeof(buf));
	assert_string_equal(buf, "02:00:5e:10:00:0a");
	assert_int_equal(sluice_mac_parse("02-00-5e-10-00-0a", mac), 0);
	memcpy(mac, keep, 6);
	assert_int_equal(sluice_mac_parse("02:00-5e:10:00:0a", mac), -EINVAL);
	assert_int_equal(sluice_mac_parse("02:00:5e:10:00", mac), -EINVAL);
	assert_int_equal(sluice_mac_parse("02:00:5e:10:00:0g", mac), -EINVAL);
	assert_int_equal(sluice_mac_parse("02.00.5e.10.00.0a", mac), -EINVAL);
	assert_memory_equal(mac, keep, 6);
	assert_int_equal(sluice_proto_parse("udp", &proto), 0);
	assert_int_equal(proto, IPPROTO_UDP);
	assert_int_equal(sluice_proto_parse("TCP", &proto), -EINVAL);
	assert_string_equal(sluice_proto_name(IPPROTO_TCP), "tcp");
}

/* Decimal, or hex after 0x: never octal, as strtoull's base 0 would have
 * it ("010" = 8, "08" refused). */
static void test_numbers(void **state)
{
	static const struct {
		const char *s;
		__u64 v;
	} good[] = {
		{"0", 0},	      {"7", 7},	      {"010", 10},   {"08", 8},
		{"0x10", 16},	      {"0X1f", 31},   {"0x00ff", 255}, {"4099", 4099},
		{"18446744073709551615", UINT64_MAX}, {"0xffffffffffffffff", UINT64_MAX},
	};
	static const char *const bad[] = {"",	 "0x", "-1",  "+1",	  " 1",	   "1 ",
					  "0x0x5", "1e3", "0b1", "0x-1", "12a", "0xg",
					  "18446744073709551616", "0x10000000000000000", NULL};
	__u64 v;
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		if (sluice_u64_parse(good[i].s, &v) < 0 || v != good[i].v)
			fail_msg("\"%s\" parsed as %llu", good[i].s, (unsigned long long)v);
	}
	for (const char *const *s = bad; *s; s++) {
		v = 12345;
		if (sluice_u64_parse(*s, &v) == 0)
			fail_msg("\"%s\" parsed as a number", *s);
		assert_int_equal(v, 12345); /* untouched on error */
	}
	assert_int_equal(sluice_u64_parse(NULL, &v), -EINVAL);
}

static void test_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct sluice_addr a;
	(void)state;

	sluice_addr_parse("127.0.0.2", &a);
	assert_int_equal(sluice_addr_to_sockaddr(&a, 8080, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, htons(8080));
	sluice_addr_parse("::1", &a);
	assert_int_equal(sluice_addr_to_sockaddr(&a, 443, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(ss.ss_family, AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),	 cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_endpoints),	 cmocka_unit_test(test_vip_keys),
		cmocka_unit_test(test_macs_and_protocols), cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
