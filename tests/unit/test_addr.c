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
	static const char *const good[] = { "192.0.2.1:51820", "10.0.0.4:1", "[::1]:65535",
					    "[2001:db8::5]:56560", "0.0.0.0:0" };
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
	static const char *const bad[] = { "", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536",
					   "1.2.3.4:-1", "1.2.3.4:+5", "::1:80", "[::1]80",
					   "[::1]:", "[1.2.3.4]:5", "1.2.3:5", "host:5",
					   "1.2.3.4:5x" };
	struct vw_endpoint e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(vw_endpoint_parse(&e, bad[i]));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
