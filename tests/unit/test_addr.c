/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"

static void test_parse_format_roundtrip(void **state)
{
	static const char *const good[] = {"192.0.2.1:51820", "10.0.0.4:1", "[::1]:65535",
					   "[2001:db8::5]:56560", "0.0.0.0:0"};
	struct vw_endpoint e, f;
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(vw_endpoint_parse(&e, good[i]));
		vw_endpoint_format(&e, out, sizeof(out));
		assert_string_equal(out, good[i]);
		assert_true(vw_endpoint_parse(&f, out));
		assert_true(vw_endpoint_equal(&e, &f));
		assert_int_equal(vw_endpoint_len(&e), e.sa.sa_family == AF_INET
							      ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6));
	}
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {"",		"1.2.3.4",     "1.2.3.4:", "1.2.3.4:65536",
					  "1.2.3.4:-1", "1.2.3.4:+5",  "::1:80",   "[::1]80",
					  "[::1]:",	"[1.2.3.4]:5", "1.2.3:5",  "host:5",
					  "1.2.3.4:5x"};
	struct vw_endpoint e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(vw_endpoint_parse(&e, bad[i]));
}

/* The one reading of an endpoint's text that the config file, the UAPI and the parser share. */
static void test_split(void **state)
{
	static const struct {
		const char *in, *host, *zone, *port;
		bool ok, bracketed, has_zone;
	} cases[] = {
		{"192.0.2.1:51820", "192.0.2.1", "", "51820", true, false, false},
		{"paris.example.net:1", "paris.example.net", "", "1", true, false, false},
		{"[2001:db8::5]:56560", "2001:db8::5", "", "56560", true, true, false},
		{"[fe80::1%eth0]:7", "fe80::1", "eth0", "7", true, true, true},
		{"[fe80::1%]:7", "fe80::1", "", "7", true, true, true},
		{"::1:5", "::1", "", "5", true, false, false}, /* unbracketed: the last ':' */
		{"host:", "host", "", "", true, false, false},
		{"no-port", NULL, NULL, NULL, false, false, false},
		{"[::1]5", NULL, NULL, NULL, false, false, false},
		{"[::1", NULL, NULL, NULL, false, false, false},
	};
	struct vw_endpoint_text t;
	char longhost[VW_ENDPOINT_HOST_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = vw_endpoint_split(cases[i].in, &t);

		if (ok != cases[i].ok)
			fail_msg("%s: split %d", cases[i].in, ok);
		if (!ok)
			continue;
		assert_string_equal(t.host, cases[i].host);
		assert_string_equal(t.zone, cases[i].zone);
		assert_string_equal(t.port, cases[i].port);
		assert_int_equal(t.bracketed, cases[i].bracketed);
		assert_int_equal(t.has_zone, cases[i].has_zone);
	}
	/* A host longer than the buffer is refused, not cut. */
	memset(longhost, 'a', sizeof(longhost));
	longhost[VW_ENDPOINT_HOST_MAX + 1] = ':';
	longhost[VW_ENDPOINT_HOST_MAX + 2] = '1';
	longhost[VW_ENDPOINT_HOST_MAX + 3] = '\0';
	assert_false(vw_endpoint_split(longhost, &t));
	longhost[VW_ENDPOINT_HOST_MAX] = ':';
	longhost[VW_ENDPOINT_HOST_MAX + 1] = '1';
	longhost[VW_ENDPOINT_HOST_MAX + 2] = '\0';
	assert_true(vw_endpoint_split(longhost, &t));
	assert_int_equal(strlen(t.host), VW_ENDPOINT_HOST_MAX);
	/* vw_endpoint_parse takes no zone (wg's numeric endpoints). */
	{
		struct vw_endpoint e;

		assert_false(vw_endpoint_parse(&e, "[fe80::1%eth0]:7"));
		assert_false(vw_endpoint_parse(&e, "paris.example.net:1"));
	}
}

static void test_equal(void **state)
{
	struct vw_endpoint a, b;

	(void)state;
	assert_true(vw_endpoint_parse(&a, "10.0.0.1:5"));
	assert_true(vw_endpoint_parse(&b, "10.0.0.1:6"));
	assert_false(vw_endpoint_equal(&a, &b));
	assert_true(vw_endpoint_parse(&b, "[::ffff:10.0.0.1]:5"));
	assert_false(vw_endpoint_equal(&a, &b));
}

static void test_prefix(void **state)
{
	struct vw_ipaddr net, ip;
	uint8_t cidr;

	(void)state;
	assert_true(vw_prefix_parse("10.0.0.7/24", &net, &cidr));
	assert_int_equal(cidr, 24);
	assert_int_equal(net.bytes[3], 7); /* host bits kept */
	assert_true(vw_prefix_parse("fd00::1", &ip, &cidr));
	assert_int_equal(cidr, 128);
	assert_false(vw_prefix_parse("10.0.0.1/33", &ip, &cidr));
	assert_false(vw_prefix_parse("10.0.0.1/", &ip, &cidr));
	assert_false(vw_prefix_parse("10.0.0/8", &ip, &cidr));
	assert_false(vw_prefix_parse("fd00::/129", &ip, &cidr));
	assert_true(vw_ipaddr_parse(&ip, "10.0.0.200"));
	assert_true(vw_prefix_contains(&net, 24, &ip));
	assert_true(vw_prefix_contains(&net, 0, &ip));
	assert_false(vw_prefix_contains(&net, 25, &ip));
	assert_true(vw_ipaddr_parse(&ip, "::ffff:10.0.0.7"));
	assert_false(vw_prefix_contains(&net, 0, &ip));
}

static void test_endpoint_check(void **state)
{
	static const char *const good[] = {"192.0.2.1:51820", "[2001:db8::1]:1", "[fe80::1%eth0]:7",
					   "paris.example.net:65535"};
	static const char *const bad[] = {
		"1.2.3.4",     "1.2.3.4:0",   "1.2.3.4:65536", "::1:80",	  "[::1]80",
		"[1.2.3.4]:5", "1.2.3.999:5", "a..b:5",	       "[fe80::1%a/b]:7", "host name:5"};

	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(vw_endpoint_check(good[i], 262, why, sizeof(why)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(vw_endpoint_check(bad[i], 262, why, sizeof(why)));
		assert_true(why[0] == '"');
	}
	assert_false(vw_endpoint_check("1.2.3.4:5", 8, why, sizeof(why)));
	assert_string_equal(why, "\"1.2.3.4:5\" is too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_endpoint_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
